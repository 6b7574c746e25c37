//! Loading models from YAML text and files.
//!
//! [`parse_yaml`] is the only function in the workspace that calls `serde_yaml`, so a
//! maintained fork (or another YAML crate) can replace it by editing this one function.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::Error;
use crate::schema::{MachineModel, SUPPORTED_SCHEMA_VERSIONS};
use crate::validate::unsupported_version;

/// Deserialize `text` as one YAML document into `T`, mapping the parser's error onto
/// [`Error::Parse`] with its 1-based line and column. THE single `serde_yaml` call site.
fn parse_yaml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, Error> {
    serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let mut message = e.to_string();
        // The position is carried in its own fields; drop the parser's copy of it.
        let position = format!(" at line {line} column {column}");
        if let Some(at) = message.find(&position) {
            message.replace_range(at..at + position.len(), "");
        }
        Error::Parse {
            file: file.to_string(),
            line,
            column,
            message,
        }
    })
}

/// Reads only `schema_version`, ignoring everything else, so that a file written for a
/// newer schema is refused for its version rather than for the keys it adds.
#[derive(Deserialize)]
#[serde(expecting = "a machine model (a YAML mapping of the schema's fields)")]
struct VersionProbe {
    #[serde(default)]
    schema_version: Option<u64>,
}

/// Parse and validate a machine model from YAML text.
///
/// `origin` names the text in errors (a path, or something like `builtin:ark`).
///
/// # Errors
/// [`Error::Parse`] for malformed YAML, unknown keys, wrong types and missing fields
/// (the message starts with the dotted field path); [`Error::Config`] for an unsupported
/// `schema_version` or a value out of range (see [`MachineModel::validate`]).
///
/// # Example
/// ```
/// let text = helrm_hwmodels::builtin_source("ark").unwrap_or_default();
/// let model = helrm_hwmodels::from_yaml_str(text, "ark.yaml")?;
/// assert_eq!(model.name, "ark");
/// # Ok::<(), helrm_hwmodels::Error>(())
/// ```
pub fn from_yaml_str(text: &str, origin: &str) -> Result<MachineModel, Error> {
    let probe: VersionProbe = parse_yaml(text, origin)?;
    if let Some(v) = probe.schema_version {
        let supported = u32::try_from(v)
            .map(|v| SUPPORTED_SCHEMA_VERSIONS.contains(&v))
            .unwrap_or(false);
        if !supported {
            return Err(unsupported_version(origin, v));
        }
    }
    let model: MachineModel = parse_yaml(text, origin)?;
    model.validate(origin)?;
    Ok(model)
}

/// Parse and validate a machine model from raw bytes (which must be UTF-8).
///
/// # Errors
/// [`Error::Parse`] at the first invalid byte if the bytes are not UTF-8; otherwise as
/// [`from_yaml_str`].
pub fn from_yaml_bytes(bytes: &[u8], origin: &str) -> Result<MachineModel, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => from_yaml_str(text, origin),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let column = 1 + valid.len() - line_start;
            Err(Error::Parse {
                file: origin.to_string(),
                line,
                column,
                message: format!(
                    "not valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            })
        }
    }
}

/// Read, parse and validate a machine-model YAML file.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; otherwise as [`from_yaml_bytes`], with the
/// path as the origin.
pub fn load_file(path: impl AsRef<Path>) -> Result<MachineModel, Error> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        file: file.clone(),
        source,
    })?;
    from_yaml_bytes(&bytes, &file)
}

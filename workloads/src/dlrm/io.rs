//! Model files: versioned JSON, validated on load, written atomically.
//!
//! Format (`serde_json`, unknown keys rejected):
//! ```text
//! {"format": "helrm-dlrm", "version": 1,
//!  "config": {DlrmConfig},
//!  "weights": {"bottom": [{"weights": [...], "bias": [...]}, ...],
//!              "tables": [[f32 ...], ...],
//!              "top":    [{"weights": [...], "bias": [...]}, ...]},
//!  "standardizer": {"mean": [...], "std": [...]} | null,
//!  "calibration": {Calibration} | null}
//! ```
//! Matrices are row-major `outputs × inputs`; table `t` holds its expanded rows row-major
//! (`segment_len × d`). Numbers are written in their shortest round-trip form, so a saved
//! model loads bit-identical.
//!
//! Loading reads the header first (`format`, `version`; a wrong one is
//! [`Error::ModelFile`] naming that field), then the whole file; JSON that does not fit the
//! schema is [`Error::ModelJson`] (line, column and serde's message, which names a missing or
//! unknown field, and a number too large for its type); a configuration that does not hold
//! together, weights of the wrong count, or a standardizer or calibration of the wrong shape
//! are [`Error::ModelFile`] naming the field path (`config.top[0].inputs`,
//! `weights.top[0].bias`, `calibration.top`). JSON cannot hold NaN or infinity, so every
//! loaded weight is finite; a weight, bias, table entry or calibration bound of magnitude
//! above [`MAX_ABS_MODEL_VALUE`], or a calibration range with `min > max`, is
//! [`Error::ModelFile`] naming its element (`weights.top[0].weights[3]`,
//! `calibration.top[1].pre_activation`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::calibrate::{Calibration, LayerRanges, ValueRange};
use super::config::DlrmConfig;
use super::model::Dlrm;
use crate::data::Standardizer;
use crate::error::{Error, Result};

/// The `format` value of a model file.
pub const MODEL_FORMAT: &str = "helrm-dlrm";
/// The `version` this library writes and reads.
pub const MODEL_VERSION: u64 = 1;
/// The largest magnitude a model file may hold in a weight, bias, embedding-table entry or
/// calibration bound. Trained models stay orders of magnitude below it (the UCI model's
/// largest is below 10); a larger value means training diverged or the file was damaged, and
/// its encrypted evaluation would overflow every preset's precision.
pub const MAX_ABS_MODEL_VALUE: f64 = 1e6;

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'static str,
    version: u64,
    config: &'a DlrmConfig,
    weights: WeightsOut<'a>,
    standardizer: Option<StandardizerRepr>,
    calibration: Option<&'a Calibration>,
}

#[derive(Serialize)]
struct WeightsOut<'a> {
    bottom: Vec<LayerOut<'a>>,
    tables: Vec<&'a [f32]>,
    top: Vec<LayerOut<'a>>,
}

#[derive(Serialize)]
struct LayerOut<'a> {
    weights: &'a [f64],
    bias: &'a [f64],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    #[serde(rename = "format")]
    _format: String,
    #[serde(rename = "version")]
    _version: u64,
    config: DlrmConfig,
    weights: WeightsIn,
    #[serde(default)]
    standardizer: Option<StandardizerRepr>,
    #[serde(default)]
    calibration: Option<Calibration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightsIn {
    bottom: Vec<LayerIn>,
    tables: Vec<Vec<f32>>,
    top: Vec<LayerIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerIn {
    weights: Vec<f64>,
    bias: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardizerRepr {
    mean: Vec<f64>,
    std: Vec<f64>,
}

/// Only the header; every other key is skipped without being stored.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<IgnoredAnyOr>,
}

/// The version as written (a number, or anything else to report).
#[derive(Deserialize)]
#[serde(untagged)]
enum IgnoredAnyOr {
    Number(u64),
    Other(IgnoredAny),
}

impl Dlrm {
    /// Writes the model to `w` in the model-file format.
    ///
    /// # Errors
    /// [`Error::Io`] (`file` = `name`) when writing fails.
    pub fn write_json(&self, w: impl Write, name: &str) -> Result<()> {
        let out = FileOut {
            format: MODEL_FORMAT,
            version: MODEL_VERSION,
            config: self.config(),
            weights: WeightsOut {
                bottom: self
                    .bottom()
                    .iter()
                    .map(|l| LayerOut {
                        weights: l.weights(),
                        bias: l.bias(),
                    })
                    .collect(),
                tables: self.tables().iter().map(|t| t.weights()).collect(),
                top: self
                    .top()
                    .iter()
                    .map(|l| LayerOut {
                        weights: l.weights(),
                        bias: l.bias(),
                    })
                    .collect(),
            },
            standardizer: self.standardizer().map(|s| StandardizerRepr {
                mean: s.mean().to_vec(),
                std: s.std().to_vec(),
            }),
            calibration: self.calibration(),
        };
        serde_json::to_writer(w, &out).map_err(|e| Error::Io {
            file: name.to_owned(),
            source: e.into(),
        })
    }

    /// Saves the model to `path` atomically: the file is written to a temporary sibling,
    /// synced, then renamed over `path`, so readers never see a half-written model.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file when it cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        let file = path.display().to_string();
        let io = |source| Error::Io {
            file: file.clone(),
            source,
        };
        let tmp = temp_sibling(path);
        let result = (|| {
            let f = File::create(&tmp).map_err(io)?;
            let mut w = BufWriter::new(f);
            self.write_json(&mut w, &file)?;
            w.flush().map_err(io)?;
            let f = w.into_inner().map_err(|e| io(e.into_error()))?;
            f.sync_all().map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)
        })();
        if result.is_err() {
            // Best effort: the temporary file is garbage now.
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Loads and validates a model file (see the module docs).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::ModelJson`] and
    /// [`Error::ModelFile`] as the module docs describe.
    pub fn load(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            file: file.clone(),
            source,
        })?;
        Self::from_json_slice(&bytes, &file)
    }

    /// Parses and validates model-file bytes; `file` names the source in errors.
    ///
    /// # Errors
    /// As [`Dlrm::load`].
    pub fn from_json_slice(bytes: &[u8], file: &str) -> Result<Self> {
        let json_err = |e: serde_json::Error| Error::ModelJson {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            source: e,
        };
        let file_err = |field: &str, expected: &str, found: &str| Error::ModelFile {
            file: file.to_owned(),
            field: field.to_owned(),
            expected: expected.to_owned(),
            found: found.to_owned(),
        };
        let header: Header = serde_json::from_slice(bytes).map_err(json_err)?;
        match header.format.as_deref() {
            Some(MODEL_FORMAT) => {}
            Some(other) => {
                return Err(file_err("format", "\"helrm-dlrm\"", &format!("{other:?}")));
            }
            None => return Err(file_err("format", "\"helrm-dlrm\"", "no format key")),
        }
        match header.version {
            Some(IgnoredAnyOr::Number(MODEL_VERSION)) => {}
            Some(IgnoredAnyOr::Number(v)) => {
                return Err(file_err("version", "1", &v.to_string()));
            }
            Some(IgnoredAnyOr::Other(_)) => {
                return Err(file_err("version", "1", "a value that is not an integer"));
            }
            None => return Err(file_err("version", "1", "no version key")),
        }
        let f: FileIn = serde_json::from_slice(bytes).map_err(json_err)?;
        if let Some((field, found)) = first_out_of_range(&f) {
            return Err(file_err(
                &field,
                "a magnitude at most 1e6 (and min <= max for a range)",
                &found,
            ));
        }
        let in_file = |e: Error| match e {
            Error::InvalidModel {
                field,
                expected,
                found,
            } => Error::ModelFile {
                file: file.to_owned(),
                field,
                expected,
                found,
            },
            other => other,
        };
        let parts = |ls: Vec<LayerIn>| ls.into_iter().map(|l| (l.weights, l.bias)).collect();
        let mut model = Dlrm::from_parts(
            f.config,
            parts(f.weights.bottom),
            f.weights.tables,
            parts(f.weights.top),
        )
        .map_err(|e| match e {
            Error::InvalidModel { ref field, .. } if !field.starts_with("weights") => {
                in_file(prefix_field("config", e))
            }
            other => in_file(other),
        })?;
        if let Some(s) = f.standardizer {
            let s = Standardizer::from_parts(s.mean, s.std).map_err(|e| {
                file_err(
                    "standardizer",
                    "finite means and positive deviations",
                    &e.to_string(),
                )
            })?;
            model.set_standardizer(Some(s)).map_err(|e| {
                file_err(
                    "standardizer.mean",
                    "one value per dense feature",
                    &e.to_string(),
                )
            })?;
        }
        model.set_calibration(f.calibration).map_err(in_file)?;
        Ok(model)
    }
}

/// The first value above [`MAX_ABS_MODEL_VALUE`] in magnitude (or non-finite, as an `f32`
/// table entry may become), or inverted calibration range: its field path and value.
fn first_out_of_range(f: &FileIn) -> Option<(String, String)> {
    let bad = |v: f64| v.is_nan() || v.abs() > MAX_ABS_MODEL_VALUE;
    let layers = |name: &str, ls: &[LayerIn]| {
        ls.iter().enumerate().find_map(|(i, l)| {
            [("weights", &l.weights), ("bias", &l.bias)]
                .into_iter()
                .find_map(|(part, vs)| {
                    let j = vs.iter().position(|&v| bad(v))?;
                    Some((
                        format!("weights.{name}[{i}].{part}[{j}]"),
                        vs[j].to_string(),
                    ))
                })
        })
    };
    let tables = || {
        f.weights.tables.iter().enumerate().find_map(|(t, vs)| {
            let j = vs.iter().position(|&v| bad(f64::from(v)))?;
            Some((format!("weights.tables[{t}][{j}]"), vs[j].to_string()))
        })
    };
    let calibration = || {
        let c = f.calibration.as_ref()?;
        let range = |field: String, r: &ValueRange| {
            (bad(r.min) || bad(r.max) || r.min > r.max)
                .then(|| (field, format!("[{}, {}]", r.min, r.max)))
        };
        let layer = |name: &str, ls: &[LayerRanges]| {
            ls.iter().enumerate().find_map(|(i, l)| {
                [
                    ("input", &l.input),
                    ("pre_activation", &l.pre_activation),
                    ("output", &l.output),
                ]
                .into_iter()
                .find_map(|(part, r)| range(format!("calibration.{name}[{i}].{part}"), r))
            })
        };
        layer("bottom", &c.bottom)
            .or_else(|| {
                c.embeddings
                    .iter()
                    .enumerate()
                    .find_map(|(t, r)| range(format!("calibration.embeddings[{t}]"), r))
            })
            .or_else(|| layer("top", &c.top))
    };
    layers("bottom", &f.weights.bottom)
        .or_else(|| layers("top", &f.weights.top))
        .or_else(tables)
        .or_else(calibration)
}

/// `config.` + field for configuration errors.
fn prefix_field(prefix: &str, e: Error) -> Error {
    match e {
        Error::InvalidModel {
            field,
            expected,
            found,
        } => Error::InvalidModel {
            field: format!("{prefix}.{field}"),
            expected,
            found,
        },
        other => other,
    }
}

/// `dir/.name.tmp-<pid>` next to `path`.
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    let tmp = format!(".{name}.tmp-{}", std::process::id());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(tmp),
        _ => PathBuf::from(tmp),
    }
}

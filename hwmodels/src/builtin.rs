//! The shipped models, embedded in the binary so they load from any directory.

use std::path::Path;

use crate::error::Error;
use crate::load::{from_yaml_str, load_file};
use crate::schema::MachineModel;

/// (name, YAML text) of every shipped model; the name equals the file stem and the
/// model's `name` field (a test checks both).
const BUILTIN: &[(&str, &str)] = &[
    ("host-cpu", include_str!("../models/host-cpu.yaml")),
    ("a100", include_str!("../models/a100.yaml")),
    ("h100", include_str!("../models/h100.yaml")),
    ("bts", include_str!("../models/bts.yaml")),
    ("ark", include_str!("../models/ark.yaml")),
    ("sharp", include_str!("../models/sharp.yaml")),
    ("craterlake", include_str!("../models/craterlake.yaml")),
];

/// Names of the shipped models, in a fixed order (CPU, GPUs, accelerators).
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _)| *name).collect()
}

/// The YAML text of a shipped model (to copy and edit), or `None` for an unknown name.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Load a shipped model by name.
///
/// # Errors
/// [`Error::UnknownModel`] listing the shipped names if `name` is not one of them.
///
/// # Example
/// ```
/// let h100 = helrm_hwmodels::builtin("h100")?;
/// assert_eq!(h100.kind, helrm_hwmodels::MachineKind::Gpu);
/// # Ok::<(), helrm_hwmodels::Error>(())
/// ```
pub fn builtin(name: &str) -> Result<MachineModel, Error> {
    match builtin_source(name) {
        Some(text) => from_yaml_str(text, &format!("hwmodels/models/{name}.yaml")),
        None => Err(Error::UnknownModel {
            name: name.to_string(),
            known: builtin_names().into_iter().map(String::from).collect(),
        }),
    }
}

/// Load every shipped model, in [`builtin_names`] order.
///
/// # Errors
/// As [`builtin`] (never in practice: a test loads every shipped model).
pub fn builtin_all() -> Result<Vec<MachineModel>, Error> {
    builtin_names().into_iter().map(builtin).collect()
}

/// Resolve a `--hw` argument: a path (it contains a path separator or ends in `.yaml` /
/// `.yml`) is loaded as a file, anything else is looked up among the shipped models.
///
/// # Errors
/// As [`load_file`] for paths, as [`builtin`] for names.
pub fn resolve(spec: &str) -> Result<MachineModel, Error> {
    let looks_like_path = spec.contains('/')
        || spec.contains(std::path::MAIN_SEPARATOR)
        || Path::new(spec)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if looks_like_path {
        load_file(spec)
    } else {
        builtin(spec)
    }
}

//! The crate's one error type.

/// Everything that can go wrong loading or checking a machine model.
///
/// Every variant names the file (or other origin) it concerns; parse errors carry the
/// position and, in their message, the dotted field path the parser was at
/// (`units.ntt: unknown field ...`); validation errors carry the field path itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model file could not be read.
    #[error("{file}: cannot read machine model: {source}")]
    Io {
        /// Path of the file.
        file: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid YAML, or does not have the schema's shape (unknown key, wrong
    /// type, missing field).
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// Path of the file, or the origin given to `from_yaml_str`.
        file: String,
        /// 1-based line of the error (0 if the parser gave no position).
        line: usize,
        /// 1-based column of the error (0 if the parser gave no position).
        column: usize,
        /// What the parser found wrong, prefixed by the dotted field path when it has one.
        message: String,
    },
    /// The file parsed but a value is out of range or inconsistent.
    #[error("{file}: field `{field}` is {found}, expected {expected}")]
    Config {
        /// Path of the file, or the origin given to `from_yaml_str`.
        file: String,
        /// Dotted path of the offending field, e.g. `offchip.bandwidth_gb_per_s`.
        field: String,
        /// What an acceptable value looks like.
        expected: String,
        /// The value found (as written back by the parser).
        found: String,
    },
    /// No built-in model has this name.
    #[error("unknown machine model `{name}` (built-in models: {})", known.join(", "))]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The built-in model names.
        known: Vec<String>,
    },
}

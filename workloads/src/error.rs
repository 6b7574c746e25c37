//! The one error type of `helrm-workloads`.

use thiserror::Error as ThisError;

/// Result alias for `helrm-workloads`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error `helrm-workloads` returns. Variants carry the names and numbers that explain them.
#[non_exhaustive]
#[derive(Debug, ThisError)]
pub enum Error {
    // ---- data -------------------------------------------------------------------------------
    /// A malformed row in a dataset file: wrong field count, a non-numeric or non-finite value,
    /// a category code outside its documented set, bad hex, text that is not UTF-8, …
    #[error("{file}:{line}: field `{field}`: expected {expected}, found {found:?}")]
    Dataset {
        /// The file (path or shipped name) being parsed.
        file: String,
        /// 1-based line number of the offending row.
        line: usize,
        /// The column name (`"thal"`, `"I3"`, `"C17"`, `"label"`), or `"row"` when the row as a
        /// whole is wrong (field count, encoding, empty line).
        field: &'static str,
        /// What the parser accepts there.
        expected: &'static str,
        /// What it found (shortened to at most 40 characters).
        found: String,
    },
    /// A dataset file with no rows at all.
    #[error("{file}: the file holds no rows")]
    EmptyDataset {
        /// The file (path or shipped name).
        file: String,
    },
    /// Reading a file failed.
    #[error("{file}: {source}")]
    Io {
        /// The file that could not be read.
        file: String,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A shipped file whose SHA-256 is not the one recorded in `workloads/data/README.md`.
    #[error("{file}: sha256 is {found}, expected {expected}")]
    Checksum {
        /// The shipped file (relative to `workloads/data/`, or `embedded:<name>`).
        file: String,
        /// The recorded digest (lowercase hex).
        expected: &'static str,
        /// The digest of the bytes actually read (lowercase hex).
        found: String,
    },
    /// A caller-supplied parameter outside its valid range.
    #[error("parameter `{name}` = {value} is invalid: expected {expected}")]
    InvalidParameter {
        /// The parameter name (for example `"test_fraction"`, `"table_size"`).
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// Two sizes that must agree do not (row widths, column counts, name lists).
    #[error("{what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// What was being compared (for example `"dense values"`, `"standardizer width"`).
        what: &'static str,
        /// The size required.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// A sparse index that is not below its feature's cardinality.
    #[error(
        "row {row}, sparse feature {feature}: index {index} is not below cardinality {cardinality}"
    )]
    IndexOutOfRange {
        /// 0-based row.
        row: usize,
        /// 0-based sparse feature (column).
        feature: usize,
        /// The index found.
        index: u32,
        /// The feature's cardinality.
        cardinality: u64,
    },
    /// A label other than 0 or 1.
    #[error("row {row}: label {label} is not 0 or 1")]
    InvalidLabel {
        /// 0-based row.
        row: usize,
        /// The label found.
        label: u8,
    },
    // ---- dlrm -------------------------------------------------------------------------------
    /// A DLRM configuration or weight set that is not consistent (widths that do not chain,
    /// a weight count that does not match its layer, a non-finite weight, …).
    #[error("model field `{field}`: expected {expected}, found {found}")]
    InvalidModel {
        /// Field path (`"top[0].inputs"`, `"weights.bottom[1].bias"`, `"weights.tables[3][17]"`).
        field: String,
        /// What is required there.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A model file whose content fails validation (format, version, shapes, values).
    #[error("{file}: field `{field}`: expected {expected}, found {found}")]
    ModelFile {
        /// The model file.
        file: String,
        /// Field path in the file (`"version"`, `"config.top[0].inputs"`, `"weights.top[1].bias"`).
        field: String,
        /// What is required there.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A model file that is not JSON of the model schema (syntax, a missing, unknown or
    /// mistyped key; serde's message names it).
    #[error("{file}:{line}:{column}: {source}")]
    ModelJson {
        /// The model file.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// An unknown named model configuration.
    #[error("unknown model configuration `{name}` (known: {known})")]
    UnknownConfig {
        /// The name asked for.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// An operation that needs polynomial activations met the exact (training-only) ReLU.
    #[error("layer {layer}: activation `{activation}` is not a polynomial; replace it with a composite approximation first")]
    NotPolynomial {
        /// The layer (`"top[1]"`).
        layer: String,
        /// The activation's name.
        activation: &'static str,
    },
    /// An operation that needs calibration ranges on a model that has none.
    #[error("{what} needs a calibrated model (run Dlrm::calibrate first)")]
    MissingCalibration {
        /// The operation.
        what: &'static str,
    },
    /// A CKKS operation of the encrypted pipeline failed.
    #[error("ckks: {source}")]
    Ckks {
        /// The core error.
        #[from]
        source: helrm_core::Error,
    },
    /// A model that needs more levels than the parameter chain has (bootstrapping is not
    /// available yet).
    #[error("{config} needs {needed} levels but {params} has {available}; {bootstraps} bootstrap(s) would be needed")]
    NeedsBootstrap {
        /// The model configuration.
        config: String,
        /// The parameter set.
        params: String,
        /// Levels the model consumes.
        needed: u32,
        /// Levels the chain offers.
        available: u32,
        /// Bootstraps the plan places.
        bootstraps: u32,
    },
    /// Training produced a non-finite loss.
    #[error("training diverged at epoch {epoch}, batch {batch}: loss {loss}")]
    TrainingDiverged {
        /// 0-based epoch.
        epoch: usize,
        /// 0-based batch within the epoch.
        batch: usize,
        /// The loss value.
        loss: f64,
    },
}

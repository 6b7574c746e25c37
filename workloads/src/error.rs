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
}

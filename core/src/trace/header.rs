//! The self-describing header every trace starts with.

use serde::{Deserialize, Serialize};

/// The value of the header's `format` field.
pub const FORMAT_NAME: &str = "helrm-trace";

/// The format version this code writes. Readers accept any minor version of this major.
pub const FORMAT_VERSION: FormatVersion = FormatVersion { major: 1, minor: 1 };

/// A trace format version: a new major is incompatible, a new minor only adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FormatVersion {
    /// Incremented for changes old readers cannot read.
    pub major: u16,
    /// Incremented for additions old readers may ignore (new optional fields).
    pub minor: u16,
}

/// Whether the trace comes from real arithmetic or from a shapes-only symbolic run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceMode {
    /// A real encrypted run (events carry measured wall times).
    Real,
    /// A symbolic run on shapes only (no wall times).
    Symbolic,
}

/// The CKKS parameters a trace was recorded with, as far as a simulator needs them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParamsSummary {
    /// log2 of the ring degree N.
    pub log_n: u32,
    /// Bit sizes of the Q primes, from q_0 (the base prime) upwards.
    pub q_bits: Vec<u32>,
    /// Bit sizes of the special primes P.
    pub p_bits: Vec<u32>,
    /// Number of key-switching digits.
    pub dnum: u32,
    /// Bytes per stored coefficient word (8 for 64-bit words).
    pub word_bytes: u32,
}

/// The first record of every trace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceHeader {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The format version the trace was written in.
    pub version: FormatVersion,
    /// A fingerprint of the full parameter set (computed by the code that owns the parameters),
    /// so that a trace is replayed only with the parameters it was recorded with.
    pub params_fingerprint: String,
    /// The parameters as a simulator needs them.
    pub params: ParamsSummary,
    /// Real or symbolic run.
    pub mode: TraceMode,
    /// The program that wrote the trace (`helrm 0.1.0`).
    pub created_by: String,
}

impl TraceHeader {
    /// A header in the current format version.
    pub fn new(
        params_fingerprint: impl Into<String>,
        params: ParamsSummary,
        mode: TraceMode,
        created_by: impl Into<String>,
    ) -> Self {
        TraceHeader {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            params_fingerprint: params_fingerprint.into(),
            params,
            mode,
            created_by: created_by.into(),
        }
    }
}

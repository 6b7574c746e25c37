//! The self-describing header every trace starts with.

use serde::{Deserialize, Serialize};

use super::error::TraceError;
use super::event::TraceEvent;

/// The value of the header's `format` field.
pub const FORMAT_NAME: &str = "helrm-trace";

/// The format version this code writes. Readers accept any minor version of this major.
pub const FORMAT_VERSION: FormatVersion = FormatVersion { major: 1, minor: 2 };

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

impl TraceHeader {
    /// Checks that `event` can have been recorded with this header's parameters: its ring
    /// degree is the header's, its level and every object's level lie in the Q chain, it uses
    /// no more special primes than the header has, and no object is larger than
    /// `4 · max(3, 2 · dnum) · (|Q| + |P|) · N · word_bytes` bytes (four times the largest
    /// object of the parameters: a key-switching key or a three-part ciphertext over `Q ∪ P`).
    /// Readers do not call this (a trace is well-formed without it); replaying tools do, so
    /// that a trace for other parameters, or with absurd sizes, is refused before it is costed.
    ///
    /// # Errors
    /// [`TraceError::InvalidEvent`] naming the event's `seq`, the field and the value.
    pub fn check_event(&self, event: &TraceEvent) -> Result<(), TraceError> {
        let p = &self.params;
        let bad = |field: &'static str, found: u64, expected: &'static str| {
            Err(TraceError::InvalidEvent {
                seq: event.seq,
                field,
                found,
                expected,
            })
        };
        if event.log_n != p.log_n {
            return bad(
                "log_n",
                event.log_n.into(),
                "the header's params.log_n (the trace is for other parameters)",
            );
        }
        let q = p.q_bits.len() as u64;
        if u64::from(event.level) >= q {
            return bad(
                "level",
                event.level.into(),
                "a level below the header's Q prime count",
            );
        }
        if event.special_primes as usize > p.p_bits.len() {
            return bad(
                "special_primes",
                event.special_primes.into(),
                "at most the header's P prime count",
            );
        }
        let limbs = q.saturating_add(p.p_bits.len() as u64);
        let parts = u64::from(p.dnum).saturating_mul(2).max(3);
        let max_bytes = 4u64
            .saturating_mul(parts)
            .saturating_mul(limbs)
            .saturating_mul(1u64.checked_shl(p.log_n).unwrap_or(u64::MAX))
            .saturating_mul(u64::from(p.word_bytes));
        for object in event.inputs.iter().chain(&event.outputs) {
            if let Some(level) = object.level {
                if u64::from(level) >= q {
                    return bad(
                        "level",
                        level.into(),
                        "an object level below the header's Q prime count",
                    );
                }
            }
            if object.bytes > max_bytes {
                return bad(
                    "bytes",
                    object.bytes,
                    "an object size the header's parameters allow",
                );
            }
        }
        Ok(())
    }
}

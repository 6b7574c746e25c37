//! The crate's one error type.

use helrm_core::trace::TraceError;

/// Everything that can go wrong lowering, simulating or reporting a trace.
///
/// Trace and machine-model errors are wrapped unchanged (they already name the line, byte
/// offset, file or field they concern); the other variants carry the numbers and names a
/// user needs to find the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The trace could not be read (opening, decoding, truncation, ...).
    #[error("{source}")]
    Trace {
        /// The trace module's error, naming the line or byte offset.
        #[from]
        source: TraceError,
    },
    /// The machine model could not be loaded or is invalid.
    #[error("{source}")]
    Model {
        /// The machine-model crate's error, naming the file and field.
        #[from]
        source: helrm_hwmodels::Error,
    },
    /// A machine model (for example one edited in memory by a sweep) holds a value the engine
    /// cannot simulate with.
    #[error("machine model `{machine}`: field `{field}` is {found}, expected {expected}")]
    InvalidModel {
        /// The model's name.
        machine: String,
        /// Dotted path of the offending field, e.g. `offchip.bandwidth_gb_per_s`.
        field: String,
        /// The value found.
        found: String,
        /// What the engine needs.
        expected: &'static str,
    },
    /// Lowering options that cannot describe any machine.
    #[error("lowering option `{field}` is {found}, expected {expected}")]
    InvalidOptions {
        /// The offending option.
        field: &'static str,
        /// The value found.
        found: u64,
        /// What is accepted.
        expected: &'static str,
    },
    /// Writing a report or timeline failed.
    #[error("cannot write {what}: {kind:?}: {message}")]
    Output {
        /// What was being written (`timeline`, `CSV report`, ...).
        what: &'static str,
        /// The operating system's error kind.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// A trace given for calibration or comparison carries no measured wall times.
    #[error("trace `{trace}` has no measured wall times (record it with a real run, not a symbolic one)")]
    UntimedTrace {
        /// The trace's name.
        trace: String,
    },
    /// Repeated recordings of one deterministic workload do not hold the same events.
    #[error("recording {run} differs from the first at event {event}: expected {expected}, found {found}")]
    RunMismatch {
        /// The recording (from 0) that differs.
        run: usize,
        /// Index of the first differing event.
        event: u64,
        /// What the first recording holds there.
        expected: String,
        /// What this recording holds there.
        found: String,
    },
    /// A report could not be turned into JSON.
    #[error("cannot serialise the {what} as JSON: {message}")]
    Json {
        /// What was being serialised.
        what: &'static str,
        /// serde_json's description.
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error met while writing `what`.
    pub(crate) fn output(what: &'static str, err: &std::io::Error) -> Self {
        Error::Output {
            what,
            kind: err.kind(),
            message: err.to_string(),
        }
    }
}

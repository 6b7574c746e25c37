//! The error type of the trace module.

use std::fmt;

use thiserror::Error as ThisError;

/// Where in a trace file something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// A 1-based line number of a JSON Lines trace.
    Line(u64),
    /// A 0-based byte offset into a binary trace.
    Offset(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Offset(offset) => write!(f, "byte offset {offset}"),
        }
    }
}

/// Every error the trace module returns. Variants name the line or byte offset they refer to.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
pub enum TraceError {
    /// Reading or writing the underlying stream failed.
    #[error("trace I/O failed while {during} ({kind:?}): {message}")]
    Io {
        /// What the trace code was doing ("writing an event", "reading the header", ...).
        during: &'static str,
        /// The operating system's error kind.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// A trace file could not be opened or created.
    #[error("cannot open trace file {path} ({kind:?}): {message}")]
    Open {
        /// The file's path.
        path: String,
        /// The operating system's error kind.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// The input starts with neither the binary magic nor a JSON object.
    #[error("not a helrm trace: it starts with bytes {first_bytes:02x?}")]
    UnknownFormat {
        /// Up to the first eight bytes of the input.
        first_bytes: Vec<u8>,
    },
    /// The header's `format` field is not `helrm-trace`.
    #[error("{at}: header names format {found:?}, expected \"helrm-trace\"")]
    WrongFormatName {
        /// Where the header is.
        at: Location,
        /// The format name found.
        found: String,
    },
    /// The trace was written in a major format version this reader does not know.
    #[error(
        "trace format major version {found} is not supported (this reader supports {supported})"
    )]
    UnsupportedVersion {
        /// The major version in the file.
        found: u64,
        /// The major version this reader supports.
        supported: u64,
    },
    /// The input ends before the trace is complete (including a missing end-of-trace record).
    #[error("{at}: trace is truncated: expected {expected}")]
    Truncated {
        /// Where the missing or incomplete record starts.
        at: Location,
        /// What should have been there.
        expected: &'static str,
    },
    /// A JSON line (or the JSON header of a binary trace) does not parse.
    #[error("{at}, column {column}: malformed JSON: {message}")]
    Json {
        /// The line (JSON Lines) or the header's byte offset (binary).
        at: Location,
        /// The 1-based column within that line or header.
        column: u64,
        /// The parser's description.
        message: String,
    },
    /// A record is structurally valid but a field holds an impossible value.
    #[error("{at}: field `{field}` holds {found}, expected {expected}")]
    Malformed {
        /// Where the record starts.
        at: Location,
        /// The offending field.
        field: &'static str,
        /// The value found (a code, a length or a number, as read).
        found: u64,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// The end-of-trace record declares a different number of events than were read.
    #[error("{at}: end record declares {declared} events but {read} were read")]
    CountMismatch {
        /// Where the end record is.
        at: Location,
        /// The event count in the end record.
        declared: u64,
        /// The number of events actually read.
        read: u64,
    },
    /// Data follows the end-of-trace record.
    #[error("{at}: data after the end-of-trace record")]
    TrailingData {
        /// Where the extra data starts.
        at: Location,
    },
    /// A writer refused an event that no reader could read back.
    #[error("event {seq}: field `{field}` holds {found}, expected {expected}")]
    InvalidEvent {
        /// The event's sequence number.
        seq: u64,
        /// The offending field.
        field: &'static str,
        /// The value found.
        found: u64,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// An event was recorded after the writer was finished.
    #[error("event {seq} was recorded after the trace was finished")]
    RecordAfterFinish {
        /// The late event's sequence number.
        seq: u64,
    },
}

impl TraceError {
    /// Wraps an I/O error, naming what was being done.
    pub(crate) fn io(during: &'static str, err: &std::io::Error) -> Self {
        TraceError::Io {
            during,
            kind: err.kind(),
            message: err.to_string(),
        }
    }
}

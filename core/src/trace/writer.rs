//! Streaming file writers: JSON Lines and binary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::error::TraceError;
use super::event::TraceEvent;
use super::header::TraceHeader;
use super::sink::{lock, TraceSink};
use super::{binary, jsonl};

/// The two encodings of a trace file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// JSON Lines (`.htrace.jsonl`): readable, diffable, greppable.
    Jsonl,
    /// Compact little-endian binary (`.htrace`).
    Binary,
}

impl Encoding {
    /// The encoding a file name asks for: `*.jsonl` → JSON Lines, `*.htrace` or `*.bin` →
    /// binary, anything else → `None`.
    pub fn from_path(path: &Path) -> Option<Encoding> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => Some(Encoding::Jsonl),
            Some("htrace" | "bin") => Some(Encoding::Binary),
            _ => None,
        }
    }

    fn encode_header(self, buf: &mut Vec<u8>, header: &TraceHeader) -> Result<(), TraceError> {
        match self {
            Encoding::Jsonl => jsonl::encode_header(buf, header),
            Encoding::Binary => binary::encode_header(buf, header),
        }
    }

    fn encode_event(self, buf: &mut Vec<u8>, ev: &TraceEvent) -> Result<(), TraceError> {
        match self {
            Encoding::Jsonl => jsonl::encode_event(buf, ev),
            Encoding::Binary => binary::encode_event(buf, ev),
        }
    }

    fn encode_end(self, buf: &mut Vec<u8>, events: u64) {
        match self {
            Encoding::Jsonl => jsonl::encode_end(buf, events),
            Encoding::Binary => binary::encode_end(buf, events),
        }
    }
}

#[derive(Debug)]
struct WriterState<W: Write> {
    out: BufWriter<W>,
    buf: Vec<u8>,
    events: u64,
    error: Option<TraceError>,
    finished: bool,
}

/// The streaming writer both public writers wrap.
#[derive(Debug)]
struct StreamWriter<W: Write> {
    encoding: Encoding,
    state: Mutex<WriterState<W>>,
}

impl<W: Write> StreamWriter<W> {
    fn new(out: W, header: &TraceHeader, encoding: Encoding) -> Result<Self, TraceError> {
        let mut out = BufWriter::with_capacity(1 << 16, out);
        let mut buf = Vec::with_capacity(1024);
        encoding.encode_header(&mut buf, header)?;
        out.write_all(&buf)
            .map_err(|e| TraceError::io("writing the header", &e))?;
        Ok(StreamWriter {
            encoding,
            state: Mutex::new(WriterState {
                out,
                buf,
                events: 0,
                error: None,
                finished: false,
            }),
        })
    }

    fn record(&self, ev: &TraceEvent) {
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        if st.error.is_some() {
            return;
        }
        if st.finished {
            st.error = Some(TraceError::RecordAfterFinish { seq: ev.seq });
            return;
        }
        st.buf.clear();
        let written = ev
            .check()
            .and_then(|()| self.encoding.encode_event(&mut st.buf, ev))
            .and_then(|()| {
                st.out
                    .write_all(&st.buf)
                    .map_err(|e| TraceError::io("writing an event", &e))
            });
        match written {
            Ok(()) => st.events += 1,
            Err(e) => st.error = Some(e),
        }
    }

    fn finish(&self) -> Result<(), TraceError> {
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        if !st.finished {
            st.finished = true;
            if st.error.is_none() {
                st.buf.clear();
                self.encoding.encode_end(&mut st.buf, st.events);
                let result = st
                    .out
                    .write_all(&st.buf)
                    .and_then(|()| st.out.flush())
                    .map_err(|e| TraceError::io("finishing the trace", &e));
                if let Err(e) = result {
                    st.error = Some(e);
                }
            }
        }
        match &st.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn events(&self) -> u64 {
        lock(&self.state).events
    }

    fn into_inner(self) -> Result<W, TraceError> {
        self.finish()?;
        let state = self
            .state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state
            .out
            .into_inner()
            .map_err(|e| TraceError::io("flushing the trace", e.error()))
    }
}

macro_rules! public_writer {
    ($(#[$doc:meta])* $name:ident, $encoding:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<W: Write> {
            inner: StreamWriter<W>,
        }

        impl<W: Write> $name<W> {
            /// Starts a trace on `out` by writing `header`.
            ///
            /// # Errors
            /// [`TraceError::Io`] if the header cannot be written.
            pub fn new(out: W, header: &TraceHeader) -> Result<Self, TraceError> {
                Ok($name {
                    inner: StreamWriter::new(out, header, $encoding)?,
                })
            }

            /// Events written so far.
            pub fn events(&self) -> u64 {
                self.inner.events()
            }

            /// Finishes the trace (if not yet done) and returns the underlying writer.
            ///
            /// # Errors
            /// The first error met while writing.
            pub fn into_inner(self) -> Result<W, TraceError> {
                self.inner.into_inner()
            }
        }

        impl<W: Write + Send> TraceSink for $name<W> {
            fn record(&self, event: TraceEvent) {
                self.inner.record(&event);
            }

            /// Writes the end-of-trace record and flushes; idempotent.
            fn finish(&self) -> Result<(), TraceError> {
                self.inner.finish()
            }
        }
    };
}

public_writer!(
    /// Streams a trace as JSON Lines: the header line, one line per event, an end line.
    ///
    /// Nothing is held beyond one encoded event. A failed write is remembered, later events are
    /// dropped, and [`TraceSink::finish`] reports the error. Call `finish` (or `into_inner`)
    /// when done: a trace without its end record reads back as truncated.
    JsonlWriter,
    Encoding::Jsonl
);

public_writer!(
    /// Streams a trace in the compact binary encoding (magic, version, header, records).
    ///
    /// Nothing is held beyond one encoded event. A failed write is remembered, later events are
    /// dropped, and [`TraceSink::finish`] reports the error. Call `finish` (or `into_inner`)
    /// when done: a trace without its end record reads back as truncated.
    BinaryWriter,
    Encoding::Binary
);

/// Creates (or truncates) the file at `path` and starts a trace in `encoding` on it.
///
/// # Errors
/// [`TraceError::Open`] if the file cannot be created, [`TraceError::Io`] if the header
/// cannot be written.
pub fn create_writer(
    path: &Path,
    encoding: Encoding,
    header: &TraceHeader,
) -> Result<Arc<dyn TraceSink>, TraceError> {
    let file = File::create(path).map_err(|e| TraceError::Open {
        path: path.display().to_string(),
        kind: e.kind(),
        message: e.to_string(),
    })?;
    Ok(match encoding {
        Encoding::Jsonl => Arc::new(JsonlWriter::new(file, header)?),
        Encoding::Binary => Arc::new(BinaryWriter::new(file, header)?),
    })
}

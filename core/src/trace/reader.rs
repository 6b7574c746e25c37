//! Reading traces of either encoding as a stream of events.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::binary::{BinaryDecoder, BINARY_MAGIC};
use super::error::{Location, TraceError};
use super::event::{OpKind, TraceEvent};
use super::header::TraceHeader;
use super::jsonl::JsonlDecoder;
use super::writer::Encoding;

#[derive(Debug)]
enum Decoder<R> {
    Jsonl(JsonlDecoder<R>),
    Binary(BinaryDecoder<R>),
}

/// Reads a trace file event by event, holding one event at a time.
///
/// The encoding is detected from the first byte (the binary magic starts with `0x89`, a JSON
/// Lines trace with `{`). Iterating yields `Result<TraceEvent, TraceError>`; after the first
/// error the iterator ends. For the fastest reads, reuse one event with
/// [`read_event`](Self::read_event).
#[derive(Debug)]
pub struct TraceReader<R> {
    header: TraceHeader,
    decoder: Decoder<R>,
    stopped: bool,
}

impl TraceReader<BufReader<File>> {
    /// Opens the trace file at `path` and reads its header.
    ///
    /// # Errors
    /// [`TraceError::Open`] if the file cannot be opened; otherwise as
    /// [`from_reader`](TraceReader::from_reader).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| TraceError::Open {
            path: path.display().to_string(),
            kind: e.kind(),
            message: e.to_string(),
        })?;
        TraceReader::from_reader(BufReader::with_capacity(1 << 18, file))
    }
}

impl<R: BufRead> TraceReader<R> {
    /// Reads the header of the trace `input` holds.
    ///
    /// # Errors
    /// [`TraceError::UnknownFormat`] if the input is not a trace,
    /// [`TraceError::UnsupportedVersion`] for another major version, and the errors of a
    /// malformed or truncated header ([`TraceError::Json`], [`TraceError::Truncated`],
    /// [`TraceError::WrongFormatName`], [`TraceError::Malformed`], [`TraceError::Io`]).
    pub fn from_reader(mut input: R) -> Result<Self, TraceError> {
        let first = input
            .fill_buf()
            .map_err(|e| TraceError::io("reading the first bytes", &e))?;
        let decoder = match first.first() {
            None => {
                return Err(TraceError::Truncated {
                    at: Location::Offset(0),
                    expected: "a trace header",
                })
            }
            Some(&b) if b == BINARY_MAGIC[0] => {
                let (header, d) = BinaryDecoder::open(input)?;
                return Ok(Self::with(header, Decoder::Binary(d)));
            }
            Some(b'{') => JsonlDecoder::open(input)?,
            Some(_) => {
                return Err(TraceError::UnknownFormat {
                    first_bytes: first.iter().take(8).copied().collect(),
                })
            }
        };
        let (header, d) = decoder;
        Ok(Self::with(header, Decoder::Jsonl(d)))
    }

    fn with(header: TraceHeader, decoder: Decoder<R>) -> Self {
        TraceReader {
            header,
            decoder,
            stopped: false,
        }
    }

    /// The trace's header.
    pub fn header(&self) -> &TraceHeader {
        &self.header
    }

    /// The encoding of the trace.
    pub fn encoding(&self) -> Encoding {
        match self.decoder {
            Decoder::Jsonl(_) => Encoding::Jsonl,
            Decoder::Binary(_) => Encoding::Binary,
        }
    }

    /// Events read so far.
    pub fn events_read(&self) -> u64 {
        match &self.decoder {
            Decoder::Jsonl(d) => d.events(),
            Decoder::Binary(d) => d.events(),
        }
    }

    /// Reads the next event into `event`, reusing its allocations. Returns `Ok(false)` at the
    /// end of the trace (after its end record was checked) and after an earlier error.
    ///
    /// # Errors
    /// [`TraceError::Truncated`], [`TraceError::Json`], [`TraceError::Malformed`],
    /// [`TraceError::CountMismatch`], [`TraceError::TrailingData`] or [`TraceError::Io`],
    /// each naming the line or byte offset.
    pub fn read_event(&mut self, event: &mut TraceEvent) -> Result<bool, TraceError> {
        if self.stopped {
            return Ok(false);
        }
        let result = match &mut self.decoder {
            Decoder::Jsonl(d) => d.next_into(event),
            Decoder::Binary(d) => d.next_into(event),
        };
        if !matches!(result, Ok(true)) {
            self.stopped = true;
        }
        result
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<TraceEvent, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut event = TraceEvent::new(OpKind::Encode, 0, 0);
        match self.read_event(&mut event) {
            Ok(true) => Some(Ok(event)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<R: BufRead> std::iter::FusedIterator for TraceReader<R> {}

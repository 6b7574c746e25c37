//! The JSON Lines encoding: a header line, one event per line, an end-of-trace line.

use std::io::{BufRead, Read};

use serde::Deserialize;

use super::error::{Location, TraceError};
use super::event::TraceEvent;
use super::fastjson;
use super::header::{TraceHeader, FORMAT_NAME, FORMAT_VERSION};

/// The longest line a reader accepts.
const MAX_LINE_BYTES: u64 = 1 << 24;

/// Appends the header line to `buf`.
pub(crate) fn encode_header(buf: &mut Vec<u8>, header: &TraceHeader) -> Result<(), TraceError> {
    serde_json::to_writer(&mut *buf, header).map_err(|e| json_error(&e, Location::Line(1)))?;
    buf.push(b'\n');
    Ok(())
}

/// Appends one event line to `buf`. The event must pass [`TraceEvent::check`].
pub(crate) fn encode_event(buf: &mut Vec<u8>, ev: &TraceEvent) -> Result<(), TraceError> {
    serde_json::to_writer(&mut *buf, ev).map_err(|e| TraceError::InvalidEvent {
        seq: ev.seq,
        field: "event",
        found: e.column() as u64,
        expected: "an event serde_json can encode",
    })?;
    buf.push(b'\n');
    Ok(())
}

/// Appends the end-of-trace line to `buf`.
pub(crate) fn encode_end(buf: &mut Vec<u8>, events: u64) {
    buf.extend_from_slice(b"{\"end\":{\"events\":");
    buf.extend_from_slice(events.to_string().as_bytes());
    buf.extend_from_slice(b"}}\n");
}

/// Converts a serde_json error about the text at `at` into a [`TraceError::Json`].
pub(crate) fn json_error(err: &serde_json::Error, at: Location) -> TraceError {
    let mut message = err.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    TraceError::Json {
        at,
        column: err.column() as u64,
        message,
    }
}

/// The fields read before the rest of a header, so that a header of another major version is
/// rejected as such rather than as malformed.
#[derive(Deserialize)]
struct HeaderProbe {
    format: String,
    version: VersionProbe,
}

#[derive(Deserialize)]
struct VersionProbe {
    major: u64,
}

/// Parses and checks a JSON header (format name, then major version, then every field).
pub(crate) fn check_header(json: &[u8], at: Location) -> Result<TraceHeader, TraceError> {
    let probe: HeaderProbe = serde_json::from_slice(json).map_err(|e| json_error(&e, at))?;
    if probe.format != FORMAT_NAME {
        return Err(TraceError::WrongFormatName {
            at,
            found: probe.format,
        });
    }
    if probe.version.major != u64::from(FORMAT_VERSION.major) {
        return Err(TraceError::UnsupportedVersion {
            found: probe.version.major,
            supported: u64::from(FORMAT_VERSION.major),
        });
    }
    serde_json::from_slice(json).map_err(|e| json_error(&e, at))
}

#[derive(Deserialize)]
struct EndLine {
    end: EndBody,
}

#[derive(Deserialize)]
struct EndBody {
    events: u64,
}

/// True if the line's first key is `end` (the end-of-trace line).
fn is_end_line(line: &[u8]) -> bool {
    let rest = line.trim_ascii_start();
    match rest.strip_prefix(b"{") {
        Some(rest) => rest.trim_ascii_start().starts_with(b"\"end\""),
        None => false,
    }
}

/// Streams events out of a JSON Lines trace.
#[derive(Debug)]
pub(crate) struct JsonlDecoder<R> {
    input: R,
    line: Vec<u8>,
    /// Number of the line held in `line` (1-based).
    line_no: u64,
    events: u64,
    done: bool,
}

/// One line as read: whether it was complete (ended by a newline).
enum Line {
    Eof,
    Complete,
    Unterminated,
}

impl<R: BufRead> JsonlDecoder<R> {
    /// Reads and checks the header line.
    pub(crate) fn open(input: R) -> Result<(TraceHeader, Self), TraceError> {
        let mut decoder = JsonlDecoder {
            input,
            line: Vec::with_capacity(1024),
            line_no: 0,
            events: 0,
            done: false,
        };
        let at = Location::Line(1);
        match decoder.read_line()? {
            Line::Eof => {
                return Err(TraceError::Truncated {
                    at,
                    expected: "a header line",
                })
            }
            Line::Unterminated => {
                return Err(match check_header(&decoder.line, at) {
                    Err(TraceError::Json { .. }) | Ok(_) => TraceError::Truncated {
                        at,
                        expected: "a complete header line",
                    },
                    Err(e) => e,
                })
            }
            Line::Complete => {}
        }
        let header = check_header(&decoder.line, at)?;
        Ok((header, decoder))
    }

    /// Number of events decoded so far.
    pub(crate) fn events(&self) -> u64 {
        self.events
    }

    fn read_line(&mut self) -> Result<Line, TraceError> {
        self.line.clear();
        let got = (&mut self.input)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| TraceError::io("reading a line", &e))?;
        if got == 0 {
            return Ok(Line::Eof);
        }
        self.line_no += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            return Ok(Line::Complete);
        }
        if got as u64 > MAX_LINE_BYTES {
            return Err(TraceError::Malformed {
                at: Location::Line(self.line_no),
                field: "line length",
                found: got as u64,
                expected: "at most 16 MiB",
            });
        }
        Ok(Line::Unterminated)
    }

    /// Decodes the next event into `ev`; `Ok(false)` after the end line.
    pub(crate) fn next_into(&mut self, ev: &mut TraceEvent) -> Result<bool, TraceError> {
        while !self.done {
            let kind = self.read_line()?;
            let at = Location::Line(self.line_no);
            let complete = match kind {
                Line::Eof => {
                    return Err(TraceError::Truncated {
                        at: Location::Line(self.line_no + 1),
                        expected: "an end-of-trace line",
                    })
                }
                Line::Complete => true,
                Line::Unterminated => false,
            };
            if self.line.trim_ascii().is_empty() {
                continue;
            }
            if is_end_line(&self.line) {
                let end: EndLine = serde_json::from_slice(&self.line).map_err(|e| {
                    if e.is_eof() && !complete {
                        TraceError::Truncated {
                            at,
                            expected: "a complete end-of-trace line",
                        }
                    } else {
                        json_error(&e, at)
                    }
                })?;
                if end.end.events != self.events {
                    return Err(TraceError::CountMismatch {
                        at,
                        declared: end.end.events,
                        read: self.events,
                    });
                }
                self.done = true;
                // Only blank lines may follow.
                loop {
                    match self.read_line()? {
                        Line::Eof => break,
                        _ if self.line.trim_ascii().is_empty() => {}
                        _ => {
                            return Err(TraceError::TrailingData {
                                at: Location::Line(self.line_no),
                            })
                        }
                    }
                }
                break;
            }
            if fastjson::parse_event(&self.line, ev).is_none() {
                *ev = serde_json::from_slice(&self.line).map_err(|e| {
                    if e.is_eof() && !complete {
                        TraceError::Truncated {
                            at,
                            expected: "a complete event line",
                        }
                    } else {
                        json_error(&e, at)
                    }
                })?;
            }
            if let Some((field, found, expected)) = ev.invariant_violation() {
                return Err(TraceError::Malformed {
                    at,
                    field,
                    found,
                    expected,
                });
            }
            if !complete {
                // A valid event on the last line without its newline: the end line is missing.
                return Err(TraceError::Truncated {
                    at: Location::Line(self.line_no + 1),
                    expected: "an end-of-trace line",
                });
            }
            self.events += 1;
            return Ok(true);
        }
        Ok(false)
    }
}

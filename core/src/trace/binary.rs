//! The compact binary encoding: magic, version, JSON header, then length-prefixed records.
//!
//! All integers are little-endian. The layout is normative in `docs/trace-format.md`.

use std::io::{BufRead, Read};

use super::error::{Location, TraceError};
use super::event::{DataClass, ObjectId, ObjectRef, OpKind, Term, TraceEvent};
use super::header::{TraceHeader, FORMAT_VERSION};
use super::jsonl::check_header;

/// The eight bytes every binary trace starts with.
pub const BINARY_MAGIC: [u8; 8] = [0x89, b'H', b'T', b'R', b'A', b'C', b'E', b'\n'];

/// Record kind of an event.
const RECORD_EVENT: u8 = 1;
/// Record kind of the end-of-trace record.
const RECORD_END: u8 = 2;
/// Record kinds from this value on are optional extensions that readers skip.
const RECORD_SKIPPABLE: u8 = 0x80;
/// The largest record payload a reader accepts.
const MAX_RECORD_BYTES: u32 = 1 << 24;
/// The largest JSON header a reader accepts.
const MAX_HEADER_BYTES: u32 = 1 << 20;
/// Size of the fixed part of an event payload.
const EVENT_FIXED_BYTES: usize = 44;
/// Size of one encoded object reference.
const OBJECT_REF_BYTES: u16 = 30;
/// Size of one encoded term (format 1.1).
const TERM_BYTES: u16 = 16;
/// A term's absent rotation or plaintext index.
const NO_INDEX: u32 = u32::MAX;
/// Event flag: `wall_ns` present.
const FLAG_WALL: u8 = 1;
/// Event flag: outputs left over the extended basis (format 1.1).
const FLAG_EXTENDED: u8 = 2;
/// Byte offset of the JSON header.
const HEADER_OFFSET: u64 = 16;

/// Appends the binary preamble (magic, version, header) to `buf`.
pub(crate) fn encode_header(buf: &mut Vec<u8>, header: &TraceHeader) -> Result<(), TraceError> {
    let json = serde_json::to_vec(header).map_err(|e| TraceError::Json {
        at: Location::Offset(HEADER_OFFSET),
        column: 0,
        message: e.to_string(),
    })?;
    let len = u32::try_from(json.len())
        .ok()
        .filter(|&l| l <= MAX_HEADER_BYTES)
        .ok_or(TraceError::InvalidEvent {
            seq: 0,
            field: "header",
            found: json.len() as u64,
            expected: "a JSON header of at most 1 MiB",
        })?;
    buf.extend_from_slice(&BINARY_MAGIC);
    buf.extend_from_slice(&header.version.major.to_le_bytes());
    buf.extend_from_slice(&header.version.minor.to_le_bytes());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&json);
    Ok(())
}

fn put_len(buf: &mut Vec<u8>, seq: u64, field: &'static str, len: usize) -> Result<(), TraceError> {
    let len = u32::try_from(len).map_err(|_| TraceError::InvalidEvent {
        seq,
        field,
        found: len as u64,
        expected: "fewer than 2^32 entries",
    })?;
    buf.extend_from_slice(&len.to_le_bytes());
    Ok(())
}

fn put_objects(
    buf: &mut Vec<u8>,
    seq: u64,
    field: &'static str,
    objects: &[ObjectRef],
) -> Result<(), TraceError> {
    put_len(buf, seq, field, objects.len())?;
    buf.extend_from_slice(&OBJECT_REF_BYTES.to_le_bytes());
    for o in objects {
        buf.extend_from_slice(&o.id.0.to_le_bytes());
        buf.extend_from_slice(&o.bytes.to_le_bytes());
        buf.push(o.class.code());
        buf.push(u8::from(o.level.is_some()));
        buf.extend_from_slice(&o.class.galois_element().unwrap_or(0).to_le_bytes());
        buf.extend_from_slice(&o.level.unwrap_or(0).to_le_bytes());
    }
    Ok(())
}

/// Appends one event record to `buf`. The event must pass [`TraceEvent::check`].
pub(crate) fn encode_event(buf: &mut Vec<u8>, ev: &TraceEvent) -> Result<(), TraceError> {
    let start = buf.len();
    buf.push(RECORD_EVENT);
    buf.extend_from_slice(&[0; 4]);
    let payload_start = buf.len();
    buf.extend_from_slice(&ev.seq.to_le_bytes());
    buf.extend_from_slice(&ev.op.code().to_le_bytes());
    // `check` guarantees log_n <= 63.
    buf.push(u8::try_from(ev.log_n).unwrap_or(u8::MAX));
    let mut flags = 0;
    if ev.wall_ns.is_some() {
        flags |= FLAG_WALL;
    }
    if ev.extended_basis {
        flags |= FLAG_EXTENDED;
    }
    buf.push(flags);
    for v in [ev.level, ev.limbs, ev.special_primes, ev.dnum] {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    buf.extend_from_slice(&ev.scale_log2.to_bits().to_le_bytes());
    buf.extend_from_slice(&ev.wall_ns.unwrap_or(0).to_le_bytes());
    put_len(buf, ev.seq, "scope", ev.scope.len())?;
    buf.extend_from_slice(ev.scope.as_bytes());
    put_len(buf, ev.seq, "rotations", ev.rotations.len())?;
    for r in &ev.rotations {
        buf.extend_from_slice(&r.to_le_bytes());
    }
    put_len(buf, ev.seq, "galois_elements", ev.galois_elements.len())?;
    for g in &ev.galois_elements {
        buf.extend_from_slice(&g.to_le_bytes());
    }
    put_objects(buf, ev.seq, "inputs", &ev.inputs)?;
    put_objects(buf, ev.seq, "outputs", &ev.outputs)?;
    // Fields of format 1.1, appended only when present so that other events keep their 1.0
    // bytes.
    // Format 1.2 appends the slot count after the 1.1 block, which is then written even
    // when empty.
    if ev.mod_ups != 0 || ev.mod_downs != 0 || !ev.terms.is_empty() || ev.slots != 0 {
        buf.extend_from_slice(&ev.mod_ups.to_le_bytes());
        buf.extend_from_slice(&ev.mod_downs.to_le_bytes());
        put_len(buf, ev.seq, "terms", ev.terms.len())?;
        buf.extend_from_slice(&TERM_BYTES.to_le_bytes());
        for t in &ev.terms {
            buf.extend_from_slice(&t.input.to_le_bytes());
            buf.extend_from_slice(&t.rotation.unwrap_or(NO_INDEX).to_le_bytes());
            buf.extend_from_slice(&t.plaintext.unwrap_or(NO_INDEX).to_le_bytes());
            buf.extend_from_slice(&t.output.to_le_bytes());
        }
    }
    if ev.slots != 0 {
        buf.extend_from_slice(&ev.slots.to_le_bytes());
    }
    let payload_len = buf.len() - payload_start;
    match u32::try_from(payload_len) {
        Ok(len) if len <= MAX_RECORD_BYTES => {
            buf[start + 1..payload_start].copy_from_slice(&len.to_le_bytes());
            Ok(())
        }
        _ => {
            buf.truncate(start);
            Err(TraceError::InvalidEvent {
                seq: ev.seq,
                field: "record length",
                found: payload_len as u64,
                expected: "an encoded event of at most 16 MiB",
            })
        }
    }
}

/// Appends the end-of-trace record to `buf`.
pub(crate) fn encode_end(buf: &mut Vec<u8>, events: u64) {
    buf.push(RECORD_END);
    buf.extend_from_slice(&8u32.to_le_bytes());
    buf.extend_from_slice(&events.to_le_bytes());
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads exactly `len` bytes into `buf` (cleared first) without trusting `len` for the
/// allocation; returns false if the input ended first.
fn read_payload<R: Read>(input: &mut R, len: u32, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let got = input.take(u64::from(len)).read_to_end(buf)?;
    Ok(got == len as usize)
}

/// A bounds-checked little-endian reader over one record payload.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    at: Location,
}

impl<'a> Cursor<'a> {
    fn short(&self, field: &'static str) -> TraceError {
        TraceError::Malformed {
            at: self.at,
            field,
            found: self.bytes.len() as u64,
            expected: "a record long enough to hold this field",
        }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], TraceError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| self.short(field))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], TraceError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, TraceError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, TraceError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, TraceError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, TraceError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// Reads a count of elements of `elem` bytes each and checks they fit in the record.
    fn count(&mut self, field: &'static str, elem: usize) -> Result<usize, TraceError> {
        let n = self.u32(field)? as usize;
        let remaining = self.bytes.len() - self.pos;
        if n.checked_mul(elem).is_none_or(|total| total > remaining) {
            return Err(self.short(field));
        }
        Ok(n)
    }

    fn objects(&mut self, field: &'static str, out: &mut Vec<ObjectRef>) -> Result<(), TraceError> {
        out.clear();
        let n = self.u32(field)? as usize;
        let size = self.u16(field)?;
        if size < OBJECT_REF_BYTES {
            return Err(TraceError::Malformed {
                at: self.at,
                field,
                found: u64::from(size),
                expected: "an object size of at least 30 bytes",
            });
        }
        let remaining = self.bytes.len() - self.pos;
        if n.checked_mul(usize::from(size))
            .is_none_or(|t| t > remaining)
        {
            return Err(self.short(field));
        }
        out.reserve(n);
        for _ in 0..n {
            let mut obj = Cursor {
                bytes: self.take(usize::from(size), field)?,
                pos: 0,
                at: self.at,
            };
            let id = obj.u64("id")?;
            let bytes = obj.u64("bytes")?;
            let code = obj.u8("class")?;
            let flags = obj.u8("flags")?;
            let galois = obj.u64("class")?;
            let level = obj.u32("level")?;
            let class = DataClass::from_code(code, galois).ok_or(TraceError::Malformed {
                at: self.at,
                field: "class",
                found: u64::from(code),
                expected: "a known data class code (0 to 7)",
            })?;
            out.push(ObjectRef {
                id: ObjectId(id),
                class,
                bytes,
                level: (flags & 1 != 0).then_some(level),
            });
        }
        Ok(())
    }

    /// Reads the terms of format 1.1: count, element size (at least 16), elements.
    fn terms(&mut self, out: &mut Vec<Term>) -> Result<(), TraceError> {
        out.clear();
        let n = self.u32("terms")? as usize;
        let size = self.u16("terms")?;
        if size < TERM_BYTES {
            return Err(TraceError::Malformed {
                at: self.at,
                field: "terms",
                found: u64::from(size),
                expected: "a term size of at least 16 bytes",
            });
        }
        let remaining = self.bytes.len() - self.pos;
        if n.checked_mul(usize::from(size))
            .is_none_or(|t| t > remaining)
        {
            return Err(self.short("terms"));
        }
        out.reserve(n);
        let index = |v: u32| (v != NO_INDEX).then_some(v);
        for _ in 0..n {
            let mut t = Cursor {
                bytes: self.take(usize::from(size), "terms")?,
                pos: 0,
                at: self.at,
            };
            out.push(Term {
                input: t.u32("terms")?,
                rotation: index(t.u32("terms")?),
                plaintext: index(t.u32("terms")?),
                output: t.u32("terms")?,
            });
        }
        Ok(())
    }
}

/// Decodes one event payload of a file in minor version `minor` into `ev`, reusing its
/// allocations.
fn decode_event(
    payload: &[u8],
    minor: u16,
    at: Location,
    ev: &mut TraceEvent,
) -> Result<(), TraceError> {
    let mut c = Cursor {
        bytes: payload,
        pos: 0,
        at,
    };
    if payload.len() < EVENT_FIXED_BYTES {
        return Err(c.short("seq"));
    }
    ev.seq = c.u64("seq")?;
    let code = c.u16("op")?;
    ev.op = OpKind::from_code(code).ok_or(TraceError::Malformed {
        at,
        field: "op",
        found: u64::from(code),
        expected: "a known operation code",
    })?;
    ev.log_n = u32::from(c.u8("log_n")?);
    ev.n = 1u64.checked_shl(ev.log_n).unwrap_or(0);
    let flags = c.u8("flags")?;
    ev.level = c.u32("level")?;
    ev.limbs = c.u32("limbs")?;
    ev.special_primes = c.u32("special_primes")?;
    ev.dnum = c.u32("dnum")?;
    ev.scale_log2 = f64::from_bits(c.u64("scale_log2")?);
    let wall = c.u64("wall_ns")?;
    ev.wall_ns = (flags & FLAG_WALL != 0).then_some(wall);
    ev.extended_basis = flags & FLAG_EXTENDED != 0;
    let n = c.count("scope", 1)?;
    let scope = std::str::from_utf8(c.take(n, "scope")?).map_err(|_| TraceError::Malformed {
        at,
        field: "scope",
        found: n as u64,
        expected: "UTF-8 text",
    })?;
    ev.scope.clear();
    ev.scope.push_str(scope);
    let n = c.count("rotations", 8)?;
    ev.rotations.clear();
    for _ in 0..n {
        ev.rotations.push(c.u64("rotations")? as i64);
    }
    let n = c.count("galois_elements", 8)?;
    ev.galois_elements.clear();
    for _ in 0..n {
        ev.galois_elements.push(c.u64("galois_elements")?);
    }
    c.objects("inputs", &mut ev.inputs)?;
    c.objects("outputs", &mut ev.outputs)?;
    // Format 1.1: ModUp and ModDown counts and terms, present only on the events that have
    // them.
    if minor >= 1 && c.pos < payload.len() {
        ev.mod_ups = c.u32("mod_ups")?;
        ev.mod_downs = c.u32("mod_downs")?;
        c.terms(&mut ev.terms)?;
    } else {
        ev.mod_ups = 0;
        ev.mod_downs = 0;
        ev.terms.clear();
    }
    // Format 1.2: the slot count, present only on the events that have one.
    ev.slots = if minor >= 2 && c.pos < payload.len() {
        c.u32("slots")?
    } else {
        0
    };
    // Bytes after the known fields come from a later minor version and are ignored.
    if let Some((field, found, expected)) = ev.invariant_violation() {
        return Err(TraceError::Malformed {
            at,
            field,
            found,
            expected,
        });
    }
    Ok(())
}

/// Streams events out of a binary trace whose magic has been recognised.
#[derive(Debug)]
pub(crate) struct BinaryDecoder<R> {
    input: R,
    pos: u64,
    payload: Vec<u8>,
    events: u64,
    done: bool,
    /// The file's minor version (which optional fields its events may hold).
    minor: u16,
}

impl<R: BufRead> BinaryDecoder<R> {
    /// Reads the preamble and header; `input` is positioned at the magic.
    pub(crate) fn open(mut input: R) -> Result<(TraceHeader, Self), TraceError> {
        let mut pre = [0u8; 16];
        let got = read_full(&mut input, &mut pre)
            .map_err(|e| TraceError::io("reading the binary preamble", &e))?;
        if got >= 8 && pre[..8] != BINARY_MAGIC {
            return Err(TraceError::UnknownFormat {
                first_bytes: pre[..8].to_vec(),
            });
        }
        if got < 16 {
            return Err(TraceError::Truncated {
                at: Location::Offset(0),
                expected: "a 16-byte binary preamble",
            });
        }
        let major = u16::from_le_bytes([pre[8], pre[9]]);
        let minor = u16::from_le_bytes([pre[10], pre[11]]);
        if major != FORMAT_VERSION.major {
            return Err(TraceError::UnsupportedVersion {
                found: u64::from(major),
                supported: u64::from(FORMAT_VERSION.major),
            });
        }
        let len = u32::from_le_bytes([pre[12], pre[13], pre[14], pre[15]]);
        if len > MAX_HEADER_BYTES {
            return Err(TraceError::Malformed {
                at: Location::Offset(12),
                field: "header length",
                found: u64::from(len),
                expected: "at most 1 MiB",
            });
        }
        let mut json = Vec::new();
        if !read_payload(&mut input, len, &mut json)
            .map_err(|e| TraceError::io("reading the header", &e))?
        {
            return Err(TraceError::Truncated {
                at: Location::Offset(HEADER_OFFSET),
                expected: "the complete JSON header",
            });
        }
        let at = Location::Offset(HEADER_OFFSET);
        let header = check_header(&json, at)?;
        if header.version.major != major || header.version.minor != minor {
            return Err(TraceError::Malformed {
                at,
                field: "version",
                found: u64::from(header.version.major),
                expected: "the version given in the binary preamble",
            });
        }
        let decoder = BinaryDecoder {
            input,
            pos: HEADER_OFFSET + u64::from(len),
            payload: Vec::new(),
            events: 0,
            done: false,
            minor,
        };
        Ok((header, decoder))
    }

    /// Number of events decoded so far.
    pub(crate) fn events(&self) -> u64 {
        self.events
    }

    /// Decodes the next event into `ev`; `Ok(false)` after the end record.
    pub(crate) fn next_into(&mut self, ev: &mut TraceEvent) -> Result<bool, TraceError> {
        while !self.done {
            let start = self.pos;
            let at = Location::Offset(start);
            let mut rec = [0u8; 5];
            let got = read_full(&mut self.input, &mut rec)
                .map_err(|e| TraceError::io("reading a record", &e))?;
            if got < rec.len() {
                return Err(TraceError::Truncated {
                    at,
                    expected: if got == 0 {
                        "an end-of-trace record"
                    } else {
                        "a 5-byte record header"
                    },
                });
            }
            let kind = rec[0];
            let len = u32::from_le_bytes([rec[1], rec[2], rec[3], rec[4]]);
            if kind != RECORD_EVENT && kind != RECORD_END && kind < RECORD_SKIPPABLE {
                return Err(TraceError::Malformed {
                    at,
                    field: "record kind",
                    found: u64::from(kind),
                    expected: "1 (event), 2 (end) or an extension kind >= 128",
                });
            }
            if len > MAX_RECORD_BYTES {
                return Err(TraceError::Malformed {
                    at,
                    field: "record length",
                    found: u64::from(len),
                    expected: "at most 16 MiB",
                });
            }
            if !read_payload(&mut self.input, len, &mut self.payload)
                .map_err(|e| TraceError::io("reading a record", &e))?
            {
                return Err(TraceError::Truncated {
                    at,
                    expected: "a complete record",
                });
            }
            self.pos = start + 5 + u64::from(len);
            match kind {
                RECORD_EVENT => {
                    decode_event(&self.payload, self.minor, at, ev)?;
                    self.events += 1;
                    return Ok(true);
                }
                RECORD_END => {
                    let declared = match self.payload.get(..8) {
                        Some(b) => {
                            u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                        }
                        None => {
                            return Err(TraceError::Malformed {
                                at,
                                field: "end record length",
                                found: u64::from(len),
                                expected: "at least 8 bytes",
                            })
                        }
                    };
                    if declared != self.events {
                        return Err(TraceError::CountMismatch {
                            at,
                            declared,
                            read: self.events,
                        });
                    }
                    let mut extra = [0u8; 1];
                    if read_full(&mut self.input, &mut extra)
                        .map_err(|e| TraceError::io("reading past the end record", &e))?
                        != 0
                    {
                        return Err(TraceError::TrailingData {
                            at: Location::Offset(self.pos),
                        });
                    }
                    self.done = true;
                }
                // An extension record from a later minor version: skipped.
                _ => {}
            }
        }
        Ok(false)
    }
}

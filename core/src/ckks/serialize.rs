//! A versioned, checksummed binary format for CKKS objects: parameters, public keys,
//! relinearisation keys, evaluation-key sets, ciphertexts, plaintexts and (client side only,
//! through [`client`]) secret keys. The normative layout is `docs/object-format.md`.
//!
//! Every object is one file (or stream), little-endian throughout:
//!
//! ```text
//! offset  size  field
//!      0     4  magic "HLRM"
//!      4     2  format major version (1)
//!      6     2  format minor version (0)
//!      8     1  object kind (ObjectKind::code)
//!      9     3  reserved, zero
//!     12    64  parameter fingerprint (Params::fingerprint, 64 lower-case hex digits)
//!     76     8  body length L in bytes
//!     84     L  body (depends on the kind)
//!   84+L    32  SHA-256 of bytes 0 .. 84+L
//! ```
//!
//! Loading validates everything before trusting it, in file order: the magic, the version, the
//! kind, the fingerprint against the context's parameters, the body length against the
//! largest body these parameters allow, every layout (level within the chain, the P limbs the
//! kind has), every residue below its prime, scales finite and positive, slot counts powers of
//! two up to `N/2`, then the checksum and the absence of trailing bytes. Allocations are sized
//! from the context, never from a length field. No input makes a loader panic; each defect
//! has its own [`Error`] variant carrying the byte offset. Loaded objects get fresh object ids
//! from the context (program order, as for any new object).
//!
//! Symbolic contexts and objects have no residues: saving or loading them is refused with
//! [`Error::SymbolicValue`].
//!
//! # Example
//! ```
//! use helrm_core::ckks::serialize::{load_ciphertext, save_ciphertext};
//! use helrm_core::ckks::{CkksContext, Encryptor, KeyGenerator, Params};
//! use helrm_core::ring::Backend;
//! use helrm_core::trace::DataClass;
//! let ctx = CkksContext::new(Params::preset("toy-n10")?, Backend::Real)?;
//! let mut keygen = KeyGenerator::new(ctx.clone())?;
//! let mut enc = Encryptor::new(ctx.clone(), keygen.public_key()?)?;
//! let pt = ctx.encode_real(&[0.5], ctx.max_level(), ctx.params().default_scale(), 1,
//!                          DataClass::Other)?;
//! let ct = enc.encrypt(&pt)?;
//! let mut bytes = Vec::new();
//! save_ciphertext(&ctx, &ct, &mut bytes)?;
//! let back = load_ciphertext(&ctx, &mut bytes.as_slice())?;
//! assert_eq!((back.level(), back.scale(), back.slots()), (ct.level(), ct.scale(), ct.slots()));
//! // One byte less is a typed error, not a panic.
//! let short = &bytes[..bytes.len() - 1];
//! assert!(matches!(load_ciphertext(&ctx, &mut &short[..]),
//!                  Err(helrm_core::Error::Truncated { what: "checksum", .. })));
//! # Ok::<(), helrm_core::Error>(())
//! ```

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::ciphertext::{Ciphertext, Plaintext};
use super::context::CkksContext;
use super::keys::{EvaluationKeys, KeySwitchKey, PublicKey};
use super::params::{Params, ParamsLiteral};
use crate::error::{Error, Result};
use crate::ring::{Eval, GaloisElement, RnsPoly};
use crate::trace::DataClass;

/// The four bytes every serialized object starts with.
pub const MAGIC: [u8; 4] = *b"HLRM";
/// The format major version this code writes and reads (a reader refuses other majors).
pub const FORMAT_MAJOR: u16 = 1;
/// The format minor version this code writes (a reader refuses newer minors).
pub const FORMAT_MINOR: u16 = 0;
/// Bytes of the fixed header before the body.
pub const HEADER_BYTES: u64 = 84;
/// Bytes of the trailing SHA-256 checksum.
pub const CHECKSUM_BYTES: u64 = 32;
/// Hex digits of a parameter fingerprint.
pub const FINGERPRINT_HEX_DIGITS: usize = 64;
/// Largest body of a parameter file (its JSON literal).
pub const MAX_PARAMS_BODY_BYTES: u64 = 1 << 16;
/// Byte offset of the object kind in the header.
pub const KIND_OFFSET: u64 = 8;
/// Byte offset of the parameter fingerprint in the header.
pub const FINGERPRINT_OFFSET: u64 = 12;
/// Byte offset of the body length in the header.
pub const BODY_LENGTH_OFFSET: u64 = 76;

/// Highest ciphertext degree stored (2: a product not yet relinearised).
const MAX_CIPHERTEXT_DEGREE: u8 = 2;
/// Words converted per write call.
const WORDS_PER_CHUNK: usize = 8192;

/// What a serialized object is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A parameter literal (JSON body).
    Params,
    /// A public key.
    PublicKey,
    /// A relinearisation key.
    RelinKey,
    /// A server key set: an optional relinearisation key and Galois keys.
    EvaluationKeys,
    /// A ciphertext.
    Ciphertext,
    /// A plaintext.
    Plaintext,
    /// A secret key (client side only).
    SecretKey,
}

impl ObjectKind {
    /// Every kind, in code order.
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::Params,
        ObjectKind::PublicKey,
        ObjectKind::RelinKey,
        ObjectKind::EvaluationKeys,
        ObjectKind::Ciphertext,
        ObjectKind::Plaintext,
        ObjectKind::SecretKey,
    ];

    /// The kind's code in the header.
    pub const fn code(self) -> u8 {
        match self {
            ObjectKind::Params => 1,
            ObjectKind::PublicKey => 2,
            ObjectKind::RelinKey => 3,
            ObjectKind::EvaluationKeys => 4,
            ObjectKind::Ciphertext => 5,
            ObjectKind::Plaintext => 6,
            ObjectKind::SecretKey => 7,
        }
    }

    /// The kind with this code.
    pub const fn from_code(code: u8) -> Option<ObjectKind> {
        Some(match code {
            1 => ObjectKind::Params,
            2 => ObjectKind::PublicKey,
            3 => ObjectKind::RelinKey,
            4 => ObjectKind::EvaluationKeys,
            5 => ObjectKind::Ciphertext,
            6 => ObjectKind::Plaintext,
            7 => ObjectKind::SecretKey,
            _ => return None,
        })
    }

    /// The kind in words (as errors print it).
    pub const fn name(self) -> &'static str {
        match self {
            ObjectKind::Params => "parameter set",
            ObjectKind::PublicKey => "public key",
            ObjectKind::RelinKey => "relinearisation key",
            ObjectKind::EvaluationKeys => "evaluation key set",
            ObjectKind::Ciphertext => "ciphertext",
            ObjectKind::Plaintext => "plaintext",
            ObjectKind::SecretKey => "secret key",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The fixed header of a serialized object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHeader {
    /// Format major version.
    pub major: u16,
    /// Format minor version.
    pub minor: u16,
    /// What the object is.
    pub kind: ObjectKind,
    /// The parameter fingerprint it was made for.
    pub fingerprint: String,
    /// Bytes of the body.
    pub body_len: u64,
}

fn io_error(during: &'static str, err: &std::io::Error) -> Error {
    Error::Io {
        during,
        kind: err.kind(),
        message: err.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- writing ----------------------------------------------------------------------------------

/// A destination for body bytes: the real writer, or a counter for the body length.
trait Out {
    fn put(&mut self, bytes: &[u8]) -> Result<()>;
    fn words(&mut self, words: &[u64]) -> Result<()>;
}

struct Counter(u64);

impl Out for Counter {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.0 += bytes.len() as u64;
        Ok(())
    }
    fn words(&mut self, words: &[u64]) -> Result<()> {
        self.0 += words.len() as u64 * 8;
        Ok(())
    }
}

/// Writes and hashes.
struct Sink<'a, W: Write + ?Sized> {
    w: &'a mut W,
    hash: Sha256,
    buf: Vec<u8>,
}

impl<W: Write + ?Sized> Drop for Sink<'_, W> {
    fn drop(&mut self) {
        // The buffer may have held secret-key residues.
        zeroize::Zeroize::zeroize(&mut self.buf);
    }
}

impl<W: Write + ?Sized> Out for Sink<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.w
            .write_all(bytes)
            .map_err(|e| io_error("writing", &e))?;
        self.hash.update(bytes);
        Ok(())
    }
    fn words(&mut self, words: &[u64]) -> Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut result = Ok(());
        for chunk in words.chunks(WORDS_PER_CHUNK) {
            buf.clear();
            for w in chunk {
                buf.extend_from_slice(&w.to_le_bytes());
            }
            result = self.put(&buf);
            if result.is_err() {
                break;
            }
        }
        self.buf = buf;
        result
    }
}

fn put_u8(o: &mut dyn Out, v: u8) -> Result<()> {
    o.put(&[v])
}
fn put_u16(o: &mut dyn Out, v: u16) -> Result<()> {
    o.put(&v.to_le_bytes())
}
fn put_u32(o: &mut dyn Out, v: u32) -> Result<()> {
    o.put(&v.to_le_bytes())
}
fn put_u64(o: &mut dyn Out, v: u64) -> Result<()> {
    o.put(&v.to_le_bytes())
}
fn put_count(o: &mut dyn Out, v: usize, what: &'static str) -> Result<()> {
    let v = u32::try_from(v).map_err(|_| Error::LengthMismatch {
        what,
        expected: u32::MAX as usize,
        got: v,
    })?;
    put_u32(o, v)
}

/// Writes header, body (twice: once counted, once written) and checksum.
fn write_object<W: Write + ?Sized>(
    w: &mut W,
    kind: ObjectKind,
    fingerprint: &str,
    body: &dyn Fn(&mut dyn Out) -> Result<()>,
) -> Result<()> {
    if fingerprint.len() != FINGERPRINT_HEX_DIGITS {
        return Err(Error::LengthMismatch {
            what: "parameter fingerprint",
            expected: FINGERPRINT_HEX_DIGITS,
            got: fingerprint.len(),
        });
    }
    let mut counter = Counter(0);
    body(&mut counter)?;
    let mut sink = Sink {
        w,
        hash: Sha256::new(),
        buf: Vec::new(),
    };
    sink.put(&MAGIC)?;
    put_u16(&mut sink, FORMAT_MAJOR)?;
    put_u16(&mut sink, FORMAT_MINOR)?;
    put_u8(&mut sink, kind.code())?;
    sink.put(&[0; 3])?;
    sink.put(fingerprint.as_bytes())?;
    put_u64(&mut sink, counter.0)?;
    body(&mut sink)?;
    let digest = std::mem::take(&mut sink.hash).finalize();
    sink.w
        .write_all(&digest)
        .map_err(|e| io_error("writing", &e))?;
    sink.w.flush().map_err(|e| io_error("flushing", &e))
}

fn check_real(ctx: &CkksContext) -> Result<()> {
    if ctx.ring().is_real() {
        Ok(())
    } else {
        Err(Error::SymbolicValue {
            what: "serialized residues",
        })
    }
}

fn check_scale(scale: f64) -> Result<()> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidScale {
            scale: scale.to_string(),
        })
    }
}

fn slots_ok(ctx: &CkksContext, slots: u64) -> bool {
    slots.is_power_of_two() && slots <= ctx.params().slots() as u64
}

fn check_slots(ctx: &CkksContext, slots: usize) -> Result<()> {
    if slots_ok(ctx, slots as u64) {
        Ok(())
    } else {
        Err(Error::InvalidSlots {
            slots,
            max_slots: ctx.params().slots(),
        })
    }
}

/// Checks a polynomial before writing it: real, of this ring, an allowed layout, reduced.
fn check_poly(
    ctx: &CkksContext,
    poly: &RnsPoly<Eval>,
    q_range: (usize, usize),
    p_allowed: &[usize],
) -> Result<()> {
    if !poly.is_real() {
        return Err(Error::SymbolicValue {
            what: "residues of a symbolic object",
        });
    }
    let ring = ctx.ring();
    let (q, p) = (poly.q_count(), poly.p_count());
    if poly.n() != ring.n() {
        return Err(Error::LengthMismatch {
            what: "polynomial degree",
            expected: ring.n(),
            got: poly.n(),
        });
    }
    if q < q_range.0 || q > q_range.1 || !p_allowed.contains(&p) {
        return Err(Error::LimbLayout {
            q_count: q,
            p_count: p,
            max_q: q_range.1,
            max_p: p_allowed.iter().copied().max().unwrap_or(0),
        });
    }
    ring.check_layout(q, p)?;
    for (limb, (chunk, m)) in poly
        .data()
        .chunks(ring.n())
        .zip(ring.moduli(q, p))
        .enumerate()
    {
        if let Some(index) = chunk.iter().position(|&x| x >= m.value()) {
            return Err(Error::ResidueOutOfRange {
                limb,
                index,
                value: chunk.get(index).copied().unwrap_or(0),
                modulus: m.value(),
            });
        }
    }
    Ok(())
}

fn put_poly(o: &mut dyn Out, poly: &RnsPoly<Eval>) -> Result<()> {
    put_count(o, poly.q_count(), "Q limb count")?;
    put_count(o, poly.p_count(), "P limb count")?;
    o.words(poly.data())
}

fn check_ksk(ctx: &CkksContext, key: &KeySwitchKey) -> Result<()> {
    let (nq, np) = (ctx.ring().num_q(), ctx.ring().num_p());
    if key.digits.len() != ctx.params().dnum() {
        return Err(Error::LengthMismatch {
            what: "key-switching digits",
            expected: ctx.params().dnum(),
            got: key.digits.len(),
        });
    }
    for (b, a) in &key.digits {
        check_poly(ctx, b, (nq, nq), &[np])?;
        check_poly(ctx, a, (nq, nq), &[np])?;
    }
    Ok(())
}

fn put_ksk(o: &mut dyn Out, key: &KeySwitchKey) -> Result<()> {
    put_count(o, key.digits.len(), "key-switching digits")?;
    for (b, a) in &key.digits {
        put_poly(o, b)?;
        put_poly(o, a)?;
    }
    Ok(())
}

// ---- reading ----------------------------------------------------------------------------------

/// A residue vector that is wiped if dropped before it becomes a polynomial (it may be part of
/// a secret key).
struct Words(Vec<u64>);

impl Drop for Words {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Reads, hashes and counts; knows where the body ends.
struct Source<'a, R: Read + ?Sized> {
    r: &'a mut R,
    hash: Sha256,
    offset: u64,
    /// Offset one past the body, once the header is read.
    body_end: Option<u64>,
    buf: Vec<u8>,
}

impl<R: Read + ?Sized> Drop for Source<'_, R> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf);
    }
}

/// The header fields as read, before the kind is interpreted.
struct RawHeader {
    major: u16,
    minor: u16,
    kind: ObjectKind,
    fingerprint: String,
    body_len: u64,
}

impl<'a, R: Read + ?Sized> Source<'a, R> {
    fn new(r: &'a mut R) -> Self {
        Self {
            r,
            hash: Sha256::new(),
            offset: 0,
            body_end: None,
            buf: Vec::new(),
        }
    }

    /// Reads exactly `out.len()` bytes without hashing them.
    fn read_raw(&mut self, out: &mut [u8], what: &'static str) -> Result<()> {
        let start = self.offset;
        let len = out.len() as u64;
        if let Some(end) = self.body_end {
            if start.saturating_add(len) > end {
                return Err(Error::Corrupt {
                    what: "body length",
                    offset: BODY_LENGTH_OFFSET,
                    found: end.saturating_sub(HEADER_BYTES).to_string(),
                    expected: format!(
                        "at least {} bytes ({what} at byte offset {start} needs {len})",
                        start.saturating_add(len).saturating_sub(HEADER_BYTES)
                    ),
                });
            }
        }
        let mut got = 0;
        while got < out.len() {
            let rest = out.get_mut(got..).unwrap_or(&mut []);
            match self.r.read(rest) {
                Ok(0) => {
                    return Err(Error::Truncated {
                        what,
                        offset: start,
                        needed: len,
                    })
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error("reading", &e)),
            }
        }
        self.offset += len;
        Ok(())
    }

    fn read(&mut self, out: &mut [u8], what: &'static str) -> Result<()> {
        self.read_raw(out, what)?;
        self.hash.update(&*out);
        Ok(())
    }

    fn u8(&mut self, what: &'static str) -> Result<u8> {
        let mut b = [0u8; 1];
        self.read(&mut b, what)?;
        Ok(b[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16> {
        let mut b = [0u8; 2];
        self.read(&mut b, what)?;
        Ok(u16::from_le_bytes(b))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32> {
        let mut b = [0u8; 4];
        self.read(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads and checks the header: magic, version, kind (against `expected` if given),
    /// reserved bytes and the fingerprint's syntax.
    fn header(&mut self, expected: Option<ObjectKind>) -> Result<RawHeader> {
        let mut magic = [0u8; 4];
        self.read(&mut magic, "magic")?;
        if magic != MAGIC {
            return Err(Error::BadMagic { found: magic });
        }
        let major = self.u16("format major version")?;
        let minor = self.u16("format minor version")?;
        if major != FORMAT_MAJOR || minor > FORMAT_MINOR {
            return Err(Error::UnsupportedVersion {
                major,
                minor,
                supported_major: FORMAT_MAJOR,
                supported_minor: FORMAT_MINOR,
            });
        }
        let code = self.u8("object kind")?;
        let kind = ObjectKind::from_code(code);
        let kind = match (kind, expected) {
            (Some(k), Some(e)) if k == e => k,
            (Some(k), None) => k,
            (found, Some(e)) => {
                return Err(Error::WrongObjectKind {
                    expected: e.name(),
                    found: found.map_or("unknown object", ObjectKind::name),
                    code,
                })
            }
            (None, None) => {
                return Err(Error::Corrupt {
                    what: "object kind",
                    offset: KIND_OFFSET,
                    found: code.to_string(),
                    expected: "a kind code from 1 to 7".into(),
                })
            }
        };
        let mut reserved = [0u8; 3];
        let reserved_at = self.offset;
        self.read(&mut reserved, "reserved bytes")?;
        if reserved != [0; 3] {
            return Err(Error::Corrupt {
                what: "reserved bytes",
                offset: reserved_at,
                found: hex(&reserved),
                expected: "000000".into(),
            });
        }
        let mut fp = [0u8; FINGERPRINT_HEX_DIGITS];
        self.read(&mut fp, "parameter fingerprint")?;
        if !fp
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            return Err(Error::Corrupt {
                what: "parameter fingerprint",
                offset: FINGERPRINT_OFFSET,
                found: hex(&fp),
                expected: "64 lower-case hex digits".into(),
            });
        }
        let fingerprint = fp.iter().map(|&b| char::from(b)).collect();
        let body_len = self.u64("body length")?;
        Ok(RawHeader {
            major,
            minor,
            kind,
            fingerprint,
            body_len,
        })
    }

    /// Reads the header of a `kind` object for `ctx` and checks it against the context.
    fn open(r: &'a mut R, ctx: &CkksContext, kind: ObjectKind) -> Result<Self> {
        check_real(ctx)?;
        let mut src = Source::new(r);
        let h = src.header(Some(kind))?;
        let expected = ctx.params().fingerprint();
        if h.fingerprint != expected {
            return Err(Error::ParamsMismatch {
                expected: expected.to_string(),
                found: h.fingerprint,
            });
        }
        let max = max_body_len(ctx, kind);
        src.set_body_len(h.body_len, max, kind)?;
        Ok(src)
    }

    fn set_body_len(&mut self, body_len: u64, max: u64, kind: ObjectKind) -> Result<()> {
        if body_len > max {
            return Err(Error::Corrupt {
                what: "body length",
                offset: BODY_LENGTH_OFFSET,
                found: body_len.to_string(),
                expected: format!("at most {max} bytes for a {kind} of these parameters"),
            });
        }
        self.body_end = Some(HEADER_BYTES + body_len);
        Ok(())
    }

    /// Checks the body was read whole, then the checksum, then that nothing follows.
    fn finish(&mut self) -> Result<()> {
        if let Some(end) = self.body_end {
            if self.offset != end {
                return Err(Error::Corrupt {
                    what: "body length",
                    offset: BODY_LENGTH_OFFSET,
                    found: end.saturating_sub(HEADER_BYTES).to_string(),
                    expected: format!(
                        "{} bytes (the size of the fields it holds)",
                        self.offset.saturating_sub(HEADER_BYTES)
                    ),
                });
            }
        }
        self.body_end = None;
        let computed = std::mem::take(&mut self.hash).finalize();
        let at = self.offset;
        let mut stored = [0u8; CHECKSUM_BYTES as usize];
        self.read_raw(&mut stored, "checksum")?;
        if stored[..] != computed[..] {
            return Err(Error::ChecksumMismatch {
                offset: at,
                stored: hex(&stored),
                computed: hex(&computed),
            });
        }
        let mut one = [0u8; 1];
        loop {
            match self.r.read(&mut one) {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    return Err(Error::TrailingBytes {
                        offset: self.offset,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error("reading", &e)),
            }
        }
    }

    fn scale(&mut self) -> Result<f64> {
        let at = self.offset;
        let scale = f64::from_bits(self.u64("scale")?);
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::Corrupt {
                what: "scale",
                offset: at,
                found: format!("{scale:e}"),
                expected: "a finite positive number".into(),
            });
        }
        Ok(scale)
    }

    fn slots(&mut self, ctx: &CkksContext) -> Result<usize> {
        let at = self.offset;
        let slots = self.u64("slot count")?;
        if !slots_ok(ctx, slots) {
            return Err(Error::Corrupt {
                what: "slot count",
                offset: at,
                found: slots.to_string(),
                expected: format!("a power of two from 1 to {}", ctx.params().slots()),
            });
        }
        // slots ≤ N/2, so it fits a usize.
        Ok(slots as usize)
    }

    /// A count field in `[min, max]`.
    fn count(&mut self, what: &'static str, min: usize, max: usize) -> Result<usize> {
        let at = self.offset;
        let v = self.u32(what)? as usize;
        if v < min || v > max {
            return Err(Error::Corrupt {
                what,
                offset: at,
                found: v.to_string(),
                expected: if min == max {
                    format!("{min}")
                } else {
                    format!("a number from {min} to {max}")
                },
            });
        }
        Ok(v)
    }

    /// Reads one polynomial whose Q limb count is in `q_range` and P limb count in
    /// `p_allowed`; every residue is checked against its prime as it is read.
    fn poly(
        &mut self,
        ctx: &CkksContext,
        q_range: (usize, usize),
        p_allowed: &[usize],
    ) -> Result<RnsPoly<Eval>> {
        let ring = ctx.ring();
        let max_level = ring.num_q().saturating_sub(1);
        let at = self.offset;
        let q = self.u32("Q limb count")? as usize;
        if q < q_range.0 || q > q_range.1 {
            let expected = if q_range.0 == q_range.1 {
                format!("{} (level {})", q_range.0, q_range.0.saturating_sub(1))
            } else {
                format!(
                    "{} to {} (levels {} to {}; this chain's top level is {max_level})",
                    q_range.0,
                    q_range.1,
                    q_range.0.saturating_sub(1),
                    q_range.1.saturating_sub(1)
                )
            };
            return Err(Error::Corrupt {
                what: "Q limb count (level + 1)",
                offset: at,
                found: q.to_string(),
                expected,
            });
        }
        let at = self.offset;
        let p = self.u32("P limb count")? as usize;
        if !p_allowed.contains(&p) {
            return Err(Error::Corrupt {
                what: "P limb count",
                offset: at,
                found: p.to_string(),
                expected: p_allowed
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            });
        }
        ring.check_layout(q, p)?;
        let n = ring.n();
        // Bounded by the context: at most |Q| + |P| limbs of N words.
        let mut data = Words(Vec::with_capacity((q + p) * n));
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(n * 8, 0);
        let mut result = Ok(());
        for (limb, m) in ring.moduli(q, p).enumerate() {
            let limb_at = self.offset;
            result = self.read(&mut buf, "residues");
            if result.is_err() {
                break;
            }
            let q_value = m.value();
            for (index, chunk) in buf.chunks_exact(8).enumerate() {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                let value = u64::from_le_bytes(w);
                if value >= q_value {
                    result = Err(Error::CorruptResidue {
                        offset: limb_at + 8 * index as u64,
                        limb,
                        index,
                        value,
                        modulus: q_value,
                    });
                    break;
                }
                data.0.push(value);
            }
            if result.is_err() {
                break;
            }
        }
        self.buf = buf;
        result?;
        RnsPoly::from_data(ring, q, p, std::mem::take(&mut data.0))
    }

    fn ksk(&mut self, ctx: &CkksContext) -> Result<KeySwitchKey> {
        let (nq, np) = (ctx.ring().num_q(), ctx.ring().num_p());
        let dnum = ctx.params().dnum();
        let count = self.count("key-switching digit count (dnum)", dnum, dnum)?;
        let mut digits = Vec::with_capacity(count);
        for _ in 0..count {
            let b = self.poly(ctx, (nq, nq), &[np])?;
            let a = self.poly(ctx, (nq, nq), &[np])?;
            digits.push((b, a));
        }
        Ok(KeySwitchKey {
            digits,
            id: ctx.next_id(),
        })
    }
}

/// The largest body a `kind` object for `ctx` can have (saturating; nothing is allocated from
/// it).
fn max_body_len(ctx: &CkksContext, kind: ObjectKind) -> u64 {
    let ring = ctx.ring();
    let n = ring.n() as u64;
    let (nq, np) = (ring.num_q() as u64, ring.num_p() as u64);
    let dnum = ctx.params().dnum() as u64;
    let poly = |limbs: u64| limbs.saturating_mul(n).saturating_mul(8).saturating_add(8);
    let ksk = dnum
        .saturating_mul(2)
        .saturating_mul(poly(nq + np))
        .saturating_add(4);
    match kind {
        ObjectKind::Params => MAX_PARAMS_BODY_BYTES,
        ObjectKind::Ciphertext => {
            (u64::from(MAX_CIPHERTEXT_DEGREE) + 1).saturating_mul(poly(nq)) + 17
        }
        ObjectKind::Plaintext => poly(nq + np).saturating_add(25),
        ObjectKind::PublicKey => poly(nq).saturating_mul(2),
        ObjectKind::RelinKey => ksk,
        ObjectKind::EvaluationKeys => (n - 1)
            .saturating_mul(ksk.saturating_add(8))
            .saturating_add(ksk)
            .saturating_add(5),
        ObjectKind::SecretKey => poly(nq + np),
    }
}

/// Reads the header of any serialized object (for tools that need to know what a file is).
/// Reads exactly [`HEADER_BYTES`] bytes.
///
/// # Errors
/// [`Error::Truncated`], [`Error::BadMagic`], [`Error::UnsupportedVersion`],
/// [`Error::Corrupt`] (unknown kind code, reserved bytes, fingerprint syntax), [`Error::Io`].
pub fn read_header<R: Read + ?Sized>(r: &mut R) -> Result<ObjectHeader> {
    let h = Source::new(r).header(None)?;
    Ok(ObjectHeader {
        major: h.major,
        minor: h.minor,
        kind: h.kind,
        fingerprint: h.fingerprint,
        body_len: h.body_len,
    })
}

// ---- parameters -------------------------------------------------------------------------------

/// Writes `params` as its literal (compact JSON, `dnum` resolved) with the object header.
///
/// # Errors
/// [`Error::Io`] from the writer.
pub fn save_params<W: Write + ?Sized>(params: &Params, w: &mut W) -> Result<()> {
    let json = serde_json::to_vec(params.literal()).map_err(|e| Error::InvalidParameter {
        field: "params literal",
        value: e.to_string(),
        expected: "a literal that JSON can represent",
    })?;
    write_object(w, ObjectKind::Params, params.fingerprint(), &|o| {
        o.put(&json)
    })
}

/// Reads a parameter file, builds the checked [`Params`] and verifies that their fingerprint
/// is the one in the header.
///
/// # Errors
/// The header and framing errors of every loader ([`Error::Truncated`], [`Error::BadMagic`],
/// [`Error::UnsupportedVersion`], [`Error::WrongObjectKind`], [`Error::ChecksumMismatch`],
/// [`Error::TrailingBytes`], [`Error::Corrupt`] for an oversized body, bad JSON or a
/// fingerprint that the literal does not produce), and every error of [`Params::new`].
pub fn load_params<R: Read + ?Sized>(r: &mut R) -> Result<Arc<Params>> {
    let mut src = Source::new(r);
    let h = src.header(Some(ObjectKind::Params))?;
    src.set_body_len(h.body_len, MAX_PARAMS_BODY_BYTES, ObjectKind::Params)?;
    // Bounded by MAX_PARAMS_BODY_BYTES.
    let mut json = vec![0u8; h.body_len as usize];
    src.read(&mut json, "parameter literal (JSON)")?;
    src.finish()?;
    let literal: ParamsLiteral = serde_json::from_slice(&json).map_err(|e| Error::Corrupt {
        what: "parameter literal (JSON)",
        offset: HEADER_BYTES,
        found: e.to_string(),
        expected: "a ParamsLiteral object (docs/object-format.md)".into(),
    })?;
    let params = Params::new(literal)?;
    if params.fingerprint() != h.fingerprint {
        return Err(Error::Corrupt {
            what: "parameter fingerprint",
            offset: FINGERPRINT_OFFSET,
            found: h.fingerprint,
            expected: params.fingerprint().to_string(),
        });
    }
    Ok(params)
}

// ---- ciphertexts and plaintexts ---------------------------------------------------------------

/// Writes a ciphertext: scale, slots, degree and its `degree + 1` polynomials.
///
/// # Errors
/// [`Error::SymbolicValue`] for a symbolic context or ciphertext; [`Error::LimbLayout`],
/// [`Error::ResidueOutOfRange`], [`Error::InvalidScale`], [`Error::InvalidSlots`],
/// [`Error::CiphertextDegree`] for a ciphertext that does not belong to `ctx`; [`Error::Io`].
pub fn save_ciphertext<W: Write + ?Sized>(
    ctx: &CkksContext,
    ct: &Ciphertext,
    w: &mut W,
) -> Result<()> {
    check_real(ctx)?;
    check_scale(ct.scale)?;
    check_slots(ctx, ct.slots)?;
    let degree = ct.parts.len().saturating_sub(1);
    if !(1..=usize::from(MAX_CIPHERTEXT_DEGREE)).contains(&degree) {
        return Err(Error::CiphertextDegree {
            op: "save_ciphertext",
            degree,
            max: usize::from(MAX_CIPHERTEXT_DEGREE),
        });
    }
    let q = ct.parts.first().map_or(0, RnsPoly::q_count);
    for part in &ct.parts {
        check_poly(ctx, part, (q.max(1), q), &[0])?;
    }
    write_object(
        w,
        ObjectKind::Ciphertext,
        ctx.params().fingerprint(),
        &|o| {
            put_u64(o, ct.scale.to_bits())?;
            put_u64(o, ct.slots as u64)?;
            put_u8(o, degree as u8)?;
            for part in &ct.parts {
                put_poly(o, part)?;
            }
            Ok(())
        },
    )
}

/// Reads a ciphertext made for `ctx`'s parameters (at any level of the chain).
///
/// # Errors
/// [`Error::SymbolicValue`] for a symbolic context; [`Error::Truncated`], [`Error::BadMagic`],
/// [`Error::UnsupportedVersion`], [`Error::WrongObjectKind`], [`Error::ParamsMismatch`],
/// [`Error::Corrupt`] (layout, level, scale, slots, degree, body length),
/// [`Error::CorruptResidue`], [`Error::ChecksumMismatch`], [`Error::TrailingBytes`],
/// [`Error::Io`].
pub fn load_ciphertext<R: Read + ?Sized>(ctx: &CkksContext, r: &mut R) -> Result<Ciphertext> {
    let mut src = Source::open(r, ctx, ObjectKind::Ciphertext)?;
    let scale = src.scale()?;
    let slots = src.slots(ctx)?;
    let at = src.offset;
    let degree = src.u8("degree")?;
    if !(1..=MAX_CIPHERTEXT_DEGREE).contains(&degree) {
        return Err(Error::Corrupt {
            what: "ciphertext degree",
            offset: at,
            found: degree.to_string(),
            expected: format!("1 to {MAX_CIPHERTEXT_DEGREE}"),
        });
    }
    let first = src.poly(ctx, (1, ctx.ring().num_q()), &[0])?;
    let q = first.q_count();
    let mut parts = Vec::with_capacity(usize::from(degree) + 1);
    parts.push(first);
    for _ in 0..degree {
        parts.push(src.poly(ctx, (q, q), &[0])?);
    }
    src.finish()?;
    Ok(Ciphertext {
        parts,
        scale,
        slots,
        id: ctx.next_id(),
    })
}

/// Writes a plaintext: scale, slots, data class (code and Galois element) and its polynomial
/// (over `Q_ℓ`, or `Q_ℓ ∪ P`).
///
/// # Errors
/// As [`save_ciphertext`].
pub fn save_plaintext<W: Write + ?Sized>(
    ctx: &CkksContext,
    pt: &Plaintext,
    w: &mut W,
) -> Result<()> {
    check_real(ctx)?;
    check_scale(pt.scale)?;
    check_slots(ctx, pt.slots)?;
    let np = ctx.ring().num_p();
    check_poly(ctx, &pt.poly, (1, ctx.ring().num_q()), &[0, np])?;
    write_object(w, ObjectKind::Plaintext, ctx.params().fingerprint(), &|o| {
        put_u64(o, pt.scale.to_bits())?;
        put_u64(o, pt.slots as u64)?;
        put_u8(o, pt.class.code())?;
        put_u64(o, pt.class.galois_element().unwrap_or(0))?;
        put_poly(o, &pt.poly)
    })
}

/// Reads a plaintext made for `ctx`'s parameters.
///
/// # Errors
/// As [`load_ciphertext`], plus [`Error::Corrupt`] for an unknown data class.
pub fn load_plaintext<R: Read + ?Sized>(ctx: &CkksContext, r: &mut R) -> Result<Plaintext> {
    let mut src = Source::open(r, ctx, ObjectKind::Plaintext)?;
    let scale = src.scale()?;
    let slots = src.slots(ctx)?;
    let at = src.offset;
    let code = src.u8("data class")?;
    let element = src.u64("data class Galois element")?;
    let class = DataClass::from_code(code, element)
        .filter(|c| c.galois_element().unwrap_or(0) == element)
        .ok_or_else(|| Error::Corrupt {
            what: "data class",
            offset: at,
            found: format!("code {code}, Galois element {element}"),
            expected: "a class code from 0 to 7 (Galois element 0 unless code 5)".into(),
        })?;
    let np = ctx.ring().num_p();
    let poly = src.poly(ctx, (1, ctx.ring().num_q()), &[0, np])?;
    src.finish()?;
    Ok(Plaintext {
        poly,
        scale,
        slots,
        id: ctx.next_id(),
        class,
    })
}

// ---- keys -------------------------------------------------------------------------------------

/// Writes a public key: its two polynomials over the full chain `Q`.
///
/// # Errors
/// As [`save_ciphertext`].
pub fn save_public_key<W: Write + ?Sized>(
    ctx: &CkksContext,
    pk: &PublicKey,
    w: &mut W,
) -> Result<()> {
    check_real(ctx)?;
    let nq = ctx.ring().num_q();
    check_poly(ctx, &pk.b, (nq, nq), &[0])?;
    check_poly(ctx, &pk.a, (nq, nq), &[0])?;
    write_object(w, ObjectKind::PublicKey, ctx.params().fingerprint(), &|o| {
        put_poly(o, &pk.b)?;
        put_poly(o, &pk.a)
    })
}

/// Reads a public key made for `ctx`'s parameters.
///
/// # Errors
/// As [`load_ciphertext`].
pub fn load_public_key<R: Read + ?Sized>(ctx: &CkksContext, r: &mut R) -> Result<PublicKey> {
    let mut src = Source::open(r, ctx, ObjectKind::PublicKey)?;
    let nq = ctx.ring().num_q();
    let b = src.poly(ctx, (nq, nq), &[0])?;
    let a = src.poly(ctx, (nq, nq), &[0])?;
    src.finish()?;
    Ok(PublicKey {
        b,
        a,
        id: ctx.next_id(),
    })
}

/// Writes a relinearisation key: `dnum` and one `(b, a)` pair per digit over `Q ∪ P`.
///
/// # Errors
/// As [`save_ciphertext`]; [`Error::LengthMismatch`] for a digit count other than `dnum`.
pub fn save_relin_key<W: Write + ?Sized>(
    ctx: &CkksContext,
    key: &KeySwitchKey,
    w: &mut W,
) -> Result<()> {
    check_real(ctx)?;
    check_ksk(ctx, key)?;
    write_object(w, ObjectKind::RelinKey, ctx.params().fingerprint(), &|o| {
        put_ksk(o, key)
    })
}

/// Reads a relinearisation key made for `ctx`'s parameters.
///
/// # Errors
/// As [`load_ciphertext`].
pub fn load_relin_key<R: Read + ?Sized>(ctx: &CkksContext, r: &mut R) -> Result<KeySwitchKey> {
    let mut src = Source::open(r, ctx, ObjectKind::RelinKey)?;
    let key = src.ksk(ctx)?;
    src.finish()?;
    Ok(key)
}

/// Writes the server's key set: a flag and the relinearisation key if present, then the
/// Galois keys in increasing Galois element order, each preceded by its element.
///
/// # Errors
/// As [`save_relin_key`]; [`Error::InvalidGaloisElement`] for an element that is even, 1 or
/// not below `2N`.
pub fn save_evaluation_keys<W: Write + ?Sized>(
    ctx: &CkksContext,
    keys: &EvaluationKeys,
    w: &mut W,
) -> Result<()> {
    check_real(ctx)?;
    let n = ctx.ring().n();
    if let Some(k) = &keys.relin {
        check_ksk(ctx, k)?;
    }
    for (&GaloisElement(k), key) in &keys.galois {
        if k == 1 || k.is_multiple_of(2) || k >= 2 * n as u64 {
            return Err(Error::InvalidGaloisElement { k, n });
        }
        check_ksk(ctx, key)?;
    }
    write_object(
        w,
        ObjectKind::EvaluationKeys,
        ctx.params().fingerprint(),
        &|o| {
            match &keys.relin {
                Some(k) => {
                    put_u8(o, 1)?;
                    put_ksk(o, k)?;
                }
                None => put_u8(o, 0)?,
            }
            put_count(o, keys.galois.len(), "Galois key count")?;
            for (&GaloisElement(k), key) in &keys.galois {
                put_u64(o, k)?;
                put_ksk(o, key)?;
            }
            Ok(())
        },
    )
}

/// Reads an evaluation key set made for `ctx`'s parameters. Each key gets a fresh object id
/// (relinearisation first, then Galois keys in element order).
///
/// # Errors
/// As [`load_ciphertext`], plus [`Error::Corrupt`] for a bad relinearisation flag, a Galois
/// element that is even, 1, not below `2N` or not above the previous one.
pub fn load_evaluation_keys<R: Read + ?Sized>(
    ctx: &CkksContext,
    r: &mut R,
) -> Result<EvaluationKeys> {
    let mut src = Source::open(r, ctx, ObjectKind::EvaluationKeys)?;
    let two_n = 2 * ctx.ring().n() as u64;
    let mut keys = EvaluationKeys::default();
    let at = src.offset;
    match src.u8("relinearisation key flag")? {
        0 => {}
        1 => keys.set_relin(src.ksk(ctx)?),
        flag => {
            return Err(Error::Corrupt {
                what: "relinearisation key flag",
                offset: at,
                found: flag.to_string(),
                expected: "0 or 1".into(),
            })
        }
    }
    let count = src.count("Galois key count", 0, ctx.ring().n() - 1)?;
    let mut previous = 1;
    for _ in 0..count {
        let at = src.offset;
        let k = src.u64("Galois element")?;
        if k.is_multiple_of(2) || k <= previous || k >= two_n {
            return Err(Error::Corrupt {
                what: "Galois element",
                offset: at,
                found: k.to_string(),
                expected: format!("an odd number from {} to {}", previous + 2, two_n - 1),
            });
        }
        previous = k;
        let key = src.ksk(ctx)?;
        keys.insert_galois(GaloisElement(k), key);
    }
    src.finish()?;
    Ok(keys)
}

// ---- files ------------------------------------------------------------------------------------

fn in_file(path: &Path, err: Error) -> Error {
    Error::InFile {
        path: path.display().to_string(),
        source: Box::new(err),
    }
}

/// A fresh temporary name beside `path`.
fn temporary_path(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or(Error::Io {
        during: "naming the temporary file",
        kind: std::io::ErrorKind::InvalidInput,
        message: "the path has no file name".into(),
    })?;
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = format!(
        ".{}.{}.{unique}.tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(path.with_file_name(tmp))
}

/// Writes to a temporary file in the same directory, syncs it and renames it over `path`, so
/// `path` is never half-written. `private` creates the file readable by its owner only (on
/// Unix).
fn save_file(
    path: &Path,
    private: bool,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let tmp = temporary_path(path).map_err(|e| in_file(path, e))?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let file = options
        .open(&tmp)
        .map_err(|e| in_file(path, io_error("creating the temporary file", &e)))?;
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| io_error("writing", e.error()))?;
        file.sync_all().map_err(|e| io_error("syncing", &e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| io_error("renaming the temporary file", &e))
    })();
    if let Err(e) = result {
        // Best effort: the temporary file is ours and incomplete.
        let _ = fs::remove_file(&tmp);
        return Err(in_file(path, e));
    }
    Ok(())
}

fn load_file<T>(path: &Path, read: impl FnOnce(&mut BufReader<File>) -> Result<T>) -> Result<T> {
    let file = File::open(path).map_err(|e| in_file(path, io_error("opening", &e)))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    read(&mut r).map_err(|e| in_file(path, e))
}

/// [`save_params`] to a file, atomically (temporary file, then rename).
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn save_params_file(params: &Params, path: impl AsRef<Path>) -> Result<()> {
    save_file(path.as_ref(), false, |w| save_params(params, w))
}

/// [`load_params`] from a file.
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn load_params_file(path: impl AsRef<Path>) -> Result<Arc<Params>> {
    load_file(path.as_ref(), load_params)
}

/// [`save_ciphertext`] to a file, atomically (temporary file, then rename).
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn save_ciphertext_file(
    ctx: &CkksContext,
    ct: &Ciphertext,
    path: impl AsRef<Path>,
) -> Result<()> {
    save_file(path.as_ref(), false, |w| save_ciphertext(ctx, ct, w))
}

/// [`load_ciphertext`] from a file.
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn load_ciphertext_file(ctx: &CkksContext, path: impl AsRef<Path>) -> Result<Ciphertext> {
    load_file(path.as_ref(), |r| load_ciphertext(ctx, r))
}

/// [`save_plaintext`] to a file, atomically (temporary file, then rename).
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn save_plaintext_file(
    ctx: &CkksContext,
    pt: &Plaintext,
    path: impl AsRef<Path>,
) -> Result<()> {
    save_file(path.as_ref(), false, |w| save_plaintext(ctx, pt, w))
}

/// [`load_plaintext`] from a file.
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn load_plaintext_file(ctx: &CkksContext, path: impl AsRef<Path>) -> Result<Plaintext> {
    load_file(path.as_ref(), |r| load_plaintext(ctx, r))
}

/// [`save_public_key`] to a file, atomically (temporary file, then rename).
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn save_public_key_file(
    ctx: &CkksContext,
    pk: &PublicKey,
    path: impl AsRef<Path>,
) -> Result<()> {
    save_file(path.as_ref(), false, |w| save_public_key(ctx, pk, w))
}

/// [`load_public_key`] from a file.
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn load_public_key_file(ctx: &CkksContext, path: impl AsRef<Path>) -> Result<PublicKey> {
    load_file(path.as_ref(), |r| load_public_key(ctx, r))
}

/// [`save_relin_key`] to a file, atomically (temporary file, then rename).
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn save_relin_key_file(
    ctx: &CkksContext,
    key: &KeySwitchKey,
    path: impl AsRef<Path>,
) -> Result<()> {
    save_file(path.as_ref(), false, |w| save_relin_key(ctx, key, w))
}

/// [`load_relin_key`] from a file.
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn load_relin_key_file(ctx: &CkksContext, path: impl AsRef<Path>) -> Result<KeySwitchKey> {
    load_file(path.as_ref(), |r| load_relin_key(ctx, r))
}

/// [`save_evaluation_keys`] to a file, atomically (temporary file, then rename).
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn save_evaluation_keys_file(
    ctx: &CkksContext,
    keys: &EvaluationKeys,
    path: impl AsRef<Path>,
) -> Result<()> {
    save_file(path.as_ref(), false, |w| save_evaluation_keys(ctx, keys, w))
}

/// [`load_evaluation_keys`] from a file.
///
/// # Errors
/// [`Error::InFile`] wrapping the error, with the path.
pub fn load_evaluation_keys_file(
    ctx: &CkksContext,
    path: impl AsRef<Path>,
) -> Result<EvaluationKeys> {
    load_file(path.as_ref(), |r| load_evaluation_keys(ctx, r))
}

/// Client-side only: saving and loading the secret key.
///
/// Nothing on the server side takes a [`crate::ckks::SecretKey`]; these functions exist for
/// the client that generated it, to keep it between runs. Files are created readable by their
/// owner only (on Unix), buffers that held residues are wiped, and the loaded key is checked
/// to be a ternary polynomial (of the parameters' Hamming weight for a sparse secret).
pub mod client {
    use super::*;
    use crate::ckks::keys::SecretKey;
    use crate::ckks::security::SecretDistribution;

    /// Writes the secret key `s` (evaluation form over `Q ∪ P`). Client side only.
    ///
    /// # Errors
    /// As [`super::save_ciphertext`].
    pub fn save_secret_key<W: Write + ?Sized>(
        ctx: &CkksContext,
        sk: &SecretKey,
        w: &mut W,
    ) -> Result<()> {
        check_real(ctx)?;
        let (nq, np) = (ctx.ring().num_q(), ctx.ring().num_p());
        check_poly(ctx, &sk.s, (nq, nq), &[np])?;
        write_object(w, ObjectKind::SecretKey, ctx.params().fingerprint(), &|o| {
            put_poly(o, &sk.s)
        })
    }

    /// Reads a secret key made for `ctx`'s parameters. Client side only.
    ///
    /// # Errors
    /// As [`super::load_ciphertext`], plus [`Error::Corrupt`] (`what: "secret key"`) when the
    /// polynomial is not ternary or has the wrong Hamming weight.
    pub fn load_secret_key<R: Read + ?Sized>(ctx: &CkksContext, r: &mut R) -> Result<SecretKey> {
        let mut src = Source::open(r, ctx, ObjectKind::SecretKey)?;
        let (nq, np) = (ctx.ring().num_q(), ctx.ring().num_p());
        let at = src.offset;
        let sk = SecretKey {
            s: src.poly(ctx, (nq, nq), &[np])?,
        };
        src.finish()?;
        check_ternary(ctx, &sk, at)?;
        Ok(sk)
    }

    /// Checks that the key's coefficients are in `{−1, 0, 1}`, the same on every limb, with the
    /// parameters' Hamming weight for a sparse secret.
    fn check_ternary(ctx: &CkksContext, sk: &SecretKey, at: u64) -> Result<()> {
        let ring = ctx.ring();
        let c = CoeffGuard(sk.s.clone().into_coeff(ring)?);
        let moduli: Vec<u64> = ring
            .moduli(c.0.q_count(), c.0.p_count())
            .map(|m| m.value())
            .collect();
        let n = ring.n();
        let bad = |found: String| Error::Corrupt {
            what: "secret key",
            offset: at,
            found,
            expected: "a ternary polynomial with the parameters' Hamming weight".into(),
        };
        let limbs: Vec<&[u64]> = (0..moduli.len()).map(|i| c.0.limb(i)).collect();
        let mut weight = 0usize;
        for i in 0..n {
            let mut sign: Option<i8> = None;
            for (limb, &q) in limbs.iter().zip(&moduli) {
                let x = limb.get(i).copied().unwrap_or(u64::MAX);
                let s = if x == 0 {
                    0
                } else if x == 1 {
                    1
                } else if x == q - 1 {
                    -1
                } else {
                    return Err(bad(format!("coefficient {i} is not in {{-1, 0, 1}}")));
                };
                match sign {
                    None => sign = Some(s),
                    Some(t) if t != s => {
                        return Err(bad(format!("coefficient {i} differs between limbs")))
                    }
                    Some(_) => {}
                }
            }
            weight += usize::from(sign.unwrap_or(0) != 0);
        }
        if let SecretDistribution::SparseTernary { hamming_weight } = ctx.params().secret() {
            if weight != hamming_weight {
                return Err(bad(format!(
                    "Hamming weight {weight} (parameters say {hamming_weight})"
                )));
            }
        }
        Ok(())
    }

    /// Wipes a coefficient-form copy of the secret on drop.
    struct CoeffGuard(RnsPoly<crate::ring::Coeff>);

    impl Drop for CoeffGuard {
        fn drop(&mut self) {
            zeroize::Zeroize::zeroize(self.0.data_mut());
        }
    }

    /// [`save_secret_key`] to a file readable by its owner only, atomically (temporary file,
    /// then rename). Client side only.
    ///
    /// # Errors
    /// [`Error::InFile`] wrapping the error, with the path.
    pub fn save_secret_key_file(
        ctx: &CkksContext,
        sk: &SecretKey,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        save_file(path.as_ref(), true, |w| save_secret_key(ctx, sk, w))
    }

    /// [`load_secret_key`] from a file. Client side only.
    ///
    /// # Errors
    /// [`Error::InFile`] wrapping the error, with the path.
    pub fn load_secret_key_file(ctx: &CkksContext, path: impl AsRef<Path>) -> Result<SecretKey> {
        load_file(path.as_ref(), |r| load_secret_key(ctx, r))
    }
}

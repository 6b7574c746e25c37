//! A fast path for reading event lines in the exact form the writer produces.
//!
//! [`parse_event`] accepts only canonical lines (keys in writer order, no whitespace, no string
//! escapes) and returns `None` for anything else, in which case the caller parses the line
//! with serde_json. Whenever it returns `Some`, the event equals what serde_json would give
//! (a differential test checks this), so it changes speed, never results.

use super::event::{DataClass, ObjectId, ObjectRef, OpKind, Term, TraceEvent};

struct Parser<'a> {
    /// The line, already checked to be UTF-8.
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.bytes.get(self.pos..)?.starts_with(s) {
            self.pos += s.len();
            Some(())
        } else {
            None
        }
    }

    fn peek_lit(&mut self, s: &[u8]) -> bool {
        self.lit(s).is_some()
    }

    fn byte(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// A JSON non-negative integer without leading zeros that fits in a u64.
    fn u64(&mut self) -> Option<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(b @ b'0'..=b'9') = self.byte() {
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.pos += 1;
        }
        let len = self.pos - start;
        if len == 0 || (len > 1 && self.bytes[start] == b'0') {
            return None;
        }
        Some(value)
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u64()?).ok()
    }

    /// A JSON integer that fits in an i64 (negative zero is left to serde_json).
    fn i64(&mut self) -> Option<i64> {
        if self.peek_lit(b"-") {
            let magnitude = self.u64()?;
            if magnitude == 0 {
                return None;
            }
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(self.u64()?).ok()
        }
    }

    /// A JSON number, parsed with correct rounding.
    fn f64(&mut self) -> Option<f64> {
        let start = self.pos;
        self.peek_lit(b"-");
        let int_start = self.pos;
        self.digits();
        let int_len = self.pos - int_start;
        if int_len == 0 || (int_len > 1 && self.bytes[int_start] == b'0') {
            return None;
        }
        let mut plain_integer = true;
        if self.peek_lit(b".") {
            plain_integer = false;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.byte(), Some(b'e' | b'E')) {
            plain_integer = false;
            self.pos += 1;
            if matches!(self.byte(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        if plain_integer && int_len > 15 {
            return None;
        }
        let text = self.text.get(start..self.pos)?;
        text.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.byte() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A JSON string without escapes or control characters.
    fn str(&mut self) -> Option<&'a str> {
        self.lit(b"\"")?;
        let start = self.pos;
        let len = self
            .bytes
            .get(start..)?
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        self.pos += len;
        self.lit(b"\"")?;
        // Both ends are ASCII quotes, so the slice lies on character boundaries.
        self.text.get(start..start + len)
    }

    /// `[v, v, ...]` with each value read by `item`.
    fn list<T>(
        &mut self,
        out: &mut Vec<T>,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<()> {
        out.clear();
        self.lit(b"[")?;
        if self.peek_lit(b"]") {
            return Some(());
        }
        loop {
            out.push(item(self)?);
            if self.peek_lit(b"]") {
                return Some(());
            }
            self.lit(b",")?;
        }
    }

    fn object(&mut self) -> Option<ObjectRef> {
        self.lit(b"{\"id\":")?;
        let id = ObjectId(self.u64()?);
        self.lit(b",\"class\":")?;
        let class: DataClass = self.str()?.parse().ok()?;
        self.lit(b",\"bytes\":")?;
        let bytes = self.u64()?;
        let level = if self.peek_lit(b",\"level\":") {
            Some(self.u32()?)
        } else {
            None
        };
        self.lit(b"}")?;
        Some(ObjectRef {
            id,
            class,
            bytes,
            level,
        })
    }

    /// A u32 or `null`.
    fn opt_u32(&mut self) -> Option<Option<u32>> {
        if self.peek_lit(b"null") {
            Some(None)
        } else {
            Some(Some(self.u32()?))
        }
    }

    /// `[input,rotation,plaintext,output]`.
    fn term(&mut self) -> Option<Term> {
        self.lit(b"[")?;
        let input = self.u32()?;
        self.lit(b",")?;
        let rotation = self.opt_u32()?;
        self.lit(b",")?;
        let plaintext = self.opt_u32()?;
        self.lit(b",")?;
        let output = self.u32()?;
        self.lit(b"]")?;
        Some(Term {
            input,
            rotation,
            plaintext,
            output,
        })
    }
}

/// Parses a canonical event line (without its newline) into `ev`, reusing its allocations.
/// Returns `None` if the line is not in canonical form; `ev` then holds partial data.
pub(crate) fn parse_event(line: &[u8], ev: &mut TraceEvent) -> Option<()> {
    let text = std::str::from_utf8(line).ok()?;
    let mut p = Parser {
        text,
        bytes: line,
        pos: 0,
    };
    p.lit(b"{\"seq\":")?;
    ev.seq = p.u64()?;
    p.lit(b",\"op\":")?;
    ev.op = OpKind::from_name(p.str()?)?;
    p.lit(b",\"scope\":")?;
    let scope = p.str()?;
    ev.scope.clear();
    ev.scope.push_str(scope);
    p.lit(b",\"log_n\":")?;
    ev.log_n = p.u32()?;
    p.lit(b",\"n\":")?;
    ev.n = p.u64()?;
    p.lit(b",\"level\":")?;
    ev.level = p.u32()?;
    p.lit(b",\"limbs\":")?;
    ev.limbs = p.u32()?;
    p.lit(b",\"special_primes\":")?;
    ev.special_primes = p.u32()?;
    p.lit(b",\"dnum\":")?;
    ev.dnum = p.u32()?;
    p.lit(b",\"scale_log2\":")?;
    ev.scale_log2 = p.f64()?;
    if p.peek_lit(b",\"rotations\":") {
        p.list(&mut ev.rotations, Parser::i64)?;
    } else {
        ev.rotations.clear();
    }
    if p.peek_lit(b",\"galois_elements\":") {
        p.list(&mut ev.galois_elements, Parser::u64)?;
    } else {
        ev.galois_elements.clear();
    }
    p.lit(b",\"inputs\":")?;
    p.list(&mut ev.inputs, Parser::object)?;
    p.lit(b",\"outputs\":")?;
    p.list(&mut ev.outputs, Parser::object)?;
    ev.mod_ups = if p.peek_lit(b",\"mod_ups\":") {
        p.u32()?
    } else {
        0
    };
    ev.mod_downs = if p.peek_lit(b",\"mod_downs\":") {
        p.u32()?
    } else {
        0
    };
    if p.peek_lit(b",\"terms\":") {
        p.list(&mut ev.terms, Parser::term)?;
    } else {
        ev.terms.clear();
    }
    ev.extended_basis = p.peek_lit(b",\"extended_basis\":true");
    ev.slots = if p.peek_lit(b",\"slots\":") {
        p.u32()?
    } else {
        0
    };
    ev.wall_ns = if p.peek_lit(b",\"wall_ns\":") {
        Some(p.u64()?)
    } else {
        None
    };
    p.lit(b"}")?;
    (p.pos == line.len()).then_some(())
}

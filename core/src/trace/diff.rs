//! Comparing two traces, ignoring what legitimately differs between runs.

use std::borrow::Borrow;
use std::fmt;
use std::io::BufRead;

use super::error::TraceError;
use super::event::{ObjectRef, OpKind, TraceEvent};
use super::header::TraceHeader;
use super::reader::TraceReader;

/// The first place two traces differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceDifference {
    /// The index of the differing event (from 0), or `None` for the header.
    pub index: Option<u64>,
    /// The differing field (`level`, `inputs[1].bytes`, `params.q_bits`, or `event` when one
    /// trace has fewer events).
    pub field: String,
    /// The value in the first trace, as JSON Lines would show it.
    pub left: String,
    /// The value in the second trace, as JSON Lines would show it.
    pub right: String,
}

impl fmt::Display for TraceDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "event {i}")?,
            None => f.write_str("header")?,
        }
        write!(
            f,
            ", field `{}`: {} != {}",
            self.field, self.left, self.right
        )
    }
}

/// A value as it appears in a JSON Lines trace.
fn show<T: serde::Serialize + fmt::Debug>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

fn differ(index: Option<u64>, field: impl Into<String>, l: String, r: String) -> TraceDifference {
    TraceDifference {
        index,
        field: field.into(),
        left: l,
        right: r,
    }
}

macro_rules! cmp_fields {
    ($index:expr, $prefix:expr, $a:expr, $b:expr, [$($field:ident),* $(,)?]) => {
        $(
            if $a.$field != $b.$field {
                return Some(differ(
                    $index,
                    format!("{}{}", $prefix, stringify!($field)),
                    show(&$a.$field),
                    show(&$b.$field),
                ));
            }
        )*
    };
}

/// Compares two headers, ignoring `mode` and `created_by`.
pub fn diff_headers(a: &TraceHeader, b: &TraceHeader) -> Option<TraceDifference> {
    cmp_fields!(None, "", a, b, [format, version, params_fingerprint]);
    cmp_fields!(
        None,
        "params.",
        a.params,
        b.params,
        [log_n, q_bits, p_bits, dnum, word_bytes]
    );
    None
}

fn diff_objects(
    index: u64,
    list: &str,
    a: &[ObjectRef],
    b: &[ObjectRef],
) -> Option<TraceDifference> {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        cmp_fields!(
            Some(index),
            format!("{list}[{i}]."),
            x,
            y,
            [id, class, bytes, level]
        );
    }
    if a.len() != b.len() {
        return Some(differ(
            Some(index),
            format!("{list}.len"),
            a.len().to_string(),
            b.len().to_string(),
        ));
    }
    None
}

/// Compares two events field by field, ignoring `wall_ns`; `index` names them in the result.
pub fn diff_event(index: u64, a: &TraceEvent, b: &TraceEvent) -> Option<TraceDifference> {
    let i = Some(index);
    cmp_fields!(
        i,
        "",
        a,
        b,
        [seq, op, scope, log_n, n, level, limbs, special_primes, dnum]
    );
    if a.scale_log2.to_bits() != b.scale_log2.to_bits() {
        return Some(differ(
            i,
            "scale_log2",
            a.scale_log2.to_string(),
            b.scale_log2.to_string(),
        ));
    }
    cmp_fields!(
        i,
        "",
        a,
        b,
        [
            rotations,
            galois_elements,
            mod_ups,
            mod_downs,
            terms,
            extended_basis,
            slots
        ]
    );
    diff_objects(index, "inputs", &a.inputs, &b.inputs)
        .or_else(|| diff_objects(index, "outputs", &a.outputs, &b.outputs))
}

fn summary(ev: Option<&TraceEvent>) -> String {
    match ev {
        Some(ev) => format!("{} (seq {})", ev.op, ev.seq),
        None => "end of trace".to_owned(),
    }
}

/// Compares two in-memory event sequences, ignoring wall times.
pub fn diff_events<A, B>(a: A, b: B) -> Option<TraceDifference>
where
    A: IntoIterator,
    A::Item: Borrow<TraceEvent>,
    B: IntoIterator,
    B::Item: Borrow<TraceEvent>,
{
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    let mut index = 0u64;
    loop {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (Some(x), Some(y)) => {
                if let Some(d) = diff_event(index, x.borrow(), y.borrow()) {
                    return Some(d);
                }
            }
            (x, y) => {
                return Some(differ(
                    Some(index),
                    "event",
                    summary(x.as_ref().map(Borrow::borrow)),
                    summary(y.as_ref().map(Borrow::borrow)),
                ))
            }
        }
        index += 1;
    }
}

/// Compares two trace files: equal apart from wall times and the header's `mode` and
/// `created_by`. Streams both; returns the first difference.
///
/// # Errors
/// The first read error of either trace (a difference found earlier is returned instead).
pub fn diff<R1: BufRead, R2: BufRead>(
    mut a: TraceReader<R1>,
    mut b: TraceReader<R2>,
) -> Result<Option<TraceDifference>, TraceError> {
    if let Some(d) = diff_headers(a.header(), b.header()) {
        return Ok(Some(d));
    }
    let mut x = TraceEvent::new(OpKind::Encode, 0, 0);
    let mut y = TraceEvent::new(OpKind::Encode, 0, 0);
    let mut index = 0u64;
    loop {
        let more_a = a.read_event(&mut x)?;
        let more_b = b.read_event(&mut y)?;
        match (more_a, more_b) {
            (false, false) => return Ok(None),
            (true, true) => {
                if let Some(d) = diff_event(index, &x, &y) {
                    return Ok(Some(d));
                }
            }
            (l, r) => {
                return Ok(Some(differ(
                    Some(index),
                    "event",
                    summary(l.then_some(&x)),
                    summary(r.then_some(&y)),
                )))
            }
        }
        index += 1;
    }
}

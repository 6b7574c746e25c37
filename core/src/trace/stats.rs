//! Counts and bytes per operation kind and per data class.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use super::error::TraceError;
use super::event::{DataClass, OpKind, TraceEvent};
use super::reader::TraceReader;

/// Totals for one operation kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpStats {
    /// Number of events.
    pub count: u64,
    /// Sum of the bytes of their inputs.
    pub input_bytes: u64,
    /// Sum of the bytes of their outputs.
    pub output_bytes: u64,
    /// Sum of their measured wall times in nanoseconds (0 for symbolic traces).
    pub wall_ns: u64,
}

/// Bytes of one data class over all events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassBytes {
    /// Bytes of objects of this class read (summed over events, so an object read twice counts
    /// twice).
    pub input_bytes: u64,
    /// Bytes of objects of this class written.
    pub output_bytes: u64,
}

/// A summary of a trace, accumulated one event at a time.
///
/// Serialises to JSON with the keys `events`, `by_op` (op name → [`OpStats`]),
/// `bytes_by_class` (class name such as `key_galois:5` → [`ClassBytes`]) and `wall_ns`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStats {
    /// Number of events.
    pub events: u64,
    /// Totals per operation kind.
    pub by_op: BTreeMap<OpKind, OpStats>,
    /// Bytes per data class.
    pub bytes_by_class: BTreeMap<DataClass, ClassBytes>,
    /// Sum of all measured wall times in nanoseconds.
    pub wall_ns: u64,
}

impl TraceStats {
    /// Empty totals.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one event.
    pub fn add(&mut self, ev: &TraceEvent) {
        let wall = ev.wall_ns.unwrap_or(0);
        self.events = self.events.saturating_add(1);
        self.wall_ns = self.wall_ns.saturating_add(wall);
        let op = self.by_op.entry(ev.op).or_default();
        op.count = op.count.saturating_add(1);
        op.input_bytes = op.input_bytes.saturating_add(ev.input_bytes());
        op.output_bytes = op.output_bytes.saturating_add(ev.output_bytes());
        op.wall_ns = op.wall_ns.saturating_add(wall);
        for o in &ev.inputs {
            let c = self.bytes_by_class.entry(o.class).or_default();
            c.input_bytes = c.input_bytes.saturating_add(o.bytes);
        }
        for o in &ev.outputs {
            let c = self.bytes_by_class.entry(o.class).or_default();
            c.output_bytes = c.output_bytes.saturating_add(o.bytes);
        }
    }

    /// Totals of in-memory events.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a TraceEvent>) -> Self {
        let mut stats = Self::new();
        for ev in events {
            stats.add(ev);
        }
        stats
    }

    /// Totals of every remaining event of `reader` (streamed, one event held at a time).
    ///
    /// # Errors
    /// The first error the reader meets.
    pub fn from_reader<R: BufRead>(reader: &mut TraceReader<R>) -> Result<Self, TraceError> {
        let mut stats = Self::new();
        let mut ev = TraceEvent::new(OpKind::Encode, 0, 0);
        while reader.read_event(&mut ev)? {
            stats.add(&ev);
        }
        Ok(stats)
    }

    /// Adds the totals of `other` (for example of another shard of the same trace).
    pub fn merge(&mut self, other: &TraceStats) {
        self.events = self.events.saturating_add(other.events);
        self.wall_ns = self.wall_ns.saturating_add(other.wall_ns);
        for (op, s) in &other.by_op {
            let t = self.by_op.entry(*op).or_default();
            t.count = t.count.saturating_add(s.count);
            t.input_bytes = t.input_bytes.saturating_add(s.input_bytes);
            t.output_bytes = t.output_bytes.saturating_add(s.output_bytes);
            t.wall_ns = t.wall_ns.saturating_add(s.wall_ns);
        }
        for (class, b) in &other.bytes_by_class {
            let t = self.bytes_by_class.entry(*class).or_default();
            t.input_bytes = t.input_bytes.saturating_add(b.input_bytes);
            t.output_bytes = t.output_bytes.saturating_add(b.output_bytes);
        }
    }
}

//! A Chrome / Perfetto trace-event timeline of a replay, streamed as it runs.

use std::io::Write;

use crate::engine::{
    Direction, EventRecord, KernelRecord, Link, Observer, RunInfo, TransferRecord,
};
use crate::error::Error;

use super::mode_label;

/// Thread id of the off-chip link's track.
const TID_OFFCHIP: usize = 1000;
/// Thread ids of the host link's tracks (to the device, to the host).
const TID_HOST_IN: usize = 1001;
const TID_HOST_OUT: usize = 1002;

/// An [`Observer`] writing the Chrome trace-event JSON format (`ui.perfetto.dev` and
/// `chrome://tracing` open it): one track per unit pool with a slice per kernel (its busy
/// cycles), one per link direction with a slice per transfer (the link's occupancy), and an
/// asynchronous slice per trace event (operation name, scope and `seq`, from its first kernel
/// to its end). Timestamps are microseconds of simulated time at the model's clock; the
/// metadata names the mode and machine.
///
/// Write errors are remembered and reported by [`finish`](Self::finish).
#[derive(Debug)]
pub struct Timeline<W: Write> {
    out: W,
    error: Option<std::io::Error>,
    first: bool,
    us_per_cycle: f64,
    label: String,
    pending_seq: Option<u64>,
    pending_start: u64,
    records: u64,
}

impl<W: Write> Timeline<W> {
    /// A timeline writing to `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        Timeline {
            out,
            error: None,
            first: true,
            us_per_cycle: 0.001,
            label: String::new(),
            pending_seq: None,
            pending_start: 0,
            records: 0,
        }
    }

    /// Slices written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn write(&mut self, s: &str) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(s.as_bytes()) {
                self.error = Some(e);
            }
        }
    }

    fn us(&self, cycles: u64) -> String {
        format!("{:.4}", cycles as f64 * self.us_per_cycle)
    }

    fn item(&mut self, json: &str) {
        let sep = if self.first { "\n" } else { ",\n" };
        self.first = false;
        self.records += 1;
        self.write(sep);
        self.write(json);
    }

    /// Closes the JSON document and returns the writer.
    ///
    /// # Errors
    /// [`Error::Output`] for the first write error met.
    pub fn finish(mut self) -> Result<W, Error> {
        let tail = format!(
            "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{{\"mode\":{},\"generator\":\"helrm-sim\"}}}}\n",
            json_str(&self.label)
        );
        self.write(&tail);
        if self.error.is_none() {
            if let Err(e) = self.out.flush() {
                self.error = Some(e);
            }
        }
        match self.error {
            Some(e) => Err(Error::output("timeline", &e)),
            None => Ok(self.out),
        }
    }
}

/// `s` as a JSON string literal.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

impl<W: Write> Observer for Timeline<W> {
    fn begin(&mut self, run: &RunInfo<'_>) {
        self.us_per_cycle = 1e-3 / run.model.clock_ghz;
        self.label = format!("{} on {}", mode_label(run.header.mode), run.model.name);
        self.write("{\"traceEvents\":[");
        let process = format!(
            "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{{\"name\":{}}}}}",
            json_str(&self.label)
        );
        self.item(&process);
        let mut threads: Vec<(usize, String)> = run
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| (i + 1, format!("units: {}", p.name)))
            .collect();
        threads.push((TID_OFFCHIP, "off-chip link".into()));
        threads.push((TID_HOST_IN, "host link (to device)".into()));
        threads.push((TID_HOST_OUT, "host link (to host)".into()));
        for (tid, name) in threads {
            let m = format!(
                "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"args\":{{\"name\":{}}}}}",
                json_str(&name)
            );
            self.item(&m);
        }
    }

    fn kernel(&mut self, k: &KernelRecord<'_>) {
        if self.pending_seq != Some(k.seq) {
            self.pending_seq = Some(k.seq);
            self.pending_start = k.start;
        }
        let slice = format!(
            "{{\"name\":\"{}\",\"cat\":\"kernel\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":1,\"tid\":{},\"args\":{{\"op\":\"{}\",\"seq\":{},\"scope\":{},\"mod_mults\":{},\"mod_adds\":{}}}}}",
            k.kind.name(),
            self.us(k.start),
            self.us(k.busy),
            k.pool + 1,
            k.op.name(),
            k.seq,
            json_str(k.scope),
            k.mod_mults,
            k.mod_adds
        );
        self.item(&slice);
    }

    fn transfer(&mut self, t: &TransferRecord) {
        let tid = match (t.link, t.direction) {
            (Link::OffChip, _) => TID_OFFCHIP,
            (Link::Host, Direction::Read) => TID_HOST_IN,
            (Link::Host, Direction::Write) => TID_HOST_OUT,
        };
        let verb = match t.direction {
            Direction::Read => "read",
            Direction::Write => "write",
        };
        let slice = format!(
            "{{\"name\":\"{verb} {}\",\"cat\":\"transfer\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":1,\"tid\":{tid},\"args\":{{\"bytes\":{},\"seq\":{},\"arrives_us\":{}}}}}",
            t.class.name(),
            self.us(t.start),
            self.us(t.busy_end.saturating_sub(t.start)),
            t.bytes,
            t.seq,
            self.us(t.end)
        );
        self.item(&slice);
    }

    fn event(&mut self, e: &EventRecord<'_>) {
        let start = if self.pending_seq == Some(e.seq) {
            self.pending_start.min(e.end)
        } else {
            e.end.saturating_sub(e.cycles)
        };
        let args = format!(
            "{{\"scope\":{},\"seq\":{},\"cycles\":{}}}",
            json_str(e.scope),
            e.seq,
            e.cycles
        );
        let begin = format!(
            "{{\"name\":\"{}\",\"cat\":\"op\",\"ph\":\"b\",\"id\":{},\"ts\":{},\"pid\":1,\"tid\":0,\"args\":{args}}}",
            e.op.name(),
            e.seq,
            self.us(start)
        );
        let end = format!(
            "{{\"name\":\"{}\",\"cat\":\"op\",\"ph\":\"e\",\"id\":{},\"ts\":{},\"pid\":1,\"tid\":0}}",
            e.op.name(),
            e.seq,
            self.us(e.end.max(start))
        );
        self.item(&begin);
        self.item(&end);
    }
}

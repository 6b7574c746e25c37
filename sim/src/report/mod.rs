//! Reports: what a replay cost, by operation, scope, kernel, unit and data class.
//!
//! [`ReportBuilder`] is an [`Observer`] that aggregates the engine's records into a
//! [`Report`]; [`Report::to_json`] and [`Report::to_csv`] render it, and [`Timeline`] (another
//! observer) streams a Chrome / Perfetto trace-event timeline. Every output states its mode
//! (replay of a real or symbolic trace) and the machine model. Derived figures users would
//! otherwise compute are included: seconds, achieved off-chip bandwidth in GB/s and
//! arithmetic intensity (modular operations — multiplications plus additions — per off-chip
//! byte), overall and per scope.
//!
//! The JSON's top-level keys include `machine`, `total_cycles`, `total_seconds`,
//! `offchip_bytes_by_class` (class → `{read, write}`), `by_scope`, `by_op`, and
//! `measured_seconds` when the trace has wall times. All maps are ordered, so the same trace
//! and model give byte-identical JSON.
//!
//! # Example
//! ```
//! use helrm_core::trace::{DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent,
//!                         TraceHeader, TraceMode};
//! use helrm_sim::engine::{InMemoryTrace, SimOptions};
//! use helrm_sim::report::simulate_report;
//!
//! let params = ParamsSummary { log_n: 12, q_bits: vec![50, 40, 40], p_bits: vec![60],
//!                              dnum: 3, word_bytes: 8 };
//! let header = TraceHeader::new("toy", params, TraceMode::Symbolic, "doc");
//! let ct = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, 196_608, 2);
//! let mut add = TraceEvent::new(OpKind::Add, 12, 2)
//!     .with_inputs(vec![ct(1), ct(2)])
//!     .with_outputs(vec![ct(3)]);
//! add.scope = "mlp/layer0".into();
//! let trace = InMemoryTrace { header, events: vec![add] };
//! let report = simulate_report(&trace, &helrm_hwmodels::builtin("ark")?, &SimOptions::default())?;
//! assert_eq!(report.mode, "replay of a symbolic trace");
//! assert_eq!(report.offchip_bytes_by_class["ciphertext"].read, 2 * 196_608);
//! assert_eq!(report.by_top_scope["mlp"].events, 1);
//! let json = report.to_json()?;
//! assert!(json.contains("\"total_seconds\""));
//! # Ok::<(), helrm_sim::Error>(())
//! ```

mod timeline;

use std::collections::BTreeMap;

use helrm_core::trace::TraceMode;
use helrm_hwmodels::{KernelClass, ReplacementPolicy};
use serde::Serialize;

pub use timeline::Timeline;

use crate::engine::{
    simulate, AccessRecord, Direction, EventRecord, EventSource, KernelRecord, Link, Observer,
    RunInfo, RunSummary, SimOptions, TransferRecord,
};
use crate::error::Error;
use crate::lower::{KernelKind, LoweringOptions, TrafficClass};

/// The key used for events at top level (empty scope) in per-scope tables.
pub const TOP_LEVEL_SCOPE: &str = "(top level)";

/// The mode label of a replay of a trace recorded in `mode`.
pub fn mode_label(mode: TraceMode) -> &'static str {
    match mode {
        TraceMode::Real => "replay of a real trace",
        TraceMode::Symbolic => "replay of a symbolic trace",
    }
}

/// The machine a report is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineSummary {
    /// The model's name.
    pub name: String,
    /// `cpu`, `gpu` or `asic`.
    pub kind: &'static str,
    /// Clock in GHz.
    pub clock_ghz: f64,
    /// Native word width in bits.
    pub word_bits: u32,
    /// On-chip capacity in bytes.
    pub onchip_capacity_bytes: u64,
    /// Peak off-chip bandwidth in GB/s.
    pub offchip_bandwidth_gb_per_s: f64,
    /// Where the model's numbers come from.
    pub provenance: String,
}

/// The trace a report replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    /// `real` or `symbolic`.
    pub mode: &'static str,
    /// The program that recorded it.
    pub created_by: String,
    /// Fingerprint of its parameter set.
    pub params_fingerprint: String,
    /// log2 of the ring degree.
    pub log_n: u32,
    /// Q primes.
    pub q_limbs: usize,
    /// P primes.
    pub p_limbs: usize,
    /// Key-switching digits.
    pub dnum: u32,
    /// Bytes per word in the trace.
    pub word_bytes: u32,
    /// Events replayed.
    pub events: u64,
}

/// How the replay was run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimulationSummary {
    /// On-chip replacement policy.
    pub replacement_policy: &'static str,
    /// Lowering options.
    pub lowering: LoweringOptions,
    /// Bytes per word after lowering.
    pub word_bytes: u64,
    /// Kernels scheduled.
    pub kernels: u64,
    /// Rescales fused into a preceding ModDown.
    pub fused_rescales: u64,
    /// Initial data assumed preloaded in off-chip memory, bytes.
    pub preloaded_bytes: u64,
}

/// Bytes read and written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReadWrite {
    /// Bytes moved towards the units.
    pub read: u64,
    /// Bytes written back.
    pub write: u64,
}

/// One link's traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkSummary {
    /// Bytes read.
    pub read_bytes: u64,
    /// Bytes written.
    pub write_bytes: u64,
    /// Cycles the link was occupied.
    pub busy_cycles: u64,
    /// Fraction of the run the link was occupied.
    pub utilisation: f64,
    /// Bytes moved per second of simulated time, in GB/s (10^9 B/s).
    pub achieved_gb_per_s: f64,
    /// Modular operations per byte moved (`null` when nothing moved).
    pub arithmetic_intensity_mod_ops_per_byte: Option<f64>,
}

/// On-chip memory statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OnChipSummary {
    /// Capacity in bytes.
    pub capacity_bytes: u64,
    /// Most bytes of live objects held at once.
    pub peak_live_bytes: u64,
    /// Object reads by kernels.
    pub reads: u64,
    /// Reads that found the whole object on chip.
    pub hits: u64,
    /// `hits / reads`.
    pub hit_rate: f64,
    /// Bytes read by kernels.
    pub read_bytes: u64,
    /// Of those, bytes found on chip.
    pub hit_bytes: u64,
    /// `hit_bytes / read_bytes`.
    pub byte_hit_rate: f64,
    /// Reads of objects too large to hold, streamed from off-chip memory.
    pub streamed_reads: u64,
}

/// One unit pool's use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitSummary {
    /// Kernel classes it serves.
    pub classes: Vec<&'static str>,
    /// Units in it.
    pub units: u32,
    /// Cycles it was busy.
    pub busy_cycles: u64,
    /// `busy_cycles / total_cycles`.
    pub utilisation: f64,
}

/// Totals of one kernel kind or class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KernelSummary {
    /// Kernels.
    pub kernels: u64,
    /// Cycles they kept their units busy.
    pub busy_cycles: u64,
    /// Words produced.
    pub words: u64,
    /// Modular multiplications.
    pub mod_mults: u64,
    /// Modular additions.
    pub mod_adds: u64,
}

impl KernelSummary {
    fn add(&mut self, k: &KernelRecord<'_>) {
        self.kernels += 1;
        self.busy_cycles = self.busy_cycles.saturating_add(k.busy);
        self.words = self.words.saturating_add(k.words);
        self.mod_mults = self.mod_mults.saturating_add(k.mod_mults);
        self.mod_adds = self.mod_adds.saturating_add(k.mod_adds);
    }
}

/// Totals of a set of events (one operation kind, or one scope).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Events.
    pub events: u64,
    /// Kernels they lowered to.
    pub kernels: u64,
    /// Cycles by which they advanced the schedule (these add up to the total).
    pub cycles: u64,
    /// The same in seconds.
    pub seconds: f64,
    /// Sum of their measured wall times, in seconds (traces with wall times only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<f64>,
    /// Modular multiplications.
    pub mod_mults: u64,
    /// Modular additions.
    pub mod_adds: u64,
    /// Off-chip bytes read for them.
    pub offchip_read_bytes: u64,
    /// Off-chip bytes written for them.
    pub offchip_write_bytes: u64,
    /// Their off-chip bytes per second of their cycles, in GB/s (0 when they took no time).
    pub achieved_gb_per_s: f64,
    /// Modular operations per off-chip byte (`null` when they moved nothing).
    pub arithmetic_intensity_mod_ops_per_byte: Option<f64>,
    #[serde(skip)]
    wall_ns: u64,
    #[serde(skip)]
    timed: bool,
}

impl Stats {
    fn add(&mut self, e: &EventRecord<'_>) {
        self.events += 1;
        self.kernels += e.kernels;
        self.cycles = self.cycles.saturating_add(e.cycles);
        self.mod_mults = self.mod_mults.saturating_add(e.mod_mults);
        self.mod_adds = self.mod_adds.saturating_add(e.mod_adds);
        self.offchip_read_bytes = self.offchip_read_bytes.saturating_add(e.offchip_read);
        self.offchip_write_bytes = self.offchip_write_bytes.saturating_add(e.offchip_write);
        if let Some(w) = e.wall_ns {
            self.timed = true;
            self.wall_ns = self.wall_ns.saturating_add(w);
        }
    }

    fn finish(&mut self, cycles_per_second: f64) {
        self.seconds = self.cycles as f64 / cycles_per_second;
        self.measured_seconds = self.timed.then(|| self.wall_ns as f64 / 1e9);
        let bytes = self
            .offchip_read_bytes
            .saturating_add(self.offchip_write_bytes);
        self.achieved_gb_per_s = gb_per_s(bytes, self.seconds);
        self.arithmetic_intensity_mod_ops_per_byte =
            intensity(self.mod_mults.saturating_add(self.mod_adds), bytes);
    }
}

fn gb_per_s(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes as f64 / seconds / 1e9
    } else {
        0.0
    }
}

fn intensity(ops: u64, bytes: u64) -> Option<f64> {
    (bytes > 0).then(|| ops as f64 / bytes as f64)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b > 0 {
        a as f64 / b as f64
    } else {
        0.0
    }
}

/// A replay's results. Field order is the JSON's key order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `replay of a real trace` or `replay of a symbolic trace`.
    pub mode: &'static str,
    /// The machine model.
    pub machine: MachineSummary,
    /// The trace.
    pub trace: TraceSummary,
    /// How the replay ran.
    pub simulation: SimulationSummary,
    /// Cycles of the whole replay.
    pub total_cycles: u64,
    /// The same in seconds at the model's clock.
    pub total_seconds: f64,
    /// Sum of the trace's measured wall times in seconds (traces with wall times only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<f64>,
    /// Modular multiplications.
    pub mod_mults: u64,
    /// Modular additions.
    pub mod_adds: u64,
    /// Off-chip bytes per data class, every class listed (`ciphertext`, `key_relin`,
    /// `key_galois`, `plaintext_weight`, `plaintext_embedding`, ..., `twiddle`, `temporary`).
    pub offchip_bytes_by_class: BTreeMap<&'static str, ReadWrite>,
    /// The off-chip link overall, with achieved bandwidth and arithmetic intensity.
    pub offchip: LinkSummary,
    /// The host link (all zero when nothing crossed it).
    pub host_link: LinkSummary,
    /// Host-link bytes per data class (classes that crossed it).
    pub host_bytes_by_class: BTreeMap<&'static str, ReadWrite>,
    /// On-chip memory.
    pub onchip: OnChipSummary,
    /// Unit pools by name.
    pub units: BTreeMap<String, UnitSummary>,
    /// Per kernel kind.
    pub by_kernel: BTreeMap<&'static str, KernelSummary>,
    /// Per kernel class (unit group).
    pub by_kernel_class: BTreeMap<&'static str, KernelSummary>,
    /// Per operation kind.
    pub by_op: BTreeMap<&'static str, Stats>,
    /// Per full scope path (`(top level)` for events outside any scope).
    pub by_scope: BTreeMap<String, Stats>,
    /// Per first scope segment (`dlrm`, `bootstrap`, ...).
    pub by_top_scope: BTreeMap<String, Stats>,
    /// Remarks about the replay a reader should know (word-size mismatch, streaming, ...).
    pub notes: Vec<String>,
}

impl Report {
    /// The report as pretty-printed JSON (deterministic: ordered maps, fixed field order).
    ///
    /// # Errors
    /// [`Error::Json`] if serialisation fails (it does not for finite numbers).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Json {
            what: "report",
            message: e.to_string(),
        })
    }

    /// The report as CSV: one row per operation kind, scope, top-level scope, kernel kind,
    /// unit pool and data class, plus a total row; every row names the mode and machine.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "mode,machine,section,name,events,kernels,cycles,seconds,measured_seconds,\
             mod_mults,mod_adds,offchip_read_bytes,offchip_write_bytes,achieved_gb_per_s,\
             arithmetic_intensity_mod_ops_per_byte,utilisation\n",
        );
        let mut row = |section: &str, name: &str, cells: [String; 12]| {
            let mut fields = vec![
                csv_field(self.mode),
                csv_field(&self.machine.name),
                csv_field(section),
                csv_field(name),
            ];
            fields.extend(cells);
            out.push_str(&fields.join(","));
            out.push('\n');
        };
        let stats_cells = |s: &Stats| -> [String; 12] {
            [
                s.events.to_string(),
                s.kernels.to_string(),
                s.cycles.to_string(),
                num(s.seconds),
                s.measured_seconds.map(num).unwrap_or_default(),
                s.mod_mults.to_string(),
                s.mod_adds.to_string(),
                s.offchip_read_bytes.to_string(),
                s.offchip_write_bytes.to_string(),
                num(s.achieved_gb_per_s),
                s.arithmetic_intensity_mod_ops_per_byte
                    .map(num)
                    .unwrap_or_default(),
                String::new(),
            ]
        };
        row(
            "total",
            "",
            [
                self.trace.events.to_string(),
                self.simulation.kernels.to_string(),
                self.total_cycles.to_string(),
                num(self.total_seconds),
                self.measured_seconds.map(num).unwrap_or_default(),
                self.mod_mults.to_string(),
                self.mod_adds.to_string(),
                self.offchip.read_bytes.to_string(),
                self.offchip.write_bytes.to_string(),
                num(self.offchip.achieved_gb_per_s),
                self.offchip
                    .arithmetic_intensity_mod_ops_per_byte
                    .map(num)
                    .unwrap_or_default(),
                num(self.offchip.utilisation),
            ],
        );
        for (name, s) in &self.by_op {
            row("op", name, stats_cells(s));
        }
        for (name, s) in &self.by_scope {
            row("scope", name, stats_cells(s));
        }
        for (name, s) in &self.by_top_scope {
            row("top_scope", name, stats_cells(s));
        }
        for (name, k) in &self.by_kernel {
            let mut c: [String; 12] = Default::default();
            c[1] = k.kernels.to_string();
            c[2] = k.busy_cycles.to_string();
            c[5] = k.mod_mults.to_string();
            c[6] = k.mod_adds.to_string();
            row("kernel", name, c);
        }
        for (name, u) in &self.units {
            let mut c: [String; 12] = Default::default();
            c[2] = u.busy_cycles.to_string();
            c[11] = num(u.utilisation);
            row("unit", name, c);
        }
        for (name, rw) in &self.offchip_bytes_by_class {
            let mut c: [String; 12] = Default::default();
            c[7] = rw.read.to_string();
            c[8] = rw.write.to_string();
            row("offchip_class", name, c);
        }
        out
    }
}

/// A number as CSV text (shortest round-trip form).
fn num(x: f64) -> String {
    format!("{x}")
}

/// Quotes a CSV field when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Aggregates the engine's records into a [`Report`].
#[derive(Debug, Default)]
pub struct ReportBuilder {
    machine: Option<MachineSummary>,
    trace: Option<TraceSummary>,
    mode: Option<TraceMode>,
    policy: Option<ReplacementPolicy>,
    lowering: LoweringOptions,
    word_bytes: u64,
    clock_ghz: f64,
    pools: Vec<(String, Vec<&'static str>, u32)>,
    machine_word_bits: u32,
    by_kind: BTreeMap<KernelKind, KernelSummary>,
    by_class: BTreeMap<KernelClass, KernelSummary>,
    by_op: BTreeMap<&'static str, Stats>,
    by_scope: BTreeMap<String, Stats>,
    by_top_scope: BTreeMap<String, Stats>,
    total: Stats,
    offchip: [ReadWrite; TrafficClass::ALL.len()],
    host: [ReadWrite; TrafficClass::ALL.len()],
    onchip: OnChipSummary,
    summary: Option<RunSummary>,
}

/// Adds `e` to `map[key]`, allocating the key only the first time it is seen.
fn add_to(map: &mut BTreeMap<String, Stats>, key: &str, e: &EventRecord<'_>) {
    match map.get_mut(key) {
        Some(s) => s.add(e),
        None => {
            let mut s = Stats::default();
            s.add(e);
            map.insert(key.to_string(), s);
        }
    }
}

impl ReportBuilder {
    /// An empty builder (attach it to a run, then call [`finish`](Self::finish)).
    pub fn new() -> Self {
        Self::default()
    }

    /// The report of the run observed.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`] if the builder did not observe a complete run.
    pub fn finish(mut self) -> Result<Report, Error> {
        let (Some(machine), Some(mut trace), Some(mode), Some(policy), Some(summary)) = (
            self.machine.take(),
            self.trace.take(),
            self.mode,
            self.policy,
            self.summary.take(),
        ) else {
            return Err(Error::InvalidOptions {
                field: "report builder",
                found: 0,
                expected: "a builder attached to a finished run",
            });
        };
        let cps = self.clock_ghz * 1e9;
        let total_cycles = summary.total_cycles;
        let total_seconds = total_cycles as f64 / cps;
        trace.events = summary.events;
        let mut by_op = std::mem::take(&mut self.by_op);
        let mut by_scope = std::mem::take(&mut self.by_scope);
        let mut by_top_scope = std::mem::take(&mut self.by_top_scope);
        for s in by_op
            .values_mut()
            .chain(by_scope.values_mut())
            .chain(by_top_scope.values_mut())
        {
            s.finish(cps);
        }
        self.total.finish(cps);
        let classes = |a: &[ReadWrite; TrafficClass::ALL.len()]| {
            TrafficClass::ALL
                .iter()
                .zip(a)
                .map(|(c, rw)| (c.name(), *rw))
                .collect::<BTreeMap<_, _>>()
        };
        let offchip_bytes_by_class = classes(&self.offchip);
        let mut host_bytes_by_class = classes(&self.host);
        host_bytes_by_class.retain(|_, rw| rw.read > 0 || rw.write > 0);
        let ops = self.total.mod_mults.saturating_add(self.total.mod_adds);
        let link = |by: &BTreeMap<&'static str, ReadWrite>, busy: u64| {
            let read: u64 = by.values().map(|r| r.read).sum();
            let write: u64 = by.values().map(|r| r.write).sum();
            LinkSummary {
                read_bytes: read,
                write_bytes: write,
                busy_cycles: busy,
                utilisation: ratio(busy, total_cycles),
                achieved_gb_per_s: gb_per_s(read.saturating_add(write), total_seconds),
                arithmetic_intensity_mod_ops_per_byte: intensity(ops, read.saturating_add(write)),
            }
        };
        let offchip = link(&offchip_bytes_by_class, summary.offchip_busy_cycles);
        let host_link = link(&host_bytes_by_class, summary.host_busy_cycles);
        let mut onchip = self.onchip.clone();
        onchip.peak_live_bytes = summary.onchip_peak_live_bytes;
        onchip.hit_rate = ratio(onchip.hits, onchip.reads);
        onchip.byte_hit_rate = ratio(onchip.hit_bytes, onchip.read_bytes);
        let units = self
            .pools
            .iter()
            .enumerate()
            .map(|(i, (name, classes, units))| {
                let busy = summary.pool_busy_cycles.get(i).copied().unwrap_or(0);
                (
                    name.clone(),
                    UnitSummary {
                        classes: classes.clone(),
                        units: *units,
                        busy_cycles: busy,
                        utilisation: ratio(busy, total_cycles),
                    },
                )
            })
            .collect();
        let mut notes = Vec::new();
        let trace_bits = u64::from(trace.word_bytes) * 8;
        if trace_bits != u64::from(self.machine_word_bits) {
            notes.push(format!(
                "the trace stores {trace_bits}-bit words and the machine's datapath is {}-bit; \
                 object sizes use {} bytes per word (the lowering's word_bytes option)",
                self.machine_word_bits, self.word_bytes
            ));
        }
        if onchip.streamed_reads > 0 {
            notes.push(format!(
                "{} object reads did not fit on chip and were streamed from off-chip memory",
                onchip.streamed_reads
            ));
        }
        if host_link.read_bytes > 0 || host_link.write_bytes > 0 {
            notes.push("data exceeded off-chip capacity and crossed the host link".into());
        }
        Ok(Report {
            mode: mode_label(mode),
            machine,
            trace,
            simulation: SimulationSummary {
                replacement_policy: match policy {
                    ReplacementPolicy::Lru => "lru",
                    ReplacementPolicy::Belady => "belady",
                },
                lowering: self.lowering,
                word_bytes: self.word_bytes,
                kernels: summary.kernels,
                fused_rescales: summary.fused_rescales,
                preloaded_bytes: summary.preloaded_bytes,
            },
            total_cycles,
            total_seconds,
            measured_seconds: self.total.measured_seconds,
            mod_mults: self.total.mod_mults,
            mod_adds: self.total.mod_adds,
            offchip_bytes_by_class,
            offchip,
            host_link,
            host_bytes_by_class,
            onchip,
            units,
            by_kernel: self.by_kind.iter().map(|(k, v)| (k.name(), *v)).collect(),
            by_kernel_class: self
                .by_class
                .iter()
                .map(|(k, v)| (k.field_name(), *v))
                .collect(),
            by_op,
            by_scope,
            by_top_scope,
            notes,
        })
    }
}

impl Observer for ReportBuilder {
    fn begin(&mut self, run: &RunInfo<'_>) {
        let m = run.model;
        self.machine = Some(MachineSummary {
            name: m.name.clone(),
            kind: m.kind.as_str(),
            clock_ghz: m.clock_ghz,
            word_bits: m.word_bits,
            onchip_capacity_bytes: m.onchip.capacity_bytes,
            offchip_bandwidth_gb_per_s: m.offchip.bandwidth_gb_per_s,
            provenance: m.provenance.source.clone(),
        });
        let h = run.header;
        self.mode = Some(h.mode);
        self.trace = Some(TraceSummary {
            mode: match h.mode {
                TraceMode::Real => "real",
                TraceMode::Symbolic => "symbolic",
            },
            created_by: h.created_by.clone(),
            params_fingerprint: h.params_fingerprint.clone(),
            log_n: h.params.log_n,
            q_limbs: h.params.q_bits.len(),
            p_limbs: h.params.p_bits.len(),
            dnum: h.params.dnum,
            word_bytes: h.params.word_bytes,
            events: 0,
        });
        self.policy = Some(run.policy);
        self.lowering = *run.lowering;
        self.word_bytes = run.word_bytes;
        self.clock_ghz = m.clock_ghz;
        self.machine_word_bits = m.word_bits;
        self.pools = run
            .pools
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.classes.iter().map(|c| c.field_name()).collect(),
                    p.units,
                )
            })
            .collect();
        self.onchip.capacity_bytes = m.onchip.capacity_bytes;
    }

    fn kernel(&mut self, k: &KernelRecord<'_>) {
        self.by_kind.entry(k.kind).or_default().add(k);
        self.by_class.entry(k.kind.class()).or_default().add(k);
    }

    fn transfer(&mut self, t: &TransferRecord) {
        let table = match t.link {
            Link::OffChip => &mut self.offchip,
            Link::Host => &mut self.host,
        };
        if let Some(rw) = table.get_mut(t.class.index()) {
            match t.direction {
                Direction::Read => rw.read = rw.read.saturating_add(t.bytes),
                Direction::Write => rw.write = rw.write.saturating_add(t.bytes),
            }
        }
    }

    fn access(&mut self, a: &AccessRecord) {
        let o = &mut self.onchip;
        o.reads += 1;
        o.read_bytes = o.read_bytes.saturating_add(a.bytes);
        o.hit_bytes = o.hit_bytes.saturating_add(a.hit_bytes);
        if a.hit_bytes >= a.bytes {
            o.hits += 1;
        }
        if a.streamed {
            o.streamed_reads += 1;
        }
    }

    fn event(&mut self, e: &EventRecord<'_>) {
        self.total.add(e);
        self.by_op.entry(e.op.name()).or_default().add(e);
        let scope = if e.scope.is_empty() {
            TOP_LEVEL_SCOPE
        } else {
            e.scope
        };
        add_to(&mut self.by_scope, scope, e);
        let top = scope.split('/').next().unwrap_or(scope);
        add_to(&mut self.by_top_scope, top, e);
    }

    fn end(&mut self, summary: &RunSummary) {
        self.summary = Some(summary.clone());
    }
}

/// Replays `source` on `model` and returns its report.
///
/// # Errors
/// As [`simulate`].
pub fn simulate_report(
    source: &dyn EventSource,
    model: &helrm_hwmodels::MachineModel,
    options: &SimOptions,
) -> Result<Report, Error> {
    simulate_report_with(source, model, options, &mut [])
}

/// Replays `source` on `model` with extra observers (a [`Timeline`], say) and returns its
/// report.
///
/// # Errors
/// As [`simulate`].
pub fn simulate_report_with(
    source: &dyn EventSource,
    model: &helrm_hwmodels::MachineModel,
    options: &SimOptions,
    extra: &mut [&mut dyn Observer],
) -> Result<Report, Error> {
    let mut builder = ReportBuilder::new();
    {
        let mut observers: Vec<&mut dyn Observer> = Vec::with_capacity(extra.len() + 1);
        observers.push(&mut builder);
        for o in extra.iter_mut() {
            observers.push(&mut **o);
        }
        simulate(source, model, options, &mut observers)?;
    }
    builder.finish()
}

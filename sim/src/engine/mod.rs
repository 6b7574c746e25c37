//! The cycle-level engine: replays a trace's kernels on one machine model.
//!
//! [`simulate`] reads a trace twice from an [`EventSource`]: a pre-pass records, for every
//! object an event touches, the index of the next event that touches it ([`NextUses`]; the
//! only per-trace memory the engine keeps, 8 bytes per distinct object per event); the replay
//! then streams the events again, lowers each one ([`crate::lower`]) and schedules its kernels.
//!
//! The machine: one timeline per unit pool (groups sharing a `pool` share it), an on-chip
//! memory of finite capacity managed at object granularity with LRU or Belady replacement
//! ([`crate::memory`]), an off-chip link with bandwidth and latency, and (when the model has
//! one) a host link for data that does not fit off-chip capacity. Kernels are taken in program
//! order, like a scoreboard: a kernel starts when its inputs are on chip, its outputs have
//! room, and its pool is free. Transfers are issued in program order on their link as early as
//! their data and space allow, so the fetches of later kernels overlap earlier kernels
//! (prefetch). Every decision depends only on program order, never on hash order or
//! wall-clock time: the same trace and model give the same cycles.
//!
//! All statistics leave the engine through [`Observer`]s; `docs/cost-model.md` ("Engine")
//! describes the model in full.
//!
//! # Example
//! ```
//! use helrm_core::trace::{DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent,
//!                         TraceHeader, TraceMode};
//! use helrm_sim::engine::{simulate, InMemoryTrace, SimOptions};
//!
//! let params = ParamsSummary { log_n: 12, q_bits: vec![50, 40, 40], p_bits: vec![60],
//!                              dnum: 3, word_bytes: 8 };
//! let header = TraceHeader::new("toy", params, TraceMode::Symbolic, "doc");
//! let ct = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, 196_608, 2);
//! let add = TraceEvent::new(OpKind::Add, 12, 2)
//!     .with_inputs(vec![ct(1), ct(2)])
//!     .with_outputs(vec![ct(3)]);
//! let trace = InMemoryTrace { header, events: vec![add] };
//! let ark = helrm_hwmodels::builtin("ark")?;
//! let summary = simulate(&trace, &ark, &SimOptions::default(), &mut [])?;
//! assert!(summary.total_cycles > 0);
//! assert_eq!(summary.kernels, 1);
//! # Ok::<(), helrm_sim::Error>(())
//! ```

mod observer;
mod source;

use helrm_core::trace::TraceEvent;
use helrm_hwmodels::{KernelClass, MachineModel, ReplacementPolicy, Throughput};

pub use observer::{
    AccessRecord, Direction, EventRecord, KernelRecord, Link, Observer, PoolInfo, RunInfo,
    RunSummary, TransferRecord,
};
pub use source::{EventSource, InMemoryTrace, TraceFile};

use crate::error::Error;
use crate::lower::{class_index, Access, Kernel, Lowered, Lowerer, LoweringOptions, ObjectKey};
use crate::memory::{FastMap, OffChip, OnChip, Resident, DEAD};

/// The next-use value of an object no later event touches.
pub const NEVER: u64 = u64::MAX;

/// Bits of a Belady position given to the kernel index within an event group.
const POS_SHIFT: u32 = 20;
/// Belady rank of a live object with no later use (evicted before any object with one).
const NEVER_POS: u64 = u64::MAX - 1;

/// How a run differs from what the machine model says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// On-chip replacement policy; `None` uses the model's `onchip.replacement_policy`.
    pub policy: Option<ReplacementPolicy>,
    /// Lowering options; `None` takes them from the model's `features`.
    pub lowering: Option<LoweringOptions>,
}

/// For every event and every distinct object it touches (inputs, then outputs, first
/// occurrence order), the index of the next event touching that object, or [`NEVER`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextUses {
    next: Vec<u64>,
    events: u64,
}

impl NextUses {
    /// Runs the pre-pass over `source`.
    ///
    /// # Errors
    /// The trace's read errors.
    pub fn compute(source: &dyn EventSource) -> Result<Self, Error> {
        // Lookups only: the map's order never reaches the schedule.
        let mut last: FastMap<u64, usize> = FastMap::default();
        let mut next: Vec<u64> = Vec::new();
        let mut ids = Vec::new();
        let mut events = 0u64;
        source.for_each_event(&mut |ev| {
            distinct_ids(ev, &mut ids);
            for &id in &ids {
                if let Some(p) = last.insert(id, next.len()) {
                    if let Some(slot) = next.get_mut(p) {
                        *slot = events;
                    }
                }
                next.push(NEVER);
            }
            events += 1;
            Ok(())
        })?;
        Ok(NextUses { next, events })
    }

    /// Events in the trace.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Entries stored (one per distinct object per event).
    pub fn len(&self) -> usize {
        self.next.len()
    }

    /// True if the trace touches no object.
    pub fn is_empty(&self) -> bool {
        self.next.is_empty()
    }

    fn get(&self, i: usize) -> u64 {
        self.next.get(i).copied().unwrap_or(NEVER)
    }
}

/// The distinct object ids of `ev`, inputs then outputs, in first-occurrence order.
fn distinct_ids(ev: &TraceEvent, out: &mut Vec<u64>) {
    out.clear();
    for o in ev.inputs.iter().chain(&ev.outputs) {
        if !out.contains(&o.id.0) {
            out.push(o.id.0);
        }
    }
}

/// Replays `source` on `model`, reporting to `observers`.
///
/// # Errors
/// [`Error::Trace`] if the trace cannot be read, [`Error::InvalidModel`] for a model value the
/// engine cannot use (zero bandwidth, no throughput), [`Error::InvalidOptions`] for bad
/// lowering options.
pub fn simulate(
    source: &dyn EventSource,
    model: &MachineModel,
    options: &SimOptions,
    observers: &mut [&mut dyn Observer],
) -> Result<RunSummary, Error> {
    let header = source.header().clone();
    let lowering = options
        .lowering
        .unwrap_or_else(|| LoweringOptions::from_features(&model.features));
    let lowerer = Lowerer::new(&header.params, lowering)?;
    let policy = options.policy.unwrap_or(model.onchip.replacement_policy);
    let mut engine = Engine::new(model, policy, observers)?;
    let next = NextUses::compute(source)?;
    {
        let info = RunInfo {
            header: &header,
            model,
            policy,
            lowering: &lowering,
            word_bytes: lowerer.word_bytes(),
            pools: &engine.pool_info,
        };
        for o in engine.obs.iter_mut() {
            o.begin(&info);
        }
    }
    let mut replay = Replay {
        lowerer: &lowerer,
        next: &next,
        cursor: 0,
        index: 0,
        pending: None,
        lowered: Lowered::default(),
        ids: Vec::new(),
        next_ids: Vec::new(),
        objs: Vec::new(),
    };
    source.for_each_event(&mut |ev| {
        replay.push(&mut engine, ev);
        Ok(())
    })?;
    replay.flush(&mut engine);
    Ok(engine.finish(replay.index))
}

/// The replay loop's state: one event of look-ahead (for rescale fusion) and the cursor into
/// the pre-pass.
struct Replay<'a> {
    lowerer: &'a Lowerer,
    next: &'a NextUses,
    cursor: usize,
    index: u64,
    pending: Option<TraceEvent>,
    lowered: Lowered,
    ids: Vec<u64>,
    next_ids: Vec<u64>,
    objs: Vec<(u64, u64)>,
}

/// `*dst = src.clone()`, reusing `dst`'s buffers (the replay keeps one event of look-ahead
/// and must not allocate per event). Every field is named, so a new field fails to compile
/// here rather than being silently dropped.
fn copy_event(dst: &mut TraceEvent, src: &TraceEvent) {
    let TraceEvent {
        seq,
        op,
        scope,
        log_n,
        n,
        level,
        limbs,
        special_primes,
        dnum,
        scale_log2,
        rotations,
        galois_elements,
        inputs,
        outputs,
        mod_ups,
        mod_downs,
        terms,
        extended_basis,
        slots,
        wall_ns,
    } = src;
    dst.seq = *seq;
    dst.op = *op;
    dst.scope.clone_from(scope);
    dst.log_n = *log_n;
    dst.n = *n;
    dst.level = *level;
    dst.limbs = *limbs;
    dst.special_primes = *special_primes;
    dst.dnum = *dnum;
    dst.scale_log2 = *scale_log2;
    dst.rotations.clone_from(rotations);
    dst.galois_elements.clone_from(galois_elements);
    dst.inputs.clone_from(inputs);
    dst.outputs.clone_from(outputs);
    dst.mod_ups = *mod_ups;
    dst.mod_downs = *mod_downs;
    dst.terms.clone_from(terms);
    dst.extended_basis = *extended_basis;
    dst.slots = *slots;
    dst.wall_ns = *wall_ns;
}

impl Replay<'_> {
    fn push(&mut self, engine: &mut Engine<'_, '_>, ev: &TraceEvent) {
        if let Some(prev) = self.pending.take() {
            distinct_ids(&prev, &mut self.ids);
            let n_prev = self.ids.len();
            if self.fusable(&prev, ev, n_prev) {
                self.run(engine, &[&prev, ev]);
                return;
            }
            self.run(engine, &[&prev]);
            self.pending = Some(prev);
        }
        match &mut self.pending {
            Some(p) => copy_event(p, ev),
            None => self.pending = Some(ev.clone()),
        }
    }

    fn flush(&mut self, engine: &mut Engine<'_, '_>) {
        if let Some(prev) = self.pending.take() {
            self.run(engine, &[&prev]);
        }
    }

    /// Whether `next` (a rescale) folds into `prev`: the lowering allows it, and nothing
    /// after `next` uses `prev`'s unrescaled result.
    fn fusable(&mut self, prev: &TraceEvent, next: &TraceEvent, n_prev: usize) -> bool {
        if !self.lowerer.can_fuse(prev, next) {
            return false;
        }
        let Some(out) = prev.outputs.first().map(|o| o.id.0) else {
            return false;
        };
        let mut ids = std::mem::take(&mut self.next_ids);
        distinct_ids(next, &mut ids);
        let after_next = ids
            .iter()
            .position(|&id| id == out)
            .map_or(0, |p| self.next.get(self.cursor + n_prev + p));
        self.next_ids = ids;
        let in_prev = self
            .ids
            .iter()
            .position(|&id| id == out)
            .map_or(NEVER, |p| self.next.get(self.cursor + p));
        in_prev == self.index + 1 && after_next == NEVER
    }

    fn run(&mut self, engine: &mut Engine<'_, '_>, group: &[&TraceEvent]) {
        self.objs.clear();
        for ev in group {
            distinct_ids(ev, &mut self.ids);
            for &id in &self.ids {
                let next = self.next.get(self.cursor);
                self.cursor += 1;
                match self.objs.iter_mut().find(|(i, _)| *i == id) {
                    Some(entry) => entry.1 = next,
                    None => self.objs.push((id, next)),
                }
            }
        }
        let fused = group.get(1).copied();
        if let Some(first) = group.first() {
            self.lowerer.lower(first, fused, &mut self.lowered);
        }
        engine.run_group(group, self.index, &self.lowered, &self.objs);
        self.index += group.len() as u64;
    }
}

/// A link's timeline.
#[derive(Debug, Clone)]
struct Channel {
    bytes_per_cycle: f64,
    latency: u64,
    free_at: u64,
    busy: u64,
}

impl Channel {
    /// Occupies the link for `bytes` from the first cycle ≥ `earliest` it is free; returns
    /// (start, end of occupancy, arrival = end + latency).
    fn transfer(&mut self, earliest: u64, bytes: u64) -> (u64, u64, u64) {
        let start = earliest.max(self.free_at);
        let dur = ceil_cycles(bytes as f64 / self.bytes_per_cycle);
        self.free_at = start.saturating_add(dur);
        self.busy = self.busy.saturating_add(dur);
        (
            start,
            self.free_at,
            self.free_at.saturating_add(self.latency),
        )
    }
}

/// Rounds a non-negative cycle count up (`as` saturates for huge values).
fn ceil_cycles(x: f64) -> u64 {
    if x > 0.0 {
        x.ceil() as u64
    } else {
        0
    }
}

#[derive(Debug, Clone, Copy)]
struct ClassTiming {
    pool: usize,
    rate: Throughput,
    latency: u64,
    pipelined: bool,
}

/// Per-group buffers, kept between groups to avoid allocation.
#[derive(Debug, Default)]
struct GroupScratch {
    flat: Vec<(Access, bool)>,
    bounds: Vec<(usize, usize, usize)>,
    next_in_group: Vec<Option<usize>>,
    /// Lookups only (never iterated).
    seen: FastMap<ObjectKey, usize>,
    pinned: Vec<ObjectKey>,
    streamed: Vec<Access>,
}

#[derive(Debug, Clone, Copy, Default)]
struct EventAcc {
    kernels: u64,
    mod_mults: u64,
    mod_adds: u64,
    offchip_read: u64,
    offchip_write: u64,
    host_read: u64,
    host_write: u64,
}

struct Engine<'r, 'o> {
    timing: Vec<ClassTiming>,
    pool_info: Vec<PoolInfo>,
    pool_free: Vec<u64>,
    pool_busy: Vec<u64>,
    onchip_bytes_per_cycle: f64,
    overhead_cycles: f64,
    offchip: Channel,
    host_in: Option<Channel>,
    host_out: Option<Channel>,
    chip: OnChip,
    store: OffChip,
    policy: ReplacementPolicy,
    tick: u64,
    makespan: u64,
    temp_base: u64,
    kernels: u64,
    fused: u64,
    preloaded: u64,
    victims: Vec<ObjectKey>,
    off_victims: Vec<(ObjectKey, crate::memory::OffChipCopy)>,
    scratch: GroupScratch,
    acc: [EventAcc; 2],
    slot: usize,
    seq: u64,
    obs: &'r mut [&'o mut dyn Observer],
}

fn positive(machine: &MachineModel, field: &str, v: f64) -> Result<f64, Error> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::InvalidModel {
            machine: machine.name.clone(),
            field: field.to_string(),
            found: v.to_string(),
            expected: "a finite number above 0",
        })
    }
}

fn non_negative(machine: &MachineModel, field: &str, v: f64) -> Result<f64, Error> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Error::InvalidModel {
            machine: machine.name.clone(),
            field: field.to_string(),
            found: v.to_string(),
            expected: "a finite number of at least 0",
        })
    }
}

impl<'r, 'o> Engine<'r, 'o> {
    fn new(
        model: &MachineModel,
        policy: ReplacementPolicy,
        obs: &'r mut [&'o mut dyn Observer],
    ) -> Result<Self, Error> {
        let clock = positive(model, "clock_ghz", model.clock_ghz)?;
        let mut pool_info: Vec<PoolInfo> = Vec::new();
        let mut timing = Vec::with_capacity(KernelClass::ALL.len());
        for class in KernelClass::ALL {
            let group = model.units.get(class);
            let field = format!("units.{}", class.field_name());
            let rate = model
                .effective_throughput(class)
                .ok_or_else(|| Error::InvalidModel {
                    machine: model.name.clone(),
                    field: field.clone(),
                    found: "no single throughput".into(),
                    expected: "exactly one of throughput_words_per_cycle and \
                               throughput_mod_mults_per_cycle",
                })?;
            positive(
                model,
                &format!("{field} (effective throughput)"),
                rate.value(),
            )?;
            let name = group
                .pool
                .clone()
                .unwrap_or_else(|| class.field_name().to_string());
            let pool = match pool_info.iter().position(|p| p.name == name) {
                Some(p) => p,
                None => {
                    pool_info.push(PoolInfo {
                        name,
                        classes: Vec::new(),
                        units: group.count,
                    });
                    pool_info.len() - 1
                }
            };
            if let Some(p) = pool_info.get_mut(pool) {
                p.classes.push(class);
            }
            timing.push(ClassTiming {
                pool,
                rate,
                latency: group.latency_cycles,
                pipelined: group.pipelined,
            });
        }
        let onchip_bw = positive(
            model,
            "onchip.bandwidth_gb_per_s",
            model.onchip.bandwidth_gb_per_s,
        )?;
        positive(
            model,
            "offchip.bandwidth_gb_per_s",
            model.offchip.bandwidth_gb_per_s,
        )?;
        let offchip_bpc = positive(
            model,
            "offchip.bandwidth_gb_per_s (effective)",
            model.effective_offchip_bytes_per_cycle(),
        )?;
        let offchip_latency = non_negative(model, "offchip.latency_ns", model.offchip.latency_ns)?;
        let overhead = non_negative(
            model,
            "efficiency.kernel_launch_overhead_ns",
            model.kernel_launch_overhead_ns(),
        )?;
        let host = match &model.host_link {
            Some(h) => {
                let bw = positive(model, "host_link.bandwidth_gb_per_s", h.bandwidth_gb_per_s)?;
                let lat = non_negative(model, "host_link.latency_ns", h.latency_ns)?;
                Some(Channel {
                    bytes_per_cycle: bw / clock,
                    latency: ceil_cycles(model.ns_to_cycles(lat)),
                    free_at: 0,
                    busy: 0,
                })
            }
            None => None,
        };
        // Without a host link, off-chip memory is the last level: its capacity is not enforced.
        let offchip_capacity = if host.is_some() {
            model.offchip.capacity_bytes
        } else {
            u64::MAX
        };
        let pools = pool_info.len();
        Ok(Engine {
            timing,
            pool_info,
            pool_free: vec![0; pools],
            pool_busy: vec![0; pools],
            onchip_bytes_per_cycle: onchip_bw / clock,
            overhead_cycles: model.ns_to_cycles(overhead),
            offchip: Channel {
                bytes_per_cycle: offchip_bpc,
                latency: ceil_cycles(model.ns_to_cycles(offchip_latency)),
                free_at: 0,
                busy: 0,
            },
            host_in: host.clone(),
            host_out: host,
            chip: OnChip::new(model.onchip.capacity_bytes, policy),
            store: OffChip::new(offchip_capacity),
            policy,
            tick: 0,
            makespan: 0,
            temp_base: 0,
            kernels: 0,
            fused: 0,
            preloaded: 0,
            victims: Vec::new(),
            off_victims: Vec::new(),
            scratch: GroupScratch::default(),
            acc: [EventAcc::default(); 2],
            slot: 0,
            seq: 0,
            obs,
        })
    }

    fn finish(self, events: u64) -> RunSummary {
        let summary = RunSummary {
            total_cycles: self.makespan,
            events,
            kernels: self.kernels,
            pool_busy_cycles: self.pool_busy.clone(),
            offchip_busy_cycles: self.offchip.busy,
            host_busy_cycles: self.host_in.as_ref().map_or(0, |c| c.busy)
                + self.host_out.as_ref().map_or(0, |c| c.busy),
            onchip_peak_live_bytes: self.chip.peak_live(),
            fused_rescales: self.fused,
            preloaded_bytes: self.preloaded,
        };
        for o in self.obs.iter_mut() {
            o.end(&summary);
        }
        summary
    }

    /// Busy cycles of `k` on its unit group: the larger of its compute time and its on-chip
    /// traffic time, plus the per-kernel overhead.
    fn kernel_cycles(&self, k: &Kernel, t: &ClassTiming) -> u64 {
        let compute = t.rate.cycles_for(k.words, k.mod_mults);
        let memory = k.onchip_bytes as f64 / self.onchip_bytes_per_cycle;
        let work = compute.max(memory);
        if work <= 0.0 {
            return ceil_cycles(self.overhead_cycles);
        }
        ceil_cycles(work + self.overhead_cycles)
    }

    fn record(
        &mut self,
        link: Link,
        direction: Direction,
        class: crate::lower::TrafficClass,
        bytes: u64,
        (start, busy_end, end): (u64, u64, u64),
    ) {
        if let Some(acc) = self.acc.get_mut(self.slot) {
            let field = match (link, direction) {
                (Link::OffChip, Direction::Read) => &mut acc.offchip_read,
                (Link::OffChip, Direction::Write) => &mut acc.offchip_write,
                (Link::Host, Direction::Read) => &mut acc.host_read,
                (Link::Host, Direction::Write) => &mut acc.host_write,
            };
            *field = field.saturating_add(bytes);
        }
        self.makespan = self.makespan.max(end);
        let rec = TransferRecord {
            seq: self.seq,
            link,
            direction,
            class,
            bytes,
            start,
            busy_end,
            end,
        };
        for o in self.obs.iter_mut() {
            o.transfer(&rec);
        }
    }

    /// Places a copy of `key` in off-chip memory, moving least recently used copies to the
    /// host when full.
    fn place_offchip(
        &mut self,
        key: ObjectKey,
        bytes: u64,
        class: crate::lower::TrafficClass,
        valid_at: u64,
        in_host: bool,
    ) {
        let mut victims = std::mem::take(&mut self.off_victims);
        let fits = self.store.choose_victims(bytes, &key, &mut victims);
        if !fits {
            // Larger than off-chip memory: it lives in host memory.
            let mut at = valid_at;
            if !in_host {
                if let Some(ch) = self.host_out.as_mut() {
                    let xfer = ch.transfer(valid_at, bytes);
                    let (_, _, done) = xfer;
                    self.record(Link::Host, Direction::Write, class, bytes, xfer);
                    at = done;
                }
            }
            self.store.evict_to_host(&key, at);
            self.off_victims = victims;
            return;
        }
        for (vk, c) in &victims {
            let mut at = c.valid_at;
            if !c.in_host {
                if let Some(ch) = self.host_out.as_mut() {
                    let xfer = ch.transfer(c.valid_at, c.bytes);
                    let (_, _, done) = xfer;
                    self.record(Link::Host, Direction::Write, c.class, c.bytes, xfer);
                    at = done;
                }
            }
            self.store.evict_to_host(vk, at);
        }
        self.off_victims = victims;
        self.store.place(key, bytes, class, valid_at, in_host);
    }

    /// Makes sure `key` has an off-chip copy of at least `bytes`; returns the cycle it is
    /// valid from.
    fn source(&mut self, key: ObjectKey, bytes: u64, class: crate::lower::TrafficClass) -> u64 {
        if let Some(c) = self.store.touch(&key) {
            if c.bytes >= bytes {
                return c.valid_at;
            }
            // A larger slice of an object read before (a key at a higher level, a longer
            // twiddle table): the rest is initial data too.
            self.place_offchip(key, bytes, class, c.valid_at, c.in_host);
            return c.valid_at;
        }
        let host = self.store.in_host(&key);
        if host.is_none() && self.store.is_initial(&key) && self.store.free() >= bytes {
            self.preloaded = self.preloaded.saturating_add(bytes);
            self.store.place(key, bytes, class, 0, true);
            return 0;
        }
        let from = host.unwrap_or(0);
        let done = match self.host_in.as_mut() {
            Some(ch) => {
                let xfer = ch.transfer(from, bytes);
                let (_, _, done) = xfer;
                self.record(Link::Host, Direction::Read, class, bytes, xfer);
                done
            }
            None => from,
        };
        self.place_offchip(key, bytes, class, done, true);
        done
    }

    /// Evicts `self.victims`, writing back dirty live ones; returns the cycle their space is
    /// reusable.
    fn evict_victims(&mut self) -> u64 {
        let victims = std::mem::take(&mut self.victims);
        let mut space = 0;
        for v in &victims {
            if let Some(r) = self.chip.remove(v) {
                let mut t = r.busy_until;
                if r.dirty && r.rank != DEAD {
                    let xfer = self.offchip.transfer(r.ready_at, r.bytes);
                    let (_, occupied, done) = xfer;
                    self.record(Link::OffChip, Direction::Write, r.class, r.bytes, xfer);
                    self.place_offchip(*v, r.bytes, r.class, done, false);
                    t = t.max(occupied);
                }
                space = space.max(t);
            }
        }
        self.victims = victims;
        space
    }

    /// Brings `a` on chip (or streams it); raises the kernel's start and finish bounds.
    fn read(&mut self, a: Access, pinned: &[ObjectKey], start: &mut u64, finish: &mut u64) {
        let resident = self.chip.get(&a.key).copied();
        let have = resident.map_or(0, |r| r.bytes);
        if let Some(r) = resident {
            if r.bytes >= a.bytes {
                *start = (*start).max(r.ready_at);
                self.access(a, a.bytes, false);
                return;
            }
        }
        let need = a.bytes - have;
        let avail = self.source(a.key, a.bytes, a.class);
        let mut victims = std::mem::take(&mut self.victims);
        let fits = self.chip.choose_victims(need, pinned, &mut victims);
        self.victims = victims;
        if !fits {
            // Too large to hold: stream it from off-chip memory while the kernel runs.
            let xfer = self.offchip.transfer(avail, a.bytes);
            let (s, _, done) = xfer;
            self.record(Link::OffChip, Direction::Read, a.class, a.bytes, xfer);
            *start = (*start).max(s.saturating_add(self.offchip.latency));
            *finish = (*finish).max(done);
            self.access(a, 0, true);
            return;
        }
        let space = self.evict_victims();
        let xfer = self.offchip.transfer(avail.max(space), need);
        let (_, _, done) = xfer;
        self.record(Link::OffChip, Direction::Read, a.class, need, xfer);
        match resident {
            Some(_) => self.chip.update(&a.key, |r| {
                r.bytes = a.bytes;
                r.ready_at = r.ready_at.max(done);
                r.busy_until = r.busy_until.max(done);
            }),
            None => self.chip.insert(
                a.key,
                Resident {
                    bytes: a.bytes,
                    class: a.class,
                    ready_at: done,
                    busy_until: done,
                    dirty: false,
                    read_since_write: false,
                    rank: 0,
                },
            ),
        }
        *start = (*start).max(done);
        self.access(a, have, false);
    }

    fn access(&mut self, a: Access, hit_bytes: u64, streamed: bool) {
        let rec = AccessRecord {
            seq: self.seq,
            class: a.class,
            bytes: a.bytes,
            hit_bytes,
            streamed,
        };
        for o in self.obs.iter_mut() {
            o.access(&rec);
        }
    }

    /// Makes room on chip for output `a`; `false` if it cannot be held (it is streamed out).
    fn write_space(&mut self, a: Access, pinned: &[ObjectKey], start: &mut u64) -> bool {
        let resident = self.chip.get(&a.key).copied();
        let have = resident.map_or(0, |r| r.bytes);
        if let Some(r) = resident {
            *start = (*start).max(r.ready_at);
        }
        if a.bytes > have {
            let mut victims = std::mem::take(&mut self.victims);
            let fits = self
                .chip
                .choose_victims(a.bytes - have, pinned, &mut victims);
            self.victims = victims;
            if !fits {
                self.chip.remove(&a.key);
                return false;
            }
            let space = self.evict_victims();
            *start = (*start).max(space);
        }
        match resident {
            Some(_) => self.chip.update(&a.key, |r| r.bytes = a.bytes),
            None => self.chip.insert(
                a.key,
                Resident {
                    bytes: a.bytes,
                    class: a.class,
                    ready_at: 0,
                    busy_until: 0,
                    dirty: true,
                    read_since_write: false,
                    rank: 0,
                },
            ),
        }
        true
    }

    fn global(&self, a: &Access) -> Access {
        let key = match a.key {
            ObjectKey::Temp(t) => ObjectKey::Temp(self.temp_base.saturating_add(t)),
            k => k,
        };
        Access { key, ..*a }
    }

    fn run_group(
        &mut self,
        group: &[&TraceEvent],
        first_index: u64,
        lowered: &Lowered,
        objs: &[(u64, u64)],
    ) {
        let gpos = first_index << POS_SHIFT;
        let beyond = (first_index + group.len() as u64) << POS_SHIFT;
        let group_start = self.makespan;
        self.acc = [EventAcc::default(); 2];
        // Accesses with global keys, per kernel, and each one's next use within the group.
        let kernels = lowered.kernels();
        let mut sc = std::mem::take(&mut self.scratch);
        sc.flat.clear();
        sc.bounds.clear();
        for k in kernels {
            let s = sc.flat.len();
            sc.flat
                .extend(lowered.reads(k).iter().map(|a| (self.global(a), false)));
            let m = sc.flat.len();
            sc.flat
                .extend(lowered.writes(k).iter().map(|a| (self.global(a), true)));
            sc.bounds.push((s, m, sc.flat.len()));
        }
        sc.next_in_group.clear();
        sc.next_in_group.resize(sc.flat.len(), None);
        sc.seen.clear();
        for (i, &(s, _, e)) in sc.bounds.iter().enumerate().rev() {
            for j in s..e {
                if let (Some(slot), Some((a, _))) = (sc.next_in_group.get_mut(j), sc.flat.get(j)) {
                    *slot = sc.seen.get(&a.key).copied();
                }
            }
            for (a, _) in sc.flat.get(s..e).unwrap_or(&[]) {
                sc.seen.insert(a.key, i);
            }
        }
        let next_event = |id: u64| {
            objs.iter()
                .find(|(i, _)| *i == id)
                .map_or(NEVER, |&(_, n)| n)
        };
        let GroupScratch {
            flat,
            bounds,
            next_in_group,
            pinned,
            streamed,
            ..
        } = &mut sc;
        let mut slot_end = [group_start; 2];
        for (i, k) in kernels.iter().enumerate() {
            let (s, m, e) = bounds.get(i).copied().unwrap_or((0, 0, 0));
            let (s, m, e) = (s, m.max(s), e.max(m));
            self.slot = usize::from(k.event)
                .min(group.len().saturating_sub(1))
                .min(1);
            let ev = group.get(self.slot).or(group.first());
            self.seq = ev.map_or(0, |e| e.seq);
            pinned.clear();
            pinned.extend(flat.get(s..e).unwrap_or(&[]).iter().map(|(a, _)| a.key));
            let (mut start_lb, mut finish_lb) = (0u64, 0u64);
            for &(a, _) in flat.get(s..m).unwrap_or(&[]) {
                self.read(a, pinned, &mut start_lb, &mut finish_lb);
            }
            streamed.clear();
            for &(a, _) in flat.get(m..e).unwrap_or(&[]) {
                if !self.write_space(a, pinned, &mut start_lb) {
                    streamed.push(a);
                }
            }
            let Some(t) = class_index(k.class())
                .and_then(|c| self.timing.get(c))
                .copied()
            else {
                continue;
            };
            let busy = self.kernel_cycles(k, &t);
            let pool_free = self.pool_free.get(t.pool).copied().unwrap_or(0);
            let start = start_lb.max(pool_free);
            let occupancy = if t.pipelined {
                busy
            } else {
                busy.saturating_add(t.latency)
            };
            if let Some(f) = self.pool_free.get_mut(t.pool) {
                *f = start.saturating_add(occupancy);
            }
            if let Some(b) = self.pool_busy.get_mut(t.pool) {
                *b = b.saturating_add(busy);
            }
            let mut finish = start
                .saturating_add(busy)
                .saturating_add(t.latency)
                .max(finish_lb);
            for a in streamed.iter() {
                let xfer = self.offchip.transfer(start, a.bytes);
                let (_, _, done) = xfer;
                self.record(Link::OffChip, Direction::Write, a.class, a.bytes, xfer);
                let done = done.max(finish);
                self.place_offchip(a.key, a.bytes, a.class, done, false);
                finish = finish.max(done);
            }
            self.tick += 1;
            let lru_rank = u64::MAX - 2 - self.tick;
            for j in s..e {
                let Some(&(a, is_write)) = flat.get(j) else {
                    continue;
                };
                let later = next_in_group.get(j).copied().flatten();
                // A temporary dies with its operation; the stored model values an encode
                // reads are read once (the next encode of them is another object).
                let dead =
                    later.is_none() && matches!(a.key, ObjectKey::Temp(_) | ObjectKey::Source(_));
                let rank = if dead {
                    DEAD
                } else {
                    match self.policy {
                        ReplacementPolicy::Lru => lru_rank,
                        ReplacementPolicy::Belady => match (later, a.key) {
                            (Some(l), _) => gpos | l.min((1 << POS_SHIFT) - 1) as u64,
                            (None, ObjectKey::Trace(id)) => match next_event(id) {
                                NEVER => NEVER_POS,
                                n => n << POS_SHIFT,
                            },
                            (None, _) => beyond,
                        },
                    }
                };
                if is_write {
                    self.chip.update(&a.key, |r| {
                        r.ready_at = finish;
                        r.busy_until = finish;
                        r.dirty = true;
                        r.read_since_write = false;
                        r.class = a.class;
                        r.rank = rank;
                    });
                    let spilled_temp =
                        matches!(a.key, ObjectKey::Temp(_)) && self.store.holds(&a.key);
                    let trace_object = !matches!(a.key, ObjectKey::Temp(_));
                    if (trace_object || spilled_temp) && !streamed.iter().any(|x| x.key == a.key) {
                        self.store.invalidate(&a.key);
                    }
                } else {
                    self.chip.update(&a.key, |r| {
                        r.busy_until = r.busy_until.max(finish);
                        r.read_since_write = true;
                        r.rank = rank;
                    });
                }
                if dead && self.store.holds(&a.key) {
                    self.store.forget(&a.key);
                }
            }
            self.makespan = self.makespan.max(finish);
            self.kernels += 1;
            if let Some(acc) = self.acc.get_mut(self.slot) {
                acc.kernels += 1;
                acc.mod_mults = acc.mod_mults.saturating_add(k.mod_mults);
                acc.mod_adds = acc.mod_adds.saturating_add(k.mod_adds);
            }
            if let Some(end) = slot_end.get_mut(self.slot) {
                *end = self.makespan;
            }
            let rec = KernelRecord {
                seq: self.seq,
                op: ev.map_or(helrm_core::trace::OpKind::Encode, |e| e.op),
                scope: ev.map_or("", |e| e.scope.as_str()),
                kind: k.kind,
                pool: t.pool,
                start,
                end: finish,
                busy,
                words: k.words,
                mod_mults: k.mod_mults,
                mod_adds: k.mod_adds,
            };
            for o in self.obs.iter_mut() {
                o.kernel(&rec);
            }
        }
        self.scratch = sc;
        // Group end: dead trace objects leave (results nobody read are written back first);
        // live ones get their next use as Belady rank.
        self.slot = group.len().saturating_sub(1).min(1);
        self.seq = group.get(self.slot).map_or(0, |e| e.seq);
        for &(id, next) in objs {
            let key = ObjectKey::Trace(id);
            if next == NEVER {
                if let Some(r) = self.chip.get(&key).copied() {
                    let mut free_at = r.busy_until;
                    if r.dirty && !r.read_since_write && r.rank != DEAD {
                        let xfer = self.offchip.transfer(r.ready_at, r.bytes);
                        let (_, occupied, _) = xfer;
                        self.record(Link::OffChip, Direction::Write, r.class, r.bytes, xfer);
                        free_at = free_at.max(occupied);
                    }
                    self.chip.update(&key, |x| {
                        x.rank = DEAD;
                        x.dirty = false;
                        x.busy_until = free_at;
                    });
                }
                self.store.forget(&key);
            } else if self.policy == ReplacementPolicy::Belady {
                self.chip.update(&key, |x| x.rank = next << POS_SHIFT);
            }
        }
        self.chip.purge_empty_dead();
        self.temp_base = self.temp_base.saturating_add(u64::from(lowered.temps()));
        if group.len() > 1 {
            self.fused += 1;
        }
        // Event records: each event's share of the schedule's growth.
        let last = group.len().saturating_sub(1);
        let mut prev_end = group_start;
        for (s, ev) in group.iter().enumerate() {
            let end = if s == last {
                self.makespan
            } else {
                slot_end
                    .get(s)
                    .copied()
                    .unwrap_or(self.makespan)
                    .max(prev_end)
            };
            let acc = self.acc.get(s.min(1)).copied().unwrap_or_default();
            let rec = EventRecord {
                seq: ev.seq,
                index: first_index + s as u64,
                op: ev.op,
                scope: &ev.scope,
                wall_ns: ev.wall_ns,
                cycles: end.saturating_sub(prev_end),
                end,
                kernels: acc.kernels,
                mod_mults: acc.mod_mults,
                mod_adds: acc.mod_adds,
                offchip_read: acc.offchip_read,
                offchip_write: acc.offchip_write,
                host_read: acc.host_read,
                host_write: acc.host_write,
                fused: s > 0,
            };
            prev_end = end;
            for o in self.obs.iter_mut() {
                o.event(&rec);
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! What the engine reports while it runs: records handed to [`Observer`]s.
//!
//! The engine holds no statistics and writes no output; reports, timelines and tests are
//! observers.

use helrm_core::trace::{OpKind, TraceHeader};
use helrm_hwmodels::{KernelClass, MachineModel, ReplacementPolicy};

use crate::lower::{KernelKind, LoweringOptions, TrafficClass};

/// A memory link data moves over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Link {
    /// Between on-chip and off-chip memory.
    OffChip,
    /// Between off-chip memory and host memory.
    Host,
}

impl Link {
    /// The name used in reports and timelines.
    pub const fn name(self) -> &'static str {
        match self {
            Link::OffChip => "offchip",
            Link::Host => "host_link",
        }
    }
}

/// Which way data moves over a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Towards the units (off-chip → on-chip, host → off-chip).
    Read,
    /// Away from the units (write-back).
    Write,
}

/// A group of functional units with its own timeline (one per `pool`, or per unit group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    /// The pool's name (the model's `pool`, or the kernel class's field name).
    pub name: String,
    /// Kernel classes it serves.
    pub classes: Vec<KernelClass>,
    /// Units in it.
    pub units: u32,
}

/// What a run replays, on what.
#[derive(Debug, Clone, Copy)]
pub struct RunInfo<'a> {
    /// The trace's header.
    pub header: &'a TraceHeader,
    /// The machine.
    pub model: &'a MachineModel,
    /// The on-chip replacement policy in force.
    pub policy: ReplacementPolicy,
    /// The lowering options in force.
    pub lowering: &'a LoweringOptions,
    /// Bytes per word of the lowered sizes.
    pub word_bytes: u64,
    /// The unit pools, indexed by [`KernelRecord::pool`].
    pub pools: &'a [PoolInfo],
}

/// One kernel as scheduled.
#[derive(Debug, Clone, Copy)]
pub struct KernelRecord<'a> {
    /// `seq` of the event it belongs to.
    pub seq: u64,
    /// That event's operation.
    pub op: OpKind,
    /// That event's scope.
    pub scope: &'a str,
    /// What it computes.
    pub kind: KernelKind,
    /// The pool it ran on (index into [`RunInfo::pools`]).
    pub pool: usize,
    /// Cycle it started.
    pub start: u64,
    /// Cycle its results were complete.
    pub end: u64,
    /// Cycles it kept its pool busy.
    pub busy: u64,
    /// Words produced.
    pub words: u64,
    /// Modular multiplications.
    pub mod_mults: u64,
    /// Modular additions.
    pub mod_adds: u64,
}

/// One transfer over a link.
#[derive(Debug, Clone, Copy)]
pub struct TransferRecord {
    /// `seq` of the event it was issued for.
    pub seq: u64,
    /// The link.
    pub link: Link,
    /// Which way.
    pub direction: Direction,
    /// What moved.
    pub class: TrafficClass,
    /// Bytes moved.
    pub bytes: u64,
    /// Cycle it started occupying the link.
    pub start: u64,
    /// Cycle the link was free again.
    pub busy_end: u64,
    /// Cycle the data had arrived (occupancy plus latency).
    pub end: u64,
}

/// One read of an object by a kernel.
#[derive(Debug, Clone, Copy)]
pub struct AccessRecord {
    /// `seq` of the event.
    pub seq: u64,
    /// What was read.
    pub class: TrafficClass,
    /// Bytes read.
    pub bytes: u64,
    /// Bytes found on chip.
    pub hit_bytes: u64,
    /// The object did not fit on chip and was streamed from off-chip memory.
    pub streamed: bool,
}

/// One trace event after its kernels were scheduled.
#[derive(Debug, Clone, Copy)]
pub struct EventRecord<'a> {
    /// The event's `seq`.
    pub seq: u64,
    /// Its position in the trace (0-based).
    pub index: u64,
    /// Its operation.
    pub op: OpKind,
    /// Its scope.
    pub scope: &'a str,
    /// Its measured wall time (real traces).
    pub wall_ns: Option<u64>,
    /// Cycles by which it advanced the end of the schedule (these sum to the total).
    pub cycles: u64,
    /// The end of the schedule after it.
    pub end: u64,
    /// Kernels it lowered to.
    pub kernels: u64,
    /// Modular multiplications.
    pub mod_mults: u64,
    /// Modular additions.
    pub mod_adds: u64,
    /// Off-chip bytes read for it.
    pub offchip_read: u64,
    /// Off-chip bytes written for it.
    pub offchip_write: u64,
    /// Host-link bytes read for it.
    pub host_read: u64,
    /// Host-link bytes written for it.
    pub host_write: u64,
    /// A rescale fused into the previous event (its work is reported there).
    pub fused: bool,
}

/// Totals the engine knows at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Cycles from the first kernel or transfer to the last.
    pub total_cycles: u64,
    /// Events replayed.
    pub events: u64,
    /// Kernels scheduled.
    pub kernels: u64,
    /// Busy cycles per pool (same order as [`RunInfo::pools`]).
    pub pool_busy_cycles: Vec<u64>,
    /// Cycles the off-chip link was occupied.
    pub offchip_busy_cycles: u64,
    /// Cycles the host link was occupied (both directions).
    pub host_busy_cycles: u64,
    /// Largest number of bytes of live objects on chip at once.
    pub onchip_peak_live_bytes: u64,
    /// Rescales fused into a preceding ModDown.
    pub fused_rescales: u64,
    /// Bytes of initial data (keys, weights, inputs) assumed preloaded in off-chip memory.
    pub preloaded_bytes: u64,
}

/// Receives the engine's records. Every method has an empty default.
pub trait Observer {
    /// Called once before the first event.
    fn begin(&mut self, _run: &RunInfo<'_>) {}
    /// Called for each scheduled kernel.
    fn kernel(&mut self, _kernel: &KernelRecord<'_>) {}
    /// Called for each transfer.
    fn transfer(&mut self, _transfer: &TransferRecord) {}
    /// Called for each object a kernel reads.
    fn access(&mut self, _access: &AccessRecord) {}
    /// Called after each event's kernels.
    fn event(&mut self, _event: &EventRecord<'_>) {}
    /// Called once after the last event.
    fn end(&mut self, _summary: &RunSummary) {}
}

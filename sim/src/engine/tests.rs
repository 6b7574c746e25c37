//! Engine behaviour on hand-built traces: timing probes, memory policies, links, fusion.

use super::*;
use helrm_core::trace::{
    DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceHeader, TraceMode,
};
use helrm_hwmodels::builtin;

/// N = 2^10, 2 Q limbs (level 1), 1 P prime, dnum 2, 8-byte words: a ciphertext is
/// 2 · 2 · 1024 · 8 = 32,768 bytes.
const LOG_N: u32 = 10;
const CT: u64 = 32_768;

fn header() -> TraceHeader {
    TraceHeader::new(
        "engine-test",
        ParamsSummary {
            log_n: LOG_N,
            q_bits: vec![40, 30],
            p_bits: vec![50],
            dnum: 2,
            word_bytes: 8,
        },
        TraceMode::Symbolic,
        "engine tests",
    )
}

fn ct(id: u64) -> ObjectRef {
    ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, CT, 1)
}

fn op(seq: u64, op: OpKind, inputs: Vec<ObjectRef>, outputs: Vec<ObjectRef>) -> TraceEvent {
    let mut e = TraceEvent::new(op, LOG_N, 1)
        .with_key_switching(1, 2)
        .with_inputs(inputs)
        .with_outputs(outputs);
    e.seq = seq;
    e
}

fn trace(events: Vec<TraceEvent>) -> InMemoryTrace {
    InMemoryTrace {
        header: header(),
        events,
    }
}

#[derive(Default)]
struct Recorder {
    kernels: Vec<(u64, KernelKind, u64, u64, u64)>,
    transfers: Vec<TransferRecord>,
    events: Vec<(u64, OpKind, u64, u64, bool)>,
    hits: u64,
    reads: u64,
}

use crate::lower::KernelKind;

impl Observer for Recorder {
    fn kernel(&mut self, k: &KernelRecord<'_>) {
        self.kernels.push((k.seq, k.kind, k.start, k.end, k.busy));
    }
    fn transfer(&mut self, t: &TransferRecord) {
        self.transfers.push(*t);
    }
    fn access(&mut self, a: &AccessRecord) {
        self.reads += 1;
        if a.hit_bytes == a.bytes {
            self.hits += 1;
        }
    }
    fn event(&mut self, e: &EventRecord<'_>) {
        self.events
            .push((e.seq, e.op, e.cycles, e.kernels, e.fused));
    }
}

impl Recorder {
    fn offchip_bytes(&self) -> u64 {
        self.transfers
            .iter()
            .filter(|t| t.link == Link::OffChip)
            .map(|t| t.bytes)
            .sum()
    }
}

fn run(t: &InMemoryTrace, model: &MachineModel, options: &SimOptions) -> (RunSummary, Recorder) {
    let mut rec = Recorder::default();
    let summary = simulate(t, model, options, &mut [&mut rec]).unwrap();
    (summary, rec)
}

fn two_adds() -> InMemoryTrace {
    trace(vec![
        op(0, OpKind::Add, vec![ct(1), ct(2)], vec![ct(3)]),
        op(1, OpKind::Add, vec![ct(1), ct(2)], vec![ct(4)]),
    ])
}

#[test]
fn resident_kernel_issues_at_the_predicted_cycle() {
    // ARK: 1 GHz; 1 TB/s off chip = 1,000 B/cycle with 100 ns = 100 cycles latency.
    // Fetch ct1: cycles [0, 33) (⌈32,768 / 1,000⌉), arrives 133; ct2: [33, 66), arrives 166.
    // The add: 4,096 words on 4 × 512 words/cycle = 2 cycles, but it moves 3 · 32,768 B
    // through a 20,000 B/cycle scratchpad: ⌈4.92⌉ = 5 busy cycles; latency 2.
    let ark = builtin("ark").unwrap();
    let (summary, rec) = run(&two_adds(), &ark, &SimOptions::default());
    assert_eq!(rec.kernels[0], (0, KernelKind::Add, 166, 173, 5));
    // The second add's operands are on chip: it issues as soon as the pipelined group
    // accepts it, 5 cycles after the first.
    assert_eq!(rec.kernels[1], (1, KernelKind::Add, 171, 178, 5));
    assert_eq!(rec.hits, 2);
    assert_eq!(rec.reads, 4);
    // Both results are written back (nobody reads them): ct3 when it is ready (173), for 33
    // cycles plus 100 latency; ct4 when the link is free again (206).
    let writes: Vec<(u64, u64)> = rec
        .transfers
        .iter()
        .filter(|t| t.direction == Direction::Write)
        .map(|t| (t.start, t.end))
        .collect();
    assert_eq!(writes, vec![(173, 306), (206, 339)]);
    assert_eq!(summary.total_cycles, 339);
    // Event cycles sum to the total.
    assert_eq!(rec.events.iter().map(|e| e.2).sum::<u64>(), 339);

    // Not pipelined: the unit drains (latency 2) before it accepts the next kernel.
    let mut serial = ark.clone();
    serial.units.elementwise_add.pipelined = false;
    serial.units.elementwise_mul.pipelined = false;
    serial.units.key_switch_mac.pipelined = false;
    let (_, rec) = run(&two_adds(), &serial, &SimOptions::default());
    assert_eq!(rec.kernels[1].2, 173);
}

#[test]
fn more_bandwidth_is_never_slower_here() {
    let ark = builtin("ark").unwrap();
    let mut fast = ark.clone();
    fast.offchip.bandwidth_gb_per_s *= 4.0;
    let (slow, _) = run(&two_adds(), &ark, &SimOptions::default());
    let (quick, _) = run(&two_adds(), &fast, &SimOptions::default());
    assert!(quick.total_cycles < slow.total_cycles);
}

/// `rounds` passes over `objects` ciphertexts, each step adding two of them into a fresh
/// result that the next step reads.
fn cyclic(objects: u64, rounds: u64) -> InMemoryTrace {
    let mut events = Vec::new();
    let mut next_id = 1000;
    for r in 0..rounds {
        for i in 0..objects {
            let seq = r * objects + i;
            events.push(op(
                seq,
                OpKind::Add,
                vec![ct(i), ct((i + 1) % objects)],
                vec![ct(next_id)],
            ));
            next_id += 1;
        }
    }
    trace(events)
}

fn with_capacity(bytes: u64) -> MachineModel {
    let mut m = builtin("ark").unwrap();
    m.onchip.capacity_bytes = bytes;
    m
}

#[test]
fn belady_beats_lru_on_a_cyclic_pattern() {
    // Six operands cycled through a memory holding five objects: LRU evicts exactly the one
    // needed next, Belady keeps most of them.
    let t = cyclic(6, 4);
    let model = with_capacity(5 * CT);
    let lru = SimOptions {
        policy: Some(ReplacementPolicy::Lru),
        ..SimOptions::default()
    };
    let belady = SimOptions {
        policy: Some(ReplacementPolicy::Belady),
        ..SimOptions::default()
    };
    let (_, l) = run(&t, &model, &lru);
    let (_, b) = run(&t, &model, &belady);
    assert!(
        b.offchip_bytes() < l.offchip_bytes(),
        "{} vs {}",
        b.offchip_bytes(),
        l.offchip_bytes()
    );
    assert!(b.hits > l.hits);
    // With room for everything, both read each operand once.
    let big = with_capacity(64 * CT);
    let (_, l) = run(&t, &big, &lru);
    let (_, b) = run(&t, &big, &belady);
    let reads = |r: &Recorder| {
        r.transfers
            .iter()
            .filter(|t| t.direction == Direction::Read)
            .map(|t| t.bytes)
            .sum::<u64>()
    };
    assert_eq!(reads(&l), 6 * CT);
    assert_eq!(reads(&b), 6 * CT);
}

#[test]
fn objects_larger_than_the_memory_are_streamed() {
    let t = two_adds();
    let model = with_capacity(CT / 2);
    let (summary, rec) = run(&t, &model, &SimOptions::default());
    // Every operand is read for each use; results go straight off chip.
    let reads: u64 = rec
        .transfers
        .iter()
        .filter(|t| t.direction == Direction::Read)
        .map(|t| t.bytes)
        .sum();
    assert_eq!(reads, 4 * CT);
    assert_eq!(rec.hits, 0);
    assert!(summary.total_cycles > 0);
}

#[test]
fn data_beyond_off_chip_capacity_crosses_the_host_link() {
    let t = cyclic(6, 2);
    let mut small = builtin("ark").unwrap();
    small.offchip.capacity_bytes = 3 * CT;
    small.onchip.capacity_bytes = 3 * CT;
    let (s, rec) = run(&t, &small, &SimOptions::default());
    let host: u64 = rec
        .transfers
        .iter()
        .filter(|t| t.link == Link::Host)
        .map(|t| t.bytes)
        .sum();
    assert!(host > 0);
    assert!(s.host_busy_cycles > 0);
    let (s, rec) = run(&t, &builtin("ark").unwrap(), &SimOptions::default());
    assert!(rec.transfers.iter().all(|t| t.link == Link::OffChip));
    assert_eq!(s.host_busy_cycles, 0);
    assert_eq!(s.preloaded_bytes, 6 * CT);
}

fn relin_key() -> ObjectRef {
    // dnum 2 at 2 limbs, 1 P prime: 2 · 2 · 3 · 1024 · 8 bytes.
    ObjectRef::key(ObjectId(900), DataClass::KeyRelin, 98_304)
}

#[test]
fn rescale_fuses_into_the_preceding_mod_down() {
    let ct0 = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, CT / 2, 0);
    let mut rescale = TraceEvent::new(OpKind::Rescale, LOG_N, 1)
        .with_key_switching(1, 2)
        .with_inputs(vec![ct(3)])
        .with_outputs(vec![ct0(4)]);
    rescale.seq = 1;
    let t = trace(vec![
        op(
            0,
            OpKind::MulRelin,
            vec![ct(1), ct(2), relin_key()],
            vec![ct(3)],
        ),
        rescale,
    ]);
    let mut model = builtin("ark").unwrap();
    model.features.fused_rescale_moddown = true;
    let (s, rec) = run(&t, &model, &SimOptions::default());
    assert_eq!(s.fused_rescales, 1);
    assert_eq!(rec.events.len(), 2);
    let (_, op1, _, kernels1, fused1) = rec.events[1];
    assert_eq!((op1, kernels1, fused1), (OpKind::Rescale, 0, true));
    model.features.fused_rescale_moddown = false;
    let (s2, rec2) = run(&t, &model, &SimOptions::default());
    assert_eq!(s2.fused_rescales, 0);
    assert!(rec2.events[1].3 > 0);
    assert!(s2.kernels > s.kernels);
    // Only the rescaled result leaves the chip: the unrescaled one never exists.
    let written: u64 = rec
        .transfers
        .iter()
        .filter(|t| t.direction == Direction::Write)
        .map(|t| t.bytes)
        .sum();
    assert_eq!(written, CT / 2);
}

#[test]
fn rescale_is_not_fused_when_the_unrescaled_result_is_used_later() {
    let ct0 = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, CT / 2, 0);
    let mut rescale = TraceEvent::new(OpKind::Rescale, LOG_N, 1)
        .with_key_switching(1, 2)
        .with_inputs(vec![ct(3)])
        .with_outputs(vec![ct0(4)]);
    rescale.seq = 1;
    let t = trace(vec![
        op(
            0,
            OpKind::MulRelin,
            vec![ct(1), ct(2), relin_key()],
            vec![ct(3)],
        ),
        rescale,
        op(2, OpKind::Add, vec![ct(3), ct(1)], vec![ct(5)]),
    ]);
    let mut model = builtin("ark").unwrap();
    model.features.fused_rescale_moddown = true;
    let (s, _) = run(&t, &model, &SimOptions::default());
    assert_eq!(s.fused_rescales, 0);
}

#[test]
fn same_trace_and_model_give_the_same_schedule() {
    let t = cyclic(7, 3);
    let model = with_capacity(4 * CT);
    let (a, ra) = run(&t, &model, &SimOptions::default());
    let (b, rb) = run(&t, &model, &SimOptions::default());
    assert_eq!(a, b);
    assert_eq!(ra.kernels, rb.kernels);
    assert_eq!(ra.events, rb.events);
}

#[test]
fn unusable_models_are_refused_with_the_field() {
    let mut m = builtin("ark").unwrap();
    m.offchip.bandwidth_gb_per_s = 0.0;
    match simulate(&two_adds(), &m, &SimOptions::default(), &mut []) {
        Err(Error::InvalidModel { field, machine, .. }) => {
            assert_eq!(field, "offchip.bandwidth_gb_per_s");
            assert_eq!(machine, "ark");
        }
        other => panic!("expected InvalidModel, got {other:?}"),
    }
    let mut m = builtin("ark").unwrap();
    m.units.ntt.throughput_mod_mults_per_cycle = Some(1.0);
    assert!(matches!(
        simulate(&two_adds(), &m, &SimOptions::default(), &mut []),
        Err(Error::InvalidModel { field, .. }) if field == "units.ntt"
    ));
}

#[test]
fn next_uses_record_the_following_event() {
    let t = two_adds();
    let n = NextUses::compute(&t).unwrap();
    assert_eq!(n.events(), 2);
    // Event 0: ids 1, 2, 3; event 1: ids 1, 2, 4.
    assert_eq!(n.next, vec![1, 1, NEVER, NEVER, NEVER, NEVER]);
}

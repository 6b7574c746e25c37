//! A symbolic bootstrap emits the same trace as a real one (operations, levels, scales,
//! object ids, classes, bytes, scopes), and the trace shows the circuit's structure: one
//! ModRaise, the subring trace for sparse slots, the three steps in their scopes with their
//! markers, and exactly the Galois keys the circuit asked for.

use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper};
use helrm_core::ckks::{CkksContext, Encryptor, Evaluator, KeyGenerator, Level, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{diff_events, DataClass, OpKind, TraceEvent, Tracer, VecSink};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Bootstraps one ciphertext on `slots` slots and returns the trace with the Galois elements
/// of the key set.
#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn run(backend: Backend, slots: usize) -> (Vec<TraceEvent>, BTreeSet<u64>) {
    let ctx = CkksContext::new(Params::preset("toy-n12-boot").unwrap(), backend).unwrap();
    let boot = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(slots)).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([4; 32])).unwrap();
    let keys = boot.generate_keys(&mut keygen).unwrap();
    let elements = keys.galois_elements().map(|k| k.0).collect();
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(if backend == Backend::Real {
        Tracer::new(sink.clone())
    } else {
        Tracer::untimed(sink.clone())
    });
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys)).with_tracer(tracer.clone());
    let mut enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([5; 32]),
    );
    let x: Vec<f64> = (0..slots).map(|i| (i as f64 * 0.37).sin()).collect();
    let pt = ctx
        .encode_real(
            &x,
            Level::new(2),
            ctx.params().default_scale(),
            slots,
            DataClass::Other,
        )
        .unwrap();
    let ct = enc.encrypt(&pt).unwrap();
    let out = boot.bootstrap(&eval, &ct).unwrap();
    assert_eq!(out.level(), Level::new(10));
    tracer.finish().unwrap();
    (sink.take(), elements)
}

fn count(events: &[TraceEvent], op: OpKind) -> usize {
    events.iter().filter(|e| e.op == op).count()
}

fn check_structure(events: &[TraceEvent], keys: &BTreeSet<u64>, sparse: bool) {
    assert!(events.iter().all(|e| e.scope.starts_with("bootstrap")));
    assert_eq!(count(events, OpKind::ModRaise), 1);
    let raise = events
        .iter()
        .find(|e| e.op == OpKind::ModRaise)
        .map(|e| (e.level, e.outputs[0].level));
    assert_eq!(raise, Some((0, Some(25))));
    assert_eq!(count(events, OpKind::Conjugate), 1);
    for (marker, scope) in [
        (OpKind::CoeffsToSlots, "bootstrap/coeffs_to_slots"),
        (OpKind::EvalMod, "bootstrap/eval_mod"),
        (OpKind::SlotsToCoeffs, "bootstrap/slots_to_coeffs"),
    ] {
        let m: Vec<&TraceEvent> = events.iter().filter(|e| e.op == marker).collect();
        assert_eq!(m.len(), 1, "{marker}");
        assert_eq!(m[0].scope, scope);
        assert!(m[0].inputs.is_empty() && m[0].outputs.is_empty());
    }
    // The levels the steps run at: CoeffsToSlots at the top three, EvalMod from 22.
    let cts_levels: BTreeSet<u32> = events
        .iter()
        .filter(|e| e.scope == "bootstrap/coeffs_to_slots" && e.op == OpKind::HoistedRotateMulAcc)
        .map(|e| e.level)
        .collect();
    assert_eq!(cts_levels, BTreeSet::from([23, 24, 25]));
    let sub_sum = events
        .iter()
        .filter(|e| e.scope == "bootstrap/sub_sum" && e.op == OpKind::Rotate)
        .count();
    assert_eq!(sub_sum > 0, sparse);
    // Every Galois key is used, and only those.
    let used: BTreeSet<u64> = events
        .iter()
        .flat_map(|e| e.galois_elements.iter().copied())
        .collect();
    assert_eq!(&used, keys);
}

#[test]
fn sparse_symbolic_trace_equals_real_trace() {
    let (real, keys) = run(Backend::Real, 16);
    let (symbolic, sym_keys) = run(Backend::Symbolic, 16);
    assert_eq!(keys, sym_keys);
    assert!(real.iter().all(|e| e.op.is_marker() || e.wall_ns.is_some()));
    assert!(symbolic.iter().all(|e| e.wall_ns.is_none()));
    let d = diff_events(&real, &symbolic);
    assert!(d.is_none(), "first difference: {d:?}");
    check_structure(&real, &keys, true);
}

#[test]
fn full_slot_symbolic_trace_equals_real_trace() {
    let (real, keys) = run(Backend::Real, 2048);
    let (symbolic, _) = run(Backend::Symbolic, 2048);
    let d = diff_events(&real, &symbolic);
    assert!(d.is_none(), "first difference: {d:?}");
    check_structure(&real, &keys, false);
}

#[test]
fn symbolic_full_size_bootstrap_traces_quickly() {
    // helrm-n16-boot at 32,768 slots, shapes only: the trace a simulator replays, with the
    // counts that the cost of a full bootstrap is made of.
    let t = std::time::Instant::now();
    let (events, keys) = symbolic_full();
    let by = |op| count(&events, op);
    assert_eq!(by(OpKind::ModRaise), 1);
    assert_eq!(by(OpKind::Conjugate), 1);
    // Three CoeffsToSlots and three SlotsToCoeffs levels, each one hoisted baby-step event
    // and one lazy giant-step event.
    assert_eq!(by(OpKind::HoistedRotateMulAcc), 6);
    assert_eq!(by(OpKind::LazyRotateSum), 6);
    assert!(by(OpKind::Rescale) > 0);
    // 38 rotations shared by both transforms, plus conjugation.
    assert_eq!(keys.len(), 39);
    check_structure(&events, &keys, false);
    assert!(t.elapsed().as_secs() < 60, "{:?}", t.elapsed());
}

#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn symbolic_full() -> (Vec<TraceEvent>, BTreeSet<u64>) {
    let ctx =
        CkksContext::new(Params::preset("helrm-n16-boot").unwrap(), Backend::Symbolic).unwrap();
    let slots = ctx.params().slots();
    let boot = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(slots)).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([4; 32])).unwrap();
    let keys = boot.generate_keys(&mut keygen).unwrap();
    let elements = keys.galois_elements().map(|k| k.0).collect();
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(Tracer::untimed(sink.clone()));
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys)).with_tracer(tracer.clone());
    let mut enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([5; 32]),
    );
    let pt = ctx
        .encode_real(
            &[0.5],
            Level::new(0),
            ctx.params().default_scale(),
            slots,
            DataClass::Other,
        )
        .unwrap();
    let out = boot.bootstrap(&eval, &enc.encrypt(&pt).unwrap()).unwrap();
    assert_eq!(out.level(), Level::new(10));
    tracer.finish().unwrap();
    (sink.take(), elements)
}

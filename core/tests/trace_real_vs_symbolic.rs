//! A real run and a symbolic run of the same circuit emit the same trace (apart from wall
//! times): same operations, levels, scales, object ids, classes and bytes.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions; a failure should panic the test"
)]

use helrm_core::ckks::{CkksContext, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{diff_events, DataClass, OpKind, TraceEvent, Tracer, VecSink};
use std::sync::Arc;

/// Runs a small circuit (encode, encrypt, plaintext multiply, square, rescale, hoisted and
/// single rotations, additions, a level drop) and returns its trace.
fn run(backend: Backend) -> Vec<TraceEvent> {
    let params = Params::preset("toy-n12-l10").unwrap();
    let ctx = CkksContext::new(params, backend).unwrap();
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(if backend == Backend::Real {
        Tracer::new(sink.clone())
    } else {
        Tracer::untimed(sink.clone())
    });
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([3; 32])).unwrap();
    let slots = ctx.params().slots();
    let keys = keygen.evaluation_keys(&[1, 2, 4, -3], slots, true).unwrap();
    let mut enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([4; 32]),
    )
    .with_tracer(tracer.clone());
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys)).with_tracer(tracer.clone());
    let top = ctx.max_level();
    let scale = ctx.params().default_scale();
    let x: Vec<f64> = (0..slots).map(|i| (i % 7) as f64 / 7.0).collect();
    let pt = eval
        .encode_real(&x, top, scale, slots, DataClass::Other)
        .unwrap();
    let ct = enc.encrypt(&pt).unwrap();
    {
        let _s = eval.scope("layer/linear");
        let w = eval
            .encode_real(&x, top, scale, slots, DataClass::PlaintextWeight)
            .unwrap();
        let y = eval.rescale(&eval.mul_plain(&ct, &w).unwrap()).unwrap();
        let rots = eval.rotate_hoisted(&y, &[1, 2, 4]).unwrap();
        let mut acc = y.clone();
        for r in &rots {
            acc = eval.add(&acc, r).unwrap();
        }
        let _a = eval.scope("activation");
        let sq = eval.rescale(&eval.mul_relin(&acc, &acc).unwrap()).unwrap();
        let z = eval.rotate(&sq, -3).unwrap();
        let c = eval.conjugate(&z).unwrap();
        let d = eval.drop_level(&c, 2).unwrap();
        let _ = eval.add_const(&d, 0.5).unwrap();
    }
    tracer.finish().unwrap();
    sink.take()
}

#[test]
fn real_and_symbolic_traces_are_equal() {
    let real = run(Backend::Real);
    let symbolic = run(Backend::Symbolic);
    assert!(real.len() >= 12, "{} events", real.len());
    assert!(
        real.iter().all(|e| e.wall_ns.is_some()),
        "real events carry wall times"
    );
    assert!(
        symbolic.iter().all(|e| e.wall_ns.is_none()),
        "symbolic events carry none"
    );
    let diff = diff_events(&real, &symbolic);
    assert!(diff.is_none(), "first difference: {diff:?}");
    // The scopes and the op mix are what the circuit did.
    assert!(real
        .iter()
        .any(|e| e.op == OpKind::RotateHoisted && e.rotations == [1, 2, 4]));
    assert!(real
        .iter()
        .any(|e| e.scope == "layer/linear/activation" && e.op == OpKind::MulRelin));
    let relin = real.iter().find(|e| e.op == OpKind::MulRelin).unwrap();
    assert_eq!(
        (relin.level, relin.limbs, relin.special_primes, relin.dnum),
        (9, 10, 3, 4)
    );
    assert!(relin.inputs.iter().any(|o| o.class == DataClass::KeyRelin));
}

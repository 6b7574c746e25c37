//! The two evaluator primitives of bootstrapping: ModRaise and the rotation over the full ring.

use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Level, Params,
};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{diff_events, DataClass, OpKind, TraceEvent, Tracer, VecSink};
use helrm_core::Error;
use num_complex::Complex64;
use std::sync::Arc;

struct Fixture {
    ctx: Arc<CkksContext>,
    keygen: KeyGenerator,
    eval: Evaluator,
    enc: Encryptor,
}

#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn fixture(backend: Backend, rotations: &[i64], slots: usize, ring: &[i64]) -> Fixture {
    let ctx = CkksContext::new(Params::preset("toy-n12-l10").unwrap(), backend).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([7; 32])).unwrap();
    let mut keys = keygen.evaluation_keys(rotations, slots, false).unwrap();
    for &r in ring {
        let k = ctx
            .galois_element_for_rotation(r, ctx.params().slots())
            .unwrap();
        keys.insert_galois(k, keygen.galois_key(k).unwrap());
    }
    let enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([8; 32]),
    );
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    Fixture {
        ctx,
        keygen,
        eval,
        enc,
    }
}

#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn encrypt(
    ctx: &CkksContext,
    enc: &mut Encryptor,
    values: &[Complex64],
    level: Level,
    slots: usize,
) -> Ciphertext {
    let pt = ctx
        .encode(
            values,
            level,
            ctx.params().default_scale(),
            slots,
            DataClass::Other,
        )
        .unwrap();
    enc.encrypt(&pt).unwrap()
}

fn values(n: usize) -> Vec<Complex64> {
    (0..n)
        .map(|i| Complex64::new((i as f64 * 0.7).sin(), (i as f64 * 0.3).cos() / 2.0))
        .collect()
}

fn max_err(a: &[Complex64], b: &[Complex64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

#[test]
fn mod_raise_lifts_to_the_top_and_keeps_the_residues_mod_q0() {
    let slots = 64;
    let mut f = fixture(Backend::Real, &[], slots, &[]);
    let z = values(slots);
    let ct = encrypt(&f.ctx, &mut f.enc, &z, Level::new(0), slots);
    let raised = f.eval.mod_raise(&ct).unwrap();
    assert_eq!(raised.level(), f.ctx.max_level());
    assert_eq!(raised.scale(), ct.scale());
    assert_eq!(raised.slots(), slots);
    // Modulo q_0 nothing changed: dropping back to level 0 decrypts bit for bit alike.
    let back = f.eval.drop_to_level(&raised, Level::new(0)).unwrap();
    let dec = Decryptor::new(f.ctx.clone(), f.keygen.secret_key());
    assert_eq!(dec.decrypt(&back).unwrap(), dec.decrypt(&ct).unwrap());
    // Over the whole chain the ciphertext decrypts to m + q_0·I with I ≠ 0: the slots are
    // no longer the message (|q_0·I| ≫ Δ).
    let top = dec.decrypt(&raised).unwrap();
    assert!(max_err(&top, &z) > 1.0);
}

#[test]
fn mod_raise_refuses_other_levels_and_degree_two() {
    let mut f = fixture(Backend::Real, &[], 8, &[]);
    let ct = encrypt(&f.ctx, &mut f.enc, &values(8), Level::new(1), 8);
    assert_eq!(
        f.eval.mod_raise(&ct).unwrap_err(),
        Error::LevelMismatch {
            op: "mod_raise",
            left: 1,
            right: 0
        }
    );
    let low = f.eval.drop_to_level(&ct, Level::new(0)).unwrap();
    let sq = f.eval.mul_no_relin(&low, &low).unwrap();
    assert_eq!(
        f.eval.mod_raise(&sq).unwrap_err(),
        Error::CiphertextDegree {
            op: "mod_raise",
            degree: 2,
            max: 1
        }
    );
}

#[test]
fn rotate_ring_rotates_the_full_ring() {
    let full = 2048;
    let sparse = 16;
    let mut f = fixture(Backend::Real, &[3], full, &[3, sparse as i64]);
    let dec = Decryptor::new(f.ctx.clone(), f.keygen.secret_key());
    // On full slots it is the ordinary rotation.
    let z = values(full);
    let top = f.ctx.max_level();
    let ct = encrypt(&f.ctx, &mut f.enc, &z, top, full);
    let a = dec.decrypt(&f.eval.rotate_ring(&ct, 3).unwrap()).unwrap();
    let b = dec.decrypt(&f.eval.rotate(&ct, 3).unwrap()).unwrap();
    assert!(max_err(&a, &b) < 1e-6);
    let want: Vec<Complex64> = (0..full).map(|j| z[(j + 3) % full]).collect();
    assert!(max_err(&a, &want) < 1e-6);
    // On 16 slots, a rotation by 16 over the ring permutes the copies: the slots stay.
    let zs = values(sparse);
    let ct = encrypt(&f.ctx, &mut f.enc, &zs, top, sparse);
    let r = f.eval.rotate_ring(&ct, sparse as i64).unwrap();
    assert_eq!(r.slots(), sparse);
    assert!(max_err(&dec.decrypt(&r).unwrap(), &zs) < 1e-6);
    // A rotation without a key names itself.
    match f.eval.rotate_ring(&ct, 5) {
        Err(Error::MissingGaloisKey {
            rotation: Some(5), ..
        }) => {}
        other => panic!("expected MissingGaloisKey, got {other:?}"),
    }
    // Rotation 0 is a copy.
    let c = f.eval.rotate_ring(&ct, 0).unwrap();
    assert!(max_err(&dec.decrypt(&c).unwrap(), &zs) < 1e-6);
}

#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn traced(backend: Backend) -> Vec<TraceEvent> {
    let slots = 32;
    let mut f = fixture(backend, &[], slots, &[slots as i64]);
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(if backend == Backend::Real {
        Tracer::new(sink.clone())
    } else {
        Tracer::untimed(sink.clone())
    });
    let ct = encrypt(&f.ctx, &mut f.enc, &values(slots), Level::new(0), slots);
    let eval = f.eval.clone().with_tracer(tracer.clone());
    let raised = eval.mod_raise(&ct).unwrap();
    let _ = eval.rotate_ring(&raised, slots as i64).unwrap();
    tracer.finish().unwrap();
    sink.take()
}

#[test]
fn traces_are_one_event_each_and_equal_in_symbolic_runs() {
    let real = traced(Backend::Real);
    let symbolic = traced(Backend::Symbolic);
    let d = diff_events(&real, &symbolic);
    assert!(d.is_none(), "{d:?}");
    assert_eq!(real.len(), 2);
    let raise = &real[0];
    assert_eq!(raise.op, OpKind::ModRaise);
    assert_eq!(raise.level, 0);
    assert_eq!(raise.inputs[0].level, Some(0));
    assert_eq!(raise.outputs[0].level, Some(10));
    let rot = &real[1];
    assert_eq!(rot.op, OpKind::Rotate);
    assert_eq!(rot.level, 10);
    assert_eq!(rot.rotations, vec![32]);
    assert_eq!(rot.galois_elements.len(), 1);
    assert_eq!(rot.inputs.len(), 2, "ciphertext and Galois key");
}

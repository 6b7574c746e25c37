//! The polynomial buffer pool changes where memory comes from, never a result: every
//! operation gives bit-identical ciphertexts with the pool off, with fresh pooled buffers and
//! with buffers that held other values (insecure toy set `toy-n12-l10`). Its own test binary,
//! because the pool is process-wide.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions; a failure should panic the test"
)]

use helrm_core::ckks::serialize::save_ciphertext;
use helrm_core::ckks::{Ciphertext, CkksContext, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::{pool, Backend};
use helrm_core::trace::DataClass;
use std::sync::Arc;

fn bytes(ctx: &CkksContext, ct: &Ciphertext) -> Vec<u8> {
    let mut out = Vec::new();
    save_ciphertext(ctx, ct, &mut out).unwrap();
    out
}

/// Encrypts with fixed seeds and runs a small pipeline: every operation kind that allocates
/// a result (clone, add, plaintext and ciphertext products, rescale, rotations, hoisted
/// rotations); returns the serialized results.
fn pipeline() -> Vec<Vec<u8>> {
    let params = Params::preset("toy-n12-l10").unwrap();
    let ctx = CkksContext::new(params, Backend::Real).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([3; 32])).unwrap();
    let slots = ctx.params().slots();
    let keys = keygen.evaluation_keys(&[1, 5], slots, false).unwrap();
    let mut enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([4; 32]),
    );
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    let top = ctx.max_level();
    let scale = ctx.params().default_scale();
    let v: Vec<f64> = (0..slots).map(|i| (i % 17) as f64 / 17.0 - 0.5).collect();
    let pt = ctx
        .encode_real(&v, top, scale, slots, DataClass::Other)
        .unwrap();
    let sparse = eval
        .encode_real(&v[..8], top, scale, 8, DataClass::Other)
        .unwrap();
    let a = enc.encrypt(&pt).unwrap();
    let b = enc.encrypt(&sparse).unwrap();
    let sum = eval.add(&a, &a).unwrap();
    let prod = eval.mul_relin(&a, &sum).unwrap();
    let rescaled = eval.rescale(&prod).unwrap();
    let by_plain = eval.mul_plain(&a, &pt).unwrap();
    let rotated = eval.rotate(&rescaled, 1).unwrap();
    let mut out = vec![
        bytes(&ctx, &a),
        bytes(&ctx, &b),
        bytes(&ctx, &sum),
        bytes(&ctx, &rescaled),
        bytes(&ctx, &by_plain),
        bytes(&ctx, &rotated),
    ];
    for ct in eval.rotate_hoisted(&a, &[1, 5]).unwrap() {
        out.push(bytes(&ctx, &ct));
    }
    out
}

#[test]
fn results_do_not_depend_on_the_pool() {
    pool::set_capacity(0);
    let off = pipeline();
    assert_eq!(pool::retained_bytes(), 0, "capacity 0 keeps nothing");
    pool::set_capacity(pool::DEFAULT_CAPACITY_BYTES);
    let first = pipeline();
    let before = pool::stats();
    // Now the pool holds buffers of the first run's values.
    assert!(pool::retained_bytes() > 0);
    let second = pipeline();
    let after = pool::stats();
    assert!(after.hits > before.hits, "the second run reused buffers");
    assert!(pool::retained_bytes() <= pool::capacity());
    assert_eq!(off, first);
    assert_eq!(first, second);
}

//! Every instruction set gives the same ciphertexts: a multiply with relinearisation, a
//! rescale, a rotation, hoisted rotations and a conjugation on `toy-n12-l10` (the
//! helrm-n16-l10 chain shape at N = 2^12: 55-, 40- and 61-bit primes, dnum 4), run under each
//! instruction set this CPU has (`CkksContext::new_with_isa`, which caps the NTT, element-wise
//! and base-conversion kernels alike), decrypt to the same `f64` bits as the portable code.
//! Keys and encryptions come from fixed seeds, so the inputs are identical too.

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_core::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::math::ntt::Isa;
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;
use std::sync::Arc;

const ROTATIONS: [i64; 4] = [1, -3, 17, 1000];

/// Decrypted outputs of the operation mix, as raw bits (real and imaginary parts).
fn run(isa: Isa, threads: usize) -> Vec<Vec<u64>> {
    let params = Params::preset("toy-n12-l10").unwrap();
    let ctx = CkksContext::new_with_isa(params, Backend::Real, isa).unwrap();
    assert_eq!(ctx.ring().isa(), isa);
    let slots = ctx.params().slots();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([7; 32])).unwrap();
    let keys = keygen.evaluation_keys(&ROTATIONS, slots, true).unwrap();
    let pk = keygen.public_key().unwrap();
    let mut enc = Encryptor::with_rng(ctx.clone(), pk, Csprng::from_seed([9; 32]));
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    let dec = Decryptor::new(ctx.clone(), keygen.secret_key());
    let top = ctx.max_level();
    let scale = ctx.params().default_scale();
    let xs: Vec<f64> = (0..slots)
        .map(|i| ((i * 37 % 101) as f64) / 50.0 - 1.0)
        .collect();
    let ys: Vec<f64> = (0..slots)
        .map(|i| ((i * 11 % 89) as f64) / 44.0 - 1.0)
        .collect();
    let a = enc
        .encrypt(
            &ctx.encode_real(&xs, top, scale, slots, DataClass::Other)
                .unwrap(),
        )
        .unwrap();
    let b = enc
        .encrypt(
            &ctx.encode_real(&ys, top, scale, slots, DataClass::Other)
                .unwrap(),
        )
        .unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let prod = eval.mul_relin(&a, &b).unwrap();
        let resc = eval.rescale(&prod).unwrap();
        let mut outs = vec![prod, resc.clone(), eval.rotate(&resc, 17).unwrap()];
        outs.extend(eval.rotate_hoisted(&a, &ROTATIONS).unwrap());
        outs.push(eval.conjugate(&b).unwrap());
        outs.iter()
            .map(|ct| {
                dec.decrypt(ct)
                    .unwrap()
                    .iter()
                    .flat_map(|z| [z.re.to_bits(), z.im.to_bits()])
                    .collect()
            })
            .collect()
    })
}

#[test]
fn every_isa_and_thread_count_decrypts_to_the_same_bits() {
    let oracle = run(Isa::Scalar, 1);
    // Sanity: the product decrypts to x·y (the oracle itself is right, not just consistent).
    let slot0 = f64::from_bits(oracle[0][0]);
    let want = (-1.0) * (-1.0);
    assert!(
        (slot0 - want).abs() < 1e-3,
        "slot 0 = {slot0}, expected {want}"
    );
    for isa in Isa::available() {
        assert_eq!(run(isa, 1), oracle, "{isa} on one thread");
    }
    assert_eq!(
        run(Isa::best_available(), 2),
        oracle,
        "best ISA on two threads"
    );
}

//! The CKKS scheme against plaintext arithmetic, one test per operation, on the insecure toy
//! set `toy-n12-l10` (N = 2^12, the helrm-n16-l10 chain shape: 55 + 10 × 40-bit Q primes,
//! three 61-bit P primes, dnum 4, sparse secret h = 192).
//!
//! Precision thresholds (bits = −log2 of the largest absolute slot error, inputs in [−1, 1]):
//! - fresh encryption: the error is e_0 + v·e + e_1·s with |coefficients| ≲ 6σ·(1 + √(h+N/2))
//!   ≈ 2^10, spread over N/2 slots by the canonical embedding (≲ √N·2^10 ≈ 2^16 worst case) and
//!   divided by Δ = 2^40 → ≥ 2^-24 worst case; we require 24 bits.
//! - one multiply + relinearise + rescale: the product error is ≈ |m|·e/Δ + rescale rounding
//!   (≈ √(h)/Δ·Δ/q ≈ 2^-36) plus key-switching noise divided by P (≈ 2^-40) → we require
//!   20 bits, the floor.
//! - rotations and conjugation add one key switch: 20 bits.
//! - a chain down to level 0 accumulates one multiply error per level (×10): 16 bits.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions; a failure should panic the test"
)]

use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, EvaluationKeys, Evaluator, KeyGenerator, Level,
    Params,
};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;
use helrm_core::Error;
use num_complex::Complex64;
use std::sync::Arc;

struct Fixture {
    ctx: Arc<CkksContext>,
    keygen: KeyGenerator,
    enc: Encryptor,
    eval: Evaluator,
}

const ROTATIONS: [i64; 6] = [1, 2, 5, -1, -7, 3000];

fn fixture(seed: u8) -> Fixture {
    let params = Params::preset("toy-n12-l10").unwrap();
    let ctx = CkksContext::new(params, Backend::Real).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([seed; 32])).unwrap();
    let slots = ctx.params().slots();
    let keys = keygen.evaluation_keys(&ROTATIONS, slots, true).unwrap();
    let pk = keygen.public_key().unwrap();
    let enc = Encryptor::with_rng(ctx.clone(), pk, Csprng::from_seed([seed ^ 0x55; 32]));
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    Fixture {
        ctx,
        keygen,
        enc,
        eval,
    }
}

fn values(seed: u64, len: usize) -> Vec<f64> {
    // A fixed, well-spread sequence in [−1, 1] (no RNG needed for reproducibility).
    (0..len)
        .map(|i| (((i as u64 * 2654435761 + seed * 97) % 20001) as f64 / 10000.0) - 1.0)
        .collect()
}

impl Fixture {
    fn slots(&self) -> usize {
        self.ctx.params().slots()
    }
    fn top(&self) -> Level {
        self.ctx.max_level()
    }
    fn scale(&self) -> f64 {
        self.ctx.params().default_scale()
    }
    fn encrypt(&mut self, v: &[f64]) -> Ciphertext {
        let pt = self
            .ctx
            .encode_real(v, self.top(), self.scale(), self.slots(), DataClass::Other)
            .unwrap();
        self.enc.encrypt(&pt).unwrap()
    }
    fn decrypt(&self, ct: &Ciphertext) -> Vec<f64> {
        Decryptor::new(self.ctx.clone(), self.keygen.secret_key())
            .decrypt_real(ct)
            .unwrap()
    }
    fn decrypt_complex(&self, ct: &Ciphertext) -> Vec<Complex64> {
        Decryptor::new(self.ctx.clone(), self.keygen.secret_key())
            .decrypt(ct)
            .unwrap()
    }
}

/// −log2 of the largest absolute difference.
fn precision_bits(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let err = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    -err.max(f64::MIN_POSITIVE).log2()
}

fn assert_bits(what: &str, got: &[f64], want: &[f64], bits: f64) {
    let p = precision_bits(got, want);
    assert!(
        p >= bits,
        "{what}: {p:.1} bits of precision, {bits} required"
    );
}

#[test]
fn encrypt_decrypt_round_trip() {
    let mut f = fixture(1);
    let v = values(1, f.slots());
    let ct = f.encrypt(&v);
    assert_eq!(ct.level(), f.top());
    assert_bits("fresh encryption", &f.decrypt(&ct), &v, 24.0);
}

#[test]
fn encryptions_at_alternating_levels_decrypt() {
    // The encryptor keeps the public key cut to the last level it encrypted at; switching
    // levels back and forth must always use the right cut.
    let mut f = fixture(2);
    let v = values(2, f.slots());
    for level in [f.top().get(), 2, 2, 0, f.top().get(), 1] {
        let pt = f
            .ctx
            .encode_real(
                &v,
                Level::new(level),
                f.scale(),
                f.slots(),
                DataClass::Other,
            )
            .unwrap();
        let ct = f.enc.encrypt(&pt).unwrap();
        assert_eq!(ct.level().get(), level);
        assert_bits("encryption at a level", &f.decrypt(&ct), &v, 24.0);
    }
}

#[test]
fn add_sub_neg() {
    let mut f = fixture(2);
    let (a, b) = (values(2, f.slots()), values(3, f.slots()));
    let (ca, cb) = (f.encrypt(&a), f.encrypt(&b));
    let sum: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    let diff: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let neg: Vec<f64> = a.iter().map(|x| -x).collect();
    assert_bits(
        "add",
        &f.decrypt(&f.eval.add(&ca, &cb).unwrap()),
        &sum,
        23.0,
    );
    assert_bits(
        "sub",
        &f.decrypt(&f.eval.sub(&ca, &cb).unwrap()),
        &diff,
        23.0,
    );
    assert_bits("neg", &f.decrypt(&f.eval.neg(&ca).unwrap()), &neg, 24.0);
}

#[test]
fn plaintext_and_constant_operations() {
    let mut f = fixture(3);
    let (a, b) = (values(4, f.slots()), values(5, f.slots()));
    let ca = f.encrypt(&a);
    let pb = f
        .eval
        .encode_real(
            &b,
            f.top(),
            f.scale(),
            f.slots(),
            DataClass::PlaintextWeight,
        )
        .unwrap();
    let sum: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    let diff: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let prod: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    assert_bits(
        "add_plain",
        &f.decrypt(&f.eval.add_plain(&ca, &pb).unwrap()),
        &sum,
        24.0,
    );
    assert_bits(
        "sub_plain",
        &f.decrypt(&f.eval.sub_plain(&ca, &pb).unwrap()),
        &diff,
        24.0,
    );
    let m = f
        .eval
        .rescale(&f.eval.mul_plain(&ca, &pb).unwrap())
        .unwrap();
    assert_eq!(m.level().get(), f.top().get() - 1);
    assert_bits("mul_plain + rescale", &f.decrypt(&m), &prod, 20.0);
    let c = f.eval.add_const(&ca, 0.375).unwrap();
    assert_bits(
        "add_const",
        &f.decrypt(&c),
        &a.iter().map(|x| x + 0.375).collect::<Vec<_>>(),
        24.0,
    );
    let q_top = f.ctx.params().q()[f.top().get()] as f64;
    let c = f
        .eval
        .rescale(&f.eval.mul_const(&ca, -0.7, q_top).unwrap())
        .unwrap();
    assert!(
        (c.scale() / f.scale() - 1.0).abs() < 1e-12,
        "mul_const at scale q_top keeps Δ after rescale"
    );
    assert_bits(
        "mul_const",
        &f.decrypt(&c),
        &a.iter().map(|x| -0.7 * x).collect::<Vec<_>>(),
        20.0,
    );
    let c = f.eval.mul_int(&ca, 3).unwrap();
    assert_bits(
        "mul_int",
        &f.decrypt(&c),
        &a.iter().map(|x| 3.0 * x).collect::<Vec<_>>(),
        22.0,
    );
}

#[test]
fn multiply_relinearise_rescale() {
    let mut f = fixture(4);
    let (a, b) = (values(6, f.slots()), values(7, f.slots()));
    let (ca, cb) = (f.encrypt(&a), f.encrypt(&b));
    let prod: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    let m = f.eval.mul_relin(&ca, &cb).unwrap();
    assert_eq!(m.degree(), 1);
    let r = f.eval.rescale(&m).unwrap();
    let want_scale = f.scale() * f.scale() / f.ctx.params().q()[f.top().get()] as f64;
    assert!(
        (r.scale() / want_scale - 1.0).abs() < 1e-12,
        "scale tracked exactly"
    );
    assert_bits("mul_relin + rescale", &f.decrypt(&r), &prod, 20.0);
    // Tensor, add, relinearise once.
    let t = f.eval.mul_no_relin(&ca, &cb).unwrap();
    assert_eq!(t.degree(), 2);
    assert_bits(
        "degree-2 decryption",
        &f.decrypt(&f.eval.rescale(&t).unwrap()),
        &prod,
        20.0,
    );
    let t2 = f.eval.add(&t, &t).unwrap();
    let r2 = f.eval.rescale(&f.eval.relinearize(&t2).unwrap()).unwrap();
    assert_bits(
        "relinearize(2ab)",
        &f.decrypt(&r2),
        &prod.iter().map(|x| 2.0 * x).collect::<Vec<_>>(),
        19.0,
    );
}

#[test]
fn rotations_are_cyclic_shifts() {
    let mut f = fixture(5);
    let n = f.slots();
    let a = values(8, n);
    let ca = f.encrypt(&a);
    for r in ROTATIONS {
        let got = f.decrypt(&f.eval.rotate(&ca, r).unwrap());
        let want: Vec<f64> = (0..n)
            .map(|i| a[(i as i64 + r).rem_euclid(n as i64) as usize])
            .collect();
        assert_bits(&format!("rotate {r}"), &got, &want, 20.0);
    }
    // Rotation by the slot count is the identity and needs no key.
    assert_bits(
        "rotate by slots",
        &f.decrypt(&f.eval.rotate(&ca, n as i64).unwrap()),
        &a,
        23.0,
    );
}

#[test]
fn rotations_on_sparse_slots() {
    let mut f = fixture(6);
    let slots = 64;
    let a = values(9, slots);
    let pt = f
        .ctx
        .encode_real(&a, f.top(), f.scale(), slots, DataClass::Other)
        .unwrap();
    let ct = f.enc.encrypt(&pt).unwrap();
    // Keys for sparse rotations: 5^r with r mod 64.
    let mut keys = EvaluationKeys::default();
    let k = f.ctx.galois_element_for_rotation(3, slots).unwrap();
    keys.insert_galois(k, f.keygen.galois_key(k).unwrap());
    let eval = Evaluator::new(f.ctx.clone(), Arc::new(keys));
    let got = f.decrypt(&eval.rotate(&ct, 3 + 64).unwrap());
    let want: Vec<f64> = (0..slots).map(|i| a[(i + 3) % slots]).collect();
    assert_bits("sparse rotate", &got, &want, 20.0);
}

#[test]
fn conjugation() {
    let mut f = fixture(7);
    let n = f.slots();
    let v: Vec<Complex64> = values(10, n)
        .iter()
        .zip(values(11, n))
        .map(|(&x, y)| Complex64::new(x, y))
        .collect();
    let pt = f
        .ctx
        .encode(&v, f.top(), f.scale(), n, DataClass::Other)
        .unwrap();
    let ct = f.enc.encrypt(&pt).unwrap();
    let got = f.decrypt_complex(&f.eval.conjugate(&ct).unwrap());
    let (re, im): (Vec<f64>, Vec<f64>) = got.iter().map(|z| (z.re, z.im)).unzip();
    assert_bits(
        "conjugate re",
        &re,
        &v.iter().map(|z| z.re).collect::<Vec<_>>(),
        20.0,
    );
    assert_bits(
        "conjugate im",
        &im,
        &v.iter().map(|z| -z.im).collect::<Vec<_>>(),
        20.0,
    );
}

#[test]
fn hoisted_rotations_equal_one_by_one() {
    let mut f = fixture(8);
    let a = values(12, f.slots());
    let ca = f.encrypt(&a);
    let rots = [0i64, 1, 2, 5, -1, -7];
    let hoisted = f.eval.rotate_hoisted(&ca, &rots).unwrap();
    assert_eq!(hoisted.len(), rots.len());
    for (h, &r) in hoisted.iter().zip(&rots) {
        let single = f.decrypt(&f.eval.rotate(&ca, r).unwrap());
        let got = f.decrypt(h);
        assert_bits(
            &format!("hoisted vs single rotate {r}"),
            &got,
            &single,
            20.0,
        );
    }
}

#[test]
fn multiplication_chain_to_level_zero() {
    let mut f = fixture(9);
    let n = f.slots();
    let a = values(13, n);
    let b: Vec<f64> = values(14, n).iter().map(|x| 0.5 + 0.5 * x.abs()).collect();
    let mut ct = f.encrypt(&a);
    let mut want = a.clone();
    for _ in 0..f.top().get() {
        // The multiplier is encoded at scale q_ℓ, the prime the rescale drops, so the
        // product's scale returns exactly to the ciphertext's scale.
        let level = ct.level();
        let q_l = f.ctx.params().q()[level.get()] as f64;
        let pt = f
            .ctx
            .encode_real(&b, level, q_l, f.slots(), DataClass::Other)
            .unwrap();
        let cb = f.enc.encrypt(&pt).unwrap();
        ct = f
            .eval
            .rescale(&f.eval.mul_relin(&ct, &cb).unwrap())
            .unwrap();
        assert!((ct.scale() / f.scale() - 1.0).abs() < 1e-12);
        want.iter_mut().zip(&b).for_each(|(w, y)| *w *= y);
    }
    assert_eq!(ct.level().get(), 0);
    assert_bits("chain to level 0", &f.decrypt(&ct), &want, 16.0);
}

#[test]
fn bad_operands_have_their_own_errors() {
    let mut f = fixture(10);
    let a = values(15, f.slots());
    let ca = f.encrypt(&a);
    let low = f.eval.drop_level(&ca, 1).unwrap();
    assert!(matches!(
        f.eval.add(&ca, &low),
        Err(Error::LevelMismatch {
            op: "add",
            left: 10,
            right: 9
        })
    ));
    let sq = f
        .eval
        .rescale(&f.eval.mul_relin(&ca, &ca).unwrap())
        .unwrap();
    let low2 = f.eval.drop_level(&ca, 1).unwrap();
    assert!(matches!(
        f.eval.add(&sq, &low2),
        Err(Error::ScaleMismatch { op: "add", .. })
    ));
    assert!(matches!(
        f.eval.rotate(&ca, 4),
        Err(Error::MissingGaloisKey {
            rotation: Some(4),
            ..
        })
    ));
    let no_keys = Evaluator::new(f.ctx.clone(), Arc::new(EvaluationKeys::default()));
    assert!(matches!(
        no_keys.mul_relin(&ca, &ca),
        Err(Error::MissingRelinKey)
    ));
    assert!(matches!(
        no_keys.conjugate(&ca),
        Err(Error::MissingGaloisKey { rotation: None, .. })
    ));
    let bottom = f.eval.drop_to_level(&ca, Level::new(0)).unwrap();
    assert!(matches!(
        f.eval.rescale(&bottom),
        Err(Error::LevelTooLow {
            op: "rescale",
            level: 0,
            ..
        })
    ));
    assert!(matches!(
        f.eval.drop_level(&bottom, 1),
        Err(Error::LevelTooLow { .. })
    ));
    let sparse = f
        .ctx
        .encode_real(&a[..8], f.top(), f.scale(), 8, DataClass::Other)
        .unwrap();
    let cs = f.enc.encrypt(&sparse).unwrap();
    assert!(matches!(
        f.eval.add(&ca, &cs),
        Err(Error::SlotsMismatch { op: "add", .. })
    ));
    let t = f.eval.mul_no_relin(&ca, &ca).unwrap();
    assert!(matches!(
        f.eval.mul_relin(&t, &ca),
        Err(Error::CiphertextDegree { degree: 2, .. })
    ));
    let high_pt = f
        .ctx
        .encode_real(&a, Level::new(3), f.scale(), f.slots(), DataClass::Other)
        .unwrap();
    assert!(matches!(
        f.eval.mul_plain(&ca, &high_pt),
        Err(Error::LevelMismatch {
            op: "mul_plain",
            ..
        })
    ));
    assert!(matches!(
        f.ctx
            .encode_real(&a, Level::new(11), f.scale(), f.slots(), DataClass::Other),
        Err(Error::LevelOutOfRange {
            level: 11,
            max_level: 10
        })
    ));
    assert!(matches!(
        f.eval.add_const(&ca, f64::NAN),
        Err(Error::NonFiniteValue { .. })
    ));
    assert!(matches!(
        f.eval.mul_const(&ca, 1e30, 1e30),
        Err(Error::ConstantTooLarge { .. })
    ));
}

#[test]
fn secret_key_is_never_printed() {
    let f = fixture(11);
    let shown = format!("{:?} {:?}", f.keygen.secret_key(), f.keygen);
    assert!(shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("data"), "{shown}");
}

#[test]
fn symbolic_run_has_shapes_only() {
    let params = Params::preset("toy-n12-l10").unwrap();
    let ctx = CkksContext::new(params, Backend::Symbolic).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([1; 32])).unwrap();
    let slots = ctx.params().slots();
    let keys = keygen.evaluation_keys(&[1, 2], slots, false).unwrap();
    let mut enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([2; 32]),
    );
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    let pt = ctx
        .encode_real(
            &[1.0],
            ctx.max_level(),
            ctx.params().default_scale(),
            slots,
            DataClass::Other,
        )
        .unwrap();
    let ct = enc.encrypt(&pt).unwrap();
    let r = eval
        .rotate_hoisted(
            &eval.rescale(&eval.mul_relin(&ct, &ct).unwrap()).unwrap(),
            &[1, 2],
        )
        .unwrap();
    assert_eq!(r[1].level().get(), 9);
    assert_eq!(r[1].bytes(), 2 * 10 * 4096 * 8);
    assert!(matches!(
        Decryptor::new(ctx.clone(), keygen.secret_key()).decrypt(&r[0]),
        Err(Error::SymbolicValue { .. })
    ));
}

#[test]
fn parallel_and_serial_results_are_identical() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut f = fixture(12);
            let a = values(16, f.slots());
            let ca = f.encrypt(&a);
            let r = f
                .eval
                .rotate(
                    &f.eval
                        .rescale(&f.eval.mul_relin(&ca, &ca).unwrap())
                        .unwrap(),
                    5,
                )
                .unwrap();
            f.decrypt(&r)
        })
    };
    let (one, two) = (run(1), run(2));
    assert!(
        one.iter()
            .zip(&two)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "1-thread and 2-thread results differ"
    );
}

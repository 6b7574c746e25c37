//! Bootstrapping at toy size (`toy-n12-boot`: N = 2^12, helrm-n16-boot's chain): precision
//! and levels for full and sparse slots, real and complex values; the key set; typed errors.
//!
//! Precision thresholds (bits = −log2 of the mean and of the largest slot error, inputs
//! uniform in [−1, 1]). EvalMod's error in units of q_0 (about 2^-40 after the double
//! angles, from encryption noise at the 2^60 EvalMod scale) is multiplied by 2^ρ/2π in the
//! coefficients and by about √(2n) in the slots, and the sine adds its linearisation error
//! (2π·2^-ρ·c)²/6 relative to each coefficient c; the default message ratio
//! ρ = 8 + ⌊log2(2048/n)/2⌋ balances the two (8 at 2048 slots, 10 at 64, 13 at 1). Measured:
//! 2048 slots, mean 24.4 and min 22.9 bits; 64 slots, 25.2/23.6 (real) and 23.3/22.1
//! (complex); 1 and 2 slots, 23.5 and 24.0 (complex). The thresholds, mean ≥ 21 and
//! min ≥ 19 bits, keep about two bits of margin.

use helrm_core::circuits::bootstrap::precision::precision;
use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper, DiagonalStorage, KeyReport};
use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, EvaluationKeys, Evaluator, KeyGenerator, Level,
    Params,
};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;
use helrm_core::Error;
use num_complex::Complex64;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;

fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

fn values(slots: usize, complex: bool, seed: u64) -> Vec<Complex64> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..slots)
        .map(|_| {
            let re = uniform(&mut rng);
            let im = if complex { uniform(&mut rng) } else { 0.0 };
            Complex64::new(re, im)
        })
        .collect()
}

/// A toy context, a bootstrapper for `slots` slots, its keys, an encryptor.
struct Setup {
    ctx: Arc<CkksContext>,
    boot: Bootstrapper,
    keygen: KeyGenerator,
    keys: EvaluationKeys,
    enc: Encryptor,
}

#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn setup(slots: usize, storage: DiagonalStorage) -> Setup {
    let ctx = CkksContext::new(Params::preset("toy-n12-boot").unwrap(), Backend::Real).unwrap();
    let config = BootstrapConfig::new(slots).with_diagonals(storage);
    let boot = Bootstrapper::new(ctx.clone(), config).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([1; 32])).unwrap();
    let keys = boot.generate_keys(&mut keygen).unwrap();
    let enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([2; 32]),
    );
    Setup {
        ctx,
        boot,
        keygen,
        keys,
        enc,
    }
}

impl Setup {
    #[expect(
        clippy::unwrap_used,
        reason = "test helper: a failure is a test failure"
    )]
    fn encrypt(&mut self, z: &[Complex64], level: usize) -> Ciphertext {
        let pt = self
            .ctx
            .encode(
                z,
                Level::new(level),
                self.ctx.params().default_scale(),
                self.boot.slots(),
                DataClass::Other,
            )
            .unwrap();
        self.enc.encrypt(&pt).unwrap()
    }

    fn evaluator(&self) -> Evaluator {
        Evaluator::new(self.ctx.clone(), Arc::new(self.keys.clone()))
    }

    #[expect(
        clippy::unwrap_used,
        reason = "test helper: a failure is a test failure"
    )]
    fn decrypt(&self, ct: &Ciphertext) -> Vec<Complex64> {
        Decryptor::new(self.ctx.clone(), self.keygen.secret_key())
            .decrypt(ct)
            .unwrap()
    }
}

/// Bootstraps `z` (encrypted at `level`) and returns (mean bits, min bits, output level).
#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn round_trip(s: &mut Setup, z: &[Complex64], level: usize) -> (f64, f64, Level) {
    let ct = s.encrypt(z, level);
    let eval = s.evaluator();
    let out = s.boot.bootstrap(&eval, &ct).unwrap();
    assert_eq!(out.slots(), s.boot.slots());
    assert!((out.scale() / s.ctx.params().default_scale() - 1.0).abs() < 1e-9);
    let got = s.decrypt(&out);
    let p = precision(z, &got).unwrap();
    (p.mean_bits, p.min_bits, out.level())
}

#[test]
fn full_slots_complex_values() {
    let mut s = setup(2048, DiagonalStorage::PreEncoded);
    let z = values(2048, true, 5);
    let (mean, min, level) = round_trip(&mut s, &z, 0);
    // The result has 10 levels left: helrm-n16-l10's chain, far above the input's level 0.
    assert_eq!(level, Level::new(10));
    assert_eq!(level, s.boot.output_level());
    assert!(mean >= 21.0, "mean {mean:.2} bits");
    assert!(min >= 19.0, "min {min:.2} bits");
}

#[test]
fn full_slots_real_values_from_a_higher_level() {
    let mut s = setup(2048, DiagonalStorage::PreEncoded);
    let z = values(2048, false, 6);
    // Any input level works: it is dropped to level 0 first.
    let (mean, min, level) = round_trip(&mut s, &z, 4);
    assert_eq!(level, Level::new(10));
    assert!(mean >= 21.0, "mean {mean:.2} bits");
    assert!(min >= 19.0, "min {min:.2} bits");
}

#[test]
fn sparse_slots_real_and_complex() {
    let mut s = setup(64, DiagonalStorage::PreEncoded);
    // The subring trace needs log2(N/2n) = 5 rotations over the full ring.
    assert_eq!(s.boot.ring_rotations(), vec![64, 128, 256, 512, 1024]);
    for (complex, seed) in [(false, 7), (true, 8)] {
        let z = values(64, complex, seed);
        let (mean, min, level) = round_trip(&mut s, &z, 0);
        assert_eq!(level, Level::new(10));
        assert!(mean >= 21.0, "complex={complex}: mean {mean:.2} bits");
        assert!(min >= 19.0, "complex={complex}: min {min:.2} bits");
    }
}

#[test]
fn one_and_two_slots() {
    // One slot has no butterfly at all (every transform level is the identity); two slots
    // have one.
    for slots in [1usize, 2] {
        let mut s = setup(slots, DiagonalStorage::PreEncoded);
        let z = values(slots, true, 9);
        let (mean, _, level) = round_trip(&mut s, &z, 0);
        assert_eq!(level, Level::new(10));
        assert!(mean >= 21.0, "slots={slots}: mean {mean:.2} bits");
    }
}

#[test]
fn on_the_fly_diagonals_give_the_same_ciphertext() {
    let mut a = setup(16, DiagonalStorage::PreEncoded);
    let b = setup(16, DiagonalStorage::OnTheFly);
    let ct = a.encrypt(&values(16, true, 10), 0);
    let x = a.boot.bootstrap(&a.evaluator(), &ct).unwrap();
    let y = b.boot.bootstrap(&b.evaluator(), &ct).unwrap();
    // Same keys (same seed), same encodings: the same result, bit for bit.
    assert_eq!(a.decrypt(&x), a.decrypt(&y));
}

#[test]
fn keys_are_exactly_the_circuits_rotations() {
    let s = setup(2048, DiagonalStorage::PreEncoded);
    let want = s.boot.galois_elements().unwrap();
    let got: Vec<_> = s.keys.galois_elements().collect();
    assert_eq!(got, want);
    // CoeffsToSlots and SlotsToCoeffs share their rotations, plus conjugation.
    assert_eq!(want.len(), s.boot.rotations().len() + 1);
    assert!(s.boot.ring_rotations().is_empty());
    let report = KeyReport::of(&s.keys);
    assert_eq!(report.galois_keys, want.len());
    assert!(report.relin_key);
    // dnum = 7 digits × 2 polynomials × (26 + 4) limbs × 4096 words × 8 bytes per key.
    let per_key = 7 * 2 * 30 * 4096 * 8;
    assert_eq!(report.bytes, (want.len() as u64 + 1) * per_key);
}

#[test]
fn typed_errors_before_any_work() {
    let mut s = setup(16, DiagonalStorage::PreEncoded);
    let ct = s.encrypt(&values(16, false, 11), 0);
    let eval = s.evaluator();

    // A ciphertext on another slot count.
    let other = {
        let pt = s
            .ctx
            .encode_real(&[0.5], Level::new(0), 2f64.powi(40), 8, DataClass::Other)
            .unwrap();
        s.enc.encrypt(&pt).unwrap()
    };
    assert_eq!(
        s.boot.bootstrap(&eval, &other).unwrap_err(),
        Error::BootstrapSlots {
            slots: 8,
            expected: 16
        }
    );

    // A missing rotation key is named by its rotation; a missing conjugation key by None.
    let r = s.boot.rotations()[0];
    let k = s.ctx.galois_element_for_rotation(r, 16).unwrap();
    let mut keys = s.keys.clone();
    assert!(keys.remove_galois(k));
    let e = Evaluator::new(s.ctx.clone(), Arc::new(keys));
    assert_eq!(
        s.boot.bootstrap(&e, &ct).unwrap_err(),
        Error::MissingGaloisKey {
            rotation: Some(r),
            galois_element: k.0
        }
    );
    let ring = s.boot.ring_rotations()[0];
    let k = s
        .ctx
        .galois_element_for_rotation(ring, s.ctx.params().slots())
        .unwrap();
    let mut keys = s.keys.clone();
    assert!(keys.remove_galois(k));
    let e = Evaluator::new(s.ctx.clone(), Arc::new(keys));
    assert_eq!(
        s.boot.bootstrap(&e, &ct).unwrap_err(),
        Error::MissingGaloisKey {
            rotation: Some(ring),
            galois_element: k.0
        }
    );
    let conj = s.ctx.galois_element_conjugate();
    let mut keys = s.keys.clone();
    assert!(keys.remove_galois(conj));
    let e = Evaluator::new(s.ctx.clone(), Arc::new(keys));
    assert_eq!(
        s.boot.bootstrap(&e, &ct).unwrap_err(),
        Error::MissingGaloisKey {
            rotation: None,
            galois_element: conj.0
        }
    );
    let e = Evaluator::new(s.ctx.clone(), Arc::new(EvaluationKeys::default()));
    assert_eq!(
        s.boot.bootstrap(&e, &ct).unwrap_err(),
        Error::MissingRelinKey
    );

    // An input scale above q_0/2^4 ≈ 2^51 leaves the sine no room.
    let big = {
        let pt = s
            .ctx
            .encode_real(&[0.5], Level::new(0), 2f64.powi(52), 16, DataClass::Other)
            .unwrap();
        s.enc.encrypt(&pt).unwrap()
    };
    assert!(matches!(
        s.boot.bootstrap(&eval, &big),
        Err(Error::BootstrapScale { .. })
    ));

    // An evaluator over other parameters.
    let toy = CkksContext::new(Params::preset("toy-n12").unwrap(), Backend::Real).unwrap();
    let e = Evaluator::new(toy, Arc::new(EvaluationKeys::default()));
    assert!(matches!(
        s.boot.bootstrap(&e, &ct),
        Err(Error::BootstrapContext { .. })
    ));

    // An unrelinearised ciphertext.
    let sq = eval.mul_no_relin(&ct, &ct).unwrap();
    assert!(matches!(
        s.boot.bootstrap(&eval, &sq),
        Err(Error::CiphertextDegree { degree: 2, .. })
    ));
}

#[test]
fn bad_configurations() {
    let ctx = CkksContext::new(Params::preset("toy-n12-boot").unwrap(), Backend::Symbolic).unwrap();
    let build = |c: BootstrapConfig| Bootstrapper::new(ctx.clone(), c).map(|_| ());
    assert_eq!(
        build(BootstrapConfig::new(3)),
        Err(Error::InvalidSlots {
            slots: 3,
            max_slots: 2048
        })
    );
    assert!(matches!(
        build(BootstrapConfig::new(4096)),
        Err(Error::InvalidSlots { .. })
    ));
    let mut c = BootstrapConfig::new(16);
    c.cts_levels = 0;
    assert!(matches!(
        build(c),
        Err(Error::BootstrapConfig {
            field: "cts_levels",
            ..
        })
    ));
    let mut c = BootstrapConfig::new(16);
    c.log_message_ratio = Some(3);
    assert!(matches!(
        build(c),
        Err(Error::BootstrapConfig {
            field: "log_message_ratio",
            ..
        })
    ));
    let mut c = BootstrapConfig::new(16);
    c.k = 0;
    assert!(matches!(
        build(c),
        Err(Error::BootstrapConfig { field: "k", .. })
    ));
    let mut c = BootstrapConfig::new(16);
    c.output_scale = Some(f64::NAN);
    assert!(matches!(
        build(c),
        Err(Error::BootstrapConfig {
            field: "output_scale",
            ..
        })
    ));
    // 3 + 9 + 3 levels do not fit in helrm-n16-l10's shape (10 levels).
    let short =
        CkksContext::new(Params::preset("toy-n12-l10").unwrap(), Backend::Symbolic).unwrap();
    assert_eq!(
        Bootstrapper::new(short, BootstrapConfig::new(16)).unwrap_err(),
        Error::BootstrapDepth {
            needed: 15,
            available: 10
        }
    );
    // The default circuit leaves exactly helrm-n16-l10's 10 levels on the boot chain.
    let b = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(16)).unwrap();
    assert_eq!(b.depth(), 15);
    assert_eq!(b.output_level(), Level::new(10));
    assert_eq!(b.eval_mod_level(), Level::new(22));
    assert_eq!(b.slots_to_coeffs_level(), Level::new(13));
}

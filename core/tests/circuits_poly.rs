//! `circuits::poly` and `circuits::activation` on ciphertexts, against their `f64` twins, on
//! the insecure toy sets: `toy-n12-l10` (10 levels) and, for the 14-level composite ReLU, a
//! 16-level chain of the same shape built here with the explicit insecure opt-out.
//!
//! Precision thresholds (bits = −log2 of the largest absolute slot error):
//! - every level of a polynomial evaluation adds at most a multiplication error: a product
//!   of values ≤ 1 in magnitude carries ≈ 2^-24 relative error from each operand (fresh
//!   noise bound, `ckks_scheme.rs`), plus rescale rounding ≈ 2^-36 and key-switching noise
//!   ≈ 2^-40;
//! - the Chebyshev basis stays in [−1, 1] and its coefficients sum to ≲ 2^3 in absolute value
//!   for the functions here (sigmoid: Σ|c_i| ≈ 1.3; ReLU stages ≲ 8), so one level's error
//!   is ≲ 2^-21 and errors of `L` levels add to ≲ L·2^-21;
//! - so a depth-6 sigmoid must match its own plaintext polynomial to 2^-21·6 ≈ 2^-18.4: we
//!   require 18 bits; depth-2 monomials 20 bits.
//! - the composite sign amplifies input errors by its slope, ≤ ~1/ε near 0 but ≲ 2^4 for
//!   |x| ≥ 2ε; outside the band the ReLU must stay within its stated error plus
//!   14 levels × 2^-21 × 2^4 ≈ 2^-13: we require the stated 2^-14.2 outside-band bound plus
//!   2^-13.

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_core::circuits::activation::{
    Activation, CompositeRelu, SmoothFunction, DEFAULT_RELU_EPSILON,
};
use helrm_core::circuits::poly::{Basis, Polynomial};
use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, EvaluationKeys, Evaluator, KeyGenerator, Level,
    Params, ParamsLiteral, SecretDistribution, Security,
};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{CountingSink, DataClass, OpKind, Tracer};
use helrm_core::Error;
use std::sync::Arc;

struct Fixture {
    ctx: Arc<CkksContext>,
    keygen: KeyGenerator,
    enc: Encryptor,
    eval: Evaluator,
}

const SLOTS: usize = 256;

fn fixture_params(params: Arc<Params>, seed: u8) -> Fixture {
    let ctx = CkksContext::new(params, Backend::Real).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([seed; 32])).unwrap();
    let keys = keygen.evaluation_keys(&[], SLOTS, false).unwrap();
    let pk = keygen.public_key().unwrap();
    let enc = Encryptor::with_rng(ctx.clone(), pk, Csprng::from_seed([seed ^ 0xa5; 32]));
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    Fixture {
        ctx,
        keygen,
        enc,
        eval,
    }
}

fn fixture(seed: u8) -> Fixture {
    fixture_params(Params::preset("toy-n12-l10").unwrap(), seed)
}

/// toy-n12-l10's shape with 16 levels (insecure: tests only).
fn deep_fixture(seed: u8) -> Fixture {
    let mut log_q = vec![55];
    log_q.extend(std::iter::repeat_n(40, 16));
    let lit = ParamsLiteral {
        log_n: 12,
        log_q,
        log_p: vec![61, 61, 61],
        log_scale: 40,
        secret: SecretDistribution::SparseTernary {
            hamming_weight: 192,
        },
        dnum: None,
        error_std: 3.2,
        security: Security::InsecureTestOnly,
    };
    fixture_params(Params::new(lit).unwrap(), seed)
}

impl Fixture {
    fn encrypt(&mut self, v: &[f64]) -> Ciphertext {
        let pt = self
            .ctx
            .encode_real(
                v,
                self.ctx.max_level(),
                self.ctx.params().default_scale(),
                SLOTS,
                DataClass::Other,
            )
            .unwrap();
        self.enc.encrypt(&pt).unwrap()
    }
    fn decrypt(&self, ct: &Ciphertext) -> Vec<f64> {
        Decryptor::new(self.ctx.clone(), self.keygen.secret_key())
            .decrypt_real(ct)
            .unwrap()
    }
}

/// `SLOTS` evenly spaced points of `[a, b]`.
fn grid(a: f64, b: f64) -> Vec<f64> {
    (0..SLOTS)
        .map(|i| a + (b - a) * i as f64 / (SLOTS - 1) as f64)
        .collect()
}

fn max_err(got: &[f64], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max)
}

fn assert_bits(what: &str, got: &[f64], want: &[f64], bits: f64) {
    let p = -max_err(got, want).max(f64::MIN_POSITIVE).log2();
    assert!(
        p >= bits,
        "{what}: {p:.1} bits of precision, {bits} required"
    );
}

#[test]
fn chebyshev_sigmoid_degree_31_on_minus_8_8() {
    let mut f = fixture(1);
    let act = Activation::sigmoid(-8.0, 8.0, 31).unwrap();
    let stated = act.precision();
    // The interpolant's own error, measured in f64 when built: 3.0e-6 ≈ 2^-18.3 (sigmoid is
    // analytic in a strip of half-width π around [−8, 8], so Chebyshev coefficients decay
    // geometrically).
    assert!(stated.max_abs_error < 2f64.powi(-18), "{stated:?}");
    assert_eq!(act.depth(), 6);
    let x = grid(-8.0, 8.0);
    let ct = f.encrypt(&x);
    let y = act.evaluate(&f.eval, &ct).unwrap();
    assert_eq!(
        y.level().get(),
        10 - 6,
        "depth ⌈log2 32⌉ + 1 (map of [−8, 8])"
    );
    assert!(
        (y.scale() / ct.scale() - 1.0).abs() < 1e-12,
        "scale kept exactly"
    );
    let got = f.decrypt(&y);
    let plain: Vec<f64> = x.iter().map(|&v| act.eval_plain(v)).collect();
    assert_bits("encrypted vs plaintext polynomial", &got, &plain, 18.0);
    let exact: Vec<f64> = x
        .iter()
        .map(|&v| SmoothFunction::Sigmoid.value(v))
        .collect();
    let err = max_err(&got, &exact);
    assert!(
        err <= stated.max_abs_error + 2f64.powi(-18),
        "sigmoid error {err:e} above the stated {:e} + 2^-18",
        stated.max_abs_error
    );
}

#[test]
fn monomial_polynomials() {
    let mut f = fixture(2);
    let x = grid(-1.0, 1.0);
    let ct = f.encrypt(&x);
    for (name, coeffs, depth) in [
        ("x²", vec![0.0, 0.0, 1.0], 2),
        ("3x² − 2x³", vec![0.0, 0.0, 3.0, -2.0], 2),
        ("x + 0.5", vec![0.5, 1.0], 1),
        (
            "x^7 − x/3",
            vec![0.0, -1.0 / 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            3,
        ),
    ] {
        let p = Polynomial::monomial(&coeffs).unwrap();
        assert_eq!(p.basis(), Basis::Monomial);
        assert_eq!(p.depth(), depth, "{name}");
        let y = p.evaluate(&f.eval, &ct).unwrap();
        assert_eq!(y.level().get(), 10 - depth, "{name}");
        let want: Vec<f64> = x.iter().map(|&v| p.eval_plain(v)).collect();
        assert_bits(name, &f.decrypt(&y), &want, 20.0);
    }
    // The 1-level square.
    let sq = Activation::square();
    let y = sq.evaluate(&f.eval, &ct).unwrap();
    assert_eq!(y.level().get(), 9);
    let want: Vec<f64> = x.iter().map(|v| v * v).collect();
    assert_bits("square activation", &f.decrypt(&y), &want, 20.0);
}

#[test]
fn every_degree_uses_optimal_depth() {
    // Chebyshev polynomials on [−1, 1] of every degree 1..=20 with coefficients decaying as
    // 1/(i+1): each consumes exactly ⌈log2(d + 1)⌉ levels and matches its f64 twin.
    let mut f = fixture(3);
    let x = grid(-1.0, 1.0);
    let ct = f.encrypt(&x);
    for d in 1..=20usize {
        let coeffs: Vec<f64> = (0..=d)
            .map(|i| if i % 3 == 1 { -1.0 } else { 1.0 } / (i + 1) as f64)
            .collect();
        let p = Polynomial::chebyshev(&coeffs, -1.0, 1.0).unwrap();
        let want_depth = (usize::BITS - d.leading_zeros()) as usize;
        assert_eq!(p.depth(), want_depth, "d = {d}");
        let y = p.evaluate(&f.eval, &ct).unwrap();
        assert_eq!(y.level().get(), 10 - want_depth, "d = {d}");
        assert!(
            (y.scale() / ct.scale() - 1.0).abs() < 1e-12,
            "d = {d}: scale"
        );
        let want: Vec<f64> = x.iter().map(|&v| p.eval_plain(v)).collect();
        assert_bits(&format!("degree {d}"), &f.decrypt(&y), &want, 20.0);
    }
    // Shifted interval of length 2 ([0, 2]): no level for the map.
    let p = Polynomial::interpolate(|v| (v - 1.0).exp(), 0.0, 2.0, 7).unwrap();
    assert_eq!(p.depth(), 3);
    let x2 = grid(0.0, 2.0);
    let ct2 = f.encrypt(&x2);
    let y = p.evaluate(&f.eval, &ct2).unwrap();
    assert_eq!(y.level().get(), 7);
    let want: Vec<f64> = x2.iter().map(|&v| p.eval_plain(v)).collect();
    assert_bits("exp on [0, 2]", &f.decrypt(&y), &want, 20.0);
}

#[test]
fn smooth_activations_state_their_precision() {
    let mut f = fixture(4);
    let x = grid(-6.0, 6.0);
    let ct = f.encrypt(&x);
    for (act, func) in [
        (
            Activation::silu(-6.0, 6.0, 31).unwrap(),
            SmoothFunction::Silu,
        ),
        (
            Activation::gelu(-6.0, 6.0, 31).unwrap(),
            SmoothFunction::Gelu,
        ),
    ] {
        let stated = act.precision();
        assert!(
            stated.max_abs_error < 2f64.powi(-10),
            "{func:?}: {stated:?}"
        );
        let got = f.decrypt(&act.evaluate(&f.eval, &ct).unwrap());
        let exact: Vec<f64> = x.iter().map(|&v| func.value(v)).collect();
        let err = max_err(&got, &exact);
        assert!(
            err <= stated.max_abs_error + 2f64.powi(-16),
            "{func:?}: {err:e}"
        );
    }
}

#[test]
fn default_relu_precision_is_as_documented() {
    let Activation::Relu(r) = Activation::relu().unwrap() else {
        panic!("relu() is a ReLU");
    };
    assert_eq!(r.epsilon(), DEFAULT_RELU_EPSILON);
    assert_eq!(
        r.stages()
            .iter()
            .map(Polynomial::degree)
            .collect::<Vec<_>>(),
        vec![15, 15, 27]
    );
    assert_eq!(r.depth(), 14);
    assert!(
        r.sign_error() < 2f64.powf(-13.2),
        "sign {:e}",
        r.sign_error()
    );
    let act = Activation::Relu(r.clone());
    let p = act.precision();
    assert!(
        p.max_abs_error < 2f64.powf(-14.2),
        "relu outside band {:e}",
        p.max_abs_error
    );
    assert!(
        r.band_error() < 2f64.powi(-13),
        "relu inside band {:e}",
        r.band_error()
    );
    // Each normalised stage maps [−1, 1] into [−1, 1], so the next stage is evaluated where
    // its Chebyshev basis is bounded.
    for (i, s) in r.stages()[..2].iter().enumerate() {
        let m = (0..=4000)
            .map(|k| s.eval_plain(-1.0 + k as f64 / 2000.0).abs())
            .fold(0.0f64, f64::max);
        assert!(m <= 1.0 + 1e-12, "stage {i} reaches {m}");
    }
    // Odd stages: the composite sign is odd.
    for &v in &[0.01, 0.1, 0.5] {
        let s = |x: f64| 2.0 * r.step_plain(x) - 1.0;
        assert!((s(v) + s(-v)).abs() < 1e-12);
    }
}

#[test]
fn composite_relu_on_ciphertexts_within_stated_error() {
    let mut f = deep_fixture(5);
    let act = Activation::relu().unwrap();
    let stated = act.precision();
    let x = grid(-1.0, 1.0);
    let ct = f.encrypt(&x);
    let y = act.evaluate(&f.eval, &ct).unwrap();
    assert_eq!(y.level().get(), 16 - 14);
    assert!(
        (y.scale() / ct.scale() - 1.0).abs() < 1e-12,
        "scale kept exactly"
    );
    let got = f.decrypt(&y);
    let bound = stated.max_abs_error + 2f64.powi(-13);
    let band = 2.0 * DEFAULT_RELU_EPSILON;
    for (&v, &g) in x.iter().zip(&got) {
        if v.abs() >= band {
            assert!(
                (g - v.max(0.0)).abs() <= bound,
                "relu({v}) = {g}, error above {bound:e}"
            );
        }
    }
    // Inside the band the error stays at the band's plaintext level plus noise.
    let worst = x
        .iter()
        .zip(&got)
        .map(|(&v, &g)| (g - v.max(0.0)).abs())
        .fold(0.0f64, f64::max);
    assert!(worst < 2f64.powi(-12), "worst ReLU error {worst:e}");
    // Plaintext twin.
    let plain: Vec<f64> = x.iter().map(|&v| act.eval_plain(v)).collect();
    assert!(max_err(&got, &plain) < 2f64.powi(-12));
}

#[test]
fn bad_inputs_have_typed_errors() {
    let mut f = fixture(6);
    let x = grid(-1.0, 1.0);
    let ct = f.encrypt(&x);
    let sigmoid = Activation::sigmoid(-8.0, 8.0, 31).unwrap();
    let low = f.eval.drop_to_level(&ct, Level::new(5)).unwrap();
    assert!(matches!(
        sigmoid.evaluate(&f.eval, &low),
        Err(Error::LevelTooLow {
            op: "polynomial",
            level: 5,
            needed: 6
        })
    ));
    assert!(matches!(
        Activation::relu().unwrap().evaluate(&f.eval, &ct),
        Err(Error::LevelTooLow {
            op: "relu",
            level: 10,
            needed: 14
        })
    ));
    let bottom = f.eval.drop_to_level(&ct, Level::new(0)).unwrap();
    assert!(matches!(
        Activation::square().evaluate(&f.eval, &bottom),
        Err(Error::LevelTooLow { op: "square", .. })
    ));
    let no_relin = Evaluator::new(f.ctx.clone(), Arc::new(EvaluationKeys::default()));
    assert!(matches!(
        sigmoid.evaluate(&no_relin, &ct),
        Err(Error::MissingRelinKey)
    ));
    assert!(matches!(
        Activation::sigmoid(1.0, -1.0, 7),
        Err(Error::InvalidInterval { .. })
    ));
    assert!(matches!(
        Activation::sigmoid(-1.0, 1.0, 0),
        Err(Error::PolynomialDegree { degree: 0, .. })
    ));
    assert!(matches!(
        CompositeRelu::new(&[15, 16], 0.01),
        Err(Error::PolynomialDegree { degree: 16, .. })
    ));
    assert!(matches!(
        CompositeRelu::new(&[15], 1.5),
        Err(Error::InvalidInterval { .. })
    ));
}

#[test]
fn polynomial_trace_is_scoped_and_counted() {
    let mut f = fixture(7);
    let ct = f.encrypt(&grid(-1.0, 1.0));
    let counting = Arc::new(CountingSink::new());
    let eval = f
        .eval
        .clone()
        .with_tracer(Arc::new(Tracer::new(counting.clone())));
    let p =
        Polynomial::chebyshev(&[0.1, 0.5, 0.0, -0.25, 0.0, 0.125, 0.0, 0.0625], -1.0, 1.0).unwrap();
    p.evaluate(&eval, &ct).unwrap();
    // Odd part of degree 7 with baby bound 4: powers T2, T3, T4 (3 products), the lead
    // quotient of degree 3 splits at T2 (1 product), times T4 (1 product); remainder leaf.
    assert_eq!(counting.count(OpKind::MulRelin), 5);
    assert_eq!(counting.count(OpKind::Rescale) as usize, 3 + 3);
}

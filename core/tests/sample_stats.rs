//! Sampler statistics within stated bounds, with fixed seeds (deterministic: they cannot
//! flake), plus bad-input errors and a ChaCha20 known answer.
//!
//! Tolerances are 6 standard deviations of the statistic under the intended distribution,
//! derived next to each check: a correct sampler passes any seed with probability about
//! 1 − 2·10⁻⁹ per check, while the biases these tests look for (an off-by-one range, a
//! skewed sign, a wrong σ) move the statistic by far more.

use helrm_core::math::modarith::Modulus;
use helrm_core::math::prime::generate_primes;
use helrm_core::math::rns::RnsBasis;
use helrm_core::math::sample::{
    lift_signed, Csprng, DiscreteGaussian, DEFAULT_BOUND, DEFAULT_SIGMA, MAX_GAUSSIAN_BOUND,
};
use helrm_core::Error;
use rand_core::RngCore;

fn rng(tag: u8) -> Csprng {
    Csprng::from_seed([tag; 32])
}

#[test]
fn chacha20_known_answer() {
    // RFC 8439 / the original ChaCha20 test vector for an all-zero key and nonce: the
    // keystream starts 76 b8 e0 ad a0 f1 3d 90 (read as little-endian words).
    let mut r = Csprng::from_seed([0; 32]);
    assert_eq!(r.next_u64(), 0x903d_f1a0_ade0_b876);
    assert_eq!(format!("{r:?}"), "Csprng { .. }");
}

#[test]
fn seeds_reproduce_and_os_seeds_differ() {
    let q = Modulus::new(generate_primes(1024, &[50]).unwrap()[0]).unwrap();
    let (mut a, mut b) = (vec![0u64; 64], vec![0u64; 64]);
    rng(1).uniform_mod(&q, &mut a);
    rng(1).uniform_mod(&q, &mut b);
    assert_eq!(a, b);
    rng(2).uniform_mod(&q, &mut b);
    assert_ne!(a, b);
    let mut os1 = Csprng::from_os().unwrap();
    let mut os2 = Csprng::from_os().unwrap();
    os1.uniform_mod(&q, &mut a);
    os2.uniform_mod(&q, &mut b);
    assert_ne!(a, b); // equal with probability 2^-3200
}

#[test]
fn uniform_mean_and_range() {
    // Uniform on [0, q): mean (q−1)/2, standard deviation q/√12, so the mean of n samples
    // has standard deviation q/√(12n). n = 2^14: 6σ = 6q/√(12·2^14) ≈ 0.0135·q.
    let q = Modulus::new(0x3fff_ffff_ffe8_0001).unwrap();
    let n = 1 << 14;
    let mut a = vec![0u64; n];
    rng(3).uniform_mod(&q, &mut a);
    assert!(a.iter().all(|&x| x < q.value()));
    let qf = q.value() as f64;
    let mean = a.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
    let tol = 6.0 * qf / (12.0 * n as f64).sqrt();
    assert!(
        (mean - (qf - 1.0) / 2.0).abs() < tol,
        "mean {mean}, tol {tol}"
    );
    // Top and bottom quarters both occur ~n/4 times: std √(n·¼·¾) ≈ 55, 6σ ≈ 333.
    let low = a.iter().filter(|&&x| (x as f64) < qf / 4.0).count() as f64;
    let high = a.iter().filter(|&&x| (x as f64) >= 0.75 * qf).count() as f64;
    for c in [low, high] {
        assert!((c - n as f64 / 4.0).abs() < 333.0, "quarter count {c}");
    }
}

#[test]
fn uniform_small_modulus_is_unbiased() {
    // q = 17 (bits(q) = 5, so 15 of 32 draws are rejected — a modular-reduction shortcut
    // would favour 0..14). Each residue count over 17 000 draws is Binomial(17 000, 1/17):
    // mean 1000, std √(17 000·(1/17)·(16/17)) ≈ 30.7, 6σ ≈ 184.
    let q = Modulus::new(17).unwrap();
    let mut a = vec![0u64; 17_000];
    rng(4).uniform_mod(&q, &mut a);
    let mut counts = [0i64; 17];
    for &x in &a {
        counts[x as usize] += 1;
    }
    for (v, &c) in counts.iter().enumerate() {
        assert!((c - 1000).abs() < 184, "residue {v} drawn {c} times");
    }
    let mut r = rng(5);
    assert_eq!(r.uniform_inclusive(0), 0);
    assert!((0..1000).all(|_| r.uniform_inclusive(2) <= 2));
}

#[test]
fn ternary_frequencies() {
    // Each of −1, 0, 1 with probability 1/3: count over n = 30 000 is Binomial(n, 1/3) with
    // std √(n·(1/3)·(2/3)) ≈ 81.6; 6σ ≈ 490.
    let n = 30_000;
    let mut s = vec![7i64; n];
    rng(6).ternary(&mut s);
    for v in -1..=1 {
        let c = s.iter().filter(|&&x| x == v).count() as i64;
        assert!((c - 10_000).abs() < 490, "value {v} drawn {c} times");
    }
    assert_eq!(s.iter().filter(|x| x.abs() > 1).count(), 0);
}

#[test]
fn sparse_ternary_weight_balance_and_positions() {
    let (n, h, trials) = (1024usize, 64usize, 2000usize);
    let mut r = rng(7);
    let mut s = vec![5i64; n];
    let mut per_position = vec![0i64; n];
    let (mut plus, mut minus) = (0i64, 0i64);
    for _ in 0..trials {
        r.sparse_ternary(h, &mut s).unwrap();
        assert_eq!(s.iter().filter(|&&x| x != 0).count(), h);
        assert!(s.iter().all(|x| x.abs() <= 1));
        for (k, &x) in s.iter().enumerate() {
            per_position[k] += i64::from(x != 0);
            plus += i64::from(x == 1);
            minus += i64::from(x == -1);
        }
    }
    // Signs: plus ~ Binomial(h·trials = 128 000, 1/2): std √(128 000/4) ≈ 179, 6σ ≈ 1073.
    assert_eq!(plus + minus, (h * trials) as i64);
    assert!(
        (plus - minus).abs() < 2 * 1073,
        "plus {plus}, minus {minus}"
    );
    // Positions: each chosen with probability h/n = 1/16 per trial, so its count over 2000
    // trials has mean 125 and std √(2000·(1/16)·(15/16)) ≈ 10.8; 6σ ≈ 65.
    for (k, &c) in per_position.iter().enumerate() {
        assert!((c - 125).abs() < 65, "position {k} chosen {c} times");
    }
    // The extremes.
    r.sparse_ternary(0, &mut s).unwrap();
    assert!(s.iter().all(|&x| x == 0));
    r.sparse_ternary(n, &mut s).unwrap();
    assert!(s.iter().all(|&x| x.abs() == 1));
    assert!(matches!(
        r.sparse_ternary(n + 1, &mut s),
        Err(Error::InvalidSampler {
            param: "hamming_weight",
            ..
        })
    ));
}

#[test]
fn gaussian_moments_and_bound() {
    // D_{Z,3.2} truncated at 19 (≈ 5.9σ): mean 0 and variance σ² = 10.24 up to terms below
    // 10⁻⁹ (the smoothing error e^{−2π²σ²} and the tail mass beyond 19 are both negligible).
    // n = 2^16 samples: std of the sample mean σ/√n = 0.0125 (6σ: 0.075); std of the sample
    // variance ≈ σ²·√(2/n) ≈ 0.0566 (6σ: 0.34).
    let n = 1 << 16;
    let mut e = vec![0i64; n];
    rng(8)
        .gaussian(DEFAULT_SIGMA, DEFAULT_BOUND, &mut e)
        .unwrap();
    assert!(e.iter().all(|x| x.abs() <= 19));
    let mean = e.iter().sum::<i64>() as f64 / n as f64;
    let var = e.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    assert!(mean.abs() < 0.075, "mean {mean}");
    assert!((var - 10.24).abs() < 0.34, "variance {var}");
    // P[X = 0] = 1/Σρ ≈ 0.1247: count std √(n·p·(1−p)) ≈ 84.6, 6σ ≈ 508.
    let zeros = e.iter().filter(|&&x| x == 0).count() as f64;
    let p0 = 1.0
        / (-19..=19)
            .map(|x: i32| (-(x * x) as f64 / 20.48).exp())
            .sum::<f64>();
    assert!((zeros - p0 * n as f64).abs() < 508.0, "zeros {zeros}");
    // A small bound is honoured exactly.
    let mut small = vec![0i64; 4096];
    rng(9).gaussian(3.2, 2, &mut small).unwrap();
    assert!(small.iter().all(|x| x.abs() <= 2));
    assert!(small.contains(&2) && small.contains(&-2));
}

#[test]
fn gaussian_table_matches_the_distribution() {
    // The 64-bit CDT against the cumulative distribution evaluated in f64 (53-bit, so the
    // agreement is checked to 2^-50), and its symmetry T_v + T_{−v−1} = 2^64 (±1 rounding).
    let g = DiscreteGaussian::new(3.2, 19).unwrap();
    assert_eq!(g.bound(), 19);
    let t = g.table();
    assert_eq!(t.len(), 38);
    let w: Vec<f64> = (-19..=19)
        .map(|x: i32| (-(x * x) as f64 / 20.48).exp())
        .collect();
    let total: f64 = w.iter().sum();
    let mut cum = 0.0;
    for (i, &tv) in t.iter().enumerate() {
        cum += w[i] / total;
        let got = tv as f64 / 18_446_744_073_709_551_616.0;
        assert!(
            (got - cum).abs() < 2f64.powi(-50),
            "entry {i}: {got} vs {cum}"
        );
    }
    assert!(t.windows(2).all(|p| p[0] < p[1]));
    for i in 0..19 {
        let s = u128::from(t[i]) + u128::from(t[37 - i]);
        assert!(s.abs_diff(1u128 << 64) <= 1, "entries {i} and {}", 37 - i);
    }
}

#[test]
fn gaussian_rejects_bad_parameters() {
    let mut r = rng(10);
    let mut e = [0i64; 4];
    for sigma in [0.0, -3.2, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            r.gaussian(sigma, 19, &mut e),
            Err(Error::InvalidSampler { param: "sigma", .. })
        ));
    }
    for bound in [0, MAX_GAUSSIAN_BOUND + 1] {
        assert!(matches!(
            DiscreteGaussian::new(3.2, bound),
            Err(Error::InvalidSampler { param: "bound", .. })
        ));
    }
    // A very narrow Gaussian is essentially the point mass at 0 (P[|X| ≥ 1] ≈ 2e^{−50}).
    let g = DiscreteGaussian::new(0.1, 5).unwrap();
    let mut z = vec![1i64; 1000];
    g.sample(&mut r, &mut z);
    assert!(z.iter().all(|&x| x == 0));
}

#[test]
fn lift_signed_into_rns_limbs() {
    let primes = generate_primes(16, &[40, 55, 61]).unwrap();
    let basis = RnsBasis::new(&primes).unwrap();
    let coeffs = [0i64, 1, -1, 19, -19, i64::MIN, i64::MAX];
    let mut limbs = vec![vec![0u64; coeffs.len()]; 3];
    lift_signed(&coeffs, &basis, &mut limbs).unwrap();
    for (limb, &q) in limbs.iter().zip(&primes) {
        for (&got, &c) in limb.iter().zip(&coeffs) {
            assert_eq!(got, i128::from(c).rem_euclid(i128::from(q)) as u64);
        }
    }
    assert!(matches!(
        lift_signed(&coeffs, &basis, &mut limbs[..2]),
        Err(Error::LengthMismatch {
            expected: 3,
            got: 2,
            ..
        })
    ));
    let mut short = vec![vec![0u64; 3]; 3];
    assert!(matches!(
        lift_signed(&coeffs, &basis, &mut short),
        Err(Error::LengthMismatch {
            expected: 7,
            got: 3,
            ..
        })
    ));
}

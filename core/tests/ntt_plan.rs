//! NTT plans: round trips, negacyclic convolution against a naive product, bad inputs.

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

#[path = "ntt_common.rs"]
mod common;

use common::{prime, SplitMix};
use helrm_core::math::modarith::Modulus;
use helrm_core::math::ntt::{Isa, NttPlan};
use helrm_core::Error;

const BITS: [u32; 4] = [30, 50, 60, 62];

fn naive_negacyclic(a: &[u64], b: &[u64], q: u64) -> Vec<u64> {
    let n = a.len();
    let m = Modulus::new(q).unwrap();
    let mut out = vec![0u64; n];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let p = m.mul(x, y);
            let k = i + j;
            if k < n {
                out[k] = m.add(out[k], p);
            } else {
                out[k - n] = m.sub(out[k - n], p);
            }
        }
    }
    out
}

#[test]
fn round_trip_every_size_and_prime_size() {
    let mut rng = SplitMix(1);
    for log_n in 10..=17 {
        let n = 1usize << log_n;
        let reps = if log_n <= 12 { 3 } else { 1 };
        for bits in BITS {
            let q = prime(n, bits);
            for isa in [Isa::Scalar, Isa::best_available()] {
                let plan = NttPlan::try_new_with_isa(n, q, isa).unwrap();
                assert_eq!(plan.n(), n);
                assert_eq!(plan.modulus().value(), q);
                for _ in 0..reps {
                    let a = rng.vec_mod(n, q);
                    let mut b = a.clone();
                    plan.forward(&mut b).unwrap();
                    assert!(b.iter().all(|&x| x < q), "n={n} bits={bits}: forward range");
                    assert_ne!(a, b);
                    plan.inverse(&mut b).unwrap();
                    assert_eq!(a, b, "n={n} bits={bits} isa={}", plan.isa());
                }
            }
        }
    }
}

#[test]
fn pointwise_product_is_negacyclic_convolution() {
    let mut rng = SplitMix(2);
    for n in [1024usize, 2048] {
        for bits in [30u32, 45, 50, 55, 60, 62] {
            let q = prime(n, bits);
            let m = Modulus::new(q).unwrap();
            let a = rng.vec_mod(n, q);
            let b = rng.vec_mod(n, q);
            let want = naive_negacyclic(&a, &b, q);
            for isa in [Isa::Scalar, Isa::best_available()] {
                let plan = NttPlan::try_new_with_isa(n, q, isa).unwrap();
                let (mut fa, mut fb) = (a.clone(), b.clone());
                plan.forward(&mut fa).unwrap();
                plan.forward(&mut fb).unwrap();
                let mut c: Vec<u64> = fa.iter().zip(&fb).map(|(&x, &y)| m.mul(x, y)).collect();
                plan.inverse(&mut c).unwrap();
                assert_eq!(c, want, "n={n} bits={bits} isa={}", plan.isa());
            }
        }
    }
}

#[test]
fn monomial_x_maps_to_the_documented_evaluation_points() {
    // forward(X)[j] = ψ^(2·brv(j)+1): checks the order independently of the KAT files.
    let n = 2048;
    let q = prime(n, 40);
    let plan = NttPlan::try_new(n, q).unwrap();
    let m = plan.modulus();
    let mut a = vec![0u64; n];
    a[1] = 1;
    plan.forward(&mut a).unwrap();
    for (j, &v) in a.iter().enumerate() {
        let brv = j.reverse_bits() >> (usize::BITS - 11);
        assert_eq!(v, m.pow(plan.psi(), 2 * brv as u64 + 1), "index {j}");
    }
    assert_eq!(m.pow(plan.psi(), n as u64), q - 1);
}

#[test]
fn bad_degrees_are_refused() {
    let q = prime(1 << 12, 50);
    for n in [0usize, 1, 1000, 1 << 9, 3 << 10, 1 << 18] {
        assert!(
            matches!(
                NttPlan::try_new(n, q),
                Err(Error::InvalidRingDegree { n: got, min: 1024, max: 131072 }) if got == n
            ),
            "n = {n}"
        );
    }
}

#[test]
fn bad_moduli_are_refused() {
    let n = 1024;
    // Composite, ≡ 1 mod 2n: 2049 · 4097 ≡ 1 mod 2048.
    let composite = 2049u64 * 4097;
    assert_eq!(composite % 2048, 1);
    assert!(matches!(
        NttPlan::try_new(n, composite),
        Err(Error::InvalidModulus { q, .. }) if q == composite
    ));
    // Prime but not ≡ 1 mod 2n.
    assert!(matches!(
        NttPlan::try_new(n, 1_000_000_007),
        Err(Error::NotNttFriendly { q: 1_000_000_007, n: 1024, residue }) if residue == 1_000_000_007 % 2048
    ));
    // A 40-bit prime friendly for n = 1024 is not for n = 2^17 unless q ≡ 1 mod 2^18.
    let q = prime(1024, 40);
    if q % (1 << 18) != 1 {
        assert!(matches!(
            NttPlan::try_new(1 << 17, q),
            Err(Error::NotNttFriendly { .. })
        ));
    }
    // At or above 2^62, and below 2.
    for q in [1u64 << 62, (1u64 << 63) + 1, u64::MAX, 0, 1] {
        assert!(
            matches!(NttPlan::try_new(n, q), Err(Error::InvalidModulus { q: got, .. }) if got == q),
            "q = {q}"
        );
    }
}

#[test]
fn wrong_lengths_are_refused() {
    let n = 1024;
    let plan = NttPlan::try_new(n, prime(n, 50)).unwrap();
    for len in [0usize, 1, n - 1, n + 1, 2 * n] {
        let mut a = vec![0u64; len];
        assert_eq!(
            plan.forward(&mut a),
            Err(Error::LengthMismatch {
                what: "ntt forward input",
                expected: n,
                got: len
            })
        );
        assert_eq!(
            plan.inverse(&mut a),
            Err(Error::LengthMismatch {
                what: "ntt inverse input",
                expected: n,
                got: len
            })
        );
    }
}

#[test]
fn isa_names_and_fallback() {
    for isa in Isa::ALL {
        assert_eq!(Isa::parse(isa.name(), "test").unwrap(), isa);
    }
    assert_eq!(Isa::parse(" AVX512IFMA ", "test").unwrap(), Isa::Avx512Ifma);
    assert!(matches!(
        Isa::parse("sse9", "test"),
        Err(Error::UnknownIsa { value, origin: "test" }) if value == "sse9"
    ));
    assert!(Isa::Scalar.is_available());
    assert_eq!(
        Isa::available().last().copied(),
        Some(Isa::best_available())
    );
    let n = 1024;
    // IFMA only below 2^50: a 60-bit prime falls back to the best 64-bit kernel.
    let q60 = prime(n, 60);
    let plan = NttPlan::try_new_with_isa(n, q60, Isa::Avx512Ifma).unwrap();
    assert!(plan.isa() <= Isa::Avx512);
    let q50 = prime(n, 49);
    for isa in Isa::ALL {
        let plan = NttPlan::try_new_with_isa(n, q50, isa).unwrap();
        assert!(plan.isa() <= isa);
        assert!(plan.isa().is_available());
        if isa.is_available() {
            assert_eq!(plan.isa(), isa);
        }
    }
}

#[test]
fn plans_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<NttPlan>();
}

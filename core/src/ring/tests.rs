//! Ring-layer tests against independent oracles (naive evaluation, naive negacyclic product,
//! 128-bit CRT).

use super::*;
use crate::math::prime::{generate_primes, min_primitive_root_2n};
use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

const N: usize = 1 << 10;

fn ctx(q_bits: &[u32], p_bits: &[u32]) -> RingContext {
    let mut all = q_bits.to_vec();
    all.extend_from_slice(p_bits);
    let primes = generate_primes(N, &all).unwrap();
    let (q, p) = primes.split_at(q_bits.len());
    RingContext::new(N, q, p, Backend::Real).unwrap()
}

fn random_poly(ctx: &RingContext, q: usize, p: usize, seed: u64) -> RnsPoly<Coeff> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut data = Vec::new();
    for m in ctx.moduli(q, p) {
        data.extend((0..ctx.n()).map(|_| rng.next_u64() % m.value()));
    }
    RnsPoly::from_data(ctx, q, p, data).unwrap()
}

fn naive_negacyclic(a: &[u64], b: &[u64], m: &Modulus) -> Vec<u64> {
    let n = a.len();
    let mut out = vec![0u64; n];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let prod = m.mul(x, y);
            let k = i + j;
            if k < n {
                out[k] = m.add(out[k], prod);
            } else {
                out[k - n] = m.sub(out[k - n], prod);
            }
        }
    }
    out
}

#[test]
fn eval_form_is_evaluation_at_odd_powers_in_bit_reversed_order() {
    let c = ctx(&[50], &[]);
    let a = random_poly(&c, 1, 0, 1);
    let m = *c.q(0);
    let psi = min_primitive_root_2n(N, m.value()).unwrap();
    let e = a.clone().into_eval(&c).unwrap();
    let bits = N.trailing_zeros();
    for i in [0usize, 1, 2, 3, 17, 511, 1023] {
        let exp = 2 * (i.reverse_bits() >> (usize::BITS - bits)) as u64 + 1;
        let x = m.pow(psi, exp);
        // Horner evaluation of a at x.
        let want = a
            .limb(0)
            .iter()
            .rev()
            .fold(0u64, |acc, &c| m.add(m.mul(acc, x), c));
        assert_eq!(e.limb(0)[i], want, "slot {i}");
    }
}

#[test]
fn eval_product_is_negacyclic_product() {
    let c = ctx(&[40, 55], &[61]);
    let a = random_poly(&c, 2, 1, 2);
    let b = random_poly(&c, 2, 1, 3);
    let prod = a
        .clone()
        .into_eval(&c)
        .unwrap()
        .mul(&b.clone().into_eval(&c).unwrap(), &c)
        .unwrap();
    let prod = prod.into_coeff(&c).unwrap();
    for (i, m) in c.moduli(2, 1).enumerate() {
        assert_eq!(
            prod.limb(i),
            naive_negacyclic(a.limb(i), b.limb(i), m).as_slice(),
            "limb {i}"
        );
    }
}

#[test]
fn mul_add_accumulates() {
    let c = ctx(&[40, 40], &[]);
    let a = random_poly(&c, 2, 0, 4).into_eval(&c).unwrap();
    let b = random_poly(&c, 2, 0, 5).into_eval(&c).unwrap();
    let mut acc = random_poly(&c, 2, 0, 6).into_eval(&c).unwrap();
    let mut want = a.mul(&b, &c).unwrap();
    want.add_assign(&acc, &c).unwrap();
    acc.mul_add_assign(&a, &b, &c).unwrap();
    assert_eq!(acc, want);
}

#[test]
fn add_sub_neg_round_trip() {
    let c = ctx(&[40, 40], &[61]);
    let a = random_poly(&c, 2, 1, 7);
    let b = random_poly(&c, 2, 1, 8);
    let mut x = a.clone();
    x.add_assign(&b, &c).unwrap();
    x.sub_assign(&b, &c).unwrap();
    assert_eq!(x, a);
    x.neg_assign(&c);
    x.add_assign(&a, &c).unwrap();
    assert!(x.data().iter().all(|&v| v == 0));
}

#[test]
fn automorphism_commutes_with_ntt_and_composes() {
    let c = ctx(&[40, 50], &[]);
    let a = random_poly(&c, 2, 0, 9);
    for k in [5u64, 25, 2 * N as u64 - 1, 3, 1] {
        let auto = Automorphism::new(N, GaloisElement(k)).unwrap();
        let via_coeff = a.automorphism(&auto, &c).unwrap().into_eval(&c).unwrap();
        let via_eval = a
            .clone()
            .into_eval(&c)
            .unwrap()
            .automorphism(&auto, &c)
            .unwrap();
        assert_eq!(via_coeff, via_eval, "k = {k}");
    }
    let s5 = Automorphism::new(N, GaloisElement(5)).unwrap();
    let s25 = Automorphism::new(N, GaloisElement(25)).unwrap();
    let twice = a
        .automorphism(&s5, &c)
        .unwrap()
        .automorphism(&s5, &c)
        .unwrap();
    assert_eq!(twice, a.automorphism(&s25, &c).unwrap());
    // X → X^5 sends X to X^5 and X^(N-1) to −X^(5N−5 mod 2N).
    let mut x = RnsPoly::zero_coeff(&c, 1, 0);
    x.limb_mut(0)[1] = 1;
    let y = x.automorphism(&s5, &c).unwrap();
    assert_eq!(y.limb(0)[5], 1);
}

#[test]
fn rescale_rounds_exactly() {
    // Two primes: Q = q0·q1 < 2^100, so a 128-bit CRT oracle suffices.
    let c = ctx(&[45, 50], &[]);
    let (q0, q1) = (c.q(0).value(), c.q(1).value());
    let qq = u128::from(q0) * u128::from(q1);
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let xs: Vec<u128> = (0..N)
        .map(|_| ((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())) % qq)
        .collect();
    let mut data: Vec<u64> = xs.iter().map(|&x| (x % u128::from(q0)) as u64).collect();
    data.extend(xs.iter().map(|&x| (x % u128::from(q1)) as u64));
    let mut p = RnsPoly::<Coeff>::from_data(&c, 2, 0, data)
        .unwrap()
        .into_eval(&c)
        .unwrap();
    p.rescale_by_last_q(&c).unwrap();
    assert_eq!(p.q_count(), 1);
    let p = p.into_coeff(&c).unwrap();
    for (i, &x) in xs.iter().enumerate() {
        // round(x / q1) for the centred x in (−Q/2, Q/2].
        let xc = if x > qq / 2 {
            x as i128 - qq as i128
        } else {
            x as i128
        };
        let r = (2 * xc + q1 as i128).div_euclid(2 * q1 as i128);
        assert_eq!(
            p.limb(0)[i],
            r.rem_euclid(q0 as i128) as u64,
            "coefficient {i}"
        );
    }
}

#[test]
fn symbolic_polys_carry_shape_only() {
    let primes = generate_primes(N, &[40, 40, 61]).unwrap();
    let c = RingContext::new(N, &primes[..2], &primes[2..], Backend::Symbolic).unwrap();
    let a = RnsPoly::zero_coeff(&c, 2, 1);
    assert!(!a.is_real());
    assert_eq!(a.bytes(), 3 * N as u64 * 8);
    let mut e = a.into_eval(&c).unwrap();
    let f = e.clone();
    e.mul_add_assign(&f, &f, &c).unwrap();
    e.drop_p();
    e.rescale_by_last_q(&c).unwrap();
    assert_eq!((e.q_count(), e.p_count()), (1, 0));
}

#[test]
fn bad_inputs_have_their_own_errors() {
    let primes = generate_primes(N, &[40, 40]).unwrap();
    assert!(matches!(
        RingContext::new(1000, &primes, &[], Backend::Real),
        Err(Error::InvalidRingDegree { n: 1000, .. })
    ));
    assert!(matches!(
        RingContext::new(N, &[], &[], Backend::Real),
        Err(Error::InvalidBasis { .. })
    ));
    assert!(matches!(
        RingContext::new(N, &[primes[0], primes[0]], &[], Backend::Real),
        Err(Error::InvalidBasis { .. })
    ));
    assert!(matches!(
        RingContext::new(N, &[12289 * 2 + 1], &[], Backend::Symbolic),
        Err(Error::NotNttFriendly { .. })
    ));
    let c = RingContext::new(N, &primes, &[], Backend::Real).unwrap();
    assert!(matches!(
        RnsPoly::<Coeff>::from_data(&c, 3, 0, vec![]),
        Err(Error::LimbLayout { q_count: 3, .. })
    ));
    assert!(matches!(
        RnsPoly::<Coeff>::from_data(&c, 1, 0, vec![0; 5]),
        Err(Error::LengthMismatch {
            expected: N,
            got: 5,
            ..
        })
    ));
    let mut bad = vec![0; N];
    bad[7] = primes[0];
    assert!(matches!(
        RnsPoly::<Coeff>::from_data(&c, 1, 0, bad),
        Err(Error::ResidueOutOfRange {
            limb: 0,
            index: 7,
            ..
        })
    ));
    let mut a = RnsPoly::zero_eval(&c, 2, 0);
    let b = RnsPoly::zero_eval(&c, 1, 0);
    assert!(matches!(
        a.add_assign(&b, &c),
        Err(Error::ShapeMismatch {
            op: "add",
            left: (2, 0),
            right: (1, 0)
        })
    ));
    assert!(matches!(
        Automorphism::new(N, GaloisElement(4)),
        Err(Error::InvalidGaloisElement { k: 4, .. })
    ));
    assert!(matches!(
        Automorphism::new(N, GaloisElement(2 * N as u64 + 1)),
        Err(Error::InvalidGaloisElement { .. })
    ));
    let mut one = RnsPoly::zero_eval(&c, 1, 0);
    assert!(matches!(
        one.rescale_by_last_q(&c),
        Err(Error::LimbLayout { q_count: 1, .. })
    ));
    assert!(matches!(
        one.mul_residues_assign(&[1, 2], &c),
        Err(Error::LengthMismatch {
            expected: 1,
            got: 2,
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn signed_lift_is_consistent(seed in any::<u64>()) {
        let c = ctx(&[40, 40], &[61]);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let coeffs: Vec<i64> = (0..N).map(|_| (rng.next_u64() as i64) >> 20).collect();
        let p = RnsPoly::from_signed(&c, 2, 1, &coeffs).unwrap();
        for (i, m) in c.moduli(2, 1).enumerate() {
            for (j, &x) in coeffs.iter().enumerate() {
                prop_assert_eq!(p.limb(i)[j], m.reduce_i64(x));
            }
        }
        // Multiplying by −1 equals negation.
        let mut a = p.clone();
        a.mul_i64_assign(-1, &c);
        let mut b = p;
        b.neg_assign(&c);
        prop_assert_eq!(a, b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// All three paths of `from_i128`: coefficients below every prime (no reduction), within
    /// 64 bits but above a prime, and beyond 64 bits; against `rem_euclid`.
    #[test]
    fn wide_lift_matches_rem_euclid(seed in any::<u64>(), shift in prop_oneof![Just(30u32), Just(50), Just(90)]) {
        let c = ctx(&[40, 40], &[61]);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let coeffs: Vec<i128> = (0..N)
            .map(|_| {
                let v = (i128::from(rng.next_u64()) << 64 | i128::from(rng.next_u64())) >> (127 - shift);
                if rng.next_u64() % 2 == 0 { v } else { -v }
            })
            .collect();
        let p = RnsPoly::from_i128(&c, 2, 1, &coeffs).unwrap();
        for (i, m) in c.moduli(2, 1).enumerate() {
            for (j, &x) in coeffs.iter().enumerate() {
                prop_assert_eq!(p.limb(i)[j], x.rem_euclid(i128::from(m.value())) as u64);
            }
        }
    }
}

#[test]
fn wide_lift_refuses_a_wrong_length() {
    let c = ctx(&[40], &[]);
    assert!(matches!(
        RnsPoly::from_i128(&c, 1, 0, &[1, 2, 3]),
        Err(Error::LengthMismatch {
            expected: N,
            got: 3,
            ..
        })
    ));
}

#[test]
fn strided_lift_refuses_a_wrong_length() {
    let c = ctx(&[40], &[]);
    for gap in [0, 3, 2 * N] {
        assert!(matches!(
            RnsPoly::from_i128_strided(&c, 1, 0, gap, &[1, 2]),
            Err(Error::LengthMismatch { .. })
        ));
    }
}

/// A strided lift (a sparse encoding's subring) equals the lift of the scattered vector, on
/// all three paths.
#[test]
fn strided_lift_equals_the_scattered_lift() {
    let c = ctx(&[40, 40], &[61]);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for shift in [30u32, 50, 90] {
        for gap in [1usize, 4, N / 2] {
            let sub: Vec<i128> = (0..N / gap)
                .map(|_| {
                    let v = (i128::from(rng.next_u64()) << 64 | i128::from(rng.next_u64()))
                        >> (127 - shift);
                    if rng.next_u64() % 2 == 0 {
                        v
                    } else {
                        -v
                    }
                })
                .collect();
            let mut full = vec![0i128; N];
            for (i, &v) in sub.iter().enumerate() {
                full[i * gap] = v;
            }
            assert_eq!(
                RnsPoly::from_i128_strided(&c, 2, 1, gap, &sub).unwrap(),
                RnsPoly::from_i128(&c, 2, 1, &full).unwrap(),
                "gap {gap}, shift {shift}"
            );
        }
    }
}

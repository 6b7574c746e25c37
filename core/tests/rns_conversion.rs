//! RNS bases, CRT reconstruction, base conversion, ModDown and rescale against a big-integer
//! oracle (num-bigint): every residue vector is turned into the integer it represents and the
//! expected answer is computed on that integer directly.

use helrm_core::math::bigint::BigUint;
use helrm_core::math::prime::generate_primes;
use helrm_core::math::rns::{BaseConverter, Conversion, ModDownPlan, RnsBasis};
use helrm_core::Error;
use num_bigint::BigUint as Big;
use proptest::prelude::*;

const N: usize = 16; // ring degree for prime generation; conversions use their own lengths

#[expect(
    clippy::unwrap_used,
    reason = "test helper: every requested prime size exists"
)]
fn primes(sizes: &[u32]) -> Vec<u64> {
    generate_primes(N, sizes).unwrap()
}

/// The HE-LRM chain shape: one 55-bit, ten 40-bit primes for Q and three 61-bit for P.
fn helrm_chain() -> (Vec<u64>, Vec<u64>) {
    let mut sizes = vec![55u32];
    sizes.extend([40; 10]);
    sizes.extend([61; 3]);
    let all = primes(&sizes);
    (all[..11].to_vec(), all[11..].to_vec())
}

fn product(ps: &[u64]) -> Big {
    ps.iter().fold(Big::from(1u8), |acc, &p| acc * p)
}

fn to_big(x: &BigUint) -> Big {
    let mut digits = Vec::new();
    for &l in x.limbs() {
        digits.push(l as u32);
        digits.push((l >> 32) as u32);
    }
    Big::new(digits)
}

fn from_big(x: &Big) -> BigUint {
    BigUint::from_limbs(x.to_u64_digits())
}

fn residues(x: &Big, ps: &[u64]) -> Vec<u64> {
    ps.iter()
        .map(|&p| (x % p).to_u64_digits().first().copied().unwrap_or(0))
        .collect()
}

fn rem(x: &Big, p: u64) -> u64 {
    (x % p).to_u64_digits().first().copied().unwrap_or(0)
}

/// Textbook CRT with num-bigint: Σ r_i · M_i · (M_i^{-1} mod q_i) mod Q (inverse by Fermat).
fn crt(res: &[u64], ps: &[u64]) -> Big {
    let q = product(ps);
    let mut x = Big::from(0u8);
    for (&r, &p) in res.iter().zip(ps) {
        let m = &q / p;
        let inv = (&m % p).modpow(&Big::from(p - 2), &Big::from(p));
        x += Big::from(r) * &m * inv;
    }
    x % q
}

/// Σ_i [x_i·(Q/q_i)^{-1}]_{q_i} · (Q/q_i): the integer the approximate conversion computes.
fn fast_conv_integer(res: &[u64], ps: &[u64]) -> Big {
    let q = product(ps);
    let mut x = Big::from(0u8);
    for (&r, &p) in res.iter().zip(ps) {
        let m = &q / p;
        let inv = (&m % p).modpow(&Big::from(p - 2), &Big::from(p));
        let y = (Big::from(r) * inv) % p;
        x += y * &m;
    }
    x
}

/// A uniformly distributed big integer below `bound` from a proptest seed.
fn big_below(bound: &Big, seed: &[u64]) -> Big {
    let raw = Big::from_slice(
        &seed
            .iter()
            .flat_map(|&w| [w as u32, (w >> 32) as u32])
            .collect::<Vec<_>>(),
    );
    raw % bound
}

/// Values that stress the centred lift: 0, ±1, around ±Q/2, Q − 1.
fn edge_values(q: &Big) -> Vec<Big> {
    let half = q / 2u8;
    vec![
        Big::from(0u8),
        Big::from(1u8),
        q - 1u8,
        half.clone(),
        &half + 1u8,
        &half - 1u8,
        &half + 2u8,
    ]
}

/// Limb-major layout of several coefficients.
fn limbs_of(xs: &[Big], ps: &[u64]) -> Vec<Vec<u64>> {
    ps.iter()
        .map(|&p| xs.iter().map(|x| rem(x, p)).collect())
        .collect()
}

fn bases() -> Vec<Vec<u64>> {
    let (q, p) = helrm_chain();
    let mut q62 = primes(&[62; 20]); // 20 62-bit primes: the u128 accumulator must fold
    q62.reverse();
    vec![
        q.clone(),
        p.clone(),
        q[..1].to_vec(),
        q[3..7].to_vec(),
        primes(&[30, 35, 45, 50, 58]),
        q62,
    ]
}

#[test]
fn basis_rejects_bad_primes() {
    assert!(matches!(
        RnsBasis::new(&[]),
        Err(Error::BasisSize { len: 0, min: 1, .. })
    ));
    let ps = primes(&[40, 40]);
    assert!(matches!(
        RnsBasis::new(&[ps[0], ps[1], ps[0]]),
        Err(Error::DuplicatePrime { q, first: 0, second: 2 }) if q == ps[0]
    ));
    assert!(matches!(
        RnsBasis::new(&[ps[0], 1 << 40]),
        Err(Error::InvalidModulus {
            reason: "not prime",
            ..
        })
    ));
    assert!(matches!(
        RnsBasis::new(&[ps[0], 1 << 62]),
        Err(Error::InvalidModulus { .. })
    ));
    let b = RnsBasis::new(&ps).unwrap();
    assert!(matches!(
        b.concat(&b),
        Err(Error::DuplicatePrime {
            first: 0,
            second: 2,
            ..
        })
    ));
    assert!(matches!(
        b.prefix(0),
        Err(Error::BasisRange {
            start: 0,
            end: 0,
            len: 2
        })
    ));
    assert!(matches!(
        b.sub_basis(1, 3),
        Err(Error::BasisRange {
            start: 1,
            end: 3,
            len: 2
        })
    ));
    assert!(matches!(
        b.reconstruct(&[1]),
        Err(Error::LengthMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
}

#[test]
fn sub_bases_and_tables() {
    let (q, p) = helrm_chain();
    let bq = RnsBasis::new(&q).unwrap();
    let bp = RnsBasis::new(&p).unwrap();
    assert_eq!(bq.len(), 11);
    assert!(!bq.is_empty());
    assert_eq!(to_big(bq.product()), product(&q));
    assert_eq!(bq.prefix(4).unwrap().primes(), q[..4].to_vec());
    assert_eq!(bq.sub_basis(2, 5).unwrap().primes(), q[2..5].to_vec());
    let qp = bq.concat(&bp).unwrap();
    assert_eq!(to_big(qp.product()), product(&q) * product(&p));
    for (i, &qi) in q.iter().enumerate() {
        let qhat = to_big(bq.qhat(i).unwrap());
        assert_eq!(qhat, product(&q) / qi);
        let (inv, _) = bq.qhat_inv(i).unwrap();
        assert_eq!(rem(&(qhat * inv), qi), 1);
    }
    assert!(bq.qhat(11).is_none());
    // Rescale constants: q_last^{-1} and ⌊q_last/2⌋ modulo each remaining prime.
    let last = q[10];
    for (c, &qi) in bq.drop_last_constants().iter().zip(&q) {
        assert_eq!(rem(&(Big::from(last) * c.inv), qi), 1);
        assert_eq!(c.half, (last / 2) % qi);
    }
    assert_eq!(bq.drop_last_constants().len(), 10);
}

#[test]
fn centred_f64_is_accurate_for_a_2000_bit_modulus() {
    // 33 primes of 61 bits: log2 Q ≈ 2013, far beyond f64 range; decoding values stay small.
    let ps = primes(&[61; 33]);
    let basis = RnsBasis::new(&ps).unwrap();
    let q = product(&ps);
    let mag = (Big::from(1u8) << 900u32) + Big::from(0x1234_5678_9abc_def1u64);
    let neg = &q - &mag; // represents −mag
    let got = basis
        .reconstruct_centered_f64(&residues(&neg, &ps))
        .unwrap();
    let want = -from_big(&mag).to_f64();
    assert!(want.is_finite());
    assert_eq!(got, want);
    let got = basis
        .reconstruct_centered_f64(&residues(&mag, &ps))
        .unwrap();
    assert_eq!(got, -want);
    // Near ±Q/2 the magnitude exceeds f64 range: ±∞, with the right sign.
    let half = &q / 2u8;
    let r = residues(&half, &ps);
    assert_eq!(basis.reconstruct_centered_f64(&r).unwrap(), f64::INFINITY);
    let r = residues(&(&half + 1u8), &ps);
    assert_eq!(
        basis.reconstruct_centered_f64(&r).unwrap(),
        f64::NEG_INFINITY
    );
    // Polynomial form agrees with the scalar form.
    let xs = [Big::from(5u8), neg.clone(), mag.clone(), Big::from(0u8)];
    let limbs = limbs_of(&xs, &ps);
    let mut out = vec![0.0; 4];
    basis
        .reconstruct_centered_f64_poly(&limbs, &mut out)
        .unwrap();
    assert_eq!(out, vec![5.0, want, -want, 0.0]);
    assert!(matches!(
        basis.reconstruct_centered_f64_poly(&limbs[1..], &mut out),
        Err(Error::LengthMismatch { .. })
    ));
}

#[test]
fn decompose_round_trips_signed_values() {
    let (q, _) = helrm_chain();
    let basis = RnsBasis::new(&q).unwrap();
    for x in [
        0i128,
        1,
        -1,
        i128::MAX,
        i128::MIN + 1,
        -987_654_321_123_456_789,
    ] {
        let r = basis.decompose_i128(x);
        let (neg, mag) = basis.reconstruct_centered(&r).unwrap();
        assert_eq!(neg, x < 0, "{x}");
        assert_eq!(mag.to_u128(), Some(x.unsigned_abs()), "{x}");
        assert_eq!(basis.decompose_signed(x < 0, &mag), r);
    }
    assert_eq!(basis.decompose(&BigUint::from(7u64)), vec![7; 11]);
}

#[test]
fn exact_conversion_at_the_centring_boundary() {
    // Around ±Q/2 the float estimate of the overflow is ambiguous; the big-integer fallback
    // must decide. Every basis, every edge value, both directions of the HE-LRM chain.
    for ps in bases() {
        let from = RnsBasis::new(&ps).unwrap();
        let to_primes = primes(&[59, 36]);
        let to = RnsBasis::new(&to_primes).unwrap();
        let conv = BaseConverter::new(&from, &to);
        let q = product(&ps);
        let xs = edge_values(&q);
        let input = limbs_of(&xs, &ps);
        let mut out = vec![vec![0u64; xs.len()]; 2];
        conv.convert_exact(&input, &mut out).unwrap();
        let half = &q / 2u8;
        for (k, x) in xs.iter().enumerate() {
            for (j, &p) in to_primes.iter().enumerate() {
                let want = if *x > half {
                    (p - rem(&(&q - x), p)) % p
                } else {
                    rem(x, p)
                };
                assert_eq!(out[j][k], want, "basis of {} primes, x = {x}", ps.len());
            }
        }
    }
}

#[test]
fn conversion_handles_blocks_and_rejects_bad_shapes() {
    // n = 130 spans partial blocks; L = 20 uses 64-coefficient blocks, L = 200 smaller ones.
    for l in [20usize, 200] {
        let ps = primes(&vec![50; l]);
        let from = RnsBasis::new(&ps).unwrap();
        let to = RnsBasis::new(&primes(&[61, 62])).unwrap();
        let conv = BaseConverter::new(&from, &to);
        let q = product(&ps);
        let xs: Vec<Big> = (0..130u64)
            .map(|k| big_below(&q, &[k * 0x9e37_79b9_7f4a_7c15, !k, k << 7, k * 3 + 1]))
            .collect();
        let input = limbs_of(&xs, &ps);
        let mut out = vec![vec![0u64; 130]; 2];
        conv.convert(&input, &mut out).unwrap();
        for (k, x) in xs.iter().enumerate() {
            let want = fast_conv_integer(&residues(x, &ps), &ps);
            for (j, &p) in to.primes().iter().enumerate() {
                assert_eq!(out[j][k], rem(&want, p));
            }
        }
    }
    let ps = primes(&[40, 41]);
    let from = RnsBasis::new(&ps).unwrap();
    let to = RnsBasis::new(&primes(&[50])).unwrap();
    let conv = BaseConverter::new(&from, &to);
    assert_eq!((conv.from_len(), conv.to_len()), (2, 1));
    let good = vec![vec![1u64; 8]; 2];
    let mut out = vec![vec![0u64; 8]];
    assert!(matches!(
        conv.convert(&good[..1], &mut out),
        Err(Error::LengthMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    let ragged = vec![vec![1u64; 8], vec![1u64; 7]];
    assert!(matches!(
        conv.convert(&ragged, &mut out),
        Err(Error::LengthMismatch {
            expected: 8,
            got: 7,
            ..
        })
    ));
    let mut short = vec![vec![0u64; 4]];
    assert!(matches!(
        conv.convert_exact(&good, &mut short),
        Err(Error::LengthMismatch {
            expected: 8,
            got: 4,
            ..
        })
    ));
    let mut two = vec![vec![0u64; 8]; 2];
    assert!(matches!(
        conv.convert(&good, &mut two),
        Err(Error::LengthMismatch {
            expected: 1,
            got: 2,
            ..
        })
    ));
    // Slices of slices work as well as vectors (exact: the approximate result for x = 1 may
    // carry a multiple of Q).
    let refs: Vec<&[u64]> = good.iter().map(|v| v.as_slice()).collect();
    let mut o = [0u64; 8];
    let mut outs: Vec<&mut [u64]> = vec![&mut o];
    conv.convert_exact(&refs, &mut outs).unwrap();
    assert_eq!(o, [1; 8]);
}

#[test]
fn lazy_accumulator_survives_worst_case_sums() {
    // 70 source primes of 62 bits with every y_i = [x_i·(Q/q_i)^{-1}]_{q_i} = q_i − 1: the
    // sum Σ y_i·[Q/q_i]_{p_j} is about 70·2^123 > 2^128, so an unfolded u128 would wrap.
    let all = primes(&[62; 72]);
    let (from, to) = (&all[..70], &all[70..]);
    let bf = RnsBasis::new(from).unwrap();
    let bt = RnsBasis::new(to).unwrap();
    let conv = BaseConverter::new(&bf, &bt);
    let q = product(from);
    // x = Σ (q_i − 1)·Q/q_i has y_i = q_i − 1 for every i.
    let x = from
        .iter()
        .fold(Big::from(0u8), |acc, &qi| acc + (&q / qi) * (qi - 1));
    let input = limbs_of(std::slice::from_ref(&x), from);
    let mut out = vec![vec![0u64; 1]; 2];
    conv.convert(&input, &mut out).unwrap();
    for (j, &p) in to.iter().enumerate() {
        assert_eq!(out[j][0], rem(&x, p));
    }
    assert!(x.bits() > product(from).bits() + 6); // u = ⌊x/Q⌋ ≥ 64: a large overflow
}

#[test]
fn moddown_and_rescale_reject_bad_inputs() {
    let (q, p) = helrm_chain();
    let bq = RnsBasis::new(&q).unwrap();
    let bp = RnsBasis::new(&p).unwrap();
    let overlap = RnsBasis::new(&[p[0], q[3]]).unwrap();
    assert!(matches!(
        ModDownPlan::new(&bq, &overlap),
        Err(Error::DuplicatePrime {
            first: 3,
            second: 12,
            ..
        })
    ));
    let plan = ModDownPlan::new(&bq, &bp).unwrap();
    let xq = vec![vec![0u64; 4]; 11];
    let xp = vec![vec![0u64; 4]; 2];
    let mut out = vec![vec![0u64; 4]; 11];
    assert!(matches!(
        plan.apply(Conversion::Exact, &xq, &xp, &mut out),
        Err(Error::LengthMismatch {
            expected: 3,
            got: 2,
            ..
        })
    ));
    let xp = vec![vec![0u64; 4]; 3];
    let mut out10 = vec![vec![0u64; 4]; 10];
    assert!(matches!(
        plan.apply(Conversion::Exact, &xq, &xp, &mut out10),
        Err(Error::LengthMismatch {
            expected: 11,
            got: 10,
            ..
        })
    ));
    let mut xq5 = vec![vec![0u64; 5]; 11];
    assert!(matches!(
        plan.apply_in_place(Conversion::Approximate, &mut xq5, &xp),
        Err(Error::LengthMismatch {
            expected: 4,
            got: 5,
            ..
        })
    ));
    let one = RnsBasis::new(&q[..1]).unwrap();
    let mut limbs = vec![vec![0u64; 4]];
    assert!(matches!(
        one.rescale_by_last(&mut limbs),
        Err(Error::BasisSize { len: 1, min: 2, .. })
    ));
    let mut limbs = vec![vec![0u64; 4]; 10];
    assert!(matches!(
        bq.rescale_by_last(&mut limbs),
        Err(Error::LengthMismatch {
            expected: 11,
            got: 10,
            ..
        })
    ));
    let mut ragged = vec![vec![0u64; 4]; 11];
    ragged[7].push(0);
    assert!(matches!(
        bq.rescale_by_last(&mut ragged),
        Err(Error::LengthMismatch {
            expected: 4,
            got: 5,
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn crt_reconstruction_matches_num_bigint(
        which in 0usize..6,
        seeds in prop::collection::vec(prop::collection::vec(any::<u64>(), 40), 4),
        raw in prop::collection::vec(any::<u64>(), 20),
    ) {
        let ps = &bases()[which];
        let basis = RnsBasis::new(ps).unwrap();
        let q = product(ps);
        let half = &q / 2u8;
        let mut xs: Vec<Big> = seeds.iter().map(|s| big_below(&q, s)).collect();
        xs.extend(edge_values(&q));
        for x in &xs {
            let r = residues(x, ps);
            prop_assert_eq!(to_big(&basis.reconstruct(&r).unwrap()), x.clone());
            prop_assert_eq!(basis.decompose(&from_big(x)), r.clone());
            let (neg, mag) = basis.reconstruct_centered(&r).unwrap();
            let (want_neg, want_mag) = if *x > half { (true, &q - x) } else { (false, x.clone()) };
            prop_assert_eq!(neg, want_neg);
            prop_assert_eq!(to_big(&mag), want_mag.clone());
            let f = basis.reconstruct_centered_f64(&r).unwrap();
            let fm = from_big(&want_mag).to_f64();
            prop_assert_eq!(f, if want_neg { -fm } else { fm });
        }
        // Arbitrary (even unreduced) residues: the answer is below Q and has those residues.
        let r: Vec<u64> = raw.iter().take(ps.len()).copied().collect();
        let x = to_big(&basis.reconstruct(&r).unwrap());
        prop_assert!(x < q);
        prop_assert_eq!(x, crt(&r.iter().zip(ps).map(|(&a, &p)| a % p).collect::<Vec<_>>(), ps));
    }

    #[test]
    fn base_conversion_matches_num_bigint(
        pair in 0usize..5,
        n in 1usize..40,
        seed in prop::collection::vec(any::<u64>(), 8),
    ) {
        let (q, p) = helrm_chain();
        let (from, to): (Vec<u64>, Vec<u64>) = match pair {
            0 => (q.clone(), p.clone()),              // ModUp Q → P
            1 => (p.clone(), q.clone()),              // the ModDown conversion P → Q
            2 => (q[2..5].to_vec(), [&q[..2], &q[5..], &p[..]].concat()), // a digit → the rest
            3 => (q[..1].to_vec(), p.clone()),        // one prime (ModRaise-like)
            _ => {
                // 20 → 3 primes of 62 bits: the u128 accumulator folds every 15 terms.
                let all = primes(&[62; 23]);
                (all[..20].to_vec(), all[20..].to_vec())
            }
        };
        let bf = RnsBasis::new(&from).unwrap();
        let bt = RnsBasis::new(&to).unwrap();
        let conv = BaseConverter::new(&bf, &bt);
        let qf = product(&from);
        let half = &qf / 2u8;
        let mut xs: Vec<Big> = (0..n)
            .map(|k| {
                let s: Vec<u64> = seed.iter().map(|w| w.rotate_left(k as u32 * 7) ^ k as u64).collect();
                big_below(&qf, &s)
            })
            .collect();
        xs.extend(edge_values(&qf));
        let input = limbs_of(&xs, &from);
        let mut approx = vec![vec![0u64; xs.len()]; to.len()];
        let mut exact = approx.clone();
        conv.convert(&input, &mut approx).unwrap();
        conv.convert_with(Conversion::Exact, &input, &mut exact).unwrap();
        for (k, x) in xs.iter().enumerate() {
            // Approximate: exactly the fast-conversion integer X = x + u·Q with 0 ≤ u < L.
            let big_x = fast_conv_integer(&residues(x, &from), &from);
            let u = (&big_x - x) / &qf;
            prop_assert_eq!(&u * &qf + x, big_x.clone());
            prop_assert!(u < Big::from(from.len()));
            // Exact: the centred representative.
            for (j, &pj) in to.iter().enumerate() {
                prop_assert_eq!(approx[j][k], rem(&big_x, pj));
                let want = if *x > half { (pj - rem(&(&qf - x), pj)) % pj } else { rem(x, pj) };
                prop_assert_eq!(exact[j][k], want);
            }
        }
    }

    #[test]
    fn moddown_matches_big_integer_division(
        n in 1usize..24,
        seed in prop::collection::vec(any::<u64>(), 12),
        small_p in any::<bool>(),
    ) {
        let (q, p) = helrm_chain();
        let p = if small_p { p[..1].to_vec() } else { p };
        let bq = RnsBasis::new(&q).unwrap();
        let bp = RnsBasis::new(&p).unwrap();
        let plan = ModDownPlan::new(&bq, &bp).unwrap();
        let (qq, pp) = (product(&q), product(&p));
        let qp = &qq * &pp;
        let mut xs: Vec<Big> = (0..n)
            .map(|k| {
                let s: Vec<u64> = seed.iter().map(|w| w.wrapping_mul(k as u64 + 1)).collect();
                big_below(&qp, &s)
            })
            .collect();
        // x = m·P + ⌊P/2⌋ and m·P + ⌈P/2⌉ straddle the rounding point; x = QP − 1.
        let m = Big::from(123_456_789u64);
        xs.push(&m * &pp + &pp / 2u8);
        xs.push(&m * &pp + &pp / 2u8 + 1u8);
        xs.push(&qp - 1u8);
        let xq = limbs_of(&xs, &q);
        let xp = limbs_of(&xs, &p);
        let mut exact = vec![vec![0u64; xs.len()]; q.len()];
        let mut approx = exact.clone();
        plan.apply(Conversion::Exact, &xq, &xp, &mut exact).unwrap();
        plan.apply(Conversion::Approximate, &xq, &xp, &mut approx).unwrap();
        let mut in_place = xq.clone();
        plan.apply_in_place(Conversion::Exact, &mut in_place, &xp).unwrap();
        prop_assert_eq!(&in_place, &exact);
        for (k, x) in xs.iter().enumerate() {
            let floor = x / &pp;
            let round = (x + &pp / 2u8) / &pp; // P odd: no ties
            let got_exact = crt(&exact.iter().map(|l| l[k]).collect::<Vec<_>>(), &q);
            prop_assert_eq!(got_exact, &round % &qq);
            // Approximate: ⌊x/P⌋ − u with 0 ≤ u < |P|, i.e. (⌊x/P⌋ − out) mod Q < |P|.
            let got = crt(&approx.iter().map(|l| l[k]).collect::<Vec<_>>(), &q);
            let diff = (&floor + &qq - got) % &qq;
            prop_assert!(diff < Big::from(p.len()), "approximate ModDown error {}", diff);
        }
    }

    #[test]
    fn rescale_is_exact_rounding_division(
        which in 0usize..3,
        n in 1usize..24,
        seed in prop::collection::vec(any::<u64>(), 12),
    ) {
        let (q, _) = helrm_chain();
        // Full chain (last prime 40-bit, smaller than q_0), a 55/40 pair, and a chain whose
        // last prime is larger than the others (exercises the reduction of [x_last]_{q_i}).
        let ps = match which {
            0 => q.clone(),
            1 => q[..2].to_vec(),
            _ => [&q[1..4], &q[..1]].concat(),
        };
        let basis = RnsBasis::new(&ps).unwrap();
        let big_q = product(&ps);
        let last = *ps.last().unwrap_or(&1);
        let mut xs: Vec<Big> = (0..n)
            .map(|k| {
                let s: Vec<u64> = seed.iter().map(|w| w ^ (k as u64).wrapping_mul(0x9e37_79b9)).collect();
                big_below(&big_q, &s)
            })
            .collect();
        let m = Big::from(987_654_321u64);
        xs.push(&m * last + last / 2); // rounds down
        xs.push(&m * last + last / 2 + 1u8); // rounds up
        xs.extend(edge_values(&big_q));
        let mut limbs = limbs_of(&xs, &ps);
        let before_last = limbs[ps.len() - 1].clone();
        basis.rescale_by_last(&mut limbs).unwrap();
        prop_assert_eq!(&limbs[ps.len() - 1], &before_last);
        let rest = &ps[..ps.len() - 1];
        let q_rest = product(rest);
        for (k, x) in xs.iter().enumerate() {
            let want = ((x + last / 2) / last) % &q_rest;
            let got = crt(&limbs[..ps.len() - 1].iter().map(|l| l[k]).collect::<Vec<_>>(), rest);
            prop_assert_eq!(got, want);
        }
    }
}

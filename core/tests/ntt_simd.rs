//! Every SIMD kernel this CPU runs is bit-identical to the portable one.

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

#[path = "ntt_common.rs"]
mod common;

use common::{edge_inputs, prime, SplitMix};
use helrm_core::math::ntt::{Isa, NttPlan};

fn check_isa(isa: Isa) {
    if !isa.is_available() {
        println!("note: this CPU lacks {isa}; its kernel is not tested here");
        return;
    }
    let mut rng = SplitMix(3 + isa as u64);
    for log_n in 10..=17 {
        let n = 1usize << log_n;
        for bits in [20u32, 30, 40, 49, 50, 55, 60, 61, 62] {
            let q = prime(n, bits);
            let scalar = NttPlan::try_new_with_isa(n, q, Isa::Scalar).unwrap();
            let simd = NttPlan::try_new_with_isa(n, q, isa).unwrap();
            if simd.isa() != isa {
                // IFMA declines primes of 50 bits and more (covered by the AVX-512 run).
                assert!(isa == Isa::Avx512Ifma && q >= 1 << 50);
                continue;
            }
            let inputs = if log_n <= 12 {
                edge_inputs(n, q, &mut rng)
            } else {
                vec![rng.vec_mod(n, q)]
            };
            for a in inputs {
                let (mut f0, mut f1) = (a.clone(), a.clone());
                scalar.forward(&mut f0).unwrap();
                simd.forward(&mut f1).unwrap();
                assert!(f0 == f1, "{isa} forward differs: n={n} bits={bits}");
                // Inverse of the (valid) evaluation vector, and of the raw input as evaluations.
                for mut x in [f0, a] {
                    let mut y = x.clone();
                    scalar.inverse(&mut x).unwrap();
                    simd.inverse(&mut y).unwrap();
                    assert!(x == y, "{isa} inverse differs: n={n} bits={bits}");
                }
            }
        }
    }
}

#[test]
fn avx2_matches_scalar() {
    check_isa(Isa::Avx2);
}

#[test]
fn avx512_matches_scalar() {
    check_isa(Isa::Avx512);
}

#[test]
fn avx512ifma_matches_scalar() {
    check_isa(Isa::Avx512Ifma);
}

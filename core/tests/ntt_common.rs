//! Helpers shared by the NTT integration tests (included with `#[path]`, not a test target
//! of its own beyond this empty check).

#![allow(dead_code, reason = "each test binary uses a subset")]
#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_core::math::prime::generate_primes;

/// Deterministic 64-bit generator (SplitMix64), so failures reproduce.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `n` values uniform in `[0, q)` (up to a negligible bias).
    pub fn vec_mod(&mut self, n: usize, q: u64) -> Vec<u64> {
        (0..n).map(|_| self.next_u64() % q).collect()
    }
}

/// The largest NTT-friendly prime of `bits` bits for degree `n`.
pub fn prime(n: usize, bits: u32) -> u64 {
    generate_primes(n, &[bits]).unwrap()[0]
}

/// Inputs that stress the lazy ranges: all `q − 1`, all zero, alternating, random with edges.
pub fn edge_inputs(n: usize, q: u64, rng: &mut SplitMix) -> Vec<Vec<u64>> {
    let mut mixed = rng.vec_mod(n, q);
    for (i, x) in mixed.iter_mut().enumerate() {
        match i % 5 {
            0 => *x = q - 1,
            1 => *x = 0,
            _ => {}
        }
    }
    vec![
        vec![q - 1; n],
        vec![0; n],
        (0..n).map(|i| if i % 2 == 0 { q - 1 } else { 0 }).collect(),
        mixed,
        rng.vec_mod(n, q),
    ]
}

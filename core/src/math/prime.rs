//! NTT-friendly primes: deterministic generation of distinct primes `q ≡ 1 (mod 2n)` of
//! requested bit sizes, primality testing, and primitive `2n`-th roots of unity.
//!
//! Generation is deterministic: for each requested size the candidates are walked downwards
//! from the largest `q < 2^bits` with `q ≡ 1 (mod 2n)`, so the same request always yields the
//! same chain, and primes are taken closest to `2^bits` (which keeps a CKKS rescale by `q`
//! closest to a division by the scale `2^bits`).
//!
//! # Example
//! ```
//! use helrm_core::math::prime::{generate_primes, is_prime};
//! // HE-LRM's chain at N = 2^16: one 55-bit, ten 40-bit and three 61-bit primes.
//! let mut sizes = vec![55u32];
//! sizes.extend([40; 10]);
//! sizes.extend([61; 3]);
//! let primes = generate_primes(1 << 16, &sizes)?;
//! assert_eq!(primes.len(), 14);
//! for (q, bits) in primes.iter().zip(&sizes) {
//!     assert!(is_prime(*q));
//!     assert_eq!(64 - q.leading_zeros(), *bits);
//!     assert_eq!(q % (1 << 17), 1);
//! }
//! # Ok::<(), helrm_core::Error>(())
//! ```

use super::modarith::{Modulus, MAX_MODULUS_BITS};
use crate::error::{Error, Result};

/// Smallest prime size accepted by [`generate_primes`].
pub const MIN_PRIME_BITS: u32 = 10;

/// Deterministic Miller–Rabin for every `u64` (the first twelve primes as bases suffice below
/// 3.3·10^24).
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let mut d = n - 1;
    let s = d.trailing_zeros();
    d >>= s;
    let mulmod = |a: u64, b: u64| (u128::from(a) * u128::from(b) % u128::from(n)) as u64;
    let powmod = |mut b: u64, mut e: u64| {
        let mut acc = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                acc = mulmod(acc, b);
            }
            b = mulmod(b, b);
            e >>= 1;
        }
        acc
    };
    'witness: for a in BASES {
        let mut x = powmod(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mulmod(x, x);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// Checks that `n` is a power of two of at least 2 (a valid negacyclic ring degree for prime
/// generation).
fn check_degree(n: usize) -> Result<()> {
    if n < 2 || !n.is_power_of_two() {
        return Err(Error::InvalidRingDegree {
            n,
            min: 2,
            max: 1 << 30,
        });
    }
    Ok(())
}

/// Generates distinct primes `q ≡ 1 (mod 2n)`, one for each entry of `bit_sizes`, with
/// exactly that bit length (`2^(bits−1) < q < 2^bits`). Sizes may repeat; repeated sizes get
/// successively smaller primes, and no prime is returned twice.
///
/// # Errors
/// [`Error::InvalidRingDegree`] if `n` is not a power of two, [`Error::InvalidPrimeBits`] for
/// sizes outside `[10, 62]`, [`Error::PrimesExhausted`] if too few such primes exist.
pub fn generate_primes(n: usize, bit_sizes: &[u32]) -> Result<Vec<u64>> {
    generate_primes_excluding(n, bit_sizes, &[])
}

/// Like [`generate_primes`], but also avoids every prime in `exclude` (for example the primes
/// of an existing chain when adding special primes).
///
/// # Errors
/// As [`generate_primes`].
pub fn generate_primes_excluding(n: usize, bit_sizes: &[u32], exclude: &[u64]) -> Result<Vec<u64>> {
    check_degree(n)?;
    let two_n = 2 * n as u64;
    let mut out: Vec<u64> = Vec::with_capacity(bit_sizes.len());
    for &bits in bit_sizes {
        if !(MIN_PRIME_BITS..=MAX_MODULUS_BITS).contains(&bits) {
            return Err(Error::InvalidPrimeBits {
                bits,
                min: MIN_PRIME_BITS,
                max: MAX_MODULUS_BITS,
            });
        }
        let hi = 1u64 << bits;
        let lo = 1u64 << (bits - 1);
        // Largest candidate below 2^bits congruent to 1 mod 2n.
        let mut cand = if hi > two_n {
            ((hi - 1) / two_n) * two_n + 1
        } else {
            0
        };
        if cand >= hi {
            cand -= two_n;
        }
        let found = loop {
            if cand <= lo || cand < two_n {
                break None;
            }
            if !out.contains(&cand) && !exclude.contains(&cand) && is_prime(cand) {
                break Some(cand);
            }
            cand -= two_n;
        };
        match found {
            Some(q) => out.push(q),
            None => {
                let wanted = bit_sizes.iter().filter(|&&b| b == bits).count();
                let found = out
                    .iter()
                    .filter(|&&q| 64 - q.leading_zeros() == bits)
                    .count();
                return Err(Error::PrimesExhausted {
                    bits,
                    n,
                    wanted,
                    found,
                });
            }
        }
    }
    Ok(out)
}

/// The smallest primitive `2n`-th root of unity modulo the prime `q` (`q ≡ 1 mod 2n`), so that
/// known-answer vectors do not depend on how the root was searched for.
///
/// # Errors
/// [`Error::InvalidRingDegree`] for a non-power-of-two `n`, [`Error::InvalidModulus`] if `q` is
/// not a prime below 2^62, [`Error::NotNttFriendly`] if `q ≢ 1 (mod 2n)`.
pub fn min_primitive_root_2n(n: usize, q: u64) -> Result<u64> {
    check_degree(n)?;
    let m = Modulus::new(q)?;
    if !is_prime(q) {
        return Err(Error::InvalidModulus {
            q,
            reason: "not prime",
        });
    }
    let two_n = 2 * n as u64;
    if !(q - 1).is_multiple_of(two_n) {
        return Err(Error::NotNttFriendly {
            q,
            n,
            residue: q % two_n,
        });
    }
    let cofactor = (q - 1) / two_n;
    // x^((q-1)/2n) has order dividing 2n; it is primitive iff its n-th power is -1.
    let mut g = 0;
    for x in 2..q {
        let r = m.pow(x, cofactor);
        if m.pow(r, n as u64) == q - 1 {
            g = r;
            break;
        }
    }
    // The primitive 2n-th roots are the odd powers of any one of them.
    let g2 = m.mul(g, g);
    let (mut best, mut cur) = (g, g);
    for _ in 1..n {
        cur = m.mul(cur, g2);
        best = best.min(cur);
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primality_known_answers() {
        let primes = [
            2u64,
            3,
            5,
            97,
            65537,
            1_000_000_007,
            (1 << 61) - 1,
            0x3fff_ffff_ffe8_0001,
        ];
        for p in primes {
            assert!(is_prime(p), "{p}");
        }
        // Carmichael numbers and strong pseudoprimes to small bases.
        let composites = [
            0u64,
            1,
            4,
            561,
            1105,
            3_215_031_751,
            3_825_123_056_546_413_051,
            (1 << 62) - 1,
        ];
        for c in composites {
            assert!(!is_prime(c), "{c}");
        }
    }

    #[test]
    fn primality_matches_trial_division_below_100k() {
        for n in 0u64..100_000 {
            let naive = n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0);
            assert_eq!(is_prime(n), naive, "{n}");
        }
    }

    #[test]
    fn helrm_chain_is_distinct_sized_and_deterministic() {
        let mut sizes = vec![55u32];
        sizes.extend([40; 10]);
        sizes.extend([61; 3]);
        let a = generate_primes(1 << 16, &sizes).unwrap();
        let b = generate_primes(1 << 16, &sizes).unwrap();
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), a.len());
        for (q, bits) in a.iter().zip(&sizes) {
            assert!(is_prime(*q));
            assert_eq!(64 - q.leading_zeros(), *bits);
            assert_eq!(q % (1 << 17), 1);
        }
        // Taken closest to 2^bits: descending within one size.
        assert!(a[1..11].windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn excluding_skips_given_primes() {
        let first = generate_primes(1 << 12, &[40]).unwrap();
        let next = generate_primes_excluding(1 << 12, &[40], &first).unwrap();
        assert_ne!(first, next);
        assert!(next[0] < first[0]);
    }

    #[test]
    fn bad_requests_have_their_own_errors() {
        assert!(matches!(
            generate_primes(1000, &[40]),
            Err(Error::InvalidRingDegree { n: 1000, .. })
        ));
        assert!(matches!(
            generate_primes(1024, &[63]),
            Err(Error::InvalidPrimeBits { bits: 63, .. })
        ));
        assert!(matches!(
            generate_primes(1024, &[9]),
            Err(Error::InvalidPrimeBits { bits: 9, .. })
        ));
        // No 12-bit prime is ≡ 1 mod 2048 (2049 = 3·683 and 4097 is above 2^12).
        assert!(matches!(
            generate_primes(1 << 10, &[12, 12, 12]),
            Err(Error::PrimesExhausted {
                bits: 12,
                n: 1024,
                ..
            })
        ));
    }

    #[test]
    fn primitive_root_known_answer_and_order() {
        // 12289 = 3·2^12 + 1, the classic NewHope prime; for n = 1024 the smallest primitive
        // 2048-th root of unity is 7 (checked independently: 7^1024 ≡ −1 mod 12289).
        assert_eq!(min_primitive_root_2n(1024, 12289).unwrap(), 7);
        let q = generate_primes(1 << 12, &[50]).unwrap()[0];
        let g = min_primitive_root_2n(1 << 12, q).unwrap();
        let m = Modulus::new(q).unwrap();
        assert_eq!(m.pow(g, 1 << 12), q - 1);
        assert_eq!(m.pow(g, 1 << 13), 1);
        assert!(matches!(
            min_primitive_root_2n(1 << 12, 12289),
            Err(Error::NotNttFriendly {
                q: 12289,
                n: 4096,
                ..
            })
        ));
        assert!(matches!(
            min_primitive_root_2n(4, 12291),
            Err(Error::InvalidModulus { q: 12291, .. })
        ));
    }
}

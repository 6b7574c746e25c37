//! Word-size modular arithmetic for moduli below 2^62.
//!
//! [`Modulus`] precomputes the constants of two reductions:
//!
//! - **Barrett** (128-bit): `reduce_u128(x)` for any `x < 2^128`, used for products `a·b` with
//!   both factors unreduced, and for general-purpose multiplication.
//! - **Shoup / Harvey**: multiplication by a *fixed* operand `w` with its precomputed quotient
//!   `w' = ⌊w·2^64 / q⌋`. [`Modulus::mul_shoup_lazy`] returns a value in `[0, 2q)` for any
//!   64-bit `x`, which is what the NTT butterflies use (lazy reduction, Harvey 2014).
//!
//! Ranges are part of every method's contract: functions named `*_lazy` take and/or return
//! values in `[0, 2q)` or `[0, 4q)` as stated; all other methods take and return values in
//! `[0, q)`. Because `q < 2^62`, `4q` still fits in a `u64`.
//!
//! # Example
//! ```
//! use helrm_core::math::modarith::Modulus;
//! let q = Modulus::new(0x3fff_ffff_ffe8_0001)?; // a 62-bit prime
//! let a = q.value() - 1; // -1 mod q
//! assert_eq!(q.mul(a, a), 1);
//! let w = 12345;
//! let ws = q.shoup(w);
//! assert_eq!(q.mul_shoup(a, w, ws), q.value() - w);
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # References
//! D. Harvey, "Faster arithmetic for number-theoretic transforms", J. Symb. Comp. 60 (2014);
//! V. Shoup, NTL; P. Barrett, CRYPTO '86.

use crate::error::{Error, Result};

/// Largest supported modulus bit size: `q < 2^62` keeps `4q` inside a `u64`.
pub const MAX_MODULUS_BITS: u32 = 62;

/// A modulus `2 ≤ q < 2^62` with its Barrett constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modulus {
    q: u64,
    /// ⌊2^128 / q⌋, low word.
    mu_lo: u64,
    /// ⌊2^128 / q⌋, high word.
    mu_hi: u64,
}

impl Modulus {
    /// Builds a modulus; refuses `q < 2` and `q ≥ 2^62`.
    ///
    /// # Errors
    /// [`Error::InvalidModulus`] when `q` is out of range.
    pub fn new(q: u64) -> Result<Self> {
        if q < 2 {
            return Err(Error::InvalidModulus {
                q,
                reason: "below 2",
            });
        }
        if q >> MAX_MODULUS_BITS != 0 {
            return Err(Error::InvalidModulus {
                q,
                reason: "not below 2^62",
            });
        }
        // For odd q (every modulus we use), (2^128 - 1) / q = ⌊2^128 / q⌋; for even q the
        // estimate may be one lower, which the final correction in `reduce_u128` absorbs.
        let mu = u128::MAX / u128::from(q);
        Ok(Self {
            q,
            mu_lo: mu as u64,
            mu_hi: (mu >> 64) as u64,
        })
    }

    /// The modulus value.
    #[inline]
    pub fn value(&self) -> u64 {
        self.q
    }

    /// Bit length of `q`.
    #[inline]
    pub fn bits(&self) -> u32 {
        64 - self.q.leading_zeros()
    }

    /// Reduces any `x < 2^64` into `[0, q)`.
    #[inline]
    pub fn reduce(&self, x: u64) -> u64 {
        self.reduce_u128(u128::from(x))
    }

    /// Reduces any `x < 2^128` into `[0, q)` (Barrett with a 128-bit constant).
    #[inline]
    pub fn reduce_u128(&self, x: u128) -> u64 {
        let x0 = x as u64;
        let x1 = (x >> 64) as u64;
        // qhat = ⌊x · mu / 2^128⌋ up to a small under-estimate: drop only the low·low
        // product's low word and the carries out of it.
        let a = (u128::from(x0) * u128::from(self.mu_lo)) >> 64;
        let b = u128::from(x0) * u128::from(self.mu_hi);
        let c = u128::from(x1) * u128::from(self.mu_lo);
        let mid = a + u128::from(b as u64) + u128::from(c as u64);
        let qhat = u128::from(x1) * u128::from(self.mu_hi) + (b >> 64) + (c >> 64) + (mid >> 64);
        // x - qhat·q < 4q < 2^64, so the low word is exact.
        let mut r = x0.wrapping_sub((qhat as u64).wrapping_mul(self.q));
        while r >= self.q {
            r -= self.q;
        }
        r
    }

    /// `a + b mod q` for `a, b < q`.
    #[inline]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.q {
            s - self.q
        } else {
            s
        }
    }

    /// `a − b mod q` for `a, b < q`.
    #[inline]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        if a >= b {
            a - b
        } else {
            a + self.q - b
        }
    }

    /// `−a mod q` for `a < q`.
    #[inline]
    pub fn neg(&self, a: u64) -> u64 {
        if a == 0 {
            0
        } else {
            self.q - a
        }
    }

    /// `a · b mod q` for any `a, b < 2^64` (Barrett).
    #[inline]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(u128::from(a) * u128::from(b))
    }

    /// The Shoup quotient `⌊w · 2^64 / q⌋` of a fixed multiplicand `w < q`.
    #[inline]
    pub fn shoup(&self, w: u64) -> u64 {
        ((u128::from(w) << 64) / u128::from(self.q)) as u64
    }

    /// `x · w mod q` in `[0, 2q)` for any `x < 2^64`, given `w < q` and `w_shoup = shoup(w)`.
    #[inline]
    pub fn mul_shoup_lazy(&self, x: u64, w: u64, w_shoup: u64) -> u64 {
        let qhat = ((u128::from(x) * u128::from(w_shoup)) >> 64) as u64;
        x.wrapping_mul(w).wrapping_sub(qhat.wrapping_mul(self.q))
    }

    /// `x · w mod q` in `[0, q)` for any `x < 2^64`, given `w < q` and `w_shoup = shoup(w)`.
    #[inline]
    pub fn mul_shoup(&self, x: u64, w: u64, w_shoup: u64) -> u64 {
        let r = self.mul_shoup_lazy(x, w, w_shoup);
        if r >= self.q {
            r - self.q
        } else {
            r
        }
    }

    /// `base^exp mod q` for `base < 2^64`.
    pub fn pow(&self, base: u64, mut exp: u64) -> u64 {
        let mut acc = 1 % self.q;
        let mut b = self.reduce(base);
        while exp > 0 {
            if exp & 1 == 1 {
                acc = self.mul(acc, b);
            }
            b = self.mul(b, b);
            exp >>= 1;
        }
        acc
    }

    /// The inverse of `a` modulo `q`, if `gcd(a, q) = 1` (extended Euclid; any modulus).
    pub fn inv(&self, a: u64) -> Option<u64> {
        let a = self.reduce(a);
        if a == 0 {
            return None;
        }
        let (mut r0, mut r1) = (i128::from(self.q), i128::from(a));
        let (mut t0, mut t1) = (0i128, 1i128);
        while r1 != 0 {
            let quot = r0 / r1;
            (r0, r1) = (r1, r0 - quot * r1);
            (t0, t1) = (t1, t0 - quot * t1);
        }
        if r0 != 1 {
            return None;
        }
        Some(t0.rem_euclid(i128::from(self.q)) as u64)
    }

    /// Reduces any `x < 2^64` into `[0, q)` without data-dependent branches.
    ///
    /// Barrett with the 128-bit constant truncated as in [`Modulus::reduce_u128`]: the
    /// quotient estimate is at most 2 below `⌊x/q⌋`, so `x − q̂·q < 3q < 2^64` and two masked
    /// subtractions finish.
    #[inline]
    pub fn reduce_branchless(&self, x: u64) -> u64 {
        let t = u128::from(x) * u128::from(self.mu_hi)
            + ((u128::from(x) * u128::from(self.mu_lo)) >> 64);
        let qhat = (t >> 64) as u64;
        let r = x.wrapping_sub(qhat.wrapping_mul(self.q));
        let r = r - (self.q & 0u64.wrapping_sub(u64::from(r >= self.q)));
        r - (self.q & 0u64.wrapping_sub(u64::from(r >= self.q)))
    }

    /// Reduces a signed integer into `[0, q)`, without branches on `x` (so neither its sign
    /// nor its size shows in the timing: secrets and errors are lifted through this).
    #[inline]
    pub fn reduce_i64(&self, x: i64) -> u64 {
        self.negate_if(self.reduce_branchless(x.unsigned_abs()), x < 0)
    }

    /// `−a mod q` when `negate`, else `a`, for `a < q`, without branches.
    #[inline]
    pub fn negate_if(&self, a: u64, negate: bool) -> u64 {
        let mask = 0u64.wrapping_sub(u64::from(negate));
        let v = ((self.q - a) & mask) | (a & !mask);
        // `q − 0 = q` is the one out-of-range value.
        v - (self.q & 0u64.wrapping_sub(u64::from(v == self.q)))
    }

    /// Reduces a signed 128-bit integer into `[0, q)`, branching on neither its sign nor
    /// (when `|x| < 2^64`) its size.
    #[inline]
    pub fn reduce_i128(&self, x: i128) -> u64 {
        let a = x.unsigned_abs();
        let r = if a >> 64 == 0 {
            self.reduce_branchless(a as u64)
        } else {
            self.reduce_u128(a)
        };
        self.negate_if(r, x < 0)
    }

    /// Centred representative of `a < q` in `(−q/2, q/2]`.
    #[inline]
    pub fn center(&self, a: u64) -> i64 {
        if a > self.q / 2 {
            a as i64 - self.q as i64
        } else {
            a as i64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const Q62: u64 = 0x3fff_ffff_ffe8_0001; // prime, ≡ 1 mod 2^18
    const Q50: u64 = 1_125_899_902_124_033; // prime, ≡ 1 mod 2^18

    fn moduli() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(Q62),
            Just(Q50),
            Just(3u64),
            Just((1u64 << 62) - 57),
            2u64..(1u64 << 62),
        ]
    }

    #[test]
    fn refuses_out_of_range_moduli() {
        assert!(matches!(
            Modulus::new(0),
            Err(Error::InvalidModulus { q: 0, .. })
        ));
        assert!(matches!(
            Modulus::new(1),
            Err(Error::InvalidModulus { q: 1, .. })
        ));
        assert!(matches!(
            Modulus::new(1 << 62),
            Err(Error::InvalidModulus { q, .. }) if q == 1 << 62
        ));
        assert!(Modulus::new((1 << 62) - 1).is_ok());
    }

    #[test]
    fn known_answers() {
        let q = Modulus::new(Q62).unwrap();
        assert_eq!(q.bits(), 62);
        assert_eq!(q.mul(Q62 - 1, Q62 - 1), 1);
        assert_eq!(q.pow(3, Q62 - 1), 1); // Fermat
        assert_eq!(q.inv(2), Some(Q62 / 2 + 1));
        assert_eq!(q.reduce_i64(-1), Q62 - 1);
        for m in [q, Modulus::new(3).unwrap(), Modulus::new(1 << 40).unwrap()] {
            let qq = i128::from(m.value());
            assert_eq!(
                m.reduce_i64(i64::MIN),
                i128::from(i64::MIN).rem_euclid(qq) as u64
            );
            assert_eq!(m.reduce_i128(i128::MIN), i128::MIN.rem_euclid(qq) as u64);
            assert_eq!(m.reduce_i128(i128::MAX), i128::MAX.rem_euclid(qq) as u64);
            assert_eq!(m.reduce_branchless(u64::MAX), u64::MAX % m.value());
            assert_eq!(m.negate_if(0, true), 0);
        }
        assert_eq!(q.center(Q62 - 5), -5);
        let even = Modulus::new(1 << 40).unwrap();
        assert_eq!(even.inv(4), None);
        assert_eq!(even.reduce_u128(u128::MAX), (1 << 40) - 1);
    }

    proptest! {
        #[test]
        fn barrett_matches_u128(q in moduli(), x in any::<u128>()) {
            let m = Modulus::new(q).unwrap();
            prop_assert_eq!(m.reduce_u128(x), (x % u128::from(q)) as u64);
        }

        #[test]
        fn mul_add_sub_match_u128(q in moduli(), a in any::<u64>(), b in any::<u64>()) {
            let m = Modulus::new(q).unwrap();
            let (a, b) = (a % q, b % q);
            let qq = u128::from(q);
            prop_assert_eq!(m.mul(a, b), (u128::from(a) * u128::from(b) % qq) as u64);
            prop_assert_eq!(m.add(a, b), ((u128::from(a) + u128::from(b)) % qq) as u64);
            prop_assert_eq!(m.sub(a, b), ((u128::from(a) + qq - u128::from(b)) % qq) as u64);
            prop_assert_eq!(m.add(m.neg(a), a), 0);
        }

        #[test]
        fn shoup_lazy_range_and_value(q in moduli(), x in any::<u64>(), w in any::<u64>()) {
            let m = Modulus::new(q).unwrap();
            let w = w % q;
            let ws = m.shoup(w);
            let lazy = m.mul_shoup_lazy(x, w, ws);
            prop_assert!(lazy < 2 * q, "lazy result {} not below 2q", lazy);
            let want = (u128::from(x) * u128::from(w) % u128::from(q)) as u64;
            prop_assert_eq!(lazy % q, want);
            prop_assert_eq!(m.mul_shoup(x, w, ws), want);
        }

        #[test]
        fn inverse_is_inverse(q in moduli(), a in any::<u64>()) {
            let m = Modulus::new(q).unwrap();
            match m.inv(a) {
                Some(i) => prop_assert_eq!(m.mul(i, a % q), 1 % q),
                None => {
                    // not invertible: gcd(a, q) > 1
                    let (mut x, mut y) = (a % q, q);
                    while y != 0 { (x, y) = (y, x % y); }
                    prop_assert!(x != 1);
                }
            }
        }

        #[test]
        fn branchless_reductions_match_u128(
            q in moduli(),
            x in any::<u64>(),
            y in any::<i128>(),
            small in -(1i128 << 64)..(1i128 << 64),
        ) {
            let m = Modulus::new(q).unwrap();
            prop_assert_eq!(m.reduce_branchless(x), x % q);
            for v in [y, small] {
                prop_assert_eq!(m.reduce_i128(v), v.rem_euclid(i128::from(q)) as u64);
            }
            let a = x % q;
            prop_assert_eq!(m.negate_if(a, false), a);
            prop_assert_eq!(m.negate_if(a, true), m.neg(a));
        }

        #[test]
        fn signed_reduction(q in moduli(), x in any::<i64>()) {
            let m = Modulus::new(q).unwrap();
            let want = i128::from(x).rem_euclid(i128::from(q)) as u64;
            prop_assert_eq!(m.reduce_i64(x), want);
            let c = m.center(want);
            prop_assert_eq!(i128::from(c).rem_euclid(i128::from(q)) as u64, want);
            prop_assert!(c.unsigned_abs() <= q / 2);
        }
    }
}

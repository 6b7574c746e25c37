//! A minimal unsigned big integer: exactly what RNS reconstruction and decoding need.
//!
//! [`BigUint`] stores little-endian 64-bit limbs with no trailing zero limb (zero has no limbs),
//! so equal values have equal representations and `#[derive(PartialEq)]` is value equality.
//! Sizes in helrm stay small (a CKKS modulus `QP` of a few thousand bits is a few dozen limbs),
//! so multiplication is schoolbook and nothing here tries to be asymptotically clever.
//!
//! Operations that cannot be defined for every input return `Option` instead of panicking
//! ([`BigUint::checked_sub`] when the result would be negative, [`BigUint::divmod_u64`] by zero).
//!
//! # Example
//! ```
//! use helrm_core::math::bigint::BigUint;
//! let x = BigUint::from(u64::MAX).mul_u64(u64::MAX); // (2^64 − 1)^2
//! assert_eq!(x.bits(), 128);
//! assert_eq!(x.divmod_u64(u64::MAX), Some((BigUint::from(u64::MAX), 0)));
//! assert_eq!(x.divmod_u64(0), None);
//! assert_eq!(BigUint::from(1u64 << 53).to_f64(), 9007199254740992.0);
//! ```

use std::cmp::Ordering;

/// An arbitrary-size unsigned integer (little-endian `u64` limbs, normalised).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BigUint {
    limbs: Vec<u64>,
}

impl From<u64> for BigUint {
    fn from(x: u64) -> Self {
        let mut b = Self { limbs: vec![x] };
        b.normalize();
        b
    }
}

impl From<u128> for BigUint {
    fn from(x: u128) -> Self {
        Self::from_limbs(vec![x as u64, (x >> 64) as u64])
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_limbs(&self.limbs, &other.limbs)
    }
}

impl BigUint {
    /// Zero.
    pub fn zero() -> Self {
        Self { limbs: Vec::new() }
    }

    /// One.
    pub fn one() -> Self {
        Self { limbs: vec![1] }
    }

    /// The value with the given little-endian limbs (trailing zero limbs are dropped).
    pub fn from_limbs(limbs: Vec<u64>) -> Self {
        let mut b = Self { limbs };
        b.normalize();
        b
    }

    /// The little-endian limbs (empty for zero, otherwise the last limb is non-zero).
    pub fn limbs(&self) -> &[u64] {
        &self.limbs
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// Number of significant bits (0 for zero).
    pub fn bits(&self) -> u64 {
        bits_of(&self.limbs)
    }

    /// `self + other`.
    pub fn add(&self, other: &Self) -> Self {
        let mut out = self.clone();
        out.add_assign(other);
        out
    }

    /// `self += other`.
    pub fn add_assign(&mut self, other: &Self) {
        if self.limbs.len() < other.limbs.len() {
            self.limbs.resize(other.limbs.len(), 0);
        }
        let carry = add_limbs_in_place(&mut self.limbs, &other.limbs);
        if carry != 0 {
            self.limbs.push(carry);
        }
    }

    /// `self − other`, or `None` if `other > self`.
    pub fn checked_sub(&self, other: &Self) -> Option<Self> {
        if cmp_limbs(&self.limbs, &other.limbs) == Ordering::Less {
            return None;
        }
        let mut out = self.clone();
        sub_limbs_in_place(&mut out.limbs, &other.limbs);
        out.normalize();
        Some(out)
    }

    /// `self · m`.
    pub fn mul_u64(&self, m: u64) -> Self {
        let mut out = self.clone();
        out.mul_add_u64_assign(m, 0);
        out
    }

    /// `self = self · m + a` in place (the Horner step of a radix conversion).
    pub fn mul_add_u64_assign(&mut self, m: u64, a: u64) {
        let mut carry = a;
        for limb in &mut self.limbs {
            let t = u128::from(*limb) * u128::from(m) + u128::from(carry);
            *limb = t as u64;
            carry = (t >> 64) as u64;
        }
        if carry != 0 {
            self.limbs.push(carry);
        }
        self.normalize();
    }

    /// `self · other` (schoolbook; meant for the few-limb sizes of RNS moduli).
    pub fn mul(&self, other: &Self) -> Self {
        if self.is_zero() || other.is_zero() {
            return Self::zero();
        }
        let mut out = vec![0u64; self.limbs.len() + other.limbs.len()];
        for (i, &a) in self.limbs.iter().enumerate() {
            let carry = mac_limbs(&mut out[i..], &other.limbs, a);
            // out[i + other.len()] has not been written by this row yet, so no overflow.
            out[i + other.limbs.len()] = carry;
        }
        Self::from_limbs(out)
    }

    /// `(⌊self / d⌋, self mod d)`, or `None` for `d = 0`.
    pub fn divmod_u64(&self, d: u64) -> Option<(Self, u64)> {
        if d == 0 {
            return None;
        }
        let mut quot = vec![0u64; self.limbs.len()];
        let mut rem = 0u64;
        for (q, &limb) in quot.iter_mut().zip(&self.limbs).rev() {
            let cur = (u128::from(rem) << 64) | u128::from(limb);
            *q = (cur / u128::from(d)) as u64;
            rem = (cur % u128::from(d)) as u64;
        }
        Some((Self::from_limbs(quot), rem))
    }

    /// `self mod d`, or `None` for `d = 0`.
    pub fn rem_u64(&self, d: u64) -> Option<u64> {
        if d == 0 {
            return None;
        }
        Some(rem_limbs_u64(&self.limbs, d))
    }

    /// The value as the nearest `f64` (round to nearest, ties to even — correctly rounded);
    /// `f64::INFINITY` when it is at least `2^1024` after rounding.
    pub fn to_f64(&self) -> f64 {
        limbs_to_f64(&self.limbs)
    }

    /// The value as a `u128`, if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        match self.limbs.as_slice() {
            [] => Some(0),
            [a] => Some(u128::from(*a)),
            [a, b] => Some(u128::from(*a) | (u128::from(*b) << 64)),
            _ => None,
        }
    }

    fn normalize(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }
}

// ---- slice kernels (allocation-free; used by the RNS hot paths on fixed-size scratch) --------

/// Compares two little-endian limb slices as integers (trailing zero limbs allowed).
pub(crate) fn cmp_limbs(a: &[u64], b: &[u64]) -> Ordering {
    let (la, lb) = (significant_len(a), significant_len(b));
    if la != lb {
        return la.cmp(&lb);
    }
    for i in (0..la).rev() {
        match a[i].cmp(&b[i]) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

fn significant_len(a: &[u64]) -> usize {
    a.iter().rposition(|&x| x != 0).map_or(0, |p| p + 1)
}

fn bits_of(a: &[u64]) -> u64 {
    match a.iter().rposition(|&x| x != 0) {
        None => 0,
        Some(p) => 64 * p as u64 + u64::from(64 - a[p].leading_zeros()),
    }
}

/// `acc += b` over `acc.len()` limbs (`b.len() ≤ acc.len()`); returns the carry out.
pub(crate) fn add_limbs_in_place(acc: &mut [u64], b: &[u64]) -> u64 {
    let mut carry = 0u64;
    for (i, a) in acc.iter_mut().enumerate() {
        let bi = b.get(i).copied().unwrap_or(0);
        if i >= b.len() && carry == 0 {
            break;
        }
        let (s1, c1) = a.overflowing_add(bi);
        let (s2, c2) = s1.overflowing_add(carry);
        *a = s2;
        carry = u64::from(c1) + u64::from(c2);
    }
    carry
}

/// `acc −= b` over `acc.len()` limbs, wrapping modulo `2^(64·acc.len())`; returns the borrow.
pub(crate) fn sub_limbs_in_place(acc: &mut [u64], b: &[u64]) -> u64 {
    let mut borrow = 0u64;
    for (i, a) in acc.iter_mut().enumerate() {
        let bi = b.get(i).copied().unwrap_or(0);
        if i >= b.len() && borrow == 0 {
            break;
        }
        let (d1, b1) = a.overflowing_sub(bi);
        let (d2, b2) = d1.overflowing_sub(borrow);
        *a = d2;
        borrow = u64::from(b1) + u64::from(b2);
    }
    borrow
}

/// `acc[..b.len()] += b · m`; returns the carry limb that belongs at `acc[b.len()]` (not added).
pub(crate) fn mac_limbs(acc: &mut [u64], b: &[u64], m: u64) -> u64 {
    let mut carry = 0u64;
    for (a, &bi) in acc.iter_mut().zip(b) {
        let t = u128::from(bi) * u128::from(m) + u128::from(*a) + u128::from(carry);
        *a = t as u64;
        carry = (t >> 64) as u64;
    }
    carry
}

/// `a mod d` for `d ≠ 0`.
fn rem_limbs_u64(a: &[u64], d: u64) -> u64 {
    let mut rem = 0u128;
    for &limb in a.iter().rev() {
        rem = ((rem << 64) | u128::from(limb)) % u128::from(d);
    }
    rem as u64
}

/// Correctly rounded conversion of a limb slice to `f64`.
///
/// The top 64 significant bits are taken, and any non-zero bit below them is ORed into the
/// lowest of those 64 bits (a sticky bit). Since 64 ≥ 53 + 2, the `u64 → f64` conversion of
/// that word (round to nearest, ties to even) then rounds exactly as the full value would, and
/// the final scaling by a power of two is exact (or overflows to infinity, which is also the
/// correctly rounded answer for values ≥ 2^1024 after rounding).
pub(crate) fn limbs_to_f64(a: &[u64]) -> f64 {
    let bits = bits_of(a);
    if bits <= 64 {
        return a.first().copied().unwrap_or(0) as f64;
    }
    if bits > 1024 {
        return f64::INFINITY;
    }
    let shift = bits - 64; // number of bits below the top 64
    let (limb, off) = ((shift / 64) as usize, (shift % 64) as u32);
    let mut top = a[limb] >> off;
    if off != 0 {
        top |= a[limb + 1] << (64 - off);
    }
    let low_nonzero =
        a[..limb].iter().any(|&x| x != 0) || (off != 0 && a[limb] & ((1u64 << off) - 1) != 0);
    top |= u64::from(low_nonzero);
    // shift ≤ 960, so 2^shift is a normal f64 and the product is exact unless it overflows.
    (top as f64) * f64::from_bits((1023 + shift) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint as Oracle;
    use proptest::prelude::*;

    fn to_oracle(x: &BigUint) -> Oracle {
        let mut digits = Vec::new();
        for &l in x.limbs() {
            digits.push(l as u32);
            digits.push((l >> 32) as u32);
        }
        Oracle::new(digits)
    }

    fn from_oracle(x: &Oracle) -> BigUint {
        BigUint::from_limbs(x.to_u64_digits())
    }

    /// Limb vectors with a bias towards edge values (0, all-ones) and trailing zeros.
    fn big() -> impl Strategy<Value = BigUint> {
        let limb = prop_oneof![Just(0u64), Just(u64::MAX), Just(1u64), any::<u64>()];
        prop::collection::vec(limb, 0..12).prop_map(BigUint::from_limbs)
    }

    /// The correctly rounded f64 of an oracle value, computed independently: exact rational
    /// comparison against the two neighbouring doubles.
    fn oracle_f64(x: &Oracle) -> f64 {
        let bits = x.bits();
        if bits <= 53 {
            return x.to_u64_digits().first().copied().unwrap_or(0) as f64;
        }
        // x = m · 2^e + rest, m has 53 bits.
        let e = bits - 53;
        let m: Oracle = x >> e;
        let rest = x - (&m << e);
        let half = Oracle::from(1u8) << (e - 1);
        let m64 = m.to_u64_digits()[0];
        let round_up = rest > half || (rest == half && m64 & 1 == 1);
        let m64 = m64 + u64::from(round_up);
        // m64 ≤ 2^53 is exact; scaling by 2^e is exact or overflows to infinity.
        if e > 1023 {
            return f64::INFINITY;
        }
        (m64 as f64) * f64::from_bits((1023 + e) << 52)
    }

    #[test]
    fn normalisation_and_known_answers() {
        assert_eq!(BigUint::from_limbs(vec![5, 0, 0]), BigUint::from(5u64));
        assert!(BigUint::from(0u64).is_zero());
        assert_eq!(BigUint::zero().bits(), 0);
        assert_eq!(BigUint::one().bits(), 1);
        assert_eq!(BigUint::from(u128::MAX).bits(), 128);
        assert_eq!(BigUint::from(u128::MAX).to_u128(), Some(u128::MAX));
        assert_eq!(BigUint::from_limbs(vec![0, 0, 1]).to_u128(), None);
        assert_eq!(BigUint::from(7u64).divmod_u64(0), None);
        assert_eq!(BigUint::from(7u64).rem_u64(0), None);
        assert_eq!(BigUint::from(3u64).checked_sub(&BigUint::from(4u64)), None);
        // 2^1024 − 1 rounds up to 2^1024, which overflows.
        let max = BigUint::from_limbs(vec![u64::MAX; 16]);
        assert_eq!(max.to_f64(), f64::INFINITY);
        // 2^1024 − 2^971 is exactly f64::MAX; 2^1024 − 2^960 is above the midpoint to 2^1024.
        let mut limbs = vec![0u64; 16];
        limbs[15] = u64::MAX << 11;
        assert_eq!(BigUint::from_limbs(limbs.clone()).to_f64(), f64::MAX);
        limbs[15] = u64::MAX;
        assert_eq!(BigUint::from_limbs(limbs).to_f64(), f64::INFINITY);
        // Ties to even: 2^53 + 1 → 2^53, 2^53 + 3 → 2^53 + 4.
        assert_eq!(
            BigUint::from((1u128 << 53) + 1).to_f64(),
            9007199254740992.0
        );
        assert_eq!(
            BigUint::from((1u128 << 53) + 3).to_f64(),
            9007199254740996.0
        );
        // 2^139 + 2^86 is a tie (ulp 2^87 there) and goes to even; one more unit, 63 bits below
        // the top 64 that the conversion keeps, must round it up (the sticky bit).
        let p139 = f64::from_bits((1023 + 139) << 52);
        let p87 = f64::from_bits((1023 + 87) << 52);
        assert_eq!(
            BigUint::from_limbs(vec![0, 1 << 22, 1 << 11]).to_f64(),
            p139
        );
        assert_eq!(
            BigUint::from_limbs(vec![1, 1 << 22, 1 << 11]).to_f64(),
            p139 + p87
        );
    }

    proptest! {
        #[test]
        fn arithmetic_matches_num_bigint(a in big(), b in big(), m in any::<u64>(), d in 1u64..) {
            let (oa, ob) = (to_oracle(&a), to_oracle(&b));
            prop_assert_eq!(to_oracle(&a.add(&b)), &oa + &ob);
            prop_assert_eq!(to_oracle(&a.mul(&b)), &oa * &ob);
            prop_assert_eq!(to_oracle(&a.mul_u64(m)), &oa * Oracle::from(m));
            let mut h = a.clone();
            h.mul_add_u64_assign(m, d);
            prop_assert_eq!(to_oracle(&h), &oa * Oracle::from(m) + Oracle::from(d));
            prop_assert_eq!(a.cmp(&b), oa.cmp(&ob));
            match a.checked_sub(&b) {
                Some(s) => prop_assert_eq!(to_oracle(&s), &oa - &ob),
                None => prop_assert!(oa < ob),
            }
            let (q, r) = a.divmod_u64(d).unwrap_or_default();
            prop_assert_eq!(to_oracle(&q), &oa / Oracle::from(d));
            prop_assert_eq!(Oracle::from(r), &oa % Oracle::from(d));
            prop_assert_eq!(a.rem_u64(d), Some(r));
            prop_assert_eq!(a.bits(), oa.bits());
            prop_assert_eq!(a.is_zero(), oa == Oracle::from(0u8));
            prop_assert_eq!(from_oracle(&oa), a);
        }

        #[test]
        fn to_f64_is_correctly_rounded(a in big()) {
            let want = oracle_f64(&to_oracle(&a));
            prop_assert_eq!(a.to_f64(), want);
        }

        #[test]
        fn to_f64_rounds_near_ties(hi in 1u64 << 52..1u64 << 53, below in 0u32..3, lo_limbs in 0usize..4) {
            // m·2^e + (half − 1 | half | half + 1): the hard cases for rounding (the +1 is the
            // sticky bit far below the rounding position).
            let m = Oracle::from(hi);
            let e = 64 * lo_limbs as u64 + 11;
            let half = Oracle::from(1u8) << (e - 1);
            let rest = match below { 0 => &half - 1u8, 1 => half.clone(), _ => &half + 1u8 };
            let x = (m << e) + rest;
            let ours = from_oracle(&x).to_f64();
            prop_assert_eq!(ours, oracle_f64(&x));
        }
    }
}

//! Base-`b` digit decomposition of table indices (client side of HE-LRM's compressed lookup).
//!
//! For a table of `k` rows and base `b ≥ 2`, an index `i < k` becomes `ℓ` digits
//! `digit_j = ⌊i / b^j⌋ mod b`, `j = 0 … ℓ−1`, least significant first, where `ℓ` is the
//! smallest integer `≥ 1` with `b^ℓ ≥ k`. All arithmetic is exact integer arithmetic (no
//! logarithms), so `ℓ` is right at every power of `b`.
//!
//! A one-row table (`k = 1`) still gets `ℓ = 1` (one digit, always 0): every compressed table
//! then has at least one sub-table, so the embedding of index 0 is a learned row and the
//! encrypted side never sees an empty segment.
//!
//! # Example
//! ```
//! use helrm_workloads::embed::{decompose, num_digits, recompose};
//! let l = num_digits(1460, 4)?; // 4^5 = 1024 < 1460 ≤ 4096 = 4^6
//! assert_eq!(l, 6);
//! let d = decompose(1459, 4, l)?;
//! assert_eq!(d, vec![3, 0, 3, 2, 1, 1]); // 1459 = 3 + 0·4 + 3·16 + 2·64 + 1·256 + 1·1024
//! assert_eq!(recompose(&d, 4)?, 1459);
//! # Ok::<(), helrm_workloads::Error>(())
//! ```

use crate::error::{Error, Result};

/// The smallest `ℓ ≥ 1` with `base^ℓ ≥ rows` (exact integer arithmetic).
///
/// # Errors
/// [`Error::InvalidParameter`] when `base < 2` (`name: "base"`) or `rows == 0`
/// (`name: "cardinality"`).
pub fn num_digits(rows: u64, base: u64) -> Result<u32> {
    check_base(base)?;
    if rows == 0 {
        return Err(Error::InvalidParameter {
            name: "cardinality",
            value: 0.0,
            expected: "a table size of at least 1",
        });
    }
    let mut digits = 1u32;
    // u128 cannot overflow: power < rows ≤ 2^64 before each multiply and base < 2^64.
    let mut power = u128::from(base);
    while power < u128::from(rows) {
        power *= u128::from(base);
        digits += 1;
    }
    Ok(digits)
}

/// The `digits` base-`base` digits of `index`, least significant first
/// (`digit_j = ⌊index / base^j⌋ mod base`).
///
/// # Errors
/// [`Error::InvalidParameter`] when `base < 2`, or when `index ≥ base^digits` (it does not fit;
/// `name: "index"`).
pub fn decompose(index: u64, base: u64, digits: u32) -> Result<Vec<u64>> {
    let mut out = Vec::with_capacity(digits as usize);
    decompose_into(index, base, digits, &mut out)?;
    Ok(out)
}

/// As [`decompose`], writing into `out` (cleared first) to avoid an allocation per index.
///
/// # Errors
/// As [`decompose`].
pub fn decompose_into(index: u64, base: u64, digits: u32, out: &mut Vec<u64>) -> Result<()> {
    check_base(base)?;
    out.clear();
    let mut rest = index;
    for _ in 0..digits {
        out.push(rest % base);
        rest /= base;
    }
    if rest != 0 {
        return Err(Error::InvalidParameter {
            name: "index",
            value: index as f64,
            expected: "an index below base^digits",
        });
    }
    Ok(())
}

/// The index whose base-`base` digits (least significant first) are `digits`:
/// `Σ_j digits[j] · base^j`.
///
/// # Errors
/// [`Error::InvalidParameter`] when `base < 2`, a digit is not below `base` (`name: "digit"`),
/// or the value does not fit in `u64` (`name: "digits"`).
pub fn recompose(digits: &[u64], base: u64) -> Result<u64> {
    check_base(base)?;
    let overflow = || Error::InvalidParameter {
        name: "digits",
        value: digits.len() as f64,
        expected: "digits whose value fits in 64 bits",
    };
    let mut value = 0u64;
    for &d in digits.iter().rev() {
        if d >= base {
            return Err(Error::InvalidParameter {
                name: "digit",
                value: d as f64,
                expected: "a digit below the base",
            });
        }
        value = value
            .checked_mul(base)
            .and_then(|v| v.checked_add(d))
            .ok_or_else(overflow)?;
    }
    Ok(value)
}

fn check_base(base: u64) -> Result<()> {
    if base < 2 {
        return Err(Error::InvalidParameter {
            name: "base",
            value: base as f64,
            expected: "a digit base of at least 2",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_digits_at_powers() {
        assert_eq!(num_digits(1, 4).unwrap(), 1);
        assert_eq!(num_digits(4, 4).unwrap(), 1);
        assert_eq!(num_digits(5, 4).unwrap(), 2);
        assert_eq!(num_digits(16, 4).unwrap(), 2);
        assert_eq!(num_digits(17, 4).unwrap(), 3);
        assert_eq!(num_digits(u64::MAX, 2).unwrap(), 64);
        assert_eq!(num_digits(u64::MAX, u64::MAX).unwrap(), 1);
    }
}

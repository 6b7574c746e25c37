//! Precision of approximate results in bits: mean and minimum over the slots.
//!
//! For slot errors `e_j = |got_j − want_j|` (complex modulus), the **mean precision** is
//! `−log2(mean_j e_j)` and the **minimum precision** is `−log2(max_j e_j)`, the convention of
//! Lattigo's precision statistics (the bits of the average and of the worst slot). Errors are
//! floored at `2^-64`, so exact results report 64 bits.

use crate::error::{Error, Result};
use num_complex::Complex64;
use serde::Serialize;

/// The largest precision reported, in bits (errors are floored at `2^-64`).
pub const MAX_BITS: f64 = 64.0;

/// Error statistics of one result vector against its reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrecisionStats {
    /// Number of slots compared.
    pub slots: usize,
    /// Mean slot error `mean_j |got_j − want_j|`.
    pub mean_error: f64,
    /// Largest slot error.
    pub max_error: f64,
    /// `−log2(mean_error)`, at most [`MAX_BITS`].
    pub mean_bits: f64,
    /// `−log2(max_error)`, at most [`MAX_BITS`].
    pub min_bits: f64,
}

fn bits(e: f64) -> f64 {
    (-e.max(2f64.powf(-MAX_BITS)).log2()).min(MAX_BITS)
}

/// The precision of `got` against `want` over their common slots.
///
/// # Errors
/// [`Error::LengthMismatch`] unless both have the same, non-zero length;
/// [`Error::NonFiniteValue`] for a NaN or infinite value in `got` or `want`.
pub fn precision(want: &[Complex64], got: &[Complex64]) -> Result<PrecisionStats> {
    if want.is_empty() || got.len() != want.len() {
        return Err(Error::LengthMismatch {
            what: "values compared for precision",
            expected: want.len().max(1),
            got: got.len(),
        });
    }
    let mut sum = 0.0;
    let mut max = 0.0f64;
    for (index, (w, g)) in want.iter().zip(got).enumerate() {
        let e = (g - w).norm();
        if !e.is_finite() {
            return Err(Error::NonFiniteValue { index });
        }
        sum += e;
        max = max.max(e);
    }
    let mean = sum / want.len() as f64;
    Ok(PrecisionStats {
        slots: want.len(),
        mean_error: mean,
        max_error: max,
        mean_bits: bits(mean),
        min_bits: bits(max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(re: f64, im: f64) -> Complex64 {
        Complex64::new(re, im)
    }

    #[test]
    fn known_answers() {
        let want = [c(1.0, 0.0), c(0.0, 1.0), c(-0.5, 0.5), c(0.25, 0.0)];
        // Errors 2^-10, 2^-20 (imaginary), 5·2^-14 (a 3-4-5 triangle), 0.
        let got = [
            c(1.0 + 2f64.powi(-10), 0.0),
            c(0.0, 1.0 - 2f64.powi(-20)),
            c(-0.5 + 3.0 * 2f64.powi(-14), 0.5 + 4.0 * 2f64.powi(-14)),
            c(0.25, 0.0),
        ];
        let s = precision(&want, &got).expect("stats");
        assert_eq!(s.slots, 4);
        assert_eq!(s.max_error, 2f64.powi(-10));
        assert_eq!(s.min_bits, 10.0);
        let mean = (2f64.powi(-10) + 2f64.powi(-20) + 5.0 * 2f64.powi(-14)) / 4.0;
        assert!((s.mean_error - mean).abs() < 1e-18);
        assert!((s.mean_bits + mean.log2()).abs() < 1e-12);
        // Exact results are capped at 64 bits.
        let exact = precision(&want, &want).expect("stats");
        assert_eq!(exact.mean_bits, 64.0);
        assert_eq!(exact.min_bits, 64.0);
    }

    #[test]
    fn bad_inputs() {
        assert!(matches!(
            precision(&[], &[]),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            precision(&[c(0.0, 0.0)], &[c(0.0, 0.0), c(1.0, 0.0)]),
            Err(Error::LengthMismatch {
                expected: 1,
                got: 2,
                ..
            })
        ));
        assert_eq!(
            precision(
                &[c(0.0, 0.0), c(0.0, 0.0)],
                &[c(0.0, 0.0), c(f64::NAN, 0.0)]
            ),
            Err(Error::NonFiniteValue { index: 1 })
        );
    }
}

//! Per-column standardisation of dense features, fitted on training rows only.

use super::Dataset;
use crate::error::{Error, Result};

/// Per-column affine map `x ↦ (x − mean) / std` for dense features.
///
/// Fit it on the training split only ([`Standardizer::fit`]) and apply the same map to every
/// other split and to client inputs, so no test statistics leak into training. `std` is the
/// population standard deviation (divide by n); a constant column gets `std = 1` (centred only).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Standardizer {
    /// Column means and population standard deviations of `data`'s dense features, in `f64`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (`what: "rows to fit on"`) when `data` has no rows.
    pub fn fit(data: &Dataset) -> Result<Self> {
        let (n, w) = (data.len(), data.num_dense());
        if n == 0 {
            return Err(Error::ShapeMismatch {
                what: "rows to fit on",
                expected: 1,
                found: 0,
            });
        }
        let mut mean = vec![0.0f64; w];
        for row in data.dense().chunks_exact(w.max(1)) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        let nf = n as f64;
        mean.iter_mut().for_each(|m| *m /= nf);
        let mut var = vec![0.0f64; w];
        for row in data.dense().chunks_exact(w.max(1)) {
            for ((v, &x), m) in var.iter_mut().zip(row).zip(&mean) {
                let d = f64::from(x) - m;
                *v += d * d;
            }
        }
        let std = var
            .into_iter()
            .map(|v| {
                let s = (v / nf).sqrt();
                if s > 0.0 && s.is_finite() {
                    s
                } else {
                    1.0
                }
            })
            .collect();
        Ok(Self { mean, std })
    }

    /// A standardizer from stored means and standard deviations (for example from a saved model).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the lengths differ; [`Error::InvalidParameter`] for a
    /// non-finite mean or a standard deviation that is not finite and positive.
    pub fn from_parts(mean: Vec<f64>, std: Vec<f64>) -> Result<Self> {
        if mean.len() != std.len() {
            return Err(Error::ShapeMismatch {
                what: "standardizer std values",
                expected: mean.len(),
                found: std.len(),
            });
        }
        if let Some(&m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "mean",
                value: m,
                expected: "a finite number",
            });
        }
        if let Some(&s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidParameter {
                name: "std",
                value: s,
                expected: "a finite positive number",
            });
        }
        Ok(Self { mean, std })
    }

    /// Column means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Column standard deviations (1 for a constant column).
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// Number of dense columns this standardizer was fitted on.
    pub fn width(&self) -> usize {
        self.mean.len()
    }

    /// Standardises one row of dense features in place.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the row width is not [`Standardizer::width`].
    pub fn apply_row(&self, row: &mut [f32]) -> Result<()> {
        if row.len() != self.width() {
            return Err(Error::ShapeMismatch {
                what: "standardizer width",
                expected: self.width(),
                found: row.len(),
            });
        }
        for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
            // Both inputs are finite and s > 0, so the result is finite unless it overflows f32;
            // clamp so the dataset invariant (finite values) always holds.
            let y = (f64::from(*x) - m) / s;
            *x = y.clamp(f64::from(f32::MIN), f64::from(f32::MAX)) as f32;
        }
        Ok(())
    }

    /// Standardises every row of `data` in place.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `data.num_dense()` is not [`Standardizer::width`].
    pub fn apply(&self, data: &mut Dataset) -> Result<()> {
        let w = data.num_dense();
        if w != self.width() {
            return Err(Error::ShapeMismatch {
                what: "standardizer width",
                expected: self.width(),
                found: w,
            });
        }
        if w == 0 {
            return Ok(());
        }
        for row in data.dense_mut().chunks_exact_mut(w) {
            self.apply_row(row)?;
        }
        Ok(())
    }

    /// A standardised copy of `data`.
    ///
    /// # Errors
    /// As [`Standardizer::apply`].
    pub fn transform(&self, data: &Dataset) -> Result<Dataset> {
        let mut out = data.clone();
        self.apply(&mut out)?;
        Ok(out)
    }
}

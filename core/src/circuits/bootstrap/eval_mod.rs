//! EvalMod: the homomorphic reduction modulo 1 of bootstrapping, as a scaled cosine with
//! double-angle steps (Han–Ki).
//!
//! After CoeffsToSlots a slot holds `u = y/K` with `y = t/q_0 = I + ε`, `I` an integer with
//! `|I| < K` and `|ε|` small. EvalMod computes `sin(2πy) = cos(2π(y − ¼))`, which is
//! `≈ 2πε` for small `ε` and does not depend on `I`:
//! 1. the Chebyshev interpolant `p` of `g(u) = cos(2π(K·u − ¼)/2^r)` on `[−1, 1]`
//!    ([`crate::circuits::poly`], depth `⌈log2(d + 1)⌉`; the shift by `¼` is folded into `g`,
//!    so no level is spent on it);
//! 2. `r` double-angle steps `c ← 2c² − 1`, one level each, which turn
//!    `cos(θ/2^r)` into `cos θ`.
//!
//! Dividing the argument by `2^r` lowers the frequency of `g` to `ω = 2π(K + ¼)/2^r`, so a
//! degree a little above `ω·e/2` already interpolates `g` to near machine precision (the
//! Chebyshev coefficients of `cos(ωu)` are Bessel values `J_k(ω)`, negligible for
//! `k > eω/2`); each double-angle step multiplies the error by at most 4.
//!
//! Scales are exact: the caller names the output scale `T`; walking back through the
//! double-angle rescales (`S_i = S_{i−1}² / q`) gives the scale `S_0 = √(S_1·q)` … at which
//! the polynomial is evaluated.
//!
//! # References
//! - K. Han, D. Ki, "Better bootstrapping for approximate homomorphic encryption", CT-RSA 2020
//!   (the cosine with double-angle steps).
//! - J. H. Cheon, K. Han, A. Kim, M. Kim, Y. Song, EUROCRYPT 2018 (the scaled sine).
//! - J.-P. Bossuat et al., EUROCRYPT 2021 (Chebyshev interpolation at depth `⌈log2(d + 1)⌉`).

use crate::circuits::poly::Polynomial;
use crate::ckks::{Ciphertext, Evaluator};
use crate::error::{Error, Result};
use std::f64::consts::PI;

/// Largest number of double-angle steps accepted (each costs a level).
pub const MAX_DOUBLE_ANGLE: usize = 8;

/// The EvalMod circuit: a Chebyshev interpolant of a scaled cosine and double-angle steps.
#[derive(Debug, Clone)]
pub struct EvalMod {
    k: usize,
    double_angle: usize,
    poly: Polynomial,
}

impl EvalMod {
    /// The circuit for inputs `u = y/K` with `|y| ≤ K`: the degree-`degree` interpolant of
    /// `cos(2π(K·u − ¼)/2^double_angle)` and `double_angle` double-angle steps.
    ///
    /// # Errors
    /// [`Error::BootstrapConfig`] for `K = 0` or more than [`MAX_DOUBLE_ANGLE`] steps;
    /// [`Error::PolynomialDegree`] for a degree outside the polynomial evaluator's range.
    pub fn new(k: usize, degree: usize, double_angle: usize) -> Result<Self> {
        if k == 0 {
            return Err(Error::BootstrapConfig {
                field: "k",
                value: k.to_string(),
                expected: "a positive bound on the ModRaise overflow |I|",
            });
        }
        if double_angle > MAX_DOUBLE_ANGLE {
            return Err(Error::BootstrapConfig {
                field: "double_angle",
                value: double_angle.to_string(),
                expected: "at most 8 double-angle steps",
            });
        }
        let kf = k as f64;
        let r = 2f64.powi(double_angle as i32);
        let g = move |u: f64| (2.0 * PI * (kf * u - 0.25) / r).cos();
        let poly = Polynomial::interpolate(g, -1.0, 1.0, degree)?;
        Ok(Self {
            k,
            double_angle,
            poly,
        })
    }

    /// The bound `K` on `|y|`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The number of double-angle steps.
    pub fn double_angle(&self) -> usize {
        self.double_angle
    }

    /// The interpolant of the scaled cosine.
    pub fn polynomial(&self) -> &Polynomial {
        &self.poly
    }

    /// Levels consumed: the polynomial's depth plus one per double-angle step.
    pub fn depth(&self) -> usize {
        self.poly.depth() + self.double_angle
    }

    /// The function the circuit computes, in `f64`: `≈ sin(2π·K·u)` for `u ∈ [−1, 1]`.
    pub fn eval_plain(&self, u: f64) -> f64 {
        let mut c = self.poly.eval_plain(u);
        for _ in 0..self.double_angle {
            c = 2.0 * c * c - 1.0;
        }
        c
    }

    /// The largest `|eval_plain(u) − sin(2πKu)|` over `samples` points in `[−1, 1]` (the
    /// approximation error of the circuit, before any encryption noise).
    pub fn max_error(&self, samples: usize) -> f64 {
        let n = samples.max(2);
        let kf = self.k as f64;
        (0..n)
            .map(|i| {
                let u = -1.0 + 2.0 * i as f64 / (n - 1) as f64;
                (self.eval_plain(u) - (2.0 * PI * kf * u).sin()).abs()
            })
            .fold(0.0, f64::max)
    }

    /// Evaluates the circuit on `ct` (slots `u = y/K`); the result holds `sin(2πy)` at exactly
    /// `scale`, [`EvalMod::depth`] levels lower.
    ///
    /// # Errors
    /// [`Error::LevelTooLow`] with fewer levels than [`EvalMod::depth`]; the polynomial
    /// evaluator's and the evaluator's errors.
    pub fn evaluate(&self, eval: &Evaluator, ct: &Ciphertext, scale: f64) -> Result<Ciphertext> {
        let depth = self.depth();
        let level = ct.level().get();
        if level < depth {
            return Err(Error::LevelTooLow {
                op: "eval_mod",
                level,
                needed: depth,
            });
        }
        let q: Vec<f64> = eval
            .context()
            .params()
            .q()
            .iter()
            .map(|&x| x as f64)
            .collect();
        // Double-angle step i (1-based) rescales at level `level − d_p − i + 1`.
        let poly_out = level - self.poly.depth();
        let mut scales = vec![scale; self.double_angle + 1];
        for i in (1..=self.double_angle).rev() {
            scales[i - 1] = (scales[i] * q[poly_out - i + 1]).sqrt();
        }
        let mut c = self.poly.evaluate_to_scale(eval, ct, scales[0])?;
        for _ in 0..self.double_angle {
            let sq = eval.mul_relin(&c, &c)?;
            let twice = eval.add(&sq, &sq)?;
            let rescaled = eval.rescale(&twice)?;
            c = eval.add_const(&rescaled, -1.0)?;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_circuit_approximates_the_sine_to_near_double_precision() {
        // K = 32, degree 63, 3 double-angle steps: ω = 2π·32.25/8 ≈ 25.3, and J_64(25.3) is
        // about 2^-60, so the interpolation error is at rounding level; the double-angle steps
        // multiply it by at most 4³. Measured: about 2^-40 (rounding in the f64 Clenshaw sum
        // at |u| ≈ 1, amplified by 64).
        let em = EvalMod::new(32, 63, 3).expect("eval mod");
        assert_eq!(em.depth(), 9);
        let err = em.max_error(20_001);
        assert!(err < 2f64.powi(-36), "max error 2^{:.1}", err.log2());
    }

    #[test]
    fn too_low_degree_is_visible_in_the_error() {
        let em = EvalMod::new(32, 31, 3).expect("eval mod");
        assert!(em.max_error(2001) > 1e-3);
    }

    #[test]
    fn bad_configs() {
        assert!(matches!(
            EvalMod::new(0, 63, 3),
            Err(Error::BootstrapConfig { field: "k", .. })
        ));
        assert!(matches!(
            EvalMod::new(32, 63, 9),
            Err(Error::BootstrapConfig {
                field: "double_angle",
                ..
            })
        ));
        assert!(matches!(
            EvalMod::new(32, 0, 3),
            Err(Error::PolynomialDegree { .. })
        ));
    }
}

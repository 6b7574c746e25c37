//! Activations evaluated exactly as the encrypted model evaluates them: polynomials.
//!
//! - [`Activation::Identity`] (no level), [`Activation::Square`] (`x²`, one level; HE-LRM's UCI
//!   activation), [`Activation::Poly`] (a [`ChebPoly`]: Chebyshev series on an interval);
//! - [`Activation::Composite`]: a [`Composite`] of Chebyshev stages after input pre-scaling —
//!   the hook for the composite minimax ReLU of `helrm_core::circuits::activation`
//!   (`relu(x) = x · step(x / B)`, `B` from calibration with a margin). That module's
//!   `CompositeRelu::stages()` are Chebyshev polynomials on `[−1, 1]` whose composition is
//!   already `step = (1 + sign)/2`: convert each (`ChebPoly::new(a, b, coeffs)`) and use
//!   [`CompositeOutput::ReluFromStep`];
//! - [`Activation::Relu`]: the exact `max(x, 0)`, **for training only**. It is not a
//!   polynomial, so [`Activation::depth`] is `None` and the encrypted export refuses it until
//!   [`crate::dlrm::Dlrm::relu_to_composite`] has replaced it by a [`Composite`] (Orion's flow:
//!   train with ReLU, calibrate the ranges, evaluate the composite approximation).
//!
//! # Depth rules (levels an encrypted evaluation consumes)
//! - `Identity` 0, `Square` 1 (one ciphertext product and rescale);
//! - a [`ChebPoly`] of degree `n`: `⌈log2(n + 1)⌉` (baby-step giant-step evaluation in the
//!   Chebyshev basis), plus 1 for the affine change of variable into `[−1, 1]` when its interval
//!   is not `[−1, 1]` (a plan may fold that map into the preceding linear layer and save it);
//! - a [`Composite`]: the sum of its stages, plus 1 for the final product by `x` in the ReLU
//!   forms. The pre-scaling `x / B` costs no level: the plan folds `1/B` into the preceding
//!   linear layer (and, for the ReLU forms, `B` into the following one, since
//!   `x · step(x / B) = B · (y · step(y))` with `y = x / B`). This is how
//!   `helrm_core::circuits::activation` counts too: degrees `[15, 15, 27]` give
//!   `4 + 4 + 5 + 1 = 14` levels (Orion's "about 15" counts the pre-scaling as a level).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A polynomial in the Chebyshev basis on an interval `[lo, hi]`:
/// `p(x) = Σ_k c_k T_k(t)` with `t = (2x − lo − hi) / (hi − lo)`.
///
/// Outside `[lo, hi]` the same polynomial is evaluated (no clamping), exactly as the encrypted
/// evaluation does; keep inputs inside the interval (calibration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ChebPolyRepr", into = "ChebPolyRepr")]
pub struct ChebPoly {
    lo: f64,
    hi: f64,
    coefficients: Vec<f64>,
    /// Chebyshev coefficients of `dp/dt` (derived, not stored in files).
    derivative: Vec<f64>,
}

/// The serialised form of a [`ChebPoly`] (checked on the way in).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChebPolyRepr {
    lo: f64,
    hi: f64,
    coefficients: Vec<f64>,
}

impl TryFrom<ChebPolyRepr> for ChebPoly {
    type Error = Error;
    fn try_from(r: ChebPolyRepr) -> Result<Self> {
        Self::new(r.lo, r.hi, r.coefficients)
    }
}

impl From<ChebPoly> for ChebPolyRepr {
    fn from(p: ChebPoly) -> Self {
        Self {
            lo: p.lo,
            hi: p.hi,
            coefficients: p.coefficients,
        }
    }
}

impl ChebPoly {
    /// `Σ_k coefficients[k] T_k(t)` on `[lo, hi]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`]: `lo`/`hi` not finite or `lo ≥ hi` (`name: "interval"`), no
    /// coefficients or a non-finite one (`name: "coefficients"`).
    pub fn new(lo: f64, hi: f64, coefficients: Vec<f64>) -> Result<Self> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::InvalidParameter {
                name: "interval",
                value: hi - lo,
                expected: "finite bounds with lo < hi",
            });
        }
        if coefficients.is_empty() {
            return Err(Error::InvalidParameter {
                name: "coefficients",
                value: 0.0,
                expected: "at least one Chebyshev coefficient",
            });
        }
        if let Some(&c) = coefficients.iter().find(|c| !c.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "coefficients",
                value: c,
                expected: "finite Chebyshev coefficients",
            });
        }
        let derivative = derivative_coefficients(&coefficients);
        Ok(Self {
            lo,
            hi,
            coefficients,
            derivative,
        })
    }

    /// Chebyshev interpolant of degree `degree` of `f` on `[lo, hi]`, through the `degree + 1`
    /// Chebyshev nodes of the first kind. Exact (up to rounding) when `f` is a polynomial of
    /// degree ≤ `degree`, so it also converts monomial-basis polynomials.
    ///
    /// # Errors
    /// As [`ChebPoly::new`]; [`Error::InvalidParameter`] (`name: "f(x)"`) when `f` returns a
    /// non-finite value at a node.
    pub fn interpolate(f: impl Fn(f64) -> f64, lo: f64, hi: f64, degree: usize) -> Result<Self> {
        let n = degree + 1;
        let nodes: Vec<f64> = (0..n)
            .map(|k| (std::f64::consts::PI * (k as f64 + 0.5) / n as f64).cos())
            .collect();
        let mut values = Vec::with_capacity(n);
        for &t in &nodes {
            let v = f(0.5 * ((hi - lo) * t + lo + hi));
            if !v.is_finite() {
                return Err(Error::InvalidParameter {
                    name: "f(x)",
                    value: v,
                    expected: "finite function values on the interval",
                });
            }
            values.push(v);
        }
        let coefficients = (0..n)
            .map(|j| {
                let s: f64 = nodes
                    .iter()
                    .zip(&values)
                    .map(|(&t, &v)| v * chebyshev_t(j, t))
                    .sum();
                let c = 2.0 * s / n as f64;
                if j == 0 {
                    c / 2.0
                } else {
                    c
                }
            })
            .collect();
        Self::new(lo, hi, coefficients)
    }

    /// Lower end of the interval.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// Upper end of the interval.
    pub fn hi(&self) -> f64 {
        self.hi
    }

    /// The Chebyshev coefficients `c_0 … c_n`.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// Degree `n` (number of coefficients − 1; trailing zeros count).
    pub fn degree(&self) -> usize {
        self.coefficients.len() - 1
    }

    /// True when the interval is exactly `[−1, 1]` (no change of variable).
    pub fn is_unit_interval(&self) -> bool {
        self.lo == -1.0 && self.hi == 1.0
    }

    /// Levels an encrypted evaluation consumes (see the module's depth rules).
    pub fn depth(&self) -> u32 {
        let n = self.degree() as u64 + 1;
        // ⌈log2(n)⌉ for n ≥ 1.
        let log = u64::BITS - (n - 1).leading_zeros();
        log + u32::from(!self.is_unit_interval() && self.degree() > 0)
    }

    /// Maps `x` into the Chebyshev variable `t` (`[lo, hi] → [−1, 1]`).
    fn to_t(&self, x: f64) -> f64 {
        (2.0 * x - self.lo - self.hi) / (self.hi - self.lo)
    }

    /// `p(x)` (Clenshaw recurrence).
    pub fn eval(&self, x: f64) -> f64 {
        clenshaw(&self.coefficients, self.to_t(x))
    }

    /// `(p(x), p'(x))`.
    pub fn eval_with_derivative(&self, x: f64) -> (f64, f64) {
        let t = self.to_t(x);
        let dt_dx = 2.0 / (self.hi - self.lo);
        (
            clenshaw(&self.coefficients, t),
            clenshaw(&self.derivative, t) * dt_dx,
        )
    }
}

/// What a [`Composite`] outputs from the composed value `g`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompositeOutput {
    /// `g` itself.
    Value,
    /// `x · (1 + g) / 2`: ReLU when `g ≈ sign(x / B)`.
    ReluFromSign,
    /// `x · g`: ReLU when `g ≈ step(x / B) = (1 + sign(x / B)) / 2` (the form of
    /// `helrm_core::circuits::activation::CompositeRelu`, whose last stage is folded into the
    /// step).
    ReluFromStep,
}

impl CompositeOutput {
    /// True for the two ReLU forms.
    pub fn is_relu(self) -> bool {
        !matches!(self, Self::Value)
    }
}

/// Polynomials composed after input pre-scaling: `g = p_m(… p_1(x / input_bound))`, output
/// `g`, `x · (1 + g) / 2` or `x · g` ([`CompositeOutput`]).
///
/// This is the hook for `helrm_core::circuits::activation`'s composite minimax ReLU
/// (Orion/HE-LRM: sign degrees 15, 15, 27 on `[−1, 1]`): pass its stages with
/// [`CompositeOutput::ReluFromStep`] and `B` = margin × the calibrated input bound, or
/// through [`crate::dlrm::Dlrm::relu_to_composite`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CompositeRepr", into = "CompositeRepr")]
pub struct Composite {
    stages: Vec<ChebPoly>,
    input_bound: f64,
    output: CompositeOutput,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompositeRepr {
    stages: Vec<ChebPoly>,
    input_bound: f64,
    output: CompositeOutput,
}

impl TryFrom<CompositeRepr> for Composite {
    type Error = Error;
    fn try_from(r: CompositeRepr) -> Result<Self> {
        Self::new(r.stages, r.input_bound, r.output)
    }
}

impl From<Composite> for CompositeRepr {
    fn from(c: Composite) -> Self {
        Self {
            stages: c.stages,
            input_bound: c.input_bound,
            output: c.output,
        }
    }
}

impl Composite {
    /// A checked composite.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`]: no stages (`name: "stages"`), or `input_bound` not finite
    /// and positive (`name: "input_bound"`).
    pub fn new(stages: Vec<ChebPoly>, input_bound: f64, output: CompositeOutput) -> Result<Self> {
        if stages.is_empty() {
            return Err(Error::InvalidParameter {
                name: "stages",
                value: 0.0,
                expected: "at least one polynomial stage",
            });
        }
        if !(input_bound.is_finite() && input_bound > 0.0) {
            return Err(Error::InvalidParameter {
                name: "input_bound",
                value: input_bound,
                expected: "a finite positive bound",
            });
        }
        Ok(Self {
            stages,
            input_bound,
            output,
        })
    }

    /// ReLU as `x · (1 + sign(x / bound)) / 2` with `sign` approximated by the composition of
    /// `sign_stages` (each on `[−1, 1]` in the usual construction).
    ///
    /// # Errors
    /// As [`Composite::new`].
    pub fn relu(sign_stages: Vec<ChebPoly>, bound: f64) -> Result<Self> {
        Self::new(sign_stages, bound, CompositeOutput::ReluFromSign)
    }

    /// ReLU as `x · step(x / bound)` with `step` approximated by the composition of
    /// `step_stages` (the form of `helrm_core::circuits::activation::CompositeRelu`).
    ///
    /// # Errors
    /// As [`Composite::new`].
    pub fn relu_from_step(step_stages: Vec<ChebPoly>, bound: f64) -> Result<Self> {
        Self::new(step_stages, bound, CompositeOutput::ReluFromStep)
    }

    /// The stages, applied first to last.
    pub fn stages(&self) -> &[ChebPoly] {
        &self.stages
    }

    /// The pre-scaling bound `B` (inputs are divided by it).
    pub fn input_bound(&self) -> f64 {
        self.input_bound
    }

    /// The output form.
    pub fn output(&self) -> CompositeOutput {
        self.output
    }

    /// Levels an encrypted evaluation consumes (see the module's depth rules).
    pub fn depth(&self) -> u32 {
        self.stages.iter().map(ChebPoly::depth).sum::<u32>() + u32::from(self.output.is_relu())
    }

    /// The composite at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        let g = self
            .stages
            .iter()
            .fold(x / self.input_bound, |v, p| p.eval(v));
        match self.output {
            CompositeOutput::Value => g,
            CompositeOutput::ReluFromSign => 0.5 * x * (1.0 + g),
            CompositeOutput::ReluFromStep => x * g,
        }
    }

    /// `(value, derivative)` at `x` (chain rule through the stages).
    pub fn eval_with_derivative(&self, x: f64) -> (f64, f64) {
        let mut g = x / self.input_bound;
        let mut dg = 1.0 / self.input_bound;
        for p in &self.stages {
            let (v, d) = p.eval_with_derivative(g);
            g = v;
            dg *= d;
        }
        match self.output {
            CompositeOutput::Value => (g, dg),
            CompositeOutput::ReluFromSign => (0.5 * x * (1.0 + g), 0.5 * (1.0 + g) + 0.5 * x * dg),
            CompositeOutput::ReluFromStep => (x * g, g + x * dg),
        }
    }
}

/// An activation function (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activation {
    /// `x`.
    Identity,
    /// `x²`.
    Square,
    /// Exact `max(x, 0)`: training only, not a polynomial.
    Relu,
    /// A Chebyshev-basis polynomial.
    Poly(ChebPoly),
    /// Composed polynomials after pre-scaling (composite ReLU hook).
    Composite(Composite),
}

impl Activation {
    /// Short name (`"identity"`, `"square"`, `"relu"`, `"poly"`, `"composite"`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Square => "square",
            Self::Relu => "relu",
            Self::Poly(_) => "poly",
            Self::Composite(_) => "composite",
        }
    }

    /// True for every variant an encrypted evaluation can compute (all but `Relu`).
    pub fn is_polynomial(&self) -> bool {
        !matches!(self, Self::Relu)
    }

    /// Levels an encrypted evaluation consumes, `None` for the non-polynomial `Relu`.
    pub fn depth(&self) -> Option<u32> {
        match self {
            Self::Identity => Some(0),
            Self::Square => Some(1),
            Self::Relu => None,
            Self::Poly(p) => Some(p.depth()),
            Self::Composite(c) => Some(c.depth()),
        }
    }

    /// The activation at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        match self {
            Self::Identity => x,
            Self::Square => x * x,
            Self::Relu => x.max(0.0),
            Self::Poly(p) => p.eval(x),
            Self::Composite(c) => c.eval(x),
        }
    }

    /// `(value, derivative)` at `x` (ReLU's derivative at 0 is taken as 0).
    pub fn eval_with_derivative(&self, x: f64) -> (f64, f64) {
        match self {
            Self::Identity => (x, 1.0),
            Self::Square => (x * x, 2.0 * x),
            Self::Relu => {
                if x > 0.0 {
                    (x, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
            Self::Poly(p) => p.eval_with_derivative(x),
            Self::Composite(c) => c.eval_with_derivative(x),
        }
    }
}

/// `T_j(t)` by the three-term recurrence.
fn chebyshev_t(j: usize, t: f64) -> f64 {
    let (mut a, mut b) = (1.0, t);
    if j == 0 {
        return a;
    }
    for _ in 1..j {
        let c = 2.0 * t * b - a;
        a = b;
        b = c;
    }
    b
}

/// `Σ c_k T_k(t)` by Clenshaw's recurrence.
fn clenshaw(c: &[f64], t: f64) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    for &ck in c.iter().skip(1).rev() {
        let b0 = 2.0 * t * b1 - b2 + ck;
        b2 = b1;
        b1 = b0;
    }
    c.first().copied().unwrap_or(0.0) + t * b1 - b2
}

/// Chebyshev coefficients of `d/dt Σ c_k T_k(t)`: `c'_{k−1} = c'_{k+1} + 2k c_k`, `c'_0` halved.
fn derivative_coefficients(c: &[f64]) -> Vec<f64> {
    let n = c.len();
    if n <= 1 {
        return vec![0.0];
    }
    let mut d = vec![0.0; n + 1];
    for k in (1..n).rev() {
        d[k - 1] = d[k + 1] + 2.0 * k as f64 * c[k];
    }
    d[0] *= 0.5;
    d.truncate(n - 1);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_of_t3() {
        // T3 = 4t³ − 3t, T3' = 12t² − 3 = 3 T0 + 6 T2.
        let d = derivative_coefficients(&[0.0, 0.0, 0.0, 1.0]);
        assert_eq!(d, vec![3.0, 0.0, 6.0]);
    }

    #[test]
    fn chebyshev_t_known_values() {
        assert_eq!(chebyshev_t(0, 0.3), 1.0);
        assert_eq!(chebyshev_t(1, 0.3), 0.3);
        assert!((chebyshev_t(2, 0.3) - (2.0 * 0.09 - 1.0)).abs() < 1e-15);
    }
}

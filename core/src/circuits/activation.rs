//! Activation functions as polynomials, evaluated identically in plaintext (`f64`) and on
//! ciphertexts: `x²`, Chebyshev interpolants of smooth functions (sigmoid, SiLU, GELU) on an
//! interval, and ReLU as `x·step(x)` with a composite minimax sign approximation.
//!
//! Every [`Activation`] states its depth ([`Activation::depth`]) and a precision measured in
//! `f64` on a dense grid when it is built ([`Activation::precision`]); its plaintext
//! evaluation [`Activation::eval_plain`] uses the very coefficients the encrypted evaluation
//! uses, so a plaintext model computes exactly the encrypted model's function.
//!
//! # Composite ReLU
//!
//! `ReLU(x) = x·(1 + sign(x))/2` on `[−1, 1]` (inputs prescaled into `[−1, 1]`). The sign is
//! approximated by a composition `p_k ∘ … ∘ p_1` of odd polynomials (degrees `[15, 15, 27]`
//! by default, as Orion and HE-LRM use), built greedily as in Lee et al.: `p_1` is the odd
//! minimax approximation of `1` on `[ε, 1]` (Remez exchange in the odd Chebyshev basis
//! `T_1, T_3, …`), with error `δ_1`; it is divided by its maximum `M_1` on `[0, 1]` so that
//! its image stays inside `[−1, 1]`, and `p_2` is the minimax approximation of `1` on the
//! image of `[ε, 1]`, `[(1 − δ_1)/M_1, 1]`; and so on. The last stage is not normalised; it
//! is folded into `step = ½ + ½·p_k`, and `ReLU = x·step(x)` costs one more level. Every stage
//! is a Chebyshev polynomial on `[−1, 1]`, so no stage spends a level on a change of variable:
//! depth `4 + 4 + 5 + 1 = 14` for the default degrees.
//!
//! Default `ε = 2^-9` ([`DEFAULT_RELU_EPSILON`]), chosen to minimise the ReLU error over the
//! whole of `[−1, 1]`, band included. Measured in `f64` on 20,001 points (the
//! `default_relu_precision_is_as_documented` test checks these bounds):
//!
//! | `ε` | sign error on `ε ≤ \|x\| ≤ 1` | ReLU error outside the band | ReLU error inside |
//! |---|---|---|---|
//! | `2^-8` | `5.9e-8` | `2.9e-8` | `1.7e-4` |
//! | **`2^-9`** | **`9.9e-5` (< `2^-13.2`)** | **`5.0e-5` (< `2^-14.2`)** | **`1.2e-4` (< `2^-13`)** |
//! | `2^-10` | `6.2e-3` | `3.1e-3` | `7.8e-5` |
//!
//! Larger `ε` makes the later stages' domains so narrow that their minimax error reaches the
//! `f64` floor; the exchange then keeps its best solution.
//!
//! # Example
//! ```
//! use helrm_core::circuits::activation::Activation;
//! let sigmoid = Activation::sigmoid(-8.0, 8.0, 31)?;
//! assert_eq!(sigmoid.depth(), 6); // ⌈log2 32⌉ + 1 for the map of [−8, 8] onto [−1, 1]
//! assert!((sigmoid.eval_plain(1.0) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-4);
//! let relu = Activation::relu()?;
//! assert_eq!(relu.depth(), 14);
//! assert!((relu.eval_plain(0.5) - 0.5).abs() < 1e-3);
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # Errors
//! [`Error::InvalidInterval`], [`Error::PolynomialDegree`] (an even stage degree of the
//! composite sign, or a degree outside the supported range), [`Error::InvalidLayout`] for an
//! `ε` outside `(0, 1)`, [`Error::ApproximationDiverged`] if a Remez exchange fails; on
//! evaluation, those of [`Polynomial::evaluate`].
//!
//! # References
//! - E. Lee, J.-W. Lee, J.-S. No, Y.-S. Kim, "Minimax approximation of sign function by
//!   composite polynomial for homomorphic comparison", IEEE TDSC 2021 (eprint 2020/834).
//! - J. Lee, E. Lee, J.-W. Lee, Y. Kim, Y.-S. Kim, J.-S. No, "Precise approximation of
//!   convolutional neural networks for homomorphically encrypted data", IEEE Access 2023.
//! - A. Ebel, K. Garimella, B. Reagen, "Orion: a fully homomorphic encryption framework for
//!   deep learning", ASPLOS 2025 (ReLU degrees `[15, 15, 27]`).
//! - E. Ya. Remez, "Sur la détermination des polynômes d'approximation de degré donnée", 1934.

use super::poly::Polynomial;
use crate::ckks::{Ciphertext, Evaluator, Level};
use crate::error::{Error, Result};
use std::f64::consts::PI;
use std::sync::OnceLock;

/// Sign-stage degrees of the default composite ReLU (Orion, HE-LRM).
pub const DEFAULT_RELU_DEGREES: [usize; 3] = [15, 15, 27];

/// Half-width of the band around 0 excluded from the default ReLU's sign guarantee.
pub const DEFAULT_RELU_EPSILON: f64 = 1.0 / 512.0;

/// Samples of the grid on which precisions are measured.
const PRECISION_SAMPLES: usize = 20_001;

/// A smooth function approximated by Chebyshev interpolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmoothFunction {
    /// `1 / (1 + e^{−x})`.
    Sigmoid,
    /// `x · sigmoid(x)`.
    Silu,
    /// `x · Φ(x) = x (1 + erf(x/√2)) / 2`.
    Gelu,
}

impl SmoothFunction {
    /// The exact value in `f64`.
    pub fn value(self, x: f64) -> f64 {
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        match self {
            SmoothFunction::Sigmoid => sigmoid(x),
            SmoothFunction::Silu => x * sigmoid(x),
            SmoothFunction::Gelu => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        }
    }
}

/// The error function, to about `1e-15` (power series below 2.5, continued fraction of
/// `erfc` above).
pub fn erf(x: f64) -> f64 {
    let ax = x.abs();
    let r = if ax < 2.5 {
        let (mut sum, mut term, mut n) = (0.0, ax, 0.0f64);
        // term_n = (−1)^n x^{2n+1} / n!; the series adds term_n / (2n + 1).
        loop {
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() < 1e-17 * sum.abs() || n > 200.0 {
                break;
            }
            n += 1.0;
            term *= -ax * ax / n;
        }
        sum * 2.0 / PI.sqrt()
    } else {
        // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
        let mut t = ax;
        for k in (1..=80).rev() {
            t = ax + (k as f64 / 2.0) / t;
        }
        1.0 - (-ax * ax).exp() / PI.sqrt() / t
    };
    if x < 0.0 {
        -r
    } else {
        r
    }
}

/// A stated precision: the largest absolute error against the exact function over `domain`,
/// excluding `(−band, band)` (zero when nothing is excluded), measured in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// Largest `|approx(x) − f(x)|` measured.
    pub max_abs_error: f64,
    /// The interval measured.
    pub domain: (f64, f64),
    /// Half-width of the band around 0 left out.
    pub excluded_band: f64,
}

impl Precision {
    /// `−log2` of the error: bits of absolute precision.
    pub fn bits(&self) -> f64 {
        -self.max_abs_error.max(f64::MIN_POSITIVE).log2()
    }
}

/// ReLU as `x·step(x)` with a composite sign approximation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositeRelu {
    /// The normalised sign stages, then the last stage folded into `step = ½ + ½·p_k`.
    stages: Vec<Polynomial>,
    epsilon: f64,
    sign_error: f64,
    relu_error: f64,
    relu_error_band: f64,
}

impl CompositeRelu {
    /// Builds the composite for sign-stage `degrees` (odd) and band half-width `epsilon`.
    ///
    /// # Errors
    /// See the module documentation.
    pub fn new(degrees: &[usize], epsilon: f64) -> Result<Self> {
        if !(epsilon > 0.0 && epsilon < 1.0) {
            return Err(Error::InvalidInterval { a: epsilon, b: 1.0 });
        }
        if degrees.is_empty() {
            return Err(Error::PolynomialDegree {
                degree: 0,
                min: 1,
                max: super::poly::MAX_DEGREE,
            });
        }
        let mut stages = Vec::with_capacity(degrees.len());
        let mut lo = epsilon;
        for (i, &d) in degrees.iter().enumerate() {
            if d.is_multiple_of(2) || d > super::poly::MAX_DEGREE {
                return Err(Error::PolynomialDegree {
                    degree: d,
                    min: 1,
                    max: super::poly::MAX_DEGREE,
                });
            }
            let coeffs = remez_odd_unit(d, lo, 1.0)?;
            let p = Polynomial::chebyshev(&coeffs, -1.0, 1.0)?;
            if i + 1 == degrees.len() {
                stages.push(p.affine(0.5, 0.5)?);
            } else {
                // Normalise by the maximum on [0, 1]; the next stage's domain is the image of
                // [lo, 1].
                let (mut max, mut min_on) = (0.0f64, f64::INFINITY);
                for k in 0..PRECISION_SAMPLES {
                    let x = k as f64 / (PRECISION_SAMPLES - 1) as f64;
                    let v = p.eval_plain(x);
                    max = max.max(v.abs());
                    if x >= lo {
                        min_on = min_on.min(v);
                    }
                }
                let p = p.affine(1.0 / max, 0.0)?;
                lo = min_on / max;
                stages.push(p);
            }
        }
        let mut relu = Self {
            stages,
            epsilon,
            sign_error: 0.0,
            relu_error: 0.0,
            relu_error_band: 0.0,
        };
        let (mut sign_err, mut out_err, mut band_err) = (0.0f64, 0.0f64, 0.0f64);
        for k in 0..PRECISION_SAMPLES {
            let x = -1.0 + 2.0 * k as f64 / (PRECISION_SAMPLES - 1) as f64;
            let step = relu.step_plain(x);
            let err = (x * step - x.max(0.0)).abs();
            if x.abs() >= epsilon {
                sign_err = sign_err.max((2.0 * step - 1.0 - x.signum()).abs());
                out_err = out_err.max(err);
            } else {
                band_err = band_err.max(err);
            }
        }
        relu.sign_error = sign_err;
        relu.relu_error = out_err;
        relu.relu_error_band = band_err;
        Ok(relu)
    }

    /// The sign stages (the last one already folded into `step = ½ + ½·p_k`).
    pub fn stages(&self) -> &[Polynomial] {
        &self.stages
    }

    /// Half-width of the band around 0 where the sign is not approximated.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Largest `|p_k ∘ … ∘ p_1(x) − sign(x)|` measured for `ε ≤ |x| ≤ 1`.
    pub fn sign_error(&self) -> f64 {
        self.sign_error
    }

    /// Largest ReLU error measured inside the band `(−ε, ε)` (at most about `ε`).
    pub fn band_error(&self) -> f64 {
        self.relu_error_band
    }

    /// `step(x) ≈ (1 + sign x)/2` in `f64`.
    pub fn step_plain(&self, x: f64) -> f64 {
        self.stages.iter().fold(x, |v, p| p.eval_plain(v))
    }

    /// Levels consumed: the stages' depths plus one for `x·step(x)`.
    pub fn depth(&self) -> usize {
        self.stages.iter().map(Polynomial::depth).sum::<usize>() + 1
    }

    fn evaluate(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
        let depth = self.depth();
        let level = ct.level().get();
        if level < depth {
            return Err(Error::LevelTooLow {
                op: "relu",
                level,
                needed: depth,
            });
        }
        let _scope = eval.scope("relu");
        let mut s = ct.clone();
        let last = self.stages.len() - 1;
        for (i, p) in self.stages.iter().enumerate() {
            s = if i == last {
                // step at the scale of the prime the final product's rescale drops, so that
                // the ReLU keeps the input's scale exactly.
                let l = s.level().get() - p.depth();
                let q = eval.context().params().q()[l] as f64;
                p.evaluate_to_scale(eval, &s, q)?
            } else {
                p.evaluate(eval, &s)?
            };
        }
        let x = eval.drop_to_level(ct, s.level())?;
        eval.rescale(&eval.mul_relin(&x, &s)?)
    }
}

/// An activation function that plaintext and encrypted models evaluate identically.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    /// `x²` (one multiplication, one level; the output scale is `scale² / q_ℓ`).
    Square,
    /// A Chebyshev interpolant of a smooth function on an interval.
    Smooth {
        /// The function.
        function: SmoothFunction,
        /// Its interpolant.
        poly: Polynomial,
        /// The precision measured on the interval.
        precision: Precision,
    },
    /// ReLU as `x·step(x)`.
    Relu(CompositeRelu),
}

static DEFAULT_RELU: OnceLock<std::result::Result<CompositeRelu, Error>> = OnceLock::new();

impl Activation {
    /// `x²`.
    pub fn square() -> Self {
        Activation::Square
    }

    /// The degree-`degree` Chebyshev interpolant of `function` on `[a, b]`.
    ///
    /// # Errors
    /// [`Error::InvalidInterval`], [`Error::PolynomialDegree`].
    pub fn smooth(function: SmoothFunction, a: f64, b: f64, degree: usize) -> Result<Self> {
        let f = move |x| function.value(x);
        let poly = Polynomial::interpolate(f, a, b, degree)?;
        let precision = Precision {
            max_abs_error: poly.max_error(f, a, b, PRECISION_SAMPLES),
            domain: (a, b),
            excluded_band: 0.0,
        };
        Ok(Activation::Smooth {
            function,
            poly,
            precision,
        })
    }

    /// Sigmoid on `[a, b]`; see [`Activation::smooth`].
    ///
    /// # Errors
    /// As [`Activation::smooth`].
    pub fn sigmoid(a: f64, b: f64, degree: usize) -> Result<Self> {
        Self::smooth(SmoothFunction::Sigmoid, a, b, degree)
    }

    /// SiLU on `[a, b]`; see [`Activation::smooth`].
    ///
    /// # Errors
    /// As [`Activation::smooth`].
    pub fn silu(a: f64, b: f64, degree: usize) -> Result<Self> {
        Self::smooth(SmoothFunction::Silu, a, b, degree)
    }

    /// GELU on `[a, b]`; see [`Activation::smooth`].
    ///
    /// # Errors
    /// As [`Activation::smooth`].
    pub fn gelu(a: f64, b: f64, degree: usize) -> Result<Self> {
        Self::smooth(SmoothFunction::Gelu, a, b, degree)
    }

    /// ReLU with the default composite sign (degrees [`DEFAULT_RELU_DEGREES`],
    /// `ε = DEFAULT_RELU_EPSILON`), computed once per process.
    ///
    /// # Errors
    /// [`Error::ApproximationDiverged`] if the Remez exchange fails (it does not for the
    /// defaults).
    pub fn relu() -> Result<Self> {
        DEFAULT_RELU
            .get_or_init(|| CompositeRelu::new(&DEFAULT_RELU_DEGREES, DEFAULT_RELU_EPSILON))
            .clone()
            .map(Activation::Relu)
    }

    /// ReLU with a composite sign of the given odd stage degrees and band half-width.
    ///
    /// # Errors
    /// See the module documentation.
    pub fn relu_with(degrees: &[usize], epsilon: f64) -> Result<Self> {
        CompositeRelu::new(degrees, epsilon).map(Activation::Relu)
    }

    /// Levels consumed on a ciphertext.
    pub fn depth(&self) -> usize {
        match self {
            Activation::Square => 1,
            Activation::Smooth { poly, .. } => poly.depth(),
            Activation::Relu(r) => r.depth(),
        }
    }

    /// The precision against the exact function, measured in `f64` when built (exact for
    /// `x²`). ReLU's excludes the band `(−ε, ε)`; see [`CompositeRelu::band_error`].
    pub fn precision(&self) -> Precision {
        match self {
            Activation::Square => Precision {
                max_abs_error: 0.0,
                domain: (f64::NEG_INFINITY, f64::INFINITY),
                excluded_band: 0.0,
            },
            Activation::Smooth { precision, .. } => *precision,
            Activation::Relu(r) => Precision {
                max_abs_error: r.relu_error,
                domain: (-1.0, 1.0),
                excluded_band: r.epsilon,
            },
        }
    }

    /// The activation polynomial in `f64`, with the coefficients the encrypted evaluation
    /// uses.
    pub fn eval_plain(&self, x: f64) -> f64 {
        match self {
            Activation::Square => x * x,
            Activation::Smooth { poly, .. } => poly.eval_plain(x),
            Activation::Relu(r) => x * r.step_plain(x),
        }
    }

    /// The activation on a ciphertext; the result sits [`Activation::depth`] levels lower.
    /// Smooth activations and ReLU keep the input's scale exactly.
    ///
    /// # Errors
    /// [`Error::LevelTooLow`] with fewer levels than the depth; evaluator errors.
    pub fn evaluate(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
        match self {
            Activation::Square => {
                if ct.level() < Level::new(1) {
                    return Err(Error::LevelTooLow {
                        op: "square",
                        level: 0,
                        needed: 1,
                    });
                }
                let _scope = eval.scope("square");
                eval.rescale(&eval.mul_relin(ct, ct)?)
            }
            Activation::Smooth { poly, .. } => poly.evaluate(eval, ct),
            Activation::Relu(r) => r.evaluate(eval, ct),
        }
    }
}

/// Largest number of Remez iterations.
const REMEZ_ITERATIONS: usize = 60;

/// Relative spread of the reference errors at which the exchange stops.
const REMEZ_TOLERANCE: f64 = 1e-6;

/// An error level below which the exchange stops: `f64` rounding (about `1e-16` per
/// operation, times the degree) hides the equioscillation.
const REMEZ_FLOOR: f64 = 1e-11;

/// `T_0(x) … T_deg(x)`.
fn chebyshev_values(x: f64, deg: usize) -> Vec<f64> {
    let mut t = vec![1.0; deg + 1];
    if deg >= 1 {
        t[1] = x;
    }
    for k in 2..=deg {
        t[k] = 2.0 * x * t[k - 1] - t[k - 2];
    }
    t
}

/// Solves `A·x = b` (dense, partial pivoting); `None` if singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        let (top, bottom) = a.split_at_mut(col + 1);
        let (b_top, b_bottom) = b.split_at_mut(col + 1);
        let (prow, pb) = (&top[col], b_top[col]);
        for (row, rb) in bottom.iter_mut().zip(b_bottom.iter_mut()) {
            let f = row[col] / prow[col];
            for (x, &p) in row[col..].iter_mut().zip(&prow[col..]) {
                *x -= f * p;
            }
            *rb -= f * pb;
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// The odd polynomial of degree `degree` (as Chebyshev coefficients `c_0 … c_degree`, even
/// ones zero) minimising `max |p(x) − 1|` over `[lo, hi] ⊂ (0, 1]`, by the Remez exchange:
/// solve for equioscillation on `n + 1` reference points (`n = (degree + 1)/2` unknowns plus
/// the level), move the references to the alternating extrema of the error (located on a
/// dense grid and refined by golden-section search), repeat until the extrema are level.
fn remez_odd_unit(degree: usize, lo: f64, hi: f64) -> Result<Vec<f64>> {
    let n = degree.div_ceil(2);
    let eval = |a: &[f64], x: f64| -> f64 {
        let t = chebyshev_values(x, degree);
        a.iter().enumerate().map(|(j, &aj)| aj * t[2 * j + 1]).sum()
    };
    let mut refs: Vec<f64> = (0..=n)
        .map(|k| lo + (hi - lo) * 0.5 * (1.0 - (PI * k as f64 / n as f64).cos()))
        .collect();
    let grid: Vec<f64> = {
        let g = 4000 + 400 * degree;
        (0..g)
            .map(|i| lo + (hi - lo) * 0.5 * (1.0 - (PI * i as f64 / (g - 1) as f64).cos()))
            .collect()
    };
    let mut spread = f64::INFINITY;
    let to_coeffs = |a: &[f64]| {
        let mut coeffs = vec![0.0; degree + 1];
        for (j, &aj) in a.iter().enumerate() {
            coeffs[2 * j + 1] = aj;
        }
        coeffs
    };
    // The best reference solution so far, by its largest reference error.
    let mut best: Option<(f64, Vec<f64>)> = None;
    for _ in 0..REMEZ_ITERATIONS {
        let a_mat: Vec<Vec<f64>> = refs
            .iter()
            .enumerate()
            .map(|(k, &x)| {
                let t = chebyshev_values(x, degree);
                let mut row: Vec<f64> = (0..n).map(|j| t[2 * j + 1]).collect();
                row.push(if k.is_multiple_of(2) { 1.0 } else { -1.0 });
                row
            })
            .collect();
        let Some(sol) = solve(a_mat, vec![1.0; n + 1]) else {
            break;
        };
        let a = &sol[..n];
        let err = |x: f64| eval(a, x) - 1.0;
        // Local extrema of the error on the grid, refined.
        let e: Vec<f64> = grid.iter().map(|&x| err(x)).collect();
        let mut ext: Vec<(f64, f64)> = Vec::new();
        for i in 0..grid.len() {
            let left = if i == 0 {
                f64::NEG_INFINITY
            } else {
                e[i - 1].abs()
            };
            let right = if i + 1 == grid.len() {
                f64::NEG_INFINITY
            } else {
                e[i + 1].abs()
            };
            let same_sign = |j: usize| e[j].signum() == e[i].signum();
            let is_max = (i == 0 || !same_sign(i - 1) || e[i].abs() >= left)
                && (i + 1 == grid.len() || !same_sign(i + 1) || e[i].abs() >= right);
            if !is_max {
                continue;
            }
            let x = if i == 0 || i + 1 == grid.len() {
                grid[i]
            } else {
                golden_max(|x| err(x) * e[i].signum(), grid[i - 1], grid[i + 1])
            };
            ext.push((x, err(x)));
        }
        // Keep one extremum per run of equal signs (the largest).
        let mut alt: Vec<(f64, f64)> = Vec::new();
        for p in ext {
            match alt.last_mut() {
                Some(last) if last.1.signum() == p.1.signum() => {
                    if p.1.abs() > last.1.abs() {
                        *last = p;
                    }
                }
                _ => alt.push(p),
            }
        }
        while alt.len() > n + 1 {
            let drop_first = alt[0].1.abs() < alt[alt.len() - 1].1.abs();
            if drop_first {
                alt.remove(0);
            } else {
                alt.pop();
            }
        }
        if alt.len() < n + 1 {
            break;
        }
        let (mx, mn) = alt.iter().fold((0.0f64, f64::INFINITY), |(mx, mn), p| {
            (mx.max(p.1.abs()), mn.min(p.1.abs()))
        });
        spread = (mx - mn) / mx;
        refs = alt.iter().map(|p| p.0).collect();
        if spread < REMEZ_TOLERANCE || mx < REMEZ_FLOOR {
            return Ok(to_coeffs(a));
        }
        if best.as_ref().is_none_or(|b| mx < b.0) {
            best = Some((mx, to_coeffs(a)));
        }
    }
    // Near the floor, rounding breaks the alternation; the best solution is then as good as
    // `f64` allows.
    if let Some((mx, coeffs)) = best {
        if mx < 100.0 * REMEZ_FLOOR {
            return Ok(coeffs);
        }
    }
    Err(Error::ApproximationDiverged {
        what: "odd minimax approximation of sign",
        iterations: REMEZ_ITERATIONS,
        spread,
    })
}

/// The maximiser of a unimodal `f` on `[a, b]` by golden-section search.
fn golden_max<F: Fn(f64) -> f64>(f: F, mut a: f64, mut b: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - r * (b - a);
    let mut d = a + r * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_known_values() {
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.5, 0.999_593_047_982_555),
            (3.0, 0.999_977_909_503_001_4),
            (-1.5, -0.966_105_146_475_310_7),
        ] {
            assert!((erf(x) - want).abs() < 1e-14, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn remez_equioscillates() {
        let c = remez_odd_unit(7, 0.1, 1.0).unwrap();
        let p = Polynomial::chebyshev(&c, -1.0, 1.0).unwrap();
        // The error attains its maximum with alternating signs n + 1 = 5 times; check the
        // maximum equals the error at both ends of [0.1, 1].
        let m = p.max_error(|_| 1.0, 0.1, 1.0, 20001);
        assert!(((p.eval_plain(0.1) - 1.0).abs() - m).abs() < 1e-6 * m);
        assert!(((p.eval_plain(1.0) - 1.0).abs() - m).abs() < 1e-6 * m);
        assert!(c.iter().step_by(2).all(|&x| x == 0.0), "odd");
    }
}

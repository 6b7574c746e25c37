//! Polynomial evaluation on ciphertexts: Chebyshev basis on an interval `[a, b]` or the
//! monomial basis, by baby-step giant-step (Paterson–Stockmeyer) in depth
//! `⌈log2(d + 1)⌉`, with lazy rescaling and exact scale management.
//!
//! # Algorithm
//!
//! The power basis `T_i` (or `x^i`) is computed on demand at minimal depth `⌈log2 i⌉`:
//! `T_{2n} = 2·T_n² − 1`, and for other `i`, with `a` the largest power of two below `i`,
//! `T_i = 2·T_a·T_{i−a} − T_{2a−i}`. A polynomial `p` of degree `d ≥ 2^l` (the baby bound,
//! `l = ⌈L/2⌉` with `L = ⌈log2(d + 1)⌉`) is split at the largest power of two `m ≤ d`:
//! `p = q·T_m + r` (Chebyshev: `q_0 = c_m`, `q_i = 2c_{m+i}`, `r_j = c_j − c_{2m−j}`;
//! monomial: `q_i = c_{m+i}`, `r_j = c_j`). The quotient is evaluated (and rescaled) one level
//! above the product; the remainder is added to the product *before* its rescale, so a node
//! costs one rescale for the product and the remainder together (lazy rescaling). Leaves
//! `Σ c_i T_i` multiply each `T_i` by its coefficient encoded at exactly the scale that brings
//! the term to the node's pending scale (`Evaluator::mul_const(T_i, c_i, S / scale(T_i))`),
//! so every addition sees equal scales and no extra level is spent on coefficients. A quotient
//! whose leaf would be one level too deep is split again at a smaller power of two, which keeps
//! the total depth at `⌈log2(d + 1)⌉`.
//!
//! A Chebyshev polynomial on `[a, b]` first maps `x` to `y = (2x − a − b)/(b − a)`. When
//! `b − a = 2` this is one constant addition; otherwise it is a constant multiplication and
//! costs one more level ([`Polynomial::depth`] counts it). Fold the map into the layer before
//! to save that level.
//!
//! The output scale is the input's scale (or the one asked for with
//! [`Polynomial::evaluate_to_scale`]), exactly: the last rescale divides a pending scale built
//! as `target · q_ℓ`.
//!
//! **Input scale.** Powers are squared and rescaled by the chain's primes, so an input whose
//! scale is `2^δ` times its level's prime gives `T_{2^k}` a scale `2^{2^k·δ}` times off; the
//! leaf coefficients are then encoded at scales far below 1 and round coarsely. Keep the input
//! at a scale near its level's prime (a bootstrap's output scale, a fresh `Δ`): at degree 27,
//! one bit of mismatch (`δ = 1`) costs the result about 2^-4 of precision.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use helrm_core::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Params};
//! use helrm_core::circuits::poly::Polynomial;
//! use helrm_core::ring::Backend;
//! use helrm_core::trace::DataClass;
//! let ctx = CkksContext::new(Params::preset("toy-n12-l10")?, Backend::Real)?;
//! let mut keygen = KeyGenerator::new(ctx.clone())?;
//! let eval = Evaluator::new(ctx.clone(), Arc::new(keygen.evaluation_keys(&[], 8, false)?));
//! let mut enc = Encryptor::new(ctx.clone(), keygen.public_key()?)?;
//! let x = [-0.9, -0.3, 0.2, 0.7];
//! let ct = enc.encrypt(&ctx.encode_real(&x, ctx.max_level(),
//!     ctx.params().default_scale(), 8, DataClass::Other)?)?;
//! // 3x² − 2x³ (depth 2).
//! let p = Polynomial::monomial(&[0.0, 0.0, 3.0, -2.0])?;
//! let y = p.evaluate(&eval, &ct)?;
//! assert_eq!(y.level().get(), ctx.max_level().get() - p.depth());
//! let got = Decryptor::new(ctx.clone(), keygen.secret_key()).decrypt_real(&y)?;
//! for (g, &v) in got.iter().zip(&x) {
//!     assert!((g - p.eval_plain(v)).abs() < 1e-5);
//! }
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # Errors
//! Construction: [`Error::PolynomialDegree`] (degree 0 after trimming trailing zeros, or
//! above [`MAX_DEGREE`]), [`Error::NonFiniteValue`], [`Error::InvalidInterval`].
//! Evaluation: [`Error::LevelTooLow`] when the ciphertext has fewer levels than
//! [`Polynomial::depth`], [`Error::MissingRelinKey`], [`Error::CiphertextDegree`], and the
//! evaluator's own errors.
//!
//! # References
//! - M. S. Paterson, L. J. Stockmeyer, "On the number of nonscalar multiplications necessary
//!   to evaluate polynomials", SIAM J. Comput. 1973.
//! - J.-P. Bossuat, C. Mouchet, J. Troncoso-Pastoriza, J.-P. Hubaux, Eurocrypt 2021 (§4:
//!   scale-invariant BSGS evaluation in the Chebyshev basis at depth `⌈log2(d+1)⌉`).
//! - K. Han, D. Ki, "Better bootstrapping for approximate homomorphic encryption", CT-RSA 2020.

use crate::ckks::{Ciphertext, Evaluator, Level};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::f64::consts::PI;

/// The circuit name used in errors and the trace scope.
const CIRCUIT: &str = "polynomial";

/// Largest supported degree.
pub const MAX_DEGREE: usize = 1023;

/// The basis a polynomial's coefficients refer to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// `Σ c_i x^i`.
    Monomial,
    /// `Σ c_i T_i(y)` with `y = (2x − a − b)/(b − a)` mapping `[a, b]` onto `[−1, 1]`.
    Chebyshev {
        /// Left end of the interval.
        a: f64,
        /// Right end of the interval.
        b: f64,
    },
}

/// A real polynomial with at least degree 1, in the monomial or a Chebyshev basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial {
    basis: Basis,
    coeffs: Vec<f64>,
}

/// `⌈log2(d + 1)⌉` for `d ≥ 1`.
fn log_degree(d: usize) -> usize {
    (usize::BITS - d.leading_zeros()) as usize
}

/// `⌈log2 i⌉` for `i ≥ 1`.
fn ceil_log2(i: usize) -> usize {
    (usize::BITS - (i.max(1) - 1).leading_zeros()) as usize
}

/// Index of the last non-zero coefficient (0 if none).
fn degree_of(c: &[f64]) -> usize {
    c.iter().rposition(|&x| x != 0.0).unwrap_or(0)
}

fn check_interval(a: f64, b: f64) -> Result<()> {
    if !(a.is_finite() && b.is_finite() && a < b) {
        return Err(Error::InvalidInterval { a, b });
    }
    Ok(())
}

impl Polynomial {
    fn new(basis: Basis, coeffs: &[f64]) -> Result<Self> {
        if let Some(index) = coeffs.iter().position(|c| !c.is_finite()) {
            return Err(Error::NonFiniteValue { index });
        }
        let d = degree_of(coeffs);
        if d == 0 || d > MAX_DEGREE {
            return Err(Error::PolynomialDegree {
                degree: d,
                min: 1,
                max: MAX_DEGREE,
            });
        }
        Ok(Self {
            basis,
            coeffs: coeffs[..=d].to_vec(),
        })
    }

    /// `Σ coeffs[i]·x^i` (trailing zeros are dropped).
    ///
    /// # Errors
    /// [`Error::PolynomialDegree`], [`Error::NonFiniteValue`].
    pub fn monomial(coeffs: &[f64]) -> Result<Self> {
        Self::new(Basis::Monomial, coeffs)
    }

    /// `Σ coeffs[i]·T_i(y)` on `[a, b]` (trailing zeros are dropped).
    ///
    /// # Errors
    /// [`Error::InvalidInterval`], [`Error::PolynomialDegree`], [`Error::NonFiniteValue`].
    pub fn chebyshev(coeffs: &[f64], a: f64, b: f64) -> Result<Self> {
        check_interval(a, b)?;
        Self::new(Basis::Chebyshev { a, b }, coeffs)
    }

    /// The Chebyshev interpolant of `f` of degree `degree` on `[a, b]`: the coefficients are
    /// the discrete cosine transform of `f` sampled at the `degree + 1` Chebyshev nodes,
    /// `c_j = (2/n) Σ_k f(x_k) cos(π j (k + ½)/n)` (`c_0` halved), computed in `f64`.
    ///
    /// # Errors
    /// [`Error::InvalidInterval`], [`Error::PolynomialDegree`] (also when `f` is constant to
    /// the last bit), [`Error::NonFiniteValue`] if `f` returns NaN or an infinity.
    pub fn interpolate<F: Fn(f64) -> f64>(f: F, a: f64, b: f64, degree: usize) -> Result<Self> {
        check_interval(a, b)?;
        if degree == 0 || degree > MAX_DEGREE {
            return Err(Error::PolynomialDegree {
                degree,
                min: 1,
                max: MAX_DEGREE,
            });
        }
        let n = degree + 1;
        let samples: Vec<f64> = (0..n)
            .map(|k| {
                let x = (PI * (k as f64 + 0.5) / n as f64).cos();
                f(0.5 * (b - a) * x + 0.5 * (a + b))
            })
            .collect();
        let coeffs: Vec<f64> = (0..n)
            .map(|j| {
                let s: f64 = samples
                    .iter()
                    .enumerate()
                    .map(|(k, &y)| y * (PI * j as f64 * (k as f64 + 0.5) / n as f64).cos())
                    .sum();
                let c = 2.0 * s / n as f64;
                if j == 0 {
                    c / 2.0
                } else {
                    c
                }
            })
            .collect();
        Self::chebyshev(&coeffs, a, b)
    }

    /// The basis.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The coefficients, lowest degree first.
    pub fn coeffs(&self) -> &[f64] {
        &self.coeffs
    }

    /// The degree.
    pub fn degree(&self) -> usize {
        self.coeffs.len() - 1
    }

    /// `mul·p + add` (the same basis; `T_0 = x^0 = 1`).
    ///
    /// # Errors
    /// [`Error::PolynomialDegree`] if `mul` is zero, [`Error::NonFiniteValue`].
    pub fn affine(&self, mul: f64, add: f64) -> Result<Self> {
        let mut c: Vec<f64> = self.coeffs.iter().map(|&x| x * mul).collect();
        c[0] += add;
        Self::new(self.basis, &c)
    }

    /// The coefficients of the linear map to `[−1, 1]`: `(α, β)` with `y = α·x + β`.
    fn map(&self) -> (f64, f64) {
        match self.basis {
            Basis::Monomial => (1.0, 0.0),
            Basis::Chebyshev { a, b } => (2.0 / (b - a), -(a + b) / (b - a)),
        }
    }

    /// Whether evaluating the map to `[−1, 1]` costs a level (`b − a ≠ 2`).
    fn map_costs_level(&self) -> bool {
        matches!(self.basis, Basis::Chebyshev { a, b } if b - a != 2.0)
    }

    /// Levels consumed by [`Polynomial::evaluate`]: `⌈log2(d + 1)⌉`, plus one for the map to
    /// `[−1, 1]` of a Chebyshev polynomial on an interval of length other than 2.
    pub fn depth(&self) -> usize {
        log_degree(self.degree()) + usize::from(self.map_costs_level())
    }

    /// `p(x)` in `f64` (Horner, or Clenshaw after the map to `[−1, 1]`): the function the
    /// encrypted evaluation approximates.
    pub fn eval_plain(&self, x: f64) -> f64 {
        match self.basis {
            Basis::Monomial => self.coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c),
            Basis::Chebyshev { .. } => {
                let (alpha, beta) = self.map();
                clenshaw(&self.coeffs, alpha * x + beta)
            }
        }
    }

    /// The largest `|p(x) − f(x)|` over `samples` evenly spaced points of `[lo, hi]` (both
    /// ends included).
    pub fn max_error<F: Fn(f64) -> f64>(&self, f: F, lo: f64, hi: f64, samples: usize) -> f64 {
        let n = samples.max(2);
        (0..n)
            .map(|i| {
                let x = lo + (hi - lo) * i as f64 / (n - 1) as f64;
                (self.eval_plain(x) - f(x)).abs()
            })
            .fold(0.0, f64::max)
    }

    /// Evaluates `p` on `ct`; the result has `ct`'s scale and sits [`Polynomial::depth`]
    /// levels lower.
    ///
    /// # Errors
    /// See the module documentation.
    pub fn evaluate(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
        self.evaluate_to_scale(eval, ct, ct.scale())
    }

    /// Evaluates `p` on `ct` with the result at exactly `scale` (for example the prime a
    /// following product's rescale drops).
    ///
    /// # Errors
    /// See the module documentation.
    pub fn evaluate_to_scale(
        &self,
        eval: &Evaluator,
        ct: &Ciphertext,
        scale: f64,
    ) -> Result<Ciphertext> {
        let depth = self.depth();
        let level = ct.level().get();
        if level < depth {
            return Err(Error::LevelTooLow {
                op: CIRCUIT,
                level,
                needed: depth,
            });
        }
        if ct.degree() > 1 {
            return Err(Error::CiphertextDegree {
                op: CIRCUIT,
                degree: ct.degree(),
                max: 1,
            });
        }
        if self.degree() >= 2 && !eval.keys().has_relin() {
            return Err(Error::MissingRelinKey);
        }
        if !(scale.is_finite() && scale >= 1.0) {
            return Err(Error::InvalidScale {
                scale: scale.to_string(),
            });
        }
        let _scope = eval.scope(CIRCUIT);
        let primes: Vec<f64> = eval
            .context()
            .params()
            .q()
            .iter()
            .map(|&q| q as f64)
            .collect();
        // T_1 (or x).
        let (alpha, beta) = self.map();
        let t1 = if self.map_costs_level() {
            let q = primes[level];
            let m = eval.mul_const(ct, alpha, q)?;
            let m = if beta != 0.0 {
                eval.add_const(&m, beta)?
            } else {
                m
            };
            eval.rescale(&m)?
        } else if beta != 0.0 {
            eval.add_const(ct, beta)?
        } else {
            ct.clone()
        };
        let top = t1.level().get();
        let l_deg = log_degree(self.degree());
        let mut engine = Engine {
            eval,
            chebyshev: matches!(self.basis, Basis::Chebyshev { .. }),
            powers: BTreeMap::from([(1, t1)]),
            top,
            baby: 1 << l_deg.div_ceil(2),
            primes,
        };
        engine.full(&self.coeffs, top - l_deg, scale)
    }
}

/// Clenshaw's recurrence for `Σ c_i T_i(y)`.
fn clenshaw(c: &[f64], y: f64) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    for &ci in c.iter().skip(1).rev() {
        let b0 = 2.0 * y * b1 - b2 + ci;
        b2 = b1;
        b1 = b0;
    }
    y * b1 - b2 + c.first().copied().unwrap_or(0.0)
}

/// `(q, r)` with `p = q·T_m + r` (Chebyshev) or `p = q·x^m + r` (monomial), `m ≤ deg p`.
fn split(c: &[f64], m: usize, chebyshev: bool) -> (Vec<f64>, Vec<f64>) {
    let d = c.len() - 1;
    let mut r: Vec<f64> = c[..m].to_vec();
    let q: Vec<f64> = if chebyshev {
        (0..=d - m)
            .map(|i| if i == 0 { c[m] } else { 2.0 * c[m + i] })
            .collect()
    } else {
        c[m..].to_vec()
    };
    if chebyshev {
        for i in 1..=d - m {
            r[m - i] -= c[m + i];
        }
    }
    (q, r)
}

/// The evaluation of one polynomial: the memoised power basis and the recursion.
struct Engine<'e> {
    eval: &'e Evaluator,
    chebyshev: bool,
    powers: BTreeMap<usize, Ciphertext>,
    /// Level of `T_1`.
    top: usize,
    /// Leaves have degree below this power of two.
    baby: usize,
    /// The chain primes as `f64`.
    primes: Vec<f64>,
}

impl Engine<'_> {
    /// The level `T_i` has (or will have when computed).
    fn level_of(&self, i: usize) -> usize {
        self.top.saturating_sub(ceil_log2(i))
    }

    fn drop_to(&self, ct: Ciphertext, level: usize) -> Result<Ciphertext> {
        if ct.level().get() > level {
            self.eval.drop_to_level(&ct, Level::new(level))
        } else {
            Ok(ct)
        }
    }

    /// `T_i` (or `x^i`) at level `top − ⌈log2 i⌉`.
    fn power(&mut self, i: usize) -> Result<Ciphertext> {
        if let Some(ct) = self.powers.get(&i) {
            return Ok(ct.clone());
        }
        let eval = self.eval;
        let out = if i.is_power_of_two() {
            let t = self.power(i / 2)?;
            let mut p = eval.mul_relin(&t, &t)?;
            if self.chebyshev {
                p = eval.add(&p, &p)?;
                p = eval.add_const(&p, -1.0)?;
            }
            eval.rescale(&p)?
        } else {
            let a = 1usize << (usize::BITS - 1 - i.leading_zeros());
            let b = i - a;
            let (ta, tb) = (self.power(a)?, self.power(b)?);
            let lvl = ta.level().get().min(tb.level().get());
            let (ta, tb) = (self.drop_to(ta, lvl)?, self.drop_to(tb, lvl)?);
            let mut p = eval.mul_relin(&ta, &tb)?;
            if self.chebyshev {
                p = eval.add(&p, &p)?;
                let tc = self.power(a - b)?;
                let tc = self.drop_to(tc, lvl)?;
                let tc = eval.mul_const(&tc, 1.0, p.scale() / tc.scale())?;
                p = eval.sub(&p, &tc)?;
            }
            eval.rescale(&p)?
        };
        self.powers.insert(i, out.clone());
        Ok(out)
    }

    /// `p(x)` at level `level_out` and scale `scale_out`, ending with one rescale.
    fn full(&mut self, c: &[f64], level_out: usize, scale_out: f64) -> Result<Ciphertext> {
        let lp = level_out + 1;
        let pending = self.pending(c, lp, scale_out * self.primes[lp])?;
        match pending {
            Some(ct) => self.eval.rescale(&ct),
            None => Err(Error::PolynomialDegree {
                degree: 0,
                min: 1,
                max: MAX_DEGREE,
            }),
        }
    }

    /// `p(x)` at `level` and scale `scale` *before* its rescale, or `None` when `p` is a
    /// constant (the caller adds it).
    fn pending(&mut self, c: &[f64], level: usize, scale: f64) -> Result<Option<Ciphertext>> {
        let d = degree_of(c);
        if d == 0 {
            return Ok(None);
        }
        let eval = self.eval;
        let leaf = d < self.baby
            && (1..=d)
                .filter(|&i| c[i] != 0.0)
                .all(|i| self.level_of(i) >= level);
        let mut acc: Option<Ciphertext> = None;
        let constant;
        if leaf {
            for (i, &ci) in c.iter().enumerate().take(d + 1).skip(1) {
                if ci == 0.0 {
                    continue;
                }
                let t = self.power(i)?;
                let t = self.drop_to(t, level)?;
                let term = eval.mul_const(&t, ci, scale / t.scale())?;
                acc = Some(match acc {
                    Some(a) => eval.add(&a, &term)?,
                    None => term,
                });
            }
            constant = c[0];
        } else {
            let m = 1usize << (usize::BITS - 1 - d.leading_zeros());
            let (q, r) = split(&c[..=d], m, self.chebyshev);
            let tm = self.power(m)?;
            let tm = self.drop_to(tm, level)?;
            let prod = if degree_of(&q) == 0 {
                eval.mul_const(&tm, q[0], scale / tm.scale())?
            } else {
                let qc = self.full(&q, level, scale / tm.scale())?;
                eval.mul_relin(&qc, &tm)?
            };
            acc = Some(match self.pending(&r, level, scale)? {
                Some(rc) => {
                    constant = 0.0;
                    eval.add(&prod, &rc)?
                }
                None => {
                    constant = r[0];
                    prod
                }
            });
        }
        match acc {
            Some(a) if constant != 0.0 => Ok(Some(eval.add_const(&a, constant)?)),
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_reconstructs_chebyshev_and_monomial() {
        let c = [0.3, -1.2, 0.5, 2.0, -0.7, 0.25, 1.5];
        for cheb in [true, false] {
            let (q, r) = split(&c, 4, cheb);
            for &y in &[-0.9, -0.2, 0.4, 0.95] {
                let (p, qv, rv, tm) = if cheb {
                    (
                        clenshaw(&c, y),
                        clenshaw(&q, y),
                        clenshaw(&r, y),
                        (4.0 * y.acos()).cos(),
                    )
                } else {
                    let h = |c: &[f64]| c.iter().rev().fold(0.0, |a, &k| a * y + k);
                    (h(&c), h(&q), h(&r), y.powi(4))
                };
                assert!((p - (qv * tm + rv)).abs() < 1e-12, "cheb={cheb} y={y}");
            }
        }
    }

    #[test]
    fn interpolation_is_exact_on_polynomials() {
        // 4x³ − 3x = T_3 on [−1, 1]; on [0, 4] a cubic is reproduced exactly.
        let p = Polynomial::interpolate(|x| 4.0 * x * x * x - 3.0 * x, -1.0, 1.0, 5).unwrap();
        for (i, &c) in p.coeffs().iter().enumerate() {
            let want = if i == 3 { 1.0 } else { 0.0 };
            assert!((c - want).abs() < 1e-14, "c_{i} = {c}");
        }
        let f = |x: f64| 0.5 * x * x * x - x + 2.0;
        let p = Polynomial::interpolate(f, 0.0, 4.0, 3).unwrap();
        assert!(p.max_error(f, 0.0, 4.0, 101) < 1e-12);
    }

    #[test]
    fn depth_formula() {
        let c = |d: usize| {
            let mut v = vec![0.0; d + 1];
            v[d] = 1.0;
            v
        };
        for (d, want) in [
            (1, 1),
            (2, 2),
            (3, 2),
            (4, 3),
            (7, 3),
            (8, 4),
            (15, 4),
            (27, 5),
            (31, 5),
            (32, 6),
        ] {
            assert_eq!(Polynomial::monomial(&c(d)).unwrap().depth(), want, "d={d}");
            assert_eq!(
                Polynomial::chebyshev(&c(d), -1.0, 1.0).unwrap().depth(),
                want,
                "d={d}"
            );
            assert_eq!(
                Polynomial::chebyshev(&c(d), -8.0, 8.0).unwrap().depth(),
                want + 1,
                "d={d}"
            );
        }
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(5), 3);
        assert_eq!(ceil_log2(8), 3);
    }

    #[test]
    fn bad_polynomials() {
        assert!(matches!(
            Polynomial::monomial(&[1.0, 0.0]),
            Err(Error::PolynomialDegree { degree: 0, .. })
        ));
        assert!(matches!(
            Polynomial::chebyshev(&[1.0, 2.0], 1.0, 1.0),
            Err(Error::InvalidInterval { .. })
        ));
        assert!(matches!(
            Polynomial::monomial(&[1.0, f64::NAN]),
            Err(Error::NonFiniteValue { index: 1 })
        ));
    }
}

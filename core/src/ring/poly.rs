//! [`RnsPoly`]: one polynomial as residues modulo a prefix of `Q` and a prefix of `P`.

use super::automorphism::Automorphism;
use super::pool;
use super::RingContext;
use crate::error::{Error, Result};
use crate::math::modarith::Modulus;
use crate::math::vecops::{IndexMap, VecOps};
use rayon::prelude::*;
use std::marker::PhantomData;

/// Below this many words a polynomial operation runs on the calling thread: splitting a few
/// kilobytes across threads costs more than it saves.
const PARALLEL_MIN_WORDS: usize = 1 << 15;

mod sealed {
    pub trait Sealed {}
}

/// The representation of an [`RnsPoly`]: [`Coeff`] or [`Eval`].
pub trait Form: sealed::Sealed + Copy + Default + std::fmt::Debug + Send + Sync + 'static {
    /// Whether this is the evaluation (NTT) form.
    const IS_EVAL: bool;
}

/// Coefficient form: limb `i` holds the coefficients `a_0 … a_{N−1}` modulo its prime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coeff;
/// Evaluation (NTT) form: limb `i` holds the evaluations at the odd powers of the prime's
/// primitive 2N-th root, in the NTT plan's bit-reversed order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Eval;
impl sealed::Sealed for Coeff {}
impl sealed::Sealed for Eval {}
impl Form for Coeff {
    const IS_EVAL: bool = false;
}
impl Form for Eval {
    const IS_EVAL: bool = true;
}

/// A polynomial in RNS form over `q_0 … q_{q_count−1}, p_0 … p_{p_count−1}`.
///
/// In a symbolic context the residue vector is empty: the polynomial is its shape.
#[derive(PartialEq, Eq)]
pub struct RnsPoly<F: Form> {
    n: usize,
    q_count: usize,
    p_count: usize,
    data: Vec<u64>,
    form: PhantomData<F>,
}

// Residue buffers come from and go back to the process-wide pool (`super::pool`): fresh
// multi-megabyte allocations cost a page fault per 4 KiB on first touch.
impl<F: Form> Clone for RnsPoly<F> {
    fn clone(&self) -> Self {
        Self {
            n: self.n,
            q_count: self.q_count,
            p_count: self.p_count,
            data: pool::take_copy(&self.data),
            form: PhantomData,
        }
    }
}

impl<F: Form> Drop for RnsPoly<F> {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

impl<F: Form> std::fmt::Debug for RnsPoly<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Residues may belong to a secret; print the shape only.
        f.debug_struct("RnsPoly")
            .field("n", &self.n)
            .field("q_count", &self.q_count)
            .field("p_count", &self.p_count)
            .field("eval", &F::IS_EVAL)
            .field("symbolic", &self.data.is_empty())
            .finish()
    }
}

/// Runs `f(limb_index, modulus, limb)` over every limb, in parallel when the polynomial is
/// large enough.
fn for_each_limb<M>(ctx: &RingContext, q_count: usize, p_count: usize, data: &mut [u64], f: M)
where
    M: Fn(usize, &Modulus, &mut [u64]) + Send + Sync,
{
    let n = ctx.n();
    let moduli: Vec<&Modulus> = ctx.moduli(q_count, p_count).collect();
    if data.len() >= PARALLEL_MIN_WORDS {
        data.par_chunks_mut(n)
            .zip(moduli.par_iter())
            .enumerate()
            .for_each(|(i, (l, m))| f(i, m, l));
    } else {
        data.chunks_mut(n)
            .zip(moduli)
            .enumerate()
            .for_each(|(i, (l, m))| f(i, m, l));
    }
}

/// Runs `f(ops, out_limb, in_limb)` over every limb pair with the limb's element-wise
/// kernels.
fn zip_ops<M>(
    ctx: &RingContext,
    q_count: usize,
    p_count: usize,
    out: &mut [u64],
    other: &[u64],
    f: M,
) where
    M: Fn(&VecOps, &mut [u64], &[u64]) + Send + Sync,
{
    let n = ctx.n();
    let ops = ctx.vec_ops(q_count, p_count);
    if out.len() >= PARALLEL_MIN_WORDS {
        out.par_chunks_mut(n)
            .zip(other.par_chunks(n))
            .zip(ops.par_iter())
            .for_each(|((o, a), m)| f(m, o, a));
    } else {
        out.chunks_mut(n)
            .zip(other.chunks(n))
            .zip(ops)
            .for_each(|((o, a), m)| f(m, o, a));
    }
}

/// Runs `f(modulus, out_limb, in_limb)` over every limb pair.
fn zip_limbs<M>(
    ctx: &RingContext,
    q_count: usize,
    p_count: usize,
    out: &mut [u64],
    other: &[u64],
    f: M,
) where
    M: Fn(&Modulus, &mut [u64], &[u64]) + Send + Sync,
{
    let n = ctx.n();
    let moduli: Vec<&Modulus> = ctx.moduli(q_count, p_count).collect();
    if out.len() >= PARALLEL_MIN_WORDS {
        out.par_chunks_mut(n)
            .zip(other.par_chunks(n))
            .zip(moduli.par_iter())
            .for_each(|((o, a), m)| f(m, o, a));
    } else {
        out.chunks_mut(n)
            .zip(other.chunks(n))
            .zip(moduli)
            .for_each(|((o, a), m)| f(m, o, a));
    }
}

impl<F: Form> RnsPoly<F> {
    fn zero_in(ctx: &RingContext, q_count: usize, p_count: usize) -> Self {
        let words = if ctx.is_real() {
            (q_count + p_count) * ctx.n()
        } else {
            0
        };
        Self {
            n: ctx.n(),
            q_count,
            p_count,
            data: pool::take_zeroed(words),
            form: PhantomData,
        }
    }

    /// Ring degree.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of Q limbs (a ciphertext at level ℓ has ℓ + 1).
    #[inline]
    pub fn q_count(&self) -> usize {
        self.q_count
    }

    /// Number of P limbs.
    #[inline]
    pub fn p_count(&self) -> usize {
        self.p_count
    }

    /// Total number of limbs.
    #[inline]
    pub fn limb_count(&self) -> usize {
        self.q_count + self.p_count
    }

    /// Whether the polynomial carries residues (false in symbolic runs).
    #[inline]
    pub fn is_real(&self) -> bool {
        !self.data.is_empty()
    }

    /// Size of the residues in bytes at 8-byte words (also for symbolic polynomials).
    #[inline]
    pub fn bytes(&self) -> u64 {
        (self.limb_count() * self.n * 8) as u64
    }

    /// Residues of limb `i` (Q limbs first, then P limbs). Empty in symbolic runs.
    pub fn limb(&self, i: usize) -> &[u64] {
        self.data.get(i * self.n..(i + 1) * self.n).unwrap_or(&[])
    }

    /// Mutable residues of limb `i`. Empty in symbolic runs.
    pub fn limb_mut(&mut self, i: usize) -> &mut [u64] {
        let n = self.n;
        self.data.get_mut(i * n..(i + 1) * n).unwrap_or(&mut [])
    }

    /// All residues, limb-major.
    pub fn data(&self) -> &[u64] {
        &self.data
    }

    /// All residues, limb-major, mutable.
    pub fn data_mut(&mut self) -> &mut [u64] {
        &mut self.data
    }

    /// Builds a polynomial from limb-major residues (each below its prime).
    ///
    /// # Errors
    /// [`Error::LimbLayout`] for a layout the context lacks, [`Error::LengthMismatch`] when
    /// `data` has the wrong length, [`Error::ResidueOutOfRange`] for a residue not below its
    /// prime.
    pub fn from_data(
        ctx: &RingContext,
        q_count: usize,
        p_count: usize,
        data: Vec<u64>,
    ) -> Result<Self> {
        ctx.check_layout(q_count, p_count)?;
        let expected = if ctx.is_real() {
            (q_count + p_count) * ctx.n()
        } else {
            0
        };
        if data.len() != expected {
            return Err(Error::LengthMismatch {
                what: "polynomial residues",
                expected,
                got: data.len(),
            });
        }
        for (limb, (chunk, m)) in data
            .chunks(ctx.n().max(1))
            .zip(ctx.moduli(q_count, p_count))
            .enumerate()
        {
            if let Some(pos) = chunk.iter().position(|&x| x >= m.value()) {
                return Err(Error::ResidueOutOfRange {
                    limb,
                    index: pos,
                    value: chunk[pos],
                    modulus: m.value(),
                });
            }
        }
        Ok(Self {
            n: ctx.n(),
            q_count,
            p_count,
            data,
            form: PhantomData,
        })
    }

    /// Wraps a residue buffer whose contents the caller will overwrite in full (scratch
    /// reuse): no validation, the length must be `(q_count + p_count)·N` in a real context
    /// and 0 in a symbolic one.
    pub(crate) fn from_scratch(
        ctx: &RingContext,
        q_count: usize,
        p_count: usize,
        mut data: Vec<u64>,
    ) -> Self {
        let words = if ctx.is_real() {
            (q_count + p_count) * ctx.n()
        } else {
            0
        };
        data.resize(words, 0);
        Self {
            n: ctx.n(),
            q_count,
            p_count,
            data,
            form: PhantomData,
        }
    }

    fn check_same_shape(&self, other: &Self, op: &'static str) -> Result<()> {
        if self.q_count != other.q_count || self.p_count != other.p_count || self.n != other.n {
            return Err(Error::ShapeMismatch {
                op,
                left: (self.q_count, self.p_count),
                right: (other.q_count, other.p_count),
            });
        }
        Ok(())
    }

    /// `self += other`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the limb layouts differ.
    pub fn add_assign(&mut self, other: &Self, ctx: &RingContext) -> Result<()> {
        self.check_same_shape(other, "add")?;
        zip_ops(
            ctx,
            self.q_count,
            self.p_count,
            &mut self.data,
            &other.data,
            |m, o, a| {
                // Equal lengths: both limbs have N words.
                let _ = m.add_assign(o, a);
            },
        );
        Ok(())
    }

    /// `self −= other`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the limb layouts differ.
    pub fn sub_assign(&mut self, other: &Self, ctx: &RingContext) -> Result<()> {
        self.check_same_shape(other, "sub")?;
        zip_ops(
            ctx,
            self.q_count,
            self.p_count,
            &mut self.data,
            &other.data,
            |m, o, a| {
                // Equal lengths: both limbs have N words.
                let _ = m.sub_assign(o, a);
            },
        );
        Ok(())
    }

    /// `self = −self`.
    pub fn neg_assign(&mut self, ctx: &RingContext) {
        for_each_limb(
            ctx,
            self.q_count,
            self.p_count,
            &mut self.data,
            |_, m, l| {
                l.iter_mut().for_each(|x| *x = m.neg(*x));
            },
        );
    }

    /// Multiplies limb `i` by `constants[i]` (each below its prime): multiplication by an
    /// integer given by its residues. Valid in either form.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one constant per limb.
    pub fn mul_residues_assign(&mut self, constants: &[u64], ctx: &RingContext) -> Result<()> {
        if constants.len() != self.limb_count() {
            return Err(Error::LengthMismatch {
                what: "per-limb constants",
                expected: self.limb_count(),
                got: constants.len(),
            });
        }
        let ops = ctx.vec_ops(self.q_count, self.p_count);
        for_each_limb(
            ctx,
            self.q_count,
            self.p_count,
            &mut self.data,
            |i, _, l| ops[i].mul_scalar_assign(l, constants[i]),
        );
        Ok(())
    }

    /// Multiplies by a signed integer constant.
    pub fn mul_i64_assign(&mut self, c: i64, ctx: &RingContext) {
        let ops = ctx.vec_ops(self.q_count, self.p_count);
        for_each_limb(
            ctx,
            self.q_count,
            self.p_count,
            &mut self.data,
            |i, m, l| ops[i].mul_scalar_assign(l, m.reduce_i64(c)),
        );
    }

    /// Drops Q limbs so that `q_count` remain (P limbs are kept).
    ///
    /// # Errors
    /// [`Error::LimbLayout`] if `q_count` is zero or more than the polynomial has.
    pub fn truncate_q(&mut self, q_count: usize) -> Result<()> {
        if q_count == 0 || q_count > self.q_count {
            return Err(Error::LimbLayout {
                q_count,
                p_count: self.p_count,
                max_q: self.q_count,
                max_p: self.p_count,
            });
        }
        if self.is_real() {
            let n = self.n;
            self.data.drain(q_count * n..self.q_count * n);
        }
        self.q_count = q_count;
        Ok(())
    }

    /// Drops every P limb.
    pub fn drop_p(&mut self) {
        if self.is_real() {
            self.data.truncate(self.q_count * self.n);
        }
        self.p_count = 0;
    }
}

impl RnsPoly<Coeff> {
    /// The zero polynomial in coefficient form.
    pub fn zero_coeff(ctx: &RingContext, q_count: usize, p_count: usize) -> Self {
        Self::zero_in(ctx, q_count, p_count)
    }

    /// Lifts signed integer coefficients (`coeffs.len() == N`) into every limb.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `coeffs.len() == N`; [`Error::LimbLayout`] for a
    /// layout the context lacks.
    pub fn from_signed(
        ctx: &RingContext,
        q_count: usize,
        p_count: usize,
        coeffs: &[i64],
    ) -> Result<Self> {
        ctx.check_layout(q_count, p_count)?;
        if coeffs.len() != ctx.n() {
            return Err(Error::LengthMismatch {
                what: "coefficients",
                expected: ctx.n(),
                got: coeffs.len(),
            });
        }
        let mut p = Self::zero_in(ctx, q_count, p_count);
        for_each_limb(ctx, q_count, p_count, &mut p.data, |_, m, l| {
            l.iter_mut()
                .zip(coeffs)
                .for_each(|(x, &c)| *x = m.reduce_i64(c));
        });
        Ok(p)
    }

    /// Lifts signed 128-bit coefficients (`coeffs.len() == N`, an encoder's output) into
    /// every limb.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `coeffs.len() == N`; [`Error::LimbLayout`] for a
    /// layout the context lacks.
    pub fn from_i128(
        ctx: &RingContext,
        q_count: usize,
        p_count: usize,
        coeffs: &[i128],
    ) -> Result<Self> {
        Self::from_i128_strided(ctx, q_count, p_count, 1, coeffs)
    }

    /// Lifts the polynomial whose coefficient `i · gap` is `coeffs[i]` and whose other
    /// coefficients are zero (`coeffs.len() · gap == N`: a sparse encoding's subring) into
    /// every limb.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `coeffs.len() · gap == N`; [`Error::LimbLayout`] for
    /// a layout the context lacks.
    pub fn from_i128_strided(
        ctx: &RingContext,
        q_count: usize,
        p_count: usize,
        gap: usize,
        coeffs: &[i128],
    ) -> Result<Self> {
        ctx.check_layout(q_count, p_count)?;
        if gap == 0 || coeffs.len().checked_mul(gap) != Some(ctx.n()) {
            return Err(Error::LengthMismatch {
                what: "coefficients",
                expected: ctx.n() / gap.max(1),
                got: coeffs.len(),
            });
        }
        let mut p = Self::zero_in(ctx, q_count, p_count);
        // An encoder's coefficients almost always fit 64 bits and lie below every prime: then
        // a limb is the coefficients with `q` added to the negative ones (no reduction, and
        // a loop the compiler vectorises).
        let narrow: Option<Vec<i64>> = coeffs.iter().map(|&c| i64::try_from(c).ok()).collect();
        let Some(narrow) = narrow else {
            for_each_limb(ctx, q_count, p_count, &mut p.data, |_, m, l| {
                l.iter_mut()
                    .step_by(gap)
                    .zip(coeffs)
                    .for_each(|(x, &c)| *x = m.reduce_i128(c));
            });
            return Ok(p);
        };
        let max_abs = narrow.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
        for_each_limb(ctx, q_count, p_count, &mut p.data, |_, m, l| {
            let q = m.value();
            if max_abs < q {
                l.iter_mut()
                    .step_by(gap)
                    .zip(&narrow)
                    .for_each(|(x, &c)| *x = (c as u64).wrapping_add(q & (c >> 63) as u64));
            } else {
                l.iter_mut()
                    .step_by(gap)
                    .zip(&narrow)
                    .for_each(|(x, &c)| *x = m.reduce_i64(c));
            }
        });
        Ok(p)
    }

    /// Forward NTT of every limb.
    ///
    /// # Errors
    /// Propagates NTT plan errors (none for a well-formed polynomial).
    pub fn into_eval(mut self, ctx: &RingContext) -> Result<RnsPoly<Eval>> {
        if self.is_real() {
            let plans = ctx.plans(self.q_count, self.p_count);
            let n = self.n;
            let run = |(l, plan): (&mut [u64], &&crate::math::ntt::NttPlan)| plan.forward(l);
            if self.data.len() >= PARALLEL_MIN_WORDS {
                self.data
                    .par_chunks_mut(n)
                    .zip(plans.par_iter())
                    .try_for_each(run)?;
            } else {
                self.data
                    .chunks_mut(n)
                    .zip(plans.iter())
                    .try_for_each(run)?;
            }
        }
        Ok(RnsPoly {
            n: self.n,
            q_count: self.q_count,
            p_count: self.p_count,
            data: std::mem::take(&mut self.data),
            form: PhantomData,
        })
    }

    /// Applies `X → X^k` in coefficient form.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if the automorphism was built for another degree.
    pub fn automorphism(&self, auto: &Automorphism, ctx: &RingContext) -> Result<Self> {
        auto.check_degree(self.n)?;
        let mut out = Self::zero_in(ctx, self.q_count, self.p_count);
        zip_limbs(
            ctx,
            self.q_count,
            self.p_count,
            &mut out.data,
            &self.data,
            |m, o, a| {
                auto.apply_coeff(m, a, o);
            },
        );
        Ok(out)
    }
}

impl RnsPoly<Eval> {
    /// The zero polynomial in evaluation form.
    pub fn zero_eval(ctx: &RingContext, q_count: usize, p_count: usize) -> Self {
        Self::zero_in(ctx, q_count, p_count)
    }

    /// Inverse NTT of every limb.
    ///
    /// # Errors
    /// Propagates NTT plan errors (none for a well-formed polynomial).
    pub fn into_coeff(mut self, ctx: &RingContext) -> Result<RnsPoly<Coeff>> {
        if self.is_real() {
            let plans = ctx.plans(self.q_count, self.p_count);
            let n = self.n;
            let run = |(l, plan): (&mut [u64], &&crate::math::ntt::NttPlan)| plan.inverse(l);
            if self.data.len() >= PARALLEL_MIN_WORDS {
                self.data
                    .par_chunks_mut(n)
                    .zip(plans.par_iter())
                    .try_for_each(run)?;
            } else {
                self.data
                    .chunks_mut(n)
                    .zip(plans.iter())
                    .try_for_each(run)?;
            }
        }
        Ok(RnsPoly {
            n: self.n,
            q_count: self.q_count,
            p_count: self.p_count,
            data: std::mem::take(&mut self.data),
            form: PhantomData,
        })
    }

    /// `self ⊙ other` (the ring product, since both are in evaluation form).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the limb layouts differ.
    pub fn mul(&self, other: &Self, ctx: &RingContext) -> Result<Self> {
        let mut out = Self::zero_in(ctx, self.q_count, self.p_count);
        self.mul_to(other, &mut out, ctx)?;
        Ok(out)
    }

    /// `out = self ⊙ other`, every residue of `out` overwritten (for reused buffers).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the limb layouts differ.
    pub(crate) fn mul_to(&self, other: &Self, out: &mut Self, ctx: &RingContext) -> Result<()> {
        self.check_same_shape(other, "mul")?;
        self.check_same_shape(out, "mul")?;
        let n = self.n;
        let ops = ctx.vec_ops(self.q_count, self.p_count);
        type Limbs<'a> = ((&'a mut [u64], (&'a [u64], &'a [u64])), &'a &'a VecOps);
        // Equal lengths: every limb has N words.
        let body = |((o, (x, y)), m): Limbs<'_>| {
            let _ = m.mul(x, y, o);
        };
        if out.data.len() >= PARALLEL_MIN_WORDS {
            out.data
                .par_chunks_mut(n)
                .zip(self.data.par_chunks(n).zip(other.data.par_chunks(n)))
                .zip(ops.par_iter())
                .for_each(body);
        } else {
            out.data
                .chunks_mut(n)
                .zip(self.data.chunks(n).zip(other.data.chunks(n)))
                .zip(ops.iter())
                .for_each(body);
        }
        Ok(())
    }

    /// `self += σ(src)` for an automorphism `σ` in evaluation form given as its index map
    /// (`σ(src)[i] = src[map[i]]`), without forming `σ(src)`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the limb layouts differ, [`Error::LengthMismatch`] if the
    /// map was built for another degree.
    pub(crate) fn add_mapped_assign(
        &mut self,
        src: &Self,
        map: &IndexMap,
        ctx: &RingContext,
    ) -> Result<()> {
        self.check_same_shape(src, "add")?;
        if self.is_real() && map.len() != self.n {
            return Err(Error::LengthMismatch {
                what: "automorphism degree",
                expected: self.n,
                got: map.len(),
            });
        }
        zip_ops(
            ctx,
            self.q_count,
            self.p_count,
            &mut self.data,
            &src.data,
            |m, o, a| {
                // Equal lengths: every limb and the map have N words.
                let _ = m.add_mapped_assign(o, a, map);
            },
        );
        Ok(())
    }

    /// `self ⊙= other`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the limb layouts differ.
    pub fn mul_assign(&mut self, other: &Self, ctx: &RingContext) -> Result<()> {
        self.check_same_shape(other, "mul")?;
        zip_ops(
            ctx,
            self.q_count,
            self.p_count,
            &mut self.data,
            &other.data,
            |m, o, a| {
                // Equal lengths: both limbs have N words.
                let _ = m.mul_assign(o, a);
            },
        );
        Ok(())
    }

    /// `self += a ⊙ b`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the limb layouts differ.
    pub fn mul_add_assign(&mut self, a: &Self, b: &Self, ctx: &RingContext) -> Result<()> {
        self.check_same_shape(a, "mul_add")?;
        self.check_same_shape(b, "mul_add")?;
        let n = self.n;
        let moduli = ctx.vec_ops(self.q_count, self.p_count);
        type Limbs<'a> = ((&'a mut [u64], (&'a [u64], &'a [u64])), &'a &'a VecOps);
        // Equal lengths: every limb has N words.
        let body = |((o, (x, y)), m): Limbs<'_>| {
            let _ = m.mul_add(x, y, o);
        };
        if self.data.len() >= PARALLEL_MIN_WORDS {
            self.data
                .par_chunks_mut(n)
                .zip(a.data.par_chunks(n).zip(b.data.par_chunks(n)))
                .zip(moduli.par_iter())
                .for_each(body);
        } else {
            self.data
                .chunks_mut(n)
                .zip(a.data.chunks(n).zip(b.data.chunks(n)))
                .zip(moduli.iter())
                .for_each(body);
        }
        Ok(())
    }

    /// Applies `X → X^k` in evaluation form (a permutation of the evaluations).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if the automorphism was built for another degree.
    pub fn automorphism(&self, auto: &Automorphism, ctx: &RingContext) -> Result<Self> {
        auto.check_degree(self.n)?;
        let mut out = Self::zero_in(ctx, self.q_count, self.p_count);
        zip_limbs(
            ctx,
            self.q_count,
            self.p_count,
            &mut out.data,
            &self.data,
            |_, o, a| {
                auto.apply_eval(a, o);
            },
        );
        Ok(out)
    }

    /// Divides by the last Q prime with rounding and drops that limb: the CKKS rescale.
    ///
    /// Computes `round(x / q_last)` in every remaining limb: the last limb is brought to
    /// coefficient form, shifted by `q_last/2` so that the floor becomes a rounding, reduced
    /// into each remaining prime, taken back to evaluation form and subtracted; the difference
    /// is exactly divisible by `q_last` and is multiplied by `q_last^{-1} mod q_i`.
    ///
    /// # Errors
    /// [`Error::LimbLayout`] when only one Q limb is left or P limbs are present.
    pub fn rescale_by_last_q(&mut self, ctx: &RingContext) -> Result<()> {
        if self.q_count < 2 || self.p_count != 0 {
            return Err(Error::LimbLayout {
                q_count: self.q_count,
                p_count: self.p_count,
                max_q: self.q_count,
                max_p: 0,
            });
        }
        let last = self.q_count - 1;
        if !self.is_real() {
            self.q_count = last;
            return Ok(());
        }
        let n = self.n;
        let plans = ctx.plans(self.q_count, 0);
        let ql = *ctx.q(last);
        let half = ql.value() >> 1;
        let mut top_buf: Vec<u64> = pool::take_copy(&self.data[last * n..]);
        plans[last].inverse(&mut top_buf)?;
        top_buf.iter_mut().for_each(|x| *x = ql.add(*x, half));
        let top = &top_buf;
        let moduli: Vec<&Modulus> = ctx.moduli(last, 0).collect();
        let ops = ctx.vec_ops(last, 0);
        let body = |(i, ((limb, m), plan)): (
            usize,
            ((&mut [u64], &&Modulus), &&crate::math::ntt::NttPlan),
        )|
         -> Result<()> {
            let half_i = m.reduce(half);
            let qi = m.value();
            let mut t = pool::take_empty(top.len());
            t.extend(
                top.iter()
                    .map(|&x| m.sub(if x < qi { x } else { m.reduce(x) }, half_i)),
            );
            plan.forward(&mut t)?;
            let inv = m.inv(ql.value()).ok_or(Error::InvalidModulus {
                q: ql.value(),
                reason: "not invertible modulo a chain prime",
            })?;
            let done = ops[i].sub_mul_scalar_assign(limb, &t, inv);
            pool::give(t);
            done
        };
        self.data.truncate(last * n);
        if self.data.len() >= PARALLEL_MIN_WORDS {
            self.data
                .par_chunks_mut(n)
                .zip(moduli.par_iter())
                .zip(plans.par_iter())
                .enumerate()
                .try_for_each(body)?;
        } else {
            self.data
                .chunks_mut(n)
                .zip(moduli.iter())
                .zip(plans.iter())
                .enumerate()
                .try_for_each(body)?;
        }
        pool::give(top_buf);
        self.q_count = last;
        Ok(())
    }
}

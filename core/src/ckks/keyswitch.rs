//! Hybrid key switching: digit decomposition with ModUp, the key inner product, and ModDown.
//!
//! At level `ℓ` a polynomial `c` (evaluation form over `Q_ℓ`) is split into the digits in use
//! at that level; each digit's limbs go to coefficient form, are base-converted to the other
//! primes of `Q_ℓ ∪ P` and brought back to evaluation form (ModUp). The extended digits
//! `d_j` are multiplied with the key pairs and summed: `(Σ d_j·b_j, Σ d_j·a_j)` over
//! `Q_ℓ ∪ P`, accumulated lazily in 128 bits and reduced once. ModDown takes each half back to
//! `Q_ℓ`, dividing by `P`. Hoisted rotations reuse one decomposition: an automorphism in
//! evaluation form is a permutation, so it is applied while reading the digits in the inner
//! product.

use super::context::CkksContext;
use super::keys::KeySwitchKey;
use super::params::Level;
use crate::error::{Error, Result};
use crate::ring::{Automorphism, Eval, RnsPoly};
use rayon::prelude::*;

/// Coefficients per base-conversion task (a task converts this many coefficients of every
/// limb; large enough to amortise the per-task set-up, small enough to balance two threads).
const CONV_CHUNK: usize = 1 << 12;

/// Runs a base conversion over coefficient chunks in parallel.
fn convert_parallel<'a>(
    conv: &crate::math::rns::BaseConverter,
    input: &[Vec<u64>],
    output: impl Iterator<Item = &'a mut [u64]>,
    n: usize,
) -> Result<()> {
    let chunks = n.div_ceil(CONV_CHUNK);
    let mut per_chunk: Vec<Vec<&mut [u64]>> = (0..chunks).map(|_| Vec::new()).collect();
    for limb in output {
        for (c, s) in limb.chunks_mut(CONV_CHUNK).enumerate() {
            per_chunk[c].push(s);
        }
    }
    per_chunk
        .into_par_iter()
        .enumerate()
        .try_for_each(|(c, mut outs)| {
            let lo = c * CONV_CHUNK;
            let hi = (lo + CONV_CHUNK).min(n);
            let ins: Vec<&[u64]> = input.iter().map(|l| &l[lo..hi]).collect();
            conv.convert(&ins, &mut outs)
        })
}

impl CkksContext {
    /// ModUp: the digits of `c` (evaluation form over `Q_ℓ`), each extended to `Q_ℓ ∪ P`.
    pub(crate) fn decompose(&self, c: &RnsPoly<Eval>) -> Result<Vec<RnsPoly<Eval>>> {
        let ring = self.ring();
        let q_count = c.q_count();
        let level = Level::new(q_count - 1);
        let np = ring.num_p();
        let plans = self.level_plans(level)?;
        if !c.is_real() {
            return Ok(plans
                .modup
                .iter()
                .map(|_| RnsPoly::zero_eval(ring, q_count, np))
                .collect());
        }
        let n = ring.n();
        let ntt = ring.plans(q_count, np);
        let mut out = Vec::with_capacity(plans.modup.len());
        for up in &plans.modup {
            // Digit limbs to coefficient form.
            let mut coeff: Vec<Vec<u64>> = up.digit.clone().map(|t| c.limb(t).to_vec()).collect();
            coeff
                .par_iter_mut()
                .zip(up.digit.clone().into_par_iter())
                .try_for_each(|(l, t)| ntt[t].inverse(l))?;
            // Extend to the level's other Q primes and P, written straight into the output
            // polynomial's limbs, then take those limbs back to evaluation form.
            let mut d =
                RnsPoly::from_scratch(ring, q_count, np, self.take_scratch((q_count + np) * n));
            let mut targets: Vec<(usize, &mut [u64])> = Vec::with_capacity(q_count + np);
            for (t, limb) in d.data_mut().chunks_mut(n).enumerate() {
                if up.digit.contains(&t) {
                    limb.copy_from_slice(c.limb(t));
                } else {
                    targets.push((t, limb));
                }
            }
            convert_parallel(
                &up.conv,
                &coeff,
                targets.iter_mut().map(|(_, l)| &mut **l),
                n,
            )?;
            targets
                .into_par_iter()
                .try_for_each(|(t, l)| ntt[t].forward(l))?;
            out.push(d);
        }
        Ok(out)
    }

    /// `(Σ_j σ(d_j)·b_j, Σ_j σ(d_j)·a_j)` over `Q_ℓ ∪ P`, where `σ` is `auto` (identity if
    /// `None`) applied to the decomposed digits as an evaluation-form permutation.
    pub(crate) fn key_inner_product(
        &self,
        digits: &[RnsPoly<Eval>],
        key: &KeySwitchKey,
        auto: Option<&Automorphism>,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let ring = self.ring();
        let first = digits.first().ok_or(Error::LengthMismatch {
            what: "key-switching digits",
            expected: 1,
            got: 0,
        })?;
        let (q_count, np) = (first.q_count(), first.p_count());
        if digits.len() > key.digits.len() {
            return Err(Error::LengthMismatch {
                what: "key-switching key digits",
                expected: digits.len(),
                got: key.digits.len(),
            });
        }
        if !first.is_real() {
            return Ok((
                RnsPoly::zero_eval(ring, q_count, np),
                RnsPoly::zero_eval(ring, q_count, np),
            ));
        }
        let n = ring.n();
        // Every residue of the accumulators is written below.
        let mut acc0 =
            RnsPoly::from_scratch(ring, q_count, np, self.take_scratch((q_count + np) * n));
        let mut acc1 =
            RnsPoly::from_scratch(ring, q_count, np, self.take_scratch((q_count + np) * n));
        let nq_full = ring.num_q();
        let ops = ring.vec_ops(q_count, np);
        let perm = auto.map(|a| a.eval_permutation());
        let keys = &key.digits[..digits.len()];
        acc0.data_mut()
            .par_chunks_mut(n)
            .zip(acc1.data_mut().par_chunks_mut(n))
            .enumerate()
            .try_for_each(|(t, (o0, o1))| {
                // Limb t of the Q_ℓ ∪ P layout is limb t (Q) or num_q + (t − q_count) (P) of
                // the key.
                let kt = if t < q_count {
                    t
                } else {
                    nq_full + (t - q_count)
                };
                let x: Vec<&[u64]> = digits.iter().map(|d| d.limb(t)).collect();
                let kb: Vec<&[u64]> = keys.iter().map(|(b, _)| b.limb(kt)).collect();
                let ka: Vec<&[u64]> = keys.iter().map(|(_, a)| a.limb(kt)).collect();
                ops[t].dot2(&x, perm, &kb, &ka, o0, o1)
            })?;
        Ok((acc0, acc1))
    }

    /// ModDown: `x / P` from `Q_ℓ ∪ P` to `Q_ℓ`, evaluation form in and out.
    pub(crate) fn mod_down(&self, x: RnsPoly<Eval>) -> Result<RnsPoly<Eval>> {
        let ring = self.ring();
        let q_count = x.q_count();
        let np = x.p_count();
        let mut out = x;
        if !out.is_real() {
            out.drop_p();
            return Ok(out);
        }
        let n = ring.n();
        let plans = self.level_plans(Level::new(q_count - 1))?;
        let ntt = ring.plans(q_count, np);
        let mut p_coeff: Vec<Vec<u64>> = (0..np).map(|j| out.limb(q_count + j).to_vec()).collect();
        p_coeff
            .par_iter_mut()
            .enumerate()
            .try_for_each(|(j, l)| ntt[q_count + j].inverse(l))?;
        let mut conv_buf = self.take_scratch(q_count * n);
        convert_parallel(&plans.moddown, &p_coeff, conv_buf.chunks_mut(n), n)?;
        let ops = ring.vec_ops(q_count, 0);
        out.drop_p();
        out.data_mut()
            .par_chunks_mut(n)
            .zip(conv_buf.par_chunks_mut(n))
            .enumerate()
            .try_for_each(|(i, (limb, c))| -> Result<()> {
                ntt[i].forward(c)?;
                ops[i].sub_mul_scalar_assign(limb, c, plans.p_inv[i].0)
            })?;
        self.give_scratch(conv_buf);
        Ok(out)
    }

    /// Returns decomposed digits to the scratch pool.
    pub(crate) fn recycle(&self, polys: Vec<RnsPoly<Eval>>) {
        for p in polys {
            self.give_scratch(p.into_data());
        }
    }

    /// Switches `c` (evaluation form over `Q_ℓ`) with `key`: returns `(k0, k1)` over `Q_ℓ`
    /// with `k0 + k1·s ≈ c·s'`.
    pub(crate) fn key_switch(
        &self,
        c: &RnsPoly<Eval>,
        key: &KeySwitchKey,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let digits = self.decompose(c)?;
        let (a0, a1) = self.key_inner_product(&digits, key, None)?;
        self.recycle(digits);
        Ok((self.mod_down(a0)?, self.mod_down(a1)?))
    }
}

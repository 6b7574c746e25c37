//! Hybrid key switching: digit decomposition with ModUp, the key inner product, and ModDown.
//!
//! At level `ℓ` a polynomial `c` (evaluation form over `Q_ℓ`) is split into the digits in use
//! at that level; each digit's limbs go to coefficient form, are base-converted to the other
//! primes of `Q_ℓ ∪ P` and brought back to evaluation form (ModUp). The extended digits
//! `d_j` are multiplied with the key pairs and summed: `(Σ d_j·b_j, Σ d_j·a_j)` over
//! `Q_ℓ ∪ P`, reduced once per output. ModDown takes each half back to `Q_ℓ`, dividing by `P`.
//! Hoisted rotations reuse one decomposition: an automorphism in evaluation form is a
//! permutation, so it is applied while reading the digits in the inner product.
//!
//! # Work layout
//! All of `c` goes to coefficient form once and every limb is multiplied by its digit's
//! conversion factor (the shared first stage of every ModUp conversion). A single key switch
//! then runs limb by limb over `Q_ℓ ∪ P`: for target limb `t`, each digit's extension to `t`
//! is converted from those rows and transformed (the digit's own limbs are read from `c`), and
//! the inner product of that limb follows at once — the `dnum` extended digits are never
//! materialised whole. Hoisted rotations do materialise them ([`CkksContext::decompose`]),
//! since every rotation reads them. ModDown also runs limb by limb, both halves of a key
//! switch in one parallel pass. Limbs are the unit of parallel work (14 at the top level of
//! helrm-n16-l10, so two threads stay busy), and temporaries come from the context's pool.

use super::context::{CkksContext, LevelPlans};
use super::keys::KeySwitchKey;
use super::params::Level;
use crate::error::{Error, Result};
use crate::math::vecops::IndexMap;
use crate::ring::{pool, Automorphism, Eval, RnsPoly};
use rayon::prelude::*;

/// The limbs of two `Q_ℓ ∪ P` buffers as `(t, limb of a, limb of b)` tasks, the special-prime
/// limbs first: each of them extends every digit with the slower 61-bit kernels, so handing
/// them out first lets the cheap chain limbs even out the threads' loads at the end.
fn special_first<'a>(
    a: &'a mut [u64],
    b: &'a mut [u64],
    n: usize,
    q_count: usize,
) -> Vec<(usize, &'a mut [u64], &'a mut [u64])> {
    let mut tasks: Vec<_> = a
        .chunks_mut(n)
        .zip(b.chunks_mut(n))
        .enumerate()
        .map(|(t, (x, y))| (t, x, y))
        .collect();
    let first = q_count.min(tasks.len());
    tasks.rotate_left(first);
    tasks
}

impl CkksContext {
    /// The prepared ModUp rows of `c` (evaluation form over `Q_ℓ`, no P limbs): every limb in
    /// coefficient form, multiplied by its digit's conversion factor. A pool buffer of
    /// `q_count·N` words.
    fn modup_rows(&self, c: &RnsPoly<Eval>, plans: &LevelPlans) -> Result<Vec<u64>> {
        let ring = self.ring();
        let (n, q_count) = (ring.n(), c.q_count());
        let mut rows = pool::take_scratch(q_count * n);
        let ntt = ring.plans(q_count, 0);
        rows.par_chunks_mut(n)
            .enumerate()
            .try_for_each(|(t, l)| -> Result<()> {
                let up = plans.modup.iter().find(|u| u.digit.contains(&t)).ok_or(
                    Error::LengthMismatch {
                        what: "key-switching digits covering the level",
                        expected: q_count,
                        got: t,
                    },
                )?;
                let w = up.conv.source_factor(t - up.digit.start).unwrap_or(0);
                // Out of place, the conversion factor riding in the last stage.
                ntt[t].inverse_scaled_from(c.limb(t), l, w)
            })?;
        Ok(rows)
    }

    /// Limb `t` of `Q_ℓ ∪ P` of every extended digit, in evaluation form: a digit's own limbs
    /// are read from `c`, the others converted from `rows` into the `N`-word pieces of
    /// `tmp` (one per digit) and transformed.
    fn extend_limb<'a>(
        &self,
        c: &'a RnsPoly<Eval>,
        rows: &[u64],
        plans: &LevelPlans,
        t: usize,
        tmp: &'a mut [u64],
    ) -> Result<Vec<&'a [u64]>> {
        let ring = self.ring();
        let (n, q_count) = (ring.n(), c.q_count());
        let ntt = ring.plans(q_count, ring.num_p());
        let mut out = Vec::with_capacity(plans.modup.len());
        for (up, buf) in plans.modup.iter().zip(tmp.chunks_mut(n)) {
            let d = &up.digit;
            if d.contains(&t) {
                out.push(c.limb(t));
                continue;
            }
            // The conversion's targets: the level's other Q primes in order, then P.
            let target = if t < d.start {
                t
            } else if t < q_count {
                t - d.len()
            } else {
                q_count - d.len() + (t - q_count)
            };
            up.conv
                .convert_prepared(&rows[d.start * n..d.end * n], n, target, buf)?;
            ntt[t].forward(buf)?;
            out.push(&*buf);
        }
        Ok(out)
    }

    /// ModUp: the digits of `c` (evaluation form over `Q_ℓ`), each extended to `Q_ℓ ∪ P`.
    pub(crate) fn decompose(&self, c: &RnsPoly<Eval>) -> Result<Vec<RnsPoly<Eval>>> {
        let ring = self.ring();
        let q_count = c.q_count();
        let level = Level::new(q_count - 1);
        let np = ring.num_p();
        let plans = self.level_plans(level)?;
        let dnum = plans.modup.len();
        if !c.is_real() {
            return Ok((0..dnum)
                .map(|_| RnsPoly::zero_eval(ring, q_count, np))
                .collect());
        }
        let n = ring.n();
        let rows = self.modup_rows(c, plans)?;
        let mut out: Vec<RnsPoly<Eval>> = (0..dnum)
            .map(|_| {
                RnsPoly::from_scratch(ring, q_count, np, pool::take_scratch((q_count + np) * n))
            })
            .collect();
        // Limb t of every digit, as one task; the special-prime limbs (every digit converted
        // and transformed with 61-bit primes: the costliest tasks) are handed out first.
        let mut tasks: Vec<(usize, Vec<&mut [u64]>)> =
            (0..q_count + np).map(|t| (t, Vec::new())).collect();
        for d in &mut out {
            for (t, limb) in d.data_mut().chunks_mut(n).enumerate() {
                tasks[t].1.push(limb);
            }
        }
        tasks.rotate_left(q_count);
        tasks
            .into_par_iter()
            .try_for_each(|(t, mut limbs)| -> Result<()> {
                let mut tmp = pool::take_scratch(dnum * n);
                let ext = self.extend_limb(c, &rows, plans, t, &mut tmp)?;
                for (dst, src) in limbs.iter_mut().zip(ext) {
                    dst.copy_from_slice(src);
                }
                pool::give(tmp);
                Ok(())
            })?;
        pool::give(rows);
        Ok(out)
    }

    /// The key-switching key's limb for limb `t` of the `Q_ℓ ∪ P` layout (key polynomials
    /// span all of `Q ∪ P`): limb `t` for a Q limb, `num_q + (t − q_count)` for a P limb.
    fn key_limb(&self, q_count: usize, t: usize) -> usize {
        if t < q_count {
            t
        } else {
            self.ring().num_q() + (t - q_count)
        }
    }

    fn check_key(digits: usize, key: &KeySwitchKey) -> Result<()> {
        if digits > key.digits.len() {
            return Err(Error::LengthMismatch {
                what: "key-switching key digits",
                expected: digits,
                got: key.digits.len(),
            });
        }
        Ok(())
    }

    /// `(Σ_j σ(d_j)·b_j, Σ_j σ(d_j)·a_j)` over `Q_ℓ ∪ P`, where `σ` is `auto` (identity if
    /// `None`) applied to the decomposed digits as an evaluation-form permutation.
    pub(crate) fn key_inner_product(
        &self,
        digits: &[RnsPoly<Eval>],
        key: &KeySwitchKey,
        auto: Option<&Automorphism>,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let map = auto.map(Self::index_map).transpose()?;
        self.key_inner_product_mapped(digits, key, map.as_ref())
    }

    /// The evaluation-form index map of an automorphism, for the mapped kernels.
    pub(crate) fn index_map(auto: &Automorphism) -> Result<IndexMap> {
        IndexMap::new(auto.eval_permutation())
    }

    /// [`CkksContext::key_inner_product`] with the automorphism given as its index map.
    pub(crate) fn key_inner_product_mapped(
        &self,
        digits: &[RnsPoly<Eval>],
        key: &KeySwitchKey,
        perm: Option<&IndexMap>,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let ring = self.ring();
        let first = digits.first().ok_or(Error::LengthMismatch {
            what: "key-switching digits",
            expected: 1,
            got: 0,
        })?;
        let (q_count, np) = (first.q_count(), first.p_count());
        Self::check_key(digits.len(), key)?;
        if !first.is_real() {
            return Ok((
                RnsPoly::zero_eval(ring, q_count, np),
                RnsPoly::zero_eval(ring, q_count, np),
            ));
        }
        let n = ring.n();
        // Every residue of the accumulators is written below.
        let mut acc0 =
            RnsPoly::from_scratch(ring, q_count, np, pool::take_scratch((q_count + np) * n));
        let mut acc1 =
            RnsPoly::from_scratch(ring, q_count, np, pool::take_scratch((q_count + np) * n));
        let ops = ring.vec_ops(q_count, np);
        let keys = &key.digits[..digits.len()];
        special_first(acc0.data_mut(), acc1.data_mut(), n, q_count)
            .into_par_iter()
            .try_for_each(|(t, o0, o1)| {
                let kt = self.key_limb(q_count, t);
                let x: Vec<&[u64]> = digits.iter().map(|d| d.limb(t)).collect();
                let kb: Vec<&[u64]> = keys.iter().map(|(b, _)| b.limb(kt)).collect();
                let ka: Vec<&[u64]> = keys.iter().map(|(_, a)| a.limb(kt)).collect();
                ops[t].dot2(&x, perm, &kb, &ka, o0, o1)
            })?;
        Ok((acc0, acc1))
    }

    /// ModUp and the key inner product in one pass over the limbs of `Q_ℓ ∪ P` (see the module
    /// docs): the same `(Σ_j σ(d_j)·b_j, Σ_j σ(d_j)·a_j)` as [`CkksContext::decompose`]
    /// followed by [`CkksContext::key_inner_product`], without materialising the digits.
    pub(crate) fn modup_inner_product(
        &self,
        c: &RnsPoly<Eval>,
        key: &KeySwitchKey,
        perm: Option<&IndexMap>,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let ring = self.ring();
        let q_count = c.q_count();
        let np = ring.num_p();
        let plans = self.level_plans(Level::new(q_count - 1))?;
        let dnum = plans.modup.len();
        Self::check_key(dnum, key)?;
        if !c.is_real() {
            return Ok((
                RnsPoly::zero_eval(ring, q_count, np),
                RnsPoly::zero_eval(ring, q_count, np),
            ));
        }
        let n = ring.n();
        let rows = self.modup_rows(c, plans)?;
        let mut acc0 =
            RnsPoly::from_scratch(ring, q_count, np, pool::take_scratch((q_count + np) * n));
        let mut acc1 =
            RnsPoly::from_scratch(ring, q_count, np, pool::take_scratch((q_count + np) * n));
        let ops = ring.vec_ops(q_count, np);
        let keys = &key.digits[..dnum];
        special_first(acc0.data_mut(), acc1.data_mut(), n, q_count)
            .into_par_iter()
            .try_for_each(|(t, o0, o1)| -> Result<()> {
                let mut tmp = pool::take_scratch(dnum * n);
                let x = self.extend_limb(c, &rows, plans, t, &mut tmp)?;
                let kt = self.key_limb(q_count, t);
                let kb: Vec<&[u64]> = keys.iter().map(|(b, _)| b.limb(kt)).collect();
                let ka: Vec<&[u64]> = keys.iter().map(|(_, a)| a.limb(kt)).collect();
                ops[t].dot2(&x, perm, &kb, &ka, o0, o1)?;
                pool::give(tmp);
                Ok(())
            })?;
        pool::give(rows);
        Ok((acc0, acc1))
    }

    /// ModDown of several polynomials at once: each `x / P` from `Q_ℓ ∪ P` to `Q_ℓ`,
    /// evaluation form in and out. The inputs go back to the pool.
    pub(crate) fn mod_down_all(&self, xs: Vec<RnsPoly<Eval>>) -> Result<Vec<RnsPoly<Eval>>> {
        let ring = self.ring();
        let Some(first) = xs.first() else {
            return Ok(xs);
        };
        let (q_count, np, real) = (first.q_count(), first.p_count(), first.is_real());
        if let Some(x) = xs
            .iter()
            .find(|x| (x.q_count(), x.p_count()) != (q_count, np))
        {
            return Err(Error::ShapeMismatch {
                op: "mod_down",
                left: (q_count, np),
                right: (x.q_count(), x.p_count()),
            });
        }
        let mut xs = xs;
        if !real {
            xs.iter_mut().for_each(RnsPoly::drop_p);
            return Ok(xs);
        }
        let n = ring.n();
        let plans = self.level_plans(Level::new(q_count - 1))?;
        let conv = &plans.moddown;
        let ntt = ring.plans(q_count, np);
        let ops = ring.vec_ops(q_count, np);
        // Prepared rows of the P limbs: coefficient form times the conversion factors.
        let mut rows: Vec<Vec<u64>> = xs.iter().map(|_| pool::take_scratch(np * n)).collect();
        let p_limbs: Vec<(&RnsPoly<Eval>, usize, &mut [u64])> = rows
            .iter_mut()
            .zip(&xs)
            .flat_map(|(r, x)| r.chunks_mut(n).enumerate().map(move |(j, l)| (x, j, l)))
            .collect();
        p_limbs
            .into_par_iter()
            .try_for_each(|(x, j, l)| -> Result<()> {
                let w = conv.source_factor(j).unwrap_or(0);
                ntt[q_count + j].inverse_scaled_from(x.limb(q_count + j), l, w)
            })?;
        // Every Q limb of every input: convert, transform, subtract and scale by P^{-1}.
        // Results in pool buffers (each call returns as many to the pool as it takes out, so
        // steady use allocates nothing).
        let mut outs: Vec<Vec<u64>> = xs.iter().map(|_| pool::take_scratch(q_count * n)).collect();
        let mut tasks: Vec<(usize, usize, &mut [u64])> = Vec::with_capacity(xs.len() * q_count);
        for (k, out) in outs.iter_mut().enumerate() {
            for (i, limb) in out.chunks_mut(n).enumerate() {
                tasks.push((k, i, limb));
            }
        }
        tasks
            .into_par_iter()
            .try_for_each(|(k, i, out)| -> Result<()> {
                let mut tmp = pool::take_scratch(n);
                conv.convert_prepared(&rows[k], n, i, &mut tmp)?;
                ntt[i].forward(&mut tmp)?;
                ops[i].sub_mul_scalar(xs[k].limb(i), &tmp, plans.p_inv[i].0, out)?;
                pool::give(tmp);
                Ok(())
            })?;
        rows.into_iter().for_each(pool::give);
        Ok(outs
            .into_iter()
            .map(|o| RnsPoly::from_scratch(ring, q_count, 0, o))
            .collect())
    }

    /// ModDown: `x / P` from `Q_ℓ ∪ P` to `Q_ℓ`, evaluation form in and out.
    pub(crate) fn mod_down(&self, x: RnsPoly<Eval>) -> Result<RnsPoly<Eval>> {
        let mut v = self.mod_down_all(vec![x])?;
        v.pop().ok_or(Error::LengthMismatch {
            what: "mod_down results",
            expected: 1,
            got: 0,
        })
    }

    /// ModDown of both halves of a key switch.
    pub(crate) fn mod_down_pair(
        &self,
        a0: RnsPoly<Eval>,
        a1: RnsPoly<Eval>,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let mut v = self.mod_down_all(vec![a0, a1])?.into_iter();
        match (v.next(), v.next()) {
            (Some(k0), Some(k1)) => Ok((k0, k1)),
            _ => Err(Error::LengthMismatch {
                what: "mod_down results",
                expected: 2,
                got: 0,
            }),
        }
    }

    /// Switches `c` (evaluation form over `Q_ℓ`) with `key`: returns `(k0, k1)` over `Q_ℓ`
    /// with `k0 + k1·s ≈ c·s'`.
    pub(crate) fn key_switch(
        &self,
        c: &RnsPoly<Eval>,
        key: &KeySwitchKey,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let (a0, a1) = self.modup_inner_product(c, key, None)?;
        self.mod_down_pair(a0, a1)
    }

    /// Switches `σ(c)` with `key` for an automorphism `σ` given as its index map, applying
    /// `σ` while reading the extended digits (as hoisted rotations do) instead of permuting
    /// `c` first.
    pub(crate) fn key_switch_mapped(
        &self,
        c: &RnsPoly<Eval>,
        key: &KeySwitchKey,
        map: &IndexMap,
    ) -> Result<(RnsPoly<Eval>, RnsPoly<Eval>)> {
        let (a0, a1) = self.modup_inner_product(c, key, Some(map))?;
        self.mod_down_pair(a0, a1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::GaloisElement;

    /// Every automorphism maps aligned groups of eight evaluation slots into aligned groups
    /// of eight, so the hoisted inner product reads digits without gathers.
    #[test]
    fn automorphisms_are_blockwise_index_maps() {
        for n in [1024usize, 1 << 12] {
            let two_n = 2 * n as u64;
            for k in [5u64, 25, 125, 3125 % two_n, two_n - 1, two_n - 5, 3] {
                let auto = Automorphism::new(n, GaloisElement(k)).unwrap();
                let map = IndexMap::new(auto.eval_permutation()).unwrap();
                assert!(map.is_blockwise(), "n = {n}, k = {k}");
            }
        }
    }
}

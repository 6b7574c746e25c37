//! Leaf primitives for double-hoisted linear transforms (Bossuat et al., Eurocrypt 2021):
//! encoding in `Q·P`, the hoisted rotate–multiply–sum of the baby steps, and the lazy sum of
//! rotations of the giant steps. Each emits exactly one trace event.
//!
//! A key switch of `σ(c_1)` ends with a ModDown of both key inner products, `(a_0, a_1) / P`.
//! ModDown is linear, so every product and sum that follows can be done on `(a_0, a_1)` in
//! `Q·P` instead, with one ModDown at the end: `Σ_t pt_t ⊙ rot(x, r_t)` costs one ModUp per
//! input ciphertext, one key inner product per distinct rotation, and two ModDowns per sum,
//! instead of two ModDowns per rotation. The `σ(c_0)` half never leaves `Q`: since
//! `ModDown(a + P·b) = ModDown(a) + b` exactly, it is accumulated in `Q` and added after the
//! ModDown.
//!
//! # References
//! J.-P. Bossuat, C. Mouchet, J. Troncoso-Pastoriza, J.-P. Hubaux, "Efficient bootstrapping
//! for approximate homomorphic encryption with non-sparse keys", Eurocrypt 2021, §3.

use super::ciphertext::{Ciphertext, Plaintext};
use super::evaluator::{Evaluator, SCALE_TOLERANCE};
use super::params::Level;
use crate::error::{Error, Result};
use crate::ring::{Coeff, Eval, GaloisElement, RnsPoly};
use crate::trace::{DataClass, MaybeTracer, ObjectId, ObjectRef, OpKind, Term, TraceEvent};
use num_complex::Complex64;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

/// One planned term: (group, Galois element or `None` for the identity, rotation, index).
type TermPlan = (usize, Option<GaloisElement>, i64, usize);

/// A rotated baby step: `(a_0, a_1)` over `Q_ℓ ∪ P` before ModDown, and `σ(c_0)` over `Q_ℓ`.
type Baby = (RnsPoly<Eval>, RnsPoly<Eval>, RnsPoly<Eval>);

/// One product of a hoisted sum: the `Q` source multiplied into `c_0`, the `Q` source
/// multiplied into `c_1` (unrotated terms only), the `Q·P` pair (rotated terms only), and the
/// plaintext.
type LazyTerm<'p> = (
    &'p RnsPoly<Eval>,
    Option<&'p RnsPoly<Eval>>,
    Option<(&'p RnsPoly<Eval>, &'p RnsPoly<Eval>)>,
    &'p RnsPoly<Eval>,
);

/// Products of 61-bit residues are below 2^122, so 64 of them fit in a `u128`; reduce after
/// this many.
const LAZY_TERMS: usize = 60;

/// `acc += a ⊙ b` in 128 bits.
fn mac(acc: &mut [u128], a: &[u64], b: &[u64]) {
    for ((s, &x), &y) in acc.iter_mut().zip(a).zip(b) {
        *s += u128::from(x) * u128::from(y);
    }
}

/// Limb `t` of the four sums of a hoisted group: `Σ q0·pt`, `Σ q1·pt` (Q limbs only) and
/// `Σ a0·pt`, `Σ a1·pt` (every limb of `Q_ℓ ∪ P`), reduced every [`LAZY_TERMS`] terms.
fn lazy_limb_sums(
    ops: &[LazyTerm<'_>],
    t: usize,
    is_q: bool,
    m: &crate::math::modarith::Modulus,
) -> [Vec<u64>; 4] {
    let n = ops.first().map_or(0, |o| o.3.n());
    let mut s: [Vec<u128>; 4] = std::array::from_fn(|_| vec![0u128; n]);
    let reduce = |v: &mut Vec<u128>| {
        v.iter_mut()
            .for_each(|x| *x = u128::from(m.reduce_u128(*x)))
    };
    for (i, &(q0, q1, qp, pt)) in ops.iter().enumerate() {
        let ptl = pt.limb(t);
        if is_q {
            mac(&mut s[0], q0.limb(t), ptl);
            if let Some(q1) = q1 {
                mac(&mut s[1], q1.limb(t), ptl);
            }
        }
        if let Some((a0, a1)) = qp {
            mac(&mut s[2], a0.limb(t), ptl);
            mac(&mut s[3], a1.limb(t), ptl);
        }
        if (i + 1).is_multiple_of(LAZY_TERMS) {
            s.iter_mut().for_each(reduce);
        }
    }
    s.map(|v| v.into_iter().map(|x| m.reduce_u128(x)).collect())
}

fn ct_ref(ct: &Ciphertext) -> ObjectRef {
    ObjectRef::at_level(
        ObjectId(ct.id),
        DataClass::Ciphertext,
        ct.bytes(),
        ct.level().get() as u32,
    )
}

fn pt_ref(pt: &Plaintext) -> ObjectRef {
    ObjectRef::at_level(
        ObjectId(pt.id),
        pt.class,
        pt.bytes(),
        pt.level().get() as u32,
    )
}

fn check_scales(op: &'static str, a: f64, b: f64) -> Result<()> {
    if ((a - b) / a.max(b)).abs() > SCALE_TOLERANCE {
        return Err(Error::ScaleMismatch {
            op,
            left_log2: a.log2(),
            right_log2: b.log2(),
        });
    }
    Ok(())
}

/// Checks that every ciphertext has degree 1 and shares level, scale and slot count with the
/// first.
fn check_same(op: &'static str, cts: &[&Ciphertext]) -> Result<()> {
    let Some(first) = cts.first() else {
        return Err(Error::LengthMismatch {
            what: "input ciphertexts",
            expected: 1,
            got: 0,
        });
    };
    for ct in cts {
        if ct.degree() > 1 {
            return Err(Error::CiphertextDegree {
                op,
                degree: ct.degree(),
                max: 1,
            });
        }
        if ct.level() != first.level() {
            return Err(Error::LevelMismatch {
                op,
                left: first.level().get(),
                right: ct.level().get(),
            });
        }
        check_scales(op, first.scale, ct.scale)?;
        if ct.slots != first.slots {
            return Err(Error::SlotsMismatch {
                op,
                left: first.slots,
                right: ct.slots,
            });
        }
    }
    Ok(())
}

impl Evaluator {
    fn ext_key_event(&self, op: OpKind, level: Level, scale: f64) -> TraceEvent {
        let p = self.ctx.params();
        TraceEvent::new(op, p.log_n(), level.get() as u32)
            .with_scale_log2(scale.log2())
            .with_key_switching(
                p.p().len() as u32,
                p.digit_count_at(level).unwrap_or(0) as u32,
            )
    }

    fn ext_key_ref(&self, k: GaloisElement, level: Level) -> Option<ObjectRef> {
        let key = self.keys.galois.get(&k)?;
        let bytes = self
            .ctx
            .params()
            .key_switch_key_bytes(level)
            .unwrap_or_else(|_| key.bytes());
        Some(ObjectRef::key(
            ObjectId(key.id),
            DataClass::KeyGalois(k.0),
            bytes,
        ))
    }

    /// The Galois element of `rotation` on `slots` slots, checking that its key is present
    /// (`None` for the identity).
    fn ext_galois(&self, rotation: i64, slots: usize) -> Result<Option<GaloisElement>> {
        let k = self.ctx.galois_element_for_rotation(rotation, slots)?;
        if k.0 == 1 {
            return Ok(None);
        }
        if !self.keys.galois.contains_key(&k) {
            return Err(Error::MissingGaloisKey {
                rotation: Some(rotation),
                galois_element: k.0,
            });
        }
        Ok(Some(k))
    }

    /// Encodes real `values` at `level` and `scale` over `Q_ℓ ∪ P` (the operand of
    /// [`Evaluator::rotate_mul_sum_hoisted`]); traced as one `encode` event whose output is
    /// marked as left over the extended basis.
    ///
    /// # Errors
    /// As [`crate::ckks::CkksContext::encode`].
    pub fn encode_real_qp(
        &self,
        values: &[f64],
        level: Level,
        scale: f64,
        slots: usize,
        class: DataClass,
    ) -> Result<Plaintext> {
        let t0 = self.tracer.start_timer();
        self.ctx.check_level(level)?;
        let max = self.ctx.params().slots();
        if slots == 0 || !slots.is_power_of_two() || slots > max {
            return Err(Error::InvalidSlots {
                slots,
                max_slots: max,
            });
        }
        let ring = self.ctx.ring();
        let (q_count, np) = (level.limbs(), ring.num_p());
        let poly = if ring.is_real() {
            let v: Vec<Complex64> = values.iter().map(|&x| Complex64::new(x, 0.0)).collect();
            self.ctx
                .encoder()
                .with_subring(&v, slots, scale, |gap, coeffs| {
                    RnsPoly::<Coeff>::from_i128_strided(ring, q_count, np, gap, coeffs)
                })?
                .into_eval(ring)?
        } else {
            if values.len() > slots {
                return Err(Error::TooManyValues {
                    got: values.len(),
                    slots,
                });
            }
            RnsPoly::zero_eval(ring, q_count, np)
        };
        let pt = Plaintext {
            poly,
            scale,
            slots,
            id: self.ctx.next_id(),
            class,
        };
        self.tracer.emit_timed(t0, || {
            TraceEvent::new(
                OpKind::Encode,
                self.ctx.params().log_n(),
                level.get() as u32,
            )
            .with_scale_log2(scale.log2())
            .with_slots(slots as u32)
            .with_extended_basis(true)
            .with_outputs(vec![pt_ref(&pt)])
        });
        Ok(pt)
    }

    /// Double-hoisted baby steps: for each group `g`, `Σ pt ⊙ rot(inputs[i], r)` over the
    /// terms `(g, r, index)` listed in `terms[i]`, where `plaintext(i, index)` supplies the
    /// plaintext (encoded in `Q_ℓ ∪ P` at the inputs' level, all at one scale; it may encode
    /// on demand, group by group). One ModUp per input ciphertext with a rotated term and one
    /// key inner product per distinct rotation of each input (all of them held at once:
    /// `2·|Q_ℓ ∪ P| + |Q_ℓ|` limbs each); then, group by group, the products are accumulated
    /// in 128 bits without reduction (reduced every 60 terms) and the group's `Q·P` sums
    /// take two ModDowns. Returns one ciphertext per group at the inputs' level, scale
    /// `input scale × plaintext scale`. Traced as one `hoisted_rotate_mul_acc` event naming
    /// every keyed rotation, key and plaintext, with one term per product and its ModUp and
    /// ModDown counts.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] (term lists ≠ inputs, a group index ≥ `groups`),
    /// [`Error::LevelMismatch`], [`Error::ScaleMismatch`], [`Error::SlotsMismatch`],
    /// [`Error::CiphertextDegree`] among the inputs; [`Error::MissingGaloisKey`] (checked
    /// before any work); [`Error::LevelMismatch`], [`Error::ScaleMismatch`],
    /// [`Error::SlotsMismatch`] or [`Error::ShapeMismatch`] for a plaintext of the wrong
    /// level, scale, slot count or basis.
    pub fn rotate_mul_sum_hoisted<'a, F>(
        &self,
        inputs: &[Ciphertext],
        terms: &[Vec<(usize, i64, usize)>],
        groups: usize,
        mut plaintext: F,
    ) -> Result<Vec<Ciphertext>>
    where
        F: FnMut(usize, usize) -> Result<Cow<'a, Plaintext>>,
    {
        const OP: &str = "rotate_mul_sum_hoisted";
        let t0 = self.tracer.start_timer();
        let refs: Vec<&Ciphertext> = inputs.iter().collect();
        check_same(OP, &refs)?;
        if terms.len() != inputs.len() {
            return Err(Error::LengthMismatch {
                what: "hoisted term lists",
                expected: inputs.len(),
                got: terms.len(),
            });
        }
        let first = &inputs[0];
        let (level, slots) = (first.level(), first.slots);
        let mut plans: Vec<Vec<TermPlan>> = Vec::new();
        for list in terms {
            let mut plan = Vec::with_capacity(list.len());
            for &(g, r, index) in list {
                if g >= groups {
                    return Err(Error::LengthMismatch {
                        what: "hoisted sum groups",
                        expected: groups,
                        got: g + 1,
                    });
                }
                plan.push((g, self.ext_galois(r, slots)?, r, index));
            }
            plans.push(plan);
        }
        let ring = self.ctx.ring();
        let (q_count, np) = (level.limbs(), ring.num_p());
        let mut rotations = Vec::new();
        let mut elements = Vec::new();
        // Phase 1: every distinct rotated baby step of every input, kept in Q·P.
        let mut babies: Vec<BTreeMap<GaloisElement, Baby>> = Vec::with_capacity(inputs.len());
        let mut owners: Vec<usize> = Vec::new();
        let mut mod_ups = 0u32;
        for (xi, (x, plan)) in inputs.iter().zip(&plans).enumerate() {
            let mut mine: BTreeMap<GaloisElement, Baby> = BTreeMap::new();
            if plan.iter().any(|p| p.1.is_some()) {
                mod_ups += 1;
                let digits = self.ctx.decompose(&x.parts[1])?;
                for &(_, k, r, _) in plan {
                    let Some(k) = k else { continue };
                    if let Entry::Vacant(v) = mine.entry(k) {
                        let key = self.keys.galois.get(&k).ok_or(Error::MissingGaloisKey {
                            rotation: Some(r),
                            galois_element: k.0,
                        })?;
                        let auto = self.ctx.automorphism(k)?;
                        let (a0, a1) = self.ctx.key_inner_product(&digits, key, Some(&auto))?;
                        let c0 = x.parts[0].automorphism(&auto, ring)?;
                        rotations.push(r);
                        elements.push(k);
                        owners.push(xi);
                        v.insert((a0, a1, c0));
                    }
                }
            }
            babies.push(mine);
        }
        // Phase 2: per group, products summed lazily in 128 bits and reduced once.
        let mut by_group: Vec<Vec<(usize, Option<GaloisElement>, usize)>> =
            vec![Vec::new(); groups];
        for (xi, plan) in plans.iter().enumerate() {
            for &(g, k, _, index) in plan {
                by_group[g].push((xi, k, index));
            }
        }
        let mut pt_scale: Option<f64> = None;
        let mut pt_refs = Vec::new();
        let mut outs = Vec::with_capacity(groups);
        let mut keyed_groups = 0u32;
        let scale_of = |pt_scale: Option<f64>| first.scale * pt_scale.unwrap_or(1.0);
        for terms_g in &by_group {
            let mut pts = Vec::with_capacity(terms_g.len());
            for &(xi, _, index) in terms_g {
                let pt = plaintext(xi, index)?;
                if pt.level() != level {
                    return Err(Error::LevelMismatch {
                        op: OP,
                        left: level.get(),
                        right: pt.level().get(),
                    });
                }
                if pt.slots != slots {
                    return Err(Error::SlotsMismatch {
                        op: OP,
                        left: slots,
                        right: pt.slots,
                    });
                }
                if pt.poly.p_count() != np {
                    return Err(Error::ShapeMismatch {
                        op: OP,
                        left: (q_count, np),
                        right: (pt.poly.q_count(), pt.poly.p_count()),
                    });
                }
                match pt_scale {
                    Some(s) => check_scales(OP, s, pt.scale)?,
                    None => pt_scale = Some(pt.scale),
                }
                pt_refs.push(pt_ref(&pt));
                pts.push(pt);
            }
            // Operands of each term: (Q source for c0, Q source for c1, Q·P pair).
            let mut ops: Vec<LazyTerm<'_>> = Vec::with_capacity(terms_g.len());
            for (&(xi, k, _), pt) in terms_g.iter().zip(&pts) {
                let x = &inputs[xi];
                match k {
                    None => ops.push((&x.parts[0], Some(&x.parts[1]), None, &pt.poly)),
                    Some(k) => {
                        let (a0, a1, c0) = babies[xi].get(&k).ok_or(Error::MissingGaloisKey {
                            rotation: None,
                            galois_element: k.0,
                        })?;
                        ops.push((c0, None, Some((a0, a1)), &pt.poly));
                    }
                }
            }
            let keyed = ops.iter().any(|o| o.2.is_some());
            keyed_groups += u32::from(keyed);
            let mut c0 = RnsPoly::zero_eval(ring, q_count, 0);
            let mut c1 = RnsPoly::zero_eval(ring, q_count, 0);
            let mut p0 = RnsPoly::zero_eval(ring, q_count, if keyed { np } else { 0 });
            let mut p1 = RnsPoly::zero_eval(ring, q_count, if keyed { np } else { 0 });
            if ring.is_real() {
                let limbs = q_count + if keyed { np } else { 0 };
                let moduli: Vec<_> = ring.moduli(q_count, np).collect();
                let sums: Vec<[Vec<u64>; 4]> = (0..limbs)
                    .into_par_iter()
                    .map(|t| lazy_limb_sums(&ops, t, t < q_count, moduli[t]))
                    .collect();
                for (t, [s0, s1, s2, s3]) in sums.into_iter().enumerate() {
                    if t < q_count {
                        c0.limb_mut(t).copy_from_slice(&s0);
                        c1.limb_mut(t).copy_from_slice(&s1);
                    }
                    if keyed {
                        p0.limb_mut(t).copy_from_slice(&s2);
                        p1.limb_mut(t).copy_from_slice(&s3);
                    }
                }
            }
            if keyed {
                c0.add_assign(&self.ctx.mod_down(p0)?, ring)?;
                c1.add_assign(&self.ctx.mod_down(p1)?, ring)?;
            }
            outs.push(Ciphertext {
                parts: vec![c0, c1],
                scale: 0.0,
                slots,
                id: self.ctx.next_id(),
            });
        }
        let scale = scale_of(pt_scale);
        outs.iter_mut().for_each(|c| c.scale = scale);
        self.tracer.emit_timed(t0, || {
            let mut ins: Vec<ObjectRef> = inputs.iter().map(ct_ref).collect();
            ins.extend(elements.iter().filter_map(|&k| self.ext_key_ref(k, level)));
            // Plaintexts follow, in the order of the terms (group by group).
            let rotation_index: BTreeMap<(usize, GaloisElement), u32> = owners
                .iter()
                .zip(&elements)
                .enumerate()
                .map(|(i, (&xi, &k))| ((xi, k), i as u32))
                .collect();
            let mut terms = Vec::with_capacity(pt_refs.len());
            for (g, terms_g) in by_group.iter().enumerate() {
                for &(xi, k, _) in terms_g {
                    terms.push(Term {
                        input: xi as u32,
                        rotation: k.and_then(|k| rotation_index.get(&(xi, k)).copied()),
                        plaintext: Some((ins.len() + terms.len()) as u32),
                        output: g as u32,
                    });
                }
            }
            ins.extend(pt_refs.iter().cloned());
            self.ext_key_event(OpKind::HoistedRotateMulAcc, level, scale)
                .with_rotations(rotations.clone(), elements.iter().map(|k| k.0).collect())
                .with_inputs(ins)
                .with_outputs(outs.iter().map(ct_ref).collect())
                .with_mod_counts(mod_ups, 2 * keyed_groups)
                .with_terms(terms)
        });
        Ok(outs)
    }

    /// `Σ_i rot(cts[i], r_i)` with one ModDown pair for the whole sum (the giant steps of a
    /// double-hoisted transform): each keyed term costs a ModUp and a key inner product, the
    /// sum of the inner products is divided by `P` once. Traced as one `lazy_rotate_sum`
    /// event with one term per summand.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for no terms; [`Error::LevelMismatch`],
    /// [`Error::ScaleMismatch`], [`Error::SlotsMismatch`], [`Error::CiphertextDegree`] among
    /// the terms; [`Error::MissingGaloisKey`] (checked before any work).
    pub fn rotate_sum_lazy(&self, parts: &[(&Ciphertext, i64)]) -> Result<Ciphertext> {
        const OP: &str = "rotate_sum_lazy";
        let t0 = self.tracer.start_timer();
        let cts: Vec<&Ciphertext> = parts.iter().map(|p| p.0).collect();
        check_same(OP, &cts)?;
        let first = cts[0];
        let (level, slots) = (first.level(), first.slots);
        let plan = parts
            .iter()
            .map(|&(ct, r)| Ok((ct, r, self.ext_galois(r, slots)?)))
            .collect::<Result<Vec<_>>>()?;
        let ring = self.ctx.ring();
        let q_count = level.limbs();
        let mut c0 = RnsPoly::zero_eval(ring, q_count, 0);
        let mut c1 = RnsPoly::zero_eval(ring, q_count, 0);
        let mut qp: Option<(RnsPoly<Eval>, RnsPoly<Eval>)> = None;
        let mut keys = Vec::new();
        for &(ct, r, k) in &plan {
            match k {
                None => {
                    c0.add_assign(&ct.parts[0], ring)?;
                    c1.add_assign(&ct.parts[1], ring)?;
                }
                Some(k) => {
                    let key = self.keys.galois.get(&k).ok_or(Error::MissingGaloisKey {
                        rotation: Some(r),
                        galois_element: k.0,
                    })?;
                    let auto = self.ctx.automorphism(k)?;
                    let digits = self.ctx.decompose(&ct.parts[1])?;
                    let (a0, a1) = self.ctx.key_inner_product(&digits, key, Some(&auto))?;
                    c0.add_assign(&ct.parts[0].automorphism(&auto, ring)?, ring)?;
                    match &mut qp {
                        Some((p0, p1)) => {
                            p0.add_assign(&a0, ring)?;
                            p1.add_assign(&a1, ring)?;
                        }
                        None => qp = Some((a0, a1)),
                    }
                    keys.push(k);
                }
            }
        }
        if let Some((p0, p1)) = qp {
            c0.add_assign(&self.ctx.mod_down(p0)?, ring)?;
            c1.add_assign(&self.ctx.mod_down(p1)?, ring)?;
        }
        let out = Ciphertext {
            parts: vec![c0, c1],
            scale: first.scale,
            slots,
            id: self.ctx.next_id(),
        };
        self.tracer.emit_timed(t0, || {
            let mut ins: Vec<ObjectRef> = cts.iter().map(|c| ct_ref(c)).collect();
            ins.extend(keys.iter().filter_map(|&k| self.ext_key_ref(k, level)));
            let mut keyed = 0u32;
            let terms = plan
                .iter()
                .enumerate()
                .map(|(i, p)| Term {
                    input: i as u32,
                    rotation: p.2.map(|_| {
                        keyed += 1;
                        keyed - 1
                    }),
                    plaintext: None,
                    output: 0,
                })
                .collect();
            let downs = if keys.is_empty() { 0 } else { 2 };
            self.ext_key_event(OpKind::LazyRotateSum, level, first.scale)
                .with_rotations(
                    plan.iter().filter(|p| p.2.is_some()).map(|p| p.1).collect(),
                    keys.iter().map(|k| k.0).collect(),
                )
                .with_inputs(ins)
                .with_outputs(vec![ct_ref(&out)])
                .with_mod_counts(keys.len() as u32, downs)
                .with_terms(terms)
        });
        Ok(out)
    }
}

//! The server-side [`Evaluator`]: every homomorphic operation, the single place that validates
//! operands and emits trace events. It holds the shared context and the evaluation keys — never
//! a secret key.
//!
//! Operands must agree in level, scale and slot count; nothing is adjusted silently
//! ([`Evaluator::drop_level`] and [`Evaluator::rescale`] are explicit). Scales are tracked
//! exactly: a rescale divides the scale by the prime it drops.
//!
//! # Example
//! ```
//! use helrm_core::ckks::{CkksContext, Evaluator, Encryptor, Decryptor, KeyGenerator, Params};
//! use helrm_core::ring::Backend;
//! use helrm_core::trace::DataClass;
//! let params = Params::preset("toy-n12-l10")?;
//! let ctx = CkksContext::new(params, Backend::Real)?;
//! let mut keygen = KeyGenerator::new(ctx.clone())?;
//! let keys = keygen.evaluation_keys(&[1], ctx.params().slots(), false)?;
//! let mut enc = Encryptor::new(ctx.clone(), keygen.public_key()?)?;
//! let eval = Evaluator::new(ctx.clone(), keys.into());
//! let top = ctx.max_level();
//! let scale = ctx.params().default_scale();
//! let slots = ctx.params().slots();
//! let x = enc.encrypt(&ctx.encode_real(&[1.5, -2.0], top, scale, slots, DataClass::Other)?)?;
//! let y = eval.rescale(&eval.mul_relin(&x, &x)?)?; // x²
//! let y = eval.rotate(&y, 1)?;                      // slot 0 ← slot 1
//! let out = Decryptor::new(ctx.clone(), keygen.secret_key()).decrypt_real(&y)?;
//! assert!((out[0] - 4.0).abs() < 1e-4);
//! # Ok::<(), helrm_core::Error>(())
//! ```

use super::ciphertext::{Ciphertext, Plaintext};
use super::context::CkksContext;
use super::keys::{EvaluationKeys, KeySwitchKey};
use super::params::Level;
use crate::error::{Error, Result};
use crate::ring::{Eval, GaloisElement, RnsPoly};
use crate::trace::{
    DataClass, MaybeTracer, ObjectId, ObjectRef, OpKind, ScopeGuard, TraceEvent, Tracer,
};
use num_complex::Complex64;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

/// Largest relative difference between two scales that still counts as equal. Rescaling by
/// primes that are close to, but not exactly, `Δ` makes scales drift by about `2^-20` per
/// level; operands of an addition must come from the same path, so their scales agree to
/// rounding error (about `2^-50`), far below this threshold.
pub const SCALE_TOLERANCE: f64 = 1e-9;

/// Server-side homomorphic evaluator.
#[derive(Debug, Clone)]
pub struct Evaluator {
    pub(super) ctx: Arc<CkksContext>,
    pub(super) keys: Arc<EvaluationKeys>,
    pub(super) tracer: Option<Arc<Tracer>>,
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

impl Evaluator {
    /// An evaluator over `ctx` with `keys`, not tracing.
    pub fn new(ctx: Arc<CkksContext>, keys: Arc<EvaluationKeys>) -> Self {
        Self {
            ctx,
            keys,
            tracer: None,
        }
    }

    /// The same evaluator, reporting every operation to `tracer`.
    pub fn with_tracer(mut self, tracer: Arc<Tracer>) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// The context.
    pub fn context(&self) -> &Arc<CkksContext> {
        &self.ctx
    }

    /// The evaluation keys.
    pub fn keys(&self) -> &Arc<EvaluationKeys> {
        &self.keys
    }

    /// The tracer, if one is attached.
    pub fn tracer(&self) -> Option<&Arc<Tracer>> {
        self.tracer.as_ref()
    }

    /// Opens a named trace scope (for example `bootstrap/coeffs_to_slots`) until the guard
    /// drops; a no-op without a tracer.
    pub fn scope(&self, name: &str) -> ScopeGuard<'_> {
        self.tracer.scope(name)
    }

    fn event(&self, op: OpKind, level: Level, scale: f64) -> TraceEvent {
        TraceEvent::new(op, self.ctx.params().log_n(), level.get() as u32)
            .with_scale_log2(scale.log2())
    }

    fn key_event(&self, op: OpKind, level: Level, scale: f64) -> TraceEvent {
        let p = self.ctx.params();
        self.event(op, level, scale).with_key_switching(
            p.p().len() as u32,
            p.digit_count_at(level).unwrap_or(0) as u32,
        )
    }

    fn key_ref(&self, key: &KeySwitchKey, class: DataClass, level: Level) -> ObjectRef {
        let bytes = self
            .ctx
            .params()
            .key_switch_key_bytes(level)
            .unwrap_or_else(|_| key.bytes());
        ObjectRef::key(ObjectId(key.id), class, bytes)
    }

    fn emit(&self, t0: Option<Instant>, build: impl FnOnce() -> TraceEvent) {
        self.tracer.emit_timed(t0, build);
    }

    fn fresh(&self, parts: Vec<RnsPoly<Eval>>, scale: f64, slots: usize) -> Ciphertext {
        Ciphertext {
            parts,
            scale,
            slots,
            id: self.ctx.next_id(),
        }
    }

    // ---- checks ---------------------------------------------------------------------------

    fn check_pair(op: &'static str, a: &Ciphertext, b: &Ciphertext) -> Result<()> {
        if a.level() != b.level() {
            return Err(Error::LevelMismatch {
                op,
                left: a.level().get(),
                right: b.level().get(),
            });
        }
        Self::check_scales(op, a.scale, b.scale)?;
        if a.slots != b.slots {
            return Err(Error::SlotsMismatch {
                op,
                left: a.slots,
                right: b.slots,
            });
        }
        Ok(())
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

    fn check_degree(op: &'static str, ct: &Ciphertext, max: usize) -> Result<()> {
        if ct.degree() > max {
            return Err(Error::CiphertextDegree {
                op,
                degree: ct.degree(),
                max,
            });
        }
        Ok(())
    }

    /// The plaintext's polynomial at the ciphertext's level (a plaintext may sit higher).
    fn plain_at<'p>(
        op: &'static str,
        pt: &'p Plaintext,
        ct: &Ciphertext,
    ) -> Result<Cow<'p, RnsPoly<Eval>>> {
        if pt.level() < ct.level() {
            return Err(Error::LevelMismatch {
                op,
                left: ct.level().get(),
                right: pt.level().get(),
            });
        }
        if pt.slots != ct.slots {
            return Err(Error::SlotsMismatch {
                op,
                left: ct.slots,
                right: pt.slots,
            });
        }
        if pt.level() == ct.level() {
            return Ok(Cow::Borrowed(&pt.poly));
        }
        let mut p = pt.poly.clone();
        p.truncate_q(ct.level().limbs())?;
        Ok(Cow::Owned(p))
    }

    /// The integer `round(x)` as residues of the ciphertext's limbs.
    fn int_residues(&self, op: &'static str, x: f64, q_count: usize) -> Result<Vec<u64>> {
        if !x.is_finite() {
            return Err(Error::NonFiniteValue { index: 0 });
        }
        let r = x.round();
        if r.abs() >= 2f64.powi(126) {
            return Err(Error::ConstantTooLarge {
                op,
                log2_magnitude: r.abs().log2(),
            });
        }
        let v = r as i128;
        Ok(self
            .ctx
            .ring()
            .moduli(q_count, 0)
            .map(|m| {
                let a = m.reduce_u128(v.unsigned_abs());
                if v < 0 {
                    m.neg(a)
                } else {
                    a
                }
            })
            .collect())
    }

    // ---- encoding -------------------------------------------------------------------------

    /// Encodes `values` at `level` and `scale` on `slots` slots (traced as `encode`).
    ///
    /// # Errors
    /// As [`CkksContext::encode`].
    pub fn encode(
        &self,
        values: &[Complex64],
        level: Level,
        scale: f64,
        slots: usize,
        class: DataClass,
    ) -> Result<Plaintext> {
        let t0 = self.tracer.start_timer();
        let pt = self.ctx.encode(values, level, scale, slots, class)?;
        self.emit(t0, || {
            self.event(OpKind::Encode, level, scale)
                .with_slots(slots as u32)
                .with_outputs(vec![pt_ref(&pt)])
        });
        Ok(pt)
    }

    /// Encodes real `values`; see [`Evaluator::encode`].
    ///
    /// # Errors
    /// As [`CkksContext::encode`].
    pub fn encode_real(
        &self,
        values: &[f64],
        level: Level,
        scale: f64,
        slots: usize,
        class: DataClass,
    ) -> Result<Plaintext> {
        let v: Vec<Complex64> = values.iter().map(|&x| Complex64::new(x, 0.0)).collect();
        self.encode(&v, level, scale, slots, class)
    }

    // ---- additions ------------------------------------------------------------------------

    fn add_like(
        &self,
        op: OpKind,
        a: &Ciphertext,
        b: &Ciphertext,
        negate: bool,
    ) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        Self::check_pair(op.name(), a, b)?;
        let ring = self.ctx.ring();
        let (long, short) = if a.parts.len() >= b.parts.len() {
            (a, b)
        } else {
            (b, a)
        };
        let mut parts = long.parts.clone();
        if negate && std::ptr::eq(long, b) {
            parts.iter_mut().for_each(|p| p.neg_assign(ring));
        }
        for (p, q) in parts.iter_mut().zip(&short.parts) {
            if negate && std::ptr::eq(short, b) {
                p.sub_assign(q, ring)?;
            } else {
                p.add_assign(q, ring)?;
            }
        }
        let out = self.fresh(parts, a.scale, a.slots);
        self.emit(t0, || {
            self.event(op, a.level(), out.scale)
                .with_inputs(vec![ct_ref(a), ct_ref(b)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// `a + b` (same level, scale and slots; degrees may differ).
    ///
    /// # Errors
    /// [`Error::LevelMismatch`], [`Error::ScaleMismatch`], [`Error::SlotsMismatch`].
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.add_like(OpKind::Add, a, b, false)
    }

    /// `a − b` (same level, scale and slots).
    ///
    /// # Errors
    /// As [`Evaluator::add`].
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.add_like(OpKind::Sub, a, b, true)
    }

    fn plain_add_like(
        &self,
        op: OpKind,
        ct: &Ciphertext,
        pt: &Plaintext,
        negate: bool,
    ) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        Self::check_scales(op.name(), ct.scale, pt.scale)?;
        let p = Self::plain_at(op.name(), pt, ct)?;
        let mut out = self.fresh(ct.parts.clone(), ct.scale, ct.slots);
        if negate {
            out.parts[0].sub_assign(&p, self.ctx.ring())?;
        } else {
            out.parts[0].add_assign(&p, self.ctx.ring())?;
        }
        self.emit(t0, || {
            self.event(op, ct.level(), ct.scale)
                .with_inputs(vec![ct_ref(ct), pt_ref(pt)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// `ct + pt` (the plaintext may sit at a higher level; same scale and slots).
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] if the plaintext is below the ciphertext, [`Error::ScaleMismatch`],
    /// [`Error::SlotsMismatch`].
    pub fn add_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        self.plain_add_like(OpKind::AddPlain, ct, pt, false)
    }

    /// `ct − pt`.
    ///
    /// # Errors
    /// As [`Evaluator::add_plain`].
    pub fn sub_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        self.plain_add_like(OpKind::SubPlain, ct, pt, true)
    }

    /// `ct + c` in every slot (real constant, encoded exactly at the ciphertext's scale).
    ///
    /// # Errors
    /// [`Error::NonFiniteValue`], [`Error::ConstantTooLarge`].
    pub fn add_const(&self, ct: &Ciphertext, c: f64) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let q_count = ct.level().limbs();
        let k = self.int_residues("add_const", c * ct.scale, q_count)?;
        let mut out = self.fresh(ct.parts.clone(), ct.scale, ct.slots);
        if out.parts[0].is_real() {
            // A constant polynomial evaluates to itself at every point.
            let n = self.ctx.ring().n();
            for (i, m) in self.ctx.ring().moduli(q_count, 0).enumerate() {
                let l = &mut out.parts[0].data_mut()[i * n..(i + 1) * n];
                l.iter_mut().for_each(|x| *x = m.add(*x, k[i]));
            }
        }
        self.emit(t0, || {
            self.event(OpKind::AddConst, ct.level(), ct.scale)
                .with_inputs(vec![ct_ref(ct)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// `−ct` (traced as a `mul_const` by −1, which is what it costs).
    ///
    /// # Errors
    /// None for a well-formed ciphertext.
    pub fn neg(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        self.mul_int(ct, -1)
    }

    // ---- multiplications ------------------------------------------------------------------

    /// `ct · pt` slot-wise; the result's scale is the product of the scales.
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] if the plaintext is below the ciphertext, [`Error::SlotsMismatch`],
    /// [`Error::CiphertextDegree`] for an unrelinearised input.
    pub fn mul_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        Self::check_degree("mul_plain", ct, 1)?;
        let p = Self::plain_at("mul_plain", pt, ct)?;
        let ring = self.ctx.ring();
        let parts = ct
            .parts
            .iter()
            .map(|c| c.mul(&p, ring))
            .collect::<Result<Vec<_>>>()?;
        let out = self.fresh(parts, ct.scale * pt.scale, ct.slots);
        self.emit(t0, || {
            self.event(OpKind::MulPlain, ct.level(), out.scale)
                .with_inputs(vec![ct_ref(ct), pt_ref(pt)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// `acc += ct · pt` slot-wise, in place: a fused plaintext multiply-accumulate that
    /// builds no temporary product (the accumulation of diagonal products in a linear
    /// transform). `acc` keeps its id, level and slot count; its scale must equal
    /// `ct.scale · pt.scale`. The result is identical to `add(acc, mul_plain(ct, pt))`.
    /// Traced as one `mul_plain_acc` event that lists `acc` as an input and, with the same
    /// id, as its output.
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] if `acc` and `ct` differ in level or the plaintext is below
    /// them, [`Error::ScaleMismatch`], [`Error::SlotsMismatch`],
    /// [`Error::CiphertextDegree`] for an unrelinearised `acc` or `ct`.
    pub fn mul_plain_acc(
        &self,
        acc: &mut Ciphertext,
        ct: &Ciphertext,
        pt: &Plaintext,
    ) -> Result<()> {
        const OP: &str = "mul_plain_acc";
        let t0 = self.tracer.start_timer();
        Self::check_degree(OP, ct, 1)?;
        Self::check_degree(OP, acc, 1)?;
        if acc.level() != ct.level() {
            return Err(Error::LevelMismatch {
                op: OP,
                left: acc.level().get(),
                right: ct.level().get(),
            });
        }
        if acc.slots != ct.slots {
            return Err(Error::SlotsMismatch {
                op: OP,
                left: acc.slots,
                right: ct.slots,
            });
        }
        let p = Self::plain_at(OP, pt, ct)?;
        Self::check_scales(OP, acc.scale, ct.scale * pt.scale)?;
        let ring = self.ctx.ring();
        for (a, c) in acc.parts.iter_mut().zip(&ct.parts) {
            a.mul_add_assign(c, &p, ring)?;
        }
        self.emit(t0, || {
            self.event(OpKind::MulPlainAcc, ct.level(), acc.scale)
                .with_inputs(vec![ct_ref(acc), ct_ref(ct), pt_ref(pt)])
                .with_outputs(vec![ct_ref(acc)])
        });
        Ok(())
    }

    /// `ct · round(c · const_scale)`: multiplies by a real constant encoded at `const_scale`;
    /// the result's scale is `ct.scale · const_scale`. Choosing `const_scale` equal to the
    /// prime the next rescale drops keeps the scale unchanged across that rescale.
    ///
    /// # Errors
    /// [`Error::NonFiniteValue`], [`Error::ConstantTooLarge`], [`Error::InvalidScale`].
    pub fn mul_const(&self, ct: &Ciphertext, c: f64, const_scale: f64) -> Result<Ciphertext> {
        if !(const_scale.is_finite() && const_scale >= 1.0) {
            return Err(Error::InvalidScale {
                scale: const_scale.to_string(),
            });
        }
        self.mul_scaled_int(ct, c * const_scale, const_scale)
    }

    /// `ct · k` for an integer `k`; the scale is unchanged.
    ///
    /// # Errors
    /// None for a well-formed ciphertext.
    pub fn mul_int(&self, ct: &Ciphertext, k: i64) -> Result<Ciphertext> {
        self.mul_scaled_int(ct, k as f64, 1.0)
    }

    fn mul_scaled_int(&self, ct: &Ciphertext, x: f64, factor: f64) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let q_count = ct.level().limbs();
        let k = self.int_residues("mul_const", x, q_count)?;
        let ring = self.ctx.ring();
        let mut parts = ct.parts.clone();
        for p in &mut parts {
            p.mul_residues_assign(&k, ring)?;
        }
        let out = self.fresh(parts, ct.scale * factor, ct.slots);
        self.emit(t0, || {
            self.event(OpKind::MulConst, ct.level(), out.scale)
                .with_inputs(vec![ct_ref(ct)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// `(a0·b0, a0·b1 + a1·b0, a1·b1)`; with `pooled` the parts live in buffers of the
    /// context's pool (relinearisation returns its temporaries there, so a multiply then
    /// needs no fresh memory).
    fn tensor(&self, a: &Ciphertext, b: &Ciphertext, pooled: bool) -> Result<Vec<RnsPoly<Eval>>> {
        let ring = self.ctx.ring();
        let (a0, a1, b0, b1) = (&a.parts[0], &a.parts[1], &b.parts[0], &b.parts[1]);
        let product = |x: &RnsPoly<Eval>, y: &RnsPoly<Eval>| -> Result<RnsPoly<Eval>> {
            if !(pooled && x.is_real()) {
                return x.mul(y, ring);
            }
            let (q, p) = (x.q_count(), x.p_count());
            let buf = crate::ring::pool::take_scratch((q + p) * ring.n());
            let mut out = RnsPoly::from_scratch(ring, q, p, buf);
            x.mul_to(y, &mut out, ring)?;
            Ok(out)
        };
        let d0 = product(a0, b0)?;
        let mut d1 = product(a0, b1)?;
        d1.mul_add_assign(a1, b0, ring)?;
        let d2 = product(a1, b1)?;
        Ok(vec![d0, d1, d2])
    }

    /// `a · b` without relinearisation: a degree-2 ciphertext (add several, relinearise once).
    ///
    /// # Errors
    /// [`Error::LevelMismatch`], [`Error::SlotsMismatch`], [`Error::CiphertextDegree`].
    pub fn mul_no_relin(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        self.check_mul_operands("mul_no_relin", a, b)?;
        let out = self.fresh(self.tensor(a, b, false)?, a.scale * b.scale, a.slots);
        self.emit(t0, || {
            self.event(OpKind::MulNoRelin, a.level(), out.scale)
                .with_inputs(vec![ct_ref(a), ct_ref(b)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    fn check_mul_operands(&self, op: &'static str, a: &Ciphertext, b: &Ciphertext) -> Result<()> {
        Self::check_degree(op, a, 1)?;
        Self::check_degree(op, b, 1)?;
        if a.level() != b.level() {
            return Err(Error::LevelMismatch {
                op,
                left: a.level().get(),
                right: b.level().get(),
            });
        }
        if a.slots != b.slots {
            return Err(Error::SlotsMismatch {
                op,
                left: a.slots,
                right: b.slots,
            });
        }
        Ok(())
    }

    fn relin_key(&self) -> Result<&Arc<KeySwitchKey>> {
        self.keys.relin.as_ref().ok_or(Error::MissingRelinKey)
    }

    fn relin_parts(&self, mut parts: Vec<RnsPoly<Eval>>) -> Result<Vec<RnsPoly<Eval>>> {
        let key = self.relin_key()?;
        let ring = self.ctx.ring();
        if let Some(d2) = parts.pop() {
            let (k0, k1) = self.ctx.key_switch(&d2, key)?;
            parts[0].add_assign(&k0, ring)?;
            parts[1].add_assign(&k1, ring)?;
        }
        Ok(parts)
    }

    /// Relinearises a degree-2 ciphertext back to degree 1 (a no-op copy for degree 1).
    ///
    /// # Errors
    /// [`Error::MissingRelinKey`].
    pub fn relinearize(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let key = self.relin_key()?;
        let parts = if ct.degree() == 2 {
            self.relin_parts(ct.parts.clone())?
        } else {
            ct.parts.clone()
        };
        let out = self.fresh(parts, ct.scale, ct.slots);
        self.emit(t0, || {
            self.key_event(OpKind::Relinearize, ct.level(), ct.scale)
                .with_inputs(vec![
                    ct_ref(ct),
                    self.key_ref(key, DataClass::KeyRelin, ct.level()),
                ])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// `a · b` followed by relinearisation; the result's scale is the product of the scales
    /// (rescale afterwards).
    ///
    /// # Errors
    /// [`Error::LevelMismatch`], [`Error::SlotsMismatch`], [`Error::CiphertextDegree`],
    /// [`Error::MissingRelinKey`].
    pub fn mul_relin(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        self.check_mul_operands("mul_relin", a, b)?;
        let key = self.relin_key()?;
        let parts = self.relin_parts(self.tensor(a, b, true)?)?;
        let out = self.fresh(parts, a.scale * b.scale, a.slots);
        self.emit(t0, || {
            self.key_event(OpKind::MulRelin, a.level(), out.scale)
                .with_inputs(vec![
                    ct_ref(a),
                    ct_ref(b),
                    self.key_ref(key, DataClass::KeyRelin, a.level()),
                ])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    // ---- levels ---------------------------------------------------------------------------

    /// Divides by the last prime `q_ℓ` (with rounding) and drops it: level `ℓ → ℓ−1`, scale
    /// `Δ → Δ / q_ℓ`.
    ///
    /// # Errors
    /// [`Error::LevelTooLow`] at level 0.
    pub fn rescale(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let level = ct.level();
        if level.get() == 0 {
            return Err(Error::LevelTooLow {
                op: "rescale",
                level: 0,
                needed: 1,
            });
        }
        let q_last = self.ctx.params().q()[level.get()] as f64;
        let ring = self.ctx.ring();
        let mut parts = ct.parts.clone();
        for p in &mut parts {
            p.rescale_by_last_q(ring)?;
        }
        let out = self.fresh(parts, ct.scale / q_last, ct.slots);
        self.emit(t0, || {
            self.event(OpKind::Rescale, level, out.scale)
                .with_inputs(vec![ct_ref(ct)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// Drops `levels` levels without dividing (the values and scale are unchanged).
    ///
    /// # Errors
    /// [`Error::LevelTooLow`] if fewer than `levels` levels remain.
    pub fn drop_level(&self, ct: &Ciphertext, levels: usize) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let level = ct.level();
        if levels > level.get() {
            return Err(Error::LevelTooLow {
                op: "drop_level",
                level: level.get(),
                needed: levels,
            });
        }
        let mut parts = ct.parts.clone();
        for p in &mut parts {
            p.truncate_q(level.limbs() - levels)?;
        }
        let out = self.fresh(parts, ct.scale, ct.slots);
        self.emit(t0, || {
            self.event(OpKind::LevelDrop, level, ct.scale)
                .with_inputs(vec![ct_ref(ct)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// Drops levels until `ct` is at `level`.
    ///
    /// # Errors
    /// [`Error::LevelTooLow`] if `ct` is below `level`.
    pub fn drop_to_level(&self, ct: &Ciphertext, level: Level) -> Result<Ciphertext> {
        if ct.level() < level {
            return Err(Error::LevelTooLow {
                op: "drop_to_level",
                level: ct.level().get(),
                needed: level.get(),
            });
        }
        if ct.level() == level {
            return Ok(ct.clone());
        }
        self.drop_level(ct, ct.level().get() - level.get())
    }

    // ---- automorphisms --------------------------------------------------------------------

    fn galois_key(&self, k: GaloisElement, rotation: Option<i64>) -> Result<&Arc<KeySwitchKey>> {
        self.keys.galois.get(&k).ok_or(Error::MissingGaloisKey {
            rotation,
            galois_element: k.0,
        })
    }

    /// Applies `σ_k` and switches the key back to `s`.
    fn apply_galois(
        &self,
        ct: &Ciphertext,
        k: GaloisElement,
        rotation: Option<i64>,
    ) -> Result<Ciphertext> {
        Self::check_degree("rotate", ct, 1)?;
        if k.0 == 1 {
            return Ok(self.fresh(ct.parts.clone(), ct.scale, ct.slots));
        }
        let key = self.galois_key(k, rotation)?;
        let ring = self.ctx.ring();
        let auto = self.ctx.automorphism(k)?;
        // σ is applied while reading the extended digits of c1 (one pass fewer than
        // permuting c1 first), and σ(c0) is added into the first half in place.
        let map = CkksContext::index_map(&auto)?;
        let (mut c0, c1) = self.ctx.key_switch_mapped(&ct.parts[1], key, &map)?;
        c0.add_mapped_assign(&ct.parts[0], &map, ring)?;
        Ok(self.fresh(vec![c0, c1], ct.scale, ct.slots))
    }

    /// Rotates the slots left by `rotation` (negative: right), cyclically over the
    /// ciphertext's slot count.
    ///
    /// # Errors
    /// [`Error::MissingGaloisKey`] naming the rotation and its Galois element.
    pub fn rotate(&self, ct: &Ciphertext, rotation: i64) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let k = self.ctx.galois_element_for_rotation(rotation, ct.slots)?;
        let out = self.apply_galois(ct, k, Some(rotation))?;
        self.emit(t0, || {
            let mut inputs = vec![ct_ref(ct)];
            if let Ok(key) = self.galois_key(k, None) {
                inputs.push(self.key_ref(key, DataClass::KeyGalois(k.0), ct.level()));
            }
            self.key_event(OpKind::Rotate, ct.level(), ct.scale)
                .with_rotations(vec![rotation], vec![k.0])
                .with_inputs(inputs)
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// Complex conjugation of every slot.
    ///
    /// # Errors
    /// [`Error::MissingGaloisKey`] without a conjugation key.
    pub fn conjugate(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let k = self.ctx.galois_element_conjugate();
        let out = self.apply_galois(ct, k, None)?;
        self.emit(t0, || {
            let mut inputs = vec![ct_ref(ct)];
            if let Ok(key) = self.galois_key(k, None) {
                inputs.push(self.key_ref(key, DataClass::KeyGalois(k.0), ct.level()));
            }
            self.key_event(OpKind::Conjugate, ct.level(), ct.scale)
                .with_rotations(Vec::new(), vec![k.0])
                .with_inputs(inputs)
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// Many rotations of one ciphertext sharing a single decomposition (ModUp) of `c_1`:
    /// each rotation then costs one permuted key inner product and one ModDown. Returns the
    /// rotations in the order asked (rotation 0 is a copy).
    ///
    /// # Errors
    /// [`Error::MissingGaloisKey`] for the first rotation without a key (checked before any
    /// work is done).
    pub fn rotate_hoisted(&self, ct: &Ciphertext, rotations: &[i64]) -> Result<Vec<Ciphertext>> {
        let t0 = self.tracer.start_timer();
        Self::check_degree("rotate_hoisted", ct, 1)?;
        let mut plan = Vec::with_capacity(rotations.len());
        for &r in rotations {
            let k = self.ctx.galois_element_for_rotation(r, ct.slots)?;
            let key = if k.0 == 1 {
                None
            } else {
                Some(self.galois_key(k, Some(r))?)
            };
            plan.push((r, k, key));
        }
        let ring = self.ctx.ring();
        let needs_keys = plan.iter().any(|(_, _, key)| key.is_some());
        let digits = if needs_keys {
            self.ctx.decompose(&ct.parts[1])?
        } else {
            Vec::new()
        };
        let mut outs = Vec::with_capacity(plan.len());
        for (_, k, key) in &plan {
            let Some(key) = key else {
                outs.push(self.fresh(ct.parts.clone(), ct.scale, ct.slots));
                continue;
            };
            let map = CkksContext::index_map(&*self.ctx.automorphism(*k)?)?;
            let (a0, a1) = self
                .ctx
                .key_inner_product_mapped(&digits, key, Some(&map))?;
            let (mut c0, c1) = self.ctx.mod_down_pair(a0, a1)?;
            c0.add_mapped_assign(&ct.parts[0], &map, ring)?;
            outs.push(self.fresh(vec![c0, c1], ct.scale, ct.slots));
        }
        drop(digits);
        self.emit(t0, || {
            let mut inputs = vec![ct_ref(ct)];
            for (_, k, key) in &plan {
                if let Some(key) = key {
                    inputs.push(self.key_ref(key, DataClass::KeyGalois(k.0), ct.level()));
                }
            }
            self.key_event(OpKind::RotateHoisted, ct.level(), ct.scale)
                .with_rotations(
                    plan.iter().map(|p| p.0).collect(),
                    plan.iter().map(|p| p.1 .0).collect(),
                )
                .with_inputs(inputs)
                .with_outputs(outs.iter().map(ct_ref).collect())
        });
        Ok(outs)
    }
}

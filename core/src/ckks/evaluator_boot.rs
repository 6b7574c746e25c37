//! Leaf primitives of bootstrapping: ModRaise, the rotation over the full ring that the
//! subring trace of sparse-slot bootstrapping needs, and the encoding of complex values over
//! `Q_ℓ ∪ P` that its double-hoisted transforms multiply by. Each emits exactly one trace
//! event.
//!
//! **ModRaise.** A ciphertext `(c_0, c_1)` at level 0 decrypts to `c_0 + c_1·s = m + e`
//! modulo `q_0`. Lifting the centred residues `[c_j]_{q_0} ∈ (−q_0/2, q_0/2]` to every prime of
//! the chain gives a ciphertext at the top level that decrypts, modulo the whole `Q`, to
//! `m + e + q_0·I` for a small integer polynomial `I` (each coefficient of `I` is bounded by
//! about `(‖s‖_1 + 1)/2`, and is concentrated far below that bound). Bootstrapping's
//! remaining steps remove `q_0·I` homomorphically.
//!
//! **Rotation over the full ring.** A ciphertext on `n < N/2` slots holds its values repeated
//! `N/(2n)` times, and `Evaluator::rotate` rotates them cyclically over `n`: its Galois
//! elements are `5^r` with `r mod n`. The subring trace `Σ_j σ_{5^{n·j}}` (which projects the
//! raised polynomial onto `Z[X^{N/(2n)}]`) needs the automorphisms `X → X^{5^{n·2^i}}`, which
//! no rotation over `n` slots reaches; [`Evaluator::rotate_ring`] rotates over all `N/2` slots
//! whatever the ciphertext's slot count.
//!
//! # References
//! J. H. Cheon, K. Han, A. Kim, M. Kim, Y. Song, "Bootstrapping for approximate homomorphic
//! encryption", EUROCRYPT 2018 (ModRaise, the subring trace for sparse slots).

use super::ciphertext::{Ciphertext, Plaintext};
use super::evaluator::Evaluator;
use super::params::Level;
use crate::error::{Error, Result};
use crate::ring::{Coeff, RnsPoly};
use crate::trace::{DataClass, MaybeTracer, ObjectId, ObjectRef, OpKind, TraceEvent};
use num_complex::Complex64;
use rayon::prelude::*;

fn ct_ref(ct: &Ciphertext) -> ObjectRef {
    ObjectRef::at_level(
        ObjectId(ct.id),
        DataClass::Ciphertext,
        ct.bytes(),
        ct.level().get() as u32,
    )
}

impl Evaluator {
    /// ModRaise: lifts a level-0 ciphertext to the top of the chain by the centred lift of its
    /// residues modulo `q_0` (see the module docs). The result decrypts to `m + q_0·I` over the
    /// whole chain; its scale and slot count are the input's. Traced as one `mod_raise` event.
    ///
    /// # Errors
    /// [`Error::LevelMismatch`] unless `ct` is at level 0; [`Error::CiphertextDegree`] for an
    /// unrelinearised ciphertext.
    pub fn mod_raise(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        const OP: &str = "mod_raise";
        let t0 = self.tracer.start_timer();
        if ct.degree() > 1 {
            return Err(Error::CiphertextDegree {
                op: OP,
                degree: ct.degree(),
                max: 1,
            });
        }
        if ct.level().get() != 0 {
            return Err(Error::LevelMismatch {
                op: OP,
                left: ct.level().get(),
                right: 0,
            });
        }
        let ring = self.ctx.ring();
        let top = self.ctx.max_level();
        let q_count = top.limbs();
        let n = ring.n();
        let mut parts = Vec::with_capacity(ct.parts.len());
        for part in &ct.parts {
            if !part.is_real() {
                parts.push(RnsPoly::zero_eval(ring, q_count, 0));
                continue;
            }
            let coeff = part.clone().into_coeff(ring)?;
            let q0 = *ring.q(0);
            let centred: Vec<i64> = coeff.limb(0).iter().map(|&x| q0.center(x)).collect();
            let moduli: Vec<_> = ring.moduli(q_count, 0).copied().collect();
            let mut data = crate::ring::pool::take_zeroed(q_count * n);
            data.par_chunks_mut(n)
                .zip(moduli.par_iter())
                .for_each(|(limb, m)| {
                    for (x, &c) in limb.iter_mut().zip(&centred) {
                        *x = m.reduce_i64(c);
                    }
                });
            let raised = RnsPoly::<Coeff>::from_data(ring, q_count, 0, data)?;
            parts.push(raised.into_eval(ring)?);
        }
        let out = Ciphertext {
            parts,
            scale: ct.scale,
            slots: ct.slots,
            id: self.ctx.next_id(),
        };
        self.tracer.emit_timed(t0, || {
            TraceEvent::new(OpKind::ModRaise, self.ctx.params().log_n(), 0)
                .with_scale_log2(ct.scale.log2())
                .with_inputs(vec![ct_ref(ct)])
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// Rotates the `N/2` slots of the full ring left by `rotation` (negative: right), whatever
    /// the ciphertext's slot count: the automorphism `X → X^{5^r}` with `r = rotation mod N/2`.
    /// On a sparse ciphertext, whose `n` values repeat every `n` slots, a rotation by a
    /// multiple of `n` permutes the copies; the subring trace of bootstrapping sums such
    /// rotations. The slot count of the result is the input's. Traced as one `rotate` event.
    ///
    /// # Errors
    /// [`Error::MissingGaloisKey`] naming the rotation and its Galois element;
    /// [`Error::CiphertextDegree`] for an unrelinearised ciphertext.
    pub fn rotate_ring(&self, ct: &Ciphertext, rotation: i64) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        if ct.degree() > 1 {
            return Err(Error::CiphertextDegree {
                op: "rotate_ring",
                degree: ct.degree(),
                max: 1,
            });
        }
        let params = self.ctx.params();
        let k = self
            .ctx
            .galois_element_for_rotation(rotation, params.slots())?;
        let key = if k.0 == 1 {
            None
        } else {
            Some(self.keys.galois.get(&k).ok_or(Error::MissingGaloisKey {
                rotation: Some(rotation),
                galois_element: k.0,
            })?)
        };
        let out = match key {
            None => self.copy_of(ct),
            Some(key) => {
                let ring = self.ctx.ring();
                let auto = self.ctx.automorphism(k)?;
                let c1 = ct.parts[1].automorphism(&auto, ring)?;
                let (k0, k1) = self.ctx.key_switch(&c1, key)?;
                let mut c0 = ct.parts[0].automorphism(&auto, ring)?;
                c0.add_assign(&k0, ring)?;
                Ciphertext {
                    parts: vec![c0, k1],
                    scale: ct.scale,
                    slots: ct.slots,
                    id: self.ctx.next_id(),
                }
            }
        };
        self.tracer.emit_timed(t0, || {
            let level = ct.level();
            let mut inputs = vec![ct_ref(ct)];
            if let Some(key) = key {
                let bytes = params
                    .key_switch_key_bytes(level)
                    .unwrap_or_else(|_| key.bytes());
                inputs.push(ObjectRef::key(
                    ObjectId(key.id),
                    DataClass::KeyGalois(k.0),
                    bytes,
                ));
            }
            TraceEvent::new(OpKind::Rotate, params.log_n(), level.get() as u32)
                .with_scale_log2(ct.scale.log2())
                .with_key_switching(
                    params.p().len() as u32,
                    params.digit_count_at(level).unwrap_or(0) as u32,
                )
                .with_rotations(vec![rotation], vec![k.0])
                .with_inputs(inputs)
                .with_outputs(vec![ct_ref(&out)])
        });
        Ok(out)
    }

    /// Encodes complex `values` at `level` and `scale` over `Q_ℓ ∪ P`: the plaintext operand
    /// of [`Evaluator::rotate_mul_sum_hoisted`] for complex diagonals (the complex sibling of
    /// [`Evaluator::encode_real_qp`]). Traced as one `encode` event whose output is marked as left
    /// over the extended basis.
    ///
    /// # Errors
    /// As [`crate::ckks::CkksContext::encode`].
    pub fn encode_qp(
        &self,
        values: &[Complex64],
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
            self.ctx
                .encoder()
                .with_subring(values, slots, scale, |gap, coeffs| {
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
            .with_outputs(vec![ObjectRef::at_level(
                ObjectId(pt.id),
                pt.class,
                pt.bytes(),
                level.get() as u32,
            )])
        });
        Ok(pt)
    }

    fn copy_of(&self, ct: &Ciphertext) -> Ciphertext {
        Ciphertext {
            parts: ct.parts.clone(),
            scale: ct.scale,
            slots: ct.slots,
            id: self.ctx.next_id(),
        }
    }
}

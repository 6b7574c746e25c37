//! Encoding into RNS plaintexts, public- and secret-key encryption, and decryption (with an
//! optional noise-flooded variant for results that leave the client).

use super::ciphertext::{Ciphertext, Plaintext};
use super::context::CkksContext;
use super::keys::{KeyGenerator, PublicKey, SecretKey};
use super::params::Level;
use crate::error::{Error, Result};
use crate::math::rns::RnsBasis;
use crate::math::sample::Csprng;
use crate::ring::{Coeff, Eval, RnsPoly};
use crate::trace::{DataClass, MaybeTracer, ObjectId, ObjectRef, OpKind, TraceEvent, Tracer};
use num_complex::Complex64;
use std::sync::Arc;

impl CkksContext {
    pub(crate) fn check_level(&self, level: Level) -> Result<()> {
        let max = self.max_level().get();
        if level.get() > max {
            return Err(Error::LevelOutOfRange {
                level: level.get(),
                max_level: max,
            });
        }
        Ok(())
    }

    /// Encodes complex `values` (at most `slots`, the rest zero) at `level` and `scale`.
    ///
    /// Not traced; the server encodes through `Evaluator::encode`, which is.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`], [`Error::InvalidSlots`], [`Error::TooManyValues`],
    /// [`Error::NonFiniteValue`], [`Error::InvalidScale`], [`Error::EncodingOverflow`].
    pub fn encode(
        &self,
        values: &[Complex64],
        level: Level,
        scale: f64,
        slots: usize,
        class: DataClass,
    ) -> Result<Plaintext> {
        self.check_level(level)?;
        let max = self.params().slots();
        if slots == 0 || !slots.is_power_of_two() || slots > max {
            return Err(Error::InvalidSlots {
                slots,
                max_slots: max,
            });
        }
        let poly = if self.ring().is_real() {
            let ring = self.ring();
            self.encoder()
                .with_subring(values, slots, scale, |gap, coeffs| {
                    RnsPoly::<Coeff>::from_i128_strided(ring, level.limbs(), 0, gap, coeffs)
                })?
                .into_eval(ring)?
        } else {
            if values.len() > slots {
                return Err(Error::TooManyValues {
                    got: values.len(),
                    slots,
                });
            }
            RnsPoly::zero_eval(self.ring(), level.limbs(), 0)
        };
        Ok(Plaintext {
            poly,
            scale,
            slots,
            id: self.next_id(),
            class,
        })
    }

    /// Encodes real `values`; see [`CkksContext::encode`].
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

    /// Decodes a plaintext back to its slot values.
    ///
    /// # Errors
    /// [`Error::SymbolicValue`] in a symbolic context (there are no values).
    pub fn decode(&self, pt: &Plaintext) -> Result<Vec<Complex64>> {
        let coeffs = self.centered_coeffs(pt.poly.clone().into_coeff(self.ring())?)?;
        self.encoder().decode(&coeffs, pt.slots, pt.scale)
    }

    /// Centred coefficients of a coefficient-form polynomial, as `f64`.
    fn centered_coeffs(&self, p: RnsPoly<Coeff>) -> Result<Vec<f64>> {
        if !p.is_real() {
            return Err(Error::SymbolicValue {
                what: "decoded values",
            });
        }
        let ring = self.ring();
        if p.q_count() == 1 {
            let m = ring.q(0);
            return Ok(p.limb(0).iter().map(|&x| m.center(x) as f64).collect());
        }
        let basis = RnsBasis::new(&self.params().q()[..p.q_count()])?;
        let limbs: Vec<&[u64]> = (0..p.q_count()).map(|i| p.limb(i)).collect();
        let mut out = vec![0.0; ring.n()];
        basis.reconstruct_centered_f64_poly(&limbs, &mut out)?;
        Ok(out)
    }
}

/// Public-key encryption (usable by anyone holding the public key).
pub struct Encryptor {
    ctx: Arc<CkksContext>,
    pk: PublicKey,
    /// The public key's `(b, a)` cut to the primes of the last level encrypted at, with that
    /// prime count (encrypting at one level again copies nothing).
    pk_at: Option<(usize, RnsPoly<Eval>, RnsPoly<Eval>)>,
    rng: Csprng,
    tracer: Option<Arc<Tracer>>,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor").finish_non_exhaustive()
    }
}

impl Encryptor {
    /// An encryptor for `pk` drawing its randomness from an OS-seeded CSPRNG.
    ///
    /// # Errors
    /// [`Error::Entropy`] if the OS has no randomness.
    pub fn new(ctx: Arc<CkksContext>, pk: PublicKey) -> Result<Self> {
        Ok(Self::with_rng(ctx, pk, Csprng::from_os()?))
    }

    /// An encryptor drawing from `rng` (seeded: tests only).
    pub fn with_rng(ctx: Arc<CkksContext>, pk: PublicKey, rng: Csprng) -> Self {
        Self {
            ctx,
            pk,
            pk_at: None,
            rng,
            tracer: None,
        }
    }

    /// Records an `encrypt_pk` event per encryption in `tracer`.
    pub fn with_tracer(mut self, tracer: Arc<Tracer>) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// Encrypts `pt` at its level: `(v·b + e_0 + m, v·a + e_1)` with a ternary `v`.
    ///
    /// # Errors
    /// Ring or sampler errors (none for valid inputs).
    pub fn encrypt(&mut self, pt: &Plaintext) -> Result<Ciphertext> {
        let t0 = self.tracer.start_timer();
        let ctx = &self.ctx;
        let ring = ctx.ring();
        let q_count = pt.poly.q_count();
        let mut v = if ring.is_real() {
            let mut c = vec![0i64; ring.n()];
            self.rng.ternary(&mut c);
            let v = RnsPoly::from_signed(ring, q_count, 0, &c);
            zeroize::Zeroize::zeroize(&mut c);
            v?.into_eval(ring)?
        } else {
            RnsPoly::zero_eval(ring, q_count, 0)
        };
        let (b, a) = match &mut self.pk_at {
            Some((q, b, a)) if *q == q_count => (&*b, &*a),
            slot => {
                let mut b = self.pk.b.clone();
                b.truncate_q(q_count)?;
                let mut a = self.pk.a.clone();
                a.truncate_q(q_count)?;
                let (_, b, a) = slot.insert((q_count, b, a));
                (&*b, &*a)
            }
        };
        let mut c0 = KeyGenerator::gaussian_error(ctx, &mut self.rng, q_count, 0)?;
        c0.mul_add_assign(&v, b, ring)?;
        c0.add_assign(&pt.poly, ring)?;
        let mut c1 = KeyGenerator::gaussian_error(ctx, &mut self.rng, q_count, 0)?;
        c1.mul_add_assign(&v, a, ring)?;
        zeroize::Zeroize::zeroize(v.data_mut());
        let ct = Ciphertext {
            parts: vec![c0, c1],
            scale: pt.scale,
            slots: pt.slots,
            id: ctx.next_id(),
        };
        let params = ctx.params();
        self.tracer.emit_timed(t0, || {
            let level = pt.level().get() as u32;
            TraceEvent::new(OpKind::EncryptPk, params.log_n(), level)
                .with_scale_log2(pt.scale.log2())
                .with_inputs(vec![
                    ObjectRef::at_level(ObjectId(pt.id), pt.class, pt.bytes(), level),
                    ObjectRef::key(ObjectId(self.pk.id), DataClass::KeyPublic, self.pk.bytes()),
                ])
                .with_outputs(vec![ObjectRef::at_level(
                    ObjectId(ct.id),
                    DataClass::Ciphertext,
                    ct.bytes(),
                    level,
                )])
        });
        Ok(ct)
    }
}

/// Client-side decryption with the secret key.
pub struct Decryptor<'a> {
    ctx: Arc<CkksContext>,
    sk: &'a SecretKey,
}

impl std::fmt::Debug for Decryptor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decryptor { <redacted> }")
    }
}

impl<'a> Decryptor<'a> {
    /// A decryptor for `sk`.
    pub fn new(ctx: Arc<CkksContext>, sk: &'a SecretKey) -> Self {
        Self { ctx, sk }
    }

    /// `c_0 + c_1·s [+ c_2·s²]` at the ciphertext's level, in coefficient form.
    fn phase(&self, ct: &Ciphertext) -> Result<RnsPoly<Coeff>> {
        let ring = self.ctx.ring();
        let q_count = ct.parts[0].q_count();
        let mut s = self.sk.s.clone();
        s.drop_p();
        s.truncate_q(q_count)?;
        let mut m = ct.parts[0].clone();
        let mut s_pow = s.clone();
        for part in &ct.parts[1..] {
            m.mul_add_assign(part, &s_pow, ring)?;
            s_pow = s_pow.mul(&s, ring)?;
        }
        zeroize::Zeroize::zeroize(s.data_mut());
        zeroize::Zeroize::zeroize(s_pow.data_mut());
        m.into_coeff(ring)
    }

    /// Decrypts and decodes to slot values.
    ///
    /// The exact phase reveals the encryption noise, which leaks the secret key if the
    /// decrypted values are handed to someone else (Li–Micciancio, Eurocrypt 2021); use
    /// [`Decryptor::decrypt_flooded`] for results that leave the client.
    ///
    /// # Errors
    /// [`Error::SymbolicValue`] in a symbolic context.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Vec<Complex64>> {
        let coeffs = self.ctx.centered_coeffs(self.phase(ct)?)?;
        self.ctx.encoder().decode(&coeffs, ct.slots, ct.scale)
    }

    /// Real parts of [`Decryptor::decrypt`].
    ///
    /// # Errors
    /// As [`Decryptor::decrypt`].
    pub fn decrypt_real(&self, ct: &Ciphertext) -> Result<Vec<f64>> {
        Ok(self.decrypt(ct)?.into_iter().map(|z| z.re).collect())
    }

    /// Decrypts with noise flooding: adds to every coefficient a fresh Gaussian of standard
    /// deviation `flood_std` (in coefficient units, i.e. before dividing by the scale) so that
    /// the released values no longer determine the encryption noise. Choose `flood_std` about
    /// `2^s` times the noise bound for `s` bits of statistical security (40 is customary) while
    /// staying well below the scale; the precision lost is about `log2(flood_std / Δ)` bits.
    ///
    /// # Errors
    /// As [`Decryptor::decrypt`]; [`Error::InvalidSampler`] for a non-positive `flood_std`.
    pub fn decrypt_flooded(
        &self,
        ct: &Ciphertext,
        flood_std: f64,
        rng: &mut Csprng,
    ) -> Result<Vec<Complex64>> {
        if !(flood_std.is_finite() && flood_std > 0.0) {
            return Err(Error::InvalidSampler {
                param: "flood_std",
                value: flood_std.to_string(),
                expected: "a finite positive number",
            });
        }
        let mut coeffs = self.ctx.centered_coeffs(self.phase(ct)?)?;
        for c in &mut coeffs {
            *c += flood_std * standard_normal(rng);
        }
        self.ctx.encoder().decode(&coeffs, ct.slots, ct.scale)
    }
}

/// One standard normal sample (Box–Muller on two 53-bit uniforms).
fn standard_normal(rng: &mut Csprng) -> f64 {
    use rand_core::RngCore;
    let u = |r: &mut Csprng| ((r.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (u1, u2) = (u(rng), u(rng));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

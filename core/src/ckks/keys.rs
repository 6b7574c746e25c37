//! Keys: the secret key (client only), the public key, and hybrid key-switching keys
//! (relinearisation and Galois), with the server-side key store [`EvaluationKeys`].
//!
//! A key-switching key from `s'` to `s` has one pair per digit `D_j` of the chain:
//! `(b_j, a_j) = (−a_j·s + e_j + P·g_j·s', a_j)` over `Q ∪ P`, where the gadget `g_j` is `1`
//! modulo the primes of `D_j` and `0` modulo every other Q prime (so `P·g_j ≡ P mod q_i` on
//! the digit's limbs and vanishes elsewhere, including modulo `P`). Switching a polynomial
//! `c` decomposes it into its digits, extends each to `Q_ℓ ∪ P` (ModUp), takes the inner
//! product with the key and divides by `P` (ModDown); the digit noise `Σ ModUp(c_j)·e_j` is
//! divided by `P` as well, which is why `P` must exceed the largest digit product.
//!
//! # References
//! Han–Ki, "Better bootstrapping for approximate homomorphic encryption", CT-RSA 2020
//! (hybrid key switching with `dnum` digits); Bossuat et al., Eurocrypt 2021.

use super::context::CkksContext;
use super::params::Level;
use super::security::SecretDistribution;
use crate::error::Result;
use crate::math::sample::Csprng;
use crate::ring::{Eval, GaloisElement, RnsPoly};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bound of the discrete Gaussian error in standard deviations (6σ, as SEAL and Lattigo use).
const GAUSSIAN_TAIL_SIGMAS: f64 = 6.0;

/// The secret key `s`, in evaluation form over `Q ∪ P`. Client side only: no server-side type
/// holds or accepts one. Its residues are overwritten with zeros on drop and never printed.
pub struct SecretKey {
    pub(crate) s: RnsPoly<Eval>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey { <redacted> }")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.s.data_mut());
    }
}

/// The public key `(b, a) = (−a·s + e, a)` over the full chain `Q`.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub(crate) b: RnsPoly<Eval>,
    pub(crate) a: RnsPoly<Eval>,
    pub(crate) id: u64,
}

impl PublicKey {
    /// Bytes of the key at 8-byte words.
    pub fn bytes(&self) -> u64 {
        self.b.bytes() + self.a.bytes()
    }
}

/// A hybrid key-switching key: one `(b_j, a_j)` pair per digit, over `Q ∪ P`.
#[derive(Debug, Clone)]
pub struct KeySwitchKey {
    pub(crate) digits: Vec<(RnsPoly<Eval>, RnsPoly<Eval>)>,
    pub(crate) id: u64,
}

impl KeySwitchKey {
    /// Bytes of the whole key at 8-byte words.
    pub fn bytes(&self) -> u64 {
        self.digits.iter().map(|(b, a)| b.bytes() + a.bytes()).sum()
    }

    /// Number of digits.
    pub fn dnum(&self) -> usize {
        self.digits.len()
    }

    /// The deterministic object id (for the trace).
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// The server's evaluation keys: relinearisation and Galois keys, one per Galois element
/// (deduplicated: asking for rotations 1 and 1 + slots gives one key).
#[derive(Debug, Clone, Default)]
pub struct EvaluationKeys {
    pub(crate) relin: Option<Arc<KeySwitchKey>>,
    pub(crate) galois: BTreeMap<GaloisElement, Arc<KeySwitchKey>>,
}

impl EvaluationKeys {
    /// Whether a relinearisation key is present.
    pub fn has_relin(&self) -> bool {
        self.relin.is_some()
    }

    /// The Galois elements with a key.
    pub fn galois_elements(&self) -> impl Iterator<Item = GaloisElement> + '_ {
        self.galois.keys().copied()
    }

    /// Whether a key for `k` is present.
    pub fn has_galois(&self, k: GaloisElement) -> bool {
        self.galois.contains_key(&k)
    }

    /// Total key bytes (relinearisation plus every Galois key).
    pub fn bytes(&self) -> u64 {
        self.relin.as_ref().map_or(0, |k| k.bytes())
            + self.galois.values().map(|k| k.bytes()).sum::<u64>()
    }

    /// Adds (or replaces) the Galois key of `k`.
    pub fn insert_galois(&mut self, k: GaloisElement, key: KeySwitchKey) {
        self.galois.insert(k, Arc::new(key));
    }

    /// Sets the relinearisation key.
    pub fn set_relin(&mut self, key: KeySwitchKey) {
        self.relin = Some(Arc::new(key));
    }

    /// Removes the Galois key of `k` (keys no longer needed can be dropped).
    pub fn remove_galois(&mut self, k: GaloisElement) -> bool {
        self.galois.remove(&k).is_some()
    }
}

/// Client-side key generation: samples the secret key and derives every other key from it.
pub struct KeyGenerator {
    ctx: Arc<CkksContext>,
    sk: SecretKey,
    rng: Csprng,
}

impl std::fmt::Debug for KeyGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyGenerator { <redacted> }")
    }
}

impl KeyGenerator {
    /// A key generator with a secret key sampled from an OS-seeded CSPRNG.
    ///
    /// # Errors
    /// [`crate::Error::Entropy`] if the OS has no randomness; sampler errors for bad parameters.
    pub fn new(ctx: Arc<CkksContext>) -> Result<Self> {
        Self::with_rng(ctx, Csprng::from_os()?)
    }

    /// A key generator drawing from `rng` (a seeded generator makes keys reproducible: for
    /// tests and known-answer vectors only).
    ///
    /// # Errors
    /// Sampler errors for bad parameters (a Hamming weight above `N`).
    pub fn with_rng(ctx: Arc<CkksContext>, mut rng: Csprng) -> Result<Self> {
        let ring = ctx.ring();
        let (nq, np) = (ring.num_q(), ring.num_p());
        let s = if ring.is_real() {
            let mut coeffs = vec![0i64; ring.n()];
            match ctx.params().secret() {
                SecretDistribution::Ternary => rng.ternary(&mut coeffs),
                SecretDistribution::SparseTernary { hamming_weight } => {
                    rng.sparse_ternary(hamming_weight, &mut coeffs)?
                }
            }
            let s = RnsPoly::from_signed(ring, nq, np, &coeffs)?.into_eval(ring)?;
            zeroize::Zeroize::zeroize(&mut coeffs);
            s
        } else {
            RnsPoly::zero_eval(ring, nq, np)
        };
        Ok(Self {
            ctx,
            sk: SecretKey { s },
            rng,
        })
    }

    /// The secret key.
    pub fn secret_key(&self) -> &SecretKey {
        &self.sk
    }

    /// The context.
    pub fn context(&self) -> &Arc<CkksContext> {
        &self.ctx
    }

    /// A fresh Gaussian error polynomial over the given layout, in evaluation form.
    pub(crate) fn gaussian_error(
        ctx: &CkksContext,
        rng: &mut Csprng,
        q_count: usize,
        p_count: usize,
    ) -> Result<RnsPoly<Eval>> {
        let ring = ctx.ring();
        if !ring.is_real() {
            return Ok(RnsPoly::zero_eval(ring, q_count, p_count));
        }
        let sigma = ctx.params().error_std();
        let bound = (GAUSSIAN_TAIL_SIGMAS * sigma).ceil() as u32;
        let mut e = vec![0i64; ring.n()];
        rng.gaussian(sigma, bound, &mut e)?;
        RnsPoly::from_signed(ring, q_count, p_count, &e)?.into_eval(ring)
    }

    /// A uniform polynomial over the given layout, in evaluation form (the NTT is a bijection,
    /// so sampling the evaluations uniformly is sampling the polynomial uniformly).
    pub(crate) fn uniform(
        ctx: &CkksContext,
        rng: &mut Csprng,
        q_count: usize,
        p_count: usize,
    ) -> RnsPoly<Eval> {
        let ring = ctx.ring();
        let mut a = RnsPoly::zero_eval(ring, q_count, p_count);
        if ring.is_real() {
            let moduli: Vec<_> = ring.moduli(q_count, p_count).copied().collect();
            for (i, m) in moduli.iter().enumerate() {
                rng.uniform_mod(m, a.limb_mut(i));
            }
        }
        a
    }

    /// The public key `(−a·s + e, a)` over `Q`.
    ///
    /// # Errors
    /// Sampler or ring errors (none for valid parameters).
    pub fn public_key(&mut self) -> Result<PublicKey> {
        let ring = self.ctx.ring();
        let nq = ring.num_q();
        let a = Self::uniform(&self.ctx, &mut self.rng, nq, 0);
        let mut s_q = self.sk.s.clone();
        s_q.drop_p();
        let mut b = Self::gaussian_error(&self.ctx, &mut self.rng, nq, 0)?;
        let mut as_ = a.mul(&s_q, ring)?;
        zeroize::Zeroize::zeroize(s_q.data_mut());
        b.sub_assign(&as_, ring)?;
        zeroize::Zeroize::zeroize(as_.data_mut());
        Ok(PublicKey {
            b,
            a,
            id: self.ctx.next_id(),
        })
    }

    /// A key-switching key from `s_from` (over `Q ∪ P`, evaluation form) to the secret key.
    fn key_switch_key(&mut self, s_from: &RnsPoly<Eval>) -> Result<KeySwitchKey> {
        let ctx = Arc::clone(&self.ctx);
        let ring = ctx.ring();
        let (nq, np) = (ring.num_q(), ring.num_p());
        let mut digits = Vec::with_capacity(ctx.params().dnum());
        for d in ctx.params().digits() {
            let a = Self::uniform(&ctx, &mut self.rng, nq, np);
            let mut b = Self::gaussian_error(&ctx, &mut self.rng, nq, np)?;
            b.sub_assign(&a.mul(&self.sk.s, ring)?, ring)?;
            if ring.is_real() {
                for i in d {
                    let m = *ring.q(i);
                    let g = ctx.p_mod_q()[i];
                    let gs = m.shoup(g);
                    let src = s_from.limb(i).to_vec();
                    for (x, &s) in b.limb_mut(i).iter_mut().zip(&src) {
                        *x = m.add(*x, m.mul_shoup(s, g, gs));
                    }
                }
            }
            digits.push((b, a));
        }
        Ok(KeySwitchKey {
            digits,
            id: ctx.next_id(),
        })
    }

    /// The relinearisation key (switches `s²` to `s`).
    ///
    /// # Errors
    /// Sampler or ring errors (none for valid parameters).
    pub fn relin_key(&mut self) -> Result<KeySwitchKey> {
        let s2 = self.sk.s.mul(&self.sk.s, self.ctx.ring())?;
        let key = self.key_switch_key(&s2);
        drop(SecretKey { s: s2 });
        key
    }

    /// The Galois key of `k` (switches `σ_k(s)` to `s`).
    ///
    /// # Errors
    /// [`crate::Error::InvalidGaloisElement`] for a bad `k`.
    pub fn galois_key(&mut self, k: GaloisElement) -> Result<KeySwitchKey> {
        let auto = self.ctx.automorphism(k)?;
        let sk = self.sk.s.automorphism(&auto, self.ctx.ring())?;
        let key = self.key_switch_key(&sk);
        drop(SecretKey { s: sk });
        key
    }

    /// The server's key set: relinearisation, the Galois keys of `rotations` on `slots` slots
    /// (deduplicated by Galois element), and conjugation if asked.
    ///
    /// # Errors
    /// [`crate::Error::InvalidSlots`] for a bad slot count.
    pub fn evaluation_keys(
        &mut self,
        rotations: &[i64],
        slots: usize,
        conjugate: bool,
    ) -> Result<EvaluationKeys> {
        let mut keys = EvaluationKeys::default();
        keys.set_relin(self.relin_key()?);
        let mut elements: Vec<GaloisElement> = Vec::new();
        for &r in rotations {
            let k = self.ctx.galois_element_for_rotation(r, slots)?;
            if k.0 != 1 && !elements.contains(&k) {
                elements.push(k);
            }
        }
        if conjugate {
            elements.push(self.ctx.galois_element_conjugate());
        }
        for k in elements {
            let key = self.galois_key(k)?;
            keys.insert_galois(k, key);
        }
        Ok(keys)
    }

    /// The level a fresh encryption has: the top of the chain.
    pub fn top_level(&self) -> Level {
        self.ctx.max_level()
    }
}

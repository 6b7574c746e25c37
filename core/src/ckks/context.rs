//! [`CkksContext`]: everything derived from the parameters that client and server share — the
//! ring (one NTT plan per prime of `Q ∪ P`), the encoder, and the base-conversion plans of
//! hybrid key switching. It holds no key material.

use super::encoding::Encoder;
use super::params::{Level, Params};
use crate::error::{Error, Result};
use crate::math::ntt::Isa;
use crate::math::rns::{BaseConverter, RnsBasis};
use crate::ring::{Automorphism, Backend, GaloisElement, RingContext};
use crate::trace::IdAllocator;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The base conversion that extends one key-switching digit at one level.
#[derive(Debug)]
pub(crate) struct ModUpPlan {
    /// Q indices of the digit (restricted to the level).
    pub(crate) digit: std::ops::Range<usize>,
    /// Digit primes → (the level's other Q primes, then all P primes).
    pub(crate) conv: BaseConverter,
}

/// Per-level key-switching plans.
#[derive(Debug)]
pub(crate) struct LevelPlans {
    /// One ModUp plan per digit in use at this level.
    pub(crate) modup: Vec<ModUpPlan>,
    /// P → Q_ℓ conversion of ModDown.
    pub(crate) moddown: BaseConverter,
    /// `P^{-1} mod q_i` and its Shoup quotient, for `i ≤ ℓ`.
    pub(crate) p_inv: Vec<(u64, u64)>,
}

/// Shared, secret-free CKKS state for one parameter set.
#[derive(Debug)]
pub struct CkksContext {
    params: Arc<Params>,
    ring: RingContext,
    encoder: Encoder,
    levels: Vec<LevelPlans>,
    /// `P mod q_i` for every chain prime (the key-switching gadget).
    p_mod_q: Vec<u64>,
    autos: Mutex<BTreeMap<GaloisElement, Arc<Automorphism>>>,
    ids: IdAllocator,
}

impl CkksContext {
    /// Builds the context; `backend` selects real arithmetic or shapes only.
    ///
    /// # Errors
    /// Ring, encoder and RNS set-up errors (none for parameters that passed [`Params::new`]).
    pub fn new(params: Arc<Params>, backend: Backend) -> Result<Arc<Self>> {
        let isa = Isa::from_env()?.unwrap_or(Isa::Avx512Ifma);
        Self::new_with_isa(params, backend, isa)
    }

    /// As [`CkksContext::new`], with every kernel (NTT, element-wise, base conversion) capped
    /// at `isa` instead of by `HELRM_ISA`; every choice gives the same results bit for bit.
    ///
    /// # Errors
    /// As [`CkksContext::new`].
    pub fn new_with_isa(params: Arc<Params>, backend: Backend, isa: Isa) -> Result<Arc<Self>> {
        let ring = RingContext::new_with_isa(params.n(), params.q(), params.p(), backend, isa)?;
        let encoder = Encoder::new(params.log_n())?;
        let q_basis = RnsBasis::new(params.q())?;
        let p_basis = RnsBasis::new(params.p())?;
        let mut levels = Vec::with_capacity(params.q().len());
        for level in 0..params.q().len() {
            let mut modup = Vec::new();
            for d in params.digits() {
                if d.start > level {
                    break;
                }
                let digit = d.start..d.end.min(level + 1);
                let from = q_basis.sub_basis(digit.start, digit.end)?;
                let mut to: Vec<u64> = (0..=level)
                    .filter(|i| !digit.contains(i))
                    .map(|i| params.q()[i])
                    .collect();
                to.extend_from_slice(params.p());
                let to = RnsBasis::new(&to)?;
                modup.push(ModUpPlan {
                    digit,
                    conv: BaseConverter::new_with_isa(&from, &to, isa),
                });
            }
            let ql = q_basis.prefix(level + 1)?;
            let moddown = BaseConverter::new_with_isa(&p_basis, &ql, isa);
            let mut p_inv = Vec::with_capacity(level + 1);
            for i in 0..=level {
                let m = ring.q(i);
                let p_mod = p_basis.product().rem_u64(m.value()).unwrap_or(0);
                let inv = m.inv(p_mod).ok_or(Error::InvalidModulus {
                    q: m.value(),
                    reason: "divides the special modulus P",
                })?;
                p_inv.push((inv, m.shoup(inv)));
            }
            levels.push(LevelPlans {
                modup,
                moddown,
                p_inv,
            });
        }
        let p_mod_q = (0..params.q().len())
            .map(|i| p_basis.product().rem_u64(params.q()[i]).unwrap_or(0))
            .collect();
        Ok(Arc::new(Self {
            params,
            ring,
            encoder,
            levels,
            p_mod_q,
            autos: Mutex::new(BTreeMap::new()),
            ids: IdAllocator::default(),
        }))
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Params> {
        &self.params
    }

    /// The ring context over `Q ∪ P`.
    pub fn ring(&self) -> &RingContext {
        &self.ring
    }

    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The backend (real or symbolic).
    pub fn backend(&self) -> Backend {
        self.ring.backend()
    }

    /// The top level `L`.
    pub fn max_level(&self) -> Level {
        self.params.max_level()
    }

    pub(crate) fn level_plans(&self, level: Level) -> Result<&LevelPlans> {
        self.levels.get(level.get()).ok_or(Error::LevelOutOfRange {
            level: level.get(),
            max_level: self.levels.len() - 1,
        })
    }

    pub(crate) fn p_mod_q(&self) -> &[u64] {
        &self.p_mod_q
    }

    /// The next object id (program order), for trace events and fresh ciphertexts.
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.allocate().0
    }

    /// The Galois element that rotates `slots` slots left by `rotation` (negative: right).
    ///
    /// # Errors
    /// [`Error::InvalidSlots`] unless `slots` is a power of two no larger than `N/2`.
    pub fn galois_element_for_rotation(
        &self,
        rotation: i64,
        slots: usize,
    ) -> Result<GaloisElement> {
        let max = self.params.slots();
        if slots == 0 || !slots.is_power_of_two() || slots > max {
            return Err(Error::InvalidSlots {
                slots,
                max_slots: max,
            });
        }
        let two_n = 2 * self.params.n() as u64;
        let r = rotation.rem_euclid(slots as i64) as u64;
        let m = crate::math::modarith::Modulus::new(two_n)?;
        Ok(GaloisElement(m.pow(5, r)))
    }

    /// The Galois element of complex conjugation, `2N − 1`.
    pub fn galois_element_conjugate(&self) -> GaloisElement {
        GaloisElement(2 * self.params.n() as u64 - 1)
    }

    /// The (cached) automorphism of a Galois element.
    ///
    /// # Errors
    /// [`Error::InvalidGaloisElement`] for an even element or one above `2N`.
    pub fn automorphism(&self, k: GaloisElement) -> Result<Arc<Automorphism>> {
        let mut cache = self.autos.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(a) = cache.get(&k) {
            return Ok(Arc::clone(a));
        }
        let a = Arc::new(Automorphism::new(self.params.n(), k)?);
        cache.insert(k, Arc::clone(&a));
        Ok(a)
    }
}

//! RNS polynomials over `Z_Q[X]/(X^N + 1)` and the backend seam (real or symbolic).
//!
//! A [`RingContext`] owns one NTT plan per prime of the chain `Q = q_0 … q_L` followed by the
//! special primes `P = p_0 … p_{k−1}`. An [`RnsPoly`] holds the residues of one polynomial
//! modulo the first `q_count` Q-primes and the first `p_count` P-primes, limb-major (one
//! contiguous run of `N` words per prime), in coefficient form ([`Coeff`]) or evaluation
//! (NTT) form ([`Eval`]) — the form is part of the type, so a product of coefficient-form
//! polynomials does not compile.
//!
//! The [`Backend`] decides whether arithmetic happens: with [`Backend::Symbolic`] every
//! polynomial carries its shape only (no residues are stored and every operation is a no-op on
//! data), so the layers above run the same code path and emit the same trace at full size
//! without doing the work.
//!
//! # Example
//! ```
//! use helrm_core::ring::{Backend, RingContext, RnsPoly};
//! use helrm_core::math::prime::generate_primes;
//! let n = 1 << 10;
//! let q = generate_primes(n, &[40, 40])?;
//! let ctx = RingContext::new(n, &q, &[], Backend::Real)?;
//! let mut a = RnsPoly::zero_coeff(&ctx, 2, 0);
//! a.limb_mut(0)[1] = 1; // X
//! a.limb_mut(1)[1] = 1;
//! let a = a.into_eval(&ctx)?;
//! let sq = a.mul(&a, &ctx)?.into_coeff(&ctx)?; // X^2
//! assert_eq!(sq.limb(0)[2], 1);
//! # Ok::<(), helrm_core::Error>(())
//! ```

mod automorphism;
mod poly;
pub mod pool;

pub use automorphism::{Automorphism, GaloisElement};
pub use poly::{Coeff, Eval, Form, RnsPoly};

use crate::error::{Error, Result};
use crate::math::modarith::Modulus;
use crate::math::ntt::{Isa, NttPlan};
use crate::math::vecops::VecOps;

/// Smallest ring degree the ring layer supports.
pub const MIN_RING_DEGREE: usize = 1 << 10;
/// Largest ring degree the ring layer supports.
pub const MAX_RING_DEGREE: usize = 1 << 17;

/// Whether polynomials carry residues (real runs) or shapes only (symbolic runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Real arithmetic on residues.
    Real,
    /// Shapes only: no residues are stored, no arithmetic is done.
    Symbolic,
}

/// Ring degree, the RNS chain `Q ∪ P`, and one NTT plan per prime.
#[derive(Debug)]
pub struct RingContext {
    n: usize,
    num_q: usize,
    moduli: Vec<Modulus>,
    plans: Vec<NttPlan>,
    /// Element-wise kernels, one per prime (same order as `moduli`).
    vec_ops: Vec<VecOps>,
    /// The instruction-set cap every kernel was chosen under.
    isa: Isa,
    backend: Backend,
}

impl RingContext {
    /// Builds the context for degree `n`, chain primes `q` and special primes `p`.
    ///
    /// In symbolic mode no NTT plans are built (building them is most of the set-up cost), but
    /// the primes are still validated.
    ///
    /// # Errors
    /// [`Error::InvalidRingDegree`] outside `2^10 … 2^17`, [`Error::InvalidBasis`] for an empty
    /// chain or a repeated prime, and the NTT plan's errors for a prime that is not
    /// NTT-friendly for `n`; [`Error::UnknownIsa`] for a bad `HELRM_ISA`.
    pub fn new(n: usize, q: &[u64], p: &[u64], backend: Backend) -> Result<Self> {
        let isa = Isa::from_env()?.unwrap_or(Isa::Avx512Ifma);
        Self::new_with_isa(n, q, p, backend, isa)
    }

    /// As [`RingContext::new`], with every kernel (NTT and element-wise) capped at `isa`
    /// instead of by `HELRM_ISA`. Every choice gives the same residues.
    ///
    /// # Errors
    /// As [`RingContext::new`], except for the environment variable.
    pub fn new_with_isa(
        n: usize,
        q: &[u64],
        p: &[u64],
        backend: Backend,
        isa: Isa,
    ) -> Result<Self> {
        if !n.is_power_of_two() || !(MIN_RING_DEGREE..=MAX_RING_DEGREE).contains(&n) {
            return Err(Error::InvalidRingDegree {
                n,
                min: MIN_RING_DEGREE,
                max: MAX_RING_DEGREE,
            });
        }
        if q.is_empty() {
            return Err(Error::InvalidBasis {
                reason: "the Q chain is empty".into(),
            });
        }
        let all: Vec<u64> = q.iter().chain(p).copied().collect();
        for (i, a) in all.iter().enumerate() {
            if all[..i].contains(a) {
                return Err(Error::InvalidBasis {
                    reason: format!("prime {a} appears twice"),
                });
            }
        }
        let moduli = all
            .iter()
            .map(|&x| Modulus::new(x))
            .collect::<Result<Vec<_>>>()?;
        let plans = match backend {
            Backend::Real => all
                .iter()
                .map(|&x| NttPlan::try_new_with_isa(n, x, isa))
                .collect::<Result<Vec<_>>>()?,
            Backend::Symbolic => {
                for &x in &all {
                    let two_n = 2 * n as u64;
                    if x % two_n != 1 {
                        return Err(Error::NotNttFriendly {
                            q: x,
                            n,
                            residue: x % two_n,
                        });
                    }
                }
                Vec::new()
            }
        };
        let vec_ops = all
            .iter()
            .map(|&x| VecOps::try_new_with_isa(x, isa))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            n,
            num_q: q.len(),
            moduli,
            plans,
            vec_ops,
            isa,
            backend,
        })
    }

    /// The instruction-set cap the kernels were chosen under.
    #[inline]
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Element-wise kernels of a limb layout, in the order of [`RingContext::moduli`].
    pub(crate) fn vec_ops(&self, q_count: usize, p_count: usize) -> Vec<&VecOps> {
        self.vec_ops[..q_count]
            .iter()
            .chain(&self.vec_ops[self.num_q..self.num_q + p_count])
            .collect()
    }

    /// Ring degree `N`.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of chain primes `|Q|` (the top level has this many limbs).
    #[inline]
    pub fn num_q(&self) -> usize {
        self.num_q
    }

    /// Number of special primes `|P|`.
    #[inline]
    pub fn num_p(&self) -> usize {
        self.moduli.len() - self.num_q
    }

    /// The backend (real or symbolic).
    #[inline]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether this context does real arithmetic.
    #[inline]
    pub fn is_real(&self) -> bool {
        self.backend == Backend::Real
    }

    /// The `i`-th chain prime `q_i`.
    #[inline]
    pub fn q(&self, i: usize) -> &Modulus {
        &self.moduli[i]
    }

    /// The `j`-th special prime `p_j`.
    #[inline]
    pub fn p(&self, j: usize) -> &Modulus {
        &self.moduli[self.num_q + j]
    }

    /// The moduli of a limb layout: `q_0 … q_{q_count−1}, p_0 … p_{p_count−1}`.
    pub fn moduli(&self, q_count: usize, p_count: usize) -> impl Iterator<Item = &Modulus> + '_ {
        self.moduli[..q_count]
            .iter()
            .chain(&self.moduli[self.num_q..self.num_q + p_count])
    }

    /// NTT plans of a limb layout, in the same order as [`RingContext::moduli`] (empty in
    /// symbolic mode).
    pub(crate) fn plans(&self, q_count: usize, p_count: usize) -> Vec<&NttPlan> {
        if self.plans.is_empty() {
            return Vec::new();
        }
        self.plans[..q_count]
            .iter()
            .chain(&self.plans[self.num_q..self.num_q + p_count])
            .collect()
    }

    /// Checks that a layout fits this context.
    pub(crate) fn check_layout(&self, q_count: usize, p_count: usize) -> Result<()> {
        if q_count == 0 || q_count > self.num_q || p_count > self.num_p() {
            return Err(Error::LimbLayout {
                q_count,
                p_count,
                max_q: self.num_q,
                max_p: self.num_p(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

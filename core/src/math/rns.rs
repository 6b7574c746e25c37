//! Residue number system: bases of word-size primes, CRT reconstruction, fast base conversion
//! (the ModUp / ModDown building blocks of hybrid key switching) and exact division by a
//! dropped prime (the rescale building block).
//!
//! Data are polynomials stored limb-major: one `&[u64]` of length `n` per prime, residues in
//! `[0, q_i)`. Everything that touches whole polynomials takes slices of limbs (`&[I]` with
//! `I: AsRef<[u64]>`, so `&[&[u64]]`, `&[Vec<u64>]` and friends all work) and borrows a plan
//! whose tables (CRT constants with their Shoup quotients) were computed once.
//!
//! # Which conversion CKKS uses where
//!
//! Let `x ∈ [0, Q)` be the integer with residues `x_i` in a basis `{q_i}` of `L` primes.
//!
//! - **ModUp** (extend a key-switching digit to the other primes of `Q_ℓ ∪ P`):
//!   [`BaseConverter::convert`] (approximate). It yields `x + u·Q_digit` with `0 ≤ u < L`; the
//!   extra multiple of `Q_digit` is annihilated by the gadget factor of the key (it becomes a
//!   multiple of `Q·P`), so exactness buys nothing there.
//! - **ModDown** (divide by `P` and return to `Q_ℓ`): [`ModDownPlan::apply`] with
//!   [`Conversion::Exact`], which returns `round(x / P)` exactly; the extra cost is one `f64`
//!   multiply-add per input residue. [`Conversion::Approximate`] returns
//!   `⌊x / P⌋ − u` with `0 ≤ u < |P|` (an additive error below the number of special primes),
//!   also acceptable for CKKS since key-switching noise is far larger.
//! - **Rescale**: [`RnsBasis::rescale_by_last`], exact rounding division by the last prime.
//! - **ModRaise** (bootstrapping) and **decoding**: the centred lift, i.e. [`Conversion::Exact`]
//!   from a one-prime basis, and [`RnsBasis::reconstruct_centered_f64_poly`].
//!
//! # References
//! J.-C. Bajard, J. Eynard, A. Hasan, V. Zucca, "A full RNS variant of FV like somewhat
//! homomorphic encryption schemes", SAC 2016 (fast base conversion); S. Halevi, Y. Polyakov,
//! V. Shoup, "An improved RNS variant of the BFV homomorphic encryption scheme", CT-RSA 2019,
//! eprint 2018/117 (floating-point estimate of the overflow `u`); K. Han, D. Ki, "Better
//! bootstrapping for approximate homomorphic encryption", CT-RSA 2020, eprint 2019/688
//! (hybrid key switching, ModUp/ModDown).

use super::bigint::BigUint;
use super::bigint::{add_limbs_in_place, cmp_limbs, limbs_to_f64, mac_limbs, sub_limbs_in_place};
use super::modarith::Modulus;
use super::prime::is_prime;
use super::simd::{self, ConvTarget, Isa, Kernel, CONV_MAX_TERMS};
use crate::error::{Error, Result};
use std::cmp::Ordering;

/// Largest number of primes in one basis (far beyond any CKKS chain; it bounds the stack
/// scratch of the conversion kernels).
pub const MAX_BASIS_LEN: usize = 1024;

/// Coefficients processed together by the conversion kernels (per-block tables stay in L1).
const BLOCK: usize = 64;
/// Stack scratch for one block of `[x_i · (Q/q_i)^{-1}]_{q_i}` values (16 KiB).
const SCRATCH: usize = 2048;
/// Stack scratch of the SIMD conversion (32 KiB): one row of `y` per source prime.
const SIMD_SCRATCH: usize = 4096;
/// Most coefficients per block of the SIMD conversion.
const SIMD_BLOCK: usize = 512;

/// How a base conversion treats the overflow multiple of the source modulus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conversion {
    /// Fast base conversion: the result is `x + u·Q` for some `0 ≤ u < L` (`L` source primes).
    Approximate,
    /// Exact conversion of the centred representative `x_c ∈ (−Q/2, Q/2]` of `x mod Q`.
    Exact,
}

/// Constants for dividing by the last prime `q_last` of a basis, for one remaining prime `q_i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropLastConstants {
    /// `q_last^{-1} mod q_i`.
    pub inv: u64,
    /// Shoup quotient of `inv` modulo `q_i`.
    pub inv_shoup: u64,
    /// `⌊q_last / 2⌋ mod q_i` (the rounding offset).
    pub half: u64,
}

/// An ordered list of distinct primes `q_0, …, q_{L−1}` with its CRT tables.
///
/// # Example
/// ```
/// use helrm_core::math::rns::RnsBasis;
/// use helrm_core::math::prime::generate_primes;
/// let basis = RnsBasis::new(&generate_primes(1 << 10, &[40, 40, 50])?)?;
/// let residues = basis.decompose_i128(-123_456_789_012_345_678_901_234);
/// assert_eq!(basis.reconstruct_centered_f64(&residues)?, -123_456_789_012_345_678_901_234.0);
/// # Ok::<(), helrm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RnsBasis {
    moduli: Vec<Modulus>,
    /// Q = ∏ q_i.
    product: BigUint,
    /// ⌊Q / 2⌋.
    half_product: BigUint,
    /// Q / q_i.
    qhat: Vec<BigUint>,
    /// (Q / q_i)^{-1} mod q_i.
    qhat_inv: Vec<u64>,
    /// Shoup quotients of `qhat_inv`.
    qhat_inv_shoup: Vec<u64>,
    /// 1 / q_i as f64.
    inv_q_f64: Vec<f64>,
    /// Constants for dividing by the last prime (empty for a one-prime basis).
    drop_last: Vec<DropLastConstants>,
    /// Bound on the absolute error of Σ y_i / q_i computed in f64 (see [`float_margin`]).
    eps: f64,
    /// Limbs of Q, plus one (scratch width for Σ y_i·Q/q_i < L·Q).
    acc_width: usize,
}

/// Error bound on `v = Σ_{i<L} y_i · fl(1/q_i)` evaluated in `f64` with `y_i < q_i < 2^62`:
/// each term is in `[0, 1)` with relative error at most `3·2^-53` (rounding of `y_i`, of
/// `1/q_i` and of the product), and each of the `L` additions of partial sums below `L` adds
/// at most `L·2^-53`, so the total is below `L·(L + 3)·2^-53`. We use twice that, rounded up.
fn float_margin(l: usize) -> f64 {
    let l = l as f64 + 4.0;
    l * l * f64::EPSILON // 2^-52
}

impl RnsBasis {
    /// Builds a basis from primes (in the given order).
    ///
    /// # Errors
    /// [`Error::BasisSize`] for no primes or more than [`MAX_BASIS_LEN`];
    /// [`Error::InvalidModulus`] for a value that is not a prime below 2^62;
    /// [`Error::DuplicatePrime`] if a prime repeats.
    pub fn new(primes: &[u64]) -> Result<Self> {
        let moduli = primes
            .iter()
            .map(|&q| Modulus::new(q))
            .collect::<Result<Vec<_>>>()?;
        Self::from_moduli(&moduli)
    }

    /// Builds a basis from moduli (in the given order). Errors as [`RnsBasis::new`].
    ///
    /// # Errors
    /// As [`RnsBasis::new`].
    pub fn from_moduli(moduli: &[Modulus]) -> Result<Self> {
        if moduli.is_empty() || moduli.len() > MAX_BASIS_LEN {
            return Err(Error::BasisSize {
                what: "RNS basis",
                len: moduli.len(),
                min: 1,
                max: MAX_BASIS_LEN,
            });
        }
        for (i, m) in moduli.iter().enumerate() {
            if !is_prime(m.value()) {
                return Err(Error::InvalidModulus {
                    q: m.value(),
                    reason: "not prime",
                });
            }
            if let Some(first) = moduli[..i].iter().position(|o| o.value() == m.value()) {
                return Err(Error::DuplicatePrime {
                    q: m.value(),
                    first,
                    second: i,
                });
            }
        }
        let l = moduli.len();
        let mut product = BigUint::one();
        for m in moduli {
            product.mul_add_u64_assign(m.value(), 0);
        }
        let half_product = product
            .divmod_u64(2)
            .map(|(h, _)| h)
            .unwrap_or_else(BigUint::zero);
        let mut qhat = Vec::with_capacity(l);
        let mut qhat_inv = Vec::with_capacity(l);
        let mut qhat_inv_shoup = Vec::with_capacity(l);
        for (i, m) in moduli.iter().enumerate() {
            let mut h = BigUint::one();
            for (k, o) in moduli.iter().enumerate() {
                if k != i {
                    h.mul_add_u64_assign(o.value(), 0);
                }
            }
            // Distinct primes are coprime, so Q/q_i is invertible modulo q_i.
            let h_mod = h.rem_u64(m.value()).unwrap_or(0);
            let inv = m.inv(h_mod).ok_or(Error::InvalidModulus {
                q: m.value(),
                reason: "not coprime to the rest of the basis",
            })?;
            qhat.push(h);
            qhat_inv.push(inv);
            qhat_inv_shoup.push(m.shoup(inv));
        }
        let last = moduli[l - 1].value();
        let mut drop_last = Vec::with_capacity(l - 1);
        for m in &moduli[..l - 1] {
            let inv = m.inv(last).ok_or(Error::InvalidModulus {
                q: m.value(),
                reason: "not coprime to the last prime of the basis",
            })?;
            drop_last.push(DropLastConstants {
                inv,
                inv_shoup: m.shoup(inv),
                half: m.reduce(last / 2),
            });
        }
        let acc_width = product.limbs().len() + 1;
        Ok(Self {
            moduli: moduli.to_vec(),
            product,
            half_product,
            qhat,
            qhat_inv,
            qhat_inv_shoup,
            inv_q_f64: moduli.iter().map(|m| 1.0 / m.value() as f64).collect(),
            drop_last,
            eps: float_margin(l),
            acc_width,
        })
    }

    /// Number of primes `L`.
    pub fn len(&self) -> usize {
        self.moduli.len()
    }

    /// Always `false`: a basis has at least one prime.
    pub fn is_empty(&self) -> bool {
        self.moduli.is_empty()
    }

    /// The primes as moduli.
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The primes as integers.
    pub fn primes(&self) -> Vec<u64> {
        self.moduli.iter().map(Modulus::value).collect()
    }

    /// `Q = ∏ q_i`.
    pub fn product(&self) -> &BigUint {
        &self.product
    }

    /// `Q / q_i` (`None` if `i ≥ L`).
    pub fn qhat(&self, i: usize) -> Option<&BigUint> {
        self.qhat.get(i)
    }

    /// `(Q / q_i)^{-1} mod q_i` and its Shoup quotient (`None` if `i ≥ L`).
    pub fn qhat_inv(&self, i: usize) -> Option<(u64, u64)> {
        Some((*self.qhat_inv.get(i)?, *self.qhat_inv_shoup.get(i)?))
    }

    /// Per remaining prime `q_0 … q_{L−2}`, the constants of a division by `q_{L−1}` (for a
    /// rescale done partly in evaluation form by the caller). Empty for a one-prime basis.
    pub fn drop_last_constants(&self) -> &[DropLastConstants] {
        &self.drop_last
    }

    /// The first `count` primes as a basis (the CKKS chain at level `count − 1`).
    ///
    /// # Errors
    /// [`Error::BasisRange`] unless `1 ≤ count ≤ L`.
    pub fn prefix(&self, count: usize) -> Result<Self> {
        self.sub_basis(0, count)
    }

    /// Primes `start..end` as a basis (for example the primes of one key-switching digit).
    ///
    /// # Errors
    /// [`Error::BasisRange`] unless `start < end ≤ L`.
    pub fn sub_basis(&self, start: usize, end: usize) -> Result<Self> {
        if start >= end || end > self.len() {
            return Err(Error::BasisRange {
                start,
                end,
                len: self.len(),
            });
        }
        Self::from_moduli(&self.moduli[start..end])
    }

    /// The primes of `self` followed by those of `other` (for example `Q_ℓ ∪ P`).
    ///
    /// # Errors
    /// [`Error::DuplicatePrime`] if the bases share a prime, [`Error::BasisSize`] if the union
    /// is longer than [`MAX_BASIS_LEN`].
    pub fn concat(&self, other: &Self) -> Result<Self> {
        let mut all = self.moduli.clone();
        all.extend_from_slice(&other.moduli);
        Self::from_moduli(&all)
    }

    /// The residues of `x` (any size; reduced modulo each prime).
    pub fn decompose(&self, x: &BigUint) -> Vec<u64> {
        self.moduli
            .iter()
            .map(|m| x.rem_u64(m.value()).unwrap_or(0))
            .collect()
    }

    /// The residues of a signed value `±magnitude`.
    pub fn decompose_signed(&self, negative: bool, magnitude: &BigUint) -> Vec<u64> {
        self.moduli
            .iter()
            .map(|m| {
                let r = magnitude.rem_u64(m.value()).unwrap_or(0);
                if negative {
                    m.neg(r)
                } else {
                    r
                }
            })
            .collect()
    }

    /// The residues of a signed 128-bit integer.
    pub fn decompose_i128(&self, x: i128) -> Vec<u64> {
        self.moduli
            .iter()
            .map(|m| x.rem_euclid(i128::from(m.value())) as u64)
            .collect()
    }

    /// CRT reconstruction: the unique `x ∈ [0, Q)` with `x ≡ residues[i] (mod q_i)`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one residue per prime.
    pub fn reconstruct(&self, residues: &[u64]) -> Result<BigUint> {
        self.check_residues(residues)?;
        let mut acc = vec![0u64; self.acc_width];
        self.reconstruct_into(|i| residues[i], &mut acc);
        Ok(BigUint::from_limbs(acc))
    }

    /// The centred representative of the residues, as `(negative, magnitude)` with the value
    /// in `(−Q/2, Q/2]`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one residue per prime.
    pub fn reconstruct_centered(&self, residues: &[u64]) -> Result<(bool, BigUint)> {
        let x = self.reconstruct(residues)?;
        if x > self.half_product {
            let mag = self.product.checked_sub(&x).unwrap_or_else(BigUint::zero);
            Ok((true, mag))
        } else {
            Ok((false, x))
        }
    }

    /// The centred representative in `(−Q/2, Q/2]` as the nearest `f64` (correctly rounded:
    /// the exact big integer is formed first, so any `Q` up to [`MAX_BASIS_LEN`] primes works;
    /// magnitudes of `2^1024` and above give `±∞`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one residue per prime.
    pub fn reconstruct_centered_f64(&self, residues: &[u64]) -> Result<f64> {
        self.check_residues(residues)?;
        let mut acc = vec![0u64; self.acc_width];
        let mut tmp = vec![0u64; self.acc_width];
        Ok(self.centered_f64(|i| residues[i], &mut acc, &mut tmp))
    }

    /// [`RnsBasis::reconstruct_centered_f64`] for every coefficient of a polynomial given as
    /// limbs (`limbs[i][k]` is coefficient `k` modulo `q_i`); the decoding step of CKKS.
    /// Allocates two scratch words of `Q`'s size once per call.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one limb per prime and every limb has
    /// `out.len()` coefficients.
    pub fn reconstruct_centered_f64_poly<I: AsRef<[u64]>>(
        &self,
        limbs: &[I],
        out: &mut [f64],
    ) -> Result<()> {
        check_limbs("input limbs", limbs, self.len(), out.len())?;
        let mut acc = vec![0u64; self.acc_width];
        let mut tmp = vec![0u64; self.acc_width];
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.centered_f64(|i| limbs[i].as_ref()[k], &mut acc, &mut tmp);
        }
        Ok(())
    }

    /// Rescale building block: replaces `limbs[0..L−1]` by the residues of `round(x / q_{L−1})`
    /// modulo `q_0 … q_{L−2}` (exact rounding: `⌊(x + ⌊q_{L−1}/2⌋) / q_{L−1}⌋`, as Lattigo and
    /// SEAL compute it). `limbs[L−1]` is left as it was; the caller drops it. Works in
    /// coefficient form on residues in `[0, q_i)`. Because rounding commutes with adding
    /// multiples of `Q`, the result is also `round(x_c / q_{L−1})` for the centred `x_c`.
    ///
    /// Computes `out_i = (x_i + [h]_{q_i} − [[x_{L−1} + h]_{q_{L−1}}]_{q_i}) · q_{L−1}^{-1}` with
    /// `h = ⌊q_{L−1}/2⌋`, one Shoup multiplication per residue.
    ///
    /// # Errors
    /// [`Error::BasisSize`] for a one-prime basis; [`Error::LengthMismatch`] unless there is
    /// one limb per prime, all of one length.
    pub fn rescale_by_last<O: AsMut<[u64]>>(&self, limbs: &mut [O]) -> Result<()> {
        let l = self.len();
        if l < 2 {
            return Err(Error::BasisSize {
                what: "rescale basis",
                len: l,
                min: 2,
                max: MAX_BASIS_LEN,
            });
        }
        if limbs.len() != l {
            return Err(Error::LengthMismatch {
                what: "rescale limbs",
                expected: l,
                got: limbs.len(),
            });
        }
        let n = limbs[0].as_mut().len();
        for limb in limbs.iter_mut() {
            let got = limb.as_mut().len();
            if got != n {
                return Err(Error::LengthMismatch {
                    what: "rescale limb length",
                    expected: n,
                    got,
                });
            }
        }
        let (last, rest) = match limbs.split_last_mut() {
            Some((last, rest)) => (last.as_mut(), rest),
            None => return Ok(()),
        };
        let ql = self.moduli[l - 1];
        let h = ql.value() / 2;
        for ((limb, qi), c) in rest.iter_mut().zip(&self.moduli).zip(&self.drop_last) {
            let (limb, qv) = (limb.as_mut(), qi.value());
            let qlv = ql.value();
            if qlv <= qv {
                // [x_last + h]_{q_last} < q_last ≤ q_i needs no reduction.
                for (x, &t) in limb.iter_mut().zip(last.iter()) {
                    let t = csub(t + h, qlv);
                    *x = csub(
                        qi.mul_shoup_lazy(*x + c.half + (qv - t), c.inv, c.inv_shoup),
                        qv,
                    );
                }
            } else {
                // t < q_last < 2^62: reduce modulo q_i as a Shoup product by 1.
                let one_shoup = qi.shoup(1);
                for (x, &t) in limb.iter_mut().zip(last.iter()) {
                    let t = csub(qi.mul_shoup_lazy(csub(t + h, qlv), 1, one_shoup), qv);
                    *x = csub(
                        qi.mul_shoup_lazy(*x + c.half + (qv - t), c.inv, c.inv_shoup),
                        qv,
                    );
                }
            }
        }
        Ok(())
    }

    fn check_residues(&self, residues: &[u64]) -> Result<()> {
        if residues.len() != self.len() {
            return Err(Error::LengthMismatch {
                what: "residues",
                expected: self.len(),
                got: residues.len(),
            });
        }
        Ok(())
    }

    /// Leaves `x ∈ [0, Q)` in `acc` (`acc.len() == acc_width`), given each residue.
    fn reconstruct_into(&self, residue: impl Fn(usize) -> u64, acc: &mut [u64]) {
        acc.fill(0);
        let mut v = 0.0f64;
        for (i, m) in self.moduli.iter().enumerate() {
            let y = m.mul_shoup(residue(i), self.qhat_inv[i], self.qhat_inv_shoup[i]);
            v += y as f64 * self.inv_q_f64[i];
            add_scaled(acc, self.qhat[i].limbs(), y);
        }
        // acc = Σ y_i·Q/q_i = x + u·Q with u = ⌊Σ y_i/q_i⌋ ≤ L − 1. Subtract a certain
        // under-estimate of u·Q, then correct upwards (at most a couple of steps).
        let u = (v - self.eps).floor().max(0.0) as u64;
        sub_scaled(acc, self.product.limbs(), u);
        while cmp_limbs(acc, self.product.limbs()) != Ordering::Less {
            sub_limbs_in_place(acc, self.product.limbs());
        }
    }

    /// The centred value of the residues as f64; `acc`, `tmp` are scratch of `acc_width`.
    fn centered_f64(
        &self,
        residue: impl Fn(usize) -> u64,
        acc: &mut [u64],
        tmp: &mut [u64],
    ) -> f64 {
        self.reconstruct_into(residue, acc);
        if cmp_limbs(acc, self.half_product.limbs()) == Ordering::Greater {
            tmp.fill(0);
            tmp[..self.product.limbs().len()].copy_from_slice(self.product.limbs());
            sub_limbs_in_place(tmp, acc);
            -limbs_to_f64(tmp)
        } else {
            limbs_to_f64(acc)
        }
    }

    /// The exact overflow `u ∈ [0, L]` with `Σ y_i·Q/q_i − u·Q ∈ (−Q/2, Q/2]`, given the
    /// already computed `y_i = [x_i·(Q/q_i)^{-1}]_{q_i}` (slow path of the exact conversion).
    #[cold]
    fn exact_centered_overflow(&self, y: impl Fn(usize) -> u64) -> usize {
        let mut acc = vec![0u64; self.acc_width];
        for (i, h) in self.qhat.iter().enumerate() {
            add_scaled(&mut acc, h.limbs(), y(i));
        }
        let mut u = 0usize;
        while cmp_limbs(&acc, self.product.limbs()) != Ordering::Less {
            sub_limbs_in_place(&mut acc, self.product.limbs());
            u += 1;
        }
        if cmp_limbs(&acc, self.half_product.limbs()) == Ordering::Greater {
            u += 1;
        }
        u
    }
}

/// Reduction of a 128-bit accumulator modulo a prime `p < 2^62` with two Shoup products:
/// `hi·2^64 + lo ≡ [hi·(2^64 mod p)] + [lo]`, each lazily in `[0, 2p)`, then two branch-free
/// conditional subtractions of the sum `< 4p < 2^64`. Cheaper than a general 128-bit Barrett
/// reduction in the conversion's inner loop.
#[derive(Debug, Clone, Copy)]
struct AccReducer {
    p: Modulus,
    r64: u64,
    r64_shoup: u64,
    one_shoup: u64,
}

impl AccReducer {
    fn new(p: &Modulus) -> Self {
        let r64 = p.reduce_u128(1u128 << 64);
        Self {
            p: *p,
            r64,
            r64_shoup: p.shoup(r64),
            one_shoup: p.shoup(1),
        }
    }

    #[inline(always)]
    fn reduce(&self, acc: u128) -> u64 {
        let (hi, lo) = ((acc >> 64) as u64, acc as u64);
        let q = self.p.value();
        let a = self.p.mul_shoup_lazy(hi, self.r64, self.r64_shoup);
        let b = self.p.mul_shoup_lazy(lo, 1, self.one_shoup);
        csub(csub(a + b, 2 * q), q)
    }
}

/// `x − q` if `x ≥ q`, else `x`, without a data-dependent branch.
#[inline(always)]
fn csub(x: u64, q: u64) -> u64 {
    let (d, borrow) = x.overflowing_sub(q);
    d.wrapping_add(q & u64::from(borrow).wrapping_neg())
}

/// `Σ a_i·b_i` in `u128` (callers bound the length so that it cannot overflow).
#[inline(always)]
fn dot_u128(a: &[u64], b: &[u64]) -> u128 {
    a.iter()
        .zip(b)
        .map(|(&x, &w)| u128::from(x) * u128::from(w))
        .sum()
}

/// `acc += b·m` where `acc` is wide enough for the result.
fn add_scaled(acc: &mut [u64], b: &[u64], m: u64) {
    let carry = mac_limbs(acc, b, m);
    if let Some(tail) = acc.get_mut(b.len()..) {
        add_limbs_in_place(tail, &[carry]);
    }
}

/// `acc −= b·m` (wrapping; callers guarantee `b·m ≤ acc`).
fn sub_scaled(acc: &mut [u64], b: &[u64], m: u64) {
    if m == 0 {
        return;
    }
    let mut carry = 0u64; // high word of the running product
    let mut borrow = 0u64;
    for (i, a) in acc.iter_mut().enumerate() {
        let t = u128::from(b.get(i).copied().unwrap_or(0)) * u128::from(m) + u128::from(carry);
        if i >= b.len() && t == 0 && borrow == 0 {
            break;
        }
        carry = (t >> 64) as u64;
        let (d1, b1) = a.overflowing_sub(t as u64);
        let (d2, b2) = d1.overflowing_sub(borrow);
        *a = d2;
        borrow = u64::from(b1) + u64::from(b2);
    }
}

/// Checks `count` limbs of `n` coefficients each.
fn check_limbs<I: AsRef<[u64]>>(
    what: &'static str,
    limbs: &[I],
    count: usize,
    n: usize,
) -> Result<()> {
    if limbs.len() != count {
        return Err(Error::LengthMismatch {
            what,
            expected: count,
            got: limbs.len(),
        });
    }
    for limb in limbs {
        let got = limb.as_ref().len();
        if got != n {
            return Err(Error::LengthMismatch {
                what: "limb length",
                expected: n,
                got,
            });
        }
    }
    Ok(())
}

fn check_limbs_mut<O: AsMut<[u64]>>(
    what: &'static str,
    limbs: &mut [O],
    count: usize,
    n: usize,
) -> Result<()> {
    if limbs.len() != count {
        return Err(Error::LengthMismatch {
            what,
            expected: count,
            got: limbs.len(),
        });
    }
    for limb in limbs.iter_mut() {
        let got = limb.as_mut().len();
        if got != n {
            return Err(Error::LengthMismatch {
                what: "limb length",
                expected: n,
                got,
            });
        }
    }
    Ok(())
}

/// A precomputed fast base conversion from one RNS basis `{q_i}` (`L` primes, product `Q`) to
/// another `{p_j}` (`M` primes).
///
/// For each coefficient, `y_i = [x_i · (Q/q_i)^{-1}]_{q_i}` (one Shoup multiplication), then
/// `out_j = Σ_i y_i · [Q/q_i]_{p_j} mod p_j`, accumulated lazily in `u128` with one Barrett
/// reduction per output residue (a fold every `⌊2^128 / (q_max·p_max)⌋` terms, i.e. never for
/// primes up to 60 bits and at most 15 products of 62-bit primes between folds). Coefficients
/// are processed in blocks of up to 64 so that the `y` block of every source prime stays in L1
/// while each output prime is produced from it.
///
/// With AVX-512 IFMA (and at most 512 source primes) the approximate conversion runs eight
/// coefficients per instruction: both stages in radix `2^52` (see `math::simd`), with the
/// constants `[Q/q_i]_{p_j}` stored pre-multiplied by `2^104 mod p_j` so that a two-step
/// Montgomery reduction lands on the canonical residue — the same words as the portable code.
/// `HELRM_ISA` caps the instruction set ([`BaseConverter::new_with_isa`] sets it directly);
/// the exact conversion always runs the portable code.
///
/// The approximate result is `x + u·Q` with `0 ≤ u < L`. [`BaseConverter::convert_exact`]
/// removes `u·Q` and converts the centred representative `x_c ∈ (−Q/2, Q/2]`: `u` is
/// estimated as `round(Σ_i y_i / q_i)` in `f64` (Halevi–Polyakov–Shoup); when the fractional
/// part lies within the proven float error of 1/2 (probability about `L²·2^-51` for random
/// input), that coefficient falls back to an exact big-integer decision, so the exact variant
/// is exact for every input.
///
/// # Example
/// ```
/// use helrm_core::math::rns::{BaseConverter, RnsBasis};
/// use helrm_core::math::prime::generate_primes;
/// let primes = generate_primes(1 << 10, &[40, 40, 40, 61])?;
/// let q = RnsBasis::new(&primes[..3])?;
/// let p = RnsBasis::new(&primes[3..])?;
/// let conv = BaseConverter::new(&q, &p);
/// let x: Vec<Vec<u64>> = q.decompose_i128(-5).into_iter().map(|r| vec![r; 4]).collect();
/// let mut out = vec![vec![0u64; 4]];
/// conv.convert_exact(&x, &mut out)?;
/// assert_eq!(out[0], vec![primes[3] - 5; 4]);
/// # Ok::<(), helrm_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BaseConverter {
    from: RnsBasis,
    to: Vec<Modulus>,
    /// Accumulator reducers, one per target prime.
    to_red: Vec<AccReducer>,
    /// [Q/q_i]_{p_j} at `j·L + i`.
    qhat_mod_p: Vec<u64>,
    /// [−u·Q]_{p_j} at `j·(L+1) + u`, `0 ≤ u ≤ L` (added to the accumulator in exact mode).
    neg_uq_mod_p: Vec<u64>,
    /// Products accumulated in u128 before a fold.
    chunk: usize,
    /// Coefficients per block.
    block: usize,
    /// The SIMD tables, when the instruction set allows the SIMD conversion.
    simd: Option<SimdConv>,
}

/// Cache-line aligned scratch (vector loads then never straddle two lines).
#[repr(C, align(64))]
struct Aligned<const N: usize>([u64; N]);

/// Tables of the SIMD approximate conversion.
#[derive(Debug, Clone)]
struct SimdConv {
    /// The radix-`2^52` kernel (IFMA).
    kernel: Kernel,
    /// Per source prime: its kernel for `x·w mod q_i` and `(w, w_shoup, w_shoup52)` of
    /// `w = (Q/q_i)^{-1} mod q_i`.
    stage1: Vec<(Kernel, (u64, u64, u64))>,
    /// `[Q/q_i]_{p_j} · 2^104 mod p_j` as digits `(lo52, hi)`, at `j·L + i`.
    consts: Vec<[u64; 2]>,
    /// Per target prime, `p_j` and `−p_j^{-1} mod 2^52`.
    targets: Vec<ConvTarget>,
    /// Some source prime reaches `2^52`.
    y_big: bool,
    /// Coefficients per block (a multiple of 8).
    block: usize,
}

impl SimdConv {
    /// The tables for `from → to` if `cap` and the CPU allow the IFMA kernel.
    fn new(from: &RnsBasis, to: &RnsBasis, qhat_mod_p: &[u64], cap: Isa) -> Option<Self> {
        let kernel = Kernel::select(cap, 0);
        let l = from.len();
        if kernel.isa() != Isa::Avx512Ifma || l > CONV_MAX_TERMS {
            return None;
        }
        let mut targets = Vec::with_capacity(to.len());
        let mut consts = Vec::with_capacity(to.len() * l);
        for (j, p) in to.moduli().iter().enumerate() {
            let pv = p.value();
            if pv.is_multiple_of(2) {
                return None;
            }
            // Newton's iteration for p^{-1} mod 2^64 (p·p ≡ 1 mod 8 seeds three bits).
            let mut inv = pv;
            for _ in 0..5 {
                inv = inv.wrapping_mul(2u64.wrapping_sub(pv.wrapping_mul(inv)));
            }
            targets.push(ConvTarget {
                p: pv,
                pinv: inv.wrapping_neg() & ((1 << 52) - 1),
            });
            let r2 = p.reduce_u128(1u128 << 104);
            for &c in &qhat_mod_p[j * l..(j + 1) * l] {
                let c = p.mul(c, r2);
                consts.push([c & ((1 << 52) - 1), c >> 52]);
            }
        }
        let stage1 = from
            .moduli()
            .iter()
            .zip(&from.qhat_inv)
            .zip(&from.qhat_inv_shoup)
            .map(|((m, &w), &ws)| {
                let q = m.value();
                let ws52 = if q < crate::math::ntt::IFMA_MAX_MODULUS {
                    ((u128::from(w) << 52) / u128::from(q)) as u64
                } else {
                    0
                };
                (Kernel::select(cap, q), (w, ws, ws52))
            })
            .collect();
        Some(Self {
            kernel,
            stage1,
            consts,
            targets,
            y_big: from.moduli().iter().any(|m| m.value() >> 52 != 0),
            block: (SIMD_SCRATCH / l).min(SIMD_BLOCK) / 8 * 8,
        })
    }
}

impl BaseConverter {
    /// Precomputes the tables for converting from `from` to `to` (the bases may share primes;
    /// a shared prime simply receives `[x + u·Q]` like any other). The instruction set is
    /// capped by `HELRM_ISA` (an unparsable value is ignored here; plan constructors that can
    /// fail report it).
    pub fn new(from: &RnsBasis, to: &RnsBasis) -> Self {
        let cap = Isa::from_env().ok().flatten().unwrap_or(Isa::Avx512Ifma);
        Self::new_with_isa(from, to, cap)
    }

    /// As [`BaseConverter::new`], with at most the instruction set `isa` (`HELRM_ISA` is not
    /// consulted). Every choice gives the same output words.
    pub fn new_with_isa(from: &RnsBasis, to: &RnsBasis, isa: Isa) -> Self {
        let l = from.len();
        let mut qhat_mod_p = Vec::with_capacity(l * to.len());
        let mut neg_uq_mod_p = Vec::with_capacity((l + 1) * to.len());
        for p in to.moduli() {
            for h in &from.qhat {
                qhat_mod_p.push(h.rem_u64(p.value()).unwrap_or(0));
            }
            let q_mod = from.product.rem_u64(p.value()).unwrap_or(0);
            for u in 0..=l as u64 {
                neg_uq_mod_p.push(p.neg(p.mul(q_mod, u)));
            }
        }
        let q_max = from.moduli.iter().map(Modulus::value).max().unwrap_or(2);
        let p_max = to.moduli.iter().map(Modulus::value).max().unwrap_or(2);
        let prod = u128::from(q_max - 1) * u128::from(p_max - 1);
        // A chunk of products plus two residues (the folded partial sum and the exact-mode
        // offset) must fit in a u128.
        let chunk = ((u128::MAX - 2 * u128::from(p_max)) / prod.max(1)).min(l as u128) as usize;
        let simd = SimdConv::new(from, to, &qhat_mod_p, isa);
        Self {
            from: from.clone(),
            to: to.moduli.clone(),
            to_red: to.moduli.iter().map(AccReducer::new).collect(),
            qhat_mod_p,
            neg_uq_mod_p,
            chunk: chunk.max(1),
            block: (SCRATCH / l).clamp(1, BLOCK),
            simd,
        }
    }

    /// The instruction set of the approximate conversion's kernel.
    pub fn isa(&self) -> Isa {
        self.simd.as_ref().map_or(Isa::Scalar, |s| s.kernel.isa())
    }

    /// Number of source primes `L`.
    pub fn from_len(&self) -> usize {
        self.from.len()
    }

    /// Number of target primes `M`.
    pub fn to_len(&self) -> usize {
        self.to.len()
    }

    /// Approximate conversion: `output[j][k] = [x_k + u_k·Q]_{p_j}` with `0 ≤ u_k < L`, where
    /// `x_k ∈ [0, Q)` has residues `input[i][k]`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `input` has `L` limbs and `output` `M` limbs, all of
    /// one length.
    pub fn convert<I: AsRef<[u64]>, O: AsMut<[u64]>>(
        &self,
        input: &[I],
        output: &mut [O],
    ) -> Result<()> {
        self.convert_with(Conversion::Approximate, input, output)
    }

    /// Exact conversion of the centred representative: `output[j][k] = [x_c]_{p_j}` with
    /// `x_c ∈ (−Q/2, Q/2]`, `x_c ≡ x_k (mod Q)`.
    ///
    /// # Errors
    /// As [`BaseConverter::convert`].
    pub fn convert_exact<I: AsRef<[u64]>, O: AsMut<[u64]>>(
        &self,
        input: &[I],
        output: &mut [O],
    ) -> Result<()> {
        self.convert_with(Conversion::Exact, input, output)
    }

    /// [`BaseConverter::convert`] or [`BaseConverter::convert_exact`], chosen by `mode`.
    ///
    /// # Errors
    /// As [`BaseConverter::convert`].
    pub fn convert_with<I: AsRef<[u64]>, O: AsMut<[u64]>>(
        &self,
        mode: Conversion,
        input: &[I],
        output: &mut [O],
    ) -> Result<()> {
        let n = input.first().map_or(0, |x| x.as_ref().len());
        check_limbs("input limbs", input, self.from.len(), n)?;
        check_limbs_mut("output limbs", output, self.to.len(), n)?;
        self.run(mode, input, n, |j, k0, vals| {
            output[j].as_mut()[k0..k0 + vals.len()].copy_from_slice(vals);
        });
        Ok(())
    }

    /// The kernel: for each block of coefficients and each target prime `j`, hands the
    /// converted residues of coefficients `k0 .. k0 + vals.len()` to `emit(j, k0, vals)`.
    /// Inputs must have been checked (`L` limbs of length `n`).
    #[inline]
    fn run<I: AsRef<[u64]>>(
        &self,
        mode: Conversion,
        input: &[I],
        n: usize,
        mut emit: impl FnMut(usize, usize, &[u64]),
    ) {
        if let (Conversion::Approximate, Some(sc)) = (mode, &self.simd) {
            self.run_simd(sc, input, n, emit);
            return;
        }
        let l = self.from.len();
        let exact = mode == Conversion::Exact;
        let mut y = [0u64; SCRATCH];
        let mut vals = [0u64; BLOCK];
        let mut over = [0usize; BLOCK];
        let mut k0 = 0;
        while k0 < n {
            let b = self.block.min(n - k0);
            // Stage 1: y_i = [x_i · (Q/q_i)^{-1}]_{q_i}, stored coefficient-major (y[t·L + i])
            // so that stage 2 is a contiguous dot product per output residue.
            let y = &mut y[..b * l];
            for (i, (m, limb)) in self.from.moduli.iter().zip(input).enumerate() {
                let (w, ws) = (self.from.qhat_inv[i], self.from.qhat_inv_shoup[i]);
                let src = &limb.as_ref()[k0..k0 + b];
                for (yt, &s) in y.chunks_exact_mut(l).zip(src) {
                    yt[i] = csub(m.mul_shoup_lazy(s, w, ws), m.value());
                }
            }
            let y = &*y;
            // Exact mode: the overflow u = round(Σ y_i / q_i) per coefficient.
            if exact {
                for (o, yt) in over[..b].iter_mut().zip(y.chunks_exact(l)) {
                    let v: f64 = yt
                        .iter()
                        .zip(&self.from.inv_q_f64)
                        .map(|(&a, &inv)| a as f64 * inv)
                        .sum();
                    // v ≥ 0, so truncation is the floor (and needs no libm call).
                    let fl = v as usize;
                    let frac = v - fl as f64;
                    *o = if (frac - 0.5).abs() <= self.from.eps {
                        self.from.exact_centered_overflow(|i| yt[i]).min(l)
                    } else {
                        (fl + usize::from(frac > 0.5)).min(l)
                    };
                }
            }
            // Stage 2: out_j = Σ_i y_i · [Q/q_i]_{p_j}, accumulated in a u128 register.
            for (j, red) in self.to_red.iter().enumerate() {
                let row = &self.qhat_mod_p[j * l..(j + 1) * l];
                let vals = &mut vals[..b];
                let neg_uq = &self.neg_uq_mod_p[j * (l + 1)..(j + 1) * (l + 1)];
                for ((o, yt), &u) in vals.iter_mut().zip(y.chunks_exact(l)).zip(&over[..b]) {
                    // The exact-mode correction −u·Q rides in the accumulator (u = 0, a zero
                    // offset, in approximate mode): still one reduction per output.
                    let start = u128::from(neg_uq[u.min(l)]);
                    *o = if self.chunk >= l {
                        red.reduce(start + dot_u128(yt, row))
                    } else {
                        let mut acc = start as u64;
                        for (yc, rc) in yt.chunks(self.chunk).zip(row.chunks(self.chunk)) {
                            acc = red.reduce(u128::from(acc) + dot_u128(yc, rc));
                        }
                        acc
                    };
                }
                emit(j, k0, vals);
            }
            k0 += b;
        }
    }
}

impl BaseConverter {
    /// `(Q/q_i)^{-1} mod q_i`: the factor a source limb is multiplied by before
    /// [`BaseConverter::convert_prepared`] (`None` if `i ≥ L`).
    pub(crate) fn source_factor(&self, i: usize) -> Option<u64> {
        self.from.qhat_inv.get(i).copied()
    }

    /// The approximate conversion of one target limb from prepared rows: row `i` of `y`
    /// (words `i·stride .. i·stride + out.len()`) holds `[x_i · (Q/q_i)^{-1}]_{q_i}` (each
    /// source limb already multiplied by [`BaseConverter::source_factor`]), and `out` receives
    /// `[x + u·Q]_{p_target}` — the words [`BaseConverter::convert`] writes to that limb.
    /// Sharing the prepared rows between target limbs lets callers convert limb by limb.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `target ≥ M`, `stride < out.len()` or `y` holds fewer than
    /// `L` rows.
    pub(crate) fn convert_prepared(
        &self,
        y: &[u64],
        stride: usize,
        target: usize,
        out: &mut [u64],
    ) -> Result<()> {
        let l = self.from.len();
        let n = out.len();
        if target >= self.to.len() || stride < n || y.len() < (l - 1) * stride + n {
            return Err(Error::LengthMismatch {
                what: "prepared conversion rows",
                expected: l * stride.max(n),
                got: y.len(),
            });
        }
        let done = match &self.simd {
            Some(sc) if y.len() >= l * stride => {
                let cs = &sc.consts[target * l..(target + 1) * l];
                simd::conv_dot(sc.kernel, cs, sc.targets[target], y, stride, sc.y_big, out)
            }
            _ => 0,
        };
        let row = &self.qhat_mod_p[target * l..(target + 1) * l];
        let red = &self.to_red[target];
        for (t, o) in out.iter_mut().enumerate().skip(done) {
            let mut acc = 0u64;
            for (ic, rc) in row.chunks(self.chunk).enumerate() {
                let i0 = ic * self.chunk;
                let s: u128 = rc
                    .iter()
                    .enumerate()
                    .map(|(d, &c)| u128::from(y[(i0 + d) * stride + t]) * u128::from(c))
                    .sum();
                acc = red.reduce(u128::from(acc) + s);
            }
            *o = acc;
        }
        Ok(())
    }

    /// The approximate kernel with SIMD stages (see [`SimdConv`]); the same contract as
    /// [`BaseConverter::run`]. Tails shorter than eight coefficients run the portable code.
    fn run_simd<I: AsRef<[u64]>>(
        &self,
        sc: &SimdConv,
        input: &[I],
        n: usize,
        mut emit: impl FnMut(usize, usize, &[u64]),
    ) {
        let l = self.from.len();
        let blk = sc.block;
        let mut y = Aligned([0u64; SIMD_SCRATCH]);
        let y = &mut y.0;
        let mut vals = Aligned([0u64; SIMD_BLOCK]);
        let vals = &mut vals.0;
        let mut k0 = 0;
        while k0 < n {
            let b = blk.min(n - k0);
            // Stage 1: row i of y holds [x_i · (Q/q_i)^{-1}]_{q_i} for the block.
            for (i, ((m, limb), &(kern, w))) in self
                .from
                .moduli
                .iter()
                .zip(input)
                .zip(&sc.stage1)
                .enumerate()
            {
                let src = &limb.as_ref()[k0..k0 + b];
                let dst = &mut y[i * blk..i * blk + b];
                let done = simd::vec_mul_scalar(kern, m.value(), Some(src), None, w, dst);
                for (d, &x) in dst[done..].iter_mut().zip(&src[done..]) {
                    *d = csub(m.mul_shoup_lazy(x, w.0, w.1), m.value());
                }
            }
            let y = &y[..l * blk];
            // Stage 2: one output limb at a time from the rows of y.
            for (j, (red, &target)) in self.to_red.iter().zip(&sc.targets).enumerate() {
                let vals = &mut vals[..b];
                let cs = &sc.consts[j * l..(j + 1) * l];
                let done = simd::conv_dot(sc.kernel, cs, target, y, blk, sc.y_big, vals);
                let row = &self.qhat_mod_p[j * l..(j + 1) * l];
                for (t, o) in vals.iter_mut().enumerate().skip(done) {
                    let mut acc = 0u64;
                    for (ic, rc) in row.chunks(self.chunk).enumerate() {
                        let i0 = ic * self.chunk;
                        let s: u128 = rc
                            .iter()
                            .enumerate()
                            .map(|(d, &c)| u128::from(y[(i0 + d) * blk + t]) * u128::from(c))
                            .sum();
                        acc = red.reduce(u128::from(acc) + s);
                    }
                    *o = acc;
                }
                emit(j, k0, vals);
            }
            k0 += b;
        }
    }
}

/// ModDown: from a polynomial in basis `Q ∪ P` (`P` the special primes) to `x / P` in basis
/// `Q`, computed as `out_j = (x_{q_j} − Conv_{P→Q}(x_P)_j) · P^{-1} mod q_j`.
///
/// With `x ∈ [0, Q·P)` the integer of the residues:
/// - [`Conversion::Exact`]: `out = round(x / P) mod Q` exactly (the centred `x mod P` is
///   subtracted, so the division is exact and rounds to nearest; `P` is odd so there are no
///   ties). Absolute error against the rational `x / P`: at most 1/2.
/// - [`Conversion::Approximate`]: `out = ⌊x / P⌋ − u mod Q` with `0 ≤ u < |P|` (the number
///   of special primes): absolute error against `x / P` below `|P|`.
///
/// # Example
/// ```
/// use helrm_core::math::rns::{Conversion, ModDownPlan, RnsBasis};
/// use helrm_core::math::prime::generate_primes;
/// let primes = generate_primes(1 << 10, &[40, 40, 61])?;
/// let (q, p) = (RnsBasis::new(&primes[..2])?, RnsBasis::new(&primes[2..])?);
/// let plan = ModDownPlan::new(&q, &p)?;
/// // x = 7·P + 3, one coefficient: x / P rounds to 7.
/// let x = |m: u64| ((7 * (primes[2] as u128) + 3) % m as u128) as u64;
/// let mut xq = vec![vec![x(primes[0])], vec![x(primes[1])]];
/// plan.apply_in_place(Conversion::Exact, &mut xq, &[vec![3u64]])?;
/// assert_eq!(xq, vec![vec![7], vec![7]]);
/// # Ok::<(), helrm_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ModDownPlan {
    conv: BaseConverter,
    q: Vec<Modulus>,
    /// P^{-1} mod q_j and its Shoup quotient.
    p_inv: Vec<(u64, u64)>,
}

impl ModDownPlan {
    /// Precomputes ModDown from `q_basis ∪ p_basis` to `q_basis`.
    ///
    /// # Errors
    /// [`Error::DuplicatePrime`] if the bases share a prime (positions in `Q ∪ P`);
    /// [`Error::BasisSize`] if the union exceeds [`MAX_BASIS_LEN`].
    pub fn new(q_basis: &RnsBasis, p_basis: &RnsBasis) -> Result<Self> {
        q_basis.concat(p_basis)?; // disjointness check
        let conv = BaseConverter::new(p_basis, q_basis);
        let mut p_inv = Vec::with_capacity(q_basis.len());
        for m in q_basis.moduli() {
            let p_mod = p_basis.product().rem_u64(m.value()).unwrap_or(0);
            let inv = m.inv(p_mod).ok_or(Error::InvalidModulus {
                q: m.value(),
                reason: "divides the special modulus P",
            })?;
            p_inv.push((inv, m.shoup(inv)));
        }
        Ok(Self {
            conv,
            q: q_basis.moduli().to_vec(),
            p_inv,
        })
    }

    /// `out_q = x / P` in basis `Q` (rounded as `mode` says, see the type's documentation).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `x_q` and `out_q` have one limb per prime of `Q`,
    /// `x_p` one per prime of `P`, all of one length.
    pub fn apply<I: AsRef<[u64]>, J: AsRef<[u64]>, O: AsMut<[u64]>>(
        &self,
        mode: Conversion,
        x_q: &[I],
        x_p: &[J],
        out_q: &mut [O],
    ) -> Result<()> {
        let n = x_p.first().map_or(0, |x| x.as_ref().len());
        check_limbs("P limbs", x_p, self.conv.from_len(), n)?;
        check_limbs("Q limbs", x_q, self.q.len(), n)?;
        check_limbs_mut("output limbs", out_q, self.q.len(), n)?;
        self.conv.run(mode, x_p, n, |j, k0, conv| {
            let (q, (w, ws)) = (&self.q[j], self.p_inv[j]);
            let src = &x_q[j].as_ref()[k0..k0 + conv.len()];
            let dst = &mut out_q[j].as_mut()[k0..k0 + conv.len()];
            for ((o, &x), &c) in dst.iter_mut().zip(src).zip(conv) {
                *o = csub(q.mul_shoup_lazy(x + q.value() - c, w, ws), q.value());
            }
        });
        Ok(())
    }

    /// [`ModDownPlan::apply`] writing the result over `x_q`.
    ///
    /// # Errors
    /// As [`ModDownPlan::apply`].
    pub fn apply_in_place<O: AsMut<[u64]>, J: AsRef<[u64]>>(
        &self,
        mode: Conversion,
        x_q: &mut [O],
        x_p: &[J],
    ) -> Result<()> {
        let n = x_p.first().map_or(0, |x| x.as_ref().len());
        check_limbs("P limbs", x_p, self.conv.from_len(), n)?;
        check_limbs_mut("Q limbs", x_q, self.q.len(), n)?;
        self.conv.run(mode, x_p, n, |j, k0, conv| {
            let (q, (w, ws)) = (&self.q[j], self.p_inv[j]);
            let dst = &mut x_q[j].as_mut()[k0..k0 + conv.len()];
            for (x, &c) in dst.iter_mut().zip(conv) {
                *x = csub(q.mul_shoup_lazy(*x + q.value() - c, w, ws), q.value());
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::prime::generate_primes;

    fn rng(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Every instruction set gives the portable conversion's words, for sources and targets
    /// on both sides of 2^50 and 2^52, block tails, and residues at `q − 1` and 0.
    #[test]
    fn every_isa_converts_like_the_portable_code() {
        let all = generate_primes(1 << 10, &[40, 40, 40, 55, 61, 61, 61, 30, 50, 51, 62]).unwrap();
        let cases: [(&[usize], &[usize]); 6] = [
            (&[0, 1, 2], &[3, 4, 5, 6]), // a 40-bit digit to the 55- and 61-bit primes
            (&[3, 0, 1], &[2, 4, 5]),    // a digit holding the 55-bit base prime
            (&[4, 5, 6], &[0, 1, 2, 3]), // ModDown: P to Q
            (&[7, 8, 9, 10], &[0, 3, 4]), // 30-, 50-, 51-, 62-bit sources
            (&[0], &[1, 10]),            // one source prime
            (&[0, 1, 2, 3, 7, 8, 9, 10], &[4, 5]), // eight sources
        ];
        let mut seed = 5u64;
        for (src, dst) in cases {
            let from = RnsBasis::new(&src.iter().map(|&i| all[i]).collect::<Vec<_>>()).unwrap();
            let to = RnsBasis::new(&dst.iter().map(|&i| all[i]).collect::<Vec<_>>()).unwrap();
            for n in [1usize, 8, 13, 600, 1100] {
                let input: Vec<Vec<u64>> = from
                    .moduli()
                    .iter()
                    .map(|m| {
                        let mut v: Vec<u64> = (0..n).map(|_| rng(&mut seed) % m.value()).collect();
                        v[0] = m.value() - 1;
                        if n > 1 {
                            v[n - 1] = 0;
                        }
                        v
                    })
                    .collect();
                let oracle = BaseConverter::new_with_isa(&from, &to, Isa::Scalar);
                assert_eq!(oracle.isa(), Isa::Scalar);
                let mut want = vec![vec![0u64; n]; to.len()];
                oracle.convert(&input, &mut want).unwrap();
                for isa in Isa::available() {
                    let conv = BaseConverter::new_with_isa(&from, &to, isa);
                    assert_eq!(conv.isa() == Isa::Avx512Ifma, isa == Isa::Avx512Ifma);
                    let mut got = vec![vec![0u64; n]; to.len()];
                    conv.convert(&input, &mut got).unwrap();
                    assert_eq!(got, want, "{src:?} -> {dst:?}, n = {n}, {isa}");
                    // Limb by limb from prepared rows (stride above n) gives the same words.
                    let stride = n + 3;
                    let mut rows = vec![0u64; from.len() * stride];
                    for (i, (m, limb)) in from.moduli().iter().zip(&input).enumerate() {
                        let w = conv.source_factor(i).unwrap();
                        for (r, &x) in rows[i * stride..].iter_mut().zip(limb) {
                            *r = m.mul(x, w);
                        }
                    }
                    for (j, want_j) in want.iter().enumerate() {
                        let mut o = vec![0u64; n];
                        conv.convert_prepared(&rows, stride, j, &mut o).unwrap();
                        assert_eq!(&o, want_j, "prepared {src:?} -> {dst:?}, n = {n}, {isa}");
                    }
                    assert!(matches!(
                        conv.convert_prepared(&rows, stride, to.len(), &mut vec![0u64; n]),
                        Err(Error::LengthMismatch { .. })
                    ));
                }
            }
        }
    }
}

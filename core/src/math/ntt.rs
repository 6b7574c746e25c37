//! Negacyclic number-theoretic transforms over `Z_q[X]/(X^n + 1)` for word-size primes.
//!
//! An [`NttPlan`] fixes a ring degree `n` (a power of two in `[2^10, 2^17]`) and a prime
//! `q < 2^62` with `q ≡ 1 (mod 2n)`, and does the expensive set-up once: the smallest primitive
//! `2n`-th root of unity `ψ` (so outputs do not depend on how a root was searched for), the
//! twiddle factors in the order the stages consume them, their Shoup quotients (64-bit, and
//! 52-bit for the IFMA kernels), and the choice of kernel for this CPU.
//!
//! # Order of the evaluation form
//! [`NttPlan::forward`] takes coefficients `a_0, …, a_{n−1}` in natural order and leaves, at
//! index `j`, the evaluation `a(ψ^(2·brv(j) + 1)) mod q`, where `brv` reverses the `log2 n` low
//! bits of `j` — the bit-reversed evaluation order of SEAL and Lattigo. In this order the
//! product of two polynomials is the index-wise product of their transforms, and
//! [`NttPlan::inverse`] brings such a vector back to natural coefficient order.
//!
//! # Ranges
//! Both transforms take values in `[0, q)` and return values in `[0, q)`. Internally the
//! butterflies are lazy (Harvey 2014): the forward transform keeps values in `[0, 4q)`, the
//! inverse in `[0, 2q)`, and the last stage reduces. Every kernel returns the same canonical
//! output, bit for bit.
//!
//! # Kernels
//! Cooley–Tukey (forward) and Gentleman–Sande (inverse) butterflies with the powers of `ψ`
//! merged into the twiddles, so no pre- or post-multiplication pass is needed; `n^{-1}` is
//! folded into the last inverse stage. The portable kernel is always compiled and is the
//! oracle; on x86-64 the plan picks AVX2, AVX-512 or AVX-512 IFMA at run time (see [`Isa`]).
//! The SIMD kernels run depth-first (two stages per pass over data larger than L1) and merge
//! the small-stride stages into in-register shuffles.
//!
//! # Example
//! ```
//! use helrm_core::math::{ntt::NttPlan, prime::generate_primes};
//! let n = 1024;
//! let q = generate_primes(n, &[50])?[0];
//! let plan = NttPlan::try_new(n, q)?;
//! let mut a: Vec<u64> = (0..n as u64).collect();
//! let orig = a.clone();
//! plan.forward(&mut a)?;
//! plan.inverse(&mut a)?;
//! assert_eq!(a, orig);
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # Errors
//! [`NttPlan::try_new`] refuses unsupported degrees ([`Error::InvalidRingDegree`]), moduli that
//! are not primes below `2^62` ([`Error::InvalidModulus`]) and primes without a `2n`-th root of
//! unity ([`Error::NotNttFriendly`]); the transforms refuse slices of the wrong length
//! ([`Error::LengthMismatch`]).
//!
//! # References
//! D. Harvey, "Faster arithmetic for number-theoretic transforms", J. Symb. Comp. 60 (2014);
//! P. Longa and M. Naehrig, "Speeding up the NTT for lattice-based cryptography", CANS 2016
//! (merged `ψ` powers, bit-reversed order); the concrete-ntt / tfhe-ntt crates (depth-first
//! recursion, in-register last stages).

use super::modarith::Modulus;
use super::prime::{is_prime, min_primitive_root_2n};
pub use super::simd::Isa;
use super::simd::{self, Kernel};
use crate::error::{Error, Result};

/// Smallest supported ring degree.
pub const MIN_DEGREE: usize = 1 << 10;
/// Largest supported ring degree.
pub const MAX_DEGREE: usize = 1 << 17;

/// Twiddle tables shared by every kernel. Index `k ≥ 1` of a forward table is used by the
/// stage with `m = 2^⌊log2 k⌋` butterfly groups, for group `k − m`, so each stage reads one
/// contiguous run (index 0 is unused).
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    /// The modulus `q`.
    pub(crate) q: u64,
    /// `ψ^brv(k)`.
    pub(crate) fw: Vec<u64>,
    /// `⌊fw[k] · 2^64 / q⌋`.
    pub(crate) fw_shoup: Vec<u64>,
    /// `⌊fw[k] · 2^52 / q⌋` (filled only when `q < 2^50`, for the IFMA kernel).
    pub(crate) fw_shoup52: Vec<u64>,
    /// `ψ^(−brv(k))`, the inverse of `fw[k]`.
    pub(crate) iw: Vec<u64>,
    /// `⌊iw[k] · 2^64 / q⌋`.
    pub(crate) iw_shoup: Vec<u64>,
    /// `⌊iw[k] · 2^52 / q⌋` (filled only when `q < 2^50`).
    pub(crate) iw_shoup52: Vec<u64>,
    /// Last inverse stage constants: `n^{-1}` and `iw[1] · n^{-1}`, each with its 64-bit and
    /// 52-bit Shoup quotients.
    pub(crate) last: LastStage,
}

/// Constants of the last inverse stage, where `n^{-1}` is folded into the butterfly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LastStage {
    /// `n^{-1} mod q`.
    pub(crate) n_inv: u64,
    /// 64-bit Shoup quotient of `n_inv`.
    pub(crate) n_inv_shoup: u64,
    /// 52-bit Shoup quotient of `n_inv` (0 when unused).
    pub(crate) n_inv_shoup52: u64,
    /// `iw[1] · n^{-1} mod q`.
    pub(crate) w_n_inv: u64,
    /// 64-bit Shoup quotient of `w_n_inv`.
    pub(crate) w_n_inv_shoup: u64,
    /// 52-bit Shoup quotient of `w_n_inv` (0 when unused).
    pub(crate) w_n_inv_shoup52: u64,
}

/// A negacyclic NTT plan for one ring degree and one prime: twiddles, Shoup constants and the
/// kernel chosen for this CPU. Plans are immutable, `Send + Sync`, and meant to be shared.
#[derive(Debug, Clone)]
pub struct NttPlan {
    n: usize,
    modulus: Modulus,
    psi: u64,
    kernel: Kernel,
    tables: Tables,
}

/// Largest modulus (exclusive) the IFMA kernel accepts: values up to `4q` must fit 52 bits.
pub const IFMA_MAX_MODULUS: u64 = 1 << 50;

fn check_degree(n: usize) -> Result<()> {
    if !n.is_power_of_two() || !(MIN_DEGREE..=MAX_DEGREE).contains(&n) {
        return Err(Error::InvalidRingDegree {
            n,
            min: MIN_DEGREE,
            max: MAX_DEGREE,
        });
    }
    Ok(())
}

/// `⌊w · 2^52 / q⌋`, the Shoup quotient of the IFMA kernel (`w < q < 2^50`).
fn shoup52(w: u64, q: u64) -> u64 {
    ((u128::from(w) << 52) / u128::from(q)) as u64
}

fn bit_reverse(k: usize, bits: u32) -> usize {
    k.reverse_bits() >> (usize::BITS - bits)
}

impl NttPlan {
    /// Builds a plan for degree `n` and prime `q`, with the kernel chosen from the CPU and the
    /// `HELRM_ISA` environment variable (see [`Isa::from_env`]).
    ///
    /// # Errors
    /// [`Error::InvalidRingDegree`] unless `n` is a power of two in `[2^10, 2^17]`;
    /// [`Error::InvalidModulus`] if `q` is not a prime below `2^62`; [`Error::NotNttFriendly`]
    /// if `q ≢ 1 (mod 2n)`; [`Error::UnknownIsa`] if `HELRM_ISA` names no instruction set.
    pub fn try_new(n: usize, q: u64) -> Result<Self> {
        let requested = Isa::from_env()?.unwrap_or(Isa::Avx512Ifma);
        Self::try_new_with_isa(n, q, requested)
    }

    /// Builds a plan that uses at most the instruction set `isa`: if the CPU lacks it (or it
    /// is IFMA and `q ≥ 2^50`), the best available one below it is used instead, so
    /// [`NttPlan::isa`] tells what actually runs. `HELRM_ISA` is not consulted.
    ///
    /// # Errors
    /// As [`NttPlan::try_new`], except for the environment variable.
    pub fn try_new_with_isa(n: usize, q: u64, isa: Isa) -> Result<Self> {
        check_degree(n)?;
        let modulus = Modulus::new(q)?;
        if !is_prime(q) {
            return Err(Error::InvalidModulus {
                q,
                reason: "not prime",
            });
        }
        let two_n = 2 * n as u64;
        if q % two_n != 1 {
            return Err(Error::NotNttFriendly {
                q,
                n,
                residue: q % two_n,
            });
        }
        let psi = min_primitive_root_2n(n, q)?;
        let kernel = Kernel::select(isa, q);
        let tables = Self::build_tables(n, &modulus, psi);
        Ok(Self {
            n,
            modulus,
            psi,
            kernel,
            tables,
        })
    }

    fn build_tables(n: usize, m: &Modulus, psi: u64) -> Tables {
        let q = m.value();
        let bits = n.trailing_zeros();
        // Powers ψ^0 … ψ^(n−1) and their inverses, then scattered to bit-reversed slots.
        let psi_inv = m.pow(psi, 2 * n as u64 - 1);
        let mut fw = vec![0u64; n];
        let mut iw = vec![0u64; n];
        let (mut p, mut pi) = (1u64, 1u64);
        for k in 0..n {
            let r = bit_reverse(k, bits);
            fw[r] = p;
            iw[r] = pi;
            p = m.mul(p, psi);
            pi = m.mul(pi, psi_inv);
        }
        let fw_shoup = fw.iter().map(|&w| m.shoup(w)).collect();
        let iw_shoup = iw.iter().map(|&w| m.shoup(w)).collect();
        let ifma = q < IFMA_MAX_MODULUS;
        let (fw_shoup52, iw_shoup52) = if ifma {
            (
                fw.iter().map(|&w| shoup52(w, q)).collect(),
                iw.iter().map(|&w| shoup52(w, q)).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        // q is prime and n < q, so n is invertible; the fallback is unreachable.
        let n_inv = m.inv(n as u64).unwrap_or(1);
        let w_n_inv = m.mul(iw[1], n_inv);
        let s52 = |w: u64| if ifma { shoup52(w, q) } else { 0 };
        let last = LastStage {
            n_inv,
            n_inv_shoup: m.shoup(n_inv),
            n_inv_shoup52: s52(n_inv),
            w_n_inv,
            w_n_inv_shoup: m.shoup(w_n_inv),
            w_n_inv_shoup52: s52(w_n_inv),
        };
        Tables {
            q,
            fw,
            fw_shoup,
            fw_shoup52,
            iw,
            iw_shoup,
            iw_shoup52,
            last,
        }
    }

    /// The ring degree `n`.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }

    /// The modulus `q`.
    #[inline]
    pub fn modulus(&self) -> &Modulus {
        &self.modulus
    }

    /// The primitive `2n`-th root of unity `ψ` the plan uses (the smallest one).
    #[inline]
    pub fn psi(&self) -> u64 {
        self.psi
    }

    /// The instruction set whose kernel this plan runs.
    #[inline]
    pub fn isa(&self) -> Isa {
        self.kernel.isa()
    }

    fn check_len(&self, what: &'static str, got: usize) -> Result<()> {
        if got != self.n {
            return Err(Error::LengthMismatch {
                what,
                expected: self.n,
                got,
            });
        }
        Ok(())
    }

    /// Forward negacyclic NTT in place: coefficients in natural order, each in `[0, q)`, become
    /// evaluations in bit-reversed order (module docs), each in `[0, q)`. Inputs outside
    /// `[0, q)` give unspecified values (never a panic).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `a.len() != n`.
    pub fn forward(&self, a: &mut [u64]) -> Result<()> {
        self.check_len("ntt forward input", a.len())?;
        if !simd::forward(self.kernel, &self.tables, a) {
            forward_scalar(&self.tables, a);
        }
        Ok(())
    }

    /// Inverse negacyclic NTT in place: evaluations in bit-reversed order, each in `[0, q)`,
    /// become coefficients in natural order, each in `[0, q)` (`n^{-1}` included). Inputs
    /// outside `[0, q)` give unspecified values (never a panic).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `a.len() != n`.
    pub fn inverse(&self, a: &mut [u64]) -> Result<()> {
        self.check_len("ntt inverse input", a.len())?;
        self.inverse_with(&self.tables.last, None, a);
        Ok(())
    }

    /// [`NttPlan::inverse`] followed by multiplication by `factor`, in one pass: the factor is
    /// folded into the last stage's `n^{-1}` constants, so the words equal those of
    /// `inverse` then an element-wise product by `factor mod q`, without the extra pass over
    /// memory (RNS base conversion multiplies every source limb by a constant right after the
    /// inverse transform).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `a.len() != n`.
    pub fn inverse_scaled(&self, a: &mut [u64], factor: u64) -> Result<()> {
        self.check_len("ntt inverse input", a.len())?;
        self.inverse_with(&self.scaled_last(factor), None, a);
        Ok(())
    }

    /// [`NttPlan::inverse_scaled`] out of place: `out` receives the transform of `src` times
    /// `factor` (`src` is left as is). The copy is made block by block inside the transform,
    /// just before each block is first used, instead of as a separate pass.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `src` or `out` does not have `n` words.
    pub fn inverse_scaled_from(&self, src: &[u64], out: &mut [u64], factor: u64) -> Result<()> {
        self.check_len("ntt inverse input", src.len())?;
        self.check_len("ntt inverse output", out.len())?;
        self.inverse_with(&self.scaled_last(factor), Some(src), out);
        Ok(())
    }

    /// The last-stage constants with `factor` folded in.
    fn scaled_last(&self, factor: u64) -> LastStage {
        let m = &self.modulus;
        let f = m.reduce(factor);
        let l = self.tables.last;
        if f == 1 {
            return l;
        }
        let q = m.value();
        let s52 = |w: u64| {
            if q < IFMA_MAX_MODULUS {
                shoup52(w, q)
            } else {
                0
            }
        };
        let (n_inv, w_n_inv) = (m.mul(l.n_inv, f), m.mul(l.w_n_inv, f));
        LastStage {
            n_inv,
            n_inv_shoup: m.shoup(n_inv),
            n_inv_shoup52: s52(n_inv),
            w_n_inv,
            w_n_inv_shoup: m.shoup(w_n_inv),
            w_n_inv_shoup52: s52(w_n_inv),
        }
    }

    /// The inverse transform with the given last-stage constants, of `a` in place or of `src`
    /// into `a` (lengths checked by the caller).
    fn inverse_with(&self, last: &LastStage, src: Option<&[u64]>, a: &mut [u64]) {
        if !simd::inverse(self.kernel, &self.tables, last, src, a) {
            if let Some(src) = src {
                a.copy_from_slice(src);
            }
            inverse_scalar(&self.tables, last, a);
        }
    }
}

/// `x · w mod q` in `[0, 2q)` for any `x < 2^64` (Shoup, 64-bit quotient).
#[inline(always)]
fn shoup_lazy(x: u64, w: u64, ws: u64, q: u64) -> u64 {
    let qhat = ((u128::from(x) * u128::from(ws)) >> 64) as u64;
    x.wrapping_mul(w).wrapping_sub(qhat.wrapping_mul(q))
}

/// `x ≥ c ? x − c : x` (for `x < c + 2^63`).
#[inline(always)]
fn csub(x: u64, c: u64) -> u64 {
    // Branch-free: when x < c the difference wraps above x.
    x.min(x.wrapping_sub(c))
}

/// One forward stage: groups of `2·half` words, group `i` with twiddle `w[i]`. With `last`,
/// outputs are reduced from `[0, 4q)` into `[0, q)`.
#[inline(always)]
fn fwd_stage(a: &mut [u64], w: &[u64], ws: &[u64], q: u64, half: usize, last: bool) {
    let two_q = 2 * q;
    let bf = |x: &mut u64, y: &mut u64, w: u64, ws: u64| {
        let u = csub(simd::opaque(*x), two_q);
        let v = shoup_lazy(simd::opaque(*y), w, ws, q);
        let (s, d) = (u.wrapping_add(v), u.wrapping_add(two_q).wrapping_sub(v));
        if last {
            *x = csub(csub(s, two_q), q);
            *y = csub(csub(d, two_q), q);
        } else {
            *x = s;
            *y = d;
        }
    };
    for ((blk, &w), &ws) in a.chunks_exact_mut(2 * half).zip(w).zip(ws) {
        let (x, y) = blk.split_at_mut(half);
        if half < 4 {
            for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                bf(x, y, w, ws);
            }
        } else {
            // Runs of four with a constant-length inner loop (less loop overhead).
            for (x, y) in x.chunks_exact_mut(4).zip(y.chunks_exact_mut(4)) {
                for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                    bf(x, y, w, ws);
                }
            }
        }
    }
}

/// Portable forward transform (the oracle): radix-2 Cooley–Tukey, values lazily in `[0, 4q)`.
/// Stages with 1, 2 or 4 butterflies per group get constant-size inner loops.
fn forward_scalar(t: &Tables, a: &mut [u64]) {
    let n = a.len();
    let q = t.q;
    let mut half = n / 2;
    let mut m = 1;
    while m < n {
        let (w, ws) = (&t.fw[m..2 * m], &t.fw_shoup[m..2 * m]);
        match half {
            1 => fwd_stage(a, w, ws, q, 1, true),
            2 => fwd_stage(a, w, ws, q, 2, false),
            4 => fwd_stage(a, w, ws, q, 4, false),
            _ => fwd_stage(a, w, ws, q, half, false),
        }
        m *= 2;
        half /= 2;
    }
}

/// One inverse stage: groups of `2·half` words, group `i` with twiddle `w[i]`.
#[inline(always)]
fn inv_stage(a: &mut [u64], w: &[u64], ws: &[u64], q: u64, half: usize) {
    let two_q = 2 * q;
    let bf = |x: &mut u64, y: &mut u64, w: u64, ws: u64| {
        let (u, v) = (simd::opaque(*x), simd::opaque(*y));
        *x = csub(u.wrapping_add(v), two_q);
        *y = shoup_lazy(u.wrapping_add(two_q).wrapping_sub(v), w, ws, q);
    };
    for ((blk, &w), &ws) in a.chunks_exact_mut(2 * half).zip(w).zip(ws) {
        let (x, y) = blk.split_at_mut(half);
        if half < 4 {
            for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                bf(x, y, w, ws);
            }
        } else {
            // Runs of four, as in `fwd_stage`.
            for (x, y) in x.chunks_exact_mut(4).zip(y.chunks_exact_mut(4)) {
                for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                    bf(x, y, w, ws);
                }
            }
        }
    }
}

/// Portable inverse transform (the oracle): radix-2 Gentleman–Sande, values lazily in
/// `[0, 2q)`, `n^{-1}` folded into the last stage.
fn inverse_scalar(t: &Tables, l: &LastStage, a: &mut [u64]) {
    let n = a.len();
    let q = t.q;
    let two_q = 2 * q;
    let mut half = 1;
    let mut m = n / 2;
    while m > 1 {
        let (w, ws) = (&t.iw[m..2 * m], &t.iw_shoup[m..2 * m]);
        match half {
            1 => inv_stage(a, w, ws, q, 1),
            2 => inv_stage(a, w, ws, q, 2),
            4 => inv_stage(a, w, ws, q, 4),
            _ => inv_stage(a, w, ws, q, half),
        }
        m /= 2;
        half *= 2;
    }
    let (x, y) = a.split_at_mut(n / 2);
    for (x, y) in x.iter_mut().zip(y.iter_mut()) {
        let (u, v) = (*x, *y);
        let (s, d) = (u.wrapping_add(v), u.wrapping_add(two_q).wrapping_sub(v));
        *x = csub(shoup_lazy(s, l.n_inv, l.n_inv_shoup, q), q);
        *y = csub(shoup_lazy(d, l.w_n_inv, l.w_n_inv_shoup, q), q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::prime::generate_primes;

    /// Naive evaluation at ψ^(2·brv(j)+1): checks the documented order on a small ring
    /// (bypassing the degree check, which the public API enforces).
    #[test]
    fn scalar_output_order_matches_naive_evaluation() {
        let n = 1024;
        let q = generate_primes(n, &[40]).unwrap()[0];
        let m = Modulus::new(q).unwrap();
        let psi = min_primitive_root_2n(n, q).unwrap();
        let t = NttPlan::build_tables(n, &m, psi);
        let a: Vec<u64> = (0..n as u64).map(|i| (i * i + 7) % q).collect();
        let mut f = a.clone();
        forward_scalar(&t, &mut f);
        for j in [0usize, 1, 2, 3, 511, 512, 1000, 1023] {
            let x = m.pow(psi, 2 * bit_reverse(j, 10) as u64 + 1);
            let mut acc = 0u64;
            for &c in a.iter().rev() {
                acc = m.add(m.mul(acc, x), c);
            }
            assert_eq!(f[j], acc, "index {j}");
        }
        inverse_scalar(&t, &t.last, &mut f);
        assert_eq!(f, a);
    }

    /// `inverse_scaled` (in place and out of place) gives the words of `inverse` followed by a
    /// product by the factor, on
    /// every kernel this CPU runs (so every ISA also agrees with the portable code), for
    /// factors 0, 1, q − 1, one above q and random ones.
    #[test]
    fn inverse_scaled_equals_inverse_then_product() {
        let n = 1 << 12;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for bits in [40u32, 49, 55, 61] {
            let q = generate_primes(n, &[bits]).unwrap()[0];
            let m = Modulus::new(q).unwrap();
            let a: Vec<u64> = (0..n).map(|_| next() % q).collect();
            for isa in [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Ifma] {
                if !isa.is_available() {
                    continue;
                }
                let plan = NttPlan::try_new_with_isa(n, q, isa).unwrap();
                for f in [0, 1, q - 1, q + 3, next(), next() % q] {
                    let mut want = a.clone();
                    plan.inverse(&mut want).unwrap();
                    want.iter_mut().for_each(|x| *x = m.mul(*x, m.reduce(f)));
                    let mut got = a.clone();
                    plan.inverse_scaled(&mut got, f).unwrap();
                    assert!(got == want, "{isa}: bits {bits}, factor {f}");
                    let mut out = vec![u64::MAX; n];
                    plan.inverse_scaled_from(&a, &mut out, f).unwrap();
                    assert!(out == want, "{isa} out of place: bits {bits}, factor {f}");
                }
            }
        }
    }
}

//! Element-wise modular arithmetic on slices, with run-time SIMD dispatch like the NTT.
//!
//! A [`VecOps`] fixes a modulus `2 ≤ q < 2^62` and a kernel ([`Isa`], capped by `HELRM_ISA`).
//! All operations take values in `[0, q)` and return values in `[0, q)`, identical on every
//! kernel; values outside `[0, q)` give unspecified results (never a panic).
//!
//! Which operations have SIMD kernels: with AVX-512 (F+DQ) `add`, `sub` and `mul_scalar`; with
//! AVX-512 IFMA (`q < 2^50`) also `mul` and `mul_add` (Montgomery with `R = 2^52`, odd `q`).
//! Everything else, and the `len % 8` tail, runs the portable code.
//!
//! # Example
//! ```
//! use helrm_core::math::vecops::VecOps;
//! let ops = VecOps::try_new(97)?;
//! let (a, b) = ([3u64, 50, 96], [5u64, 60, 96]);
//! let mut out = [0u64; 3];
//! ops.mul(&a, &b, &mut out)?;
//! assert_eq!(out, [15, 3000 % 97, 1]);
//! ops.add(&a, &b, &mut out)?;
//! assert_eq!(out, [8, 13, 95]);
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # Errors
//! [`Error::InvalidModulus`] for `q` outside `[2, 2^62)`; [`Error::LengthMismatch`] when the
//! slices of one call differ in length; [`Error::UnknownIsa`] for a bad `HELRM_ISA`.

use super::modarith::Modulus;
pub use super::simd::Isa;
use super::simd::{self, Kernel, VecConsts};
use crate::error::{Error, Result};

/// Element-wise operations modulo one `q`, with the kernel chosen for this CPU.
#[derive(Debug, Clone)]
pub struct VecOps {
    m: Modulus,
    kernel: Kernel,
    consts: VecConsts,
}

/// `x ≥ c ? x − c : x` without a branch (`x < c + 2^63`).
#[inline(always)]
fn csub(x: u64, c: u64) -> u64 {
    x.min(x.wrapping_sub(c))
}

fn check(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(Error::LengthMismatch {
            what,
            expected,
            got,
        });
    }
    Ok(())
}

impl VecOps {
    /// Operations modulo `q` with the best kernel allowed by the CPU and `HELRM_ISA`.
    ///
    /// # Errors
    /// [`Error::InvalidModulus`] unless `2 ≤ q < 2^62`; [`Error::UnknownIsa`] for a bad
    /// `HELRM_ISA`.
    pub fn try_new(q: u64) -> Result<Self> {
        let cap = Isa::from_env()?.unwrap_or(Isa::Avx512Ifma);
        Self::try_new_with_isa(q, cap)
    }

    /// Operations modulo `q` with at most the kernel `isa` (falling back as
    /// [`crate::math::ntt::NttPlan::try_new_with_isa`] does).
    ///
    /// # Errors
    /// [`Error::InvalidModulus`] unless `2 ≤ q < 2^62`.
    pub fn try_new_with_isa(q: u64, isa: Isa) -> Result<Self> {
        let m = Modulus::new(q)?;
        Ok(Self {
            m,
            kernel: Kernel::select(isa, q),
            consts: VecConsts::new(q),
        })
    }

    /// The modulus.
    pub fn modulus(&self) -> &Modulus {
        &self.m
    }

    /// The kernel in use.
    pub fn isa(&self) -> Isa {
        self.kernel.isa()
    }

    /// `out[i] = a[i] + b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn add(&self, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
        check("vecops add: b", a.len(), b.len())?;
        check("vecops add: out", a.len(), out.len())?;
        let q = self.m.value();
        let done = simd::vec_add(self.kernel, q, a, b, out);
        for ((o, &x), &y) in out[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
            *o = csub(x.wrapping_add(y), q);
        }
        Ok(())
    }

    /// `out[i] = a[i] − b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn sub(&self, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
        check("vecops sub: b", a.len(), b.len())?;
        check("vecops sub: out", a.len(), out.len())?;
        let q = self.m.value();
        let done = simd::vec_sub(self.kernel, q, a, b, out);
        for ((o, &x), &y) in out[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
            let d = x.wrapping_sub(y);
            *o = d.min(d.wrapping_add(q));
        }
        Ok(())
    }

    /// `out[i] = a[i] · w mod q` for one multiplier `w` (any `u64`; reduced first), with
    /// Shoup's precomputed quotient.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `a` and `out` have equal lengths.
    pub fn mul_scalar(&self, a: &[u64], w: u64, out: &mut [u64]) -> Result<()> {
        check("vecops mul_scalar: out", a.len(), out.len())?;
        let q = self.m.value();
        let w = self.m.reduce(w);
        let ws = self.m.shoup(w);
        let ws52 = if q < 1 << 50 {
            ((u128::from(w) << 52) / u128::from(q)) as u64
        } else {
            0
        };
        let done = simd::vec_mul_scalar(self.kernel, q, a, (w, ws, ws52), out);
        for (o, &x) in out[done..].iter_mut().zip(&a[done..]) {
            *o = self.m.mul_shoup(x, w, ws);
        }
        Ok(())
    }

    /// `out[i] = a[i] · b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
        check("vecops mul: b", a.len(), b.len())?;
        check("vecops mul: out", a.len(), out.len())?;
        let done = simd::vec_mul(self.kernel, &self.consts, a, b, out);
        for ((o, &x), &y) in out[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
            *o = self.m.mul(x, y);
        }
        Ok(())
    }

    /// `acc[i] = acc[i] + a[i] · b[i] mod q` (the key-switching inner product step).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn mul_add(&self, a: &[u64], b: &[u64], acc: &mut [u64]) -> Result<()> {
        check("vecops mul_add: b", a.len(), b.len())?;
        check("vecops mul_add: acc", a.len(), acc.len())?;
        let q = self.m.value();
        let done = simd::vec_mul_add(self.kernel, &self.consts, a, b, acc);
        for ((o, &x), &y) in acc[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
            *o = csub(o.wrapping_add(self.m.mul(x, y)), q);
        }
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

    /// Every kernel this CPU runs against `u128` arithmetic, on lengths with and without a
    /// tail and on edge values.
    #[test]
    fn every_kernel_matches_u128_arithmetic() {
        let mut seed = 7u64;
        let mut moduli = generate_primes(1 << 10, &[20, 30, 49, 50, 55, 61, 62]).unwrap();
        moduli.extend([3, 97, (1 << 49) - 1, (1 << 62) - 2]); // small, composite, even
        for q in moduli {
            let qq = u128::from(q);
            for isa in Isa::available() {
                let ops = VecOps::try_new_with_isa(q, isa).unwrap();
                for len in [0usize, 1, 7, 8, 9, 64, 100] {
                    let mut a: Vec<u64> = (0..len).map(|_| rng(&mut seed) % q).collect();
                    let b: Vec<u64> = (0..len).map(|_| rng(&mut seed) % q).collect();
                    if len >= 3 {
                        (a[0], a[1], a[2]) = (q - 1, 0, q - 1);
                    }
                    let acc0: Vec<u64> = (0..len).map(|_| rng(&mut seed) % q).collect();
                    let w = rng(&mut seed);
                    let mut out = vec![0u64; len];
                    let name = ops.isa();
                    ops.add(&a, &b, &mut out).unwrap();
                    for i in 0..len {
                        let want = (u128::from(a[i]) + u128::from(b[i])) % qq;
                        assert_eq!(u128::from(out[i]), want, "add q={q} {name} i={i}");
                    }
                    ops.sub(&a, &b, &mut out).unwrap();
                    for i in 0..len {
                        let want = (u128::from(a[i]) + qq - u128::from(b[i])) % qq;
                        assert_eq!(u128::from(out[i]), want, "sub q={q} {name} i={i}");
                    }
                    ops.mul(&a, &b, &mut out).unwrap();
                    for i in 0..len {
                        let want = u128::from(a[i]) * u128::from(b[i]) % qq;
                        assert_eq!(u128::from(out[i]), want, "mul q={q} {name} i={i}");
                    }
                    ops.mul_scalar(&a, w, &mut out).unwrap();
                    for i in 0..len {
                        let want = u128::from(a[i]) * (u128::from(w) % qq) % qq;
                        assert_eq!(u128::from(out[i]), want, "mul_scalar q={q} {name} i={i}");
                    }
                    let mut acc = acc0.clone();
                    ops.mul_add(&a, &b, &mut acc).unwrap();
                    for i in 0..len {
                        let want = (u128::from(acc0[i]) + u128::from(a[i]) * u128::from(b[i])) % qq;
                        assert_eq!(u128::from(acc[i]), want, "mul_add q={q} {name} i={i}");
                    }
                }
            }
        }
    }

    #[test]
    fn bad_inputs_have_their_variants() {
        assert!(matches!(
            VecOps::try_new(1),
            Err(Error::InvalidModulus { q: 1, .. })
        ));
        assert!(matches!(
            VecOps::try_new(1 << 62),
            Err(Error::InvalidModulus { .. })
        ));
        let ops = VecOps::try_new(97).unwrap();
        let mut out = [0u64; 3];
        assert_eq!(
            ops.add(&[1, 2, 3], &[1, 2], &mut out),
            Err(Error::LengthMismatch {
                what: "vecops add: b",
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            ops.mul_add(&[1, 2], &[1, 2], &mut out),
            Err(Error::LengthMismatch {
                what: "vecops mul_add: acc",
                expected: 2,
                got: 3
            })
        );
        assert!(matches!(
            ops.mul_scalar(&[1], 5, &mut out),
            Err(Error::LengthMismatch { .. })
        ));
    }
}

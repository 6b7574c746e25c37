//! Element-wise modular arithmetic on slices, with run-time SIMD dispatch like the NTT.
//!
//! A [`VecOps`] fixes a modulus `2 ≤ q < 2^62` and a kernel ([`Isa`], capped by `HELRM_ISA`).
//! All operations take values in `[0, q)` and return values in `[0, q)`, identical on every
//! kernel; values outside `[0, q)` give unspecified results (never a panic).
//!
//! Which operations have SIMD kernels: with AVX-512 (F+DQ) the additions, subtractions and
//! multiplications by a fixed `w`; with AVX-512 IFMA also the products of two vectors (`mul`,
//! `mul_assign`, `mul_add`) and the key-switching inner product [`VecOps::dot2`], for any odd
//! `q` (Montgomery in radix `2^52`, two digits for `q ≥ 2^52`). Even moduli and the
//! `len % 8` tail run the portable code. The `*_assign` forms update their first operand in
//! place.
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
use super::simd::{self, DotRead, Kernel, VecConsts};
use crate::error::{Error, Result};

/// An index map `i → idx[i]` for [`VecOps::dot2`], checked once: every entry is below the
/// map's length (it need not be a bijection). Maps that send every aligned group of eight
/// positions into one aligned group of eight — every ring automorphism in the evaluation
/// order does — are recognised and read with one vector load and one in-register permutation
/// instead of a gather.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMap {
    idx: Vec<u32>,
    blocks: bool,
}

impl IndexMap {
    /// Checks and prepares `idx`.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] for an entry that is not below `idx.len()`.
    pub fn new(idx: &[u32]) -> Result<Self> {
        let n = idx.len();
        if let Some(&bad) = idx.iter().find(|&&i| i as usize >= n) {
            return Err(Error::InvalidLayout {
                what: "index map entry",
                value: bad as usize,
                expected: "below the map length",
            });
        }
        let blocks = n.is_multiple_of(8)
            && idx
                .chunks_exact(8)
                .all(|g| g.iter().all(|&i| i >> 3 == g[0] >> 3));
        Ok(Self {
            idx: idx.to_vec(),
            blocks,
        })
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// The indices.
    pub fn indices(&self) -> &[u32] {
        &self.idx
    }

    /// Whether every aligned group of eight positions maps into one aligned group of eight.
    pub fn is_blockwise(&self) -> bool {
        self.blocks
    }
}

/// Element-wise operations modulo one `q`, with the kernel chosen for this CPU.
#[derive(Debug, Clone)]
pub struct VecOps {
    m: Modulus,
    /// The kernel for this modulus (IFMA only for `q < 2^50`).
    kernel: Kernel,
    /// The most capable kernel allowed regardless of the modulus size (for the radix-`2^52`
    /// kernels that take any `q < 2^62`).
    wide: Kernel,
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
            wide: Kernel::select(isa, 0),
            consts: VecConsts::new(q),
        })
    }

    /// The modulus.
    pub fn modulus(&self) -> &Modulus {
        &self.m
    }

    /// The most capable instruction set the operations on this modulus use (an IFMA-capable
    /// CPU multiplies with IFMA for every odd `q`; additions of large primes use AVX-512).
    pub fn isa(&self) -> Isa {
        self.kernel.isa().max(self.wide.isa())
    }

    /// `out[i] = a[i] + b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn add(&self, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
        check("vecops add: b", a.len(), b.len())?;
        check("vecops add: out", a.len(), out.len())?;
        self.add_impl(Some(a), b, out);
        Ok(())
    }

    /// `acc[i] = acc[i] + b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the slices have equal lengths.
    pub fn add_assign(&self, acc: &mut [u64], b: &[u64]) -> Result<()> {
        check("vecops add_assign: b", acc.len(), b.len())?;
        self.add_impl(None, b, acc);
        Ok(())
    }

    fn add_impl(&self, a: Option<&[u64]>, b: &[u64], out: &mut [u64]) {
        let q = self.m.value();
        let done = simd::vec_add(self.kernel, q, a, b, out);
        for (i, (o, &y)) in out.iter_mut().zip(b).enumerate().skip(done) {
            let x = a.map_or(*o, |a| a[i]);
            *o = csub(x.wrapping_add(y), q);
        }
    }

    /// `out[i] = a[i] − b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn sub(&self, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
        check("vecops sub: b", a.len(), b.len())?;
        check("vecops sub: out", a.len(), out.len())?;
        self.sub_impl(Some(a), b, out);
        Ok(())
    }

    /// `acc[i] = acc[i] − b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the slices have equal lengths.
    pub fn sub_assign(&self, acc: &mut [u64], b: &[u64]) -> Result<()> {
        check("vecops sub_assign: b", acc.len(), b.len())?;
        self.sub_impl(None, b, acc);
        Ok(())
    }

    fn sub_impl(&self, a: Option<&[u64]>, b: &[u64], out: &mut [u64]) {
        let q = self.m.value();
        let done = simd::vec_sub(self.kernel, q, a, b, out);
        for (i, (o, &y)) in out.iter_mut().zip(b).enumerate().skip(done) {
            let d = a.map_or(*o, |a| a[i]).wrapping_sub(y);
            *o = d.min(d.wrapping_add(q));
        }
    }

    /// `w` reduced, with its 64-bit and (when `q < 2^50`) 52-bit Shoup quotients.
    fn scalar(&self, w: u64) -> (u64, u64, u64) {
        let q = self.m.value();
        let w = self.m.reduce(w);
        let ws52 = if q < crate::math::ntt::IFMA_MAX_MODULUS {
            ((u128::from(w) << 52) / u128::from(q)) as u64
        } else {
            0
        };
        (w, self.m.shoup(w), ws52)
    }

    /// `out[i] = a[i] · w mod q` for one multiplier `w` (any `u64`; reduced first), with
    /// Shoup's precomputed quotient.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `a` and `out` have equal lengths.
    pub fn mul_scalar(&self, a: &[u64], w: u64, out: &mut [u64]) -> Result<()> {
        check("vecops mul_scalar: out", a.len(), out.len())?;
        let w = self.scalar(w);
        let done = simd::vec_mul_scalar(self.kernel, self.m.value(), Some(a), None, w, out);
        for (o, &x) in out[done..].iter_mut().zip(&a[done..]) {
            *o = self.m.mul_shoup(x, w.0, w.1);
        }
        Ok(())
    }

    /// `acc[i] = acc[i] · w mod q` for one multiplier `w` (any `u64`; reduced first).
    pub fn mul_scalar_assign(&self, acc: &mut [u64], w: u64) {
        let w = self.scalar(w);
        let done = simd::vec_mul_scalar(self.kernel, self.m.value(), None, None, w, acc);
        for o in &mut acc[done..] {
            *o = self.m.mul_shoup(*o, w.0, w.1);
        }
    }

    /// `acc[i] = (acc[i] − b[i]) · w mod q` for one multiplier `w` (any `u64`; reduced first):
    /// the last step of ModDown, `(x − Conv(x_P)) · P^{-1}`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the slices have equal lengths.
    pub fn sub_mul_scalar_assign(&self, acc: &mut [u64], b: &[u64], w: u64) -> Result<()> {
        check("vecops sub_mul_scalar_assign: b", acc.len(), b.len())?;
        let q = self.m.value();
        let w = self.scalar(w);
        let done = simd::vec_mul_scalar(self.kernel, q, None, Some(b), w, acc);
        for (o, &y) in acc[done..].iter_mut().zip(&b[done..]) {
            *o = self.m.mul_shoup(*o + q - y, w.0, w.1);
        }
        Ok(())
    }

    /// `out[i] = (a[i] − b[i]) · w mod q` for one multiplier `w` (any `u64`; reduced first).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn sub_mul_scalar(&self, a: &[u64], b: &[u64], w: u64, out: &mut [u64]) -> Result<()> {
        check("vecops sub_mul_scalar: b", a.len(), b.len())?;
        check("vecops sub_mul_scalar: out", a.len(), out.len())?;
        let q = self.m.value();
        let w = self.scalar(w);
        let done = simd::vec_mul_scalar(self.kernel, q, Some(a), Some(b), w, out);
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b).skip(done) {
            *o = self.m.mul_shoup(x + q - y, w.0, w.1);
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
        self.mul_impl(Some(a), b, out, false);
        Ok(())
    }

    /// `acc[i] = acc[i] · b[i] mod q`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the slices have equal lengths.
    pub fn mul_assign(&self, acc: &mut [u64], b: &[u64]) -> Result<()> {
        check("vecops mul_assign: b", acc.len(), b.len())?;
        self.mul_impl(None, b, acc, false);
        Ok(())
    }

    /// `acc[i] = acc[i] + a[i] · b[i] mod q` (the key-switching inner product step).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the three slices have equal lengths.
    pub fn mul_add(&self, a: &[u64], b: &[u64], acc: &mut [u64]) -> Result<()> {
        check("vecops mul_add: b", a.len(), b.len())?;
        check("vecops mul_add: acc", a.len(), acc.len())?;
        self.mul_impl(Some(a), b, acc, true);
        Ok(())
    }

    fn mul_impl(&self, a: Option<&[u64]>, b: &[u64], out: &mut [u64], add: bool) {
        let q = self.m.value();
        let done = simd::vec_mul_wide(self.wide, &self.consts, a, b, out, add);
        for (i, (o, &y)) in out.iter_mut().zip(b).enumerate().skip(done) {
            let x = a.map_or(*o, |a| a[i]);
            let p = self.m.mul(x, y);
            *o = if add { csub(o.wrapping_add(p), q) } else { p };
        }
    }

    /// `acc[i] = acc[i] + src[map[i]] mod q`: adding a ring automorphism of `src` in
    /// evaluation form without forming it.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `acc`, `src` and `map` have one length.
    pub fn add_mapped_assign(&self, acc: &mut [u64], src: &[u64], map: &IndexMap) -> Result<()> {
        check("vecops add_mapped_assign: src", acc.len(), src.len())?;
        check("vecops add_mapped_assign: map", acc.len(), map.len())?;
        let q = self.m.value();
        let done = if map.blocks {
            simd::vec_add_mapped(self.kernel, q, src, &map.idx, acc)
        } else {
            0
        };
        for (o, &i) in acc.iter_mut().zip(&map.idx).skip(done) {
            *o = csub(o.wrapping_add(src[i as usize]), q);
        }
        Ok(())
    }

    /// The inner product of key switching on one limb, for two keys at once:
    /// `out0[i] = Σ_j x_j[π(i)]·k0_j[i] mod q` and `out1[i] = Σ_j x_j[π(i)]·k1_j[i] mod q`,
    /// where `π` is `perm` (the identity when `None`; an automorphism in evaluation form is
    /// such a map, so hoisted rotations read their digits through it). The sums are reduced
    /// once per output, not per product.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `x`, `k0` and `k1` have equally many limbs and every
    /// limb, `perm` and both outputs have one length.
    #[allow(
        clippy::too_many_arguments,
        reason = "one limb of each operand, all needed"
    )]
    pub fn dot2(
        &self,
        x: &[&[u64]],
        perm: Option<&IndexMap>,
        k0: &[&[u64]],
        k1: &[&[u64]],
        out0: &mut [u64],
        out1: &mut [u64],
    ) -> Result<()> {
        let n = out0.len();
        check("vecops dot2: out1", n, out1.len())?;
        check("vecops dot2: k0 limbs", x.len(), k0.len())?;
        check("vecops dot2: k1 limbs", x.len(), k1.len())?;
        for s in x.iter().chain(k0).chain(k1) {
            check("vecops dot2: limb", n, s.len())?;
        }
        let read = match perm {
            Some(p) => {
                check("vecops dot2: index map", n, p.len())?;
                DotRead::Map(&p.idx, p.blocks)
            }
            None => DotRead::Direct,
        };
        let perm = perm.map(|p| p.idx.as_slice());
        let done = simd::dot2(self.wide, &self.consts, x, read, k0, k1, out0, out1);
        // Products below 2^124: fifteen of them and a reduced partial sum fit in a u128.
        let m = &self.m;
        for i in done..n {
            let src = perm.map_or(i, |p| p[i] as usize);
            let (mut s0, mut s1) = (0u128, 0u128);
            for (c, ((xj, kj0), kj1)) in x.iter().zip(k0).zip(k1).enumerate() {
                if c > 0 && c % 15 == 0 {
                    s0 = u128::from(m.reduce_u128(s0));
                    s1 = u128::from(m.reduce_u128(s1));
                }
                let v = u128::from(xj[src]);
                s0 += v * u128::from(kj0[i]);
                s1 += v * u128::from(kj1[i]);
            }
            out0[i] = m.reduce_u128(s0);
            out1[i] = m.reduce_u128(s1);
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
                    // In-place forms against their out-of-place twins.
                    let mut want = vec![0u64; len];
                    let mut acc = a.clone();
                    ops.add_assign(&mut acc, &b).unwrap();
                    ops.add(&a, &b, &mut want).unwrap();
                    assert_eq!(acc, want, "add_assign q={q} {name}");
                    let mut acc = a.clone();
                    ops.sub_assign(&mut acc, &b).unwrap();
                    ops.sub(&a, &b, &mut want).unwrap();
                    assert_eq!(acc, want, "sub_assign q={q} {name}");
                    let mut acc = a.clone();
                    ops.mul_assign(&mut acc, &b).unwrap();
                    ops.mul(&a, &b, &mut want).unwrap();
                    assert_eq!(acc, want, "mul_assign q={q} {name}");
                    let mut acc = a.clone();
                    ops.mul_scalar_assign(&mut acc, w);
                    ops.mul_scalar(&a, w, &mut want).unwrap();
                    assert_eq!(acc, want, "mul_scalar_assign q={q} {name}");
                    ops.sub_mul_scalar(&a, &b, w, &mut want).unwrap();
                    let mut acc = a.clone();
                    ops.sub_mul_scalar_assign(&mut acc, &b, w).unwrap();
                    assert_eq!(acc, want, "sub_mul_scalar q={q} {name}");
                    for i in 0..len {
                        let d = (u128::from(a[i]) + qq - u128::from(b[i])) % qq;
                        let want = d * (u128::from(w) % qq) % qq;
                        assert_eq!(
                            u128::from(acc[i]),
                            want,
                            "sub_mul_scalar q={q} {name} i={i}"
                        );
                    }
                }
            }
        }
    }

    /// The inner product against `u128` arithmetic on every kernel, with and without a
    /// permutation, for one to twenty terms (the portable code folds every fifteen).
    #[test]
    fn dot2_matches_u128_arithmetic_on_every_kernel() {
        let mut seed = 11u64;
        let mut moduli = generate_primes(1 << 10, &[30, 40, 50, 51, 55, 61, 62]).unwrap();
        moduli.extend([97, (1 << 62) - 2]);
        for q in moduli {
            let qq = u128::from(q);
            for terms in [1usize, 4, 16, 20] {
                for len in [0usize, 5, 64, 77] {
                    let mut gen = |_| rng(&mut seed) % q;
                    let x: Vec<Vec<u64>> = (0..terms)
                        .map(|_| (0..len).map(&mut gen).collect())
                        .collect();
                    let mut k0: Vec<Vec<u64>> = (0..terms)
                        .map(|_| (0..len).map(&mut gen).collect())
                        .collect();
                    let k1: Vec<Vec<u64>> = (0..terms)
                        .map(|_| (0..len).map(&mut gen).collect())
                        .collect();
                    if len > 0 {
                        k0[0][0] = q - 1;
                    }
                    // A scattered map (gather) and a blockwise one (aligned groups of eight
                    // permuted within and among themselves).
                    let scattered: Vec<u32> =
                        (0..len as u32).map(|i| (i * 7 + 3) % len as u32).collect();
                    let groups = len as u32 / 8;
                    let blockwise: Vec<u32> = (0..len as u32)
                        .map(|i| {
                            if i >= 8 * groups {
                                i
                            } else {
                                8 * ((i / 8 * 5 + 1) % groups) + (i % 8 * 3 + 2) % 8
                            }
                        })
                        .collect();
                    let maps = [
                        IndexMap::new(&scattered).unwrap(),
                        IndexMap::new(&blockwise).unwrap(),
                    ];
                    assert_eq!(maps[1].is_blockwise(), len % 8 == 0);
                    let xs: Vec<&[u64]> = x.iter().map(Vec::as_slice).collect();
                    let k0s: Vec<&[u64]> = k0.iter().map(Vec::as_slice).collect();
                    let k1s: Vec<&[u64]> = k1.iter().map(Vec::as_slice).collect();
                    for isa in Isa::available() {
                        let ops = VecOps::try_new_with_isa(q, isa).unwrap();
                        for p in [None, Some(&maps[0]), Some(&maps[1])] {
                            let (mut o0, mut o1) = (vec![0u64; len], vec![0u64; len]);
                            ops.dot2(&xs, p, &k0s, &k1s, &mut o0, &mut o1).unwrap();
                            if let Some(map) = p {
                                let mut acc = k1[0].clone();
                                ops.add_mapped_assign(&mut acc, &x[0], map).unwrap();
                                for i in 0..len {
                                    let s = map.indices()[i] as usize;
                                    let want = (u128::from(k1[0][i]) + u128::from(x[0][s])) % qq;
                                    assert_eq!(u128::from(acc[i]), want, "add_mapped q={q} {isa}");
                                }
                            }
                            for i in 0..len {
                                let s = p.map_or(i, |p| p.indices()[i] as usize);
                                let (mut w0, mut w1) = (0u128, 0u128);
                                for j in 0..terms {
                                    w0 = (w0 + u128::from(x[j][s]) * u128::from(k0[j][i])) % qq;
                                    w1 = (w1 + u128::from(x[j][s]) * u128::from(k1[j][i])) % qq;
                                }
                                assert_eq!(u128::from(o0[i]), w0, "q={q} {isa} t={terms} i={i}");
                                assert_eq!(u128::from(o1[i]), w1, "q={q} {isa} t={terms} i={i}");
                            }
                        }
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
        let (x, k): (&[u64], &[u64]) = (&[1, 2], &[3, 4]);
        let (mut o0, mut o1) = ([0u64; 2], [0u64; 2]);
        assert_eq!(
            IndexMap::new(&[0, 2]),
            Err(Error::InvalidLayout {
                what: "index map entry",
                value: 2,
                expected: "below the map length"
            })
        );
        let three = IndexMap::new(&[0, 1, 2]).unwrap();
        assert!(matches!(
            ops.dot2(&[x], Some(&three), &[k], &[k], &mut o0, &mut o1),
            Err(Error::LengthMismatch {
                what: "vecops dot2: index map",
                expected: 2,
                got: 3
            })
        ));
        assert_eq!(
            ops.dot2(&[x], None, &[k, k], &[k], &mut o0, &mut o1),
            Err(Error::LengthMismatch {
                what: "vecops dot2: k0 limbs",
                expected: 1,
                got: 2
            })
        );
        assert!(matches!(
            ops.dot2(&[x], None, &[k], &[k], &mut o0, &mut [0u64; 3]),
            Err(Error::LengthMismatch {
                what: "vecops dot2: out1",
                ..
            })
        ));
    }
}

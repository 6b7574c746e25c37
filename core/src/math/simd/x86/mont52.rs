//! AVX-512 IFMA kernels in radix `B = 2^52` for any odd modulus `p < 2^62`: the fast base
//! conversion of RNS key switching, the key inner product, and element-wise products for primes
//! too large for the one-word IFMA kernels.
//!
//! # Arithmetic
//! A value below `2^62` is two digits `x = x₀ + x₁·B` with `x₁ < 2^10`; `vpmadd52{lo,hi}uq`
//! read the low 52 bits of their operands, so `x₀` needs no masking and `x₁ = x >> 52`. A
//! product `x·c` is accumulated exactly, without carries, into three digit accumulators
//! `D₀ + D₁·B + D₂·B²` (each 64-bit lane gains at most three 52-bit pieces per product, so a
//! few hundred products fit): `lo(x₀c₀) → D₀`, `hi(x₀c₀) + lo(x₀c₁) + lo(x₁c₀) → D₁`,
//! `hi(x₀c₁) + hi(x₁c₀) + lo(x₁c₁) → D₂` (`x₁c₁ < 2^20`). When both factors are below `B`
//! only the first two pieces exist.
//!
//! The sum `T` is reduced by two Montgomery steps with `p' = −p^{-1} mod B` ([`redc2`]):
//! `k = lo(D₀·p')`, then `(T + k·p)/B` is exact and its digits are formed from `D₁`, `D₂`, the
//! carry `D₀ >> 52`, `[lo52(D₀) ≠ 0]` (the low digits sum to `B` exactly when `D₀`'s low
//! digit is nonzero) and the pieces of `k·p = k·p₀ + k·p₁·B`. Two steps leave
//! `R ≡ T·B^{-2} (mod p)` with `R < T/B² + p·(1 + 1/B)`, which is below `2p` whenever
//! `T < p·2^100` (true for fewer than `2^38` products of factors below `2^62` — with one factor
//! below `p`, as everywhere here); one conditional subtraction gives `[0, p)`. The factor
//! `B^{-2}` is either folded into precomputed constants (base conversion) or removed by one
//! Shoup multiplication by `B² mod p` (variable × variable products).
//!
//! Every result is the canonical residue, so it equals the portable code's bit for bit.
//!
//! # References
//! P. Montgomery, "Modular multiplication without trial division", Math. Comp. 44 (1985);
//! S. Gueron, V. Krasnov, "Accelerating big integer arithmetic using Intel IFMA extensions",
//! ARITH 2016; F. Boemer et al., "Intel HEXL", WAHC 2021 (IFMA for RNS arithmetic).

use super::avx512::{load8, mul_epu32_opaque, store8};
use super::Ifma;
use crate::math::simd::VecConsts;
use std::arch::x86_64::*;

const MASK52: u64 = (1 << 52) - 1;

/// Largest number of products one accumulation may hold (three 52-bit pieces per product and
/// digit stay below `2^64` up to 1365; a margin is kept).
pub(crate) const MAX_TERMS: usize = 1024;

/// A modulus broadcast for [`redc2`].
#[derive(Clone, Copy)]
struct Mod52 {
    p: __m512i,
    p0: __m512i,
    p1: __m512i,
    pinv: __m512i,
    mask: __m512i,
    one: __m512i,
}

impl Mod52 {
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn new(p: u64, pinv: u64) -> Self {
        Self {
            p: _mm512_set1_epi64(p as i64),
            p0: _mm512_set1_epi64((p & MASK52) as i64),
            p1: _mm512_set1_epi64((p >> 52) as i64),
            pinv: _mm512_set1_epi64(pinv as i64),
            mask: _mm512_set1_epi64(MASK52 as i64),
            one: _mm512_set1_epi64(1),
        }
    }
}

/// `T·B^{-2} mod p` in `[0, p)` for `T = d0 + d1·B + d2·B²` (module docs; `BIG`: `p ≥ 2^52`).
#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
#[inline]
fn redc2<const BIG: bool>(m: &Mod52, d0: __m512i, d1: __m512i, d2: __m512i) -> __m512i {
    let z = _mm512_setzero_si512();
    // Step 1: (T + k·p) / B = E0 + E1·B.
    let k = _mm512_madd52lo_epu64(z, d0, m.pinv);
    let nz = _mm512_test_epi64_mask(d0, m.mask);
    let mut e0 = _mm512_add_epi64(d1, _mm512_srli_epi64::<52>(d0));
    e0 = _mm512_madd52hi_epu64(e0, k, m.p0);
    let mut e1 = d2;
    if BIG {
        e0 = _mm512_madd52lo_epu64(e0, k, m.p1);
        e1 = _mm512_madd52hi_epu64(e1, k, m.p1);
    }
    e0 = _mm512_mask_add_epi64(e0, nz, e0, m.one);
    // Step 2: (E + k·p) / B, assembled into one word (it is below 2p < 2^63).
    let k = _mm512_madd52lo_epu64(z, e0, m.pinv);
    let nz = _mm512_test_epi64_mask(e0, m.mask);
    let mut f = _mm512_add_epi64(e1, _mm512_srli_epi64::<52>(e0));
    f = _mm512_madd52hi_epu64(f, k, m.p0);
    if BIG {
        f = _mm512_madd52lo_epu64(f, k, m.p1);
        let h = _mm512_madd52hi_epu64(z, k, m.p1);
        f = _mm512_add_epi64(f, _mm512_slli_epi64::<52>(h));
    }
    f = _mm512_mask_add_epi64(f, nz, f, m.one);
    _mm512_min_epu64(f, _mm512_sub_epi64(f, m.p))
}

/// Adds `x·c` to the digit accumulators, given the high digits `xh = x >> 52`, `ch = c >> 52`
/// (`x, c < 2^62`). `XB` / `CB`: `x` / `c` may reach `2^52` (otherwise its high digit is zero
/// and is not read).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn acc<const XB: bool, const CB: bool>(
    d: &mut (__m512i, __m512i, __m512i),
    x: __m512i,
    c: __m512i,
    xh: __m512i,
    ch: __m512i,
) {
    d.0 = _mm512_madd52lo_epu64(d.0, x, c);
    d.1 = _mm512_madd52hi_epu64(d.1, x, c);
    if CB {
        d.1 = _mm512_madd52lo_epu64(d.1, x, ch);
        d.2 = _mm512_madd52hi_epu64(d.2, x, ch);
    }
    if XB {
        d.1 = _mm512_madd52lo_epu64(d.1, xh, c);
        d.2 = _mm512_madd52hi_epu64(d.2, xh, c);
    }
    if XB && CB {
        d.2 = _mm512_madd52lo_epu64(d.2, xh, ch);
    }
}

/// Constants for multiplying by a fixed `w < p` (Shoup), applied after [`redc2`] to remove
/// the factor `B^{-2}`: with `p < 2^50` the 52-bit quotient (IFMA), else the 64-bit one.
#[derive(Clone, Copy)]
struct Fix {
    w: __m512i,
    ws: __m512i,
    ws_hi: __m512i,
    neg_p52: __m512i,
    mask: __m512i,
    p: __m512i,
    two_p: __m512i,
}

impl Fix {
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn new(c: &VecConsts) -> Self {
        let small = c.q < crate::math::ntt::IFMA_MAX_MODULUS;
        let ws = if small { c.r2_shoup52 } else { c.r2_shoup };
        Self {
            w: _mm512_set1_epi64(c.r2 as i64),
            ws: _mm512_set1_epi64(ws as i64),
            ws_hi: _mm512_set1_epi64((ws >> 32) as i64),
            neg_p52: _mm512_set1_epi64(((1u64 << 52).wrapping_sub(c.q) & MASK52) as i64),
            mask: _mm512_set1_epi64(MASK52 as i64),
            p: _mm512_set1_epi64(c.q as i64),
            two_p: _mm512_set1_epi64((2 * c.q) as i64),
        }
    }

    /// `y·w mod p` in `[0, p)` for `y < p`; `SMALL`: `p < 2^50`.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    #[inline]
    fn apply<const SMALL: bool>(&self, y: __m512i) -> __m512i {
        let r = if SMALL {
            let z = _mm512_setzero_si512();
            let qh = _mm512_madd52hi_epu64(z, y, self.ws);
            let r = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(z, y, self.w), qh, self.neg_p52);
            _mm512_and_si512(r, self.mask)
        } else {
            // 64-bit Shoup with the quotient estimated from three 32-bit products (at most 2
            // low, as in the AVX-512 NTT kernel): the remainder lies in [0, 4p).
            let yh = _mm512_srli_epi64::<32>(y);
            let lh = _mm512_mul_epu32(y, self.ws_hi);
            let hl = mul_epu32_opaque(yh, self.ws);
            let hh = mul_epu32_opaque(yh, self.ws_hi);
            let qa = _mm512_add_epi64(
                hh,
                _mm512_add_epi64(_mm512_srli_epi64::<32>(lh), _mm512_srli_epi64::<32>(hl)),
            );
            let r = _mm512_sub_epi64(
                _mm512_mullo_epi64(y, self.w),
                _mm512_mullo_epi64(qa, self.p),
            );
            _mm512_min_epu64(r, _mm512_sub_epi64(r, self.two_p))
        };
        _mm512_min_epu64(r, _mm512_sub_epi64(r, self.p))
    }
}

// ---- fast base conversion ---------------------------------------------------------------------

/// One output limb of a fast base conversion: `out[t] = Σ_i y[i·stride + t]·c_i mod p` for
/// the first `8⌊out.len()/8⌋` coefficients, where `c_i = cs[i]` holds the two digits
/// `(lo52, hi)` of `[Q/q_i]_p · B² mod p` (so the `B^{-2}` of [`redc2`] cancels). `y_big`:
/// some `y` may reach `2^52`. Requires odd `p < 2^62`, `y < 2^62`, `cs.len() ≤ MAX_TERMS` and
/// `y` to hold `cs.len()` rows of `stride ≥ out.len()` words (checked; a violation does
/// nothing and returns 0). Returns how many leading coefficients it wrote.
#[allow(
    clippy::too_many_arguments,
    reason = "plan constants and one block of data"
)]
pub(crate) fn conv_dot(
    tok: Ifma,
    cs: &[[u64; 2]],
    p: u64,
    pinv: u64,
    y: &[u64],
    stride: usize,
    y_big: bool,
    out: &mut [u64],
) -> usize {
    let len = out.len() / 8 * 8;
    if cs.len() > MAX_TERMS || stride < len || y.len() < cs.len() * stride || p.is_multiple_of(2) {
        return 0;
    }
    let big_p = p >> 52 != 0;
    // SAFETY: the token proves AVX-512 F, DQ and IFMA were detected.
    unsafe {
        match (y_big, big_p) {
            (false, false) => conv_impl::<false, false>(tok, cs, p, pinv, y, stride, out),
            (false, true) => conv_impl::<false, true>(tok, cs, p, pinv, y, stride, out),
            (true, false) => conv_impl::<true, false>(tok, cs, p, pinv, y, stride, out),
            (true, true) => conv_impl::<true, true>(tok, cs, p, pinv, y, stride, out),
        }
    }
    len
}

#[allow(
    clippy::too_many_arguments,
    reason = "plan constants and one block of data"
)]
#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn conv_impl<const YB: bool, const PB: bool>(
    tok: Ifma,
    cs: &[[u64; 2]],
    p: u64,
    pinv: u64,
    y: &[u64],
    stride: usize,
    out: &mut [u64],
) {
    let m = Mod52::new(p, pinv);
    let len = out.len() / 8 * 8;
    let (blocks, _) = out[..len].as_chunks_mut::<8>();
    // Four vectors at a time (each constant is broadcast once per 32 coefficients and the
    // twelve accumulators stay in registers), then single vectors.
    let (groups, singles) = blocks.as_chunks_mut::<4>();
    for (g, group) in groups.iter_mut().enumerate() {
        conv_group::<4, YB, PB>(tok, cs, &m, y, stride, 32 * g, group);
    }
    let t0 = 32 * groups.len();
    for (v, single) in singles.iter_mut().enumerate() {
        conv_group::<1, YB, PB>(
            tok,
            cs,
            &m,
            y,
            stride,
            t0 + 8 * v,
            std::array::from_mut(single),
        );
    }
}

/// `V` vectors of [`conv_impl`] starting at coefficient `t`.
#[allow(
    clippy::too_many_arguments,
    reason = "plan constants and one block of data"
)]
#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
#[inline]
fn conv_group<const V: usize, const YB: bool, const PB: bool>(
    tok: Ifma,
    cs: &[[u64; 2]],
    m: &Mod52,
    y: &[u64],
    stride: usize,
    t: usize,
    out: &mut [[u64; 8]; V],
) {
    let t8 = tok.avx512();
    let z = _mm512_setzero_si512();
    let mut d = [(z, z, z); V];
    for (i, c) in cs.iter().enumerate() {
        let (c0, c1) = (
            _mm512_set1_epi64(c[0] as i64),
            _mm512_set1_epi64(c[1] as i64),
        );
        let (row, _) = y[i * stride + t..i * stride + t + 8 * V].as_chunks::<8>();
        for v in 0..V {
            let x = load8(t8, &row[v]);
            let xh = if YB { _mm512_srli_epi64::<52>(x) } else { z };
            acc::<YB, PB>(&mut d[v], x, c0, xh, c1);
        }
    }
    for v in 0..V {
        store8(t8, &mut out[v], redc2::<PB>(m, d[v].0, d[v].1, d[v].2));
    }
}

// ---- variable × variable ----------------------------------------------------------------------

/// Element-wise `out[i] = x[i]·b[i] mod q`, or `out[i] + x[i]·b[i]` with `add`, where `x` is
/// `a` or (for `None`, and then `add` must be false) the old `out`; any odd `q < 2^62`, the
/// first `8⌊len/8⌋` words. Returns that count (0 for an even `q` or unequal lengths).
pub(crate) fn mul(
    tok: Ifma,
    c: &VecConsts,
    a: Option<&[u64]>,
    b: &[u64],
    out: &mut [u64],
    add: bool,
) -> usize {
    if c.q.is_multiple_of(2) || a.is_some_and(|a| a.len() != out.len()) || b.len() != out.len() {
        return 0;
    }
    let add = add && a.is_some();
    let small = c.q < crate::math::ntt::IFMA_MAX_MODULUS;
    let big = c.q >> 52 != 0;
    // SAFETY: the token proves AVX-512 F, DQ and IFMA were detected.
    unsafe {
        match (add, small, big) {
            (false, true, _) => mul_impl::<false, true, false>(tok, c, a, b, out),
            (false, false, false) => mul_impl::<false, false, false>(tok, c, a, b, out),
            (false, false, true) => mul_impl::<false, false, true>(tok, c, a, b, out),
            (true, true, _) => mul_impl::<true, true, false>(tok, c, a, b, out),
            (true, false, false) => mul_impl::<true, false, false>(tok, c, a, b, out),
            (true, false, true) => mul_impl::<true, false, true>(tok, c, a, b, out),
        }
    }
    out.len() / 8 * 8
}

#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn mul_impl<const ADD: bool, const SMALL: bool, const BIG: bool>(
    tok: Ifma,
    c: &VecConsts,
    a: Option<&[u64]>,
    b: &[u64],
    out: &mut [u64],
) {
    let t8 = tok.avx512();
    let m = Mod52::new(c.q, c.q_inv_neg52);
    let fix = Fix::new(c);
    let z = _mm512_setzero_si512();
    let (a, _) = a.unwrap_or(&[]).as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for (v, (b, o)) in b.iter().zip(o).enumerate() {
        let x = match a.get(v) {
            Some(a) => load8(t8, a),
            None => load8(t8, o),
        };
        let y = load8(t8, b);
        let mut d = (z, z, z);
        if BIG {
            let (xh, yh) = (_mm512_srli_epi64::<52>(x), _mm512_srli_epi64::<52>(y));
            acc::<true, true>(&mut d, x, y, xh, yh);
        } else {
            acc::<false, false>(&mut d, x, y, z, z);
        }
        let r = fix.apply::<SMALL>(redc2::<BIG>(&m, d.0, d.1, d.2));
        if ADD {
            let s = _mm512_add_epi64(load8(t8, o), r);
            store8(t8, o, _mm512_min_epu64(s, _mm512_sub_epi64(s, m.p)));
        } else {
            store8(t8, o, r);
        }
    }
}

/// Vectors ahead of use at which [`dot2`] prefetches the permuted digit groups.
const PREFETCH: usize = 16;

/// How [`dot2`] reads the digits.
#[derive(Clone, Copy)]
pub(crate) enum Read<'a> {
    /// `x_j[i]`.
    Direct,
    /// `x_j[perm[i]]` with a gather per vector.
    Gather(&'a [u32]),
    /// `x_j[perm[i]]` where every aligned group of eight indices maps into one aligned group
    /// of eight (true of every automorphism in evaluation form): one load and one in-register
    /// permutation per vector.
    Blocks(&'a [u32]),
}

/// The key-switching inner product on one limb: `out0[i] = Σ_j x_j[π(i)]·k0_j[i] mod q` and
/// `out1[i] = Σ_j x_j[π(i)]·k1_j[i] mod q` (`π` the identity for [`Read::Direct`]), for any
/// odd `q < 2^62` and the first `8⌊len/8⌋` coefficients. Requires every slice of length
/// `out0.len()`, `x`, `k0`, `k1` of one length up to [`MAX_TERMS`], and every index below that
/// length (all checked: a violation does nothing and returns 0; a [`Read::Blocks`] map
/// without the block property gives wrong values, never unsafety). Returns how many leading
/// coefficients it wrote.
#[allow(
    clippy::too_many_arguments,
    reason = "one limb of each operand, all needed"
)]
pub(crate) fn dot2(
    tok: Ifma,
    c: &VecConsts,
    x: &[&[u64]],
    read: Read<'_>,
    k0: &[&[u64]],
    k1: &[&[u64]],
    out0: &mut [u64],
    out1: &mut [u64],
) -> usize {
    let n = out0.len();
    let ok = !c.q.is_multiple_of(2)
        && out1.len() == n
        && x.len() == k0.len()
        && x.len() == k1.len()
        && x.len() <= MAX_TERMS
        && x.iter().chain(k0).chain(k1).all(|s| s.len() == n)
        && match read {
            Read::Direct => true,
            Read::Blocks(p) => p.len() == n,
            Read::Gather(p) => p.len() == n && p.iter().all(|&i| (i as usize) < n),
        };
    if !ok {
        return 0;
    }
    let small = c.q < crate::math::ntt::IFMA_MAX_MODULUS;
    let big = c.q >> 52 != 0;
    macro_rules! go {
        ($mode:literal, $p:expr) => {
            match (small, big) {
                (true, _) => dot2_impl::<$mode, true, false>(tok, c, x, $p, k0, k1, out0, out1),
                (false, false) => {
                    dot2_impl::<$mode, false, false>(tok, c, x, $p, k0, k1, out0, out1)
                }
                (false, true) => dot2_impl::<$mode, false, true>(tok, c, x, $p, k0, k1, out0, out1),
            }
        };
    }
    // SAFETY: the token proves AVX-512 F, DQ and IFMA were detected, and the checks above
    // put every gathered index inside its digit limb.
    unsafe {
        match read {
            Read::Direct => go!(0, &[]),
            Read::Gather(p) => go!(1, p),
            Read::Blocks(p) => go!(2, p),
        }
    }
    n / 8 * 8
}

/// # Safety
/// With `MODE == 1` (gather), every entry of `perm` is below the length of every `x_j`, and
/// `perm` has at least `8⌊out0.len()/8⌋` entries. Modes 0 (direct) and 2 (blocks) read
/// through bounds-checked slices. The other lengths are as [`dot2`] checks.
#[allow(
    clippy::too_many_arguments,
    reason = "one limb of each operand, all needed"
)]
#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
unsafe fn dot2_impl<const MODE: u8, const SMALL: bool, const BIG: bool>(
    tok: Ifma,
    c: &VecConsts,
    x: &[&[u64]],
    perm: &[u32],
    k0: &[&[u64]],
    k1: &[&[u64]],
    out0: &mut [u64],
    out1: &mut [u64],
) {
    let t8 = tok.avx512();
    let m = Mod52::new(c.q, c.q_inv_neg52);
    let fix = Fix::new(c);
    let z = _mm512_setzero_si512();
    let len = out0.len() / 8 * 8;
    let (o0, _) = out0[..len].as_chunks_mut::<8>();
    let (o1, _) = out1[..len].as_chunks_mut::<8>();
    let nvec = o0.len();
    for (v, (o0, o1)) in o0.iter_mut().zip(o1.iter_mut()).enumerate() {
        let t = 8 * v;
        if MODE == 2 && v + PREFETCH < nvec {
            // The permuted groups are scattered over the limb: ask for them early.
            let ahead = (perm[t + 8 * PREFETCH] & !7) as usize;
            for xj in x {
                // A hint that never faults; the pointer is formed with wrapping arithmetic.
                _mm_prefetch::<_MM_HINT_T0>(xj.as_ptr().wrapping_add(ahead).cast());
            }
        }
        // The permutation's indices of this vector: as a gather offset vector, or as the
        // start of their aligned group and the in-group positions (low three bits, which is
        // all `vpermq` reads).
        let (iv, base) = if MODE != 0 {
            let (idx, _) = perm[t..t + 8].as_chunks::<8>();
            // SAFETY: `idx` is a readable run of eight u32 (unaligned loads are allowed).
            let iv = unsafe { _mm256_loadu_si256(idx[0].as_ptr().cast()) };
            (iv, (idx[0][0] & !7) as usize)
        } else {
            (_mm256_setzero_si256(), 0)
        };
        let iv64 = _mm512_cvtepu32_epi64(iv);
        let mut d0 = (z, z, z);
        let mut d1 = (z, z, z);
        for ((xj, kj0), kj1) in x.iter().zip(k0).zip(k1) {
            let xv = match MODE {
                0 => {
                    let (r, _) = xj[t..t + 8].as_chunks::<8>();
                    load8(t8, &r[0])
                }
                1 => {
                    // SAFETY: the caller guarantees every index is below `xj.len()`, so each
                    // gathered 8-byte element lies inside `xj`.
                    unsafe { _mm512_i32gather_epi64::<8>(iv, xj.as_ptr().cast()) }
                }
                _ => {
                    let (r, _) = xj[base..base + 8].as_chunks::<8>();
                    _mm512_permutexvar_epi64(iv64, load8(t8, &r[0]))
                }
            };
            let (r0, _) = kj0[t..t + 8].as_chunks::<8>();
            let (r1, _) = kj1[t..t + 8].as_chunks::<8>();
            let (a0, a1) = (load8(t8, &r0[0]), load8(t8, &r1[0]));
            if BIG {
                let xh = _mm512_srli_epi64::<52>(xv);
                acc::<true, true>(&mut d0, xv, a0, xh, _mm512_srli_epi64::<52>(a0));
                acc::<true, true>(&mut d1, xv, a1, xh, _mm512_srli_epi64::<52>(a1));
            } else {
                acc::<false, false>(&mut d0, xv, a0, z, z);
                acc::<false, false>(&mut d1, xv, a1, z, z);
            }
        }
        store8(
            t8,
            o0,
            fix.apply::<SMALL>(redc2::<BIG>(&m, d0.0, d0.1, d0.2)),
        );
        store8(
            t8,
            o1,
            fix.apply::<SMALL>(redc2::<BIG>(&m, d1.0, d1.1, d1.2)),
        );
    }
}

//! AVX-512 element-wise kernels for `math::vecops` (eight lanes; the caller handles the
//! `len % 8` tail with the portable code and checks lengths).
//!
//! - `add`, `sub`: one conditional correction with `vpminuq`.
//! - `mul_scalar` (fixed `w`): Shoup as in the NTT kernels (64-bit estimate, or 52-bit with
//!   IFMA), then a final correction into `[0, q)`.
//! - `mul`, `mul_add` (IFMA, `q < 2^50`): Montgomery multiplication with `R = 2^52`:
//!   `mont(x, y) = x·y·R^{-1} mod q` from `T = x·y` (two `vpmadd52*uq`), `m = T·q' mod R`
//!   (`q' = −q^{-1} mod R`), `t = (T + m·q)/R = hi(T) + hi(m·q) + [lo(T) ≠ 0]`, which is
//!   below `2q`. Then `a·b mod q = mont(a, mont(b, R² mod q))`.

use super::avx512::mul_epu32_opaque;
use super::{Avx512, Ifma};
use crate::math::simd::VecConsts;
use std::arch::x86_64::*;

#[target_feature(enable = "avx512f")]
#[inline]
fn load(s: &[u64; 8]) -> __m512i {
    // SAFETY: `s` is a readable 64-byte region (unaligned loads are allowed).
    unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
}

#[target_feature(enable = "avx512f")]
#[inline]
fn store(s: &mut [u64; 8], v: __m512i) {
    // SAFETY: `s` is a writable 64-byte region (unaligned stores are allowed).
    unsafe { _mm512_storeu_si512(s.as_mut_ptr().cast(), v) }
}

/// `out[i] = a[i] + b[i] mod q` for the first `8⌊len/8⌋` words (all slices of equal length).
pub(crate) fn add(tok: Avx512, q: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F and DQ were detected.
    unsafe { add_impl(tok, q, a, b, out) }
}

#[target_feature(enable = "avx512f,avx512dq")]
fn add_impl(_tok: Avx512, q: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    let qv = _mm512_set1_epi64(q as i64);
    let (a, _) = a.as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for ((a, b), o) in a.iter().zip(b).zip(o) {
        let s = _mm512_add_epi64(load(a), load(b));
        store(o, _mm512_min_epu64(s, _mm512_sub_epi64(s, qv)));
    }
}

/// `out[i] = a[i] − b[i] mod q` for the first `8⌊len/8⌋` words.
pub(crate) fn sub(tok: Avx512, q: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F and DQ were detected.
    unsafe { sub_impl(tok, q, a, b, out) }
}

#[target_feature(enable = "avx512f,avx512dq")]
fn sub_impl(_tok: Avx512, q: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    let qv = _mm512_set1_epi64(q as i64);
    let (a, _) = a.as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for ((a, b), o) in a.iter().zip(b).zip(o) {
        // a − b wraps above q exactly when a < b, and then a − b + q is the answer.
        let d = _mm512_sub_epi64(load(a), load(b));
        store(o, _mm512_min_epu64(d, _mm512_add_epi64(d, qv)));
    }
}

/// `out[i] = a[i]·w mod q` (64-bit Shoup, `w_shoup = ⌊w·2^64/q⌋`) for the first `8⌊len/8⌋`.
pub(crate) fn mul_scalar(tok: Avx512, q: u64, a: &[u64], w: u64, w_shoup: u64, out: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F and DQ were detected.
    unsafe { mul_scalar_impl(tok, q, a, w, w_shoup, out) }
}

#[target_feature(enable = "avx512f,avx512dq")]
fn mul_scalar_impl(_tok: Avx512, q: u64, a: &[u64], w: u64, ws: u64, out: &mut [u64]) {
    let qv = _mm512_set1_epi64(q as i64);
    let two_q = _mm512_set1_epi64((2 * q) as i64);
    let wv = _mm512_set1_epi64(w as i64);
    let ws_lo = _mm512_set1_epi64(ws as i64);
    let ws_hi = _mm512_set1_epi64((ws >> 32) as i64);
    let (a, _) = a.as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for (a, o) in a.iter().zip(o) {
        let y = load(a);
        let yh = _mm512_srli_epi64::<32>(y);
        let lh = _mm512_mul_epu32(y, ws_hi);
        let hl = mul_epu32_opaque(yh, ws_lo);
        let hh = mul_epu32_opaque(yh, ws_hi);
        // Estimate of ⌊y·w'/2^64⌋, at most 2 low (the low×low product and carries dropped).
        let qa = _mm512_add_epi64(
            hh,
            _mm512_add_epi64(_mm512_srli_epi64::<32>(lh), _mm512_srli_epi64::<32>(hl)),
        );
        let r = _mm512_sub_epi64(_mm512_mullo_epi64(y, wv), _mm512_mullo_epi64(qa, qv));
        let r = _mm512_min_epu64(r, _mm512_sub_epi64(r, two_q));
        store(o, _mm512_min_epu64(r, _mm512_sub_epi64(r, qv)));
    }
}

/// IFMA `out[i] = a[i]·w mod q` (52-bit Shoup, `w_shoup52 = ⌊w·2^52/q⌋`, `q < 2^50`).
pub(crate) fn mul_scalar_ifma(
    tok: Ifma,
    q: u64,
    a: &[u64],
    w: u64,
    w_shoup52: u64,
    out: &mut [u64],
) {
    // SAFETY: the token proves AVX-512 F, DQ and IFMA were detected.
    unsafe { mul_scalar_ifma_impl(tok, q, a, w, w_shoup52, out) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn mul_scalar_ifma_impl(_tok: Ifma, q: u64, a: &[u64], w: u64, ws: u64, out: &mut [u64]) {
    let qv = _mm512_set1_epi64(q as i64);
    let neg_q = _mm512_set1_epi64(((1u64 << 52) - q) as i64);
    let mask = _mm512_set1_epi64(((1u64 << 52) - 1) as i64);
    let wv = _mm512_set1_epi64(w as i64);
    let wsv = _mm512_set1_epi64(ws as i64);
    let zero = _mm512_setzero_si512();
    let (a, _) = a.as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for (a, o) in a.iter().zip(o) {
        let y = load(a);
        let qh = _mm512_madd52hi_epu64(zero, y, wsv);
        let r = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, y, wv), qh, neg_q);
        let r = _mm512_and_si512(r, mask);
        store(o, _mm512_min_epu64(r, _mm512_sub_epi64(r, qv)));
    }
}

/// Montgomery product `x·y·2^{-52} mod q` in `[0, q)`, for `x, y < q < 2^50`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn mont(x: __m512i, y: __m512i, q: __m512i, q_inv: __m512i) -> __m512i {
    {
        let zero = _mm512_setzero_si512();
        let lo = _mm512_madd52lo_epu64(zero, x, y);
        let hi = _mm512_madd52hi_epu64(zero, x, y);
        let m = _mm512_madd52lo_epu64(zero, lo, q_inv);
        let t = _mm512_madd52hi_epu64(hi, m, q);
        // lo + lo52(m·q) ≡ 0 mod 2^52 carries into the high word exactly when lo ≠ 0.
        let nz = _mm512_test_epi64_mask(lo, lo);
        let t = _mm512_mask_add_epi64(t, nz, t, _mm512_set1_epi64(1));
        _mm512_min_epu64(t, _mm512_sub_epi64(t, q))
    }
}

/// IFMA `out[i] = a[i]·b[i] mod q` (`q < 2^50`) for the first `8⌊len/8⌋` words.
pub(crate) fn mul_ifma(tok: Ifma, c: &VecConsts, a: &[u64], b: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F, DQ and IFMA were detected.
    unsafe { mul_ifma_impl(tok, c, a, b, out) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn mul_ifma_impl(_tok: Ifma, c: &VecConsts, a: &[u64], b: &[u64], out: &mut [u64]) {
    let q = _mm512_set1_epi64(c.q as i64);
    let qi = _mm512_set1_epi64(c.q_inv_neg52 as i64);
    let r2 = _mm512_set1_epi64(c.r2 as i64);
    let (a, _) = a.as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for ((a, b), o) in a.iter().zip(b).zip(o) {
        let br = mont(load(b), r2, q, qi);
        store(o, mont(load(a), br, q, qi));
    }
}

/// IFMA `acc[i] = acc[i] + a[i]·b[i] mod q` (`q < 2^50`) for the first `8⌊len/8⌋` words.
pub(crate) fn mul_add_ifma(tok: Ifma, c: &VecConsts, a: &[u64], b: &[u64], acc: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F, DQ and IFMA were detected.
    unsafe { mul_add_ifma_impl(tok, c, a, b, acc) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn mul_add_ifma_impl(_tok: Ifma, c: &VecConsts, a: &[u64], b: &[u64], acc: &mut [u64]) {
    let q = _mm512_set1_epi64(c.q as i64);
    let qi = _mm512_set1_epi64(c.q_inv_neg52 as i64);
    let r2 = _mm512_set1_epi64(c.r2 as i64);
    let (a, _) = a.as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let (o, _) = acc.as_chunks_mut::<8>();
    for ((a, b), o) in a.iter().zip(b).zip(o) {
        let br = mont(load(b), r2, q, qi);
        let s = _mm512_add_epi64(load(o), mont(load(a), br, q, qi));
        store(o, _mm512_min_epu64(s, _mm512_sub_epi64(s, q)));
    }
}

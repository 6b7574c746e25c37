//! AVX-512 element-wise kernels for `math::vecops` (eight lanes; the caller handles the
//! `len % 8` tail with the portable code and checks lengths).
//!
//! - `add`, `sub`: one conditional correction with `vpminuq`.
//! - `mul_scalar` (fixed `w`, optionally of a difference `x − s`, which lies in `[0, 2q)`
//!   after adding `q`): Shoup as in the NTT kernels (64-bit estimate, or 52-bit with IFMA),
//!   then a final correction into `[0, q)`.
//!
//! The first operand is optional: `None` reads it from `out` (in-place forms). Products of two
//! variables live in `mont52`.

use super::avx512::mul_epu32_opaque;
use super::{Avx512, Ifma};
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

/// `out[i] = x[i] + b[i] mod q` (`x` is `a`, or the old `out` for `None`) for the first
/// `8⌊len/8⌋` words (all slices of equal length).
pub(crate) fn add(tok: Avx512, q: u64, a: Option<&[u64]>, b: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F and DQ were detected.
    unsafe { add_sub_impl::<false>(tok, q, a, b, out) }
}

/// `out[i] = x[i] − b[i] mod q`; as [`add`].
pub(crate) fn sub(tok: Avx512, q: u64, a: Option<&[u64]>, b: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F and DQ were detected.
    unsafe { add_sub_impl::<true>(tok, q, a, b, out) }
}

#[target_feature(enable = "avx512f,avx512dq")]
fn add_sub_impl<const SUB: bool>(
    _tok: Avx512,
    q: u64,
    a: Option<&[u64]>,
    b: &[u64],
    out: &mut [u64],
) {
    let qv = _mm512_set1_epi64(q as i64);
    let (a, _) = a.unwrap_or(&[]).as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for (v, (b, o)) in b.iter().zip(o).enumerate() {
        let x = match a.get(v) {
            Some(a) => load(a),
            None => load(o),
        };
        if SUB {
            // x − b wraps above q exactly when x < b, and then x − b + q is the answer.
            let d = _mm512_sub_epi64(x, load(b));
            store(o, _mm512_min_epu64(d, _mm512_add_epi64(d, qv)));
        } else {
            let s = _mm512_add_epi64(x, load(b));
            store(o, _mm512_min_epu64(s, _mm512_sub_epi64(s, qv)));
        }
    }
}

/// `out[i] = (x[i] − s[i])·w mod q` (`x` is `a` or the old `out`; `s` is `sub` or zero),
/// 64-bit Shoup with `w_shoup = ⌊w·2^64/q⌋`, for the first `8⌊len/8⌋` words.
pub(crate) fn mul_scalar(
    tok: Avx512,
    q: u64,
    a: Option<&[u64]>,
    sub: Option<&[u64]>,
    (w, w_shoup): (u64, u64),
    out: &mut [u64],
) {
    // SAFETY: the token proves AVX-512 F and DQ were detected.
    unsafe { mul_scalar_impl(tok, q, a, sub, w, w_shoup, out) }
}

#[target_feature(enable = "avx512f,avx512dq")]
fn mul_scalar_impl(
    _tok: Avx512,
    q: u64,
    a: Option<&[u64]>,
    sub: Option<&[u64]>,
    w: u64,
    ws: u64,
    out: &mut [u64],
) {
    let qv = _mm512_set1_epi64(q as i64);
    let two_q = _mm512_set1_epi64((2 * q) as i64);
    let wv = _mm512_set1_epi64(w as i64);
    let ws_lo = _mm512_set1_epi64(ws as i64);
    let ws_hi = _mm512_set1_epi64((ws >> 32) as i64);
    let (a, _) = a.unwrap_or(&[]).as_chunks::<8>();
    let (s, _) = sub.unwrap_or(&[]).as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for (v, o) in o.iter_mut().enumerate() {
        let mut y = match a.get(v) {
            Some(a) => load(a),
            None => load(o),
        };
        if let Some(s) = s.get(v) {
            y = _mm512_sub_epi64(_mm512_add_epi64(y, qv), load(s));
        }
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

/// IFMA form of [`mul_scalar`] (52-bit Shoup, `w_shoup52 = ⌊w·2^52/q⌋`, `q < 2^50`).
pub(crate) fn mul_scalar_ifma(
    tok: Ifma,
    q: u64,
    a: Option<&[u64]>,
    sub: Option<&[u64]>,
    (w, w_shoup52): (u64, u64),
    out: &mut [u64],
) {
    // SAFETY: the token proves AVX-512 F, DQ and IFMA were detected.
    unsafe { mul_scalar_ifma_impl(tok, q, a, sub, w, w_shoup52, out) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn mul_scalar_ifma_impl(
    _tok: Ifma,
    q: u64,
    a: Option<&[u64]>,
    sub: Option<&[u64]>,
    w: u64,
    ws: u64,
    out: &mut [u64],
) {
    let qv = _mm512_set1_epi64(q as i64);
    let neg_q = _mm512_set1_epi64(((1u64 << 52) - q) as i64);
    let mask = _mm512_set1_epi64(((1u64 << 52) - 1) as i64);
    let wv = _mm512_set1_epi64(w as i64);
    let wsv = _mm512_set1_epi64(ws as i64);
    let zero = _mm512_setzero_si512();
    let (a, _) = a.unwrap_or(&[]).as_chunks::<8>();
    let (s, _) = sub.unwrap_or(&[]).as_chunks::<8>();
    let (o, _) = out.as_chunks_mut::<8>();
    for (v, o) in o.iter_mut().enumerate() {
        let mut y = match a.get(v) {
            Some(a) => load(a),
            None => load(o),
        };
        if let Some(s) = s.get(v) {
            // x + q − s < 2q < 2^51: inside the 52-bit domain.
            y = _mm512_sub_epi64(_mm512_add_epi64(y, qv), load(s));
        }
        let qh = _mm512_madd52hi_epu64(zero, y, wsv);
        let r = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, y, wv), qh, neg_q);
        let r = _mm512_and_si512(r, mask);
        store(o, _mm512_min_epu64(r, _mm512_sub_epi64(r, qv)));
    }
}

/// `acc[i] = acc[i] + src[map[i]] mod q` for the first `8⌊len/8⌋` words, where every aligned
/// group of eight entries of `map` points into one aligned group of eight of `src` (a
/// blockwise map: one load and one in-register permutation per vector; a map without that
/// property gives wrong values, never unsafety). Lengths are equal (the caller checks).
pub(crate) fn add_mapped(tok: Avx512, q: u64, src: &[u64], map: &[u32], acc: &mut [u64]) {
    // SAFETY: the token proves AVX-512 F and DQ were detected.
    unsafe { add_mapped_impl(tok, q, src, map, acc) }
}

#[target_feature(enable = "avx512f,avx512dq")]
fn add_mapped_impl(_tok: Avx512, q: u64, src: &[u64], map: &[u32], acc: &mut [u64]) {
    /// Vectors ahead at which the scattered source groups are prefetched.
    const AHEAD: usize = 16;
    let qv = _mm512_set1_epi64(q as i64);
    let (m8, _) = map.as_chunks::<8>();
    let (o, _) = acc.as_chunks_mut::<8>();
    let nvec = o.len().min(m8.len());
    for (v, (o, idx)) in o.iter_mut().zip(m8).enumerate() {
        if let Some(ahead) = m8.get(v + AHEAD).filter(|_| v + AHEAD < nvec) {
            // A hint that never faults; the pointer is formed with wrapping arithmetic.
            let p = src.as_ptr().wrapping_add((ahead[0] & !7) as usize);
            _mm_prefetch::<_MM_HINT_T0>(p.cast());
        }
        let base = (idx[0] & !7) as usize;
        let Some(group) = src.get(base..base + 8) else {
            continue;
        };
        let (group, _) = group.as_chunks::<8>();
        // SAFETY: `idx` is a readable run of eight u32 (unaligned loads are allowed).
        let iv = unsafe { _mm256_loadu_si256(idx.as_ptr().cast()) };
        let x = _mm512_permutexvar_epi64(_mm512_cvtepu32_epi64(iv), load(&group[0]));
        let s = _mm512_add_epi64(load(o), x);
        store(o, _mm512_min_epu64(s, _mm512_sub_epi64(s, qv)));
    }
}

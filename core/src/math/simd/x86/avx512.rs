//! AVX-512 F+DQ kernel: eight 64-bit lanes, 64-bit Shoup multiplication for any `q < 2^62`,
//! and the in-register last stages shared with the IFMA kernel.
//!
//! AVX-512 has no 64×64→128 multiply, so the Shoup quotient `⌊y·w'/2^64⌋` is estimated from
//! three 32×32→64 products (`vpmuludq`), dropping the low×low product and the carries: the
//! estimate is at most 2 below the exact quotient, so `y·w − q̂·q` lands in `[0, 4q)` (still a
//! `u64` since `q < 2^62`) and one conditional subtraction of `2q` restores Harvey's `[0, 2q)`.
//! The low words `y·w` and `q̂·q` come from `vpmullq`.

use super::engine::{self, Ops};
use super::Avx512;
use crate::math::ntt::{LastStage, Tables};
use std::arch::x86_64::*;

/// Eight-lane kernels: what the shared in-register tail needs besides [`Ops`].
pub(super) trait Lanes8: Ops<8, V = __m512i> {
    /// The detection token (AVX-512 F+DQ are present).
    fn token(self) -> Avx512;
    /// Per-lane twiddles prepared for the butterfly.
    fn tw_vec(self, w: __m512i, ws: __m512i) -> Self::W;
    /// `[0, 4q) → [0, q)`.
    fn reduce4(self, x: __m512i) -> __m512i;
}

/// The 64-bit Shoup arithmetic.
#[derive(Clone, Copy)]
pub(super) struct Ops64 {
    tok: Avx512,
    q: __m512i,
    two_q: __m512i,
}

impl Ops64 {
    #[inline(always)]
    fn new(tok: Avx512, q: u64) -> Self {
        // SAFETY: the token proves AVX-512 F is present.
        unsafe {
            Self {
                tok,
                q: _mm512_set1_epi64(q as i64),
                two_q: _mm512_set1_epi64((2 * q) as i64),
            }
        }
    }

    /// `y·w mod q` in `[0, 2q)` for any `y < 2^64` (see the module docs).
    #[inline(always)]
    fn mul_lazy(self, y: __m512i, w: (__m512i, __m512i, __m512i)) -> __m512i {
        let (w, ws, ws_hi) = w;
        // SAFETY: the token proves AVX-512 F and DQ are present.
        unsafe {
            let yh = _mm512_srli_epi64::<32>(y);
            let lh = _mm512_mul_epu32(y, ws_hi);
            let hl = mul_epu32_opaque(yh, ws);
            let hh = mul_epu32_opaque(yh, ws_hi);
            let qa = _mm512_add_epi64(
                hh,
                _mm512_add_epi64(_mm512_srli_epi64::<32>(lh), _mm512_srli_epi64::<32>(hl)),
            );
            let r = _mm512_sub_epi64(_mm512_mullo_epi64(y, w), _mm512_mullo_epi64(qa, self.q));
            _mm512_min_epu64(r, _mm512_sub_epi64(r, self.two_q))
        }
    }

    /// `x ≥ c ? x − c : x` for `x < c + 2^63`.
    #[inline(always)]
    fn csub(self, x: __m512i, c: __m512i) -> __m512i {
        // SAFETY: the token proves AVX-512 F is present.
        unsafe { _mm512_min_epu64(x, _mm512_sub_epi64(x, c)) }
    }
}

impl Ops<8> for Ops64 {
    type V = __m512i;
    type W = (__m512i, __m512i, __m512i);

    #[inline(always)]
    fn load(self, s: &[u64; 8]) -> __m512i {
        load8(self.tok, s)
    }

    #[inline(always)]
    fn store(self, s: &mut [u64; 8], v: __m512i) {
        store8(self.tok, s, v)
    }

    #[inline(always)]
    fn tw(self, w: u64, ws: u64) -> Self::W {
        // SAFETY: the token proves AVX-512 F is present.
        unsafe {
            (
                _mm512_set1_epi64(w as i64),
                _mm512_set1_epi64(ws as i64),
                _mm512_set1_epi64((ws >> 32) as i64),
            )
        }
    }

    #[inline(always)]
    fn fwd_bf(self, x: __m512i, y: __m512i, w: Self::W) -> (__m512i, __m512i) {
        let x = self.csub(x, self.two_q);
        let t = self.mul_lazy(y, w);
        // SAFETY: the token proves AVX-512 F is present.
        unsafe {
            (
                _mm512_add_epi64(x, t),
                _mm512_sub_epi64(_mm512_add_epi64(x, self.two_q), t),
            )
        }
    }

    #[inline(always)]
    fn inv_bf(self, x: __m512i, y: __m512i, w: Self::W) -> (__m512i, __m512i) {
        // SAFETY: the token proves AVX-512 F is present.
        let (s, d) = unsafe {
            (
                _mm512_add_epi64(x, y),
                _mm512_sub_epi64(_mm512_add_epi64(x, self.two_q), y),
            )
        };
        (self.csub(s, self.two_q), self.mul_lazy(d, w))
    }

    #[inline(always)]
    fn inv_bf_last(self, x: __m512i, y: __m512i, ni: Self::W, wni: Self::W) -> (__m512i, __m512i) {
        // SAFETY: the token proves AVX-512 F is present.
        let (s, d) = unsafe {
            (
                _mm512_add_epi64(x, y),
                _mm512_sub_epi64(_mm512_add_epi64(x, self.two_q), y),
            )
        };
        (
            self.csub(self.mul_lazy(s, ni), self.q),
            self.csub(self.mul_lazy(d, wni), self.q),
        )
    }

    #[inline(always)]
    fn fwd_tail(self, data: &mut [u64], w: &[u64], ws: &[u64], d: u32, h: usize) {
        fwd_tail8(self, data, w, ws, d, h)
    }

    #[inline(always)]
    fn inv_tail(self, data: &mut [u64], w: &[u64], ws: &[u64], d: u32, h: usize) {
        inv_tail8(self, data, w, ws, d, h)
    }
}

impl Lanes8 for Ops64 {
    #[inline(always)]
    fn token(self) -> Avx512 {
        self.tok
    }

    #[inline(always)]
    fn tw_vec(self, w: __m512i, ws: __m512i) -> Self::W {
        // SAFETY: the token proves AVX-512 F is present.
        unsafe { (w, ws, _mm512_srli_epi64::<32>(ws)) }
    }

    #[inline(always)]
    fn reduce4(self, x: __m512i) -> __m512i {
        self.csub(self.csub(x, self.two_q), self.q)
    }
}

/// `vpmuludq` as an opaque instruction. When LLVM can prove that an operand of
/// `_mm512_mul_epu32` has zero upper halves (as `y >> 32` has), it rewrites the product into a
/// generic 64-bit multiply and selects the 3-uop `vpmullq` for it; the inline assembly keeps
/// the 1-uop instruction.
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) fn mul_epu32_opaque(a: __m512i, b: __m512i) -> __m512i {
    let r: __m512i;
    // SAFETY: register-only arithmetic without memory access or flag changes; AVX-512 F is
    // enabled for this function.
    unsafe {
        std::arch::asm!(
            "vpmuludq {r}, {a}, {b}",
            r = lateout(zmm_reg) r,
            a = in(zmm_reg) a,
            b = in(zmm_reg) b,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    r
}

/// Loads eight words.
#[inline(always)]
pub(super) fn load8(_tok: Avx512, s: &[u64; 8]) -> __m512i {
    // SAFETY: `s` is a valid, readable 64-byte region (unaligned loads are allowed) and the
    // token proves AVX-512 F is present.
    unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
}

/// Stores eight words.
#[inline(always)]
pub(super) fn store8(_tok: Avx512, s: &mut [u64; 8], v: __m512i) {
    // SAFETY: `s` is a valid, writable 64-byte region (unaligned stores are allowed) and the
    // token proves AVX-512 F is present.
    unsafe { _mm512_storeu_si512(s.as_mut_ptr().cast(), v) }
}

/// `[a0, a0, a0, a0, a1, a1, a1, a1]`.
#[inline(always)]
fn spread2(_tok: Avx512, a: &[u64; 2]) -> __m512i {
    // SAFETY: the token proves AVX-512 F is present.
    unsafe {
        _mm512_mask_blend_epi64(
            0xF0,
            _mm512_set1_epi64(a[0] as i64),
            _mm512_set1_epi64(a[1] as i64),
        )
    }
}

/// `[a0, a0, a1, a1, a2, a2, a3, a3]`.
#[inline(always)]
fn spread4(_tok: Avx512, a: &[u64; 4]) -> __m512i {
    // SAFETY: `a` is a valid, readable 32-byte region and the token proves AVX-512 F is
    // present; the permutation reads only the four loaded lanes.
    unsafe {
        let v = _mm512_castsi256_si512(_mm256_loadu_si256(a.as_ptr().cast()));
        _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3), v)
    }
}

/// Twiddle base index of the stage with half-size `t` in a block of `b` words at `(d, h)`.
#[inline(always)]
fn tail_base(b: usize, t: usize, d: u32, h: usize) -> usize {
    let m = b / (2 * t);
    (m << d) + h * m
}

/// Forward stages `t = 4, 2, 1` on 16-word chunks in registers, then `[0, 4q) → [0, q)`.
///
/// With `a = e0..e7`, `b = f0..f7`: `t = 4` pairs `[e0..e3 f0..f3]` with `[e4..e7 f4..f7]`,
/// `t = 2` pairs `[e0 e1 e4 e5 f0 f1 f4 f5]` with `[e2 e3 e6 e7 …]`, and `t = 1` pairs
/// `[e0 e2 e4 e6 …]` with `[e1 e3 e5 e7 …]`; each layout's twiddles are contiguous in the table.
#[inline(always)]
pub(super) fn fwd_tail8<O: Lanes8>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    d: u32,
    h: usize,
) {
    let tok = o.token();
    let b = data.len();
    let (b4, b2, b1) = (
        tail_base(b, 4, d, h),
        tail_base(b, 2, d, h),
        tail_base(b, 1, d, h),
    );
    let (w4, _) = w[b4..b4 + b / 8].as_chunks::<2>();
    let (ws4, _) = ws[b4..b4 + b / 8].as_chunks::<2>();
    let (w2, _) = w[b2..b2 + b / 4].as_chunks::<4>();
    let (ws2, _) = ws[b2..b2 + b / 4].as_chunks::<4>();
    let (w1, _) = w[b1..b1 + b / 2].as_chunks::<8>();
    let (ws1, _) = ws[b1..b1 + b / 2].as_chunks::<8>();
    let (chunks, _) = data.as_chunks_mut::<16>();
    let tw = w4
        .iter()
        .zip(ws4)
        .zip(w2.iter().zip(ws2))
        .zip(w1.iter().zip(ws1));
    for (c, ((t4, t2), t1)) in chunks.iter_mut().zip(tw) {
        let (lo, hi) = c.split_at_mut(8);
        let (lo, _) = lo.as_chunks_mut::<8>();
        let (hi, _) = hi.as_chunks_mut::<8>();
        let (lo, hi) = (&mut lo[0], &mut hi[0]);
        let (a, bb) = (load8(tok, lo), load8(tok, hi));
        let tw4 = o.tw_vec(spread2(tok, t4.0), spread2(tok, t4.1));
        let tw2 = o.tw_vec(spread4(tok, t2.0), spread4(tok, t2.1));
        let tw1 = o.tw_vec(load8(tok, t1.0), load8(tok, t1.1));
        // SAFETY: the token proves AVX-512 F is present.
        let (x, y) = unsafe {
            (
                _mm512_shuffle_i64x2::<0x44>(a, bb),
                _mm512_shuffle_i64x2::<0xEE>(a, bb),
            )
        };
        let (x, y) = o.fwd_bf(x, y, tw4);
        // SAFETY: the token proves AVX-512 F is present.
        let (x, y) = unsafe {
            (
                _mm512_permutex2var_epi64(x, _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), y),
                _mm512_permutex2var_epi64(x, _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15), y),
            )
        };
        let (x, y) = o.fwd_bf(x, y, tw2);
        // SAFETY: the token proves AVX-512 F is present.
        let (x, y) = unsafe { (_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y)) };
        let (x, y) = o.fwd_bf(x, y, tw1);
        // SAFETY: the token proves AVX-512 F is present.
        let (a, bb) = unsafe {
            (
                _mm512_permutex2var_epi64(x, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), y),
                _mm512_permutex2var_epi64(x, _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15), y),
            )
        };
        store8(tok, lo, o.reduce4(a));
        store8(tok, hi, o.reduce4(bb));
    }
}

/// Inverse stages `t = 1, 2, 4` on 16-word chunks in registers (the mirror of [`fwd_tail8`]).
#[inline(always)]
pub(super) fn inv_tail8<O: Lanes8>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    d: u32,
    h: usize,
) {
    let tok = o.token();
    let b = data.len();
    let (b4, b2, b1) = (
        tail_base(b, 4, d, h),
        tail_base(b, 2, d, h),
        tail_base(b, 1, d, h),
    );
    let (w4, _) = w[b4..b4 + b / 8].as_chunks::<2>();
    let (ws4, _) = ws[b4..b4 + b / 8].as_chunks::<2>();
    let (w2, _) = w[b2..b2 + b / 4].as_chunks::<4>();
    let (ws2, _) = ws[b2..b2 + b / 4].as_chunks::<4>();
    let (w1, _) = w[b1..b1 + b / 2].as_chunks::<8>();
    let (ws1, _) = ws[b1..b1 + b / 2].as_chunks::<8>();
    let (chunks, _) = data.as_chunks_mut::<16>();
    let tw = w4
        .iter()
        .zip(ws4)
        .zip(w2.iter().zip(ws2))
        .zip(w1.iter().zip(ws1));
    for (c, ((t4, t2), t1)) in chunks.iter_mut().zip(tw) {
        let (lo, hi) = c.split_at_mut(8);
        let (lo, _) = lo.as_chunks_mut::<8>();
        let (hi, _) = hi.as_chunks_mut::<8>();
        let (lo, hi) = (&mut lo[0], &mut hi[0]);
        let (a, bb) = (load8(tok, lo), load8(tok, hi));
        let tw4 = o.tw_vec(spread2(tok, t4.0), spread2(tok, t4.1));
        let tw2 = o.tw_vec(spread4(tok, t2.0), spread4(tok, t2.1));
        let tw1 = o.tw_vec(load8(tok, t1.0), load8(tok, t1.1));
        // SAFETY: the token proves AVX-512 F is present.
        let (x, y) = unsafe {
            (
                _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), bb),
                _mm512_permutex2var_epi64(a, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), bb),
            )
        };
        let (x, y) = o.inv_bf(x, y, tw1);
        // SAFETY: the token proves AVX-512 F is present.
        let (x, y) = unsafe { (_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y)) };
        let (x, y) = o.inv_bf(x, y, tw2);
        // SAFETY: the token proves AVX-512 F is present.
        let (x, y) = unsafe {
            (
                _mm512_permutex2var_epi64(x, _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), y),
                _mm512_permutex2var_epi64(x, _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15), y),
            )
        };
        let (x, y) = o.inv_bf(x, y, tw4);
        // SAFETY: the token proves AVX-512 F is present.
        let (a, bb) = unsafe {
            (
                _mm512_shuffle_i64x2::<0x44>(x, y),
                _mm512_shuffle_i64x2::<0xEE>(x, y),
            )
        };
        store8(tok, lo, a);
        store8(tok, hi, bb);
    }
}

/// Forward transform with the AVX-512 kernel.
pub(crate) fn forward(tok: Avx512, t: &Tables, a: &mut [u64]) {
    // SAFETY: `tok` exists only if AVX-512 F and DQ were detected at run time.
    unsafe { forward_impl(tok, t, a) }
}

/// Inverse transform with the AVX-512 kernel.
pub(crate) fn inverse(tok: Avx512, t: &Tables, l: &LastStage, src: Option<&[u64]>, a: &mut [u64]) {
    // SAFETY: `tok` exists only if AVX-512 F and DQ were detected at run time.
    unsafe { inverse_impl(tok, t, l, src, a) }
}

#[target_feature(enable = "avx512f,avx512dq")]
fn forward_impl(tok: Avx512, t: &Tables, a: &mut [u64]) {
    let o = Ops64::new(tok, t.q);
    engine::forward::<_, 8>(o, a, &t.fw, &t.fw_shoup);
}

#[target_feature(enable = "avx512f,avx512dq")]
fn inverse_impl(tok: Avx512, t: &Tables, l: &LastStage, src: Option<&[u64]>, a: &mut [u64]) {
    let o = Ops64::new(tok, t.q);
    let last = (
        o.tw(l.n_inv, l.n_inv_shoup),
        o.tw(l.w_n_inv, l.w_n_inv_shoup),
    );
    engine::inverse::<_, 8>(o, src, a, &t.iw, &t.iw_shoup, last);
}

//! AVX2 kernel: four 64-bit lanes, 64-bit Shoup multiplication for any `q < 2^62`.
//!
//! AVX2 has neither a 64-bit high multiply nor a 64-bit low multiply nor unsigned 64-bit
//! compares. The Shoup quotient is estimated from three `vpmuludq` as in the AVX-512 kernel
//! (at most 2 low, corrected by one conditional subtraction); the low words `y·w` and `q̂·q`
//! are assembled from three `vpmuludq` each; conditional subtractions test the sign bit of
//! `x − c` (valid because every value stays below `c + 2^63`).

use super::engine::{self, Ops};
use super::Avx2;
use crate::math::ntt::{LastStage, Tables};
use std::arch::x86_64::*;

/// A broadcast or per-lane twiddle: `w`, `w >> 32`, `w'`, `w' >> 32`.
type Tw = (__m256i, __m256i, __m256i, __m256i);

/// The 64-bit Shoup arithmetic on four lanes.
#[derive(Clone, Copy)]
pub(super) struct OpsAvx2 {
    _tok: Avx2,
    q: __m256i,
    q_hi: __m256i,
    two_q: __m256i,
}

impl OpsAvx2 {
    #[inline(always)]
    fn new(tok: Avx2, q: u64) -> Self {
        // SAFETY: the token proves AVX2 is present.
        unsafe {
            Self {
                _tok: tok,
                q: _mm256_set1_epi64x(q as i64),
                q_hi: _mm256_set1_epi64x((q >> 32) as i64),
                two_q: _mm256_set1_epi64x((2 * q) as i64),
            }
        }
    }

    /// `x ≥ c ? x − c : x` for `c ≤ 2^63` and `x < c + 2^63`: `x − c` has its sign bit set
    /// exactly when `x < c`.
    #[inline(always)]
    fn csub(self, x: __m256i, c: __m256i) -> __m256i {
        // SAFETY: the token proves AVX2 is present.
        unsafe {
            let d = _mm256_sub_epi64(x, c);
            _mm256_castpd_si256(_mm256_blendv_pd(
                _mm256_castsi256_pd(d),
                _mm256_castsi256_pd(x),
                _mm256_castsi256_pd(d),
            ))
        }
    }

    /// `y·w mod q` in `[0, 2q)` for any `y < 2^64`.
    #[inline(always)]
    fn mul_lazy(self, y: __m256i, w: Tw) -> __m256i {
        let (w, w_hi, ws, ws_hi) = w;
        // SAFETY: the token proves AVX2 is present.
        let r = unsafe {
            // High halves by swapping the 32-bit halves (not a shift): with provably zero
            // upper bits LLVM turns `vpmuludq` into a generic 64-bit multiply.
            let yh = _mm256_shuffle_epi32::<0xB1>(y);
            let lh = _mm256_mul_epu32(y, ws_hi);
            let hl = _mm256_mul_epu32(yh, ws);
            let hh = _mm256_mul_epu32(yh, ws_hi);
            let qa = _mm256_add_epi64(
                hh,
                _mm256_add_epi64(_mm256_srli_epi64::<32>(lh), _mm256_srli_epi64::<32>(hl)),
            );
            // Low words: a·b mod 2^64 = al·bl + ((ah·bl + al·bh) << 32).
            let yw = _mm256_add_epi64(
                _mm256_mul_epu32(y, w),
                _mm256_slli_epi64::<32>(_mm256_add_epi64(
                    _mm256_mul_epu32(yh, w),
                    _mm256_mul_epu32(y, w_hi),
                )),
            );
            let qah = _mm256_shuffle_epi32::<0xB1>(qa);
            let qq = _mm256_add_epi64(
                _mm256_mul_epu32(qa, self.q),
                _mm256_slli_epi64::<32>(_mm256_add_epi64(
                    _mm256_mul_epu32(qah, self.q),
                    _mm256_mul_epu32(qa, self.q_hi),
                )),
            );
            _mm256_sub_epi64(yw, qq)
        };
        self.csub(r, self.two_q)
    }

    #[inline(always)]
    fn tw_vec(self, w: __m256i, ws: __m256i) -> Tw {
        // SAFETY: the token proves AVX2 is present.
        unsafe {
            (
                w,
                _mm256_srli_epi64::<32>(w),
                ws,
                _mm256_srli_epi64::<32>(ws),
            )
        }
    }

    #[inline(always)]
    fn reduce4(self, x: __m256i) -> __m256i {
        self.csub(self.csub(x, self.two_q), self.q)
    }
}

impl Ops<4> for OpsAvx2 {
    type V = __m256i;
    type W = Tw;

    #[inline(always)]
    fn load(self, s: &[u64; 4]) -> __m256i {
        // SAFETY: `s` is a valid, readable 32-byte region and the token proves AVX2 is present.
        unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
    }

    #[inline(always)]
    fn store(self, s: &mut [u64; 4], v: __m256i) {
        // SAFETY: `s` is a valid, writable 32-byte region and the token proves AVX2 is present.
        unsafe { _mm256_storeu_si256(s.as_mut_ptr().cast(), v) }
    }

    #[inline(always)]
    fn tw(self, w: u64, ws: u64) -> Tw {
        // SAFETY: the token proves AVX2 is present.
        unsafe {
            (
                _mm256_set1_epi64x(w as i64),
                _mm256_set1_epi64x((w >> 32) as i64),
                _mm256_set1_epi64x(ws as i64),
                _mm256_set1_epi64x((ws >> 32) as i64),
            )
        }
    }

    #[inline(always)]
    fn fwd_bf(self, x: __m256i, y: __m256i, w: Tw) -> (__m256i, __m256i) {
        let x = self.csub(x, self.two_q);
        let t = self.mul_lazy(y, w);
        // SAFETY: the token proves AVX2 is present.
        unsafe {
            (
                _mm256_add_epi64(x, t),
                _mm256_sub_epi64(_mm256_add_epi64(x, self.two_q), t),
            )
        }
    }

    #[inline(always)]
    fn inv_bf(self, x: __m256i, y: __m256i, w: Tw) -> (__m256i, __m256i) {
        // SAFETY: the token proves AVX2 is present.
        let (s, d) = unsafe {
            (
                _mm256_add_epi64(x, y),
                _mm256_sub_epi64(_mm256_add_epi64(x, self.two_q), y),
            )
        };
        (self.csub(s, self.two_q), self.mul_lazy(d, w))
    }

    #[inline(always)]
    fn inv_bf_last(self, x: __m256i, y: __m256i, ni: Tw, wni: Tw) -> (__m256i, __m256i) {
        // SAFETY: the token proves AVX2 is present.
        let (s, d) = unsafe {
            (
                _mm256_add_epi64(x, y),
                _mm256_sub_epi64(_mm256_add_epi64(x, self.two_q), y),
            )
        };
        (
            self.csub(self.mul_lazy(s, ni), self.q),
            self.csub(self.mul_lazy(d, wni), self.q),
        )
    }

    /// Stages `t = 2, 1` on 8-word chunks `a = e0..e3`, `b = f0..f3`: `t = 2` pairs
    /// `[e0 e1 f0 f1]` with `[e2 e3 f2 f3]`, `t = 1` pairs `[e0 e2 f0 f2]` with `[e1 e3 f1 f3]`.
    #[inline(always)]
    fn fwd_tail(self, data: &mut [u64], w: &[u64], ws: &[u64], d: u32, h: usize) {
        let b = data.len();
        let (b2, b1) = (tail_base(b, 2, d, h), tail_base(b, 1, d, h));
        let (w2, _) = w[b2..b2 + b / 4].as_chunks::<2>();
        let (ws2, _) = ws[b2..b2 + b / 4].as_chunks::<2>();
        let (w1, _) = w[b1..b1 + b / 2].as_chunks::<4>();
        let (ws1, _) = ws[b1..b1 + b / 2].as_chunks::<4>();
        let (chunks, _) = data.as_chunks_mut::<8>();
        let tw = w2.iter().zip(ws2).zip(w1.iter().zip(ws1));
        for (c, (t2, t1)) in chunks.iter_mut().zip(tw) {
            let (lo, hi) = c.split_at_mut(4);
            let (lo, _) = lo.as_chunks_mut::<4>();
            let (hi, _) = hi.as_chunks_mut::<4>();
            let (lo, hi) = (&mut lo[0], &mut hi[0]);
            let (a, bb) = (self.load(lo), self.load(hi));
            let tw2 = self.tw_vec(spread2(self._tok, t2.0), spread2(self._tok, t2.1));
            let tw1 = self.tw_vec(self.load(t1.0), self.load(t1.1));
            // SAFETY: the token proves AVX2 is present.
            let (x, y) = unsafe {
                (
                    _mm256_permute2x128_si256::<0x20>(a, bb),
                    _mm256_permute2x128_si256::<0x31>(a, bb),
                )
            };
            let (x, y) = self.fwd_bf(x, y, tw2);
            // SAFETY: the token proves AVX2 is present.
            let (x, y) = unsafe { (_mm256_unpacklo_epi64(x, y), _mm256_unpackhi_epi64(x, y)) };
            let (x, y) = self.fwd_bf(x, y, tw1);
            // SAFETY: the token proves AVX2 is present.
            let (a, bb) = unsafe {
                let (l, h) = (_mm256_unpacklo_epi64(x, y), _mm256_unpackhi_epi64(x, y));
                (
                    _mm256_permute2x128_si256::<0x20>(l, h),
                    _mm256_permute2x128_si256::<0x31>(l, h),
                )
            };
            self.store(lo, self.reduce4(a));
            self.store(hi, self.reduce4(bb));
        }
    }

    #[inline(always)]
    fn inv_tail(self, data: &mut [u64], w: &[u64], ws: &[u64], d: u32, h: usize) {
        let b = data.len();
        let (b2, b1) = (tail_base(b, 2, d, h), tail_base(b, 1, d, h));
        let (w2, _) = w[b2..b2 + b / 4].as_chunks::<2>();
        let (ws2, _) = ws[b2..b2 + b / 4].as_chunks::<2>();
        let (w1, _) = w[b1..b1 + b / 2].as_chunks::<4>();
        let (ws1, _) = ws[b1..b1 + b / 2].as_chunks::<4>();
        let (chunks, _) = data.as_chunks_mut::<8>();
        let tw = w2.iter().zip(ws2).zip(w1.iter().zip(ws1));
        for (c, (t2, t1)) in chunks.iter_mut().zip(tw) {
            let (lo, hi) = c.split_at_mut(4);
            let (lo, _) = lo.as_chunks_mut::<4>();
            let (hi, _) = hi.as_chunks_mut::<4>();
            let (lo, hi) = (&mut lo[0], &mut hi[0]);
            let (a, bb) = (self.load(lo), self.load(hi));
            let tw2 = self.tw_vec(spread2(self._tok, t2.0), spread2(self._tok, t2.1));
            let tw1 = self.tw_vec(self.load(t1.0), self.load(t1.1));
            // SAFETY: the token proves AVX2 is present.
            let (x, y) = unsafe {
                let (l, h) = (
                    _mm256_permute2x128_si256::<0x20>(a, bb),
                    _mm256_permute2x128_si256::<0x31>(a, bb),
                );
                (_mm256_unpacklo_epi64(l, h), _mm256_unpackhi_epi64(l, h))
            };
            let (x, y) = self.inv_bf(x, y, tw1);
            // SAFETY: the token proves AVX2 is present.
            let (x, y) = unsafe { (_mm256_unpacklo_epi64(x, y), _mm256_unpackhi_epi64(x, y)) };
            let (x, y) = self.inv_bf(x, y, tw2);
            // SAFETY: the token proves AVX2 is present.
            let (a, bb) = unsafe {
                (
                    _mm256_permute2x128_si256::<0x20>(x, y),
                    _mm256_permute2x128_si256::<0x31>(x, y),
                )
            };
            self.store(lo, a);
            self.store(hi, bb);
        }
    }
}

/// `[a0, a0, a1, a1]`.
#[inline(always)]
fn spread2(_tok: Avx2, a: &[u64; 2]) -> __m256i {
    // SAFETY: the token proves AVX2 is present.
    unsafe {
        _mm256_blend_epi32::<0xF0>(
            _mm256_set1_epi64x(a[0] as i64),
            _mm256_set1_epi64x(a[1] as i64),
        )
    }
}

/// Twiddle base index of the stage with half-size `t` in a block of `b` words at `(d, h)`.
#[inline(always)]
fn tail_base(b: usize, t: usize, d: u32, h: usize) -> usize {
    let m = b / (2 * t);
    (m << d) + h * m
}

/// Forward transform with the AVX2 kernel.
pub(crate) fn forward(tok: Avx2, t: &Tables, a: &mut [u64]) {
    // SAFETY: `tok` exists only if AVX2 was detected at run time.
    unsafe { forward_impl(tok, t, a) }
}

/// Inverse transform with the AVX2 kernel.
pub(crate) fn inverse(tok: Avx2, t: &Tables, l: &LastStage, src: Option<&[u64]>, a: &mut [u64]) {
    // SAFETY: `tok` exists only if AVX2 was detected at run time.
    unsafe { inverse_impl(tok, t, l, src, a) }
}

#[target_feature(enable = "avx2")]
fn forward_impl(tok: Avx2, t: &Tables, a: &mut [u64]) {
    let o = OpsAvx2::new(tok, t.q);
    engine::forward::<_, 4>(o, a, &t.fw, &t.fw_shoup);
}

#[target_feature(enable = "avx2")]
fn inverse_impl(tok: Avx2, t: &Tables, l: &LastStage, src: Option<&[u64]>, a: &mut [u64]) {
    let o = OpsAvx2::new(tok, t.q);
    let last = (
        o.tw(l.n_inv, l.n_inv_shoup),
        o.tw(l.w_n_inv, l.w_n_inv_shoup),
    );
    engine::inverse::<_, 4>(o, src, a, &t.iw, &t.iw_shoup, last);
}

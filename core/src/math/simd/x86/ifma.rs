//! AVX-512 IFMA kernel for primes `q < 2^50`: Shoup multiplication in the 52-bit domain.
//!
//! Twiddles carry `w' = ⌊w·2^52/q⌋`. For `y < 4q < 2^52`, `q̂ = ⌊y·w'/2^52⌋` is one
//! `vpmadd52huq`, and `r = y·w − q̂·q ∈ [0, 2q)` is computed modulo `2^52` with two
//! `vpmadd52luq` (the second multiplies by `2^52 − q`) and a mask — exact because `r < 2^52`.
//! The butterflies and ranges are those of the 64-bit kernel; the last stages reuse its
//! in-register tail.

use super::avx512::{fwd_tail8, inv_tail8, load8, store8, Lanes8};
use super::engine::{self, Ops};
use super::{Avx512, Ifma};
use crate::math::ntt::{LastStage, Tables};
use std::arch::x86_64::*;

/// The 52-bit Shoup arithmetic.
#[derive(Clone, Copy)]
pub(super) struct OpsIfma {
    tok: Avx512,
    q: __m512i,
    two_q: __m512i,
    neg_q52: __m512i,
    mask52: __m512i,
}

impl OpsIfma {
    #[inline(always)]
    fn new(tok: Ifma, q: u64) -> Self {
        // SAFETY: the token proves AVX-512 F is present.
        unsafe {
            Self {
                tok: tok.avx512(),
                q: _mm512_set1_epi64(q as i64),
                two_q: _mm512_set1_epi64((2 * q) as i64),
                neg_q52: _mm512_set1_epi64(((1u64 << 52) - q) as i64),
                mask52: _mm512_set1_epi64(((1u64 << 52) - 1) as i64),
            }
        }
    }

    /// `y·w mod q` in `[0, 2q)` for `y < 2^52` (see the module docs).
    #[inline(always)]
    fn mul_lazy(self, y: __m512i, w: (__m512i, __m512i)) -> __m512i {
        let (w, ws) = w;
        // SAFETY: this type is built only from an `Ifma` token, which proves AVX-512 F and
        // IFMA are present.
        unsafe {
            let zero = _mm512_setzero_si512();
            let qh = _mm512_madd52hi_epu64(zero, y, ws);
            let lo = _mm512_madd52lo_epu64(zero, y, w);
            let r = _mm512_madd52lo_epu64(lo, qh, self.neg_q52);
            _mm512_and_si512(r, self.mask52)
        }
    }

    /// `x ≥ c ? x − c : x` for `x < c + 2^63`.
    #[inline(always)]
    fn csub(self, x: __m512i, c: __m512i) -> __m512i {
        // SAFETY: the token proves AVX-512 F is present.
        unsafe { _mm512_min_epu64(x, _mm512_sub_epi64(x, c)) }
    }
}

impl Ops<8> for OpsIfma {
    type V = __m512i;
    type W = (__m512i, __m512i);

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
        unsafe { (_mm512_set1_epi64(w as i64), _mm512_set1_epi64(ws as i64)) }
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

impl Lanes8 for OpsIfma {
    #[inline(always)]
    fn token(self) -> Avx512 {
        self.tok
    }

    #[inline(always)]
    fn tw_vec(self, w: __m512i, ws: __m512i) -> Self::W {
        (w, ws)
    }

    #[inline(always)]
    fn reduce4(self, x: __m512i) -> __m512i {
        self.csub(self.csub(x, self.two_q), self.q)
    }
}

/// Forward transform with the IFMA kernel (`q < 2^50`, 52-bit Shoup tables present).
pub(crate) fn forward(tok: Ifma, t: &Tables, a: &mut [u64]) {
    // SAFETY: `tok` exists only if AVX-512 F, DQ and IFMA were detected at run time.
    unsafe { forward_impl(tok, t, a) }
}

/// Inverse transform with the IFMA kernel (`q < 2^50`, 52-bit Shoup tables present).
pub(crate) fn inverse(tok: Ifma, t: &Tables, l: &LastStage, src: Option<&[u64]>, a: &mut [u64]) {
    // SAFETY: `tok` exists only if AVX-512 F, DQ and IFMA were detected at run time.
    unsafe { inverse_impl(tok, t, l, src, a) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn forward_impl(tok: Ifma, t: &Tables, a: &mut [u64]) {
    let o = OpsIfma::new(tok, t.q);
    engine::forward::<_, 8>(o, a, &t.fw, &t.fw_shoup52);
}

#[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
fn inverse_impl(tok: Ifma, t: &Tables, l: &LastStage, src: Option<&[u64]>, a: &mut [u64]) {
    let o = OpsIfma::new(tok, t.q);
    let last = (
        o.tw(l.n_inv, l.n_inv_shoup52),
        o.tw(l.w_n_inv, l.w_n_inv_shoup52),
    );
    engine::inverse::<_, 8>(o, src, a, &t.iw, &t.iw_shoup52, last);
}

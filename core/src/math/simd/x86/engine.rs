//! The transform structure shared by every SIMD kernel, generic over the lane arithmetic.
//!
//! Everything here is `#[inline(always)]` and is instantiated inside one `#[target_feature]`
//! entry function per ISA, so the whole transform compiles with that ISA's instructions.
//!
//! Structure (forward; the inverse runs the mirror image in reverse order):
//! - data larger than [`BLOCK`] is split depth-first: an outer pass (two stages at once,
//!   radix-4, or one radix-2 stage when the count of outer stages is odd) over a sub-array,
//!   then its quarters, down to blocks of [`BLOCK`] words that stay in L1. The recursion is
//!   unrolled into a loop over the blocks, doing each ancestor's pass before its first block;
//! - inside a block, stages of half-size `t ≥ L` run in radix-4 pairs with broadcast twiddles;
//! - the stages with `t < L` run in registers on `2L`-word chunks (the kernel's `fwd_tail` /
//!   `inv_tail`), with the final reduction of the forward transform fused in.
//!
//! Twiddle indices: in a sub-array at depth `d` (its length is `n / 2^d`) and position `h`,
//! the stage with `m` local groups reads twiddles `(m << d) + h·m + i`, `i < m`.

/// Words per block of the depth-first split (8 KiB: the block and its twiddles stay in L1).
pub(super) const BLOCK: usize = 1024;

/// Lane arithmetic of one kernel (`L` lanes of 64 bits).
pub(super) trait Ops<const L: usize>: Copy {
    /// A vector of `L` words.
    type V: Copy;
    /// A twiddle prepared for the butterfly (value, Shoup quotient, derived constants).
    type W: Copy;
    /// Loads `L` words.
    fn load(self, s: &[u64; L]) -> Self::V;
    /// Stores `L` words.
    fn store(self, s: &mut [u64; L], v: Self::V);
    /// One twiddle broadcast to every lane.
    fn tw(self, w: u64, w_shoup: u64) -> Self::W;
    /// Forward butterfly: `(x, y) ∈ [0,4q)² ↦ (x + w·y, x − w·y) ∈ [0,4q)²`.
    fn fwd_bf(self, x: Self::V, y: Self::V, w: Self::W) -> (Self::V, Self::V);
    /// Inverse butterfly: `(x, y) ∈ [0,2q)² ↦ (x + y, w·(x − y)) ∈ [0,2q)²`.
    fn inv_bf(self, x: Self::V, y: Self::V, w: Self::W) -> (Self::V, Self::V);
    /// Last inverse butterfly with `n^{-1}` folded in: `(n^{-1}(x + y), w n^{-1}(x − y))`,
    /// fully reduced into `[0, q)`.
    fn inv_bf_last(
        self,
        x: Self::V,
        y: Self::V,
        n_inv: Self::W,
        w_n_inv: Self::W,
    ) -> (Self::V, Self::V);
    /// Forward stages with half-size below `L` on a block, plus the reduction into `[0, q)`.
    fn fwd_tail(self, data: &mut [u64], w: &[u64], ws: &[u64], d: u32, h: usize);
    /// Inverse stages with half-size below `L` on a block.
    fn inv_tail(self, data: &mut [u64], w: &[u64], ws: &[u64], d: u32, h: usize);
}

/// One outer level of the depth-first split: sub-arrays of `size` words at depth `d`.
#[derive(Clone, Copy)]
struct Level {
    size: usize,
    d: u32,
    radix4: bool,
}

/// The outer levels, top-down, for `n` words split into blocks of `b`; returns the count.
#[inline(always)]
fn outer_levels(n: usize, b: usize, out: &mut [Level; 16]) -> (usize, u32) {
    let mut stages = (n / b).trailing_zeros();
    let (mut size, mut d, mut count) = (n, 0u32, 0usize);
    while stages > 0 {
        let radix4 = stages.is_multiple_of(2);
        out[count] = Level { size, d, radix4 };
        count += 1;
        let s = if radix4 { 2 } else { 1 };
        size >>= s;
        d += s;
        stages -= s;
    }
    (count, d)
}

#[inline(always)]
fn fwd_r2<O: Ops<L>, const L: usize>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    widx: usize,
    m: usize,
    t: usize,
) {
    let tw = w[widx..widx + m].iter().zip(&ws[widx..widx + m]);
    for (blk, (&wv, &wsv)) in data.chunks_exact_mut(2 * t).zip(tw) {
        let wt = o.tw(wv, wsv);
        let (x, y) = blk.split_at_mut(t);
        let (x, _) = x.as_chunks_mut::<L>();
        let (y, _) = y.as_chunks_mut::<L>();
        for (x, y) in x.iter_mut().zip(y.iter_mut()) {
            let (a, b) = o.fwd_bf(o.load(x), o.load(y), wt);
            o.store(x, a);
            o.store(y, b);
        }
    }
}

/// Stages `(m, t)` and `(2m, t/2)` in one pass.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fwd_r4<O: Ops<L>, const L: usize>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    ia: usize,
    ib: usize,
    m: usize,
    t: usize,
) {
    let wa = w[ia..ia + m].iter().zip(&ws[ia..ia + m]);
    let wb = w[ib..ib + 2 * m]
        .chunks_exact(2)
        .zip(ws[ib..ib + 2 * m].chunks_exact(2));
    for ((blk, (&wa, &wsa)), (wb, wsb)) in data.chunks_exact_mut(2 * t).zip(wa).zip(wb) {
        let wa = o.tw(wa, wsa);
        let wb0 = o.tw(wb[0], wsb[0]);
        let wb1 = o.tw(wb[1], wsb[1]);
        let (lo, hi) = blk.split_at_mut(t);
        let (q0, q1) = lo.split_at_mut(t / 2);
        let (q2, q3) = hi.split_at_mut(t / 2);
        let (q0, _) = q0.as_chunks_mut::<L>();
        let (q1, _) = q1.as_chunks_mut::<L>();
        let (q2, _) = q2.as_chunks_mut::<L>();
        let (q3, _) = q3.as_chunks_mut::<L>();
        for (((x0, x1), x2), x3) in q0.iter_mut().zip(q1).zip(q2).zip(q3) {
            let (a0, a1, a2, a3) = (o.load(x0), o.load(x1), o.load(x2), o.load(x3));
            let (a0, a2) = o.fwd_bf(a0, a2, wa);
            let (a1, a3) = o.fwd_bf(a1, a3, wa);
            let (a0, a1) = o.fwd_bf(a0, a1, wb0);
            let (a2, a3) = o.fwd_bf(a2, a3, wb1);
            o.store(x0, a0);
            o.store(x1, a1);
            o.store(x2, a2);
            o.store(x3, a3);
        }
    }
}

#[inline(always)]
fn fwd_block<O: Ops<L>, const L: usize>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    d: u32,
    h: usize,
) {
    let b = data.len();
    let (mut m, mut t) = (1usize, b / 2);
    while t >= L {
        let ia = (m << d) + h * m;
        if t >= 2 * L {
            let ib = ((2 * m) << d) + h * 2 * m;
            fwd_r4(o, data, w, ws, ia, ib, m, t);
            m *= 4;
            t /= 4;
        } else {
            fwd_r2(o, data, w, ws, ia, m, t);
            m *= 2;
            t /= 2;
        }
    }
    o.fwd_tail(data, w, ws, d, h);
}

/// Forward transform of `data` (length a power of two, at least `2L`) with tables `w`, `ws`.
#[inline(always)]
pub(super) fn forward<O: Ops<L>, const L: usize>(o: O, data: &mut [u64], w: &[u64], ws: &[u64]) {
    let n = data.len();
    let b = n.min(BLOCK);
    let mut levels = [Level {
        size: 0,
        d: 0,
        radix4: false,
    }; 16];
    let (count, leaf_d) = outer_levels(n, b, &mut levels);
    for (leaf, start) in (0..n).step_by(b).enumerate() {
        for lv in &levels[..count] {
            if start.is_multiple_of(lv.size) {
                let hh = start / lv.size;
                let sub = &mut data[start..start + lv.size];
                let ia = (1usize << lv.d) + hh;
                if lv.radix4 {
                    let ib = (2usize << lv.d) + 2 * hh;
                    fwd_r4(o, sub, w, ws, ia, ib, 1, lv.size / 2);
                } else {
                    fwd_r2(o, sub, w, ws, ia, 1, lv.size / 2);
                }
            }
        }
        fwd_block(o, &mut data[start..start + b], w, ws, leaf_d, leaf);
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn inv_r2<O: Ops<L>, const L: usize>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    widx: usize,
    m: usize,
    t: usize,
    last: Option<(O::W, O::W)>,
) {
    let tw = w[widx..widx + m].iter().zip(&ws[widx..widx + m]);
    for (blk, (&wv, &wsv)) in data.chunks_exact_mut(2 * t).zip(tw) {
        let wt = o.tw(wv, wsv);
        let (x, y) = blk.split_at_mut(t);
        let (x, _) = x.as_chunks_mut::<L>();
        let (y, _) = y.as_chunks_mut::<L>();
        match last {
            None => {
                for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                    let (a, b) = o.inv_bf(o.load(x), o.load(y), wt);
                    o.store(x, a);
                    o.store(y, b);
                }
            }
            Some((ni, wni)) => {
                for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                    let (a, b) = o.inv_bf_last(o.load(x), o.load(y), ni, wni);
                    o.store(x, a);
                    o.store(y, b);
                }
            }
        }
    }
}

/// Stages `(2m, t/2)` and `(m, t)` in one pass (undoing [`fwd_r4`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn inv_r4<O: Ops<L>, const L: usize>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    ia: usize,
    ib: usize,
    m: usize,
    t: usize,
    last: Option<(O::W, O::W)>,
) {
    let wa = w[ia..ia + m].iter().zip(&ws[ia..ia + m]);
    let wb = w[ib..ib + 2 * m]
        .chunks_exact(2)
        .zip(ws[ib..ib + 2 * m].chunks_exact(2));
    for ((blk, (&wa, &wsa)), (wb, wsb)) in data.chunks_exact_mut(2 * t).zip(wa).zip(wb) {
        let wa = o.tw(wa, wsa);
        let wb0 = o.tw(wb[0], wsb[0]);
        let wb1 = o.tw(wb[1], wsb[1]);
        let (lo, hi) = blk.split_at_mut(t);
        let (q0, q1) = lo.split_at_mut(t / 2);
        let (q2, q3) = hi.split_at_mut(t / 2);
        let (q0, _) = q0.as_chunks_mut::<L>();
        let (q1, _) = q1.as_chunks_mut::<L>();
        let (q2, _) = q2.as_chunks_mut::<L>();
        let (q3, _) = q3.as_chunks_mut::<L>();
        let quads = q0.iter_mut().zip(q1).zip(q2).zip(q3);
        match last {
            None => {
                for (((x0, x1), x2), x3) in quads {
                    let (a0, a1, a2, a3) = (o.load(x0), o.load(x1), o.load(x2), o.load(x3));
                    let (a0, a1) = o.inv_bf(a0, a1, wb0);
                    let (a2, a3) = o.inv_bf(a2, a3, wb1);
                    let (a0, a2) = o.inv_bf(a0, a2, wa);
                    let (a1, a3) = o.inv_bf(a1, a3, wa);
                    o.store(x0, a0);
                    o.store(x1, a1);
                    o.store(x2, a2);
                    o.store(x3, a3);
                }
            }
            Some((ni, wni)) => {
                for (((x0, x1), x2), x3) in quads {
                    let (a0, a1, a2, a3) = (o.load(x0), o.load(x1), o.load(x2), o.load(x3));
                    let (a0, a1) = o.inv_bf(a0, a1, wb0);
                    let (a2, a3) = o.inv_bf(a2, a3, wb1);
                    let (a0, a2) = o.inv_bf_last(a0, a2, ni, wni);
                    let (a1, a3) = o.inv_bf_last(a1, a3, ni, wni);
                    o.store(x0, a0);
                    o.store(x1, a1);
                    o.store(x2, a2);
                    o.store(x3, a3);
                }
            }
        }
    }
}

#[inline(always)]
fn inv_block<O: Ops<L>, const L: usize>(
    o: O,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    d: u32,
    h: usize,
    last: Option<(O::W, O::W)>,
) {
    let b = data.len();
    o.inv_tail(data, w, ws, d, h);
    let mut t = L;
    while t < b {
        let m = b / (2 * t);
        if 2 * t < b {
            let mm = m / 2;
            let ia = (mm << d) + h * mm;
            let ib = (m << d) + h * m;
            let l = if 4 * t == b { last } else { None };
            inv_r4(o, data, w, ws, ia, ib, mm, 2 * t, l);
            t *= 4;
        } else {
            inv_r2(o, data, w, ws, (m << d) + h * m, m, t, last);
            t *= 2;
        }
    }
}

/// Inverse transform of `data` (length a power of two, at least `2L`); `last` holds the
/// prepared `n^{-1}` and `w[1]·n^{-1}` twiddles of the final stage. With `src` (of `data`'s
/// length), each block is first copied from `src` — the transform of `src` out of place,
/// the copy done block by block while the block is about to be used (no separate pass).
#[inline(always)]
pub(super) fn inverse<O: Ops<L>, const L: usize>(
    o: O,
    src: Option<&[u64]>,
    data: &mut [u64],
    w: &[u64],
    ws: &[u64],
    last: (O::W, O::W),
) {
    let n = data.len();
    let b = n.min(BLOCK);
    let mut levels = [Level {
        size: 0,
        d: 0,
        radix4: false,
    }; 16];
    let (count, leaf_d) = outer_levels(n, b, &mut levels);
    for (leaf, start) in (0..n).step_by(b).enumerate() {
        if let Some(src) = src {
            data[start..start + b].copy_from_slice(&src[start..start + b]);
        }
        let block_last = if count == 0 { Some(last) } else { None };
        inv_block(
            o,
            &mut data[start..start + b],
            w,
            ws,
            leaf_d,
            leaf,
            block_last,
        );
        let end = start + b;
        for lv in levels[..count].iter().rev() {
            if end.is_multiple_of(lv.size) {
                let s0 = end - lv.size;
                let hh = s0 / lv.size;
                let sub = &mut data[s0..end];
                let ia = (1usize << lv.d) + hh;
                let l = if lv.d == 0 { Some(last) } else { None };
                if lv.radix4 {
                    let ib = (2usize << lv.d) + 2 * hh;
                    inv_r4(o, sub, w, ws, ia, ib, 1, lv.size / 2, l);
                } else {
                    inv_r2(o, sub, w, ws, ia, 1, lv.size / 2, l);
                }
            }
        }
    }
}

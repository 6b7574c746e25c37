//! The special FFT of the CKKS encoding as a product of sparse diagonal matrices, and the
//! baby-step giant-step plans that evaluate each factor homomorphically.
//!
//! # The transform
//!
//! On `n` slots the message lives in `Z[Y]/(Y^{2n} + 1)`, `Y = X^{N/(2n)}` (see
//! [`crate::ckks::encoding`]): with `ξ = e^{iπ/(2n)}` and the rotation group `g_j = 5^j mod 4n`,
//! slot `j` is `Σ_{i<2n} c_i ξ^{i·g_j}`. Since `ξ^n = i` and `g_j ≡ 1 (mod 4)`, this is
//! `z = U·w` with `w_i = c_i + i·c_{n+i}` (`i < n`) and `U_{j,i} = ξ^{i·g_j}`, an `n × n`
//! matrix with `U^H U = n·I`.
//!
//! Splitting `w` into even and odd indices gives the recursion
//! `z_j = E_j + ξ^{g_j}·O_j`, `z_{j+n/2} = E_j − ξ^{g_j}·O_j`, where `E` and `O` are the
//! transforms of size `n/2` (root `ξ²`, period `n/2` in `j`) and `ξ^{g_{j+n/2}} = −ξ^{g_j}`
//! because `5^{n/2} ≡ 2n + 1 (mod 4n)`. Unrolled, `U = B_n ⋯ B_4·B_2·R`, where `R` is the
//! bit-reversal permutation and the butterfly `B_s` acts on blocks of `s` slots as
//! `[I, D_s; I, −D_s]` with `D_s = diag(ξ_s^{5^j mod 4s})_{j<s/2}`, `ξ_s = e^{iπ/(2s)}`.
//!
//! Bootstrapping never applies `R`: CoeffsToSlots computes `R·w = B_2^{-1} ⋯ B_n^{-1} z`
//! (bit-reversed coefficients), EvalMod is slot-wise so the order does not matter, and
//! SlotsToCoeffs applies `B_n ⋯ B_2` to the bit-reversed vector. `B_s^{-1}` is
//! `½[I, I; D_s^{-1}, −D_s^{-1}]`.
//!
//! # Diagonal form
//!
//! A linear map on slots is stored as its generalised diagonals: `M·v = Σ_k d_k ⊙ rot(v, k)`
//! with `rot(v, k)_p = v_{(p+k) mod n}` (the evaluator's left rotation). A butterfly has the
//! three diagonals `0, ±s/2` (two when `s = n`, where `±n/2` coincide); composing the
//! butterflies of consecutive block sizes `s_a … s_b` gives a factor whose diagonals sit at the
//! multiples of `s_a/2` up to `±(s_b − s_a/2)`. The consecutive butterflies are grouped into
//! one factor per level; [`split_stages`] picks the grouping with the fewest rotations.
//!
//! # Baby-step giant-step
//!
//! For a factor with diagonals at shifts `k` (signed, `|k| ≤ n/2`) and a block `B`, write
//! `k = G + b` with `b = k mod B`; then
//! `M·v = Σ_G rot(Σ_b rot(d_{G+b}, −G) ⊙ rot(v, b), G)`: the baby rotations `rot(v, b)` share
//! one decomposition (hoisting) and each giant sum is rotated once. [`Bsgs::plan`] picks the
//! power-of-two block with the fewest rotations.
//!
//! # References
//! - J. H. Cheon, K. Han, A. Kim, M. Kim, Y. Song, "Bootstrapping for approximate homomorphic
//!   encryption", EUROCRYPT 2018 (the special FFT and its sparse factorisation).
//! - H. Chen, I. Chillotti, Y. Song, "Improved bootstrapping for approximate homomorphic
//!   encryption", EUROCRYPT 2019 (merged butterfly levels, baby-step giant-step).
//! - J.-P. Bossuat, C. Mouchet, J. Troncoso-Pastoriza, J.-P. Hubaux, EUROCRYPT 2021 (the
//!   bit-reversed order between the two transforms).

use num_complex::Complex64;
use std::collections::BTreeMap;

/// `rot(v, k)`: slot `p` of the result is slot `(p + k) mod n` of `v`.
pub fn rotate(v: &[Complex64], k: i64) -> Vec<Complex64> {
    let n = v.len();
    if n == 0 {
        return Vec::new();
    }
    let k = k.rem_euclid(n as i64) as usize;
    (0..n).map(|p| v[(p + k) % n]).collect()
}

/// A linear map on `n` slots as its generalised diagonals: `M·v = Σ_k d_k ⊙ rot(v, k)`,
/// keyed by the shift `k mod n`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalMatrix {
    n: usize,
    diags: BTreeMap<usize, Vec<Complex64>>,
}

impl DiagonalMatrix {
    /// The identity on `n` slots.
    pub fn identity(n: usize) -> Self {
        Self {
            n,
            diags: BTreeMap::from([(0, vec![Complex64::new(1.0, 0.0); n])]),
        }
    }

    /// The slot count.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The diagonals, keyed by shift `k mod n`.
    pub fn diagonals(&self) -> &BTreeMap<usize, Vec<Complex64>> {
        &self.diags
    }

    /// The shifts with a diagonal, as signed values in `(−n/2, n/2]`.
    pub fn signed_shifts(&self) -> Vec<i64> {
        self.diags.keys().map(|&k| signed(k, self.n)).collect()
    }

    /// `c·M`.
    pub fn scaled(mut self, c: Complex64) -> Self {
        for d in self.diags.values_mut() {
            d.iter_mut().for_each(|x| *x *= c);
        }
        self
    }

    /// `self ∘ inner`: the map `v ↦ self·(inner·v)`.
    pub fn compose(&self, inner: &DiagonalMatrix) -> DiagonalMatrix {
        let n = self.n;
        let mut out: BTreeMap<usize, Vec<Complex64>> = BTreeMap::new();
        for (&a, da) in &self.diags {
            for (&b, db) in &inner.diags {
                // d_a ⊙ rot(d_b ⊙ rot(v, b), a) = (d_a ⊙ rot(d_b, a)) ⊙ rot(v, a + b).
                let entry = out
                    .entry((a + b) % n)
                    .or_insert_with(|| vec![Complex64::new(0.0, 0.0); n]);
                for p in 0..n {
                    entry[p] += da[p] * db[(p + a) % n];
                }
            }
        }
        out.retain(|_, d| d.iter().any(|x| x.norm_sqr() > 0.0));
        DiagonalMatrix { n, diags: out }
    }

    /// `M·v` in the clear.
    pub fn apply(&self, v: &[Complex64]) -> Vec<Complex64> {
        let n = self.n;
        let mut out = vec![Complex64::new(0.0, 0.0); n];
        for (&k, d) in &self.diags {
            for p in 0..n {
                out[p] += d[p] * v[(p + k) % n];
            }
        }
        out
    }
}

/// `k mod n` as a signed value in `(−n/2, n/2]`.
pub fn signed(k: usize, n: usize) -> i64 {
    let k = (k % n.max(1)) as i64;
    if 2 * k > n as i64 {
        k - n as i64
    } else {
        k
    }
}

/// `ξ_s^{5^j mod 4s}` with `ξ_s = e^{iπ/(2s)}`: the twiddle of position `j < s/2` in a block of
/// `s` slots (the closed form the tests check [`twiddles`] against).
#[cfg(test)]
fn twiddle(s: usize, j: usize) -> Complex64 {
    let m = 4 * s as u64;
    let mut g = 1u64;
    for _ in 0..j {
        g = g * 5 % m;
    }
    Complex64::from_polar(1.0, std::f64::consts::PI * g as f64 / (2 * s) as f64)
}

/// The twiddles `ξ_s^{5^j mod 4s}` for `j < s/2`.
fn twiddles(s: usize) -> Vec<Complex64> {
    let m = 4 * s as u64;
    let mut g = 1u64;
    (0..s / 2)
        .map(|_| {
            let w = Complex64::from_polar(1.0, std::f64::consts::PI * g as f64 / (2 * s) as f64);
            g = g * 5 % m;
            w
        })
        .collect()
}

fn insert_add(diags: &mut BTreeMap<usize, Vec<Complex64>>, k: usize, d: Vec<Complex64>) {
    match diags.get_mut(&k) {
        Some(e) => e.iter_mut().zip(&d).for_each(|(x, y)| *x += y),
        None => {
            diags.insert(k, d);
        }
    }
}

/// The butterfly `B_s` on `n` slots: blocks of `s` slots map as `[I, D_s; I, −D_s]`.
pub fn butterfly(n: usize, s: usize) -> DiagonalMatrix {
    let h = s / 2;
    let w = twiddles(s);
    let zero = Complex64::new(0.0, 0.0);
    let one = Complex64::new(1.0, 0.0);
    let mut d0 = vec![zero; n];
    let mut dp = vec![zero; n];
    let mut dm = vec![zero; n];
    for p in 0..n {
        let o = p % s;
        if o < h {
            // out_p = v_p + D_o·v_{p+h}
            d0[p] = one;
            dp[p] = w[o];
        } else {
            // out_p = v_{p−h} − D_{o−h}·v_p
            d0[p] = -w[o - h];
            dm[p] = one;
        }
    }
    let mut diags = BTreeMap::new();
    insert_add(&mut diags, 0, d0);
    insert_add(&mut diags, h % n, dp);
    insert_add(&mut diags, (n - h) % n, dm);
    DiagonalMatrix { n, diags }
}

/// The inverse butterfly `B_s^{-1}`: blocks map as `½[I, I; D_s^{-1}, −D_s^{-1}]`.
pub fn inverse_butterfly(n: usize, s: usize) -> DiagonalMatrix {
    let h = s / 2;
    let w = twiddles(s);
    let zero = Complex64::new(0.0, 0.0);
    let half = Complex64::new(0.5, 0.0);
    let mut d0 = vec![zero; n];
    let mut dp = vec![zero; n];
    let mut dm = vec![zero; n];
    for p in 0..n {
        let o = p % s;
        if o < h {
            // out_p = (v_p + v_{p+h}) / 2
            d0[p] = half;
            dp[p] = half;
        } else {
            // out_p = D_{o−h}^{-1}·(v_{p−h} − v_p) / 2
            let inv = w[o - h].conj() * 0.5;
            d0[p] = -inv;
            dm[p] = inv;
        }
    }
    let mut diags = BTreeMap::new();
    insert_add(&mut diags, 0, d0);
    insert_add(&mut diags, h % n, dp);
    insert_add(&mut diags, (n - h) % n, dm);
    DiagonalMatrix { n, diags }
}

/// Which transform a factorisation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// CoeffsToSlots: `B_2^{-1} ⋯ B_n^{-1}`, applied from `B_n^{-1}` (largest blocks) first.
    CoeffsToSlots,
    /// SlotsToCoeffs: `B_n ⋯ B_2`, applied from `B_2` (smallest blocks) first.
    SlotsToCoeffs,
}

/// The block sizes of the butterflies in application order.
pub fn stage_sizes(n: usize, direction: Direction) -> Vec<usize> {
    let log_n = n.trailing_zeros();
    let up: Vec<usize> = (1..=log_n).map(|k| 1usize << k).collect();
    match direction {
        Direction::SlotsToCoeffs => up,
        Direction::CoeffsToSlots => up.into_iter().rev().collect(),
    }
}

/// The shifts (mod `n`) of the composition of the butterflies with block sizes `sizes`
/// (consecutive powers of two, in either order): with `t` the smallest half-block and `S` the
/// sum of the half-blocks, the signed sums `Σ ±s/2` are exactly the multiples of `t` in
/// `[−S, S]` (signed binary digits).
fn group_shifts(n: usize, sizes: &[usize]) -> Vec<usize> {
    let Some(&t) = sizes.iter().map(|s| s / 2).collect::<Vec<_>>().iter().min() else {
        return vec![0];
    };
    let total: usize = sizes.iter().map(|s| s / 2).sum();
    let steps = (total / t.max(1)) as i64;
    let mut out: Vec<usize> = (-steps..=steps)
        .map(|j| (j * t as i64).rem_euclid(n as i64) as usize)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Splits the butterflies (in application order) into `levels` consecutive groups, one per
/// level, minimising the total number of rotations of the baby-step giant-step evaluation
/// (ties: fewer diagonals, then the earlier split). Groups may be empty when there are fewer
/// butterflies than levels; an empty group is the identity.
///
/// SlotsToCoeffs uses the CoeffsToSlots split mirrored (the same groups of block sizes in
/// reverse), so both transforms have the same diagonal shifts and share their rotation keys.
pub fn split_stages(n: usize, direction: Direction, levels: usize) -> Vec<Vec<usize>> {
    if direction == Direction::SlotsToCoeffs {
        return split_stages(n, Direction::CoeffsToSlots, levels)
            .into_iter()
            .rev()
            .map(|g| g.into_iter().rev().collect())
            .collect();
    }
    let sizes = stage_sizes(n, direction);
    let stages = sizes.len();
    if levels == 0 {
        return Vec::new();
    }
    // (rotations, diagonals) of the group of `len` butterflies starting at `start`.
    let mut cost = vec![vec![(0usize, 1usize); stages + 1]; stages + 1];
    for (start, row) in cost.iter_mut().enumerate() {
        for (len, c) in row.iter_mut().enumerate().take(stages - start + 1).skip(1) {
            let shifts = group_shifts(n, &sizes[start..start + len]);
            let signed: Vec<i64> = shifts.iter().map(|&k| signed(k, n)).collect();
            *c = (Bsgs::plan(n, &signed).rotation_count(), shifts.len());
        }
    }
    let mut best: Option<((usize, usize), Vec<usize>)> = None;
    let mut counts = vec![0usize; levels];
    // Enumerate every composition of `stages` into `levels` non-negative parts.
    fn rec(i: usize, left: usize, counts: &mut Vec<usize>, visit: &mut dyn FnMut(&[usize])) {
        if i + 1 == counts.len() {
            counts[i] = left;
            visit(counts);
            return;
        }
        for c in 0..=left {
            counts[i] = c;
            rec(i + 1, left - c, counts, visit);
        }
    }
    // Prefer groups as even as possible when there are more levels than needed: an empty
    // group still costs a level, so only its cost differs.
    let mut visit = |counts: &[usize]| {
        let mut start = 0;
        let mut rotations = 0;
        let mut diagonals = 0;
        for &c in counts {
            let (r, d) = cost[start][c];
            rotations += r;
            diagonals += d;
            start += c;
        }
        let cost = (rotations, diagonals);
        if best.as_ref().is_none_or(|(b, _)| cost < *b) {
            best = Some((cost, counts.to_vec()));
        }
    };
    rec(0, stages, &mut counts, &mut visit);
    let counts = best.map(|b| b.1).unwrap_or_else(|| vec![0; levels]);
    let mut out = Vec::with_capacity(levels);
    let mut start = 0;
    for c in counts {
        out.push(sizes[start..start + c].to_vec());
        start += c;
    }
    out
}

/// The factor of one level: the composition of the butterflies with block sizes `sizes`
/// (in application order), times `factor`.
pub fn group_matrix(
    n: usize,
    direction: Direction,
    sizes: &[usize],
    factor: Complex64,
) -> DiagonalMatrix {
    let mut m = DiagonalMatrix::identity(n);
    for &s in sizes {
        let b = match direction {
            Direction::CoeffsToSlots => inverse_butterfly(n, s),
            Direction::SlotsToCoeffs => butterfly(n, s),
        };
        m = b.compose(&m);
    }
    m.scaled(factor)
}

/// A baby-step giant-step evaluation plan for one diagonal matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bsgs {
    /// The baby rotations (0 included when a giant step uses it), in increasing order.
    pub babies: Vec<i64>,
    /// For each giant rotation `G` (in increasing order): its terms as
    /// `(index into babies, shift k = G + b mod n)`.
    pub giants: Vec<(i64, Vec<(usize, usize)>)>,
}

impl Bsgs {
    /// The plan with the fewest rotations over power-of-two blocks for diagonals at the
    /// signed shifts `shifts` on `n` slots (ties: fewer giant steps).
    pub fn plan(n: usize, shifts: &[i64]) -> Bsgs {
        let mut best: Option<((usize, usize), Bsgs)> = None;
        let mut block = 1usize;
        while block <= n.max(1) {
            let p = Self::with_block(n, shifts, block);
            let giants = p.giants.iter().filter(|g| g.0 != 0).count();
            let cost = (p.rotation_count(), giants);
            if best.as_ref().is_none_or(|(b, _)| cost < *b) {
                best = Some((cost, p));
            }
            block *= 2;
        }
        best.map(|b| b.1).unwrap_or(Bsgs {
            babies: Vec::new(),
            giants: Vec::new(),
        })
    }

    /// The plan for block `block`: `k = G + b` with `b = k mod block`.
    pub fn with_block(n: usize, shifts: &[i64], block: usize) -> Bsgs {
        let block = block.max(1) as i64;
        let mut babies: Vec<i64> = shifts.iter().map(|&k| k.rem_euclid(block)).collect();
        babies.sort_unstable();
        babies.dedup();
        let mut giants: BTreeMap<i64, Vec<(usize, usize)>> = BTreeMap::new();
        for &k in shifts {
            let b = k.rem_euclid(block);
            let g = k - b;
            let bi = babies.binary_search(&b).unwrap_or(0);
            giants
                .entry(g)
                .or_default()
                .push((bi, k.rem_euclid(n.max(1) as i64) as usize));
        }
        Bsgs {
            babies,
            giants: giants.into_iter().collect(),
        }
    }

    /// Key-switched rotations: non-zero babies plus non-zero giants.
    pub fn rotation_count(&self) -> usize {
        self.babies.iter().filter(|&&b| b != 0).count()
            + self.giants.iter().filter(|g| g.0 != 0).count()
    }

    /// Every non-zero rotation the plan performs.
    pub fn rotations(&self) -> Vec<i64> {
        self.babies
            .iter()
            .copied()
            .chain(self.giants.iter().map(|g| g.0))
            .filter(|&r| r != 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ckks::encoding::Encoder;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn uniform(rng: &mut ChaCha20Rng) -> f64 {
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    fn random(rng: &mut ChaCha20Rng, n: usize) -> Vec<Complex64> {
        (0..n)
            .map(|_| Complex64::new(uniform(rng), uniform(rng)))
            .collect()
    }

    fn bit_reverse(v: &[Complex64]) -> Vec<Complex64> {
        let n = v.len();
        let bits = n.trailing_zeros();
        (0..n)
            .map(|i| {
                let j = if bits == 0 {
                    0
                } else {
                    i.reverse_bits() >> (usize::BITS - bits)
                };
                v[j]
            })
            .collect()
    }

    /// `U·w` through the encoder: coefficients `c_i = Re w_i`, `c_{n+i} = Im w_i` placed on
    /// the subring, decoded at scale 1.
    fn decode_oracle(enc: &Encoder, w: &[Complex64]) -> Vec<Complex64> {
        let n = w.len();
        let gap = enc.n() / (2 * n);
        let mut coeffs = vec![0.0; enc.n()];
        for (i, z) in w.iter().enumerate() {
            coeffs[i * gap] = z.re;
            coeffs[(n + i) * gap] = z.im;
        }
        enc.decode(&coeffs, n, 1.0).expect("decode")
    }

    fn max_err(a: &[Complex64], b: &[Complex64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max)
    }

    #[test]
    fn twiddles_match_closed_form() {
        for s in [2usize, 8, 64] {
            let w = twiddles(s);
            for (j, &x) in w.iter().enumerate() {
                assert!((x - twiddle(s, j)).norm() < 1e-12);
            }
        }
    }

    #[test]
    fn butterflies_factor_the_encoding() {
        // B_n ⋯ B_2 · R equals the encoder's decoding map on every slot count.
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let enc = Encoder::new(10).expect("encoder");
        for n in [1usize, 2, 4, 16, 128, 512] {
            let w = random(&mut rng, n);
            let want = decode_oracle(&enc, &w);
            let mut v = bit_reverse(&w);
            for s in stage_sizes(n, Direction::SlotsToCoeffs) {
                v = butterfly(n, s).apply(&v);
            }
            assert!(max_err(&v, &want) < 1e-9, "n={n}: {}", max_err(&v, &want));
            // And the inverse butterflies take z back to R·w.
            let mut u = want.clone();
            for s in stage_sizes(n, Direction::CoeffsToSlots) {
                u = inverse_butterfly(n, s).apply(&u);
            }
            assert!(max_err(&u, &bit_reverse(&w)) < 1e-9, "n={n} inverse");
        }
    }

    #[test]
    fn merged_groups_equal_the_product_and_have_the_predicted_shifts() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let n = 256;
        for dir in [Direction::CoeffsToSlots, Direction::SlotsToCoeffs] {
            for levels in [1usize, 2, 3, 4, 9] {
                let groups = split_stages(n, dir, levels);
                assert_eq!(groups.len(), levels);
                let all: Vec<usize> = groups.iter().flatten().copied().collect();
                assert_eq!(all, stage_sizes(n, dir), "{dir:?} {levels}");
                let v = random(&mut rng, n);
                let mut merged = v.clone();
                for g in &groups {
                    let m = group_matrix(n, dir, g, Complex64::new(1.0, 0.0));
                    let predicted = group_shifts(n, g);
                    let got: Vec<usize> = m.diagonals().keys().copied().collect();
                    assert!(got.iter().all(|k| predicted.contains(k)), "{dir:?} {g:?}");
                    merged = m.apply(&merged);
                }
                let mut single = v.clone();
                for s in stage_sizes(n, dir) {
                    single = match dir {
                        Direction::CoeffsToSlots => inverse_butterfly(n, s),
                        Direction::SlotsToCoeffs => butterfly(n, s),
                    }
                    .apply(&single);
                }
                assert!(max_err(&merged, &single) < 1e-9, "{dir:?} {levels}");
            }
        }
    }

    #[test]
    fn bsgs_plan_reconstructs_the_product() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let n = 128;
        let groups = split_stages(n, Direction::SlotsToCoeffs, 2);
        let m = group_matrix(
            n,
            Direction::SlotsToCoeffs,
            &groups[0],
            Complex64::new(0.5, 0.25),
        );
        let plan = Bsgs::plan(n, &m.signed_shifts());
        let v = random(&mut rng, n);
        // Σ_G rot(Σ_b rot(d_k, −G) ⊙ rot(v, b), G)
        let mut out = vec![Complex64::new(0.0, 0.0); n];
        for (g, terms) in &plan.giants {
            let mut acc = vec![Complex64::new(0.0, 0.0); n];
            for &(bi, k) in terms {
                let d = rotate(&m.diagonals()[&k], -g);
                let x = rotate(&v, plan.babies[bi]);
                for p in 0..n {
                    acc[p] += d[p] * x[p];
                }
            }
            let acc = rotate(&acc, *g);
            for p in 0..n {
                out[p] += acc[p];
            }
        }
        assert!(max_err(&out, &m.apply(&v)) < 1e-12);
        // 31 diagonals at shifts −15..15: blocks of 8 give 7 babies and 3 non-zero giants
        // (−16, −8, 8), which beats every other block.
        let shifts: Vec<i64> = (-15..=15).collect();
        let p = Bsgs::plan(1024, &shifts);
        assert_eq!(p.rotation_count(), 10);
    }

    #[test]
    fn full_slot_split_at_n16_uses_39_rotations() {
        // 2^15 slots, 15 butterflies in 3 levels of 5: 63, 63 and 32 diagonals.
        let n = 1 << 15;
        for dir in [Direction::CoeffsToSlots, Direction::SlotsToCoeffs] {
            let groups = split_stages(n, dir, 3);
            let total: usize = groups
                .iter()
                .map(|g| {
                    let s: Vec<i64> = group_shifts(n, g).iter().map(|&k| signed(k, n)).collect();
                    Bsgs::plan(n, &s).rotation_count()
                })
                .sum();
            assert_eq!(total, 39, "{dir:?} {groups:?}");
        }
    }
}

//! Ring automorphisms `σ_k : X → X^k` for odd `k`, in coefficient and evaluation form.

use crate::error::{Error, Result};
use crate::math::modarith::Modulus;

/// A Galois element: an odd `k` in `[1, 2N)` naming the automorphism `X → X^k`.
///
/// Distinct from a slot rotation: CKKS rotates slots left by `r` with `k = 5^r mod 2N`, and
/// conjugates with `k = 2N − 1`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct GaloisElement(pub u64);

/// A precomputed automorphism `X → X^k` for one ring degree.
#[derive(Debug, Clone)]
pub struct Automorphism {
    n: usize,
    k: GaloisElement,
    /// Coefficient form: destination index of coefficient `i` (bit `N` set: negate).
    coeff_dest: Vec<u32>,
    /// Evaluation form: `out[i] = in[eval_src[i]]`.
    eval_src: Vec<u32>,
}

/// Bit reversal of `i` in `bits` bits.
#[inline]
fn bit_reverse(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

impl Automorphism {
    /// Precomputes `X → X^k` for degree `n`.
    ///
    /// # Errors
    /// [`Error::InvalidGaloisElement`] unless `k` is odd and below `2n`;
    /// [`Error::InvalidRingDegree`] unless `n` is a power of two ≥ 2.
    pub fn new(n: usize, k: GaloisElement) -> Result<Self> {
        if n < 2 || !n.is_power_of_two() || n > u32::MAX as usize / 2 {
            return Err(Error::InvalidRingDegree {
                n,
                min: 2,
                max: 1 << 30,
            });
        }
        let two_n = 2 * n as u64;
        if k.0.is_multiple_of(2) || k.0 >= two_n {
            return Err(Error::InvalidGaloisElement { k: k.0, n });
        }
        let coeff_dest = (0..n as u64)
            .map(|i| {
                let j = (i * k.0) % two_n;
                // j ≥ N wraps with a sign change: X^j = −X^(j−N).
                j as u32
            })
            .collect();
        // Evaluation slot i holds a(ψ^(2·brv(i)+1)); σ_k(a)(ψ^e) = a(ψ^(e·k)).
        let bits = n.trailing_zeros();
        let eval_src = (0..n)
            .map(|i| {
                let e = (2 * bit_reverse(i, bits) as u64 + 1) * k.0 % two_n;
                bit_reverse(((e - 1) / 2) as usize, bits) as u32
            })
            .collect();
        Ok(Self {
            n,
            k,
            coeff_dest,
            eval_src,
        })
    }

    /// The Galois element `k`.
    pub fn galois_element(&self) -> GaloisElement {
        self.k
    }

    /// The ring degree this automorphism was built for.
    pub fn n(&self) -> usize {
        self.n
    }

    pub(crate) fn check_degree(&self, n: usize) -> Result<()> {
        if n != self.n {
            return Err(Error::LengthMismatch {
                what: "automorphism degree",
                expected: self.n,
                got: n,
            });
        }
        Ok(())
    }

    /// Coefficient form: `out = σ_k(a)` modulo `m` (`a`, `out` of length `N`).
    pub(crate) fn apply_coeff(&self, m: &Modulus, a: &[u64], out: &mut [u64]) {
        let n = self.n as u32;
        for (&x, &d) in a.iter().zip(&self.coeff_dest) {
            if d >= n {
                out[(d - n) as usize] = m.neg(x);
            } else {
                out[d as usize] = x;
            }
        }
    }

    /// The evaluation-form permutation: `σ_k(a)[i] = a[perm[i]]`.
    pub(crate) fn eval_permutation(&self) -> &[u32] {
        &self.eval_src
    }

    /// Evaluation form: `out = σ_k(a)` (a permutation; no arithmetic).
    pub(crate) fn apply_eval(&self, a: &[u64], out: &mut [u64]) {
        for (o, &s) in out.iter_mut().zip(&self.eval_src) {
            *o = a[s as usize];
        }
    }
}

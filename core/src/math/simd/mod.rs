//! Per-ISA kernels behind run-time CPU detection. All `unsafe` code of helrm lives here.
//!
//! Each x86-64 kernel is reachable only through a zero-sized token (`x86::Avx2`,
//! `x86::Avx512`, `x86::Ifma`) that only a successful `is_x86_feature_detected!` check can
//! construct; the `#[target_feature]` entry points are called with that token in hand, which
//! is the whole safety argument. On other architectures only the portable kernels exist.

use crate::error::{Error, Result};
use crate::math::ntt::{LastStage, Tables};
use std::fmt;

#[cfg(target_arch = "x86_64")]
mod x86;

/// An instruction set a kernel is written for, from least to most capable.
///
/// Plans pick the best one the CPU has ([`Isa::best_available`]). The environment variable
/// `HELRM_ISA=scalar|avx2|avx512|avx512ifma` caps the choice: a request the CPU cannot honour
/// falls back to the best available set *below* it (for example `avx512ifma` on a CPU with
/// AVX2 only runs AVX2), and IFMA is only used for primes below `2^50` (larger primes run the
/// 64-bit AVX-512 kernel). Every kernel gives bit-identical results.
/// Serialized as its [`Isa::name`] (`"avx512ifma"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// Portable Rust, always available; the oracle the other kernels are tested against.
    Scalar,
    /// x86-64 AVX2: four 64-bit lanes, high products emulated with 32-bit multiplies.
    Avx2,
    /// x86-64 AVX-512 F+DQ: eight 64-bit lanes, high products emulated with 32-bit multiplies.
    Avx512,
    /// x86-64 AVX-512 IFMA: eight lanes of 52-bit multiply-add (`vpmadd52{lo,hi}uq`), for
    /// primes below `2^50`.
    Avx512Ifma,
}

/// Name of the environment variable that caps the instruction set.
pub const ISA_ENV_VAR: &str = "HELRM_ISA";

impl Isa {
    /// Every instruction set, from least to most capable.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Ifma];

    /// The lower-case name used by `HELRM_ISA` and in reports (`"avx512ifma"`).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Avx512Ifma => "avx512ifma",
        }
    }

    /// Parses a name as accepted by `HELRM_ISA` (case-insensitive, surrounding blanks ignored).
    ///
    /// # Errors
    /// [`Error::UnknownIsa`] for any other name.
    pub fn parse(value: &str, origin: &'static str) -> Result<Isa> {
        let v = value.trim().to_ascii_lowercase();
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name() == v)
            .ok_or_else(|| Error::UnknownIsa {
                value: value.to_string(),
                origin,
            })
    }

    /// The cap set by `HELRM_ISA`, if the variable is set and not empty.
    ///
    /// # Errors
    /// [`Error::UnknownIsa`] if the variable names no instruction set.
    pub fn from_env() -> Result<Option<Isa>> {
        match std::env::var(ISA_ENV_VAR) {
            Ok(v) if !v.trim().is_empty() => Isa::parse(&v, ISA_ENV_VAR).map(Some),
            _ => Ok(None),
        }
    }

    /// Whether this CPU can run the instruction set (scalar always can).
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => x86::Avx2::try_new().is_some(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => x86::Avx512::try_new().is_some(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Ifma => x86::Ifma::try_new().is_some(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The most capable instruction set this CPU can run.
    pub fn best_available() -> Isa {
        Isa::ALL
            .into_iter()
            .rev()
            .find(|isa| isa.is_available())
            .unwrap_or(Isa::Scalar)
    }

    /// The instruction sets this CPU can run, least capable first.
    pub fn available() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Returns `x` unchanged, hidden from the optimiser's value analysis (no instruction is
/// emitted). The portable kernel passes its loaded operands through this so that LLVM does
/// not vectorise it with baseline SSE2, whose emulated 64-bit products make it several times
/// slower than plain scalar code.
#[inline(always)]
pub(crate) fn opaque(x: u64) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        let mut x = x;
        // SAFETY: an empty assembly block that only names a general-purpose register; it
        // reads and writes nothing else.
        unsafe {
            std::arch::asm!("/* {0} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags));
        }
        x
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        x
    }
}

/// A kernel choice, holding the detection token that makes its SIMD entry points sound.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kernel {
    /// The portable kernel (run by the caller).
    Scalar,
    /// AVX2, four lanes.
    #[cfg(target_arch = "x86_64")]
    Avx2(x86::Avx2),
    /// AVX-512 F+DQ, eight lanes, 64-bit Shoup.
    #[cfg(target_arch = "x86_64")]
    Avx512(x86::Avx512),
    /// AVX-512 IFMA, eight lanes, 52-bit Shoup (`q < 2^50`).
    #[cfg(target_arch = "x86_64")]
    Ifma(x86::Ifma),
}

impl Kernel {
    /// The most capable kernel at or below `cap` that this CPU runs and that accepts `q`.
    pub(crate) fn select(cap: Isa, q: u64) -> Kernel {
        let _ = q;
        #[cfg(target_arch = "x86_64")]
        {
            if cap >= Isa::Avx512Ifma && q < crate::math::ntt::IFMA_MAX_MODULUS {
                if let Some(t) = x86::Ifma::try_new() {
                    return Kernel::Ifma(t);
                }
            }
            if cap >= Isa::Avx512 {
                if let Some(t) = x86::Avx512::try_new() {
                    return Kernel::Avx512(t);
                }
            }
            if cap >= Isa::Avx2 {
                if let Some(t) = x86::Avx2::try_new() {
                    return Kernel::Avx2(t);
                }
            }
        }
        let _ = cap;
        Kernel::Scalar
    }

    /// The instruction set of this kernel.
    pub(crate) fn isa(self) -> Isa {
        match self {
            Kernel::Scalar => Isa::Scalar,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(_) => Isa::Avx2,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(_) => Isa::Avx512,
            #[cfg(target_arch = "x86_64")]
            Kernel::Ifma(_) => Isa::Avx512Ifma,
        }
    }
}

/// Runs the forward transform with a SIMD kernel; returns `false` (doing nothing) when the
/// kernel is the portable one, which the caller then runs.
pub(crate) fn forward(kernel: Kernel, t: &Tables, a: &mut [u64]) -> bool {
    let _ = (t, &a);
    match kernel {
        Kernel::Scalar => false,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2(tok) => {
            x86::avx2::forward(tok, t, a);
            true
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512(tok) => {
            x86::avx512::forward(tok, t, a);
            true
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => {
            x86::ifma::forward(tok, t, a);
            true
        }
    }
}

/// Runs the inverse transform with a SIMD kernel, with the last-stage constants `l` (the
/// plan's own, or ones with a factor folded in), out of place from `src` if given; returns
/// `false` (doing nothing) when the kernel is the portable one, which the caller then runs.
pub(crate) fn inverse(
    kernel: Kernel,
    t: &Tables,
    l: &LastStage,
    src: Option<&[u64]>,
    a: &mut [u64],
) -> bool {
    let _ = (t, l, src, &a);
    match kernel {
        Kernel::Scalar => false,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2(tok) => {
            x86::avx2::inverse(tok, t, l, src, a);
            true
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512(tok) => {
            x86::avx512::inverse(tok, t, l, src, a);
            true
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => {
            x86::ifma::inverse(tok, t, l, src, a);
            true
        }
    }
}

/// Constants of the element-wise kernels (`math::vecops`) for one modulus.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VecConsts {
    /// The modulus.
    pub(crate) q: u64,
    /// `−q^{-1} mod 2^52` (IFMA Montgomery; 0 when `q` is even).
    pub(crate) q_inv_neg52: u64,
    /// `2^104 mod q` (IFMA Montgomery).
    pub(crate) r2: u64,
    /// 64-bit Shoup quotient of `r2`.
    pub(crate) r2_shoup: u64,
    /// 52-bit Shoup quotient of `r2` (0 unless `q < 2^50`).
    pub(crate) r2_shoup52: u64,
}

impl VecConsts {
    /// Constants for `q` (`2 ≤ q < 2^62`).
    pub(crate) fn new(q: u64) -> Self {
        // Newton's iteration doubles the correct low bits of q^{-1} mod 2^64 (q·q ≡ 1 mod 8).
        let mut inv = q;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(q.wrapping_mul(inv)));
        }
        let q_inv_neg52 = if q % 2 == 1 {
            inv.wrapping_neg() & ((1 << 52) - 1)
        } else {
            0
        };
        let r2 = ((1u128 << 104) % u128::from(q)) as u64;
        let r2_shoup52 = if q < crate::math::ntt::IFMA_MAX_MODULUS {
            ((u128::from(r2) << 52) / u128::from(q)) as u64
        } else {
            0
        };
        Self {
            q,
            q_inv_neg52,
            r2,
            r2_shoup: ((u128::from(r2) << 64) / u128::from(q)) as u64,
            r2_shoup52,
        }
    }
}

/// Element-wise `x + b mod q` with a SIMD kernel on a prefix, where `x` is `a` or (for
/// `None`) the old `out`; returns how many leading words it handled (a multiple of the lane
/// count; 0 for the portable kernel). Callers check that lengths agree.
pub(crate) fn vec_add(
    kernel: Kernel,
    q: u64,
    a: Option<&[u64]>,
    b: &[u64],
    out: &mut [u64],
) -> usize {
    let _ = (q, a, b, &out);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512(tok) => {
            x86::vec512::add(tok, q, a, b, out);
            out.len() / 8 * 8
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => {
            x86::vec512::add(tok.avx512(), q, a, b, out);
            out.len() / 8 * 8
        }
        _ => 0,
    }
}

/// Element-wise `x − b mod q`; as [`vec_add`].
pub(crate) fn vec_sub(
    kernel: Kernel,
    q: u64,
    a: Option<&[u64]>,
    b: &[u64],
    out: &mut [u64],
) -> usize {
    let _ = (q, a, b, &out);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512(tok) => {
            x86::vec512::sub(tok, q, a, b, out);
            out.len() / 8 * 8
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => {
            x86::vec512::sub(tok.avx512(), q, a, b, out);
            out.len() / 8 * 8
        }
        _ => 0,
    }
}

/// Element-wise `(x − s)·w mod q` for a fixed `w < q` with its 64-bit and (when `q < 2^50`)
/// 52-bit Shoup quotients, where `x` is `a` or the old `out` and `s` is `sub` or zero; as
/// [`vec_add`].
pub(crate) fn vec_mul_scalar(
    kernel: Kernel,
    q: u64,
    a: Option<&[u64]>,
    sub: Option<&[u64]>,
    w: (u64, u64, u64),
    out: &mut [u64],
) -> usize {
    let _ = (q, a, sub, w, &out);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512(tok) => {
            x86::vec512::mul_scalar(tok, q, a, sub, (w.0, w.1), out);
            out.len() / 8 * 8
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => {
            x86::vec512::mul_scalar_ifma(tok, q, a, sub, (w.0, w.2), out);
            out.len() / 8 * 8
        }
        _ => 0,
    }
}

/// Element-wise `x·b mod q` (or `out + a·b` with `add`; `x` is `a` or, for `None`, the old
/// `out`) with the radix-`2^52` IFMA kernel for any odd `q < 2^62`; returns how many leading
/// words it handled (0 unless `kernel` is IFMA).
pub(crate) fn vec_mul_wide(
    kernel: Kernel,
    c: &VecConsts,
    a: Option<&[u64]>,
    b: &[u64],
    out: &mut [u64],
    add: bool,
) -> usize {
    let _ = (c, a, b, &out, add);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => x86::mont52::mul(tok, c, a, b, out, add),
        _ => 0,
    }
}

/// How [`dot2`] reads its digits: directly, or through an index map (`blocks`: every aligned
/// group of eight indices maps into one aligned group of eight).
#[derive(Debug, Clone, Copy)]
pub(crate) enum DotRead<'a> {
    /// `x_j[i]`.
    Direct,
    /// `x_j[map[i]]`; `blocks` as above.
    Map(&'a [u32], bool),
}

/// The key-switching inner product on one limb (see `x86::mont52::dot2`); returns how many
/// leading coefficients it wrote (0 unless `kernel` is IFMA and the shapes are as required).
#[allow(
    clippy::too_many_arguments,
    reason = "one limb of each operand, all needed"
)]
pub(crate) fn dot2(
    kernel: Kernel,
    c: &VecConsts,
    x: &[&[u64]],
    read: DotRead<'_>,
    k0: &[&[u64]],
    k1: &[&[u64]],
    out0: &mut [u64],
    out1: &mut [u64],
) -> usize {
    let _ = (c, x, read, k0, k1, &out0, &out1);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => {
            use x86::mont52::Read;
            let read = match read {
                DotRead::Direct => Read::Direct,
                DotRead::Map(p, true) => Read::Blocks(p),
                DotRead::Map(p, false) => Read::Gather(p),
            };
            x86::mont52::dot2(tok, c, x, read, k0, k1, out0, out1)
        }
        _ => 0,
    }
}

/// Constants of one target prime of a fast base conversion for [`conv_dot`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvTarget {
    /// The target prime `p` (odd, below `2^62`).
    pub(crate) p: u64,
    /// `−p^{-1} mod 2^52`.
    pub(crate) pinv: u64,
}

/// Largest number of source primes [`conv_dot`] accepts.
pub(crate) const CONV_MAX_TERMS: usize = 512;

/// One output limb of a fast base conversion (see `x86::mont52::conv_dot`): `cs` holds the
/// split constants `[Q/q_i]_p · 2^104 mod p`, `y` the rows `[x_i·(Q/q_i)^{-1}]_{q_i}` with
/// `stride` words each. Returns how many leading coefficients it wrote (0 unless `kernel` is
/// IFMA and the shapes are as required).
#[allow(
    clippy::too_many_arguments,
    reason = "plan constants and one block of data"
)]
pub(crate) fn conv_dot(
    kernel: Kernel,
    cs: &[[u64; 2]],
    target: ConvTarget,
    y: &[u64],
    stride: usize,
    y_big: bool,
    out: &mut [u64],
) -> usize {
    let _ = (cs, target, y, stride, y_big, &out);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) if cs.len() <= CONV_MAX_TERMS => {
            x86::mont52::conv_dot(tok, cs, target.p, target.pinv, y, stride, y_big, out)
        }
        _ => 0,
    }
}

/// `acc[i] = acc[i] + src[map[i]] mod q` for a blockwise map (see `x86::vec512::add_mapped`);
/// returns how many leading words it handled (0 for the portable kernel).
pub(crate) fn vec_add_mapped(
    kernel: Kernel,
    q: u64,
    src: &[u64],
    map: &[u32],
    acc: &mut [u64],
) -> usize {
    let _ = (q, src, map, &acc);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512(tok) => {
            x86::vec512::add_mapped(tok, q, src, map, acc);
            acc.len() / 8 * 8
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Ifma(tok) => {
            x86::vec512::add_mapped(tok.avx512(), q, src, map, acc);
            acc.len() / 8 * 8
        }
        _ => 0,
    }
}

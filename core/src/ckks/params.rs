//! CKKS parameter sets: an unchecked [`ParamsLiteral`] (plain data, serde) becomes checked,
//! immutable [`Params`] (shared behind an [`Arc`]), and named presets.
//!
//! # What `Params::new` checks
//!
//! 1. `log_n ∈ [10, 17]` ([`Error::InvalidLogN`]).
//! 2. Both chains are non-empty ([`Error::EmptyChain`]): Q holds the base prime and one prime per
//!    level; P holds the special primes of hybrid key switching, which every set uses.
//! 3. Every prime size is in `[20, 61]` bits ([`Error::InvalidChainPrime`]): 61 keeps the
//!    lazy `[0, 4q)` ranges of the NTT inside a word with a bit to spare; below 20 bits too few
//!    primes `≡ 1 (mod 2N)` exist to be useful.
//! 4. `log_scale ∈ [1, 100]`, `error_std` finite and positive, and a sparse secret's Hamming
//!    weight in `[1, N]` ([`Error::InvalidParameter`]).
//! 5. `1 ≤ dnum ≤ |Q|` ([`Error::InvalidDnum`]); `dnum` defaults to `⌈|Q| / |P|⌉`.
//! 6. **P covers every digit** ([`Error::SpecialModulusTooSmall`]): hybrid key switching adds
//!    noise of about `N·σ·Σ_digits D_i / P`, where `D_i` is the product of a digit's primes, so
//!    the sum of the P prime sizes must be at least the bit size of the largest digit;
//!    otherwise the key-switching noise exceeds the fresh encryption noise by the ratio.
//! 7. The primes are generated (Q first, then P avoiding Q; see
//!    [`crate::math::prime::generate_primes`]), each `≡ 1 (mod 2N)` of
//!    exactly the requested size, all distinct ([`Error::DuplicatePrime`] is a defensive check).
//! 8. The 128-bit check on `log2(Q·P)` ([`super::security`]):
//!    [`Error::Insecure`] / [`Error::UnknownSecurity`] unless the literal carries
//!    [`Security::InsecureTestOnly`].
//!
//! Nothing heavy is precomputed: NTT plans, base-conversion tables and keys belong to objects
//! built later from a `Params`.
//!
//! # Digits
//!
//! The Q indices are split into `dnum` consecutive digits as evenly as possible: the first
//! `|Q| mod dnum` digits get `⌈|Q|/dnum⌉` primes, the others `⌊|Q|/dnum⌋`. For HE-LRM's 11 Q
//! primes and 3 special primes, `dnum = ⌈11/3⌉ = 4` and the digits are `0..3, 3..6, 6..9, 9..11`.
//! A key switch at level `ℓ` uses the digits that start at or below `ℓ`.
//!
//! # Levels
//!
//! Level `ℓ` has `ℓ + 1` limbs (primes `q_0 … q_ℓ`); the top level is `|Q| − 1`. [`Level`]
//! keeps the two apart: [`Level::get`] is the level, [`Level::limbs`] the limb count.
//!
//! # Example
//! ```
//! use helrm_core::ckks::params::{Level, Params};
//! let params = Params::preset("helrm-n16-l10")?;
//! assert_eq!(params.n(), 1 << 16);
//! assert_eq!(params.slots(), 32_768);
//! assert_eq!(params.max_level(), Level::new(10));
//! assert_eq!(params.max_level().limbs(), 11);
//! assert_eq!(params.log_qp(), 638);
//! assert_eq!(params.dnum(), 4);
//! assert!(params.security().is_secure());
//! assert_eq!(params.ciphertext_bytes(params.max_level())?, 11_534_336);
//! assert_eq!(params.key_switch_key_bytes(params.max_level())?, 58_720_256);
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # References
//! - J. H. Cheon, K. Han, A. Kim, M. Kim, Y. Song, "A full RNS variant of approximate
//!   homomorphic encryption", SAC 2018 (RNS-CKKS).
//! - K. Han, D. Ki, "Better bootstrapping for approximate homomorphic encryption", CT-RSA 2020
//!   (hybrid key switching with `dnum` digits).
//! - Lattigo `ckks.ParametersLiteral` (literal → checked parameters).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::security::{self, Verdict};
pub use super::security::{SecretDistribution, Security};
use crate::error::{Error, Result};
use crate::math::prime::{generate_primes, generate_primes_excluding};

/// Smallest supported `log2 N`.
pub const MIN_LOG_N: u32 = 10;
/// Largest supported `log2 N`.
pub const MAX_LOG_N: u32 = 17;
/// Smallest prime size, in bits, accepted in the Q and P chains.
pub const MIN_CHAIN_PRIME_BITS: u32 = 20;
/// Largest prime size, in bits, accepted in the Q and P chains.
pub const MAX_CHAIN_PRIME_BITS: u32 = 61;
/// Largest `log2 Δ` accepted.
pub const MAX_LOG_SCALE: u32 = 100;
/// The default error standard deviation (the HE standard's `σ ≈ 3.2`).
pub const DEFAULT_ERROR_STD: f64 = 3.2;
/// Bytes per stored residue (one 64-bit word).
pub const WORD_BYTES: u64 = 8;
/// Version tag of the canonical text that [`Params::fingerprint`] hashes.
pub const FINGERPRINT_FORMAT: &str = "helrm-ckks-params/1";

/// Names of the built-in presets, in listing order.
pub const PRESET_NAMES: &[&str] = &[
    "helrm-n16-l10",
    "helrm-n15",
    "helrm-n14",
    "toy-n10",
    "toy-n11",
    "toy-n12",
    "toy-n12-l10",
    "helrm-n16-boot",
    "toy-n12-boot",
];

/// Names of the built-in presets, in listing order.
pub fn preset_names() -> &'static [&'static str] {
    PRESET_NAMES
}

fn default_error_std() -> f64 {
    DEFAULT_ERROR_STD
}

/// An unchecked parameter description: plain data, (de)serializable, unknown keys rejected.
/// Turn it into [`Params`] with [`Params::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsLiteral {
    /// `log2 N`, the ring degree exponent.
    pub log_n: u32,
    /// Bit sizes of the Q primes: first the base prime `q_0`, then one per level.
    pub log_q: Vec<u32>,
    /// Bit sizes of the special primes P of hybrid key switching.
    pub log_p: Vec<u32>,
    /// `log2 Δ`, the default scale.
    pub log_scale: u32,
    /// The secret-key distribution.
    pub secret: SecretDistribution,
    /// Number of key-switching digits; `None` means `⌈|Q| / |P|⌉`.
    #[serde(default)]
    pub dnum: Option<usize>,
    /// Standard deviation of the discrete Gaussian error.
    #[serde(default = "default_error_std")]
    pub error_std: f64,
    /// Requested security; [`Security::InsecureTestOnly`] is the explicit opt-out.
    #[serde(default)]
    pub security: Security,
}

/// `[first, rest; count]` as a chain of prime sizes.
fn chain(first: u32, rest: u32, count: usize) -> Vec<u32> {
    let mut v = Vec::with_capacity(count + 1);
    v.push(first);
    v.extend(std::iter::repeat_n(rest, count));
    v
}

/// The Q chain of the bootstrappable presets, bottom to top (26 primes, 1283 bits):
/// - `q_0` = 55 bits and ten 40-bit primes: helrm-n16-l10's residual chain, what a
///   bootstrapped ciphertext has left (level 10);
/// - three 40-bit SlotsToCoeffs primes (its diagonals are encoded near `2^38`);
/// - nine 60-bit EvalMod primes: a degree-63 cosine (depth 6) and 3 double-angle steps, at a
///   scale near `2^60` so that its noise, magnified by the message ratio and the double
///   angles, stays below `2^-20` in the slots;
/// - three 56-bit CoeffsToSlots primes (its diagonals are encoded near `2^56`, so their
///   rounding stays far below the EvalMod input precision).
fn boot_chain() -> Vec<u32> {
    let mut v = chain(55, 40, 13);
    v.extend(std::iter::repeat_n(60, 9));
    v.extend(std::iter::repeat_n(56, 3));
    v
}

impl ParamsLiteral {
    /// The literal of a built-in preset (see [`PRESET_NAMES`]).
    ///
    /// # Errors
    /// [`Error::UnknownPreset`] for a name not in [`PRESET_NAMES`].
    pub fn preset(name: &str) -> Result<Self> {
        let lit = match name {
            // HE-LRM's configuration (Orion's Criteo/ResNet set), the one the paper measures.
            "helrm-n16-l10" => ParamsLiteral {
                // N = 2^16: 32,768 complex slots, and room under the sparse-secret bound.
                log_n: 16,
                // A 55-bit base prime keeps 15 bits above Δ for the decrypted result; ten
                // 40-bit primes, one rescale by ≈ Δ each, give 10 levels.
                log_q: chain(55, 40, 10),
                // Three 61-bit special primes: P (183 bits) covers the largest digit
                // (55 + 40 + 40 = 135 bits), so key switching adds little noise.
                log_p: vec![61, 61, 61],
                // Δ = 2^40 matches the 40-bit level primes.
                log_scale: 40,
                // HE-LRM's sparse secret (bootstrapping-friendly); bound 1533 ≥ 638.
                secret: SecretDistribution::SparseTernary {
                    hamming_weight: 192,
                },
                // ⌈11/3⌉ = 4 digits of ≤ 3 primes, as Lattigo derives.
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::Bits128,
            },
            // A smaller secure set for small models: half the ring, more levels.
            "helrm-n15" => ParamsLiteral {
                // N = 2^15: 16,384 slots, half the work per operation of N = 2^16.
                log_n: 15,
                // 55-bit base prime and fifteen 40-bit level primes: 15 levels (655 bits).
                log_q: chain(55, 40, 15),
                // Three 61-bit special primes (183 bits) cover the largest digit (135 bits).
                log_p: vec![61, 61, 61],
                // Δ = 2^40 as in helrm-n16-l10, so the same models run on either set.
                log_scale: 40,
                // Uniform ternary: the HE-standard row (881 bits) applies; log QP = 838
                // leaves 43 bits of margin. Sixteen levels would leave 3 and are not used.
                secret: SecretDistribution::Ternary,
                // ⌈16/3⌉ = 6 digits (3,3,3,3,2,2 primes).
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::Bits128,
            },
            // The smallest secure set: cheap enough for unit-scale models without bootstrapping.
            "helrm-n14" => ParamsLiteral {
                // N = 2^14: 8,192 slots.
                log_n: 14,
                // 55-bit base prime and seven 40-bit level primes: 7 levels (335 bits).
                log_q: chain(55, 40, 7),
                // One 61-bit special prime covers one-prime digits (55 bits); a second one
                // would push log QP to 457 > 438.
                log_p: vec![61],
                // Δ = 2^40 as in the larger sets.
                log_scale: 40,
                // Uniform ternary: HE-standard bound 438; log QP = 396 leaves 42 bits of
                // margin (eight levels would leave 2).
                secret: SecretDistribution::Ternary,
                // ⌈8/1⌉ = 8 digits of one prime each.
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::Bits128,
            },
            // Toy sets: fast tests only. Their log QP is far above the 128-bit bound at
            // their degree, hence the explicit opt-out.
            "toy-n10" => ParamsLiteral {
                // N = 2^10: 512 slots.
                log_n: 10,
                // 3 levels: enough for a multiply chain to level 0.
                log_q: chain(55, 40, 3),
                // One special prime covering one-prime digits.
                log_p: vec![61],
                log_scale: 40,
                secret: SecretDistribution::Ternary,
                // ⌈4/1⌉ = 4 digits.
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::InsecureTestOnly,
            },
            "toy-n11" => ParamsLiteral {
                // N = 2^11: 1,024 slots.
                log_n: 11,
                // 4 levels.
                log_q: chain(55, 40, 4),
                // Two special primes (122 bits) cover two-prime digits (≤ 95 bits).
                log_p: vec![61, 61],
                log_scale: 40,
                secret: SecretDistribution::Ternary,
                // ⌈5/2⌉ = 3 digits (2,2,1).
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::InsecureTestOnly,
            },
            "toy-n12" => ParamsLiteral {
                // N = 2^12: 2,048 slots.
                log_n: 12,
                // 6 levels.
                log_q: chain(55, 40, 6),
                // Two special primes cover two-prime digits.
                log_p: vec![61, 61],
                log_scale: 40,
                secret: SecretDistribution::Ternary,
                // ⌈7/2⌉ = 4 digits (2,2,2,1).
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::InsecureTestOnly,
            },
            // helrm-n16-l10's exact shape (chain, special primes, dnum, secret) at N = 2^12,
            // so level, digit and key-switching logic is tested on the real structure.
            "toy-n12-l10" => ParamsLiteral {
                log_n: 12,
                log_q: chain(55, 40, 10),
                log_p: vec![61, 61, 61],
                log_scale: 40,
                secret: SecretDistribution::SparseTernary {
                    hamming_weight: 192,
                },
                // ⌈11/3⌉ = 4 digits, as in helrm-n16-l10.
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::InsecureTestOnly,
            },
            // helrm-n16-l10's residual chain with the levels and special primes of
            // bootstrapping on top (`circuits::bootstrap`, `BootstrapConfig::new`): after a
            // bootstrap the ciphertext is at level 10 of [55, 40×10], as in helrm-n16-l10.
            "helrm-n16-boot" => ParamsLiteral {
                // N = 2^16: 32,768 slots; the sparse-secret bound (1533) has room for both the
                // residual chain and bootstrapping.
                log_n: 16,
                log_q: boot_chain(),
                // Four 61-bit special primes (244 bits) cover the largest of the ⌈26/4⌉ = 7
                // digits (four 60-bit EvalMod primes, 240 bits). log QP = 1283 + 244 = 1527.
                log_p: vec![61, 61, 61, 61],
                // Δ = 2^40, the residual chain's scale.
                log_scale: 40,
                // Sparse ternary, h = 192 (HE-LRM's secret): bound 1533 ≥ 1527, and it keeps
                // the ModRaise overflow |I| below 32 except with probability ~10^-10 per
                // bootstrap, which EvalMod's range K = 32 relies on. A dense ternary secret
                // would allow log QP ≤ 1747 but spreads I over σ = √((2N/3 + 1)/12) ≈ 60, so
                // K ≈ 480: a degree-63 cosine then needs 7 double-angle steps instead of 3
                // (four more 60-bit levels, 240 bits, above the 214 the dense bound adds) and
                // magnifies EvalMod's error by 4^7 instead of 4^3.
                secret: SecretDistribution::SparseTernary {
                    hamming_weight: 192,
                },
                // ⌈26/4⌉ = 7 digits (4,4,4,4,4,3,3 primes).
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::Bits128,
            },
            // helrm-n16-boot's exact chain at N = 2^12, for fast bootstrapping tests.
            "toy-n12-boot" => ParamsLiteral {
                log_n: 12,
                log_q: boot_chain(),
                log_p: vec![61, 61, 61, 61],
                log_scale: 40,
                secret: SecretDistribution::SparseTernary {
                    hamming_weight: 192,
                },
                // ⌈26/4⌉ = 7 digits, as in helrm-n16-boot.
                dnum: None,
                error_std: DEFAULT_ERROR_STD,
                security: Security::InsecureTestOnly,
            },
            _ => {
                return Err(Error::UnknownPreset {
                    name: name.to_string(),
                    known: PRESET_NAMES,
                })
            }
        };
        Ok(lit)
    }
}

/// A level of the modulus chain. Level `ℓ` has `ℓ + 1` limbs (primes `q_0 … q_ℓ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Level(usize);

impl Level {
    /// Level `level` (it has `level + 1` limbs).
    pub const fn new(level: usize) -> Self {
        Level(level)
    }

    /// The level that has `limbs` limbs.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `limbs = 0`.
    pub fn from_limbs(limbs: usize) -> Result<Self> {
        match limbs.checked_sub(1) {
            Some(l) => Ok(Level(l)),
            None => Err(Error::InvalidParameter {
                field: "limbs",
                value: "0".into(),
                expected: "at least one limb",
            }),
        }
    }

    /// The level number `ℓ`.
    pub const fn get(self) -> usize {
        self.0
    }

    /// The number of limbs at this level, `ℓ + 1`.
    pub const fn limbs(self) -> usize {
        self.0 + 1
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Checked, immutable CKKS parameters. Build with [`Params::new`] or [`Params::preset`]; share
/// the returned [`Arc`].
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The literal, with `dnum` resolved.
    literal: ParamsLiteral,
    q: Vec<u64>,
    p: Vec<u64>,
    digits: Vec<Range<usize>>,
    log_qp: u32,
    verdict: Verdict,
    fingerprint: String,
}

/// Splits `q_count` indices into `dnum` consecutive, balanced digits.
fn digit_partition(q_count: usize, dnum: usize) -> Vec<Range<usize>> {
    let base = q_count / dnum;
    let extra = q_count % dnum;
    let mut out = Vec::with_capacity(dnum);
    let mut start = 0;
    for d in 0..dnum {
        let len = base + usize::from(d < extra);
        out.push(start..start + len);
        start += len;
    }
    out
}

fn bit_len(q: u64) -> u32 {
    64 - q.leading_zeros()
}

fn check_chain(chain: &'static str, bits: &[u32]) -> Result<()> {
    if bits.is_empty() {
        return Err(Error::EmptyChain { chain, min: 1 });
    }
    for (index, &b) in bits.iter().enumerate() {
        if !(MIN_CHAIN_PRIME_BITS..=MAX_CHAIN_PRIME_BITS).contains(&b) {
            return Err(Error::InvalidChainPrime {
                chain,
                index,
                bits: b,
                min: MIN_CHAIN_PRIME_BITS,
                max: MAX_CHAIN_PRIME_BITS,
            });
        }
    }
    Ok(())
}

impl Params {
    /// Validates `literal`, generates its primes and runs the security check (see the module
    /// docs for the full list of checks).
    ///
    /// # Errors
    /// [`Error::InvalidLogN`], [`Error::EmptyChain`], [`Error::InvalidChainPrime`],
    /// [`Error::InvalidParameter`], [`Error::InvalidDnum`], [`Error::SpecialModulusTooSmall`],
    /// [`Error::PrimesExhausted`] (too few primes of a size for this `N`),
    /// [`Error::DuplicatePrime`], [`Error::Insecure`], [`Error::UnknownSecurity`].
    pub fn new(literal: ParamsLiteral) -> Result<Arc<Params>> {
        let ParamsLiteral {
            log_n,
            ref log_q,
            ref log_p,
            log_scale,
            secret,
            dnum,
            error_std,
            security,
        } = literal;
        if !(MIN_LOG_N..=MAX_LOG_N).contains(&log_n) {
            return Err(Error::InvalidLogN {
                log_n,
                min: MIN_LOG_N,
                max: MAX_LOG_N,
            });
        }
        let n = 1usize << log_n;
        check_chain("Q", log_q)?;
        check_chain("P", log_p)?;
        if !(1..=MAX_LOG_SCALE).contains(&log_scale) {
            return Err(Error::InvalidParameter {
                field: "log_scale",
                value: log_scale.to_string(),
                expected: "an integer in [1, 100]",
            });
        }
        if let SecretDistribution::SparseTernary { hamming_weight } = secret {
            if hamming_weight == 0 || hamming_weight > n {
                return Err(Error::InvalidParameter {
                    field: "secret.hamming_weight",
                    value: hamming_weight.to_string(),
                    expected: "a Hamming weight in [1, N]",
                });
            }
        }
        if !(error_std.is_finite() && error_std > 0.0) {
            return Err(Error::InvalidParameter {
                field: "error_std",
                value: error_std.to_string(),
                expected: "a finite positive standard deviation",
            });
        }
        let q_count = log_q.len();
        let dnum = dnum.unwrap_or_else(|| q_count.div_ceil(log_p.len()));
        if dnum == 0 || dnum > q_count {
            return Err(Error::InvalidDnum { dnum, q_count });
        }
        let digits = digit_partition(q_count, dnum);
        let log_p_total: u32 = log_p.iter().sum();
        for d in &digits {
            let digit_bits: u32 = log_q[d.clone()].iter().sum();
            if digit_bits > log_p_total {
                return Err(Error::SpecialModulusTooSmall {
                    log_p: log_p_total,
                    digit_start: d.start,
                    digit_end: d.end,
                    digit_log: digit_bits,
                    dnum,
                });
            }
        }

        let q = generate_primes(n, log_q)?;
        let p = generate_primes_excluding(n, log_p, &q)?;
        let all: Vec<u64> = q.iter().chain(&p).copied().collect();
        for (second, &x) in all.iter().enumerate() {
            if let Some(first) = all[..second].iter().position(|&y| y == x) {
                return Err(Error::DuplicatePrime {
                    q: x,
                    first,
                    second,
                });
            }
        }
        let log_qp: u32 = q.iter().chain(&p).map(|&x| bit_len(x)).sum();
        let verdict = security::assess(log_n, log_qp, &secret, error_std, security)?;

        let literal = ParamsLiteral {
            dnum: Some(dnum),
            ..literal
        };
        let fingerprint = fingerprint_of(&literal, &q, &p);
        Ok(Arc::new(Params {
            literal,
            q,
            p,
            digits,
            log_qp,
            verdict,
            fingerprint,
        }))
    }

    /// Builds a built-in preset (see [`PRESET_NAMES`]).
    ///
    /// # Errors
    /// [`Error::UnknownPreset`] for an unknown name; otherwise as [`Params::new`].
    pub fn preset(name: &str) -> Result<Arc<Params>> {
        Params::new(ParamsLiteral::preset(name)?)
    }

    /// The literal this set was built from, with `dnum` resolved to its value.
    pub fn literal(&self) -> &ParamsLiteral {
        &self.literal
    }

    /// The ring degree `N`.
    pub fn n(&self) -> usize {
        1 << self.literal.log_n
    }

    /// `log2 N`.
    pub fn log_n(&self) -> u32 {
        self.literal.log_n
    }

    /// The number of complex slots at full packing, `N / 2`.
    pub fn slots(&self) -> usize {
        self.n() / 2
    }

    /// The top level, `|Q| − 1` (it has `|Q|` limbs).
    pub fn max_level(&self) -> Level {
        Level(self.q.len() - 1)
    }

    /// `level` if it exists in this chain.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] above [`Params::max_level`].
    pub fn level(&self, level: usize) -> Result<Level> {
        let max_level = self.max_level().get();
        if level > max_level {
            return Err(Error::LevelOutOfRange { level, max_level });
        }
        Ok(Level(level))
    }

    fn check_level(&self, level: Level) -> Result<()> {
        self.level(level.get()).map(|_| ())
    }

    /// The Q primes `q_0 … q_L` (base prime first).
    pub fn q(&self) -> &[u64] {
        &self.q
    }

    /// The special primes P.
    pub fn p(&self) -> &[u64] {
        &self.p
    }

    /// Bits of `Q`: the sum of the Q prime bit lengths.
    pub fn log_q(&self) -> u32 {
        self.q.iter().map(|&x| bit_len(x)).sum()
    }

    /// Bits of `P`: the sum of the special prime bit lengths.
    pub fn log_p(&self) -> u32 {
        self.p.iter().map(|&x| bit_len(x)).sum()
    }

    /// Bits of `Q·P`: the sum of all prime bit lengths (an upper bound on `log2(Q·P)`; this is
    /// what the security check uses).
    pub fn log_qp(&self) -> u32 {
        self.log_qp
    }

    /// `log2(Q·P)` exactly (as `f64`), slightly below [`Params::log_qp`].
    pub fn log2_qp(&self) -> f64 {
        self.q
            .iter()
            .chain(&self.p)
            .map(|&x| (x as f64).log2())
            .sum()
    }

    /// `log2 Δ`.
    pub fn log_scale(&self) -> u32 {
        self.literal.log_scale
    }

    /// The default scale `Δ = 2^log_scale`.
    pub fn default_scale(&self) -> f64 {
        2f64.powi(self.literal.log_scale as i32)
    }

    /// The secret-key distribution.
    pub fn secret(&self) -> SecretDistribution {
        self.literal.secret
    }

    /// The error standard deviation.
    pub fn error_std(&self) -> f64 {
        self.literal.error_std
    }

    /// The number of key-switching digits.
    pub fn dnum(&self) -> usize {
        self.digits.len()
    }

    /// The key-switching digits as ranges of Q indices (see the module docs).
    pub fn digits(&self) -> Vec<Range<usize>> {
        self.digits.clone()
    }

    /// How many digits a key switch at `level` uses (those starting at or below `ℓ`).
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] above the top level.
    pub fn digit_count_at(&self, level: Level) -> Result<usize> {
        self.check_level(level)?;
        Ok(self
            .digits
            .iter()
            .filter(|d| d.start <= level.get())
            .count())
    }

    /// The security verdict (the bound used, and whether the set is within it).
    pub fn security(&self) -> &Verdict {
        &self.verdict
    }

    /// A stable identifier of this set: the SHA-256 (lower-case hex) of a canonical text of
    /// the literal (with `dnum` resolved) and the generated primes, versioned by
    /// [`FINGERPRINT_FORMAT`]. Files made for other parameters are recognised by it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Bytes of a ciphertext at `level`: `2 · (ℓ+1) · N` words.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] above the top level.
    pub fn ciphertext_bytes(&self, level: Level) -> Result<u64> {
        self.check_level(level)?;
        Ok(2 * level.limbs() as u64 * self.n() as u64 * WORD_BYTES)
    }

    /// Bytes of one key-switching key (relinearisation or one rotation) that a key switch at
    /// `level` reads: for each digit in use, two polynomials over `ℓ + 1 + |P|` limbs. At the
    /// top level this is the whole key, `dnum · 2 · (|Q| + |P|) · N` words.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] above the top level.
    pub fn key_switch_key_bytes(&self, level: Level) -> Result<u64> {
        let digits = self.digit_count_at(level)? as u64;
        let limbs = (level.limbs() + self.p.len()) as u64;
        Ok(digits * 2 * limbs * self.n() as u64 * WORD_BYTES)
    }

    /// Bytes of a plaintext at `level`: `ℓ + 1` limbs of `N` words, plus `|P|` limbs when
    /// encoded in `Q·P` (as plaintext operands of hoisted/key-switched products are).
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] above the top level.
    pub fn plaintext_bytes(&self, level: Level, in_qp: bool) -> Result<u64> {
        self.check_level(level)?;
        let limbs = level.limbs() + if in_qp { self.p.len() } else { 0 };
        Ok(limbs as u64 * self.n() as u64 * WORD_BYTES)
    }

    /// A flat description for listings (`helrm params list`).
    pub fn summary(&self) -> ParamsSummary {
        ParamsSummary {
            log_n: self.log_n(),
            log_q: self.q.iter().map(|&x| bit_len(x)).collect(),
            log_p: self.p.iter().map(|&x| bit_len(x)).collect(),
            dnum: self.dnum(),
            log_qp: self.log_qp,
            slots: self.slots(),
            log_scale: self.log_scale(),
            secret: self.secret().to_string(),
            secure: self.verdict.is_secure(),
            security: self.verdict.to_string(),
            max_log_qp: self.verdict.bound.map(|b| b.max_log_qp),
            bound_source: self.verdict.bound.map(|b| b.source),
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// The fields `helrm params list` shows for one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamsSummary {
    /// `log2 N`.
    pub log_n: u32,
    /// Bit sizes of the Q primes.
    pub log_q: Vec<u32>,
    /// Bit sizes of the P primes.
    pub log_p: Vec<u32>,
    /// Number of key-switching digits.
    pub dnum: usize,
    /// Bits of `Q·P`.
    pub log_qp: u32,
    /// Complex slots at full packing.
    pub slots: usize,
    /// `log2 Δ`.
    pub log_scale: u32,
    /// The secret distribution, in words.
    pub secret: String,
    /// Whether a sourced 128-bit bound applies and is met.
    pub secure: bool,
    /// The verdict, in words.
    pub security: String,
    /// The bound used, if any.
    pub max_log_qp: Option<u32>,
    /// Where the bound comes from, if any.
    pub bound_source: Option<&'static str>,
    /// [`Params::fingerprint`].
    pub fingerprint: String,
}

fn join<T: fmt::Display>(xs: &[T]) -> String {
    xs.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The canonical text hashed by [`Params::fingerprint`]; any change here must bump
/// [`FINGERPRINT_FORMAT`].
fn canonical_text(lit: &ParamsLiteral, q: &[u64], p: &[u64]) -> String {
    let secret = match lit.secret {
        SecretDistribution::Ternary => "ternary".to_string(),
        SecretDistribution::SparseTernary { hamming_weight } => {
            format!("sparse_ternary:{hamming_weight}")
        }
    };
    let security = match lit.security {
        Security::Bits128 => "bits128",
        Security::InsecureTestOnly => "insecure_test_only",
    };
    format!(
        "{FINGERPRINT_FORMAT}\nlog_n={}\nlog_q={}\nlog_p={}\nlog_scale={}\nsecret={secret}\n\
         dnum={}\nerror_std={:?}\nsecurity={security}\nq={}\np={}\n",
        lit.log_n,
        join(&lit.log_q),
        join(&lit.log_p),
        lit.log_scale,
        lit.dnum.unwrap_or(0),
        lit.error_std,
        join(q),
        join(p),
    )
}

fn fingerprint_of(lit: &ParamsLiteral, q: &[u64], p: &[u64]) -> String {
    let digest = Sha256::digest(canonical_text(lit, q, p).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_digit_partition() {
        assert_eq!(digit_partition(11, 4), vec![0..3, 3..6, 6..9, 9..11]);
        assert_eq!(digit_partition(11, 5), vec![0..3, 3..5, 5..7, 7..9, 9..11]);
        assert_eq!(digit_partition(4, 4), vec![0..1, 1..2, 2..3, 3..4]);
        assert_eq!(digit_partition(7, 1), vec![0..7]);
        for q in 1..20 {
            for d in 1..=q {
                let parts = digit_partition(q, d);
                assert_eq!(parts.len(), d);
                assert_eq!(parts[0].start, 0);
                assert_eq!(parts[d - 1].end, q);
                let max = parts.iter().map(|r| r.len()).max().unwrap_or(0);
                let min = parts.iter().map(|r| r.len()).min().unwrap_or(0);
                assert!(min >= 1 && max - min <= 1, "q={q} d={d}");
            }
        }
    }

    #[test]
    fn canonical_text_shape() {
        let lit = ParamsLiteral {
            dnum: Some(4),
            ..ParamsLiteral::preset("toy-n12").expect("preset")
        };
        let text = canonical_text(&lit, &[3, 5], &[7]);
        assert_eq!(
            text,
            "helrm-ckks-params/1\nlog_n=12\nlog_q=55,40,40,40,40,40,40\nlog_p=61,61\n\
             log_scale=40\nsecret=ternary\ndnum=4\nerror_std=3.2\n\
             security=insecure_test_only\nq=3,5\np=7\n"
        );
    }
}

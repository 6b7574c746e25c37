//! The one error type of `helrm-core`.

use thiserror::Error as ThisError;

/// Result alias for `helrm-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error `helrm-core` returns. Variants carry the numbers that explain them.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
pub enum Error {
    // ---- math -------------------------------------------------------------------------------
    /// A ring degree that is not a supported power of two.
    #[error("ring degree {n} is not a power of two in [{min}, {max}]")]
    InvalidRingDegree {
        /// The degree asked for.
        n: usize,
        /// Smallest supported degree.
        min: usize,
        /// Largest supported degree.
        max: usize,
    },
    /// A modulus that cannot be used for the requested purpose.
    #[error("modulus {q} is unusable: {reason}")]
    InvalidModulus {
        /// The modulus.
        q: u64,
        /// Why it was refused (for example "not prime", "above 2^62").
        reason: &'static str,
    },
    /// A prime that is not congruent to 1 modulo 2n, so it has no 2n-th root of unity.
    #[error("modulus {q} is not NTT-friendly for n = {n}: q mod 2n = {residue}, expected 1")]
    NotNttFriendly {
        /// The modulus.
        q: u64,
        /// The ring degree.
        n: usize,
        /// q mod 2n.
        residue: u64,
    },
    /// Not enough primes of the requested size exist (or remain unused).
    #[error("only {found} of {wanted} NTT-friendly {bits}-bit primes exist for n = {n}")]
    PrimesExhausted {
        /// Requested bit size.
        bits: u32,
        /// Ring degree.
        n: usize,
        /// How many were requested.
        wanted: usize,
        /// How many were found.
        found: usize,
    },
    /// A requested prime size outside the supported range.
    #[error("prime size of {bits} bits is outside the supported range [{min}, {max}]")]
    InvalidPrimeBits {
        /// Requested bit size.
        bits: u32,
        /// Smallest supported size.
        min: u32,
        /// Largest supported size.
        max: u32,
    },
    /// A slice whose length does not match what the plan or basis expects.
    #[error("{what}: length {got}, expected {expected}")]
    LengthMismatch {
        /// Which argument.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// An RNS basis that is empty, repeats a prime, or mixes incompatible primes.
    #[error("invalid RNS basis: {reason}")]
    InvalidBasis {
        /// Why it was refused.
        reason: String,
    },
    /// A sampler parameter out of range (for example a Hamming weight above n).
    #[error("invalid sampler parameter {param} = {value}: {expected}")]
    InvalidSampler {
        /// Parameter name.
        param: &'static str,
        /// Value given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The operating system could not supply randomness for seeding the CSPRNG.
    #[error("operating-system randomness unavailable: {0}")]
    Entropy(String),
    /// An RNS basis (or sub-basis) with too few or too many primes for the operation.
    #[error("{what}: {len} primes, expected between {min} and {max}")]
    BasisSize {
        /// Which basis or operation.
        what: &'static str,
        /// Number of primes given.
        len: usize,
        /// Smallest accepted number.
        min: usize,
        /// Largest accepted number.
        max: usize,
    },
    /// A prime that appears twice in an RNS basis (or in two bases that must be disjoint).
    #[error("prime {q} appears twice in an RNS basis (positions {first} and {second})")]
    DuplicatePrime {
        /// The repeated prime.
        q: u64,
        /// Position of its first occurrence.
        first: usize,
        /// Position of its second occurrence.
        second: usize,
    },
    /// A sub-basis range that does not lie inside its basis.
    #[error("prime range {start}..{end} is not a non-empty range inside a basis of {len} primes")]
    BasisRange {
        /// First prime of the range.
        start: usize,
        /// One past the last prime of the range.
        end: usize,
        /// Number of primes in the basis.
        len: usize,
    },
    /// An instruction-set name (for example from `HELRM_ISA`) that helrm does not know.
    #[error("unknown instruction set {value:?} from {origin}: expected scalar, avx2, avx512 or avx512ifma")]
    UnknownIsa {
        /// The name given.
        value: String,
        /// Where it came from (for example the environment variable's name).
        origin: &'static str,
    },
}

//! The one error type of `helrm-core`.

use thiserror::Error as ThisError;

/// Result alias for `helrm-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error `helrm-core` returns. Variants carry the numbers that explain them.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, ThisError)]
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
    // ---- ring -------------------------------------------------------------------------------
    /// A limb layout (Q-limb and P-limb counts) that the ring context or polynomial lacks.
    #[error("limb layout of {q_count} Q limbs and {p_count} P limbs is invalid here (at most {max_q} Q and {max_p} P limbs, at least one Q limb)")]
    LimbLayout {
        /// Q limbs asked for.
        q_count: usize,
        /// P limbs asked for.
        p_count: usize,
        /// Q limbs available.
        max_q: usize,
        /// P limbs available.
        max_p: usize,
    },
    /// Two polynomials with different limb layouts in one operation.
    #[error("{op}: limb layouts differ: (Q, P) = {left:?} vs {right:?}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// (Q limbs, P limbs) of the left operand.
        left: (usize, usize),
        /// (Q limbs, P limbs) of the right operand.
        right: (usize, usize),
    },
    /// A residue that is not reduced modulo its prime.
    #[error("residue {value} at limb {limb}, index {index} is not below its prime {modulus}")]
    ResidueOutOfRange {
        /// Limb index.
        limb: usize,
        /// Coefficient index.
        index: usize,
        /// The residue.
        value: u64,
        /// The limb's prime.
        modulus: u64,
    },
    /// A Galois element that is even or not below 2N.
    #[error("Galois element {k} is invalid for N = {n}: expected an odd number below 2N")]
    InvalidGaloisElement {
        /// The element.
        k: u64,
        /// The ring degree.
        n: usize,
    },
    // ---- trace ------------------------------------------------------------------------------
    /// Reading or writing an operation trace failed.
    #[error(transparent)]
    Trace(#[from] crate::trace::TraceError),
    // ---- ckks -------------------------------------------------------------------------------
    /// A ring degree exponent outside the range CKKS parameter sets support.
    #[error("log N = {log_n} is outside the supported range [{min}, {max}]")]
    InvalidLogN {
        /// The exponent asked for.
        log_n: u32,
        /// Smallest supported exponent.
        min: u32,
        /// Largest supported exponent.
        max: u32,
    },
    /// An empty Q or P prime chain.
    #[error("the {chain} chain is empty: at least {min} prime(s) needed")]
    EmptyChain {
        /// `"Q"` or `"P"`.
        chain: &'static str,
        /// Smallest accepted number of primes.
        min: usize,
    },
    /// A Q or P prime size outside the supported range.
    #[error("log {chain}[{index}] = {bits} bits is outside the supported range [{min}, {max}]")]
    InvalidChainPrime {
        /// `"Q"` or `"P"`.
        chain: &'static str,
        /// Position in the chain.
        index: usize,
        /// Requested size.
        bits: u32,
        /// Smallest accepted size.
        min: u32,
        /// Largest accepted size.
        max: u32,
    },
    /// A number of key-switching digits outside `[1, |Q|]`.
    #[error("dnum = {dnum} is invalid for {q_count} Q primes: expected 1 ≤ dnum ≤ {q_count}")]
    InvalidDnum {
        /// The digit count.
        dnum: usize,
        /// Number of Q primes.
        q_count: usize,
    },
    /// Special primes too small for the largest key-switching digit.
    #[error("P has {log_p} bits but key-switching digit {digit_start}..{digit_end} (dnum = {dnum}) has {digit_log} bits; P must be at least as large (raise dnum or add special primes)")]
    SpecialModulusTooSmall {
        /// Bits of P.
        log_p: u32,
        /// First Q index of the digit.
        digit_start: usize,
        /// One past the last Q index of the digit.
        digit_end: usize,
        /// Bits of the digit's modulus.
        digit_log: u32,
        /// The digit count.
        dnum: usize,
    },
    /// A parameter field with a value out of range.
    #[error("parameter {field} = {value}: expected {expected}")]
    InvalidParameter {
        /// The field (path) name.
        field: &'static str,
        /// The value given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A parameter set above the 128-bit security bound, without the insecure opt-out.
    #[error("insecure parameters: N = 2^{log_n} with log QP = {log_qp} bits exceeds the 128-bit bound of {max_log_qp} bits for a {secret} secret (only Security::InsecureTestOnly accepts it)")]
    Insecure {
        /// log2 of the ring degree.
        log_n: u32,
        /// Bits of Q·P.
        log_qp: u32,
        /// The secret distribution, in words.
        secret: String,
        /// The bound for this degree and secret.
        max_log_qp: u32,
    },
    /// No sourced 128-bit bound covers this ring degree and secret distribution.
    #[error("no sourced 128-bit bound for N = 2^{log_n} with a {secret} secret: {reason} (only Security::InsecureTestOnly accepts it)")]
    UnknownSecurity {
        /// log2 of the ring degree.
        log_n: u32,
        /// The secret distribution, in words.
        secret: String,
        /// Why no bound applies.
        reason: &'static str,
    },
    /// A preset name that does not exist.
    #[error("unknown parameter preset {name:?}; known presets: {}", .known.join(", "))]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// The known names.
        known: &'static [&'static str],
    },
    /// A level above the top of the modulus chain.
    #[error("level {level} is above the maximum level {max_level}")]
    LevelOutOfRange {
        /// The level asked for.
        level: usize,
        /// The top level.
        max_level: usize,
    },
    /// A slot count that is not a power of two in `[1, N/2]`.
    #[error("slot count {slots} is not a power of two in [1, {max_slots}]")]
    InvalidSlots {
        /// The slot count asked for.
        slots: usize,
        /// N/2.
        max_slots: usize,
    },
    /// More values than slots.
    #[error("{got} values do not fit in {slots} slots")]
    TooManyValues {
        /// Number of values given.
        got: usize,
        /// Slot count.
        slots: usize,
    },
    /// A NaN or infinite value or coefficient.
    #[error("value at index {index} is NaN or infinite")]
    NonFiniteValue {
        /// Its index.
        index: usize,
    },
    /// A scale that is not finite and positive.
    #[error("scale {scale} is not a finite positive number")]
    InvalidScale {
        /// The scale given.
        scale: String,
    },
    /// An encoded coefficient too large for the integer representation.
    #[error(
        "encoded coefficient {index} is {}, not below 2^{max_bits}",
        magnitude_text(*.log2_magnitude)
    )]
    EncodingOverflow {
        /// Coefficient index.
        index: usize,
        /// ⌊log2 |coefficient|⌋ (`u32::MAX` if infinite).
        log2_magnitude: u32,
        /// The bound's exponent.
        max_bits: u32,
    },
    // ---- ckks evaluator ----------------------------------------------------------------------
    /// A value asked of a symbolic run, which has shapes only.
    #[error("{what} are not available in a symbolic run (shapes only)")]
    SymbolicValue {
        /// What was asked for.
        what: &'static str,
    },
    /// Operands at different levels.
    #[error("{op}: operands at levels {left} and {right}; drop the higher one first")]
    LevelMismatch {
        /// The operation.
        op: &'static str,
        /// Level of the left operand (the ciphertext).
        left: usize,
        /// Level of the right operand.
        right: usize,
    },
    /// Operands whose scales differ.
    #[error("{op}: operand scales 2^{left_log2:.6} and 2^{right_log2:.6} differ")]
    ScaleMismatch {
        /// The operation.
        op: &'static str,
        /// log2 of the left scale.
        left_log2: f64,
        /// log2 of the right scale.
        right_log2: f64,
    },
    /// Operands with different slot counts.
    #[error("{op}: operands use {left} and {right} slots")]
    SlotsMismatch {
        /// The operation.
        op: &'static str,
        /// Slots of the left operand.
        left: usize,
        /// Slots of the right operand.
        right: usize,
    },
    /// A ciphertext of too high a degree (not relinearised).
    #[error("{op}: ciphertext has degree {degree}, at most {max} expected (relinearise first)")]
    CiphertextDegree {
        /// The operation.
        op: &'static str,
        /// Its degree.
        degree: usize,
        /// Largest accepted degree.
        max: usize,
    },
    /// A constant that does not fit the integer encoding.
    #[error("{op}: constant times scale is about 2^{log2_magnitude:.1}, not below 2^126")]
    ConstantTooLarge {
        /// The operation.
        op: &'static str,
        /// log2 of the scaled magnitude.
        log2_magnitude: f64,
    },
    /// A multiplication needs the relinearisation key, which the evaluation keys lack.
    #[error("no relinearisation key among the evaluation keys")]
    MissingRelinKey,
    /// A rotation or conjugation whose Galois key the evaluation keys lack.
    #[error("no Galois key for {} (Galois element {galois_element})", match .rotation { Some(r) => format!("rotation {r}"), None => "conjugation".to_string() })]
    MissingGaloisKey {
        /// The rotation asked for (`None` for conjugation).
        rotation: Option<i64>,
        /// Its Galois element.
        galois_element: u64,
    },
    /// Not enough levels left for an operation.
    #[error("{op}: ciphertext at level {level} cannot go down {needed} level(s)")]
    LevelTooLow {
        /// The operation.
        op: &'static str,
        /// The ciphertext's level.
        level: usize,
        /// Levels needed.
        needed: usize,
    },
    // ---- circuits ---------------------------------------------------------------------------
    /// A circuit operand whose size does not match what the circuit was built for.
    #[error("{circuit}: {what} is {got}, expected {expected}")]
    CircuitDimension {
        /// The circuit (for example `"linear_transform"`).
        circuit: &'static str,
        /// Which size (for example `"input ciphertexts"`, `"slots"`).
        what: &'static str,
        /// The size the circuit expects.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A matrix entry outside the matrix's shape.
    #[error("matrix entry ({row}, {col}) lies outside a {rows} × {cols} matrix")]
    MatrixEntry {
        /// Row index given.
        row: usize,
        /// Column index given.
        col: usize,
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// A slot layout (period, offset, baby-step size) that cannot hold the data.
    #[error("{what} = {value} is invalid: expected {expected}")]
    InvalidLayout {
        /// The layout field.
        what: &'static str,
        /// The value given.
        value: usize,
        /// What was expected.
        expected: &'static str,
    },
    /// Pre-encoded diagonals in the wrong basis for the requested evaluation (double hoisting
    /// multiplies in `Q·P`, the other paths in `Q`).
    #[error("diagonals encoded in {} but the evaluation needs them in {}", if *.encoded_qp { "Q·P" } else { "Q" }, if *.required_qp { "Q·P" } else { "Q" })]
    DiagonalBasis {
        /// Whether the diagonals carry the special primes P.
        encoded_qp: bool,
        /// Whether the evaluation needs them.
        required_qp: bool,
    },
    /// A polynomial degree outside the supported range.
    #[error("polynomial degree {degree} is outside [{min}, {max}]")]
    PolynomialDegree {
        /// The degree given.
        degree: usize,
        /// Smallest supported degree.
        min: usize,
        /// Largest supported degree.
        max: usize,
    },
    /// An interval `[a, b]` that is not finite or not increasing.
    #[error("interval [{a}, {b}] is not a finite interval with a < b")]
    InvalidInterval {
        /// Left end.
        a: f64,
        /// Right end.
        b: f64,
    },
    /// An iterative approximation (Remez exchange) that did not converge.
    #[error("{what}: no convergence after {iterations} iterations (relative spread {spread:e})")]
    ApproximationDiverged {
        /// What was being approximated.
        what: &'static str,
        /// Iterations run.
        iterations: usize,
        /// Relative spread of the equioscillation levels at the end.
        spread: f64,
    },
    // ---- serialization ----------------------------------------------------------------------
    /// Reading or writing a serialized object failed in the operating system.
    #[error("I/O failed while {during} ({kind:?}): {message}")]
    Io {
        /// What was being done ("reading", "writing", "renaming the temporary file", ...).
        during: &'static str,
        /// The operating system's error kind.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// An error while saving or loading the file at `path`.
    #[error("{path}: {source}")]
    InFile {
        /// The file's path.
        path: String,
        /// What went wrong.
        source: Box<Error>,
    },
    /// The input does not start with the magic `HLRM` of a serialized helrm object.
    #[error(
        "not a helrm object: it starts with bytes {found:02x?}, expected 48 4c 52 4d (\"HLRM\")"
    )]
    BadMagic {
        /// The first four bytes.
        found: [u8; 4],
    },
    /// An object format version this reader does not support.
    #[error("object format version {major}.{minor} is not supported (this reader reads {supported_major}.0 to {supported_major}.{supported_minor})")]
    UnsupportedVersion {
        /// Major version in the file.
        major: u16,
        /// Minor version in the file.
        minor: u16,
        /// The major version this reader supports.
        supported_major: u16,
        /// The newest minor version this reader supports.
        supported_minor: u16,
    },
    /// A serialized object of another kind than the loader reads.
    #[error("expected a serialized {expected}, found a {found} (kind code {code})")]
    WrongObjectKind {
        /// The kind the loader reads.
        expected: &'static str,
        /// The kind in the file (`"unknown"` for an unknown code).
        found: &'static str,
        /// The kind code in the file.
        code: u8,
    },
    /// An object made for other parameters than the context it is loaded into.
    #[error(
        "object was made for parameters with fingerprint {found}, but the context has {expected}"
    )]
    ParamsMismatch {
        /// The context's parameter fingerprint.
        expected: String,
        /// The fingerprint in the file.
        found: String,
    },
    /// The input ends inside a field.
    #[error("truncated at byte offset {offset}: {what} needs {needed} bytes")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Byte offset where the field starts.
        offset: u64,
        /// Bytes the field needs.
        needed: u64,
    },
    /// Bytes after the end of a serialized object.
    #[error("unexpected bytes after the end of the object at byte offset {offset}")]
    TrailingBytes {
        /// Byte offset of the first extra byte.
        offset: u64,
    },
    /// The stored checksum does not match the bytes read (a bit flip or a partial overwrite).
    #[error("checksum mismatch at byte offset {offset}: stored {stored}, computed {computed}")]
    ChecksumMismatch {
        /// Byte offset of the stored checksum.
        offset: u64,
        /// The stored SHA-256, in hex.
        stored: String,
        /// The SHA-256 of the bytes read, in hex.
        computed: String,
    },
    /// A field of a serialized object with a value that is invalid for the context.
    #[error("invalid {what} at byte offset {offset}: found {found}, expected {expected}")]
    Corrupt {
        /// The field.
        what: &'static str,
        /// Byte offset of the field.
        offset: u64,
        /// The value found.
        found: String,
        /// What was expected.
        expected: String,
    },
    /// A serialized residue that is not below its prime.
    #[error("residue {value} at byte offset {offset} (limb {limb}, index {index}) is not below its prime {modulus}")]
    CorruptResidue {
        /// Byte offset of the residue.
        offset: u64,
        /// Limb index in its polynomial.
        limb: usize,
        /// Coefficient index in the limb.
        index: usize,
        /// The residue.
        value: u64,
        /// The limb's prime.
        modulus: u64,
    },
    // ---- bootstrap ----------------------------------------------------------------------------
    /// A bootstrapping configuration field with a value out of range.
    #[error("bootstrap configuration {field} = {value}: expected {expected}")]
    BootstrapConfig {
        /// The field.
        field: &'static str,
        /// The value given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A modulus chain too short for the bootstrapping circuit.
    #[error("bootstrapping consumes {needed} levels but the chain has {available} above level 0")]
    BootstrapDepth {
        /// Levels the circuit consumes (CoeffsToSlots + EvalMod + SlotsToCoeffs).
        needed: usize,
        /// The top level of the chain.
        available: usize,
    },
    /// A ciphertext on another slot count than the bootstrapper was built for.
    #[error("bootstrapper is built for {expected} slots, the ciphertext has {slots}")]
    BootstrapSlots {
        /// The ciphertext's slot count.
        slots: usize,
        /// The bootstrapper's slot count.
        expected: usize,
    },
    /// An input scale too large for the message ratio (the message would not fit below `q_0`).
    #[error("bootstrap input scale 2^{log2_scale:.2} is above the largest accepted, about 2^{max_log2:.2}")]
    BootstrapScale {
        /// log2 of the input scale.
        log2_scale: f64,
        /// log2 of the largest scale accepted.
        max_log2: f64,
    },
    /// An evaluator over other parameters than the bootstrapper's.
    #[error("bootstrapper was built for parameters {bootstrapper}, the evaluator has {evaluator}")]
    BootstrapContext {
        /// Fingerprint of the bootstrapper's parameters.
        bootstrapper: String,
        /// Fingerprint of the evaluator's parameters.
        evaluator: String,
    },
}

/// `about 2^k`, or `infinite or NaN` for the `u32::MAX` marker of [`Error::EncodingOverflow`].
fn magnitude_text(log2_magnitude: u32) -> String {
    if log2_magnitude == u32::MAX {
        "infinite or NaN".to_owned()
    } else {
        format!("about 2^{log2_magnitude}")
    }
}

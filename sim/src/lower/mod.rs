//! Lowering: each trace event becomes kernels on limbs.
//!
//! A [`Lowerer`] turns one [`TraceEvent`] into a short list of [`Kernel`]s — NTT / inverse NTT,
//! base conversion (ModUp, ModDown), the key-switch inner product, element-wise multiply and
//! add, automorphism — each with its modular-multiply and modular-add counts, the words it
//! processes, and the objects it reads and writes ([`Access`]: an [`ObjectKey`], a
//! [`TrafficClass`] and a size in bytes). Trace objects keep their trace ids; intermediate
//! results (the digits of a key switch, accumulators) are temporaries local to the event;
//! NTT twiddle tables are objects of their own unless generated on chip.
//!
//! The formulas, with their derivation, are in `docs/cost-model.md`; tests below check them
//! against hand-computed counts. [`LoweringOptions`] holds the knobs (word size, key
//! compression, on-the-fly twiddles, rescale fused into ModDown, compact plaintexts).
//!
//! # Example
//! ```
//! use helrm_core::trace::{DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent};
//! use helrm_sim::lower::{Lowered, Lowerer, LoweringOptions};
//! use helrm_hwmodels::KernelClass;
//!
//! let params = ParamsSummary { log_n: 16, q_bits: vec![50; 11], p_bits: vec![60; 3],
//!                              dnum: 4, word_bytes: 8 };
//! let lowerer = Lowerer::new(&params, LoweringOptions::default())?;
//! let ct = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, 11_534_336, 10);
//! let ev = TraceEvent::new(OpKind::MulRelin, 16, 10)
//!     .with_key_switching(3, 4)
//!     .with_inputs(vec![ct(1), ct(2), ObjectRef::key(ObjectId(0), DataClass::KeyRelin, 58_720_256)])
//!     .with_outputs(vec![ct(3)]);
//! let mut out = Lowered::default();
//! lowerer.lower(&ev, None, &mut out);
//! // 1,056 · N modular multiplications in all (docs/cost-model.md, worked example).
//! assert_eq!(out.totals().mod_mults, 1056 << 16);
//! assert_eq!(out.totals().by_class(KernelClass::KeySwitchMac).mod_mults, 112 << 16);
//! # Ok::<(), helrm_sim::Error>(())
//! ```

mod sizes;

use helrm_core::trace::{DataClass, ObjectRef, OpKind, ParamsSummary, TraceEvent};
use helrm_hwmodels::{Features, KernelClass};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

pub use sizes::{ciphertext_bytes, digit_partition, digits_in_use, key_switch_key_bytes};

use crate::error::Error;
use sizes::product;

/// What moves between memories, for per-class traffic totals: the trace's data classes (all
/// Galois keys together as `key_galois`), plus NTT twiddle tables and key-switching
/// temporaries spilled off chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrafficClass {
    /// Ciphertexts.
    Ciphertext,
    /// Plaintext model weights (matrix diagonals).
    PlaintextWeight,
    /// Plaintext (packed) embedding tables.
    PlaintextEmbedding,
    /// Plaintext constants, masks, polynomial coefficients.
    PlaintextConstant,
    /// The relinearisation key.
    KeyRelin,
    /// Every Galois (rotation, conjugation) key.
    KeyGalois,
    /// The public key.
    KeyPublic,
    /// Trace objects of class `other`.
    Other,
    /// NTT twiddle-factor tables.
    Twiddle,
    /// Intermediate results of one operation (key-switching digits, accumulators).
    Temporary,
}

impl TrafficClass {
    /// Every class, in report order.
    pub const ALL: [TrafficClass; 10] = [
        TrafficClass::Ciphertext,
        TrafficClass::PlaintextWeight,
        TrafficClass::PlaintextEmbedding,
        TrafficClass::PlaintextConstant,
        TrafficClass::KeyRelin,
        TrafficClass::KeyGalois,
        TrafficClass::KeyPublic,
        TrafficClass::Other,
        TrafficClass::Twiddle,
        TrafficClass::Temporary,
    ];

    /// The name used in reports (`ciphertext`, `key_galois`, `twiddle`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            TrafficClass::Ciphertext => "ciphertext",
            TrafficClass::PlaintextWeight => "plaintext_weight",
            TrafficClass::PlaintextEmbedding => "plaintext_embedding",
            TrafficClass::PlaintextConstant => "plaintext_constant",
            TrafficClass::KeyRelin => "key_relin",
            TrafficClass::KeyGalois => "key_galois",
            TrafficClass::KeyPublic => "key_public",
            TrafficClass::Other => "other",
            TrafficClass::Twiddle => "twiddle",
            TrafficClass::Temporary => "temporary",
        }
    }

    /// A dense index in `0..TrafficClass::ALL.len()`, for counter arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The traffic class of a trace data class.
    pub fn from_data_class(class: DataClass) -> Self {
        match class {
            DataClass::Ciphertext => TrafficClass::Ciphertext,
            DataClass::PlaintextWeight => TrafficClass::PlaintextWeight,
            DataClass::PlaintextEmbedding => TrafficClass::PlaintextEmbedding,
            DataClass::PlaintextConstant => TrafficClass::PlaintextConstant,
            DataClass::KeyRelin => TrafficClass::KeyRelin,
            DataClass::KeyGalois(_) => TrafficClass::KeyGalois,
            DataClass::KeyPublic => TrafficClass::KeyPublic,
            _ => TrafficClass::Other,
        }
    }
}

/// What a kernel computes. Each kind runs on the unit group of its [`KernelClass`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KernelKind {
    /// Forward NTT of some limbs.
    Ntt,
    /// Inverse NTT of some limbs.
    Intt,
    /// ModUp base conversion of one digit to the level's other Q primes and P.
    ModUpConversion,
    /// ModDown base conversion of P (and, fused with rescale, the last Q prime) to Q.
    ModDownConversion,
    /// Key-switch inner product: the extended digits times the key, accumulated.
    KeySwitchInnerProduct,
    /// Ciphertext tensor product `(a0 b0, a0 b1 + a1 b0, a1 b1)`.
    Tensor,
    /// Other element-wise modular multiplications (by a plaintext, a constant, a key).
    Multiply,
    /// ModDown's final step: subtract the converted part, multiply by `P^{-1}`, add.
    ModDownCombine,
    /// Rescale's final step: subtract the converted last limb, multiply by `q_ℓ^{-1}`.
    RescaleCombine,
    /// Element-wise modular addition or subtraction.
    Add,
    /// Automorphism `X → X^k` (a permutation of evaluation-form coefficients).
    Automorphism,
    /// A copy without arithmetic (level drop, rotation by 0).
    Copy,
    /// On-chip encoding of a compactly stored plaintext: reduce into each limb and NTT.
    PlaintextExpand,
    /// The floating-point FFT of encoding or decoding (slots ↔ coefficients).
    Fft,
}

impl KernelKind {
    /// Every kind, in report order.
    pub const ALL: [KernelKind; 14] = [
        KernelKind::Ntt,
        KernelKind::Intt,
        KernelKind::ModUpConversion,
        KernelKind::ModDownConversion,
        KernelKind::KeySwitchInnerProduct,
        KernelKind::Tensor,
        KernelKind::Multiply,
        KernelKind::ModDownCombine,
        KernelKind::RescaleCombine,
        KernelKind::Add,
        KernelKind::Automorphism,
        KernelKind::Copy,
        KernelKind::PlaintextExpand,
        KernelKind::Fft,
    ];

    /// The name used in reports and timelines (`ntt`, `modup_conversion`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            KernelKind::Ntt => "ntt",
            KernelKind::Intt => "intt",
            KernelKind::ModUpConversion => "modup_conversion",
            KernelKind::ModDownConversion => "moddown_conversion",
            KernelKind::KeySwitchInnerProduct => "key_switch_inner_product",
            KernelKind::Tensor => "tensor",
            KernelKind::Multiply => "multiply",
            KernelKind::ModDownCombine => "moddown_combine",
            KernelKind::RescaleCombine => "rescale_combine",
            KernelKind::Add => "add",
            KernelKind::Automorphism => "automorphism",
            KernelKind::Copy => "copy",
            KernelKind::PlaintextExpand => "plaintext_expand",
            KernelKind::Fft => "fft",
        }
    }

    /// The unit group that runs this kind.
    pub const fn class(self) -> KernelClass {
        match self {
            KernelKind::Ntt | KernelKind::Intt | KernelKind::PlaintextExpand | KernelKind::Fft => {
                KernelClass::Ntt
            }
            KernelKind::ModUpConversion | KernelKind::ModDownConversion => {
                KernelClass::BaseConversion
            }
            KernelKind::KeySwitchInnerProduct => KernelClass::KeySwitchMac,
            KernelKind::Tensor
            | KernelKind::Multiply
            | KernelKind::ModDownCombine
            | KernelKind::RescaleCombine => KernelClass::ElementwiseMul,
            KernelKind::Add | KernelKind::Copy => KernelClass::ElementwiseAdd,
            KernelKind::Automorphism => KernelClass::Automorphism,
        }
    }

    /// A dense index in `0..KernelKind::ALL.len()`.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A twiddle-factor table: `N` words per prime, stored for a prefix of the Q primes or for
/// all P primes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TwiddleTable {
    /// Forward-NTT twiddles of the Q primes.
    ForwardQ,
    /// Inverse-NTT twiddles of the Q primes.
    InverseQ,
    /// Forward-NTT twiddles of the P primes.
    ForwardP,
    /// Inverse-NTT twiddles of the P primes.
    InverseP,
}

/// The identity of an object the engine places in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKey {
    /// A trace object, by its trace id.
    Trace(u64),
    /// A twiddle table (absent with on-the-fly twiddles).
    Twiddle(TwiddleTable),
    /// A temporary of the operation being lowered (numbered from 0 within one
    /// [`Lowered`]; the engine renumbers them uniquely per run; dead once the operation is
    /// done).
    Temp(u64),
    /// The model values an `encode` of weights or embeddings reads — the server's stored
    /// copy of the plaintext (one limb of rounded values, the size of a compact plaintext) —
    /// keyed by the encoded object's trace id. It starts off chip, like a key.
    Source(u64),
}

/// One object a kernel reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Which object.
    pub key: ObjectKey,
    /// Its traffic class.
    pub class: TrafficClass,
    /// Its size in bytes (the whole object: memories place whole objects).
    pub bytes: u64,
}

/// One kernel: a batch of limb operations of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernel {
    /// What it computes.
    pub kind: KernelKind,
    /// Which event of a fused group it belongs to (0, or 1 for an absorbed rescale).
    pub event: u8,
    /// Limbs it produces (NTT: limbs transformed).
    pub limbs: u64,
    /// Words (limb coefficients) it produces; a words-per-cycle unit is busy `words / rate`.
    pub words: u64,
    /// Modular multiplications (multiply-accumulates count one each).
    pub mod_mults: u64,
    /// Modular additions and subtractions.
    pub mod_adds: u64,
    /// Bytes it moves between on-chip memory and the units (its operands' words read and
    /// results written).
    pub onchip_bytes: u64,
    first_access: u32,
    reads: u16,
    writes: u16,
}

impl Kernel {
    /// The unit group that runs it.
    pub const fn class(&self) -> KernelClass {
        self.kind.class()
    }
}

/// Work totals of some kernels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WorkTotals {
    /// Kernels.
    pub kernels: u64,
    /// Words produced.
    pub words: u64,
    /// Modular multiplications.
    pub mod_mults: u64,
    /// Modular additions.
    pub mod_adds: u64,
}

impl WorkTotals {
    fn add(&mut self, k: &Kernel) {
        self.kernels += 1;
        self.words = self.words.saturating_add(k.words);
        self.mod_mults = self.mod_mults.saturating_add(k.mod_mults);
        self.mod_adds = self.mod_adds.saturating_add(k.mod_adds);
    }
}

/// Work totals of a [`Lowered`], overall and per kernel class and kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoweredTotals {
    /// Kernels.
    pub kernels: u64,
    /// Modular multiplications.
    pub mod_mults: u64,
    /// Modular additions.
    pub mod_adds: u64,
    /// Per kernel class, in [`KernelClass::ALL`] order.
    pub per_class: [WorkTotals; 6],
    /// Per kernel kind, in [`KernelKind::ALL`] order.
    pub per_kind: [WorkTotals; 14],
}

impl LoweredTotals {
    /// The totals of one kernel class.
    pub fn by_class(&self, class: KernelClass) -> WorkTotals {
        class_index(class)
            .and_then(|i| self.per_class.get(i).copied())
            .unwrap_or_default()
    }

    /// The totals of one kernel kind.
    pub fn by_kind(&self, kind: KernelKind) -> WorkTotals {
        self.per_kind.get(kind.index()).copied().unwrap_or_default()
    }
}

/// The position of `class` in [`KernelClass::ALL`].
pub fn class_index(class: KernelClass) -> Option<usize> {
    KernelClass::ALL.iter().position(|&c| c == class)
}

/// The kernels of one operation (or of a key-switching operation with the rescale fused into
/// it), with their object accesses. Reused across events to avoid allocation.
#[derive(Debug, Clone, Default)]
pub struct Lowered {
    kernels: Vec<Kernel>,
    accesses: Vec<Access>,
    temps: u32,
}

impl Lowered {
    /// Removes every kernel.
    pub fn clear(&mut self) {
        self.kernels.clear();
        self.accesses.clear();
        self.temps = 0;
    }

    /// The kernels, in dependence-respecting program order.
    pub fn kernels(&self) -> &[Kernel] {
        &self.kernels
    }

    /// The objects `k` reads.
    pub fn reads(&self, k: &Kernel) -> &[Access] {
        let start = k.first_access as usize;
        self.accesses
            .get(start..start + usize::from(k.reads))
            .unwrap_or(&[])
    }

    /// The objects `k` writes.
    pub fn writes(&self, k: &Kernel) -> &[Access] {
        let start = k.first_access as usize + usize::from(k.reads);
        self.accesses
            .get(start..start + usize::from(k.writes))
            .unwrap_or(&[])
    }

    /// Number of temporaries the kernels use (`ObjectKey::Temp(0..temps)`).
    pub fn temps(&self) -> u32 {
        self.temps
    }

    /// Work totals over all kernels.
    pub fn totals(&self) -> LoweredTotals {
        let mut t = LoweredTotals::default();
        for k in &self.kernels {
            t.kernels += 1;
            t.mod_mults = t.mod_mults.saturating_add(k.mod_mults);
            t.mod_adds = t.mod_adds.saturating_add(k.mod_adds);
            if let Some(c) = class_index(k.class()).and_then(|i| t.per_class.get_mut(i)) {
                c.add(k);
            }
            if let Some(c) = t.per_kind.get_mut(k.kind.index()) {
                c.add(k);
            }
        }
        t
    }
}

/// Knobs of the lowering; [`LoweringOptions::from_features`] takes them from a machine model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoweringOptions {
    /// Bytes per stored word; `None` keeps the trace's `word_bytes`. Object sizes are scaled by
    /// `word_bytes / trace word_bytes`.
    pub word_bytes: Option<u32>,
    /// The uniform half of every key-switching key is regenerated on chip from a seed: key
    /// objects take half their bytes.
    pub key_compression: bool,
    /// Twiddle factors are generated on chip: NTT kernels read no twiddle tables.
    pub on_the_fly_twiddles: bool,
    /// A rescale that directly follows a key-switching operation on its output is fused into
    /// that operation's ModDown (one ModDown dividing by `P · q_ℓ`).
    pub fused_rescale_moddown: bool,
    /// Plaintexts (weights, embeddings, constants) are stored compactly as one limb of small
    /// coefficients and expanded (reduced into every limb and NTT-ed) on chip when used.
    pub compact_plaintexts: bool,
}

impl LoweringOptions {
    /// The options a machine's features ask for (the word size stays the trace's).
    pub fn from_features(features: &Features) -> Self {
        LoweringOptions {
            word_bytes: None,
            key_compression: features.key_prng_compression,
            on_the_fly_twiddles: features.on_the_fly_twiddles,
            fused_rescale_moddown: features.fused_rescale_moddown,
            compact_plaintexts: features.onchip_diagonal_encoding,
        }
    }
}

/// Turns trace events into kernels for one trace's parameters and one set of options.
#[derive(Debug, Clone)]
pub struct Lowerer {
    options: LoweringOptions,
    /// Bytes per word in the trace's object sizes.
    trace_word_bytes: u64,
    /// Bytes per word in the lowered sizes.
    word_bytes: u64,
    /// Special primes of the parameter set (used when an event states none).
    p_count: u32,
    /// The top-level digit partition of the Q primes.
    partition: Vec<Range<u32>>,
}

/// Per-event shape: everything the formulas need.
struct Shape {
    n: u64,
    log_n: u64,
    /// Q limbs at the event's level (`L = ℓ + 1`).
    l: u64,
    /// Special primes (`K`).
    k: u64,
    /// Digit sizes in use at this level (`a_1 .. a_d`, summing to `L`).
    digits: Vec<u64>,
    /// Bytes of one limb (`N · word_bytes`).
    limb_bytes: u64,
}

impl Shape {
    fn d(&self) -> u64 {
        self.digits.len() as u64
    }
    fn bytes(&self, limbs: u64) -> u64 {
        limbs.saturating_mul(self.limb_bytes)
    }
    fn words(&self, limbs: u64) -> u64 {
        limbs.saturating_mul(self.n)
    }
    /// Butterflies of an NTT of `limbs` limbs: `limbs · N/2 · log N` mults, twice as many adds.
    fn ntt(&self, limbs: u64) -> (u64, u64) {
        let mults = product(&[limbs, self.n / 2, self.log_n]);
        (mults, mults.saturating_mul(2))
    }
}

/// Appends kernels and temporaries to a [`Lowered`].
struct Builder<'a> {
    out: &'a mut Lowered,
    event: u8,
}

/// One kernel's figures before its accesses are attached.
struct Work {
    kind: KernelKind,
    limbs: u64,
    words: u64,
    mod_mults: u64,
    mod_adds: u64,
    onchip_bytes: u64,
}

impl Builder<'_> {
    fn temp(&mut self, bytes: u64) -> Access {
        let key = ObjectKey::Temp(u64::from(self.out.temps));
        self.out.temps += 1;
        Access {
            key,
            class: TrafficClass::Temporary,
            bytes,
        }
    }

    fn push(&mut self, w: Work, reads: &[Option<Access>], writes: &[Option<Access>]) {
        let first = self.out.accesses.len();
        let mut n_reads = 0u16;
        for a in reads.iter().flatten() {
            let dup = self.out.accesses[first..].iter().any(|b| b.key == a.key);
            if !dup {
                self.out.accesses.push(*a);
                n_reads += 1;
            }
        }
        let mid = self.out.accesses.len();
        let mut n_writes = 0u16;
        for a in writes.iter().flatten() {
            let dup = self.out.accesses[mid..].iter().any(|b| b.key == a.key);
            if !dup {
                self.out.accesses.push(*a);
                n_writes += 1;
            }
        }
        self.out.kernels.push(Kernel {
            kind: w.kind,
            event: self.event,
            limbs: w.limbs,
            words: w.words,
            mod_mults: w.mod_mults,
            mod_adds: w.mod_adds,
            onchip_bytes: w.onchip_bytes,
            first_access: u32::try_from(first).unwrap_or(u32::MAX),
            reads: n_reads,
            writes: n_writes,
        });
    }
}

/// Outputs of the ModDown of a key switch.
struct KeySwitched {
    acc: Access,
    converted: [Access; 2],
}

impl Lowerer {
    /// A lowerer for traces recorded with `params`.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`] if `params.word_bytes` or `options.word_bytes` is 0.
    pub fn new(params: &ParamsSummary, options: LoweringOptions) -> Result<Self, Error> {
        if params.word_bytes == 0 {
            return Err(Error::InvalidOptions {
                field: "trace params.word_bytes",
                found: 0,
                expected: "at least 1",
            });
        }
        let word_bytes = options.word_bytes.unwrap_or(params.word_bytes);
        if word_bytes == 0 {
            return Err(Error::InvalidOptions {
                field: "word_bytes",
                found: 0,
                expected: "at least 1",
            });
        }
        let q_count = u32::try_from(params.q_bits.len()).unwrap_or(u32::MAX);
        Ok(Lowerer {
            options,
            trace_word_bytes: u64::from(params.word_bytes),
            word_bytes: u64::from(word_bytes),
            p_count: u32::try_from(params.p_bits.len()).unwrap_or(u32::MAX),
            partition: digit_partition(q_count, params.dnum),
        })
    }

    /// The options in force.
    pub fn options(&self) -> &LoweringOptions {
        &self.options
    }

    /// Bytes per word of the lowered sizes.
    pub fn word_bytes(&self) -> u64 {
        self.word_bytes
    }

    fn shape(&self, ev: &TraceEvent) -> Shape {
        let l = u64::from(ev.limbs.max(1));
        let k = u64::from(if ev.special_primes > 0 {
            ev.special_primes
        } else {
            self.p_count.max(1)
        });
        let limbs = ev.limbs.max(1);
        let mut digits: Vec<u64> = digits_in_use(&self.partition, limbs)
            .into_iter()
            .map(u64::from)
            .collect();
        let covers = digits.iter().sum::<u64>() == l;
        if !covers || (ev.dnum > 0 && digits.len() != ev.dnum as usize) {
            // The event does not match the header's partition (a hand-built or foreign
            // trace): split its limbs into its own digit count, balanced.
            let d = if ev.dnum > 0 { ev.dnum } else { 1 };
            digits = digit_partition(limbs, d)
                .iter()
                .map(|r| u64::from(r.end - r.start))
                .collect();
        }
        let n = ev.n.max(1);
        Shape {
            n,
            log_n: u64::from(ev.log_n),
            l,
            k,
            digits,
            limb_bytes: n.saturating_mul(self.word_bytes),
        }
    }

    /// Trace bytes rescaled to the lowered word size.
    fn scale_bytes(&self, bytes: u64) -> u64 {
        if self.word_bytes == self.trace_word_bytes {
            return bytes;
        }
        let scaled =
            u128::from(bytes) * u128::from(self.word_bytes) / u128::from(self.trace_word_bytes);
        u64::try_from(scaled).unwrap_or(u64::MAX)
    }

    fn is_compact_plaintext(&self, class: DataClass) -> bool {
        self.options.compact_plaintexts
            && matches!(
                class,
                DataClass::PlaintextWeight
                    | DataClass::PlaintextEmbedding
                    | DataClass::PlaintextConstant
            )
    }

    /// The access of a trace object, with the options applied to its size.
    pub fn object_access(&self, o: &ObjectRef, n: u64) -> Access {
        let mut bytes = self.scale_bytes(o.bytes);
        if self.options.key_compression
            && matches!(o.class, DataClass::KeyRelin | DataClass::KeyGalois(_))
        {
            bytes /= 2;
        }
        if self.is_compact_plaintext(o.class) {
            bytes = bytes.min(n.saturating_mul(self.word_bytes));
        }
        Access {
            key: ObjectKey::Trace(o.id.0),
            class: TrafficClass::from_data_class(o.class),
            bytes,
        }
    }

    /// Limbs of one component of a trace object (its level + 1, or the event's limbs).
    fn object_limbs(o: &ObjectRef, s: &Shape) -> u64 {
        o.level.map_or(s.l, |l| u64::from(l) + 1)
    }

    /// Polynomial components of a ciphertext object (2, or 3 before relinearisation).
    fn components(&self, o: &ObjectRef, s: &Shape) -> u64 {
        let per = Self::object_limbs(o, s)
            .saturating_mul(s.n)
            .saturating_mul(self.trace_word_bytes);
        if per == 0 {
            return 2;
        }
        ((o.bytes + per / 2) / per).max(1)
    }

    fn twiddles(&self, table: TwiddleTable, limbs: u64, s: &Shape) -> Option<Access> {
        if self.options.on_the_fly_twiddles || limbs == 0 {
            return None;
        }
        Some(Access {
            key: ObjectKey::Twiddle(table),
            class: TrafficClass::Twiddle,
            bytes: s.bytes(limbs),
        })
    }

    /// On-chip bytes of an NTT of `limbs` limbs: the limbs read and written, and the
    /// twiddles read unless generated on chip.
    fn ntt_onchip(&self, limbs: u64, s: &Shape) -> u64 {
        let t = if self.options.on_the_fly_twiddles {
            0
        } else {
            1
        };
        s.bytes(limbs).saturating_mul(2 + t)
    }

    /// True if `next` is a rescale of `ev`'s only output that the options let the lowering
    /// fuse into `ev`'s ModDown. The caller must also know that the unrescaled result is not
    /// used by any later event.
    pub fn can_fuse(&self, ev: &TraceEvent, next: &TraceEvent) -> bool {
        let key_switching = match ev.op {
            OpKind::MulRelin | OpKind::Relinearize | OpKind::KeySwitch => true,
            OpKind::Rotate | OpKind::Conjugate => !ev.galois_elements.contains(&1),
            // A giant-step sum ends in one ModDown pair when some term is rotated.
            OpKind::LazyRotateSum => ev.terms.iter().any(|t| {
                t.rotation
                    .and_then(|r| ev.galois_elements.get(r as usize))
                    .is_some_and(|&g| g != 1)
            }),
            _ => false,
        };
        self.options.fused_rescale_moddown
            && key_switching
            && ev.limbs >= 2
            && next.op == OpKind::Rescale
            && next.limbs == ev.limbs
            && ev.outputs.len() == 1
            && next.outputs.len() == 1
            && next.inputs.len() == 1
            && next.inputs.first().map(|o| o.id) == ev.outputs.first().map(|o| o.id)
    }

    /// Lowers `ev` into `out` (cleared first). With `fused_rescale = Some(next)` (only when
    /// [`can_fuse`](Self::can_fuse) holds), `next`'s rescale is folded into `ev`'s ModDown and
    /// the fused kernels write `next`'s output.
    pub fn lower(&self, ev: &TraceEvent, fused_rescale: Option<&TraceEvent>, out: &mut Lowered) {
        out.clear();
        let s = self.shape(ev);
        let mut b = Builder { out, event: 0 };
        let fused = fused_rescale.filter(|next| self.can_fuse(ev, next));
        let cts: Vec<&ObjectRef> = ev
            .inputs
            .iter()
            .filter(|o| o.class == DataClass::Ciphertext)
            .collect();
        let plains: Vec<&ObjectRef> = ev
            .inputs
            .iter()
            .filter(|o| o.class != DataClass::Ciphertext && !o.class.is_key())
            .collect();
        let keys: Vec<&ObjectRef> = ev.inputs.iter().filter(|o| o.class.is_key()).collect();
        let out_obj = match fused {
            Some(next) => next.outputs.first(),
            None => ev.outputs.first(),
        };
        let out_acc = out_obj.map(|o| self.object_access(o, s.n));
        let ct0 = cts.first().copied();
        let ct0_acc = ct0.map(|o| self.object_access(o, s.n));
        let key0 = keys.first().map(|o| self.object_access(o, s.n));
        let (l, n) = (s.l, s.n);
        match ev.op {
            OpKind::Encode => self.lower_encode(&mut b, &s, ev),
            OpKind::EncryptPk | OpKind::EncryptSk => {
                let pt = plains.first().map(|p| self.plain_operand(&mut b, &s, p));
                let noise_limbs = if ev.op == OpKind::EncryptPk { 3 * l } else { l };
                let noise = b.temp(s.bytes(noise_limbs));
                let (m, a) = s.ntt(noise_limbs);
                b.push(
                    Work {
                        kind: KernelKind::Ntt,
                        limbs: noise_limbs,
                        words: s.words(noise_limbs),
                        mod_mults: m,
                        mod_adds: a,
                        onchip_bytes: self.ntt_onchip(noise_limbs, &s),
                    },
                    &[self.twiddles(TwiddleTable::ForwardQ, l, &s)],
                    &[Some(noise)],
                );
                let (mults, adds) = if ev.op == OpKind::EncryptPk {
                    (2 * l, 3 * l)
                } else {
                    (l, 2 * l)
                };
                b.push(
                    Work {
                        kind: KernelKind::Multiply,
                        limbs: 2 * l,
                        words: s.words(2 * l),
                        mod_mults: s.words(mults),
                        mod_adds: s.words(adds),
                        onchip_bytes: s.bytes(noise_limbs + 4 * l),
                    },
                    &[Some(noise), pt, key0],
                    &[out_acc],
                );
            }
            OpKind::Decrypt => {
                let t = b.temp(s.bytes(l));
                b.push(
                    Work {
                        kind: KernelKind::Multiply,
                        limbs: l,
                        words: s.words(l),
                        mod_mults: s.words(l),
                        mod_adds: s.words(l),
                        onchip_bytes: s.bytes(3 * l),
                    },
                    &[ct0_acc],
                    &[Some(t)],
                );
                let (m, a) = s.ntt(l);
                let coeffs = b.temp(s.bytes(l));
                b.push(
                    Work {
                        kind: KernelKind::Intt,
                        limbs: l,
                        words: s.words(l),
                        mod_mults: m,
                        mod_adds: a,
                        onchip_bytes: self.ntt_onchip(l, &s),
                    },
                    &[Some(t), self.twiddles(TwiddleTable::InverseQ, l, &s)],
                    &[Some(coeffs)],
                );
                // CRT composition of the L limbs (L N mults), then the decoding FFT.
                self.fft(&mut b, &s, s.n, s.words(l), Some(coeffs), out_acc);
            }
            OpKind::Add | OpKind::Sub => {
                let c = cts
                    .iter()
                    .map(|o| self.components(o, &s))
                    .max()
                    .unwrap_or(2);
                let reads: Vec<Option<Access>> =
                    cts.iter().map(|o| Some(self.object_access(o, n))).collect();
                b.push(
                    Work {
                        kind: KernelKind::Add,
                        limbs: c * l,
                        words: s.words(c * l),
                        mod_adds: s.words(c * l),
                        mod_mults: 0,
                        onchip_bytes: s.bytes(3 * c * l),
                    },
                    &reads,
                    &[out_acc],
                );
            }
            OpKind::AddPlain | OpKind::SubPlain | OpKind::AddConst => {
                let pt = plains.first().map(|p| self.plain_operand(&mut b, &s, p));
                let c = ct0.map_or(2, |o| self.components(o, &s));
                b.push(
                    Work {
                        kind: KernelKind::Add,
                        limbs: l,
                        words: s.words(l),
                        mod_adds: s.words(l),
                        mod_mults: 0,
                        onchip_bytes: s.bytes(2 * c * l + l),
                    },
                    &[ct0_acc, pt],
                    &[out_acc],
                );
            }
            OpKind::MulPlain | OpKind::MulConst => {
                let pt = plains.first().map(|p| self.plain_operand(&mut b, &s, p));
                let c = ct0.map_or(2, |o| self.components(o, &s));
                b.push(
                    Work {
                        kind: KernelKind::Multiply,
                        limbs: c * l,
                        words: s.words(c * l),
                        mod_mults: s.words(c * l),
                        mod_adds: 0,
                        onchip_bytes: s.bytes(2 * c * l + l),
                    },
                    &[ct0_acc, pt],
                    &[out_acc],
                );
            }
            OpKind::MulNoRelin => {
                let reads: Vec<Option<Access>> =
                    cts.iter().map(|o| Some(self.object_access(o, n))).collect();
                self.tensor(&mut b, &s, &reads, out_acc, None);
            }
            OpKind::MulRelin => {
                let reads: Vec<Option<Access>> =
                    cts.iter().map(|o| Some(self.object_access(o, n))).collect();
                let d01 = b.temp(s.bytes(2 * l));
                let d2 = b.temp(s.bytes(l));
                self.tensor(&mut b, &s, &reads, Some(d01), Some(d2));
                let ks = self.key_switch(&mut b, &s, d2, key0, Some((d01, 2)), fused.is_some());
                self.combine(&mut b, &s, &ks, Some((d01, 2)), out_acc, fused.is_some());
            }
            OpKind::Relinearize | OpKind::KeySwitch => {
                let Some(x) = ct0_acc else { return };
                let extra = if ev.op == OpKind::Relinearize { 2 } else { 1 };
                let ks = self.key_switch(&mut b, &s, x, key0, Some((x, extra)), fused.is_some());
                self.combine(&mut b, &s, &ks, Some((x, extra)), out_acc, fused.is_some());
            }
            OpKind::Rotate | OpKind::Conjugate => {
                let Some(x) = ct0_acc else { return };
                if ev.galois_elements.contains(&1)
                    || (key0.is_none() && ev.galois_elements.is_empty())
                {
                    self.copy(&mut b, &s, x, out_acc);
                    return;
                }
                let sigma = b.temp(s.bytes(2 * l));
                b.push(
                    Work {
                        kind: KernelKind::Automorphism,
                        limbs: 2 * l,
                        words: s.words(2 * l),
                        mod_mults: 0,
                        mod_adds: 0,
                        onchip_bytes: s.bytes(4 * l),
                    },
                    &[Some(x)],
                    &[Some(sigma)],
                );
                let ks =
                    self.key_switch(&mut b, &s, sigma, key0, Some((sigma, 1)), fused.is_some());
                self.combine(&mut b, &s, &ks, Some((sigma, 1)), out_acc, fused.is_some());
            }
            OpKind::RotateHoisted => self.lower_hoisted(&mut b, &s, ev, ct0_acc, &keys),
            OpKind::HoistedRotateMulAcc | OpKind::LazyRotateSum => {
                self.lower_fused_hoisted(&mut b, &s, ev, &keys, fused.and(out_acc));
            }
            OpKind::MulPlainAcc => {
                // acc += ct · pt: inputs (acc, ct, pt), output acc.
                let pt = plains.first().map(|p| self.plain_operand(&mut b, &s, p));
                let src = cts.get(1).copied();
                let c = src.map_or(2, |o| self.components(o, &s));
                let src_acc = src.map(|o| self.object_access(o, n));
                b.push(
                    Work {
                        kind: KernelKind::Multiply,
                        limbs: c * l,
                        words: s.words(c * l),
                        mod_mults: s.words(c * l),
                        mod_adds: s.words(c * l),
                        onchip_bytes: s.bytes(3 * c * l + l),
                    },
                    &[ct0_acc, src_acc, pt],
                    &[out_acc],
                );
            }
            OpKind::Rescale => {
                let Some(x) = ct0_acc else { return };
                let c = ct0.map_or(2, |o| self.components(o, &s));
                self.rescale(&mut b, &s, x, c, out_acc);
            }
            OpKind::LevelDrop => {
                let Some(x) = ct0_acc else { return };
                self.copy(&mut b, &s, x, out_acc);
            }
            OpKind::ModRaise => {
                let Some(x) = ct0_acc else { return };
                let c = ct0.map_or(2, |o| self.components(o, &s));
                let top = out_obj.map_or(l, |o| Self::object_limbs(o, &s));
                let raised = top.saturating_sub(1);
                let t = b.temp(s.bytes(c));
                let (m, a) = s.ntt(c);
                b.push(
                    Work {
                        kind: KernelKind::Intt,
                        limbs: c,
                        words: s.words(c),
                        mod_mults: m,
                        mod_adds: a,
                        onchip_bytes: self.ntt_onchip(c, &s),
                    },
                    &[Some(x), self.twiddles(TwiddleTable::InverseQ, 1, &s)],
                    &[Some(t)],
                );
                // Centred reduction into each new limb, then its NTT.
                let (m, a) = s.ntt(c * raised);
                b.push(
                    Work {
                        kind: KernelKind::Ntt,
                        limbs: c * raised,
                        words: s.words(c * raised),
                        mod_mults: m,
                        mod_adds: a.saturating_add(s.words(c * raised)),
                        onchip_bytes: self.ntt_onchip(c * raised, &s),
                    },
                    &[
                        Some(t),
                        Some(x),
                        self.twiddles(TwiddleTable::ForwardQ, top, &s),
                    ],
                    &[out_acc],
                );
            }
            // Markers (and kinds of later format versions) carry no work.
            _ => {}
        }
    }

    /// Lowers `ev` alone into a fresh [`Lowered`] (convenience for tests and tools).
    pub fn lower_event(&self, ev: &TraceEvent) -> Lowered {
        let mut out = Lowered::default();
        self.lower(ev, None, &mut out);
        out
    }

    /// The FFT of encoding or decoding on `points` complex points (`2 · slots`; `N` at full
    /// packing): `points/2 · log points` butterflies, each one complex multiplication counted
    /// as one multiplication, plus `points` twist multiplications and `extra_mults` (rounding
    /// and reduction into limbs, or CRT composition).
    fn fft(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        points: u64,
        extra_mults: u64,
        input: Option<Access>,
        out: Option<Access>,
    ) {
        let points = points.clamp(2, s.n.max(2));
        let m = product(&[points / 2, u64::from(points.ilog2())]);
        b.push(
            Work {
                kind: KernelKind::Fft,
                limbs: 1,
                words: points,
                mod_mults: m.saturating_add(points).saturating_add(extra_mults),
                mod_adds: m.saturating_mul(2),
                // Four words per point: the complex values and their twiddles.
                onchip_bytes: product(&[points, 4, self.word_bytes]),
            },
            &[input],
            &[out],
        );
    }

    /// Points of an encode's FFT: twice its recorded slot count, `N` when none is recorded
    /// (format 1.1 and older traces assume full packing).
    fn encode_points(s: &Shape, ev: &TraceEvent) -> u64 {
        if ev.slots == 0 {
            s.n
        } else {
            (2 * u64::from(ev.slots)).min(s.n)
        }
    }

    fn lower_encode(&self, b: &mut Builder<'_>, s: &Shape, ev: &TraceEvent) {
        let Some(o) = ev.outputs.first() else { return };
        let acc = self.object_access(o, s.n);
        // Weights and embedding tables are encoded from the model's stored values, which
        // come from off-chip memory; constants are generated where they are used. What is
        // stored is the plaintext's non-zero coefficients: `2 · slots` words (`N` at full
        // packing, and when the trace does not record the slot count).
        let source = matches!(
            o.class,
            DataClass::PlaintextWeight | DataClass::PlaintextEmbedding
        )
        .then(|| Access {
            key: ObjectKey::Source(o.id.0),
            class: TrafficClass::from_data_class(o.class),
            bytes: Self::encode_points(s, ev).saturating_mul(self.word_bytes),
        });
        if self.is_compact_plaintext(o.class) {
            // The rounded coefficients are the compact limb.
            self.fft(b, s, Self::encode_points(s, ev), s.n, source, Some(acc));
            return;
        }
        let limbs = (self.scale_bytes(o.bytes) / s.limb_bytes.max(1)).max(1);
        let q_limbs = limbs.min(s.l);
        let p_limbs = limbs - q_limbs;
        let coeffs = b.temp(s.bytes(2));
        self.fft(b, s, Self::encode_points(s, ev), 0, source, Some(coeffs));
        // Reducing each rounded coefficient into every limb (a multiplication each), then the
        // limbs' NTTs.
        let (m, a) = s.ntt(limbs);
        b.push(
            Work {
                kind: KernelKind::Ntt,
                limbs,
                words: s.words(limbs),
                mod_mults: m.saturating_add(s.words(limbs)),
                mod_adds: a,
                onchip_bytes: self.ntt_onchip(limbs, s),
            },
            &[
                Some(coeffs),
                self.twiddles(TwiddleTable::ForwardQ, q_limbs, s),
                self.twiddles(TwiddleTable::ForwardP, p_limbs, s),
            ],
            &[Some(acc)],
        );
    }

    /// The access a kernel reads for plaintext operand `p` at the event's `L` limbs: the
    /// object itself, or (compact plaintexts) a temporary it is expanded into first.
    fn plain_operand(&self, b: &mut Builder<'_>, s: &Shape, p: &ObjectRef) -> Access {
        let acc = self.object_access(p, s.n);
        if !self.is_compact_plaintext(p.class) {
            return acc;
        }
        let l = s.l;
        let t = b.temp(s.bytes(l));
        let (m, a) = s.ntt(l);
        b.push(
            Work {
                kind: KernelKind::PlaintextExpand,
                limbs: l,
                words: s.words(l),
                mod_mults: m,
                mod_adds: a.saturating_add(s.words(l)),
                onchip_bytes: s.bytes(1).saturating_add(self.ntt_onchip(l, s)),
            },
            &[Some(acc), self.twiddles(TwiddleTable::ForwardQ, l, s)],
            &[Some(t)],
        );
        t
    }

    fn copy(&self, b: &mut Builder<'_>, s: &Shape, x: Access, out: Option<Access>) {
        let words = out.map_or(0, |o| o.bytes) / self.word_bytes.max(1);
        b.push(
            Work {
                kind: KernelKind::Copy,
                limbs: words / s.n.max(1),
                words,
                mod_mults: 0,
                mod_adds: 0,
                onchip_bytes: words.saturating_mul(self.word_bytes).saturating_mul(2),
            },
            &[Some(x)],
            &[out],
        );
    }

    /// Tensor product of two ciphertexts: `4 L N` mults and `L N` adds.
    fn tensor(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        reads: &[Option<Access>],
        out01: Option<Access>,
        out2: Option<Access>,
    ) {
        let l = s.l;
        b.push(
            Work {
                kind: KernelKind::Tensor,
                limbs: 3 * l,
                words: s.words(3 * l),
                mod_mults: s.words(4 * l),
                mod_adds: s.words(l),
                onchip_bytes: s.bytes(7 * l),
            },
            reads,
            &[out01, out2],
        );
    }

    /// ModUp of `x` and the inner product with `key`; then ModDown of both halves. With
    /// `fused`, `lift` (the parts added to the key-switch result, with their component
    /// count) is multiplied by `P` into the accumulator before a ModDown that divides by
    /// `P · q_ℓ`.
    fn key_switch(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        x: Access,
        key: Option<Access>,
        lift: Option<(Access, u64)>,
        fused: bool,
    ) -> KeySwitched {
        let (l, k) = (s.l, s.k);
        let mut digit_reads: Vec<Option<Access>> = vec![Some(x)];
        for &a in &s.digits {
            let ext = l - a + k;
            let coeff = b.temp(s.bytes(a));
            let (m, ad) = s.ntt(a);
            b.push(
                Work {
                    kind: KernelKind::Intt,
                    limbs: a,
                    words: s.words(a),
                    mod_mults: m,
                    mod_adds: ad,
                    onchip_bytes: self.ntt_onchip(a, s),
                },
                &[Some(x), self.twiddles(TwiddleTable::InverseQ, l, s)],
                &[Some(coeff)],
            );
            let e = b.temp(s.bytes(ext));
            self.conversion(b, s, KernelKind::ModUpConversion, a, ext, coeff, e);
            let (m, ad) = s.ntt(ext);
            b.push(
                Work {
                    kind: KernelKind::Ntt,
                    limbs: ext,
                    words: s.words(ext),
                    mod_mults: m,
                    mod_adds: ad,
                    onchip_bytes: self.ntt_onchip(ext, s),
                },
                &[
                    Some(e),
                    self.twiddles(TwiddleTable::ForwardQ, l, s),
                    self.twiddles(TwiddleTable::ForwardP, k, s),
                ],
                &[Some(e)],
            );
            digit_reads.push(Some(e));
        }
        let acc = self.inner_product(b, s, &digit_reads, key);
        self.mod_down(b, s, acc, lift, fused)
    }

    /// Fast base conversion of `from` limbs to `to` limbs: `from · N` mults by
    /// `q̂_i^{-1}`, then `from · to · N` multiply-accumulates with `(from − 1) · to · N` adds.
    #[allow(clippy::too_many_arguments)]
    fn conversion(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        kind: KernelKind,
        from: u64,
        to: u64,
        input: Access,
        output: Access,
    ) {
        b.push(
            Work {
                kind,
                limbs: to,
                words: s.words(to),
                mod_mults: s.words(from).saturating_add(product(&[from, to, s.n])),
                mod_adds: product(&[from.saturating_sub(1), to, s.n]),
                onchip_bytes: s.bytes(from + to),
            },
            &[Some(input)],
            &[Some(output)],
        );
    }

    /// `Σ_j d_j · (b_j, a_j)` over `L + K` limbs: `2 d (L + K) N` multiply-accumulates.
    fn inner_product(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        digit_reads: &[Option<Access>],
        key: Option<Access>,
    ) -> Access {
        let lk = s.l + s.k;
        let d = s.d();
        let acc = b.temp(s.bytes(2 * lk));
        let mut reads = digit_reads.to_vec();
        reads.push(key);
        b.push(
            Work {
                kind: KernelKind::KeySwitchInnerProduct,
                limbs: 2 * lk,
                words: s.words(2 * lk),
                mod_mults: s.words(product(&[2, d, lk])),
                mod_adds: s.words(product(&[2, d.saturating_sub(1), lk])),
                onchip_bytes: s
                    .bytes(product(&[d, lk]) + 2 * lk)
                    .saturating_add(key.map_or(0, |k| k.bytes)),
            },
            &reads,
            &[Some(acc)],
        );
        acc
    }

    fn mod_down(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        acc: Access,
        lift: Option<(Access, u64)>,
        fused: bool,
    ) -> KeySwitched {
        let (l, k) = (s.l, s.k);
        if fused {
            if let Some((x, comps)) = lift {
                // acc += P · x on the Q limbs (x·P vanishes modulo the P primes).
                b.push(
                    Work {
                        kind: KernelKind::Multiply,
                        limbs: comps * l,
                        words: s.words(comps * l),
                        mod_mults: s.words(comps * l),
                        mod_adds: s.words(comps * l),
                        onchip_bytes: s.bytes(3 * comps * l),
                    },
                    &[Some(x), Some(acc)],
                    &[Some(acc)],
                );
            }
        }
        let (from, to) = if fused { (k + 1, l - 1) } else { (k, l) };
        let mut converted = [acc; 2];
        for slot in &mut converted {
            let pc = b.temp(s.bytes(from));
            let (m, a) = s.ntt(from);
            b.push(
                Work {
                    kind: KernelKind::Intt,
                    limbs: from,
                    words: s.words(from),
                    mod_mults: m,
                    mod_adds: a,
                    onchip_bytes: self.ntt_onchip(from, s),
                },
                &[
                    Some(acc),
                    self.twiddles(TwiddleTable::InverseP, k, s),
                    if fused {
                        self.twiddles(TwiddleTable::InverseQ, l, s)
                    } else {
                        None
                    },
                ],
                &[Some(pc)],
            );
            let cv = b.temp(s.bytes(to));
            self.conversion(b, s, KernelKind::ModDownConversion, from, to, pc, cv);
            let (m, a) = s.ntt(to);
            b.push(
                Work {
                    kind: KernelKind::Ntt,
                    limbs: to,
                    words: s.words(to),
                    mod_mults: m,
                    mod_adds: a,
                    onchip_bytes: self.ntt_onchip(to, s),
                },
                &[Some(cv), self.twiddles(TwiddleTable::ForwardQ, to, s)],
                &[Some(cv)],
            );
            *slot = cv;
        }
        KeySwitched { acc, converted }
    }

    /// ModDown's last step for both halves, `(acc_c − conv_c) · (P q_ℓ)^{-1}` over the output
    /// limbs, plus (unfused) the addition of `extra`'s components.
    fn combine(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        ks: &KeySwitched,
        extra: Option<(Access, u64)>,
        out: Option<Access>,
        fused: bool,
    ) {
        let to = if fused { s.l - 1 } else { s.l };
        let added = if fused { 0 } else { extra.map_or(0, |e| e.1) };
        let extra_read = if fused { None } else { extra.map(|e| e.0) };
        b.push(
            Work {
                kind: KernelKind::ModDownCombine,
                limbs: 2 * to,
                words: s.words(2 * to),
                mod_mults: s.words(2 * to),
                mod_adds: s.words(2 * to + added * s.l),
                onchip_bytes: s.bytes(8 * to + added * s.l),
            },
            &[
                Some(ks.acc),
                Some(ks.converted[0]),
                Some(ks.converted[1]),
                extra_read,
            ],
            &[out],
        );
    }

    fn rescale(&self, b: &mut Builder<'_>, s: &Shape, x: Access, c: u64, out: Option<Access>) {
        let l = s.l;
        if l < 2 {
            self.copy(b, s, x, out);
            return;
        }
        let last = b.temp(s.bytes(c));
        let (m, a) = s.ntt(c);
        b.push(
            Work {
                kind: KernelKind::Intt,
                limbs: c,
                words: s.words(c),
                mod_mults: m,
                mod_adds: a,
                onchip_bytes: self.ntt_onchip(c, s),
            },
            &[Some(x), self.twiddles(TwiddleTable::InverseQ, l, s)],
            &[Some(last)],
        );
        let rest = c * (l - 1);
        let t = b.temp(s.bytes(rest));
        let (m, a) = s.ntt(rest);
        // Adding q_ℓ/2 once per component, then reducing and subtracting it in each limb.
        let adjust = s.words(c).saturating_add(s.words(rest));
        b.push(
            Work {
                kind: KernelKind::Ntt,
                limbs: rest,
                words: s.words(rest),
                mod_mults: m,
                mod_adds: a.saturating_add(adjust),
                onchip_bytes: self.ntt_onchip(rest, s),
            },
            &[Some(last), self.twiddles(TwiddleTable::ForwardQ, l - 1, s)],
            &[Some(t)],
        );
        b.push(
            Work {
                kind: KernelKind::RescaleCombine,
                limbs: rest,
                words: s.words(rest),
                mod_mults: s.words(rest),
                mod_adds: s.words(rest),
                onchip_bytes: s.bytes(3 * rest),
            },
            &[Some(x), Some(t)],
            &[out],
        );
    }

    /// ModUp of the second component of `x`: per digit, iNTT of its limbs, conversion to
    /// the other `L − a_j + K` limbs, NTT of those. Returns the extended digits.
    fn mod_up(&self, b: &mut Builder<'_>, s: &Shape, x: Access) -> Vec<Option<Access>> {
        let (l, k) = (s.l, s.k);
        let mut exts = Vec::with_capacity(s.digits.len());
        for &a in &s.digits {
            let ext = l - a + k;
            let coeff = b.temp(s.bytes(a));
            let (m, ad) = s.ntt(a);
            b.push(
                Work {
                    kind: KernelKind::Intt,
                    limbs: a,
                    words: s.words(a),
                    mod_mults: m,
                    mod_adds: ad,
                    onchip_bytes: self.ntt_onchip(a, s),
                },
                &[Some(x), self.twiddles(TwiddleTable::InverseQ, l, s)],
                &[Some(coeff)],
            );
            let e = b.temp(s.bytes(ext));
            self.conversion(b, s, KernelKind::ModUpConversion, a, ext, coeff, e);
            let (m, ad) = s.ntt(ext);
            b.push(
                Work {
                    kind: KernelKind::Ntt,
                    limbs: ext,
                    words: s.words(ext),
                    mod_mults: m,
                    mod_adds: ad,
                    onchip_bytes: self.ntt_onchip(ext, s),
                },
                &[
                    Some(e),
                    self.twiddles(TwiddleTable::ForwardQ, l, s),
                    self.twiddles(TwiddleTable::ForwardP, k, s),
                ],
                &[Some(e)],
            );
            exts.push(Some(e));
        }
        exts
    }

    /// The automorphism of a rotation applied to the extended digits of `x` and to its first
    /// component (`d (L + K) + L` limbs), then the key inner product: returns (the permuted
    /// temporary holding `σ(c_0)`, the `Q·P` accumulator of `2 (L + K)` limbs).
    fn rotated_inner_product(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        x: Access,
        exts: &[Option<Access>],
        key: Option<Access>,
    ) -> (Access, Access) {
        let perm_limbs = s.d() * (s.l + s.k) + s.l;
        let permuted = b.temp(s.bytes(perm_limbs));
        let mut reads = vec![Some(x)];
        reads.extend(exts.iter().copied());
        b.push(
            Work {
                kind: KernelKind::Automorphism,
                limbs: perm_limbs,
                words: s.words(perm_limbs),
                mod_mults: 0,
                mod_adds: 0,
                onchip_bytes: s.bytes(2 * perm_limbs),
            },
            &reads,
            &[Some(permuted)],
        );
        let acc = self.inner_product(b, s, &[Some(permuted)], key);
        (permuted, acc)
    }

    /// A plaintext operand of a `Q·P` product: the object, or (compact plaintexts) a
    /// temporary it is expanded into over its `limbs` limbs first.
    fn plain_operand_limbs(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        p: &ObjectRef,
        limbs: u64,
    ) -> Access {
        let acc = self.object_access(p, s.n);
        if !self.is_compact_plaintext(p.class) {
            return acc;
        }
        let t = b.temp(s.bytes(limbs));
        let (m, a) = s.ntt(limbs);
        b.push(
            Work {
                kind: KernelKind::PlaintextExpand,
                limbs,
                words: s.words(limbs),
                mod_mults: m,
                mod_adds: a.saturating_add(s.words(limbs)),
                onchip_bytes: s.bytes(1).saturating_add(self.ntt_onchip(limbs, s)),
            },
            &[
                Some(acc),
                self.twiddles(TwiddleTable::ForwardQ, s.l, s),
                self.twiddles(TwiddleTable::ForwardP, limbs.saturating_sub(s.l), s),
            ],
            &[Some(t)],
        );
        t
    }

    /// `hoisted_rotate_mul_acc` and `lazy_rotate_sum`, from the event's terms (see
    /// `docs/cost-model.md`): ModUps (one per rotated input, or per rotated term of a lazy
    /// sum), per rotation an automorphism and key inner product, per output the products or
    /// sums over `Q·P` and `Q`, then one ModDown pair and combine per output with a rotated
    /// term. Events without terms lower to no kernels.
    /// `fused_out`: the output of a rescale fused into the (single) output's ModDown.
    fn lower_fused_hoisted(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        ev: &TraceEvent,
        keys: &[&ObjectRef],
        fused_out: Option<Access>,
    ) {
        let (l, lk) = (s.l, s.l + s.k);
        let lazy = ev.op == OpKind::LazyRotateSum;
        let input = |i: u32| {
            ev.inputs
                .get(i as usize)
                .map(|o| self.object_access(o, s.n))
        };
        // The input each rotation applies to (from its first term).
        let mut owner: Vec<Option<u32>> = vec![None; ev.rotations.len()];
        for t in &ev.terms {
            if let Some(slot) = t.rotation.and_then(|r| owner.get_mut(r as usize)) {
                slot.get_or_insert(t.input);
            }
        }
        // ModUps: once per rotated input (hoisted), once per rotated term (lazy sum).
        let mut shared: BTreeMap<u32, Vec<Option<Access>>> = BTreeMap::new();
        let mut rotated: Vec<Option<(Access, Access)>> = vec![None; ev.rotations.len()];
        for (r, who) in owner.iter().enumerate() {
            let Some(x) = who.and_then(&input) else {
                continue;
            };
            let exts = if lazy {
                self.mod_up(b, s, x)
            } else {
                match who.and_then(|i| shared.get(&i)) {
                    Some(e) => e.clone(),
                    None => {
                        let e = self.mod_up(b, s, x);
                        if let Some(i) = *who {
                            shared.insert(i, e.clone());
                        }
                        e
                    }
                }
            };
            let key = keys.get(r).map(|o| self.object_access(o, s.n));
            rotated[r] = Some(self.rotated_inner_product(b, s, x, &exts, key));
        }
        for (o, out) in ev.outputs.iter().enumerate() {
            let out = Some(fused_out.unwrap_or_else(|| self.object_access(out, s.n)));
            let terms: Vec<_> = ev.terms.iter().filter(|t| t.output as usize == o).collect();
            if terms.is_empty() {
                continue;
            }
            let keyed = terms
                .iter()
                .filter(|t| {
                    t.rotation
                        .and_then(|r| rotated.get(r as usize)?.as_ref())
                        .is_some()
                })
                .count() as u64;
            let total = terms.len() as u64;
            let plain = total - keyed;
            let mut reads: Vec<Option<Access>> = Vec::new();
            for t in &terms {
                match t
                    .rotation
                    .and_then(|r| rotated.get(r as usize).copied().flatten())
                {
                    Some((permuted, acc)) => reads.extend([Some(permuted), Some(acc)]),
                    None => reads.push(input(t.input)),
                }
            }
            // Sums over Q: c0 from every term, c1 from the unrotated ones.
            let q_comps = 1 + u64::from(plain > 0);
            let q_words = q_comps * l;
            let adds = s.words(
                keyed.saturating_sub(1) * 2 * lk
                    + total.saturating_sub(1) * l
                    + plain.saturating_sub(1) * l,
            );
            let qp_sum = (keyed > 0).then(|| b.temp(s.bytes(2 * lk)));
            let q_sum = if keyed > 0 {
                Some(b.temp(s.bytes(q_words)))
            } else {
                out
            };
            let produced = q_words + if keyed > 0 { 2 * lk } else { 0 };
            if lazy {
                b.push(
                    Work {
                        kind: KernelKind::Add,
                        limbs: produced,
                        words: s.words(produced),
                        mod_mults: 0,
                        mod_adds: adds,
                        onchip_bytes: s.bytes(keyed * (2 * lk + l) + plain * 2 * l + produced),
                    },
                    &reads,
                    &[qp_sum, q_sum],
                );
            } else {
                // Products: a rotated term multiplies its Q·P pair (2 (L + K) limbs) and
                // σ(c0) (L limbs); an unrotated one both components over Q (2 L limbs).
                for t in &terms {
                    let rotated_term = t
                        .rotation
                        .and_then(|r| rotated.get(r as usize).copied().flatten())
                        .is_some();
                    if let Some(p) = t.plaintext.and_then(|p| ev.inputs.get(p as usize)) {
                        let limbs = if rotated_term { lk } else { l };
                        reads.push(Some(self.plain_operand_limbs(b, s, p, limbs)));
                    }
                }
                let mults = keyed * (2 * lk + l) + plain * 2 * l;
                b.push(
                    Work {
                        kind: KernelKind::Multiply,
                        limbs: produced,
                        words: s.words(produced),
                        mod_mults: s.words(mults),
                        mod_adds: adds,
                        onchip_bytes: s.bytes(keyed * (3 * lk + l) + plain * 3 * l + produced),
                    },
                    &reads,
                    &[qp_sum, q_sum],
                );
            }
            if let (Some(acc), Some(q)) = (qp_sum, q_sum) {
                // Fused with a rescale, the Q sums are lifted by P into the accumulator and
                // one ModDown divides by P · q_ℓ.
                let fused = fused_out.is_some();
                let ks = self.mod_down(b, s, acc, fused.then_some((q, q_comps)), fused);
                self.combine(b, s, &ks, Some((q, q_comps)), out, fused);
            }
        }
    }

    fn lower_hoisted(
        &self,
        b: &mut Builder<'_>,
        s: &Shape,
        ev: &TraceEvent,
        x: Option<Access>,
        keys: &[&ObjectRef],
    ) {
        let Some(x) = x else { return };
        let (l, k) = (s.l, s.k);
        let count = ev.outputs.len().max(ev.galois_elements.len());
        let identity = |i: usize| ev.galois_elements.get(i) == Some(&1);
        let needs_keys = (0..count).any(|i| !identity(i));
        // One shared ModUp of c1.
        let exts = if needs_keys {
            self.mod_up(b, s, x)
        } else {
            Vec::new()
        };
        let mut next_key = keys.iter();
        for i in 0..count {
            let out = ev.outputs.get(i).map(|o| self.object_access(o, s.n));
            if identity(i) {
                self.copy(b, s, x, out);
                continue;
            }
            let key = next_key.next().map(|o| self.object_access(o, s.n));
            // σ applied to every extended digit (d (L + K) limbs) and to c0 (L limbs).
            let perm_limbs = s.d() * (l + k) + l;
            let permuted = b.temp(s.bytes(perm_limbs));
            let mut reads = vec![Some(x)];
            reads.extend(exts.iter().copied());
            b.push(
                Work {
                    kind: KernelKind::Automorphism,
                    limbs: perm_limbs,
                    words: s.words(perm_limbs),
                    mod_mults: 0,
                    mod_adds: 0,
                    onchip_bytes: s.bytes(2 * perm_limbs),
                },
                &reads,
                &[Some(permuted)],
            );
            let acc = self.inner_product(b, s, &[Some(permuted)], key);
            let ks = self.mod_down(b, s, acc, None, false);
            self.combine(b, s, &ks, Some((permuted, 1)), out, false);
        }
    }
}

#[cfg(test)]
mod tests;

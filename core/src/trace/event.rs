//! The event vocabulary: operation kinds, data classes, object references and events.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::TraceError;

macro_rules! op_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal => $name:literal, )*) => {
        /// The kind of a traced operation: one per public leaf operation of the evaluator, plus
        /// markers for bootstrapping sub-steps.
        ///
        /// Files name kinds in `snake_case` (`mul_relin`); the binary encoding uses the stable
        /// numeric [`code`](OpKind::code). Both are listed in `docs/trace-format.md`.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        pub enum OpKind {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl OpKind {
            /// Every kind, in code order.
            pub const ALL: &'static [OpKind] = &[$(OpKind::$variant,)*];

            /// The `snake_case` name used in files.
            pub const fn name(self) -> &'static str {
                match self {
                    $(OpKind::$variant => $name,)*
                }
            }

            /// The kind with this `snake_case` name.
            pub fn from_name(name: &str) -> Option<OpKind> {
                match name {
                    $($name => Some(OpKind::$variant),)*
                    _ => None,
                }
            }

            /// The kind with this binary code.
            pub const fn from_code(code: u16) -> Option<OpKind> {
                match code {
                    $($code => Some(OpKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

op_kinds! {
    /// Encode a slot vector (or constant) into a plaintext.
    Encode = 1 => "encode",
    /// Encrypt a plaintext under the public key.
    EncryptPk = 2 => "encrypt_pk",
    /// Encrypt a plaintext under the secret key.
    EncryptSk = 3 => "encrypt_sk",
    /// Decrypt a ciphertext to a plaintext.
    Decrypt = 4 => "decrypt",
    /// Ciphertext + ciphertext.
    Add = 10 => "add",
    /// Ciphertext − ciphertext.
    Sub = 11 => "sub",
    /// Ciphertext + plaintext.
    AddPlain = 12 => "add_plain",
    /// Ciphertext − plaintext.
    SubPlain = 13 => "sub_plain",
    /// Ciphertext + scalar constant.
    AddConst = 14 => "add_const",
    /// Ciphertext × plaintext.
    MulPlain = 20 => "mul_plain",
    /// Ciphertext × scalar constant.
    MulConst = 21 => "mul_const",
    /// Ciphertext × ciphertext: tensor product followed by relinearisation.
    MulRelin = 22 => "mul_relin",
    /// Ciphertext × ciphertext tensor product without relinearisation (three components).
    MulNoRelin = 23 => "mul_no_relin",
    /// Relinearise a three-component ciphertext.
    Relinearize = 24 => "relinearize",
    /// `acc += ct × pt` in place: a fused plaintext multiply-accumulate, no temporary.
    MulPlainAcc = 25 => "mul_plain_acc",
    /// Divide by the last prime of the chain and drop it.
    Rescale = 30 => "rescale",
    /// Drop limbs without dividing.
    LevelDrop = 31 => "level_drop",
    /// Rotate the slots by one amount (automorphism plus key switch).
    Rotate = 40 => "rotate",
    /// Several rotations of one ciphertext sharing one decomposition: one event names them all.
    RotateHoisted = 41 => "rotate_hoisted",
    /// Complex conjugation of the slots.
    Conjugate = 42 => "conjugate",
    /// A bare key switch to another key.
    KeySwitch = 43 => "key_switch",
    /// Double-hoisted baby steps: per output, `Σ pt ⊙ rot(ct, r)`, one ModUp per rotated
    /// input, one key inner product per rotation, products of the rotated parts with
    /// plaintexts in `Q·P` accumulated before one ModDown pair per output. [`Term`]s say
    /// which input, rotation, plaintext and output each product involves.
    HoistedRotateMulAcc = 44 => "hoisted_rotate_mul_acc",
    /// Giant steps: `Σ rot(ct_i, r_i)` with one ModUp and key inner product per rotated term
    /// and the sum of the `Q·P` inner products brought down by one ModDown pair.
    LazyRotateSum = 45 => "lazy_rotate_sum",
    /// Raise the modulus of a level-0 ciphertext to the top of the chain (bootstrapping).
    ModRaise = 50 => "mod_raise",
    /// Marker: bootstrapping's CoeffsToSlots step starts. Carries no work and no objects.
    CoeffsToSlots = 51 => "coeffs_to_slots",
    /// Marker: bootstrapping's EvalMod step starts. Carries no work and no objects.
    EvalMod = 52 => "eval_mod",
    /// Marker: bootstrapping's SlotsToCoeffs step starts. Carries no work and no objects.
    SlotsToCoeffs = 53 => "slots_to_coeffs",
}

impl OpKind {
    /// The stable numeric code of this kind in the binary encoding.
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// True for markers, which delimit a step but do no work themselves.
    pub const fn is_marker(self) -> bool {
        matches!(
            self,
            OpKind::CoeffsToSlots | OpKind::EvalMod | OpKind::SlotsToCoeffs
        )
    }

    /// A dense index in `0..OpKind::ALL.len()`, for per-kind counter arrays.
    pub fn index(self) -> usize {
        OpKind::ALL
            .iter()
            .position(|&k| k == self)
            .unwrap_or(OpKind::ALL.len())
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a name that is not an [`OpKind`] or [`DataClass`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} name {name:?}")]
pub struct UnknownName {
    /// What was being parsed ("operation kind", "data class").
    pub what: &'static str,
    /// The text that did not parse.
    pub name: String,
}

impl FromStr for OpKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpKind::from_name(s).ok_or_else(|| UnknownName {
            what: "operation kind",
            name: s.to_owned(),
        })
    }
}

impl Serialize for OpKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for OpKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OpVisitor;
        impl Visitor<'_> for OpVisitor {
            type Value = OpKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an operation kind name such as \"mul_relin\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OpKind, E> {
                OpKind::from_name(v)
                    .ok_or_else(|| E::custom(format_args!("unknown operation kind {v:?}")))
            }
        }
        deserializer.deserialize_str(OpVisitor)
    }
}

/// What a traced object is, which decides where a simulator keeps it and how its traffic is
/// reported.
///
/// In files a class is one string, so that it can key a map: `ciphertext`,
/// `plaintext_weight`, `plaintext_embedding`, `plaintext_constant`, `key_relin`,
/// `key_galois:<k>` (with the Galois element `k` in decimal, e.g. `key_galois:5`),
/// `key_public`, `other`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataClass {
    /// A ciphertext.
    Ciphertext,
    /// A plaintext holding model weights (for example a matrix diagonal).
    PlaintextWeight,
    /// A plaintext holding (packed) embedding-table rows.
    PlaintextEmbedding,
    /// A plaintext holding a constant (for example a polynomial coefficient vector or a mask).
    PlaintextConstant,
    /// The relinearisation key.
    KeyRelin,
    /// The Galois (rotation or conjugation) key for the automorphism X → X^k.
    KeyGalois(u64),
    /// The public encryption key.
    KeyPublic,
    /// Anything else.
    Other,
}

impl DataClass {
    /// The binary code of this class (the Galois element is stored beside it).
    pub const fn code(self) -> u8 {
        match self {
            DataClass::Ciphertext => 0,
            DataClass::PlaintextWeight => 1,
            DataClass::PlaintextEmbedding => 2,
            DataClass::PlaintextConstant => 3,
            DataClass::KeyRelin => 4,
            DataClass::KeyGalois(_) => 5,
            DataClass::KeyPublic => 6,
            DataClass::Other => 7,
        }
    }

    /// The class with this binary code and (for `key_galois`) Galois element.
    pub const fn from_code(code: u8, galois_element: u64) -> Option<DataClass> {
        Some(match code {
            0 => DataClass::Ciphertext,
            1 => DataClass::PlaintextWeight,
            2 => DataClass::PlaintextEmbedding,
            3 => DataClass::PlaintextConstant,
            4 => DataClass::KeyRelin,
            5 => DataClass::KeyGalois(galois_element),
            6 => DataClass::KeyPublic,
            7 => DataClass::Other,
            _ => return None,
        })
    }

    /// The class name without a Galois element (`key_galois` for every Galois key).
    pub const fn family(self) -> &'static str {
        match self {
            DataClass::Ciphertext => "ciphertext",
            DataClass::PlaintextWeight => "plaintext_weight",
            DataClass::PlaintextEmbedding => "plaintext_embedding",
            DataClass::PlaintextConstant => "plaintext_constant",
            DataClass::KeyRelin => "key_relin",
            DataClass::KeyGalois(_) => "key_galois",
            DataClass::KeyPublic => "key_public",
            DataClass::Other => "other",
        }
    }

    /// True for evaluation and public keys.
    pub const fn is_key(self) -> bool {
        matches!(
            self,
            DataClass::KeyRelin | DataClass::KeyGalois(_) | DataClass::KeyPublic
        )
    }

    /// The Galois element of a Galois key, `None` for every other class.
    pub const fn galois_element(self) -> Option<u64> {
        match self {
            DataClass::KeyGalois(k) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataClass::KeyGalois(k) => write!(f, "key_galois:{k}"),
            other => f.write_str(other.family()),
        }
    }
}

impl FromStr for DataClass {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownName {
            what: "data class",
            name: s.to_owned(),
        };
        Ok(match s {
            "ciphertext" => DataClass::Ciphertext,
            "plaintext_weight" => DataClass::PlaintextWeight,
            "plaintext_embedding" => DataClass::PlaintextEmbedding,
            "plaintext_constant" => DataClass::PlaintextConstant,
            "key_relin" => DataClass::KeyRelin,
            "key_public" => DataClass::KeyPublic,
            "other" => DataClass::Other,
            _ => {
                let digits = s.strip_prefix("key_galois:").ok_or_else(unknown)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(unknown());
                }
                DataClass::KeyGalois(digits.parse().map_err(|_| unknown())?)
            }
        })
    }
}

impl Serialize for DataClass {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DataClass::KeyGalois(_) => serializer.collect_str(self),
            other => serializer.serialize_str(other.family()),
        }
    }
}

impl<'de> Deserialize<'de> for DataClass {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClassVisitor;
        impl Visitor<'_> for ClassVisitor {
            type Value = DataClass;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a data class such as \"ciphertext\" or \"key_galois:5\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DataClass, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(ClassVisitor)
    }
}

/// A deterministic object identifier: objects are numbered in program order, so a real and a
/// symbolic run of the same program give equal ids.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ObjectId(pub u64);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Hands out [`ObjectId`]s in program order (0, 1, 2, ...).
///
/// The context that creates objects (keys, plaintexts, ciphertexts) owns one allocator and asks
/// it for an id each time it creates an object, so that ids depend only on program order.
#[derive(Debug, Default)]
pub struct IdAllocator {
    next: AtomicU64,
}

impl IdAllocator {
    /// An allocator whose first id is 0.
    pub const fn new() -> Self {
        Self::starting_at(0)
    }

    /// An allocator whose first id is `first`.
    pub const fn starting_at(first: u64) -> Self {
        IdAllocator {
            next: AtomicU64::new(first),
        }
    }

    /// The next id (ids never repeat; after `u64::MAX` they wrap, which no run reaches).
    pub fn allocate(&self) -> ObjectId {
        ObjectId(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The id the next call to [`allocate`](Self::allocate) will return.
    pub fn peek(&self) -> ObjectId {
        ObjectId(self.next.load(Ordering::Relaxed))
    }
}

/// One object an operation reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The object's deterministic id.
    pub id: ObjectId,
    /// What the object is.
    pub class: DataClass,
    /// The bytes the object occupies in memory (all its limbs and components).
    pub bytes: u64,
    /// The object's level, for objects that have one (ciphertexts, plaintexts); `None` for keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
}

impl ObjectRef {
    /// An object with a level (a ciphertext or plaintext).
    pub const fn at_level(id: ObjectId, class: DataClass, bytes: u64, level: u32) -> Self {
        ObjectRef {
            id,
            class,
            bytes,
            level: Some(level),
        }
    }

    /// An object without a level (a key).
    pub const fn key(id: ObjectId, class: DataClass, bytes: u64) -> Self {
        ObjectRef {
            id,
            class,
            bytes,
            level: None,
        }
    }
}

/// One summand of a fused hoisted operation (`hoisted_rotate_mul_acc`, `lazy_rotate_sum`):
/// input ciphertext `input`, rotated by the event's rotation `rotation` (or not rotated),
/// multiplied by the plaintext `plaintext` (or by nothing), added into output `output`.
///
/// Indices point into the event's `inputs`, `rotations` (and `galois_elements`) and
/// `outputs`. In files a term is the array `[input, rotation, plaintext, output]` with `null`
/// for an absent rotation or plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "TermRepr", into = "TermRepr")]
pub struct Term {
    /// Index in `inputs` of the ciphertext read.
    pub input: u32,
    /// Index in `rotations` of the keyed rotation applied to it (one key switch per listed
    /// rotation, shared by every term naming it); `None` for no rotation.
    pub rotation: Option<u32>,
    /// Index in `inputs` of the plaintext it is multiplied by; `None` for none.
    pub plaintext: Option<u32>,
    /// Index in `outputs` of the sum it is added to.
    pub output: u32,
}

type TermRepr = (u32, Option<u32>, Option<u32>, u32);

impl From<TermRepr> for Term {
    fn from((input, rotation, plaintext, output): TermRepr) -> Self {
        Term {
            input,
            rotation,
            plaintext,
            output,
        }
    }
}

impl From<Term> for TermRepr {
    fn from(t: Term) -> Self {
        (t.input, t.rotation, t.plaintext, t.output)
    }
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// One traced operation.
///
/// `seq` and `scope` are assigned by the [`Tracer`](super::Tracer) that emits the event; the
/// evaluator fills in the rest. Field meanings and units are normative in
/// `docs/trace-format.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Position of the event in the trace, from 0.
    pub seq: u64,
    /// What the operation is.
    pub op: OpKind,
    /// The `/`-separated scope the operation ran in (`dlrm/embedding/lookup`); empty at top level.
    pub scope: String,
    /// log2 of the ring degree.
    pub log_n: u32,
    /// The ring degree N (always `2^log_n`).
    pub n: u64,
    /// The level the operation runs at (that of its ciphertext inputs; for `encode` and
    /// `encrypt_*`, that of the output).
    pub level: u32,
    /// The number of Q limbs at that level (always `level + 1`).
    pub limbs: u32,
    /// The number of special primes P (alpha) used by key switching.
    pub special_primes: u32,
    /// The number of key-switching digits (dnum).
    pub dnum: u32,
    /// log2 of the scale of the operation's result.
    pub scale_log2: f64,
    /// Slot rotation amounts (`rotate`: one; `rotate_hoisted`: all, in output order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<i64>,
    /// Galois elements of the automorphisms applied, in the same order as `rotations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub galois_elements: Vec<u64>,
    /// Objects read, keys included.
    pub inputs: Vec<ObjectRef>,
    /// Objects written.
    pub outputs: Vec<ObjectRef>,
    /// ModUps (decompositions of one polynomial into extended digits) the operation performs;
    /// set by the fused hoisted kinds only (0 elsewhere: the kind implies the count).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mod_ups: u32,
    /// ModDowns of one polynomial from `Q·P` to `Q` the operation performs (a key switch does
    /// two); set by the fused hoisted kinds only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mod_downs: u32,
    /// The summands of a fused hoisted operation, in evaluation order; empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<Term>,
    /// The outputs are left over the extended basis `Q_ℓ ∪ P` (for example a plaintext encoded
    /// for `hoisted_rotate_mul_acc`), so they hold `limbs + special_primes` limbs.
    #[serde(default, skip_serializing_if = "is_false")]
    pub extended_basis: bool,
    /// Slots the encoded vector occupies (`encode`: a power of two, at most `N/2`); 0 when
    /// not recorded (other kinds, and traces of format 1.1 or older).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub slots: u32,
    /// Measured wall time in nanoseconds (real runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_ns: Option<u64>,
}

impl TraceEvent {
    /// An event of kind `op` at ring degree `2^log_n` and level `level`, with `n` and `limbs`
    /// derived, no key-switching parameters, scale 2^0, and no objects.
    pub fn new(op: OpKind, log_n: u32, level: u32) -> Self {
        TraceEvent {
            seq: 0,
            op,
            scope: String::new(),
            log_n,
            n: 1u64.checked_shl(log_n).unwrap_or(0),
            level,
            limbs: level.saturating_add(1),
            special_primes: 0,
            dnum: 0,
            scale_log2: 0.0,
            rotations: Vec::new(),
            galois_elements: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            mod_ups: 0,
            mod_downs: 0,
            terms: Vec::new(),
            extended_basis: false,
            slots: 0,
            wall_ns: None,
        }
    }

    /// Sets the key-switching parameters: `special_primes` (alpha) and `dnum`.
    pub fn with_key_switching(mut self, special_primes: u32, dnum: u32) -> Self {
        self.special_primes = special_primes;
        self.dnum = dnum;
        self
    }

    /// Sets log2 of the result's scale.
    pub fn with_scale_log2(mut self, scale_log2: f64) -> Self {
        self.scale_log2 = scale_log2;
        self
    }

    /// Sets the rotation amounts and their Galois elements.
    pub fn with_rotations(mut self, rotations: Vec<i64>, galois_elements: Vec<u64>) -> Self {
        self.rotations = rotations;
        self.galois_elements = galois_elements;
        self
    }

    /// Sets the objects read.
    pub fn with_inputs(mut self, inputs: Vec<ObjectRef>) -> Self {
        self.inputs = inputs;
        self
    }

    /// Sets the objects written.
    pub fn with_outputs(mut self, outputs: Vec<ObjectRef>) -> Self {
        self.outputs = outputs;
        self
    }

    /// Sets the ModUp and ModDown counts of a fused hoisted operation.
    pub fn with_mod_counts(mut self, mod_ups: u32, mod_downs: u32) -> Self {
        self.mod_ups = mod_ups;
        self.mod_downs = mod_downs;
        self
    }

    /// Sets the summands of a fused hoisted operation.
    pub fn with_terms(mut self, terms: Vec<Term>) -> Self {
        self.terms = terms;
        self
    }

    /// Sets the slot count of an `encode` (format 1.2).
    pub fn with_slots(mut self, slots: u32) -> Self {
        self.slots = slots;
        self
    }

    /// Marks the outputs as left over the extended basis `Q_ℓ ∪ P`.
    pub fn with_extended_basis(mut self, extended: bool) -> Self {
        self.extended_basis = extended;
        self
    }

    /// Sets the measured wall time.
    pub fn with_wall_ns(mut self, wall_ns: u64) -> Self {
        self.wall_ns = Some(wall_ns);
        self
    }

    /// Total bytes of the inputs.
    pub fn input_bytes(&self) -> u64 {
        self.inputs
            .iter()
            .fold(0, |acc, o| acc.saturating_add(o.bytes))
    }

    /// Total bytes of the outputs.
    pub fn output_bytes(&self) -> u64 {
        self.outputs
            .iter()
            .fold(0, |acc, o| acc.saturating_add(o.bytes))
    }

    /// Checks the invariants every reader relies on: `log_n <= 63`, `n == 2^log_n`,
    /// `limbs == level + 1`, a finite `scale_log2`, and terms whose indices lie within
    /// `inputs`, `rotations` and `outputs`.
    ///
    /// # Errors
    /// [`TraceError::InvalidEvent`] naming the first field that breaks an invariant.
    pub fn check(&self) -> Result<(), TraceError> {
        match self.invariant_violation() {
            None => Ok(()),
            Some((field, found, expected)) => Err(TraceError::InvalidEvent {
                seq: self.seq,
                field,
                found,
                expected,
            }),
        }
    }

    /// The first broken invariant as (field, value found, expectation).
    pub(crate) fn invariant_violation(&self) -> Option<(&'static str, u64, &'static str)> {
        if self.log_n > 63 {
            return Some(("log_n", u64::from(self.log_n), "at most 63"));
        }
        if self.n != 1u64 << self.log_n {
            return Some(("n", self.n, "2^log_n"));
        }
        if u64::from(self.limbs) != u64::from(self.level) + 1 {
            return Some(("limbs", u64::from(self.limbs), "level + 1"));
        }
        if !self.scale_log2.is_finite() {
            return Some(("scale_log2", self.scale_log2.to_bits(), "a finite number"));
        }
        if self.slots != 0 && (!self.slots.is_power_of_two() || u64::from(self.slots) > self.n / 2)
        {
            return Some((
                "slots",
                u64::from(self.slots),
                "0 or a power of two at most N/2",
            ));
        }
        let (ins, rots, outs) = (self.inputs.len(), self.rotations.len(), self.outputs.len());
        let within = |i: u32, len: usize| (i as usize) < len;
        for (i, t) in self.terms.iter().enumerate() {
            let ok = within(t.input, ins)
                && t.rotation.is_none_or(|r| within(r, rots))
                && t.plaintext.is_none_or(|p| within(p, ins))
                && within(t.output, outs);
            if !ok {
                return Some((
                    "terms",
                    i as u64,
                    "indices within inputs, rotations and outputs",
                ));
            }
        }
        None
    }
}

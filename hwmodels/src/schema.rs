//! The machine-model schema: one set of plain serde structs for every machine.
//!
//! A CPU, a GPU and an FHE accelerator differ in the numbers they put in these
//! structs, never in code. Every struct rejects unknown keys, every physical
//! quantity carries its unit in its field name, and `docs/hwmodel-schema.md`
//! describes each field with its unit and accepted range. Values are checked by
//! [`MachineModel::validate`], which every loader in this crate calls.

use serde::{Deserialize, Serialize};

/// The schema version this crate writes and the only one it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Every `schema_version` this crate can read.
pub const SUPPORTED_SCHEMA_VERSIONS: &[u32] = &[SCHEMA_VERSION];

/// One machine: clock, word size, functional units, memories and features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineModel {
    /// Version of this schema the file was written against (must be in [`SUPPORTED_SCHEMA_VERSIONS`]).
    pub schema_version: u32,
    /// Short identifier used on the command line (`ark`, `a100`, `host-cpu`).
    pub name: String,
    /// Broad class of machine; CPUs and GPUs must carry an [`Efficiency`] block.
    pub kind: MachineKind,
    /// Where the numbers come from.
    pub provenance: Provenance,
    /// Clock frequency of the functional units in GHz (one cycle = `1 / clock_ghz` ns).
    pub clock_ghz: f64,
    /// Width in bits of the native modular word (the RNS limb residue) the datapath operates on.
    pub word_bits: u32,
    /// Functional-unit groups, one per kernel class.
    pub units: Units,
    /// The on-chip memory (scratchpad, register file or last-level cache) the engine manages.
    pub onchip: OnChipMemory,
    /// The off-chip memory (HBM, GDDR, DDR) behind the on-chip memory.
    pub offchip: OffChipMemory,
    /// Link to host memory, used for data that does not fit off-chip memory; absent when the
    /// off-chip memory is itself the last level (a CPU's DRAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link: Option<HostLink>,
    /// Architectural and dataflow features the lowering takes into account.
    pub features: Features,
    /// Fraction of peak achieved per kernel class (required for `cpu` and `gpu`, optional for `asic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<Efficiency>,
}

/// Broad class of machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineKind {
    /// A general-purpose CPU (units are views of the same cores).
    Cpu,
    /// A GPU (units are views of the same streaming multiprocessors).
    Gpu,
    /// A fixed-function FHE accelerator (units are distinct hardware blocks).
    Asic,
}

impl MachineKind {
    /// The lowercase name used in YAML (`cpu`, `gpu`, `asic`).
    pub fn as_str(self) -> &'static str {
        match self {
            MachineKind::Cpu => "cpu",
            MachineKind::Gpu => "gpu",
            MachineKind::Asic => "asic",
        }
    }
}

/// Where a model's numbers come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The paper, datasheet or measurement the figures come from (must not be empty).
    pub source: String,
    /// The table or section of the source holding the figures.
    pub table: String,
    /// Assumptions, derivations and anything not taken directly from the source.
    pub notes: String,
}

/// The kernel classes the lowering produces, each served by one [`UnitGroup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KernelClass {
    /// Forward or inverse number-theoretic transform of one limb.
    Ntt,
    /// Fast base conversion (ModUp / ModDown), a matrix of multiply-accumulates.
    BaseConversion,
    /// Element-wise modular multiplication (ciphertext × plaintext or ciphertext).
    ElementwiseMul,
    /// Element-wise modular addition / subtraction.
    ElementwiseAdd,
    /// Automorphism X → X^k (a permutation of coefficients or slots).
    Automorphism,
    /// Key-switch inner product: digits × evaluation-key limbs, multiply-accumulate.
    KeySwitchMac,
}

impl KernelClass {
    /// Every kernel class, in the order of the `units` block.
    pub const ALL: [KernelClass; 6] = [
        KernelClass::Ntt,
        KernelClass::BaseConversion,
        KernelClass::ElementwiseMul,
        KernelClass::ElementwiseAdd,
        KernelClass::Automorphism,
        KernelClass::KeySwitchMac,
    ];

    /// The YAML key of this class in the `units` and `efficiency` blocks.
    pub fn field_name(self) -> &'static str {
        match self {
            KernelClass::Ntt => "ntt",
            KernelClass::BaseConversion => "base_conversion",
            KernelClass::ElementwiseMul => "elementwise_mul",
            KernelClass::ElementwiseAdd => "elementwise_add",
            KernelClass::Automorphism => "automorphism",
            KernelClass::KeySwitchMac => "key_switch_mac",
        }
    }

    /// Whether kernels of this class perform modular multiplications (and so may state
    /// their throughput in `throughput_mod_mults_per_cycle`).
    pub fn multiplies(self) -> bool {
        !matches!(
            self,
            KernelClass::ElementwiseAdd | KernelClass::Automorphism
        )
    }
}

/// The functional-unit groups, one per kernel class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Units {
    /// NTT / inverse-NTT units.
    pub ntt: UnitGroup,
    /// Base-conversion (ModUp / ModDown) units.
    pub base_conversion: UnitGroup,
    /// Element-wise modular multipliers.
    pub elementwise_mul: UnitGroup,
    /// Element-wise modular adders.
    pub elementwise_add: UnitGroup,
    /// Automorphism (permutation) units.
    pub automorphism: UnitGroup,
    /// Key-switch inner-product multiply-accumulate units.
    pub key_switch_mac: UnitGroup,
}

impl Units {
    /// The group serving `class`.
    pub fn get(&self, class: KernelClass) -> &UnitGroup {
        match class {
            KernelClass::Ntt => &self.ntt,
            KernelClass::BaseConversion => &self.base_conversion,
            KernelClass::ElementwiseMul => &self.elementwise_mul,
            KernelClass::ElementwiseAdd => &self.elementwise_add,
            KernelClass::Automorphism => &self.automorphism,
            KernelClass::KeySwitchMac => &self.key_switch_mac,
        }
    }

    /// Mutable access to the group serving `class` (for sweeps).
    pub fn get_mut(&mut self, class: KernelClass) -> &mut UnitGroup {
        match class {
            KernelClass::Ntt => &mut self.ntt,
            KernelClass::BaseConversion => &mut self.base_conversion,
            KernelClass::ElementwiseMul => &mut self.elementwise_mul,
            KernelClass::ElementwiseAdd => &mut self.elementwise_add,
            KernelClass::Automorphism => &mut self.automorphism,
            KernelClass::KeySwitchMac => &mut self.key_switch_mac,
        }
    }
}

/// A group of identical functional units serving one kernel class.
///
/// Exactly one of `throughput_words_per_cycle` and `throughput_mod_mults_per_cycle` is given;
/// it is the peak rate of ONE unit, so the group's peak is `count` times it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitGroup {
    /// Number of identical units that can work on different kernels (or limbs) at once.
    pub count: u32,
    /// Peak words (limb coefficients) one unit consumes per cycle, whatever arithmetic a word
    /// needs inside the unit (a fully pipelined NTT datapath, an adder, a permutation network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_words_per_cycle: Option<f64>,
    /// Peak modular multiplications (or multiply-accumulates) one unit completes per cycle;
    /// the kernel's modular-multiply count divided by this gives its busy cycles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_mod_mults_per_cycle: Option<f64>,
    /// Cycles from a kernel's first input to its first output (pipeline depth).
    pub latency_cycles: u64,
    /// Whether a unit accepts the next kernel before the previous one has drained.
    pub pipelined: bool,
    /// Groups naming the same pool share one set of physical units (the cores of a CPU, the
    /// SMs of a GPU, a shared multiplier array): a kernel on any of them occupies the pool.
    /// Groups in one pool must have equal `count`. Absent: the group is its own hardware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
}

/// A unit's peak rate, in the measure its model file states.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Throughput {
    /// Words (limb coefficients) consumed per cycle.
    WordsPerCycle(f64),
    /// Modular multiplications (or multiply-accumulates) per cycle.
    ModMultsPerCycle(f64),
}

impl Throughput {
    /// The numeric rate, whatever its measure.
    pub fn value(self) -> f64 {
        match self {
            Throughput::WordsPerCycle(v) | Throughput::ModMultsPerCycle(v) => v,
        }
    }

    /// The same measure with its rate multiplied by `factor`.
    pub fn scaled(self, factor: f64) -> Throughput {
        match self {
            Throughput::WordsPerCycle(v) => Throughput::WordsPerCycle(v * factor),
            Throughput::ModMultsPerCycle(v) => Throughput::ModMultsPerCycle(v * factor),
        }
    }

    /// Busy cycles for a kernel that consumes `words` words and performs `mod_mults`
    /// modular multiplications, at this rate (fractional; the engine rounds).
    pub fn cycles_for(self, words: u64, mod_mults: u64) -> f64 {
        match self {
            Throughput::WordsPerCycle(v) => words as f64 / v,
            Throughput::ModMultsPerCycle(v) => mod_mults as f64 / v,
        }
    }
}

impl UnitGroup {
    /// The peak rate of one unit, or `None` if the group states neither (or both) measures,
    /// which [`MachineModel::validate`] rejects.
    pub fn per_unit_throughput(&self) -> Option<Throughput> {
        match (
            self.throughput_words_per_cycle,
            self.throughput_mod_mults_per_cycle,
        ) {
            (Some(w), None) => Some(Throughput::WordsPerCycle(w)),
            (None, Some(m)) => Some(Throughput::ModMultsPerCycle(m)),
            _ => None,
        }
    }

    /// The peak rate of the whole group (`count` units).
    pub fn peak_throughput(&self) -> Option<Throughput> {
        self.per_unit_throughput()
            .map(|t| t.scaled(f64::from(self.count)))
    }
}

/// The on-chip memory the engine manages (a scratchpad, register file or last-level cache).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnChipMemory {
    /// Capacity available to data objects, in bytes.
    pub capacity_bytes: u64,
    /// Aggregate read + write bandwidth between on-chip memory and the units, in GB/s (10^9 B/s).
    pub bandwidth_gb_per_s: f64,
    /// Access latency in cycles.
    pub latency_cycles: u64,
    /// Replacement policy used unless the simulation overrides it.
    #[serde(default)]
    pub replacement_policy: ReplacementPolicy,
}

impl OnChipMemory {
    /// Bandwidth in bytes per cycle at `clock_ghz`.
    pub fn bandwidth_bytes_per_cycle(&self, clock_ghz: f64) -> f64 {
        self.bandwidth_gb_per_s / clock_ghz
    }
}

/// On-chip replacement policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplacementPolicy {
    /// Least recently used (the default).
    #[default]
    Lru,
    /// Belady-optimal: evict the object whose next use lies furthest in the trace's future.
    Belady,
}

/// The off-chip memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffChipMemory {
    /// Capacity in bytes.
    pub capacity_bytes: u64,
    /// Peak bandwidth in GB/s (10^9 B/s), reads and writes combined.
    pub bandwidth_gb_per_s: f64,
    /// Latency of one access in ns.
    pub latency_ns: f64,
}

impl OffChipMemory {
    /// Peak bandwidth in bytes per cycle at `clock_ghz`.
    pub fn bandwidth_bytes_per_cycle(&self, clock_ghz: f64) -> f64 {
        self.bandwidth_gb_per_s / clock_ghz
    }
}

/// The link to host memory (PCIe), for data that does not fit off-chip memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostLink {
    /// Bandwidth per direction in GB/s (10^9 B/s).
    pub bandwidth_gb_per_s: f64,
    /// Latency of one transfer in ns.
    pub latency_ns: f64,
}

/// Architectural and dataflow features; each one changes what the lowering emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    /// The uniform half of each evaluation key is regenerated on chip from a seed, so only
    /// the other half moves off chip.
    pub key_prng_compression: bool,
    /// NTT twiddle factors are generated on chip instead of being read from memory.
    pub on_the_fly_twiddles: bool,
    /// Rescale is fused into the preceding ModDown (one iNTT/NTT pass instead of two).
    pub fused_rescale_moddown: bool,
    /// Plaintext diagonals are stored as compact slot values and encoded (iFFT + NTT) on chip,
    /// instead of being stored as full encoded limbs.
    pub onchip_diagonal_encoding: bool,
}

/// Achieved fraction of peak per kernel class, plus fixed per-kernel overhead.
///
/// Calibrated values for CPUs and GPUs, whose peak rates come from instruction counts that
/// real code does not sustain. An accelerator without this block runs at its peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Efficiency {
    /// Fraction of NTT peak achieved, in (0, 1].
    pub ntt: f64,
    /// Fraction of base-conversion peak achieved, in (0, 1].
    pub base_conversion: f64,
    /// Fraction of element-wise multiply peak achieved, in (0, 1].
    pub elementwise_mul: f64,
    /// Fraction of element-wise add peak achieved, in (0, 1].
    pub elementwise_add: f64,
    /// Fraction of automorphism peak achieved, in (0, 1].
    pub automorphism: f64,
    /// Fraction of key-switch inner-product peak achieved, in (0, 1].
    pub key_switch_mac: f64,
    /// Fraction of peak off-chip bandwidth achieved, in (0, 1].
    pub offchip_bandwidth: f64,
    /// Fixed cost added to every kernel (launch, fork-join, synchronisation), in ns.
    pub kernel_launch_overhead_ns: f64,
}

impl Efficiency {
    /// The fraction of peak for `class`.
    pub fn for_class(&self, class: KernelClass) -> f64 {
        match class {
            KernelClass::Ntt => self.ntt,
            KernelClass::BaseConversion => self.base_conversion,
            KernelClass::ElementwiseMul => self.elementwise_mul,
            KernelClass::ElementwiseAdd => self.elementwise_add,
            KernelClass::Automorphism => self.automorphism,
            KernelClass::KeySwitchMac => self.key_switch_mac,
        }
    }
}

impl MachineModel {
    /// Length of one cycle in ns.
    pub fn cycle_ns(&self) -> f64 {
        1.0 / self.clock_ghz
    }

    /// Convert a cycle count to seconds at this model's clock.
    pub fn cycles_to_seconds(&self, cycles: f64) -> f64 {
        cycles / (self.clock_ghz * 1e9)
    }

    /// Convert a duration in ns to (fractional) cycles at this model's clock.
    pub fn ns_to_cycles(&self, ns: f64) -> f64 {
        ns * self.clock_ghz
    }

    /// Fraction of peak achieved for `class` (1.0 when the model has no efficiency block).
    pub fn efficiency_for(&self, class: KernelClass) -> f64 {
        self.efficiency.as_ref().map_or(1.0, |e| e.for_class(class))
    }

    /// The rate the engine should use for `class`: the group's peak times its efficiency.
    pub fn effective_throughput(&self, class: KernelClass) -> Option<Throughput> {
        self.units
            .get(class)
            .peak_throughput()
            .map(|t| t.scaled(self.efficiency_for(class)))
    }

    /// Off-chip bandwidth the engine should use, in bytes per cycle (peak times efficiency).
    pub fn effective_offchip_bytes_per_cycle(&self) -> f64 {
        let eff = self
            .efficiency
            .as_ref()
            .map_or(1.0, |e| e.offchip_bandwidth);
        self.offchip.bandwidth_bytes_per_cycle(self.clock_ghz) * eff
    }

    /// Fixed per-kernel overhead in ns (0 when the model has no efficiency block).
    pub fn kernel_launch_overhead_ns(&self) -> f64 {
        self.efficiency
            .as_ref()
            .map_or(0.0, |e| e.kernel_launch_overhead_ns)
    }
}

//! The DLRM → CKKS plan: how a trained model maps onto CKKS before anything runs.
//!
//! Layout: every MLP vector lives replicated with one period `P` (the smallest power of two
//! holding the widest MLP vector, the concatenation included), so each layer's output is
//! already the next layer's input and the bottom output (offset 0) and the packed embedding
//! output (offset `bottom_width`) add up to the concatenation with no masking level. The
//! slot count `S` is the smallest power of two `≥ P` that also holds the whole one-hot vector,
//! capped at the parameter set's slot count (longer one-hot vectors use several input
//! ciphertexts).
//!
//! Pre-scaling: a layer followed by a composite ReLU with bound `B` computes
//! `y = (W x + b) / B` (the `1/B` folded into its weights and bias) and its activation
//! outputs `y · step(y) = relu(W x + b) / B`; the next layer's columns are multiplied by `B`.
//! So the pre-scaling costs no level and the encrypted model computes the plaintext
//! composite model's function exactly.
//!
//! Levels: every layer is a sequence of operations — the linear product (1 level, one
//! rescale inside the BSGS product), then its activation: `x²` (1), a polynomial (its
//! depth), or a composite ReLU as its sign stages (`4 + 4 + 5` for `[15, 15, 27]`) and the
//! product `y · step(y)` (1). The embedding lookup runs on the fresh sparse ciphertexts
//! (1 level) and is dropped to the bottom MLP's output level. Inputs are encrypted at the
//! **working top**: the bootstrapping output level on a bootstrappable parameter set (the
//! 10-level residual chain of `helrm-n16-boot`), the chain's top otherwise.
//!
//! Bootstraps are placed greedily: before the operation that would run out of levels
//! (minimal for a chain of indivisible operations: each segment between bootstraps holds as
//! many operations as fit). A ReLU of depth 14 does not fit the 10 levels left after a
//! bootstrap, so it is split between sign stages. There two values are live — the
//! pre-activation `y` (needed by the final product) and the partial sign `g` — and they are
//! bootstrapped **together**, packed as `c = (Re(y) + i·Re(g))/2` in the complex slots of
//! one ciphertext (the bootstrap refreshes complex slots; the halving is a scale label), then
//! unpacked by one conjugation: `y = c + c̄`, `g = −i(c − c̄)`, both at the bootstrap's output
//! scale — which the last sign stage needs: its input's scale mismatch with the chain's
//! primes doubles in bits at every squaring. One bootstrap instead of two. Packing takes the real parts first — `(u + conj(v))/2` with
//! `u = y + i·g`, `v = y − i·g`, one more conjugation — because slot noise is complex and
//! the sign stages magnify it by their slope: `Im(g)` grows to ~`10^-1` and, packed as is,
//! would land in `y`.
//!
//! Embedding lookups whose diagonals exceed [`CHUNK_BYTES`] run as several products over
//! consecutive input ciphertexts (chunks), summed: only one chunk's compact diagonals are
//! ever in memory.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper, DiagonalStorage};
use helrm_core::circuits::linear::{
    DiagonalMode, Hoisting, InputLayout, LinearCost, LinearTransform, OutputLayout,
};
use helrm_core::circuits::poly::Polynomial;
use helrm_core::ckks::{CkksContext, Level, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{DataClass, OpKind, Tracer, VecSink};
use serde::Serialize;

use crate::dlrm::{Activation, CompositeOutput, Dlrm, DlrmExport, LayerExport};
use crate::error::{Error, Result};

/// Largest compact-diagonal bytes of one embedding-lookup chunk (256 MiB).
pub const CHUNK_BYTES: u64 = 256 << 20;

/// Baby-step size of every MLP product and of the embedding lookup. One fixed power of two
/// makes all products share their rotations (babies `1 … 15`, giants `16·j`, folds `P·2^t`):
/// at `helrm-n16-boot` every Galois key is 212 MiB, and free per-layer splits (27, 16, 8 …)
/// needed 97 keys for the Criteo model where a shared split needs 68 (measured).
pub const MLP_BABY_STEP: usize = 16;

/// What a bootstrap refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapKind {
    /// One value (before a linear product or a first activation stage).
    Single,
    /// The pre-activation and the partial sign, packed as `y + i·g` in one ciphertext.
    Packed,
}

/// One operation of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OpStep {
    /// The linear product and the bias.
    Linear,
    /// `x²`.
    Square,
    /// A polynomial activation.
    Poly,
    /// Sign stage `stage` (from 0) of a composite ReLU.
    Stage {
        /// The stage index.
        stage: usize,
    },
    /// The composite ReLU's final product `y · step(y)`.
    Product,
}

/// One planned operation with its levels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlannedOp {
    /// The operation.
    pub step: OpStep,
    /// Levels it consumes.
    pub levels: u32,
    /// Level of its input (after a bootstrap, if any).
    pub input_level: usize,
    /// Level of its output.
    pub output_level: usize,
    /// Scale of its output.
    pub output_scale: f64,
    /// A bootstrap runs right before it.
    pub bootstrap_before: Option<BootstrapKind>,
}

/// One planned linear step (a dense layer or the packed embedding lookup).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    /// Trace scope of the step (`bottom/layer0`, `embedding/lookup`, `top/layer1`).
    pub name: String,
    /// Matrix rows.
    pub rows: usize,
    /// Matrix columns.
    pub cols: usize,
    /// Level of the linear product's input.
    pub input_level: usize,
    /// Level after the product and the activation.
    pub output_level: usize,
    /// Levels of the activation (0 for the embedding lookup and the identity).
    pub activation_levels: u32,
    /// Activation name.
    pub activation: &'static str,
    /// Pre-scaling bound of a composite activation (1 otherwise).
    pub bound: f64,
    /// Input ciphertexts.
    pub input_ciphertexts: usize,
    /// Non-zero generalised diagonals.
    pub diagonals: usize,
    /// BSGS split `(baby, giant)` (of the first chunk for a chunked lookup).
    pub bsgs: (usize, usize),
    /// Keyed rotations per product.
    pub rotations: u64,
    /// Bytes of the encoded diagonals at the input level.
    pub encoded_diagonal_bytes: u64,
    /// Bytes of the compact diagonals.
    pub compact_diagonal_bytes: u64,
    /// Products the step runs as (chunks of input ciphertexts; 1 for MLP layers).
    pub chunks: usize,
    /// True when a bootstrap runs anywhere in this step.
    pub bootstrap_before: bool,
    /// Bootstraps in this step.
    pub bootstraps: u32,
    /// The operations, in order.
    pub ops: Vec<PlannedOp>,
}

/// The bootstrapping circuit a plan uses.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapPlan {
    /// Slots bootstrapped (the plan's slot count).
    pub slots: usize,
    /// Levels the circuit consumes.
    pub depth: usize,
    /// Its output level (the plan's working top).
    pub output_level: usize,
    /// Its Galois elements (rotations, subring trace, conjugation).
    pub galois_elements: Vec<u64>,
    /// Bytes of its pre-encoded transform diagonals (measured from one symbolic bootstrap
    /// with on-the-fly diagonals).
    pub diagonal_bytes: u64,
}

/// The plan of one model on one parameter set (see the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Model configuration name.
    pub config: String,
    /// Parameter-set name.
    pub params: String,
    /// Slot count `S`.
    pub slots: usize,
    /// MLP replication period `P`.
    pub period: usize,
    /// Working top: the level inputs are encrypted at and bootstraps return to.
    pub top_level: usize,
    /// Levels the model consumes without bootstrapping.
    pub levels_needed: u32,
    /// Whether the parameter set can bootstrap at the plan's slot count.
    pub bootstrappable: bool,
    /// Bootstraps placed per query (0 when the chain suffices).
    pub bootstraps: u32,
    /// Of those, bootstraps of a packed pre-activation and partial sign.
    pub packed_bootstraps: u32,
    /// The bootstrapping circuit, when the plan bootstraps.
    pub bootstrap: Option<BootstrapPlan>,
    /// Steps in evaluation order: bottom layers, the embedding lookup, top layers.
    pub steps: Vec<PlannedStep>,
    /// Input blocks of each embedding-lookup chunk.
    pub embedding_chunks: Vec<Range<usize>>,
    /// Rotations (slot shifts) of the linear products, ascending.
    pub rotations: Vec<i64>,
    /// Galois elements of every key the server needs (linear products and bootstrapping),
    /// deduplicated and ascending.
    pub galois_elements: Vec<u64>,
    /// Bytes of the rotation keys plus the relinearisation key (at the top of the chain).
    pub evaluation_key_bytes: u64,
    /// Of those, bytes of keys only bootstrapping needs.
    pub bootstrap_key_bytes: u64,
    /// Bytes of all encoded diagonals of the model if pre-encoded.
    pub encoded_diagonal_bytes: u64,
    /// Bytes of the compact diagonals (what on-the-fly encoding keeps).
    pub compact_diagonal_bytes: u64,
    /// Dense input ciphertexts (1).
    pub dense_ciphertexts: usize,
    /// Sparse (one-hot) input ciphertexts.
    pub sparse_ciphertexts: usize,
    /// Scale at which the client encrypts the one-hot vector, so that the lookup's output
    /// scale equals the bottom MLP's output scale.
    pub sparse_scale: f64,
    /// Peak memory estimate of the server: keys, pre-encoded bootstrapping diagonals, the
    /// largest transform's compact diagonals (model diagonals are encoded on the fly), the
    /// input and live ciphertexts.
    pub peak_memory_bytes: u64,
}

impl Plan {
    /// Whether the model runs: without bootstrapping, or with a bootstrappable set.
    pub fn fits(&self) -> bool {
        self.bootstraps == 0 || self.bootstrappable
    }

    /// Fails with [`Error::NeedsBootstrap`] when the model needs bootstrapping and the
    /// parameter set cannot bootstrap.
    ///
    /// # Errors
    /// [`Error::NeedsBootstrap`].
    pub fn require_fits(&self) -> Result<()> {
        if self.fits() {
            return Ok(());
        }
        Err(Error::NeedsBootstrap {
            config: self.config.clone(),
            params: self.params.clone(),
            needed: self.levels_needed,
            available: u32::try_from(self.top_level).unwrap_or(u32::MAX),
            bootstraps: self.bootstraps,
        })
    }
}

/// Levels an activation consumes in the encrypted pipeline.
///
/// # Errors
/// [`Error::NotPolynomial`] for the exact ReLU.
pub fn activation_levels(a: &Activation) -> Result<u32> {
    a.depth().ok_or_else(|| Error::NotPolynomial {
        layer: "activation".to_owned(),
        activation: a.name(),
    })
}

/// The period and slot count of a model on `params` (see the module docs).
///
/// # Errors
/// [`Error::InvalidParameter`] when an MLP vector does not fit the parameter set's slots.
pub fn layout(export: &DlrmExport, params: &Params) -> Result<(usize, usize)> {
    let widest = export
        .bottom
        .iter()
        .chain(&export.top)
        .flat_map(|l| [l.inputs, l.outputs])
        .chain([
            export.num_dense,
            export.bottom_width + export.embedding_dim * export.layout.len(),
        ])
        .max()
        .unwrap_or(1);
    let period = widest.next_power_of_two();
    let max = params.slots();
    if period > max {
        return Err(Error::InvalidParameter {
            name: "slots",
            value: period as f64,
            expected: "an MLP width no larger than the parameter set's slot count",
        });
    }
    let rows = usize::try_from(export.layout.total_rows()).unwrap_or(usize::MAX);
    let slots = rows
        .max(period)
        .checked_next_power_of_two()
        .unwrap_or(max)
        .min(max);
    Ok((period, slots))
}

/// How the server evaluates one activation.
#[derive(Debug, Clone)]
pub enum ActivationCircuit {
    /// No activation.
    Identity,
    /// `x²`.
    Square,
    /// A polynomial.
    Poly(Polynomial),
    /// Composite ReLU `y · step(y)`: the step's stages on the pre-scaled input.
    Relu(Vec<Polynomial>),
}

impl ActivationCircuit {
    /// The circuit of `a`, in layer `layer` (for errors).
    ///
    /// # Errors
    /// [`Error::NotPolynomial`] for the exact ReLU or a composite that is not in the
    /// `x · step(x / B)` form; [`Error::Ckks`] for a polynomial the core refuses.
    pub fn new(a: &Activation, layer: &str) -> Result<Self> {
        let cheb =
            |p: &crate::dlrm::ChebPoly| Polynomial::chebyshev(p.coefficients(), p.lo(), p.hi());
        match a {
            Activation::Identity => Ok(Self::Identity),
            Activation::Square => Ok(Self::Square),
            Activation::Poly(p) => Ok(Self::Poly(cheb(p)?)),
            Activation::Composite(c) if c.output() == CompositeOutput::ReluFromStep => {
                Ok(Self::Relu(
                    c.stages()
                        .iter()
                        .map(cheb)
                        .collect::<std::result::Result<_, _>>()?,
                ))
            }
            Activation::Relu | Activation::Composite(_) => Err(Error::NotPolynomial {
                layer: layer.to_owned(),
                activation: a.name(),
            }),
        }
    }

    /// The operations after the linear product, with their levels.
    pub fn ops(&self) -> Vec<(OpStep, u32)> {
        let d = |p: &Polynomial| u32::try_from(p.depth()).unwrap_or(u32::MAX);
        match self {
            Self::Identity => Vec::new(),
            Self::Square => vec![(OpStep::Square, 1)],
            Self::Poly(p) => vec![(OpStep::Poly, d(p))],
            Self::Relu(stages) => stages
                .iter()
                .enumerate()
                .map(|(stage, p)| (OpStep::Stage { stage }, d(p)))
                .chain([(OpStep::Product, 1)])
                .collect(),
        }
    }
}

/// A layer's pre-scaled `(weights, bias)`.
pub type ScaledLayer = (Vec<f64>, Vec<f64>);

/// Pre-scaling bound of a layer's activation (1 unless a composite ReLU).
pub fn bound(l: &LayerExport) -> f64 {
    match &l.activation {
        Activation::Composite(c) if c.output().is_relu() => c.input_bound(),
        _ => 1.0,
    }
}

/// The pre-scaled weights and bias of every MLP layer (see the module docs):
/// `(bottom, top)`, each `(weights, bias)`.
pub fn scaled_layers(export: &DlrmExport) -> (Vec<ScaledLayer>, Vec<ScaledLayer>) {
    let scale = |l: &LayerExport, in_scale: &dyn Fn(usize) -> f64| {
        let b = bound(l);
        let w = l
            .weights
            .iter()
            .enumerate()
            .map(|(k, &v)| v * in_scale(k % l.inputs.max(1)) / b)
            .collect();
        let bias = l.bias.iter().map(|&v| v / b).collect();
        (w, bias)
    };
    let mut prev = 1.0;
    let mut bottom = Vec::new();
    for l in &export.bottom {
        bottom.push(scale(l, &|_| prev));
        prev = bound(l);
    }
    let bw = export.bottom_width;
    let bottom_bound = prev;
    let mut top = Vec::new();
    for (k, l) in export.top.iter().enumerate() {
        let p = prev;
        if k == 0 {
            top.push(scale(l, &|i| if i < bw { bottom_bound } else { 1.0 }));
        } else {
            top.push(scale(l, &|_| p));
        }
        prev = bound(l);
    }
    (bottom, top)
}

/// The transform of one MLP layer with pre-scaled `weights`.
///
/// # Errors
/// [`Error::Ckks`] from the transform builder.
pub fn mlp_transform(
    l: &LayerExport,
    weights: &[f64],
    period: usize,
    slots: usize,
) -> Result<LinearTransform> {
    Ok(LinearTransform::builder(l.outputs, l.inputs, slots)
        .input(InputLayout::Replicated { period })
        .output(OutputLayout::Replicated { period, offset: 0 })
        .baby_step(MLP_BABY_STEP.min(period.min(slots)))
        .build_dense(weights)?)
}

/// The input blocks of each embedding-lookup chunk: consecutive blocks whose compact
/// diagonals (at most `min(P, S)` per block) stay under [`CHUNK_BYTES`].
pub fn embedding_chunks(blocks: usize, period: usize, slots: usize) -> Vec<Range<usize>> {
    let per_block = (period.min(slots) * slots * 8) as u64;
    let per_chunk = usize::try_from((CHUNK_BYTES / per_block.max(1)).max(1)).unwrap_or(1);
    (0..blocks)
        .step_by(per_chunk)
        .map(|s| s..(s + per_chunk).min(blocks))
        .collect()
}

/// The packed lookup product of the input blocks `chunk` (see the module docs). With
/// `shape_only` every (table, block) pair contributes one entry per diagonal it touches,
/// with value 1: the same non-zero diagonals as the real table (unless a real diagonal is
/// exactly zero), without reading it — for plans and symbolic runs.
///
/// # Errors
/// [`Error::Ckks`] from the transform builder.
pub fn embedding_transform(
    model: &Dlrm,
    export: &DlrmExport,
    period: usize,
    slots: usize,
    chunk: Range<usize>,
    shape_only: bool,
) -> Result<LinearTransform> {
    let d = export.embedding_dim;
    let rows = d * model.tables().len();
    let total = usize::try_from(export.layout.total_rows()).unwrap_or(usize::MAX);
    let (c0, c1) = (chunk.start * slots, (chunk.end * slots).min(total));
    let g = period.min(slots);
    let offsets: Vec<usize> = export
        .layout
        .offsets()
        .iter()
        .map(|&o| usize::try_from(o).unwrap_or(usize::MAX))
        .collect();
    let mut entries: Vec<(usize, usize, f64)> = Vec::new();
    let emit = |entries: &mut Vec<(usize, usize, f64)>, t: usize, r: usize, col: usize| {
        for c in 0..d {
            let v = if shape_only {
                1.0
            } else {
                model.tables()[t].value(r, c).unwrap_or(0.0)
            };
            entries.push((t * d + c, col - c0, v));
        }
    };
    for (t, (table, &off)) in model.tables().iter().zip(&offsets).enumerate() {
        let (a, b) = (off.max(c0), (off + table.rows()).min(c1));
        if a >= b {
            continue;
        }
        // Within one block the diagonal index repeats with period g along the columns; the
        // shape needs one period per block the range touches.
        let mut col = a;
        while col < b {
            let block_end = ((col / slots) + 1) * slots;
            let end = b.min(block_end);
            let stop = if shape_only { end.min(col + g) } else { end };
            for c in col..stop {
                emit(&mut entries, t, c - off, c);
            }
            col = end;
        }
    }
    Ok(LinearTransform::builder(rows, c1 - c0, slots)
        .input(InputLayout::Blocks)
        .baby_step(MLP_BABY_STEP.min(g))
        .output(OutputLayout::Replicated {
            period,
            offset: export.bottom_width,
        })
        .data_class(DataClass::PlaintextEmbedding)
        .build(entries)?)
}

/// A lookup chunk's shape: column count and per-block diagonal bitsets.
pub type ChunkShape = (usize, Vec<Vec<u64>>);

/// The shape of the lookup product of `chunk`: its column count and, per input block, the
/// bitset of its non-zero diagonal indices (with every table entry non-zero). Products of
/// equal shape emit equal traces, so shape-only runs build one transform per shape.
pub fn embedding_shape(
    export: &DlrmExport,
    period: usize,
    slots: usize,
    chunk: Range<usize>,
) -> ChunkShape {
    let d = export.embedding_dim;
    let total = usize::try_from(export.layout.total_rows()).unwrap_or(usize::MAX);
    let (c0, c1) = (chunk.start * slots, (chunk.end * slots).min(total));
    let g = period.min(slots);
    let words = g.div_ceil(64);
    let mut sets = vec![vec![0u64; words]; chunk.len()];
    let offset = export.bottom_width;
    for (t, (&off, table)) in export
        .layout
        .offsets()
        .iter()
        .zip(export.layout.tables())
        .enumerate()
    {
        let off = usize::try_from(off).unwrap_or(usize::MAX);
        let len = usize::try_from(table.segment_len()).unwrap_or(usize::MAX);
        let (a, b) = (off.max(c0), off.saturating_add(len).min(c1));
        let mut col = a;
        while col < b {
            let block = (col - c0) / slots;
            let end = b.min(c0 + (block + 1) * slots);
            let (u, v) = ((col - c0) % slots, (end - 1 - c0) % slots + 1);
            if let Some(set) = sets.get_mut(block) {
                for cc in 0..d {
                    let r = t * d + cc;
                    for c_loc in u..v.min(u + g) {
                        let k = (c_loc + 2 * g - (offset + r) % g) % g;
                        set[k / 64] |= 1 << (k % 64);
                    }
                }
            }
            col = end;
        }
    }
    (c1 - c0, sets)
}

/// 5^(r mod S) mod 2N, as `CkksContext::galois_element_for_rotation`.
fn galois_element(r: i64, slots: usize, n: usize) -> u64 {
    let two_n = 2 * n as u64;
    let mut e = r.rem_euclid(slots as i64) as u64;
    let (mut g, mut b) = (1u64, 5u64 % two_n);
    while e > 0 {
        if e & 1 == 1 {
            g = g * b % two_n;
        }
        b = b * b % two_n;
        e >>= 1;
    }
    g
}

/// The bootstrapping circuit of `params` at `slots` slots, with on-the-fly diagonals (no
/// encoding), or `None` when the chain is too short to bootstrap.
///
/// # Errors
/// [`Error::Ckks`] for failures other than a chain too short.
pub fn bootstrapper(
    ctx: Arc<CkksContext>,
    slots: usize,
    storage: DiagonalStorage,
) -> Result<Option<Bootstrapper>> {
    match Bootstrapper::new(ctx, BootstrapConfig::new(slots).with_diagonals(storage)) {
        Ok(b) => Ok(Some(b)),
        Err(helrm_core::Error::BootstrapDepth { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Bytes of the encoded transform diagonals of one bootstrap: the outputs of the `encode`
/// events of a symbolic bootstrap with on-the-fly diagonals.
fn bootstrap_diagonal_bytes(boot: &Bootstrapper, ctx: &Arc<CkksContext>) -> Result<u64> {
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(Tracer::untimed(sink.clone()));
    let mut keygen = helrm_core::ckks::KeyGenerator::with_rng(
        ctx.clone(),
        helrm_core::math::sample::Csprng::from_seed([0; 32]),
    )?;
    let keys = boot.generate_keys(&mut keygen)?;
    let eval = helrm_core::ckks::Evaluator::new(ctx.clone(), Arc::new(keys)).with_tracer(tracer);
    let slots = boot.slots();
    let pt = ctx.encode_real(
        &[0.0],
        Level::new(0),
        ctx.params().default_scale(),
        slots,
        DataClass::Other,
    )?;
    let mut enc = helrm_core::ckks::Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key()?,
        helrm_core::math::sample::Csprng::from_seed([1; 32]),
    );
    let ct = enc.encrypt(&pt)?;
    boot.bootstrap(&eval, &ct)?;
    Ok(sink
        .take()
        .iter()
        .filter(|e| e.op == OpKind::Encode)
        .flat_map(|e| e.outputs.iter().map(|o| o.bytes))
        .sum())
}

/// Plans `model` on the parameter set `params_name`.
///
/// # Errors
/// Transform-building errors; [`Error::NotPolynomial`] for an exact ReLU;
/// [`Error::InvalidParameter`] (`name: "levels"`) for an operation deeper than the chain.
pub fn plan(model: &Dlrm, params: &Params, params_name: &str) -> Result<Plan> {
    let export = model.export()?;
    let (period, slots) = layout(&export, params)?;
    let params_arc = Arc::new(params.clone());
    let sym = CkksContext::new(params_arc, Backend::Symbolic)?;
    let boot = bootstrapper(sym.clone(), slots, DiagonalStorage::OnTheFly)?;
    let top = boot
        .as_ref()
        .map_or(params.max_level().get(), |b| b.output_level().get());
    let q = params.q();
    let delta = params.default_scale();
    let boot_scale = boot.as_ref().map_or(delta, Bootstrapper::output_scale);
    let (sb, st) = scaled_layers(&export);

    let mut level = top;
    let mut scale = delta;
    let mut bootstraps = 0u32;
    let mut packed = 0u32;
    let mut steps = Vec::new();
    let mut rotations: BTreeSet<i64> = BTreeSet::new();
    let mut max_compact = 0u64;

    let layer = |name: String,
                 l: &LayerExport,
                 weights: &[f64],
                 level: &mut usize,
                 scale: &mut f64,
                 rotations: &mut BTreeSet<i64>,
                 max_compact: &mut u64|
     -> Result<PlannedStep> {
        let act = ActivationCircuit::new(&l.activation, &name)?;
        let lt = mlp_transform(l, weights, period, slots)?;
        rotations.extend(lt.rotations());
        let mut ops_spec = vec![(OpStep::Linear, 1u32)];
        ops_spec.extend(act.ops());
        let mut ops = Vec::new();
        let mut step_boots = 0;
        for (j, &(step, levels)) in ops_spec.iter().enumerate() {
            let need = usize::try_from(levels).unwrap_or(usize::MAX);
            if need > top {
                return Err(Error::InvalidParameter {
                    name: "levels",
                    value: f64::from(levels),
                    expected: "operations no deeper than the working chain",
                });
            }
            let mut before = None;
            if *level < need {
                let kind = if j >= 2 && matches!(act, ActivationCircuit::Relu(_)) {
                    BootstrapKind::Packed
                } else {
                    BootstrapKind::Single
                };
                before = Some(kind);
                step_boots += 1;
                *level = top;
                // Both kinds land at the bootstrap's output scale (the packed one unpacks
                // its halved values exactly there).
                *scale = boot_scale;
            }
            let input_level = *level;
            if step == OpStep::Square {
                *scale = *scale * *scale / q.get(input_level).map_or(1.0, |&p| p as f64);
            }
            *level -= need;
            ops.push(PlannedOp {
                step,
                levels,
                input_level,
                output_level: *level,
                output_scale: *scale,
                bootstrap_before: before,
            });
        }
        let input_level = ops.first().map_or(*level, |o| o.input_level);
        let cost = lt.cost(
            params,
            Level::new(input_level.max(1)),
            Hoisting::Single,
            DiagonalMode::PreEncoded,
        )?;
        *max_compact = (*max_compact).max(cost.compact_diagonal_bytes);
        let activation_levels = ops.iter().skip(1).map(|o| o.levels).sum();
        Ok(PlannedStep {
            name,
            rows: lt.rows(),
            cols: lt.cols(),
            input_level,
            output_level: *level,
            activation_levels,
            activation: l.activation.name(),
            bound: bound(l),
            input_ciphertexts: lt.input_ciphertexts(),
            diagonals: lt.nonzero_diagonals(),
            bsgs: lt.bsgs_split(),
            rotations: cost.rotations,
            encoded_diagonal_bytes: cost.encoded_diagonal_bytes,
            compact_diagonal_bytes: cost.compact_diagonal_bytes,
            chunks: 1,
            bootstrap_before: step_boots > 0,
            bootstraps: step_boots,
            ops,
        })
    };
    let count = |s: &PlannedStep, b: &mut u32, p: &mut u32| {
        *b += s.bootstraps;
        *p += s
            .ops
            .iter()
            .filter(|o| o.bootstrap_before == Some(BootstrapKind::Packed))
            .count() as u32;
    };
    for (k, (l, (w, _))) in export.bottom.iter().zip(&sb).enumerate() {
        let s = layer(
            format!("bottom/layer{k}"),
            l,
            w,
            &mut level,
            &mut scale,
            &mut rotations,
            &mut max_compact,
        )?;
        count(&s, &mut bootstraps, &mut packed);
        steps.push(s);
    }
    let sparse_scale = scale;
    let blocks = usize::try_from(export.layout.input_ciphertexts(slots as u64)?).unwrap_or(0);
    let embedding_chunks = if model.tables().is_empty() {
        Vec::new()
    } else {
        embedding_chunks(blocks, period, slots)
    };
    if !embedding_chunks.is_empty() {
        let elevel = Level::new(top.max(1));
        let (mut diagonals, mut rots, mut enc, mut compact) = (0, 0, 0, 0);
        let mut bsgs = (0, 0);
        let mut rows = 0;
        let mut shapes: HashMap<ChunkShape, (Arc<LinearTransform>, LinearCost)> = HashMap::new();
        for chunk in &embedding_chunks {
            let key = embedding_shape(&export, period, slots, chunk.clone());
            let (lt, cost) = match shapes.get(&key) {
                Some(v) => v.clone(),
                None => {
                    let lt = Arc::new(embedding_transform(
                        model,
                        &export,
                        period,
                        slots,
                        chunk.clone(),
                        true,
                    )?);
                    rotations.extend(lt.rotations());
                    let cost =
                        lt.cost(params, elevel, Hoisting::Single, DiagonalMode::PreEncoded)?;
                    shapes.insert(key, (lt.clone(), cost.clone()));
                    (lt, cost)
                }
            };
            diagonals += lt.nonzero_diagonals();
            rots += cost.rotations;
            enc += cost.encoded_diagonal_bytes;
            compact += cost.compact_diagonal_bytes;
            max_compact = max_compact.max(cost.compact_diagonal_bytes);
            if bsgs == (0, 0) {
                bsgs = lt.bsgs_split();
            }
            rows = lt.rows();
        }
        let out = top.saturating_sub(1);
        steps.push(PlannedStep {
            name: "embedding/lookup".to_owned(),
            rows,
            cols: usize::try_from(export.layout.total_rows()).unwrap_or(usize::MAX),
            input_level: top,
            output_level: out,
            activation_levels: 0,
            activation: "none",
            bound: 1.0,
            input_ciphertexts: blocks,
            diagonals,
            bsgs,
            rotations: rots,
            encoded_diagonal_bytes: enc,
            compact_diagonal_bytes: compact,
            chunks: embedding_chunks.len(),
            bootstrap_before: false,
            bootstraps: 0,
            ops: vec![PlannedOp {
                step: OpStep::Linear,
                levels: 1,
                input_level: top,
                output_level: out,
                output_scale: sparse_scale,
                bootstrap_before: None,
            }],
        });
        level = level.min(out);
    }
    for (k, (l, (w, _))) in export.top.iter().zip(&st).enumerate() {
        let s = layer(
            format!("top/layer{k}"),
            l,
            w,
            &mut level,
            &mut scale,
            &mut rotations,
            &mut max_compact,
        )?;
        count(&s, &mut bootstraps, &mut packed);
        steps.push(s);
    }

    let n = params.n();
    let rotations: Vec<i64> = rotations.into_iter().collect();
    let mut galois: BTreeSet<u64> = rotations
        .iter()
        .map(|&r| galois_element(r, slots, n))
        .filter(|&g| g != 1)
        .collect();
    let linear_keys = galois.len() as u64;
    let bootstrap = match (&boot, bootstraps > 0) {
        (Some(b), true) => {
            let elements: Vec<u64> = b.galois_elements()?.iter().map(|g| g.0).collect();
            galois.extend(&elements);
            Some(BootstrapPlan {
                slots,
                depth: b.depth(),
                output_level: b.output_level().get(),
                galois_elements: elements,
                diagonal_bytes: bootstrap_diagonal_bytes(b, &sym)?,
            })
        }
        _ => None,
    };
    let key = params.key_switch_key_bytes(params.max_level())?;
    let evaluation_key_bytes = key * (galois.len() as u64 + 1);
    let bootstrap_key_bytes = key * (galois.len() as u64 - linear_keys);
    let encoded_diagonal_bytes = steps.iter().map(|s| s.encoded_diagonal_bytes).sum();
    let compact_diagonal_bytes = steps.iter().map(|s| s.compact_diagonal_bytes).sum();
    let sparse_ciphertexts = if embedding_chunks.is_empty() {
        0
    } else {
        blocks
    };
    let ct = params.ciphertext_bytes(params.max_level())?;
    let max_rot = steps.iter().map(|s| s.bsgs.0 as u64).max().unwrap_or(0);
    let live = (1 + sparse_ciphertexts as u64 + max_rot + 8) * ct;
    let boot_diag = bootstrap.as_ref().map_or(0, |b| b.diagonal_bytes);
    Ok(Plan {
        config: export.name.clone(),
        params: params_name.to_owned(),
        slots,
        period,
        top_level: top,
        levels_needed: export.depth.total,
        bootstrappable: boot.is_some(),
        bootstraps,
        packed_bootstraps: packed,
        bootstrap,
        steps,
        embedding_chunks,
        rotations,
        galois_elements: galois.into_iter().collect(),
        evaluation_key_bytes,
        bootstrap_key_bytes,
        encoded_diagonal_bytes,
        compact_diagonal_bytes,
        dense_ciphertexts: 1,
        sparse_ciphertexts,
        sparse_scale,
        peak_memory_bytes: evaluation_key_bytes + boot_diag + 2 * max_compact + live,
    })
}

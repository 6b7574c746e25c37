//! The DLRM → CKKS plan: how a trained model maps onto CKKS before anything runs.
//!
//! Layout: every MLP vector lives replicated with one period `P` (the smallest power of two
//! holding the widest MLP vector, the concatenation included), so each layer's output is
//! already the next layer's input and the bottom output (offset 0) and the packed embedding
//! output (offset `bottom_width`) add up to the concatenation with no masking level. The
//! slot count `S` is the smallest power of two `≥ P` that also holds the whole one-hot vector,
//! capped at the parameter set's slot count (longer one-hot vectors use several input
//! ciphertexts). Levels: a dense layer costs 1 (one rescale inside the BSGS product) plus its
//! activation's depth; the embedding lookup costs 1 and is then dropped to the bottom MLP's
//! output level; the top MLP follows. Bootstraps are placed greedily just before the layer
//! that would run out of levels.

use std::collections::BTreeSet;

use helrm_core::circuits::linear::{
    DiagonalMode, Hoisting, InputLayout, LinearTransform, OutputLayout,
};
use helrm_core::ckks::{Level, Params};
use helrm_core::trace::DataClass;
use serde::Serialize;

use crate::dlrm::{Activation, Dlrm, DlrmExport, LayerExport};
use crate::error::{Error, Result};

/// One planned linear step (a dense layer or the packed embedding lookup).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    /// Trace scope of the step (`bottom/layer0`, `embedding/lookup`, `top/layer1`).
    pub name: String,
    /// Matrix rows.
    pub rows: usize,
    /// Matrix columns.
    pub cols: usize,
    /// Level of the inputs.
    pub input_level: usize,
    /// Level after the product and the activation.
    pub output_level: usize,
    /// Levels of the activation (0 for the embedding lookup and the identity).
    pub activation_levels: u32,
    /// Activation name.
    pub activation: &'static str,
    /// Input ciphertexts.
    pub input_ciphertexts: usize,
    /// Non-zero generalised diagonals.
    pub diagonals: usize,
    /// BSGS split `(baby, giant)`.
    pub bsgs: (usize, usize),
    /// Keyed rotations per product.
    pub rotations: u64,
    /// Bytes of the encoded diagonals at the input level.
    pub encoded_diagonal_bytes: u64,
    /// Bytes of the compact diagonals.
    pub compact_diagonal_bytes: u64,
    /// True when a bootstrap runs before this step.
    pub bootstrap_before: bool,
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
    /// Top level of the chain.
    pub top_level: usize,
    /// Levels the model consumes.
    pub levels_needed: u32,
    /// Bootstraps placed (0 when the chain suffices).
    pub bootstraps: u32,
    /// Steps in evaluation order: bottom layers, the embedding lookup, top layers.
    pub steps: Vec<PlannedStep>,
    /// Rotations (slot shifts) the server needs keys for, ascending.
    pub rotations: Vec<i64>,
    /// Galois elements of those rotations (deduplicated).
    pub galois_elements: Vec<u64>,
    /// Bytes of the rotation keys plus the relinearisation key (at the top level).
    pub evaluation_key_bytes: u64,
    /// Bytes of all encoded diagonals if pre-encoded.
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
    /// Peak memory estimate of the server (keys + pre-encoded diagonals + live ciphertexts).
    pub peak_memory_bytes: u64,
}

impl Plan {
    /// Whether the model fits the chain without bootstrapping.
    pub fn fits(&self) -> bool {
        self.bootstraps == 0
    }

    /// Fails with [`Error::NeedsBootstrap`] unless the model fits the chain.
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

/// The linear transforms of a model in the plan's layout.
#[derive(Debug, Clone)]
pub struct Transforms {
    /// Bottom MLP layers.
    pub bottom: Vec<LinearTransform>,
    /// The packed multi-embedding lookup (`None` without tables).
    pub embedding: Option<LinearTransform>,
    /// Top MLP layers.
    pub top: Vec<LinearTransform>,
    /// Slot count.
    pub slots: usize,
    /// MLP period.
    pub period: usize,
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

fn mlp_transform(l: &LayerExport, period: usize, slots: usize) -> Result<LinearTransform> {
    Ok(LinearTransform::builder(l.outputs, l.inputs, slots)
        .input(InputLayout::Replicated { period })
        .output(OutputLayout::Replicated { period, offset: 0 })
        .build_dense(&l.weights)?)
}

/// Builds the transforms of `model` on `params`.
///
/// # Errors
/// [`layout`]'s errors; [`Error::Ckks`] from the transform builder.
pub fn transforms(model: &Dlrm, params: &Params) -> Result<Transforms> {
    let export = model.export()?;
    let (period, slots) = layout(&export, params)?;
    let bottom = export
        .bottom
        .iter()
        .map(|l| mlp_transform(l, period, slots))
        .collect::<Result<Vec<_>>>()?;
    let top = export
        .top
        .iter()
        .map(|l| mlp_transform(l, period, slots))
        .collect::<Result<Vec<_>>>()?;
    let embedding =
        if model.tables().is_empty() {
            None
        } else {
            let d = export.embedding_dim;
            let rows = d * model.tables().len();
            let cols = usize::try_from(export.layout.total_rows()).unwrap_or(usize::MAX);
            let offsets = export.layout.offsets().to_vec();
            let entries = model.tables().iter().zip(offsets).enumerate().flat_map(
                move |(t, (table, off))| {
                    let off = usize::try_from(off).unwrap_or(usize::MAX);
                    (0..table.rows()).flat_map(move |r| {
                        (0..d).map(move |c| (t * d + c, off + r, table.value(r, c).unwrap_or(0.0)))
                    })
                },
            );
            Some(
                LinearTransform::builder(rows, cols, slots)
                    .input(InputLayout::Blocks)
                    .output(OutputLayout::Replicated {
                        period,
                        offset: export.bottom_width,
                    })
                    .data_class(DataClass::PlaintextEmbedding)
                    .build(entries)?,
            )
        };
    Ok(Transforms {
        bottom,
        embedding,
        top,
        slots,
        period,
    })
}

/// Plans `model` on the parameter set `params_name`.
///
/// # Errors
/// [`Error::Ckks`] for an unknown parameter set; [`transforms`]' errors;
/// [`Error::NotPolynomial`] for an exact ReLU.
pub fn plan(model: &Dlrm, params: &Params, params_name: &str) -> Result<Plan> {
    let export = model.export()?;
    let tr = transforms(model, params)?;
    let top_level = params.max_level().get();
    let q = params.q();
    let mut level = top_level as i64;
    let mut scale = params.default_scale();
    let mut bootstraps = 0u32;
    let mut steps = Vec::new();
    let mut step = |name: String,
                    lt: &LinearTransform,
                    act: Option<&Activation>,
                    level: &mut i64,
                    scale: &mut f64,
                    steps: &mut Vec<PlannedStep>|
     -> Result<()> {
        let act_levels = act.map(activation_levels).transpose()?.unwrap_or(0);
        let cost_levels = i64::from(1 + act_levels);
        let mut boot = false;
        if *level < cost_levels {
            bootstraps += 1;
            boot = true;
            *level = top_level as i64;
        }
        let input_level = usize::try_from(*level).unwrap_or(0);
        let cost = lt.cost(
            params,
            Level::new(input_level.max(1)),
            Hoisting::Single,
            DiagonalMode::PreEncoded,
        )?;
        // The linear product keeps the scale; x² squares it and divides by the prime its
        // rescale drops; other polynomials keep it.
        let after_linear = input_level.saturating_sub(1);
        if matches!(act, Some(Activation::Square)) {
            *scale = *scale * *scale / q.get(after_linear).map_or(1.0, |&p| p as f64);
        }
        *level -= cost_levels;
        steps.push(PlannedStep {
            name,
            rows: lt.rows(),
            cols: lt.cols(),
            input_level,
            output_level: usize::try_from(*level).unwrap_or(0),
            activation_levels: act_levels,
            activation: act.map_or("none", Activation::name),
            input_ciphertexts: lt.input_ciphertexts(),
            diagonals: lt.nonzero_diagonals(),
            bsgs: lt.bsgs_split(),
            rotations: cost.rotations,
            encoded_diagonal_bytes: cost.encoded_diagonal_bytes,
            compact_diagonal_bytes: cost.compact_diagonal_bytes,
            bootstrap_before: boot,
        });
        Ok(())
    };
    for (k, (lt, l)) in tr.bottom.iter().zip(&export.bottom).enumerate() {
        step(
            format!("bottom/layer{k}"),
            lt,
            Some(&l.activation),
            &mut level,
            &mut scale,
            &mut steps,
        )?;
    }
    let bottom_level = level;
    let sparse_scale = scale;
    if let Some(lt) = &tr.embedding {
        let mut elevel = top_level as i64;
        let mut escale = sparse_scale;
        step(
            "embedding/lookup".to_owned(),
            lt,
            None,
            &mut elevel,
            &mut escale,
            &mut steps,
        )?;
        level = level.min(elevel).min(bottom_level);
    }
    for (k, (lt, l)) in tr.top.iter().zip(&export.top).enumerate() {
        step(
            format!("top/layer{k}"),
            lt,
            Some(&l.activation),
            &mut level,
            &mut scale,
            &mut steps,
        )?;
    }
    let mut rotations: BTreeSet<i64> = BTreeSet::new();
    for lt in tr.bottom.iter().chain(&tr.top).chain(tr.embedding.iter()) {
        rotations.extend(lt.rotations());
    }
    let rotations: Vec<i64> = rotations.into_iter().collect();
    let mut galois: BTreeSet<u64> = BTreeSet::new();
    let two_n = 2 * params.n() as u64;
    for &r in &rotations {
        // 5^(r mod S) mod 2N, as `CkksContext::galois_element_for_rotation`.
        let mut e = r.rem_euclid(tr.slots as i64) as u64;
        let (mut g, mut b) = (1u64, 5u64 % two_n);
        while e > 0 {
            if e & 1 == 1 {
                g = g * b % two_n;
            }
            b = b * b % two_n;
            e >>= 1;
        }
        if g != 1 {
            galois.insert(g);
        }
    }
    let key = params.key_switch_key_bytes(params.max_level())?;
    let evaluation_key_bytes = key * (galois.len() as u64 + 1);
    let encoded_diagonal_bytes = steps.iter().map(|s| s.encoded_diagonal_bytes).sum();
    let compact_diagonal_bytes = steps.iter().map(|s| s.compact_diagonal_bytes).sum();
    let sparse_ciphertexts = tr.embedding.as_ref().map_or(0, |e| e.input_ciphertexts());
    let ct = params.ciphertext_bytes(params.max_level())?;
    let max_rot = steps.iter().map(|s| s.bsgs.0 as u64).max().unwrap_or(0);
    let live = (1 + sparse_ciphertexts as u64 + max_rot + 4) * ct;
    Ok(Plan {
        config: export.name.clone(),
        params: params_name.to_owned(),
        slots: tr.slots,
        period: tr.period,
        top_level,
        levels_needed: export.depth.total,
        bootstraps,
        steps,
        rotations,
        galois_elements: galois.into_iter().collect(),
        evaluation_key_bytes,
        encoded_diagonal_bytes,
        compact_diagonal_bytes,
        dense_ciphertexts: 1,
        sparse_ciphertexts,
        sparse_scale,
        peak_memory_bytes: evaluation_key_bytes + encoded_diagonal_bytes + live,
    })
}

//! The DLRM: weights, forward pass in `f64`, multiplicative depth, calibration hooks.
//!
//! Storage: dense layers keep `f64` weights (`outputs × inputs`, row-major) and biases;
//! embedding tables keep `f32` expanded rows (row `r` at `weights[r·d .. (r+1)·d]`, rows in the
//! order of [`TableLayout`]'s one-hot segment). `f32` halves the memory of the huge tables
//! (`criteo-full`: 540 M parameters = 2.2 GB; `f64` would be 4.3 GB). Every forward pass widens
//! the stored values exactly to `f64` and computes in `f64`, so the plaintext reference is the
//! same function the encrypted model evaluates (same weights, same polynomials).

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::activation::{Activation, ChebPoly, Composite, CompositeOutput};
use super::calibrate::Calibration;
use super::config::{invalid, DlrmConfig, LayerConfig};
use crate::data::{Dataset, Standardizer};
use crate::embed::{PackedLayout, TableLayout};
use crate::error::{Error, Result};

/// The calibration margin Orion uses: ReLU inputs are pre-scaled by `2 ×` the largest
/// magnitude seen during calibration.
pub const CALIBRATION_MARGIN: f64 = 2.0;

/// One dense layer's parameters: `z = W x + b` (`W` is `outputs × inputs`, row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    inputs: usize,
    outputs: usize,
    weights: Vec<f64>,
    bias: Vec<f64>,
}

impl Linear {
    /// A layer from its parts.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] (`field` = `name.weights` / `name.bias`, or an element of them)
    /// for a wrong length or a non-finite value.
    pub fn from_parts(
        name: &str,
        inputs: usize,
        outputs: usize,
        weights: Vec<f64>,
        bias: Vec<f64>,
    ) -> Result<Self> {
        check_values(&format!("{name}.weights"), inputs * outputs, &weights)?;
        check_values(&format!("{name}.bias"), outputs, &bias)?;
        Ok(Self {
            inputs,
            outputs,
            weights,
            bias,
        })
    }

    /// Input width.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Output width.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// `W`, row-major `outputs × inputs`: `W[o][i] = weights()[o · inputs + i]`.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// `b` (length `outputs`).
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// Mutable `W` (the length is fixed; keep values finite).
    pub fn weights_mut(&mut self) -> &mut [f64] {
        &mut self.weights
    }

    /// Mutable `b`.
    pub fn bias_mut(&mut self) -> &mut [f64] {
        &mut self.bias
    }

    /// `z = W x + b` (`x.len() == inputs`, `z.len() == outputs`).
    pub(crate) fn forward(&self, x: &[f64], z: &mut [f64]) {
        for ((zo, row), b) in z
            .iter_mut()
            .zip(self.weights.chunks_exact(self.inputs))
            .zip(&self.bias)
        {
            *zo = b + dot(row, x);
        }
    }
}

/// One embedding table: its layout and its expanded rows (`f32`).
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingTable {
    layout: TableLayout,
    dim: usize,
    weights: Vec<f32>,
}

impl EmbeddingTable {
    /// A table from its parts.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] (`field` = `name` or an element of it) when `weights` is not
    /// `segment_len × dim` long or holds a non-finite value.
    pub fn from_parts(
        name: &str,
        layout: TableLayout,
        dim: usize,
        weights: Vec<f32>,
    ) -> Result<Self> {
        let rows = usize::try_from(layout.segment_len()).map_err(|_| {
            invalid(
                name,
                "a table that fits in memory",
                &layout.segment_len().to_string(),
            )
        })?;
        let want = rows
            .checked_mul(dim)
            .ok_or_else(|| invalid(name, "a table that fits in memory", &rows.to_string()))?;
        if weights.len() != want {
            return Err(invalid(
                name,
                &format!("{want} values ({rows} rows x {dim})"),
                &weights.len().to_string(),
            ));
        }
        if let Some(i) = weights.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                &format!("{name}[{i}]"),
                "a finite number",
                &weights[i].to_string(),
            ));
        }
        Ok(Self {
            layout,
            dim,
            weights,
        })
    }

    /// The table's layout.
    pub fn layout(&self) -> &TableLayout {
        &self.layout
    }

    /// Embedding dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of expanded rows (= the one-hot segment length).
    pub fn rows(&self) -> usize {
        self.weights.len() / self.dim.max(1)
    }

    /// All expanded rows, row-major (`rows() × dim()`).
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Mutable expanded rows (the length is fixed; keep values finite).
    pub fn weights_mut(&mut self) -> &mut [f32] {
        &mut self.weights
    }

    /// Expanded row `r`, or `None` past the end.
    pub fn row(&self, r: usize) -> Option<&[f32]> {
        self.weights
            .get(r.checked_mul(self.dim)?..r.checked_add(1)?.checked_mul(self.dim)?)
    }

    /// The embedding of `index`: `Σ_{r active} row(r)` (one row full, `ℓ` rows compressed).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`name: "index"`) when `index ≥` the table's cardinality.
    pub fn lookup(&self, index: u64) -> Result<Vec<f64>> {
        let mut rows = Vec::new();
        self.layout.active_rows_into(index, &mut rows)?;
        let mut out = vec![0.0; self.dim];
        self.sum_rows(&rows, &mut out);
        Ok(out)
    }

    /// `out = Σ_{r in rows} row(r)` (rows from the layout, so in range).
    pub(crate) fn sum_rows(&self, rows: &[u64], out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for &r in rows {
            let start = r as usize * self.dim;
            for (o, &w) in out.iter_mut().zip(&self.weights[start..start + self.dim]) {
                *o += f64::from(w);
            }
        }
    }
}

/// Levels each part of the model consumes in an encrypted evaluation.
///
/// Rules: a dense layer costs 1 (plaintext-matrix × ciphertext product, one rescale) plus its
/// activation's [`Activation::depth`]; the packed embedding lookup costs 1; the concatenation
/// is free (outputs placed at their offsets) but its parts must be at the same level, so it
/// sits at `max(bottom, embedding)`; the top MLP follows. `total` is the number of levels a
/// bootstrap-free run needs (`uci`: 6 ≤ the 10 of `helrm-n16-l10`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepthReport {
    /// Levels of each bottom layer (linear + activation).
    pub bottom: Vec<u32>,
    /// Levels of the embedding lookup (1, or 0 without tables).
    pub embedding: u32,
    /// Depth at which the concatenation is available: `max(Σ bottom, embedding)`.
    pub interaction: u32,
    /// Levels of each top layer.
    pub top: Vec<u32>,
    /// Levels of the whole model: `interaction + Σ top`.
    pub total: u32,
}

impl DlrmConfig {
    /// The multiplicative depth of this configuration (see [`DepthReport`]).
    ///
    /// # Errors
    /// [`Error::NotPolynomial`] when a layer uses the exact (training-only) ReLU.
    pub fn depth(&self) -> Result<DepthReport> {
        let layer_depths = |stage: &str, layers: &[LayerConfig]| -> Result<Vec<u32>> {
            layers
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    l.activation
                        .depth()
                        .map(|d| d + 1)
                        .ok_or_else(|| Error::NotPolynomial {
                            layer: format!("{stage}[{i}]"),
                            activation: l.activation.name(),
                        })
                })
                .collect()
        };
        let bottom = layer_depths("bottom", &self.bottom)?;
        let top = layer_depths("top", &self.top)?;
        let embedding = u32::from(!self.cardinalities.is_empty());
        let interaction = bottom.iter().sum::<u32>().max(embedding);
        let total = interaction + top.iter().sum::<u32>();
        Ok(DepthReport {
            bottom,
            embedding,
            interaction,
            top,
            total,
        })
    }
}

/// A DLRM with its weights (see the [module docs](self) and [`DlrmConfig`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Dlrm {
    config: DlrmConfig,
    layout: PackedLayout,
    bottom: Vec<Linear>,
    tables: Vec<EmbeddingTable>,
    top: Vec<Linear>,
    standardizer: Option<Standardizer>,
    calibration: Option<Calibration>,
}

/// Per-row intermediate values of a forward pass (reused across rows).
#[derive(Debug, Clone)]
pub(crate) struct Trace {
    /// Dense input widened to f64.
    pub(crate) input: Vec<f64>,
    /// Pre-activations of each bottom layer.
    pub(crate) bottom_z: Vec<Vec<f64>>,
    /// Outputs of each bottom layer.
    pub(crate) bottom_h: Vec<Vec<f64>>,
    /// Active expanded rows of each table.
    pub(crate) active: Vec<Vec<u64>>,
    /// The concatenation `[bottom | e_1 | … | e_T]`.
    pub(crate) concat: Vec<f64>,
    /// Pre-activations of each top layer.
    pub(crate) top_z: Vec<Vec<f64>>,
    /// Outputs of each top layer (the last one holds the logit).
    pub(crate) top_h: Vec<Vec<f64>>,
}

impl Trace {
    pub(crate) fn new(config: &DlrmConfig) -> Self {
        let widths = |layers: &[LayerConfig]| -> Vec<Vec<f64>> {
            layers.iter().map(|l| vec![0.0; l.outputs]).collect()
        };
        Self {
            input: vec![0.0; config.num_dense],
            bottom_z: widths(&config.bottom),
            bottom_h: widths(&config.bottom),
            active: vec![Vec::new(); config.cardinalities.len()],
            concat: vec![0.0; config.interaction_width()],
            top_z: widths(&config.top),
            top_h: widths(&config.top),
        }
    }
}

impl Dlrm {
    /// A freshly initialised model (seeded, reproducible).
    ///
    /// Initialisation: dense weights `N(0, 2 / (inputs + outputs))` (Xavier normal), biases 0;
    /// embedding rows uniform in `±1/√rows` with `rows` the table's expanded row count (the
    /// DLRM reference initialisation). Each parameter group draws from its own ChaCha8 stream
    /// of `seed`, so tables are initialised in parallel and the result does not depend on the
    /// thread count.
    ///
    /// # Errors
    /// [`DlrmConfig::check`]'s errors; [`Error::InvalidModel`] when a table cannot be
    /// allocated on this platform (`usize` overflow).
    pub fn new(config: DlrmConfig, seed: u64) -> Result<Self> {
        config.check()?;
        let layout = config.layout()?;
        let init_mlp = |layers: &[LayerConfig], stream0: u64| -> Vec<Linear> {
            layers
                .iter()
                .zip(stream0..)
                .map(|(l, stream)| {
                    let mut rng = stream_rng(seed, stream);
                    let std = (2.0 / (l.inputs + l.outputs) as f64).sqrt();
                    Linear {
                        inputs: l.inputs,
                        outputs: l.outputs,
                        weights: (0..l.inputs * l.outputs)
                            .map(|_| std * normal(&mut rng))
                            .collect(),
                        bias: vec![0.0; l.outputs],
                    }
                })
                .collect()
        };
        let bottom = init_mlp(&config.bottom, 1);
        let top = init_mlp(&config.top, 1_000);
        let dim = config.embedding_dim;
        let tables = layout
            .tables()
            .par_iter()
            .enumerate()
            .map(|(t, l)| {
                let rows = usize::try_from(l.segment_len()).ok();
                let len = rows.and_then(|r| r.checked_mul(dim)).ok_or_else(|| {
                    invalid(
                        &format!("tables[{t}]"),
                        "a table that fits in memory",
                        &l.segment_len().to_string(),
                    )
                })?;
                let mut rng = stream_rng(seed, 1_000_000 + t as u64);
                let a = (1.0 / l.segment_len() as f64).sqrt() as f32;
                let weights = (0..len).map(|_| a * uniform_pm1(&mut rng)).collect();
                Ok(EmbeddingTable {
                    layout: *l,
                    dim,
                    weights,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config,
            layout,
            bottom,
            tables,
            top,
            standardizer: None,
            calibration: None,
        })
    }

    /// A model from explicit weights: `bottom` and `top` as `(W, b)` per layer (`W` row-major
    /// `outputs × inputs`), one expanded-row vector per table.
    ///
    /// # Errors
    /// [`DlrmConfig::check`]'s errors; [`Error::InvalidModel`] naming the first wrong field
    /// (`"weights.bottom[1].bias"`, `"weights.tables[3][17]"`, …) for a wrong count or a
    /// non-finite value.
    pub fn from_parts(
        config: DlrmConfig,
        bottom: Vec<(Vec<f64>, Vec<f64>)>,
        tables: Vec<Vec<f32>>,
        top: Vec<(Vec<f64>, Vec<f64>)>,
    ) -> Result<Self> {
        config.check()?;
        let layout = config.layout()?;
        let build = |stage: &str, cfg: &[LayerConfig], parts: Vec<(Vec<f64>, Vec<f64>)>| {
            if parts.len() != cfg.len() {
                return Err(invalid(
                    &format!("weights.{stage}"),
                    &format!("{} layers", cfg.len()),
                    &parts.len().to_string(),
                ));
            }
            cfg.iter()
                .zip(parts)
                .enumerate()
                .map(|(i, (l, (w, b)))| {
                    Linear::from_parts(&format!("weights.{stage}[{i}]"), l.inputs, l.outputs, w, b)
                })
                .collect::<Result<Vec<_>>>()
        };
        let bottom = build("bottom", &config.bottom, bottom)?;
        let top = build("top", &config.top, top)?;
        if tables.len() != layout.len() {
            return Err(invalid(
                "weights.tables",
                &format!("{} tables", layout.len()),
                &tables.len().to_string(),
            ));
        }
        let tables = layout
            .tables()
            .iter()
            .zip(tables)
            .enumerate()
            .map(|(t, (l, w))| {
                EmbeddingTable::from_parts(
                    &format!("weights.tables[{t}]"),
                    *l,
                    config.embedding_dim,
                    w,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config,
            layout,
            bottom,
            tables,
            top,
            standardizer: None,
            calibration: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DlrmConfig {
        &self.config
    }

    /// The packed one-hot layout of the tables.
    pub fn layout(&self) -> &PackedLayout {
        &self.layout
    }

    /// Bottom MLP layers.
    pub fn bottom(&self) -> &[Linear] {
        &self.bottom
    }

    /// Top MLP layers.
    pub fn top(&self) -> &[Linear] {
        &self.top
    }

    /// Embedding tables.
    pub fn tables(&self) -> &[EmbeddingTable] {
        &self.tables
    }

    /// Mutable bottom layers (shapes fixed).
    pub fn bottom_mut(&mut self) -> &mut [Linear] {
        &mut self.bottom
    }

    /// Mutable top layers (shapes fixed).
    pub fn top_mut(&mut self) -> &mut [Linear] {
        &mut self.top
    }

    /// Mutable tables (shapes fixed).
    pub fn tables_mut(&mut self) -> &mut [EmbeddingTable] {
        &mut self.tables
    }

    /// The dense-feature standardizer clients must apply before inference, if any.
    pub fn standardizer(&self) -> Option<&Standardizer> {
        self.standardizer.as_ref()
    }

    /// Attaches (or removes) the dense-feature standardizer stored with the model.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (`what: "standardizer width"`) when its width is not
    /// `num_dense`.
    pub fn set_standardizer(&mut self, s: Option<Standardizer>) -> Result<()> {
        if let Some(s) = &s {
            if s.width() != self.config.num_dense {
                return Err(Error::ShapeMismatch {
                    what: "standardizer width",
                    expected: self.config.num_dense,
                    found: s.width(),
                });
            }
        }
        self.standardizer = s;
        Ok(())
    }

    /// The value ranges recorded by [`Dlrm::calibrate`], if any.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// Attaches (or removes) calibration ranges.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] (`field: "calibration…"`) when the layer or table counts differ
    /// from the model's.
    pub fn set_calibration(&mut self, c: Option<Calibration>) -> Result<()> {
        if let Some(c) = &c {
            c.check_shape(self.bottom.len(), self.tables.len(), self.top.len())?;
        }
        self.calibration = c;
        Ok(())
    }

    /// Total trainable parameters (MLPs + expanded embedding rows).
    pub fn parameters(&self) -> u64 {
        self.config.mlp_parameters() + self.layout.parameters(self.config.embedding_dim)
    }

    /// The multiplicative depth (see [`DepthReport`]).
    ///
    /// # Errors
    /// [`Error::NotPolynomial`] while a layer uses the exact ReLU.
    pub fn depth(&self) -> Result<DepthReport> {
        self.config.depth()
    }

    /// Checks that `data` fits this model: `num_dense` dense features and one sparse feature
    /// per table with the table's cardinality.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (`what`: `"dense features"`, `"sparse features"` or
    /// `"table cardinality"`).
    pub fn check_dataset(&self, data: &Dataset) -> Result<()> {
        if data.num_dense() != self.config.num_dense {
            return Err(Error::ShapeMismatch {
                what: "dense features",
                expected: self.config.num_dense,
                found: data.num_dense(),
            });
        }
        if data.num_sparse() != self.tables.len() {
            return Err(Error::ShapeMismatch {
                what: "sparse features",
                expected: self.tables.len(),
                found: data.num_sparse(),
            });
        }
        for (spec, &k) in data.sparse_specs().iter().zip(&self.config.cardinalities) {
            if spec.cardinality != k {
                return Err(Error::ShapeMismatch {
                    what: "table cardinality",
                    expected: usize::try_from(k).unwrap_or(usize::MAX),
                    found: usize::try_from(spec.cardinality).unwrap_or(usize::MAX),
                });
            }
        }
        Ok(())
    }

    /// The logit of one row (dense features already preprocessed as the model expects).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for wrong widths; [`Error::IndexOutOfRange`] (`row: 0`) for an
    /// index not below its table's cardinality.
    pub fn logit(&self, dense: &[f32], sparse: &[u32]) -> Result<f64> {
        if dense.len() != self.config.num_dense {
            return Err(Error::ShapeMismatch {
                what: "dense features",
                expected: self.config.num_dense,
                found: dense.len(),
            });
        }
        if sparse.len() != self.tables.len() {
            return Err(Error::ShapeMismatch {
                what: "sparse features",
                expected: self.tables.len(),
                found: sparse.len(),
            });
        }
        for (feature, (&index, &k)) in sparse.iter().zip(&self.config.cardinalities).enumerate() {
            if u64::from(index) >= k {
                return Err(Error::IndexOutOfRange {
                    row: 0,
                    feature,
                    index,
                    cardinality: k,
                });
            }
        }
        let mut trace = Trace::new(&self.config);
        Ok(self.forward(dense, sparse, &mut trace))
    }

    /// The logits of every row of `data`, in row order (rows in parallel; the result does not
    /// depend on the thread count).
    ///
    /// # Errors
    /// [`Dlrm::check_dataset`]'s errors.
    pub fn predict_logits(&self, data: &Dataset) -> Result<Vec<f64>> {
        self.check_dataset(data)?;
        let (nd, ns) = (data.num_dense(), data.num_sparse());
        let rows: Vec<usize> = (0..data.len()).collect();
        Ok(rows
            .par_chunks(64)
            .flat_map_iter(|chunk| {
                let mut trace = Trace::new(&self.config);
                chunk
                    .iter()
                    .map(|&i| {
                        let dense = &data.dense()[i * nd..(i + 1) * nd];
                        let sparse = &data.sparse()[i * ns..(i + 1) * ns];
                        self.forward(dense, sparse, &mut trace)
                    })
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    /// Replaces every exact ReLU by a composite ReLU built from `stages` in the ReLU form
    /// `output` (`x · (1 + sign(x / B)) / 2` or `x · step(x / B)`), with
    /// `B = margin ×` the largest pre-activation magnitude the calibration saw in that layer
    /// (1 if it saw only zeros). Returns how many layers changed.
    ///
    /// This is the hook for `helrm_core::circuits::activation::CompositeRelu`: convert its
    /// stages to [`ChebPoly`] and pass [`CompositeOutput::ReluFromStep`]; use
    /// [`CALIBRATION_MARGIN`] (2, as Orion does) for `margin`.
    ///
    /// # Errors
    /// [`Error::MissingCalibration`] when the model has no calibration;
    /// [`Error::InvalidParameter`] for no stages, a margin that is not finite and positive, or
    /// `output` = [`CompositeOutput::Value`] (`name: "output"`, not a ReLU form).
    pub fn relu_to_composite(
        &mut self,
        stages: &[ChebPoly],
        output: CompositeOutput,
        margin: f64,
    ) -> Result<usize> {
        let Some(cal) = &self.calibration else {
            return Err(Error::MissingCalibration {
                what: "relu_to_composite",
            });
        };
        if !(margin.is_finite() && margin > 0.0) {
            return Err(Error::InvalidParameter {
                name: "margin",
                value: margin,
                expected: "a finite positive margin",
            });
        }
        if !output.is_relu() {
            return Err(Error::InvalidParameter {
                name: "output",
                value: 0.0,
                expected: "a ReLU output form (relu_from_sign or relu_from_step)",
            });
        }
        let mut changed = 0;
        for (layers, ranges) in [
            (&mut self.config.bottom, &cal.bottom),
            (&mut self.config.top, &cal.top),
        ] {
            for (l, r) in layers.iter_mut().zip(ranges) {
                if l.activation == Activation::Relu {
                    let m = r.pre_activation.abs_max();
                    let bound = if m > 0.0 { margin * m } else { 1.0 };
                    l.activation =
                        Activation::Composite(Composite::new(stages.to_vec(), bound, output)?);
                    changed += 1;
                }
            }
        }
        Ok(changed)
    }

    /// As [`Dlrm::relu_to_composite`] with the same pre-scaling bound `bound` in every layer
    /// and no calibration needed: for plans and symbolic traces of untrained models, whose
    /// values do not matter. Returns how many layers changed.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no stages, a `bound` that is not finite and positive,
    /// or `output` = [`CompositeOutput::Value`].
    pub fn relu_to_composite_with_bound(
        &mut self,
        stages: &[ChebPoly],
        output: CompositeOutput,
        bound: f64,
    ) -> Result<usize> {
        if !output.is_relu() {
            return Err(Error::InvalidParameter {
                name: "output",
                value: 0.0,
                expected: "a ReLU output form (relu_from_sign or relu_from_step)",
            });
        }
        let mut changed = 0;
        for l in self
            .config
            .bottom
            .iter_mut()
            .chain(self.config.top.iter_mut())
        {
            if l.activation == Activation::Relu {
                l.activation =
                    Activation::Composite(Composite::new(stages.to_vec(), bound, output)?);
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Forward pass of one row into `trace`; returns the logit. The caller guarantees widths
    /// and index ranges (checked by [`Dlrm::check_dataset`] / [`Dlrm::logit`]).
    pub(crate) fn forward(&self, dense: &[f32], sparse: &[u32], trace: &mut Trace) -> f64 {
        for (x, &d) in trace.input.iter_mut().zip(dense) {
            *x = f64::from(d);
        }
        run_mlp(
            &self.bottom,
            &self.config.bottom,
            &trace.input,
            &mut trace.bottom_z,
            &mut trace.bottom_h,
        );
        let bw = self.config.bottom_width();
        let bottom_out = trace.bottom_h.last().unwrap_or(&trace.input);
        trace.concat[..bw].copy_from_slice(bottom_out);
        let d = self.config.embedding_dim;
        for (t, ((table, &index), active)) in self
            .tables
            .iter()
            .zip(sparse)
            .zip(trace.active.iter_mut())
            .enumerate()
        {
            // The caller checked index < cardinality, so this cannot fail; on a broken
            // invariant the row contributes nothing rather than panicking.
            if table
                .layout
                .active_rows_into(u64::from(index), active)
                .is_err()
            {
                active.clear();
            }
            let start = bw + t * d;
            table.sum_rows(active, &mut trace.concat[start..start + d]);
        }
        run_mlp(
            &self.top,
            &self.config.top,
            &trace.concat,
            &mut trace.top_z,
            &mut trace.top_h,
        );
        trace
            .top_h
            .last()
            .and_then(|h| h.first())
            .copied()
            .unwrap_or(0.0)
    }
}

/// Runs an MLP: `z_l = W_l h_{l−1} + b_l`, `h_l = act_l(z_l)`.
fn run_mlp(
    layers: &[Linear],
    cfg: &[LayerConfig],
    input: &[f64],
    z: &mut [Vec<f64>],
    h: &mut [Vec<f64>],
) {
    for l in 0..layers.len() {
        let (done, rest) = h.split_at_mut(l);
        let x = if l == 0 { input } else { &done[l - 1] };
        layers[l].forward(x, &mut z[l]);
        let act = &cfg[l].activation;
        for (hv, &zv) in rest[0].iter_mut().zip(&z[l]) {
            *hv = act.eval(zv);
        }
    }
}

/// Dot product with four fixed partial sums (deterministic, vectorisable).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        s[0] += x[0] * y[0];
        s[1] += x[1] * y[1];
        s[2] += x[2] * y[2];
        s[3] += x[3] * y[3];
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

fn check_values(field: &str, len: usize, values: &[f64]) -> Result<()> {
    if values.len() != len {
        return Err(invalid(
            field,
            &format!("{len} values"),
            &values.len().to_string(),
        ));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(invalid(
            &format!("{field}[{i}]"),
            "a finite number",
            &values[i].to_string(),
        ));
    }
    Ok(())
}

/// ChaCha8 keyed by `seed`, on stream `stream`.
pub(crate) fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Uniform in `[−1, 1)` with 24 random bits.
fn uniform_pm1(rng: &mut impl RngCore) -> f32 {
    (rng.next_u32() >> 8) as f32 * (2.0 / (1u32 << 24) as f32) - 1.0
}

/// Standard normal (Box–Muller on 53-bit uniforms).
fn normal(rng: &mut impl RngCore) -> f64 {
    let unit = |r: &mut dyn RngCore| (r.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    let u1 = 1.0 - unit(rng);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

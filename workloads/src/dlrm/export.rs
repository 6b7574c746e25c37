//! What the encrypted pipeline needs from a trained model, in `f64`: every dense layer's
//! matrix and bias, the activation list, the calibrated ranges, the packed table layout and
//! the multiplicative depth. Embedding rows are read from the model's tables directly
//! ([`crate::dlrm::EmbeddingTable::value`], [`crate::dlrm::EmbeddingTable::row`]) so that
//! 44 M-parameter tables are never copied.

use serde::Serialize;

use super::activation::Activation;
use super::calibrate::{LayerRanges, ValueRange};
use super::model::{DepthReport, Dlrm, EmbeddingTable, CALIBRATION_MARGIN};
use crate::embed::PackedLayout;
use crate::error::Result;

/// Which MLP a layer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MlpStage {
    /// The bottom MLP (dense features).
    Bottom,
    /// The top MLP (after the concatenation).
    Top,
}

/// One dense layer for the encrypted evaluation: `y = act(W x + b)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerExport {
    /// Bottom or top MLP.
    pub stage: MlpStage,
    /// Position within its MLP.
    pub index: usize,
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// `W`, row-major `outputs × inputs`.
    pub weights: Vec<f64>,
    /// `b`.
    pub bias: Vec<f64>,
    /// The activation (always a polynomial here).
    pub activation: Activation,
    /// Levels this layer consumes (1 + the activation's depth).
    pub depth: u32,
    /// Observed ranges, when the model is calibrated.
    pub ranges: Option<LayerRanges>,
}

impl LayerExport {
    /// `W[o][i]`, or `None` out of range.
    pub fn weight(&self, o: usize, i: usize) -> Option<f64> {
        if i >= self.inputs {
            return None;
        }
        self.weights
            .get(o.checked_mul(self.inputs)?.checked_add(i)?)
            .copied()
    }
}

/// A model ready for the DLRM → CKKS plan (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DlrmExport {
    /// Configuration name.
    pub name: String,
    /// Dense input width.
    pub num_dense: usize,
    /// Width of the bottom MLP output (slots `0 … bottom_width − 1` of the concatenation).
    pub bottom_width: usize,
    /// Embedding dimension: table `t` lands at slots `bottom_width + t·d …`.
    pub embedding_dim: usize,
    /// Bottom MLP layers.
    pub bottom: Vec<LayerExport>,
    /// Top MLP layers (the last outputs the logit).
    pub top: Vec<LayerExport>,
    /// Packed one-hot layout of the tables.
    pub layout: PackedLayout,
    /// Observed range of each table's embedding output, when calibrated.
    pub embedding_ranges: Option<Vec<ValueRange>>,
    /// Rows the calibration saw (0 when uncalibrated).
    pub calibration_samples: usize,
    /// The margin to apply to calibrated bounds ([`CALIBRATION_MARGIN`]).
    pub calibration_margin: f64,
    /// Multiplicative depth.
    pub depth: DepthReport,
}

impl DlrmExport {
    /// The activations in evaluation order: bottom layers, then top layers.
    pub fn activations(&self) -> Vec<&Activation> {
        self.bottom
            .iter()
            .chain(&self.top)
            .map(|l| &l.activation)
            .collect()
    }
}

impl EmbeddingTable {
    /// Expanded row `r`, column `c` widened to `f64`, or `None` out of range.
    pub fn value(&self, r: usize, c: usize) -> Option<f64> {
        if c >= self.dim() {
            return None;
        }
        self.row(r).map(|row| f64::from(row[c]))
    }
}

impl Dlrm {
    /// The encrypted-pipeline view of this model (see [`DlrmExport`]).
    ///
    /// # Errors
    /// [`crate::Error::NotPolynomial`] while a layer still uses the exact ReLU (replace it first with
    /// [`Dlrm::relu_to_composite`]).
    pub fn export(&self) -> Result<DlrmExport> {
        let depth = self.depth()?;
        let cal = self.calibration();
        let cfg = self.config();
        let layers = |stage: MlpStage| -> Vec<LayerExport> {
            let (ls, cs, ds, rs) = match stage {
                MlpStage::Bottom => (
                    self.bottom(),
                    &cfg.bottom,
                    &depth.bottom,
                    cal.map(|c| &c.bottom),
                ),
                MlpStage::Top => (self.top(), &cfg.top, &depth.top, cal.map(|c| &c.top)),
            };
            ls.iter()
                .zip(cs)
                .zip(ds)
                .enumerate()
                .map(|(index, ((l, c), &d))| LayerExport {
                    stage,
                    index,
                    inputs: l.inputs(),
                    outputs: l.outputs(),
                    weights: l.weights().to_vec(),
                    bias: l.bias().to_vec(),
                    activation: c.activation.clone(),
                    depth: d,
                    ranges: rs.and_then(|r| r.get(index).copied()),
                })
                .collect()
        };
        Ok(DlrmExport {
            name: cfg.name.clone(),
            num_dense: cfg.num_dense,
            bottom_width: cfg.bottom_width(),
            embedding_dim: cfg.embedding_dim,
            bottom: layers(MlpStage::Bottom),
            top: layers(MlpStage::Top),
            layout: self.layout().clone(),
            embedding_ranges: cal.map(|c| c.embeddings.clone()),
            calibration_samples: cal.map_or(0, |c| c.samples),
            calibration_margin: CALIBRATION_MARGIN,
            depth,
        })
    }
}

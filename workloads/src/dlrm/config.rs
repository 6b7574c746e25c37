//! DLRM configurations: layer sizes, activations, tables and their compression; named presets.
//!
//! A [`DlrmConfig`] is plain data (serde, unknown keys rejected) checked by
//! [`DlrmConfig::check`]. The model it describes:
//!
//! ```text
//! dense (num_dense) ─ bottom MLP ─┐
//! sparse index t ─ table t (full or compressed) ─ e_t ─┤ concat [bottom | e_1 | … | e_T] ─ top MLP ─ logit
//! ```
//!
//! Named presets ([`DlrmConfig::named`], [`CONFIG_NAMES`]):
//! - `uci`: UCI Heart — 5 continuous features through a 5-8-4 bottom MLP (x² after the first
//!   layer), the 8 categorical attributes as full tables of dimension 4 (3–5 rows each),
//!   top 36-16-1 with x² after the first layer. Depth 6 (≤ 8 levels at `helrm-n16-l10`, no
//!   bootstrap; see [`crate::dlrm::DepthReport`]).
//! - `criteo`: HE-LRM's Criteo model — bottom 13-512-256-64-16, 26 tables of dimension 16 on
//!   the real Kaggle cardinalities, compressed in base 4 above 20,000 rows (Σ rows 47,746),
//!   top 432-512-256-1, ReLU after every bottom layer and every top layer but the last.
//! - `criteo-44m`: the same network with only the four largest tables compressed (base 4,
//!   threshold 5,000,000), 22 full: Σ rows 2,772,096, ≈ 44.35 M embedding parameters.
//! - `criteo-full`: no compression: 33,762,577 rows, 540 M embedding parameters (2.2 GB of
//!   `f32`) — for the full-vs-compressed comparison on the command line, not for tests.

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use crate::data::uci::UCI_CATEGORICAL;
use crate::data::CRITEO_KAGGLE_CARDINALITIES;
use crate::embed::{CompressionPolicy, PackedLayout};
use crate::error::{Error, Result};

/// Names accepted by [`DlrmConfig::named`].
pub const CONFIG_NAMES: [&str; 4] = ["uci", "criteo", "criteo-44m", "criteo-full"];

/// One dense layer: `y = act(W x + b)` with `W` of `outputs × inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation applied to `W x + b`.
    pub activation: Activation,
}

impl LayerConfig {
    /// A layer `inputs → outputs` with `activation`.
    pub fn new(inputs: usize, outputs: usize, activation: Activation) -> Self {
        Self {
            inputs,
            outputs,
            activation,
        }
    }
}

/// A whole DLRM's shape (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlrmConfig {
    /// Configuration name (`"uci"`, `"criteo"`, …).
    pub name: String,
    /// Number of dense features (input width of the bottom MLP).
    pub num_dense: usize,
    /// Bottom MLP layers (may be empty: dense features then go straight to the concatenation).
    pub bottom: Vec<LayerConfig>,
    /// Embedding dimension `d` of every table.
    pub embedding_dim: usize,
    /// Cardinality of each table (one per sparse feature, in column order).
    pub cardinalities: Vec<u64>,
    /// Which tables are digit-compressed (`None`: all full).
    pub compression: Option<CompressionPolicy>,
    /// Top MLP layers; the first takes the concatenation, the last outputs the logit.
    pub top: Vec<LayerConfig>,
}

/// Builds an MLP `sizes[0] → sizes[1] → …` with `hidden` after every layer and `last` after
/// the final one.
pub fn mlp(sizes: &[usize], hidden: &Activation, last: &Activation) -> Vec<LayerConfig> {
    let n = sizes.len().saturating_sub(1);
    (0..n)
        .map(|i| {
            let act = if i + 1 == n { last } else { hidden };
            LayerConfig::new(sizes[i], sizes[i + 1], act.clone())
        })
        .collect()
}

impl DlrmConfig {
    /// The named preset `name` (one of [`CONFIG_NAMES`]).
    ///
    /// # Errors
    /// [`Error::UnknownConfig`] for any other name.
    pub fn named(name: &str) -> Result<Self> {
        match name {
            "uci" => Ok(Self::uci()),
            "criteo" => Ok(Self::criteo_like(
                "criteo",
                &[512, 256, 64],
                16,
                &[512, 256],
                &CRITEO_KAGGLE_CARDINALITIES,
                Some(CompressionPolicy::HE_LRM),
                &Activation::Relu,
            )),
            "criteo-44m" => Ok(Self::criteo_like(
                "criteo-44m",
                &[512, 256, 64],
                16,
                &[512, 256],
                &CRITEO_KAGGLE_CARDINALITIES,
                // Between the 5th (2,202,608) and 4th (5,461,306) largest Kaggle tables.
                Some(CompressionPolicy {
                    base: 4,
                    threshold: 5_000_000,
                }),
                &Activation::Relu,
            )),
            "criteo-full" => Ok(Self::criteo_like(
                "criteo-full",
                &[512, 256, 64],
                16,
                &[512, 256],
                &CRITEO_KAGGLE_CARDINALITIES,
                None,
                &Activation::Relu,
            )),
            _ => Err(Error::UnknownConfig {
                name: name.to_owned(),
                known: CONFIG_NAMES.join(", "),
            }),
        }
    }

    /// The `uci` preset (see the module docs).
    pub fn uci() -> Self {
        let dim = 4;
        let cardinalities: Vec<u64> = UCI_CATEGORICAL.iter().map(|c| c.cardinality()).collect();
        let concat = 4 + dim * cardinalities.len();
        Self {
            name: "uci".to_owned(),
            num_dense: 5,
            bottom: mlp(&[5, 8, 4], &Activation::Square, &Activation::Identity),
            embedding_dim: dim,
            cardinalities,
            compression: None,
            top: mlp(&[concat, 16, 1], &Activation::Square, &Activation::Identity),
        }
    }

    /// A Criteo-shaped DLRM: bottom `13 → bottom_hidden… → dim`, one table of dimension `dim`
    /// per cardinality, top `(dim · (T + 1)) → top_hidden… → 1`, `hidden` after every bottom
    /// layer and every top layer but the last (HE-LRM's shape with `[512, 256, 64]`, 16,
    /// `[512, 256]`).
    pub fn criteo_like(
        name: &str,
        bottom_hidden: &[usize],
        dim: usize,
        top_hidden: &[usize],
        cardinalities: &[u64],
        compression: Option<CompressionPolicy>,
        hidden: &Activation,
    ) -> Self {
        let mut bottom_sizes = vec![crate::data::criteo::CRITEO_NUM_DENSE];
        bottom_sizes.extend_from_slice(bottom_hidden);
        bottom_sizes.push(dim);
        let mut top_sizes = vec![dim * (cardinalities.len() + 1)];
        top_sizes.extend_from_slice(top_hidden);
        top_sizes.push(1);
        Self {
            name: name.to_owned(),
            num_dense: crate::data::criteo::CRITEO_NUM_DENSE,
            bottom: mlp(&bottom_sizes, hidden, hidden),
            embedding_dim: dim,
            cardinalities: cardinalities.to_vec(),
            compression,
            top: mlp(&top_sizes, hidden, &Activation::Identity),
        }
    }

    /// Width of the bottom MLP's output (`num_dense` when there is no bottom MLP).
    pub fn bottom_width(&self) -> usize {
        self.bottom.last().map_or(self.num_dense, |l| l.outputs)
    }

    /// Width of the concatenation `[bottom | e_1 | … | e_T]`.
    pub fn interaction_width(&self) -> usize {
        self.bottom_width() + self.embedding_dim * self.cardinalities.len()
    }

    /// The packed one-hot layout of the tables under this configuration's compression.
    ///
    /// # Errors
    /// [`PackedLayout::from_policy`]'s errors.
    pub fn layout(&self) -> Result<PackedLayout> {
        PackedLayout::from_policy(&self.cardinalities, self.compression.as_ref())
    }

    /// Trainable parameters in the MLPs (weights and biases).
    pub fn mlp_parameters(&self) -> u64 {
        self.bottom
            .iter()
            .chain(&self.top)
            .map(|l| (l.inputs as u64 + 1) * l.outputs as u64)
            .sum()
    }

    /// Checks every invariant: widths chain from `num_dense` through the bottom MLP, the top
    /// MLP starts at [`DlrmConfig::interaction_width`] and ends in one output, no width is 0,
    /// tables have `embedding_dim ≥ 1` and cardinalities in `[1, 2^32]`, the compression base is
    /// at least 2.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the field (`"bottom[1].inputs"`, `"top"`, …).
    pub fn check(&self) -> Result<()> {
        check_mlp("bottom", &self.bottom, self.num_dense)?;
        if self.top.is_empty() {
            return Err(invalid("top", "at least one layer", "none"));
        }
        check_mlp("top", &self.top, self.interaction_width())?;
        let last = self.top.len() - 1;
        if self.top[last].outputs != 1 {
            return Err(invalid(
                &format!("top[{last}].outputs"),
                "1 (the logit)",
                &self.top[last].outputs.to_string(),
            ));
        }
        if !self.cardinalities.is_empty() && self.embedding_dim == 0 {
            return Err(invalid("embedding_dim", "at least 1", "0"));
        }
        for (t, &k) in self.cardinalities.iter().enumerate() {
            if k == 0 || k > 1u64 << 32 {
                return Err(invalid(
                    &format!("cardinalities[{t}]"),
                    "a table size in [1, 2^32]",
                    &k.to_string(),
                ));
            }
        }
        if let Some(p) = &self.compression {
            if p.base < 2 {
                return Err(invalid(
                    "compression.base",
                    "at least 2",
                    &p.base.to_string(),
                ));
            }
        }
        Ok(())
    }
}

fn check_mlp(name: &str, layers: &[LayerConfig], inputs: usize) -> Result<()> {
    let mut width = inputs;
    for (i, l) in layers.iter().enumerate() {
        if l.inputs != width {
            return Err(invalid(
                &format!("{name}[{i}].inputs"),
                &width.to_string(),
                &l.inputs.to_string(),
            ));
        }
        if l.inputs == 0 || l.outputs == 0 {
            return Err(invalid(
                &format!("{name}[{i}]"),
                "non-zero widths",
                &format!("{} -> {}", l.inputs, l.outputs),
            ));
        }
        width = l.outputs;
    }
    Ok(())
}

/// An [`Error::InvalidModel`].
pub(crate) fn invalid(field: &str, expected: &str, found: &str) -> Error {
    Error::InvalidModel {
        field: field.to_owned(),
        expected: expected.to_owned(),
        found: found.to_owned(),
    }
}

//! Value ranges observed on data: the calibration the encrypted pipeline uses to pre-scale
//! polynomial activations into their intervals (Orion's approach, with a margin of 2).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::invalid;
use super::model::{Dlrm, Trace};
use crate::data::Dataset;
use crate::error::Result;

/// The smallest and largest value seen (`min > max` when nothing was seen).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueRange {
    /// Smallest value seen.
    pub min: f64,
    /// Largest value seen.
    pub max: f64,
}

impl Default for ValueRange {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl ValueRange {
    /// The range of no values (`min = +∞`, `max = −∞`); serialised files never hold it for a
    /// calibration over at least one row.
    pub const EMPTY: Self = Self {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    /// True when no value was seen.
    pub fn is_empty(&self) -> bool {
        self.min > self.max
    }

    /// Widens the range to include `v`.
    pub fn include(&mut self, v: f64) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Widens the range to include every value of `vs`.
    pub fn include_all(&mut self, vs: &[f64]) {
        vs.iter().for_each(|&v| self.include(v));
    }

    /// The union of two ranges.
    pub fn merge(self, other: Self) -> Self {
        Self {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    /// `max(|min|, |max|)`, 0 for an empty range.
    pub fn abs_max(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.min.abs().max(self.max.abs())
        }
    }

    /// The symmetric bound `margin × abs_max()` used to pre-scale into `[−1, 1]`.
    pub fn bound(&self, margin: f64) -> f64 {
        margin * self.abs_max()
    }
}

/// Ranges of one dense layer: its input, its pre-activation `W x + b`, its output.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerRanges {
    /// Values entering the layer.
    pub input: ValueRange,
    /// `W x + b`, the activation's input (what pre-scaling must cover).
    pub pre_activation: ValueRange,
    /// The activation's output.
    pub output: ValueRange,
}

/// Per-layer value ranges of a model over a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Rows the ranges were measured on.
    pub samples: usize,
    /// One entry per bottom layer.
    pub bottom: Vec<LayerRanges>,
    /// Range of each table's embedding outputs.
    pub embeddings: Vec<ValueRange>,
    /// One entry per top layer.
    pub top: Vec<LayerRanges>,
}

impl Calibration {
    fn empty(bottom: usize, tables: usize, top: usize) -> Self {
        Self {
            samples: 0,
            bottom: vec![LayerRanges::default(); bottom],
            embeddings: vec![ValueRange::EMPTY; tables],
            top: vec![LayerRanges::default(); top],
        }
    }

    fn merge(mut self, other: &Self) -> Self {
        self.samples += other.samples;
        let merge_layers = |a: &mut [LayerRanges], b: &[LayerRanges]| {
            for (x, y) in a.iter_mut().zip(b) {
                x.input = x.input.merge(y.input);
                x.pre_activation = x.pre_activation.merge(y.pre_activation);
                x.output = x.output.merge(y.output);
            }
        };
        merge_layers(&mut self.bottom, &other.bottom);
        merge_layers(&mut self.top, &other.top);
        for (x, y) in self.embeddings.iter_mut().zip(&other.embeddings) {
            *x = x.merge(*y);
        }
        self
    }

    /// Checks the layer and table counts against a model's.
    ///
    /// # Errors
    /// [`crate::Error::InvalidModel`] (`field: "calibration.bottom"`, `…embeddings`,
    /// `…top`).
    pub fn check_shape(&self, bottom: usize, tables: usize, top: usize) -> Result<()> {
        for (field, want, got) in [
            ("calibration.bottom", bottom, self.bottom.len()),
            ("calibration.embeddings", tables, self.embeddings.len()),
            ("calibration.top", top, self.top.len()),
        ] {
            if want != got {
                return Err(invalid(field, &format!("{want} entries"), &got.to_string()));
            }
        }
        Ok(())
    }
}

impl Dlrm {
    /// Measures every layer's input, pre-activation and output range (and each table's
    /// embedding range) over all rows of `data` with the current weights. Rows run in
    /// parallel; min/max merging makes the result independent of the thread count.
    ///
    /// # Errors
    /// [`Dlrm::check_dataset`]'s errors; [`crate::Error::ShapeMismatch`]
    /// (`what: "rows to calibrate on"`) for a dataset without rows.
    pub fn calibrate(&self, data: &Dataset) -> Result<Calibration> {
        self.check_dataset(data)?;
        if data.is_empty() {
            return Err(crate::Error::ShapeMismatch {
                what: "rows to calibrate on",
                expected: 1,
                found: 0,
            });
        }
        let (nd, ns) = (data.num_dense(), data.num_sparse());
        let config = self.config();
        let (nb, nt, ntop) = (
            config.bottom.len(),
            config.cardinalities.len(),
            config.top.len(),
        );
        let rows: Vec<usize> = (0..data.len()).collect();
        let bw = config.bottom_width();
        let d = config.embedding_dim;
        let parts: Vec<Calibration> = rows
            .par_chunks(64)
            .map(|chunk| {
                let mut cal = Calibration::empty(nb, nt, ntop);
                let mut trace = Trace::new(config);
                for &i in chunk {
                    let dense = &data.dense()[i * nd..(i + 1) * nd];
                    let sparse = &data.sparse()[i * ns..(i + 1) * ns];
                    self.forward(dense, sparse, &mut trace);
                    cal.samples += 1;
                    record(
                        &mut cal.bottom,
                        &trace.input,
                        &trace.bottom_z,
                        &trace.bottom_h,
                    );
                    for (t, r) in cal.embeddings.iter_mut().enumerate() {
                        r.include_all(&trace.concat[bw + t * d..bw + (t + 1) * d]);
                    }
                    record(&mut cal.top, &trace.concat, &trace.top_z, &trace.top_h);
                }
                cal
            })
            .collect();
        Ok(parts
            .iter()
            .fold(Calibration::empty(nb, nt, ntop), Calibration::merge))
    }
}

fn record(ranges: &mut [LayerRanges], input: &[f64], z: &[Vec<f64>], h: &[Vec<f64>]) {
    for (l, r) in ranges.iter_mut().enumerate() {
        r.input.include_all(if l == 0 { input } else { &h[l - 1] });
        r.pre_activation.include_all(&z[l]);
        r.output.include_all(&h[l]);
    }
}

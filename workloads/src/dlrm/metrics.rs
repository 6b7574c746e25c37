//! Binary-classification metrics on logits: accuracy, ROC AUC (rank-based), log loss.

use serde::{Deserialize, Serialize};

use super::model::Dlrm;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Metrics of a model on a labelled dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Rows evaluated.
    pub samples: usize,
    /// Rows labelled 1.
    pub positives: usize,
    /// Fraction of rows whose predicted label (`logit > 0`, i.e. `p > 0.5`) equals the label.
    pub accuracy: f64,
    /// ROC AUC, `None` when only one class is present.
    pub auc: Option<f64>,
    /// Mean binary cross-entropy of `sigmoid(logit)` against the labels (natural log).
    pub log_loss: f64,
}

/// Fraction of rows with `(logit > 0) == (label == 1)`; 0 for no rows.
///
/// # Errors
/// [`Error::ShapeMismatch`] (`what: "labels"`) when the lengths differ.
pub fn accuracy(logits: &[f64], labels: &[u8]) -> Result<f64> {
    check_len(logits.len(), labels.len())?;
    if logits.is_empty() {
        return Ok(0.0);
    }
    let correct = logits
        .iter()
        .zip(labels)
        .filter(|&(&z, &y)| (z > 0.0) == (y == 1))
        .count();
    Ok(correct as f64 / logits.len() as f64)
}

/// ROC AUC of `scores` (any monotone score: logits or probabilities) against `labels`, by
/// ranks (Mann–Whitney U): the probability that a random positive outscores a random negative,
/// ties counting one half (average ranks). `None` without both classes.
///
/// # Errors
/// [`Error::ShapeMismatch`] (`what: "labels"`) when the lengths differ.
pub fn auc(scores: &[f64], labels: &[u8]) -> Result<Option<f64>> {
    check_len(scores.len(), labels.len())?;
    let pos = labels.iter().filter(|&&y| y == 1).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * order[i..=j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Ok(Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n)))
}

/// Binary cross-entropy with logits for one row: `max(z, 0) − z·y + ln(1 + e^{−|z|})`.
pub fn bce_with_logits(z: f64, y: u8) -> f64 {
    z.max(0.0) - z * f64::from(y) + (-z.abs()).exp().ln_1p()
}

/// Mean [`bce_with_logits`] over the rows; 0 for no rows.
///
/// # Errors
/// [`Error::ShapeMismatch`] (`what: "labels"`) when the lengths differ.
pub fn log_loss(logits: &[f64], labels: &[u8]) -> Result<f64> {
    check_len(logits.len(), labels.len())?;
    if logits.is_empty() {
        return Ok(0.0);
    }
    let s: f64 = logits
        .iter()
        .zip(labels)
        .map(|(&z, &y)| bce_with_logits(z, y))
        .sum();
    Ok(s / logits.len() as f64)
}

/// The logistic function `1 / (1 + e^{−z})` (what the client applies after decryption).
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// All [`Metrics`] from logits and labels.
///
/// # Errors
/// [`Error::ShapeMismatch`] (`what: "labels"`) when the lengths differ.
pub fn metrics(logits: &[f64], labels: &[u8]) -> Result<Metrics> {
    Ok(Metrics {
        samples: labels.len(),
        positives: labels.iter().filter(|&&y| y == 1).count(),
        accuracy: accuracy(logits, labels)?,
        auc: auc(logits, labels)?,
        log_loss: log_loss(logits, labels)?,
    })
}

impl Dlrm {
    /// The model's [`Metrics`] on `data`.
    ///
    /// # Errors
    /// [`Dlrm::check_dataset`]'s errors.
    pub fn evaluate(&self, data: &Dataset) -> Result<Metrics> {
        let logits = self.predict_logits(data)?;
        metrics(&logits, data.labels())
    }
}

fn check_len(n: usize, labels: usize) -> Result<()> {
    if n != labels {
        return Err(Error::ShapeMismatch {
            what: "labels",
            expected: n,
            found: labels,
        });
    }
    Ok(())
}

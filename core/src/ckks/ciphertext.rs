//! Plaintexts and ciphertexts: RNS polynomials in evaluation form with their scale, slot count
//! and a deterministic object id (program order) for the trace.

use super::params::Level;
use crate::ring::{Eval, RnsPoly};
use crate::trace::DataClass;

/// An encoded message `m` (evaluation form over `Q_ℓ`) with its scale.
#[derive(Debug, Clone)]
pub struct Plaintext {
    pub(crate) poly: RnsPoly<Eval>,
    pub(crate) scale: f64,
    pub(crate) slots: usize,
    pub(crate) id: u64,
    pub(crate) class: DataClass,
}

impl Plaintext {
    /// The level (limb count − 1).
    pub fn level(&self) -> Level {
        Level::new(self.poly.q_count() - 1)
    }

    /// The scale `Δ` the values were multiplied by.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Number of slots encoded.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The deterministic object id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// What the plaintext holds, for the trace (weights, embeddings, constants).
    pub fn class(&self) -> DataClass {
        self.class
    }

    /// Bytes of the residues at 8-byte words.
    pub fn bytes(&self) -> u64 {
        self.poly.bytes()
    }
}

/// A ciphertext `(c_0, c_1[, c_2])` in evaluation form over `Q_ℓ`, decrypting to
/// `c_0 + c_1·s [+ c_2·s²] ≈ Δ·m`.
#[derive(Debug, Clone)]
pub struct Ciphertext {
    pub(crate) parts: Vec<RnsPoly<Eval>>,
    pub(crate) scale: f64,
    pub(crate) slots: usize,
    pub(crate) id: u64,
}

impl Ciphertext {
    /// The level (limb count − 1).
    pub fn level(&self) -> Level {
        Level::new(self.parts[0].q_count() - 1)
    }

    /// The scale `Δ` of the encrypted values.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Sets the scale without touching the residues (for circuits that account for a known
    /// factor themselves).
    pub fn set_scale(&mut self, scale: f64) {
        self.scale = scale;
    }

    /// Number of slots in use.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The degree: 1 normally, 2 after a multiplication without relinearisation.
    pub fn degree(&self) -> usize {
        self.parts.len() - 1
    }

    /// The deterministic object id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Bytes of the residues at 8-byte words.
    pub fn bytes(&self) -> u64 {
        self.parts.iter().map(RnsPoly::bytes).sum()
    }
}

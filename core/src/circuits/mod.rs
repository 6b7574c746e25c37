//! Circuits built only on the public [`crate::ckks::Evaluator`]: the two circuits an encrypted
//! DLRM is made of.
//!
//! - [`linear`]: plaintext matrix × encrypted vector by the diagonal method with baby-step
//!   giant-step, hoisted (or double-hoisted) rotations, rectangular and multi-ciphertext
//!   inputs, only non-zero diagonals stored, output layouts that the next layer consumes
//!   directly, pre-encoded or on-the-fly diagonals, and a dry-run cost.
//! - [`poly`]: polynomial evaluation in the Chebyshev or monomial basis, baby-step giant-step
//!   in depth `⌈log2(d + 1)⌉` with lazy rescaling and exact scales.
//! - [`activation`]: `x²`, Chebyshev approximations of smooth functions, and ReLU with a
//!   composite minimax sign; each with its depth, measured precision and plaintext twin.
//!
//! Circuits open named trace scopes (`linear_transform`, `polynomial`, `relu`); every event
//! inside comes from an evaluator leaf operation.

pub mod activation;
pub mod bootstrap;
pub mod linear;
pub mod poly;

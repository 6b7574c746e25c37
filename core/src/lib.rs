//! helrm-core: RNS-CKKS written from scratch, and the operation trace it records.
//!
//! Layers, each depending only on those above it:
//! - [`math`]: word-size modular arithmetic, NTT-friendly primes, negacyclic NTT plans with
//!   run-time dispatched SIMD kernels, RNS bases and base conversion, sampling from a CSPRNG.
//! - [`ring`]: RNS polynomials in coefficient or evaluation form, automorphisms, and the
//!   real/symbolic backend seam.
//! - [`ckks`]: parameters and their security check, encoding, keys, encryption and the
//!   server-side evaluator with hybrid key switching.
//! - [`circuits`]: linear transforms (diagonal method, BSGS, hoisting), polynomial evaluation
//!   and activations, built on the public evaluator only.
//! - [`trace`]: the operation trace every evaluator operation reports to (a leaf module).

pub mod circuits;
pub mod ckks;
pub mod error;
pub mod math;
pub mod ring;
pub mod trace;

pub use error::{Error, Result};

//! helrm-core: RNS-CKKS written from scratch, and the operation trace it records.
//!
//! Layers, each depending only on those above it:
//! - [`math`]: word-size modular arithmetic, NTT-friendly primes, negacyclic NTT plans with
//!   run-time dispatched SIMD kernels, RNS bases and base conversion, sampling from a CSPRNG.

pub mod ckks;
pub mod error;
pub mod math;
pub mod trace;

pub use error::{Error, Result};

//! Word-size arithmetic: modular reduction, primes, NTT plans, RNS and sampling.
//!
//! All `unsafe` code of helrm lives in `simd` (per-ISA kernels behind run-time detection).

pub mod bigint;
pub mod modarith;
pub mod ntt;
pub mod prime;
pub mod rns;
pub mod sample;
mod simd;
pub mod vecops;

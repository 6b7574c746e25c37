//! helrm-sim: lowers operation traces to kernels and replays them on a machine model.

pub mod engine;
mod error;
pub mod lower;
pub mod memory;

pub use error::Error;

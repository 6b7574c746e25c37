//! helrm-sim: lowers operation traces to kernels and replays them on a machine model.

mod error;
pub mod lower;

pub use error::Error;

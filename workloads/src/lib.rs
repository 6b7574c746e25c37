//! helrm-workloads: datasets, DLRM models, HE-LRM embedding lookups and the DLRM → CKKS plan.

pub mod data;
pub mod dlrm;
pub mod embed;
pub mod error;
pub mod he;
pub mod lookup;
pub mod plan;

pub use error::{Error, Result};

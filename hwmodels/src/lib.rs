#![doc = include_str!("../README.md")]

mod builtin;
mod emit;
mod error;
mod load;
pub mod schema;
mod validate;

pub use builtin::{builtin, builtin_all, builtin_names, builtin_source, resolve};
pub use error::Error;
pub use load::{from_yaml_bytes, from_yaml_str, load_file};
pub use schema::{
    Efficiency, Features, HostLink, KernelClass, MachineKind, MachineModel, OffChipMemory,
    OnChipMemory, Provenance, ReplacementPolicy, Throughput, UnitGroup, Units, SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
};

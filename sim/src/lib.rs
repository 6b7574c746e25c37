#![doc = include_str!("../README.md")]

pub mod calibrate;
pub mod engine;
mod error;
pub mod lower;
pub mod memory;
pub mod report;

pub use error::Error;

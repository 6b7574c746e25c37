//! RNS-CKKS: parameter sets and their security check, and the canonical-embedding encoder.
//!
//! - [`params`]: [`ParamsLiteral`] (plain, serde) → [`Params`] (checked, immutable, shared),
//!   named presets, the [`Level`] newtype, byte sizes of ciphertexts, keys and plaintexts.
//! - [`security`]: the 128-bit bounds on `log2(Q·P)` per ring degree and secret distribution.
//! - [`encoding`]: the [`Encoder`], complex or real slots, full or sparse packing.
//! - [`CkksContext`] (shared, secret-free state), [`KeyGenerator`] (client: secret, public and
//!   evaluation keys), [`Encryptor`] / [`Decryptor`], and the server-side [`Evaluator`] with
//!   hybrid key switching and hoisted rotations.
//!
//! # Example
//! ```
//! use helrm_core::ckks::{Encoder, Params};
//! let params = Params::preset("toy-n12")?;
//! let enc = Encoder::new(params.log_n())?;
//! let coeffs = enc.encode_real(&[0.5, -0.25], params.slots(), params.default_scale())?;
//! assert_eq!(coeffs.len(), params.n());
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # References
//! J. H. Cheon, A. Kim, M. Kim, Y. Song, "Homomorphic encryption for arithmetic of
//! approximate numbers", ASIACRYPT 2017; J. H. Cheon, K. Han, A. Kim, M. Kim, Y. Song,
//! "A full RNS variant of approximate homomorphic encryption", SAC 2018.

pub mod bench;
mod ciphertext;
mod context;
pub mod encoding;
mod encryptor;
mod evaluator;
mod evaluator_boot;
mod evaluator_ext;
mod keys;
mod keyswitch;
pub mod params;
pub mod security;
pub mod serialize;

pub use ciphertext::{Ciphertext, Plaintext};
pub use context::CkksContext;
pub use encryptor::{Decryptor, Encryptor};
pub use evaluator::{Evaluator, SCALE_TOLERANCE};
pub use keys::{EvaluationKeys, KeyGenerator, KeySwitchKey, PublicKey, SecretKey};

pub use encoding::Encoder;
pub use params::{Level, Params, ParamsLiteral};
pub use security::{SecretDistribution, Security};

//! HE-LRM embeddings, plaintext side: client-side digit decomposition of categorical indices and
//! the one-hot layout of every table in the client's input vector.
//!
//! A table of `k` rows is either kept **full** (the client sends a one-hot of length `k`) or
//! **compressed** in base `b` (the client sends `ℓ` one-hots of length `b`, one per base-`b`
//! digit of the index, least significant first; `ℓ` is the smallest integer ≥ 1 with
//! `b^ℓ ≥ k`). The server's lookup is then one plaintext-matrix × encrypted-vector product:
//! `e = Wᵀx` with `W` the table's *expanded* rows (the `k` rows of a full table, or the `ℓ`
//! stacked `b × d` sub-tables of a compressed one) and `x` the one-hot segment.
//!
//! - [`digits`]: the decomposition itself ([`digits::num_digits`], [`digits::decompose`],
//!   [`digits::recompose`]).
//! - [`layout`]: [`TableLayout`] (full or compressed), [`CompressionPolicy`] (compress tables
//!   above a threshold) and [`PackedLayout`] (all tables' one-hot segments concatenated, as
//!   multi-embedding packing needs them).
//!
//! References: Garimella, Ebel, De Micheli, Reagen, "HE-LRM: Encrypted Deep Learning
//! Recommendation Models using Fully Homomorphic Encryption", arXiv 2506.18150.

pub mod digits;
pub mod layout;

pub use digits::{decompose, num_digits, recompose};
pub use layout::{CompressionPolicy, PackedLayout, TableLayout};

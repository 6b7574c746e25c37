//! Encrypted embedding lookups, four ways, all traced and all checked against the plaintext
//! lookup of the same [`LookupTables`]:
//!
//! | [`Method`] | client sends | server computes | levels |
//! |---|---|---|---|
//! | `one-hot` | one-hot of length `k` per table | one BSGS product per table with its full `k × d` table | 1 |
//! | `coded-helut` | `digit_i(x) − j` for every digit `i` and candidate `j < p` | CodedHELUT+p1's indicator `1 − 2t²/p²`, `r` squarings, `s` times `3x² − 2x³`, then `d` plaintext multiplies and rotate-and-sum | `2 + r + 2s + 1` (bootstraps if the chain is shorter) |
//! | `digits` | `ℓ` one-hots of length `p` per table (HE-LRM) | one BSGS product per table with its `pℓ × d` sub-tables | 1 |
//! | `digits-packed` | all tables' digit one-hots concatenated | one block-diagonal BSGS product for all tables | 1 |
//!
//! Products use `core::circuits::linear` with blocks of `S` slots in and the output replicated
//! with period `bh = 2^⌈log2(rows)⌉` (HE-LRM's hybrid layout: `log2(S/bh)` fold rotations);
//! table `t` of a packed product lands in slots `t·d … t·d + d − 1`. CodedHELUT batches all
//! tables in one ciphertext of sparse slots (table `t` in a segment of `2^⌈log2(max pℓ)⌉` slots)
//! and leaves `e_t[c]` in slot `t·seg` of output ciphertext `c`.
//!
//! [`run`] plays client and server: it generates keys (seeded or from the OS), encrypts, runs
//! the server part timed and traced (only the server's operations reach the trace), decrypts
//! (real runs) and reports [`LookupRun`]. [`run_block`] runs one input-ciphertext block of a
//! packed configuration (the 44-million-parameter layout's blocks, diagonals encoded on the fly).
//!
//! # Example
//! ```
//! use helrm_core::ckks::Params;
//! use helrm_workloads::lookup::{run, LookupOptions, LookupTables, Method};
//! let tables = LookupTables::synthetic(4, 2, 3, 2, 1)?; // two 16-row tables, d = 3
//! let indices = tables.random_indices(5);
//! let params = Params::preset("toy-n12-l10")?;
//! let r = run(Method::DigitsPacked, &tables, &indices, None, &params, None, &LookupOptions::seeded(1))?;
//! assert_eq!(r.levels, 1);
//! assert!(r.max_abs_error.unwrap_or(1.0) < 1e-4);
//! # Ok::<(), helrm_workloads::Error>(())
//! ```
//!
//! # References
//! - M. Kim, J. Park, S. Lee, J. H. Cheon, "Privacy-preserving embedding via look-up table
//!   evaluation with fully homomorphic encryption", ICML 2024 (CodedHELUT).
//! - K. Garimella et al., "HE-LRM", arXiv 2506.18150 (digit decomposition, multi-embedding
//!   packing, the comparison at `(p, ℓ, d) = (8, 8, 50)`).

mod block;
mod coded;
mod products;
mod tables;

pub use block::{run_block, BlockRun};
pub use coded::{coded_schedule, CodedPlan};
pub use products::MAX_PRODUCT_ROWS;
pub use tables::LookupTables;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use helrm_core::circuits::linear::DiagonalMode;
use helrm_core::ckks::{CkksContext, KeyGenerator, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{OpKind, Tee, TraceEvent, TraceSink, Tracer};
use serde::Serialize;

use crate::embed::CompressionPolicy;
use crate::error::{Error, Result};

/// An encrypted lookup method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// One-hot × full table, one product per table.
    OneHot,
    /// CodedHELUT+p1 (Kim et al., ICML 2024) as HE-LRM compared it.
    CodedHelut,
    /// HE-LRM's client-side digit decomposition, one product per table.
    Digits,
    /// Digit decomposition with multi-embedding packing: one product for all tables.
    DigitsPacked,
}

impl Method {
    /// Every method, in the order reports list them.
    pub const ALL: [Method; 4] = [
        Method::OneHot,
        Method::CodedHelut,
        Method::Digits,
        Method::DigitsPacked,
    ];

    /// The command-line name (`one-hot`, `coded-helut`, `digits`, `digits-packed`).
    pub fn name(self) -> &'static str {
        match self {
            Method::OneHot => "one-hot",
            Method::CodedHelut => "coded-helut",
            Method::Digits => "digits",
            Method::DigitsPacked => "digits-packed",
        }
    }

    /// The method called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How [`run`] runs.
#[derive(Clone)]
pub struct LookupOptions {
    /// Real arithmetic, or shapes only (symbolic traces: no decryption, no error figure).
    pub backend: Backend,
    /// Seed of keys and encryption randomness (`None`: the OS).
    pub seed: Option<u64>,
    /// Receives the server's operations.
    pub sink: Option<Arc<dyn TraceSink>>,
    /// Diagonals (and CodedHELUT's table columns) encoded before the timed server run, or
    /// during it.
    pub diagonals: DiagonalMode,
}

impl std::fmt::Debug for LookupOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupOptions")
            .field("backend", &self.backend)
            .field("seed", &self.seed)
            .field("traced", &self.sink.is_some())
            .field("diagonals", &self.diagonals)
            .finish()
    }
}

impl LookupOptions {
    /// A real run with seeded keys, pre-encoded diagonals and no trace (tests).
    pub fn seeded(seed: u64) -> Self {
        Self {
            backend: Backend::Real,
            seed: Some(seed),
            sink: None,
            diagonals: DiagonalMode::PreEncoded,
        }
    }
}

/// What one encrypted lookup reports.
#[derive(Debug, Clone, Serialize)]
pub struct LookupRun {
    /// The method.
    pub method: Method,
    /// Parameter set fingerprint's short name of the run (the one bootstrapping ran on, if any).
    pub params: String,
    /// Number of tables.
    pub tables: usize,
    /// Embedding dimension.
    pub dim: usize,
    /// Wall seconds of the server's part (diagonal encoding included only on the fly).
    pub server_seconds: f64,
    /// Wall seconds of key generation (client side, not in `server_seconds`).
    pub keygen_seconds: f64,
    /// Wall seconds of server set-up (building transforms, pre-encoding, bootstrapping circuit).
    pub setup_seconds: f64,
    /// Keyed rotations the server performed (hoisted and fused hoisted ones counted one by
    /// one; conjugations and the rotations inside bootstrapping included).
    pub rotations: u64,
    /// Levels the lookup consumed (bootstrapping's own levels not counted).
    pub levels: usize,
    /// Bootstraps performed.
    pub bootstraps: usize,
    /// Input ciphertexts the client sent.
    pub input_ciphertexts: usize,
    /// Output ciphertexts the server returned.
    pub output_ciphertexts: usize,
    /// Bytes of the evaluation keys.
    pub eval_key_bytes: u64,
    /// Decrypted embeddings, one per table (empty in a symbolic run).
    #[serde(skip)]
    pub output: Vec<Vec<f64>>,
    /// The plaintext lookup, one embedding per table.
    #[serde(skip)]
    pub expected: Vec<Vec<f64>>,
    /// Largest `|decrypted − plaintext|` (`None` in a symbolic run).
    pub max_abs_error: Option<f64>,
}

/// Counts keyed rotations in the events it sees.
#[derive(Debug, Default)]
pub(crate) struct RotationCounter {
    rotations: AtomicU64,
}

impl TraceSink for RotationCounter {
    fn record(&self, e: TraceEvent) {
        // Every listed rotation is one key switch (`rotate`, `rotate_hoisted` and the fused
        // hoisted kinds of format 1.1); a conjugation lists none.
        let n = match e.op {
            OpKind::Rotate | OpKind::RotateHoisted | OpKind::Conjugate => {
                e.rotations.len().max(1) as u64
            }
            OpKind::KeySwitch => 0,
            _ => e.rotations.len() as u64,
        };
        self.rotations.fetch_add(n, Ordering::Relaxed);
    }
}

impl RotationCounter {
    pub(crate) fn get(&self) -> u64 {
        self.rotations.load(Ordering::Relaxed)
    }
}

/// A tracer feeding the counter and the caller's sink (timed in real runs).
pub(crate) fn tracer(
    backend: Backend,
    sink: Option<&Arc<dyn TraceSink>>,
    counter: &Arc<RotationCounter>,
) -> Arc<Tracer> {
    let mut tee = Tee::new(vec![counter.clone() as Arc<dyn TraceSink>]);
    if let Some(s) = sink {
        tee = tee.with(s.clone());
    }
    let tee: Arc<dyn TraceSink> = Arc::new(tee);
    Arc::new(if backend == Backend::Real {
        Tracer::new(tee)
    } else {
        Tracer::untimed(tee)
    })
}

/// A key generator (seeded, or from the OS).
pub(crate) fn keygen(ctx: &Arc<CkksContext>, seed: Option<u64>, salt: u8) -> Result<KeyGenerator> {
    Ok(match seed {
        Some(s) => KeyGenerator::with_rng(ctx.clone(), seeded_rng(s, salt))?,
        None => KeyGenerator::new(ctx.clone())?,
    })
}

/// A seeded generator, distinct per `salt`.
pub(crate) fn seeded_rng(seed: u64, salt: u8) -> Csprng {
    let mut b = [salt; 32];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    Csprng::from_seed(b)
}

/// Largest absolute difference between two lists of embeddings.
pub(crate) fn max_abs_error(got: &[Vec<f64>], want: &[Vec<f64>]) -> f64 {
    got.iter()
        .zip(want)
        .flat_map(|(g, w)| g.iter().zip(w).map(|(a, b)| (a - b).abs()))
        .fold(0.0, f64::max)
}

/// Runs one encrypted lookup of `indices` (one per table) with `method` on `params`.
///
/// `policy` says which tables the digit methods compress (`None`: all, in the tables' base;
/// a policy's base must equal [`LookupTables::base`]); one-hot keeps every table full.
/// CodedHELUT needs `2 + r + 2s + 1` levels; when `params` has fewer, `boot_params` (a set
/// whose residual chain is `params`' chain plus bootstrapping levels, e.g. `helrm-n16-boot`
/// for `helrm-n16-l10`) runs it with bootstraps.
///
/// # Errors
/// [`Error::ShapeMismatch`] / [`Error::IndexOutOfRange`] for bad indices;
/// [`Error::InvalidParameter`] for a product above [`MAX_PRODUCT_ROWS`] rows (`"table_rows"`),
/// a CodedHELUT base without a published schedule (`"p"`) or more slots than a ciphertext has
/// (`"slots"`); [`Error::NeedsBootstrap`] for CodedHELUT on a short chain without
/// `boot_params`; [`Error::Ckks`] for the core's errors.
pub fn run(
    method: Method,
    tables: &LookupTables,
    indices: &[u64],
    policy: Option<&CompressionPolicy>,
    params: &Arc<Params>,
    boot_params: Option<&Arc<Params>>,
    opts: &LookupOptions,
) -> Result<LookupRun> {
    tables.check_indices(indices)?;
    if let Some(p) = policy {
        if p.base != tables.base() {
            return Err(Error::InvalidParameter {
                name: "base",
                value: p.base as f64,
                expected: "the compression base equal to the tables' sub-table size",
            });
        }
    }
    match method {
        Method::CodedHelut => coded::run_coded(tables, indices, params, boot_params, opts),
        Method::OneHot => products::run_products(tables, indices, method, None, params, opts),
        Method::Digits | Method::DigitsPacked => {
            let all = CompressionPolicy::all(tables.base())?;
            products::run_products(
                tables,
                indices,
                method,
                Some(policy.unwrap_or(&all)),
                params,
                opts,
            )
        }
    }
}

/// A short name for a parameter set: its preset name if it is one, else its fingerprint.
pub(crate) fn params_name(params: &Params) -> String {
    helrm_core::ckks::params::PRESET_NAMES
        .iter()
        .find(|n| Params::preset(n).is_ok_and(|p| p.fingerprint() == params.fingerprint()))
        .map_or_else(|| params.fingerprint().to_owned(), |n| (*n).to_owned())
}

//! One input-ciphertext block of a packed lookup: the part of the block-diagonal product that
//! reads input ciphertext `K` (`S` one-hot rows), for layouts too large to run whole on one
//! machine (the 44-million-parameter Criteo layout has 85 blocks and 43,520 diagonals).
//!
//! The full packed product is the sum of its blocks' products (one rescale and the folds
//! apply to the sum), so a block's output is a partial embedding: slot `t·d + c` holds
//! `Σ W_t[r][c]` over table `t`'s active rows `r` inside block `K`. The client's indices are
//! chosen so that every table whose segment meets block `K` has an active row there.

use std::sync::Arc;
use std::time::Instant;

use helrm_core::circuits::linear::{DiagonalMode, DiagonalSource, Hoisting};
use helrm_core::ckks::{CkksContext, Evaluator, Params};
use serde::Serialize;

use super::products::{build_transform, one_hot_blocks, table_layouts, Client};
use super::tables::{mix, LookupTables};
use super::{params_name, tracer, LookupOptions, RotationCounter};
use crate::embed::{CompressionPolicy, PackedLayout};
use crate::error::{Error, Result};

/// What one block of a packed lookup reports.
#[derive(Debug, Clone, Serialize)]
pub struct BlockRun {
    /// Parameter set.
    pub params: String,
    /// The block (input ciphertext) run.
    pub block: u64,
    /// Input ciphertexts of the whole layout.
    pub blocks: u64,
    /// Σ one-hot rows of the whole layout.
    pub total_rows: u64,
    /// Tables whose segment meets this block.
    pub tables_in_block: usize,
    /// Non-zero diagonals of this block.
    pub nonzero_diagonals: usize,
    /// Bytes of the compact (`f64`) diagonals held for this block.
    pub compact_diagonal_bytes: u64,
    /// Keyed rotations performed.
    pub rotations: u64,
    /// Levels consumed.
    pub levels: usize,
    /// Galois keys generated.
    pub galois_keys: usize,
    /// Bytes of the evaluation keys.
    pub eval_key_bytes: u64,
    /// Seconds to build the block's transform (and pre-encode, if asked).
    pub setup_seconds: f64,
    /// Seconds of key generation.
    pub keygen_seconds: f64,
    /// Seconds of the server's product.
    pub server_seconds: f64,
    /// Largest `|decrypted − plaintext|` over the `T·d` output slots (`None` if symbolic).
    pub max_abs_error: Option<f64>,
}

/// Indices that make every table meeting block `block` active inside it.
fn block_indices(
    tables: &LookupTables,
    layout: &PackedLayout,
    block: u64,
    slots: u64,
    seed: u64,
) -> Vec<u64> {
    let (lo, hi) = (block * slots, (block + 1) * slots);
    tables
        .cardinalities()
        .iter()
        .zip(layout.tables())
        .zip(layout.offsets())
        .enumerate()
        .map(|(t, ((&k, tl), &off))| {
            let h = mix(seed ^ mix(t as u64 + 1));
            let (a, b) = (off.max(lo), (off + tl.segment_len()).min(hi));
            if !tl.is_compressed() && a < b {
                // A full table: an index whose row is inside the block.
                a - off + h % (b - a)
            } else {
                h % k
            }
        })
        .collect()
}

/// Runs block `block` of the packed lookup over tables of `cardinalities` (dimension `dim`,
/// compressed as `policy` says, base 4 without one) on `params`, checked against plaintext.
///
/// # Errors
/// [`Error::InvalidParameter`] for a block past the last input ciphertext (`"block"`) or
/// more `tables × dim` than slots; [`Error::Ckks`] for the core's errors.
pub fn run_block(
    cardinalities: &[u64],
    policy: Option<&CompressionPolicy>,
    dim: usize,
    block: u64,
    params: &Arc<Params>,
    opts: &LookupOptions,
) -> Result<BlockRun> {
    let base = policy.map_or(4, |p| p.base);
    let seed = opts.seed.unwrap_or(0x44);
    let tables = LookupTables::new(cardinalities, base, dim, seed)?;
    let layout = PackedLayout::new(table_layouts(&tables, policy)?)?;
    let slots = params.slots();
    let blocks = layout.input_ciphertexts(slots as u64)?;
    if block >= blocks {
        return Err(Error::InvalidParameter {
            name: "block",
            value: block as f64,
            expected: "a block below the number of input ciphertexts",
        });
    }
    let group: Vec<usize> = (0..tables.len()).collect();
    let indices = block_indices(&tables, &layout, block, slots as u64, seed);

    let t_setup = Instant::now();
    let lt = build_transform(&tables, &group, &layout, slots, Some(block))?;
    let mut setup_seconds = t_setup.elapsed().as_secs_f64();

    let ctx = CkksContext::new(params.clone(), opts.backend)?;
    let t_keys = Instant::now();
    let rotations = lt.rotations();
    let mut client = Client::new(&ctx, opts.seed)?;
    let keys = Arc::new(client.keygen.evaluation_keys(&rotations, slots, false)?);
    let keygen_seconds = t_keys.elapsed().as_secs_f64();

    let x = one_hot_blocks(&group, &layout, &indices, slots, Some(block))?;
    let input = client.encrypt(&x, slots)?;
    let top = ctx.max_level();

    let t_enc = Instant::now();
    let encoded = match opts.diagonals {
        DiagonalMode::PreEncoded => Some(lt.encode(
            &Evaluator::new(ctx.clone(), keys.clone()),
            top,
            Hoisting::Single,
        )?),
        DiagonalMode::OnTheFly => None,
    };
    setup_seconds += t_enc.elapsed().as_secs_f64();

    let counter = Arc::new(RotationCounter::default());
    let eval = Evaluator::new(ctx.clone(), keys.clone()).with_tracer(tracer(
        opts.backend,
        opts.sink.as_ref(),
        &counter,
    ));
    let t0 = Instant::now();
    let out = {
        let _scope = eval.scope(&format!("lookup/digits-packed/block{block}"));
        let source = match &encoded {
            Some(e) => DiagonalSource::Encoded(e),
            None => DiagonalSource::OnTheFly,
        };
        lt.apply(&eval, &input, source, Hoisting::Single)?
    };
    let server_seconds = t0.elapsed().as_secs_f64();

    // The plaintext partial lookup.
    let s = slots as u64;
    let mut want = vec![0.0; tables.len() * dim];
    let mut tables_in_block = 0;
    for (t, (tl, &off)) in layout.tables().iter().zip(layout.offsets()).enumerate() {
        if off < (block + 1) * s && off + tl.segment_len() > block * s {
            tables_in_block += 1;
        }
        for r in tl.active_rows(indices[t])? {
            if (off + r) / s == block {
                for (c, w) in tables.expanded_row(t, tl, r)?.into_iter().enumerate() {
                    want[t * dim + c] += w;
                }
            }
        }
    }
    let max_abs_error = client.decrypt(&out)?.map(|got| {
        got.iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    });
    Ok(BlockRun {
        params: params_name(params),
        block,
        blocks,
        total_rows: layout.total_rows(),
        tables_in_block,
        nonzero_diagonals: lt.nonzero_diagonals(),
        compact_diagonal_bytes: lt.compact_bytes(),
        rotations: counter.get(),
        levels: top.get() - out.level().get(),
        galois_keys: keys.galois_elements().count(),
        eval_key_bytes: keys.bytes(),
        setup_seconds,
        keygen_seconds,
        server_seconds,
        max_abs_error,
    })
}

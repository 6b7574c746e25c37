//! One-hot, digit and packed digit lookups: plaintext-matrix × encrypted-vector products.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use helrm_core::circuits::linear::{
    DiagonalMode, DiagonalSource, EncodedDiagonals, Hoisting, LinearTransform, OutputLayout,
};
use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Params,
};
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;

use super::tables::LookupTables;
use super::{
    keygen, max_abs_error, params_name, seeded_rng, tracer, LookupOptions, LookupRun, Method,
    RotationCounter,
};
use crate::embed::{CompressionPolicy, PackedLayout, TableLayout};
use crate::error::{Error, Result};

/// Largest number of one-hot rows (matrix columns) one product may have: 2^21, i.e. 64 input
/// ciphertexts of 32,768 slots. A one-hot over more rows (one-hot × a 16.7-million-row table,
/// say) would hold tens of GB of diagonals; run it one block at a time ([`super::run_block`]).
pub const MAX_PRODUCT_ROWS: u64 = 1 << 21;

/// The layout of every table: full for one-hot, else as `policy` says.
pub(crate) fn table_layouts(
    tables: &LookupTables,
    policy: Option<&CompressionPolicy>,
) -> Result<Vec<TableLayout>> {
    tables
        .cardinalities()
        .iter()
        .map(|&k| match policy {
            None => TableLayout::full(k),
            Some(p) => p.layout_for(k),
        })
        .collect()
}

/// The transform of `group` (tables packed in this order) over the columns of input block
/// `block` only (`None`: every column), output replicated with period `2^⌈log2(rows)⌉`.
pub(crate) fn build_transform(
    tables: &LookupTables,
    group: &[usize],
    layout: &PackedLayout,
    slots: usize,
    block: Option<u64>,
) -> Result<LinearTransform> {
    let d = tables.dim();
    let rows = group.len() * d;
    if rows > slots {
        return Err(Error::InvalidParameter {
            name: "slots",
            value: rows as f64,
            expected: "tables × dim no larger than the slot count",
        });
    }
    let s = slots as u64;
    let (lo, hi) = match block {
        Some(b) => {
            let blocks = layout.input_ciphertexts(s)?;
            if b >= blocks {
                return Err(Error::InvalidParameter {
                    name: "block",
                    value: b as f64,
                    expected: "a block below the number of input ciphertexts",
                });
            }
            (b * s, ((b + 1) * s).min(layout.total_rows()))
        }
        None => {
            if layout.total_rows() > MAX_PRODUCT_ROWS {
                return Err(Error::InvalidParameter {
                    name: "table_rows",
                    value: layout.total_rows() as f64,
                    expected: "at most 2^21 one-hot rows per product (use digits, or one block)",
                });
            }
            (0, layout.total_rows())
        }
    };
    let cols = usize::try_from(hi - lo).map_err(|_| Error::InvalidParameter {
        name: "table_rows",
        value: (hi - lo) as f64,
        expected: "a product that fits in memory",
    })?;
    let mut entries = Vec::new();
    for (gi, (&t, tl)) in group.iter().zip(layout.tables()).enumerate() {
        let off = layout.offsets()[gi];
        let (a, b) = (off.max(lo), (off + tl.segment_len()).min(hi));
        for p in a..b {
            let row = tables.expanded_row(t, tl, p - off)?;
            for (c, &w) in row.iter().enumerate() {
                entries.push((gi * d + c, (p - lo) as usize, w));
            }
        }
    }
    Ok(LinearTransform::builder(rows, cols.max(1), slots)
        .output(OutputLayout::Replicated {
            period: rows.next_power_of_two(),
            offset: 0,
        })
        .data_class(DataClass::PlaintextEmbedding)
        .build(entries)?)
}

/// The client's one-hot input of `group`'s tables for `indices`, restricted to input block
/// `block` (`None`: all blocks), as slot vectors.
pub(crate) fn one_hot_blocks(
    group: &[usize],
    layout: &PackedLayout,
    indices: &[u64],
    slots: usize,
    block: Option<u64>,
) -> Result<Vec<Vec<f64>>> {
    let s = slots as u64;
    let blocks = layout.input_ciphertexts(s)?.max(1);
    let (first, count) = match block {
        Some(b) => (b, 1),
        None => (0, blocks),
    };
    let mut v = vec![vec![0.0; slots]; count as usize];
    for (gi, (&t, tl)) in group.iter().zip(layout.tables()).enumerate() {
        let off = layout.offsets()[gi];
        for r in tl.active_rows(indices[t])? {
            let p = off + r;
            if (first..first + count).contains(&(p / s)) {
                v[(p / s - first) as usize][(p % s) as usize] = 1.0;
            }
        }
    }
    Ok(v)
}

/// The client side of a product run: keys, encryptor, decryption.
pub(crate) struct Client {
    pub(crate) ctx: Arc<CkksContext>,
    pub(crate) keygen: KeyGenerator,
    pub(crate) encryptor: Encryptor,
}

impl Client {
    pub(crate) fn new(ctx: &Arc<CkksContext>, seed: Option<u64>) -> Result<Self> {
        let mut keygen = keygen(ctx, seed, 1)?;
        let pk = keygen.public_key()?;
        let encryptor = match seed {
            Some(s) => Encryptor::with_rng(ctx.clone(), pk, seeded_rng(s, 2)),
            None => Encryptor::new(ctx.clone(), pk)?,
        };
        Ok(Self {
            ctx: ctx.clone(),
            keygen,
            encryptor,
        })
    }

    /// Encrypts each slot vector at the top level and the default scale.
    pub(crate) fn encrypt(&mut self, blocks: &[Vec<f64>], slots: usize) -> Result<Vec<Ciphertext>> {
        let top = self.ctx.max_level();
        let scale = self.ctx.params().default_scale();
        blocks
            .iter()
            .map(|v| {
                let pt = self
                    .ctx
                    .encode_real(v, top, scale, slots, DataClass::Other)?;
                Ok(self.encryptor.encrypt(&pt)?)
            })
            .collect()
    }

    /// Decrypts real slots (`None` in a symbolic run).
    pub(crate) fn decrypt(&self, ct: &Ciphertext) -> Result<Option<Vec<f64>>> {
        if self.ctx.backend() != Backend::Real {
            return Ok(None);
        }
        Ok(Some(
            Decryptor::new(self.ctx.clone(), self.keygen.secret_key()).decrypt_real(ct)?,
        ))
    }
}

/// One-hot, digits or packed digits (see the module docs of [`super`]).
pub(crate) fn run_products(
    tables: &LookupTables,
    indices: &[u64],
    method: Method,
    policy: Option<&CompressionPolicy>,
    params: &Arc<Params>,
    opts: &LookupOptions,
) -> Result<LookupRun> {
    let ctx = CkksContext::new(params.clone(), opts.backend)?;
    let slots = params.slots();
    let d = tables.dim();
    let layouts = table_layouts(tables, policy)?;
    let groups: Vec<Vec<usize>> = if method == Method::DigitsPacked {
        vec![(0..tables.len()).collect()]
    } else {
        (0..tables.len()).map(|t| vec![t]).collect()
    };
    let t_setup = Instant::now();
    let mut prepared = Vec::with_capacity(groups.len());
    for g in &groups {
        let layout = PackedLayout::new(g.iter().map(|&t| layouts[t]).collect())?;
        let lt = build_transform(tables, g, &layout, slots, None)?;
        prepared.push((layout, lt));
    }
    let mut setup_seconds = t_setup.elapsed().as_secs_f64();

    let t_keys = Instant::now();
    let rotations: BTreeSet<i64> = prepared.iter().flat_map(|(_, lt)| lt.rotations()).collect();
    let rotations: Vec<i64> = rotations.into_iter().collect();
    let mut client = Client::new(&ctx, opts.seed)?;
    let keys = Arc::new(client.keygen.evaluation_keys(&rotations, slots, false)?);
    let keygen_seconds = t_keys.elapsed().as_secs_f64();
    let eval_key_bytes = keys.bytes();

    let mut inputs = Vec::with_capacity(groups.len());
    for (g, (layout, _)) in groups.iter().zip(&prepared) {
        let blocks = one_hot_blocks(g, layout, indices, slots, None)?;
        inputs.push(client.encrypt(&blocks, slots)?);
    }
    let input_ciphertexts = inputs.iter().map(Vec::len).sum();

    let t_enc = Instant::now();
    let untraced = Evaluator::new(ctx.clone(), keys.clone());
    let top = ctx.max_level();
    let encoded: Vec<Option<EncodedDiagonals>> = prepared
        .iter()
        .map(|(_, lt)| match opts.diagonals {
            DiagonalMode::PreEncoded => lt.encode(&untraced, top, Hoisting::Single).map(Some),
            DiagonalMode::OnTheFly => Ok(None),
        })
        .collect::<helrm_core::Result<_>>()?;
    setup_seconds += t_enc.elapsed().as_secs_f64();

    let counter = Arc::new(RotationCounter::default());
    let eval = Evaluator::new(ctx.clone(), keys).with_tracer(tracer(
        opts.backend,
        opts.sink.as_ref(),
        &counter,
    ));
    let t0 = Instant::now();
    let mut outputs = Vec::with_capacity(groups.len());
    {
        let _scope = eval.scope(&format!("lookup/{}", method.name()));
        for (((_, lt), cts), enc) in prepared.iter().zip(&inputs).zip(&encoded) {
            let source = match enc {
                Some(e) => DiagonalSource::Encoded(e),
                None => DiagonalSource::OnTheFly,
            };
            outputs.push(lt.apply(&eval, cts, source, Hoisting::Single)?);
        }
    }
    let server_seconds = t0.elapsed().as_secs_f64();

    let expected = indices
        .iter()
        .enumerate()
        .map(|(t, &i)| tables.lookup(t, i))
        .collect::<Result<Vec<_>>>()?;
    let mut output = vec![Vec::new(); tables.len()];
    let mut real = true;
    for (g, ct) in groups.iter().zip(&outputs) {
        match client.decrypt(ct)? {
            Some(v) => {
                for (gi, &t) in g.iter().enumerate() {
                    output[t] = v[gi * d..(gi + 1) * d].to_vec();
                }
            }
            None => real = false,
        }
    }
    let levels = outputs
        .iter()
        .map(|o| top.get() - o.level().get())
        .max()
        .unwrap_or(0);
    Ok(LookupRun {
        method,
        params: params_name(params),
        tables: tables.len(),
        dim: d,
        server_seconds,
        keygen_seconds,
        setup_seconds,
        rotations: counter.get(),
        levels,
        bootstraps: 0,
        input_ciphertexts,
        output_ciphertexts: outputs.len(),
        eval_key_bytes,
        max_abs_error: real.then(|| max_abs_error(&output, &expected)),
        output: if real { output } else { Vec::new() },
        expected,
    })
}

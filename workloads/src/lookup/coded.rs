//! CodedHELUT+p1 (Kim, Park, Lee, Cheon, ICML 2024) as HE-LRM compared it.
//!
//! The client sends, for table `t`, digit `i < ℓ_t` and candidate `j < p`, the value
//! `digit_i(x_t) − j` in slot `t·seg + i·p + j`. The server evaluates the indicator
//! `f(u) = 1 − 2u²/p²` (1 at `u = 0`, below `1 − 2/p²` in absolute value elsewhere), squares it
//! `r` times, sharpens it `s` times with `g(x) = 3x² − 2x³`, then for every output dimension
//! `c < d` multiplies by column `c` of the stacked sub-tables (zero outside the tables' rows)
//! and sums each segment by `log2(seg)` rotate-and-add steps: slot `t·seg` of output `c` holds
//! `e_t[c]`. Depth `2 + r + 2s + 1`; on a shorter chain the server bootstraps (greedily, when
//! the next step does not fit).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use helrm_core::circuits::activation::Activation as CoreActivation;
use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper};
use helrm_core::circuits::linear::DiagonalMode;
use helrm_core::circuits::poly::Polynomial;
use helrm_core::ckks::{Ciphertext, CkksContext, Evaluator, Level, Params, Plaintext};
use helrm_core::trace::DataClass;

use super::products::Client;
use super::tables::LookupTables;
use super::{
    max_abs_error, params_name, tracer, LookupOptions, LookupRun, Method, RotationCounter,
};
use crate::embed::decompose;
use crate::error::{Error, Result};

/// CodedHELUT's published `(r, s)` for sub-table size `p`:
/// `{4: (6, 1), 8: (8, 1), 16: (10, 2), 32: (11, 2), 64: (13, 3)}`.
pub fn coded_schedule(p: u64) -> Option<(usize, usize)> {
    match p {
        4 => Some((6, 1)),
        8 => Some((8, 1)),
        16 => Some((10, 2)),
        32 => Some((11, 2)),
        64 => Some((13, 3)),
        _ => None,
    }
}

/// One step of the circuit and its depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Indicator,
    Square,
    Sharpen,
    Columns,
}

impl Step {
    fn depth(self) -> usize {
        match self {
            Step::Indicator | Step::Sharpen => 2,
            Step::Square | Step::Columns => 1,
        }
    }
}

/// The shape and level schedule of one CodedHELUT lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedPlan {
    /// Sub-table size (candidates per digit).
    pub p: u64,
    /// Squarings.
    pub r: usize,
    /// Applications of `3x² − 2x³`.
    pub s: usize,
    /// Slots per table segment (`2^⌈log2(max p·ℓ_t)⌉`).
    pub seg: usize,
    /// Slots of the ciphertext (`2^⌈log2(T·seg)⌉`).
    pub slots: usize,
    /// Levels the circuit consumes: `2 + r + 2s + 1`.
    pub depth: usize,
    /// Bootstraps placed when the chain starts at `start_level` and bootstrapping returns to it.
    pub bootstraps: usize,
    /// Level of the final plaintext multiply's input.
    pub columns_level: usize,
    steps: Vec<(Step, bool)>,
}

impl CodedPlan {
    /// Plans the lookup of `tables` on ciphertexts starting (and refreshed) at `start_level`;
    /// `can_bootstrap` false makes a step that does not fit an error.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a `p` without a schedule (`"p"`) or more slots than
    /// `max_slots` (`"slots"`); [`Error::NeedsBootstrap`] when bootstrapping is needed but not
    /// allowed.
    pub fn new(
        tables: &LookupTables,
        max_slots: usize,
        start_level: usize,
        can_bootstrap: bool,
        params: &str,
    ) -> Result<Self> {
        let p = tables.base();
        let (r, s) = coded_schedule(p).ok_or(Error::InvalidParameter {
            name: "p",
            value: p as f64,
            expected: "4, 8, 16, 32 or 64 (CodedHELUT's published schedules)",
        })?;
        let (seg, slots) = segment_slots(tables, max_slots)?;
        let mut list = vec![Step::Indicator];
        list.extend(std::iter::repeat_n(Step::Square, r));
        list.extend(std::iter::repeat_n(Step::Sharpen, s));
        list.push(Step::Columns);
        let depth: usize = list.iter().map(|s| s.depth()).sum();
        let mut level = start_level;
        let mut bootstraps = 0;
        let mut steps = Vec::with_capacity(list.len());
        let mut columns_level = 0;
        for step in list {
            let boot = level < step.depth();
            if boot {
                bootstraps += 1;
                level = start_level;
            }
            if level < step.depth() {
                return Err(Error::InvalidParameter {
                    name: "start_level",
                    value: start_level as f64,
                    expected: "at least 2 levels after bootstrapping",
                });
            }
            if step == Step::Columns {
                columns_level = level;
            }
            level -= step.depth();
            steps.push((step, boot));
        }
        if bootstraps > 0 && !can_bootstrap {
            return Err(Error::NeedsBootstrap {
                config: format!("coded-helut (p = {p}, r = {r}, s = {s})"),
                params: params.to_owned(),
                needed: depth as u32,
                available: start_level as u32,
                bootstraps: bootstraps as u32,
            });
        }
        Ok(Self {
            p,
            r,
            s,
            seg,
            slots,
            depth,
            bootstraps,
            columns_level,
            steps,
        })
    }

    /// The rotations of the rotate-and-sum: `1, 2, 4, …, seg/2`.
    pub fn rotations(&self) -> Vec<i64> {
        (0..self.seg.trailing_zeros()).map(|k| 1i64 << k).collect()
    }
}

/// `(seg, slots)`: the segment of the widest table and the ciphertext's slot count.
fn segment_slots(tables: &LookupTables, max_slots: usize) -> Result<(usize, usize)> {
    let p = tables.base();
    let widest = tables
        .digits()
        .iter()
        .map(|&l| p * u64::from(l))
        .max()
        .unwrap_or(p);
    let seg = usize::try_from(widest)
        .map_err(|_| Error::InvalidParameter {
            name: "slots",
            value: widest as f64,
            expected: "a segment that fits in a ciphertext",
        })?
        .next_power_of_two();
    let slots = (seg * tables.len()).next_power_of_two();
    if slots > max_slots {
        return Err(Error::InvalidParameter {
            name: "slots",
            value: slots as f64,
            expected: "tables × segment no larger than the ciphertext's slots",
        });
    }
    Ok((seg, slots))
}

/// The client's input: `digit_i(x_t) − j` in slot `t·seg + i·p + j`.
fn client_vector(tables: &LookupTables, indices: &[u64], plan: &CodedPlan) -> Result<Vec<f64>> {
    let mut v = vec![0.0; plan.slots];
    let p = plan.p;
    for (t, (&x, &l)) in indices.iter().zip(tables.digits()).enumerate() {
        for (i, dig) in decompose(x, p, l)?.into_iter().enumerate() {
            for j in 0..p {
                v[t * plan.seg + i * p as usize + j as usize] = dig as f64 - j as f64;
            }
        }
    }
    Ok(v)
}

/// Column `c` of the stacked sub-tables in the segment layout.
fn column(tables: &LookupTables, plan: &CodedPlan, c: usize) -> Vec<f64> {
    let mut v = vec![0.0; plan.slots];
    for (t, &l) in tables.digits().iter().enumerate() {
        for row in 0..plan.p * u64::from(l) {
            v[t * plan.seg + row as usize] = tables.sub_weight(t, row, c);
        }
    }
    v
}

fn encode_column(
    eval: &Evaluator,
    values: &[f64],
    level: Level,
    slots: usize,
) -> Result<Plaintext> {
    let q = eval
        .context()
        .params()
        .q()
        .get(level.get())
        .copied()
        .ok_or(Error::InvalidParameter {
            name: "level",
            value: level.get() as f64,
            expected: "a level of the chain",
        })?;
    Ok(eval.encode_real(
        values,
        level,
        q as f64,
        slots,
        DataClass::PlaintextEmbedding,
    )?)
}

/// Runs CodedHELUT (see the module docs); bootstraps on `boot_params` when `params` is short.
pub(crate) fn run_coded(
    tables: &LookupTables,
    indices: &[u64],
    params: &Arc<Params>,
    boot_params: Option<&Arc<Params>>,
    opts: &LookupOptions,
) -> Result<LookupRun> {
    let d = tables.dim();
    let name = params_name(params);
    // Plan on the given chain first; fall back to the bootstrapping set if it is too short.
    let direct = CodedPlan::new(
        tables,
        params.slots(),
        params.max_level().get(),
        false,
        &name,
    );
    let t_setup = Instant::now();
    let (run_params, ctx, plan, boot) = match (direct, boot_params) {
        (Ok(plan), _) => (
            params.clone(),
            CkksContext::new(params.clone(), opts.backend)?,
            plan,
            None,
        ),
        (Err(Error::NeedsBootstrap { .. }), Some(bp)) => {
            let ctx = CkksContext::new(bp.clone(), opts.backend)?;
            let (_, slots) = segment_slots(tables, bp.slots())?;
            let boot = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(slots))?;
            let start = boot.output_level().get();
            let plan = CodedPlan::new(tables, bp.slots(), start, true, &params_name(bp))?;
            (bp.clone(), ctx, plan, Some(boot))
        }
        (Err(e), _) => return Err(e),
    };
    let mut setup_seconds = t_setup.elapsed().as_secs_f64();
    let start = match &boot {
        Some(b) => b.output_level(),
        None => ctx.max_level(),
    };

    let t_keys = Instant::now();
    let mut client = Client::new(&ctx, opts.seed)?;
    let rotations = plan.rotations();
    let keys = match &boot {
        None => client
            .keygen
            .evaluation_keys(&rotations, plan.slots, false)?,
        Some(b) => {
            let mut keys = b.generate_keys(&mut client.keygen)?;
            let have: BTreeSet<u64> = keys.galois_elements().map(|g| g.0).collect();
            for &r in &rotations {
                let g = ctx.galois_element_for_rotation(r, plan.slots)?;
                if g.0 != 1 && !have.contains(&g.0) {
                    let key = client.keygen.galois_key(g)?;
                    keys.insert_galois(g, key);
                }
            }
            keys
        }
    };
    let keys = Arc::new(keys);
    let keygen_seconds = t_keys.elapsed().as_secs_f64();
    let eval_key_bytes = keys.bytes();

    let v = client_vector(tables, indices, &plan)?;
    let scale = ctx.params().default_scale();
    let pt = ctx.encode_real(&v, start, scale, plan.slots, DataClass::Other)?;
    let input = client.encryptor.encrypt(&pt)?;

    let t_enc = Instant::now();
    let untraced = Evaluator::new(ctx.clone(), keys.clone());
    let columns_level = ctx.params().level(plan.columns_level)?;
    let columns: Vec<Vec<f64>> = (0..d).map(|c| column(tables, &plan, c)).collect();
    let pre: Option<Vec<Plaintext>> = match opts.diagonals {
        DiagonalMode::PreEncoded => Some(
            columns
                .iter()
                .map(|c| encode_column(&untraced, c, columns_level, plan.slots))
                .collect::<Result<_>>()?,
        ),
        DiagonalMode::OnTheFly => None,
    };
    setup_seconds += t_enc.elapsed().as_secs_f64();

    let indicator = Polynomial::monomial(&[1.0, 0.0, -2.0 / (plan.p * plan.p) as f64])?;
    let sharpen = Polynomial::monomial(&[0.0, 0.0, 3.0, -2.0])?;
    let square = CoreActivation::square();

    let counter = Arc::new(RotationCounter::default());
    let eval = Evaluator::new(ctx.clone(), keys).with_tracer(tracer(
        opts.backend,
        opts.sink.as_ref(),
        &counter,
    ));
    let t0 = Instant::now();
    let mut outputs: Vec<Ciphertext> = Vec::with_capacity(d);
    let mut bootstraps = 0;
    {
        let _scope = eval.scope("lookup/coded-helut");
        let mut y = input;
        for &(step, boot_first) in &plan.steps {
            if boot_first {
                if let Some(b) = &boot {
                    y = b.bootstrap(&eval, &y)?;
                    bootstraps += 1;
                }
            }
            match step {
                Step::Indicator => {
                    let _s = eval.scope("indicator");
                    y = indicator.evaluate(&eval, &y)?;
                }
                Step::Square => y = square.evaluate(&eval, &y)?,
                Step::Sharpen => {
                    let _s = eval.scope("sharpen");
                    y = sharpen.evaluate(&eval, &y)?;
                }
                Step::Columns => {
                    let _s = eval.scope("columns");
                    for c in 0..d {
                        let fly;
                        let pt = match &pre {
                            Some(p) => &p[c],
                            None => {
                                fly = encode_column(&eval, &columns[c], y.level(), plan.slots)?;
                                &fly
                            }
                        };
                        let mut z = eval.rescale(&eval.mul_plain(&y, pt)?)?;
                        for &r in &rotations {
                            let rz = eval.rotate(&z, r)?;
                            z = eval.add(&z, &rz)?;
                        }
                        outputs.push(z);
                    }
                }
            }
        }
    }
    let server_seconds = t0.elapsed().as_secs_f64();

    let expected = indices
        .iter()
        .enumerate()
        .map(|(t, &i)| tables.lookup(t, i))
        .collect::<Result<Vec<_>>>()?;
    let mut output = vec![vec![0.0; d]; tables.len()];
    let mut real = true;
    for (c, ct) in outputs.iter().enumerate() {
        match client.decrypt(ct)? {
            Some(v) => {
                for (t, e) in output.iter_mut().enumerate() {
                    e[c] = v[t * plan.seg];
                }
            }
            None => real = false,
        }
    }
    Ok(LookupRun {
        method: Method::CodedHelut,
        params: params_name(&run_params),
        tables: tables.len(),
        dim: d,
        server_seconds,
        keygen_seconds,
        setup_seconds,
        rotations: counter.get(),
        levels: plan.depth,
        bootstraps,
        input_ciphertexts: 1,
        output_ciphertexts: outputs.len(),
        eval_key_bytes,
        max_abs_error: real.then(|| max_abs_error(&output, &expected)),
        output: if real { output } else { Vec::new() },
        expected,
    })
}

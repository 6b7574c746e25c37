//! `helrm infer --dataset uci|criteo [--config NAME] [--model FILE] [--params NAME]
//! [--samples N] [--trace FILE] [--json] [--probe]`: encrypted DLRM inference on held-out
//! rows, compared with the plaintext model; `--probe` also decrypts and summarises every
//! intermediate result of the server ([`super::probe`]).
//!
//! Without `--model` the UCI model is trained (seed 1, a few seconds) on the fixed Cleveland
//! split; the Criteo model (`--config criteo` by default) is trained (seed 1) on the 8,000
//! shipped rows, calibrated, and its ReLUs replaced by the composite ReLU. Criteo rows are
//! the shipped hold-out rows. Before any key is made, the plan's peak-memory figure is
//! compared with this machine's available memory (`/proc/meminfo`), and a run that would not
//! fit is refused (exit code 2) with that figure and a suggestion. Each sample: the client encrypts, the server runs the model, the client decrypts.
//! `--json` prints `samples`, `plaintext_accuracy`, `label_agreement`, `max_abs_logit_error`,
//! `server_seconds` (mean per sample) and `stage_seconds` (mean per sample, per stage).
//! The trace file is written to a temporary name and renamed when complete.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use helrm_core::circuits::bootstrap::DiagonalStorage;
use helrm_core::ckks::{CkksContext, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{
    create_writer, Encoding, ParamsSummary, TraceHeader, TraceMode, TraceSink, Tracer,
};
use helrm_workloads::data::{cleveland_split, Dataset, Standardizer};
use helrm_workloads::data::{load_kaggle, CriteoIndexing};
use helrm_workloads::dlrm::train::train;
use helrm_workloads::dlrm::{Dlrm, DlrmConfig, TrainConfig};
use helrm_workloads::he::{Client, Server, StageSeconds};
use helrm_workloads::plan::{plan, Plan};
use std::sync::Mutex;

use super::probe::{observer, ProbeLog, ProbeRecord};
use serde::Serialize;

use super::CliError;

/// Arguments of `helrm infer`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// Dataset (`uci` or `criteo`; Criteo's ReLU layers need a bootstrappable parameter
    /// set such as `helrm-n16-boot`).
    #[arg(long, default_value = "uci")]
    pub dataset: String,
    /// Model configuration (default: the dataset's; `criteo` or `criteo-44m` for Criteo).
    #[arg(long)]
    pub config: Option<String>,
    /// A model saved by `helrm train` (default: train the UCI model now).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// CKKS parameter set.
    #[arg(long, default_value = "helrm-n16-l10")]
    pub params: String,
    /// Held-out rows to run (default: all).
    #[arg(long)]
    pub samples: Option<usize>,
    /// Write the operation trace here (`.jsonl` or `.htrace`).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Decrypt and summarise every intermediate result of the server (level, scale, largest
    /// real and imaginary slot values, each bootstrap's error): a debugging run with client
    /// and server in this one process.
    #[arg(long)]
    pub probe: bool,
}

/// What `helrm infer` reports.
#[derive(Debug, Serialize)]
pub struct InferReport {
    /// Dataset name.
    pub dataset: String,
    /// Parameter set.
    pub params: String,
    /// Rows run.
    pub samples: usize,
    /// Plaintext accuracy on those rows.
    pub plaintext_accuracy: f64,
    /// Fraction of rows whose encrypted label equals the plaintext label.
    pub label_agreement: f64,
    /// Largest |encrypted logit − plaintext logit|.
    pub max_abs_logit_error: f64,
    /// Mean server seconds per sample.
    pub server_seconds: f64,
    /// Mean seconds per sample and stage.
    pub stage_seconds: StageSeconds,
    /// Levels the plan needs without bootstrapping.
    pub levels: u32,
    /// Bootstraps per sample.
    pub bootstraps: u32,
    /// The plan's peak-memory estimate.
    pub peak_memory_bytes: u64,
    /// Real encrypted run or symbolic (shapes only).
    pub mode: &'static str,
    /// Slots used.
    pub slots: usize,
    /// With `--probe`: every intermediate result of the server, decrypted and summarised.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probe: Vec<ProbeRecord>,
}

fn run_err(e: impl std::fmt::Display) -> CliError {
    CliError::Run(e.to_string())
}

/// The UCI model (`model` file or trained now with seed 1) and the held-out rows.
///
/// # Errors
/// [`CliError::Input`] for another dataset or an unreadable model; [`CliError::Run`] when
/// training fails.
pub fn uci_model(dataset: &str, model: Option<&Path>) -> Result<(Dlrm, Dataset), CliError> {
    if dataset != "uci" {
        return Err(CliError::Input(format!(
            "--dataset {dataset}: expected `uci` here (Criteo models load through \
             `criteo_model`)"
        )));
    }
    let split = cleveland_split().map_err(run_err)?;
    let m = match model {
        Some(p) => load_model(p)?,
        None => {
            let mut m = Dlrm::new(DlrmConfig::uci(), 1).map_err(run_err)?;
            train(&mut m, &split.train, &TrainConfig::uci(), |_| {}).map_err(run_err)?;
            m
        }
    };
    Ok((m, split.test))
}

fn load_model(p: &Path) -> Result<Dlrm, CliError> {
    Dlrm::load(p).map_err(|e| CliError::Input(format!("--model: {e}")))
}

/// A Criteo model and the shipped hold-out rows (standardised as the model says). The model
/// is `model` (its exact ReLUs, if any, replaced by the calibrated composite ReLU), or
/// `config` trained now (seed 1) and made composite, or — with `shape_only`, for symbolic
/// runs whose values do not matter — an untrained `config` with composite ReLUs of bound 1.
///
/// # Errors
/// [`CliError::Input`] for an unknown configuration or an unreadable model;
/// [`CliError::Run`] when loading the data or training fails.
pub fn criteo_model(
    config: &str,
    model: Option<&Path>,
    shape_only: bool,
) -> Result<(Dlrm, Dataset), CliError> {
    let data = load_kaggle(CriteoIndexing::KaggleHashed).map_err(run_err)?;
    let mut m = match model {
        Some(p) => load_model(p)?,
        None => {
            let cfg =
                DlrmConfig::named(config).map_err(|e| CliError::Input(format!("--config: {e}")))?;
            let mut m = Dlrm::new(cfg, 1).map_err(run_err)?;
            if shape_only {
                m.relu_to_core_composite_unit().map_err(run_err)?;
            } else {
                let s = Standardizer::fit(&data.train).map_err(run_err)?;
                let train_set = s.transform(&data.train).map_err(run_err)?;
                m.set_standardizer(Some(s)).map_err(run_err)?;
                train(&mut m, &train_set, &TrainConfig::criteo(), |_| {}).map_err(run_err)?;
                let cal = m.calibrate(&train_set).map_err(run_err)?;
                m.set_calibration(Some(cal)).map_err(run_err)?;
            }
            m
        }
    };
    if m.calibration().is_some() {
        m.relu_to_core_composite().map_err(run_err)?;
    } else {
        m.relu_to_core_composite_unit().map_err(run_err)?;
    }
    let test = match m.standardizer() {
        Some(s) => s.transform(&data.holdout).map_err(run_err)?,
        None => data.holdout,
    };
    Ok((m, test))
}

/// The model and held-out rows of `dataset` (see [`uci_model`] and [`criteo_model`]).
///
/// # Errors
/// [`CliError::Input`] for an unknown dataset or configuration; as the loaders.
pub fn dataset_model(
    dataset: &str,
    config: Option<&str>,
    model: Option<&Path>,
    shape_only: bool,
) -> Result<(Dlrm, Dataset), CliError> {
    match dataset {
        "uci" => {
            if let Some(c) = config.filter(|&c| c != "uci") {
                return Err(CliError::Input(format!(
                    "--config {c}: the uci dataset runs the `uci` configuration"
                )));
            }
            uci_model(dataset, model)
        }
        "criteo" => criteo_model(config.unwrap_or("criteo"), model, shape_only),
        other => Err(CliError::Input(format!(
            "--dataset {other}: expected uci or criteo"
        ))),
    }
}

/// This machine's available memory (`MemAvailable` of `/proc/meminfo`), if readable.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("MemAvailable:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// Refuses a plan whose peak memory exceeds the available memory.
///
/// # Errors
/// [`CliError::Input`] with the plan's figure and a suggestion.
pub fn check_memory(plan: &Plan) -> Result<(), CliError> {
    let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
    match available_memory() {
        Some(avail) if plan.peak_memory_bytes > avail => Err(CliError::Input(format!(
            "{} on {} needs about {:.1} GiB at its peak ({:.1} GiB of evaluation keys) but this \
             machine has {:.1} GiB available; run `helrm plan --config {} --params {}` for the \
             breakdown, trace it symbolically instead (`helrm trace --symbolic`), or run on a \
             machine with more memory",
            plan.config,
            plan.params,
            gib(plan.peak_memory_bytes),
            gib(plan.evaluation_key_bytes),
            gib(avail),
            plan.config,
            plan.params
        ))),
        _ => Ok(()),
    }
}

/// A trace writer on a temporary file next to `path`, renamed by `finish_trace`.
pub(crate) fn trace_writer(
    path: &Path,
    params: &Params,
    mode: TraceMode,
) -> Result<(Arc<dyn TraceSink>, PathBuf), CliError> {
    let encoding = Encoding::from_path(path).ok_or_else(|| {
        CliError::Input(format!(
            "{}: trace files end in .jsonl or .htrace",
            path.display()
        ))
    })?;
    let bits = |v: &[u64]| v.iter().map(|&x| 64 - x.leading_zeros()).collect();
    let header = TraceHeader::new(
        params.fingerprint(),
        ParamsSummary {
            log_n: params.log_n(),
            q_bits: bits(params.q()),
            p_bits: bits(params.p()),
            dnum: u32::try_from(params.dnum()).unwrap_or(u32::MAX),
            word_bytes: 8,
        },
        mode,
        format!("helrm {}", env!("CARGO_PKG_VERSION")),
    );
    super::simulate::check_output_path(path)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let sink = create_writer(&tmp, encoding, &header)
        .map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?;
    Ok((sink, tmp))
}

/// A temporary file removed when dropped, unless taken out first (a failed run leaves no
/// partial trace behind).
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // Best effort: the file is ours and incomplete.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Runs `samples` held-out rows of `model` on `params_name` with `backend`; with `trace`
/// writes the server's operation trace there. Symbolic runs skip decryption (the report's
/// error fields are then 0).
///
/// # Errors
/// [`CliError::Input`] for an unknown parameter set or a model that needs bootstrapping;
/// [`CliError::Run`] for failures while running.
pub fn run_pipeline(
    model: &Dlrm,
    test: &Dataset,
    params_name: &str,
    samples: Option<usize>,
    backend: Backend,
    trace: Option<&Path>,
) -> Result<InferReport, CliError> {
    run_pipeline_probed(model, test, params_name, samples, backend, trace, false)
}

/// Held-out row `i` of `test`: dense and sparse features.
fn row(test: &Dataset, i: usize) -> (&[f32], &[u32]) {
    let (nd, ns) = (test.num_dense(), test.num_sparse());
    (
        &test.dense()[i * nd..(i + 1) * nd],
        &test.sparse()[i * ns..(i + 1) * ns],
    )
}

/// Accuracy, agreement, logit error and stage times accumulated over samples.
#[derive(Debug, Default)]
struct Tally {
    correct: usize,
    agree: usize,
    max_err: f64,
    stages: StageSeconds,
}

impl Tally {
    /// One sample: plaintext logit `want`, true label `positive`, decrypted logit `got`
    /// (none in symbolic runs), server stage times `t`.
    fn add(&mut self, want: f64, positive: bool, got: Option<f64>, t: StageSeconds) {
        self.correct += usize::from((want > 0.0) == positive);
        if let Some(got) = got {
            self.agree += usize::from((got > 0.0) == (want > 0.0));
            self.max_err = self.max_err.max((got - want).abs());
        }
        self.stages += t;
    }
}

/// Runs the encrypted `queries` with a probe that decrypts every intermediate result (see
/// [`super::probe`]) and returns its records.
fn probed_run(
    client: &Client,
    server: Server<'_>,
    model: &Dlrm,
    test: &Dataset,
    queries: &[helrm_workloads::he::Query],
    tally: &mut Tally,
) -> Result<Vec<ProbeRecord>, CliError> {
    let dec = client.decryptor();
    let log = Mutex::new(ProbeLog::default());
    let mut server = server;
    server.set_probe(Box::new(observer(&log, &dec)));
    for (i, q) in queries.iter().enumerate() {
        log.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set_sample(i);
        let (dense, sparse) = row(test, i);
        let want = model.logit(dense, sparse).map_err(run_err)?;
        let (ct, t) = server.infer(q).map_err(run_err)?;
        let got = client.decrypt_logit(&ct).map_err(run_err)?;
        tally.add(want, test.labels()[i] == 1, Some(got), t);
    }
    drop(server);
    Ok(log
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_records())
}

/// As [`run_pipeline`]; with `probe` (real runs), every intermediate ciphertext of the
/// server is decrypted by the client and summarised in the report's `probe` records.
/// Queries are then all encrypted before the first runs.
///
/// # Errors
/// As [`run_pipeline`].
pub fn run_pipeline_probed(
    model: &Dlrm,
    test: &Dataset,
    params_name: &str,
    samples: Option<usize>,
    backend: Backend,
    trace: Option<&Path>,
    probe: bool,
) -> Result<InferReport, CliError> {
    let params =
        Params::preset(params_name).map_err(|e| CliError::Input(format!("--params: {e}")))?;
    let ctx = CkksContext::new(params.clone(), backend).map_err(run_err)?;
    let mode = if backend == Backend::Real {
        TraceMode::Real
    } else {
        TraceMode::Symbolic
    };
    let tracing = match trace {
        Some(p) => {
            let (sink, tmp) = trace_writer(p, &params, mode)?;
            let tracer = Arc::new(if backend == Backend::Real {
                Tracer::new(sink)
            } else {
                Tracer::untimed(sink)
            });
            Some((tracer, tmp, p.to_path_buf()))
        }
        None => None,
    };
    let mut unfinished = RemoveOnDrop(tracing.as_ref().map(|(_, tmp, _)| tmp.clone()));
    let plan =
        plan(model, ctx.params(), params_name).map_err(|e| CliError::Input(e.to_string()))?;
    if backend == Backend::Real {
        check_memory(&plan)?;
    }
    let seed = (backend == Backend::Symbolic).then_some(0);
    let mut client = Client::with_plan(ctx.clone(), model, plan, seed).map_err(|e| match e {
        helrm_workloads::Error::NeedsBootstrap { .. } => CliError::Input(format!(
            "{e}; use a bootstrappable parameter set (--params helrm-n16-boot)"
        )),
        e => run_err(e),
    })?;
    let keys = client.evaluation_keys().map_err(run_err)?;
    let server = Server::with_plan(
        ctx,
        keys,
        model,
        client.plan().clone(),
        tracing.as_ref().map(|(t, _, _)| t.clone()),
        DiagonalStorage::PreEncoded,
    )
    .map_err(run_err)?;
    let n = samples.unwrap_or(test.len()).min(test.len());
    let mut tally = Tally::default();
    let mut probe_records = Vec::new();
    if probe && backend == Backend::Real {
        let queries = (0..n)
            .map(|i| {
                let (dense, sparse) = row(test, i);
                client.encrypt(dense, sparse)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(run_err)?;
        probe_records = probed_run(&client, server, model, test, &queries, &mut tally)?;
    } else {
        for i in 0..n {
            let (dense, sparse) = row(test, i);
            let want = model.logit(dense, sparse).map_err(run_err)?;
            let q = client.encrypt(dense, sparse).map_err(run_err)?;
            let (ct, t) = server.infer(&q).map_err(run_err)?;
            let got = if backend == Backend::Real {
                Some(client.decrypt_logit(&ct).map_err(run_err)?)
            } else {
                None
            };
            tally.add(want, test.labels()[i] == 1, got, t);
        }
    }
    let Tally {
        correct,
        agree,
        max_err,
        stages,
    } = tally;
    if let Some((tracer, tmp, path)) = tracing {
        tracer.finish().map_err(run_err)?;
        std::fs::rename(&tmp, &path).map_err(|e| run_err(format!("{}: {e}", path.display())))?;
        unfinished.0 = None;
    }
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    let plan = client.plan();
    let report = InferReport {
        dataset: test.name().to_owned(),
        params: params_name.into(),
        samples: n,
        plaintext_accuracy: per(correct as f64),
        label_agreement: per(agree as f64),
        max_abs_logit_error: max_err,
        server_seconds: per(stages.total),
        stage_seconds: StageSeconds {
            bottom: per(stages.bottom),
            embedding: per(stages.embedding),
            top: per(stages.top),
            bootstrap: per(stages.bootstrap),
            total: per(stages.total),
        },
        levels: plan.levels_needed,
        bootstraps: plan.bootstraps,
        peak_memory_bytes: plan.peak_memory_bytes,
        mode: if backend == Backend::Real {
            "real"
        } else {
            "symbolic"
        },
        slots: plan.slots,
        probe: probe_records,
    };
    Ok(report)
}

/// Runs `helrm infer`.
///
/// # Errors
/// As [`uci_model`] and [`run_pipeline`].
pub fn run(args: InferArgs) -> Result<(), CliError> {
    let (model, test) = dataset_model(
        &args.dataset,
        args.config.as_deref(),
        args.model.as_deref(),
        false,
    )?;
    if let Some(s) = args.samples.filter(|&s| s > test.len()) {
        eprintln!(
            "helrm: --samples {s}: {} has {} held-out rows; running all of them",
            test.name(),
            test.len()
        );
    }
    let r = run_pipeline_probed(
        &model,
        &test,
        &args.params,
        args.samples,
        Backend::Real,
        args.trace.as_deref(),
        args.probe,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r).map_err(run_err)?);
    } else {
        println!(
            "{} samples of {} at {} ({} slots, {} levels, {} bootstraps): plaintext accuracy \
             {:.3}, label agreement {:.3}, max |logit diff| {:.2e}, server {:.3} s/sample \
             (bottom {:.3}, embedding {:.3}, top {:.3}; bootstrapping {:.3})",
            r.samples,
            r.dataset,
            r.params,
            r.slots,
            r.levels,
            r.bootstraps,
            r.plaintext_accuracy,
            r.label_agreement,
            r.max_abs_logit_error,
            r.server_seconds,
            r.stage_seconds.bottom,
            r.stage_seconds.embedding,
            r.stage_seconds.top,
            r.stage_seconds.bootstrap
        );
        if !r.probe.is_empty() {
            print!("{}", super::probe::table(&r.probe));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests panic on failure")]
    use super::*;
    use helrm_core::trace::{diff, TraceReader};

    #[test]
    fn probe_records_every_step_and_bootstrap_error() {
        let (m, test) = uci_model("uci", None).unwrap();
        let plain = run_pipeline(&m, &test, "toy-n12-l10", Some(2), Backend::Real, None).unwrap();
        let r = run_pipeline_probed(&m, &test, "toy-n12-l10", Some(2), Backend::Real, None, true)
            .unwrap();
        // The probe changes nothing the report measures.
        assert_eq!(r.label_agreement, plain.label_agreement);
        assert!(r.max_abs_logit_error <= 1e-3, "{}", r.max_abs_logit_error);
        // Both samples, every layer's linear product and activation, the interaction.
        for i in 0..2 {
            let labels: Vec<&str> = r
                .probe
                .iter()
                .filter(|p| p.sample == i)
                .map(|p| p.label.as_str())
                .collect();
            assert!(labels.contains(&"bottom/layer0/linear/y"), "{labels:?}");
            assert!(labels.contains(&"bottom/layer0/square/y"), "{labels:?}");
            assert!(labels.contains(&"interaction/y"), "{labels:?}");
            assert!(labels.iter().any(|l| l.starts_with("top/")), "{labels:?}");
        }
        for p in &r.probe {
            // UCI values are real and below a few units; levels only go down without
            // bootstrapping.
            assert!(p.max_abs_re.is_finite() && p.max_abs_re < 1e3, "{p:?}");
            assert!(p.max_abs_im < 1e-3, "{p:?}");
            assert!(p.bootstrap_error.is_none());
        }
        let t = super::super::probe::table(&r.probe);
        assert_eq!(t.lines().count(), r.probe.len() + 1);
        // Symbolic runs cannot be probed: the flag is ignored, no records.
        let s = run_pipeline_probed(
            &m,
            &test,
            "toy-n12-l10",
            Some(1),
            Backend::Symbolic,
            None,
            true,
        )
        .unwrap();
        assert!(s.probe.is_empty());
    }

    #[test]
    fn real_infer_trace_equals_symbolic_trace_and_logits_agree() {
        let dir = tempfile::tempdir().unwrap();
        let (real, sym) = (dir.path().join("r.jsonl"), dir.path().join("s.jsonl"));
        let (m, test) = uci_model("uci", None).unwrap();
        let r = run_pipeline(
            &m,
            &test,
            "toy-n12-l10",
            Some(2),
            Backend::Real,
            Some(&real),
        )
        .unwrap();
        assert_eq!(r.samples, 2);
        assert_eq!(r.label_agreement, 1.0);
        assert!(r.max_abs_logit_error <= 1e-3, "{}", r.max_abs_logit_error);
        run_pipeline(
            &m,
            &test,
            "toy-n12-l10",
            Some(2),
            Backend::Symbolic,
            Some(&sym),
        )
        .unwrap();
        let a = TraceReader::open(&real).unwrap();
        let b = TraceReader::open(&sym).unwrap();
        assert!(diff(a, b).unwrap().is_none());
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn criteo_and_unknown_params_are_input_errors() {
        assert!(matches!(uci_model("criteo", None), Err(CliError::Input(_))));
        assert!(matches!(
            dataset_model("nope", None, None, true),
            Err(CliError::Input(_))
        ));
        let (m, test) = uci_model("uci", None).unwrap();
        let e = run_pipeline(&m, &test, "no-such", Some(1), Backend::Symbolic, None);
        assert!(matches!(e, Err(CliError::Input(_))));
    }
}

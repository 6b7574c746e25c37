//! `helrm infer --dataset uci [--model FILE] [--params NAME] [--samples N] [--trace FILE]
//! [--json]`: encrypted DLRM inference on held-out rows, compared with the plaintext model.
//!
//! Without `--model` the UCI model is trained (seed 1, a few seconds) on the fixed Cleveland
//! split. Each sample: the client encrypts, the server runs the model, the client decrypts.
//! `--json` prints `samples`, `plaintext_accuracy`, `label_agreement`, `max_abs_logit_error`,
//! `server_seconds` (mean per sample) and `stage_seconds` (mean per sample, per stage).
//! The trace file is written to a temporary name and renamed when complete.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use helrm_core::ckks::{CkksContext, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{
    create_writer, Encoding, ParamsSummary, TraceHeader, TraceMode, TraceSink, Tracer,
};
use helrm_workloads::data::{cleveland_split, Dataset};
use helrm_workloads::dlrm::train::train;
use helrm_workloads::dlrm::{Dlrm, DlrmConfig, TrainConfig};
use helrm_workloads::he::{Client, Server, StageSeconds};
use serde::Serialize;

use super::CliError;

/// Arguments of `helrm infer`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// Dataset (`uci`; Criteo needs bootstrapping for its ReLU layers).
    #[arg(long, default_value = "uci")]
    pub dataset: String,
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
    /// Levels the plan needs.
    pub levels: u32,
    /// Slots used.
    pub slots: usize,
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
            "--dataset {dataset}: encrypted inference runs on `uci` only for now (the Criteo \
             models use composite ReLU, which needs bootstrapping); try `helrm plan --config \
             criteo`"
        )));
    }
    let split = cleveland_split().map_err(run_err)?;
    let m = match model {
        Some(p) => {
            Dlrm::load(p).map_err(|e| CliError::Input(format!("--model {}: {e}", p.display())))?
        }
        None => {
            let mut m = Dlrm::new(DlrmConfig::uci(), 1).map_err(run_err)?;
            train(&mut m, &split.train, &TrainConfig::uci(), |_| {}).map_err(run_err)?;
            m
        }
    };
    Ok((m, split.test))
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
    let seed = (backend == Backend::Symbolic).then_some(0);
    let mut client = Client::new(ctx.clone(), model, params_name, seed).map_err(|e| match e {
        helrm_workloads::Error::NeedsBootstrap { .. } => {
            CliError::Input(format!("{e}; bootstrapping is not available yet"))
        }
        e => run_err(e),
    })?;
    let keys = client.evaluation_keys().map_err(run_err)?;
    let server = Server::new(
        ctx,
        keys,
        model,
        tracing.as_ref().map(|(t, _, _)| t.clone()),
    )
    .map_err(run_err)?;
    let n = samples.unwrap_or(test.len()).min(test.len());
    let (nd, ns) = (test.num_dense(), test.num_sparse());
    let (mut correct, mut agree, mut max_err) = (0usize, 0usize, 0f64);
    let mut stages = StageSeconds::default();
    for i in 0..n {
        let dense = &test.dense()[i * nd..(i + 1) * nd];
        let sparse = &test.sparse()[i * ns..(i + 1) * ns];
        let want = model.logit(dense, sparse).map_err(run_err)?;
        correct += usize::from((want > 0.0) == (test.labels()[i] == 1));
        let q = client.encrypt(dense, sparse).map_err(run_err)?;
        let (ct, t) = server.infer(&q).map_err(run_err)?;
        stages += t;
        if backend == Backend::Real {
            let got = client.decrypt_logit(&ct).map_err(run_err)?;
            agree += usize::from((got > 0.0) == (want > 0.0));
            max_err = max_err.max((got - want).abs());
        }
    }
    if let Some((tracer, tmp, path)) = tracing {
        tracer.finish().map_err(run_err)?;
        std::fs::rename(&tmp, &path).map_err(|e| run_err(format!("{}: {e}", path.display())))?;
        unfinished.0 = None;
    }
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    let plan = client.plan();
    Ok(InferReport {
        dataset: "uci".into(),
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
            total: per(stages.total),
        },
        levels: plan.levels_needed,
        slots: plan.slots,
    })
}

/// Runs `helrm infer`.
///
/// # Errors
/// As [`uci_model`] and [`run_pipeline`].
pub fn run(args: InferArgs) -> Result<(), CliError> {
    let (model, test) = uci_model(&args.dataset, args.model.as_deref())?;
    let r = run_pipeline(
        &model,
        &test,
        &args.params,
        args.samples,
        Backend::Real,
        args.trace.as_deref(),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r).map_err(run_err)?);
    } else {
        println!(
            "{} samples at {} ({} slots, {} levels): plaintext accuracy {:.3}, label agreement \
             {:.3}, max |logit diff| {:.2e}, server {:.3} s/sample (bottom {:.3}, embedding \
             {:.3}, top {:.3})",
            r.samples,
            r.params,
            r.slots,
            r.levels,
            r.plaintext_accuracy,
            r.label_agreement,
            r.max_abs_logit_error,
            r.server_seconds,
            r.stage_seconds.bottom,
            r.stage_seconds.embedding,
            r.stage_seconds.top
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests panic on failure")]
    use super::*;
    use helrm_core::trace::{diff, TraceReader};

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
        let (m, test) = uci_model("uci", None).unwrap();
        let e = run_pipeline(&m, &test, "no-such", Some(1), Backend::Symbolic, None);
        assert!(matches!(e, Err(CliError::Input(_))));
    }
}

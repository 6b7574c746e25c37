//! `helrm demo [--quick] [--json] [--out DIR] [--params NAME] [--samples N]`: the main job.
//!
//! On the shipped UCI Heart Disease data: train the `uci` model (seed 1, as `helrm train`
//! does), encrypt every held-out row on the client, run encrypted inference on the server
//! with a trace sink attached, decrypt, and compare with the plaintext model; then replay the
//! recorded trace on every shipped machine model and report simulated time and off-chip
//! bytes per data class. `--quick` is the CI smoke run (4 rows).
//!
//! `--json` prints one object with `plaintext_accuracy`, `encrypted_accuracy`,
//! `label_agreement`, `max_abs_logit_error`, `server_seconds` (total), `machines` (each
//! `{name, total_seconds, offchip_bytes_by_class, ...}`), `params`, `samples`, `stages` and
//! more. `--out DIR` writes `model.json`, `trace.htrace.jsonl`, `<machine>.report.json` and
//! `.csv` for every machine, `<machine>.timeline.json` (Perfetto) for [`TIMELINE_MACHINES`],
//! `summary.json` and `summary.svg`; every file is written under a temporary name and renamed
//! when complete. Without `--out` the trace goes to a private temporary directory that is
//! removed afterwards.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use helrm_core::ckks::{CkksContext, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{TraceMode, Tracer};
use helrm_hwmodels::builtin_names;
use helrm_sim::report::{ReadWrite, Report};
use helrm_workloads::data::cleveland_split;
use helrm_workloads::dlrm::Dlrm;
use helrm_workloads::he::{Client, Server, StageSeconds};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::simulate::{bytes, seconds, table, write_atomic, SimulateArgs};
use super::svg::{document, Panel, Scale};
use super::train::{train_and_save, DatasetName, TrainArgs};
use super::CliError;

/// Machines whose Perfetto timeline `--out` writes (a CPU and an accelerator; each is
/// about 20 MB for the full demo).
pub const TIMELINE_MACHINES: &[&str] = &["host-cpu", "ark"];

/// Held-out rows `--quick` runs.
const QUICK_SAMPLES: usize = 4;

/// Arguments of `helrm demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// CI smoke run: 4 held-out rows (unless `--samples` says otherwise).
    #[arg(long)]
    pub quick: bool,
    /// Print one JSON object instead of tables (and no progress bars).
    #[arg(long)]
    pub json: bool,
    /// Write the model, trace, per-machine reports, timelines and summary.svg here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// CKKS parameter set (`helrm params list`); helrm-n16-l10 is HE-LRM's own configuration.
    #[arg(long, default_value = "helrm-n14")]
    pub params: String,
    /// Held-out rows to run (default: all 61; 4 with --quick).
    #[arg(long)]
    pub samples: Option<usize>,
}

/// Seconds of one server stage.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StageTime {
    /// Over all rows.
    pub seconds: f64,
    /// Mean per row.
    pub seconds_per_sample: f64,
}

/// Measured server seconds by stage.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stages {
    /// Bottom MLP.
    pub bottom: StageTime,
    /// Packed embedding lookup.
    pub embedding: StageTime,
    /// Concatenation and top MLP.
    pub top: StageTime,
}

/// Measured client seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClientSeconds {
    /// Secret, public and evaluation key generation.
    pub keygen: f64,
    /// Encrypting one row (mean).
    pub encrypt_per_sample: f64,
    /// Decrypting one logit (mean).
    pub decrypt_per_sample: f64,
}

/// The trained model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    /// Configuration name.
    pub config: String,
    /// Trainable parameters.
    pub parameters: u64,
    /// Training wall time.
    pub train_seconds: f64,
    /// Plaintext accuracy on all held-out rows.
    pub test_accuracy: f64,
    /// Plaintext ROC AUC on all held-out rows.
    pub test_auc: Option<f64>,
}

/// The recorded trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceSummary {
    /// Homomorphic operations recorded.
    pub events: u64,
    /// Size of the trace file.
    pub bytes: u64,
    /// The file, when `--out` keeps it.
    pub file: Option<String>,
}

/// Off-chip bytes (read + written) of the class groups people ask about.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ClassGroups {
    /// `ciphertext`.
    pub ciphertexts: u64,
    /// `key_relin`, `key_galois`, `key_public`.
    pub keys: u64,
    /// `plaintext_weight`.
    pub weights: u64,
    /// `plaintext_embedding`.
    pub embeddings: u64,
    /// Everything else (`plaintext_constant`, `twiddle`, `temporary`, `other`).
    pub other: u64,
}

impl ClassGroups {
    /// Sums a report's per-class bytes into the groups.
    pub fn from_classes<'a>(classes: impl IntoIterator<Item = (&'a str, &'a ReadWrite)>) -> Self {
        let mut g = ClassGroups::default();
        for (name, rw) in classes {
            let b = rw.read + rw.write;
            let slot = match name {
                "ciphertext" => &mut g.ciphertexts,
                n if n.starts_with("key_") => &mut g.keys,
                "plaintext_weight" => &mut g.weights,
                "plaintext_embedding" => &mut g.embeddings,
                _ => &mut g.other,
            };
            *slot += b;
        }
        g
    }

    /// (name, bytes) in display order.
    pub fn named(&self) -> [(&'static str, u64); 5] {
        [
            ("ciphertexts", self.ciphertexts),
            ("keys", self.keys),
            ("weights", self.weights),
            ("embeddings", self.embeddings),
            ("other", self.other),
        ]
    }

    /// All groups together.
    pub fn total(&self) -> u64 {
        self.named().iter().map(|(_, b)| b).sum()
    }
}

/// One machine's replay of the trace.
#[derive(Debug, Clone, Serialize)]
pub struct MachineResult {
    /// Shipped model name.
    pub name: String,
    /// `cpu`, `gpu` or `accelerator`.
    pub kind: &'static str,
    /// What the figures are (`replay of a real trace`).
    pub mode: &'static str,
    /// Simulated seconds for all rows.
    pub total_seconds: f64,
    /// Simulated seconds per row.
    pub seconds_per_sample: f64,
    /// Measured server seconds on this host divided by the simulated seconds.
    pub speedup_vs_measured: f64,
    /// Off-chip bytes read and written per data class (every class the simulator knows).
    pub offchip_bytes_by_class: std::collections::BTreeMap<&'static str, ReadWrite>,
    /// The same, read + written, in the groups of the summary table.
    pub offchip_bytes_by_group: ClassGroups,
    /// Off-chip bytes read.
    pub offchip_read_bytes: u64,
    /// Off-chip bytes written.
    pub offchip_write_bytes: u64,
    /// Fraction of on-chip reads that hit.
    pub onchip_hit_rate: f64,
    /// The simulator's remarks.
    pub notes: Vec<String>,
}

/// Encrypted-vs-plaintext result of one held-out row.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RowResult {
    /// Index in the held-out split.
    pub index: usize,
    /// True label.
    pub label: u8,
    /// Plaintext logit.
    pub plaintext_logit: f64,
    /// Decrypted encrypted logit.
    pub encrypted_logit: f64,
}

/// What `helrm demo` reports (the `--json` object).
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// What was run, for readers of the numbers.
    pub mode: &'static str,
    /// Dataset.
    pub dataset: &'static str,
    /// Parameter set.
    pub params: String,
    /// log2 of the ring degree.
    pub log_n: u32,
    /// Slots the plan uses.
    pub slots: usize,
    /// Levels the plan needs.
    pub levels: u32,
    /// Held-out rows run.
    pub samples: usize,
    /// The trained model.
    pub model: ModelSummary,
    /// Plaintext accuracy on the rows run.
    pub plaintext_accuracy: f64,
    /// Accuracy of the decrypted logits on the rows run.
    pub encrypted_accuracy: f64,
    /// Fraction of rows whose encrypted label equals the plaintext label.
    pub label_agreement: f64,
    /// Largest |encrypted logit − plaintext logit|.
    pub max_abs_logit_error: f64,
    /// Measured server seconds, all rows.
    pub server_seconds: f64,
    /// Measured server seconds per row.
    pub server_seconds_per_sample: f64,
    /// Measured server seconds by stage.
    pub stages: Stages,
    /// Measured client seconds.
    pub client_seconds: ClientSeconds,
    /// The trace.
    pub trace: TraceSummary,
    /// One replay per shipped machine model.
    pub machines: Vec<MachineResult>,
    /// Per-row logits.
    pub rows: Vec<RowResult>,
    /// Files written (with `--out`).
    pub files: Vec<String>,
    /// Wall seconds of the whole demo.
    pub wall_seconds: f64,
}

fn run_err(e: impl std::fmt::Display) -> CliError {
    CliError::Run(e.to_string())
}

/// Where the demo's files go: `--out DIR`, or a private temporary directory removed on drop.
struct WorkDir {
    path: PathBuf,
    scratch: bool,
}

impl WorkDir {
    fn new(out: Option<&Path>) -> Result<Self, CliError> {
        match out {
            Some(dir) => {
                if dir.exists() && !dir.is_dir() {
                    return Err(CliError::Input(format!(
                        "--out {}: exists and is not a directory",
                        dir.display()
                    )));
                }
                std::fs::create_dir_all(dir).map_err(|e| {
                    CliError::Input(format!("--out {}: cannot create: {e}", dir.display()))
                })?;
                Ok(WorkDir {
                    path: dir.to_path_buf(),
                    scratch: false,
                })
            }
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let path =
                    std::env::temp_dir().join(format!("helrm-demo-{}-{nanos}", std::process::id()));
                std::fs::create_dir(&path)
                    .map_err(|e| run_err(format!("{}: cannot create: {e}", path.display())))?;
                Ok(WorkDir {
                    path,
                    scratch: true,
                })
            }
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.scratch {
            // Best effort: the directory is ours and only held the trace and model.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes a temporary file on drop unless disarmed.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn bar(show: bool, len: usize, template: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Result of the encrypted run.
struct Encrypted {
    rows: Vec<RowResult>,
    stages: StageSeconds,
    client: ClientSeconds,
    slots: usize,
    levels: u32,
}

fn he_err(e: helrm_workloads::Error) -> CliError {
    match e {
        helrm_workloads::Error::NeedsBootstrap { .. } => CliError::Input(format!(
            "--params: {e}; choose a parameter set with more levels (helrm params list)"
        )),
        e => run_err(e),
    }
}

/// Client encrypts, server infers with the tracer attached, client decrypts — `n` rows.
fn encrypted_run(
    model: &Dlrm,
    test: &helrm_workloads::data::Dataset,
    params_name: &str,
    params: &Arc<Params>,
    n: usize,
    trace: &Path,
    show: bool,
) -> Result<Encrypted, CliError> {
    let ctx = CkksContext::new(params.clone(), Backend::Real).map_err(run_err)?;
    let (sink, tmp) = super::infer::trace_writer(trace, params, TraceMode::Real)?;
    let mut guard = TempGuard(Some(tmp.clone()));
    let tracer = Arc::new(Tracer::new(sink));
    let t = Instant::now();
    let mut client = Client::new(ctx.clone(), model, params_name, None).map_err(he_err)?;
    let keys = client.evaluation_keys().map_err(he_err)?;
    let keygen = t.elapsed().as_secs_f64();
    let server = Server::new(ctx, keys, model, Some(tracer.clone())).map_err(he_err)?;
    let (nd, ns) = (test.num_dense(), test.num_sparse());
    let progress = bar(
        show,
        n,
        "encrypted inference [{bar:30}] {pos}/{len} rows, {msg} ({elapsed} elapsed, ETA {eta})",
    );
    let (mut stages, mut enc, mut dec) = (StageSeconds::default(), 0.0, 0.0);
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let dense = &test.dense()[i * nd..(i + 1) * nd];
        let sparse = &test.sparse()[i * ns..(i + 1) * ns];
        let want = model.logit(dense, sparse).map_err(run_err)?;
        let t = Instant::now();
        let q = client.encrypt(dense, sparse).map_err(he_err)?;
        enc += t.elapsed().as_secs_f64();
        let (ct, s) = server.infer(&q).map_err(he_err)?;
        stages += s;
        let t = Instant::now();
        let got = client.decrypt_logit(&ct).map_err(he_err)?;
        dec += t.elapsed().as_secs_f64();
        rows.push(RowResult {
            index: i,
            label: test.labels()[i],
            plaintext_logit: want,
            encrypted_logit: got,
        });
        progress.set_message(format!(
            "{:.2} s/row on the server",
            stages.total / (i + 1) as f64
        ));
        progress.inc(1);
    }
    progress.finish_and_clear();
    tracer.finish().map_err(run_err)?;
    std::fs::rename(&tmp, trace).map_err(|e| run_err(format!("{}: {e}", trace.display())))?;
    guard.0 = None;
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    let plan = client.plan();
    Ok(Encrypted {
        rows,
        stages,
        client: ClientSeconds {
            keygen,
            encrypt_per_sample: per(enc),
            decrypt_per_sample: per(dec),
        },
        slots: plan.slots,
        levels: plan.levels_needed,
    })
}

/// Replays `trace` on one shipped machine; writes its report (and timeline) into `out`.
fn replay(
    name: &str,
    trace: &Path,
    out: Option<&WorkDir>,
    files: &mut Vec<String>,
) -> Result<Report, CliError> {
    let timeline = out
        .filter(|_| TIMELINE_MACHINES.contains(&name))
        .map(|d| d.file(&format!("{name}.timeline.json")));
    let args = SimulateArgs {
        trace: trace.to_path_buf(),
        hw: name.to_string(),
        json: false,
        timeline: timeline.clone(),
        csv: None,
        policy: None,
    };
    // The trace and the model are the demo's own: any failure here is a failure while running.
    let report = super::simulate::report(&args).map_err(|e| match e {
        CliError::Input(m) | CliError::Run(m) => CliError::Run(format!("replay on {name}: {m}")),
    })?;
    if let Some(p) = timeline {
        files.push(p.display().to_string());
    }
    if let Some(d) = out {
        let json = d.file(&format!("{name}.report.json"));
        write_atomic(&json, &report.to_json().map_err(run_err)?)?;
        let csv = d.file(&format!("{name}.report.csv"));
        write_atomic(&csv, &report.to_csv())?;
        files.push(json.display().to_string());
        files.push(csv.display().to_string());
    }
    Ok(report)
}

fn machine_result(r: &Report, samples: usize, measured: f64) -> MachineResult {
    MachineResult {
        name: r.machine.name.clone(),
        kind: r.machine.kind,
        mode: r.mode,
        total_seconds: r.total_seconds,
        seconds_per_sample: r.total_seconds / samples.max(1) as f64,
        speedup_vs_measured: if r.total_seconds > 0.0 {
            measured / r.total_seconds
        } else {
            0.0
        },
        offchip_bytes_by_class: r.offchip_bytes_by_class.clone(),
        offchip_bytes_by_group: ClassGroups::from_classes(
            r.offchip_bytes_by_class.iter().map(|(k, v)| (*k, v)),
        ),
        offchip_read_bytes: r.offchip.read_bytes,
        offchip_write_bytes: r.offchip.write_bytes,
        onchip_hit_rate: r.onchip.hit_rate,
        notes: r.notes.clone(),
    }
}

fn fraction(hits: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        hits as f64 / n as f64
    }
}

/// Runs the whole demo and returns its summary; `show` turns progress bars on.
///
/// # Errors
/// [`CliError::Input`] for an unknown parameter set, one without enough levels, `--samples`
/// outside 1..=61 or an unusable `--out`; [`CliError::Run`] for failures while running.
pub fn demo(args: &DemoArgs, show: bool) -> Result<DemoSummary, CliError> {
    let start = Instant::now();
    // Everything the user typed is checked before any work starts.
    let params =
        Params::preset(&args.params).map_err(|e| CliError::Input(format!("--params: {e}")))?;
    let split = cleveland_split().map_err(run_err)?;
    let test = split.test;
    let n = match args.samples {
        Some(s) if s == 0 || s > test.len() => {
            return Err(CliError::Input(format!(
                "--samples {s}: expected 1 to {} (the held-out rows)",
                test.len()
            )))
        }
        Some(s) => s,
        None if args.quick => QUICK_SAMPLES,
        None => test.len(),
    };
    let dir = WorkDir::new(args.out.as_deref())?;
    let mut files = Vec::new();

    let model_path = dir.file("model.json");
    let trained = train_and_save(&TrainArgs {
        dataset: DatasetName::Uci,
        config: None,
        out: model_path.clone(),
        seed: 1,
        compare_full: false,
        json: !show,
    })?;
    // The encrypted run uses the model as saved, so the file is what was measured.
    let model = Dlrm::load(&model_path).map_err(run_err)?;
    if !dir.scratch {
        files.push(model_path.display().to_string());
    }

    let trace_path = dir.file("trace.htrace.jsonl");
    let enc = encrypted_run(&model, &test, &args.params, &params, n, &trace_path, show)?;
    let trace_bytes = std::fs::metadata(&trace_path).map_or(0, |m| m.len());
    if !dir.scratch {
        files.push(trace_path.display().to_string());
    }

    let names = builtin_names();
    let progress = bar(
        show,
        names.len(),
        "simulating [{bar:30}] {pos}/{len} machines {msg}",
    );
    let out = (!dir.scratch).then_some(&dir);
    let mut reports = Vec::with_capacity(names.len());
    for name in &names {
        progress.set_message(name.to_string());
        reports.push(replay(name, &trace_path, out, &mut files)?);
        progress.inc(1);
    }
    progress.finish_and_clear();

    let rows = &enc.rows;
    let positive = |l: f64| l > 0.0;
    let plain_ok = rows
        .iter()
        .filter(|r| positive(r.plaintext_logit) == (r.label == 1))
        .count();
    let enc_ok = rows
        .iter()
        .filter(|r| positive(r.encrypted_logit) == (r.label == 1))
        .count();
    let agree = rows
        .iter()
        .filter(|r| positive(r.encrypted_logit) == positive(r.plaintext_logit))
        .count();
    let max_err = rows
        .iter()
        .map(|r| (r.encrypted_logit - r.plaintext_logit).abs())
        .fold(0.0, f64::max);
    let per = |x: f64| x / n as f64;
    let stage = |x: f64| StageTime {
        seconds: x,
        seconds_per_sample: per(x),
    };
    let machines = reports
        .iter()
        .map(|r| machine_result(r, n, enc.stages.total))
        .collect();
    let mut summary = DemoSummary {
        mode: "real encrypted run on this host; machine figures are replays of its trace",
        dataset: "uci",
        params: args.params.clone(),
        log_n: params.log_n(),
        slots: enc.slots,
        levels: enc.levels,
        samples: n,
        model: ModelSummary {
            config: trained.config,
            parameters: trained.parameters,
            train_seconds: trained.train_seconds,
            test_accuracy: trained.test.accuracy,
            test_auc: trained.test.auc,
        },
        plaintext_accuracy: fraction(plain_ok, n),
        encrypted_accuracy: fraction(enc_ok, n),
        label_agreement: fraction(agree, n),
        max_abs_logit_error: max_err,
        server_seconds: enc.stages.total,
        server_seconds_per_sample: per(enc.stages.total),
        stages: Stages {
            bottom: stage(enc.stages.bottom),
            embedding: stage(enc.stages.embedding),
            top: stage(enc.stages.top),
        },
        client_seconds: enc.client,
        trace: TraceSummary {
            events: reports.first().map_or(0, |r| r.trace.events),
            bytes: trace_bytes,
            file: (!dir.scratch).then(|| trace_path.display().to_string()),
        },
        machines,
        rows: enc.rows.clone(),
        files: Vec::new(),
        wall_seconds: 0.0,
    };
    if !dir.scratch {
        let svg = dir.file("summary.svg");
        write_atomic(&svg, &chart(&summary))?;
        files.push(svg.display().to_string());
        let json = dir.file("summary.json");
        files.push(json.display().to_string());
        summary.files = files;
        summary.wall_seconds = start.elapsed().as_secs_f64();
        write_atomic(&json, &to_json(&summary)?)?;
    } else {
        summary.wall_seconds = start.elapsed().as_secs_f64();
    }
    Ok(summary)
}

fn to_json(s: &DemoSummary) -> Result<String, CliError> {
    serde_json::to_string_pretty(s).map_err(|e| run_err(format!("cannot encode JSON: {e}")))
}

/// The two bar charts of `summary.svg`.
fn chart(s: &DemoSummary) -> String {
    let time = Panel {
        title: format!(
            "Simulated time for {} encrypted rows (measured on this host: {})",
            s.samples,
            seconds(s.server_seconds)
        ),
        unit: "seconds".into(),
        series: vec!["simulated".into()],
        rows: s
            .machines
            .iter()
            .map(|m| (m.name.clone(), vec![m.total_seconds]))
            .collect(),
        scale: Scale::Log,
        format: seconds,
    };
    let traffic = Panel {
        title: "Off-chip bytes (read + written) by data class".into(),
        unit: "bytes".into(),
        series: ClassGroups::default()
            .named()
            .iter()
            .map(|(n, _)| n.to_string())
            .collect(),
        rows: s
            .machines
            .iter()
            .map(|m| {
                let v = m
                    .offchip_bytes_by_group
                    .named()
                    .iter()
                    .map(|&(_, b)| b as f64)
                    .collect();
                (m.name.clone(), v)
            })
            .collect(),
        scale: Scale::Linear,
        format: |b| bytes(b.max(0.0).round() as u64),
    };
    document(
        &format!(
            "helrm demo: encrypted UCI DLRM at {} on every shipped machine model",
            s.params
        ),
        &[time, traffic],
    )
}

/// The summary as tables for people.
pub fn render(s: &DemoSummary) -> String {
    let mut out = format!(
        "helrm demo: UCI Heart Disease (Cleveland), model `{}` ({} parameters, trained in {}, \
         held-out accuracy {:.3})\n",
        s.model.config,
        s.model.parameters,
        seconds(s.model.train_seconds),
        s.model.test_accuracy
    );
    out.push_str(&format!(
        "CKKS {} (N = 2^{}, {} slots, {} levels); real encrypted run of {} held-out rows\n\n",
        s.params, s.log_n, s.slots, s.levels, s.samples
    ));
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let count = |x: f64| format!("{}/{}", (x * s.samples as f64).round(), s.samples);
    let results = vec![
        vec![
            "plaintext accuracy".into(),
            pct(s.plaintext_accuracy),
            count(s.plaintext_accuracy),
        ],
        vec![
            "encrypted accuracy".into(),
            pct(s.encrypted_accuracy),
            count(s.encrypted_accuracy),
        ],
        vec![
            "label agreement".into(),
            pct(s.label_agreement),
            count(s.label_agreement),
        ],
        vec![
            "max |logit diff|".into(),
            format!("{:.2e}", s.max_abs_logit_error),
            String::new(),
        ],
    ];
    out.push_str(&table(&["result", "value", "rows"], &results));
    let st = &s.stages;
    let timing = vec![
        vec![
            "server, whole model".into(),
            seconds(s.server_seconds),
            seconds(s.server_seconds_per_sample),
        ],
        vec![
            "  bottom MLP".into(),
            seconds(st.bottom.seconds),
            seconds(st.bottom.seconds_per_sample),
        ],
        vec![
            "  embedding lookup".into(),
            seconds(st.embedding.seconds),
            seconds(st.embedding.seconds_per_sample),
        ],
        vec![
            "  top MLP".into(),
            seconds(st.top.seconds),
            seconds(st.top.seconds_per_sample),
        ],
        vec![
            "client, encrypt".into(),
            seconds(s.client_seconds.encrypt_per_sample * s.samples as f64),
            seconds(s.client_seconds.encrypt_per_sample),
        ],
        vec![
            "client, decrypt".into(),
            seconds(s.client_seconds.decrypt_per_sample * s.samples as f64),
            seconds(s.client_seconds.decrypt_per_sample),
        ],
        vec![
            "client, key generation".into(),
            seconds(s.client_seconds.keygen),
            String::new(),
        ],
    ];
    out.push_str("\nmeasured on this host\n");
    out.push_str(&table(&["stage", "total", "per row"], &timing));
    out.push_str(&format!(
        "\nreplay of the trace ({} operations, {}) on every shipped machine model\n",
        s.trace.events,
        bytes(s.trace.bytes)
    ));
    let machines: Vec<Vec<String>> = s
        .machines
        .iter()
        .map(|m| {
            let g = &m.offchip_bytes_by_group;
            vec![
                m.name.clone(),
                m.kind.to_string(),
                seconds(m.total_seconds),
                seconds(m.seconds_per_sample),
                format!("{:.1}x", m.speedup_vs_measured),
                bytes(g.total()),
                bytes(g.ciphertexts),
                bytes(g.keys),
                bytes(g.weights),
                bytes(g.embeddings),
                bytes(g.other),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "machine",
            "kind",
            "simulated",
            "per row",
            "vs measured",
            "off-chip",
            "ciphertexts",
            "keys",
            "weights",
            "embeddings",
            "other",
        ],
        &machines,
    ));
    out.push_str(
        "(off-chip = bytes read + written; `vs measured` = measured server time here / simulated \
         time)\n",
    );
    if !s.files.is_empty() {
        out.push_str(&format!("\nwrote {} files:\n", s.files.len()));
        for f in &s.files {
            out.push_str(&format!("  {f}\n"));
        }
    }
    out.push_str(&format!("\ndemo finished in {}\n", seconds(s.wall_seconds)));
    out
}

/// Runs `helrm demo`.
///
/// # Errors
/// As [`demo`].
pub fn run(args: DemoArgs) -> Result<(), CliError> {
    let show = !args.json && std::io::stderr().is_terminal();
    let summary = demo(&args, show)?;
    if args.json {
        println!("{}", to_json(&summary)?);
    } else {
        print!("{}", render(&summary));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(params: &str, samples: Option<usize>, out: Option<PathBuf>) -> DemoArgs {
        DemoArgs {
            quick: true,
            json: true,
            out,
            params: params.into(),
            samples,
        }
    }

    #[test]
    fn classes_fall_into_the_summary_groups() {
        let rw = |read, write| ReadWrite { read, write };
        let classes = [
            ("ciphertext", rw(10, 5)),
            ("key_relin", rw(7, 0)),
            ("key_galois", rw(3, 0)),
            ("plaintext_weight", rw(2, 0)),
            ("plaintext_embedding", rw(4, 0)),
            ("twiddle", rw(1, 0)),
            ("temporary", rw(1, 1)),
        ];
        let g = ClassGroups::from_classes(classes.iter().map(|(k, v)| (*k, v)));
        assert_eq!(
            (g.ciphertexts, g.keys, g.weights, g.embeddings, g.other),
            (15, 10, 2, 4, 3)
        );
        assert_eq!(g.total(), 34);
    }

    #[test]
    fn bad_arguments_are_input_errors_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        for a in [
            args("no-such-set", None, Some(out.clone())),
            args("helrm-n14", Some(0), Some(out.clone())),
            args("helrm-n14", Some(62), Some(out.clone())),
        ] {
            let e = demo(&a, false).unwrap_err();
            assert!(matches!(e, CliError::Input(_)), "{e}");
        }
        assert!(!out.exists(), "nothing is written for bad arguments");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let e = demo(&args("helrm-n14", Some(1), Some(file)), false).unwrap_err();
        assert!(
            matches!(e, CliError::Input(ref m) if m.contains("not a directory")),
            "{e}"
        );
    }
}

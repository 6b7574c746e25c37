//! `helrm inspect FILE [--params NAME] [--json]`: says what a helrm file is, validates it
//! completely and prints a summary.
//!
//! The kind is told from the content first (the `HLRM` magic of a serialized CKKS object,
//! the binary trace magic, the `format` of a JSON trace or model), then from the name
//! (`.hlrm`, `.htrace`, `.jsonl`, `.json`, `.yaml`/`.yml`, `.data` for a UCI file, `.txt` for
//! Criteo rows). Each kind is read by the loader the rest of helrm uses, to the end:
//!
//! - CKKS objects (`docs/object-format.md`): read into a context of `--params`, or of the
//!   preset whose fingerprint the file names; parameter files need no context. Secret keys
//!   are not read (they belong to the client) and are refused.
//! - traces (`docs/trace-format.md`): every event is read and checked against the header;
//!   with `--params` the trace must have been recorded with that parameter set.
//! - models (`helrm train --out`): loaded and validated; with `--params` the encrypted run is
//!   planned on that parameter set, so a model that does not fit it is refused.
//! - machine models (`docs/hwmodel-schema.md`) and datasets.
//!
//! A file that is not valid is [`CliError::Input`] (exit code 2) with one line naming the
//! file, the place (offset, line, field) and what was expected. `--json` prints one object
//! with `file`, `kind` and the kind's fields.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use helrm_core::ckks::serialize::{self, ObjectKind};
use helrm_core::ckks::{CkksContext, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{OpKind, TraceEvent, TraceReader, TraceStats};
use helrm_workloads::dlrm::Dlrm;
use serde_json::{json, Value};

use super::CliError;

/// Arguments of `helrm inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The file: a CKKS object (`.hlrm`), a trace, a model, a machine model or a dataset.
    pub file: PathBuf,
    /// Parameter set the file must belong to (CKKS objects and traces) or be planned on
    /// (models). Default for CKKS objects: the preset the file's fingerprint names.
    #[arg(long)]
    pub params: Option<String>,
    /// The CKKS object kind the file must be (default: whatever its header says).
    #[arg(long, value_enum)]
    pub expect: Option<Expect>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A CKKS object kind on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Expect {
    /// A parameter set.
    Params,
    /// A public key.
    PublicKey,
    /// A relinearisation key.
    RelinKey,
    /// An evaluation key set.
    EvaluationKeys,
    /// A ciphertext.
    Ciphertext,
    /// A plaintext.
    Plaintext,
}

impl Expect {
    fn kind(self) -> ObjectKind {
        match self {
            Expect::Params => ObjectKind::Params,
            Expect::PublicKey => ObjectKind::PublicKey,
            Expect::RelinKey => ObjectKind::RelinKey,
            Expect::EvaluationKeys => ObjectKind::EvaluationKeys,
            Expect::Ciphertext => ObjectKind::Ciphertext,
            Expect::Plaintext => ObjectKind::Plaintext,
        }
    }
}

/// What kind of helrm file something is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ckks,
    Trace,
    Model,
    Machine,
    Uci,
    Criteo,
}

/// Bytes looked at to tell the kind.
const SNIFF_BYTES: usize = 4096;

/// The file's kind, from its first bytes and then its name.
fn kind_of(path: &Path, head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"HLRM") {
        return Some(Kind::Ckks);
    }
    if head.first() == Some(&helrm_core::trace::BINARY_MAGIC[0]) {
        return Some(Kind::Trace);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if head.first() == Some(&b'{') {
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let has = |needle: &[u8]| first_line.windows(needle.len()).any(|w| w == needle);
        if has(b"\"helrm-trace\"") {
            return Some(Kind::Trace);
        }
        if has(b"\"helrm-dlrm\"") {
            return Some(Kind::Model);
        }
    }
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    if ends(&[".hlrm"]) {
        Some(Kind::Ckks)
    } else if ends(&[".htrace", ".jsonl"]) {
        Some(Kind::Trace)
    } else if ends(&[".json"]) {
        Some(Kind::Model)
    } else if ends(&[".yaml", ".yml"]) {
        Some(Kind::Machine)
    } else if ends(&[".data"]) {
        Some(Kind::Uci)
    } else if ends(&[".txt", ".tsv"]) {
        Some(Kind::Criteo)
    } else {
        None
    }
}

/// Reads and validates `args.file`; returns its summary as a JSON object.
///
/// # Errors
/// [`CliError::Input`] naming the file for anything unreadable, malformed or not matching
/// `--params`; [`CliError::Run`] when a context cannot be built.
pub fn inspect(args: &InspectArgs) -> Result<Value, CliError> {
    let path = args.file.as_path();
    let name = path.display().to_string();
    let input = |msg: String| CliError::Input(format!("{name}: {msg}"));
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .map_err(|e| input(format!("cannot read: {e}")))?;
    let params = match &args.params {
        Some(p) => Some(Params::preset(p).map_err(|e| CliError::Input(format!("--params: {e}")))?),
        None => None,
    };
    let Some(kind) = kind_of(path, &head) else {
        return Err(input(
            "not a helrm file (expected a CKKS object, a trace, a model, a machine model or a \
             dataset; none matches its first bytes or its name)"
                .into(),
        ));
    };
    if kind != Kind::Ckks && args.expect.is_some() {
        return Err(input(format!(
            "not a CKKS object ({kind:?}), --expect is for CKKS objects"
        )));
    }
    let mut summary = match kind {
        Kind::Ckks => {
            let expect = args.expect.map(Expect::kind);
            ckks(path, params.as_ref(), args.params.as_deref(), expect).map_err(input)?
        }
        Kind::Trace => trace(path, params.as_ref(), args.params.as_deref()).map_err(input)?,
        // Model-loading errors already start with the file's name.
        Kind::Model => model(path, params.as_ref(), args.params.as_deref()).map_err(|e| {
            if e.starts_with(&path.display().to_string()) {
                CliError::Input(e)
            } else {
                input(e)
            }
        })?,
        Kind::Machine => machine(path).map_err(|e| CliError::Input(e.to_string()))?,
        Kind::Uci => {
            let d = helrm_workloads::data::uci::load_uci_file(path)
                .map_err(|e| CliError::Input(e.to_string()))?;
            dataset("uci dataset", &d)
        }
        Kind::Criteo => {
            let d = helrm_workloads::data::criteo::CriteoRaw::load(path)
                .map_err(|e| CliError::Input(e.to_string()))?;
            json!({"kind": "criteo dataset", "rows": d.len(), "positives": d.positives()})
        }
    };
    if let Value::Object(map) = &mut summary {
        map.insert("file".into(), Value::String(name));
    }
    Ok(summary)
}

fn dataset(kind: &str, d: &helrm_workloads::data::Dataset) -> Value {
    json!({
        "kind": kind,
        "rows": d.len(),
        "positives": d.positives(),
        "dense_features": d.num_dense(),
        "sparse_features": d.num_sparse(),
    })
}

/// The preset whose fingerprint is `fingerprint`.
fn preset_with(fingerprint: &str) -> Option<(&'static str, Arc<Params>)> {
    helrm_core::ckks::params::preset_names()
        .iter()
        .filter_map(|&n| Params::preset(n).ok().map(|p| (n, p)))
        .find(|(_, p)| p.fingerprint() == fingerprint)
}

fn params_json(p: &Params) -> Value {
    json!({
        "log_n": p.log_n(),
        "q_primes": p.q().len(),
        "p_primes": p.p().len(),
        "dnum": p.dnum(),
        "log_qp": p.log_qp(),
        "fingerprint": p.fingerprint(),
    })
}

fn ckks(
    path: &Path,
    params: Option<&Arc<Params>>,
    preset: Option<&str>,
    expect: Option<ObjectKind>,
) -> Result<Value, String> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| format!("cannot read: {e}"))
    };
    let header = serialize::read_header(&mut open()?).map_err(|e| e.to_string())?;
    // With `expect`, the loader of that kind reads the file (and refuses another kind).
    let kind = expect.unwrap_or(header.kind);
    if kind == ObjectKind::Params {
        let p = serialize::load_params(&mut open()?).map_err(|e| e.to_string())?;
        if let (Some(want), Some(name)) = (params, preset) {
            if want.fingerprint() != p.fingerprint() {
                return Err(format!(
                    "parameter set {} is not --params {name} ({})",
                    p.fingerprint(),
                    want.fingerprint()
                ));
            }
        }
        return Ok(json!({"kind": "ckks parameters", "params": params_json(&p)}));
    }
    if kind == ObjectKind::SecretKey {
        return Err("a secret key: it stays with the client and is not inspected".into());
    }
    let (name, params) = match (params, preset) {
        (Some(p), Some(n)) => (n.to_owned(), p.clone()),
        _ => preset_with(&header.fingerprint)
            .map(|(n, p)| (n.to_owned(), p))
            .ok_or_else(|| {
                format!(
                    "made for parameters with fingerprint {}, which no preset has; pass \
                     --params NAME",
                    header.fingerprint
                )
            })?,
    };
    let ctx = CkksContext::new(params.clone(), Backend::Real).map_err(|e| e.to_string())?;
    let mut r = open()?;
    let err = |e: helrm_core::Error| e.to_string();
    let detail = match kind {
        ObjectKind::Ciphertext => {
            let ct = serialize::load_ciphertext(&ctx, &mut r).map_err(err)?;
            json!({"object": "ciphertext", "level": ct.level().get(), "scale_log2": ct.scale().log2(),
                   "slots": ct.slots(), "degree": ct.degree(), "bytes": ct.bytes()})
        }
        ObjectKind::Plaintext => {
            let pt = serialize::load_plaintext(&ctx, &mut r).map_err(err)?;
            json!({"object": "plaintext", "level": pt.level().get(), "scale_log2": pt.scale().log2(),
                   "slots": pt.slots(), "class": pt.class().to_string(), "bytes": pt.bytes()})
        }
        ObjectKind::PublicKey => {
            let pk = serialize::load_public_key(&ctx, &mut r).map_err(err)?;
            json!({"object": "public key", "bytes": pk.bytes()})
        }
        ObjectKind::RelinKey => {
            let k = serialize::load_relin_key(&ctx, &mut r).map_err(err)?;
            json!({"object": "relinearisation key", "dnum": k.dnum(), "bytes": k.bytes()})
        }
        ObjectKind::EvaluationKeys => {
            let k = serialize::load_evaluation_keys(&ctx, &mut r).map_err(err)?;
            json!({"object": "evaluation keys", "relinearisation_key": k.has_relin(),
                   "galois_keys": k.galois_elements().count(), "bytes": k.bytes()})
        }
        // Handled above; a kind added later is refused rather than guessed at.
        _ => return Err(format!("object kind {kind:?} cannot be inspected")),
    };
    Ok(
        json!({"kind": "ckks object", "params_name": name, "params": params_json(&params),
              "object": detail}),
    )
}

fn trace(path: &Path, params: Option<&Arc<Params>>, preset: Option<&str>) -> Result<Value, String> {
    let mut reader = TraceReader::open(path).map_err(|e| e.to_string())?;
    let header = reader.header().clone();
    if let (Some(p), Some(n)) = (params, preset) {
        if header.params_fingerprint != p.fingerprint() {
            return Err(format!(
                "trace recorded with parameters {} (log_n {}, {} Q primes), not --params {n} \
                 ({}, log_n {}, {} Q primes)",
                header.params_fingerprint,
                header.params.log_n,
                header.params.q_bits.len(),
                p.fingerprint(),
                p.log_n(),
                p.q().len()
            ));
        }
    }
    let mut stats = TraceStats::new();
    let mut event = TraceEvent::new(OpKind::Encode, 0, 0);
    while reader.read_event(&mut event).map_err(|e| e.to_string())? {
        header.check_event(&event).map_err(|e| e.to_string())?;
        stats.add(&event);
    }
    let by_class: serde_json::Map<String, Value> = stats
        .bytes_by_class
        .iter()
        .map(|(c, b)| {
            (
                c.to_string(),
                json!({"read": b.input_bytes, "written": b.output_bytes}),
            )
        })
        .collect();
    Ok(json!({
        "kind": "trace",
        "encoding": format!("{:?}", reader.encoding()).to_lowercase(),
        "version": format!("{}.{}", header.version.major, header.version.minor),
        "mode": format!("{:?}", header.mode).to_lowercase(),
        "params_fingerprint": header.params_fingerprint,
        "log_n": header.params.log_n,
        "q_primes": header.params.q_bits.len(),
        "p_primes": header.params.p_bits.len(),
        "dnum": header.params.dnum,
        "events": stats.events,
        "bytes_by_class": by_class,
    }))
}

fn model(path: &Path, params: Option<&Arc<Params>>, preset: Option<&str>) -> Result<Value, String> {
    let m = Dlrm::load(path).map_err(|e| e.to_string())?;
    let c = m.config();
    let mut v = json!({
        "kind": "model",
        "config": c.name,
        "parameters": m.parameters(),
        "dense_features": c.num_dense,
        "tables": c.cardinalities.len(),
        "standardizer": m.standardizer().is_some(),
        "calibration": m.calibration().is_some(),
    });
    if let (Some(p), Some(n)) = (params, preset) {
        let plan = helrm_workloads::plan::plan(&m, p, n)
            .map_err(|e| format!("does not fit --params {n}: {e}"))?;
        if let Value::Object(map) = &mut v {
            map.insert(
                "plan".into(),
                json!({"params": n, "levels_needed": plan.levels_needed, "slots": plan.slots,
                       "bootstraps": plan.bootstraps}),
            );
        }
    }
    Ok(v)
}

fn machine(path: &Path) -> Result<Value, helrm_hwmodels::Error> {
    let m = helrm_hwmodels::load_file(path)?;
    Ok(json!({
        "kind": "machine model",
        "name": m.name,
        "machine": serde_json::to_value(m.kind).unwrap_or(Value::Null),
        "clock_ghz": m.clock_ghz,
        "onchip_capacity_bytes": m.onchip.capacity_bytes,
        "offchip_bandwidth_gb_per_s": m.offchip.bandwidth_gb_per_s,
    }))
}

/// `key: value` lines, nested objects flattened with dots.
fn print_table(prefix: &str, v: &Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                print_table(&key, v);
            }
        }
        Value::String(s) => println!("{prefix}: {s}"),
        other => println!("{prefix}: {other}"),
    }
}

/// Runs `helrm inspect`.
///
/// # Errors
/// As [`inspect`].
pub fn run(args: InspectArgs) -> Result<(), CliError> {
    let summary = inspect(&args)?;
    if args.json {
        let s = serde_json::to_string(&summary)
            .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
        println!("{s}");
    } else {
        print_table("", &summary);
    }
    Ok(())
}

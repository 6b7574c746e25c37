//! `helrm calibrate [--params NAME] [--reps R] [--samples S] [--base NAME|FILE]
//! [--record-dir DIR] [--trace FILE ...] --out FILE [--json]`: fit the host CPU's machine model
//! to measured runs of helrm-core on this machine.
//!
//! Two workloads are recorded as real traces (every event with its measured wall time), each
//! `--reps` times, and merged so that every event keeps its smallest wall time (other work on
//! a shared machine only ever adds time): a `bench ops`-style run of the evaluator's operations
//! at the top level of `--params` ([`record_ops`]) and encrypted UCI inference of `--samples`
//! held-out rows. `--trace FILE` (repeatable) fits to already-recorded real traces instead.
//! `helrm_sim::calibrate::fit` then chooses the per-kernel-class efficiencies and the
//! per-kernel overhead of the `--base` model (whose unit counts become the worker-thread
//! count); the model is written to `--out` (temporary file, then rename) with its provenance:
//! date, CPU model, thread count, what was measured and how well its replays match.
//! Run it with `--threads 1`: the model then describes one core running helrm.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use helrm_core::ckks::{CkksContext, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{
    create_writer, DataClass, Encoding, ParamsSummary, TraceEvent, TraceHeader, TraceMode,
    TraceReader, TraceSink, Tracer, VecSink,
};
use helrm_sim::calibrate::{fit, merge_min_wall, Calibration, FitOptions, MIN_SHARE};
use helrm_sim::engine::InMemoryTrace;

use super::CliError;

/// On-chip capacities tried: this machine's L2 + L3 (from sysfs; the base model's where
/// sysfs has none) halved up to this many
/// times (to about 0.9 MB); the L3 is shared with other tenants of the host.
pub const CAPACITY_HALVINGS: u32 = 7;

/// Total-time tolerance the calibrated model is held to (±20 %).
pub const TOTAL_TOLERANCE: f64 = 0.2;
/// Per-operation tolerance for operation kinds holding at least 1 % of the time (±30 %).
pub const OP_TOLERANCE: f64 = 0.3;

/// Arguments of `helrm calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Parameter set of the recorded runs (see `helrm params list`).
    #[arg(long, default_value = "helrm-n14")]
    pub params: String,
    /// Recordings of each workload; every event keeps its smallest wall time.
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Held-out UCI rows per inference recording.
    #[arg(long, default_value_t = 4)]
    pub samples: usize,
    /// Model whose peak rates, memories and features are kept (a shipped name or a YAML file).
    #[arg(long, default_value = "host-cpu")]
    pub base: String,
    /// Also write the recorded traces here (`ops-<params>.jsonl`, `uci-<params>.jsonl`).
    #[arg(long)]
    pub record_dir: Option<PathBuf>,
    /// Fit to this already-recorded real trace instead of recording (repeatable).
    #[arg(long = "trace")]
    pub traces: Vec<PathBuf>,
    /// Where to write the fitted model (YAML).
    #[arg(long)]
    pub out: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How often each operation runs in one `bench ops`-style pass, so that each holds a
/// comparable share of the pass's time at `helrm-n14` (one hoisted call does 16 rotations).
pub const OPS_MIX: &[(&str, usize)] = &[
    ("encode", 8),
    ("add", 16),
    ("mul_plain", 12),
    ("mul_relin", 2),
    ("rescale", 4),
    ("rotate", 2),
    ("rotate_hoisted_16", 1),
];

fn run_err(e: impl std::fmt::Display) -> CliError {
    CliError::Run(e.to_string())
}

/// The header of a real or symbolic trace recorded on `params`.
fn trace_header(params: &Params, mode: TraceMode) -> TraceHeader {
    let bits = |v: &[u64]| v.iter().map(|&x| 64 - x.leading_zeros()).collect();
    TraceHeader::new(
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
    )
}

/// Records `passes` passes of [`OPS_MIX`] at the top level of `params_name` with a timed
/// tracer and merges them: the first pass's events, each with its smallest wall time.
///
/// # Errors
/// [`CliError::Input`] for an unknown parameter set or zero passes; [`CliError::Run`] if an
/// operation fails.
pub fn record_ops(params_name: &str, passes: usize) -> Result<InMemoryTrace, CliError> {
    if passes == 0 {
        return Err(CliError::Input("--reps: expected at least 1".into()));
    }
    let params =
        Params::preset(params_name).map_err(|e| CliError::Input(format!("--params: {e}")))?;
    let ctx = CkksContext::new(params.clone(), Backend::Real).map_err(run_err)?;
    let slots = ctx.params().slots();
    let rotations: Vec<i64> = (1..=16).collect();
    let mut keygen = KeyGenerator::new(ctx.clone()).map_err(run_err)?;
    let keys = Arc::new(
        keygen
            .evaluation_keys(&rotations, slots, false)
            .map_err(run_err)?,
    );
    let mut enc =
        Encryptor::new(ctx.clone(), keygen.public_key().map_err(run_err)?).map_err(run_err)?;
    let top = ctx.max_level();
    let scale = ctx.params().default_scale();
    let values: Vec<f64> = (0..slots)
        .map(|i| ((i % 1000) as f64) / 1000.0 - 0.5)
        .collect();
    let pt = ctx
        .encode_real(&values, top, scale, slots, DataClass::PlaintextWeight)
        .map_err(run_err)?;
    let a = enc.encrypt(&pt).map_err(run_err)?;
    let b = enc.encrypt(&pt).map_err(run_err)?;
    let mut runs = Vec::with_capacity(passes);
    for _ in 0..passes {
        let sink = Arc::new(VecSink::new());
        let tracer = Arc::new(Tracer::new(sink.clone()));
        let eval = Evaluator::new(ctx.clone(), keys.clone()).with_tracer(tracer);
        let scope = eval.scope("bench/ops");
        // Results are kept until the pass ends, as a workload keeps them: each output then
        // lives in memory of its own, as in inference, instead of reusing the last one's.
        let mut kept_pts = Vec::new();
        let mut kept = Vec::new();
        for &(op, count) in OPS_MIX {
            for _ in 0..count {
                match op {
                    "encode" => kept_pts.push(
                        eval.encode_real(&values, top, scale, slots, DataClass::PlaintextWeight)
                            .map_err(run_err)?,
                    ),
                    "add" => kept.push(eval.add(&a, &b).map_err(run_err)?),
                    "mul_plain" => kept.push(eval.mul_plain(&a, &pt).map_err(run_err)?),
                    "mul_relin" => kept.push(eval.mul_relin(&a, &b).map_err(run_err)?),
                    "rescale" => {
                        // The product is traced too: a real operation of the pass.
                        let prod = eval.mul_relin(&a, &b).map_err(run_err)?;
                        kept.push(eval.rescale(&prod).map_err(run_err)?);
                        kept.push(prod);
                    }
                    "rotate" => kept.push(eval.rotate(&a, 1).map_err(run_err)?),
                    _ => kept.extend(eval.rotate_hoisted(&a, &rotations).map_err(run_err)?),
                }
            }
        }
        drop(scope);
        drop((kept, kept_pts));
        runs.push(sink.take());
    }
    let events = merge_min_wall(&runs).map_err(run_err)?;
    Ok(InMemoryTrace {
        header: trace_header(&params, TraceMode::Real),
        events,
    })
}

/// Records `passes` encrypted UCI inferences of `samples` held-out rows and merges them.
fn record_uci(params_name: &str, samples: usize, passes: usize) -> Result<InMemoryTrace, CliError> {
    let (model, test) = super::infer::uci_model("uci", None)?;
    let mut runs = Vec::with_capacity(passes);
    let mut header = None;
    for i in 0..passes {
        let tmp =
            std::env::temp_dir().join(format!("helrm-calibrate-{}-{i}.jsonl", std::process::id()));
        let r = super::infer::run_pipeline(
            &model,
            &test,
            params_name,
            Some(samples),
            Backend::Real,
            Some(&tmp),
        );
        let read = r.and_then(|_| read_trace(&tmp));
        let _ = std::fs::remove_file(&tmp);
        let trace = read?;
        header.get_or_insert(trace.header);
        runs.push(trace.events);
    }
    let events = merge_min_wall(&runs).map_err(run_err)?;
    let header = header.ok_or_else(|| CliError::Input("--reps: expected at least 1".into()))?;
    Ok(InMemoryTrace { header, events })
}

/// Reads a whole trace file into memory (calibration traces are small).
fn read_trace(path: &Path) -> Result<InMemoryTrace, CliError> {
    let input =
        |e: helrm_core::trace::TraceError| CliError::Input(format!("{}: {e}", path.display()));
    let mut reader = TraceReader::open(path).map_err(input)?;
    let header = reader.header().clone();
    let mut events = Vec::new();
    let mut ev = TraceEvent::new(helrm_core::trace::OpKind::Encode, 0, 0);
    while reader.read_event(&mut ev).map_err(input)? {
        events.push(ev.clone());
    }
    Ok(InMemoryTrace { header, events })
}

/// Writes `trace` to `path` (`.jsonl` or `.htrace`) through a temporary file and a rename.
///
/// # Errors
/// [`CliError::Input`] for an unknown extension; [`CliError::Run`] if writing fails.
pub fn write_trace(trace: &InMemoryTrace, path: &Path) -> Result<(), CliError> {
    let encoding = Encoding::from_path(path).ok_or_else(|| {
        CliError::Input(format!(
            "{}: trace files end in .jsonl or .htrace",
            path.display()
        ))
    })?;
    let tmp = tmp_path(path);
    let fail = |e: &dyn std::fmt::Display| {
        let _ = std::fs::remove_file(&tmp);
        CliError::Run(format!("{}: {e}", path.display()))
    };
    let sink: Arc<dyn TraceSink> =
        create_writer(&tmp, encoding, &trace.header).map_err(|e| fail(&e))?;
    for ev in &trace.events {
        sink.record(ev.clone());
    }
    sink.finish().map_err(|e| fail(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| fail(&e))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    PathBuf::from(tmp)
}

/// The civil date (UTC) of `secs` seconds since the Unix epoch, as `YYYY-MM-DD`.
fn utc_date(secs: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The CPU model `/proc/cpuinfo` names (or `unknown CPU`).
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Bytes of all level-2 and level-3 caches of this machine, each shared cache counted once,
/// from `/sys/devices/system/cpu/cpu*/cache` (`None` where that is not available).
fn cache_bytes() -> Option<u64> {
    let mut seen = std::collections::BTreeSet::new();
    let mut total = 0u64;
    let cpus = std::fs::read_dir("/sys/devices/system/cpu").ok()?;
    for cpu in cpus.flatten() {
        let name = cpu.file_name().to_string_lossy().into_owned();
        if name
            .strip_prefix("cpu")
            .is_none_or(|n| n.parse::<u32>().is_err())
        {
            continue;
        }
        let Ok(indices) = std::fs::read_dir(cpu.path().join("cache")) else {
            continue;
        };
        for index in indices.flatten() {
            let read = |f: &str| std::fs::read_to_string(index.path().join(f)).ok();
            let (Some(level), Some(size), Some(shared)) =
                (read("level"), read("size"), read("shared_cpu_list"))
            else {
                continue;
            };
            let level = level.trim().to_string();
            if level != "2" && level != "3" {
                continue;
            }
            let size = size.trim();
            let bytes = match size.strip_suffix('K') {
                Some(k) => k.parse::<u64>().ok().map(|k| k * 1024),
                None => size
                    .strip_suffix('M')
                    .and_then(|m| m.parse::<u64>().ok())
                    .map(|m| m << 20),
            };
            if let Some(b) = bytes {
                if seen.insert((level, shared.trim().to_string())) {
                    total += b;
                }
            }
        }
    }
    (total > 0).then_some(total)
}

/// Names and trace data the fit reads.
struct Named {
    name: String,
    trace: InMemoryTrace,
}

/// The fitted model as YAML, with a comment block stating how it was obtained.
fn model_yaml(cal: &Calibration, date: &str, cpu: &str, threads: usize, what: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# This machine ({cpu}), calibrated by `helrm --threads {threads} calibrate` on {date}."
    );
    let _ = writeln!(
        s,
        "# Units: {threads} worker thread(s); peak rates per core from AVX-512 IFMA instruction\n\
         # counts (ntt 8 lanes / 3 IFMA per butterfly; base conversion and key inner product\n\
         # 8 / 2 per multiply-accumulate; element-wise multiply 8 / 6 per Barrett product;\n\
         # add 8 words; automorphism 2 words per cycle). The efficiency block and the\n\
         # per-kernel overhead are fitted to measured wall times: {what}.\n\
         # Regenerate: helrm --threads 1 calibrate --out hwmodels/models/host-cpu.yaml\n\
         #   --record-dir sim/tests/data/calibration (docs/calibration.md has the tables)."
    );
    for c in &cal.comparisons {
        let _ = writeln!(
            s,
            "# {}: measured {:.3} s, predicted {:.3} s ({:+.1} %); worst operation kind with \
             >= 1 % of the time {:.1} %.",
            c.trace,
            c.measured_seconds,
            c.predicted_seconds,
            100.0 * c.error(),
            100.0 * c.worst_op_error(MIN_SHARE)
        );
    }
    s.push_str(&cal.model.to_yaml());
    s
}

/// Runs `helrm calibrate`.
///
/// # Errors
/// [`CliError::Input`] for bad arguments, unreadable traces or an unknown base model;
/// [`CliError::Run`] for failures while recording, fitting or writing.
pub fn run(args: CalibrateArgs) -> Result<(), CliError> {
    if args.reps == 0 {
        return Err(CliError::Input("--reps: expected at least 1".into()));
    }
    let threads = rayon::current_num_threads();
    let mut base =
        helrm_hwmodels::resolve(&args.base).map_err(|e| CliError::Input(format!("--base: {e}")))?;
    if let Some(bytes) = cache_bytes() {
        base.onchip.capacity_bytes = bytes;
    }
    let count = u32::try_from(threads).unwrap_or(u32::MAX);
    for class in helrm_hwmodels::KernelClass::ALL {
        base.units.get_mut(class).count = count;
    }
    let mut named = Vec::new();
    let what;
    if args.traces.is_empty() {
        eprintln!(
            "recording `bench ops` passes at {} ({} x, {threads} thread(s))",
            args.params, args.reps
        );
        let ops = record_ops(&args.params, args.reps)?;
        eprintln!(
            "recording UCI inference of {} rows at {} ({} x)",
            args.samples, args.params, args.reps
        );
        let uci = record_uci(&args.params, args.samples, args.reps)?;
        named.push(Named {
            name: format!("ops-{}.jsonl", args.params),
            trace: ops,
        });
        named.push(Named {
            name: format!("uci-{}.jsonl", args.params),
            trace: uci,
        });
        what = format!(
            "{} `bench ops`-style passes and {} UCI inferences of {} rows at {}, \
             per-event minimum",
            args.reps, args.reps, args.samples, args.params
        );
        if let Some(dir) = &args.record_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::Run(format!("{}: {e}", dir.display())))?;
            for n in &named {
                write_trace(&n.trace, &dir.join(&n.name))?;
            }
        }
    } else {
        for p in &args.traces {
            named.push(Named {
                name: p
                    .file_name()
                    .map_or_else(|| p.display().to_string(), |f| f.to_string_lossy().into()),
                trace: read_trace(p)?,
            });
        }
        what = format!(
            "recorded traces {}",
            named
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let sources: Vec<(&str, &dyn helrm_sim::engine::EventSource)> = named
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                &n.trace as &dyn helrm_sim::engine::EventSource,
            )
        })
        .collect();
    let options = FitOptions {
        capacity_halvings: CAPACITY_HALVINGS,
        ..FitOptions::default()
    };
    let mut cal = fit(&sources, &base, &options).map_err(run_err)?;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let date = utc_date(secs);
    let cpu = cpu_model();
    cal.model.provenance.source =
        format!("Measured runs of helrm-core on this machine ({cpu}), `helrm calibrate`, {date}");
    cal.model.provenance.table = format!(
        "docs/calibration.md: per-operation measured and predicted seconds; traces in \
         sim/tests/data/calibration ({})",
        named
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    cal.model.provenance.notes = format!(
        "Calibrated with {threads} worker thread(s) (unit counts = threads) against {what}. \
         Peak unit rates from AVX-512 IFMA instruction counts; efficiencies and \
         kernel_launch_overhead_ns fitted by helrm_sim::calibrate::fit (bounded least \
         squares on per-operation relative error, corrected by replays); the usable on-chip \
         capacity chosen among this machine's L2 + L3 ({} bytes) halved 0 to {} times \
         (the L3 is shared with other tenants); off-chip efficiency, bandwidths and features \
         kept from the base model.",
        base.onchip.capacity_bytes, CAPACITY_HALVINGS
    );
    cal.model
        .validate(&args.out.display().to_string())
        .map_err(run_err)?;
    let yaml = model_yaml(&cal, &date, &cpu, threads, &what);
    // The text must read back as the model it describes.
    helrm_hwmodels::from_yaml_str(&yaml, &args.out.display().to_string()).map_err(run_err)?;
    let tmp = tmp_path(&args.out);
    std::fs::write(&tmp, yaml)
        .and_then(|()| std::fs::rename(&tmp, &args.out))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            CliError::Run(format!("{}: {e}", args.out.display()))
        })?;
    if args.json {
        let s = serde_json::to_string_pretty(&cal.comparisons).map_err(run_err)?;
        println!("{s}");
    } else {
        for c in &cal.comparisons {
            println!(
                "{} on {} ({threads} thread(s)): {} within ±{:.0} % total, ±{:.0} % per operation \
                 kind with >= {:.0} % of the time",
                c.trace,
                c.machine,
                if c.within(TOTAL_TOLERANCE, OP_TOLERANCE, MIN_SHARE) {
                    "fits"
                } else {
                    "does NOT fit"
                },
                100.0 * TOTAL_TOLERANCE,
                100.0 * OP_TOLERANCE,
                100.0 * MIN_SHARE
            );
            println!("{}", c.to_markdown(MIN_SHARE));
        }
        println!("model written to {}", args.out.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_known_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_795_305_600), "2026-11-22");
    }

    #[test]
    fn ops_trace_on_a_toy_set_has_every_op_of_the_mix_with_wall_times() {
        let t = record_ops("toy-n10", 2).unwrap();
        assert_eq!(t.header.mode, TraceMode::Real);
        let count = |name: &str| t.events.iter().filter(|e| e.op.name() == name).count();
        assert_eq!(count("add"), 16);
        assert_eq!(count("mul_relin"), 2 + 4);
        assert_eq!(count("rotate_hoisted"), 1);
        assert!(t.events.iter().all(|e| e.wall_ns.is_some()));
        assert!(t.events.iter().all(|e| e.scope == "bench/ops"));
        assert!(matches!(record_ops("toy-n10", 0), Err(CliError::Input(_))));
        assert!(matches!(record_ops("nope", 1), Err(CliError::Input(_))));
    }
}

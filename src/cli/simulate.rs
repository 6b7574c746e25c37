//! `helrm simulate`: replay an operation trace on a machine model and report its cost.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use helrm_hwmodels::{resolve, ReplacementPolicy};
use helrm_sim::engine::{SimOptions, TraceFile};
use helrm_sim::report::{simulate_report_with, Report, Stats, Timeline};
use helrm_sim::Error as SimError;

use super::CliError;

/// On-chip replacement policy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Policy {
    /// Least recently used.
    Lru,
    /// Belady-optimal (evicts the object used furthest in the future).
    Belady,
}

/// Arguments of `helrm simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The trace to replay (`.htrace.jsonl` or binary `.htrace`; the encoding is detected).
    #[arg(long, value_name = "FILE")]
    pub trace: PathBuf,
    /// Machine model: a shipped name (host-cpu, a100, h100, bts, ark, sharp, craterlake) or a
    /// YAML file following docs/hwmodel-schema.md.
    #[arg(long, value_name = "NAME|FILE")]
    pub hw: String,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write a Chrome / Perfetto timeline (open it in ui.perfetto.dev).
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Also write the report as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// On-chip replacement policy (default: the model's `onchip.replacement_policy`).
    #[arg(long, value_enum)]
    pub policy: Option<Policy>,
}

/// A file written under a temporary name beside its destination and renamed into place
/// only when complete.
struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
}

impl AtomicFile {
    fn create(path: &Path) -> Result<(Self, File), CliError> {
        let name = path
            .file_name()
            .ok_or_else(|| CliError::Input(format!("{}: not a file name", path.display())))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let file = File::create(&tmp)
            .map_err(|e| CliError::Input(format!("{}: cannot create: {e}", path.display())))?;
        Ok((
            AtomicFile {
                tmp,
                path: path.to_path_buf(),
            },
            file,
        ))
    }

    fn commit(self) -> Result<(), CliError> {
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| CliError::Run(format!("{}: cannot write: {e}", self.path.display())))
    }

    fn abandon(self) {
        // Best effort: the temporary file is ours and incomplete.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Checks, before any work, that an output file can be created at `path`: its directory
/// exists. An unusable output path is an input error (exit code 2) naming it.
///
/// # Errors
/// [`CliError::Input`] when `path` has no file name or its directory does not exist.
pub(crate) fn check_output_path(path: &Path) -> Result<(), CliError> {
    if path.file_name().is_none() {
        return Err(CliError::Input(format!(
            "{}: not a file name",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(CliError::Input(format!(
            "{}: cannot create: directory {} does not exist",
            path.display(),
            dir.display()
        )))
    }
}

/// Writes `text` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<(), CliError> {
    let (target, mut file) = AtomicFile::create(path)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    match written {
        Ok(()) => target.commit(),
        Err(e) => {
            target.abandon();
            Err(CliError::Run(format!(
                "{}: cannot write: {e}",
                path.display()
            )))
        }
    }
}

/// Replays the trace and returns the report, writing the timeline if asked.
pub fn report(args: &SimulateArgs) -> Result<Report, CliError> {
    let trace_name = args.trace.display().to_string();
    let model = resolve(&args.hw).map_err(|e| CliError::Input(format!("--hw {}: {e}", args.hw)))?;
    let source =
        TraceFile::open(&args.trace).map_err(|e| CliError::Input(format!("{trace_name}: {e}")))?;
    let options = SimOptions {
        policy: args.policy.map(|p| match p {
            Policy::Lru => ReplacementPolicy::Lru,
            Policy::Belady => ReplacementPolicy::Belady,
        }),
        lowering: None,
    };
    let map_err = |e: SimError| match e {
        SimError::Trace { .. } => CliError::Input(format!("{trace_name}: {e}")),
        SimError::Model { .. } | SimError::InvalidModel { .. } => {
            CliError::Input(format!("--hw {}: {e}", args.hw))
        }
        other => CliError::Run(format!("simulate {trace_name}: {other}")),
    };
    match &args.timeline {
        None => simulate_report_with(&source, &model, &options, &mut []).map_err(map_err),
        Some(path) => {
            let (target, file) = AtomicFile::create(path)?;
            let mut timeline = Timeline::new(BufWriter::with_capacity(1 << 20, file));
            let result = simulate_report_with(&source, &model, &options, &mut [&mut timeline]);
            let finished = timeline.finish();
            match (result, finished) {
                (Ok(report), Ok(_)) => {
                    target.commit()?;
                    Ok(report)
                }
                (Err(e), _) => {
                    target.abandon();
                    Err(map_err(e))
                }
                (Ok(_), Err(e)) => {
                    target.abandon();
                    Err(CliError::Run(format!("{}: {e}", path.display())))
                }
            }
        }
    }
}

/// Bytes as a decimal quantity (B, kB, MB, GB, TB: powers of 1,000).
pub(crate) fn bytes(b: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut x = b as f64;
    let mut u = 0;
    while x >= 1000.0 && u + 1 < units.len() {
        x /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{x:.2} {}", units[u])
    }
}

/// Seconds in the most readable unit.
pub(crate) fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.3} µs", s * 1e6)
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Left-aligned first column, right-aligned others, two spaces apart.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&width)
            .enumerate()
            .map(|(i, (c, &w))| {
                let pad = " ".repeat(w - c.chars().count());
                if i == 0 {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
                }
            })
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

fn stats_rows<'a>(
    items: impl Iterator<Item = (&'a str, &'a Stats)>,
    total_cycles: u64,
    timed: bool,
) -> Vec<Vec<String>> {
    let mut rows: Vec<(u64, Vec<String>)> = items
        .map(|(name, s)| {
            let share = if total_cycles > 0 {
                s.cycles as f64 / total_cycles as f64
            } else {
                0.0
            };
            let mut row = vec![
                name.to_string(),
                s.events.to_string(),
                seconds(s.seconds),
                percent(share),
                bytes(s.offchip_read_bytes + s.offchip_write_bytes),
                format!("{:.1}", s.achieved_gb_per_s),
                s.arithmetic_intensity_mod_ops_per_byte
                    .map_or_else(|| "-".into(), |x| format!("{x:.2}")),
            ];
            if timed {
                row.push(s.measured_seconds.map_or_else(|| "-".into(), seconds));
            }
            (s.cycles, row)
        })
        .collect();
    // Largest share first; ties keep name order (the maps are ordered).
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.into_iter().map(|(_, r)| r).collect()
}

/// The report as a table for people.
pub fn render(report: &Report, trace: &Path) -> String {
    let m = &report.machine;
    let t = &report.trace;
    let mut out = format!(
        "{} on {} ({}, {} GHz, {} on chip, {} GB/s off chip)\n",
        report.mode,
        m.name,
        m.kind,
        m.clock_ghz,
        bytes(m.onchip_capacity_bytes),
        m.offchip_bandwidth_gb_per_s
    );
    out.push_str(&format!(
        "trace {}: {} events, N = 2^{}, {} + {} limbs, dnum {}, {}-byte words, by {}\n",
        trace.display(),
        t.events,
        t.log_n,
        t.q_limbs,
        t.p_limbs,
        t.dnum,
        t.word_bytes,
        t.created_by
    ));
    let l = &report.simulation.lowering;
    let mut knobs = Vec::new();
    if l.key_compression {
        knobs.push("compressed keys");
    }
    if l.on_the_fly_twiddles {
        knobs.push("on-the-fly twiddles");
    }
    if l.fused_rescale_moddown {
        knobs.push("rescale fused into ModDown");
    }
    if l.compact_plaintexts {
        knobs.push("compact plaintexts");
    }
    out.push_str(&format!(
        "replacement {}; lowering: {}; {} kernels\n\n",
        report.simulation.replacement_policy,
        if knobs.is_empty() {
            "plain".to_string()
        } else {
            knobs.join(", ")
        },
        report.simulation.kernels
    ));
    let measured = report
        .measured_seconds
        .map_or_else(String::new, |s| format!("   (measured {})", seconds(s)));
    out.push_str(&format!(
        "total      {} cycles = {}{measured}\n",
        report.total_cycles,
        seconds(report.total_seconds)
    ));
    let o = &report.offchip;
    out.push_str(&format!(
        "off chip   {} read, {} written; {:.1} GB/s achieved, link busy {}; {} mod-ops per byte\n",
        bytes(o.read_bytes),
        bytes(o.write_bytes),
        o.achieved_gb_per_s,
        percent(o.utilisation),
        o.arithmetic_intensity_mod_ops_per_byte
            .map_or_else(|| "-".into(), |x| format!("{x:.2}"))
    ));
    let c = &report.onchip;
    out.push_str(&format!(
        "on chip    hit rate {} ({} of bytes), peak {} live\n",
        percent(c.hit_rate),
        percent(c.byte_hit_rate),
        bytes(c.peak_live_bytes)
    ));
    let h = &report.host_link;
    if h.read_bytes + h.write_bytes > 0 {
        out.push_str(&format!(
            "host link  {} read, {} written, busy {}\n",
            bytes(h.read_bytes),
            bytes(h.write_bytes),
            percent(h.utilisation)
        ));
    }
    out.push_str("\noff-chip bytes by class\n");
    let class_rows: Vec<Vec<String>> = report
        .offchip_bytes_by_class
        .iter()
        .filter(|(_, rw)| rw.read + rw.write > 0)
        .map(|(name, rw)| vec![name.to_string(), bytes(rw.read), bytes(rw.write)])
        .collect();
    out.push_str(&table(&["class", "read", "written"], &class_rows));
    let timed = report.measured_seconds.is_some();
    let mut header = vec![
        "",
        "events",
        "time",
        "share",
        "off-chip",
        "GB/s",
        "mod-ops/B",
    ];
    if timed {
        header.push("measured");
    }
    out.push_str("\nby operation\n");
    header[0] = "operation";
    let ops = stats_rows(
        report.by_op.iter().map(|(k, v)| (*k, v)),
        report.total_cycles,
        timed,
    );
    out.push_str(&table(&header, &ops));
    out.push_str("\nby scope (first segment)\n");
    header[0] = "scope";
    let scopes = stats_rows(
        report.by_top_scope.iter().map(|(k, v)| (k.as_str(), v)),
        report.total_cycles,
        timed,
    );
    out.push_str(&table(&header, &scopes));
    out.push_str("\nunits\n");
    let units: Vec<Vec<String>> = report
        .units
        .iter()
        .map(|(name, u)| {
            vec![
                name.clone(),
                u.classes.join(" "),
                u.units.to_string(),
                percent(u.utilisation),
            ]
        })
        .collect();
    out.push_str(&table(&["pool", "kernel classes", "units", "busy"], &units));
    for note in &report.notes {
        out.push_str(&format!("\nnote: {note}"));
    }
    if !report.notes.is_empty() {
        out.push('\n');
    }
    out
}

/// Runs `helrm simulate`.
pub fn run(args: SimulateArgs) -> Result<(), CliError> {
    for path in args.csv.iter().chain(&args.timeline) {
        check_output_path(path)?;
    }
    let report = report(&args)?;
    if let Some(path) = &args.csv {
        write_atomic(path, &report.to_csv())?;
    }
    if args.json {
        let text = report
            .to_json()
            .map_err(|e| CliError::Run(format!("simulate: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", render(&report, &args.trace));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use helrm_core::trace::{
        DataClass, JsonlWriter, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent,
        TraceHeader, TraceMode, TraceSink,
    };

    fn write_trace(path: &Path) {
        let header = TraceHeader::new(
            "cli-test",
            ParamsSummary {
                log_n: 12,
                q_bits: vec![50, 40, 40],
                p_bits: vec![60],
                dnum: 3,
                word_bytes: 8,
            },
            TraceMode::Real,
            "helrm cli test",
        );
        let file = File::create(path).expect("create trace");
        let w = JsonlWriter::new(file, &header).expect("writer");
        let ct = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, 196_608, 2);
        let key = ObjectRef::key(ObjectId(0), DataClass::KeyRelin, 786_432);
        let mut e = TraceEvent::new(OpKind::MulRelin, 12, 2)
            .with_key_switching(1, 3)
            .with_inputs(vec![ct(1), ct(2), key])
            .with_outputs(vec![ct(3)])
            .with_wall_ns(900_000);
        e.scope = "mlp/act".into();
        w.record(e);
        w.finish().expect("finish");
    }

    fn args(trace: &Path, hw: &str) -> SimulateArgs {
        SimulateArgs {
            trace: trace.to_path_buf(),
            hw: hw.into(),
            json: false,
            timeline: None,
            csv: None,
            policy: None,
        }
    }

    #[test]
    fn simulates_and_writes_every_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let trace = dir.path().join("t.htrace.jsonl");
        write_trace(&trace);
        let mut a = args(&trace, "ark");
        a.timeline = Some(dir.path().join("t.timeline.json"));
        a.csv = Some(dir.path().join("t.csv"));
        a.policy = Some(Policy::Belady);
        let r = report(&a).expect("report");
        assert_eq!(r.machine.name, "ark");
        assert_eq!(r.simulation.replacement_policy, "belady");
        assert!(r.measured_seconds.is_some());
        let text = render(&r, &trace);
        assert!(text.starts_with("replay of a real trace on ark"));
        assert!(text.contains("mul_relin"));
        assert!(text.contains("key_relin"));
        run(a).expect("run");
        let timeline: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("t.timeline.json")).expect("timeline"),
        )
        .expect("timeline is JSON");
        assert!(timeline["traceEvents"]
            .as_array()
            .is_some_and(|a| !a.is_empty()));
        let csv = std::fs::read_to_string(dir.path().join("t.csv")).expect("csv");
        assert!(csv
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("replay of a real trace,ark,total")));
        // No temporary files are left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    }

    #[test]
    fn bad_inputs_are_exit_code_2_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let trace = dir.path().join("t.htrace.jsonl");
        write_trace(&trace);
        let missing = dir.path().join("missing.htrace");
        let err = report(&args(&missing, "ark")).expect_err("missing trace");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("missing.htrace"), "{err}");
        assert_eq!(err.to_string().lines().count(), 1);

        let garbage = dir.path().join("garbage.htrace");
        std::fs::write(&garbage, b"\x00\x01 not a trace").expect("write");
        let err = report(&args(&garbage, "ark")).expect_err("garbage trace");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("garbage.htrace"), "{err}");

        // A trace cut off before its end record fails during the replay: still bad input.
        let text = std::fs::read_to_string(&trace).expect("read");
        let cut = dir.path().join("cut.htrace.jsonl");
        let keep: Vec<&str> = text.lines().take(2).collect();
        std::fs::write(&cut, keep.join("\n") + "\n").expect("write");
        let mut a = args(&cut, "ark");
        a.timeline = Some(dir.path().join("cut.timeline.json"));
        let err = report(&a).expect_err("truncated trace");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("cut.htrace.jsonl"), "{err}");
        assert!(!dir.path().join("cut.timeline.json").exists());

        let err = report(&args(&trace, "no-such-machine")).expect_err("unknown model");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("no-such-machine"), "{err}");

        let yaml = dir.path().join("bad.yaml");
        std::fs::write(&yaml, "schema_version: 1\nname: x\n").expect("write");
        let err = report(&args(&trace, &yaml.display().to_string())).expect_err("bad model");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }

    #[test]
    fn quantities_are_readable() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(11_534_336), "11.53 MB");
        assert_eq!(seconds(0.0012), "1.200 ms");
        assert_eq!(seconds(2.5e-6), "2.500 µs");
        assert_eq!(percent(0.5), "50.0%");
    }
}

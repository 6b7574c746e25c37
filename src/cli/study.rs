//! `helrm study packing [--hw all|NAME] [--params NAME] [--json] [--out DIR]`: the packing
//! study — for the UCI and Criteo configurations, every lookup method (one-hot, CodedHELUT,
//! digits, digits + multi-embedding packing) and both diagonal storage choices, the latency and
//! off-chip bytes per data class of the lookup on every machine model.
//!
//! Each (configuration, method) lookup is run **symbolically** (shapes only, the same code
//! path as a real run) and its server trace is kept in memory; the trace is then replayed on
//! each machine twice: with plaintext diagonals stored pre-encoded in NTT form (every limb read
//! from off-chip memory) and stored compactly (one limb of small coefficients, expanded on
//! chip: the simulator's `compact_plaintexts` lowering). A method a configuration makes
//! impossibly large (one-hot over Criteo's 10-million-row tables) is reported as not
//! applicable, with the reason. With `--out DIR` the study writes `packing.json`,
//! `packing.csv` and `packing.svg` there, each atomically.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use helrm_core::circuits::linear::DiagonalMode;
use helrm_core::ckks::Params;
use helrm_core::ring::Backend;
use helrm_core::trace::{ParamsSummary, TraceHeader, TraceMode, TraceSink, VecSink};
use helrm_hwmodels::MachineModel;
use helrm_sim::engine::{InMemoryTrace, SimOptions};
use helrm_sim::lower::LoweringOptions;
use helrm_sim::report::simulate_report;
use helrm_workloads::dlrm::DlrmConfig;
use helrm_workloads::lookup::{run, LookupOptions, LookupTables, Method, MAX_PRODUCT_ROWS};
use serde::Serialize;

use super::simulate::write_atomic;
use super::CliError;

/// Arguments of `helrm study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// Which study.
    #[command(subcommand)]
    pub command: StudyCommand,
}

/// `helrm study` subcommands.
#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// Lookup methods × diagonal storage × machines: latency and off-chip bytes by class.
    Packing(PackingArgs),
}

/// Arguments of `helrm study packing`.
#[derive(Debug, Args)]
pub struct PackingArgs {
    /// Machine models: `all` (every shipped model) or one name or YAML file.
    #[arg(long, default_value = "all")]
    pub hw: String,
    /// CKKS parameter set of the lookups.
    #[arg(long, default_value = "helrm-n16-l10")]
    pub params: String,
    /// Bootstrapping set for CodedHELUT when the chain is too short.
    #[arg(long, default_value = "helrm-n16-boot")]
    pub boot_params: String,
    /// Model configurations (comma-separated).
    #[arg(long, default_value = "uci,criteo", value_delimiter = ',')]
    pub configs: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write packing.json, packing.csv and packing.svg into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The two diagonal storage choices.
const STORAGE: [(&str, bool); 2] = [("pre-encoded-ntt", false), ("compact-on-the-fly", true)];

/// One simulated point.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Model configuration.
    pub config: String,
    /// Lookup method.
    pub method: Method,
    /// Diagonal storage: `pre-encoded-ntt` or `compact-on-the-fly`.
    pub storage: &'static str,
    /// Machine model.
    pub machine: String,
    /// Simulated latency of the lookup in seconds.
    pub latency_seconds: f64,
    /// Off-chip bytes (read + written) per data class, classes with traffic only.
    pub offchip_bytes_by_class: BTreeMap<String, u64>,
    /// Off-chip bytes in total.
    pub offchip_bytes: u64,
}

/// One (configuration, method) lookup: its trace's shape, or why it was not run.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Model configuration.
    pub config: String,
    /// Lookup method.
    pub method: Method,
    /// False when the method is impossibly large for this configuration.
    pub applicable: bool,
    /// Why not, when not applicable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Parameter set the trace was recorded on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<String>,
    /// Trace events.
    pub events: usize,
    /// Keyed rotations.
    pub rotations: u64,
    /// Levels consumed.
    pub levels: usize,
    /// Bootstraps.
    pub bootstraps: usize,
    /// Input ciphertexts.
    pub input_ciphertexts: usize,
}

/// The whole study.
#[derive(Debug, Clone, Serialize)]
pub struct PackingStudy {
    /// `replay of symbolic traces`.
    pub mode: &'static str,
    /// Parameter set of the lookups.
    pub params: String,
    /// One entry per (configuration, method).
    pub entries: Vec<Entry>,
    /// One point per applicable (configuration, method) × storage × machine.
    pub points: Vec<Point>,
}

fn header(params: &Params) -> TraceHeader {
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
        TraceMode::Symbolic,
        format!("helrm {} study packing", env!("CARGO_PKG_VERSION")),
    )
}

/// Why `method` cannot run on `cfg`, if it cannot.
fn not_applicable(cfg: &DlrmConfig, method: Method, slots: u64) -> Option<String> {
    if method != Method::OneHot {
        return None;
    }
    let (t, &k) = cfg
        .cardinalities
        .iter()
        .enumerate()
        .max_by_key(|(_, &k)| k)?;
    if k <= MAX_PRODUCT_ROWS {
        return None;
    }
    let total: u64 = cfg.cardinalities.iter().sum();
    let bh = cfg.embedding_dim.next_power_of_two() as u64;
    let cts: u64 = cfg.cardinalities.iter().map(|k| k.div_ceil(slots)).sum();
    Some(format!(
        "one-hot over C{}'s {k} rows needs {} input ciphertexts for that table alone; \
         all {} tables ({total} rows) need {cts} input ciphertexts and up to {} diagonals \
         (limit: {MAX_PRODUCT_ROWS} rows per product)",
        t + 1,
        k.div_ceil(slots),
        cfg.cardinalities.len(),
        cts * bh
    ))
}

/// Records the symbolic trace of one lookup.
fn trace_lookup(
    cfg: &DlrmConfig,
    method: Method,
    params: &Arc<Params>,
    boot: &Arc<Params>,
) -> Result<(Entry, InMemoryTrace), CliError> {
    let base = cfg.compression.map_or(4, |c| c.base);
    let tables = LookupTables::new(&cfg.cardinalities, base, cfg.embedding_dim, 0x5_7d)
        .map_err(|e| CliError::Run(format!("{}: {e}", cfg.name)))?;
    let indices = tables.random_indices(1);
    let sink = Arc::new(VecSink::new());
    let opts = LookupOptions {
        backend: Backend::Symbolic,
        seed: Some(0),
        sink: Some(sink.clone() as Arc<dyn TraceSink>),
        diagonals: DiagonalMode::PreEncoded,
    };
    let r = run(
        method,
        &tables,
        &indices,
        cfg.compression.as_ref(),
        params,
        Some(boot),
        &opts,
    )
    .map_err(|e| CliError::Run(format!("{} {method}: {e}", cfg.name)))?;
    let run_params = if r.bootstraps > 0 { boot } else { params };
    let events = sink.take();
    let entry = Entry {
        config: cfg.name.clone(),
        method,
        applicable: true,
        reason: None,
        params: Some(r.params.clone()),
        events: events.len(),
        rotations: r.rotations,
        levels: r.levels,
        bootstraps: r.bootstraps,
        input_ciphertexts: r.input_ciphertexts,
    };
    Ok((
        entry,
        InMemoryTrace {
            header: header(run_params),
            events,
        },
    ))
}

fn simulate(
    trace: &InMemoryTrace,
    entry: &Entry,
    models: &[MachineModel],
) -> Result<Vec<Point>, CliError> {
    let mut points = Vec::new();
    for (storage, compact) in STORAGE {
        for m in models {
            let lowering = LoweringOptions {
                compact_plaintexts: compact,
                ..LoweringOptions::from_features(&m.features)
            };
            let options = SimOptions {
                policy: None,
                lowering: Some(lowering),
            };
            let r = simulate_report(trace, m, &options).map_err(|e| {
                CliError::Run(format!(
                    "simulate {} {} on {}: {e}",
                    entry.config, entry.method, m.name
                ))
            })?;
            let by_class: BTreeMap<String, u64> = r
                .offchip_bytes_by_class
                .iter()
                .filter(|(_, rw)| rw.read + rw.write > 0)
                .map(|(k, rw)| ((*k).to_owned(), rw.read + rw.write))
                .collect();
            points.push(Point {
                config: entry.config.clone(),
                method: entry.method,
                storage,
                machine: m.name.clone(),
                latency_seconds: r.total_seconds,
                offchip_bytes: by_class.values().sum(),
                offchip_bytes_by_class: by_class,
            });
        }
    }
    Ok(points)
}

/// Runs the study; `progress` hears what starts.
///
/// # Errors
/// [`CliError::Input`] for an unknown configuration, preset or machine model;
/// [`CliError::Run`] if a lookup or a replay fails.
pub fn study(args: &PackingArgs, progress: &mut dyn FnMut(&str)) -> Result<PackingStudy, CliError> {
    let params =
        Params::preset(&args.params).map_err(|e| CliError::Input(format!("--params: {e}")))?;
    let boot = Params::preset(&args.boot_params)
        .map_err(|e| CliError::Input(format!("--boot-params: {e}")))?;
    let models = if args.hw == "all" {
        helrm_hwmodels::builtin_all().map_err(|e| CliError::Input(format!("--hw: {e}")))?
    } else {
        vec![helrm_hwmodels::resolve(&args.hw)
            .map_err(|e| CliError::Input(format!("--hw {}: {e}", args.hw)))?]
    };
    let mut entries = Vec::new();
    let mut points = Vec::new();
    for name in &args.configs {
        let cfg =
            DlrmConfig::named(name).map_err(|e| CliError::Input(format!("--configs: {e}")))?;
        for method in Method::ALL {
            if let Some(reason) = not_applicable(&cfg, method, params.slots() as u64) {
                entries.push(Entry {
                    config: cfg.name.clone(),
                    method,
                    applicable: false,
                    reason: Some(reason),
                    params: None,
                    events: 0,
                    rotations: 0,
                    levels: 0,
                    bootstraps: 0,
                    input_ciphertexts: 0,
                });
                continue;
            }
            progress(&format!("{name} {method}: symbolic trace"));
            let (entry, trace) = trace_lookup(&cfg, method, &params, &boot)?;
            progress(&format!(
                "{name} {method}: replaying {} events on {} machine(s)",
                entry.events,
                models.len()
            ));
            points.extend(simulate(&trace, &entry, &models)?);
            entries.push(entry);
        }
    }
    Ok(PackingStudy {
        mode: "replay of symbolic traces",
        params: args.params.clone(),
        entries,
        points,
    })
}

/// Bytes as a decimal quantity.
fn bytes(b: u64) -> String {
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

fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// Key classes summed, and the other classes by name.
fn class_groups(p: &Point) -> (u64, u64, u64, u64, u64) {
    let mut g = (0, 0, 0, 0, 0);
    for (k, &v) in &p.offchip_bytes_by_class {
        match k.as_str() {
            "ciphertext" => g.0 += v,
            k if k.starts_with("key") => g.1 += v,
            "plaintext_embedding" => g.2 += v,
            "plaintext_weight" => g.3 += v,
            _ => g.4 += v,
        }
    }
    g
}

/// The study as a table for people.
pub fn render(s: &PackingStudy) -> String {
    let mut out = format!(
        "packing study at {} ({}): lookup latency and off-chip bytes\n\n",
        s.params, s.mode
    );
    out.push_str("lookups\n");
    for e in &s.entries {
        if e.applicable {
            let _ = writeln!(
                out,
                "  {:<7} {:<14} {:>6} events, {:>5} rotations, {} level(s), {} bootstrap(s), \
                 {} input ct(s), on {}",
                e.config,
                e.method.name(),
                e.events,
                e.rotations,
                e.levels,
                e.bootstraps,
                e.input_ciphertexts,
                e.params.as_deref().unwrap_or("-")
            );
        } else {
            let _ = writeln!(
                out,
                "  {:<7} {:<14} not applicable: {}",
                e.config,
                e.method.name(),
                e.reason.as_deref().unwrap_or("")
            );
        }
    }
    let _ = writeln!(
        out,
        "\n  {:<7} {:<14} {:<19} {:<11} {:>11} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "config",
        "method",
        "storage",
        "machine",
        "latency",
        "off-chip",
        "cipher",
        "keys",
        "pt-embed",
        "pt-weight",
        "other"
    );
    for p in &s.points {
        let g = class_groups(p);
        let _ = writeln!(
            out,
            "  {:<7} {:<14} {:<19} {:<11} {:>11} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            p.config,
            p.method.name(),
            p.storage,
            p.machine,
            seconds(p.latency_seconds),
            bytes(p.offchip_bytes),
            bytes(g.0),
            bytes(g.1),
            bytes(g.2),
            bytes(g.3),
            bytes(g.4)
        );
    }
    out
}

/// The points as CSV (one row per point, one column per data class group).
pub fn to_csv(s: &PackingStudy) -> String {
    let mut out = String::from(
        "config,method,storage,machine,latency_seconds,offchip_bytes,ciphertext_bytes,\
         key_bytes,plaintext_embedding_bytes,plaintext_weight_bytes,other_bytes\n",
    );
    for p in &s.points {
        let g = class_groups(p);
        let _ = writeln!(
            out,
            "{},{},{},{},{:e},{},{},{},{},{},{}",
            p.config,
            p.method.name(),
            p.storage,
            p.machine,
            p.latency_seconds,
            p.offchip_bytes,
            g.0,
            g.1,
            g.2,
            g.3,
            g.4
        );
    }
    for e in s.entries.iter().filter(|e| !e.applicable) {
        let _ = writeln!(
            out,
            "{},{},not applicable,,,,,,,,",
            e.config,
            e.method.name()
        );
    }
    out
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A log-scale horizontal bar chart of latency per point, one panel per configuration and
/// storage choice, bars grouped by method and coloured by machine.
pub fn to_svg(s: &PackingStudy) -> String {
    const W: f64 = 960.0;
    const LABEL: f64 = 300.0;
    const BAR: f64 = 12.0;
    let colours = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
    ];
    let machines: Vec<&str> = {
        let mut m: Vec<&str> = s.points.iter().map(|p| p.machine.as_str()).collect();
        m.dedup();
        let mut seen = Vec::new();
        for x in m {
            if !seen.contains(&x) {
                seen.push(x);
            }
        }
        seen
    };
    let lat: Vec<f64> = s
        .points
        .iter()
        .map(|p| p.latency_seconds)
        .filter(|&x| x.is_finite() && x > 0.0)
        .collect();
    let lo = lat
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi = lat.iter().copied().fold(0.0, f64::max).log10().ceil();
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (-6.0, 0.0)
    };
    let x = |v: f64| -> f64 {
        if !(v.is_finite() && v > 0.0) {
            return 0.0;
        }
        ((v.log10() - lo) / (hi - lo)).clamp(0.0, 1.0) * (W - LABEL - 40.0)
    };
    let mut body = String::new();
    let mut y = 60.0;
    let _ = writeln!(
        body,
        "<text x=\"10\" y=\"24\" font-size=\"16\">helrm study packing: simulated lookup latency \
         at {} (log scale, {} … {} s; {})</text>",
        escape(&s.params),
        10f64.powf(lo),
        10f64.powf(hi),
        escape(s.mode)
    );
    for (i, m) in machines.iter().enumerate() {
        let _ = writeln!(
            body,
            "<rect x=\"{}\" y=\"34\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"43\" font-size=\"11\">{}</text>",
            10.0 + i as f64 * 110.0,
            colours[i % colours.len()],
            24.0 + i as f64 * 110.0,
            escape(m)
        );
    }
    let mut groups: Vec<(String, Method, &str)> = Vec::new();
    for p in &s.points {
        let k = (p.config.clone(), p.method, p.storage);
        if !groups.contains(&k) {
            groups.push(k);
        }
    }
    for (config, method, storage) in &groups {
        let _ = writeln!(
            body,
            "<text x=\"10\" y=\"{}\" font-size=\"12\">{} {} ({})</text>",
            y + 10.0,
            escape(config),
            method.name(),
            storage
        );
        for (i, m) in machines.iter().enumerate() {
            if let Some(p) = s.points.iter().find(|p| {
                &p.config == config
                    && p.method == *method
                    && p.storage == *storage
                    && p.machine == *m
            }) {
                let w = x(p.latency_seconds);
                let _ = writeln!(
                    body,
                    "<rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\">\
                     <title>{} {}: {}</title></rect>",
                    y + i as f64 * BAR,
                    BAR - 2.0,
                    colours[i % colours.len()],
                    escape(m),
                    method.name(),
                    seconds(p.latency_seconds)
                );
            }
        }
        y += machines.len() as f64 * BAR + 10.0;
    }
    for e in s.entries.iter().filter(|e| !e.applicable) {
        let _ = writeln!(
            body,
            "<text x=\"10\" y=\"{}\" font-size=\"12\">{} {}: not applicable</text>",
            y + 10.0,
            escape(&e.config),
            e.method.name()
        );
        y += 20.0;
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{:.0}\" \
         font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         {body}</svg>\n",
        y + 20.0
    )
}

/// Writes the JSON, CSV and SVG files into `dir` (created if missing).
///
/// # Errors
/// [`CliError::Input`] if the directory or a file cannot be created; [`CliError::Run`] if
/// writing fails midway.
pub fn write_outputs(s: &PackingStudy, dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Input(format!("{}: cannot create: {e}", dir.display())))?;
    let json = serde_json::to_string_pretty(s)
        .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
    write_atomic(&dir.join("packing.json"), &json)?;
    write_atomic(&dir.join("packing.csv"), &to_csv(s))?;
    write_atomic(&dir.join("packing.svg"), &to_svg(s))
}

/// Runs `helrm study`.
///
/// # Errors
/// As [`study`] and [`write_outputs`].
pub fn run_cli(args: StudyArgs) -> Result<(), CliError> {
    let StudyCommand::Packing(args) = args.command;
    if let Some(dir) = &args.out {
        // Before the study runs: an unusable --out is an input error, found at once.
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::Input(format!("--out {}: cannot create: {e}", dir.display())))?;
    }
    let s = study(&args, &mut |m| eprintln!("study: {m}"))?;
    if let Some(dir) = &args.out {
        write_outputs(&s, dir)?;
    }
    if args.json {
        let text = serde_json::to_string(&s)
            .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", render(&s));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uci_study_on_one_machine_writes_every_output() {
        let dir = tempfile::tempdir().unwrap();
        let args = PackingArgs {
            hw: "ark".into(),
            params: "toy-n12-l10".into(),
            boot_params: "toy-n12-boot".into(),
            configs: vec!["uci".into()],
            json: false,
            out: Some(dir.path().to_path_buf()),
        };
        let s = study(&args, &mut |_| {}).unwrap();
        assert_eq!(s.entries.len(), 4);
        assert!(s.entries.iter().all(|e| e.applicable && e.events > 0));
        // 4 methods × 2 storage choices × 1 machine.
        assert_eq!(s.points.len(), 8);
        for p in &s.points {
            assert!(p.latency_seconds > 0.0 && p.offchip_bytes > 0, "{p:?}");
        }
        // Compact storage never moves more plaintext-embedding bytes than pre-encoded NTT.
        for m in Method::ALL {
            let by = |st: &str| {
                s.points
                    .iter()
                    .find(|p| p.method == m && p.storage == st)
                    .map(|p| {
                        p.offchip_bytes_by_class
                            .get("plaintext_embedding")
                            .copied()
                            .unwrap_or(0)
                    })
                    .unwrap()
            };
            assert!(by("compact-on-the-fly") <= by("pre-encoded-ntt"), "{m}");
        }
        write_outputs(&s, dir.path()).unwrap();
        for f in ["packing.json", "packing.csv", "packing.svg"] {
            assert!(dir.path().join(f).exists(), "{f}");
        }
        let csv = std::fs::read_to_string(dir.path().join("packing.csv")).unwrap();
        assert_eq!(csv.lines().count(), 9);
        let svg = std::fs::read_to_string(dir.path().join("packing.svg")).unwrap();
        assert!(svg.starts_with("<svg") && !svg.contains("NaN"));
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
        assert!(render(&s).contains("digits-packed"));
    }

    #[test]
    fn one_hot_over_criteo_is_not_applicable_with_a_reason() {
        let cfg = DlrmConfig::named("criteo").unwrap();
        let r = not_applicable(&cfg, Method::OneHot, 32_768).unwrap();
        assert!(r.contains("10131227"), "{r}");
        assert!(not_applicable(&cfg, Method::DigitsPacked, 32_768).is_none());
        let uci = DlrmConfig::named("uci").unwrap();
        assert!(not_applicable(&uci, Method::OneHot, 32_768).is_none());
    }
}

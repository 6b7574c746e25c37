//! `helrm sweep`: replay one trace on every point of a design space around a machine model.
//!
//! Each `--set FIELD=V1,V2,...` names a dotted field of the machine model's YAML (as
//! `docs/hwmodel-schema.md` lists them: `offchip.bandwidth_gb_per_s`, `onchip.capacity_bytes`,
//! `units.ntt.count`, `features.key_prng_compression`, ...) or a lowering knob
//! (`lowering.word_bytes`, `lowering.key_compression`, `lowering.on_the_fly_twiddles`,
//! `lowering.fused_rescale_moddown`, `lowering.compact_plaintexts`) and the values it takes.
//! The points are the cartesian product of the settings, first `--set` varying slowest. Every
//! point's model is rebuilt from the edited fields and validated as a loaded model is, before
//! anything runs; the points are then replayed in parallel (rayon) and written, one CSV row
//! per point in point order, atomically.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use helrm_hwmodels::{resolve, MachineModel};
use helrm_sim::engine::{EventSource, SimOptions, TraceFile};
use helrm_sim::lower::LoweringOptions;
use helrm_sim::report::{simulate_report, ReadWrite, Report};
use helrm_sim::Error as SimError;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::simulate::check_output_path;
use super::CliError;

/// Most points one sweep may have (a guard against an accidental product of long lists).
pub const MAX_POINTS: usize = 100_000;

/// The lowering knobs `--set lowering.KNOB=...` accepts.
pub const LOWERING_KNOBS: [&str; 5] = [
    "word_bytes",
    "key_compression",
    "on_the_fly_twiddles",
    "fused_rescale_moddown",
    "compact_plaintexts",
];

/// Largest `lowering.word_bytes` accepted.
const MAX_WORD_BYTES: u32 = 16;

/// Arguments of `helrm sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The trace to replay (`.htrace.jsonl` or binary `.htrace`).
    #[arg(long, value_name = "FILE")]
    pub trace: PathBuf,
    /// The base machine model: a shipped name or a YAML file.
    #[arg(long, value_name = "NAME|FILE")]
    pub hw: String,
    /// A swept setting, `FIELD=V1,V2,...`: a dotted model field (`offchip.bandwidth_gb_per_s`)
    /// or a lowering knob (`lowering.word_bytes`). Repeat for a cartesian product.
    #[arg(long = "set", value_name = "FIELD=V1,V2,...", required = true)]
    pub set: Vec<String>,
    /// The CSV file to write, one row per point (written atomically).
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// Print the points as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What is wrong with a `--set` argument or one of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// Not of the form `FIELD=V1,V2,...`.
    #[error("--set {arg}: expected FIELD=V1,V2,... (a dotted model field or lowering.KNOB)")]
    Syntax {
        /// The argument as given.
        arg: String,
    },
    /// The field is not in the model (or not a lowering knob).
    #[error("--set {field}: no such field ({hint})")]
    UnknownField {
        /// The dotted field path.
        field: String,
        /// What exists at that place.
        hint: String,
    },
    /// The same field set twice.
    #[error("--set {field}: given more than once")]
    Duplicate {
        /// The dotted field path.
        field: String,
    },
    /// A value the field cannot take (wrong type, out of range, inconsistent model).
    #[error("--set {field}={value}: {message}")]
    BadValue {
        /// The dotted field path.
        field: String,
        /// The value as given.
        value: String,
        /// Why it is refused (the validator's message names the offending field).
        message: String,
    },
    /// The product of the settings has too many points.
    #[error("the settings make {points} points; at most {max} are allowed")]
    TooManyPoints {
        /// Points the settings make (saturating).
        points: usize,
        /// [`MAX_POINTS`].
        max: usize,
    },
}

impl From<SweepError> for CliError {
    fn from(e: SweepError) -> Self {
        CliError::Input(e.to_string())
    }
}

/// Where a setting applies.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A dotted path into the model.
    Model(Vec<String>),
    /// A lowering knob (one of [`LOWERING_KNOBS`]).
    Lowering(&'static str),
}

/// One `--set`: a field and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The dotted field as given.
    pub field: String,
    target: Target,
    /// The values, in the order given.
    pub values: Vec<String>,
}

/// Parses one `--set FIELD=V1,V2,...` argument.
///
/// # Errors
/// [`SweepError::Syntax`] for a missing `=`, an empty field or an empty value;
/// [`SweepError::UnknownField`] for an unknown `lowering.` knob.
pub fn parse_setting(arg: &str) -> Result<Setting, SweepError> {
    let syntax = || SweepError::Syntax {
        arg: arg.to_string(),
    };
    let (field, values) = arg.split_once('=').ok_or_else(syntax)?;
    let field = field.trim();
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if field.is_empty() || values.iter().any(String::is_empty) {
        return Err(syntax());
    }
    let path: Vec<String> = field.split('.').map(str::to_string).collect();
    if path.iter().any(String::is_empty) {
        return Err(syntax());
    }
    let target = match path.as_slice() {
        [first, knob] if first == "lowering" => {
            let k = LOWERING_KNOBS.iter().find(|k| *k == knob).ok_or_else(|| {
                SweepError::UnknownField {
                    field: field.to_string(),
                    hint: format!("lowering knobs: {}", LOWERING_KNOBS.join(", ")),
                }
            })?;
            Target::Lowering(k)
        }
        [first, ..] if first == "lowering" => {
            return Err(SweepError::UnknownField {
                field: field.to_string(),
                hint: format!("lowering knobs: {}", LOWERING_KNOBS.join(", ")),
            })
        }
        _ => Target::Model(path),
    };
    Ok(Setting {
        field: field.to_string(),
        target,
        values,
    })
}

/// One point of the sweep: the value of every setting, the model and the replay options.
#[derive(Debug, Clone)]
pub struct Point {
    /// `(field, value)` for every setting, in `--set` order.
    pub settings: Vec<(String, String)>,
    /// The edited, validated model.
    pub model: MachineModel,
    /// The replay options (lowering from the model's features, then the lowering knobs).
    pub options: SimOptions,
}

/// Sets `path` in `root` (a model as JSON) to `value`, typed like the value it replaces.
fn set_json(root: &mut Value, field: &str, path: &[String], value: &str) -> Result<(), SweepError> {
    let unknown = |hint: String| SweepError::UnknownField {
        field: field.to_string(),
        hint,
    };
    let keys = |v: &Value| match v {
        Value::Object(m) => {
            let k: Vec<&str> = m.keys().map(String::as_str).collect();
            format!("fields here: {}", k.join(", "))
        }
        _ => "not a mapping".to_string(),
    };
    let Some((last, parents)) = path.split_last() else {
        return Err(unknown("empty path".into()));
    };
    let mut node = root;
    for key in parents {
        let hint = keys(node);
        node = match node {
            Value::Object(m) => m.get_mut(key).ok_or_else(|| unknown(hint))?,
            _ => return Err(unknown(hint)),
        };
    }
    let hint = keys(node);
    let Value::Object(map) = node else {
        return Err(unknown(hint));
    };
    let bad = |message: &str| SweepError::BadValue {
        field: field.to_string(),
        value: value.to_string(),
        message: message.to_string(),
    };
    let new = match map.get(last) {
        Some(Value::Number(_)) => {
            if let Ok(u) = value.parse::<u64>() {
                Value::from(u)
            } else {
                let x: f64 = value.parse().map_err(|_| bad("expected a number"))?;
                serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .ok_or_else(|| bad("expected a finite number"))?
            }
        }
        Some(Value::Bool(_)) => Value::Bool(match value {
            "true" => true,
            "false" => false,
            _ => return Err(bad("expected true or false")),
        }),
        Some(Value::String(_)) => Value::String(value.to_string()),
        Some(_) => return Err(bad("is a mapping or list; set one of its fields")),
        // An optional field the base model leaves out: a JSON literal, or a string.
        None => serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string())),
    };
    map.insert(last.clone(), new);
    Ok(())
}

/// Applies a lowering knob.
fn set_knob(
    options: &mut LoweringOptions,
    field: &str,
    knob: &str,
    value: &str,
) -> Result<(), SweepError> {
    let bad = |message: String| SweepError::BadValue {
        field: field.to_string(),
        value: value.to_string(),
        message,
    };
    let flag = || match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad("expected true or false".into())),
    };
    match knob {
        "word_bytes" => {
            let w: u32 = value
                .parse()
                .ok()
                .filter(|w| (1..=MAX_WORD_BYTES).contains(w))
                .ok_or_else(|| bad(format!("expected an integer in [1, {MAX_WORD_BYTES}]")))?;
            options.word_bytes = Some(w);
        }
        "key_compression" => options.key_compression = flag()?,
        "on_the_fly_twiddles" => options.on_the_fly_twiddles = flag()?,
        "fused_rescale_moddown" => options.fused_rescale_moddown = flag()?,
        "compact_plaintexts" => options.compact_plaintexts = flag()?,
        other => {
            return Err(SweepError::UnknownField {
                field: format!("lowering.{other}"),
                hint: format!("lowering knobs: {}", LOWERING_KNOBS.join(", ")),
            })
        }
    }
    Ok(())
}

/// The model and options of one point (`choice[i]` indexes `settings[i].values`).
fn build_point(
    base: &Value,
    origin: &str,
    settings: &[Setting],
    choice: &[usize],
) -> Result<Point, SweepError> {
    let mut json = base.clone();
    let mut chosen = Vec::with_capacity(settings.len());
    for (s, &c) in settings.iter().zip(choice) {
        let value = s.values.get(c).map_or("", String::as_str);
        chosen.push((s.field.clone(), value.to_string()));
        if let Target::Model(path) = &s.target {
            set_json(&mut json, &s.field, path, value)?;
        }
    }
    // The last model value set names the point in errors.
    let culprit = || {
        settings
            .iter()
            .zip(&chosen)
            .rev()
            .find(|(s, _)| matches!(s.target, Target::Model(_)))
            .map_or((String::new(), String::new()), |(_, c)| c.clone())
    };
    let model: MachineModel = serde_json::from_value(json).map_err(|e| {
        let (field, value) = culprit();
        let message = e.to_string();
        if message.starts_with("unknown field") {
            SweepError::UnknownField {
                field,
                hint: message,
            }
        } else {
            SweepError::BadValue {
                field,
                value,
                message,
            }
        }
    })?;
    model.validate(origin).map_err(|e| {
        let (field, value) = culprit();
        SweepError::BadValue {
            field,
            value,
            message: e.to_string(),
        }
    })?;
    let mut lowering = LoweringOptions::from_features(&model.features);
    for (s, (_, value)) in settings.iter().zip(&chosen) {
        if let Target::Lowering(knob) = s.target {
            set_knob(&mut lowering, &s.field, knob, value)?;
        }
    }
    Ok(Point {
        settings: chosen,
        model,
        options: SimOptions {
            policy: None,
            lowering: Some(lowering),
        },
    })
}

/// Every point of the sweep of `settings` around `base`, first setting varying slowest,
/// each model validated.
///
/// # Errors
/// [`SweepError::Duplicate`] for a field set twice, [`SweepError::TooManyPoints`] beyond
/// [`MAX_POINTS`], and the first bad field or value of any point.
pub fn points(base: &MachineModel, settings: &[Setting]) -> Result<Vec<Point>, SweepError> {
    for (i, s) in settings.iter().enumerate() {
        if settings[..i].iter().any(|t| t.field == s.field) {
            return Err(SweepError::Duplicate {
                field: s.field.clone(),
            });
        }
    }
    let count = settings
        .iter()
        .try_fold(1usize, |n, s| n.checked_mul(s.values.len()))
        .unwrap_or(usize::MAX);
    if count > MAX_POINTS {
        return Err(SweepError::TooManyPoints {
            points: count,
            max: MAX_POINTS,
        });
    }
    let json = serde_json::to_value(base).map_err(|e| SweepError::BadValue {
        field: String::new(),
        value: base.name.clone(),
        message: format!("cannot represent the model: {e}"),
    })?;
    let origin = format!("{} (swept)", base.name);
    let mut out = Vec::with_capacity(count);
    let mut choice = vec![0usize; settings.len()];
    for _ in 0..count {
        out.push(build_point(&json, &origin, settings, &choice)?);
        // Odometer: the last setting varies fastest.
        for (c, s) in choice.iter_mut().zip(settings).rev() {
            *c += 1;
            if *c < s.values.len() {
                break;
            }
            *c = 0;
        }
    }
    Ok(out)
}

/// One point's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Setting → value, in `--set` order.
    pub settings: Vec<(String, String)>,
    /// Simulated cycles.
    pub total_cycles: u64,
    /// Simulated seconds.
    pub total_seconds: f64,
    /// Off-chip bytes read.
    pub offchip_read_bytes: u64,
    /// Off-chip bytes written.
    pub offchip_write_bytes: u64,
    /// Off-chip bytes per data class (every class).
    pub offchip_bytes_by_class: BTreeMap<&'static str, ReadWrite>,
    /// Host-link bytes read plus written.
    pub host_bytes: u64,
    /// On-chip hit rate (object reads found whole on chip).
    pub hit_rate: f64,
    /// On-chip byte hit rate.
    pub byte_hit_rate: f64,
}

impl Row {
    fn new(settings: Vec<(String, String)>, r: &Report) -> Self {
        Row {
            settings,
            total_cycles: r.total_cycles,
            total_seconds: r.total_seconds,
            offchip_read_bytes: r.offchip.read_bytes,
            offchip_write_bytes: r.offchip.write_bytes,
            offchip_bytes_by_class: r.offchip_bytes_by_class.clone(),
            host_bytes: r
                .host_link
                .read_bytes
                .saturating_add(r.host_link.write_bytes),
            hit_rate: r.onchip.hit_rate,
            byte_hit_rate: r.onchip.byte_hit_rate,
        }
    }
}

/// A finished sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// The trace's mode label (`replay of a symbolic trace`, ...).
    pub mode: &'static str,
    /// The base model's name.
    pub machine: String,
    /// The swept fields, in `--set` order.
    pub fields: Vec<String>,
    /// One row per point, in point order.
    pub rows: Vec<Row>,
}

/// Replays `source` at every point (in parallel), reporting progress to `bar`.
///
/// # Errors
/// The first point's error, in point order.
pub fn run_points(
    source: &TraceFile,
    base: &MachineModel,
    settings: &[Setting],
    points: &[Point],
    bar: &ProgressBar,
) -> Result<Sweep, SimError> {
    let results: Vec<Result<Report, SimError>> = points
        .par_iter()
        .map(|p| {
            let r = simulate_report(source, &p.model, &p.options);
            bar.inc(1);
            r
        })
        .collect();
    let mut rows = Vec::with_capacity(points.len());
    let mut mode = helrm_sim::report::mode_label(source.header().mode);
    for (p, r) in points.iter().zip(results) {
        let r = r?;
        mode = r.mode;
        rows.push(Row::new(p.settings.clone(), &r));
    }
    Ok(Sweep {
        mode,
        machine: base.name.clone(),
        fields: settings.iter().map(|s| s.field.clone()).collect(),
        rows,
    })
}

/// Quotes a CSV field when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Sweep {
    /// The sweep as CSV: `mode`, `machine`, one column per setting, then the results.
    pub fn to_csv(&self) -> String {
        let mut header: Vec<String> = vec!["mode".into(), "machine".into()];
        header.extend(self.fields.iter().map(|f| csv_field(f)));
        header.extend(
            [
                "total_cycles",
                "total_seconds",
                "offchip_read_bytes",
                "offchip_write_bytes",
            ]
            .map(String::from),
        );
        if let Some(first) = self.rows.first() {
            for class in first.offchip_bytes_by_class.keys() {
                header.push(format!("offchip_{class}_read_bytes"));
                header.push(format!("offchip_{class}_write_bytes"));
            }
        }
        header.extend(["host_bytes", "hit_rate", "byte_hit_rate"].map(String::from));
        let mut out = header.join(",");
        out.push('\n');
        for r in &self.rows {
            let mut cells = vec![csv_field(self.mode), csv_field(&self.machine)];
            cells.extend(r.settings.iter().map(|(_, v)| csv_field(v)));
            cells.push(r.total_cycles.to_string());
            cells.push(format!("{}", r.total_seconds));
            cells.push(r.offchip_read_bytes.to_string());
            cells.push(r.offchip_write_bytes.to_string());
            for rw in r.offchip_bytes_by_class.values() {
                cells.push(rw.read.to_string());
                cells.push(rw.write.to_string());
            }
            cells.push(r.host_bytes.to_string());
            cells.push(format!("{}", r.hit_rate));
            cells.push(format!("{}", r.byte_hit_rate));
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// The sweep as a table for people.
    pub fn render(&self) -> String {
        let mut header: Vec<String> = self.fields.clone();
        header.extend(
            [
                "time (ms)",
                "off-chip read MB",
                "off-chip written MB",
                "hit rate",
            ]
            .map(String::from),
        );
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let mut c: Vec<String> = r.settings.iter().map(|(_, v)| v.clone()).collect();
                c.push(format!("{:.3}", r.total_seconds * 1e3));
                c.push(format!("{:.1}", r.offchip_read_bytes as f64 / 1e6));
                c.push(format!("{:.1}", r.offchip_write_bytes as f64 / 1e6));
                c.push(format!("{:.1}%", r.hit_rate * 100.0));
                c
            })
            .collect();
        let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, c) in width.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&width)
                .map(|(c, &w)| format!("{c:>w$}"))
                .collect();
            format!("  {}\n", padded.join("  "))
        };
        let mut out = format!(
            "{} on {} swept over {} point(s)\n",
            self.mode,
            self.machine,
            self.rows.len()
        );
        out.push_str(&line(&header));
        for r in &rows {
            out.push_str(&line(r));
        }
        out
    }
}

fn progress(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("sweep [{bar:30}] {pos}/{len} points ({elapsed})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs `helrm sweep`.
///
/// # Errors
/// [`CliError::Input`] (exit code 2) for a bad trace, model, `--set` field or value, naming
/// it; [`CliError::Run`] for failures while replaying or writing.
pub fn run(args: SweepArgs) -> Result<(), CliError> {
    check_output_path(&args.csv)?;
    let trace_name = args.trace.display().to_string();
    let base = resolve(&args.hw).map_err(|e| CliError::Input(format!("--hw {}: {e}", args.hw)))?;
    let settings = args
        .set
        .iter()
        .map(|s| parse_setting(s))
        .collect::<Result<Vec<_>, _>>()?;
    let points = points(&base, &settings)?;
    let source =
        TraceFile::open(&args.trace).map_err(|e| CliError::Input(format!("{trace_name}: {e}")))?;
    let bar = progress(points.len() as u64);
    let sweep = run_points(&source, &base, &settings, &points, &bar);
    bar.finish_and_clear();
    let sweep = sweep.map_err(|e| match e {
        SimError::Trace { .. } => CliError::Input(format!("{trace_name}: {e}")),
        SimError::Model { .. }
        | SimError::InvalidModel { .. }
        | SimError::InvalidOptions { .. } => {
            CliError::Input(format!("--hw {} with the swept settings: {e}", args.hw))
        }
        other => CliError::Run(format!("sweep {trace_name}: {other}")),
    })?;
    super::simulate::write_atomic(&args.csv, &sweep.to_csv())?;
    if args.json {
        let text = serde_json::to_string_pretty(&sweep)
            .map_err(|e| CliError::Run(format!("sweep: cannot encode JSON: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", sweep.render());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use helrm_core::trace::{
        BinaryWriter, DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent,
        TraceHeader, TraceMode, TraceSink,
    };
    use std::fs::File;
    use std::path::Path;

    fn setting(arg: &str) -> Setting {
        parse_setting(arg).expect("valid --set")
    }

    fn ark() -> MachineModel {
        resolve("ark").expect("shipped model")
    }

    /// Element-wise steps on equal-size ciphertexts (the setting of Belady's theorem), with
    /// a reuse pattern that overflows small memories.
    fn write_trace(path: &Path) {
        let n = 1u64 << 12;
        let header = TraceHeader::new(
            "sweep-test",
            ParamsSummary {
                log_n: 12,
                q_bits: vec![40; 3],
                p_bits: vec![50],
                dnum: 3,
                word_bytes: 8,
            },
            TraceMode::Symbolic,
            "helrm sweep test",
        );
        let file = File::create(path).expect("create trace");
        let w = BinaryWriter::new(std::io::BufWriter::new(file), &header).expect("writer");
        let bytes = 2 * 3 * n * 8;
        let ct = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, bytes, 2);
        let mut live: Vec<u64> = (0..6).collect();
        for (i, next) in (0..60u64).zip(6u64..) {
            let a = live[(i * 7 % live.len() as u64) as usize];
            let b = live[(i * 3 % live.len() as u64) as usize];
            let op = if i % 3 == 0 { OpKind::Sub } else { OpKind::Add };
            let mut e = TraceEvent::new(op, 12, 2)
                .with_inputs(vec![ct(a), ct(b)])
                .with_outputs(vec![ct(next)]);
            e.seq = i;
            w.record(e);
            live.push(next);
            if live.len() > 10 {
                live.remove((i % 10) as usize);
            }
        }
        w.finish().expect("finish");
    }

    fn sweep(sets: &[&str]) -> Sweep {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.htrace");
        write_trace(&path);
        let source = TraceFile::open(&path).expect("open");
        let base = ark();
        let settings: Vec<Setting> = sets.iter().map(|s| setting(s)).collect();
        let pts = points(&base, &settings).expect("points");
        run_points(&source, &base, &settings, &pts, &ProgressBar::hidden()).expect("sweep")
    }

    #[test]
    fn more_bandwidth_is_never_slower() {
        let s = sweep(&[
            "onchip.capacity_bytes=200000,1000000",
            "offchip.bandwidth_gb_per_s=1,4,16,64,256,1024",
        ]);
        assert_eq!(s.rows.len(), 12);
        for pair in s.rows.chunks(6) {
            assert_eq!(pair[0].settings[0], pair[5].settings[0]);
            for w in pair.windows(2) {
                assert!(
                    w[1].total_cycles <= w[0].total_cycles,
                    "{:?} slower than {:?}",
                    w[1],
                    w[0]
                );
            }
            assert!(pair[5].total_cycles < pair[0].total_cycles);
        }
    }

    #[test]
    fn more_capacity_never_moves_more_bytes_under_belady() {
        let s = sweep(&[
            "onchip.replacement_policy=belady",
            "onchip.capacity_bytes=100000,200000,400000,800000,1600000",
        ]);
        let bytes: Vec<u64> = s
            .rows
            .iter()
            .map(|r| r.offchip_read_bytes + r.offchip_write_bytes)
            .collect();
        assert!(bytes.windows(2).all(|w| w[1] <= w[0]), "{bytes:?}");
        assert!(bytes[4] < bytes[0], "{bytes:?}");
        let hits: Vec<f64> = s.rows.iter().map(|r| r.hit_rate).collect();
        assert!(hits[4] > hits[0], "{hits:?}");
    }

    #[test]
    fn lowering_word_size_halves_the_bytes() {
        let s = sweep(&["lowering.word_bytes=8,4"]);
        let c = |r: &Row| r.offchip_bytes_by_class["ciphertext"];
        assert_eq!(c(&s.rows[0]).read, 2 * c(&s.rows[1]).read);
    }

    #[test]
    fn csv_has_one_row_per_point_with_settings_and_classes() {
        let s = sweep(&[
            "offchip.bandwidth_gb_per_s=500,1000",
            "features.key_prng_compression=true,false",
        ]);
        let csv = s.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5);
        let header: Vec<&str> = lines[0].split(',').collect();
        assert_eq!(
            &header[..4],
            &[
                "mode",
                "machine",
                "offchip.bandwidth_gb_per_s",
                "features.key_prng_compression"
            ]
        );
        assert!(header.contains(&"offchip_key_galois_read_bytes"));
        assert!(header.contains(&"hit_rate"));
        assert!(lines[1].starts_with("replay of a symbolic trace,ark,500,true,"));
        assert!(lines[4].starts_with("replay of a symbolic trace,ark,1000,false,"));
        assert!(lines.iter().all(|l| l.split(',').count() == header.len()));
    }

    fn point_error(sets: &[&str]) -> SweepError {
        let settings: Result<Vec<Setting>, SweepError> =
            sets.iter().map(|s| parse_setting(s)).collect();
        match settings {
            Err(e) => e,
            Ok(s) => points(&ark(), &s).expect_err("a bad setting"),
        }
    }

    #[test]
    fn bad_settings_are_typed_errors_naming_the_field() {
        assert!(matches!(
            point_error(&["offchip.bandwidth_gb_per_s"]),
            SweepError::Syntax { .. }
        ));
        assert!(matches!(
            point_error(&["offchip.bandwith_gb_per_s=5"]),
            SweepError::UnknownField { field, .. } if field == "offchip.bandwith_gb_per_s"
        ));
        assert!(matches!(
            point_error(&["nothing.here=5"]),
            SweepError::UnknownField { field, .. } if field == "nothing.here"
        ));
        assert!(matches!(
            point_error(&["lowering.word_size=4"]),
            SweepError::UnknownField { .. }
        ));
        assert!(matches!(
            point_error(&["offchip.bandwidth_gb_per_s=fast"]),
            SweepError::BadValue { field, value, .. }
                if field == "offchip.bandwidth_gb_per_s" && value == "fast"
        ));
        // Parsed but out of range: the validator's message names the field.
        match point_error(&["offchip.bandwidth_gb_per_s=100,-5"]) {
            SweepError::BadValue {
                field,
                value,
                message,
            } => {
                assert_eq!(
                    (field.as_str(), value.as_str()),
                    ("offchip.bandwidth_gb_per_s", "-5")
                );
                assert!(message.contains("offchip.bandwidth_gb_per_s"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            point_error(&["lowering.word_bytes=0"]),
            SweepError::BadValue { .. }
        ));
        assert!(matches!(
            point_error(&["onchip.replacement_policy=fifo"]),
            SweepError::BadValue { .. }
        ));
        assert!(matches!(
            point_error(&["clock_ghz=1", "clock_ghz=2"]),
            SweepError::Duplicate { .. }
        ));
        let e = point_error(&["offchip.bandwith_gb_per_s=5"]);
        assert_eq!(CliError::from(e).exit_code(), 2);
    }

    #[test]
    fn points_vary_the_last_setting_fastest() {
        let settings = [setting("clock_ghz=1,2"), setting("units.ntt.count=1,2,3")];
        let p = points(&ark(), &settings).expect("points");
        assert_eq!(p.len(), 6);
        assert_eq!(p[1].model.units.ntt.count, 2);
        assert_eq!(p[3].model.clock_ghz, 2.0);
        assert_eq!(p[3].model.units.ntt.count, 1);
    }
}

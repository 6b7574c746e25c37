//! Reports: the golden report, determinism, output formats, file traces, every shipped model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

mod common;

use std::io::BufWriter;
use std::path::PathBuf;

use common::every_op;
use helrm_core::trace::{BinaryWriter, JsonlWriter, TraceMode, TraceSink};
use helrm_hwmodels::{builtin, builtin_all, builtin_names, ReplacementPolicy};
use helrm_sim::engine::{InMemoryTrace, SimOptions, TraceFile};
use helrm_sim::lower::LoweringOptions;
use helrm_sim::report::{simulate_report, simulate_report_with, Report, Timeline};
use rayon::prelude::*;

/// The tiny trace of the golden report: every operation kind once or twice at N = 2^10,
/// 4 Q primes, 2 P primes, dnum 2, with wall times (a "real" trace).
fn tiny(mode: TraceMode) -> InMemoryTrace {
    every_op(10, 4, 2, 2, mode)
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Compares `actual` with the committed file; `HELRM_BLESS=1` rewrites it instead.
fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("HELRM_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with HELRM_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or(expected.lines().count().min(actual.lines().count()), |i| i);
        panic!(
            "{} differs from the simulation from line {} on:\n  expected: {:?}\n  actual:   {:?}\n\
             (if the change is intended, rerun with HELRM_BLESS=1 and commit the file)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn golden_report_of_the_tiny_trace_on_ark() {
    let report = simulate_report(
        &tiny(TraceMode::Real),
        &builtin("ark").unwrap(),
        &SimOptions::default(),
    )
    .unwrap();
    check_golden("tiny-ark.report.json", &report.to_json().unwrap());
}

#[test]
fn golden_report_of_the_tiny_trace_on_host_cpu_csv() {
    let report = simulate_report(
        &tiny(TraceMode::Real),
        &builtin("host-cpu").unwrap(),
        &SimOptions::default(),
    )
    .unwrap();
    check_golden("tiny-host-cpu.report.csv", &report.to_csv());
}

fn json(report: &Report) -> serde_json::Value {
    serde_json::from_str(&report.to_json().unwrap()).unwrap()
}

#[test]
fn json_has_the_documented_top_level_keys() {
    // HE-LRM's sizes: 11 MB ciphertexts and 56 MB keys against the A100's 40 MB L2.
    let t = every_op(16, 11, 3, 4, TraceMode::Real);
    let report = simulate_report(&t, &builtin("a100").unwrap(), &SimOptions::default()).unwrap();
    let v = json(&report);
    for key in [
        "machine",
        "total_cycles",
        "total_seconds",
        "offchip_bytes_by_class",
        "by_scope",
        "by_op",
        "measured_seconds",
        "mode",
    ] {
        assert!(v.get(key).is_some(), "missing top-level key {key}");
    }
    assert_eq!(v["machine"]["name"], "a100");
    assert_eq!(v["mode"], "replay of a real trace");
    let ct = &v["offchip_bytes_by_class"]["ciphertext"];
    assert!(ct["read"].as_u64().unwrap() > 0);
    assert!(ct["write"].is_u64());
    // Keys, weights and embeddings are reported under their own classes.
    for class in [
        "key_relin",
        "key_galois",
        "plaintext_weight",
        "plaintext_embedding",
    ] {
        assert!(
            v["offchip_bytes_by_class"][class]["read"].as_u64().unwrap() > 0,
            "no traffic of class {class}"
        );
    }
    // Every class is listed, moved or not.
    assert_eq!(v["offchip_bytes_by_class"].as_object().unwrap().len(), 10);
    // The measured time is the sum of the trace's wall times.
    let wall: u64 = t.events.iter().filter_map(|e| e.wall_ns).sum();
    assert!((report.measured_seconds.unwrap() - wall as f64 * 1e-9).abs() < 1e-15);
    assert!(v["offchip"]["achieved_gb_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["by_scope"]["dlrm/mlp/layer0"]["arithmetic_intensity_mod_ops_per_byte"].is_number());

    // A symbolic trace has no measured time.
    let sym = simulate_report(
        &tiny(TraceMode::Symbolic),
        &builtin("a100").unwrap(),
        &SimOptions::default(),
    )
    .unwrap();
    assert_eq!(sym.measured_seconds, None);
    let v = json(&sym);
    assert!(v.get("measured_seconds").is_none());
    assert_eq!(v["mode"], "replay of a symbolic trace");
}

#[test]
fn cycles_add_up_across_ops_and_scopes() {
    for name in builtin_names() {
        let report = simulate_report(
            &tiny(TraceMode::Real),
            &builtin(name).unwrap(),
            &SimOptions::default(),
        )
        .unwrap();
        let by_op: u64 = report.by_op.values().map(|s| s.cycles).sum();
        let by_top: u64 = report.by_top_scope.values().map(|s| s.cycles).sum();
        let by_scope: u64 = report.by_scope.values().map(|s| s.cycles).sum();
        assert_eq!(by_op, report.total_cycles, "{name}");
        assert_eq!(by_top, report.total_cycles, "{name}");
        assert_eq!(by_scope, report.total_cycles, "{name}");
        let class_bytes: u64 = report
            .offchip_bytes_by_class
            .values()
            .map(|rw| rw.read + rw.write)
            .sum();
        assert_eq!(
            class_bytes,
            report.offchip.read_bytes + report.offchip.write_bytes
        );
        let scope_bytes: u64 = report
            .by_scope
            .values()
            .map(|s| s.offchip_read_bytes + s.offchip_write_bytes)
            .sum();
        assert_eq!(scope_bytes, class_bytes, "{name}");
        assert!(report.onchip.hit_rate >= 0.0 && report.onchip.hit_rate <= 1.0);
        for u in report.units.values() {
            assert!(
                u.utilisation <= 1.0,
                "{name}: utilisation {}",
                u.utilisation
            );
        }
    }
}

#[test]
fn reports_are_byte_identical_across_runs_and_thread_counts() {
    let t = tiny(TraceMode::Real);
    let models = builtin_all().unwrap();
    let serial: Vec<String> = models
        .iter()
        .map(|m| {
            simulate_report(&t, m, &SimOptions::default())
                .unwrap()
                .to_json()
                .unwrap()
        })
        .collect();
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let parallel: Vec<String> = pool.install(|| {
            models
                .par_iter()
                .map(|m| {
                    simulate_report(&t, m, &SimOptions::default())
                        .unwrap()
                        .to_json()
                        .unwrap()
                })
                .collect()
        });
        assert_eq!(parallel, serial, "{threads} threads");
    }
}

#[test]
fn every_shipped_model_replays_traces_of_several_parameter_sets() {
    // (log N, Q primes, P primes, dnum): tiny, HE-LRM-shaped, one-digit (BTS-like).
    for (log_n, q, p, dnum) in [(10, 4, 2, 2), (16, 11, 3, 4), (12, 6, 6, 1)] {
        for mode in [TraceMode::Real, TraceMode::Symbolic] {
            let t = every_op(log_n, q, p, dnum, mode);
            for model in builtin_all().unwrap() {
                for policy in [ReplacementPolicy::Lru, ReplacementPolicy::Belady] {
                    let opts = SimOptions {
                        policy: Some(policy),
                        lowering: None,
                    };
                    let r = simulate_report(&t, &model, &opts)
                        .unwrap_or_else(|e| panic!("{} on log_n {log_n}: {e}", model.name));
                    assert!(r.total_cycles > 0);
                    assert_eq!(r.trace.events, t.events.len() as u64);
                }
                let all_knobs = SimOptions {
                    policy: None,
                    lowering: Some(LoweringOptions {
                        word_bytes: Some(4),
                        key_compression: true,
                        on_the_fly_twiddles: true,
                        fused_rescale_moddown: true,
                        compact_plaintexts: true,
                    }),
                };
                simulate_report(&t, &model, &all_knobs).unwrap();
            }
        }
    }
}

#[test]
fn knobs_change_the_traffic_they_should() {
    let t = every_op(16, 11, 3, 4, TraceMode::Symbolic);
    let mut model = builtin("bts").unwrap();
    model.features.key_prng_compression = false;
    model.features.onchip_diagonal_encoding = false;
    model.features.on_the_fly_twiddles = false;
    let base = simulate_report(&t, &model, &SimOptions::default()).unwrap();
    let read = |r: &Report, c: &str| r.offchip_bytes_by_class.get(c).map_or(0, |rw| rw.read);
    let mut compressed = model.clone();
    compressed.features.key_prng_compression = true;
    let r = simulate_report(&t, &compressed, &SimOptions::default()).unwrap();
    assert_eq!(read(&r, "key_relin") * 2, read(&base, "key_relin"));
    let mut compact = model.clone();
    compact.features.onchip_diagonal_encoding = true;
    let r = simulate_report(&t, &compact, &SimOptions::default()).unwrap();
    assert!(read(&r, "plaintext_weight") < read(&base, "plaintext_weight"));
    assert!(r.mod_mults > base.mod_mults, "expanding on chip costs NTTs");
    let mut otf = model.clone();
    otf.features.on_the_fly_twiddles = true;
    let r = simulate_report(&t, &otf, &SimOptions::default()).unwrap();
    assert!(read(&base, "twiddle") > 0);
    assert_eq!(read(&r, "twiddle"), 0);
}

#[test]
fn timeline_is_valid_chrome_trace_json_with_disjoint_slices_per_track() {
    let t = tiny(TraceMode::Real);
    let mut timeline = Timeline::new(Vec::new());
    let report = simulate_report_with(
        &t,
        &builtin("sharp").unwrap(),
        &SimOptions::default(),
        &mut [&mut timeline],
    )
    .unwrap();
    let bytes = timeline.finish().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["otherData"]["mode"], "replay of a real trace on sharp");
    let events = v["traceEvents"].as_array().unwrap();
    let kernels = events.iter().filter(|e| e["cat"] == "kernel").count() as u64;
    assert_eq!(kernels, report.simulation.kernels);
    let begins = events.iter().filter(|e| e["ph"] == "b").count();
    assert_eq!(begins, t.events.len());
    // Complete slices on one track never overlap (viewers require proper nesting).
    let mut by_tid: std::collections::BTreeMap<u64, Vec<(f64, f64)>> = Default::default();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let ts = e["ts"].as_f64().unwrap();
        let dur = e["dur"].as_f64().unwrap();
        by_tid
            .entry(e["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur));
    }
    for (tid, mut slices) in by_tid {
        slices.sort_by(|a, b| a.partial_cmp(b).unwrap());
        for w in slices.windows(2) {
            assert!(
                w[0].1 <= w[1].0 + 1e-9,
                "track {tid}: {:?} overlaps {:?}",
                w[0],
                w[1]
            );
        }
    }
}

#[test]
fn csv_labels_every_row_and_quotes_odd_scopes() {
    let mut t = tiny(TraceMode::Symbolic);
    t.events[5].scope = "odd, \"scope\"".into();
    let report = simulate_report(&t, &builtin("ark").unwrap(), &SimOptions::default()).unwrap();
    let csv = report.to_csv();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("mode,machine,section,name,"));
    let columns = header.split(',').count();
    assert_eq!(columns, 16);
    for line in lines {
        assert!(
            line.starts_with("replay of a symbolic trace,ark,"),
            "{line}"
        );
    }
    assert!(csv.contains("scope,\"odd, \"\"scope\"\"\","));
    assert!(csv.contains("\ntotal,") || csv.contains(",total,"));
}

#[test]
fn file_traces_replay_like_in_memory_ones() {
    let t = tiny(TraceMode::Real);
    let model = builtin("craterlake").unwrap();
    let expected = simulate_report(&t, &model, &SimOptions::default())
        .unwrap()
        .to_json()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for binary in [false, true] {
        let path = dir
            .path()
            .join(if binary { "t.htrace" } else { "t.htrace.jsonl" });
        let file = BufWriter::new(std::fs::File::create(&path).unwrap());
        if binary {
            let w = BinaryWriter::new(file, &t.header).unwrap();
            t.events.iter().for_each(|e| w.record(e.clone()));
            w.finish().unwrap();
        } else {
            let w = JsonlWriter::new(file, &t.header).unwrap();
            t.events.iter().for_each(|e| w.record(e.clone()));
            w.finish().unwrap();
        }
        let source = TraceFile::open(&path).unwrap();
        let got = simulate_report(&source, &model, &SimOptions::default())
            .unwrap()
            .to_json()
            .unwrap();
        assert_eq!(got, expected, "binary = {binary}");
    }
}

#[test]
fn bad_trace_files_are_reported_as_trace_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.htrace");
    std::fs::write(&path, b"not a trace").unwrap();
    assert!(matches!(
        TraceFile::open(&path),
        Err(helrm_sim::Error::Trace { .. })
    ));
    assert!(matches!(
        TraceFile::open(dir.path().join("missing.htrace")),
        Err(helrm_sim::Error::Trace { .. })
    ));
}

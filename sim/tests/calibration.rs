//! CPU fidelity: the committed `host-cpu` model replays the committed real traces of this
//! machine (`sim/tests/data/calibration`, recorded by `helrm --threads 1 calibrate`) within
//! ±20 % of their measured total and ±30 % per operation kind holding at least 1 % of the
//! time (docs/calibration.md). Deterministic: the measured times are the ones stored in the
//! traces, never live timings.

#![allow(
    clippy::unwrap_used,
    reason = "helper functions of this test: a failed unwrap is a failed test"
)]

use std::path::PathBuf;

use helrm_core::trace::TraceMode;
use helrm_sim::calibrate::{compare, Comparison, MIN_SHARE};
use helrm_sim::engine::{EventSource, TraceFile};

/// Tolerance on a trace's total time.
const TOTAL_TOLERANCE: f64 = 0.2;
/// Tolerance on each operation kind holding at least [`MIN_SHARE`] of the time.
const OP_TOLERANCE: f64 = 0.3;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/calibration")
        .join(name)
}

fn replay(name: &str) -> Comparison {
    let trace = TraceFile::open(data(name)).unwrap();
    assert_eq!(
        trace.header().mode,
        TraceMode::Real,
        "{name} is a real trace"
    );
    let host = helrm_hwmodels::builtin("host-cpu").unwrap();
    compare(name, &trace, &host).unwrap()
}

fn check(name: &str) {
    let c = replay(name);
    let table = c.to_markdown(MIN_SHARE);
    assert!(
        c.error().abs() <= TOTAL_TOLERANCE,
        "{name}: total {:+.1} %\n{table}",
        100.0 * c.error()
    );
    for o in c.significant_ops(MIN_SHARE) {
        assert!(
            o.error().abs() <= OP_TOLERANCE,
            "{name}: {} {:+.1} %\n{table}",
            o.op,
            100.0 * o.error()
        );
    }
    // Every event was timed, and the measured total is what the trace holds.
    let trace = TraceFile::open(data(name)).unwrap();
    let mut untimed = 0u64;
    let mut wall = 0u64;
    trace
        .for_each_event(&mut |ev| {
            match ev.wall_ns {
                Some(w) => wall += w,
                None => untimed += 1,
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(untimed, 0, "{name}: events without wall time");
    assert!((c.measured_seconds - wall as f64 * 1e-9).abs() < 1e-6);
}

#[test]
fn host_cpu_replays_the_bench_ops_trace_within_tolerance() {
    check("ops-helrm-n14.jsonl");
}

#[test]
fn host_cpu_replays_the_uci_inference_trace_within_tolerance() {
    check("uci-helrm-n14.jsonl");
}

#[test]
fn host_cpu_states_its_calibration() {
    let host = helrm_hwmodels::builtin("host-cpu").unwrap();
    assert!(
        host.provenance
            .notes
            .contains("Calibrated with 1 worker thread"),
        "{}",
        host.provenance.notes
    );
    assert!(host.provenance.source.contains("helrm calibrate"));
    for class in helrm_hwmodels::KernelClass::ALL {
        assert_eq!(host.units.get(class).count, 1, "one thread");
    }
}

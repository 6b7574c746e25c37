//! Replay speed on large traces: a recorded trace repeated `HELRM_SPEED_COPIES` times (fresh
//! object ids per copy, keys and weights shared, as in a batch of requests), streamed from a
//! file and replayed on `HELRM_SPEED_HW` (default `ark`) under both replacement policies.
//!
//! Ignored by default; run on demand with, for example,
//! `HELRM_SPEED_TRACE=/tmp/u.htrace HELRM_SPEED_COPIES=40 cargo test --release -p helrm-sim
//! --test engine_speed -- --ignored --nocapture`. It prints events per second and asserts
//! behaviour (equal reports from file and memory), never time.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use std::io::BufWriter;
use std::time::Instant;

use helrm_core::trace::{BinaryWriter, DataClass, ObjectId, TraceEvent, TraceSink};
use helrm_hwmodels::{builtin, ReplacementPolicy};
use helrm_sim::engine::{EventSource, SimOptions, TraceFile};
use helrm_sim::report::simulate_report;

/// Writes `copies` copies of `source` to `path`; objects other than keys and plaintext
/// weights get fresh ids in every copy.
fn repeat(source: &TraceFile, copies: u64, path: &std::path::Path) -> u64 {
    let w = BinaryWriter::new(
        BufWriter::new(std::fs::File::create(path).unwrap()),
        source.header(),
    )
    .unwrap();
    let mut max_id = 0u64;
    source
        .for_each_event(&mut |e| {
            for o in e.inputs.iter().chain(&e.outputs) {
                max_id = max_id.max(o.id.0);
            }
            Ok(())
        })
        .unwrap();
    let stride = max_id + 1;
    let mut seq = 0u64;
    for c in 0..copies {
        source
            .for_each_event(&mut |e| {
                let mut e: TraceEvent = e.clone();
                for o in e.inputs.iter_mut().chain(e.outputs.iter_mut()) {
                    let shared = o.class.is_key() || o.class == DataClass::PlaintextWeight;
                    if !shared {
                        o.id = ObjectId(o.id.0 + c * stride);
                    }
                }
                e.seq = seq;
                seq += 1;
                w.record(e);
                Ok(())
            })
            .unwrap();
    }
    w.finish().unwrap();
    seq
}

#[test]
#[ignore = "writes a large trace; run on demand to measure replay speed"]
fn replay_speed_of_a_repeated_trace() {
    let Ok(trace) = std::env::var("HELRM_SPEED_TRACE") else {
        println!("set HELRM_SPEED_TRACE to a trace file");
        return;
    };
    let copies = std::env::var("HELRM_SPEED_COPIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let hw = std::env::var("HELRM_SPEED_HW").unwrap_or_else(|_| "ark".into());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("speed.htrace");
    let events = repeat(&TraceFile::open(&trace).unwrap(), copies, &path);
    let source = TraceFile::open(&path).unwrap();
    let model = builtin(&hw).unwrap();
    for policy in [ReplacementPolicy::Lru, ReplacementPolicy::Belady] {
        let options = SimOptions {
            policy: Some(policy),
            ..SimOptions::default()
        };
        let t0 = Instant::now();
        let report = simulate_report(&source, &model, &options).unwrap();
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "{hw} {policy:?}: {events} events, {} kernels in {secs:.2} s: {:.0} events/s, \
             {:.0} kernels/s; simulated {:.3} s, hit rate {:.3}",
            report.simulation.kernels,
            events as f64 / secs,
            report.simulation.kernels as f64 / secs,
            report.total_seconds,
            report.onchip.hit_rate
        );
        assert_eq!(report.trace.events, events);
    }
}

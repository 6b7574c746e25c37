//! A Criteo-scale synthetic trace, streamed through a file, replayed on ARK.
//!
//! Ignored by default (it writes a few hundred MB of trace); run with
//! `cargo test --release -p helrm-sim --test scale -- --ignored --nocapture` to see the
//! replay time. It asserts behaviour, never time.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use std::io::BufWriter;
use std::time::Instant;

use helrm_core::trace::{
    BinaryWriter, DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent, TraceHeader,
    TraceMode, TraceSink,
};
use helrm_hwmodels::{builtin, ReplacementPolicy};
use helrm_sim::engine::{SimOptions, TraceFile};
use helrm_sim::lower::{ciphertext_bytes, key_switch_key_bytes};
use helrm_sim::report::simulate_report;

const LOG_N: u32 = 16;
const N: u64 = 1 << LOG_N;

/// Writes `blocks` blocks shaped like a packed-embedding matrix-vector product: a hoisted
/// rotation of the input (8 baby steps), 8 plaintext diagonals (each used once, like a
/// 44M-parameter model's weights), additions, a giant-step rotation, a multiplication and
/// rescales. About 22 events per block.
fn write_trace(path: &std::path::Path, blocks: u64) -> u64 {
    let header = TraceHeader::new(
        "synthetic-criteo",
        ParamsSummary {
            log_n: LOG_N,
            q_bits: vec![50; 11],
            p_bits: vec![60; 3],
            dnum: 4,
            word_bytes: 8,
        },
        TraceMode::Symbolic,
        "helrm-sim scale test",
    );
    let w = BinaryWriter::new(
        BufWriter::new(std::fs::File::create(path).unwrap()),
        &header,
    )
    .unwrap();
    let mut next = 100u64;
    let mut id = || {
        next += 1;
        ObjectId(next)
    };
    let ct = |id, l: u32| {
        ObjectRef::at_level(
            id,
            DataClass::Ciphertext,
            ciphertext_bytes(N, l + 1, 2, 8),
            l,
        )
    };
    let key = |k: u64, l: u32| {
        let digits = (l + 1).div_ceil(3);
        ObjectRef::key(
            ObjectId(k),
            DataClass::KeyGalois(k),
            key_switch_key_bytes(N, digits, l + 1, 3, 8, false),
        )
    };
    let relin = |l: u32| {
        ObjectRef::key(
            ObjectId(0),
            DataClass::KeyRelin,
            key_switch_key_bytes(N, (l + 1).div_ceil(3), l + 1, 3, 8, false),
        )
    };
    let mut seq = 0u64;
    let mut emit = |mut e: TraceEvent, scope: &str| {
        e.seq = seq;
        seq += 1;
        e.scope = scope.to_string();
        w.record(e);
    };
    let mut acc = ct(id(), 10);
    for b in 0..blocks {
        let l = 10 - (b % 3) as u32 * 2;
        let x = ct(id(), l);
        let rots: Vec<ObjectRef> = (0..8).map(|_| ct(id(), l)).collect();
        let mut inputs = vec![x];
        inputs.extend((1..8).map(|r| key(2 * r + 1, l)));
        let mut e = TraceEvent::new(OpKind::RotateHoisted, LOG_N, l)
            .with_key_switching(3, (l + 1).div_ceil(3))
            .with_rotations(
                (0..8).collect(),
                (0..8).map(|r| if r == 0 { 1 } else { 2 * r + 1 }).collect(),
            )
            .with_inputs(inputs)
            .with_outputs(rots.clone());
        e.galois_elements[0] = 1;
        emit(e, "dlrm/embedding/bsgs");
        let mut sum: Option<ObjectRef> = None;
        for r in &rots {
            let d = ObjectRef::at_level(
                id(),
                DataClass::PlaintextEmbedding,
                u64::from(l + 1) * N * 8,
                l,
            );
            let p = ct(id(), l);
            emit(
                TraceEvent::new(OpKind::MulPlain, LOG_N, l)
                    .with_inputs(vec![*r, d])
                    .with_outputs(vec![p]),
                "dlrm/embedding/bsgs",
            );
            sum = Some(match sum {
                None => p,
                Some(s) => {
                    let o = ct(id(), l);
                    emit(
                        TraceEvent::new(OpKind::Add, LOG_N, l)
                            .with_inputs(vec![s, p])
                            .with_outputs(vec![o]),
                        "dlrm/embedding/bsgs",
                    );
                    o
                }
            });
        }
        let s = sum.unwrap();
        let g = ct(id(), l);
        emit(
            TraceEvent::new(OpKind::Rotate, LOG_N, l)
                .with_key_switching(3, (l + 1).div_ceil(3))
                .with_rotations(vec![8], vec![17])
                .with_inputs(vec![s, key(17, l)])
                .with_outputs(vec![g]),
            "dlrm/embedding/giant",
        );
        let r = ct(id(), l - 1);
        emit(
            TraceEvent::new(OpKind::Rescale, LOG_N, l)
                .with_inputs(vec![g])
                .with_outputs(vec![r]),
            "dlrm/embedding/giant",
        );
        let a2 = ct(id(), l - 1);
        let accl = ct(id(), l - 1);
        emit(
            TraceEvent::new(OpKind::LevelDrop, LOG_N, acc.level.unwrap())
                .with_inputs(vec![acc])
                .with_outputs(vec![accl]),
            "dlrm/interaction",
        );
        emit(
            TraceEvent::new(OpKind::MulRelin, LOG_N, l - 1)
                .with_key_switching(3, l.div_ceil(3))
                .with_inputs(vec![r, accl, relin(l - 1)])
                .with_outputs(vec![a2]),
            "dlrm/interaction",
        );
        let a3 = ct(id(), l - 2);
        emit(
            TraceEvent::new(OpKind::Rescale, LOG_N, l - 1)
                .with_inputs(vec![a2])
                .with_outputs(vec![a3]),
            "dlrm/interaction",
        );
        acc = ct(id(), 10);
        emit(
            TraceEvent::new(OpKind::ModRaise, LOG_N, 0)
                .with_inputs(vec![ct(a3.id, 0)])
                .with_outputs(vec![acc]),
            "bootstrap",
        );
    }
    w.finish().unwrap();
    seq
}

#[test]
#[ignore = "writes a large trace; run on demand to measure replay speed"]
fn criteo_scale_trace_replays_on_ark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("criteo.htrace");
    let blocks = std::env::var("HELRM_SCALE_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let t0 = Instant::now();
    let events = write_trace(&path, blocks);
    println!(
        "wrote {events} events ({} MB) in {:.1} s",
        std::fs::metadata(&path).unwrap().len() >> 20,
        t0.elapsed().as_secs_f64()
    );
    let source = TraceFile::open(&path).unwrap();
    let ark = builtin("ark").unwrap();
    for policy in [ReplacementPolicy::Lru, ReplacementPolicy::Belady] {
        let t0 = Instant::now();
        let opts = SimOptions {
            policy: Some(policy),
            lowering: None,
        };
        let r = simulate_report(&source, &ark, &opts).unwrap();
        println!(
            "{policy:?}: {} events, {} kernels, {:.3} s simulated, replayed in {:.1} s; \
             off-chip {} GB read",
            r.trace.events,
            r.simulation.kernels,
            r.total_seconds,
            t0.elapsed().as_secs_f64(),
            r.offchip.read_bytes >> 30
        );
        assert_eq!(r.trace.events, events);
    }
}

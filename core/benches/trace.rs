//! Trace throughput: writing and reading (`TraceStats::from_reader`, what `helrm trace stats`
//! does) in both encodings, on a synthetic trace shaped like an encrypted DLRM layer.
//!
//! Run: `cargo bench -p helrm-core --bench trace`. Throughput is reported in events per second;
//! the reading target is at least 2 million events/s.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]
#![allow(clippy::expect_used, reason = "benchmark set-up on in-memory data")]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use helrm_core::trace::{
    BinaryWriter, DataClass, IdAllocator, JsonlWriter, ObjectRef, OpKind, ParamsSummary,
    TraceEvent, TraceHeader, TraceMode, TraceReader, TraceSink, TraceStats,
};

const EVENTS: usize = 100_000;
const LOG_N: u32 = 16;
const N: u64 = 1 << LOG_N;

fn header() -> TraceHeader {
    TraceHeader::new(
        "bench",
        ParamsSummary {
            log_n: LOG_N,
            q_bits: vec![60; 11],
            p_bits: vec![60; 3],
            dnum: 4,
            word_bytes: 8,
        },
        TraceMode::Real,
        "helrm-core trace bench",
    )
}

/// A repeating mix of plaintext multiplies, additions, rotations, hoisted rotations,
/// ciphertext multiplies and rescales, with realistic scopes and object sizes.
fn events(count: usize) -> Vec<TraceEvent> {
    let ids = IdAllocator::new();
    let rlk = ids.allocate();
    let keys: Vec<_> = (0..8).map(|_| ids.allocate()).collect();
    let key_bytes = 4 * 2 * 14 * N * 8;
    let ct = |id, level: u32| {
        ObjectRef::at_level(
            id,
            DataClass::Ciphertext,
            2 * (u64::from(level) + 1) * N * 8,
            level,
        )
    };
    let mut x = ids.allocate();
    (0..count)
        .map(|i| {
            let level = 10 - (i / 1000 % 8) as u32;
            let base = TraceEvent::new(OpKind::Add, LOG_N, level)
                .with_key_switching(3, 4)
                .with_scale_log2(40.0);
            let y = ids.allocate();
            let mut e = match i % 6 {
                0 => TraceEvent {
                    op: OpKind::MulPlain,
                    inputs: vec![
                        ct(x, level),
                        ObjectRef::at_level(
                            ids.allocate(),
                            DataClass::PlaintextEmbedding,
                            (u64::from(level) + 1) * N * 8,
                            level,
                        ),
                    ],
                    ..base
                },
                1 | 2 => TraceEvent {
                    op: OpKind::Add,
                    inputs: vec![ct(x, level), ct(y, level)],
                    ..base
                },
                3 => {
                    let k = 5u64.pow((i % 8) as u32 + 1) % (2 * N);
                    TraceEvent {
                        op: OpKind::Rotate,
                        rotations: vec![(i % 8) as i64 + 1],
                        galois_elements: vec![k],
                        inputs: vec![
                            ct(x, level),
                            ObjectRef::key(keys[i % 8], DataClass::KeyGalois(k), key_bytes),
                        ],
                        ..base
                    }
                }
                4 => TraceEvent {
                    op: OpKind::MulRelin,
                    inputs: vec![
                        ct(x, level),
                        ct(y, level),
                        ObjectRef::key(rlk, DataClass::KeyRelin, key_bytes),
                    ],
                    ..base
                },
                _ => TraceEvent {
                    op: OpKind::Rescale,
                    inputs: vec![ct(x, level)],
                    ..base
                },
            };
            e.seq = i as u64;
            e.scope = if i % 2 == 0 {
                "dlrm/embedding/lookup".into()
            } else {
                "dlrm/mlp/bottom/layer1".into()
            };
            e.outputs = vec![ct(y, level)];
            e.wall_ns = Some(1_000_000 + i as u64);
            x = y;
            e
        })
        .collect()
}

fn encode_jsonl(events: &[TraceEvent]) -> Vec<u8> {
    let w = JsonlWriter::new(Vec::new(), &header()).expect("in-memory writer");
    for e in events {
        w.record(e.clone());
    }
    w.into_inner().expect("in-memory writer")
}

fn encode_binary(events: &[TraceEvent]) -> Vec<u8> {
    let w = BinaryWriter::new(Vec::new(), &header()).expect("in-memory writer");
    for e in events {
        w.record(e.clone());
    }
    w.into_inner().expect("in-memory writer")
}

fn bench_trace(c: &mut Criterion) {
    let evs = events(EVENTS);
    let jsonl = encode_jsonl(&evs);
    let binary = encode_binary(&evs);
    let mut group = c.benchmark_group("trace");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS as u64));
    for (name, bytes) in [("jsonl", &jsonl), ("binary", &binary)] {
        let id = format!(
            "stats/{name}/events={EVENTS}/bytes_per_event={}",
            bytes.len() / EVENTS
        );
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                let mut reader = TraceReader::from_reader(bytes.as_slice()).expect("valid trace");
                let stats = TraceStats::from_reader(&mut reader).expect("valid trace");
                black_box(stats.events)
            })
        });
    }
    group.bench_function(
        BenchmarkId::from_parameter(format!("write/jsonl/events={EVENTS}")),
        |b| b.iter(|| black_box(encode_jsonl(&evs).len())),
    );
    group.bench_function(
        BenchmarkId::from_parameter(format!("write/binary/events={EVENTS}")),
        |b| b.iter(|| black_box(encode_binary(&evs).len())),
    );
    group.finish();
}

criterion_group!(benches, bench_trace);
criterion_main!(benches);

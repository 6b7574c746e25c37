//! What attaching a trace sink costs: `mul_relin` at HE-LRM's parameter set (`helrm-n16-l10`:
//! N = 2^16, 11 Q limbs, dnum 4), top level, one thread, with no tracer and with a timed tracer
//! feeding each sink: JSON Lines to `/dev/null` (`std::io::sink`) and to a growing in-memory
//! buffer, binary to `/dev/null`, the in-memory `VecSink`, and the `CountingSink`.
//!
//! Run: `cargo bench -p helrm-core --bench trace_overhead`. First, an **interleaved**
//! measurement: rounds alternate an untraced and a traced batch of `mul_relin` (so machine
//! noise hits both alike) and the median ratio per sink is printed as the overhead in percent.
//! Then criterion times each variant on its own; ids carry the parameters
//! (`trace_overhead/mul_relin/n=65536/limbs=11/threads=1/sink=jsonl_devnull`).
//! `HELRM_OVERHEAD_ROUNDS` sets the interleaved rounds (default 15).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]
#![allow(clippy::expect_used, reason = "benchmark set-up on fixed parameters")]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion};
use helrm_core::ckks::{Ciphertext, CkksContext, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{
    BinaryWriter, CountingSink, DataClass, JsonlWriter, ParamsSummary, TraceHeader, TraceMode,
    TraceSink, Tracer, VecSink,
};

const PRESET: &str = "helrm-n16-l10";

struct Setup {
    eval: Evaluator,
    a: Ciphertext,
    b: Ciphertext,
    header: TraceHeader,
    id: String,
}

fn setup() -> Setup {
    let params = Params::preset(PRESET).expect("preset");
    let ctx = CkksContext::new(params, Backend::Real).expect("context");
    let p = ctx.params();
    let slots = p.slots();
    let mut keygen = KeyGenerator::new(ctx.clone()).expect("keygen");
    let keys = keygen.evaluation_keys(&[], slots, false).expect("keys");
    let mut enc = Encryptor::new(ctx.clone(), keygen.public_key().expect("pk")).expect("enc");
    let values: Vec<f64> = (0..slots).map(|i| (i % 100) as f64 / 100.0).collect();
    let pt = ctx
        .encode_real(
            &values,
            ctx.max_level(),
            p.default_scale(),
            slots,
            DataClass::Other,
        )
        .expect("encode");
    let a = enc.encrypt(&pt).expect("encrypt");
    let b = enc.encrypt(&pt).expect("encrypt");
    let header = TraceHeader::new(
        "bench",
        ParamsSummary {
            log_n: p.log_n(),
            q_bits: vec![50; p.q().len()],
            p_bits: vec![60; p.p().len()],
            dnum: p.digits().len() as u32,
            word_bytes: 8,
        },
        TraceMode::Real,
        "trace_overhead bench",
    );
    let id = format!("n={}/limbs={}/threads=1", p.n(), p.q().len());
    Setup {
        eval: Evaluator::new(ctx.clone(), Arc::new(keys)),
        a,
        b,
        header,
        id,
    }
}

/// The sinks compared, by name.
fn sinks(header: &TraceHeader) -> Vec<(&'static str, Arc<dyn TraceSink>)> {
    vec![
        (
            "jsonl_devnull",
            Arc::new(JsonlWriter::new(std::io::sink(), header).expect("writer")),
        ),
        (
            "jsonl_buffer",
            Arc::new(JsonlWriter::new(Vec::new(), header).expect("writer")),
        ),
        (
            "binary_devnull",
            Arc::new(BinaryWriter::new(std::io::sink(), header).expect("writer")),
        ),
        ("vec", Arc::new(VecSink::new())),
        ("counting", Arc::new(CountingSink::new())),
    ]
}

fn pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
}

fn batch(eval: &Evaluator, s: &Setup, reps: usize) -> Duration {
    let t = Instant::now();
    for _ in 0..reps {
        black_box(eval.mul_relin(&s.a, &s.b).expect("mul"));
    }
    t.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Alternates untraced and traced batches and prints the median time per operation of each
/// and the median of the per-round ratios, per sink.
fn interleaved(s: &Setup) {
    let rounds: usize = std::env::var("HELRM_OVERHEAD_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let reps = 3;
    let pool = pool();
    pool.install(|| {
        batch(&s.eval, s, 2); // warm up
        println!(
            "interleaved mul_relin ({PRESET}, 1 thread, {rounds} rounds x {reps} ops per side):"
        );
        for (name, sink) in sinks(&s.header) {
            let traced = s.eval.clone().with_tracer(Arc::new(Tracer::new(sink)));
            let (mut off, mut on, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..rounds {
                // Alternate which side goes first.
                let (x, y) = if round % 2 == 0 {
                    let x = batch(&s.eval, s, reps);
                    (x, batch(&traced, s, reps))
                } else {
                    let y = batch(&traced, s, reps);
                    (batch(&s.eval, s, reps), y)
                };
                let (x, y) = (x.as_secs_f64() / reps as f64, y.as_secs_f64() / reps as f64);
                off.push(x);
                on.push(y);
                ratio.push(y / x);
            }
            println!(
                "  sink={name:<15} untraced {:8.3} ms  traced {:8.3} ms  overhead {:+.2} %",
                median(off) * 1e3,
                median(on) * 1e3,
                (median(ratio) - 1.0) * 100.0
            );
        }
    });
}

fn overhead(c: &mut Criterion) {
    let s = setup();
    if std::env::var_os("HELRM_OVERHEAD_SKIP_INTERLEAVED").is_none() {
        interleaved(&s);
    }
    let pool = pool();
    let mut g = c.benchmark_group("trace_overhead");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let id = |sink: &str| BenchmarkId::new("mul_relin", format!("{}/sink={sink}", s.id));
    g.bench_function(id("none"), |b| {
        pool.install(|| b.iter(|| black_box(s.eval.mul_relin(&s.a, &s.b).expect("mul"))))
    });
    for (name, sink) in sinks(&s.header) {
        let traced = s.eval.clone().with_tracer(Arc::new(Tracer::new(sink)));
        g.bench_function(id(name), |b| {
            pool.install(|| b.iter(|| black_box(traced.mul_relin(&s.a, &s.b).expect("mul"))))
        });
    }
    g.finish();
}

criterion_group!(benches, overhead);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}

//! CKKS key-switching operations and their kernels at HE-LRM's parameter set
//! (`helrm-n16-l10`: N = 2^16, 11 Q limbs, 3 special primes, dnum = 4), on one and two threads,
//! at the top level.
//!
//! Run: `cargo bench -p helrm-core --bench ckks_ops` (add a filter such as `mul_relin` to pick
//! one). Ids carry the parameters: `ckks/mul_relin/n=65536/limbs=11/dnum=4/threads=1`.
//! The kernel groups (`kernels/...`) time one ModUp base conversion (3 digit primes to the
//! other 11 primes), one ModDown conversion (3 special primes to 11 chain primes) and the
//! element-wise product of one limb, with the best instruction set `HELRM_ISA` allows.
//! Heavy groups use small sample sizes; set-up (key generation) is not timed. The group
//! `ckks_cpu` times the same operations on one thread in thread CPU time (from
//! `/proc/thread-self/schedstat`, Linux only) instead of wall time: on a machine shared with
//! other work it is the steadier figure, since time spent preempted is not counted.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]
#![allow(clippy::expect_used, reason = "benchmark set-up on fixed parameters")]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use helrm_core::ckks::{CkksContext, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::math::rns::{BaseConverter, RnsBasis};
use helrm_core::math::vecops::VecOps;
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;

const PRESET: &str = "helrm-n16-l10";

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

/// CPU time of the calling thread in nanoseconds (0 where the kernel does not report it).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Criterion measurement: CPU time of the measuring thread.
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Formats nanoseconds of CPU time.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical >= 1e9 {
            (1e9, "s cpu")
        } else if typical >= 1e6 {
            (1e6, "ms cpu")
        } else if typical >= 1e3 {
            (1e3, "µs cpu")
        } else {
            (1.0, "ns cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(&self, _: f64, _: &Throughput, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v = 1e9 / v.max(1.0));
        "ops/s cpu"
    }
    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// Operands and keys of the key-switching benches.
struct Setup {
    eval: Evaluator,
    a: helrm_core::ckks::Ciphertext,
    b: helrm_core::ckks::Ciphertext,
    rotations: Vec<i64>,
    id: String,
}

fn setup() -> Setup {
    let params = Params::preset(PRESET).expect("preset");
    let ctx = CkksContext::new(params, Backend::Real).expect("context");
    let p = ctx.params();
    let (n, limbs, dnum) = (p.n(), p.q().len(), p.digits().len());
    let slots = p.slots();
    let rotations: Vec<i64> = (1..=16).collect();
    let mut keygen = KeyGenerator::new(ctx.clone()).expect("keygen");
    let keys = keygen
        .evaluation_keys(&rotations, slots, false)
        .expect("keys");
    let mut enc = Encryptor::new(ctx.clone(), keygen.public_key().expect("pk")).expect("enc");
    let values: Vec<f64> = (0..slots)
        .map(|i| (i % 1000) as f64 / 1000.0 - 0.5)
        .collect();
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
    Setup {
        eval: Evaluator::new(ctx.clone(), Arc::new(keys)),
        a,
        b,
        rotations,
        id: format!("n={n}/limbs={limbs}/dnum={dnum}"),
    }
}

fn keyswitch_cpu(c: &mut Criterion<ThreadCpu>) {
    let s = setup();
    let pool = pool(1);
    let mut g = c.benchmark_group("ckks_cpu");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let id = |op: &str| BenchmarkId::new(op, format!("{}/threads=1", s.id));
    g.bench_function(id("mul_relin"), |bch| {
        pool.install(|| bch.iter(|| black_box(s.eval.mul_relin(&s.a, &s.b).expect("mul"))))
    });
    g.bench_function(id("rotate"), |bch| {
        pool.install(|| bch.iter(|| black_box(s.eval.rotate(&s.a, 1).expect("rotate"))))
    });
    g.bench_function(id("rotate_hoisted_16"), |bch| {
        pool.install(|| {
            bch.iter(|| black_box(s.eval.rotate_hoisted(&s.a, &s.rotations).expect("hoisted")))
        })
    });
    g.finish();
}

fn keyswitch_ops(c: &mut Criterion) {
    let s = setup();
    let mut g = c.benchmark_group("ckks");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for threads in [1usize, 2] {
        let pool = pool(threads);
        let id = |op: &str| BenchmarkId::new(op, format!("{}/threads={threads}", s.id));
        g.bench_function(id("mul_relin"), |bch| {
            pool.install(|| bch.iter(|| black_box(s.eval.mul_relin(&s.a, &s.b).expect("mul"))))
        });
        g.bench_function(id("rotate"), |bch| {
            pool.install(|| bch.iter(|| black_box(s.eval.rotate(&s.a, 1).expect("rotate"))))
        });
        g.bench_function(id("rotate_hoisted_16"), |bch| {
            pool.install(|| {
                bch.iter(|| black_box(s.eval.rotate_hoisted(&s.a, &s.rotations).expect("hoisted")))
            })
        });
    }
    g.finish();
}

fn kernels(c: &mut Criterion) {
    let params = Params::preset(PRESET).expect("preset");
    let n = params.n();
    let (q, pp) = (params.q(), params.p());
    let isa = VecOps::try_new(q[1]).expect("vecops").isa();
    let mut g = c.benchmark_group("kernels");
    g.sample_size(20);
    // Deterministic residues below each prime.
    let fill = |m: u64, salt: u64| -> Vec<u64> {
        (0..n as u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt) % m)
            .collect()
    };
    // ModUp of the second digit (q_3..q_5) to q_0..q_2, q_6..q_10 and P.
    let digit = RnsBasis::new(&q[3..6]).expect("digit");
    let mut rest: Vec<u64> = q[..3].iter().chain(&q[6..]).copied().collect();
    rest.extend_from_slice(pp);
    let rest = RnsBasis::new(&rest).expect("rest");
    let up = BaseConverter::new(&digit, &rest);
    let input: Vec<Vec<u64>> = q[3..6].iter().map(|&m| fill(m, m)).collect();
    let mut out = vec![vec![0u64; n]; rest.len()];
    g.bench_function(
        BenchmarkId::new(
            "modup_convert",
            format!("n={n}/from=3/to={}/isa={isa}", rest.len()),
        ),
        |bch| bch.iter(|| up.convert(black_box(&input), &mut out).expect("convert")),
    );
    // ModDown conversion P → Q.
    let p_basis = RnsBasis::new(pp).expect("P");
    let q_basis = RnsBasis::new(q).expect("Q");
    let down = BaseConverter::new(&p_basis, &q_basis);
    let input: Vec<Vec<u64>> = pp.iter().map(|&m| fill(m, m)).collect();
    let mut out = vec![vec![0u64; n]; q.len()];
    g.bench_function(
        BenchmarkId::new(
            "moddown_convert",
            format!("n={n}/from=3/to={}/isa={isa}", q.len()),
        ),
        |bch| bch.iter(|| down.convert(black_box(&input), &mut out).expect("convert")),
    );
    // Element-wise products of one limb for a 40-bit, the 55-bit and a 61-bit prime.
    for m in [q[1], q[0], pp[0]] {
        let ops = VecOps::try_new(m).expect("vecops");
        let (x, y) = (fill(m, 1), fill(m, 2));
        let mut o = vec![0u64; n];
        let bits = 64 - m.leading_zeros();
        g.bench_function(
            BenchmarkId::new("mul", format!("n={n}/bits={bits}/isa={}", ops.isa())),
            |bch| bch.iter(|| ops.mul(black_box(&x), &y, &mut o).expect("mul")),
        );
        g.bench_function(
            BenchmarkId::new("mul_add", format!("n={n}/bits={bits}/isa={}", ops.isa())),
            |bch| bch.iter(|| ops.mul_add(black_box(&x), &y, &mut o).expect("mul_add")),
        );
    }
    g.finish();
}

criterion_group!(benches, kernels, keyswitch_ops);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = keyswitch_cpu
}
criterion_main!(benches, cpu);

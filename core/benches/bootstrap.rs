//! Bootstrapping, single thread, pre-encoded diagonals: `toy-n12-boot` (N = 2^12) at full
//! (2,048) and sparse (64) slots, and — with `HELRM_BENCH_FULL=1` — `helrm-n16-boot`
//! (N = 2^16) at 32,768 slots, which needs about 13 GB (39 Galois keys of 210 MiB, 316
//! diagonals in Q·P) and half a minute of key generation before the first sample.
//!
//! Run: `cargo bench -p helrm-core --bench bootstrap` (add `HELRM_BENCH_FULL=1` for N = 2^16).
//! Before timing, each case prints its depth, rotations and key bytes, and one run's
//! precision in bits (inputs uniform in [−1, 1]).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]
#![allow(clippy::expect_used, reason = "benchmark set-up")]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use helrm_core::circuits::bootstrap::bench::uniform_inputs;
use helrm_core::circuits::bootstrap::precision::precision;
use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper, KeyReport};
use helrm_core::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Level, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;
use num_complex::Complex64;

fn case(c: &mut Criterion, preset: &str, slots: usize, seconds: u64) {
    let params = Params::preset(preset).expect("preset");
    let ctx = CkksContext::new(params.clone(), Backend::Real).expect("context");
    let boot = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(slots)).expect("circuit");
    let mut keygen = KeyGenerator::new(ctx.clone()).expect("keygen");
    let keys = boot.generate_keys(&mut keygen).expect("keys");
    let report = KeyReport::of(&keys);
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    let mut enc = Encryptor::new(ctx.clone(), keygen.public_key().expect("pk")).expect("enc");
    let x: Vec<Complex64> = uniform_inputs(slots, [9; 32])
        .into_iter()
        .map(|v| Complex64::new(v, 0.0))
        .collect();
    let pt = ctx
        .encode(
            &x,
            Level::new(0),
            params.default_scale(),
            slots,
            DataClass::Other,
        )
        .expect("encode");
    let ct = enc.encrypt(&pt).expect("encrypt");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let out = pool.install(|| boot.bootstrap(&eval, &ct).expect("bootstrap"));
    let got = Decryptor::new(ctx.clone(), keygen.secret_key())
        .decrypt(&out)
        .expect("decrypt");
    let p = precision(&x, &got).expect("precision");
    println!(
        "{preset}, {slots} slots: depth {}, output level {}, {} rotations, {} Galois keys, \
         {:.2} GiB of keys; precision {:.2} bits mean, {:.2} min",
        boot.depth(),
        boot.output_level(),
        boot.rotations().len() + boot.ring_rotations().len(),
        report.galois_keys,
        report.bytes as f64 / (1u64 << 30) as f64,
        p.mean_bits,
        p.min_bits,
    );

    let mut group = c.benchmark_group("bootstrap");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(seconds));
    let id = format!(
        "n={}/limbs={}/slots={slots}/threads=1",
        params.n(),
        params.max_level().limbs()
    );
    group.bench_function(id, |b| {
        pool.install(|| b.iter(|| black_box(boot.bootstrap(&eval, &ct).expect("bootstrap"))))
    });
    group.finish();
}

fn bootstrap(c: &mut Criterion) {
    case(c, "toy-n12-boot", 2048, 20);
    case(c, "toy-n12-boot", 64, 10);
    if std::env::var_os("HELRM_BENCH_FULL").is_some_and(|v| v == "1") {
        case(c, "helrm-n16-boot", 1 << 15, 300);
    }
}

criterion_group!(benches, bootstrap);
criterion_main!(benches);

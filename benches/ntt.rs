//! Negacyclic NTT: helrm (best ISA and portable) against the `tfhe-ntt` crate on the same
//! primes, single-threaded, n = 2^12, 2^14, 2^16 with a 50-bit and a 60-bit prime.
//!
//! Ids: `ntt/{forward,inverse}/{helrm,tfhe-ntt}/n=…/bits=…[/isa=…]`. `tfhe-ntt`'s inverse
//! leaves the result scaled by n (its normalisation is a separate call); helrm's inverse
//! includes `n^{-1}`, so the comparison slightly favours `tfhe-ntt`.
//! Each iteration transforms the same buffer in place (both libraries return canonical
//! values, so repeated transforms stay valid inputs).
//! Set `HELRM_BENCH_N=65536` / `HELRM_BENCH_BITS=60` (comma-separated) to run a subset.

use criterion::{BenchmarkId, Criterion};
use helrm_core::math::ntt::{Isa, NttPlan};
use helrm_core::math::prime::generate_primes;
use std::hint::black_box;
use std::time::Duration;

fn sizes() -> Vec<usize> {
    match std::env::var("HELRM_BENCH_N") {
        Ok(s) if !s.trim().is_empty() => {
            s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
        }
        _ => vec![1 << 12, 1 << 14, 1 << 16],
    }
}

fn prime_bits() -> Vec<u32> {
    match std::env::var("HELRM_BENCH_BITS") {
        Ok(s) if !s.trim().is_empty() => {
            s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
        }
        _ => vec![50, 60],
    }
}

fn input(n: usize, q: u64) -> Vec<u64> {
    let mut s = 0x243F_6A88_85A3_08D3u64;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 1) % q
        })
        .collect()
}

fn bench_ntt(c: &mut Criterion) {
    let mut g = c.benchmark_group("ntt");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200));
    for n in sizes() {
        for bits in prime_bits() {
            let Ok(primes) = generate_primes(n, &[bits]) else {
                continue;
            };
            let q = primes[0];
            let a = input(n, q);
            let best = NttPlan::try_new_with_isa(n, q, Isa::best_available());
            let scalar = NttPlan::try_new_with_isa(n, q, Isa::Scalar);
            let (Ok(best), Ok(scalar)) = (best, scalar) else {
                continue;
            };
            for plan in [&best, &scalar] {
                let id = format!("helrm/n={n}/bits={bits}/isa={}", plan.isa());
                let mut buf = a.clone();
                g.bench_function(BenchmarkId::new("forward", &id), |b| {
                    b.iter(|| plan.forward(black_box(&mut buf)))
                });
                g.bench_function(BenchmarkId::new("inverse", &id), |b| {
                    b.iter(|| plan.inverse(black_box(&mut buf)))
                });
            }
            if let Some(tp) = tfhe_ntt::prime64::Plan::try_new(n, q) {
                let id = format!("tfhe-ntt/n={n}/bits={bits}");
                let mut buf = a.clone();
                g.bench_function(BenchmarkId::new("forward", &id), |b| {
                    b.iter(|| tp.fwd(black_box(&mut buf)))
                });
                g.bench_function(BenchmarkId::new("inverse", &id), |b| {
                    b.iter(|| tp.inv(black_box(&mut buf)))
                });
            }
        }
    }
    g.finish();
}

/// Interleaved comparison for a shared, noisy machine: each round times one transform of
/// every contender back to back, and the table reports each one's fastest round, so load from
/// other processes hits all contenders alike. Run with `HELRM_BENCH_AB=1 cargo bench --bench ntt`.
fn interleaved_table() {
    let rounds: usize = std::env::var("HELRM_BENCH_AB")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 1)
        .unwrap_or(200);
    println!("interleaved minimum over {rounds} rounds (µs); ratio = helrm / tfhe-ntt");
    println!(
        "{:>7} {:>4} {:>7} | {:>10} {:>10} {:>10} {:>6} {:>6} | isa",
        "n", "bits", "dir", "helrm", "scalar", "tfhe-ntt", "ratio", "scalar"
    );
    for n in sizes() {
        for bits in prime_bits() {
            let Ok(primes) = generate_primes(n, &[bits]) else {
                continue;
            };
            let q = primes[0];
            let a = input(n, q);
            let (Ok(best), Ok(scalar), Some(tp)) = (
                NttPlan::try_new_with_isa(n, q, Isa::best_available()),
                NttPlan::try_new_with_isa(n, q, Isa::Scalar),
                tfhe_ntt::prime64::Plan::try_new(n, q),
            ) else {
                continue;
            };
            for dir in ["forward", "inverse"] {
                let fwd = dir == "forward";
                let mut mins = [f64::INFINITY; 3];
                let mut buf = a.clone();
                for round in 0..rounds {
                    for (k, min) in mins.iter_mut().enumerate() {
                        if k == 1 && round % 4 != 0 {
                            continue; // the portable kernel is slow: a quarter of the rounds
                        }
                        let t0 = std::time::Instant::now();
                        match (k, fwd) {
                            (0, true) => drop(best.forward(black_box(&mut buf))),
                            (0, false) => drop(best.inverse(black_box(&mut buf))),
                            (1, true) => drop(scalar.forward(black_box(&mut buf))),
                            (1, false) => drop(scalar.inverse(black_box(&mut buf))),
                            (_, true) => tp.fwd(black_box(&mut buf)),
                            (_, false) => tp.inv(black_box(&mut buf)),
                        }
                        *min = min.min(t0.elapsed().as_secs_f64() * 1e6);
                    }
                }
                println!(
                    "{n:>7} {bits:>4} {dir:>7} | {:>10.1} {:>10.1} {:>10.1} {:>6.2} {:>6.2} | {}",
                    mins[0],
                    mins[1],
                    mins[2],
                    mins[0] / mins[2],
                    mins[1] / mins[2],
                    best.isa()
                );
            }
        }
    }
}

fn main() {
    if std::env::var_os("HELRM_BENCH_AB").is_some() {
        interleaved_table();
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench_ntt(&mut c);
    c.final_summary();
}

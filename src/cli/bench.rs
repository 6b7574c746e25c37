//! `helrm bench ntt|ops`: how fast this machine runs the NTT kernels and the CKKS operations.
//!
//! For n = 2^12, 2^14, 2^16 and the largest 50-bit and 60-bit NTT-friendly primes, prints the
//! median wall time of one forward and one inverse transform (single thread) and the kernel
//! that ran (`HELRM_ISA` caps it). `--json` prints
//! `{"isa": …, "results": [{"n", "prime_bits", "forward_ns", "inverse_ns", "isa"}, …]}`, where
//! the top-level `isa` is the most capable kernel allowed on this machine and each result
//! names the kernel its prime got (IFMA only takes primes below 2^50).

use clap::{Args, Subcommand};
use helrm_core::math::ntt::{Isa, NttPlan};
use helrm_core::math::prime::generate_primes;
use serde::Serialize;
use std::hint::black_box;
use std::time::Instant;

use super::CliError;

/// Arguments of `helrm bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// `helrm bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Negacyclic NTT, forward and inverse, n = 2^12, 2^14, 2^16 with 50- and 60-bit primes.
    Ntt {
        /// Few repetitions (a smoke run that finishes in about a second).
        #[arg(long)]
        quick: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// CKKS operations at the top level of a parameter set (median wall time of each).
    Ops {
        /// Parameter set (see `helrm params list`).
        #[arg(long, default_value = "helrm-n16-l10")]
        params: String,
        /// Timed repetitions per operation.
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also write a real trace of `reps` traced passes of the operations (each event
        /// with its smallest wall time; `.jsonl` or `.htrace`), as `helrm calibrate` records.
        #[arg(long)]
        trace: Option<std::path::PathBuf>,
    },
    /// One real bootstrap: time, output level, precision in bits, evaluation-key bytes.
    Bootstrap(super::bench_bootstrap::BootstrapArgs),
    /// One encrypted embedding lookup (one-hot, CodedHELUT, digits, packed digits, or one
    /// block of a configuration's packed lookup): time, rotations, levels, error.
    Lookup(super::bench_lookup::LookupArgs),
}

/// `helrm bench ops` report.
#[derive(Debug, Serialize)]
pub struct OpsReport {
    /// Parameter set name.
    pub params: String,
    /// Worker threads used.
    pub threads: usize,
    /// One entry per operation.
    pub ops: Vec<helrm_core::ckks::bench::OpTiming>,
}

/// Runs `helrm bench ops`.
///
/// # Errors
/// [`CliError::Input`] for an unknown parameter set or zero repetitions; [`CliError::Run`]
/// if an operation fails.
pub fn measure_ops(params: &str, reps: usize) -> Result<OpsReport, CliError> {
    if reps == 0 {
        return Err(CliError::Input("--reps: expected at least 1".into()));
    }
    let p = helrm_core::ckks::Params::preset(params)
        .map_err(|e| CliError::Input(format!("--params: {e}")))?;
    let ops =
        helrm_core::ckks::bench::bench_ops(p, reps).map_err(|e| CliError::Run(e.to_string()))?;
    Ok(OpsReport {
        params: params.to_string(),
        threads: rayon::current_num_threads(),
        ops,
    })
}

/// One measured configuration.
#[derive(Debug, Serialize)]
pub struct NttResult {
    /// Ring degree.
    pub n: usize,
    /// Bit size of the prime.
    pub prime_bits: u32,
    /// Median nanoseconds per forward transform.
    pub forward_ns: u64,
    /// Median nanoseconds per inverse transform.
    pub inverse_ns: u64,
    /// Kernel that ran.
    pub isa: Isa,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct NttReport {
    /// Most capable kernel allowed on this machine (after `HELRM_ISA`).
    pub isa: Isa,
    /// One entry per (n, prime size).
    pub results: Vec<NttResult>,
}

/// Median nanoseconds of `reps` timed calls (after two warm-up calls).
fn median_ns(reps: usize, mut f: impl FnMut()) -> u64 {
    f();
    f();
    let mut t: Vec<u64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_nanos() as u64
        })
        .collect();
    t.sort_unstable();
    t[t.len() / 2]
}

/// Measures every configuration.
///
/// # Errors
/// [`CliError::Input`] for an unknown `HELRM_ISA`; [`CliError::Run`] if a plan cannot be built.
pub fn measure_ntt(quick: bool) -> Result<NttReport, CliError> {
    let cap = Isa::from_env()
        .map_err(|e| CliError::Input(e.to_string()))?
        .unwrap_or(Isa::Avx512Ifma);
    let isa = Isa::available()
        .into_iter()
        .filter(|&i| i <= cap)
        .max()
        .unwrap_or(Isa::Scalar);
    let reps = if quick { 5 } else { 51 };
    let mut results = Vec::new();
    for n in [1usize << 12, 1 << 14, 1 << 16] {
        for prime_bits in [50u32, 60] {
            let run = |e: helrm_core::Error| CliError::Run(format!("n={n} bits={prime_bits}: {e}"));
            let q = generate_primes(n, &[prime_bits]).map_err(run)?[0];
            let plan = NttPlan::try_new(n, q).map_err(run)?;
            let mut a: Vec<u64> = (0..n as u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9) % q)
                .collect();
            // Outputs are canonical, so transforming the same buffer again is a valid input.
            let forward_ns = median_ns(reps, || drop(plan.forward(black_box(&mut a))));
            let inverse_ns = median_ns(reps, || drop(plan.inverse(black_box(&mut a))));
            results.push(NttResult {
                n,
                prime_bits,
                forward_ns,
                inverse_ns,
                isa: plan.isa(),
            });
        }
    }
    Ok(NttReport { isa, results })
}

/// Runs `helrm bench`.
pub fn run(args: BenchArgs) -> Result<(), CliError> {
    match args.command {
        BenchCommand::Ntt { quick, json } => {
            let report = measure_ntt(quick)?;
            if json {
                let s = serde_json::to_string(&report)
                    .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
                println!("{s}");
            } else {
                println!(
                    "negacyclic NTT on this machine, single thread, median of {} runs \
                     (best kernel allowed: {}; HELRM_ISA caps it)",
                    if quick { 5 } else { 51 },
                    report.isa
                );
                println!(
                    "{:>7}  {:>10}  {:<11} {:>13}  {:>13}",
                    "n", "prime bits", "kernel", "forward (µs)", "inverse (µs)"
                );
                for r in &report.results {
                    println!(
                        "{:>7}  {:>10}  {:<11} {:>13.1}  {:>13.1}",
                        r.n,
                        r.prime_bits,
                        r.isa.name(),
                        r.forward_ns as f64 / 1e3,
                        r.inverse_ns as f64 / 1e3
                    );
                }
            }
            Ok(())
        }
        BenchCommand::Bootstrap(args) => super::bench_bootstrap::run(args),
        BenchCommand::Lookup(args) => super::bench_lookup::run_cli(args),
        BenchCommand::Ops {
            params,
            reps,
            json,
            trace,
        } => {
            if let Some(path) = &trace {
                let t = super::calibrate::record_ops(&params, reps)?;
                super::calibrate::write_trace(&t, path)?;
            }
            let report = measure_ops(&params, reps)?;
            if json {
                let s = serde_json::to_string(&report)
                    .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
                println!("{s}");
            } else {
                println!(
                    "CKKS operations at {} (top level), {} thread(s), median of {reps}",
                    report.params, report.threads
                );
                println!("{:<20} {:>6} {:>12}", "op", "level", "median (ms)");
                for o in &report.ops {
                    println!(
                        "{:<20} {:>6} {:>12.3}",
                        o.op,
                        o.level,
                        o.median_ns as f64 / 1e6
                    );
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_report_on_a_toy_set_and_bad_input() {
        let r = measure_ops("toy-n10", 1).unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["params"], "toy-n10");
        assert_eq!(
            v["ops"].as_array().unwrap().len(),
            helrm_core::ckks::bench::OPS.len()
        );
        assert!(matches!(
            measure_ops("no-such-set", 1),
            Err(CliError::Input(_))
        ));
        assert!(matches!(measure_ops("toy-n10", 0), Err(CliError::Input(_))));
    }

    #[test]
    fn quick_ntt_report_has_the_documented_json_shape() {
        let report = measure_ntt(true).unwrap();
        let v = serde_json::to_value(&report).unwrap();
        let obj = v.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["isa", "results"]);
        assert!(Isa::ALL.iter().any(|i| v["isa"] == i.name()));
        let results = v["results"].as_array().unwrap();
        let configs: Vec<(u64, u64)> = results
            .iter()
            .map(|r| (r["n"].as_u64().unwrap(), r["prime_bits"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            configs,
            [
                (4096, 50),
                (4096, 60),
                (16384, 50),
                (16384, 60),
                (65536, 50),
                (65536, 60)
            ]
        );
        for r in results {
            assert!(r["forward_ns"].as_u64().unwrap() > 0);
            assert!(r["inverse_ns"].as_u64().unwrap() > 0);
            // IFMA never takes the 60-bit prime.
            if r["prime_bits"] == 60 {
                assert_ne!(r["isa"], "avx512ifma");
            }
        }
    }
}

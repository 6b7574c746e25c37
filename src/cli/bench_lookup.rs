//! `helrm bench lookup`: one real encrypted embedding lookup, timed and checked against the
//! plaintext lookup.
//!
//! ```text
//! helrm bench lookup --method one-hot|coded-helut|digits|digits-packed --p P --l L --d D
//!     [--tables T] [--params NAME] [--boot-params NAME] [--diagonals pre-encoded|on-the-fly]
//!     [--threads N] [--json] [--trace FILE]
//! helrm bench lookup --config criteo-44m --block K [--params NAME] [--diagonals …] [--json]
//! ```
//!
//! The first form looks up one random index in each of `T` tables of `p^ℓ` rows and dimension
//! `d` (sub-tables of `p` rows; see `helrm_workloads::lookup`). `--json` prints
//! `{"method", "p", "l", "d", "tables", "params", "server_seconds", "rotations", "levels",
//! "max_abs_error", "bootstraps", …}`. CodedHELUT needs `2 + r + 2s + 1` levels (13 at
//! `p = 8`); on a shorter chain it runs on `--boot-params` (default: `helrm-n16-boot` for
//! `helrm-n16-l10`, whose residual chain it is) with bootstraps, and `params` in the report
//! names the set it ran on.
//!
//! The second form runs input-ciphertext block `K` of a model configuration's packed lookup
//! (every table, digit-compressed as the configuration says, dimension as configured), with
//! diagonals encoded on the fly by default, and checks the partial embeddings against
//! plaintext. `--trace FILE` writes the server's operations (atomically).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use helrm_core::circuits::linear::DiagonalMode;
use helrm_core::ckks::Params;
use helrm_core::ring::Backend;
use helrm_core::trace::{
    create_writer, Encoding, ParamsSummary, TraceHeader, TraceMode, TraceSink,
};
use helrm_workloads::dlrm::DlrmConfig;
use helrm_workloads::lookup::{
    run, run_block, BlockRun, CodedPlan, LookupOptions, LookupRun, LookupTables, Method,
};
use serde::Serialize;

use super::CliError;

/// Diagonal storage on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Diagonals {
    /// Encoded once before the timed run (held in memory).
    PreEncoded,
    /// Encoded from compact values during the product.
    OnTheFly,
}

impl Diagonals {
    fn mode(self) -> DiagonalMode {
        match self {
            Diagonals::PreEncoded => DiagonalMode::PreEncoded,
            Diagonals::OnTheFly => DiagonalMode::OnTheFly,
        }
    }
}

/// Arguments of `helrm bench lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Lookup method: one-hot, coded-helut, digits or digits-packed.
    #[arg(long)]
    pub method: Option<String>,
    /// Sub-table size (digit base, CodedHELUT's candidates per digit).
    #[arg(long, default_value_t = 8)]
    pub p: u64,
    /// Digits per index: tables have p^l rows.
    #[arg(long, default_value_t = 8)]
    pub l: u32,
    /// Embedding dimension.
    #[arg(long, default_value_t = 50)]
    pub d: usize,
    /// Number of tables (digits-packed packs them into one product).
    #[arg(long, default_value_t = 1)]
    pub tables: usize,
    /// CKKS parameter set.
    #[arg(long, default_value = "helrm-n16-l10")]
    pub params: String,
    /// Bootstrapping parameter set for CodedHELUT on a short chain (default: the companion of
    /// --params: helrm-n16-boot for helrm-n16-l10, toy-n12-boot for toy-n12-l10).
    #[arg(long)]
    pub boot_params: Option<String>,
    /// Diagonal storage (default: pre-encoded; on-the-fly with --config).
    #[arg(long, value_enum)]
    pub diagonals: Option<Diagonals>,
    /// Model configuration whose packed lookup to run one block of (with --block).
    #[arg(long)]
    pub config: Option<String>,
    /// Input-ciphertext block of the configuration's packed lookup.
    #[arg(long)]
    pub block: Option<u64>,
    /// Seed of keys, encryption and indices (default: keys from the OS, indices from 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the server's operation trace here (`.jsonl` or `.htrace`).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

/// The JSON report of a method run.
#[derive(Debug, Serialize)]
pub struct MethodReport {
    /// `real encrypted run`.
    pub mode: &'static str,
    /// The method.
    pub method: Method,
    /// Sub-table size.
    pub p: u64,
    /// Digits.
    pub l: u32,
    /// Dimension.
    pub d: usize,
    /// Tables.
    pub tables: usize,
    /// Parameter set the lookup ran on.
    pub params: String,
    /// Diagonal storage.
    pub diagonals: &'static str,
    /// Worker threads.
    pub threads: usize,
    /// Server wall seconds.
    pub server_seconds: f64,
    /// Keyed rotations.
    pub rotations: u64,
    /// Levels consumed.
    pub levels: usize,
    /// Largest |decrypted − plaintext|.
    pub max_abs_error: Option<f64>,
    /// Bootstraps.
    pub bootstraps: usize,
    /// Input ciphertexts.
    pub input_ciphertexts: usize,
    /// Output ciphertexts.
    pub output_ciphertexts: usize,
    /// Evaluation-key bytes.
    pub eval_key_bytes: u64,
    /// Key-generation seconds (client).
    pub keygen_seconds: f64,
    /// Server set-up seconds (transforms, pre-encoding, bootstrapping circuit).
    pub setup_seconds: f64,
}

/// The JSON report of a block run.
#[derive(Debug, Serialize)]
pub struct BlockReport {
    /// `real encrypted run`.
    pub mode: &'static str,
    /// The model configuration.
    pub config: String,
    /// Diagonal storage.
    pub diagonals: &'static str,
    /// Worker threads.
    pub threads: usize,
    /// The block's figures.
    #[serde(flatten)]
    pub run: BlockRun,
}

fn diag_name(m: DiagonalMode) -> &'static str {
    match m {
        DiagonalMode::PreEncoded => "pre-encoded",
        DiagonalMode::OnTheFly => "on-the-fly",
    }
}

fn preset(name: &str, flag: &str) -> Result<Arc<Params>, CliError> {
    Params::preset(name).map_err(|e| CliError::Input(format!("{flag}: {e}")))
}

/// The bootstrapping companion of a residual-chain preset.
fn companion(params: &str) -> Option<&'static str> {
    match params {
        "helrm-n16-l10" => Some("helrm-n16-boot"),
        "toy-n12-l10" => Some("toy-n12-boot"),
        _ => None,
    }
}

/// A trace writer on a temporary file beside `path` (renamed by [`finish_trace`]).
fn trace_writer(path: &Path, params: &Params) -> Result<(Arc<dyn TraceSink>, PathBuf), CliError> {
    super::simulate::check_output_path(path)?;
    let encoding = Encoding::from_path(path).ok_or_else(|| {
        CliError::Input(format!(
            "{}: trace files end in .jsonl or .htrace",
            path.display()
        ))
    })?;
    let bits = |v: &[u64]| v.iter().map(|&x| 64 - x.leading_zeros()).collect();
    let header = TraceHeader::new(
        params.fingerprint(),
        ParamsSummary {
            log_n: params.log_n(),
            q_bits: bits(params.q()),
            p_bits: bits(params.p()),
            dnum: u32::try_from(params.dnum()).unwrap_or(u32::MAX),
            word_bytes: 8,
        },
        TraceMode::Real,
        format!("helrm {} bench lookup", env!("CARGO_PKG_VERSION")),
    );
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let sink = create_writer(&tmp, encoding, &header)
        .map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?;
    Ok((sink, tmp))
}

fn finish_trace(sink: &Arc<dyn TraceSink>, tmp: &Path, path: &Path) -> Result<(), CliError> {
    let done = sink
        .finish()
        .map_err(|e| CliError::Run(format!("{}: {e}", path.display())))
        .and_then(|()| {
            std::fs::rename(tmp, path)
                .map_err(|e| CliError::Run(format!("{}: cannot write: {e}", path.display())))
        });
    if done.is_err() {
        // Best effort: the temporary file is ours and incomplete.
        let _ = std::fs::remove_file(tmp);
    }
    done
}

fn lookup_err(e: helrm_workloads::Error) -> CliError {
    use helrm_workloads::Error as E;
    match e {
        E::InvalidParameter { .. } | E::NeedsBootstrap { .. } | E::UnknownConfig { .. } => {
            CliError::Input(e.to_string())
        }
        other => CliError::Run(format!("lookup: {other}")),
    }
}

/// Runs one method as the arguments say (`trace`: the server's sink, if any).
///
/// # Errors
/// [`CliError::Input`] for bad arguments (unknown method or preset, a table too large for
/// the method, a short chain without a bootstrapping set); [`CliError::Run`] otherwise.
pub fn run_method(args: &LookupArgs) -> Result<MethodReport, CliError> {
    let name = args
        .method
        .as_deref()
        .ok_or_else(|| CliError::Input("--method is required without --config".into()))?;
    let method = Method::from_name(name).ok_or_else(|| {
        CliError::Input(format!(
            "--method {name}: expected one-hot, coded-helut, digits or digits-packed"
        ))
    })?;
    let params = preset(&args.params, "--params")?;
    let boot = match args.boot_params.as_deref().or(companion(&args.params)) {
        Some(b) => Some(preset(b, "--boot-params")?),
        None => None,
    };
    let tables = LookupTables::synthetic(args.p, args.l, args.d, args.tables, 0x7ab1e)
        .map_err(lookup_err)?;
    let indices = tables.random_indices(args.seed.unwrap_or(1));
    let diagonals = args
        .diagonals
        .map_or(DiagonalMode::PreEncoded, Diagonals::mode);
    // The set the trace header names: the bootstrapping set when CodedHELUT needs it.
    let run_params = match (method, &boot) {
        (Method::CodedHelut, Some(b))
            if CodedPlan::new(
                &tables,
                params.slots(),
                params.max_level().get(),
                false,
                &args.params,
            )
            .is_err() =>
        {
            b.clone()
        }
        _ => params.clone(),
    };
    let tracing = match &args.trace {
        Some(p) => Some((trace_writer(p, &run_params)?, p.clone())),
        None => None,
    };
    let opts = LookupOptions {
        backend: Backend::Real,
        seed: args.seed,
        sink: tracing.as_ref().map(|((s, _), _)| s.clone()),
        diagonals,
    };
    let r: LookupRun = run(
        method,
        &tables,
        &indices,
        None,
        &params,
        boot.as_ref(),
        &opts,
    )
    .map_err(lookup_err)?;
    if let Some(((sink, tmp), path)) = &tracing {
        finish_trace(sink, tmp, path)?;
    }
    Ok(MethodReport {
        mode: "real encrypted run",
        method,
        p: args.p,
        l: args.l,
        d: args.d,
        tables: args.tables,
        params: r.params,
        diagonals: diag_name(diagonals),
        threads: rayon::current_num_threads(),
        server_seconds: r.server_seconds,
        rotations: r.rotations,
        levels: r.levels,
        max_abs_error: r.max_abs_error,
        bootstraps: r.bootstraps,
        input_ciphertexts: r.input_ciphertexts,
        output_ciphertexts: r.output_ciphertexts,
        eval_key_bytes: r.eval_key_bytes,
        keygen_seconds: r.keygen_seconds,
        setup_seconds: r.setup_seconds,
    })
}

/// Runs one block of a configuration's packed lookup.
///
/// # Errors
/// [`CliError::Input`] for an unknown configuration or preset or a block past the end;
/// [`CliError::Run`] otherwise.
pub fn run_config_block(args: &LookupArgs, config: &str) -> Result<BlockReport, CliError> {
    let block = args
        .block
        .ok_or_else(|| CliError::Input("--config needs --block K".into()))?;
    let cfg = DlrmConfig::named(config).map_err(|e| CliError::Input(format!("--config: {e}")))?;
    let params = preset(&args.params, "--params")?;
    let diagonals = args
        .diagonals
        .map_or(DiagonalMode::OnTheFly, Diagonals::mode);
    let tracing = match &args.trace {
        Some(p) => Some((trace_writer(p, &params)?, p.clone())),
        None => None,
    };
    let opts = LookupOptions {
        backend: Backend::Real,
        seed: args.seed,
        sink: tracing.as_ref().map(|((s, _), _)| s.clone()),
        diagonals,
    };
    let r = run_block(
        &cfg.cardinalities,
        cfg.compression.as_ref(),
        cfg.embedding_dim,
        block,
        &params,
        &opts,
    )
    .map_err(lookup_err)?;
    if let Some(((sink, tmp), path)) = &tracing {
        finish_trace(sink, tmp, path)?;
    }
    Ok(BlockReport {
        mode: "real encrypted run",
        config: config.to_owned(),
        diagonals: diag_name(diagonals),
        threads: rayon::current_num_threads(),
        run: r,
    })
}

fn json<T: Serialize>(v: &T) -> Result<(), CliError> {
    let s =
        serde_json::to_string(v).map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
    println!("{s}");
    Ok(())
}

fn err_text(e: Option<f64>) -> String {
    e.map_or_else(|| "-".into(), |x| format!("{x:.3e}"))
}

/// Runs `helrm bench lookup`.
///
/// # Errors
/// As [`run_method`] and [`run_config_block`].
pub fn run_cli(args: LookupArgs) -> Result<(), CliError> {
    if let Some(config) = args.config.clone() {
        let r = run_config_block(&args, &config)?;
        if args.json {
            return json(&r);
        }
        let b = &r.run;
        println!(
            "{config}: block {} of {} ({} one-hot rows), {}, {} thread(s), diagonals {} \
             (real encrypted run)",
            b.block, b.blocks, b.total_rows, b.params, r.threads, r.diagonals
        );
        println!("  tables in block    {:>12}", b.tables_in_block);
        println!("  diagonals          {:>12}", b.nonzero_diagonals);
        println!("  rotations          {:>12}", b.rotations);
        println!("  levels             {:>12}", b.levels);
        println!("  server time        {:>12.3} s", b.server_seconds);
        println!(
            "  keys               {:>12.3} GB ({} Galois keys, {:.1} s)",
            b.eval_key_bytes as f64 / 1e9,
            b.galois_keys,
            b.keygen_seconds
        );
        println!("  max |error|        {:>12}", err_text(b.max_abs_error));
        return Ok(());
    }
    let r = run_method(&args)?;
    if args.json {
        return json(&r);
    }
    println!(
        "{} lookup, (p, l, d) = ({}, {}, {}), {} table(s), {}, {} thread(s), diagonals {} \
         (real encrypted run)",
        r.method, r.p, r.l, r.d, r.tables, r.params, r.threads, r.diagonals
    );
    println!("  server time        {:>12.3} s", r.server_seconds);
    println!("  rotations          {:>12}", r.rotations);
    println!("  levels             {:>12}", r.levels);
    println!("  bootstraps         {:>12}", r.bootstraps);
    println!(
        "  ciphertexts        {:>12} in, {} out",
        r.input_ciphertexts, r.output_ciphertexts
    );
    println!(
        "  keys               {:>12.3} GB ({:.1} s)",
        r.eval_key_bytes as f64 / 1e9,
        r.keygen_seconds
    );
    println!("  max |error|        {:>12}", err_text(r.max_abs_error));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(method: Option<&str>, params: &str) -> LookupArgs {
        LookupArgs {
            method: method.map(str::to_owned),
            p: 4,
            l: 2,
            d: 3,
            tables: 2,
            params: params.into(),
            boot_params: None,
            diagonals: None,
            config: None,
            block: None,
            seed: Some(3),
            json: true,
            trace: None,
        }
    }

    #[test]
    fn every_method_reports_the_documented_keys_and_a_small_error() {
        for m in ["one-hot", "digits", "digits-packed", "coded-helut"] {
            let r = run_method(&args(Some(m), "toy-n12-l10")).unwrap();
            let v = serde_json::to_value(&r).unwrap();
            for k in [
                "server_seconds",
                "rotations",
                "levels",
                "max_abs_error",
                "method",
                "p",
                "l",
                "d",
                "params",
            ] {
                assert!(v.get(k).is_some(), "{m}: {k}");
            }
            assert_eq!(v["method"], m);
            assert!(v["max_abs_error"].as_f64().unwrap() < 1e-3, "{m}: {v}");
        }
    }

    #[test]
    fn a_config_block_runs_and_writes_its_trace() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(None, "toy-n12-l10");
        a.block = Some(0);
        a.trace = Some(dir.path().join("block.htrace"));
        let r = run_config_block(&a, "uci").unwrap();
        assert_eq!(r.run.blocks, 1);
        assert!(r.run.max_abs_error.unwrap() < 1e-6);
        assert!(dir.path().join("block.htrace").exists());
    }

    #[test]
    fn bad_inputs_are_input_errors() {
        assert!(matches!(
            run_method(&args(Some("lut"), "toy-n12-l10")),
            Err(CliError::Input(_))
        ));
        assert!(matches!(
            run_method(&args(Some("digits"), "no-such")),
            Err(CliError::Input(_))
        ));
        // CodedHELUT at p = 4 needs 11 levels; toy-n12 has 6 and no bootstrapping companion.
        assert!(matches!(
            run_method(&args(Some("coded-helut"), "toy-n12")),
            Err(CliError::Input(_))
        ));
        let mut a = args(None, "toy-n12-l10");
        a.block = Some(99);
        assert!(matches!(
            run_config_block(&a, "uci"),
            Err(CliError::Input(_))
        ));
        assert!(matches!(
            run_config_block(&a, "nope"),
            Err(CliError::Input(_))
        ));
    }
}

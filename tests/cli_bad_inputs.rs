//! Every file of the bad-input corpus `tests/bad_inputs/` through each CLI command that reads
//! its kind: exit code 2, exactly one line on stderr naming the file, no "panicked" anywhere
//! and no output file left behind. Good files through the same commands exit 0 (the positive
//! controls), so a command that refused everything would fail here too.
//!
//! Which command reads which kind: machine models `simulate --trace GOLDEN --hw FILE` and
//! `inspect FILE`; datasets `train --dataset uci|criteo --data FILE` and `inspect FILE`; CKKS
//! objects `inspect FILE --params P --expect KIND`; traces, models and keys as their
//! `manifest.json` says (`commands`, with `FILE` the corpus file and `OUT` an output path in
//! a fresh directory).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and their helpers panic on failure"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(kind: &str) -> PathBuf {
    root().join("tests/bad_inputs").join(kind)
}

const GOLDEN_JSONL: &str = "core/tests/data/trace/golden.htrace.jsonl";
const GOLDEN_BINARY: &str = "core/tests/data/trace/golden.htrace";

/// One CLI run: arguments with `FILE` and `OUT` placeholders, on one file.
#[derive(Debug, Clone)]
struct Case {
    /// The file, relative to the repository root (as the CLI is given it).
    file: String,
    args: Vec<String>,
}

fn case(file: &str, args: &[&str]) -> Case {
    Case {
        file: file.to_owned(),
        args: args.iter().map(|&a| a.to_owned()).collect(),
    }
}

/// Runs `helrm` from the repository root with `FILE` and `OUT` substituted; returns the
/// output and the fresh directory `OUT` lives in.
fn run(c: &Case) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.htrace.jsonl");
    let args: Vec<std::ffi::OsString> = c
        .args
        .iter()
        .map(|a| match a.as_str() {
            "FILE" => c.file.clone().into(),
            "OUT" => out.clone().into_os_string(),
            other => other.into(),
        })
        .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_helrm"))
        .args(&args)
        .current_dir(root())
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    (output, dir)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !matches!(n.as_str(), "README.md" | "manifest.json" | "generate.py"))
        .collect();
    v.sort();
    v
}

/// Cases from a `manifest.json` whose entries carry `file` and `commands`.
fn from_manifest(kind: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(corpus(kind).join("manifest.json")).unwrap();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut cases = Vec::new();
    for e in &entries {
        let file = format!("tests/bad_inputs/{kind}/{}", e["file"].as_str().unwrap());
        for command in e["commands"].as_array().unwrap() {
            let args: Vec<&str> = command
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            cases.push(case(&file, &args));
        }
    }
    cases
}

fn ckks_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus("ckks").join("manifest.json")).unwrap();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    entries
        .iter()
        .map(|e| {
            let file = format!("tests/bad_inputs/ckks/{}", e["file"].as_str().unwrap());
            let (params, loader) = (e["params"].as_str().unwrap(), e["loader"].as_str().unwrap());
            case(
                &file,
                &["inspect", "FILE", "--params", params, "--expect", loader],
            )
        })
        .collect()
}

fn hwmodel_cases() -> Vec<Case> {
    names(&corpus("hwmodel"))
        .iter()
        .flat_map(|n| {
            let file = format!("tests/bad_inputs/hwmodel/{n}");
            [
                case(
                    &file,
                    &[
                        "simulate",
                        "--trace",
                        GOLDEN_JSONL,
                        "--hw",
                        "FILE",
                        "--csv",
                        "OUT",
                    ],
                ),
                case(&file, &["inspect", "FILE"]),
            ]
        })
        .collect()
}

fn dataset_cases() -> Vec<Case> {
    names(&corpus("dataset"))
        .iter()
        .flat_map(|n| {
            let file = format!("tests/bad_inputs/dataset/{n}");
            let datasets: &[&str] = if n.starts_with("uci_") {
                &["uci"]
            } else if n.starts_with("criteo_") {
                &["criteo"]
            } else {
                &["uci", "criteo"]
            };
            let mut cases: Vec<Case> = datasets
                .iter()
                .map(|d| {
                    case(
                        &file,
                        &["train", "--dataset", d, "--data", "FILE", "--out", "OUT"],
                    )
                })
                .collect();
            // The `uci_one_*` files parse; only training refuses them.
            if !n.starts_with("uci_one_") {
                cases.push(case(&file, &["inspect", "FILE"]));
            }
            cases
        })
        .collect()
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(from_manifest("trace"));
    cases.extend(from_manifest("model"));
    cases.extend(from_manifest("keys"));
    cases.extend(ckks_cases());
    cases.extend(hwmodel_cases());
    cases.extend(dataset_cases());
    cases
}

/// Why `c`'s run is not a clean refusal, if it is not.
fn refusal_problem(c: &Case) -> Option<String> {
    let (output, dir) = run(c);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines = stderr.trim().lines().count();
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    let mut problems = Vec::new();
    if output.status.code() != Some(2) {
        problems.push(format!("exit code {:?}, expected 2", output.status.code()));
    }
    if lines != 1 {
        problems.push(format!("{lines} stderr lines, expected 1"));
    }
    if !stderr.contains(&c.file) {
        problems.push("stderr does not name the file".to_owned());
    }
    if stdout.contains("panicked") || stderr.contains("panicked") {
        problems.push("panicked".to_owned());
    }
    if !left.is_empty() {
        problems.push(format!("{} output file(s) left", left.len()));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} {:?}: {}; stderr: {stderr}",
            c.file,
            c.args,
            problems.join(", ")
        )
    })
}

#[test]
fn every_bad_file_is_refused_with_one_line_naming_it() {
    let cases = all_cases();
    let failures: Vec<String> = cases.iter().filter_map(refusal_problem).collect();
    assert!(
        failures.is_empty(),
        "{} of {} runs misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_corpus_file_is_run_and_the_corpus_is_large() {
    let cases = all_cases();
    let mut total = 0;
    for kind in ["trace", "model", "keys", "ckks", "hwmodel", "dataset"] {
        let files = names(&corpus(kind));
        assert!(!files.is_empty(), "{kind}");
        for f in &files {
            let path = format!("tests/bad_inputs/{kind}/{f}");
            assert!(
                cases.iter().any(|c| c.file == path),
                "{path} is in the corpus but no command runs it"
            );
        }
        for c in cases
            .iter()
            .filter(|c| c.file.starts_with(&format!("tests/bad_inputs/{kind}/")))
        {
            assert!(
                root().join(&c.file).is_file(),
                "{} is listed but missing",
                c.file
            );
        }
        // Each kind documents its files.
        let readme = std::fs::read_to_string(corpus(kind).join("README.md")).unwrap();
        assert!(
            readme.contains("helrm "),
            "{kind}/README.md names the CLI command"
        );
        total += files.len();
    }
    assert!(total >= 60, "{total} files");
}

/// A good file through a command: exit 0, and the output file (if the command has one) made.
fn accepted(file: &str, args: &[&str]) {
    let c = case(file, args);
    let (output, dir) = run(&c);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{file} {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    if args.contains(&"OUT") {
        assert!(
            dir.path().join("out.htrace.jsonl").is_file(),
            "{file} {args:?} wrote no output"
        );
    }
}

#[test]
fn good_traces_machine_models_models_and_data_are_accepted() {
    for trace in [GOLDEN_JSONL, GOLDEN_BINARY] {
        accepted(trace, &["trace", "stats", "FILE"]);
        accepted(trace, &["simulate", "--trace", "FILE", "--hw", "ark"]);
        accepted(trace, &["inspect", "FILE", "--json"]);
    }
    let ark = "hwmodels/models/ark.yaml";
    accepted(
        ark,
        &[
            "simulate",
            "--trace",
            GOLDEN_JSONL,
            "--hw",
            "FILE",
            "--csv",
            "OUT",
        ],
    );
    accepted(ark, &["inspect", "FILE"]);
    let model = "tests/bad_inputs/model/good/uci.json";
    accepted(
        model,
        &[
            "infer",
            "--model",
            "FILE",
            "--params",
            "toy-n12-l10",
            "--samples",
            "1",
            "--trace",
            "OUT",
        ],
    );
    accepted(
        model,
        &["plan", "--model", "FILE", "--params", "toy-n12-l10"],
    );
    accepted(model, &["inspect", "FILE", "--params", "toy-n12-l10"]);
    let uci = "workloads/data/uci_heart/processed.cleveland.data";
    accepted(
        uci,
        &[
            "train",
            "--dataset",
            "uci",
            "--data",
            "FILE",
            "--out",
            "OUT",
        ],
    );
    accepted(uci, &["inspect", "FILE"]);
}

#[test]
fn good_ckks_objects_are_accepted_and_a_trace_for_other_parameters_is_not() {
    use helrm_core::ckks::serialize as ser;
    use helrm_core::ckks::{CkksContext, KeyGenerator, Params};
    use helrm_core::math::sample::Csprng;
    use helrm_core::ring::Backend;

    let dir = tempfile::tempdir().unwrap();
    let ctx = CkksContext::new(Params::preset("toy-n10").unwrap(), Backend::Real).unwrap();
    let mut kg = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([3; 32])).unwrap();
    let files = [
        ("params.hlrm", "params"),
        ("pk.hlrm", "public-key"),
        ("evk.hlrm", "evaluation-keys"),
    ];
    ser::save_params_file(ctx.params(), dir.path().join(files[0].0)).unwrap();
    ser::save_public_key_file(&ctx, &kg.public_key().unwrap(), dir.path().join(files[1].0))
        .unwrap();
    let keys = kg
        .evaluation_keys(&[1], ctx.params().slots(), false)
        .unwrap();
    ser::save_evaluation_keys_file(&ctx, &keys, dir.path().join(files[2].0)).unwrap();
    for (name, kind) in files {
        let path = dir.path().join(name).display().to_string();
        // Identified by its fingerprint without --params, and checked against --params.
        accepted(&path, &["inspect", "FILE"]);
        accepted(
            &path,
            &["inspect", "FILE", "--params", "toy-n10", "--expect", kind],
        );
        let c = case(&path, &["inspect", "FILE", "--params", "toy-n11"]);
        let problem = refusal_problem(&c);
        assert!(problem.is_none(), "{problem:?}");
    }
    // A trace recorded at toy-n12-l10 is refused for toy-n10 and accepted for its own.
    let trace = dir.path().join("t.htrace");
    let t = trace.display().to_string();
    accepted(
        "tests/bad_inputs/model/good/uci.json",
        &[
            "trace",
            "--dataset",
            "uci",
            "--model",
            "FILE",
            "--params",
            "toy-n12-l10",
            "--symbolic",
            "--samples",
            "1",
            "--out",
            &t,
        ],
    );
    accepted(&t, &["inspect", "FILE", "--params", "toy-n12-l10"]);
    let problem = refusal_problem(&case(&t, &["inspect", "FILE", "--params", "toy-n10"]));
    assert!(problem.is_none(), "{problem:?}");
}

#[test]
fn unusable_output_paths_are_input_errors_found_before_any_work() {
    // A path inside a regular file can never be created, whoever runs the test.
    let csv = "Cargo.toml/report.csv";
    let cases = [
        case(
            csv,
            &[
                "simulate",
                "--trace",
                GOLDEN_JSONL,
                "--hw",
                "ark",
                "--csv",
                "FILE",
            ],
        ),
        case(
            "Cargo.toml/timeline.json",
            &[
                "simulate",
                "--trace",
                GOLDEN_JSONL,
                "--hw",
                "ark",
                "--timeline",
                "FILE",
            ],
        ),
        case(
            csv,
            &[
                "sweep",
                "--trace",
                GOLDEN_JSONL,
                "--hw",
                "ark",
                "--set",
                "offchip.bandwidth_gb_per_s=500,1000",
                "--csv",
                "FILE",
            ],
        ),
        case(
            "Cargo.toml/uci.htrace.jsonl",
            &[
                "trace",
                "--dataset",
                "uci",
                "--symbolic",
                "--samples",
                "1",
                "--params",
                "toy-n12-l10",
                "--out",
                "FILE",
            ],
        ),
        case(
            "Cargo.toml/study",
            &[
                "study",
                "packing",
                "--hw",
                "ark",
                "--params",
                "toy-n12-l10",
                "--out",
                "FILE",
            ],
        ),
    ];
    let problems: Vec<String> = cases.iter().filter_map(refusal_problem).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

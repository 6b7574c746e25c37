//! `helrm demo` end to end: the CI smoke run (`--quick --json --out DIR`) agrees with
//! plaintext, replays on every shipped machine model and writes complete, parseable files;
//! bad usage is exit code 2 with a one-line error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers panic on failure"
)]

use std::path::Path;
use std::process::{Command, Output};

fn helrm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_helrm"))
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("run helrm")
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn quick_demo_agrees_with_plaintext_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = helrm(&["demo", "--quick", "--json", "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "exit {:?}: {stderr}", o.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON object");

    for key in [
        "plaintext_accuracy",
        "encrypted_accuracy",
        "label_agreement",
        "max_abs_logit_error",
        "server_seconds",
        "machines",
        "params",
        "samples",
        "stages",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["params"], "helrm-n14");
    assert_eq!(v["samples"], 4);
    assert_eq!(v["label_agreement"].as_f64(), Some(1.0));
    let err = v["max_abs_logit_error"].as_f64().unwrap();
    assert!((0.0..=1e-3).contains(&err), "max |logit diff| {err}");
    for key in ["plaintext_accuracy", "encrypted_accuracy"] {
        let a = v[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&a), "{key} {a}");
    }
    // With full agreement the encrypted labels are the plaintext labels.
    assert_eq!(v["plaintext_accuracy"], v["encrypted_accuracy"]);
    assert!(v["server_seconds"].as_f64().unwrap() > 0.0);
    for stage in ["bottom", "embedding", "top"] {
        assert!(
            v["stages"][stage]["seconds"].as_f64().unwrap() > 0.0,
            "{stage}"
        );
    }
    assert_eq!(v["rows"].as_array().unwrap().len(), 4);

    let machines = v["machines"].as_array().unwrap();
    let names: Vec<&str> = machines
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        helrm_hwmodels::builtin_names(),
        "every shipped machine model, in order"
    );
    for m in machines {
        let name = m["name"].as_str().unwrap();
        assert!(m["total_seconds"].as_f64().unwrap() > 0.0, "{name}");
        let classes = m["offchip_bytes_by_class"].as_object().unwrap();
        assert!(!classes.is_empty(), "{name}");
        let moved: u64 = classes
            .values()
            .map(|rw| rw["read"].as_u64().unwrap() + rw["write"].as_u64().unwrap())
            .sum();
        assert!(moved > 0, "{name}: no off-chip bytes");
        assert!(
            classes["ciphertext"]["read"].as_u64().unwrap() > 0,
            "{name}"
        );
    }

    // The files --out promised, complete and parseable.
    let model = read_json(&out.join("model.json"));
    assert_eq!(model["format"], "helrm-dlrm");
    let trace = std::fs::read_to_string(out.join("trace.htrace.jsonl")).unwrap();
    let lines: Vec<&str> = trace.lines().collect();
    assert!(
        lines.len() > 2,
        "trace has a header, events and an end record"
    );
    for line in &lines {
        let _: serde_json::Value = serde_json::from_str(line).expect("trace line is JSON");
    }
    for name in helrm_hwmodels::builtin_names() {
        let report = read_json(&out.join(format!("{name}.report.json")));
        assert_eq!(report["machine"]["name"], name);
        let csv = std::fs::read_to_string(out.join(format!("{name}.report.csv"))).unwrap();
        assert!(
            csv.starts_with("mode,machine,section,name,"),
            "{name}: CSV header"
        );
        assert!(csv.lines().count() > 1, "{name}: CSV rows");
    }
    for name in ["host-cpu", "ark"] {
        let t = read_json(&out.join(format!("{name}.timeline.json")));
        assert!(
            t["traceEvents"].as_array().is_some_and(|a| !a.is_empty()),
            "{name}"
        );
    }
    let svg = std::fs::read_to_string(out.join("summary.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
    assert!(svg.trim_end().ends_with("</svg>"));
    for name in helrm_hwmodels::builtin_names() {
        assert!(
            svg.contains(&format!(">{name}</text>")),
            "{name} in the chart"
        );
    }
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["label_agreement"], v["label_agreement"]);
    // Everything the summary lists exists, and no temporary file is left behind.
    for f in summary["files"].as_array().unwrap() {
        assert!(Path::new(f.as_str().unwrap()).is_file(), "{f}");
    }
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

#[test]
fn bad_usage_is_exit_code_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["demo", "--params", "no-such-set"],
        vec!["demo", "--samples", "0"],
        vec!["demo", "--samples", "1000"],
        vec!["demo", "--out", file.to_str().unwrap()],
        vec!["demo", "--no-such-flag"],
    ];
    for args in cases {
        let o = helrm(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(o.stdout.is_empty(), "{args:?}: nothing on stdout");
        if args[1] != "--no-such-flag" {
            assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
            assert!(stderr.starts_with("helrm: "), "{args:?}: {stderr}");
        }
    }
}

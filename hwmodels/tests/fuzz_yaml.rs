//! The YAML loader never panics on damaged machine models: every shipped model and every
//! file of the bad-input corpus, mutated at the byte level (flips, insertions, truncation) and
//! at the line level (deleted, duplicated or swapped lines, a value replaced), gives an error
//! naming the origin or a model that validates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and their helpers panic on failure"
)]

use std::sync::OnceLock;

use helrm_hwmodels::{builtin_names, builtin_source, from_yaml_bytes, Error};
use proptest::prelude::*;

/// Every shipped model's text and every bad-input file's bytes.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut v: Vec<Vec<u8>> = builtin_names()
            .iter()
            .map(|n| builtin_source(n).unwrap().as_bytes().to_vec())
            .collect();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/bad_inputs/hwmodel");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        v.extend(files.iter().map(|p| std::fs::read(p).unwrap()));
        v
    })
}

/// Loads `bytes`: an error must name the origin and be one line; a model must validate.
fn check(bytes: &[u8]) {
    match from_yaml_bytes(bytes, "fuzz.yaml") {
        Ok(m) => assert!(m.validate("fuzz.yaml").is_ok()),
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains("fuzz.yaml"), "{text}");
            assert!(!text.contains('\n'), "{text}");
            assert!(
                matches!(e, Error::Parse { .. } | Error::Config { .. }),
                "{e:?}"
            );
        }
    }
}

#[derive(Debug, Clone)]
enum LineEdit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    /// Replace what follows the first `:` of a line.
    Value(usize, String),
}

fn line_edit() -> impl Strategy<Value = LineEdit> {
    let value = prop_oneof![
        Just(" -1".to_string()),
        Just(" .nan".to_string()),
        Just(" .inf".to_string()),
        Just(" 0".to_string()),
        Just(" 1e308".to_string()),
        Just(" ~".to_string()),
        Just(" [1, 2]".to_string()),
        Just(" {a: 1}".to_string()),
        Just(" 99999999999999999999999".to_string()),
        Just(" &a [*a]".to_string()),
        Just(" !!binary AAAA".to_string()),
        Just("".to_string()),
        any::<f64>().prop_map(|v| format!(" {v:?}")),
        any::<i64>().prop_map(|v| format!(" {v}")),
    ];
    prop_oneof![
        any::<usize>().prop_map(LineEdit::Delete),
        any::<usize>().prop_map(LineEdit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| LineEdit::Swap(a, b)),
        (any::<usize>(), value).prop_map(|(a, v)| LineEdit::Value(a, v)),
    ]
}

fn apply_lines(bytes: &[u8], edits: &[LineEdit]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match e {
            LineEdit::Delete(i) => {
                lines.remove(i % n);
            }
            LineEdit::Duplicate(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            LineEdit::Swap(a, b) => lines.swap(a % n, b % n),
            LineEdit::Value(i, v) => {
                let l = &mut lines[i % n];
                if let Some(colon) = l.find(':') {
                    l.truncate(colon + 1);
                    l.push_str(v);
                }
            }
        }
    }
    (lines.join("\n") + "\n").into_bytes()
}

#[test]
fn every_seed_gives_a_model_or_a_one_line_error() {
    assert!(seeds().len() >= 20);
    for s in seeds() {
        check(s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn byte_mutations_never_panic(
        seed in any::<usize>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..5),
        insert in proptest::option::of((any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut v = seeds()[seed % seeds().len()].clone();
        for (at, b) in flips {
            let i = at % v.len();
            v[i] = b;
        }
        if let Some((at, bytes)) = insert {
            let i = at % v.len();
            v.splice(i..i, bytes);
        }
        if let Some(c) = cut {
            v.truncate(c % v.len());
        }
        check(&v);
    }

    #[test]
    fn line_mutations_never_panic(
        seed in any::<usize>(),
        edits in proptest::collection::vec(line_edit(), 1..4),
    ) {
        check(&apply_lines(&seeds()[seed % seeds().len()], &edits));
    }
}

//! Every file in tests/bad_inputs/hwmodel/ is refused with the error its header announces.
#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a broken fixture should abort the test"
)]

use std::path::{Path, PathBuf};

use helrm_hwmodels::{load_file, resolve, Error};

fn bad_input_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bad_inputs/hwmodel");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The `# expect: Variant [fragment]` header of a bad-input file.
fn expectation(path: &Path) -> (String, String) {
    let bytes = std::fs::read(path).expect("readable");
    let first = bytes.split(|&b| b == b'\n').next().expect("a first line");
    let first = std::str::from_utf8(first).expect("header is UTF-8");
    let rest = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{}: no `# expect:` header", path.display()));
    let (variant, fragment) = rest.split_once(' ').unwrap_or((rest, ""));
    (variant.to_string(), fragment.to_string())
}

#[test]
fn there_are_at_least_ten_bad_inputs() {
    assert!(bad_input_files().len() >= 10);
}

#[test]
fn every_bad_input_gives_its_announced_error() {
    for path in bad_input_files() {
        let shown = path.display().to_string();
        let (variant, fragment) = expectation(&path);
        let result = load_file(&path);
        match (variant.as_str(), &result) {
            (
                "Parse",
                Err(Error::Parse {
                    file,
                    message,
                    line,
                    ..
                }),
            ) => {
                assert_eq!(file, &shown);
                assert!(
                    message.contains(&fragment),
                    "{shown}: {message:?} lacks {fragment:?}"
                );
                assert!(*line >= 1, "{shown}: a parse error has a position");
            }
            ("Config", Err(Error::Config { file, field, .. })) => {
                assert_eq!(file, &shown);
                assert_eq!(field, &fragment, "{shown}");
            }
            _ => panic!("{shown}: expected {variant} {fragment}, got {result:?}"),
        }
        // The --hw resolution path gives the same answer.
        assert_eq!(
            format!("{:?}", resolve(&shown)),
            format!("{result:?}"),
            "{shown}"
        );
        // The message names the file.
        let msg = result.expect_err("refused").to_string();
        assert!(msg.contains(&shown), "{msg}");
    }
}

//! Malformed dataset files give typed errors with the right line and field; random input never
//! panics either parser.

use std::path::PathBuf;

use helrm_workloads::data::criteo::CriteoRaw;
use helrm_workloads::data::uci::{load_uci_file, parse_uci};
use helrm_workloads::Error;
use proptest::prelude::*;

fn bad(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/bad_inputs/dataset"
    ))
    .join(name)
}

#[derive(Debug, Clone, Copy)]
enum Parser {
    Uci,
    Criteo,
}

fn run(parser: Parser, name: &str) -> Result<usize, Error> {
    let path = bad(name);
    match parser {
        Parser::Uci => load_uci_file(&path).map(|d| d.len()),
        Parser::Criteo => CriteoRaw::load(&path).map(|d| d.len()),
    }
}

#[test]
fn each_bad_file_names_its_line_and_field() {
    let cases: &[(Parser, &str, usize, &str)] = &[
        (Parser::Uci, "uci_truncated_row.data", 3, "row"),
        (Parser::Uci, "uci_wrong_field_count.data", 2, "row"),
        (Parser::Uci, "uci_non_numeric.data", 4, "chol"),
        (Parser::Uci, "uci_nan.data", 2, "oldpeak"),
        (Parser::Uci, "uci_infinite.data", 3, "trestbps"),
        (Parser::Uci, "uci_out_of_range_category.data", 3, "cp"),
        (Parser::Uci, "random_bytes.bin", 1, "row"),
        (Parser::Criteo, "criteo_bad_hex.txt", 2, "C5"),
        (Parser::Criteo, "criteo_wrong_field_count.txt", 3, "row"),
        (Parser::Criteo, "criteo_non_numeric.txt", 1, "I4"),
        (Parser::Criteo, "criteo_bad_label.txt", 2, "label"),
        (Parser::Criteo, "random_bytes.bin", 1, "row"),
    ];
    for &(parser, name, want_line, want_field) in cases {
        match run(parser, name) {
            Err(Error::Dataset {
                file, line, field, ..
            }) => {
                assert_eq!((line, field), (want_line, want_field), "{name}");
                assert!(file.ends_with(name), "{file}");
            }
            other => panic!("{name}: expected Error::Dataset, got {other:?}"),
        }
    }
}

#[test]
fn messages_say_what_was_expected_and_found() {
    let e = run(Parser::Uci, "uci_out_of_range_category.data").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(":3: field `cp`"), "{msg}");
    assert!(msg.contains("\"5.0\""), "{msg}");
    let e = run(Parser::Criteo, "criteo_wrong_field_count.txt").unwrap_err();
    assert!(
        matches!(&e, Error::Dataset { found, .. } if found == "39 fields"),
        "{e}"
    );
}

#[test]
fn empty_and_missing_files() {
    assert!(matches!(
        run(Parser::Uci, "empty.txt"),
        Err(Error::EmptyDataset { .. })
    ));
    assert!(matches!(
        run(Parser::Criteo, "empty.txt"),
        Err(Error::EmptyDataset { .. })
    ));
    assert!(matches!(
        run(Parser::Uci, "no-such-file"),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        run(Parser::Criteo, "no-such-file"),
        Err(Error::Io { .. })
    ));
}

#[test]
fn missing_continuous_value_and_target_are_rejected() {
    let e = parse_uci(b"?,1,1,145,233,1,2,150,0,2.3,3,0,6,0\n", "f", "t").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Dataset {
                line: 1,
                field: "age",
                ..
            }
        ),
        "{e}"
    );
    let e = parse_uci(b"63,1,1,145,233,1,2,150,0,2.3,3,0,6,?\n", "f", "t").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Dataset {
                line: 1,
                field: "num",
                ..
            }
        ),
        "{e}"
    );
    let e = parse_uci(b"63,1,1,145,233,1,2,150,0,2.3,3,0,6,5\n", "f", "t").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Dataset {
                line: 1,
                field: "num",
                ..
            }
        ),
        "{e}"
    );
    let e = parse_uci(b"63,1.5,1,145,233,1,2,150,0,2.3,3,0,6,0\n", "f", "t").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Dataset {
                line: 1,
                field: "sex",
                ..
            }
        ),
        "{e}"
    );
}

const UCI_TOKENS: &[&str] = &[
    "0", "1", "3.0", "6.0", "7.0", "4", "63.0", "?", "nan", "-inf", "1e400", "", "abc", "2.5",
];
const CRITEO_TOKENS: &[&str] = &[
    "0",
    "1",
    "",
    "-2",
    "68fd1e64",
    "ffffffff",
    "FFFFFFFF",
    "9223372036854775808",
    "x",
    "1.0",
];

fn rows(
    tokens: &'static [&'static str],
    sep: &'static str,
    width: usize,
) -> impl Strategy<Value = Vec<u8>> {
    let field = proptest::sample::select(tokens);
    let row = prop::collection::vec(field, width - 1..=width + 1).prop_map(move |f| f.join(sep));
    prop::collection::vec(row, 0..6).prop_map(|rows| rows.join("\n").into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_uci(&bytes, "fuzz", "fuzz");
        let _ = CriteoRaw::parse(&bytes, "fuzz");
    }

    #[test]
    fn near_valid_uci_rows_never_panic(bytes in rows(UCI_TOKENS, ",", 14)) {
        if let Ok(d) = parse_uci(&bytes, "fuzz", "fuzz") {
            prop_assert_eq!(d.len(), bytes.split(|&b| b == b'\n').count());
            prop_assert!(d.dense().iter().all(|x| x.is_finite()));
        }
    }

    #[test]
    fn near_valid_criteo_rows_never_panic(bytes in rows(CRITEO_TOKENS, "\t", 40)) {
        if let Ok(raw) = CriteoRaw::parse(&bytes, "fuzz") {
            prop_assert_eq!(raw.len(), bytes.split(|&b| b == b'\n').count());
            let d = raw.to_dataset(&helrm_workloads::data::IndexScheme::kaggle(), "fuzz");
            prop_assert!(d.is_ok());
        }
    }
}

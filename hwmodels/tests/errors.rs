//! Bad inputs: each gives its own error variant, naming the file and the field path.
#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a broken fixture should abort the test"
)]

use helrm_hwmodels::{builtin, builtin_source, from_yaml_bytes, from_yaml_str, load_file, Error};

/// A valid model text to mutate (the shipped ARK model, comments and all).
fn ark_text() -> &'static str {
    builtin_source("ark").expect("ark is shipped")
}

/// Replace exactly one occurrence of `from` in the ARK text.
fn ark_with(from: &str, to: &str) -> String {
    let text = ark_text();
    assert_eq!(
        text.matches(from).count(),
        1,
        "fixture anchor {from:?} must be unique"
    );
    text.replacen(from, to, 1)
}

/// Assert a Parse error whose message mentions every fragment; return (line, column).
fn expect_parse(text: &str, fragments: &[&str]) -> (usize, usize) {
    match from_yaml_str(text, "model.yaml") {
        Err(Error::Parse {
            file,
            line,
            column,
            message,
        }) => {
            assert_eq!(file, "model.yaml");
            for f in fragments {
                assert!(message.contains(f), "message {message:?} lacks {f:?}");
            }
            let position = format!(" at line {line} column {column}");
            assert!(
                !message.contains(&position),
                "position duplicated: {message}"
            );
            (line, column)
        }
        other => panic!("expected Error::Parse, got {other:?}"),
    }
}

/// Assert a Config error on `field`.
fn expect_config(text: &str, field: &str) -> (String, String) {
    match from_yaml_str(text, "model.yaml") {
        Err(Error::Config {
            file,
            field: f,
            expected,
            found,
        }) => {
            assert_eq!(file, "model.yaml");
            assert_eq!(f, field);
            (expected, found)
        }
        other => panic!("expected Error::Config on {field}, got {other:?}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
}

#[test]
fn unknown_top_level_key_is_a_parse_error_at_its_line() {
    let text = ark_with("word_bits: 64 ", "frequency_mhz: 1000\nword_bits: 64 ");
    let (line, column) = expect_parse(&text, &["unknown field `frequency_mhz`"]);
    assert_eq!(line, line_of(&text, "frequency_mhz"));
    assert_eq!(column, 1);
}

#[test]
fn unknown_nested_key_names_its_path() {
    let text = ark_with("  ntt:\n", "  ntt:\n    lanes: 256\n");
    let (line, _) = expect_parse(&text, &["units.ntt", "unknown field `lanes`"]);
    assert_eq!(line, line_of(&text, "lanes: 256"));
}

#[test]
fn unknown_key_in_features_names_its_path() {
    let text = ark_with("features:\n", "features:\n  bootstrapping_unit: true\n");
    expect_parse(&text, &["features", "unknown field `bootstrapping_unit`"]);
}

#[test]
fn wrong_type_names_its_path() {
    let text = ark_with("bandwidth_gb_per_s: 1000.0", "bandwidth_gb_per_s: fast");
    expect_parse(&text, &["offchip.bandwidth_gb_per_s", "invalid type"]);
}

#[test]
fn wrong_enum_value_names_its_path() {
    let text = ark_with("kind: asic", "kind: fpga");
    expect_parse(&text, &["kind", "unknown variant `fpga`"]);
    let text = ark_with("replacement_policy: lru", "replacement_policy: fifo");
    expect_parse(
        &text,
        &["onchip.replacement_policy", "unknown variant `fifo`"],
    );
}

#[test]
fn missing_field_names_its_parent() {
    let text = ark_with("  latency_ns: 100.0 ", "  # latency removed ");
    expect_parse(&text, &["offchip", "missing field `latency_ns`"]);
    let text = ark_with("clock_ghz: 1.0 ", "# clock removed ");
    expect_parse(&text, &["missing field `clock_ghz`"]);
}

#[test]
fn zero_bandwidth_is_a_config_error() {
    let text = ark_with("bandwidth_gb_per_s: 1000.0", "bandwidth_gb_per_s: 0");
    let (expected, found) = expect_config(&text, "offchip.bandwidth_gb_per_s");
    assert_eq!(found, "0");
    assert!(expected.contains("(0, "), "{expected}");
}

#[test]
fn zero_onchip_capacity_is_a_config_error() {
    let text = ark_with("capacity_bytes: 536870912", "capacity_bytes: 0");
    expect_config(&text, "onchip.capacity_bytes");
}

#[test]
fn negative_capacity_is_refused_with_its_path() {
    // capacity_bytes is an unsigned integer: the parser refuses -1 and says where.
    let text = ark_with("capacity_bytes: 34359738368", "capacity_bytes: -1");
    expect_parse(&text, &["offchip.capacity_bytes", "-1"]);
}

#[test]
fn nan_and_infinity_are_config_errors() {
    let text = ark_with("clock_ghz: 1.0 ", "clock_ghz: .nan ");
    let (_, found) = expect_config(&text, "clock_ghz");
    assert_eq!(found, "NaN");
    let text = ark_with("latency_ns: 100.0", "latency_ns: .inf");
    expect_config(&text, "offchip.latency_ns");
}

#[test]
fn out_of_range_values_are_config_errors() {
    expect_config(
        &ark_with("clock_ghz: 1.0 ", "clock_ghz: 1000.0 "),
        "clock_ghz",
    );
    expect_config(&ark_with("word_bits: 64 ", "word_bits: 128 "), "word_bits");
    expect_config(&ark_with("word_bits: 64 ", "word_bits: 8 "), "word_bits");
    expect_config(
        &ark_with("bandwidth_gb_per_s: 20000.0", "bandwidth_gb_per_s: 2.0e13"),
        "onchip.bandwidth_gb_per_s",
    );
    expect_config(
        &ark_with(
            "throughput_words_per_cycle: 256.0   #",
            "throughput_words_per_cycle: -256.0   #",
        ),
        "units.ntt.throughput_words_per_cycle",
    );
    expect_config(
        &ark_with(
            "    count: 4                # (paper) one NTT",
            "    count: 0  # one NTT",
        ),
        "units.ntt.count",
    );
    expect_config(&ark_with("name: ark", "name: \"\""), "name");
    expect_config(&ark_with("name: ark", "name: \"has space\""), "name");
}

#[test]
fn efficiency_out_of_range_is_a_config_error() {
    let a100 = builtin_source("a100").expect("shipped");
    expect_config(&a100.replacen("ntt: 0.5", "ntt: 1.5", 1), "efficiency.ntt");
    expect_config(&a100.replacen("ntt: 0.5", "ntt: 0.0", 1), "efficiency.ntt");
    expect_config(
        &a100.replacen("offchip_bandwidth: 0.85", "offchip_bandwidth: -0.1", 1),
        "efficiency.offchip_bandwidth",
    );
}

#[test]
fn gpu_without_efficiency_is_a_config_error() {
    let a100 = builtin("a100").expect("shipped");
    let mut m = a100.clone();
    m.efficiency = None;
    let (expected, found) = expect_config(&m.to_yaml(), "efficiency");
    assert!(expected.contains("gpu"), "{expected}");
    assert_eq!(found, "absent");
}

#[test]
fn throughput_must_be_stated_exactly_once() {
    let text = ark_with(
        "throughput_words_per_cycle: 256.0   # (paper)",
        "throughput_mod_mults_per_cycle: 256.0\n    throughput_words_per_cycle: 256.0   # (paper)",
    );
    expect_config(&text, "units.ntt.throughput_mod_mults_per_cycle");
    let text = ark_with("throughput_words_per_cycle: 256.0   # (paper)", "# none");
    expect_config(&text, "units.ntt.throughput_words_per_cycle");
    // Additions and permutations perform no modular multiplications.
    let text = ark_with(
        "throughput_words_per_cycle: 512.0       # (derived) the same",
        "throughput_mod_mults_per_cycle: 512.0   # the same",
    );
    expect_config(
        &text,
        "units.elementwise_add.throughput_mod_mults_per_cycle",
    );
}

#[test]
fn groups_sharing_a_pool_must_agree_on_count() {
    let mut m = builtin("ark").expect("shipped");
    m.units.key_switch_mac.count = 8;
    let (expected, found) = expect_config(&m.to_yaml(), "units.key_switch_mac.count");
    assert!(expected.contains("elementwise_mul"), "{expected}");
    assert_eq!(found, "8");
}

#[test]
fn empty_provenance_source_is_a_config_error() {
    let mut m = builtin("sharp").expect("shipped");
    m.provenance.source = "   ".to_string();
    expect_config(&m.to_yaml(), "provenance.source");
}

#[test]
fn unsupported_schema_version_is_a_config_error_even_with_new_keys() {
    // A file from a future schema is refused for its version, not for the keys it adds.
    let text = ark_with("schema_version: 1", "schema_version: 2\nnew_block: {a: 1}");
    let (expected, found) = expect_config(&text, "schema_version");
    assert_eq!(found, "2");
    assert!(expected.contains('1'), "{expected}");
    expect_config(
        &ark_with("schema_version: 1", "schema_version: 0"),
        "schema_version",
    );
    expect_config(
        &ark_with("schema_version: 1", "schema_version: 99999999999"),
        "schema_version",
    );
}

#[test]
fn schema_version_of_wrong_type_is_a_parse_error() {
    let text = ark_with("schema_version: 1", "schema_version: one");
    expect_parse(&text, &["schema_version", "invalid type"]);
}

#[test]
fn truncated_file_is_a_parse_error() {
    let text = ark_text();
    let cut = &text[..text.find("  elementwise_add:").expect("anchor")];
    expect_parse(cut, &["missing field"]);
    // Cut mid-token inside a flow mapping: a syntax error with a position.
    let (line, column) = expect_parse("schema_version: 1\nunits: {ntt: {count: 4,", &[]);
    assert!(line >= 2 && column >= 1, "{line}:{column}");
}

#[test]
fn empty_and_non_mapping_documents_are_parse_errors() {
    for text in [
        "",
        "\n",
        "# only a comment\n",
        "42",
        "- a\n- b\n",
        "just text",
    ] {
        match from_yaml_str(text, "x.yaml") {
            Err(Error::Parse { .. }) => {}
            other => panic!("{text:?}: expected Error::Parse, got {other:?}"),
        }
    }
}

#[test]
fn duplicate_keys_are_parse_errors() {
    let text = ark_with("clock_ghz: 1.0 ", "clock_ghz: 1.0\nclock_ghz: 2.0 ");
    expect_parse(&text, &["clock_ghz"]);
}

#[test]
fn multiple_documents_are_a_parse_error() {
    let text = format!("{}\n---\n{}", ark_text(), ark_text());
    expect_parse(&text, &["more than one document"]);
}

#[test]
fn invalid_utf8_is_a_parse_error_at_the_byte() {
    let mut bytes = b"schema_version: 1\nname: a".to_vec();
    bytes.push(0xff);
    match from_yaml_bytes(&bytes, "bin.yaml") {
        Err(Error::Parse {
            file,
            line,
            column,
            message,
        }) => {
            assert_eq!(file, "bin.yaml");
            assert_eq!((line, column), (2, 8));
            assert!(message.contains("UTF-8"), "{message}");
        }
        other => panic!("expected Error::Parse, got {other:?}"),
    }
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    match load_file("/nonexistent/dir/model.yaml") {
        Err(Error::Io { file, source }) => {
            assert_eq!(file, "/nonexistent/dir/model.yaml");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Error::Io, got {other:?}"),
    }
}

#[test]
fn unknown_builtin_lists_the_known_names() {
    match builtin("tpu-v9") {
        Err(Error::UnknownModel { name, known }) => {
            assert_eq!(name, "tpu-v9");
            assert!(known.iter().any(|k| k == "craterlake"));
            assert_eq!(known.len(), 7);
        }
        other => panic!("expected Error::UnknownModel, got {other:?}"),
    }
}

#[test]
fn error_messages_name_file_and_field() {
    let text = ark_with("bandwidth_gb_per_s: 1000.0", "bandwidth_gb_per_s: 0");
    let msg = from_yaml_str(&text, "ark-edit.yaml")
        .expect_err("invalid")
        .to_string();
    assert!(msg.contains("ark-edit.yaml"), "{msg}");
    assert!(msg.contains("offchip.bandwidth_gb_per_s"), "{msg}");
    let text = ark_with("  ntt:\n", "  ntt:\n    lanes: 256\n");
    let msg = from_yaml_str(&text, "ark-edit.yaml")
        .expect_err("invalid")
        .to_string();
    assert!(msg.starts_with("ark-edit.yaml:"), "{msg}");
    assert!(msg.contains("units.ntt: unknown field `lanes`"), "{msg}");
}

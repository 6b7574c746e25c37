//! Trace statistics and trace comparison.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use std::path::PathBuf;

use helrm_core::trace::{
    diff, diff_events, diff_headers, ClassBytes, DataClass, ObjectId, OpKind, OpStats,
    TraceDifference, TraceEvent, TraceHeader, TraceMode, TraceReader, TraceStats,
};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/trace")
        .join(name)
}

fn golden() -> (TraceHeader, Vec<TraceEvent>) {
    let reader = TraceReader::open(path("golden.htrace.jsonl")).unwrap();
    let header = reader.header().clone();
    (header, reader.map(Result::unwrap).collect())
}

// Sizes in the golden trace (N = 4096, 8-byte words): a ciphertext at level l is
// 2 × (l + 1) × 32 KiB, a plaintext (l + 1) × 32 KiB, an evaluation key 3 × 2 × 4 × 32 KiB.
const KIB32: u64 = 4096 * 8;
const CT2: u64 = 6 * KIB32;
const CT1: u64 = 4 * KIB32;
const CT0: u64 = 2 * KIB32;
const PT2: u64 = 3 * KIB32;
const KEY: u64 = 24 * KIB32;

#[test]
fn stats_of_the_golden_trace() {
    let (_, events) = golden();
    let stats = TraceStats::from_events(&events);
    assert_eq!(stats.events, 12);
    assert_eq!(
        stats.wall_ns,
        (1..=12).map(|i| 1_000 + 250 * i).sum::<u64>()
    );
    assert_eq!(stats.by_op.len(), 10);
    assert_eq!(
        stats.by_op[&OpKind::Encode],
        OpStats {
            count: 2,
            input_bytes: 0,
            output_bytes: 2 * PT2,
            wall_ns: 1_250 + 1_750
        }
    );
    assert_eq!(
        stats.by_op[&OpKind::Rescale],
        OpStats {
            count: 2,
            input_bytes: CT2 + CT1,
            output_bytes: CT1 + CT0,
            wall_ns: 2_250 + 3_250
        }
    );
    assert_eq!(
        stats.by_op[&OpKind::RotateHoisted].input_bytes,
        CT1 + 2 * KEY
    );
    assert_eq!(stats.by_op[&OpKind::RotateHoisted].output_bytes, 2 * CT1);
    assert_eq!(stats.by_op[&OpKind::MulRelin].input_bytes, 2 * CT1 + KEY);
    // Ciphertexts read: mul_plain CT2, rescale CT2, hoisted CT1, add 2 CT1, mul_relin 2 CT1,
    // rescale CT1, conjugate CT0, add_const CT0, decrypt CT0. Written: encrypt CT2,
    // mul_plain CT2, rescale CT1, hoisted 2 CT1, add CT1, mul_relin CT1, rescale CT0,
    // conjugate CT0, add_const CT0.
    assert_eq!(
        stats.bytes_by_class[&DataClass::Ciphertext],
        ClassBytes {
            input_bytes: 2 * CT2 + 6 * CT1 + 3 * CT0,
            output_bytes: 2 * CT2 + 5 * CT1 + 3 * CT0
        }
    );
    assert_eq!(
        stats.bytes_by_class[&DataClass::KeyGalois(8191)],
        ClassBytes {
            input_bytes: KEY,
            output_bytes: 0
        }
    );
    assert_eq!(stats.bytes_by_class[&DataClass::KeyRelin].input_bytes, KEY);
    // The public key is two polynomials over the three Q primes, like a level-2 ciphertext.
    assert_eq!(stats.bytes_by_class[&DataClass::KeyPublic].input_bytes, CT2);
    assert_eq!(
        stats.bytes_by_class[&DataClass::PlaintextWeight].input_bytes,
        PT2
    );
    assert_eq!(stats.bytes_by_class[&DataClass::Other].output_bytes, KIB32);
}

#[test]
fn stats_from_either_file_equal_stats_from_memory() {
    let (_, events) = golden();
    let expected = TraceStats::from_events(&events);
    for name in ["golden.htrace.jsonl", "golden.htrace"] {
        let mut reader = TraceReader::open(path(name)).unwrap();
        assert_eq!(
            TraceStats::from_reader(&mut reader).unwrap(),
            expected,
            "{name}"
        );
    }
}

#[test]
fn stats_merge_of_halves_equals_the_whole() {
    let (_, events) = golden();
    let mut first = TraceStats::from_events(&events[..5]);
    first.merge(&TraceStats::from_events(&events[5..]));
    assert_eq!(first, TraceStats::from_events(&events));
}

#[test]
fn stats_json_has_the_documented_keys() {
    let (_, events) = golden();
    let stats = TraceStats::from_events(&events[5..6]);
    let json = serde_json::to_value(&stats).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["by_op", "bytes_by_class", "events", "wall_ns"]);
    assert_eq!(
        serde_json::to_string(&stats).unwrap(),
        format!(
            concat!(
                r#"{{"events":1,"by_op":{{"rotate_hoisted":{{"count":1,"input_bytes":{},"#,
                r#""output_bytes":{},"wall_ns":2500}}}},"bytes_by_class":{{"ciphertext":"#,
                r#"{{"input_bytes":{},"output_bytes":{}}},"key_galois:5":{{"input_bytes":{},"#,
                r#""output_bytes":0}},"key_galois:25":{{"input_bytes":{},"output_bytes":0}}}},"#,
                r#""wall_ns":2500}}"#
            ),
            CT1 + 2 * KEY,
            2 * CT1,
            CT1,
            2 * CT1,
            KEY,
            KEY
        )
    );
    let back: TraceStats = serde_json::from_value(json).unwrap();
    assert_eq!(back, stats);
}

#[test]
fn diff_ignores_wall_times_mode_and_creator() {
    let (header, events) = golden();
    let mut symbolic_header = header.clone();
    symbolic_header.mode = TraceMode::Symbolic;
    symbolic_header.created_by = "someone else".into();
    assert_eq!(diff_headers(&header, &symbolic_header), None);
    let symbolic: Vec<TraceEvent> = events
        .iter()
        .cloned()
        .map(|mut e| {
            e.wall_ns = None;
            e
        })
        .collect();
    assert_eq!(diff_events(&events, &symbolic), None);
    assert_eq!(diff_events(events.clone(), symbolic), None);
}

#[test]
fn diff_names_the_first_differing_field() {
    let (header, events) = golden();
    let mut other = events.clone();
    other[4].level = 1;
    other[4].limbs = 2;
    other[7].scope = "elsewhere".into();
    assert_eq!(
        diff_events(&events, &other),
        Some(TraceDifference {
            index: Some(4),
            field: "level".into(),
            left: "2".into(),
            right: "1".into()
        })
    );
    let mut other = events.clone();
    other[5].inputs[2].class = DataClass::KeyGalois(125);
    let d = diff_events(&events, &other).unwrap();
    assert_eq!(
        (d.index, d.field.as_str(), d.left.as_str(), d.right.as_str()),
        (
            Some(5),
            "inputs[2].class",
            "\"key_galois:25\"",
            "\"key_galois:125\""
        )
    );
    let mut other = events.clone();
    other[5].outputs.pop();
    assert_eq!(diff_events(&events, &other).unwrap().field, "outputs.len");
    let mut other = events.clone();
    other[9].scale_log2 += 1e-9;
    assert_eq!(diff_events(&events, &other).unwrap().field, "scale_log2");
    let mut other = events.clone();
    other[1].outputs[0].id = ObjectId(99);
    let d = diff_events(&events, &other).unwrap();
    assert_eq!(d.to_string(), "event 1, field `outputs[0].id`: 6 != 99");
    // One trace is a prefix of the other.
    let d = diff_events(&events, &events[..10]).unwrap();
    assert_eq!(
        d,
        TraceDifference {
            index: Some(10),
            field: "event".into(),
            left: "add_const (seq 10)".into(),
            right: "end of trace".into()
        }
    );
    // Headers.
    let mut h2 = header.clone();
    h2.params.q_bits.push(40);
    let d = diff_headers(&header, &h2).unwrap();
    assert_eq!((d.index, d.field.as_str()), (None, "params.q_bits"));
    assert_eq!(
        d.to_string(),
        "header, field `params.q_bits`: [50,40,40] != [50,40,40,40]"
    );
}

#[test]
fn diff_of_files_across_encodings() {
    let a = TraceReader::open(path("golden.htrace.jsonl")).unwrap();
    let b = TraceReader::open(path("golden.htrace")).unwrap();
    assert_eq!(diff(a, b).unwrap(), None);
    // A difference in the event stream of two files.
    let text = std::fs::read_to_string(path("golden.htrace.jsonl")).unwrap();
    let changed = text.replacen("\"op\":\"add\"", "\"op\":\"sub\"", 1);
    let a = TraceReader::open(path("golden.htrace")).unwrap();
    let b = TraceReader::from_reader(changed.as_bytes()).unwrap();
    let d = diff(a, b).unwrap().unwrap();
    assert_eq!(
        (d.index, d.field.as_str(), d.left.as_str(), d.right.as_str()),
        (Some(6), "op", "\"add\"", "\"sub\"")
    );
    // A read error is an error, not a difference.
    let truncated = &text.as_bytes()[..text.len() / 2];
    let a = TraceReader::open(path("golden.htrace")).unwrap();
    let b = TraceReader::from_reader(truncated).unwrap();
    assert!(diff(a, b).is_err());
}

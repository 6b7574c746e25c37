//! Round trips of arbitrary events through both encodings, and the JSON Lines reader checked
//! against plain serde_json (the reader has a fast path for the writer's canonical form).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use helrm_core::trace::{
    BinaryWriter, DataClass, JsonlWriter, ObjectId, ObjectRef, OpKind, ParamsSummary, Term,
    TraceEvent, TraceHeader, TraceMode, TraceReader, TraceSink,
};
use proptest::prelude::*;

fn header() -> TraceHeader {
    TraceHeader::new(
        "roundtrip",
        ParamsSummary {
            log_n: 16,
            q_bits: vec![60; 11],
            p_bits: vec![60; 3],
            dnum: 4,
            word_bytes: 8,
        },
        TraceMode::Real,
        "trace_roundtrip test",
    )
}

fn class() -> impl Strategy<Value = DataClass> {
    (0u8..8, any::<u64>()).prop_map(|(code, k)| DataClass::from_code(code, k).unwrap())
}

fn object() -> impl Strategy<Value = ObjectRef> {
    (any::<u64>(), class(), any::<u64>(), any::<Option<u32>>()).prop_map(
        |(id, class, bytes, level)| ObjectRef {
            id: ObjectId(id),
            class,
            bytes,
            level,
        },
    )
}

fn scale() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        (20.0f64..100.0),
        (0u32..200).prop_map(f64::from),
    ]
}

prop_compose! {
    fn event()(
        seq in any::<u64>(),
        op in proptest::sample::select(OpKind::ALL.to_vec()),
        scope in "[a-z_/]{0,30}|\\PC{0,12}|[\"\\\\a]{0,4}",
        log_n in 0u32..=63,
        level in 0u32..u32::MAX,
        special_primes in any::<u32>(),
        dnum in any::<u32>(),
        scale_log2 in scale(),
        rotations in proptest::collection::vec(any::<i64>(), 0..4),
        galois_elements in proptest::collection::vec(any::<u64>(), 0..4),
        inputs in proptest::collection::vec(object(), 0..4),
        outputs in proptest::collection::vec(object(), 0..3),
        wall_ns in any::<Option<u64>>(),
        mod_ups in prop_oneof![Just(0u32), any::<u32>()],
        mod_downs in prop_oneof![Just(0u32), any::<u32>()],
        raw_terms in proptest::collection::vec(
            (any::<u32>(), any::<Option<u32>>(), any::<Option<u32>>(), any::<u32>()), 0..5),
        extended_basis in any::<bool>(),
        slots_log2 in proptest::option::of(0u32..31),
    ) -> TraceEvent {
        // A slot count is a power of two at most N/2 (or 0, not recorded).
        let slots = slots_log2
            .filter(|&k| log_n >= 1 && k < log_n)
            .map_or(0, |k| 1u32 << k);
        // Terms index into inputs, rotations and outputs.
        let terms = if inputs.is_empty() || outputs.is_empty() {
            Vec::new()
        } else {
            let at = |i: u32, len: usize| i % len as u32;
            raw_terms
                .into_iter()
                .map(|(i, r, p, o)| Term {
                    input: at(i, inputs.len()),
                    rotation: r.filter(|_| !rotations.is_empty()).map(|r| at(r, rotations.len())),
                    plaintext: p.map(|p| at(p, inputs.len())),
                    output: at(o, outputs.len()),
                })
                .collect()
        };
        TraceEvent {
            seq, op, scope, log_n, n: 1 << log_n, level, limbs: level + 1, special_primes, dnum,
            scale_log2, rotations, galois_elements, inputs, outputs, mod_ups, mod_downs, terms,
            extended_basis, slots, wall_ns,
        }
    }
}

fn jsonl(events: &[TraceEvent]) -> Vec<u8> {
    let w = JsonlWriter::new(Vec::new(), &header()).unwrap();
    for e in events {
        w.record(e.clone());
    }
    w.into_inner().unwrap()
}

fn binary(events: &[TraceEvent]) -> Vec<u8> {
    let w = BinaryWriter::new(Vec::new(), &header()).unwrap();
    for e in events {
        w.record(e.clone());
    }
    w.into_inner().unwrap()
}

fn read(bytes: &[u8]) -> Result<Vec<TraceEvent>, helrm_core::trace::TraceError> {
    TraceReader::from_reader(bytes).unwrap().collect()
}

/// Equality that compares floats by bits.
fn same(a: &[TraceEvent], b: &[TraceEvent]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.scale_log2.to_bits() == y.scale_log2.to_bits() && {
                let (mut x, mut y) = (x.clone(), y.clone());
                x.scale_log2 = 0.0;
                y.scale_log2 = 0.0;
                x == y
            }
        })
}

/// A trace of one event line (whatever its content) with a matching end line.
fn one_line_trace(line: &str) -> Vec<u8> {
    let mut out = jsonl(&[]);
    let end = out.len() - "{\"end\":{\"events\":0}}\n".len();
    out.truncate(end);
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\n{\"end\":{\"events\":1}}\n");
    out
}

/// The reader's verdict on one line must equal serde_json's (plus the reader's checks).
fn reader_agrees_with_serde(line: &str) {
    let got = read(&one_line_trace(line));
    match serde_json::from_str::<TraceEvent>(line) {
        Ok(expected) if expected.check().is_ok() => {
            let got = got.unwrap_or_else(|e| panic!("reader refused {line:?}: {e}"));
            assert!(same(&got, &[expected]), "{line:?}");
        }
        _ => assert!(got.is_err(), "reader accepted {line:?}"),
    }
}

#[test]
fn scale_values_survive_json_exactly() {
    // serde_json's default float parsing is not correctly rounded; these values are ones it
    // got wrong, so this pins the exact parsing both reader paths need.
    let values = [
        30.712782300299374,
        52.683042021775364,
        57.606971297029276,
        48.525059530844516,
    ];
    let events: Vec<TraceEvent> = values
        .iter()
        .map(|&v| TraceEvent::new(OpKind::Rescale, 12, 3).with_scale_log2(v))
        .collect();
    let bytes = jsonl(&events);
    assert!(same(&read(&bytes).unwrap(), &events));
    // The same lines with a space after every comma take the serde_json path.
    let text = String::from_utf8(bytes).unwrap();
    for line in text.lines().skip(1).filter(|l| !l.starts_with("{\"end\"")) {
        let spaced = line.replace(',', ", ");
        let got = read(&one_line_trace(&spaced)).unwrap();
        let expected: TraceEvent = serde_json::from_str(line).unwrap();
        assert_eq!(got[0].scale_log2.to_bits(), expected.scale_log2.to_bits());
        assert!(values
            .iter()
            .any(|v| v.to_bits() == got[0].scale_log2.to_bits()));
    }
}

#[test]
fn non_canonical_lines_read_like_canonical_ones() {
    let ev = TraceEvent::new(OpKind::Rotate, 12, 1)
        .with_scale_log2(40.0)
        .with_rotations(vec![-3], vec![7])
        .with_inputs(vec![ObjectRef::key(
            ObjectId(4),
            DataClass::KeyGalois(7),
            10,
        )]);
    let canonical = String::from_utf8(jsonl(std::slice::from_ref(&ev))).unwrap();
    let line = canonical.lines().nth(1).unwrap();
    let variants = [
        line.replace(',', " ,\t"),
        line.replace("\"seq\":0,", "")
            .replacen('{', "{\"seq\":0,\"x\":[{}],", 1),
        line.replace("\"rotate\"", "\"rot\\u0061te\""),
        line.replace("40.0", "4e1"),
        line.replace("40.0", "40"),
        line.replace("\"inputs\"", "\"rotations\":[-3],\"inputs\"")
            .replacen(",\"rotations\":[-3]", "", 1),
    ];
    for v in &variants {
        assert_eq!(
            read(&one_line_trace(v)).unwrap(),
            std::slice::from_ref(&ev),
            "{v}"
        );
    }
}

/// Every single-byte edit (replace, insert, delete) of every golden event line, from a byte set
/// that matters to JSON numbers, strings and structure: the reader agrees with serde_json.
#[test]
fn single_edits_of_golden_lines_read_like_serde() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/trace/golden.htrace.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let alphabet = b"0123456789-+.eE\"\\,:{}[] ax";
    let mut checked = 0;
    for line in text.lines().skip(1).filter(|l| !l.starts_with("{\"end\"")) {
        let bytes = line.as_bytes();
        for i in 0..=bytes.len() {
            let mut edits: Vec<Vec<u8>> = Vec::new();
            for &b in alphabet {
                let mut inserted = bytes.to_vec();
                inserted.insert(i, b);
                edits.push(inserted);
                if i < bytes.len() && bytes[i] != b {
                    let mut replaced = bytes.to_vec();
                    replaced[i] = b;
                    edits.push(replaced);
                }
            }
            if i < bytes.len() {
                let mut deleted = bytes.to_vec();
                deleted.remove(i);
                edits.push(deleted);
            }
            for edit in edits {
                reader_agrees_with_serde(std::str::from_utf8(&edit).unwrap());
                checked += 1;
            }
        }
    }
    assert!(checked > 100_000, "{checked}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn events_round_trip_through_both_encodings(events in proptest::collection::vec(event(), 0..6)) {
        prop_assert!(same(&read(&jsonl(&events)).unwrap(), &events));
        prop_assert!(same(&read(&binary(&events)).unwrap(), &events));
    }

    #[test]
    fn canonical_lines_read_like_serde(ev in event()) {
        let bytes = jsonl(&[ev]);
        let text = String::from_utf8(bytes).unwrap();
        reader_agrees_with_serde(text.lines().nth(1).unwrap());
    }

    #[test]
    fn mutated_lines_read_like_serde(
        ev in event(),
        edits in proptest::collection::vec(
            (any::<prop::sample::Index>(), 0usize..3, proptest::sample::select(
                b"0123456789-+.eE\"\\,:{}[] ax".to_vec())),
            1..4,
        ),
    ) {
        let bytes = jsonl(&[ev]);
        let text = String::from_utf8(bytes).unwrap();
        let mut line: Vec<u8> = text.lines().nth(1).unwrap().as_bytes().to_vec();
        for (at, kind, byte) in edits {
            let i = at.index(line.len());
            match kind {
                0 => line[i] = byte,
                1 => line.insert(i, byte),
                _ => {
                    line.remove(i);
                }
            }
            if line.is_empty() {
                line.push(b'{');
            }
        }
        if let Ok(line) = String::from_utf8(line) {
            if !line.contains('\n') {
                reader_agrees_with_serde(&line);
            }
        }
    }
}

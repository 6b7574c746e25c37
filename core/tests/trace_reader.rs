//! The trace reader on bad input: typed errors naming the line or byte offset, and no panics.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use std::path::PathBuf;

use helrm_core::trace::{Location, OpKind, TraceError, TraceEvent, TraceReader};
use proptest::prelude::*;

fn golden(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/trace")
        .join(name);
    std::fs::read(path).unwrap()
}

fn golden_jsonl() -> Vec<u8> {
    golden("golden.htrace.jsonl")
}

fn golden_binary() -> Vec<u8> {
    golden("golden.htrace")
}

/// Reads a whole trace; `Err` is the first error (of the header or of an event).
fn read(bytes: &[u8]) -> Result<Vec<TraceEvent>, TraceError> {
    TraceReader::from_reader(bytes)?.collect()
}

/// Byte offsets at which the records of a binary trace start (after the header).
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut offsets = Vec::new();
    let mut pos = 16 + header_len;
    while pos < bytes.len() {
        offsets.push(pos);
        let len = u32::from_le_bytes(bytes[pos + 1..pos + 5].try_into().unwrap()) as usize;
        pos += 5 + len;
    }
    assert_eq!(pos, bytes.len());
    offsets
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn join(lines: &[String]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

#[test]
fn golden_files_read_cleanly() {
    assert_eq!(read(&golden_jsonl()).unwrap().len(), 12);
    assert_eq!(read(&golden_binary()).unwrap().len(), 12);
}

#[test]
fn empty_input_is_truncated() {
    assert_eq!(
        read(b"").unwrap_err(),
        TraceError::Truncated {
            at: Location::Offset(0),
            expected: "a trace header"
        }
    );
}

#[test]
fn garbage_is_an_unknown_format() {
    assert_eq!(
        read(b"PK\x03\x04 not a trace").unwrap_err(),
        TraceError::UnknownFormat {
            first_bytes: b"PK\x03\x04 not".to_vec()
        }
    );
    // Right first byte, wrong magic.
    assert_eq!(
        read(b"\x89PNG\r\n\x1a\n0000000000000000").unwrap_err(),
        TraceError::UnknownFormat {
            first_bytes: b"\x89PNG\r\n\x1a\n".to_vec()
        }
    );
}

#[test]
fn unknown_major_version_is_rejected_jsonl() {
    let mut l = lines(&golden_jsonl());
    l[0] = l[0].replace("\"major\":1", "\"major\":2");
    assert_eq!(
        read(&join(&l)).unwrap_err(),
        TraceError::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    );
    // Even when the rest of a future header no longer looks like ours.
    let future = b"{\"format\":\"helrm-trace\",\"version\":{\"major\":9,\"minor\":0},\"new\":1}\n";
    assert_eq!(
        read(future).unwrap_err(),
        TraceError::UnsupportedVersion {
            found: 9,
            supported: 1
        }
    );
}

#[test]
fn unknown_major_version_is_rejected_binary() {
    let mut b = golden_binary();
    b[8] = 3;
    assert_eq!(
        read(&b).unwrap_err(),
        TraceError::UnsupportedVersion {
            found: 3,
            supported: 1
        }
    );
}

#[test]
fn binary_preamble_and_header_versions_must_agree() {
    let mut b = golden_binary();
    b[10] = 4; // minor 4 in the preamble, 0 in the JSON header
    assert!(matches!(
        read(&b).unwrap_err(),
        TraceError::Malformed {
            at: Location::Offset(16),
            field: "version",
            ..
        }
    ));
}

#[test]
fn wrong_format_name_is_rejected() {
    let mut l = lines(&golden_jsonl());
    l[0] = l[0].replace("helrm-trace", "other-trace");
    assert_eq!(
        read(&join(&l)).unwrap_err(),
        TraceError::WrongFormatName {
            at: Location::Line(1),
            found: "other-trace".into()
        }
    );
}

#[test]
fn missing_header_field_is_a_json_error_on_line_1() {
    let mut l = lines(&golden_jsonl());
    l[0] = l[0].replace("\"mode\":\"real\",", "");
    match read(&join(&l)).unwrap_err() {
        TraceError::Json {
            at: Location::Line(1),
            message,
            ..
        } => {
            assert!(message.contains("mode"), "{message}")
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn jsonl_garbage_line_names_the_line() {
    let mut l = lines(&golden_jsonl());
    l[3] = "{\"seq\":2,\"op\":".to_owned() + "}";
    match read(&join(&l)).unwrap_err() {
        TraceError::Json { at, column, .. } => {
            assert_eq!(at, Location::Line(4));
            assert_eq!(column, 15);
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn jsonl_unknown_op_names_the_line_and_the_name() {
    let mut l = lines(&golden_jsonl());
    l[5] = l[5].replace("\"op\":\"rescale\"", "\"op\":\"teleport\"");
    match read(&join(&l)).unwrap_err() {
        TraceError::Json {
            at: Location::Line(6),
            message,
            ..
        } => {
            assert!(message.contains("teleport"), "{message}")
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn jsonl_inconsistent_fields_are_malformed() {
    let mut l = lines(&golden_jsonl());
    l[2] = l[2].replace("\"n\":4096", "\"n\":4000");
    assert_eq!(
        read(&join(&l)).unwrap_err(),
        TraceError::Malformed {
            at: Location::Line(3),
            field: "n",
            found: 4000,
            expected: "2^log_n"
        }
    );
    let mut l = lines(&golden_jsonl());
    l[2] = l[2].replace("\"limbs\":3", "\"limbs\":2");
    assert!(matches!(
        read(&join(&l)).unwrap_err(),
        TraceError::Malformed {
            at: Location::Line(3),
            field: "limbs",
            found: 2,
            ..
        }
    ));
}

#[test]
fn jsonl_truncated_mid_line_names_the_line() {
    let bytes = golden_jsonl();
    let l = lines(&bytes);
    // Cut line 5 in the middle.
    let cut: usize = l[..4].iter().map(|s| s.len() + 1).sum::<usize>() + l[4].len() / 2;
    assert_eq!(
        read(&bytes[..cut]).unwrap_err(),
        TraceError::Truncated {
            at: Location::Line(5),
            expected: "a complete event line"
        }
    );
}

#[test]
fn jsonl_missing_end_line_is_truncated() {
    let l = lines(&golden_jsonl());
    let without_end = join(&l[..l.len() - 1]);
    assert_eq!(
        read(&without_end).unwrap_err(),
        TraceError::Truncated {
            at: Location::Line(14),
            expected: "an end-of-trace line"
        }
    );
    // Events before the cut are still delivered, in order.
    let reader = TraceReader::from_reader(without_end.as_slice()).unwrap();
    let results: Vec<_> = reader.collect();
    assert_eq!(results.len(), 13);
    assert!(results[..12].iter().all(Result::is_ok));
    assert!(results[12].is_err());
}

#[test]
fn jsonl_every_truncation_is_an_error() {
    let bytes = golden_jsonl();
    for cut in 0..bytes.len() - 1 {
        assert!(
            read(&bytes[..cut]).is_err(),
            "cut at byte {cut} read without error"
        );
    }
    // Only the final newline is optional.
    assert_eq!(read(&bytes[..bytes.len() - 1]).unwrap().len(), 12);
}

#[test]
fn binary_every_truncation_is_an_error() {
    let bytes = golden_binary();
    for cut in 0..bytes.len() {
        assert!(
            read(&bytes[..cut]).is_err(),
            "cut at byte {cut} read without error"
        );
    }
}

#[test]
fn binary_truncation_names_the_record_offset() {
    let bytes = golden_binary();
    let offsets = record_offsets(&bytes);
    assert_eq!(offsets.len(), 13);
    let third = offsets[2];
    assert_eq!(
        read(&bytes[..third + 20]).unwrap_err(),
        TraceError::Truncated {
            at: Location::Offset(third as u64),
            expected: "a complete record"
        }
    );
    assert_eq!(
        read(&bytes[..third + 3]).unwrap_err(),
        TraceError::Truncated {
            at: Location::Offset(third as u64),
            expected: "a 5-byte record header"
        }
    );
    let end = offsets[12];
    assert_eq!(
        read(&bytes[..end]).unwrap_err(),
        TraceError::Truncated {
            at: Location::Offset(end as u64),
            expected: "an end-of-trace record"
        }
    );
}

#[test]
fn end_record_count_must_match() {
    let mut l = lines(&golden_jsonl());
    let last = l.len() - 1;
    l[last] = "{\"end\":{\"events\":11}}".to_owned();
    assert_eq!(
        read(&join(&l)).unwrap_err(),
        TraceError::CountMismatch {
            at: Location::Line(14),
            declared: 11,
            read: 12
        }
    );
    let mut b = golden_binary();
    let end = *record_offsets(&b).last().unwrap();
    b[end + 5] = 13;
    assert_eq!(
        read(&b).unwrap_err(),
        TraceError::CountMismatch {
            at: Location::Offset(end as u64),
            declared: 13,
            read: 12
        }
    );
}

#[test]
fn data_after_the_end_record_is_rejected() {
    let mut j = golden_jsonl();
    j.extend_from_slice(b"\n  \n{\"seq\":99}\n");
    assert_eq!(
        read(&j).unwrap_err(),
        TraceError::TrailingData {
            at: Location::Line(17)
        }
    );
    // Blank lines alone are fine.
    let mut j = golden_jsonl();
    j.extend_from_slice(b"\n\r\n");
    assert_eq!(read(&j).unwrap().len(), 12);
    let mut b = golden_binary();
    let len = b.len() as u64;
    b.push(0);
    assert_eq!(
        read(&b).unwrap_err(),
        TraceError::TrailingData {
            at: Location::Offset(len)
        }
    );
}

#[test]
fn binary_unknown_op_code_is_malformed() {
    let mut b = golden_binary();
    let first = record_offsets(&b)[0];
    // op code sits after kind (1), length (4) and seq (8).
    b[first + 13..first + 15].copy_from_slice(&999u16.to_le_bytes());
    assert_eq!(
        read(&b).unwrap_err(),
        TraceError::Malformed {
            at: Location::Offset(first as u64),
            field: "op",
            found: 999,
            expected: "a known operation code",
        }
    );
}

#[test]
fn binary_bad_record_kind_and_length_are_malformed() {
    let mut b = golden_binary();
    let second = record_offsets(&b)[1];
    b[second] = 7;
    assert!(matches!(
        read(&b).unwrap_err(),
        TraceError::Malformed { at: Location::Offset(o), field: "record kind", found: 7, .. }
            if o == second as u64
    ));
    // A huge length is refused before anything is allocated for it.
    let mut b = golden_binary();
    b[second + 1..second + 5].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        read(&b).unwrap_err(),
        TraceError::Malformed {
            field: "record length",
            found: 0xffff_ffff,
            ..
        }
    ));
    // A length that overstates a record shifts every later record: caught, not a panic.
    let mut b = golden_binary();
    let len = u32::from_le_bytes(b[second + 1..second + 5].try_into().unwrap());
    b[second + 1..second + 5].copy_from_slice(&(len + 3).to_le_bytes());
    assert!(read(&b).is_err());
}

#[test]
fn binary_object_count_beyond_the_record_is_malformed() {
    let b = golden_binary();
    let first = record_offsets(&b)[0];
    // Event 0 (encode in scope "client/encode", 13 bytes, no rotations or Galois elements):
    // its input list follows the fixed part, the scope and the two empty lists.
    let payload = first + 5;
    let inputs_at = payload + 44 + 4 + 13 + 4 + 4;
    assert_eq!(&b[inputs_at..inputs_at + 6], &[0, 0, 0, 0, 30, 0]);
    let mut bad = b.clone();
    bad[inputs_at..inputs_at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
    assert!(matches!(
        read(&bad).unwrap_err(),
        TraceError::Malformed {
            field: "inputs",
            ..
        }
    ));
    let mut bad = b.clone();
    bad[inputs_at + 4] = 12; // object size below 30
    assert!(matches!(
        read(&bad).unwrap_err(),
        TraceError::Malformed {
            field: "inputs",
            found: 12,
            ..
        }
    ));
}

#[test]
fn binary_extensions_of_later_minor_versions_are_skipped() {
    let b = golden_binary();
    let events = read(&b).unwrap();
    let offsets = record_offsets(&b);
    let mut out = b[..offsets[0]].to_vec();
    let mut next_event = events.iter();
    for (i, &start) in offsets.iter().enumerate() {
        let end = offsets.get(i + 1).copied().unwrap_or(b.len());
        let record = &b[start..end];
        if record[0] == 1 {
            // Append four bytes of a future field to every event payload, after the fields
            // of formats 1.1 (mod_ups, mod_downs, terms of 16 bytes) and 1.2 (slots), which
            // are written as zeros and empty where the event has none.
            let ev = next_event.next().unwrap();
            let has_1_1 = ev.mod_ups != 0 || ev.mod_downs != 0 || !ev.terms.is_empty();
            let mut tail = Vec::new();
            if !has_1_1 && ev.slots == 0 {
                tail.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0]);
            }
            if ev.slots == 0 {
                tail.extend_from_slice(&[0; 4]);
            }
            tail.extend_from_slice(&[0xaa; 4]);
            let len = u32::from_le_bytes(record[1..5].try_into().unwrap()) + tail.len() as u32;
            out.push(1);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&record[5..]);
            out.extend_from_slice(&tail);
            // And an extension record after it.
            out.extend_from_slice(&[0x80, 3, 0, 0, 0, 1, 2, 3]);
        } else {
            out.extend_from_slice(record);
        }
    }
    assert!(
        events.iter().any(|e| e.slots != 0),
        "the golden trace has a slot count"
    );
    assert_eq!(read(&out).unwrap(), events);
}

#[test]
fn reader_stops_after_the_first_error() {
    let mut l = lines(&golden_jsonl());
    l[2] = "not json".to_owned();
    let bytes = join(&l);
    let mut reader = TraceReader::from_reader(bytes.as_slice()).unwrap();
    assert!(reader.next().unwrap().is_ok());
    assert!(reader.next().unwrap().is_err());
    assert!(reader.next().is_none());
    let mut ev = TraceEvent::new(OpKind::Add, 1, 0);
    assert_eq!(reader.read_event(&mut ev), Ok(false));
}

fn read_everything(bytes: &[u8]) {
    if let Ok(reader) = TraceReader::from_reader(bytes) {
        // Every event is checked, so a reader that returns events returns valid ones.
        for ev in reader.flatten() {
            ev.check().unwrap();
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(i, x) => {
                if let Some(b) = bytes.get_mut(i % len) {
                    *b ^= x;
                }
            }
            Mutation::Insert(i, v) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_everything(&bytes);
        // Also behind each encoding's leading bytes, to get past format detection.
        let mut j = b"{".to_vec();
        j.extend_from_slice(&bytes);
        read_everything(&j);
        let mut b = golden_binary()[..16].to_vec();
        b.extend_from_slice(&bytes);
        read_everything(&b);
    }

    #[test]
    fn mutated_jsonl_never_panics(m in proptest::collection::vec(mutation(), 1..4)) {
        read_everything(&apply(golden_jsonl(), &m));
    }

    #[test]
    fn mutated_binary_never_panics(m in proptest::collection::vec(mutation(), 1..4)) {
        read_everything(&apply(golden_binary(), &m));
    }

    /// Mutations after the header of a binary trace: the reader either fails with a typed
    /// error or returns only valid events.
    #[test]
    fn mutated_binary_body_never_panics(
        m in proptest::collection::vec(mutation(), 1..6),
    ) {
        let b = golden_binary();
        let body_start = record_offsets(&b)[0];
        let mut out = b[..body_start].to_vec();
        out.extend_from_slice(&apply(b[body_start..].to_vec(), &m));
        read_everything(&out);
    }
}

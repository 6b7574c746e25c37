//! The trace file format: golden files, the documented examples, round trips and pins.
//!
//! Regenerate the golden files after an intended format change with
//! `HELRM_BLESS_GOLDEN=1 cargo test --release -p helrm-core --test trace_format`
//! (and bump the format version if old readers cannot read the result).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use helrm_core::trace::{
    BinaryWriter, DataClass, Encoding, IdAllocator, JsonlWriter, MaybeTracer, ObjectId, ObjectRef,
    OpKind, ParamsSummary, TraceError, TraceEvent, TraceHeader, TraceMode, TraceReader, TraceSink,
    Tracer, FORMAT_VERSION,
};

const LOG_N: u32 = 12;
const N: u64 = 1 << LOG_N;
const WORD: u64 = 8;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/trace")
}

fn header() -> TraceHeader {
    TraceHeader::new(
        "fnv1a64:0123456789abcdef",
        ParamsSummary {
            log_n: LOG_N,
            q_bits: vec![50, 40, 40],
            p_bits: vec![60],
            dnum: 3,
            word_bytes: WORD as u32,
        },
        TraceMode::Real,
        "helrm-core golden test",
    )
}

fn ct(id: u64, level: u32) -> ObjectRef {
    ObjectRef::at_level(
        ObjectId(id),
        DataClass::Ciphertext,
        2 * (u64::from(level) + 1) * N * WORD,
        level,
    )
}

fn pt(id: u64, class: DataClass, level: u32) -> ObjectRef {
    ObjectRef::at_level(
        ObjectId(id),
        class,
        (u64::from(level) + 1) * N * WORD,
        level,
    )
}

/// An evaluation key: dnum digits × 2 components × (Q + P limbs) × N words.
fn key(id: u64, class: DataClass) -> ObjectRef {
    ObjectRef::key(ObjectId(id), class, 3 * 2 * 4 * N * WORD)
}

/// The golden trace: a tiny encrypted layer (encode, encrypt, plaintext multiply, rescale,
/// hoisted rotations, a square, conjugation, decrypt), emitted through a `Tracer`.
fn golden_events() -> Vec<TraceEvent> {
    let sink = Arc::new(helrm_core::trace::VecSink::new());
    let tracer = Some(Tracer::new(sink.clone()));
    let ids = IdAllocator::new();
    let pk = ids.allocate().0;
    let rlk = ids.allocate().0;
    let gk5 = ids.allocate().0;
    let gk25 = ids.allocate().0;
    let gk_conj = ids.allocate().0;
    let ev = |op, level| TraceEvent::new(op, LOG_N, level).with_key_switching(1, 3);
    let mut wall = 1_000u64;
    let mut timed = |e: TraceEvent| {
        wall += 250;
        e.with_wall_ns(wall)
    };
    {
        let _client = tracer.scope("client/encode");
        let p = ids.allocate().0;
        tracer.emit_with(|| {
            timed(
                ev(OpKind::Encode, 2)
                    .with_scale_log2(40.0)
                    .with_slots(8)
                    .with_outputs(vec![pt(p, DataClass::PlaintextConstant, 2)]),
            )
        });
        let c = ids.allocate().0;
        tracer.emit_with(|| {
            timed(
                ev(OpKind::EncryptPk, 2)
                    .with_scale_log2(40.0)
                    .with_inputs(vec![
                        pt(p, DataClass::PlaintextConstant, 2),
                        ObjectRef::key(ObjectId(pk), DataClass::KeyPublic, 2 * 3 * N * WORD),
                    ])
                    .with_outputs(vec![ct(c, 2)]),
            )
        });
    }
    let x = 6;
    let _mlp = tracer.scope("mlp");
    let s = {
        let _layer = tracer.scope("layer0");
        let w = ids.allocate().0;
        tracer.emit_with(|| {
            timed(
                ev(OpKind::Encode, 2)
                    .with_scale_log2(40.0)
                    .with_outputs(vec![pt(w, DataClass::PlaintextWeight, 2)]),
            )
        });
        let y = ids.allocate().0;
        tracer.emit_with(|| {
            timed(
                ev(OpKind::MulPlain, 2)
                    .with_scale_log2(80.0)
                    .with_inputs(vec![ct(x, 2), pt(w, DataClass::PlaintextWeight, 2)])
                    .with_outputs(vec![ct(y, 2)]),
            )
        });
        let z = ids.allocate().0;
        tracer.emit_with(|| {
            timed(
                ev(OpKind::Rescale, 2)
                    .with_scale_log2(39.999_999_971)
                    .with_inputs(vec![ct(y, 2)])
                    .with_outputs(vec![ct(z, 1)]),
            )
        });
        let _bsgs = tracer.scope("bsgs");
        let (r1, r2) = (ids.allocate().0, ids.allocate().0);
        tracer.emit_with(|| {
            timed(
                ev(OpKind::RotateHoisted, 1)
                    .with_scale_log2(39.999_999_971)
                    .with_rotations(vec![1, 2], vec![5, 25])
                    .with_inputs(vec![
                        ct(z, 1),
                        key(gk5, DataClass::KeyGalois(5)),
                        key(gk25, DataClass::KeyGalois(25)),
                    ])
                    .with_outputs(vec![ct(r1, 1), ct(r2, 1)]),
            )
        });
        let s = ids.allocate().0;
        tracer.emit_with(|| {
            timed(
                ev(OpKind::Add, 1)
                    .with_scale_log2(39.999_999_971)
                    .with_inputs(vec![ct(r1, 1), ct(r2, 1)])
                    .with_outputs(vec![ct(s, 1)]),
            )
        });
        s
    };
    let _act = tracer.scope("act");
    let sq = ids.allocate().0;
    tracer.emit_with(|| {
        timed(
            ev(OpKind::MulRelin, 1)
                .with_scale_log2(79.999_999_942)
                .with_inputs(vec![ct(s, 1), ct(s, 1), key(rlk, DataClass::KeyRelin)])
                .with_outputs(vec![ct(sq, 1)]),
        )
    });
    let r = ids.allocate().0;
    tracer.emit_with(|| {
        timed(
            ev(OpKind::Rescale, 1)
                .with_scale_log2(39.999_999_942)
                .with_inputs(vec![ct(sq, 1)])
                .with_outputs(vec![ct(r, 0)]),
        )
    });
    let cj = ids.allocate().0;
    tracer.emit_with(|| {
        timed(
            ev(OpKind::Conjugate, 0)
                .with_scale_log2(39.999_999_942)
                .with_rotations(Vec::new(), vec![2 * N - 1])
                .with_inputs(vec![
                    ct(r, 0),
                    key(gk_conj, DataClass::KeyGalois(2 * N - 1)),
                ])
                .with_outputs(vec![ct(cj, 0)]),
        )
    });
    let out = ids.allocate().0;
    tracer.emit_with(|| {
        timed(
            ev(OpKind::AddConst, 0)
                .with_scale_log2(39.999_999_942)
                .with_inputs(vec![ct(cj, 0)])
                .with_outputs(vec![ct(out, 0)]),
        )
    });
    drop((_act, _mlp));
    let _client = tracer.scope("client/decode");
    let dec = ids.allocate().0;
    tracer.emit_with(|| {
        timed(
            ev(OpKind::Decrypt, 0)
                .with_scale_log2(39.999_999_942)
                .with_inputs(vec![ct(out, 0)])
                .with_outputs(vec![pt(dec, DataClass::Other, 0)]),
        )
    });
    drop(_client);
    sink.take()
}

fn encode(encoding: Encoding, header: &TraceHeader, events: &[TraceEvent]) -> Vec<u8> {
    match encoding {
        Encoding::Jsonl => {
            let w = JsonlWriter::new(Vec::new(), header).unwrap();
            for e in events {
                w.record(e.clone());
            }
            w.into_inner().unwrap()
        }
        Encoding::Binary => {
            let w = BinaryWriter::new(Vec::new(), header).unwrap();
            for e in events {
                w.record(e.clone());
            }
            w.into_inner().unwrap()
        }
    }
}

fn read_all(bytes: &[u8]) -> (TraceHeader, Vec<TraceEvent>) {
    let reader = TraceReader::from_reader(bytes).unwrap();
    let header = reader.header().clone();
    let events = reader.collect::<Result<Vec<_>, _>>().unwrap();
    (header, events)
}

/// Compares `bytes` with a committed golden file, or rewrites it when blessing.
fn check_golden(name: &str, bytes: &[u8]) {
    let path = data_dir().join(name);
    if std::env::var_os("HELRM_BLESS_GOLDEN").is_some() {
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
    }
    let committed = std::fs::read(&path).unwrap();
    assert!(
        committed == bytes,
        "{name} differs from what the writer produces now: the trace format drifted \
         (bless with HELRM_BLESS_GOLDEN=1 only if the change is intended and versioned)"
    );
}

/// FNV-1a, 64 bits: a dependency-free pin of byte layouts.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn golden_events_have_the_expected_shape() {
    let events = golden_events();
    assert_eq!(events.len(), 12);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64);
        e.check().unwrap();
    }
    let scopes: Vec<&str> = events.iter().map(|e| e.scope.as_str()).collect();
    assert_eq!(
        scopes,
        [
            "client/encode",
            "client/encode",
            "mlp/layer0",
            "mlp/layer0",
            "mlp/layer0",
            "mlp/layer0/bsgs",
            "mlp/layer0/bsgs",
            "mlp/act",
            "mlp/act",
            "mlp/act",
            "mlp/act",
            "client/decode",
        ]
    );
    // Ciphertext at level 2 of N = 4096 with 8-byte words: 2 × 3 × 4096 × 8.
    assert_eq!(events[1].outputs[0].bytes, 196_608);
}

#[test]
fn golden_jsonl_matches_committed_file() {
    check_golden(
        "golden.htrace.jsonl",
        &encode(Encoding::Jsonl, &header(), &golden_events()),
    );
}

#[test]
fn golden_binary_matches_committed_file() {
    check_golden(
        "golden.htrace",
        &encode(Encoding::Binary, &header(), &golden_events()),
    );
}

#[test]
fn binary_round_trip_equals_jsonl_round_trip() {
    let events = golden_events();
    let (hj, ej) = read_all(&encode(Encoding::Jsonl, &header(), &events));
    let (hb, eb) = read_all(&encode(Encoding::Binary, &header(), &events));
    assert_eq!(hj, header());
    assert_eq!(hb, header());
    assert_eq!(ej, events);
    assert_eq!(eb, events);
    // And the committed files decode to the same events.
    for name in ["golden.htrace.jsonl", "golden.htrace"] {
        let reader = TraceReader::open(data_dir().join(name)).unwrap();
        assert_eq!(reader.header(), &header());
        assert_eq!(
            reader.collect::<Result<Vec<_>, _>>().unwrap(),
            events,
            "{name}"
        );
    }
}

/// The golden events as a file of minor version 1.1 or older holds them: no slot counts.
fn golden_events_before_1_2() -> Vec<TraceEvent> {
    golden_events()
        .into_iter()
        .map(|e| e.with_slots(0))
        .collect()
}

/// Traces written in formats 1.0 (before the fused hoisted kinds) and 1.1 (before slot
/// counts) still load, unchanged.
#[test]
fn format_1_0_and_1_1_fixtures_still_load() {
    for (minor, name) in [
        (0, "golden-1.0.htrace.jsonl"),
        (0, "golden-1.0.htrace"),
        (1, "golden-1.1.htrace.jsonl"),
        (1, "golden-1.1.htrace"),
    ] {
        let reader = TraceReader::open(data_dir().join(name)).unwrap();
        let mut want = header();
        want.version.minor = minor;
        assert_eq!(reader.header(), &want, "{name}");
        assert_eq!(
            reader.collect::<Result<Vec<_>, _>>().unwrap(),
            golden_events_before_1_2(),
            "{name}"
        );
    }
}

/// Format 1.2's slot count: written on the encode event only, in both encodings, read back;
/// a count that is not a power of two at most N/2 is refused.
#[test]
fn slot_counts_round_trip_and_are_checked() {
    let events = golden_events();
    let encodes: Vec<_> = events.iter().filter(|e| e.slots != 0).collect();
    assert_eq!(encodes.len(), 1);
    assert_eq!(encodes[0].op, OpKind::Encode);
    for encoding in [Encoding::Jsonl, Encoding::Binary] {
        let (_, back) = read_all(&encode(encoding, &header(), &events));
        assert_eq!(back, events, "{encoding:?}");
    }
    let jsonl = String::from_utf8(encode(Encoding::Jsonl, &header(), &events)).unwrap();
    assert_eq!(jsonl.matches("\"slots\":8").count(), 1);
    // A writer refuses such an event; a reader refuses it in a file.
    let line = jsonl
        .lines()
        .find(|l| l.contains("\"slots\":8"))
        .unwrap()
        .to_owned();
    for bad in ["3", "4096"] {
        let mut evs = events.clone();
        evs[0].slots = bad.parse().unwrap();
        for encoding in [Encoding::Jsonl, Encoding::Binary] {
            let sink: Result<Vec<u8>, _> = match encoding {
                Encoding::Jsonl => {
                    let w = JsonlWriter::new(Vec::new(), &header()).unwrap();
                    evs.iter().for_each(|e| w.record(e.clone()));
                    w.into_inner()
                }
                Encoding::Binary => {
                    let w = BinaryWriter::new(Vec::new(), &header()).unwrap();
                    evs.iter().for_each(|e| w.record(e.clone()));
                    w.into_inner()
                }
            };
            assert!(sink.is_err(), "{encoding:?} wrote slots {bad}");
        }
        let text = jsonl.replace(
            &line,
            &line.replace("\"slots\":8", &format!("\"slots\":{bad}")),
        );
        let err = TraceReader::from_reader(text.as_bytes())
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err();
        assert!(err.to_string().contains("slots"), "{bad}: {err}");
    }
}

#[test]
fn reader_detects_the_encoding() {
    let j = TraceReader::open(data_dir().join("golden.htrace.jsonl")).unwrap();
    let b = TraceReader::open(data_dir().join("golden.htrace")).unwrap();
    assert_eq!(j.encoding(), Encoding::Jsonl);
    assert_eq!(b.encoding(), Encoding::Binary);
}

#[test]
fn opening_a_missing_file_names_it() {
    let path = data_dir().join("no-such-trace.htrace");
    match TraceReader::open(&path) {
        Err(TraceError::Open { path: p, kind, .. }) => {
            assert!(p.ends_with("no-such-trace.htrace"));
            assert_eq!(kind, std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Open error, got {other:?}"),
    }
}

#[test]
fn header_layout_is_pinned() {
    let jsonl = encode(Encoding::Jsonl, &header(), &[]);
    let header_line = jsonl.split(|&b| b == b'\n').next().unwrap();
    assert_eq!(
        std::str::from_utf8(header_line).unwrap(),
        r#"{"format":"helrm-trace","version":{"major":1,"minor":2},"params_fingerprint":"fnv1a64:0123456789abcdef","params":{"log_n":12,"q_bits":[50,40,40],"p_bits":[60],"dnum":3,"word_bytes":8},"mode":"real","created_by":"helrm-core golden test"}"#
    );
    assert_eq!(fnv1a64(header_line), 0xbf18_3e3f_4a1d_f26f);
    let binary = encode(Encoding::Binary, &header(), &[]);
    assert_eq!(&binary[..8], b"\x89HTRACE\n");
    assert_eq!(&binary[8..12], &[1, 0, 2, 0]);
    assert_eq!(fnv1a64(&binary), 0x2e3c_81bb_5bd0_ad62);
    assert_eq!(FORMAT_VERSION.major, 1);
}

#[test]
fn event_layout_is_pinned() {
    let events = golden_events();
    assert_eq!(
        fnv1a64(&encode(Encoding::Jsonl, &header(), &events)),
        0x1b5a_00e3_f5b1_04d3
    );
    assert_eq!(
        fnv1a64(&encode(Encoding::Binary, &header(), &events)),
        0xd125_8d65_7996_8f85
    );
}

/// Op names and binary codes are part of the format: changing one breaks every old trace.
#[test]
fn op_names_and_codes_are_stable() {
    let table: &[(OpKind, &str, u16)] = &[
        (OpKind::Encode, "encode", 1),
        (OpKind::EncryptPk, "encrypt_pk", 2),
        (OpKind::EncryptSk, "encrypt_sk", 3),
        (OpKind::Decrypt, "decrypt", 4),
        (OpKind::Add, "add", 10),
        (OpKind::Sub, "sub", 11),
        (OpKind::AddPlain, "add_plain", 12),
        (OpKind::SubPlain, "sub_plain", 13),
        (OpKind::AddConst, "add_const", 14),
        (OpKind::MulPlain, "mul_plain", 20),
        (OpKind::MulConst, "mul_const", 21),
        (OpKind::MulRelin, "mul_relin", 22),
        (OpKind::MulNoRelin, "mul_no_relin", 23),
        (OpKind::Relinearize, "relinearize", 24),
        (OpKind::MulPlainAcc, "mul_plain_acc", 25),
        (OpKind::Rescale, "rescale", 30),
        (OpKind::LevelDrop, "level_drop", 31),
        (OpKind::Rotate, "rotate", 40),
        (OpKind::RotateHoisted, "rotate_hoisted", 41),
        (OpKind::Conjugate, "conjugate", 42),
        (OpKind::KeySwitch, "key_switch", 43),
        (OpKind::HoistedRotateMulAcc, "hoisted_rotate_mul_acc", 44),
        (OpKind::LazyRotateSum, "lazy_rotate_sum", 45),
        (OpKind::ModRaise, "mod_raise", 50),
        (OpKind::CoeffsToSlots, "coeffs_to_slots", 51),
        (OpKind::EvalMod, "eval_mod", 52),
        (OpKind::SlotsToCoeffs, "slots_to_coeffs", 53),
    ];
    assert_eq!(table.len(), OpKind::ALL.len());
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    for (i, &(op, name, code)) in table.iter().enumerate() {
        assert_eq!(OpKind::ALL[i], op);
        assert_eq!(op.index(), i);
        assert_eq!(op.name(), name);
        assert_eq!(op.code(), code);
        assert_eq!(OpKind::from_name(name), Some(op));
        assert_eq!(OpKind::from_code(code), Some(op));
        assert_eq!(name.parse::<OpKind>().unwrap(), op);
        assert_eq!(serde_json::to_string(&op).unwrap(), format!("\"{name}\""));
        assert!(
            doc.contains(&format!("| `{name}` | {code} |")),
            "docs/trace-format.md lacks the table row for {name}"
        );
    }
    assert_eq!(OpKind::from_code(0), None);
    assert_eq!(OpKind::from_name("mulrelin"), None);
    assert!("MulRelin".parse::<OpKind>().is_err());
}

#[test]
fn data_class_strings_round_trip() {
    let classes = [
        (DataClass::Ciphertext, "ciphertext", 0),
        (DataClass::PlaintextWeight, "plaintext_weight", 1),
        (DataClass::PlaintextEmbedding, "plaintext_embedding", 2),
        (DataClass::PlaintextConstant, "plaintext_constant", 3),
        (DataClass::KeyRelin, "key_relin", 4),
        (DataClass::KeyGalois(5), "key_galois:5", 5),
        (DataClass::KeyGalois(131_071), "key_galois:131071", 5),
        (DataClass::KeyPublic, "key_public", 6),
        (DataClass::Other, "other", 7),
    ];
    for (class, text, code) in classes {
        assert_eq!(class.to_string(), text);
        assert_eq!(text.parse::<DataClass>().unwrap(), class);
        assert_eq!(
            serde_json::to_string(&class).unwrap(),
            format!("\"{text}\"")
        );
        assert_eq!(
            serde_json::from_str::<DataClass>(&format!("\"{text}\"")).unwrap(),
            class
        );
        assert_eq!(class.code(), code);
        assert_eq!(
            DataClass::from_code(code, class.galois_element().unwrap_or(0)),
            Some(class)
        );
    }
    for bad in [
        "",
        "key_galois",
        "key_galois:",
        "key_galois:x",
        "key_galois:+5",
        "key_galois:-1",
        "key_galois:99999999999999999999",
        "Ciphertext",
        "cipher",
    ] {
        let err = bad.parse::<DataClass>().unwrap_err();
        assert_eq!(err.name, bad);
        assert!(serde_json::from_str::<DataClass>(&format!("\"{bad}\"")).is_err());
    }
    assert_eq!(DataClass::from_code(8, 0), None);
}

#[test]
fn unknown_fields_are_ignored_within_a_major_version() {
    let original = encode(Encoding::Jsonl, &header(), &golden_events());
    let text = String::from_utf8(original).unwrap();
    let mut extended = String::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("{\"end\"") {
            extended.push_str(line);
        } else {
            // A later minor version adds fields at every level.
            let line = line
                .replacen("{", "{\"future\":{\"nested\":[1,2]},", 1)
                .replace("\"class\":", "\"placement\":\"hbm\",\"class\":");
            let line = if i == 0 {
                line.replace("\"minor\":2", "\"minor\":7")
            } else {
                line
            };
            extended.push_str(&line);
        }
        extended.push('\n');
    }
    let (h, events) = read_all(extended.as_bytes());
    assert_eq!(h.version.minor, 7);
    assert_eq!(events, golden_events());
}

#[test]
fn encoding_from_path() {
    use std::path::Path;
    assert_eq!(
        Encoding::from_path(Path::new("a.htrace.jsonl")),
        Some(Encoding::Jsonl)
    );
    assert_eq!(
        Encoding::from_path(Path::new("a.htrace")),
        Some(Encoding::Binary)
    );
    assert_eq!(
        Encoding::from_path(Path::new("a.bin")),
        Some(Encoding::Binary)
    );
    assert_eq!(Encoding::from_path(Path::new("a.txt")), None);
}

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/trace-format.md")
}

/// The body of every fenced block of the document whose info string is `lang`.
fn fenced_blocks(doc: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match &mut current {
            None if line.trim_end() == format!("```{lang}") => current = Some(String::new()),
            Some(block) if line.trim_end() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

fn doc_jsonl_example() -> String {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let blocks = fenced_blocks(&doc, "jsonl");
    assert_eq!(
        blocks.len(),
        1,
        "docs/trace-format.md should hold one ```jsonl example"
    );
    blocks.into_iter().next().unwrap()
}

#[test]
fn doc_jsonl_example_parses_and_is_canonical() {
    let example = doc_jsonl_example();
    let (h, events) = read_all(example.as_bytes());
    assert_eq!(h.format, "helrm-trace");
    assert_eq!(h.version, FORMAT_VERSION);
    assert_eq!(h.mode, TraceMode::Real);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].op, OpKind::MulPlain);
    assert_eq!(events[1].op, OpKind::Rescale);
    assert_eq!(events[2].op, OpKind::RotateHoisted);
    assert_eq!(events[2].rotations, [1, 2]);
    assert_eq!(events[2].galois_elements, [5, 25]);
    assert_eq!(events[2].inputs[1].class, DataClass::KeyGalois(5));
    assert_eq!(events[2].inputs[1].level, None);
    // The example is exactly what the writer produces, so it shows the canonical form.
    assert_eq!(
        String::from_utf8(encode(Encoding::Jsonl, &h, &events)).unwrap(),
        example
    );
}

#[test]
fn doc_binary_example_matches_the_jsonl_example() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let blocks = fenced_blocks(&doc, "hexdump");
    assert_eq!(
        blocks.len(),
        1,
        "docs/trace-format.md should hold one ```hexdump example"
    );
    let mut bytes = Vec::new();
    for line in blocks[0].lines() {
        // `OFFSET:  HEX BYTES ...  # comment`
        let (offset, rest) = line.split_once(':').unwrap();
        assert_eq!(
            usize::from_str_radix(offset.trim(), 16).unwrap(),
            bytes.len(),
            "{line}"
        );
        let hex = rest.split('#').next().unwrap();
        for byte in hex.split_whitespace() {
            bytes.push(u8::from_str_radix(byte, 16).unwrap());
        }
    }
    let (h, events) = read_all(doc_jsonl_example().as_bytes());
    assert_eq!(bytes, encode(Encoding::Binary, &h, &events));
}

//! Readers under damage, as a replaying tool uses them: a trace is read to its end and every
//! event checked against its header (`TraceHeader::check_event`, itself compared with a
//! 128-bit oracle); serialized keys and objects from the bad-input corpus, mutated, go through
//! every CKKS loader. Nothing may panic; errors are one line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and their helpers panic on failure"
)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use helrm_core::ckks::serialize as ser;
use helrm_core::ckks::{CkksContext, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{
    DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent, TraceHeader, TraceMode,
    TraceReader,
};
use proptest::prelude::*;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn golden(ext: &str) -> &'static [u8] {
    static JSONL: OnceLock<Vec<u8>> = OnceLock::new();
    static BINARY: OnceLock<Vec<u8>> = OnceLock::new();
    let (cell, name) = if ext == "jsonl" {
        (&JSONL, "golden.htrace.jsonl")
    } else {
        (&BINARY, "golden.htrace")
    };
    cell.get_or_init(|| std::fs::read(repo("core/tests/data/trace").join(name)).unwrap())
}

/// Reads `bytes` as a replaying tool does; returns the events accepted.
fn replay(bytes: &[u8]) -> usize {
    let Ok(mut reader) = TraceReader::from_reader(bytes) else {
        return 0;
    };
    let header = reader.header().clone();
    let mut event = TraceEvent::new(OpKind::Encode, 0, 0);
    let mut n = 0;
    loop {
        match reader.read_event(&mut event) {
            Ok(true) => {}
            Ok(false) => return n,
            Err(e) => {
                assert!(!e.to_string().contains('\n'), "{e}");
                return n;
            }
        }
        match header.check_event(&event) {
            Ok(()) => n += 1,
            Err(e) => {
                assert!(!e.to_string().contains('\n'), "{e}");
                return n;
            }
        }
    }
}

fn header(log_n: u32, q: usize, p: usize, dnum: u32, word_bytes: u32) -> TraceHeader {
    TraceHeader::new(
        "fuzz",
        ParamsSummary {
            log_n,
            q_bits: vec![40; q],
            p_bits: vec![50; p],
            dnum,
            word_bytes,
        },
        TraceMode::Symbolic,
        "fuzz",
    )
}

/// What `check_event` must decide, computed in 128 bits.
fn oracle(h: &TraceHeader, e: &TraceEvent) -> bool {
    let p = &h.params;
    let q = p.q_bits.len() as u128;
    let max = 4
        * u128::from(p.dnum.saturating_mul(2).max(3))
        * (q + p.p_bits.len() as u128)
        * (1u128 << p.log_n)
        * u128::from(p.word_bytes);
    e.log_n == p.log_n
        && u128::from(e.level) < q
        && e.special_primes as usize <= p.p_bits.len()
        && e.inputs
            .iter()
            .chain(&e.outputs)
            .all(|o| o.level.is_none_or(|l| u128::from(l) < q) && u128::from(o.bytes) <= max)
}

fn object() -> impl Strategy<Value = ObjectRef> {
    (
        prop_oneof![0u64..1 << 24, any::<u64>()],
        proptest::option::of(0u32..6),
    )
        .prop_map(|(bytes, level)| ObjectRef {
            id: ObjectId(1),
            class: DataClass::Ciphertext,
            bytes,
            level,
        })
}

fn all_files(kind: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo("tests/bad_inputs").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hlrm"))
        .collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The key and object corpora (`tests/bad_inputs/keys`, `…/ckks`).
fn objects() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut v = all_files("keys");
        v.extend(all_files("ckks"));
        v
    })
}

fn toy() -> &'static Arc<CkksContext> {
    static CTX: OnceLock<Arc<CkksContext>> = OnceLock::new();
    CTX.get_or_init(|| CkksContext::new(Params::preset("toy-n10").unwrap(), Backend::Real).unwrap())
}

/// Every loader on `bytes`; errors must be one line.
fn load_all(bytes: &[u8]) {
    let ctx = toy();
    let one_line = |r: Result<(), helrm_core::Error>| {
        if let Err(e) = r {
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    };
    one_line(ser::read_header(&mut &bytes[..]).map(drop));
    one_line(ser::load_params(&mut &bytes[..]).map(drop));
    one_line(ser::load_public_key(ctx, &mut &bytes[..]).map(drop));
    one_line(ser::load_relin_key(ctx, &mut &bytes[..]).map(drop));
    one_line(ser::load_evaluation_keys(ctx, &mut &bytes[..]).map(drop));
    one_line(ser::load_ciphertext(ctx, &mut &bytes[..]).map(drop));
    one_line(ser::load_plaintext(ctx, &mut &bytes[..]).map(drop));
}

#[test]
fn golden_traces_replay_completely() {
    assert_eq!(replay(golden("jsonl")), 12);
    assert_eq!(replay(golden("htrace")), 12);
}

#[test]
fn the_corpus_files_never_panic_any_loader() {
    assert!(objects().len() >= 25);
    for f in objects() {
        load_all(f);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn check_event_agrees_with_its_oracle(
        (log_n, q, p, dnum, word_bytes) in (0u32..64, 0usize..5, 0usize..4, 0u32..6, 0u32..9),
        (ev_log_n, level, special) in (0u32..64, 0u32..6, 0u32..5),
        inputs in proptest::collection::vec(object(), 0..3),
        outputs in proptest::collection::vec(object(), 0..3),
    ) {
        let h = header(log_n, q, p, dnum, word_bytes);
        let mut e = TraceEvent::new(OpKind::Add, ev_log_n, level);
        e.special_primes = special;
        e.inputs = inputs;
        e.outputs = outputs;
        prop_assert_eq!(h.check_event(&e).is_ok(), oracle(&h, &e));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mutated_traces_replay_without_panic(
        binary in any::<bool>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..5),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut v = golden(if binary { "htrace" } else { "jsonl" }).to_vec();
        for (at, b) in flips {
            let i = at % v.len();
            v[i] = b;
        }
        if let Some(c) = cut {
            v.truncate(c % v.len());
        }
        prop_assert!(replay(&v) <= 12);
    }

    #[test]
    fn random_bytes_replay_without_panic(
        prefix in 0..3usize,
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut v = match prefix {
            0 => Vec::new(),
            1 => b"{".to_vec(),
            _ => golden("htrace")[..16].to_vec(),
        };
        v.extend_from_slice(&bytes);
        prop_assert_eq!(replay(&v), 0);
    }

    #[test]
    fn mutated_corpus_objects_never_panic(
        file in any::<usize>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in proptest::option::of(any::<usize>()),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let files = objects();
        let mut v = files[file % files.len()].clone();
        if !v.is_empty() {
            for (at, b) in flips {
                let i = at % v.len();
                v[i] = b;
            }
            if let Some(c) = cut {
                v.truncate(c % v.len());
            }
        }
        v.extend_from_slice(&tail);
        load_all(&v);
    }
}

//! The model loader never panics: random bytes, byte-level mutations of a trained model file
//! and structural JSON mutations (a number replaced by an extreme value, a key removed, an
//! array shortened) give an error or a valid model — and a model that loads holds only values
//! the loader promises (finite, at most `MAX_ABS_MODEL_VALUE` in magnitude) and saves back to
//! the same model.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and their helpers panic on failure"
)]

use std::sync::OnceLock;

use helrm_workloads::dlrm::io::MAX_ABS_MODEL_VALUE;
use helrm_workloads::dlrm::Dlrm;
use proptest::prelude::*;
use serde_json::Value;

fn good() -> &'static [u8] {
    static GOOD: OnceLock<Vec<u8>> = OnceLock::new();
    GOOD.get_or_init(|| {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/bad_inputs/model/good/uci.json"
        ))
        .unwrap()
    })
}

/// Loads `bytes`; a model that loads must keep the loader's promises.
fn check(bytes: &[u8]) {
    let Ok(model) = Dlrm::from_json_slice(bytes, "fuzz.json") else {
        return;
    };
    let small = |v: f64| v.is_finite() && v.abs() <= MAX_ABS_MODEL_VALUE;
    for layer in model.bottom().iter().chain(model.top()) {
        assert!(layer
            .weights()
            .iter()
            .chain(layer.bias())
            .all(|&v| small(v)));
    }
    for table in model.tables() {
        assert!(table.weights().iter().all(|&v| small(f64::from(v))));
    }
    let mut saved = Vec::new();
    model.write_json(&mut saved, "fuzz.json").unwrap();
    let back = Dlrm::from_json_slice(&saved, "fuzz.json").unwrap();
    assert_eq!(back, model);
}

/// JSON pointers of every leaf (number, string, bool, null) and of every array and object.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                pointers(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

#[derive(Debug, Clone)]
enum Edit {
    /// Replace the node by this value.
    Set(Value),
    /// Remove the node from its parent.
    Remove,
    /// Keep the first `n` elements of an array (or characters of a string).
    Shorten(usize),
}

fn extreme() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(0)),
        Just(Value::from(-1)),
        Just(Value::from(1e300)),
        Just(Value::from(-1e7)),
        Just(Value::from(1e39)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1u64 << 40)),
        Just(Value::Null),
        Just(Value::from("x")),
        Just(Value::Array(Vec::new())),
        Just(serde_json::json!({})),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => extreme().prop_map(Edit::Set),
        1 => Just(Edit::Remove),
        1 => (0usize..4).prop_map(Edit::Shorten),
    ]
}

fn apply(v: &mut Value, pointer: &str, e: &Edit) {
    match e {
        Edit::Set(x) => {
            if let Some(node) = v.pointer_mut(pointer) {
                *node = x.clone();
            }
        }
        Edit::Shorten(n) => match v.pointer_mut(pointer) {
            Some(Value::Array(items)) => items.truncate(*n),
            Some(Value::String(s)) => *s = s.chars().take(*n).collect(),
            _ => {}
        },
        Edit::Remove => {
            let Some((parent, key)) = pointer.rsplit_once('/') else {
                return;
            };
            match v.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(key);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>() {
                        if i < items.len() {
                            items.remove(i);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[test]
fn the_good_model_loads() {
    check(good());
    assert!(Dlrm::from_json_slice(good(), "good").is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        check(&bytes);
        let mut j = b"{\"format\":\"helrm-dlrm\",\"version\":1,".to_vec();
        j.extend_from_slice(&bytes);
        check(&j);
    }

    #[test]
    fn byte_mutations_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut v = good().to_vec();
        for (at, byte) in flips {
            let i = at % v.len();
            v[i] = byte;
        }
        if let Some(c) = cut {
            v.truncate(c % v.len());
        }
        check(&v);
    }

    #[test]
    fn structural_mutations_never_panic(
        edits in proptest::collection::vec((any::<usize>(), edit()), 1..4),
    ) {
        let mut v: Value = serde_json::from_slice(good()).unwrap();
        for (which, e) in &edits {
            let mut ps = Vec::new();
            pointers(&v, String::new(), &mut ps);
            let p = ps[which % ps.len()].clone();
            apply(&mut v, &p, e);
        }
        check(&serde_json::to_vec(&v).unwrap());
    }
}

//! Model files: bit-identical round trips, atomic writes, and typed errors for corrupt files.
#![allow(clippy::unwrap_used, reason = "tests panic on failure")]

use std::path::{Path, PathBuf};

use helrm_workloads::data::{cleveland_split, Standardizer};
use helrm_workloads::dlrm::{
    Activation, ChebPoly, Composite, Dlrm, DlrmConfig, CALIBRATION_MARGIN,
};
use helrm_workloads::embed::CompressionPolicy;
use helrm_workloads::Error;

/// A fresh directory for one test (removed by `Dir::drop`).
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("helrm-dlrm-io-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn calibrated_uci() -> Dlrm {
    let split = cleveland_split().unwrap();
    let mut m = Dlrm::new(DlrmConfig::uci(), 4).unwrap();
    m.set_standardizer(Some(split.standardizer.clone()))
        .unwrap();
    let cal = m.calibrate(&split.train).unwrap();
    m.set_calibration(Some(cal)).unwrap();
    m
}

fn json(m: &Dlrm) -> serde_json::Value {
    let mut buf = Vec::new();
    m.write_json(&mut buf, "mem").unwrap();
    serde_json::from_slice(&buf).unwrap()
}

fn write(dir: &Dir, name: &str, v: &serde_json::Value) -> PathBuf {
    let p = dir.file(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

fn model_file_error(path: &Path) -> (String, String) {
    match Dlrm::load(path) {
        Err(Error::ModelFile { file, field, .. }) => (file, field),
        other => panic!("expected ModelFile, got {other:?}"),
    }
}

#[test]
fn round_trip_is_bit_identical_and_atomic() {
    let dir = Dir::new("roundtrip");
    let m = calibrated_uci();
    let p = dir.file("uci.json");
    m.save(&p).unwrap();
    let back = Dlrm::load(&p).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.standardizer(), m.standardizer());
    assert!(back.calibration().is_some());
    let split = cleveland_split().unwrap();
    assert_eq!(
        back.predict_logits(&split.test).unwrap(),
        m.predict_logits(&split.test).unwrap()
    );
    // Only the model is left in the directory (the temporary file was renamed).
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("uci.json")]);
    // Overwriting replaces the file.
    let other = Dlrm::new(DlrmConfig::uci(), 5).unwrap();
    other.save(&p).unwrap();
    assert_eq!(Dlrm::load(&p).unwrap(), other);
    // The header is as documented.
    let v = json(&m);
    assert_eq!(v["format"], "helrm-dlrm");
    assert_eq!(v["version"], 1);
    assert_eq!(v["config"]["name"], "uci");
}

#[test]
fn compressed_model_with_composite_activations_round_trips() {
    let dir = Dir::new("composite");
    let step = ChebPoly::new(-1.0, 1.0, vec![0.0, 1.125, 0.0, -0.125]).unwrap();
    let cfg = DlrmConfig::criteo_like(
        "small",
        &[8],
        4,
        &[8],
        &[50, 9, 300],
        Some(CompressionPolicy::new(3, 40).unwrap()),
        &Activation::Composite(Composite::relu(vec![step; 3], 7.5).unwrap()),
    );
    let m = Dlrm::new(cfg, 2).unwrap();
    let p = dir.file("m.json");
    m.save(&p).unwrap();
    assert_eq!(Dlrm::load(&p).unwrap(), m);
    assert_eq!(CALIBRATION_MARGIN, 2.0);
}

#[test]
fn corrupt_files_are_typed_errors_naming_file_and_field() {
    let dir = Dir::new("corrupt");
    let m = calibrated_uci();
    let good = json(&m);

    // Not JSON, truncated JSON.
    let p = dir.file("garbage.json");
    std::fs::write(&p, b"\x00\x01 not json").unwrap();
    assert!(
        matches!(Dlrm::load(&p), Err(Error::ModelJson { ref file, line: 1, .. }) if file.ends_with("garbage.json"))
    );
    let text = serde_json::to_string(&good).unwrap();
    let p = dir.file("truncated.json");
    std::fs::write(&p, &text[..text.len() / 2]).unwrap();
    assert!(matches!(Dlrm::load(&p), Err(Error::ModelJson { .. })));

    // Header.
    let mut v = good.clone();
    v["format"] = "onnx".into();
    let (file, field) = model_file_error(&write(&dir, "format.json", &v));
    assert!(file.ends_with("format.json"));
    assert_eq!(field, "format");
    let mut v = good.clone();
    v.as_object_mut().unwrap().remove("format");
    assert_eq!(
        model_file_error(&write(&dir, "noformat.json", &v)).1,
        "format"
    );
    let mut v = good.clone();
    v["version"] = 2.into();
    assert!(matches!(
        Dlrm::load(&write(&dir, "v2.json", &v)),
        Err(Error::ModelFile { ref field, ref found, .. }) if field == "version" && found == "2"
    ));
    let mut v = good.clone();
    v["version"] = "one".into();
    assert_eq!(model_file_error(&write(&dir, "vstr.json", &v)).1, "version");

    // Shapes and values.
    let mut v = good.clone();
    v["weights"]["top"][0]["bias"].as_array_mut().unwrap().pop();
    assert_eq!(
        model_file_error(&write(&dir, "bias.json", &v)).1,
        "weights.top[0].bias"
    );
    let mut v = good.clone();
    // JSON cannot hold NaN or infinity; a number that overflows f32 is refused by the parser.
    v["weights"]["tables"][2][5] = serde_json::json!(1e39);
    assert!(matches!(
        Dlrm::load(&write(&dir, "big.json", &v)),
        Err(Error::ModelJson { ref source, .. }) if source.to_string().contains("out of range")
    ));
    let mut v = good.clone();
    v["weights"]["tables"].as_array_mut().unwrap().pop();
    assert_eq!(
        model_file_error(&write(&dir, "tables.json", &v)).1,
        "weights.tables"
    );
    let mut v = good.clone();
    v["config"]["top"][0]["inputs"] = 35.into();
    assert_eq!(
        model_file_error(&write(&dir, "config.json", &v)).1,
        "config.top[0].inputs"
    );
    let mut v = good.clone();
    v["standardizer"]["std"][0] = (-1.0).into();
    assert_eq!(
        model_file_error(&write(&dir, "std.json", &v)).1,
        "standardizer"
    );
    let mut v = good.clone();
    v["standardizer"] =
        serde_json::to_value(serde_json::json!({"mean": [0.0], "std": [1.0]})).unwrap();
    assert_eq!(
        model_file_error(&write(&dir, "stdw.json", &v)).1,
        "standardizer.mean"
    );
    let mut v = good.clone();
    v["calibration"]["top"].as_array_mut().unwrap().pop();
    assert_eq!(
        model_file_error(&write(&dir, "cal.json", &v)).1,
        "calibration.top"
    );

    // Schema: unknown key, missing key, mistyped value, an invalid polynomial.
    let mut v = good.clone();
    v["weights"]["extra"] = 1.into();
    assert!(
        matches!(Dlrm::load(&write(&dir, "unknown.json", &v)), Err(Error::ModelJson { ref source, .. }) if source.to_string().contains("extra"))
    );
    let mut v = good.clone();
    v.as_object_mut().unwrap().remove("weights");
    assert!(
        matches!(Dlrm::load(&write(&dir, "missing.json", &v)), Err(Error::ModelJson { ref source, .. }) if source.to_string().contains("weights"))
    );
    let mut v = good.clone();
    v["weights"]["top"][0]["bias"][0] = "x".into();
    assert!(matches!(
        Dlrm::load(&write(&dir, "type.json", &v)),
        Err(Error::ModelJson { .. })
    ));
    let mut v = good.clone();
    v["config"]["top"][0]["activation"] =
        serde_json::json!({"kind": "poly", "lo": 1.0, "hi": -1.0, "coefficients": [1.0]});
    assert!(
        matches!(Dlrm::load(&write(&dir, "poly.json", &v)), Err(Error::ModelJson { ref source, .. }) if source.to_string().contains("interval"))
    );

    // A missing file.
    assert!(
        matches!(Dlrm::load(&dir.file("absent.json")), Err(Error::Io { ref file, .. }) if file.ends_with("absent.json"))
    );
    // Saving into a directory that does not exist fails cleanly.
    assert!(matches!(
        m.save(&dir.file("no/such/dir/m.json")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn standardizer_width_must_match() {
    let mut m = Dlrm::new(DlrmConfig::uci(), 1).unwrap();
    let s = Standardizer::from_parts(vec![0.0; 4], vec![1.0; 4]).unwrap();
    assert!(matches!(
        m.set_standardizer(Some(s)),
        Err(Error::ShapeMismatch {
            what: "standardizer width",
            expected: 5,
            found: 4
        })
    ));
}

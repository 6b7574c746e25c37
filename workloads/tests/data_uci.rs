//! UCI Heart Disease (Cleveland): counts, code maps, and the documented held-out split.
#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_workloads::data::shipped::CLEVELAND;
use helrm_workloads::data::uci::{
    cleveland_split, load_cleveland, load_uci_file, parse_uci, UCI_CATEGORICAL, UCI_DENSE_NAMES,
};
use helrm_workloads::data::{SplitSpec, Standardizer};

fn missing_count(data: &helrm_workloads::data::Dataset, name: &str) -> usize {
    let (col, cat) = UCI_CATEGORICAL
        .iter()
        .enumerate()
        .find(|(_, c)| c.name == name)
        .unwrap();
    data.rows()
        .filter(|r| r.sparse[col] == cat.missing_index())
        .count()
}

#[test]
fn cleveland_has_textbook_counts() {
    let d = load_cleveland().unwrap();
    assert_eq!(d.name(), "uci-heart-cleveland");
    assert_eq!(d.len(), 303);
    assert_eq!(d.positives(), 139);
    assert_eq!(d.len() - d.positives(), 164);
    assert_eq!(d.num_dense(), 5);
    assert_eq!(d.dense_names(), UCI_DENSE_NAMES);
    assert_eq!(d.num_sparse(), 8);
    // codes + 1 missing row per feature
    assert_eq!(d.cardinalities(), vec![3, 5, 3, 4, 3, 4, 5, 4]);
    assert_eq!(missing_count(&d, "ca"), 4);
    assert_eq!(missing_count(&d, "thal"), 2);
    for other in ["sex", "cp", "fbs", "restecg", "exang", "slope"] {
        assert_eq!(missing_count(&d, other), 0, "{other}");
    }
}

#[test]
fn cleveland_code_maps_known_answers() {
    let d = load_cleveland().unwrap();
    // Line 1: 63.0,1.0,1.0,145.0,233.0,1.0,2.0,150.0,0.0,2.3,3.0,0.0,6.0,0
    let r = d.row(0).unwrap();
    assert_eq!(r.dense, &[63.0, 145.0, 233.0, 150.0, 2.3]);
    // sex 1→1, cp 1→0, fbs 1→1, restecg 2→2, exang 0→0, slope 3→2, ca 0→0, thal 6→1
    assert_eq!(r.sparse, &[1, 0, 1, 2, 0, 2, 0, 1]);
    assert_eq!(r.label, 0);
    // Line 2: ..., slope 2.0, ca 3.0, thal 3.0, num 2 → label 1
    let r = d.row(1).unwrap();
    assert_eq!(r.sparse, &[1, 3, 0, 2, 1, 1, 3, 0]);
    assert_eq!(r.label, 1);
    // cp histogram in the file: 1.0:23, 2.0:50, 3.0:86, 4.0:144 → indices 0..3
    let mut cp = [0usize; 5];
    d.rows().for_each(|r| cp[r.sparse[1] as usize] += 1);
    assert_eq!(cp, [23, 50, 86, 144, 0]);
    // thal: 3.0:166, 6.0:18, 7.0:117, ?:2
    let mut thal = [0usize; 4];
    d.rows().for_each(|r| thal[r.sparse[7] as usize] += 1);
    assert_eq!(thal, [166, 18, 117, 2]);
}

#[test]
fn parser_maps_missing_and_integer_spellings() {
    let text = b"40,0,2,120,200,0,1,160,1,0.5,1,?,?,3\n";
    let d = parse_uci(text, "inline", "t").unwrap();
    let r = d.row(0).unwrap();
    assert_eq!(r.dense, &[40.0, 120.0, 200.0, 160.0, 0.5]);
    assert_eq!(r.sparse, &[0, 1, 0, 1, 1, 0, 4, 3]);
    assert_eq!(r.label, 1);
}

#[test]
fn disk_copy_parses_like_the_embedded_one() {
    let disk = load_uci_file(&CLEVELAND.disk_path()).unwrap();
    let embedded = load_cleveland().unwrap();
    assert_eq!(disk.name(), "processed.cleveland");
    assert_eq!(disk.dense(), embedded.dense());
    assert_eq!(disk.sparse(), embedded.sparse());
    assert_eq!(disk.labels(), embedded.labels());
}

#[test]
fn cleveland_split_is_fixed_stratified_and_standardised_on_train() {
    let s = cleveland_split().unwrap();
    assert_eq!((s.train.len(), s.test.len()), (242, 61));
    assert_eq!(s.test.positives(), 28); // round(0.2 × 139)
    assert_eq!(s.train.positives(), 111);
    // disjoint, covering, and the same on every call
    let mut all: Vec<usize> = s
        .train_indices
        .iter()
        .chain(&s.test_indices)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..303).collect::<Vec<_>>());
    assert_eq!(cleveland_split().unwrap(), s);

    // The standardizer is fitted on the raw training rows only.
    let raw = load_cleveland().unwrap();
    let raw_train = raw.subset(&s.train_indices, "raw-train").unwrap();
    assert_eq!(Standardizer::fit(&raw_train).unwrap(), s.standardizer);
    let age_mean = raw_train.rows().map(|r| f64::from(r.dense[0])).sum::<f64>() / 242.0;
    assert!((s.standardizer.mean()[0] - age_mean).abs() < 1e-9);

    // Train columns: mean ≈ 0, population variance ≈ 1.
    for j in 0..5 {
        let col: Vec<f64> = s.train.rows().map(|r| f64::from(r.dense[j])).collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
        assert!(mean.abs() < 1e-5, "column {j} mean {mean}");
        assert!((var - 1.0).abs() < 1e-4, "column {j} var {var}");
    }
    // Test rows use the same map: check one value by hand.
    let i = s.test_indices[0];
    let raw_age = f64::from(raw.dense_row(i).unwrap()[0]);
    let want = (raw_age - s.standardizer.mean()[0]) / s.standardizer.std()[0];
    assert!((f64::from(s.test.dense_row(0).unwrap()[0]) - want).abs() < 1e-5);
    // Sparse indices and labels are untouched by standardisation.
    assert_eq!(s.test.sparse_row(0), raw.sparse_row(i));
    assert_eq!(s.test.label(0), raw.label(i));
}

#[test]
fn same_split_through_the_generic_api() {
    let raw = load_cleveland().unwrap();
    let s = raw.split(&SplitSpec::stratified(0.2, 20_240_808)).unwrap();
    assert_eq!(s.test_indices, cleveland_split().unwrap().test_indices);
}

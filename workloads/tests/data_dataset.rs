//! The generic dataset: construction checks, splits, shuffles, standardisation, shipped files.
#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_workloads::data::shipped::{
    sha256_hex, ShippedFile, CLEVELAND, CRITEO_HOLDOUT, CRITEO_TRAIN, SHIPPED_FILES,
};
use helrm_workloads::data::{
    split_indices, verify_shipped, Dataset, SparseFeature, SplitSpec, Standardizer,
};
use helrm_workloads::Error;

fn toy(n: usize) -> Dataset {
    // dense: [i, 2i + 1], sparse: [i mod 3], labels: every third row positive
    let dense = (0..n)
        .flat_map(|i| [i as f32, 2.0 * i as f32 + 1.0])
        .collect();
    let sparse = (0..n).map(|i| (i % 3) as u32).collect();
    let labels = (0..n).map(|i| u8::from(i % 3 == 0)).collect();
    Dataset::new(
        "toy",
        vec!["a".into(), "b".into()],
        vec![SparseFeature::new("s", 3)],
        dense,
        sparse,
        labels,
    )
    .unwrap()
}

#[test]
fn new_checks_invariants() {
    let names = || vec!["a".to_string()];
    let spec = || vec![SparseFeature::new("s", 2)];
    assert!(matches!(
        Dataset::new("x", names(), spec(), vec![1.0], vec![0, 1], vec![0, 1]),
        Err(Error::ShapeMismatch {
            what: "dense values",
            expected: 2,
            found: 1
        })
    ));
    assert!(matches!(
        Dataset::new("x", names(), spec(), vec![1.0, 2.0], vec![0], vec![0, 1]),
        Err(Error::ShapeMismatch {
            what: "sparse indices",
            expected: 2,
            found: 1
        })
    ));
    assert!(matches!(
        Dataset::new("x", names(), spec(), vec![1.0, 2.0], vec![0, 2], vec![0, 1]),
        Err(Error::IndexOutOfRange {
            row: 1,
            feature: 0,
            index: 2,
            cardinality: 2
        })
    ));
    assert!(matches!(
        Dataset::new("x", names(), spec(), vec![1.0, 2.0], vec![0, 1], vec![0, 3]),
        Err(Error::InvalidLabel { row: 1, label: 3 })
    ));
    assert!(matches!(
        Dataset::new(
            "x",
            names(),
            spec(),
            vec![1.0, f32::NAN],
            vec![0, 1],
            vec![0, 1]
        ),
        Err(Error::InvalidParameter {
            name: "dense value",
            ..
        })
    ));
    assert!(matches!(
        Dataset::new(
            "x",
            names(),
            vec![SparseFeature::new("s", 0)],
            vec![],
            vec![],
            vec![]
        ),
        Err(Error::InvalidParameter {
            name: "cardinality",
            ..
        })
    ));
    let ok = Dataset::new("x", names(), spec(), vec![1.0, 2.0], vec![0, 1], vec![0, 1]).unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok.row(1).unwrap().sparse, &[1]);
    assert!(ok.row(2).is_none());
    assert_eq!(ok.rows().len(), 2);
}

#[test]
fn split_is_deterministic_disjoint_and_stratified() {
    let d = toy(100); // 34 positives, 66 negatives
    let spec = SplitSpec::stratified(0.25, 42);
    let a = d.split(&spec).unwrap();
    assert_eq!(a, d.split(&spec).unwrap());
    assert_eq!(a.test.positives(), 9); // round(0.25 × 34) = 8.5 → 9
    assert_eq!(a.test.len(), 9 + 17); // round(0.25 × 66) = 16.5 → 17
    assert_eq!(a.train.len() + a.test.len(), 100);
    assert!(a.train_indices.iter().all(|i| !a.test_indices.contains(i)));
    assert!(a.test_indices.windows(2).all(|w| w[0] < w[1]));
    // rows really are the source rows
    for (k, &i) in a.test_indices.iter().enumerate() {
        assert_eq!(a.test.row(k), d.row(i));
    }
    assert_eq!(a.train.name(), "toy/train");
    let b = d.split(&SplitSpec::stratified(0.25, 43)).unwrap();
    assert_ne!(a.test_indices, b.test_indices);

    let r = d.split(&SplitSpec::random(0.3, 42)).unwrap();
    assert_eq!(r.test.len(), 30);
    let (tr, te) = split_indices(d.labels(), &SplitSpec::random(0.0, 1)).unwrap();
    assert_eq!((tr.len(), te.len()), (100, 0));
    let (tr, te) = split_indices(d.labels(), &SplitSpec::random(1.0, 1)).unwrap();
    assert_eq!((tr.len(), te.len()), (0, 100));
    for bad in [-0.1, 1.5, f64::NAN] {
        assert!(matches!(
            d.split(&SplitSpec::stratified(bad, 1)),
            Err(Error::InvalidParameter {
                name: "test_fraction",
                ..
            })
        ));
    }
}

#[test]
fn shuffle_is_a_seeded_permutation() {
    let d = toy(50);
    let s = d.shuffled(3);
    assert_eq!(s, d.shuffled(3));
    assert_ne!(s.dense(), d.dense());
    assert_ne!(s.dense(), d.shuffled(4).dense());
    let mut firsts: Vec<f32> = s.rows().map(|r| r.dense[0]).collect();
    firsts.sort_by(f32::total_cmp);
    assert_eq!(firsts, (0..50).map(|i| i as f32).collect::<Vec<_>>());
    // rows stay intact
    assert!(s.rows().all(|r| r.dense[1] == 2.0 * r.dense[0] + 1.0));
    assert!(matches!(
        d.subset(&[0, 50], "x"),
        Err(Error::ShapeMismatch {
            what: "row index",
            expected: 50,
            found: 50
        })
    ));
}

#[test]
fn standardizer_known_answers() {
    let d = Dataset::new(
        "s",
        vec!["x".into(), "c".into()],
        vec![],
        vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0],
        vec![],
        vec![0, 1, 0],
    )
    .unwrap();
    let st = Standardizer::fit(&d).unwrap();
    assert_eq!(st.mean(), &[2.0, 5.0]);
    assert!((st.std()[0] - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
    assert_eq!(st.std()[1], 1.0); // constant column: centred only
    let t = st.transform(&d).unwrap();
    let s = (1.5f64).sqrt() as f32;
    assert_eq!(t.dense(), &[-s, 0.0, 0.0, 0.0, s, 0.0]);
    let mut row = [4.0f32, 6.0];
    st.apply_row(&mut row).unwrap();
    assert!((row[0] - 2.0 * s).abs() < 1e-6 && row[1] == 1.0);
    assert!(matches!(
        st.apply_row(&mut [1.0]),
        Err(Error::ShapeMismatch {
            what: "standardizer width",
            expected: 2,
            found: 1
        })
    ));
    let mut wide = toy(3);
    assert!(Standardizer::fit(&wide).is_ok());
    let st1 = Standardizer::from_parts(vec![0.0], vec![1.0]).unwrap();
    assert!(matches!(
        st1.apply(&mut wide),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Standardizer::from_parts(vec![0.0], vec![0.0]),
        Err(Error::InvalidParameter { name: "std", .. })
    ));
    assert!(matches!(
        Standardizer::from_parts(vec![f64::INFINITY], vec![1.0]),
        Err(Error::InvalidParameter { name: "mean", .. })
    ));
    assert!(matches!(
        Standardizer::from_parts(vec![0.0], vec![]),
        Err(Error::ShapeMismatch { .. })
    ));
    let empty = toy(0);
    assert!(matches!(
        Standardizer::fit(&empty),
        Err(Error::ShapeMismatch { found: 0, .. })
    ));
}

#[test]
fn shipped_files_match_their_digests() {
    verify_shipped().unwrap();
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    for f in SHIPPED_FILES {
        let bytes = std::fs::read(f.disk_path()).unwrap();
        assert_eq!(sha256_hex(&bytes), f.sha256, "{}", f.path);
        if let Some(rows) = f.rows {
            let header = usize::from(f.path.ends_with("deepctr_criteo_sample.txt"));
            assert_eq!(bytecount_lines(&bytes), rows + header, "{}", f.path);
        }
    }
    for f in [CLEVELAND, CRITEO_TRAIN, CRITEO_HOLDOUT] {
        assert_eq!(sha256_hex(f.embedded().unwrap()), f.sha256);
    }
    assert!(
        SHIPPED_FILES
            .iter()
            .filter(|f| f.embedded().is_some())
            .count()
            == 3
    );
}

#[test]
fn verify_reports_checksum_and_io_errors() {
    let tampered = ShippedFile {
        sha256: "00",
        ..CLEVELAND
    };
    match tampered.verify() {
        Err(Error::Checksum {
            file,
            expected: "00",
            found,
        }) => {
            assert_eq!(file, "embedded:uci_heart/processed.cleveland.data");
            assert_eq!(found, CLEVELAND.sha256);
        }
        other => panic!("{other:?}"),
    }
    let missing = ShippedFile {
        path: "no/such.file",
        sha256: "00",
        rows: None,
    };
    assert!(matches!(missing.verify(), Err(Error::Io { .. })));
    assert!(matches!(missing.bytes(), Err(Error::Io { .. })));
}

fn bytecount_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

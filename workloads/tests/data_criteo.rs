//! Criteo Kaggle rows (train 8,000 / hold-out 2,000), index schemes, and the synthetic generator.

use helrm_workloads::data::criteo::{
    dense_transform, load_shipped_raw, CriteoRaw, CRITEO_NUM_SPARSE, MISSING_INDEX,
};
use helrm_workloads::data::synthetic::{SyntheticCriteo, CHUNK_ROWS};
use helrm_workloads::data::{
    load_kaggle, CriteoIndexing, IndexScheme, Vocabulary, CRITEO_KAGGLE_CARDINALITIES,
};
use helrm_workloads::Error;

#[test]
fn kaggle_cardinalities_total() {
    let total: u64 = CRITEO_KAGGLE_CARDINALITIES.iter().sum();
    assert_eq!(total, 33_762_577);
    assert_eq!(total * 16, 540_201_232); // parameters at d = 16
    assert_eq!(CRITEO_KAGGLE_CARDINALITIES.len(), 26);
}

#[test]
fn shipped_files_have_readme_statistics() {
    let (train, holdout) = load_shipped_raw().unwrap();
    assert_eq!(train.len(), 8000);
    assert_eq!(train.positives(), 1728);
    assert_eq!(holdout.len(), 2000);
    assert_eq!(holdout.positives(), 454);
    assert_eq!(
        train.missing_dense_counts(),
        [3612, 0, 1620, 1627, 396, 2014, 398, 9, 398, 3612, 398, 6214, 1627]
    );
    assert_eq!(
        train.distinct_sparse_counts(),
        [
            157, 370, 4524, 3369, 53, 7, 2817, 82, 3, 2584, 1904, 4337, 1591, 22, 1833, 3905, 9,
            1055, 480, 3, 4140, 7, 12, 2152, 37, 1635
        ]
    );
    assert_eq!(
        train.missing_sparse_counts(),
        [
            0, 0, 265, 265, 0, 1047, 0, 0, 0, 0, 0, 265, 0, 0, 0, 265, 0, 0, 3623, 3623, 265, 6538,
            0, 265, 3623, 3623
        ]
    );
    // Row 1: I2 = 1, I12 missing, C1 = 68fd1e64, C22 missing (trailing-tab fields kept).
    assert_eq!(train.dense_value(0, 1), Some(Some(1)));
    assert_eq!(train.dense_value(0, 11), Some(None));
    assert_eq!(train.sparse_value(0, 0), Some(Some(0x68fd_1e64)));
    assert_eq!(train.sparse_value(0, 21), Some(None));
    assert_eq!(train.dense_value(8000, 0), None);
    assert_eq!(train.sparse_value(0, 26), None);
}

#[test]
fn dense_transform_known_answers() {
    assert_eq!(dense_transform(None), 0.0);
    assert_eq!(dense_transform(Some(0)), 0.0);
    assert_eq!(dense_transform(Some(-2)), 0.0);
    assert_eq!(dense_transform(Some(1)), std::f32::consts::LN_2);
    assert!((dense_transform(Some(5)) - 1.791_759_5).abs() < 1e-6);
    assert!((dense_transform(Some(1382)) - 7.232_010_3).abs() < 1e-5);
    assert!(dense_transform(Some(i64::MAX)).is_finite());

    let data = load_kaggle(CriteoIndexing::KaggleHashed).unwrap();
    // Row 1: 1 1 5 0 1382 4 15 2 181 1 2 (missing) 2
    let want = [
        std::f32::consts::LN_2,
        std::f32::consts::LN_2,
        1.791_759_5,
        0.0,
        7.232_010_3,
        1.609_438,
        2.772_588_7,
        1.098_612_3,
        5.204_006_7,
        std::f32::consts::LN_2,
        1.098_612_3,
        0.0,
        1.098_612_3,
    ];
    let got = data.train.dense_row(0).unwrap();
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?}");
    }
}

#[test]
fn hashed_scheme_uses_kaggle_sizes() {
    let data = load_kaggle(CriteoIndexing::KaggleHashed).unwrap();
    assert_eq!((data.train.len(), data.holdout.len()), (8000, 2000));
    assert_eq!(data.train.positives(), 1728);
    assert_eq!(data.holdout.positives(), 454);
    assert!(data.vocabulary.is_none());
    assert_eq!(
        data.train.cardinalities(),
        CRITEO_KAGGLE_CARDINALITIES.to_vec()
    );
    let r = data.train.sparse_row(0).unwrap();
    // 1 + 0x68fd1e64 mod 1459, 1 + 0x80e26c9b mod 582, 1 + 0xfb936136 mod 10131226
    assert_eq!(&r[..3], &[251, 528, 6_149_879]);
    assert_eq!(r[21], MISSING_INDEX);
    // Missing values and only missing values land on index 0.
    let (raw, _) = load_shipped_raw().unwrap();
    let zeros: Vec<usize> = (0..CRITEO_NUM_SPARSE)
        .map(|t| data.train.rows().filter(|row| row.sparse[t] == 0).count())
        .collect();
    assert_eq!(zeros, raw.missing_sparse_counts().to_vec());
    // Custom small tables: every index below its size (Dataset::new checks; spot-check here).
    let sizes = [17u64; 26];
    let small = raw
        .to_dataset(
            &IndexScheme::Hashed {
                table_sizes: &sizes,
            },
            "small",
        )
        .unwrap();
    assert!(small.sparse().iter().all(|&i| i < 17));
    assert!(matches!(
        raw.to_dataset(
            &IndexScheme::Hashed {
                table_sizes: &sizes[..25]
            },
            "x"
        ),
        Err(Error::ShapeMismatch {
            expected: 26,
            found: 25,
            ..
        })
    ));
    let mut bad = sizes;
    bad[3] = 1;
    assert!(matches!(
        raw.to_dataset(&IndexScheme::Hashed { table_sizes: &bad }, "x"),
        Err(Error::InvalidParameter {
            name: "table_size",
            ..
        })
    ));
}

#[test]
fn vocabulary_scheme_is_small_and_frequency_ordered() {
    let (train, holdout) = load_shipped_raw().unwrap();
    let all = Vocabulary::build(&train, 1).unwrap();
    let want: Vec<u64> = train
        .distinct_sparse_counts()
        .iter()
        .map(|&c| c as u64 + 1)
        .collect();
    assert_eq!(all.cardinalities(), want);
    // With min_count 1 every training value has an index, so index 0 means missing exactly.
    let d = train
        .to_dataset(&IndexScheme::Vocabulary(&all), "v")
        .unwrap();
    for t in 0..CRITEO_NUM_SPARSE {
        let zeros = d.rows().filter(|r| r.sparse[t] == 0).count();
        assert_eq!(zeros, train.missing_sparse_counts()[t], "C{}", t + 1);
    }
    // Index 1 is the most frequent value of its feature.
    for t in [0, 5, 13] {
        let mut counts = std::collections::HashMap::new();
        for i in 0..train.len() {
            if let Some(Some(h)) = train.sparse_value(i, t) {
                *counts.entry(h).or_insert(0u32) += 1;
            }
        }
        let top = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .unwrap();
        assert_eq!(all.index(t, Some(*top.0)), 1, "C{}", t + 1);
    }
    // A higher threshold gives smaller tables; rare and unseen values go to 0.
    let v10 = Vocabulary::build(&train, 10).unwrap();
    assert_eq!(v10.min_count(), 10);
    for (a, b) in v10.cardinalities().iter().zip(all.cardinalities()) {
        assert!(*a <= b);
    }
    assert!(v10.cardinalities()[2] < 200, "{:?}", v10.cardinalities());
    assert_eq!(v10.index(0, None), 0);
    assert_eq!(v10.index(99, Some(1)), 0);
    let h = holdout
        .to_dataset(&IndexScheme::Vocabulary(&all), "h")
        .unwrap();
    let unseen_c3 = h.rows().filter(|r| r.sparse[2] == 0).count();
    assert!(
        unseen_c3 > holdout.missing_sparse_counts()[2],
        "hold-out has unseen C3 values"
    );
    assert!(matches!(
        Vocabulary::build(&train, 0),
        Err(Error::InvalidParameter {
            name: "min_count",
            ..
        })
    ));
    let data = load_kaggle(CriteoIndexing::Vocabulary { min_count: 10 }).unwrap();
    assert_eq!(data.vocabulary.as_ref(), Some(&v10));
    assert_eq!(data.holdout.cardinalities(), v10.cardinalities());
}

#[test]
fn criteo_parser_accepts_negative_and_trailing_empty_fields() {
    let mut line = String::from("1\t-2");
    line.push_str(&"\t".repeat(12)); // I2..I13 empty
    line.push_str("\t0000000a");
    line.push_str(&"\t".repeat(25)); // C2..C26 empty
    let raw = CriteoRaw::parse(line.as_bytes(), "inline").unwrap();
    assert_eq!(raw.len(), 1);
    assert_eq!(raw.dense_value(0, 0), Some(Some(-2)));
    assert_eq!(raw.dense_value(0, 12), Some(None));
    assert_eq!(raw.sparse_value(0, 0), Some(Some(10)));
    assert_eq!(raw.missing_sparse_counts().iter().sum::<usize>(), 25);
}

#[test]
fn synthetic_rows_have_criteo_shape() {
    let g = SyntheticCriteo::kaggle(7);
    let d = g.generate(10_000).unwrap();
    assert_eq!(d.len(), 10_000);
    assert_eq!(d.num_dense(), 13);
    assert_eq!(d.cardinalities(), CRITEO_KAGGLE_CARDINALITIES.to_vec());
    for r in d.rows() {
        for (i, c) in r.sparse.iter().zip(CRITEO_KAGGLE_CARDINALITIES) {
            assert!(u64::from(*i) < c);
        }
        assert!(r.dense.iter().all(|x| x.is_finite() && *x >= 0.0));
    }
    // Zipf-like: index 0 is the most common value of C3 and the tail still reaches far.
    let c3: Vec<u32> = d.rows().map(|r| r.sparse[2]).collect();
    let zeros = c3.iter().filter(|&&i| i == 0).count();
    let ones = c3.iter().filter(|&&i| i == 1).count();
    assert!(zeros > ones && ones > 0, "{zeros} {ones}");
    assert!(c3.iter().any(|&i| i >= 1_000_000));
    // C9 (3 rows) uses all of its rows.
    let mut c9 = [0usize; 3];
    d.rows().for_each(|r| c9[r.sparse[8] as usize] += 1);
    assert!(c9.iter().all(|&c| c > 0), "{c9:?}");
    // Dense missing rates follow the real sample: I12 is missing (→ 0) about 78 % of the time.
    let i12_zero = d.rows().filter(|r| r.dense[11] == 0.0).count();
    assert!((7300..8300).contains(&i12_zero), "{i12_zero}");
    let rate = d.positives() as f64 / d.len() as f64;
    assert!((0.2..0.33).contains(&rate), "{rate}");
}

#[test]
fn synthetic_is_seeded_and_chunk_stable() {
    let g = SyntheticCriteo::kaggle(11);
    let a = g.generate(CHUNK_ROWS + 5).unwrap();
    assert_eq!(a, g.generate(CHUNK_ROWS + 5).unwrap());
    // Rows depend only on the seed and their position, not on n.
    let prefix = g.generate(CHUNK_ROWS).unwrap();
    assert_eq!(&a.sparse()[..prefix.sparse().len()], prefix.sparse());
    assert_eq!(&a.dense()[..prefix.dense().len()], prefix.dense());
    let other = SyntheticCriteo::kaggle(12)
        .generate(CHUNK_ROWS + 5)
        .unwrap();
    assert_ne!(a.sparse(), other.sparse());
    assert!(g.generate(0).unwrap().is_empty());
}

#[test]
fn synthetic_rejects_bad_settings() {
    let mut g = SyntheticCriteo::kaggle(1);
    g.zipf_exponent = -1.0;
    assert!(matches!(
        g.generate(1),
        Err(Error::InvalidParameter {
            name: "zipf_exponent",
            ..
        })
    ));
    let mut g = SyntheticCriteo::kaggle(1);
    g.positive_rate = 1.0;
    assert!(matches!(
        g.generate(1),
        Err(Error::InvalidParameter {
            name: "positive_rate",
            ..
        })
    ));
    let mut g = SyntheticCriteo::kaggle(1);
    g.cardinalities[4] = 0;
    assert!(matches!(
        g.generate(1),
        Err(Error::InvalidParameter {
            name: "cardinality",
            ..
        })
    ));
    // Custom small tables and a uniform distribution.
    let g = SyntheticCriteo {
        cardinalities: vec![1, 2, 5],
        zipf_exponent: 0.0,
        ..g
    };
    let d = g.generate(500).unwrap();
    assert!(d
        .rows()
        .all(|r| r.sparse[0] == 0 && r.sparse[1] < 2 && r.sparse[2] < 5));
    assert_eq!(d.sparse_specs()[2].name, "C3");
}

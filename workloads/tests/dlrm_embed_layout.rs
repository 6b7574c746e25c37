//! HE-LRM digit decomposition and packed layouts: the HE-LRM.md table, known answers,
//! decomposition properties and bad inputs.
#![allow(clippy::unwrap_used, reason = "tests panic on failure")]

use helrm_workloads::data::CRITEO_KAGGLE_CARDINALITIES;
use helrm_workloads::embed::digits::decompose_into;
use helrm_workloads::embed::{
    decompose, num_digits, recompose, CompressionPolicy, PackedLayout, TableLayout,
};
use helrm_workloads::Error;
use proptest::prelude::*;

const SLOTS: u64 = 32_768;

#[test]
fn all_kaggle_tables_base4_compressed_is_668_rows_one_ciphertext() {
    let policy = CompressionPolicy::all(4).unwrap();
    let layout = PackedLayout::from_policy(&CRITEO_KAGGLE_CARDINALITIES, Some(&policy)).unwrap();
    assert_eq!(layout.total_rows(), 668);
    assert_eq!(layout.compressed_tables(), 26);
    assert_eq!(layout.input_ciphertexts(SLOTS).unwrap(), 1);
    // Per-table ℓ, worked by hand: 1460 → 6 (4^5 = 1024 < 1460 ≤ 4096), 3 → 1, 4 → 1, ...
    let digits: Vec<u32> = layout
        .tables()
        .iter()
        .map(TableLayout::rows_per_lookup)
        .collect();
    assert_eq!(
        digits,
        vec![6, 5, 12, 11, 5, 3, 7, 5, 1, 9, 7, 12, 6, 3, 7, 12, 2, 7, 6, 1, 12, 3, 2, 10, 4, 9]
    );
}

#[test]
fn he_lrm_criteo_policy_is_47746_rows_two_ciphertexts() {
    let layout = PackedLayout::from_policy(
        &CRITEO_KAGGLE_CARDINALITIES,
        Some(&CompressionPolicy::HE_LRM),
    )
    .unwrap();
    assert_eq!(layout.total_rows(), 47_746);
    assert_eq!(layout.input_ciphertexts(SLOTS).unwrap(), 2);
    // Tables above 20,000 rows: C3, C4, C10, C12, C16, C21, C24, C26.
    let compressed: Vec<usize> = layout
        .tables()
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_compressed())
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(compressed, vec![3, 4, 10, 12, 16, 21, 24, 26]);
    // 20,000 itself stays full; 20,001 is compressed.
    assert!(!CompressionPolicy::HE_LRM
        .layout_for(20_000)
        .unwrap()
        .is_compressed());
    assert!(CompressionPolicy::HE_LRM
        .layout_for(20_001)
        .unwrap()
        .is_compressed());
}

#[test]
fn four_largest_compressed_is_2772096_rows_and_44m_parameters() {
    // Built by hand: compress the four largest tables, keep 22 full.
    let mut order: Vec<usize> = (0..26).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(CRITEO_KAGGLE_CARDINALITIES[i]));
    let largest = &order[..4];
    let tables = CRITEO_KAGGLE_CARDINALITIES
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            if largest.contains(&i) {
                TableLayout::compressed(k, 4).unwrap()
            } else {
                TableLayout::full(k).unwrap()
            }
        })
        .collect();
    let layout = PackedLayout::new(tables).unwrap();
    assert_eq!(layout.total_rows(), 2_772_096);
    assert_eq!(layout.input_ciphertexts(SLOTS).unwrap(), 85);
    assert_eq!(layout.parameters(16), 44_353_536);
    assert_eq!(layout.compressed_tables(), 4);
    // The same layout from the threshold used by the `criteo-44m` preset.
    let by_policy = PackedLayout::from_policy(
        &CRITEO_KAGGLE_CARDINALITIES,
        Some(&CompressionPolicy::new(4, 5_000_000).unwrap()),
    )
    .unwrap();
    assert_eq!(by_policy, layout);
}

#[test]
fn uncompressed_kaggle_tables_are_540m_parameters() {
    let layout = PackedLayout::from_policy(&CRITEO_KAGGLE_CARDINALITIES, None).unwrap();
    assert_eq!(layout.total_rows(), 33_762_577);
    assert_eq!(layout.parameters(16), 540_201_232);
    assert_eq!(layout.compressed_tables(), 0);
    assert_eq!(layout.input_ciphertexts(SLOTS).unwrap(), 1031);
}

#[test]
fn num_digits_known_answers_and_edges() {
    assert_eq!(
        num_digits(1, 2).unwrap(),
        1,
        "one-row table keeps one digit"
    );
    assert_eq!(num_digits(2, 2).unwrap(), 1);
    assert_eq!(num_digits(3, 2).unwrap(), 2);
    assert_eq!(num_digits(1024, 2).unwrap(), 10);
    assert_eq!(num_digits(1025, 2).unwrap(), 11);
    assert_eq!(num_digits(10_131_227, 4).unwrap(), 12);
    assert_eq!(num_digits(16_777_216, 4).unwrap(), 12); // exactly 4^12
    assert_eq!(num_digits(16_777_217, 4).unwrap(), 13);
    assert_eq!(num_digits(1_000_000, 10).unwrap(), 6); // exactly 10^6 (log would round badly)
    assert_eq!(num_digits(u64::MAX, 2).unwrap(), 64);
    assert!(matches!(
        num_digits(10, 1),
        Err(Error::InvalidParameter { name: "base", .. })
    ));
    assert!(matches!(
        num_digits(10, 0),
        Err(Error::InvalidParameter { name: "base", .. })
    ));
    assert!(matches!(
        num_digits(0, 4),
        Err(Error::InvalidParameter {
            name: "cardinality",
            ..
        })
    ));
}

#[test]
fn decompose_known_answers_and_errors() {
    assert_eq!(decompose(0, 4, 3).unwrap(), vec![0, 0, 0]);
    assert_eq!(decompose(27, 4, 3).unwrap(), vec![3, 2, 1]); // 3 + 2·4 + 1·16
    assert_eq!(decompose(63, 4, 3).unwrap(), vec![3, 3, 3]);
    assert!(matches!(
        decompose(64, 4, 3),
        Err(Error::InvalidParameter { name: "index", .. })
    ));
    assert_eq!(recompose(&[3, 2, 1], 4).unwrap(), 27);
    assert_eq!(recompose(&[], 4).unwrap(), 0);
    assert!(matches!(
        recompose(&[4], 4),
        Err(Error::InvalidParameter { name: "digit", .. })
    ));
    assert!(matches!(
        recompose(&[1; 65], 2),
        Err(Error::InvalidParameter { name: "digits", .. })
    ));
}

#[test]
fn table_layout_active_rows_and_one_hots() {
    let full = TableLayout::full(5).unwrap();
    assert_eq!(full.segment_len(), 5);
    assert_eq!(full.active_rows(3).unwrap(), vec![3]);
    assert_eq!(full.one_hot(3).unwrap(), vec![0.0, 0.0, 0.0, 1.0, 0.0]);
    let c = TableLayout::compressed(10, 3).unwrap(); // ℓ = 3 (9 < 10 ≤ 27)
    assert_eq!(c.rows_per_lookup(), 3);
    assert_eq!(c.segment_len(), 9);
    assert_eq!(c.parameters(16), 144);
    // 7 = 1 + 2·3 → digits [1, 2, 0] → rows [0·3 + 1, 1·3 + 2, 2·3 + 0]
    assert_eq!(c.active_rows(7).unwrap(), vec![1, 5, 6]);
    assert_eq!(
        c.one_hot(7).unwrap(),
        vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    );
    assert!(matches!(
        c.active_rows(10),
        Err(Error::InvalidParameter { name: "index", .. })
    ));
    let one = TableLayout::compressed(1, 4).unwrap();
    assert_eq!(one.segment_len(), 4);
    assert_eq!(one.active_rows(0).unwrap(), vec![0]);
}

#[test]
fn table_layout_check_and_serde() {
    let bad = TableLayout::Compressed {
        rows: 100,
        base: 4,
        digits: 3,
    };
    assert!(matches!(
        bad.check(),
        Err(Error::InvalidParameter { name: "digits", .. })
    ));
    assert!(matches!(
        PackedLayout::new(vec![bad]),
        Err(Error::InvalidParameter { name: "digits", .. })
    ));
    let good = TableLayout::compressed(100, 4).unwrap();
    let json = serde_json::to_string(&good).unwrap();
    assert_eq!(
        json,
        r#"{"kind":"compressed","rows":100,"base":4,"digits":4}"#
    );
    assert_eq!(serde_json::from_str::<TableLayout>(&json).unwrap(), good);
    assert!(matches!(
        CompressionPolicy::new(1, 10),
        Err(Error::InvalidParameter { name: "base", .. })
    ));
    assert!(matches!(
        TableLayout::full(0),
        Err(Error::InvalidParameter {
            name: "cardinality",
            ..
        })
    ));
}

#[test]
fn packed_positions_offsets_and_blocks() {
    // Tables: full 3, compressed 10 in base 3 (9 slots), full 2 → offsets 0, 3, 12; Σ 14.
    let layout = PackedLayout::new(vec![
        TableLayout::full(3).unwrap(),
        TableLayout::compressed(10, 3).unwrap(),
        TableLayout::full(2).unwrap(),
    ])
    .unwrap();
    assert_eq!(layout.offsets(), &[0, 3, 12]);
    assert_eq!(layout.total_rows(), 14);
    assert_eq!(layout.offset(3), None);
    let pos = layout.active_positions(&[2, 7, 1]).unwrap();
    assert_eq!(pos, vec![2, 3 + 1, 3 + 5, 3 + 6, 12 + 1]);
    // Blocks of 8 slots: positions 2, 4 in block 0; 8, 9, 13 in block 1 at 0, 1, 5.
    assert_eq!(layout.input_ciphertexts(8).unwrap(), 2);
    let b0 = layout.one_hot_block(&[2, 7, 1], 0, 8).unwrap();
    assert_eq!(b0, vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    let b1 = layout.one_hot_block(&[2, 7, 1], 1, 8).unwrap();
    assert_eq!(b1, vec![1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    assert!(matches!(
        layout.one_hot_block(&[2, 7, 1], 2, 8),
        Err(Error::InvalidParameter { name: "block", .. })
    ));
    assert!(matches!(
        layout.input_ciphertexts(0),
        Err(Error::InvalidParameter { name: "slots", .. })
    ));
    assert!(matches!(
        layout.active_positions(&[2, 7]),
        Err(Error::ShapeMismatch {
            what: "sparse indices",
            expected: 3,
            found: 2
        })
    ));
    assert!(matches!(
        layout.active_positions(&[2, 10, 1]),
        Err(Error::IndexOutOfRange {
            feature: 1,
            index: 10,
            cardinality: 10,
            ..
        })
    ));
}

proptest! {
    #[test]
    fn decomposition_recomposes_with_small_digits(
        base in 2u64..=17,
        k in 1u64..=1_000_000_000_000,
        frac in 0.0f64..1.0,
    ) {
        let index = ((k as f64 * frac) as u64).min(k - 1);
        let l = num_digits(k, base).unwrap();
        // Minimality: base^ℓ ≥ k and (ℓ = 1 or base^(ℓ−1) < k), in exact arithmetic.
        let pow = |e: u32| u128::from(base).pow(e);
        prop_assert!(pow(l) >= u128::from(k));
        prop_assert!(l == 1 || pow(l - 1) < u128::from(k));
        let digits = decompose(index, base, l).unwrap();
        prop_assert_eq!(digits.len(), l as usize);
        prop_assert!(digits.iter().all(|&d| d < base));
        prop_assert_eq!(recompose(&digits, base).unwrap(), index);
        // digit_j = ⌊i / b^j⌋ mod b
        for (j, &d) in digits.iter().enumerate() {
            prop_assert_eq!(u128::from(d), (u128::from(index) / pow(j as u32)) % u128::from(base));
        }
        let mut buf = vec![99];
        decompose_into(index, base, l, &mut buf).unwrap();
        prop_assert_eq!(buf, digits);
    }

    #[test]
    fn compressed_one_hot_has_one_1_per_digit_block(
        base in 2u64..=9,
        k in 1u64..=5000,
        frac in 0.0f64..1.0,
    ) {
        let index = ((k as f64 * frac) as u64).min(k - 1);
        let t = TableLayout::compressed(k, base).unwrap();
        let v = t.one_hot(index).unwrap();
        prop_assert_eq!(v.len() as u64, t.segment_len());
        for block in v.chunks(base as usize) {
            prop_assert_eq!(block.iter().filter(|&&x| x == 1.0).count(), 1);
            prop_assert_eq!(block.iter().filter(|&&x| x == 0.0).count(), base as usize - 1);
        }
    }
}

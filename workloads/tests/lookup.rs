//! Encrypted lookups against the plaintext lookup, at toy parameter sets (insecure opt-out).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use helrm_core::circuits::linear::DiagonalMode;
use helrm_core::ckks::Params;
use helrm_core::ring::Backend;
use helrm_core::trace::{OpKind, TraceSink, VecSink};
use helrm_workloads::embed::CompressionPolicy;
use helrm_workloads::lookup::{
    coded_schedule, run, run_block, CodedPlan, LookupOptions, LookupTables, Method,
};
use helrm_workloads::Error;

// Error bound for one-level products: fresh encryption noise at Δ = 2^40 is about 2^-30
// relative per slot; a product sums at most a few hundred slot terms of weights in [−½, ½)
// and rescales once, so 1e-6 leaves ample margin.
const PRODUCT_TOL: f64 = 1e-6;

fn toy(name: &str) -> Arc<Params> {
    Params::preset(name).unwrap()
}

#[test]
fn product_methods_match_the_plaintext_lookup() {
    let tables = LookupTables::synthetic(4, 3, 5, 3, 11).unwrap(); // 3 tables of 64 rows, d = 5
    let indices = tables.random_indices(3);
    let params = toy("toy-n12-l10");
    for method in [Method::OneHot, Method::Digits, Method::DigitsPacked] {
        for diagonals in [DiagonalMode::PreEncoded, DiagonalMode::OnTheFly] {
            let mut opts = LookupOptions::seeded(2);
            opts.diagonals = diagonals;
            let r = run(method, &tables, &indices, None, &params, None, &opts).unwrap();
            let err = r.max_abs_error.unwrap();
            assert!(err < PRODUCT_TOL, "{method} {diagonals:?}: {err}");
            assert_eq!(r.levels, 1, "{method}");
            assert_eq!(r.output.len(), 3);
            assert!(r.rotations > 0);
            let products = if method == Method::DigitsPacked { 1 } else { 3 };
            assert_eq!(r.output_ciphertexts, products, "{method}");
        }
    }
}

#[test]
fn digits_follow_a_compression_policy() {
    // Tables of 5 and 300 rows; only the second is compressed.
    let tables = LookupTables::new(&[5, 300], 4, 4, 3).unwrap();
    let indices = [4, 299];
    let policy = CompressionPolicy::new(4, 100).unwrap();
    let params = toy("toy-n12-l10");
    let r = run(
        Method::DigitsPacked,
        &tables,
        &indices,
        Some(&policy),
        &params,
        None,
        &LookupOptions::seeded(4),
    )
    .unwrap();
    assert!(r.max_abs_error.unwrap() < PRODUCT_TOL);
    let bad = CompressionPolicy::new(8, 100).unwrap();
    assert!(matches!(
        run(
            Method::Digits,
            &tables,
            &indices,
            Some(&bad),
            &params,
            None,
            &LookupOptions::seeded(4)
        ),
        Err(Error::InvalidParameter { name: "base", .. })
    ));
}

#[test]
fn coded_helut_bootstraps_on_a_short_chain_and_matches_plaintext() {
    assert_eq!(coded_schedule(8), Some((8, 1)));
    assert_eq!(coded_schedule(5), None);
    // p = 4: depth 2 + 6 + 2 + 1 = 11 > 10 levels of toy-n12-l10.
    let tables = LookupTables::synthetic(4, 2, 3, 2, 5).unwrap();
    let indices = tables.random_indices(9);
    let short = toy("toy-n12-l10");
    assert!(matches!(
        run(
            Method::CodedHelut,
            &tables,
            &indices,
            None,
            &short,
            None,
            &LookupOptions::seeded(1)
        ),
        Err(Error::NeedsBootstrap {
            needed: 11,
            available: 10,
            bootstraps: 1,
            ..
        })
    ));
    let boot = toy("toy-n12-boot");
    let r = run(
        Method::CodedHelut,
        &tables,
        &indices,
        None,
        &short,
        Some(&boot),
        &LookupOptions::seeded(1),
    )
    .unwrap();
    assert_eq!(r.bootstraps, 1);
    assert_eq!(r.levels, 11);
    assert_eq!(r.output_ciphertexts, 3);
    // The indicator leaves at most (1 − 2/p²)^(2^r) = 0.875^64 ≈ 2e-4 at a wrong candidate,
    // which 3x² − 2x³ squashes to ≈ 1e-7; bootstrapping at 16 slots is accurate to about
    // 2^-20. Eight weights below ½ per segment: 1e-3 is a safe bound.
    let err = r.max_abs_error.unwrap();
    assert!(err < 1e-3, "{err}");
    // Rotate-and-sum: d · log2(seg) = 3 · 3 rotations after the bootstrap's own.
    assert!(r.rotations >= 9);
}

#[test]
fn coded_helut_plan_counts_levels_and_bootstraps() {
    let tables = LookupTables::synthetic(8, 8, 50, 1, 0).unwrap();
    let plan = CodedPlan::new(&tables, 32_768, 10, true, "helrm-n16-l10").unwrap();
    assert_eq!((plan.seg, plan.slots, plan.depth), (64, 64, 13));
    assert_eq!(plan.bootstraps, 1);
    assert_eq!(plan.rotations(), vec![1, 2, 4, 8, 16, 32]);
    assert!(matches!(
        CodedPlan::new(&tables, 32_768, 10, false, "helrm-n16-l10"),
        Err(Error::NeedsBootstrap { needed: 13, .. })
    ));
}

#[test]
fn one_hot_refuses_impossibly_large_tables() {
    let tables = LookupTables::synthetic(8, 8, 4, 1, 0).unwrap(); // 16.7 M rows
    let params = toy("toy-n10");
    let err = run(
        Method::OneHot,
        &tables,
        &[0],
        None,
        &params,
        None,
        &LookupOptions::seeded(1),
    );
    assert!(matches!(
        err,
        Err(Error::InvalidParameter {
            name: "table_rows",
            ..
        })
    ));
}

#[test]
fn a_block_of_a_packed_layout_matches_its_plaintext_partial_lookup() {
    // 600 + 24 + 700 + 36 = 1,360 rows: three blocks of 512 slots at toy-n10.
    let cards = [600, 3000, 700, 70_000];
    let policy = CompressionPolicy::new(4, 1000).unwrap();
    let params = toy("toy-n10");
    let mut opts = LookupOptions::seeded(6);
    opts.diagonals = DiagonalMode::OnTheFly;
    for block in 0..3 {
        let r = run_block(&cards, Some(&policy), 4, block, &params, &opts).unwrap();
        assert_eq!(r.blocks, 3);
        assert_eq!(r.total_rows, 1360);
        assert_eq!(r.levels, 1);
        assert!(r.tables_in_block >= 1);
        let err = r.max_abs_error.unwrap();
        assert!(err < PRODUCT_TOL, "block {block}: {err}");
    }
    assert!(matches!(
        run_block(&cards, Some(&policy), 4, 3, &params, &opts),
        Err(Error::InvalidParameter { name: "block", .. })
    ));
}

#[test]
fn symbolic_runs_trace_the_server_only() {
    let tables = LookupTables::synthetic(4, 2, 3, 2, 5).unwrap();
    let indices = tables.random_indices(1);
    let sink = Arc::new(VecSink::new());
    let opts = LookupOptions {
        backend: Backend::Symbolic,
        seed: Some(0),
        sink: Some(sink.clone() as Arc<dyn TraceSink>),
        diagonals: DiagonalMode::PreEncoded,
    };
    let r = run(
        Method::DigitsPacked,
        &tables,
        &indices,
        None,
        &toy("toy-n12-l10"),
        None,
        &opts,
    )
    .unwrap();
    assert!(r.max_abs_error.is_none());
    let events = sink.events();
    assert!(events
        .iter()
        .all(|e| e.scope.starts_with("lookup/digits-packed")));
    assert!(events.iter().all(|e| e.op != OpKind::EncryptPk));
    assert!(events.iter().any(|e| e.op == OpKind::MulPlain));
    assert!(!events.iter().any(|e| e.op == OpKind::Encode));
}

#[test]
fn method_names_round_trip() {
    for m in Method::ALL {
        assert_eq!(Method::from_name(m.name()), Some(m));
    }
    assert_eq!(Method::from_name("lut"), None);
}

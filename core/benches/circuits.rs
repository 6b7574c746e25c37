//! One column block of the packed Criteo embedding lookup (HE-LRM, threshold 20,000, base 4):
//! a 416 × 32,768 matrix on `helrm-n16-l10` whose 512 generalised diagonals (bh = 512) are all
//! non-zero, output replicated with period 512 (six folds). Single thread, pre-encoded
//! diagonals; the BSGS product with no, single and double hoisting.
//!
//! Run: `cargo bench -p helrm-core --bench circuits`. Needs about 7 GB of memory (52 Galois
//! keys of 56 MiB, 512 diagonals of 5.5 MiB in Q or 7 MiB in Q·P, one variant at a time).
//! Before timing, it prints the BSGS split, rotation and key-switch counts of the product and
//! the rotation count of the plain (non-BSGS) diagonal method.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]
#![allow(clippy::expect_used, reason = "benchmark set-up")]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use helrm_core::circuits::linear::{
    DiagonalMode, DiagonalSource, Hoisting, LinearTransform, OutputLayout,
};
use helrm_core::ckks::{CkksContext, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;

const ROWS: usize = 416;

fn bsgs_512(c: &mut Criterion) {
    let params = Params::preset("helrm-n16-l10").expect("preset");
    let slots = params.slots();
    let ctx = CkksContext::new(params.clone(), Backend::Real).expect("context");
    // Dense pseudo-random weights: every (c − r) mod 512 occurs, so all 512 diagonals are used.
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let entries = (0..ROWS)
        .flat_map(|r| (0..slots).map(move |c| (r, c)))
        .map(|(r, c)| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (r, c, ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) / 64.0)
        });
    let lt = LinearTransform::builder(ROWS, slots, slots)
        .output(OutputLayout::Replicated {
            period: 512,
            offset: 0,
        })
        .data_class(DataClass::PlaintextEmbedding)
        .build(entries)
        .expect("transform");
    let level = ctx.max_level();
    let (n1, n2) = lt.bsgs_split();
    println!(
        "matrix {ROWS} x {slots}, {} non-zero diagonals, BSGS n1 = {n1}, n2 = {n2}, folds = {}",
        lt.nonzero_diagonals(),
        lt.fold_rotations().len()
    );
    println!(
        "plain diagonal method: {} rotations (= key switches)",
        lt.plain_rotation_count()
    );
    for h in [Hoisting::None, Hoisting::Single, Hoisting::Double] {
        let cost = lt
            .cost(&params, level, h, DiagonalMode::PreEncoded)
            .expect("cost");
        println!(
            "{h:?}: {} rotations ({} baby + {} giant + {} fold), {} key switches, {} ModUp, \
             {} ModDown, {} plaintext multiplies, {:.2} GiB of encoded diagonals, {} Galois keys \
             ({:.2} GiB)",
            cost.rotations,
            cost.baby_rotations,
            cost.giant_rotations,
            cost.fold_rotations,
            cost.key_switches,
            cost.mod_ups,
            cost.mod_downs,
            cost.plaintext_multiplies,
            cost.encoded_diagonal_bytes as f64 / (1u64 << 30) as f64,
            cost.galois_keys,
            cost.galois_key_bytes as f64 / (1u64 << 30) as f64,
        );
    }

    let mut keygen = KeyGenerator::new(ctx.clone()).expect("keygen");
    let keys = keygen
        .evaluation_keys(&lt.rotations(), slots, false)
        .expect("keys");
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    let mut enc = Encryptor::new(ctx.clone(), keygen.public_key().expect("pk")).expect("enc");
    let x: Vec<f64> = (0..slots).map(|i| ((i % 7) as f64 - 3.0) / 4.0).collect();
    let ct = enc
        .encrypt(
            &ctx.encode_real(&x, level, params.default_scale(), slots, DataClass::Other)
                .expect("encode"),
        )
        .expect("encrypt");
    let inputs = vec![ct];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");

    let mut group = c.benchmark_group("linear_bsgs");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(20));
    for h in [Hoisting::None, Hoisting::Single, Hoisting::Double] {
        let diagonals = lt.encode(&eval, level, h).expect("encode diagonals");
        let id = format!("n=65536/limbs=11/diags=512/threads=1/hoisting={h:?}").to_lowercase();
        group.bench_function(id, |b| {
            pool.install(|| {
                b.iter(|| {
                    black_box(
                        lt.apply(&eval, &inputs, DiagonalSource::Encoded(&diagonals), h)
                            .expect("apply"),
                    )
                })
            })
        });
        drop(diagonals);
    }
    group.finish();
}

criterion_group!(benches, bsgs_512);
criterion_main!(benches);

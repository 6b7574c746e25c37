//! Encrypted inference of a small Criteo-shaped DLRM with composite ReLU and bootstrapping
//! (`toy-n12-boot`): encrypted logits against the plaintext composite model, the plan's
//! bootstrap placement, and real vs symbolic traces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use helrm_core::ckks::{CkksContext, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{diff_events, TraceEvent, Tracer, VecSink};
use helrm_workloads::data::{Dataset, SyntheticCriteo};
use helrm_workloads::dlrm::{train::train, Activation, Dlrm, DlrmConfig, TrainConfig};
use helrm_workloads::embed::CompressionPolicy;
use helrm_workloads::he::{Client, Server};
use helrm_workloads::plan::{plan, BootstrapKind, OpStep};
use std::sync::Arc;

const PARAMS: &str = "toy-n12-boot";

/// Bottom 13-8-4, tables of 30, 7, 200 and 5 rows (the 200-row one digit-compressed in base
/// 4), dimension 4, top 20-8-1; ReLU trained, then replaced by the composite ReLU.
fn model() -> (Dlrm, Dataset) {
    let cards = vec![30, 7, 200, 5];
    let data = SyntheticCriteo {
        cardinalities: cards.clone(),
        zipf_exponent: 1.05,
        positive_rate: 0.3,
        seed: 5,
    }
    .generate(384)
    .unwrap();
    let cfg = DlrmConfig::criteo_like(
        "criteo-tiny",
        &[8],
        4,
        &[8],
        &cards,
        Some(CompressionPolicy::new(4, 50).unwrap()),
        &Activation::Relu,
    );
    let mut m = Dlrm::new(cfg, 2).unwrap();
    let mut recipe = TrainConfig::criteo();
    recipe.epochs = 1;
    train(&mut m, &data, &recipe, |_| {}).unwrap();
    let cal = m.calibrate(&data).unwrap();
    m.set_calibration(Some(cal)).unwrap();
    assert_eq!(m.relu_to_core_composite().unwrap(), 3);
    (m, data)
}

fn row(d: &Dataset, i: usize) -> (&[f32], &[u32]) {
    let (nd, ns) = (d.num_dense(), d.num_sparse());
    (
        &d.dense()[i * nd..(i + 1) * nd],
        &d.sparse()[i * ns..(i + 1) * ns],
    )
}

fn run(m: &Dlrm, d: &Dataset, samples: usize, backend: Backend) -> (Vec<f64>, Vec<TraceEvent>) {
    let ctx = CkksContext::new(Params::preset(PARAMS).unwrap(), backend).unwrap();
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(if backend == Backend::Real {
        Tracer::new(sink.clone())
    } else {
        Tracer::untimed(sink.clone())
    });
    let mut client = Client::new(ctx.clone(), m, PARAMS, Some(11)).unwrap();
    let keys = client.evaluation_keys().unwrap();
    let server = Server::new(ctx, keys, m, Some(tracer.clone())).unwrap();
    let mut logits = Vec::new();
    for i in 0..samples {
        let (dense, sparse) = row(d, i);
        let q = client.encrypt(dense, sparse).unwrap();
        let (ct, _) = server.infer(&q).unwrap();
        if backend == Backend::Real {
            logits.push(client.decrypt_logit(&ct).unwrap());
        }
    }
    tracer.finish().unwrap();
    (logits, sink.take())
}

#[test]
fn plan_splits_each_relu_across_packed_bootstraps() {
    let (m, _) = model();
    let params = Params::preset(PARAMS).unwrap();
    let p = plan(&m, &params, PARAMS).unwrap();
    // Every layer: linear 1 + ReLU 4 + 4 + 5 + 1; 10 levels after each bootstrap.
    assert_eq!(p.levels_needed, 15 * 3 + 1);
    assert!(p.bootstrappable);
    assert_eq!(p.top_level, 10);
    // [L S1 S2] B [S3 P | L] B [S1 S2] B [S3 P] · [L] B [S1 S2] B [S3 P | L]: 5 bootstraps,
    // 3 of them packed (inside a ReLU).
    assert_eq!((p.bootstraps, p.packed_bootstraps), (5, 3));
    let b = p.bootstrap.as_ref().unwrap();
    assert_eq!(b.output_level, 10);
    assert!(b
        .galois_elements
        .iter()
        .all(|g| p.galois_elements.contains(g)));
    assert!(p.bootstrap_key_bytes > 0 && p.peak_memory_bytes > p.evaluation_key_bytes);
    // Packed bootstraps sit between sign stages, never before a linear product.
    for s in &p.steps {
        for (j, op) in s.ops.iter().enumerate() {
            if op.bootstrap_before == Some(BootstrapKind::Packed) {
                assert!(j >= 2, "{}", s.name);
                assert!(matches!(op.step, OpStep::Stage { .. } | OpStep::Product));
            }
            assert!(op.output_level <= 10);
        }
    }
    assert_eq!(p.steps.last().unwrap().output_level, 3);
}

#[test]
fn encrypted_composite_relu_dlrm_matches_plaintext_and_symbolic_trace() {
    let (m, d) = model();
    let samples = 2;
    let (logits, real) = run(&m, &d, samples, Backend::Real);
    let mut worst = 0f64;
    for (i, &got) in logits.iter().enumerate() {
        let (dense, sparse) = row(&d, i);
        let want = m.logit(dense, sparse).unwrap();
        eprintln!("sample {i}: encrypted {got}, plaintext {want}");
        worst = worst.max((got - want).abs());
        assert_eq!(got > 0.0, want > 0.0, "label of sample {i}");
    }
    // Five bootstraps (each good to about 2^-20 on values below 1) and three composite ReLUs:
    // measured 1.6e-8 (fixed keys and randomness). Packing y + i·g without first taking real
    // parts let the sign stages' magnified imaginary noise into y (7e-3 here), and unpacking
    // at twice the working scale cost the last sign stage its precision (1.3e-4 here).
    assert!(worst <= 1e-5, "max |logit diff| {worst}");
    let (_, symbolic) = run(&m, &d, samples, Backend::Symbolic);
    assert!(
        diff_events(&real, &symbolic).is_none(),
        "{:?}",
        diff_events(&real, &symbolic)
    );
    for scope in [
        "dlrm/bottom/layer0",
        "dlrm/embedding/lookup",
        "dlrm/activation",
        "dlrm/bootstrap",
        "dlrm/bootstrap_pack",
        "dlrm/top/layer1",
    ] {
        assert!(
            real.iter().any(|e| e.scope.starts_with(scope)),
            "no event in scope {scope}"
        );
    }
}

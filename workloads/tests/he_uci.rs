//! Encrypted UCI inference against the plaintext model, real vs symbolic traces, and the
//! plan's level count against the levels a run consumes (toy parameters).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use helrm_core::ckks::{CkksContext, Params};
use helrm_core::ring::Backend;
use helrm_core::trace::{diff_events, TraceEvent, Tracer, VecSink};
use helrm_workloads::data::{cleveland_split, Dataset};
use helrm_workloads::dlrm::config::mlp;
use helrm_workloads::dlrm::{train::train, Activation, Dlrm, DlrmConfig, TrainConfig};
use helrm_workloads::he::{Client, Server};
use helrm_workloads::plan::plan;
use helrm_workloads::Error;
use std::sync::Arc;

const PARAMS: &str = "toy-n12-l10";

fn model() -> (Dlrm, Dataset) {
    let split = cleveland_split().unwrap();
    let mut m = Dlrm::new(DlrmConfig::uci(), 1).unwrap();
    train(&mut m, &split.train, &TrainConfig::uci(), |_| {}).unwrap();
    (m, split.test)
}

fn row(d: &Dataset, i: usize) -> (&[f32], &[u32]) {
    let (nd, ns) = (d.num_dense(), d.num_sparse());
    (
        &d.dense()[i * nd..(i + 1) * nd],
        &d.sparse()[i * ns..(i + 1) * ns],
    )
}

/// Runs `samples` rows on `backend`; returns the logits (real only), the trace and the level
/// of the last logit ciphertext.
fn run(
    m: &Dlrm,
    d: &Dataset,
    samples: usize,
    backend: Backend,
) -> (Vec<f64>, Vec<TraceEvent>, usize) {
    let ctx = CkksContext::new(Params::preset(PARAMS).unwrap(), backend).unwrap();
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(if backend == Backend::Real {
        Tracer::new(sink.clone())
    } else {
        Tracer::untimed(sink.clone())
    });
    let mut client = Client::new(ctx.clone(), m, PARAMS, Some(7)).unwrap();
    let keys = client.evaluation_keys().unwrap();
    let server = Server::new(ctx, keys, m, Some(tracer.clone())).unwrap();
    let mut logits = Vec::new();
    let mut level = 0;
    for i in 0..samples {
        let (dense, sparse) = row(d, i);
        let q = client.encrypt(dense, sparse).unwrap();
        let (ct, _) = server.infer(&q).unwrap();
        level = ct.level().get();
        if backend == Backend::Real {
            logits.push(client.decrypt_logit(&ct).unwrap());
        }
    }
    tracer.finish().unwrap();
    (logits, sink.take(), level)
}

#[test]
fn encrypted_uci_logits_match_plaintext_and_traces_match_symbolic() {
    let (m, test) = model();
    let samples = 4;
    let (logits, real, level) = run(&m, &test, samples, Backend::Real);
    for (i, &got) in logits.iter().enumerate() {
        let (dense, sparse) = row(&test, i);
        let want = m.logit(dense, sparse).unwrap();
        assert!(
            (got - want).abs() <= 1e-3,
            "sample {i}: encrypted {got}, plaintext {want}"
        );
        assert_eq!(got > 0.0, want > 0.0, "label of sample {i}");
    }
    // The plan's level count is what the run consumed.
    let params = Params::preset(PARAMS).unwrap();
    let p = plan(&m, &params, PARAMS).unwrap();
    assert_eq!(p.levels_needed, 6);
    assert_eq!(p.bootstraps, 0);
    assert_eq!(p.top_level - level, p.levels_needed as usize);
    // Real and symbolic runs emit the same trace.
    let (_, symbolic, slevel) = run(&m, &test, samples, Backend::Symbolic);
    assert_eq!(slevel, level);
    assert!(
        diff_events(&real, &symbolic).is_none(),
        "{:?}",
        diff_events(&real, &symbolic)
    );
    for scope in [
        "dlrm/bottom/layer0",
        "dlrm/embedding/lookup",
        "dlrm/top/layer1",
        "dlrm/activation",
    ] {
        assert!(
            real.iter().any(|e| e.scope.starts_with(scope)),
            "no event in scope {scope}"
        );
    }
}

#[test]
fn a_model_deeper_than_the_chain_is_refused_with_the_bootstrap_count() {
    // Bottom 5-8-8-8-8-4 with x²: 2·4 + 1 = 9 levels, top 3: 12 > the 10 of the chain.
    let mut cfg = DlrmConfig::uci();
    cfg.bottom = mlp(
        &[5, 8, 8, 8, 8, 4],
        &Activation::Square,
        &Activation::Identity,
    );
    let m = Dlrm::new(cfg, 3).unwrap();
    let params = Params::preset(PARAMS).unwrap();
    let p = plan(&m, &params, PARAMS).unwrap();
    assert_eq!(p.levels_needed, 12);
    assert_eq!(p.bootstraps, 1);
    assert!(p.steps.iter().any(|s| s.bootstrap_before));
    let ctx = CkksContext::new(params, Backend::Symbolic).unwrap();
    match Client::new(ctx, &m, PARAMS, Some(1)) {
        Err(Error::NeedsBootstrap {
            needed,
            available,
            bootstraps,
            ..
        }) => assert_eq!((needed, available, bootstraps), (12, 10, 1)),
        other => panic!("expected NeedsBootstrap, got {other:?}"),
    }
}

#[test]
fn uci_plan_at_helrm_n16_l10_needs_no_bootstrap() {
    let m = Dlrm::new(DlrmConfig::uci(), 1).unwrap();
    let params = Params::preset("helrm-n16-l10").unwrap();
    let p = plan(&m, &params, "helrm-n16-l10").unwrap();
    assert_eq!((p.levels_needed, p.bootstraps, p.top_level), (6, 0, 10));
    assert!(p.fits());
    // 36-wide concatenation and the 31-row packed one-hot fit 64 slots.
    assert_eq!((p.period, p.slots), (64, 64));
    assert_eq!((p.dense_ciphertexts, p.sparse_ciphertexts), (1, 1));
    let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bottom/layer0",
            "bottom/layer1",
            "embedding/lookup",
            "top/layer0",
            "top/layer1"
        ]
    );
    // The lookup lands on the bottom output's level before the concatenation.
    assert_eq!(p.steps[1].output_level, 7);
    assert_eq!(p.steps[3].input_level, 7);
    assert!(!p.rotations.is_empty());
    assert_eq!(p.galois_elements.len(), p.rotations.len());
    assert!(p.evaluation_key_bytes > 0 && p.peak_memory_bytes >= p.evaluation_key_bytes);
}

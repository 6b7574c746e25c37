//! Training: gradients against finite differences, reproducibility, the UCI accuracy bar, a
//! small-budget Criteo full-vs-compressed run, and bad settings.
#![allow(clippy::unwrap_used, reason = "tests panic on failure")]

use helrm_workloads::data::criteo::{load_shipped_raw, IndexScheme, CRITEO_KAGGLE_CARDINALITIES};
use helrm_workloads::data::{cleveland_split, Dataset, SparseFeature, Standardizer};
use helrm_workloads::dlrm::train::{loss_and_gradients, train};
use helrm_workloads::dlrm::{
    Activation, ChebPoly, Composite, CompositeOutput, DenseOptimizer, Dlrm, DlrmConfig,
    EmbeddingOptimizer, LayerConfig, TrainConfig,
};
use helrm_workloads::embed::CompressionPolicy;
use helrm_workloads::Error;

fn dataset(cards: &[u64], dense: usize, n: usize, seed: usize) -> Dataset {
    let mut d = Vec::new();
    let mut s = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        for j in 0..dense {
            d.push(((i * 7 + j * 3 + seed) % 11) as f32 / 5.0 - 1.0);
        }
        for (t, &k) in cards.iter().enumerate() {
            s.push(((i * 31 + t * 17 + seed) as u64 % k) as u32);
        }
        labels.push(u8::from((i + seed).is_multiple_of(3)));
    }
    Dataset::new(
        "synthetic",
        (0..dense).map(|j| format!("d{j}")).collect(),
        cards
            .iter()
            .enumerate()
            .map(|(t, &k)| SparseFeature::new(format!("s{t}"), k))
            .collect(),
        d,
        s,
        labels,
    )
    .unwrap()
}

/// A model exercising every activation kind, a full and a compressed table.
fn mixed_model() -> Dlrm {
    let poly = ChebPoly::new(-3.0, 3.0, vec![0.1, 0.8, 0.3, -0.05]).unwrap();
    let step = ChebPoly::new(-1.0, 1.0, vec![0.0, 9.0 / 8.0, 0.0, -1.0 / 8.0]).unwrap();
    let config = DlrmConfig {
        name: "mixed".into(),
        num_dense: 3,
        bottom: vec![
            LayerConfig::new(3, 5, Activation::Square),
            LayerConfig::new(5, 2, Activation::Poly(poly)),
        ],
        embedding_dim: 2,
        cardinalities: vec![4, 30],
        compression: Some(CompressionPolicy::new(3, 10).unwrap()),
        top: vec![
            LayerConfig::new(
                2 + 2 * 2,
                4,
                Activation::Composite(
                    Composite::new(
                        vec![step.clone(), step.clone()],
                        4.0,
                        CompositeOutput::Value,
                    )
                    .unwrap(),
                ),
            ),
            LayerConfig::new(
                4,
                3,
                Activation::Composite(Composite::relu(vec![step; 2], 3.0).unwrap()),
            ),
            LayerConfig::new(3, 1, Activation::Identity),
        ],
    };
    let mut m = Dlrm::new(config, 21).unwrap();
    // Larger embedding rows than the default init so their gradients are well above noise.
    for t in m.tables_mut() {
        for (i, w) in t.weights_mut().iter_mut().enumerate() {
            *w = ((i * 13) % 7) as f32 / 8.0 - 0.4;
        }
    }
    m
}

#[test]
fn gradients_match_finite_differences() {
    let model = mixed_model();
    let data = dataset(&[4, 30], 3, 9, 1);
    let rows: Vec<usize> = (0..9).collect();
    let (loss, g) = loss_and_gradients(&model, &data, &rows).unwrap();
    assert!(loss.is_finite() && loss > 0.0);
    let loss_of = |m: &Dlrm| loss_and_gradients(m, &data, &rows).unwrap().0;
    let h = 1e-5;
    let close = |analytic: f64, numeric: f64, what: &str| {
        assert!(
            (analytic - numeric).abs() < 1e-6 + 1e-4 * numeric.abs(),
            "{what}: analytic {analytic}, numeric {numeric}"
        );
    };
    // Dense weights and biases, every layer.
    for stage in 0..2 {
        let n = if stage == 0 {
            model.bottom().len()
        } else {
            model.top().len()
        };
        for l in 0..n {
            let grad = if stage == 0 { &g.bottom[l] } else { &g.top[l] };
            for k in 0..grad.weights.len() {
                let mut p = model.clone();
                let mut q = model.clone();
                let (lp, lq) = if stage == 0 {
                    (&mut p.bottom_mut()[l], &mut q.bottom_mut()[l])
                } else {
                    (&mut p.top_mut()[l], &mut q.top_mut()[l])
                };
                lp.weights_mut()[k] += h;
                lq.weights_mut()[k] -= h;
                close(
                    grad.weights[k],
                    (loss_of(&p) - loss_of(&q)) / (2.0 * h),
                    &format!("stage {stage} layer {l} w{k}"),
                );
            }
            for k in 0..grad.bias.len() {
                let mut p = model.clone();
                let mut q = model.clone();
                let (lp, lq) = if stage == 0 {
                    (&mut p.bottom_mut()[l], &mut q.bottom_mut()[l])
                } else {
                    (&mut p.top_mut()[l], &mut q.top_mut()[l])
                };
                lp.bias_mut()[k] += h;
                lq.bias_mut()[k] -= h;
                close(
                    grad.bias[k],
                    (loss_of(&p) - loss_of(&q)) / (2.0 * h),
                    &format!("stage {stage} layer {l} b{k}"),
                );
            }
        }
    }
    // Embedding rows (f32 storage: use the perturbation actually stored).
    assert!(!g.embeddings.is_empty());
    for pair in g.embeddings.windows(2) {
        assert!((pair[0].table, pair[0].row) < (pair[1].table, pair[1].row));
    }
    let d = model.config().embedding_dim;
    let mut touched = 0;
    for t in 0..2 {
        for r in 0..model.tables()[t].rows() {
            let analytic = g
                .embeddings
                .iter()
                .find(|e| e.table == t && e.row == r as u64)
                .map(|e| e.values.clone());
            touched += usize::from(analytic.is_some());
            for c in 0..d {
                let mut p = model.clone();
                let mut q = model.clone();
                let w = model.tables()[t].weights()[r * d + c];
                let (wp, wq) = (w + 1e-2, w - 1e-2);
                p.tables_mut()[t].weights_mut()[r * d + c] = wp;
                q.tables_mut()[t].weights_mut()[r * d + c] = wq;
                let numeric = (loss_of(&p) - loss_of(&q)) / f64::from(wp - wq);
                let a = analytic.as_ref().map_or(0.0, |v| v[c]);
                assert!(
                    (a - numeric).abs() < 2e-4 + 1e-3 * numeric.abs(),
                    "table {t} row {r} col {c}: analytic {a}, numeric {numeric}"
                );
            }
        }
    }
    assert_eq!(touched, g.embeddings.len());
}

#[test]
fn uci_model_reaches_80_percent_on_the_held_out_rows() {
    let split = cleveland_split().unwrap();
    assert_eq!(split.test.len(), 61);
    let mut model = Dlrm::new(DlrmConfig::uci(), 1).unwrap();
    let report = train(&mut model, &split.train, &TrainConfig::uci(), |_| {}).unwrap();
    assert_eq!(report.epochs.len(), 30);
    assert_eq!(report.steps, 30 * 242usize.div_ceil(16));
    assert!(report.epochs[29].mean_loss < report.epochs[0].mean_loss);
    let m = model.evaluate(&split.test).unwrap();
    println!("UCI held-out: {m:?}");
    assert!(m.accuracy >= 0.80, "held-out accuracy {}", m.accuracy);
    assert!(m.auc.unwrap() > 0.85, "held-out AUC {:?}", m.auc);
    assert_eq!(model.depth().unwrap().total, 6);
}

#[test]
fn training_is_reproducible_across_thread_counts() {
    let split = cleveland_split().unwrap();
    let mut cfg = TrainConfig::uci();
    cfg.epochs = 3;
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut m = Dlrm::new(DlrmConfig::uci(), 3).unwrap();
            train(&mut m, &split.train, &cfg, |_| {}).unwrap();
            m
        })
    };
    let a = run(1);
    let b = run(2);
    assert_eq!(a, b);
    let mut other = cfg;
    other.seed += 1;
    let mut c = Dlrm::new(DlrmConfig::uci(), 3).unwrap();
    train(&mut c, &split.train, &other, |_| {}).unwrap();
    assert_ne!(a, c, "the shuffling seed must matter");
}

#[test]
fn small_criteo_full_and_compressed_both_learn() {
    // Reduced budget: Kaggle hashing into tables capped at 2^15 rows (so the full model is
    // 26 tables of at most 32,768 × 8), narrow MLPs, one epoch on the 8,000 training rows.
    let caps: Vec<u64> = CRITEO_KAGGLE_CARDINALITIES
        .iter()
        .map(|&k| k.min(1 << 15))
        .collect();
    let (train_raw, holdout_raw) = load_shipped_raw().unwrap();
    let scheme = IndexScheme::Hashed { table_sizes: &caps };
    let mut tr = train_raw.to_dataset(&scheme, "train").unwrap();
    let mut ho = holdout_raw.to_dataset(&scheme, "holdout").unwrap();
    let st = Standardizer::fit(&tr).unwrap();
    st.apply(&mut tr).unwrap();
    st.apply(&mut ho).unwrap();
    let mut aucs = Vec::new();
    for policy in [None, Some(CompressionPolicy::HE_LRM)] {
        let cfg =
            DlrmConfig::criteo_like("small", &[32], 8, &[32], &caps, policy, &Activation::Relu);
        let mut m = Dlrm::new(cfg, 5).unwrap();
        train(&mut m, &tr, &TrainConfig::criteo(), |_| {}).unwrap();
        let metrics = m.evaluate(&ho).unwrap();
        assert_eq!(metrics.samples, 2000);
        aucs.push(metrics.auc.unwrap());
    }
    println!("small Criteo hold-out AUC, full vs compressed: {aucs:?}");
    assert!(
        aucs.iter().all(|&a| a > 0.6),
        "hold-out AUC full, compressed: {aucs:?}"
    );
}

#[test]
fn bad_settings_and_divergence_are_typed_errors() {
    let data = dataset(&[4, 30], 3, 10, 0);
    let mut m = mixed_model();
    let base = TrainConfig::uci();
    let cases: Vec<(TrainConfig, &str)> = vec![
        (TrainConfig { epochs: 0, ..base }, "epochs"),
        (
            TrainConfig {
                batch_size: 0,
                ..base
            },
            "batch_size",
        ),
        (
            TrainConfig {
                dense: DenseOptimizer::Sgd { lr: -1.0 },
                ..base
            },
            "lr",
        ),
        (
            TrainConfig {
                embeddings: EmbeddingOptimizer::Sgd { lr: f64::NAN },
                ..base
            },
            "lr",
        ),
        (
            TrainConfig {
                dense: DenseOptimizer::Adam {
                    lr: 0.1,
                    beta1: 1.0,
                    beta2: 0.9,
                    epsilon: 1e-8,
                },
                ..base
            },
            "beta",
        ),
        (
            TrainConfig {
                weight_decay: -1.0,
                ..base
            },
            "weight_decay",
        ),
        (
            TrainConfig {
                clip_norm: Some(0.0),
                ..base
            },
            "clip_norm",
        ),
    ];
    for (cfg, field) in cases {
        assert!(
            matches!(train(&mut m, &data, &cfg, |_| {}), Err(Error::InvalidParameter { name, .. }) if name == field),
            "{field}"
        );
    }
    let empty = dataset(&[4, 30], 3, 0, 0);
    assert!(matches!(
        train(&mut m, &empty, &base, |_| {}),
        Err(Error::ShapeMismatch {
            what: "training rows",
            ..
        })
    ));
    assert!(matches!(
        train(&mut m, &dataset(&[4, 31], 3, 5, 0), &base, |_| {}),
        Err(Error::ShapeMismatch {
            what: "table cardinality",
            ..
        })
    ));
    assert!(matches!(
        loss_and_gradients(&m, &data, &[10]),
        Err(Error::ShapeMismatch {
            what: "row index",
            expected: 10,
            found: 10
        })
    ));
    // Squares of 1e200 overflow to infinity: the loss is not finite and training stops.
    let mut huge = Dlrm::new(DlrmConfig::uci(), 0).unwrap();
    huge.bottom_mut()[0]
        .weights_mut()
        .iter_mut()
        .for_each(|w| *w = 1e200);
    let split = cleveland_split().unwrap();
    let before = huge.clone();
    assert!(matches!(
        train(&mut huge, &split.train, &base, |_| {}),
        Err(Error::TrainingDiverged {
            epoch: 0,
            batch: 0,
            ..
        })
    ));
    assert_eq!(huge, before, "a diverged step must not touch the weights");
}

#[test]
fn progress_reports_every_step() {
    let split = cleveland_split().unwrap();
    let mut m = Dlrm::new(DlrmConfig::uci(), 2).unwrap();
    let mut cfg = TrainConfig::uci();
    cfg.epochs = 2;
    let mut seen = Vec::new();
    train(&mut m, &split.train, &cfg, |p| {
        seen.push((p.epoch, p.batch, p.batches))
    })
    .unwrap();
    assert_eq!(seen.len(), 2 * 16);
    assert_eq!(seen[0], (0, 1, 16));
    assert_eq!(seen[31], (1, 16, 16));
}

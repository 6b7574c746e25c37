//! DLRM configurations, forward pass known answers, activations, calibration and export.
#![allow(clippy::unwrap_used, reason = "tests panic on failure")]

use helrm_workloads::data::{Dataset, SparseFeature};
use helrm_workloads::dlrm::{
    Activation, ChebPoly, Composite, CompositeOutput, Dlrm, DlrmConfig, LayerConfig, MlpStage,
    CALIBRATION_MARGIN,
};
use helrm_workloads::embed::CompressionPolicy;
use helrm_workloads::Error;

/// dense 1 → bottom [1→1, Square] → concat [h | e] (e: compressed base-2 table of 3 rows,
/// dim 1) → top [2→1, Identity].
fn tiny() -> Dlrm {
    let config = DlrmConfig {
        name: "tiny".into(),
        num_dense: 1,
        bottom: vec![LayerConfig::new(1, 1, Activation::Square)],
        embedding_dim: 1,
        cardinalities: vec![3],
        compression: Some(CompressionPolicy::all(2).unwrap()),
        top: vec![LayerConfig::new(2, 1, Activation::Identity)],
    };
    Dlrm::from_parts(
        config,
        vec![(vec![2.0], vec![1.0])],
        vec![vec![1.0, 10.0, 100.0, 1000.0]],
        vec![(vec![1.0, 1.0], vec![0.5])],
    )
    .unwrap()
}

#[test]
fn forward_known_answer_with_compressed_table() {
    let m = tiny();
    // ℓ = 2 (2 < 3 ≤ 4); index 2 = digits [0, 1] → expanded rows 0 and 2 + 1 = 3.
    // (2·1 + 1)² + (1 + 1000) + 0.5
    assert_eq!(m.logit(&[1.0], &[2]).unwrap(), 9.0 + 1001.0 + 0.5);
    // index 1 = digits [1, 0] → rows 1 and 2: (2·(−1) + 1)² + 10 + 100 + 0.5
    assert_eq!(m.logit(&[-1.0], &[1]).unwrap(), 1.0 + 110.0 + 0.5);
    assert_eq!(m.tables()[0].lookup(0).unwrap(), vec![1.0 + 100.0]);
    assert!(matches!(
        m.logit(&[1.0], &[3]),
        Err(Error::IndexOutOfRange {
            feature: 0,
            index: 3,
            cardinality: 3,
            ..
        })
    ));
    assert!(matches!(
        m.logit(&[1.0, 2.0], &[0]),
        Err(Error::ShapeMismatch {
            what: "dense features",
            expected: 1,
            found: 2
        })
    ));
    assert!(matches!(
        m.logit(&[1.0], &[]),
        Err(Error::ShapeMismatch {
            what: "sparse features",
            ..
        })
    ));
}

#[test]
fn compressed_lookup_is_the_one_hot_matrix_product() {
    // Σ_j T_j[digit_j] must equal Wᵀx with W the expanded rows and x the one-hot segment.
    let cfg = DlrmConfig::criteo_like(
        "small",
        &[4],
        3,
        &[4],
        &[1000, 7, 70_000],
        Some(CompressionPolicy::new(5, 100).unwrap()),
        &Activation::Square,
    );
    let m = Dlrm::new(cfg, 3).unwrap();
    for table in m.tables() {
        let k = table.layout().cardinality();
        for index in [0, 1, k / 3, k - 1] {
            let x = table.layout().one_hot(index).unwrap();
            let mut want = vec![0.0; table.dim()];
            for (r, &xr) in x.iter().enumerate() {
                for (c, w) in want.iter_mut().enumerate() {
                    *w += xr * table.value(r, c).unwrap();
                }
            }
            assert_eq!(table.lookup(index).unwrap(), want);
        }
    }
    assert!(m.tables()[0].layout().is_compressed());
    assert!(!m.tables()[1].layout().is_compressed());
    assert_eq!(m.tables()[0].rows(), 5 * 5); // 5^4 = 625 < 1000 ≤ 3125
}

#[test]
fn presets_have_the_documented_shapes() {
    let uci = DlrmConfig::named("uci").unwrap();
    uci.check().unwrap();
    assert_eq!(uci.num_dense, 5);
    assert_eq!(uci.cardinalities, vec![3, 5, 3, 4, 3, 4, 5, 4]);
    assert_eq!(uci.interaction_width(), 4 + 8 * 4);
    let d = uci.depth().unwrap();
    assert_eq!(d.bottom, vec![2, 1]);
    assert_eq!(d.embedding, 1);
    assert_eq!(d.interaction, 3);
    assert_eq!(d.top, vec![2, 1]);
    assert_eq!(
        d.total, 6,
        "UCI must fit helrm-n16-l10 without bootstrapping"
    );

    let criteo = DlrmConfig::named("criteo").unwrap();
    criteo.check().unwrap();
    let widths = |ls: &[LayerConfig]| {
        let mut w = vec![ls[0].inputs];
        w.extend(ls.iter().map(|l| l.outputs));
        w
    };
    assert_eq!(widths(&criteo.bottom), vec![13, 512, 256, 64, 16]);
    assert_eq!(widths(&criteo.top), vec![432, 512, 256, 1]);
    assert_eq!(criteo.layout().unwrap().total_rows(), 47_746);
    assert!(criteo
        .bottom
        .iter()
        .all(|l| l.activation == Activation::Relu));
    assert_eq!(criteo.top[2].activation, Activation::Identity);
    assert!(matches!(
        criteo.depth(),
        Err(Error::NotPolynomial {
            activation: "relu",
            ..
        })
    ));
    let m44 = DlrmConfig::named("criteo-44m").unwrap();
    let l44 = m44.layout().unwrap();
    assert_eq!(l44.total_rows(), 2_772_096);
    assert_eq!(l44.compressed_tables(), 4);
    let full = DlrmConfig::named("criteo-full").unwrap();
    assert_eq!(full.layout().unwrap().parameters(16), 540_201_232);
    assert!(matches!(
        DlrmConfig::named("criteo-1b"),
        Err(Error::UnknownConfig { ref name, .. }) if name == "criteo-1b"
    ));
}

#[test]
fn inconsistent_configs_name_the_field() {
    let mut c = DlrmConfig::uci();
    c.top[0].inputs = 35;
    assert!(matches!(
        c.check(),
        Err(Error::InvalidModel { ref field, ref expected, ref found })
            if field == "top[0].inputs" && expected == "36" && found == "35"
    ));
    let mut c = DlrmConfig::uci();
    c.top[1].outputs = 2;
    assert!(
        matches!(c.check(), Err(Error::InvalidModel { ref field, .. }) if field == "top[1].outputs")
    );
    let mut c = DlrmConfig::uci();
    c.cardinalities[2] = 0;
    assert!(
        matches!(c.check(), Err(Error::InvalidModel { ref field, .. }) if field == "cardinalities[2]")
    );
    let mut c = DlrmConfig::uci();
    c.bottom[1].inputs = 7;
    assert!(
        matches!(Dlrm::new(c, 0), Err(Error::InvalidModel { ref field, .. }) if field == "bottom[1].inputs")
    );
    let mut c = DlrmConfig::uci();
    c.top.clear();
    assert!(matches!(c.check(), Err(Error::InvalidModel { ref field, .. }) if field == "top"));
}

#[test]
fn from_parts_rejects_wrong_shapes_and_non_finite_weights() {
    let cfg = tiny().config().clone();
    let err = Dlrm::from_parts(
        cfg.clone(),
        vec![(vec![2.0], vec![1.0, 2.0])],
        vec![vec![0.0; 4]],
        vec![(vec![1.0, 1.0], vec![0.5])],
    );
    assert!(
        matches!(err, Err(Error::InvalidModel { ref field, .. }) if field == "weights.bottom[0].bias")
    );
    let err = Dlrm::from_parts(
        cfg.clone(),
        vec![(vec![2.0], vec![1.0])],
        vec![vec![0.0, 0.0, f32::NAN, 0.0]],
        vec![(vec![1.0, 1.0], vec![0.5])],
    );
    assert!(
        matches!(err, Err(Error::InvalidModel { ref field, .. }) if field == "weights.tables[0][2]")
    );
    let err = Dlrm::from_parts(
        cfg,
        vec![(vec![2.0], vec![1.0])],
        vec![vec![0.0; 4]],
        vec![(vec![1.0, f64::INFINITY], vec![0.5])],
    );
    assert!(
        matches!(err, Err(Error::InvalidModel { ref field, .. }) if field == "weights.top[0].weights[1]")
    );
}

#[test]
fn init_is_seeded() {
    let a = Dlrm::new(DlrmConfig::uci(), 5).unwrap();
    let b = Dlrm::new(DlrmConfig::uci(), 5).unwrap();
    let c = Dlrm::new(DlrmConfig::uci(), 6).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.tables().iter().all(|t| {
        let bound = (1.0 / t.rows() as f32).sqrt();
        t.weights().iter().all(|w| w.abs() <= bound)
    }));
}

#[test]
fn chebyshev_polynomials_evaluate_exactly() {
    // 2 T0 − T1 + 0.5 T2 on [−1, 1] = 2 − t + (t² − 0.5)
    let p = ChebPoly::new(-1.0, 1.0, vec![2.0, -1.0, 0.5]).unwrap();
    for t in [-1.0, -0.3, 0.0, 0.7, 1.0] {
        assert!((p.eval(t) - (2.0 - t + t * t - 0.5)).abs() < 1e-14);
        let (_, d) = p.eval_with_derivative(t);
        assert!((d - (-1.0 + 2.0 * t)).abs() < 1e-14);
    }
    // x² interpolated on [−3, 5] at degree 2 is x² exactly (up to rounding).
    let sq = ChebPoly::interpolate(|x| x * x, -3.0, 5.0, 2).unwrap();
    for x in [-3.0, -1.0, 0.0, 2.5, 5.0] {
        assert!((sq.eval(x) - x * x).abs() < 1e-12, "{x}");
        let (_, d) = sq.eval_with_derivative(x);
        assert!((d - 2.0 * x).abs() < 1e-12);
    }
    // sigmoid on [−8, 8] at degree 31: Chebyshev interpolation error ≈ 1e-6 (the
    // coefficients decay like ρ^-n with ρ ≈ 1.48 for the poles at ±πi); assert 1e-4.
    let sig = ChebPoly::interpolate(|x| 1.0 / (1.0 + (-x).exp()), -8.0, 8.0, 31).unwrap();
    let worst = (0..=1600)
        .map(|i| -8.0 + 0.01 * f64::from(i))
        .map(|x| (sig.eval(x) - 1.0 / (1.0 + (-x).exp())).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-4, "{worst}");
    // depth ⌈log2(n + 1)⌉, + 1 off [−1, 1]
    assert_eq!(sig.depth(), 5 + 1);
    assert_eq!(p.depth(), 2);
    assert_eq!(ChebPoly::new(-1.0, 1.0, vec![0.0; 16]).unwrap().depth(), 4);
    assert_eq!(ChebPoly::new(-1.0, 1.0, vec![0.0; 28]).unwrap().depth(), 5);
    assert_eq!(ChebPoly::new(-1.0, 1.0, vec![1.0]).unwrap().depth(), 0);
    assert!(matches!(
        ChebPoly::new(1.0, -1.0, vec![1.0]),
        Err(Error::InvalidParameter {
            name: "interval",
            ..
        })
    ));
    assert!(matches!(
        ChebPoly::new(-1.0, 1.0, vec![]),
        Err(Error::InvalidParameter {
            name: "coefficients",
            ..
        })
    ));
    assert!(matches!(
        ChebPoly::new(-1.0, 1.0, vec![f64::NAN]),
        Err(Error::InvalidParameter {
            name: "coefficients",
            ..
        })
    ));
}

/// `(3t − t³)/2` in the Chebyshev basis on [−1, 1]: t³ = (3T1 + T3)/4 → (9/8) T1 − (1/8) T3.
fn sign_step() -> ChebPoly {
    ChebPoly::new(-1.0, 1.0, vec![0.0, 9.0 / 8.0, 0.0, -1.0 / 8.0]).unwrap()
}

#[test]
fn composite_relu_approximates_relu_and_counts_levels() {
    let relu = Composite::relu(vec![sign_step(); 8], 4.0).unwrap();
    for x in [-4.0, -2.0, -0.5, 0.5, 1.0, 3.9] {
        let want: f64 = f64::max(x, 0.0);
        assert!((relu.eval(x) - want).abs() < 1e-2 * x.abs().max(1.0), "{x}");
    }
    assert_eq!(relu.eval(0.0), 0.0);
    // 8 stages × 2 + the product by x; the prescale is folded into the linear layers.
    assert_eq!(relu.depth(), 16 + 1);
    // Orion's composite sign (degrees 15, 15, 27 on [−1, 1]) → 4 + 4 + 5 + 1 = 14 levels, as
    // core::circuits::activation counts it.
    let stages: Vec<ChebPoly> = [15usize, 15, 27]
        .iter()
        .map(|&n| ChebPoly::new(-1.0, 1.0, vec![0.0; n + 1]).unwrap())
        .collect();
    assert_eq!(Composite::relu(stages.clone(), 2.0).unwrap().depth(), 14);
    assert_eq!(
        Composite::relu_from_step(stages.clone(), 2.0)
            .unwrap()
            .depth(),
        14
    );
    assert_eq!(
        Composite::new(stages, 2.0, CompositeOutput::Value)
            .unwrap()
            .depth(),
        13
    );
    // The step form (last stage folded into (1 + p)/2) computes the same function.
    let mut step_stages = vec![sign_step(); 8];
    step_stages.push(ChebPoly::new(-1.0, 1.0, vec![0.5, 0.5]).unwrap());
    let from_step = Composite::relu_from_step(step_stages, 4.0).unwrap();
    for x in [-3.0, -0.7, 0.0, 0.2, 1.5, 3.3] {
        assert!((from_step.eval(x) - relu.eval(x)).abs() < 1e-14, "{x}");
    }
    assert!(matches!(
        Composite::new(vec![], 1.0, CompositeOutput::Value),
        Err(Error::InvalidParameter { name: "stages", .. })
    ));
    assert!(matches!(
        Composite::relu(vec![sign_step()], 0.0),
        Err(Error::InvalidParameter {
            name: "input_bound",
            ..
        })
    ));
    assert_eq!(Activation::Composite(relu).name(), "composite");
}

#[test]
fn activation_derivatives_match_finite_differences() {
    let acts = [
        Activation::Identity,
        Activation::Square,
        Activation::Poly(ChebPoly::new(-2.0, 3.0, vec![0.3, -1.2, 0.7, 0.25]).unwrap()),
        Activation::Composite(
            Composite::new(vec![sign_step(), sign_step()], 3.0, CompositeOutput::Value).unwrap(),
        ),
        Activation::Composite(Composite::relu(vec![sign_step(); 3], 2.5).unwrap()),
        Activation::Composite(
            Composite::relu_from_step(
                vec![
                    sign_step(),
                    ChebPoly::new(-1.0, 1.0, vec![0.5, 0.5]).unwrap(),
                ],
                1.5,
            )
            .unwrap(),
        ),
    ];
    let h = 1e-6;
    for a in &acts {
        for x in [-1.7, -0.4, 0.1, 0.9, 2.2] {
            let (v, d) = a.eval_with_derivative(x);
            assert_eq!(v, a.eval(x));
            let fd = (a.eval(x + h) - a.eval(x - h)) / (2.0 * h);
            assert!(
                (d - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "{} at {x}: {d} vs {fd}",
                a.name()
            );
        }
    }
    assert_eq!(Activation::Relu.eval_with_derivative(-1.0), (0.0, 0.0));
    assert_eq!(Activation::Relu.eval_with_derivative(2.0), (2.0, 1.0));
    assert_eq!(Activation::Relu.depth(), None);
}

fn small_dataset(cards: &[u64], dense: usize, n: usize) -> Dataset {
    let mut d = Vec::new();
    let mut s = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        for j in 0..dense {
            d.push(((i * 7 + j * 3) % 11) as f32 / 5.0 - 1.0);
        }
        for (t, &k) in cards.iter().enumerate() {
            s.push(((i * 31 + t * 17) as u64 % k) as u32);
        }
        labels.push(u8::from(i.is_multiple_of(3)));
    }
    Dataset::new(
        "small",
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

#[test]
fn predict_logits_matches_rows_and_thread_counts() {
    let cfg = DlrmConfig::criteo_like(
        "small",
        &[8],
        4,
        &[8],
        &[50, 9, 300],
        Some(CompressionPolicy::new(3, 40).unwrap()),
        &Activation::Square,
    );
    let m = Dlrm::new(cfg, 9).unwrap();
    let mut data = small_dataset(&[50, 9, 300], 13, 200);
    let logits = m.predict_logits(&data).unwrap();
    for (i, &z) in logits.iter().enumerate() {
        let r = data.row(i).unwrap();
        assert_eq!(m.logit(r.dense, r.sparse).unwrap(), z);
    }
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    assert_eq!(one.install(|| m.predict_logits(&data).unwrap()), logits);
    // A dataset of another shape is refused.
    data = small_dataset(&[50, 9, 301], 13, 2);
    assert!(matches!(
        m.predict_logits(&data),
        Err(Error::ShapeMismatch {
            what: "table cardinality",
            expected: 300,
            found: 301
        })
    ));
    assert!(matches!(
        m.predict_logits(&small_dataset(&[50, 9], 13, 2)),
        Err(Error::ShapeMismatch {
            what: "sparse features",
            ..
        })
    ));
}

#[test]
fn calibration_covers_values_and_drives_composite_relu() {
    let cfg = DlrmConfig::criteo_like(
        "small",
        &[8],
        4,
        &[8],
        &[50, 9, 300],
        Some(CompressionPolicy::new(3, 40).unwrap()),
        &Activation::Relu,
    );
    let mut m = Dlrm::new(cfg, 4).unwrap();
    assert!(matches!(
        m.relu_to_composite(
            &[sign_step()],
            CompositeOutput::ReluFromSign,
            CALIBRATION_MARGIN
        ),
        Err(Error::MissingCalibration { .. })
    ));
    assert!(matches!(m.export(), Err(Error::NotPolynomial { .. })));
    let data = small_dataset(&[50, 9, 300], 13, 120);
    let cal = m.calibrate(&data).unwrap();
    assert_eq!(cal.samples, 120);
    assert_eq!(cal.bottom.len(), 2);
    assert_eq!(cal.top.len(), 2);
    // Every logit lies in the last layer's recorded range; ReLU outputs are ≥ 0.
    let logits = m.predict_logits(&data).unwrap();
    let last = cal.top[1].output;
    assert!(logits.iter().all(|&z| last.min <= z && z <= last.max));
    assert!(logits.contains(&last.min) && logits.contains(&last.max));
    assert!(cal.bottom[0].output.min >= 0.0);
    // The first bottom layer's input range is the dense features' range.
    assert_eq!(cal.bottom[0].input.min, -1.0);
    assert_eq!(cal.bottom[0].input.max, 1.0);
    m.set_calibration(Some(cal.clone())).unwrap();
    assert!(matches!(
        m.relu_to_composite(&[sign_step()], CompositeOutput::Value, CALIBRATION_MARGIN),
        Err(Error::InvalidParameter { name: "output", .. })
    ));
    assert!(matches!(
        m.relu_to_composite(&[sign_step()], CompositeOutput::ReluFromSign, 0.0),
        Err(Error::InvalidParameter { name: "margin", .. })
    ));
    let changed = m
        .relu_to_composite(
            &vec![sign_step(); 6],
            CompositeOutput::ReluFromSign,
            CALIBRATION_MARGIN,
        )
        .unwrap();
    assert_eq!(changed, 3); // bottom 13→8, 8→4, top 16→8 (the last top layer is identity)
    let Activation::Composite(c) = &m.config().bottom[0].activation else {
        panic!("not replaced")
    };
    assert_eq!(
        c.input_bound(),
        2.0 * cal.bottom[0].pre_activation.abs_max()
    );
    let ex = m.export().unwrap();
    assert_eq!(ex.bottom.len(), 2);
    assert_eq!(ex.top.len(), 2);
    assert_eq!(ex.bottom[1].stage, MlpStage::Bottom);
    assert_eq!(ex.top[0].inputs, 4 + 3 * 4);
    assert_eq!(
        ex.top[0].weight(3, 5),
        Some(m.top()[0].weights()[3 * 16 + 5])
    );
    assert_eq!(ex.top[0].weight(0, 16), None);
    assert_eq!(ex.activations().len(), 4);
    assert_eq!(ex.top[0].ranges, Some(cal.top[0]));
    assert_eq!(ex.calibration_samples, 120);
    assert_eq!(ex.calibration_margin, 2.0);
    // composite depth 6·2 + 1 = 13, + 1 for the linear layer
    assert_eq!(ex.bottom[0].depth, 14);
    assert_eq!(ex.depth.total, 14 + 14 + 14 + 1);
    // The converted model computes (nearly) what the exact-ReLU model computed.
    let approx = m.predict_logits(&data).unwrap();
    let worst = logits
        .iter()
        .zip(&approx)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 0.1, "{worst}");
    assert_eq!(ex.layout.total_rows(), 3 * 4 + 9 + 3 * 6);
    // Wrong-shaped calibration is refused.
    let mut bad = cal;
    bad.top.pop();
    assert!(matches!(
        m.set_calibration(Some(bad)),
        Err(Error::InvalidModel { ref field, .. }) if field == "calibration.top"
    ));
}

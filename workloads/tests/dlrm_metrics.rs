//! Accuracy, rank-based AUC and log loss against hand-computed answers.
#![allow(clippy::unwrap_used, reason = "tests panic on failure")]

use helrm_workloads::dlrm::metrics::{accuracy, auc, bce_with_logits, log_loss, metrics, sigmoid};
use helrm_workloads::Error;

#[test]
fn auc_known_examples() {
    // The scikit-learn documentation example: 3 of 4 positive/negative pairs ordered right.
    assert_eq!(
        auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]).unwrap(),
        Some(0.75)
    );
    assert_eq!(auc(&[1.0, 2.0, 3.0], &[0, 1, 1]).unwrap(), Some(1.0));
    assert_eq!(auc(&[3.0, 2.0, 1.0], &[0, 1, 1]).unwrap(), Some(0.0));
    // All tied: every pair counts one half.
    assert_eq!(auc(&[0.5; 6], &[0, 1, 0, 1, 1, 0]).unwrap(), Some(0.5));
    // Partial ties: pos {2, 2, 3}, neg {1, 2} → pairs: (2>1)(2=2)(2>1)(2=2)(3>1)(3>2) = 5/6.
    let a = auc(&[2.0, 1.0, 2.0, 3.0, 2.0], &[1, 0, 1, 1, 0])
        .unwrap()
        .unwrap();
    assert!((a - 5.0 / 6.0).abs() < 1e-15, "{a}");
    // Brute force over all pairs on a scrambled example.
    let scores: Vec<f64> = (0..40).map(|i| f64::from((i * 37) % 13)).collect();
    let labels: Vec<u8> = (0..40).map(|i| u8::from((i * 11) % 7 < 3)).collect();
    let mut num = 0.0;
    let mut den = 0.0;
    for (i, &yi) in labels.iter().enumerate() {
        for (j, &yj) in labels.iter().enumerate() {
            if yi == 1 && yj == 0 {
                den += 1.0;
                num += if scores[i] > scores[j] {
                    1.0
                } else if scores[i] == scores[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    let got = auc(&scores, &labels).unwrap().unwrap();
    assert!((got - num / den).abs() < 1e-12);
    assert_eq!(auc(&[1.0, 2.0], &[1, 1]).unwrap(), None);
    assert_eq!(auc(&[], &[]).unwrap(), None);
}

#[test]
fn accuracy_and_log_loss_known_answers() {
    assert_eq!(
        accuracy(&[1.0, -1.0, 0.5, -0.1], &[1, 0, 0, 1]).unwrap(),
        0.5
    );
    assert_eq!(accuracy(&[0.0], &[0]).unwrap(), 1.0); // logit 0 → p = 0.5 → predicted 0
    assert_eq!(accuracy(&[], &[]).unwrap(), 0.0);
    let ln2 = std::f64::consts::LN_2;
    assert!((log_loss(&[0.0, 0.0], &[0, 1]).unwrap() - ln2).abs() < 1e-15);
    // −ln σ(2) for y = 1, −ln(1 − σ(−1)) = −ln σ(1) for y = 0
    let want = (-(sigmoid(2.0)).ln() - (sigmoid(1.0)).ln()) / 2.0;
    assert!((log_loss(&[2.0, -1.0], &[1, 0]).unwrap() - want).abs() < 1e-15);
    // Stable at extreme logits.
    assert_eq!(bce_with_logits(1000.0, 1), 0.0);
    assert_eq!(bce_with_logits(-1000.0, 1), 1000.0);
    assert_eq!(bce_with_logits(1000.0, 0), 1000.0);
    assert_eq!(sigmoid(-1000.0), 0.0);
    assert_eq!(sigmoid(1000.0), 1.0);
    assert_eq!(sigmoid(0.0), 0.5);
    let m = metrics(&[2.0, -1.0, 0.3], &[1, 0, 0]).unwrap();
    assert_eq!((m.samples, m.positives), (3, 1));
    assert_eq!(m.auc, Some(1.0));
    assert!((m.accuracy - 2.0 / 3.0).abs() < 1e-15);
}

#[test]
fn length_mismatch_is_an_error() {
    for r in [
        accuracy(&[1.0], &[1, 0]).map(|_| ()),
        auc(&[1.0], &[1, 0]).map(|_| ()),
        log_loss(&[1.0, 2.0], &[1]).map(|_| ()),
    ] {
        assert!(matches!(
            r,
            Err(Error::ShapeMismatch { what: "labels", .. })
        ));
    }
}

//! The composite ReLU's sign stages one at a time on `toy-n12-boot` (the chain of
//! `helrm-n16-boot`), each on a fresh encryption of the previous stage's exact output at the
//! level a bootstrap leaves (10), as the encrypted Criteo model runs them between bootstraps;
//! the last stage lands at the prime the ReLU's product drops (`evaluate_to_scale`).
//!
//! Bound: each of a stage's ≤ 5 levels adds ≲ 2^-21 relative error (`circuits_poly.rs`)
//! on values ≤ 1, times the stage's slope (≲ 2^4 off the band): 1e-5 per stage. At twice the
//! working scale the degree-27 stage loses about 2^-4 (see `circuits::poly`'s input-scale
//! note), which this test would catch if a caller's scale drifted into the fixture.

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_core::circuits::activation::Activation;
use helrm_core::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Level, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;
use std::sync::Arc;

#[test]
fn each_relu_sign_stage_keeps_its_precision_at_the_bootstrap_output_level() {
    let ctx = CkksContext::new(Params::preset("toy-n12-boot").unwrap(), Backend::Real).unwrap();
    let slots = ctx.params().slots();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([3; 32])).unwrap();
    let keys = keygen.evaluation_keys(&[], slots, false).unwrap();
    let pk = keygen.public_key().unwrap();
    let mut enc = Encryptor::with_rng(ctx.clone(), pk, Csprng::from_seed([4; 32]));
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    let Activation::Relu(relu) = Activation::relu().unwrap() else {
        panic!("Activation::relu is the composite ReLU")
    };
    let dec = Decryptor::new(ctx.clone(), keygen.secret_key());
    // Pre-activations spread over [-1, 1], a third of them within 0.01 of 0.
    let mut input: Vec<f64> = (0..slots)
        .map(|i| {
            let t = (i as f64 * 0.618_033_988_7).fract() * 2.0 - 1.0;
            [0.25, 0.01, 1.0][i % 3] * t
        })
        .collect();
    let q = ctx.params().q().to_vec();
    let stages = relu.stages();
    for (k, p) in stages.iter().enumerate() {
        let scale = ctx.params().default_scale();
        let pt = ctx
            .encode_real(&input, Level::new(10), scale, slots, DataClass::Other)
            .unwrap();
        let ct = enc.encrypt(&pt).unwrap();
        let out = if k + 1 == stages.len() {
            let target = q[10 - p.depth()] as f64;
            let out = p.evaluate_to_scale(&eval, &ct, target).unwrap();
            assert_eq!(out.scale(), target);
            out
        } else {
            p.evaluate(&eval, &ct).unwrap()
        };
        assert_eq!(out.level().get(), 10 - p.depth());
        let got = dec.decrypt(&out).unwrap();
        let (mut err, mut im) = (0f64, 0f64);
        for (g, &x) in got.iter().zip(&input) {
            err = err.max((g.re - p.eval_plain(x)).abs());
            im = im.max(g.im.abs());
        }
        assert!(err <= 1e-5, "stage {k}: max error {err:.3e}");
        assert!(im <= 1e-5, "stage {k}: max imaginary part {im:.3e}");
        input = input.iter().map(|&x| p.eval_plain(x)).collect();
    }
}

//! Full-size bootstrapping at `helrm-n16-boot` (N = 2^16, 32,768 slots). Slow and memory
//! hungry (8.8 GB of keys and 3.9 GB of diagonals): `#[ignore]`d, run on demand with
//! `cargo test --release -p helrm-core --test bootstrap_full -- --ignored --nocapture`.

use helrm_core::circuits::bootstrap::precision::precision;
use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper, KeyReport};
use helrm_core::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Level, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{DataClass, Tracer, VecSink};
use num_complex::Complex64;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

#[test]
#[ignore = "full size: about two minutes and 13 GB; run on demand"]
fn helrm_n16_boot_full_slots() {
    let ctx = CkksContext::new(Params::preset("helrm-n16-boot").unwrap(), Backend::Real).unwrap();
    let slots = ctx.params().slots();
    let t = Instant::now();
    let boot = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(slots)).unwrap();
    eprintln!("setup {:.2?}", t.elapsed());
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([1; 32])).unwrap();
    let t = Instant::now();
    let keys = boot.generate_keys(&mut keygen).unwrap();
    let report = KeyReport::of(&keys);
    eprintln!("keys {:.2?}: {report:?}", t.elapsed());
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(Tracer::new(sink.clone()));
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys)).with_tracer(tracer);
    let mut enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([2; 32]),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let x: Vec<Complex64> = (0..slots)
        .map(|_| Complex64::new(uniform(&mut rng), 0.0))
        .collect();
    let pt = ctx
        .encode(
            &x,
            Level::new(0),
            ctx.params().default_scale(),
            slots,
            DataClass::Other,
        )
        .unwrap();
    let ct = enc.encrypt(&pt).unwrap();
    let t = Instant::now();
    let out = boot.bootstrap(&eval, &ct).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let got = Decryptor::new(ctx.clone(), keygen.secret_key())
        .decrypt(&out)
        .unwrap();
    let s = precision(&x, &got).unwrap();
    eprintln!(
        "bootstrap {secs:.2} s, {} thread(s): level {} → {}, mean {:.2} bits, min {:.2} bits",
        rayon::current_num_threads(),
        ct.level(),
        out.level(),
        s.mean_bits,
        s.min_bits
    );
    let mut by: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for e in sink.take() {
        let scope = e.scope.split('/').take(2).collect::<Vec<_>>().join("/");
        let en = by.entry((scope, e.op.name().to_string())).or_default();
        en.0 += 1;
        en.1 += e.wall_ns.unwrap_or(0);
    }
    for ((scope, op), (count, ns)) in by {
        eprintln!("{scope:28} {op:16} {count:5} {:10.1} ms", ns as f64 / 1e6);
    }
    // Targets of issue 6: mean ≥ 19 bits, minimum ≥ 15 bits, ≥ 10 levels left.
    assert!(
        s.mean_bits >= 19.0,
        "mean precision {:.2} bits",
        s.mean_bits
    );
    assert!(
        s.min_bits >= 15.0,
        "minimum precision {:.2} bits",
        s.min_bits
    );
    assert!(out.level().get() >= 10, "level {}", out.level());
}

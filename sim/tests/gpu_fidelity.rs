//! GPU fidelity: a symbolic full-size bootstrap replayed on the `a100` and `h100` models with
//! 32-bit words lands within ±35% of Cheddar's published bootstrapping times (40.0 ms on an
//! A100 80GB, 31.2 ms on an H100 80GB; Jung et al., arXiv 2407.13055). `docs/gpu-fidelity.md`
//! states the trace, the knobs, the assumptions and the figures.

use std::sync::Arc;

use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper};
use helrm_core::ckks::{CkksContext, Encryptor, Evaluator, KeyGenerator, Level, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{DataClass, ParamsSummary, TraceHeader, TraceMode, Tracer, VecSink};
use helrm_hwmodels::builtin;
use helrm_sim::engine::{InMemoryTrace, SimOptions};
use helrm_sim::lower::LoweringOptions;
use helrm_sim::report::{simulate_report, Report};

/// Cheddar's published bootstrapping times in seconds (A100 80GB, H100 80GB).
const CHEDDAR: [(&str, f64); 2] = [("a100", 40.0e-3), ("h100", 31.2e-3)];

/// The symbolic trace of one full-slot bootstrap at `helrm-n16-boot` (N = 2^16, 32,768
/// slots), recorded without arithmetic.
fn bootstrap_trace() -> Result<InMemoryTrace, Box<dyn std::error::Error>> {
    let params = Params::preset("helrm-n16-boot")?;
    let bits = |v: &[u64]| v.iter().map(|&x| 64 - x.leading_zeros()).collect();
    let header = TraceHeader::new(
        params.fingerprint(),
        ParamsSummary {
            log_n: params.log_n(),
            q_bits: bits(params.q()),
            p_bits: bits(params.p()),
            dnum: u32::try_from(params.dnum())?,
            word_bytes: 8,
        },
        TraceMode::Symbolic,
        "helrm-sim gpu fidelity test",
    );
    let ctx = CkksContext::new(params, Backend::Symbolic)?;
    let slots = ctx.params().slots();
    let boot = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(slots))?;
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([4; 32]))?;
    let keys = boot.generate_keys(&mut keygen)?;
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(Tracer::untimed(sink.clone()));
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys)).with_tracer(tracer.clone());
    let mut enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key()?,
        Csprng::from_seed([5; 32]),
    );
    let pt = ctx.encode_real(
        &[0.5],
        Level::new(0),
        ctx.params().default_scale(),
        slots,
        DataClass::Other,
    )?;
    let ct = enc.encrypt(&pt)?;
    // Only the bootstrap is recorded: encoding and encryption above are the client's.
    sink.take();
    boot.bootstrap(&eval, &ct)?;
    tracer.finish()?;
    Ok(InMemoryTrace {
        header,
        events: sink.take(),
    })
}

/// The replay options of the comparison: the models' own features, with 4-byte words.
fn options(model: &helrm_hwmodels::MachineModel) -> SimOptions {
    let mut lowering = LoweringOptions::from_features(&model.features);
    lowering.word_bytes = Some(4);
    SimOptions {
        policy: None,
        lowering: Some(lowering),
    }
}

#[test]
fn bootstrap_on_a100_and_h100_is_within_35_percent_of_cheddar(
) -> Result<(), Box<dyn std::error::Error>> {
    let trace = bootstrap_trace()?;
    for (name, published) in CHEDDAR {
        let model = builtin(name)?;
        let report: Report = simulate_report(&trace, &model, &options(&model))?;
        let error = report.total_seconds / published - 1.0;
        println!(
            "{name}: predicted {:.2} ms, published {:.1} ms, error {:+.1}%",
            report.total_seconds * 1e3,
            published * 1e3,
            error * 100.0
        );
        assert!(
            error.abs() <= 0.35,
            "{name}: predicted {:.2} ms vs Cheddar's {:.1} ms ({:+.1}%)",
            report.total_seconds * 1e3,
            published * 1e3,
            error * 100.0
        );
    }
    Ok(())
}

//! The fused operations and their trace events: `mul_plain_acc` against `mul_plain` + `add`,
//! and the `hoisted_rotate_mul_acc` / `lazy_rotate_sum` events of a double-hoisted linear
//! transform (terms, ModUp and ModDown counts, real == symbolic, both encodings).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions; a failure should panic the test"
)]

use helrm_core::circuits::linear::{DiagonalSource, Hoisting, LinearTransform};
use helrm_core::ckks::serialize::save_ciphertext;
use helrm_core::ckks::{Ciphertext, CkksContext, Encryptor, Evaluator, KeyGenerator, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{
    diff_events, BinaryWriter, DataClass, JsonlWriter, OpKind, TraceEvent, TraceReader, TraceSink,
    Tracer, VecSink,
};
use helrm_core::Error;
use std::collections::BTreeSet;
use std::sync::Arc;

struct Setup {
    ctx: Arc<CkksContext>,
    eval: Evaluator,
    enc: Encryptor,
    sink: Arc<VecSink>,
    tracer: Arc<Tracer>,
}

fn setup(backend: Backend, rotations: &[i64], slots: usize) -> Setup {
    let ctx = CkksContext::new(Params::preset("toy-n12-l10").unwrap(), backend).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([5; 32])).unwrap();
    let keys = keygen.evaluation_keys(rotations, slots, false).unwrap();
    let enc = Encryptor::with_rng(
        ctx.clone(),
        keygen.public_key().unwrap(),
        Csprng::from_seed([6; 32]),
    );
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(if backend == Backend::Real {
        Tracer::new(sink.clone())
    } else {
        Tracer::untimed(sink.clone())
    });
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys)).with_tracer(tracer.clone());
    Setup {
        ctx,
        eval,
        enc,
        sink,
        tracer,
    }
}

fn values(seed: u64, len: usize) -> Vec<f64> {
    (0..len)
        .map(|i| (((i as u64 + 1) * (seed * 2 + 1)) % 17) as f64 / 17.0 - 0.5)
        .collect()
}

impl Setup {
    fn encrypt(&mut self, v: &[f64], slots: usize) -> Ciphertext {
        let scale = self.ctx.params().default_scale();
        let pt = self
            .ctx
            .encode_real(v, self.ctx.max_level(), scale, slots, DataClass::Other)
            .unwrap();
        self.enc.encrypt(&pt).unwrap()
    }

    fn bytes(&self, ct: &Ciphertext) -> Vec<u8> {
        let mut out = Vec::new();
        save_ciphertext(&self.ctx, ct, &mut out).unwrap();
        out
    }
}

#[test]
fn mul_plain_acc_equals_mul_plain_then_add() {
    let slots = 64;
    let mut s = setup(Backend::Real, &[], slots);
    let (x, y) = (
        s.encrypt(&values(1, slots), slots),
        s.encrypt(&values(2, slots), slots),
    );
    let top = s.ctx.max_level();
    let scale = s.ctx.params().default_scale();
    let class = DataClass::PlaintextWeight;
    let w1 = s
        .eval
        .encode_real(&values(3, slots), top, scale, slots, class)
        .unwrap();
    let w2 = s
        .eval
        .encode_real(&values(4, slots), top, scale, slots, class)
        .unwrap();
    let acc = s.eval.mul_plain(&x, &w1).unwrap();
    let want = s
        .eval
        .add(&acc, &s.eval.mul_plain(&y, &w2).unwrap())
        .unwrap();
    let mut got = acc.clone();
    s.sink.take();
    s.eval.mul_plain_acc(&mut got, &y, &w2).unwrap();
    // Identical ciphertexts: every residue, the scale, the level and the slots.
    assert_eq!(s.bytes(&got), s.bytes(&want));
    assert_eq!(got.scale().to_bits(), want.scale().to_bits());
    assert_eq!(got.id(), acc.id(), "updated in place");
    // One event: inputs (acc, ct, pt), output acc under the same id.
    let events = s.sink.take();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.op, OpKind::MulPlainAcc);
    let ids: Vec<u64> = e.inputs.iter().map(|o| o.id.0).collect();
    assert_eq!(ids, [acc.id(), y.id(), w2.id()]);
    assert_eq!(e.inputs[2].class, class);
    assert_eq!(e.outputs.len(), 1);
    assert_eq!(e.outputs[0].id.0, acc.id());
    assert_eq!(e.level as usize, top.get());
    assert!(e.wall_ns.is_some());
}

#[test]
fn mul_plain_acc_checks_its_operands_before_any_work() {
    let slots = 64;
    let mut s = setup(Backend::Real, &[], slots);
    let x = s.encrypt(&values(1, slots), slots);
    let top = s.ctx.max_level();
    let scale = s.ctx.params().default_scale();
    let w = s
        .eval
        .encode_real(
            &values(3, slots),
            top,
            scale,
            slots,
            DataClass::PlaintextWeight,
        )
        .unwrap();
    // acc at scale Δ, product at Δ²: refused.
    let mut acc = x.clone();
    let before = s.bytes(&acc);
    match s.eval.mul_plain_acc(&mut acc, &x, &w) {
        Err(Error::ScaleMismatch { op, .. }) => assert_eq!(op, "mul_plain_acc"),
        other => panic!("expected ScaleMismatch, got {other:?}"),
    }
    assert_eq!(s.bytes(&acc), before, "acc untouched");
    // acc one level lower than the operand: refused.
    let mut low = s
        .eval
        .drop_level(&s.eval.mul_plain(&x, &w).unwrap(), 1)
        .unwrap();
    match s.eval.mul_plain_acc(&mut low, &x, &w) {
        Err(Error::LevelMismatch { op, left, right }) => {
            assert_eq!(
                (op, left + 1, right),
                ("mul_plain_acc", top.get(), top.get())
            );
        }
        other => panic!("expected LevelMismatch, got {other:?}"),
    }
    // A degree-2 operand: refused.
    let mut acc = s.eval.mul_plain(&x, &w).unwrap();
    let sq = s.eval.mul_no_relin(&x, &x).unwrap();
    assert!(matches!(
        s.eval.mul_plain_acc(&mut acc, &sq, &w),
        Err(Error::CiphertextDegree { .. })
    ));
}

/// A 32 × 32 matrix with 12 non-zero diagonals, applied with double hoisting; returns the
/// trace of the product.
fn double_hoisted_trace(backend: Backend) -> Vec<TraceEvent> {
    let slots = 32;
    let n = 32;
    let diagonals = [0usize, 1, 2, 3, 5, 8, 9, 13, 16, 17, 24, 30];
    let mut m = vec![0.0; n * n];
    for (j, &k) in diagonals.iter().enumerate() {
        for r in 0..n {
            m[r * n + (r + k) % n] = ((r + j) % 5) as f64 / 10.0 - 0.2;
        }
    }
    let lt = LinearTransform::builder(n, n, slots)
        .build_dense(&m)
        .unwrap();
    let mut s = setup(backend, &lt.rotations(), slots);
    let x = s.encrypt(&values(7, n), slots);
    let enc = lt.encode(&s.eval, x.level(), Hoisting::Double).unwrap();
    s.sink.take();
    lt.apply(
        &s.eval,
        &[x],
        DiagonalSource::Encoded(&enc),
        Hoisting::Double,
    )
    .unwrap();
    s.tracer.finish().unwrap();
    s.sink.take()
}

#[test]
fn double_hoisted_events_name_their_terms_and_mod_counts() {
    let events = double_hoisted_trace(Backend::Real);
    let baby: Vec<&TraceEvent> = events
        .iter()
        .filter(|e| e.op == OpKind::HoistedRotateMulAcc)
        .collect();
    let giant: Vec<&TraceEvent> = events
        .iter()
        .filter(|e| e.op == OpKind::LazyRotateSum)
        .collect();
    assert_eq!((baby.len(), giant.len()), (1, 1));
    assert!(!events.iter().any(|e| e.op == OpKind::RotateHoisted));
    let b = baby[0];
    b.check().unwrap();
    // One term per diagonal, each naming a distinct plaintext weight (in input order, after
    // the ciphertext and the keys); one key per rotation.
    assert_eq!(b.terms.len(), 12);
    let pts: Vec<u32> = b.terms.iter().map(|t| t.plaintext.unwrap()).collect();
    let first_pt = (1 + b.rotations.len()) as u32;
    assert_eq!(pts, (first_pt..first_pt + 12).collect::<Vec<_>>());
    assert_eq!(b.inputs.len(), 1 + b.rotations.len() + 12);
    for t in &b.terms {
        assert_eq!(t.input, 0);
        assert_eq!(
            b.inputs[t.plaintext.unwrap() as usize].class,
            DataClass::PlaintextWeight
        );
    }
    for (i, o) in b.inputs[1..first_pt as usize].iter().enumerate() {
        assert_eq!(o.class, DataClass::KeyGalois(b.galois_elements[i]));
    }
    // QP plaintexts: (L + K) limbs; outputs are back over Q.
    let limb = b.n * 8;
    assert_eq!(
        b.inputs[first_pt as usize].bytes,
        u64::from(b.limbs + b.special_primes) * limb
    );
    assert!(b
        .outputs
        .iter()
        .all(|o| o.bytes == 2 * u64::from(b.limbs) * limb));
    assert!(!b.extended_basis);
    // One ModUp (one input), one ModDown pair per output with a rotated term.
    let keyed_outputs: BTreeSet<u32> = b
        .terms
        .iter()
        .filter(|t| t.rotation.is_some())
        .map(|t| t.output)
        .collect();
    assert_eq!(b.mod_ups, 1);
    assert_eq!(b.mod_downs as usize, 2 * keyed_outputs.len());
    let used: BTreeSet<u32> = b.terms.iter().filter_map(|t| t.rotation).collect();
    assert_eq!(
        used.len(),
        b.rotations.len(),
        "every listed rotation is used"
    );
    // The giant steps: one summand per baby-step output, one ModUp per rotated summand and
    // one ModDown pair.
    let g = giant[0];
    g.check().unwrap();
    assert_eq!(g.terms.len(), b.outputs.len());
    let ids: Vec<u64> = g
        .inputs
        .iter()
        .take(g.terms.len())
        .map(|o| o.id.0)
        .collect();
    let outs: Vec<u64> = b.outputs.iter().map(|o| o.id.0).collect();
    assert_eq!(ids, outs);
    let rotated = g.terms.iter().filter(|t| t.rotation.is_some()).count();
    assert_eq!(g.mod_ups as usize, rotated);
    assert_eq!(rotated, g.rotations.len());
    assert_eq!(g.mod_downs, 2);
    assert!(g
        .terms
        .iter()
        .all(|t| t.plaintext.is_none() && t.output == 0));
}

#[test]
fn double_hoisted_trace_real_equals_symbolic_in_both_encodings() {
    let real = double_hoisted_trace(Backend::Real);
    let symbolic = double_hoisted_trace(Backend::Symbolic);
    let d = diff_events(&real, &symbolic);
    assert!(d.is_none(), "first difference: {d:?}");
    let header = helrm_core::trace::TraceHeader::new(
        "fused",
        helrm_core::trace::ParamsSummary {
            log_n: 12,
            q_bits: vec![40; 11],
            p_bits: vec![60; 3],
            dnum: 4,
            word_bytes: 8,
        },
        helrm_core::trace::TraceMode::Real,
        "trace_fused_ops test",
    );
    let jsonl = JsonlWriter::new(Vec::new(), &header).unwrap();
    let binary = BinaryWriter::new(Vec::new(), &header).unwrap();
    for e in &real {
        jsonl.record(e.clone());
        binary.record(e.clone());
    }
    for bytes in [jsonl.into_inner().unwrap(), binary.into_inner().unwrap()] {
        let back: Vec<TraceEvent> = TraceReader::from_reader(bytes.as_slice())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, real);
    }
}

/// The symbolic trace of the double-hoisted product, written in both encodings, is pinned by
/// committed files (the 1.1 fields: terms, ModUp and ModDown counts, the extended-basis flag).
/// Regenerate with `HELRM_BLESS_GOLDEN=1` only for an intended, versioned change.
#[test]
fn fused_golden_files_match_the_writer() {
    let mut events = double_hoisted_trace(Backend::Symbolic);
    // Keep the file small: the product and its rescale, without the encodes before it.
    events.retain(|e| e.op != OpKind::Encode);
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    let header = helrm_core::trace::TraceHeader::new(
        "fnv1a64:toy-n12-l10",
        helrm_core::trace::ParamsSummary {
            log_n: 12,
            q_bits: vec![40; 11],
            p_bits: vec![60; 3],
            dnum: 4,
            word_bytes: 8,
        },
        helrm_core::trace::TraceMode::Symbolic,
        "helrm-core golden test",
    );
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/trace");
    let jsonl = JsonlWriter::new(Vec::new(), &header).unwrap();
    let binary = BinaryWriter::new(Vec::new(), &header).unwrap();
    for e in &events {
        jsonl.record(e.clone());
        binary.record(e.clone());
    }
    for (name, bytes) in [
        ("fused.htrace.jsonl", jsonl.into_inner().unwrap()),
        ("fused.htrace", binary.into_inner().unwrap()),
    ] {
        let path = dir.join(name);
        if std::env::var_os("HELRM_BLESS_GOLDEN").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        assert!(
            std::fs::read(&path).unwrap() == bytes,
            "{name} differs from what the writer produces now"
        );
        let back: Vec<TraceEvent> = TraceReader::open(&path)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, events);
    }
    assert!(events.iter().any(|e| e.op == OpKind::HoistedRotateMulAcc));
    assert!(events.iter().any(|e| e.op == OpKind::LazyRotateSum));
}

#[test]
fn qp_encodings_are_marked_as_extended() {
    let slots = 32;
    let s = setup(Backend::Symbolic, &[], slots);
    let top = s.ctx.max_level();
    let scale = s.ctx.params().default_scale();
    let pt = s
        .eval
        .encode_real_qp(
            &values(1, slots),
            top,
            scale,
            slots,
            DataClass::PlaintextWeight,
        )
        .unwrap();
    let events = s.sink.take();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.op, OpKind::Encode);
    assert!(e.extended_basis);
    assert_eq!(
        e.outputs[0].bytes,
        pt.bytes(),
        "the object holds Q and P limbs"
    );
    let limbs = u64::from(e.limbs) + s.ctx.params().p().len() as u64;
    assert_eq!(pt.bytes(), limbs * e.n * 8);
}

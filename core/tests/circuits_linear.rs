//! `circuits::linear` against plaintext products, on the insecure toy set `toy-n12-l10`
//! (N = 2^12, helrm-n16-l10's chain shape). Slot counts are sparse (64–256) to keep the
//! matrices small; the code path is the one full packing takes.
//!
//! Precision threshold (bits = −log2 of the largest absolute slot error):
//! - fresh encryption error per slot ≤ 2^-24 (derived in `ckks_scheme.rs`);
//! - a product row sums `cols` inputs weighted by `M[r, c]`; the matrices here have row L1
//!   norms ≤ 4 = 2^2, so the input error contributes ≤ 2^-22;
//! - each baby/giant rotation adds key-switching noise ≈ 2^-40 relative and the rescale a
//!   rounding error ≈ 2^-36: negligible;
//! - the output folds sum `S/p_out ≤ 8 = 2^3` slots' errors: ≤ 2^-19;
//! - diagonal encoding rounds each weight to 1/q_ℓ ≈ 2^-40 (f32 storage: 2^-24 relative,
//!   ≤ 2^-22 on a row of norm 4).
//!
//! So every product must reach 18 bits (one bit of margin). Two encrypted evaluations of the
//! same product (no, single or double hoisting) differ by at most the sum of their errors:
//! 17 bits. Pre-encoded and on-the-fly diagonals are the same plaintexts (encoding is
//! deterministic), so those two results must be bit-identical.

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_core::circuits::linear::{
    DiagonalMode, DiagonalPrecision, DiagonalSource, Hoisting, InputLayout, LinearTransform,
    OutputLayout,
};
use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, EvaluationKeys, Evaluator, KeyGenerator, Level,
    Params,
};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::{CountingSink, DataClass, OpKind, Tee, TraceSink, Tracer, VecSink};
use helrm_core::Error;
use std::collections::BTreeMap;
use std::sync::Arc;

const BITS: f64 = 18.0;
const BITS_PAIR: f64 = 17.0;

struct Fixture {
    ctx: Arc<CkksContext>,
    keygen: KeyGenerator,
    enc: Encryptor,
}

fn fixture(seed: u8) -> Fixture {
    fixture_with(seed, Backend::Real)
}

fn fixture_with(seed: u8, backend: Backend) -> Fixture {
    let ctx = CkksContext::new(Params::preset("toy-n12-l10").unwrap(), backend).unwrap();
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([seed; 32])).unwrap();
    let pk = keygen.public_key().unwrap();
    let enc = Encryptor::with_rng(ctx.clone(), pk, Csprng::from_seed([seed ^ 0x3c; 32]));
    Fixture { ctx, keygen, enc }
}

impl Fixture {
    fn evaluator(&mut self, rotations: &[i64], slots: usize) -> Evaluator {
        let keys = self
            .keygen
            .evaluation_keys(rotations, slots, false)
            .unwrap();
        Evaluator::new(self.ctx.clone(), Arc::new(keys))
    }

    fn encrypt(&mut self, v: &[f64], slots: usize) -> Ciphertext {
        let pt = self
            .ctx
            .encode_real(
                v,
                self.ctx.max_level(),
                self.ctx.params().default_scale(),
                slots,
                DataClass::Other,
            )
            .unwrap();
        self.enc.encrypt(&pt).unwrap()
    }

    fn encrypt_input(&mut self, lt: &LinearTransform, x: &[f64]) -> Vec<Ciphertext> {
        let packed = lt.input().pack(x, lt.cols(), lt.slots()).unwrap();
        packed.iter().map(|v| self.encrypt(v, lt.slots())).collect()
    }

    fn decrypt(&self, ct: &Ciphertext) -> Vec<f64> {
        Decryptor::new(self.ctx.clone(), self.keygen.secret_key())
            .decrypt_real(ct)
            .unwrap()
    }
}

/// A fixed pseudo-random sequence in [−1, 1).
fn values(seed: u64, len: usize) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

/// A dense `rows × cols` matrix with row L1 norms ≤ 4.
fn matrix(seed: u64, rows: usize, cols: usize) -> Vec<f64> {
    let scale = 4.0 / cols as f64;
    values(seed, rows * cols)
        .iter()
        .map(|x| x * scale)
        .collect()
}

fn dense_product(m: &[f64], rows: usize, cols: usize, x: &[f64]) -> Vec<f64> {
    (0..rows)
        .map(|r| (0..cols).map(|c| m[r * cols + c] * x[c]).sum())
        .collect()
}

fn precision_bits(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let err = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    -err.max(f64::MIN_POSITIVE).log2()
}

fn assert_bits(what: &str, got: &[f64], want: &[f64], bits: f64) {
    let p = precision_bits(got, want);
    assert!(
        p >= bits,
        "{what}: {p:.1} bits of precision, {bits} required"
    );
}

/// Builds, encrypts, multiplies (pre-encoded, single hoisting) and checks against `M·x`.
fn check_product(seed: u8, lt: &LinearTransform, m: &[f64], what: &str) -> Vec<f64> {
    let mut f = fixture(seed);
    let eval = f.evaluator(&lt.rotations(), lt.slots());
    let x = values(u64::from(seed) + 100, lt.cols());
    let cts = f.encrypt_input(lt, &x);
    let level = cts[0].level();
    let enc = lt.encode(&eval, level, Hoisting::Single).unwrap();
    let y = lt
        .apply(&eval, &cts, DiagonalSource::Encoded(&enc), Hoisting::Single)
        .unwrap();
    assert_eq!(y.level().get(), level.get() - 1, "{what}: one level");
    assert!(
        (y.scale() / cts[0].scale() - 1.0).abs() < 1e-12,
        "{what}: output scale equals input scale"
    );
    let want_y = dense_product(m, lt.rows(), lt.cols(), &x);
    let want = lt.output().place(&want_y, lt.rows(), lt.slots()).unwrap();
    // The stored diagonals compute exactly M·x in plaintext.
    let plain = lt.multiply_plain(&x).unwrap();
    assert_bits(
        &format!("{what}: plaintext diagonals"),
        &plain,
        &want_y,
        40.0,
    );
    let got = f.decrypt(&y);
    assert_bits(what, &got, &want, BITS);
    got
}

#[test]
fn square_matrix_bsgs_equals_plaintext_product() {
    let (n, slots) = (128, 128);
    let m = matrix(1, n, n);
    let lt = LinearTransform::builder(n, n, slots)
        .build_dense(&m)
        .unwrap();
    assert_eq!(lt.nonzero_diagonals(), 128);
    let (n1, n2) = lt.bsgs_split();
    // 128 diagonals: the best split has n1 + n2 ≈ 2√128 and n1·n2 ≥ 128.
    assert!(n1 * n2 >= 128 && n1 + n2 <= 24, "split {n1} × {n2}");
    assert_eq!(lt.rotations().len(), (n1 - 1) + (n2 - 1));
    assert_eq!(lt.plain_rotation_count(), 127);
    check_product(1, &lt, &m, "square 128 × 128");
}

#[test]
fn rectangular_wide_and_tall_matrices() {
    // Wide 20 × 100, output replicated with period 32 (two folds).
    let m = matrix(2, 20, 100);
    let lt = LinearTransform::builder(20, 100, 128)
        .output(OutputLayout::Replicated {
            period: 32,
            offset: 0,
        })
        .build_dense(&m)
        .unwrap();
    assert_eq!(lt.diagonal_range(), 32);
    assert_eq!(lt.fold_rotations(), &[32, 64]);
    check_product(2, &lt, &m, "wide 20 × 100, replicated output");

    // Tall 100 × 20 on a replicated input of period 32, output at offset 5.
    let m = matrix(3, 100, 20);
    let lt = LinearTransform::builder(100, 20, 128)
        .input(InputLayout::Replicated { period: 32 })
        .output(OutputLayout::Offset { offset: 5 })
        .build_dense(&m)
        .unwrap();
    assert!(lt.nonzero_diagonals() <= 32, "{}", lt.nonzero_diagonals());
    assert!(lt.fold_rotations().is_empty());
    check_product(3, &lt, &m, "tall 100 × 20, replicated input");
}

#[test]
fn multi_ciphertext_input_sums_blocks_before_one_rescale() {
    // 24 × 300 on 128 slots: three input ciphertexts; output replicated with period 32 at
    // offset 4 (so 4 + 24 ≤ 32).
    let m = matrix(4, 24, 300);
    let lt = LinearTransform::builder(24, 300, 128)
        .output(OutputLayout::Replicated {
            period: 32,
            offset: 4,
        })
        .build_dense(&m)
        .unwrap();
    assert_eq!(lt.input_ciphertexts(), 3);
    let cost = lt
        .cost(
            &Params::preset("toy-n12-l10").unwrap(),
            Level::new(10),
            Hoisting::Single,
            DiagonalMode::PreEncoded,
        )
        .unwrap();
    assert_eq!(cost.rescales, 1);
    assert_eq!(cost.levels, 1);
    // Giant steps are shared by the three blocks: one giant rotation each, not three.
    assert_eq!(cost.giant_rotations as usize, lt.bsgs_split().1 - 1);
    check_product(4, &lt, &m, "24 × 300 over three ciphertexts");
}

#[test]
fn block_diagonal_tables_cost_only_their_nonzero_diagonals() {
    // Eight digit tables of 4 rows × 8 dims (base-4 one-hots): W = blockdiag(E_1 … E_8)ᵀ,
    // 64 × 32, output (e_1 | … | e_8) replicated with period 64 (bh = 64).
    let (tables, rows_t, d) = (8, 4, 8);
    let (rows, cols) = (tables * d, tables * rows_t);
    let mut m = vec![0.0; rows * cols];
    let w = values(5, tables * rows_t * d);
    for t in 0..tables {
        for e in 0..d {
            for r in 0..rows_t {
                m[(t * d + e) * cols + t * rows_t + r] = w[(t * rows_t + r) * d + e] * 0.5;
            }
        }
    }
    let entries: Vec<(usize, usize, f64)> = (0..rows * cols)
        .filter(|&i| m[i] != 0.0)
        .map(|i| (i / cols, i % cols, m[i]))
        .collect();
    let lt = LinearTransform::builder(rows, cols, 256)
        .output(OutputLayout::Replicated {
            period: 64,
            offset: 0,
        })
        .data_class(DataClass::PlaintextEmbedding)
        .build(entries.iter().copied())
        .unwrap();
    // The non-zero generalised diagonals are exactly {(c − r) mod 64 : M[r, c] ≠ 0}.
    let want: std::collections::BTreeSet<usize> =
        entries.iter().map(|&(r, c, _)| (c + 64 - r) % 64).collect();
    assert_eq!(lt.diagonal_indices(0), want.into_iter().collect::<Vec<_>>());
    let dense = LinearTransform::builder(rows, cols, 256)
        .output(OutputLayout::Replicated {
            period: 64,
            offset: 0,
        })
        .build_dense(&matrix(6, rows, cols))
        .unwrap();
    // Table t covers c − r ∈ [−4t − 7, −4t + 3]: 39 diagonals of 64.
    assert_eq!(lt.nonzero_diagonals(), 39);
    assert_eq!(dense.nonzero_diagonals(), 64);
    assert!(
        lt.nonzero_diagonals() < dense.nonzero_diagonals(),
        "{} non-zero diagonals vs {} for a dense matrix of the same shape",
        lt.nonzero_diagonals(),
        dense.nonzero_diagonals()
    );
    check_product(5, &lt, &m, "block-diagonal embedding tables");
}

#[test]
fn hoisted_and_unhoisted_and_double_hoisted_agree() {
    let m = matrix(7, 24, 300);
    let lt = LinearTransform::builder(24, 300, 128)
        .output(OutputLayout::Replicated {
            period: 32,
            offset: 0,
        })
        .build_dense(&m)
        .unwrap();
    let mut f = fixture(7);
    let eval = f.evaluator(&lt.rotations(), lt.slots());
    let x = values(107, lt.cols());
    let cts = f.encrypt_input(&lt, &x);
    let want = lt
        .output()
        .place(&dense_product(&m, 24, 300, &x), 24, 128)
        .unwrap();
    let mut outs = Vec::new();
    for h in [Hoisting::None, Hoisting::Single, Hoisting::Double] {
        let y = lt.apply(&eval, &cts, DiagonalSource::OnTheFly, h).unwrap();
        assert!(
            (y.scale() / cts[0].scale() - 1.0).abs() < 1e-12,
            "{h:?} scale"
        );
        let got = f.decrypt(&y);
        assert_bits(&format!("{h:?}"), &got, &want, BITS);
        outs.push(got);
    }
    assert_bits("single vs none", &outs[1], &outs[0], BITS_PAIR);
    assert_bits("double vs single", &outs[2], &outs[1], BITS_PAIR);
}

#[test]
fn on_the_fly_equals_pre_encoded() {
    let m = matrix(8, 96, 96);
    let mut f = fixture(8);
    for precision in [DiagonalPrecision::F64, DiagonalPrecision::F32] {
        let lt = LinearTransform::builder(96, 96, 128)
            .precision(precision)
            .build_dense(&m)
            .unwrap();
        let eval = f.evaluator(&lt.rotations(), lt.slots());
        let x = values(108, 96);
        let cts = f.encrypt_input(&lt, &x);
        for h in [Hoisting::Single, Hoisting::Double] {
            let enc = lt.encode(&eval, cts[0].level(), h).unwrap();
            assert_eq!(enc.is_qp(), h == Hoisting::Double);
            let a = f.decrypt(
                &lt.apply(&eval, &cts, DiagonalSource::Encoded(&enc), h)
                    .unwrap(),
            );
            let b = f.decrypt(&lt.apply(&eval, &cts, DiagonalSource::OnTheFly, h).unwrap());
            // Encoding is deterministic, so both paths compute the same ciphertext.
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{precision:?} {h:?}: on the fly differs from pre-encoded"
            );
            let want = lt
                .output()
                .place(&dense_product(&m, 96, 96, &x), 96, 128)
                .unwrap();
            assert_bits(&format!("{precision:?} {h:?}"), &a, &want, BITS);
        }
    }
}

/// Keyed rotations in a trace: one per `rotate` event, one per non-identity Galois element
/// of a `rotate_hoisted`, `hoisted_rotate_mul_acc` or `lazy_rotate_sum` event.
fn traced_rotations(events: &[helrm_core::trace::TraceEvent]) -> u64 {
    events
        .iter()
        .map(|e| match e.op {
            OpKind::Rotate => 1,
            OpKind::RotateHoisted | OpKind::HoistedRotateMulAcc | OpKind::LazyRotateSum => {
                e.galois_elements.iter().filter(|&&k| k != 1).count() as u64
            }
            _ => 0,
        })
        .sum()
}

#[test]
fn dry_run_cost_equals_counted_operations() {
    let m = matrix(9, 24, 300);
    let lt = LinearTransform::builder(24, 300, 128)
        .output(OutputLayout::Replicated {
            period: 32,
            offset: 3,
        })
        .build_dense(&m)
        .unwrap();
    let mut f = fixture(9);
    let plain_eval = f.evaluator(&lt.rotations(), lt.slots());
    let cts = f.encrypt_input(&lt, &values(109, 300));
    let level = cts[0].level();
    let params = f.ctx.params().clone();
    for h in [Hoisting::None, Hoisting::Single, Hoisting::Double] {
        for mode in [DiagonalMode::PreEncoded, DiagonalMode::OnTheFly] {
            let enc = lt.encode(&plain_eval, level, h).unwrap();
            let counting = Arc::new(CountingSink::new());
            let events = Arc::new(VecSink::new());
            let tee: Arc<dyn TraceSink> = Arc::new(Tee::new(vec![
                counting.clone() as Arc<dyn TraceSink>,
                events.clone() as Arc<dyn TraceSink>,
            ]));
            let eval = plain_eval.clone().with_tracer(Arc::new(Tracer::new(tee)));
            let source = match mode {
                DiagonalMode::PreEncoded => DiagonalSource::Encoded(&enc),
                DiagonalMode::OnTheFly => DiagonalSource::OnTheFly,
            };
            lt.apply(&eval, &cts, source, h).unwrap();
            let cost = lt.cost(&params, level, h, mode).unwrap();
            assert_eq!(
                counting.counts(),
                cost.events,
                "{h:?} {mode:?}: events by kind"
            );
            let ev = events.events();
            assert_eq!(
                traced_rotations(&ev),
                cost.rotations,
                "{h:?} {mode:?}: rotations"
            );
            assert_eq!(cost.key_switches, cost.rotations);
            assert_eq!(
                cost.rotations,
                cost.baby_rotations + cost.giant_rotations + cost.fold_rotations
            );
            if h != Hoisting::Double {
                assert_eq!(
                    counting.count(OpKind::MulPlain) + counting.count(OpKind::MulPlainAcc),
                    cost.plaintext_multiplies,
                    "{h:?} {mode:?}"
                );
            }
            assert_eq!(
                cost.encoded_diagonal_bytes,
                enc.bytes(),
                "{h:?}: diagonal bytes"
            );
            assert!(ev.iter().all(|e| e.scope.starts_with("linear_transform")));
            // Traced levels: every product-side event at the input level, the folds one lower.
            assert!(ev
                .iter()
                .filter(|e| e.op == OpKind::MulPlain)
                .all(|e| e.level as usize == level.get()));
        }
    }
    // Compared with the plain diagonal method.
    let cost = lt
        .cost(&params, level, Hoisting::Single, DiagonalMode::PreEncoded)
        .unwrap();
    assert!(cost.rotations < lt.plain_rotation_count() as u64);
}

#[test]
fn symbolic_run_emits_the_predicted_trace() {
    let m = matrix(10, 20, 200);
    let lt = LinearTransform::builder(20, 200, 128)
        .output(OutputLayout::Replicated {
            period: 32,
            offset: 0,
        })
        .build_dense(&m)
        .unwrap();
    let mut f = fixture_with(10, Backend::Symbolic);
    let plain_eval = f.evaluator(&lt.rotations(), lt.slots());
    let cts = f.encrypt_input(&lt, &values(110, 200));
    let counting = Arc::new(CountingSink::new());
    let eval = plain_eval.with_tracer(Arc::new(Tracer::untimed(counting.clone())));
    for h in [Hoisting::Single, Hoisting::Double] {
        let before = counting.counts();
        let y = lt.apply(&eval, &cts, DiagonalSource::OnTheFly, h).unwrap();
        assert_eq!(y.level().get(), 9);
        let mut delta = counting.counts();
        for (k, v) in before {
            *delta.entry(k).or_insert(0) -= v;
        }
        delta.retain(|_, v| *v > 0);
        let cost = lt
            .cost(f.ctx.params(), Level::new(10), h, DiagonalMode::OnTheFly)
            .unwrap();
        assert_eq!(delta, cost.events, "{h:?}");
    }
}

#[test]
fn bad_inputs_have_typed_errors() {
    let m = matrix(11, 20, 200);
    let lt = LinearTransform::builder(20, 200, 128)
        .output(OutputLayout::Replicated {
            period: 32,
            offset: 0,
        })
        .build_dense(&m)
        .unwrap();
    let mut f = fixture(11);
    let eval = f.evaluator(&lt.rotations(), lt.slots());
    let cts = f.encrypt_input(&lt, &values(111, 200));
    assert_eq!(cts.len(), 2);

    // Dimension mismatch: one ciphertext for a two-block input.
    assert!(matches!(
        lt.apply(&eval, &cts[..1], DiagonalSource::OnTheFly, Hoisting::Single),
        Err(Error::CircuitDimension {
            what: "input ciphertexts",
            expected: 2,
            got: 1,
            ..
        })
    ));
    // Wrong slot count.
    let other = f.encrypt(&[0.5; 8], 64);
    assert!(matches!(
        lt.apply(
            &eval,
            &[other.clone(), other],
            DiagonalSource::OnTheFly,
            Hoisting::Single
        ),
        Err(Error::CircuitDimension {
            what: "slots",
            expected: 128,
            got: 64,
            ..
        })
    ));
    // Missing rotation key: drop the largest rotation's key; the error names it.
    let rots = lt.rotations();
    let missing = *rots.last().unwrap();
    let mut keys: EvaluationKeys = (**eval.keys()).clone();
    let k = f.ctx.galois_element_for_rotation(missing, 128).unwrap();
    assert!(keys.remove_galois(k));
    let short = Evaluator::new(f.ctx.clone(), Arc::new(keys));
    assert!(matches!(
        lt.apply(&short, &cts, DiagonalSource::OnTheFly, Hoisting::Single),
        Err(Error::MissingGaloisKey { rotation: Some(r), galois_element }) if r == missing && galois_element == k.0
    ));
    // Not enough levels.
    let bottom: Vec<Ciphertext> = cts
        .iter()
        .map(|c| eval.drop_to_level(c, Level::new(0)).unwrap())
        .collect();
    assert!(matches!(
        lt.apply(&eval, &bottom, DiagonalSource::OnTheFly, Hoisting::Single),
        Err(Error::LevelTooLow {
            op: "linear_transform",
            level: 0,
            needed: 1
        })
    ));
    // Inputs at different levels.
    let mixed = vec![cts[0].clone(), eval.drop_level(&cts[1], 1).unwrap()];
    assert!(matches!(
        lt.apply(&eval, &mixed, DiagonalSource::OnTheFly, Hoisting::Single),
        Err(Error::LevelMismatch {
            op: "linear_transform",
            left: 10,
            right: 9
        })
    ));
    // Diagonals encoded for another level, or in the wrong basis.
    let enc9 = lt.encode(&eval, Level::new(9), Hoisting::Single).unwrap();
    assert!(matches!(
        lt.apply(
            &eval,
            &cts,
            DiagonalSource::Encoded(&enc9),
            Hoisting::Single
        ),
        Err(Error::LevelMismatch {
            left: 10,
            right: 9,
            ..
        })
    ));
    let enc_q = lt.encode(&eval, Level::new(10), Hoisting::Single).unwrap();
    assert!(matches!(
        lt.apply(
            &eval,
            &cts,
            DiagonalSource::Encoded(&enc_q),
            Hoisting::Double
        ),
        Err(Error::DiagonalBasis {
            encoded_qp: false,
            required_qp: true
        })
    ));
    // Builder errors.
    assert!(matches!(
        LinearTransform::builder(2, 2, 8).build([(2, 0, 1.0)]),
        Err(Error::MatrixEntry {
            row: 2,
            col: 0,
            rows: 2,
            cols: 2
        })
    ));
    assert!(matches!(
        LinearTransform::builder(2, 2, 8).build([(0, 0, 1.0), (1, 1, f64::INFINITY)]),
        Err(Error::NonFiniteValue { index: 1 })
    ));
    assert!(matches!(
        LinearTransform::builder(20, 20, 128)
            .output(OutputLayout::Replicated {
                period: 16,
                offset: 0
            })
            .build([(0, 0, 1.0)]),
        Err(Error::InvalidLayout {
            what: "output offset",
            ..
        })
    ));
    assert!(matches!(
        LinearTransform::builder(4, 4, 128)
            .output(OutputLayout::Replicated {
                period: 24,
                offset: 0
            })
            .build([(0, 0, 1.0)]),
        Err(Error::InvalidLayout {
            what: "output period",
            value: 24,
            ..
        })
    ));
    assert!(matches!(
        LinearTransform::builder(4, 40, 128)
            .input(InputLayout::Replicated { period: 32 })
            .build([(0, 0, 1.0)]),
        Err(Error::InvalidLayout {
            what: "input period",
            ..
        })
    ));
    assert!(matches!(
        LinearTransform::builder(2, 2, 8).build_dense(&[1.0; 3]),
        Err(Error::CircuitDimension {
            what: "dense matrix entries",
            expected: 4,
            got: 3,
            ..
        })
    ));
}

#[test]
fn forced_baby_steps_span_plain_to_fully_hoisted() {
    let m = matrix(12, 64, 64);
    let mut f = fixture(12);
    let x = values(112, 64);
    let want = dense_product(&m, 64, 64, &x);
    let mut results = BTreeMap::new();
    for n1 in [1, 8, 64] {
        let lt = LinearTransform::builder(64, 64, 64)
            .baby_step(n1)
            .build_dense(&m)
            .unwrap();
        let eval = f.evaluator(&lt.rotations(), 64);
        let cts = f.encrypt_input(&lt, &x);
        // Double hoisting with n1 = 64 sums 64 products in one group: more than the 60 its
        // 128-bit lazy accumulation takes before reducing.
        for h in [Hoisting::Single, Hoisting::Double] {
            let y = lt.apply(&eval, &cts, DiagonalSource::OnTheFly, h).unwrap();
            let got = f.decrypt(&y);
            assert_bits(&format!("n1 = {n1}, {h:?}"), &got[..64], &want, BITS);
        }
        results.insert(n1, lt.rotations().len());
    }
    // n1 = 1: 63 giant rotations (the plain method); n1 = 64: 63 hoisted baby rotations;
    // n1 = 8: 7 + 7.
    assert_eq!(results[&1], 63);
    assert_eq!(results[&64], 63);
    assert_eq!(results[&8], 14);
    assert!(matches!(
        LinearTransform::builder(64, 64, 64)
            .baby_step(65)
            .build_dense(&m),
        Err(Error::InvalidLayout {
            what: "baby step",
            value: 65,
            ..
        })
    ));
}

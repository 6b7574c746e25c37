//! Lowering against hand-computed counts (derivations in `docs/cost-model.md`).

use super::*;
use helrm_core::trace::{ObjectId, Term};

const N: u64 = 1 << 16;

/// HE-LRM's parameters: N = 2^16, 11 Q primes, 3 P primes, dnum 4, 8-byte words.
fn he_lrm() -> ParamsSummary {
    ParamsSummary {
        log_n: 16,
        q_bits: vec![50; 11],
        p_bits: vec![60; 3],
        dnum: 4,
        word_bytes: 8,
    }
}

fn ct(id: u64, level: u32) -> ObjectRef {
    let bytes = ciphertext_bytes(N, level + 1, 2, 8);
    ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, bytes, level)
}

fn relin_key(level: u32) -> ObjectRef {
    let bytes = key_switch_key_bytes(N, dnum_at(level), level + 1, 3, 8, false);
    ObjectRef::key(ObjectId(0), DataClass::KeyRelin, bytes)
}

/// Digits a key switch at `level` uses (what the evaluator puts in the event's `dnum`).
fn dnum_at(level: u32) -> u32 {
    digits_in_use(&digit_partition(11, 4), level + 1).len() as u32
}

fn mul_relin(level: u32) -> TraceEvent {
    TraceEvent::new(OpKind::MulRelin, 16, level)
        .with_key_switching(3, dnum_at(level))
        .with_inputs(vec![ct(1, level), ct(2, level), relin_key(level)])
        .with_outputs(vec![ct(3, level)])
}

fn rescale(input: u64, level: u32) -> TraceEvent {
    TraceEvent::new(OpKind::Rescale, 16, level)
        .with_key_switching(3, 4)
        .with_inputs(vec![ct(input, level)])
        .with_outputs(vec![ct(input + 1, level - 1)])
}

fn lowerer(options: LoweringOptions) -> Lowerer {
    Lowerer::new(&he_lrm(), options).unwrap()
}

fn class(t: &LoweredTotals, c: KernelClass) -> (u64, u64, u64) {
    let w = t.by_class(c);
    (w.kernels, w.mod_mults / N, w.mod_adds / N)
}

#[test]
fn mul_relin_at_level_10_matches_hand_counts() {
    // L = 11, K = 3, digits 3,3,3,2, log N = 16 (an NTT limb: 8N mults, 16N adds).
    let out = lowerer(LoweringOptions::default()).lower_event(&mul_relin(10));
    let t = out.totals();
    // Tensor 44N mults + 11N adds; ModDown combine 22N mults, 22N subs + 22N adds of d0, d1.
    assert_eq!(class(&t, KernelClass::ElementwiseMul), (2, 66, 55));
    // ModUp: iNTT 11 limbs, NTT 11+11+11+12 = 45 limbs; ModDown: iNTT 2·3, NTT 2·11 limbs.
    // 84 limbs · 8N = 672N mults, 84 · 16N = 1,344N adds; 4 + 4 + 2 + 2 kernels.
    assert_eq!(class(&t, KernelClass::Ntt), (12, 672, 1344));
    // ModUp: Σ a_j (1 + L − a_j + K) = 3·36 + 26 = 134N mults, Σ (a_j − 1)(L − a_j + K)
    // = 3·22 + 12 = 78N adds. ModDown: 2 (3 + 3·11) = 72N mults, 2 · 2 · 11 = 44N adds.
    assert_eq!(class(&t, KernelClass::BaseConversion), (6, 206, 122));
    // Inner product: 2 · d · (L + K) = 2 · 4 · 14 = 112N MACs, 2 · 3 · 14 = 84N adds.
    assert_eq!(class(&t, KernelClass::KeySwitchMac), (1, 112, 84));
    assert_eq!(t.mod_mults, 1056 * N);
    assert_eq!(t.mod_adds, 1605 * N);
    assert_eq!(t.kernels, 21);
}

#[test]
fn mul_relin_reads_its_operands_and_key_and_writes_its_result() {
    let out = lowerer(LoweringOptions::default()).lower_event(&mul_relin(10));
    let ks = out
        .kernels()
        .iter()
        .find(|k| k.kind == KernelKind::KeySwitchInnerProduct);
    let key = out
        .reads(ks.unwrap())
        .iter()
        .find(|a| a.class == TrafficClass::KeyRelin)
        .copied()
        .unwrap();
    assert_eq!(key.bytes, 58_720_256);
    assert_eq!(key.key, ObjectKey::Trace(0));
    let first = &out.kernels()[0];
    assert_eq!(first.kind, KernelKind::Tensor);
    let reads: Vec<ObjectKey> = out.reads(first).iter().map(|a| a.key).collect();
    assert_eq!(reads, vec![ObjectKey::Trace(1), ObjectKey::Trace(2)]);
    assert!(out.reads(first).iter().all(|a| a.bytes == 11_534_336));
    let last = out.kernels().last().unwrap();
    assert_eq!(last.kind, KernelKind::ModDownCombine);
    assert_eq!(
        out.writes(last),
        &[Access {
            key: ObjectKey::Trace(3),
            class: TrafficClass::Ciphertext,
            bytes: 11_534_336
        }]
    );
    // Every temporary is written before it is read.
    let mut written = std::collections::BTreeSet::new();
    for k in out.kernels() {
        for a in out.reads(k) {
            if let ObjectKey::Temp(t) = a.key {
                assert!(written.contains(&t), "temp {t} read before written");
            }
        }
        for a in out.writes(k) {
            written.insert(a.key.clone_temp());
        }
    }
}

trait TempId {
    fn clone_temp(&self) -> u64;
}
impl TempId for ObjectKey {
    fn clone_temp(&self) -> u64 {
        match self {
            ObjectKey::Temp(t) => *t,
            _ => u64::MAX,
        }
    }
}

#[test]
fn ntt_kernels_read_twiddles_unless_generated_on_chip() {
    let stored = lowerer(LoweringOptions::default()).lower_event(&mul_relin(10));
    let twiddle_reads = |l: &Lowered| {
        l.kernels()
            .iter()
            .flat_map(|k| l.reads(k))
            .filter(|a| a.class == TrafficClass::Twiddle)
            .count()
    };
    // 4 ModUp iNTTs (1 table), 4 ModUp NTTs (Q and P tables), 2 ModDown iNTTs, 2 NTTs.
    assert_eq!(twiddle_reads(&stored), 4 + 8 + 2 + 2);
    let otf = lowerer(LoweringOptions {
        on_the_fly_twiddles: true,
        ..LoweringOptions::default()
    })
    .lower_event(&mul_relin(10));
    assert_eq!(twiddle_reads(&otf), 0);
    assert_eq!(otf.totals(), stored.totals());
}

#[test]
fn rescale_matches_hand_counts() {
    // Two components at L = 11: iNTT of 2 last limbs (16N mults, 32N adds), NTT of 20 limbs
    // (160N mults, 320N adds) plus 2N + 20N rounding adds, combine 20N mults and 20N subs.
    let out = lowerer(LoweringOptions::default()).lower_event(&rescale(3, 10));
    let t = out.totals();
    assert_eq!(class(&t, KernelClass::Ntt), (2, 176, 374));
    assert_eq!(class(&t, KernelClass::ElementwiseMul), (1, 20, 20));
    let last = out.kernels().last().unwrap();
    assert_eq!(out.writes(last)[0].bytes, ciphertext_bytes(N, 10, 2, 8));
}

#[test]
fn fused_rescale_moddown_matches_hand_counts() {
    let lo = lowerer(LoweringOptions {
        fused_rescale_moddown: true,
        ..LoweringOptions::default()
    });
    let (a, b) = (mul_relin(10), rescale(3, 10));
    assert!(lo.can_fuse(&a, &b));
    let mut out = Lowered::default();
    lo.lower(&a, Some(&b), &mut out);
    let t = out.totals();
    // ModUp unchanged (iNTT 11, NTT 45 limbs); fused ModDown: iNTT of K + 1 = 4 limbs and
    // NTT of L − 1 = 10 limbs, twice: 84 limbs in all.
    assert_eq!(class(&t, KernelClass::Ntt), (12, 672, 1344));
    // ModUp 134N/78N; ModDown 4 → 10 twice: 2 (4 + 40) = 88N mults, 2 · 3 · 10 = 60N adds.
    assert_eq!(class(&t, KernelClass::BaseConversion), (6, 222, 138));
    // Tensor 44N/11N, lifting d0, d1 by P 22N/22N, combine over 10 limbs 20N/20N.
    assert_eq!(class(&t, KernelClass::ElementwiseMul), (3, 86, 53));
    assert_eq!(t.mod_mults, 1092 * N);
    // The fused kernels write the rescale's output, at level 9.
    let last = out.kernels().last().unwrap();
    assert_eq!(
        out.writes(last)[0].key,
        ObjectKey::Trace(4),
        "fused ModDown writes the rescaled result"
    );
    assert_eq!(out.writes(last)[0].bytes, ciphertext_bytes(N, 10, 2, 8));
    // Separately: 1,056N + 196N.
    let sep = lowerer(LoweringOptions::default());
    assert_eq!(
        sep.lower_event(&a).totals().mod_mults + sep.lower_event(&b).totals().mod_mults,
        1252 * N
    );
}

#[test]
fn fusion_needs_the_option_and_a_rescale_of_the_result() {
    let lo = lowerer(LoweringOptions {
        fused_rescale_moddown: true,
        ..LoweringOptions::default()
    });
    assert!(!lo.can_fuse(&mul_relin(10), &rescale(7, 10)));
    assert!(!lowerer(LoweringOptions::default()).can_fuse(&mul_relin(10), &rescale(3, 10)));
    let mp = TraceEvent::new(OpKind::MulPlain, 16, 10).with_outputs(vec![ct(3, 10)]);
    assert!(!lo.can_fuse(&mp, &rescale(3, 10)));
}

#[test]
fn hoisted_rotations_share_one_mod_up() {
    let gk = |id, k| {
        ObjectRef::key(
            ObjectId(id),
            DataClass::KeyGalois(k),
            key_switch_key_bytes(N, 4, 11, 3, 8, false),
        )
    };
    let ev = TraceEvent::new(OpKind::RotateHoisted, 16, 10)
        .with_key_switching(3, 4)
        .with_rotations(vec![0, 1, 2], vec![1, 5, 25])
        .with_inputs(vec![ct(9, 10), gk(20, 5), gk(21, 25)])
        .with_outputs(vec![ct(10, 10), ct(11, 10), ct(12, 10)]);
    let out = lowerer(LoweringOptions::default()).lower_event(&ev);
    let t = out.totals();
    assert_eq!(t.by_kind(KernelKind::ModUpConversion).kernels, 4);
    assert_eq!(t.by_kind(KernelKind::KeySwitchInnerProduct).kernels, 2);
    assert_eq!(t.by_kind(KernelKind::ModDownConversion).kernels, 4);
    assert_eq!(t.by_kind(KernelKind::Copy).kernels, 1);
    // Each rotation permutes d (L + K) + L = 4 · 14 + 11 = 67 limbs.
    assert_eq!(t.by_kind(KernelKind::Automorphism).words, 2 * 67 * N);
    // Two rotations of one shared decomposition cost less than two single rotations.
    let single = |id, k, key| {
        TraceEvent::new(OpKind::Rotate, 16, 10)
            .with_key_switching(3, 4)
            .with_rotations(vec![1], vec![k])
            .with_inputs(vec![ct(9, 10), key])
            .with_outputs(vec![ct(id, 10)])
    };
    let lo = lowerer(LoweringOptions::default());
    let two = lo.lower_event(&single(11, 5, gk(20, 5))).totals().mod_mults
        + lo.lower_event(&single(12, 25, gk(21, 25)))
            .totals()
            .mod_mults;
    assert!(t.mod_mults < two, "{} vs {}", t.mod_mults, two);
    // Keys are read by the rotation that uses them, in order.
    let keys: Vec<ObjectKey> = out
        .kernels()
        .iter()
        .flat_map(|k| out.reads(k))
        .filter(|a| a.class == TrafficClass::KeyGalois)
        .map(|a| a.key)
        .collect();
    assert_eq!(keys, vec![ObjectKey::Trace(20), ObjectKey::Trace(21)]);
}

#[test]
fn compact_plaintexts_move_one_limb_and_are_expanded_on_chip() {
    let pt = ObjectRef::at_level(ObjectId(5), DataClass::PlaintextWeight, 11 * N * 8, 10);
    let ev = TraceEvent::new(OpKind::MulPlain, 16, 10)
        .with_inputs(vec![ct(1, 10), pt])
        .with_outputs(vec![ct(2, 10)]);
    let stored = lowerer(LoweringOptions::default()).lower_event(&ev);
    assert_eq!(stored.kernels().len(), 1);
    assert_eq!(stored.reads(&stored.kernels()[0])[1].bytes, 11 * N * 8);
    assert_eq!(stored.totals().mod_mults, 22 * N);
    let compact = lowerer(LoweringOptions {
        compact_plaintexts: true,
        ..LoweringOptions::default()
    })
    .lower_event(&ev);
    let k = compact.kernels();
    assert_eq!(k.len(), 2);
    assert_eq!(k[0].kind, KernelKind::PlaintextExpand);
    assert_eq!(compact.reads(&k[0])[0].bytes, N * 8, "one limb moves");
    // 11 NTT limbs more: 88N mults.
    assert_eq!(compact.totals().mod_mults, (22 + 88) * N);
}

#[test]
fn key_compression_and_word_size_scale_bytes() {
    let half = lowerer(LoweringOptions {
        key_compression: true,
        ..LoweringOptions::default()
    });
    assert_eq!(half.object_access(&relin_key(10), N).bytes, 29_360_128);
    assert_eq!(half.object_access(&ct(1, 10), N).bytes, 11_534_336);
    let w4 = lowerer(LoweringOptions {
        word_bytes: Some(4),
        ..LoweringOptions::default()
    });
    assert_eq!(w4.object_access(&ct(1, 10), N).bytes, 11_534_336 / 2);
    assert!(matches!(
        Lowerer::new(
            &he_lrm(),
            LoweringOptions {
                word_bytes: Some(0),
                ..LoweringOptions::default()
            }
        ),
        Err(Error::InvalidOptions {
            field: "word_bytes",
            ..
        })
    ));
}

#[test]
fn digits_follow_the_header_partition_below_the_top_level() {
    // At level 6 (7 limbs) the digits in use are 3, 3, 1: ModUp converts 3 → 7, 3 → 7, 1 → 9.
    let out = lowerer(LoweringOptions::default()).lower_event(&mul_relin(6));
    let conv: Vec<u64> = out
        .kernels()
        .iter()
        .filter(|k| k.kind == KernelKind::ModUpConversion)
        .map(|k| k.limbs)
        .collect();
    assert_eq!(conv, vec![7, 7, 9]);
    // An event whose dnum disagrees with the header is split by its own dnum.
    // (At 4 limbs the header's partition gives 2 digits, 3 and 1; this event says 4.)
    let ev = TraceEvent::new(OpKind::MulRelin, 16, 3)
        .with_key_switching(3, 4)
        .with_inputs(vec![ct(1, 3), ct(2, 3)])
        .with_outputs(vec![ct(3, 3)]);
    let out = lowerer(LoweringOptions::default()).lower_event(&ev);
    let conv: Vec<u64> = out
        .kernels()
        .iter()
        .filter(|k| k.kind == KernelKind::ModUpConversion)
        .map(|k| k.limbs)
        .collect();
    assert_eq!(conv, vec![6, 6, 6, 6]);
}

#[test]
fn markers_and_element_wise_ops() {
    let lo = lowerer(LoweringOptions::default());
    for op in [
        OpKind::CoeffsToSlots,
        OpKind::EvalMod,
        OpKind::SlotsToCoeffs,
    ] {
        assert!(lo
            .lower_event(&TraceEvent::new(op, 16, 10))
            .kernels()
            .is_empty());
    }
    let add = TraceEvent::new(OpKind::Add, 16, 10)
        .with_inputs(vec![ct(1, 10), ct(2, 10)])
        .with_outputs(vec![ct(3, 10)]);
    let t = lo.lower_event(&add).totals();
    assert_eq!(class(&t, KernelClass::ElementwiseAdd), (1, 0, 22));
    // A three-component operand (before relinearisation) adds three components.
    let ct3 = ObjectRef::at_level(ObjectId(7), DataClass::Ciphertext, 3 * 11 * N * 8, 10);
    let add3 = TraceEvent::new(OpKind::Add, 16, 10)
        .with_inputs(vec![ct3, ct3])
        .with_outputs(vec![ct3]);
    assert_eq!(lo.lower_event(&add3).totals().mod_adds, 33 * N);
    let tensor = TraceEvent::new(OpKind::MulNoRelin, 16, 10)
        .with_inputs(vec![ct(1, 10), ct(2, 10)])
        .with_outputs(vec![ct3]);
    let t = lo.lower_event(&tensor).totals();
    assert_eq!(class(&t, KernelClass::ElementwiseMul), (1, 44, 11));
}

#[test]
fn mod_raise_and_level_drop() {
    let lo = lowerer(LoweringOptions::default());
    let raise = TraceEvent::new(OpKind::ModRaise, 16, 0)
        .with_inputs(vec![ct(1, 0)])
        .with_outputs(vec![ct(2, 10)]);
    let t = lo.lower_event(&raise).totals();
    // iNTT of 2 limbs, NTT of 2 · 10 limbs: 22 · 8N mults; 22 · 16N + 20N adds.
    assert_eq!(class(&t, KernelClass::Ntt), (2, 176, 372));
    let drop = TraceEvent::new(OpKind::LevelDrop, 16, 10)
        .with_inputs(vec![ct(1, 10)])
        .with_outputs(vec![ct(2, 7)]);
    let out = lo.lower_event(&drop);
    assert_eq!(out.kernels().len(), 1);
    assert_eq!(out.kernels()[0].kind, KernelKind::Copy);
    assert_eq!(out.kernels()[0].words, 2 * 8 * N);
}

#[test]
fn encode_is_an_fft_then_reduction_and_ntt_per_limb() {
    let pt = ObjectRef::at_level(ObjectId(5), DataClass::PlaintextWeight, 11 * N * 8, 10);
    let ev = TraceEvent::new(OpKind::Encode, 16, 10).with_outputs(vec![pt]);
    let stored = lowerer(LoweringOptions::default()).lower_event(&ev);
    // The FFT reads the model's stored values (one limb, off chip at first), keyed by the
    // encoded object; a constant is generated from nothing.
    let src = stored.reads(&stored.kernels()[0]);
    assert_eq!(src.len(), 1);
    assert_eq!(src[0].key, ObjectKey::Source(5));
    assert_eq!(src[0].bytes, N * 8);
    assert_eq!(
        src[0].class,
        TrafficClass::from_data_class(DataClass::PlaintextWeight)
    );
    let constant = ObjectRef::at_level(ObjectId(6), DataClass::PlaintextConstant, 11 * N * 8, 10);
    let c = lowerer(LoweringOptions::default())
        .lower_event(&TraceEvent::new(OpKind::Encode, 16, 10).with_outputs(vec![constant]));
    assert!(c.reads(&c.kernels()[0]).is_empty());
    let t = stored.totals();
    // FFT: 8N butterflies + N twist mults, 16N adds; 11 limbs: 11N reductions + 88N, 176N.
    assert_eq!(t.by_kind(KernelKind::Fft).mod_mults, 9 * N);
    assert_eq!(class(&t, KernelClass::Ntt), (2, 108, 192));
    // A recorded slot count sizes the FFT (2·slots points); N/2 slots is the unrecorded
    // default, and the reduction and NTTs do not depend on it.
    let fft = |slots: u32| {
        let l = lowerer(LoweringOptions::default()).lower_event(&ev.clone().with_slots(slots));
        let k = &l.kernels()[0];
        assert_eq!(k.kind, KernelKind::Fft);
        (
            k.words,
            k.mod_mults,
            k.mod_adds,
            l.totals().by_kind(KernelKind::Ntt).mod_mults,
        )
    };
    let full = fft((N / 2) as u32);
    assert_eq!((full.0, full.1, full.2), (N, 9 * N, 16 * N));
    // 64 slots: 128 points, 64 · 7 butterflies + 128 twist multiplications, 2 · 448 adds.
    let sparse = fft(64);
    assert_eq!(
        (sparse.0, sparse.1, sparse.2),
        (128, 64 * 7 + 128, 2 * 64 * 7)
    );
    assert_eq!(sparse.3, full.3);
    // The stored values read are the 2 · slots non-zero coefficients (N when unrecorded).
    let l = lowerer(LoweringOptions::default()).lower_event(&ev.clone().with_slots(64));
    assert_eq!(l.reads(&l.kernels()[0])[0].bytes, 128 * 8);
    assert_eq!(stored.writes(&stored.kernels()[1])[0].bytes, 11 * N * 8);
    // Compact: the FFT's rounded coefficients are the stored limb.
    let compact = lowerer(LoweringOptions {
        compact_plaintexts: true,
        ..LoweringOptions::default()
    })
    .lower_event(&ev);
    assert_eq!(compact.kernels().len(), 1);
    assert_eq!(compact.totals().mod_mults, 10 * N);
    assert_eq!(compact.writes(&compact.kernels()[0])[0].bytes, N * 8);
    // Decryption: c0 + c1 s, iNTT, CRT composition and the decoding FFT.
    let out = ObjectRef::at_level(ObjectId(9), DataClass::Other, 11 * N * 8, 10);
    let dec = TraceEvent::new(OpKind::Decrypt, 16, 10)
        .with_inputs(vec![ct(1, 10)])
        .with_outputs(vec![out]);
    let t = lowerer(LoweringOptions::default())
        .lower_event(&dec)
        .totals();
    // 11N + 88N + (8N + N + 11N) mults.
    assert_eq!(t.mod_mults, 119 * N);
}

fn galois_key(id: u64, k: u64) -> ObjectRef {
    let bytes = key_switch_key_bytes(N, 4, 11, 3, 8, false);
    ObjectRef::key(ObjectId(id), DataClass::KeyGalois(k), bytes)
}

/// A plaintext encoded over `Q_ℓ ∪ P` at level 10: 14 limbs.
fn qp_plain(id: u64) -> ObjectRef {
    ObjectRef::at_level(ObjectId(id), DataClass::PlaintextWeight, 14 * N * 8, 10)
}

fn term(input: u32, rotation: Option<u32>, plaintext: Option<u32>, output: u32) -> Term {
    Term {
        input,
        rotation,
        plaintext,
        output,
    }
}

/// One input, rotations 1 and 2; output 0 = pt·x + pt·rot(x, 1), output 1 = pt·rot(x, 2).
fn hoisted_mul_acc() -> TraceEvent {
    TraceEvent::new(OpKind::HoistedRotateMulAcc, 16, 10)
        .with_key_switching(3, 4)
        .with_rotations(vec![1, 2], vec![5, 25])
        .with_inputs(vec![
            ct(1, 10),
            galois_key(10, 5),
            galois_key(11, 25),
            qp_plain(20),
            qp_plain(21),
            qp_plain(22),
        ])
        .with_outputs(vec![ct(30, 10), ct(31, 10)])
        .with_mod_counts(1, 4)
        .with_terms(vec![
            term(0, None, Some(3), 0),
            term(0, Some(0), Some(4), 0),
            term(0, Some(1), Some(5), 1),
        ])
}

#[test]
fn hoisted_rotate_mul_acc_matches_hand_counts() {
    // L = 11, K = 3, L + K = 14, digits 3,3,3,2.
    let out = lowerer(LoweringOptions::default()).lower_event(&hoisted_mul_acc());
    let t = out.totals();
    // One ModUp: iNTT 11 limbs (88N, 176N), conversions (134N, 78N), NTT 45 limbs (360N, 720N).
    assert_eq!(t.by_kind(KernelKind::ModUpConversion).mod_mults, 134 * N);
    assert_eq!(t.by_kind(KernelKind::ModUpConversion).kernels, 4);
    // Two automorphisms of d (L + K) + L = 67 limbs; two inner products (112N, 84N each).
    assert_eq!(t.by_kind(KernelKind::Automorphism).words, 2 * 67 * N);
    assert_eq!(class(&t, KernelClass::KeySwitchMac), (2, 224, 168));
    // Products: output 0 = one rotated term (2·14 + 11 = 39N) and one unrotated (2·11 = 22N),
    // c0 summed once (11N adds); output 1 = one rotated term (39N).
    let mul = t.by_kind(KernelKind::Multiply);
    assert_eq!(
        (mul.kernels, mul.mod_mults / N, mul.mod_adds / N),
        (2, 100, 11)
    );
    // One ModDown pair per output: iNTT 2·3 (48N, 96N), conversions (72N, 44N), NTT 2·11
    // (176N, 352N); combine 22N mults, 22N subs + 22N adds (output 0 adds c0 and c1) or
    // 11N adds (output 1 adds c0).
    assert_eq!(
        t.by_kind(KernelKind::ModDownConversion).mod_mults,
        2 * 72 * N
    );
    let combine = t.by_kind(KernelKind::ModDownCombine);
    assert_eq!((combine.mod_mults / N, combine.mod_adds / N), (44, 77));
    // 582N (ModUp) + 224N + 100N + 2 · 318N; 974N + 168N + 11N + 2 · 492N + 77N.
    assert_eq!(t.mod_mults, 1542 * N);
    assert_eq!(t.mod_adds, 2214 * N);
    // 12 ModUp + 2 automorphisms + 2 inner products + 2 products + 2 · 7 ModDown.
    assert_eq!(t.kernels, 32);
    // The products read the plaintexts of their output, and write the Q·P accumulators.
    let products: Vec<&Kernel> = out
        .kernels()
        .iter()
        .filter(|k| k.kind == KernelKind::Multiply)
        .collect();
    let pts = |k: &Kernel| -> Vec<ObjectKey> {
        out.reads(k)
            .iter()
            .filter(|a| a.class == TrafficClass::PlaintextWeight)
            .map(|a| a.key)
            .collect()
    };
    assert_eq!(
        pts(products[0]),
        [ObjectKey::Trace(20), ObjectKey::Trace(21)]
    );
    assert_eq!(pts(products[1]), [ObjectKey::Trace(22)]);
    assert_eq!(out.writes(products[0])[0].bytes, 2 * 14 * N * 8);
    // Each key is read by exactly one inner product; outputs are written by the combines.
    let combines: Vec<&Kernel> = out
        .kernels()
        .iter()
        .filter(|k| k.kind == KernelKind::ModDownCombine)
        .collect();
    assert_eq!(out.writes(combines[0])[0].key, ObjectKey::Trace(30));
    assert_eq!(out.writes(combines[1])[0].key, ObjectKey::Trace(31));
}

#[test]
fn lazy_rotate_sum_matches_hand_counts() {
    // x0 + rot(x1, 4) + rot(x2, 8): two ModUps and inner products, one ModDown pair.
    let ev = TraceEvent::new(OpKind::LazyRotateSum, 16, 10)
        .with_key_switching(3, 4)
        .with_rotations(vec![4, 8], vec![625, 390_625 % (2 * N)])
        .with_inputs(vec![
            ct(1, 10),
            ct(2, 10),
            ct(3, 10),
            galois_key(10, 625),
            galois_key(11, 390_625 % (2 * N)),
        ])
        .with_outputs(vec![ct(30, 10)])
        .with_mod_counts(2, 2)
        .with_terms(vec![
            term(0, None, None, 0),
            term(1, Some(0), None, 0),
            term(2, Some(1), None, 0),
        ]);
    let t = lowerer(LoweringOptions::default())
        .lower_event(&ev)
        .totals();
    assert_eq!(t.by_kind(KernelKind::ModUpConversion).kernels, 8);
    assert_eq!(class(&t, KernelClass::KeySwitchMac), (2, 224, 168));
    // Sums: Q·P (2 − 1) · 28N, c0 (3 − 1) · 11N, c1 from one term: 50N adds.
    let add = t.by_kind(KernelKind::Add);
    assert_eq!((add.kernels, add.mod_mults, add.mod_adds / N), (1, 0, 50));
    assert_eq!(t.by_kind(KernelKind::ModDownConversion).kernels, 2);
    // 2 · 582N + 224N + 318N; 2 · 974N + 168N + 50N + 492N + 44N.
    assert_eq!(t.mod_mults, 1706 * N);
    assert_eq!(t.mod_adds, 2702 * N);
    assert_eq!(t.kernels, 24 + 2 + 2 + 1 + 7);
    // A rescale of the sum fuses into its ModDown: the Q sums (2 components, 22N) are lifted
    // by P, then iNTT of K + 1 = 4 limbs (32N), conversion 4 → 10 (44N) and NTT of 10 limbs
    // (80N) twice, and the combine over 10 limbs (20N): 354N instead of 318N, and no
    // separate rescale (196N).
    let lo = lowerer(LoweringOptions {
        fused_rescale_moddown: true,
        ..LoweringOptions::default()
    });
    let next = rescale(30, 10);
    assert!(lo.can_fuse(&ev, &next));
    let mut out = Lowered::default();
    lo.lower(&ev, Some(&next), &mut out);
    assert_eq!(out.totals().mod_mults, (1706 - 318 + 354) * N);
    assert_eq!(
        lo.lower_event(&next).totals().mod_mults,
        196 * N,
        "the rescale it saves"
    );
    let last = out.kernels().last().unwrap();
    assert_eq!(last.kind, KernelKind::ModDownCombine);
    assert_eq!(out.writes(last)[0].key, ObjectKey::Trace(31));
    // Without a rotated term there is no ModDown to fuse into.
    let plain_sum = ev
        .clone()
        .with_terms(vec![term(0, None, None, 0), term(1, None, None, 0)]);
    assert!(!lo.can_fuse(&plain_sum, &next));
}

#[test]
fn mul_plain_acc_is_one_multiply_accumulate() {
    let pt = ObjectRef::at_level(ObjectId(5), DataClass::PlaintextWeight, 11 * N * 8, 10);
    let ev = TraceEvent::new(OpKind::MulPlainAcc, 16, 10)
        .with_inputs(vec![ct(7, 10), ct(1, 10), pt])
        .with_outputs(vec![ct(7, 10)]);
    let out = lowerer(LoweringOptions::default()).lower_event(&ev);
    let t = out.totals();
    assert_eq!((t.kernels, t.mod_mults, t.mod_adds), (1, 22 * N, 22 * N));
    let k = &out.kernels()[0];
    let reads: Vec<ObjectKey> = out.reads(k).iter().map(|a| a.key).collect();
    assert_eq!(
        reads,
        [
            ObjectKey::Trace(7),
            ObjectKey::Trace(1),
            ObjectKey::Trace(5)
        ]
    );
    assert_eq!(out.writes(k)[0].key, ObjectKey::Trace(7));
}

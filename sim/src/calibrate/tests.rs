use helrm_core::trace::{
    DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent, TraceHeader, TraceMode,
};

use super::*;
use crate::engine::{simulate, EventRecord, InMemoryTrace, Observer};

const LOG_N: u32 = 12;
const N: u64 = 1 << LOG_N;

fn header(mode: TraceMode) -> TraceHeader {
    TraceHeader::new(
        "calibrate-test",
        ParamsSummary {
            log_n: LOG_N,
            q_bits: vec![50, 40, 40, 40],
            p_bits: vec![60],
            dnum: 4,
            word_bytes: 8,
        },
        mode,
        "helrm-sim calibrate tests",
    )
}

fn ct(id: u64, level: u32) -> ObjectRef {
    ObjectRef::at_level(
        ObjectId(id),
        DataClass::Ciphertext,
        2 * u64::from(level + 1) * N * 8,
        level,
    )
}

fn pt(id: u64, level: u32) -> ObjectRef {
    ObjectRef::at_level(
        ObjectId(id),
        DataClass::PlaintextWeight,
        u64::from(level + 1) * N * 8,
        level,
    )
}

/// A mix of operations touching every kernel class but the base-conversion-only ones alone.
fn workload() -> Vec<TraceEvent> {
    let key = ObjectRef::key(ObjectId(0), DataClass::KeyRelin, 2 * 4 * 5 * N * 8);
    let gkey = ObjectRef::key(ObjectId(1), DataClass::KeyGalois(5), 2 * 4 * 5 * N * 8);
    let mut ev = Vec::new();
    let mut id = 10;
    let mut next = || {
        id += 1;
        id
    };
    for _ in 0..6 {
        let (a, b, p) = (next(), next(), next());
        ev.push(TraceEvent::new(OpKind::Encode, LOG_N, 3).with_outputs(vec![pt(p, 3)]));
        ev.push(
            TraceEvent::new(OpKind::Add, LOG_N, 3)
                .with_inputs(vec![ct(1000, 3), ct(1001, 3)])
                .with_outputs(vec![ct(a, 3)]),
        );
        ev.push(
            TraceEvent::new(OpKind::MulPlain, LOG_N, 3)
                .with_inputs(vec![ct(a, 3), pt(p, 3)])
                .with_outputs(vec![ct(b, 3)]),
        );
        let (c, d, e) = (next(), next(), next());
        ev.push(
            TraceEvent::new(OpKind::MulRelin, LOG_N, 3)
                .with_key_switching(1, 4)
                .with_inputs(vec![ct(b, 3), ct(b, 3), key])
                .with_outputs(vec![ct(c, 3)]),
        );
        ev.push(
            TraceEvent::new(OpKind::Rescale, LOG_N, 3)
                .with_inputs(vec![ct(c, 3)])
                .with_outputs(vec![ct(d, 2)]),
        );
        ev.push(
            TraceEvent::new(OpKind::Rotate, LOG_N, 2)
                .with_key_switching(1, 4)
                .with_rotations(vec![1], vec![5])
                .with_inputs(vec![ct(d, 2), gkey])
                .with_outputs(vec![ct(e, 2)]),
        );
    }
    ev
}

/// Collects every event's replayed cycles.
#[derive(Default)]
struct Cycles(Vec<u64>);

impl Observer for Cycles {
    fn event(&mut self, e: &EventRecord<'_>) {
        self.0.push(e.cycles);
    }
}

/// A real trace whose wall times are exactly what `truth` predicts for each event.
fn timed_by(truth: &MachineModel) -> InMemoryTrace {
    let symbolic = InMemoryTrace {
        header: header(TraceMode::Symbolic),
        events: workload(),
    };
    let mut obs = Cycles::default();
    simulate(&symbolic, truth, &SimOptions::default(), &mut [&mut obs]).unwrap();
    let events = symbolic
        .events
        .into_iter()
        .zip(&obs.0)
        .map(|(e, &c)| {
            let ns = (c as f64 / truth.clock_ghz).round() as u64;
            e.with_wall_ns(ns)
        })
        .collect();
    InMemoryTrace {
        header: header(TraceMode::Real),
        events,
    }
}

fn host() -> MachineModel {
    let mut m = helrm_hwmodels::builtin("host-cpu").unwrap();
    // A large on-chip bandwidth keeps the synthetic machine compute bound.
    m.onchip.bandwidth_gb_per_s = 1e5;
    m
}

#[test]
fn fit_recovers_the_efficiencies_that_timed_the_trace() {
    let mut truth = host();
    if let Some(e) = truth.efficiency.as_mut() {
        e.ntt = 0.2;
        e.base_conversion = 0.3;
        e.key_switch_mac = 0.3;
        e.elementwise_mul = 0.05;
        e.elementwise_add = 0.02;
        e.automorphism = 0.1;
        e.kernel_launch_overhead_ns = 2000.0;
    }
    let trace = timed_by(&truth);
    let base = host();
    let cal = fit(&[("synthetic", &trace)], &base, &FitOptions::default()).unwrap();
    let c = &cal.comparisons[0];
    assert!(c.error().abs() < 0.01, "total error {}", c.error());
    assert!(c.worst_op_error(0.0) < 0.02, "{}", c.to_markdown(0.0));
    let got = cal.model.efficiency.as_ref().unwrap();
    // Classes an operation exercises alone are identified up to the overhead, which
    // equal-sized events cannot tell apart from a slower unit.
    assert!((got.elementwise_add / 0.02 - 1.0).abs() < 0.1, "{got:?}");
    assert!((got.elementwise_mul / 0.05 - 1.0).abs() < 0.1, "{got:?}");
    // The comparison the fit reports is what `compare` finds for the fitted model.
    assert_eq!(
        &compare("synthetic", &trace, &cal.model).unwrap(),
        c,
        "fit and compare disagree"
    );
    // Efficiencies stay valid, and the off-chip efficiency is kept.
    cal.model.validate("fitted").unwrap();
    assert_eq!(
        got.offchip_bandwidth,
        base.efficiency.as_ref().unwrap().offchip_bandwidth
    );
}

#[test]
fn compare_lists_ops_by_measured_time_with_shares_summing_to_one() {
    let trace = timed_by(&host());
    let c = compare("t", &trace, &host()).unwrap();
    let shares: f64 = c.ops.iter().map(|o| o.share).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    assert!(c
        .ops
        .windows(2)
        .all(|w| w[0].measured_seconds >= w[1].measured_seconds));
    assert_eq!(c.ops.iter().map(|o| o.events).sum::<u64>(), 36);
    // Timed by the same model: every prediction within rounding.
    assert!(c.within(0.01, 0.01, 0.0), "{}", c.to_markdown(MIN_SHARE));
    let md = c.to_markdown(MIN_SHARE);
    assert!(md.contains("| **total** | 36 |"), "{md}");
}

#[test]
fn an_untimed_trace_is_refused_by_name() {
    let trace = InMemoryTrace {
        header: header(TraceMode::Symbolic),
        events: workload(),
    };
    assert!(matches!(
        compare("sym", &trace, &host()),
        Err(Error::UntimedTrace { trace }) if trace == "sym"
    ));
    assert!(matches!(
        fit(&[("sym", &trace)], &host(), &FitOptions::default()),
        Err(Error::UntimedTrace { trace }) if trace == "sym"
    ));
}

#[test]
fn merge_keeps_the_smallest_wall_time_of_each_event() {
    let a: Vec<TraceEvent> = workload()
        .into_iter()
        .enumerate()
        .map(|(i, e)| e.with_wall_ns(100 + i as u64))
        .collect();
    let b: Vec<TraceEvent> = workload()
        .into_iter()
        .enumerate()
        .map(|(i, e)| e.with_wall_ns(if i % 2 == 0 { 50 } else { 500 }))
        .collect();
    let m = merge_min_wall(&[a.clone(), b]).unwrap();
    for (i, e) in m.iter().enumerate() {
        let want = if i % 2 == 0 { 50 } else { 100 + i as u64 };
        assert_eq!(e.wall_ns, Some(want));
    }
    assert_eq!(merge_min_wall(std::slice::from_ref(&a)).unwrap(), a);
    assert!(merge_min_wall(&[]).unwrap().is_empty());
}

#[test]
fn merge_refuses_runs_that_differ() {
    let a = workload();
    let mut short = workload();
    short.pop();
    assert!(matches!(
        merge_min_wall(&[a.clone(), short]),
        Err(Error::RunMismatch {
            run: 1,
            event: 35,
            ..
        })
    ));
    let mut other = workload();
    other[2].op = OpKind::Sub;
    assert!(matches!(
        merge_min_wall(&[a, other]),
        Err(Error::RunMismatch {
            run: 1,
            event: 2,
            ..
        })
    ));
}

#[test]
fn box_qp_solves_and_clamps() {
    // min (x - 3)^2 + (y + 1)^2 on [0, 10] x [0, 10]: (3, 0).
    let a = [[2.0, 0.0], [0.0, 2.0]];
    let b = [6.0, -2.0];
    let x = solve_box_qp(&a, &b, &[0.0, 0.0], &[10.0, 10.0], [1.0, 1.0]);
    assert!((x[0] - 3.0).abs() < 1e-9 && x[1] == 0.0, "{x:?}");
    // Coupled: min |(x + y - 2, x - y)|^2 has x = y = 1.
    let a = [[4.0, 0.0], [0.0, 4.0]];
    let b = [4.0, 4.0];
    let x = solve_box_qp(&a, &b, &[0.0, 0.0], &[10.0, 10.0], [5.0, 0.0]);
    assert!(
        (x[0] - 1.0).abs() < 1e-9 && (x[1] - 1.0).abs() < 1e-9,
        "{x:?}"
    );
}

//! Calibration of a machine model against measured traces (what `helrm calibrate` fits), and
//! the comparison of predicted with measured time per operation kind.
//!
//! A real trace carries each operation's measured wall time. [`compare`] replays such a trace
//! on a model and sets the predicted seconds of every operation kind beside the measured ones.
//! [`fit`] chooses a model's per-kernel-class efficiencies and its per-kernel overhead so that
//! replays of one or more real traces match their measurements:
//!
//! 1. Every event is lowered once; per trace and operation kind the fit keeps the seconds each
//!    kernel class would take at the model's *peak* rate (`c_k`) and the number of kernels
//!    (`m`). With efficiency `e_k` and overhead `o`, a compute-bound replay predicts
//!    `Σ_k c_k / e_k + m · o` — linear in `x_k = 1 / e_k` and `o`.
//! 2. A bounded weighted least-squares problem is solved for `x_k ≥ 1` (efficiency at most 1)
//!    and `o ≥ 0`: one row per (trace, operation kind) holding at least
//!    [`FitOptions::min_share`] of the trace's measured time, weighted by the inverse of its
//!    measured time (so rows count by *relative* error), plus one row per trace for its total,
//!    weighted [`FitOptions::total_weight`] times. A tiny ridge towards the base model keeps
//!    classes the data cannot tell apart (ModUp conversion and key inner product always occur
//!    together) at their base ratio.
//! 3. The fitted model is replayed by the real engine; what the engine adds beyond the linear
//!    prediction (off-chip stalls, on-chip bandwidth limits, rounding) is subtracted from the
//!    measured targets and step 2 repeats, [`FitOptions::rounds`] times. The round whose
//!    replays are closest to the measurements (root mean square of the errors relative to
//!    their tolerances) wins.
//! 4. Optionally ([`FitOptions::capacity_halvings`]) steps 2–3 run for the on-chip capacity
//!    halved several times, and the best capacity is kept: a cache shared with other tenants
//!    holds less than its size.
//!
//! [`merge_min_wall`] turns several recordings of one deterministic workload into one trace
//! whose wall times are the per-event minima: on a shared machine, interference only ever
//! adds time, so the minimum is the best estimate of the undisturbed cost.
//!
//! # Example
//! ```
//! use helrm_core::trace::{DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent,
//!                         TraceHeader, TraceMode};
//! use helrm_sim::calibrate::{compare, fit, FitOptions};
//! use helrm_sim::engine::InMemoryTrace;
//!
//! let params = ParamsSummary { log_n: 12, q_bits: vec![50, 40, 40], p_bits: vec![60],
//!                              dnum: 3, word_bytes: 8 };
//! let header = TraceHeader::new("toy", params, TraceMode::Real, "doc");
//! let ct = |id| ObjectRef::at_level(ObjectId(id), DataClass::Ciphertext, 196_608, 2);
//! let events = (0..10)
//!     .map(|i| TraceEvent::new(OpKind::Add, 12, 2)
//!         .with_inputs(vec![ct(1), ct(2)])
//!         .with_outputs(vec![ct(3 + i)])
//!         .with_wall_ns(40_000))
//!     .collect();
//! let trace = InMemoryTrace { header, events };
//! let base = helrm_hwmodels::builtin("host-cpu")?;
//! let cal = fit(&[("toy", &trace)], &base, &FitOptions::default())?;
//! let cmp = compare("toy", &trace, &cal.model)?;
//! assert!((cmp.predicted_seconds / cmp.measured_seconds - 1.0).abs() < 0.05);
//! # Ok::<(), helrm_sim::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use helrm_core::trace::TraceEvent;
use helrm_hwmodels::{Efficiency, KernelClass, MachineModel};
use serde::Serialize;

use crate::engine::{EventSource, SimOptions};
use crate::error::Error;
use crate::lower::{class_index, Lowered, Lowerer, LoweringOptions};
use crate::report::simulate_report;

/// Operation kinds below this share of a trace's measured time are neither fitted nor held to
/// the per-operation tolerance (they cannot move the total).
pub const MIN_SHARE: f64 = 0.01;

/// Number of kernel classes (the length of [`KernelClass::ALL`]).
const CLASSES: usize = KernelClass::ALL.len();

/// Largest `1 / efficiency` the fit may choose (an efficiency of one in a million).
const MAX_INVERSE_EFFICIENCY: f64 = 1e6;

/// Largest per-kernel overhead the fit may choose, in seconds (1 ms).
const MAX_OVERHEAD_SECONDS: f64 = 1e-3;

/// Weight of the ridge pulling each `1 / efficiency` towards the base model's, relative to
/// one operation row.
const RIDGE: f64 = 1e-6;

/// Predicted and measured time of one operation kind in one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpComparison {
    /// Operation kind (`rotate`, `mul_plain`, ...).
    pub op: String,
    /// Events of this kind.
    pub events: u64,
    /// Sum of their measured wall times, in seconds.
    pub measured_seconds: f64,
    /// Seconds the replay attributes to them.
    pub predicted_seconds: f64,
    /// Their share of the trace's measured time, in [0, 1].
    pub share: f64,
}

impl OpComparison {
    /// `predicted / measured − 1` (0.1 is 10 % too slow).
    pub fn error(&self) -> f64 {
        relative_error(self.predicted_seconds, self.measured_seconds)
    }
}

/// Predicted and measured time of one trace, in total and per operation kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The trace's name (its file name, say).
    pub trace: String,
    /// The machine model's name.
    pub machine: String,
    /// Sum of the trace's measured wall times, in seconds.
    pub measured_seconds: f64,
    /// The replay's total seconds.
    pub predicted_seconds: f64,
    /// Per operation kind, largest measured time first.
    pub ops: Vec<OpComparison>,
}

impl Comparison {
    /// `predicted / measured − 1` of the whole trace.
    pub fn error(&self) -> f64 {
        relative_error(self.predicted_seconds, self.measured_seconds)
    }

    /// The operation kinds holding at least `min_share` of the measured time.
    pub fn significant_ops(&self, min_share: f64) -> impl Iterator<Item = &OpComparison> {
        self.ops.iter().filter(move |o| o.share >= min_share)
    }

    /// The largest `|error|` among the operation kinds holding at least `min_share` of the
    /// measured time (0 when there are none).
    pub fn worst_op_error(&self, min_share: f64) -> f64 {
        self.significant_ops(min_share)
            .map(|o| o.error().abs())
            .fold(0.0, f64::max)
    }

    /// True if the total is within `total_tolerance` and every operation kind holding at
    /// least `min_share` of the time within `op_tolerance` (fractions: 0.2 is ±20 %).
    pub fn within(&self, total_tolerance: f64, op_tolerance: f64, min_share: f64) -> bool {
        self.error().abs() <= total_tolerance && self.worst_op_error(min_share) <= op_tolerance
    }

    /// The comparison as a Markdown table (operation kinds below `min_share` are marked as
    /// not held to the tolerance).
    pub fn to_markdown(&self, min_share: f64) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| operation | events | measured (s) | predicted (s) | error | share |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for o in &self.ops {
            let mark = if o.share >= min_share { "" } else { " ¹" };
            let _ = writeln!(
                s,
                "| {}{mark} | {} | {:.4} | {:.4} | {:+.1} % | {:.1} % |",
                o.op,
                o.events,
                o.measured_seconds,
                o.predicted_seconds,
                100.0 * o.error(),
                100.0 * o.share
            );
        }
        let _ = writeln!(
            s,
            "| **total** | {} | **{:.4}** | **{:.4}** | **{:+.1} %** | 100 % |",
            self.ops.iter().map(|o| o.events).sum::<u64>(),
            self.measured_seconds,
            self.predicted_seconds,
            100.0 * self.error()
        );
        s
    }
}

fn relative_error(predicted: f64, measured: f64) -> f64 {
    if measured > 0.0 {
        predicted / measured - 1.0
    } else if predicted > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Replays `source` on `model` and compares the predicted time of every operation kind with
/// the trace's measured wall times.
///
/// # Errors
/// [`Error::UntimedTrace`] if the trace has no wall times; the replay's errors (as
/// [`crate::engine::simulate`]).
pub fn compare(
    name: &str,
    source: &dyn EventSource,
    model: &MachineModel,
) -> Result<Comparison, Error> {
    let report = simulate_report(source, model, &SimOptions::default())?;
    let measured = report
        .measured_seconds
        .filter(|&m| m > 0.0)
        .ok_or_else(|| Error::UntimedTrace {
            trace: name.to_string(),
        })?;
    let mut ops: Vec<OpComparison> = report
        .by_op
        .iter()
        .map(|(op, st)| {
            let m = st.measured_seconds.unwrap_or(0.0);
            OpComparison {
                op: (*op).to_string(),
                events: st.events,
                measured_seconds: m,
                predicted_seconds: st.seconds,
                share: m / measured,
            }
        })
        .collect();
    ops.sort_by(|a, b| {
        b.measured_seconds
            .total_cmp(&a.measured_seconds)
            .then_with(|| a.op.cmp(&b.op))
    });
    Ok(Comparison {
        trace: name.to_string(),
        machine: model.name.clone(),
        measured_seconds: measured,
        predicted_seconds: report.total_seconds,
        ops,
    })
}

/// Knobs of [`fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Operation kinds below this share of their trace's measured time get no row.
    pub min_share: f64,
    /// Weight of each trace's total relative to one operation kind.
    pub total_weight: f64,
    /// Replays that correct the linear fit for what the engine adds (at least 1).
    pub rounds: usize,
    /// On-chip capacities tried: the base model's, and it halved up to this many times (a
    /// cache shared with other tenants, and managed in lines rather than whole objects, holds
    /// less than its size suggests). The best-fitting one is kept.
    pub capacity_halvings: u32,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            min_share: MIN_SHARE,
            total_weight: 3.0,
            rounds: 5,
            capacity_halvings: 0,
        }
    }
}

/// The result of [`fit`]: the fitted model and how its replays compare with the measurements.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The base model with a fitted `efficiency` block (per-class efficiencies and
    /// `kernel_launch_overhead_ns`; `offchip_bandwidth` is kept) and on-chip capacity.
    pub model: MachineModel,
    /// One comparison per trace, in the order given.
    pub comparisons: Vec<Comparison>,
    /// The round (from 1) whose model was kept.
    pub round: usize,
}

/// Per operation kind of one trace: measured seconds and the linear model's features.
#[derive(Debug, Clone, Default)]
struct OpFeatures {
    /// Measured wall time, seconds.
    measured: f64,
    /// Seconds per kernel class at the model's peak rate (efficiency 1).
    class_seconds: [f64; CLASSES],
    /// Kernels (each pays the overhead once).
    kernels: f64,
}

impl OpFeatures {
    /// The feature vector `[c_0 .. c_5, m]` multiplying `[x_0 .. x_5, o]`.
    fn vector(&self) -> [f64; CLASSES + 1] {
        let mut v = [0.0; CLASSES + 1];
        v[..CLASSES].copy_from_slice(&self.class_seconds);
        v[CLASSES] = self.kernels;
        v
    }

    fn add(&mut self, other: &OpFeatures) {
        self.measured += other.measured;
        for (a, b) in self.class_seconds.iter_mut().zip(other.class_seconds) {
            *a += b;
        }
        self.kernels += other.kernels;
    }
}

/// Lowers every event of `source` once and sums the features per operation kind.
fn features(
    source: &dyn EventSource,
    model: &MachineModel,
) -> Result<BTreeMap<&'static str, OpFeatures>, Error> {
    let lowerer = Lowerer::new(
        &source.header().params,
        LoweringOptions::from_features(&model.features),
    )?;
    let peaks = KernelClass::ALL.map(|c| model.units.get(c).peak_throughput());
    let cycles_per_second = model.clock_ghz * 1e9;
    let mut rows: BTreeMap<&'static str, OpFeatures> = BTreeMap::new();
    let mut lowered = Lowered::default();
    source.for_each_event(&mut |ev| {
        lowered.clear();
        lowerer.lower(ev, None, &mut lowered);
        let row = rows.entry(ev.op.name()).or_default();
        row.measured += ev.wall_ns.unwrap_or(0) as f64 * 1e-9;
        for k in lowered.kernels() {
            row.kernels += 1.0;
            let Some(i) = class_index(k.class()) else {
                continue;
            };
            if let (Some(Some(t)), Some(c)) = (peaks.get(i), row.class_seconds.get_mut(i)) {
                *c += t.cycles_for(k.words, k.mod_mults) / cycles_per_second;
            }
        }
        Ok(())
    })?;
    Ok(rows)
}

/// `model` with efficiencies `1 / x[k]` and overhead `x[6]` seconds.
fn apply(model: &MachineModel, x: &[f64; CLASSES + 1]) -> MachineModel {
    let mut m = model.clone();
    let base = m.efficiency.clone().unwrap_or(Efficiency {
        ntt: 1.0,
        base_conversion: 1.0,
        elementwise_mul: 1.0,
        elementwise_add: 1.0,
        automorphism: 1.0,
        key_switch_mac: 1.0,
        offchip_bandwidth: 1.0,
        kernel_launch_overhead_ns: 0.0,
    });
    let e = |k: usize| 1.0 / x[k];
    m.efficiency = Some(Efficiency {
        ntt: e(0),
        base_conversion: e(1),
        elementwise_mul: e(2),
        elementwise_add: e(3),
        automorphism: e(4),
        key_switch_mac: e(5),
        offchip_bandwidth: base.offchip_bandwidth,
        kernel_launch_overhead_ns: x[CLASSES] * 1e9,
    });
    m
}

/// Minimises `½ θᵀAθ − bᵀθ` over the box `[lo, hi]` by cyclic coordinate descent (exact
/// on each coordinate; converges for a positive semi-definite `A`). Coordinates whose
/// diagonal is zero keep their starting value.
fn solve_box_qp<const D: usize>(
    a: &[[f64; D]; D],
    b: &[f64; D],
    lo: &[f64; D],
    hi: &[f64; D],
    start: [f64; D],
) -> [f64; D] {
    let mut x = start;
    for _ in 0..50_000 {
        let mut moved = 0.0f64;
        for j in 0..D {
            if a[j][j] <= 0.0 {
                continue;
            }
            let mut r = b[j];
            for k in 0..D {
                if k != j {
                    r -= a[j][k] * x[k];
                }
            }
            let v = (r / a[j][j]).clamp(lo[j], hi[j]);
            let scale = x[j].abs().max(hi[j].min(1.0) * 1e-12);
            moved = moved.max((v - x[j]).abs() / scale);
            x[j] = v;
        }
        if moved < 1e-12 {
            break;
        }
    }
    x
}

/// Fits `base`'s per-kernel-class efficiencies, per-kernel overhead and usable on-chip
/// capacity to the measured wall times of `traces` (name, trace), as the module
/// documentation describes. Unit counts, peak rates, bandwidths, features and the off-chip
/// efficiency are kept; classes no trace exercises keep their base efficiency.
///
/// # Errors
/// [`Error::UntimedTrace`] for a trace without wall times; lowering and replay errors.
pub fn fit(
    traces: &[(&str, &dyn EventSource)],
    base: &MachineModel,
    options: &FitOptions,
) -> Result<Calibration, Error> {
    let mut per_trace = Vec::with_capacity(traces.len());
    for (name, source) in traces {
        let f = features(*source, base)?;
        let total = f.values().map(|r| r.measured).sum::<f64>();
        if total <= 0.0 {
            return Err(Error::UntimedTrace {
                trace: (*name).to_string(),
            });
        }
        per_trace.push((f, total));
    }
    let mut best: Option<(f64, Calibration)> = None;
    for halving in 0..=options.capacity_halvings {
        let mut candidate = base.clone();
        candidate.onchip.capacity_bytes = base.onchip.capacity_bytes >> halving;
        if candidate.onchip.capacity_bytes == 0 {
            break;
        }
        let (score, cal) = fit_rounds(traces, &per_trace, &candidate, options)?;
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, cal));
        }
    }
    match best {
        Some((_, c)) => Ok(c),
        // Unreachable: the full capacity is always tried.
        None => fit_rounds(traces, &per_trace, base, options).map(|(_, c)| c),
    }
}

/// How far a set of comparisons is from the measurements: the root mean square of every
/// error as a fraction of its tolerance (±20 % for a trace's total, ±30 % for an operation
/// kind holding at least `min_share` of the time). A mean rather than the worst error, so
/// that one operation the model cannot describe does not steer every other choice.
fn score(comparisons: &[Comparison], min_share: f64) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for c in comparisons {
        sum += (c.error() / 0.2).powi(2);
        n += 1;
        for o in c.significant_ops(min_share) {
            sum += (o.error() / 0.3).powi(2);
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        (sum / n as f64).sqrt()
    }
}

/// Steps 2 and 3 of the fit for one candidate model (fixed memories): the best round's score
/// and calibration.
fn fit_rounds(
    traces: &[(&str, &dyn EventSource)],
    per_trace: &[(BTreeMap<&'static str, OpFeatures>, f64)],
    base: &MachineModel,
    options: &FitOptions,
) -> Result<(f64, Calibration), Error> {
    const D: usize = CLASSES + 1;
    let mut prior = [0.0; D];
    for (k, &class) in KernelClass::ALL.iter().enumerate() {
        prior[k] = 1.0 / base.efficiency_for(class).clamp(1e-6, 1.0);
    }
    prior[CLASSES] = base.kernel_launch_overhead_ns() * 1e-9;
    let lo = {
        let mut l = [1.0; D];
        l[CLASSES] = 0.0;
        l
    };
    let hi = {
        let mut h = [MAX_INVERSE_EFFICIENCY; D];
        h[CLASSES] = MAX_OVERHEAD_SECONDS;
        h
    };
    // What the engine adds beyond the linear prediction, per trace and operation kind.
    let mut excess: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); traces.len()];
    let mut x = prior;
    let mut best: Option<(f64, Calibration)> = None;
    for round in 1..=options.rounds.max(1) {
        let mut a = [[0.0; D]; D];
        let mut b = [0.0; D];
        let mut row = |f: [f64; D], target: f64, w: f64| {
            for i in 0..D {
                b[i] += w * w * f[i] * target;
                for j in 0..D {
                    a[i][j] += w * w * f[i] * f[j];
                }
            }
        };
        for ((rows, total), ex) in per_trace.iter().zip(&excess) {
            let mut all = OpFeatures::default();
            for (op, r) in rows {
                all.add(r);
                if r.measured >= options.min_share * total {
                    let target = r.measured - ex.get(*op).copied().unwrap_or(0.0);
                    row(r.vector(), target, 1.0 / r.measured);
                }
            }
            let target = total - ex.values().sum::<f64>();
            row(all.vector(), target, options.total_weight / total);
        }
        for k in 0..CLASSES {
            if a[k][k] > 0.0 {
                let w = RIDGE / (prior[k] * prior[k]);
                a[k][k] += w;
                b[k] += w * prior[k];
            }
        }
        x = solve_box_qp(&a, &b, &lo, &hi, x);
        let model = apply(base, &x);
        let mut comparisons = Vec::with_capacity(traces.len());
        for (((name, source), (rows, _)), ex) in traces.iter().zip(per_trace).zip(&mut excess) {
            let c = compare(name, *source, &model)?;
            ex.clear();
            for o in &c.ops {
                if let Some(r) = rows.get(o.op.as_str()) {
                    let linear: f64 = r.vector().iter().zip(&x).map(|(f, v)| f * v).sum();
                    ex.insert(o.op.clone(), o.predicted_seconds - linear);
                }
            }
            comparisons.push(c);
        }
        let s = score(&comparisons, options.min_share);
        if best.as_ref().is_none_or(|(b, _)| s < *b) {
            best = Some((
                s,
                Calibration {
                    model,
                    comparisons,
                    round,
                },
            ));
        }
    }
    match best {
        Some(b) => Ok(b),
        // Unreachable: at least one round runs.
        None => Ok((
            f64::INFINITY,
            Calibration {
                model: apply(base, &x),
                comparisons: Vec::new(),
                round: 0,
            },
        )),
    }
}

/// One trace from several recordings of the same deterministic workload: the first run's
/// events, each with the smallest wall time any run measured for it.
///
/// # Errors
/// [`Error::RunMismatch`] if a run has a different number of events or a different
/// operation at some position than the first.
pub fn merge_min_wall(runs: &[Vec<TraceEvent>]) -> Result<Vec<TraceEvent>, Error> {
    let Some((first, rest)) = runs.split_first() else {
        return Ok(Vec::new());
    };
    let mut merged = first.clone();
    for (r, run) in rest.iter().enumerate() {
        if run.len() != merged.len() {
            return Err(Error::RunMismatch {
                run: r + 1,
                event: run.len().min(merged.len()) as u64,
                expected: format!("{} events", merged.len()),
                found: format!("{} events", run.len()),
            });
        }
        for (i, (m, e)) in merged.iter_mut().zip(run).enumerate() {
            if m.op != e.op || m.level != e.level || m.log_n != e.log_n {
                return Err(Error::RunMismatch {
                    run: r + 1,
                    event: i as u64,
                    expected: format!("{} at level {}", m.op.name(), m.level),
                    found: format!("{} at level {}", e.op.name(), e.level),
                });
            }
            m.wall_ns = match (m.wall_ns, e.wall_ns) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests;

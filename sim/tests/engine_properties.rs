//! Engine properties over random traces: capacity and bandwidth monotonicity.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

mod common;

use common::TraceBuilder;
use helrm_core::trace::{DataClass, ObjectRef, OpKind, TraceMode};
use helrm_hwmodels::{builtin, builtin_names, MachineModel, ReplacementPolicy};
use helrm_sim::engine::{
    simulate, Direction, InMemoryTrace, Link, Observer, SimOptions, TransferRecord,
};
use proptest::prelude::*;

#[derive(Default)]
struct Traffic {
    offchip: u64,
    reads: u64,
}

impl Observer for Traffic {
    fn transfer(&mut self, t: &TransferRecord) {
        if t.link == Link::OffChip {
            self.offchip += t.bytes;
            if t.direction == Direction::Read {
                self.reads += t.bytes;
            }
        }
    }
}

fn traffic(t: &InMemoryTrace, model: &MachineModel, policy: ReplacementPolicy) -> u64 {
    let mut obs = Traffic::default();
    let options = SimOptions {
        policy: Some(policy),
        ..SimOptions::default()
    };
    simulate(t, model, &options, &mut [&mut obs]).unwrap();
    obs.offchip
}

/// Element-wise steps on equal-size ciphertexts (the setting of Belady's theorem): each step
/// reads one or two live objects (`a`, `b` index the live pool) and writes a fresh one.
fn uniform_trace(steps: &[(u8, u8, u8)]) -> InMemoryTrace {
    let mut b = TraceBuilder::new(4, 1, 1, 1, TraceMode::Symbolic);
    let mut live: Vec<ObjectRef> = (0..4).map(|_| b.ct(0)).collect();
    for &(kind, x, y) in steps {
        let a = live[x as usize % live.len()];
        let c = live[y as usize % live.len()];
        let out = b.ct(0);
        match kind % 4 {
            0 => b.push(OpKind::Add, 0, vec![a, c], vec![out]),
            1 => b.push(OpKind::Sub, 0, vec![a, c], vec![out]),
            2 => b.push(OpKind::MulConst, 0, vec![a], vec![out]),
            _ => b.push(OpKind::AddConst, 0, vec![a], vec![out]),
        };
        live.push(out);
        if live.len() > 9 {
            live.remove(y as usize % 9);
        }
    }
    b.build()
}

fn with_capacity(bytes: u64) -> MachineModel {
    let mut m = builtin("ark").unwrap();
    m.onchip.capacity_bytes = bytes;
    m
}

/// Key-switching steps of every kind at small N.
fn mixed_trace(steps: &[(u8, u8)]) -> InMemoryTrace {
    let mut b = TraceBuilder::new(6, 4, 2, 2, TraceMode::Symbolic);
    let top = b.top();
    let relin = b.key_id();
    let g5 = b.key_id();
    let g25 = b.key_id();
    let mut cur = b.ct(top);
    let mut level = top;
    let mut pool = vec![cur];
    for &(kind, pick) in steps {
        let other = pool[pick as usize % pool.len()];
        let other = if other.level == Some(level) {
            other
        } else {
            cur
        };
        match kind % 7 {
            0 => {
                let out = b.ct(level);
                let k = b.key(relin, DataClass::KeyRelin, level);
                b.push(OpKind::MulRelin, level, vec![cur, other, k], vec![out]);
                cur = out;
            }
            1 if level > 0 => {
                let out = b.ct(level - 1);
                b.push(OpKind::Rescale, level, vec![cur], vec![out]);
                cur = out;
                level -= 1;
            }
            2 => {
                let out = b.ct(level);
                let k = b.key(g5, DataClass::KeyGalois(5), level);
                let e = b.push(OpKind::Rotate, level, vec![cur, k], vec![out]);
                e.rotations = vec![1];
                e.galois_elements = vec![5];
                cur = out;
            }
            3 => {
                let (o1, o2) = (b.ct(level), b.ct(level));
                let k1 = b.key(g5, DataClass::KeyGalois(5), level);
                let k2 = b.key(g25, DataClass::KeyGalois(25), level);
                let e = b.push(
                    OpKind::RotateHoisted,
                    level,
                    vec![cur, k1, k2],
                    vec![o1, o2],
                );
                e.rotations = vec![1, 2];
                e.galois_elements = vec![5, 25];
                cur = o2;
                pool.push(o1);
            }
            4 => {
                let w = b.pt(DataClass::PlaintextWeight, level);
                let out = b.ct(level);
                b.push(OpKind::MulPlain, level, vec![cur, w], vec![out]);
                cur = out;
            }
            _ => {
                let out = b.ct(level);
                b.push(OpKind::Add, level, vec![cur, other], vec![out]);
                cur = out;
            }
        }
        pool.push(cur);
    }
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Belady's replacement is a stack algorithm on equal-size objects: a larger memory holds
    /// a superset of a smaller one's objects at every step, so it never moves more bytes.
    /// (LRU, with dead objects evicted first, is one too, and is checked alongside.)
    #[test]
    fn more_capacity_never_increases_traffic_under_belady(
        steps in prop::collection::vec((0u8..4, 0u8..16, 0u8..16), 1..60),
        small in 3u64..9,
        extra in 1u64..8,
    ) {
        let t = uniform_trace(&steps);
        let ct = t.events[0].inputs[0].bytes;
        let a = traffic(&t, &with_capacity(small * ct), ReplacementPolicy::Belady);
        let b = traffic(&t, &with_capacity((small + extra) * ct), ReplacementPolicy::Belady);
        let la = traffic(&t, &with_capacity(small * ct), ReplacementPolicy::Lru);
        let lb = traffic(&t, &with_capacity((small + extra) * ct), ReplacementPolicy::Lru);
        prop_assert!(lb <= la, "LRU: capacity {} → {} bytes, {} → {} bytes", small, la, small + extra, lb);
        prop_assert!(b <= a, "capacity {} → {} bytes, {} → {} bytes", small, a, small + extra, b);
    }

    /// On equal-size objects Belady's choice (furthest next use) is optimal for misses: it
    /// never reads more from off-chip memory than LRU does at the same capacity.
    #[test]
    fn belady_never_reads_more_than_lru(
        steps in prop::collection::vec((0u8..4, 0u8..16, 0u8..16), 1..60),
        slots in 3u64..12,
    ) {
        let t = uniform_trace(&steps);
        let ct = t.events[0].inputs[0].bytes;
        let reads = |policy| {
            let mut obs = Traffic::default();
            let options = SimOptions {
                policy: Some(policy),
                ..SimOptions::default()
            };
            simulate(&t, &with_capacity(slots * ct), &options, &mut [&mut obs]).unwrap();
            obs.reads
        };
        let (b, l) = (reads(ReplacementPolicy::Belady), reads(ReplacementPolicy::Lru));
        prop_assert!(b <= l, "capacity {} cts: Belady reads {} B, LRU {} B", slots, b, l);
    }

    /// Faster off-chip memory (or host link) never makes a replay slower: every start time is
    /// a maximum of sums of earlier durations, and the schedule's decisions do not depend on
    /// time.
    #[test]
    fn more_bandwidth_never_increases_time(
        steps in prop::collection::vec((0u8..7, 0u8..8), 1..25),
        model in 0usize..7,
        capacity_kib in 8u64..512,
        offchip_kib in 16u64..2048,
        factor in 1.0f64..8.0,
    ) {
        let t = mixed_trace(&steps);
        let name = builtin_names()[model];
        let mut slow = builtin(name).unwrap();
        slow.onchip.capacity_bytes = capacity_kib << 10;
        slow.offchip.capacity_bytes = offchip_kib << 10;
        let mut fast = slow.clone();
        fast.offchip.bandwidth_gb_per_s *= factor;
        if let Some(h) = fast.host_link.as_mut() {
            h.bandwidth_gb_per_s *= factor;
        }
        let opts = SimOptions::default();
        let a = simulate(&t, &slow, &opts, &mut []).unwrap().total_cycles;
        let b = simulate(&t, &fast, &opts, &mut []).unwrap().total_cycles;
        prop_assert!(b <= a, "{}: {} cycles at 1x, {} at {:.2}x", name, a, b, factor);
    }
}

/// Stored model values an `encode` reads are read once: under Belady they must not stay on
/// chip ahead of a key every step reuses. Each step encodes fresh weights (reading their
/// stored values), multiplies and rotates with the same Galois key; the memory holds the key
/// and the working ciphertexts but not every step's values. Belady then reads the key once
/// and never moves more than LRU.
#[test]
fn values_read_by_an_encode_do_not_crowd_out_a_reused_key() {
    let mut b = TraceBuilder::new(10, 4, 2, 2, TraceMode::Symbolic);
    let top = b.top();
    let g5 = b.key_id();
    let mut cur = b.ct(top);
    let key = b.key(g5, DataClass::KeyGalois(5), top);
    for _ in 0..150 {
        let w = b.pt(DataClass::PlaintextWeight, top);
        b.push(OpKind::Encode, top, vec![], vec![w]);
        let prod = b.ct(top);
        b.push(OpKind::MulPlain, top, vec![cur, w], vec![prod]);
        let out = b.ct(top);
        let e = b.push(OpKind::Rotate, top, vec![prod, key], vec![out]);
        e.rotations = vec![1];
        e.galois_elements = vec![5];
        cur = out;
    }
    let t = b.build();
    let mut model = builtin("ark").unwrap();
    // Room for the key and eight ciphertexts; the 150 steps' stored values (one limb each)
    // add up to more than that.
    model.onchip.capacity_bytes = key.bytes + 8 * cur.bytes;
    let key_reads = |policy| {
        #[derive(Default)]
        struct KeyReads(u64, u64);
        impl Observer for KeyReads {
            fn transfer(&mut self, t: &TransferRecord) {
                if t.link == Link::OffChip && t.direction == Direction::Read {
                    self.1 += t.bytes;
                    if t.class == helrm_sim::lower::TrafficClass::KeyGalois {
                        self.0 += t.bytes;
                    }
                }
            }
        }
        let mut obs = KeyReads::default();
        let options = SimOptions {
            policy: Some(policy),
            ..SimOptions::default()
        };
        simulate(&t, &model, &options, &mut [&mut obs]).unwrap();
        (obs.0, obs.1)
    };
    let (belady_key, belady_all) = key_reads(ReplacementPolicy::Belady);
    let (_, lru_all) = key_reads(ReplacementPolicy::Lru);
    assert_eq!(belady_key, key.bytes, "the key is fetched once");
    assert!(
        belady_all <= lru_all,
        "Belady {belady_all} B, LRU {lru_all} B"
    );
}

//! Hand-built traces for the simulator's integration tests.

#![allow(
    dead_code,
    reason = "each test file uses a different part of this module"
)]

use helrm_core::trace::{
    DataClass, ObjectId, ObjectRef, OpKind, ParamsSummary, TraceEvent, TraceHeader, TraceMode,
};
use helrm_sim::engine::InMemoryTrace;
use helrm_sim::lower::{ciphertext_bytes, digit_partition, digits_in_use, key_switch_key_bytes};

/// Builds a trace event by event, handing out object ids in program order.
pub struct TraceBuilder {
    pub header: TraceHeader,
    pub events: Vec<TraceEvent>,
    next_id: u64,
    q: u32,
    p: u32,
    dnum: u32,
    log_n: u32,
}

impl TraceBuilder {
    /// A trace at ring degree `2^log_n` with `q` Q primes, `p` P primes and `dnum` digits.
    pub fn new(log_n: u32, q: u32, p: u32, dnum: u32, mode: TraceMode) -> Self {
        let header = TraceHeader::new(
            format!("test-n{log_n}-q{q}-p{p}-d{dnum}"),
            ParamsSummary {
                log_n,
                q_bits: vec![40; q as usize],
                p_bits: vec![50; p as usize],
                dnum,
                word_bytes: 8,
            },
            mode,
            "helrm-sim tests",
        );
        TraceBuilder {
            header,
            events: Vec::new(),
            next_id: 0,
            q,
            p,
            dnum,
            log_n,
        }
    }

    pub fn n(&self) -> u64 {
        1 << self.log_n
    }

    pub fn top(&self) -> u32 {
        self.q - 1
    }

    fn id(&mut self) -> ObjectId {
        let id = ObjectId(self.next_id);
        self.next_id += 1;
        id
    }

    /// A fresh two-component ciphertext at `level`.
    pub fn ct(&mut self, level: u32) -> ObjectRef {
        let bytes = ciphertext_bytes(self.n(), level + 1, 2, 8);
        let id = self.id();
        ObjectRef::at_level(id, DataClass::Ciphertext, bytes, level)
    }

    /// A fresh plaintext of `class` at `level`.
    pub fn pt(&mut self, class: DataClass, level: u32) -> ObjectRef {
        let bytes = u64::from(level + 1) * self.n() * 8;
        let id = self.id();
        ObjectRef::at_level(id, class, bytes, level)
    }

    pub fn digits_at(&self, level: u32) -> u32 {
        digits_in_use(&digit_partition(self.q, self.dnum), level + 1).len() as u32
    }

    /// A key-switching key (object `id` is reused across levels, as the evaluator does).
    pub fn key(&self, id: ObjectId, class: DataClass, level: u32) -> ObjectRef {
        let bytes =
            key_switch_key_bytes(self.n(), self.digits_at(level), level + 1, self.p, 8, false);
        ObjectRef::key(id, class, bytes)
    }

    /// A fresh key id.
    pub fn key_id(&mut self) -> ObjectId {
        self.id()
    }

    /// Appends an event at `level` with the key-switching shape of that level.
    pub fn push(
        &mut self,
        op: OpKind,
        level: u32,
        inputs: Vec<ObjectRef>,
        outputs: Vec<ObjectRef>,
    ) -> &mut TraceEvent {
        let mut e = TraceEvent::new(op, self.log_n, level)
            .with_key_switching(self.p, self.digits_at(level))
            .with_scale_log2(40.0)
            .with_inputs(inputs)
            .with_outputs(outputs);
        e.seq = self.events.len() as u64;
        self.events.push(e);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    pub fn build(self) -> InMemoryTrace {
        InMemoryTrace {
            header: self.header,
            events: self.events,
        }
    }
}

/// A small program touching every operation kind the evaluator emits: encoding and
/// encryption, element-wise operations, multiplication with relinearisation and rescale,
/// rotations (single, hoisted, conjugation), a bootstrap-shaped mod-raise with markers, and
/// decryption, inside nested scopes.
pub fn every_op(log_n: u32, q: u32, p: u32, dnum: u32, mode: TraceMode) -> InMemoryTrace {
    let mut b = TraceBuilder::new(log_n, q, p, dnum, mode);
    let top = b.top();
    let relin = b.key_id();
    let g5 = b.key_id();
    let g25 = b.key_id();
    let conj = b.key_id();
    let pk = b.key_id();
    let n = b.n();
    let pk_obj = ObjectRef::key(pk, DataClass::KeyPublic, 2 * u64::from(q + p) * n * 8);
    let timed = mode == TraceMode::Real;
    let scope_of = |e: &mut TraceEvent, s: &str, wall: u64| {
        e.scope = s.to_string();
        if timed {
            e.wall_ns = Some(wall);
        }
    };

    let m = b.pt(DataClass::Other, top);
    let e = b.push(OpKind::Encode, top, vec![], vec![m]);
    scope_of(e, "client", 1_000);
    let x = b.ct(top);
    let e = b.push(OpKind::EncryptPk, top, vec![m, pk_obj], vec![x]);
    scope_of(e, "client", 5_000);
    let m2 = b.pt(DataClass::Other, top);
    let e = b.push(OpKind::Encode, top, vec![], vec![m2]);
    scope_of(e, "client", 1_000);
    let y = b.ct(top);
    let e = b.push(OpKind::EncryptSk, top, vec![m2], vec![y]);
    scope_of(e, "client", 4_000);

    // Embedding lookup: plaintext embeddings times the query, summed.
    let emb = b.pt(DataClass::PlaintextEmbedding, top);
    let t0 = b.ct(top);
    let e = b.push(OpKind::MulPlain, top, vec![x, emb], vec![t0]);
    scope_of(e, "dlrm/embedding/lookup", 20_000);
    let t1 = b.ct(top);
    let e = b.push(OpKind::Add, top, vec![t0, y], vec![t1]);
    scope_of(e, "dlrm/embedding/lookup", 2_000);
    let t2 = b.ct(top - 1);
    let e = b.push(OpKind::Rescale, top, vec![t1], vec![t2]);
    scope_of(e, "dlrm/embedding/lookup", 30_000);

    // MLP layer: hoisted rotations (BSGS), weights, bias, square activation.
    let l1 = top - 1;
    let r0 = b.ct(l1);
    let r1 = b.ct(l1);
    let r2 = b.ct(l1);
    let ks = vec![
        t2,
        b.key(g5, DataClass::KeyGalois(5), l1),
        b.key(g25, DataClass::KeyGalois(25), l1),
    ];
    let e = b.push(OpKind::RotateHoisted, l1, ks, vec![r0, r1, r2]);
    e.rotations = vec![0, 1, 2];
    e.galois_elements = vec![1, 5, 25];
    scope_of(e, "dlrm/mlp/layer0/bsgs", 400_000);
    let w = b.pt(DataClass::PlaintextWeight, l1);
    let a0 = b.ct(l1);
    let e = b.push(OpKind::MulPlain, l1, vec![r1, w], vec![a0]);
    scope_of(e, "dlrm/mlp/layer0", 20_000);
    let a1 = b.ct(l1);
    let e = b.push(OpKind::Sub, l1, vec![a0, r2], vec![a1]);
    scope_of(e, "dlrm/mlp/layer0", 2_000);
    let bias = b.pt(DataClass::PlaintextConstant, l1);
    let a2 = b.ct(l1);
    let e = b.push(OpKind::AddPlain, l1, vec![a1, bias], vec![a2]);
    scope_of(e, "dlrm/mlp/layer0", 2_000);
    let a3 = b.ct(l1);
    let e = b.push(OpKind::AddConst, l1, vec![a2], vec![a3]);
    scope_of(e, "dlrm/mlp/layer0", 1_000);
    let a4 = b.ct(l1);
    let e = b.push(OpKind::MulConst, l1, vec![a3], vec![a4]);
    scope_of(e, "dlrm/mlp/layer0", 2_000);
    let sq = b.ct(l1);
    let rk = b.key(relin, DataClass::KeyRelin, l1);
    let e = b.push(OpKind::MulRelin, l1, vec![a4, a4, rk], vec![sq]);
    scope_of(e, "dlrm/mlp/layer0/act", 300_000);
    let l2 = l1 - 1;
    let sq2 = b.ct(l2);
    let e = b.push(OpKind::Rescale, l1, vec![sq], vec![sq2]);
    scope_of(e, "dlrm/mlp/layer0/act", 30_000);

    // Three-component path: tensor, relinearise, rotate, conjugate, bare key switch.
    let three = {
        let id = b.key_id();
        ObjectRef::at_level(
            id,
            DataClass::Ciphertext,
            ciphertext_bytes(n, l2 + 1, 3, 8),
            l2,
        )
    };
    let e = b.push(OpKind::MulNoRelin, l2, vec![sq2, sq2], vec![three]);
    scope_of(e, "dlrm/interaction", 30_000);
    let rl = b.ct(l2);
    let rk = b.key(relin, DataClass::KeyRelin, l2);
    let e = b.push(OpKind::Relinearize, l2, vec![three, rk], vec![rl]);
    scope_of(e, "dlrm/interaction", 250_000);
    let ro = b.ct(l2);
    let gk = b.key(g5, DataClass::KeyGalois(5), l2);
    let e = b.push(OpKind::Rotate, l2, vec![rl, gk], vec![ro]);
    e.rotations = vec![1];
    e.galois_elements = vec![5];
    scope_of(e, "dlrm/interaction", 260_000);
    let cj = b.ct(l2);
    let ck = b.key(conj, DataClass::KeyGalois(2 * n - 1), l2);
    let e = b.push(OpKind::Conjugate, l2, vec![ro, ck], vec![cj]);
    e.galois_elements = vec![2 * n - 1];
    scope_of(e, "dlrm/interaction", 260_000);
    let sw = b.ct(l2);
    let rk = b.key(relin, DataClass::KeyRelin, l2);
    let e = b.push(OpKind::KeySwitch, l2, vec![cj, rk], vec![sw]);
    scope_of(e, "dlrm/interaction", 240_000);

    // Bootstrap-shaped tail: drop to level 0, raise, markers, one step per marker.
    let d0 = b.ct(0);
    let e = b.push(OpKind::LevelDrop, l2, vec![sw], vec![d0]);
    scope_of(e, "bootstrap", 1_000);
    let raised = b.ct(top);
    let e = b.push(OpKind::ModRaise, 0, vec![d0], vec![raised]);
    scope_of(e, "bootstrap", 50_000);
    let e = b.push(OpKind::CoeffsToSlots, top, vec![], vec![]);
    scope_of(e, "bootstrap/coeffs_to_slots", 0);
    let c2s = b.ct(top);
    let gk = b.key(g5, DataClass::KeyGalois(5), top);
    let e = b.push(OpKind::Rotate, top, vec![raised, gk], vec![c2s]);
    e.rotations = vec![1];
    e.galois_elements = vec![5];
    scope_of(e, "bootstrap/coeffs_to_slots", 300_000);
    let e = b.push(OpKind::EvalMod, top, vec![], vec![]);
    scope_of(e, "bootstrap/eval_mod", 0);
    let em = b.ct(top);
    let rk = b.key(relin, DataClass::KeyRelin, top);
    let e = b.push(OpKind::MulRelin, top, vec![c2s, c2s, rk], vec![em]);
    scope_of(e, "bootstrap/eval_mod", 320_000);
    let e = b.push(OpKind::SlotsToCoeffs, top, vec![], vec![]);
    scope_of(e, "bootstrap/slots_to_coeffs", 0);
    let out = b.ct(top - 1);
    let e = b.push(OpKind::Rescale, top, vec![em], vec![out]);
    scope_of(e, "bootstrap/slots_to_coeffs", 30_000);

    let res = b.pt(DataClass::Other, top - 1);
    let e = b.push(OpKind::Decrypt, top - 1, vec![out], vec![res]);
    scope_of(e, "client", 3_000);
    b.build()
}

//! Encrypted DLRM inference: a [`Client`] that holds the secret key, and a [`Server`] that
//! holds only the evaluator, public evaluation keys and the plaintext model.
//!
//! ```text
//! client: dense → ct_d (replicated, period P)   one-hot (digits, packed) → ct_s…
//! server: bottom MLP (BSGS, activations, bootstraps) ─┐
//!         packed lookup (one product per chunk) ───────┤ add (offsets 0 | bottom_width)
//!         top MLP (BSGS, activations, bootstraps) ─ ct_logit
//! client: decrypt, sigmoid
//! ```
//! The server follows the [`Plan`]: each layer's operations (linear product, activation
//! stages, the composite ReLU's product) with the bootstraps the plan placed before them;
//! a bootstrap inside a composite ReLU refreshes the pre-activation and the partial sign
//! packed into one complex-slot ciphertext (see [`crate::plan`]). Transforms are built on
//! demand and dropped after use, so only one layer's diagonals are in memory; a symbolic
//! run builds the embedding products from the table shapes only.
//!
//! The server never receives a [`KeyGenerator`] or a [`SecretKey`](helrm_core::ckks::SecretKey):
//! [`Server::new`] takes [`EvaluationKeys`] only. Trace scopes: `dlrm/bottom/layerK`,
//! `dlrm/embedding/lookup`, `dlrm/top/layerK`, `dlrm/activation`, `dlrm/bootstrap`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use helrm_core::circuits::bootstrap::{Bootstrapper, DiagonalStorage};
use helrm_core::circuits::linear::{DiagonalSource, Hoisting, InputLayout, LinearTransform};
use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, EvaluationKeys, Evaluator, KeyGenerator, Level,
};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::{Backend, GaloisElement};
use helrm_core::trace::{DataClass, Tracer};
use num_complex::Complex64;
use serde::Serialize;

use crate::dlrm::{Dlrm, DlrmExport};
use crate::error::{Error, Result};
use crate::plan::{
    bootstrapper, embedding_shape, embedding_transform, mlp_transform, plan, scaled_layers,
    ActivationCircuit, BootstrapKind, ChunkShape, OpStep, Plan, ScaledLayer,
};

/// What the client sends: the dense ciphertext and the one-hot ciphertext(s).
#[derive(Debug, Clone)]
pub struct Query {
    /// Dense features, replicated with the plan's period.
    pub dense: Ciphertext,
    /// The packed one-hot vector, one ciphertext per block of slots.
    pub sparse: Vec<Ciphertext>,
}

/// The client: secret key, encryption of queries, decryption of logits.
pub struct Client {
    ctx: Arc<CkksContext>,
    keygen: KeyGenerator,
    encryptor: Encryptor,
    plan: Plan,
    export: DlrmExport,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.plan.config)
            .finish()
    }
}

fn rng(seed: Option<u64>, salt: u8) -> Option<Csprng> {
    seed.map(|s| {
        let mut b = [salt; 32];
        b[..8].copy_from_slice(&s.to_le_bytes());
        Csprng::from_seed(b)
    })
}

impl Client {
    /// A client for `model` planned on `ctx`'s parameters (`params_name` for reports); with
    /// `seed` the keys and encryption randomness are reproducible (tests, real-vs-symbolic
    /// traces), otherwise drawn from the operating system.
    ///
    /// # Errors
    /// [`crate::plan::plan`]'s errors; [`Error::NeedsBootstrap`] when the model needs
    /// bootstrapping and the parameters cannot; key-generation errors.
    pub fn new(
        ctx: Arc<CkksContext>,
        model: &Dlrm,
        params_name: &str,
        seed: Option<u64>,
    ) -> Result<Self> {
        let plan = plan(model, ctx.params(), params_name)?;
        Self::with_plan(ctx, model, plan, seed)
    }

    /// As [`Client::new`] with a plan already made for `model` on `ctx`'s parameters.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn with_plan(
        ctx: Arc<CkksContext>,
        model: &Dlrm,
        plan: Plan,
        seed: Option<u64>,
    ) -> Result<Self> {
        plan.require_fits()?;
        let mut keygen = match rng(seed, 1) {
            Some(r) => KeyGenerator::with_rng(ctx.clone(), r)?,
            None => KeyGenerator::new(ctx.clone())?,
        };
        let pk = keygen.public_key()?;
        let encryptor = match rng(seed, 2) {
            Some(r) => Encryptor::with_rng(ctx.clone(), pk, r),
            None => Encryptor::new(ctx.clone(), pk)?,
        };
        Ok(Self {
            ctx,
            keygen,
            encryptor,
            plan,
            export: model.export()?,
        })
    }

    /// The plan the client and the server share.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The public evaluation keys the server needs: relinearisation and one Galois key per
    /// element of the plan (the linear products' rotations and, when the plan bootstraps,
    /// the bootstrapping circuit's rotations and conjugation).
    ///
    /// # Errors
    /// Key-generation errors.
    pub fn evaluation_keys(&mut self) -> Result<EvaluationKeys> {
        let mut keys = EvaluationKeys::default();
        keys.set_relin(self.keygen.relin_key()?);
        for &g in &self.plan.galois_elements {
            let k = GaloisElement(g);
            let key = self.keygen.galois_key(k)?;
            keys.insert_galois(k, key);
        }
        Ok(keys)
    }

    /// Encrypts one row at the plan's working top: dense features replicated with the
    /// plan's period at the default scale, and the digit-decomposed one-hot vector of all
    /// tables (packed) at the plan's sparse scale.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`], [`Error::IndexOutOfRange`] for bad inputs; encryption errors.
    pub fn encrypt(&mut self, dense: &[f32], sparse: &[u32]) -> Result<Query> {
        if dense.len() != self.export.num_dense {
            return Err(Error::ShapeMismatch {
                what: "dense features",
                expected: self.export.num_dense,
                found: dense.len(),
            });
        }
        let (s, p) = (self.plan.slots, self.plan.period);
        let top = Level::new(self.plan.top_level);
        let x: Vec<f64> = dense.iter().map(|&v| f64::from(v)).collect();
        let packed = InputLayout::Replicated { period: p }.pack(&x, x.len(), s)?;
        let mut cts = Vec::new();
        for v in &packed {
            let pt = self.ctx.encode_real(
                v,
                top,
                self.ctx.params().default_scale(),
                s,
                DataClass::Other,
            )?;
            cts.push(self.encryptor.encrypt(&pt)?);
        }
        let dense_ct = cts.pop().ok_or(Error::ShapeMismatch {
            what: "dense ciphertexts",
            expected: 1,
            found: 0,
        })?;
        let mut sparse_cts = Vec::new();
        for b in 0..self.plan.sparse_ciphertexts as u64 {
            let v = self.export.layout.one_hot_block(sparse, b, s)?;
            let pt = self
                .ctx
                .encode_real(&v, top, self.plan.sparse_scale, s, DataClass::Other)?;
            sparse_cts.push(self.encryptor.encrypt(&pt)?);
        }
        Ok(Query {
            dense: dense_ct,
            sparse: sparse_cts,
        })
    }

    /// A decryptor of this client's ciphertexts, e.g. for a [`Probe`] that inspects the
    /// server's intermediate results when client and server run in one process (debugging;
    /// a deployed server never holds one).
    pub fn decryptor(&self) -> Decryptor<'_> {
        Decryptor::new(self.ctx.clone(), self.keygen.secret_key())
    }

    /// Decrypts the encrypted logit (slot 0).
    ///
    /// # Errors
    /// Decryption errors.
    pub fn decrypt_logit(&self, ct: &Ciphertext) -> Result<f64> {
        let v = Decryptor::new(self.ctx.clone(), self.keygen.secret_key()).decrypt_real(ct)?;
        Ok(v.first().copied().unwrap_or(0.0))
    }

    /// The probability `σ(logit)`.
    pub fn sigmoid(logit: f64) -> f64 {
        1.0 / (1.0 + (-logit).exp())
    }
}

/// Wall seconds of each server stage for one query.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageSeconds {
    /// Bottom MLP (bootstraps included).
    pub bottom: f64,
    /// Packed embedding lookup.
    pub embedding: f64,
    /// Concatenation and top MLP (bootstraps included).
    pub top: f64,
    /// Of the above, seconds spent bootstrapping (packing included).
    pub bootstrap: f64,
    /// Whole server run.
    pub total: f64,
}

impl std::ops::AddAssign for StageSeconds {
    fn add_assign(&mut self, o: Self) {
        self.bottom += o.bottom;
        self.embedding += o.embedding;
        self.top += o.top;
        self.bootstrap += o.bootstrap;
        self.total += o.total;
    }
}

/// One MLP layer as the server runs it.
#[derive(Debug)]
struct LayerRt {
    name: String,
    export: crate::dlrm::LayerExport,
    weights: Vec<f64>,
    bias: Vec<f64>,
    act: ActivationCircuit,
    plan_index: usize,
}

/// The server: evaluator with public evaluation keys, the plaintext model and the plan.
#[derive(Debug)]
pub struct Server<'m> {
    eval: Evaluator,
    model: &'m Dlrm,
    export: DlrmExport,
    plan: Plan,
    bottom: Vec<LayerRt>,
    top: Vec<LayerRt>,
    boot: Option<Bootstrapper>,
    shape_only: bool,
    probe: Option<ProbeSlot<'m>>,
}

/// An observer of the server's intermediate ciphertexts: called with a label and the
/// ciphertext after every planned step (`bottom/layer1/sign0/g`, `top/layer0/linear/y`, …;
/// `y` the layer's value, `g` a ReLU's partial sign) and around every bootstrap
/// (`bootstrap/in`, `bootstrap/out`). The server hands over ciphertexts only; a probe that
/// decrypts them holds the client's [`Client::decryptor`] — a debugging set-up for runs
/// with client and server in one process.
pub type Probe<'m> = Box<dyn Fn(&str, &Ciphertext) + Send + Sync + 'm>;

/// A [`Probe`] behind a `Debug` implementation.
struct ProbeSlot<'m>(Probe<'m>);

impl std::fmt::Debug for ProbeSlot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Probe")
    }
}

impl<'m> Server<'m> {
    /// A server for `model` with the client's public evaluation `keys` on `ctx`; `tracer`
    /// receives every homomorphic operation. Plans the model itself.
    ///
    /// # Errors
    /// As [`Server::with_plan`] and [`crate::plan::plan`].
    pub fn new(
        ctx: Arc<CkksContext>,
        keys: EvaluationKeys,
        model: &'m Dlrm,
        tracer: Option<Arc<Tracer>>,
    ) -> Result<Self> {
        let plan = plan(model, ctx.params(), "")?;
        Self::with_plan(ctx, keys, model, plan, tracer, DiagonalStorage::PreEncoded)
    }

    /// A server following `plan` (made for `model` on `ctx`'s parameters); bootstrapping
    /// transforms keep their diagonals as `storage` says (pre-encoded: fast, several GB at
    /// full size; on the fly: an encoding per diagonal per bootstrap).
    ///
    /// # Errors
    /// [`Error::NotPolynomial`] for an activation the encrypted pipeline cannot evaluate
    /// (the exact ReLU); [`Error::NeedsBootstrap`] when the plan bootstraps and the
    /// parameters cannot; bootstrapper errors.
    pub fn with_plan(
        ctx: Arc<CkksContext>,
        keys: EvaluationKeys,
        model: &'m Dlrm,
        plan: Plan,
        tracer: Option<Arc<Tracer>>,
        storage: DiagonalStorage,
    ) -> Result<Self> {
        plan.require_fits()?;
        let export = model.export()?;
        let (sb, st) = scaled_layers(&export);
        let boot = if plan.bootstraps > 0 {
            bootstrapper(ctx.clone(), plan.slots, storage)?
        } else {
            None
        };
        let shape_only = ctx.backend() == Backend::Symbolic;
        let mut eval = Evaluator::new(ctx, Arc::new(keys));
        if let Some(t) = tracer {
            eval = eval.with_tracer(t);
        }
        let mut index = 0;
        let mut rt = |prefix: &str,
                      layers: &[crate::dlrm::LayerExport],
                      scaled: Vec<ScaledLayer>|
         -> Result<Vec<LayerRt>> {
            let mut out = Vec::new();
            for (k, (l, (weights, bias))) in layers.iter().zip(scaled).enumerate() {
                let name = format!("{prefix}/layer{k}");
                let act = ActivationCircuit::new(&l.activation, &name)?;
                let plan_index = plan
                    .steps
                    .iter()
                    .position(|s| s.name == name)
                    .unwrap_or(index);
                index += 1;
                out.push(LayerRt {
                    name,
                    export: l.clone(),
                    weights,
                    bias,
                    act,
                    plan_index,
                });
            }
            Ok(out)
        };
        let bottom = rt("bottom", &export.bottom, sb)?;
        let top = rt("top", &export.top, st)?;
        Ok(Self {
            eval,
            model,
            export,
            plan,
            bottom,
            top,
            boot,
            shape_only,
            probe: None,
        })
    }

    /// Attaches `probe`, which then sees every intermediate ciphertext (see [`Probe`]).
    pub fn set_probe(&mut self, probe: Probe<'m>) {
        self.probe = Some(ProbeSlot(probe));
    }

    fn probe(&self, label: &str, ct: &Ciphertext) {
        if let Some(p) = &self.probe {
            (p.0)(label, ct);
        }
    }

    /// The evaluator (for its context and tracer).
    pub fn evaluator(&self) -> &Evaluator {
        &self.eval
    }

    /// The plan the server follows.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    fn bootstrap(&self, ct: &Ciphertext, secs: &mut f64) -> Result<Ciphertext> {
        let t = Instant::now();
        let boot = self.boot.as_ref().ok_or(Error::NeedsBootstrap {
            config: self.plan.config.clone(),
            params: self.plan.params.clone(),
            needed: self.plan.levels_needed,
            available: u32::try_from(self.plan.top_level).unwrap_or(u32::MAX),
            bootstraps: self.plan.bootstraps,
        })?;
        let _s = self.eval.scope("bootstrap");
        self.probe("bootstrap/in", ct);
        let out = boot.bootstrap(&self.eval, ct)?;
        self.probe("bootstrap/out", &out);
        *secs += t.elapsed().as_secs_f64();
        Ok(out)
    }

    fn unit_i(&self, level: Level, sign: f64) -> Result<helrm_core::ckks::Plaintext> {
        let s = self.plan.slots;
        Ok(self.eval.encode(
            &vec![Complex64::new(0.0, sign); s],
            level,
            1.0,
            s,
            DataClass::PlaintextConstant,
        )?)
    }

    /// Bootstraps `y` and `g` together as `(Re y + i·Re g)/2`; returns both at the working
    /// top and exactly the bootstrap's output scale (the halving is a scale label).
    fn bootstrap_packed(
        &self,
        y: &Ciphertext,
        g: &Ciphertext,
        secs: &mut f64,
    ) -> Result<(Ciphertext, Ciphertext)> {
        let t = Instant::now();
        let eval = &self.eval;
        let packed = {
            // (Re(y) + i·Re(g))/2 = (u + conj(v))/4 with u = y + i·g, v = y − i·g: one
            // conjugation. Packing y + i·g alone would leak Im(g) into y: the sign stages
            // magnify the slots' (complex) noise by their slope, so Im(g) reaches ~1e-1.
            // The halving (a scale label) makes the unpacked values land at the bootstrap's
            // own output scale: the last sign stage squares its input's scale mismatch with
            // the chain's primes at every level, and at twice the scale loses ~2^-4.
            let _s = eval.scope("bootstrap_pack");
            let y = eval.drop_to_level(y, g.level())?;
            let ig = eval.mul_plain(g, &self.unit_i(g.level(), 1.0)?)?;
            let u = eval.add(&y, &ig)?;
            let v = eval.sub(&y, &ig)?;
            let mut p = eval.add(&u, &eval.conjugate(&v)?)?;
            p.set_scale(4.0 * p.scale());
            p
        };
        *secs += t.elapsed().as_secs_f64();
        let c = self.bootstrap(&packed, secs)?;
        let t = Instant::now();
        let _s = eval.scope("bootstrap_unpack");
        let conj = eval.conjugate(&c)?;
        let y2 = eval.add(&c, &conj)?;
        let d = eval.sub(&c, &conj)?;
        let g2 = eval.mul_plain(&d, &self.unit_i(d.level(), -1.0)?)?;
        *secs += t.elapsed().as_secs_f64();
        Ok((y2, g2))
    }

    fn linear(&self, l: &LayerRt, lt: &LinearTransform, x: &Ciphertext) -> Result<Ciphertext> {
        let eval = &self.eval;
        let _s = eval.scope(&l.name);
        let y = lt.apply(
            eval,
            std::slice::from_ref(x),
            DiagonalSource::OnTheFly,
            Hoisting::Single,
        )?;
        let placed = lt.output().place(&l.bias, lt.rows(), lt.slots())?;
        let pt = eval.encode_real(
            &placed,
            y.level(),
            y.scale(),
            lt.slots(),
            DataClass::PlaintextWeight,
        )?;
        Ok(eval.add_plain(&y, &pt)?)
    }

    /// One layer as planned: bootstraps, the linear product, the activation's operations.
    fn layer(&self, l: &LayerRt, x: Ciphertext, boot_secs: &mut f64) -> Result<Ciphertext> {
        let eval = &self.eval;
        let ops = self
            .plan
            .steps
            .get(l.plan_index)
            .map(|s| s.ops.clone())
            .unwrap_or_default();
        let mut x = x;
        let mut y: Option<Ciphertext> = None;
        let mut g: Option<Ciphertext> = None;
        let lost = || Error::ShapeMismatch {
            what: "planned operations",
            expected: 1,
            found: 0,
        };
        for op in &ops {
            match op.bootstrap_before {
                None => {}
                Some(BootstrapKind::Single) => match &y {
                    None => x = self.bootstrap(&x, boot_secs)?,
                    Some(v) => y = Some(self.bootstrap(v, boot_secs)?),
                },
                Some(BootstrapKind::Packed) => {
                    let (yv, gv) = (y.as_ref().ok_or_else(lost)?, g.as_ref().ok_or_else(lost)?);
                    let (a, b) = self.bootstrap_packed(yv, gv, boot_secs)?;
                    y = Some(a);
                    g = Some(b);
                }
            }
            match op.step {
                OpStep::Linear => {
                    let lt =
                        mlp_transform(&l.export, &l.weights, self.plan.period, self.plan.slots)?;
                    y = Some(self.linear(l, &lt, &x)?);
                }
                OpStep::Square => {
                    let _a = eval.scope("activation");
                    let v = y.as_ref().ok_or_else(lost)?;
                    y = Some(
                        helrm_core::circuits::activation::Activation::square().evaluate(eval, v)?,
                    );
                }
                OpStep::Poly => {
                    let _a = eval.scope("activation");
                    if let ActivationCircuit::Poly(p) = &l.act {
                        let v = y.as_ref().ok_or_else(lost)?;
                        y = Some(p.evaluate(eval, v)?);
                    }
                }
                OpStep::Stage { stage } => {
                    let _a = eval.scope("activation");
                    let ActivationCircuit::Relu(stages) = &l.act else {
                        return Err(lost());
                    };
                    let p = stages.get(stage).ok_or_else(lost)?;
                    let input = match &g {
                        Some(v) => v,
                        None => y.as_ref().ok_or_else(lost)?,
                    };
                    g = Some(if stage + 1 == stages.len() {
                        // The step at the prime the final product's rescale drops, so that
                        // the ReLU keeps y's scale exactly.
                        let lvl = input.level().get().saturating_sub(p.depth());
                        let q = eval.context().params().q()[lvl] as f64;
                        p.evaluate_to_scale(eval, input, q)?
                    } else {
                        p.evaluate(eval, input)?
                    });
                }
                OpStep::Product => {
                    let _a = eval.scope("activation");
                    let (yv, gv) = (y.as_ref().ok_or_else(lost)?, g.take().ok_or_else(lost)?);
                    let yd = eval.drop_to_level(yv, gv.level())?;
                    y = Some(eval.rescale(&eval.mul_relin(&yd, &gv)?)?);
                }
            }
            if self.probe.is_none() {
                continue;
            }
            let tag = format!(
                "{}/{}",
                l.name,
                match op.step {
                    OpStep::Linear => "linear".to_owned(),
                    OpStep::Square => "square".to_owned(),
                    OpStep::Poly => "poly".to_owned(),
                    OpStep::Stage { stage } => format!("sign{stage}"),
                    OpStep::Product => "product".to_owned(),
                }
            );
            if let Some(v) = &y {
                self.probe(&format!("{tag}/y"), v);
            }
            if let Some(v) = &g {
                self.probe(&format!("{tag}/g"), v);
            }
        }
        y.ok_or_else(lost)
    }

    /// The packed lookup: one product per chunk of input ciphertexts, summed.
    fn embedding(&self, sparse: &[Ciphertext]) -> Result<Option<Ciphertext>> {
        let eval = &self.eval;
        let chunks = &self.plan.embedding_chunks;
        if chunks.is_empty() {
            return Ok(None);
        }
        if sparse.len() != self.plan.sparse_ciphertexts {
            return Err(Error::ShapeMismatch {
                what: "sparse ciphertexts",
                expected: self.plan.sparse_ciphertexts,
                found: sparse.len(),
            });
        }
        let _s = eval.scope("embedding/lookup");
        let mut acc: Option<Ciphertext> = None;
        // Shape-only runs build one transform per distinct chunk shape.
        let mut shapes: HashMap<ChunkShape, Arc<LinearTransform>> = HashMap::new();
        for chunk in chunks {
            let build = || {
                embedding_transform(
                    self.model,
                    &self.export,
                    self.plan.period,
                    self.plan.slots,
                    chunk.clone(),
                    self.shape_only,
                )
                .map(Arc::new)
            };
            let lt = if self.shape_only {
                let key = embedding_shape(
                    &self.export,
                    self.plan.period,
                    self.plan.slots,
                    chunk.clone(),
                );
                match shapes.get(&key) {
                    Some(lt) => lt.clone(),
                    None => {
                        let lt = build()?;
                        shapes.insert(key, lt.clone());
                        lt
                    }
                }
            } else {
                build()?
            };
            let inputs = sparse.get(chunk.clone()).ok_or(Error::ShapeMismatch {
                what: "sparse ciphertexts",
                expected: chunk.end,
                found: sparse.len(),
            })?;
            let e = lt.apply(eval, inputs, DiagonalSource::OnTheFly, Hoisting::Single)?;
            acc = Some(match acc {
                None => e,
                Some(a) => eval.add(&a, &e)?,
            });
        }
        Ok(acc)
    }

    /// Runs the model on an encrypted query and returns the encrypted logit (slot 0) and the
    /// per-stage wall seconds.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a query with the wrong number of sparse ciphertexts;
    /// evaluator and bootstrapping errors.
    pub fn infer(&self, q: &Query) -> Result<(Ciphertext, StageSeconds)> {
        let t0 = Instant::now();
        let eval = &self.eval;
        let _dlrm = eval.scope("dlrm");
        let mut boot_secs = 0.0;
        let mut x = q.dense.clone();
        for l in &self.bottom {
            x = self.layer(l, x, &mut boot_secs)?;
        }
        let t1 = Instant::now();
        if let Some(e) = self.embedding(&q.sparse)? {
            let level = e.level().min(x.level());
            let e = eval.drop_to_level(&e, level)?;
            x = eval.drop_to_level(&x, level)?;
            x = eval.add(&x, &e)?;
            self.probe("interaction/y", &x);
        }
        let t2 = Instant::now();
        for l in &self.top {
            x = self.layer(l, x, &mut boot_secs)?;
        }
        let t3 = Instant::now();
        Ok((
            x,
            StageSeconds {
                bottom: (t1 - t0).as_secs_f64(),
                embedding: (t2 - t1).as_secs_f64(),
                top: (t3 - t2).as_secs_f64(),
                bootstrap: boot_secs,
                total: (t3 - t0).as_secs_f64(),
            },
        ))
    }
}

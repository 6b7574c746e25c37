//! Encrypted DLRM inference: a [`Client`] that holds the secret key, and a [`Server`] that
//! holds only the evaluator, public evaluation keys and the plaintext model.
//!
//! ```text
//! client: dense → ct_d (replicated, period P)   one-hot (digits, packed) → ct_s…
//! server: bottom MLP (BSGS) ─┐
//!         one packed lookup ─┤ add (offsets 0 | bottom_width) ─ top MLP ─ ct_logit
//! client: decrypt, sigmoid
//! ```
//! The server never receives a [`KeyGenerator`] or a [`SecretKey`](helrm_core::ckks::SecretKey):
//! [`Server::new`] takes [`EvaluationKeys`] only. Trace scopes: `dlrm/bottom/layerK`,
//! `dlrm/embedding/lookup`, `dlrm/top/layerK`, `dlrm/activation`.

use std::sync::Arc;
use std::time::Instant;

use helrm_core::circuits::activation::Activation as CoreActivation;
use helrm_core::circuits::linear::{DiagonalSource, Hoisting, InputLayout, LinearTransform};
use helrm_core::circuits::poly::Polynomial;
use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, EvaluationKeys, Evaluator, KeyGenerator,
};
use helrm_core::math::sample::Csprng;
use helrm_core::trace::{DataClass, Tracer};
use serde::Serialize;

use crate::dlrm::{Activation, Dlrm, DlrmExport};
use crate::error::{Error, Result};
use crate::plan::{plan, transforms, Plan, Transforms};

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
    /// [`crate::plan::plan`]'s errors; [`Error::NeedsBootstrap`] when the model does not fit;
    /// key-generation errors.
    pub fn new(
        ctx: Arc<CkksContext>,
        model: &Dlrm,
        params_name: &str,
        seed: Option<u64>,
    ) -> Result<Self> {
        let plan = plan(model, ctx.params(), params_name)?;
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

    /// The public evaluation keys the server needs (relinearisation and the plan's rotations).
    ///
    /// # Errors
    /// Key-generation errors.
    pub fn evaluation_keys(&mut self) -> Result<EvaluationKeys> {
        Ok(self
            .keygen
            .evaluation_keys(&self.plan.rotations, self.plan.slots, false)?)
    }

    /// Encrypts one row: dense features replicated with the plan's period at the default
    /// scale, and the digit-decomposed one-hot vector of all tables (packed) at the plan's
    /// sparse scale.
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
        let top = self.ctx.max_level();
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
    /// Bottom MLP.
    pub bottom: f64,
    /// Packed embedding lookup.
    pub embedding: f64,
    /// Concatenation and top MLP.
    pub top: f64,
    /// Whole server run.
    pub total: f64,
}

impl std::ops::AddAssign for StageSeconds {
    fn add_assign(&mut self, o: Self) {
        self.bottom += o.bottom;
        self.embedding += o.embedding;
        self.top += o.top;
        self.total += o.total;
    }
}

/// The server: evaluator with public evaluation keys, and the plaintext model.
#[derive(Debug)]
pub struct Server {
    eval: Evaluator,
    export: DlrmExport,
    transforms: Transforms,
    activations_bottom: Vec<Step>,
    activations_top: Vec<Step>,
}

/// How one activation is evaluated.
#[derive(Debug, Clone)]
enum Step {
    Identity,
    Core(CoreActivation),
    Poly(Polynomial),
}

fn step_for(a: &Activation, layer: &str) -> Result<Step> {
    match a {
        Activation::Identity => Ok(Step::Identity),
        Activation::Square => Ok(Step::Core(CoreActivation::square())),
        Activation::Poly(p) => Ok(Step::Poly(Polynomial::chebyshev(
            p.coefficients(),
            p.lo(),
            p.hi(),
        )?)),
        Activation::Relu | Activation::Composite(_) => Err(Error::NotPolynomial {
            layer: layer.to_owned(),
            activation: a.name(),
        }),
    }
}

impl Server {
    /// A server for `model` with the client's public evaluation `keys` on `ctx`; `tracer`
    /// receives every homomorphic operation.
    ///
    /// # Errors
    /// [`crate::plan::transforms`]' errors; [`Error::NotPolynomial`] for an activation the
    /// encrypted pipeline cannot evaluate yet (the exact ReLU, composite ReLU).
    pub fn new(
        ctx: Arc<CkksContext>,
        keys: EvaluationKeys,
        model: &Dlrm,
        tracer: Option<Arc<Tracer>>,
    ) -> Result<Self> {
        let export = model.export()?;
        let transforms = transforms(model, ctx.params())?;
        let mut eval = Evaluator::new(ctx, Arc::new(keys));
        if let Some(t) = tracer {
            eval = eval.with_tracer(t);
        }
        let activations_bottom = export
            .bottom
            .iter()
            .enumerate()
            .map(|(k, l)| step_for(&l.activation, &format!("bottom[{k}]")))
            .collect::<Result<Vec<_>>>()?;
        let activations_top = export
            .top
            .iter()
            .enumerate()
            .map(|(k, l)| step_for(&l.activation, &format!("top[{k}]")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            eval,
            export,
            transforms,
            activations_bottom,
            activations_top,
        })
    }

    /// The evaluator (for its context and tracer).
    pub fn evaluator(&self) -> &Evaluator {
        &self.eval
    }

    fn layer(
        &self,
        name: &str,
        lt: &LinearTransform,
        bias: &[f64],
        act: &Step,
        x: &Ciphertext,
    ) -> Result<Ciphertext> {
        let eval = &self.eval;
        let y = {
            let _s = eval.scope(name);
            let y = lt.apply(
                eval,
                std::slice::from_ref(x),
                DiagonalSource::OnTheFly,
                Hoisting::Single,
            )?;
            let placed = lt.output().place(bias, lt.rows(), lt.slots())?;
            let pt = eval.encode_real(
                &placed,
                y.level(),
                y.scale(),
                lt.slots(),
                DataClass::PlaintextWeight,
            )?;
            eval.add_plain(&y, &pt)?
        };
        let _a = eval.scope("activation");
        Ok(match act {
            Step::Identity => y,
            Step::Core(a) => a.evaluate(eval, &y)?,
            Step::Poly(p) => p.evaluate(eval, &y)?,
        })
    }

    /// Runs the model on an encrypted query and returns the encrypted logit (slot 0) and the
    /// per-stage wall seconds.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a query with the wrong number of sparse ciphertexts;
    /// evaluator errors.
    pub fn infer(&self, q: &Query) -> Result<(Ciphertext, StageSeconds)> {
        let t0 = Instant::now();
        let eval = &self.eval;
        let _dlrm = eval.scope("dlrm");
        let mut x = q.dense.clone();
        for (k, (lt, (l, act))) in self
            .transforms
            .bottom
            .iter()
            .zip(self.export.bottom.iter().zip(&self.activations_bottom))
            .enumerate()
        {
            x = self.layer(&format!("bottom/layer{k}"), lt, &l.bias, act, &x)?;
        }
        let t1 = Instant::now();
        if let Some(lt) = &self.transforms.embedding {
            if q.sparse.len() != lt.input_ciphertexts() {
                return Err(Error::ShapeMismatch {
                    what: "sparse ciphertexts",
                    expected: lt.input_ciphertexts(),
                    found: q.sparse.len(),
                });
            }
            let _s = eval.scope("embedding/lookup");
            let e = lt.apply(eval, &q.sparse, DiagonalSource::OnTheFly, Hoisting::Single)?;
            let level = e.level().min(x.level());
            let e = eval.drop_to_level(&e, level)?;
            x = eval.drop_to_level(&x, level)?;
            x = eval.add(&x, &e)?;
        }
        let t2 = Instant::now();
        for (k, (lt, (l, act))) in self
            .transforms
            .top
            .iter()
            .zip(self.export.top.iter().zip(&self.activations_top))
            .enumerate()
        {
            x = self.layer(&format!("top/layer{k}"), lt, &l.bias, act, &x)?;
        }
        let t3 = Instant::now();
        Ok((
            x,
            StageSeconds {
                bottom: (t1 - t0).as_secs_f64(),
                embedding: (t2 - t1).as_secs_f64(),
                top: (t3 - t2).as_secs_f64(),
                total: (t3 - t0).as_secs_f64(),
            },
        ))
    }
}

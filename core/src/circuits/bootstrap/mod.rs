//! CKKS bootstrapping: refreshes a ciphertext at the bottom of the chain into one with the
//! same slots and many levels left, full (`N/2`) or sparse (any power of two) slot counts,
//! real or complex values.
//!
//! # The circuit
//!
//! For an input on `n` slots at scale `Δ` (any level; it is dropped to level 0 first):
//! 1. **Message ratio.** The level-0 ciphertext is multiplied by the integer
//!    `k = max(1, round(q_0 / (Δ·2^ρ)))` (`ρ` the message ratio), so the message sits at
//!    `Δ_m = k·Δ ≈ q_0/2^ρ`: small enough that `sin(2πx) ≈ 2πx` is accurate on it (the
//!    relative error of a coefficient `c` is `(2π·c/2^ρ)²/6`), large enough that EvalMod's
//!    error, magnified by `2^ρ`, stays small. Sparse slot counts have larger coefficients
//!    (`|c| ≈ 1/√(3n)` for uniform values) and a smaller magnification in the slots
//!    (`√(2n)`), so the default ratio grows as `n` shrinks.
//! 2. **ModRaise** ([`Evaluator::mod_raise`]): to the top of the chain; the ciphertext now
//!    decrypts to `t = Δ_m·m + q_0·I` with `|I| < K` (the secret's Hamming weight bounds `I`).
//! 3. **Subring trace** (sparse slots only): `log2(N/2n)` additions of
//!    [`Evaluator::rotate_ring`] by `n·2^i` keep the coefficients of `t` at multiples of
//!    `N/2n` (times `N/2n`), so the transforms below act on `n` slots only.
//! 4. **CoeffsToSlots**: the inverse special FFT, factored into one sparse matrix per level
//!    ([`dft`]) and evaluated by baby-step giant-step with hoisted baby rotations; one
//!    conjugation then splits the bit-reversed coefficients `t_i/(q_0 K)` into a real and an
//!    imaginary ciphertext (the latter through an exact multiplication by `−i`, the monomial
//!    `−X^{N/2}`). The scale is relabelled (never rounded) so the slots hold `u = y/K`,
//!    `y = t/q_0`, at the first EvalMod prime.
//! 5. **EvalMod** ([`eval_mod`]) on both: `sin(2πy)` by a scaled cosine and double-angle steps.
//!    Relabelling the scale by `κ = q_0/(2πΔ_m)` turns `sin(2πy) ≈ 2πΔ_m·m/q_0` into `m`.
//! 6. **SlotsToCoeffs**: `re + i·im`, then the special FFT's butterflies, one merged factor per
//!    level, back to the slots, landing exactly at the output scale.
//!
//! CoeffsToSlots, EvalMod and SlotsToCoeffs run in the trace scopes
//! `bootstrap/coeffs_to_slots`, `bootstrap/eval_mod` and `bootstrap/slots_to_coeffs`, each
//! starting with its marker event ([`OpKind::CoeffsToSlots`] …); the subring trace runs in
//! `bootstrap/sub_sum`.
//!
//! # Levels and keys
//!
//! The chain must hold, above the output level, `cts_levels` CoeffsToSlots primes at the top,
//! then the EvalMod primes (`⌈log2(degree + 1)⌉ + double_angle`), then `stc_levels`
//! SlotsToCoeffs primes ([`Bootstrapper::output_level`]). The keys are exactly those of
//! [`Bootstrapper::galois_elements`] plus relinearisation; [`Bootstrapper::generate_keys`]
//! makes them and [`KeyReport`] gives their sizes. The built-in set `helrm-n16-boot` is laid
//! out for [`BootstrapConfig::new`]'s defaults (see [`crate::ckks::params`]).
//!
//! # Example
//! ```no_run
//! use std::sync::Arc;
//! use helrm_core::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Params};
//! use helrm_core::circuits::bootstrap::{BootstrapConfig, Bootstrapper};
//! use helrm_core::ring::Backend;
//! use helrm_core::trace::DataClass;
//! let ctx = CkksContext::new(Params::preset("toy-n12-boot")?, Backend::Real)?;
//! let slots = ctx.params().slots();
//! let boot = Bootstrapper::new(ctx.clone(), BootstrapConfig::new(slots))?;
//! let mut keygen = KeyGenerator::new(ctx.clone())?;
//! let eval = Evaluator::new(ctx.clone(), Arc::new(boot.generate_keys(&mut keygen)?));
//! let mut enc = Encryptor::new(ctx.clone(), keygen.public_key()?)?;
//! let x = [0.5, -0.25, 0.75];
//! let pt = ctx.encode_real(&x, ctx.max_level(), ctx.params().default_scale(), slots,
//!     DataClass::Other)?;
//! let low = eval.drop_to_level(&enc.encrypt(&pt)?, helrm_core::ckks::Level::new(0))?;
//! let fresh = boot.bootstrap(&eval, &low)?;
//! assert_eq!(fresh.level(), boot.output_level());
//! let got = Decryptor::new(ctx.clone(), keygen.secret_key()).decrypt_real(&fresh)?;
//! assert!((got[0] - 0.5).abs() < 1e-4);
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # Errors
//! Building: [`Error::InvalidSlots`], [`Error::BootstrapConfig`], [`Error::BootstrapDepth`].
//! Bootstrapping: [`Error::BootstrapSlots`] (a ciphertext on another slot count),
//! [`Error::BootstrapContext`] (an evaluator over other parameters), [`Error::BootstrapScale`]
//! (an input scale above `q_0/2^4`), [`Error::MissingGaloisKey`] naming the first missing
//! rotation (or conjugation), [`Error::MissingRelinKey`], [`Error::CiphertextDegree`] — all
//! checked before any homomorphic work.
//!
//! # References
//! - J. H. Cheon, K. Han, A. Kim, M. Kim, Y. Song, "Bootstrapping for approximate homomorphic
//!   encryption", EUROCRYPT 2018, IACR eprint 2018/153.
//! - H. Chen, I. Chillotti, Y. Song, "Improved bootstrapping for approximate homomorphic
//!   encryption", EUROCRYPT 2019, IACR eprint 2018/1043.
//! - K. Han, D. Ki, "Better bootstrapping for approximate homomorphic encryption", CT-RSA 2020,
//!   IACR eprint 2019/688.
//! - J.-P. Bossuat, C. Mouchet, J. Troncoso-Pastoriza, J.-P. Hubaux, "Efficient bootstrapping
//!   for approximate homomorphic encryption with non-sparse keys", EUROCRYPT 2021,
//!   IACR eprint 2020/1203 (the structure Lattigo's `bootstrapping` package follows).

pub mod bench;
pub mod dft;
pub mod eval_mod;
pub mod precision;

use crate::ckks::{
    Ciphertext, CkksContext, EvaluationKeys, Evaluator, KeyGenerator, Level, Plaintext,
};
use crate::error::{Error, Result};
use crate::ring::GaloisElement;
use crate::trace::{DataClass, OpKind, TraceEvent};
use dft::{Bsgs, Direction};
use eval_mod::EvalMod;
use num_complex::Complex64;
use serde::Serialize;
use std::borrow::Cow;
use std::f64::consts::PI;
use std::sync::Arc;

/// The circuit name used in errors and the trace scope.
const CIRCUIT: &str = "bootstrap";

/// Smallest message ratio `log2(q_0/Δ_m)` accepted: below it the sine's linearisation error
/// exceeds 2^-5 relative.
pub const MIN_LOG_MESSAGE_RATIO: u32 = 4;

/// Where the transforms' diagonal plaintexts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiagonalStorage {
    /// Encoded once by [`Bootstrapper::new`] at their level and scale (fast; at `N = 2^16`
    /// full slots, 3.9 GB over `Q·P`).
    #[default]
    PreEncoded,
    /// Kept as compact complex vectors and encoded during every bootstrap (traced as
    /// `encode` events): little memory, an encoding per diagonal per bootstrap.
    OnTheFly,
}

/// The shape of a bootstrapping circuit. [`BootstrapConfig::new`] gives the values the
/// built-in bootstrappable parameter sets are laid out for.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapConfig {
    /// Slots of the ciphertexts to bootstrap (a power of two, at most `N/2`).
    pub slots: usize,
    /// Levels (merged butterfly factors) of CoeffsToSlots.
    pub cts_levels: usize,
    /// Levels (merged butterfly factors) of SlotsToCoeffs.
    pub stc_levels: usize,
    /// Bound `K` on the ModRaise overflow: EvalMod is accurate for `|t/q_0| ≤ K`.
    pub k: usize,
    /// Degree of the Chebyshev interpolant of the scaled cosine.
    pub sine_degree: usize,
    /// Double-angle steps after the cosine.
    pub double_angle: usize,
    /// `ρ`: the message is brought to scale `≈ q_0/2^ρ` before ModRaise (never below the
    /// input's own ratio); `None` chooses `8 + ⌊log2(N/2n)/2⌋`.
    pub log_message_ratio: Option<u32>,
    /// SlotsToCoeffs starts at the output scale times `2^stc_headroom_log2` (precision of the
    /// small coefficient values EvalMod produces) and sheds the factor over its levels.
    pub stc_headroom_log2: u32,
    /// Scale of the result; `None` means the parameters' default scale.
    pub output_scale: Option<f64>,
    /// Pre-encoded or on-the-fly diagonals.
    pub diagonals: DiagonalStorage,
}

impl BootstrapConfig {
    /// The defaults for `slots` slots, matching `helrm-n16-boot` and `toy-n12-boot`:
    /// - 3 CoeffsToSlots and 3 SlotsToCoeffs levels (at `2^15` slots, 5 butterflies per
    ///   level, 39 key-switched rotations per transform, 38 distinct and shared by both;
    ///   fewer levels cost many more rotations, more levels cost chain bits);
    /// - `K = 32`: with a sparse secret of Hamming weight 192, each coefficient of
    ///   `t/q_0 = c_0/q_0 + Σ_{192 terms} ±c_1/q_0` has standard deviation `√(193/12) ≈ 4.0`,
    ///   so `|t/q_0| > 32` is an 8σ event, about `10^-15` per coefficient and `10^-10` per
    ///   bootstrap at `N = 2^16`;
    /// - a degree-63 cosine (depth 6) and 3 double-angle steps: `ω = 2π·32.25/8 ≈ 25.3`,
    ///   interpolation error below `2^-50`; 9 EvalMod levels;
    /// - message ratio `ρ = 8 + ⌊log2(N/2n)/2⌋` (8 at full slots, as Lattigo's default): at
    ///   full slots the sine's linearisation error on a worst-case coefficient (`|c| = 1`, a
    ///   constant input) is `(2π/2^8)²/6 ≈ 2^-13` relative and `2^-26` on typical ones, while
    ///   EvalMod's noise is magnified by `2^8/2π` only; every halving of the slots halves
    ///   the magnification in the slots and doubles the typical coefficient, hence half a
    ///   bit more ratio per halving;
    /// - 6 bits of SlotsToCoeffs headroom; pre-encoded diagonals.
    pub fn new(slots: usize) -> Self {
        Self {
            slots,
            cts_levels: 3,
            stc_levels: 3,
            k: 32,
            sine_degree: 63,
            double_angle: 3,
            log_message_ratio: None,
            stc_headroom_log2: 6,
            output_scale: None,
            diagonals: DiagonalStorage::PreEncoded,
        }
    }

    /// The same configuration with `diagonals`.
    pub fn with_diagonals(mut self, diagonals: DiagonalStorage) -> Self {
        self.diagonals = diagonals;
        self
    }
}

/// Sizes of an evaluation-key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    /// Number of Galois keys (rotations and conjugation).
    pub galois_keys: usize,
    /// Whether a relinearisation key is present.
    pub relin_key: bool,
    /// Total bytes of every key (8-byte words).
    pub bytes: u64,
}

impl KeyReport {
    /// The report for `keys`.
    pub fn of(keys: &EvaluationKeys) -> Self {
        Self {
            galois_keys: keys.galois_elements().count(),
            relin_key: keys.has_relin(),
            bytes: keys.bytes(),
        }
    }
}

/// The pre-rotated diagonals of one transform level, in plan order (giant by giant, term by
/// term).
#[derive(Debug, Clone)]
enum StageDiagonals {
    /// Encoded over `Q_ℓ ∪ P` at the level's scale.
    Encoded(Vec<Plaintext>),
    /// Compact, encoded during every bootstrap.
    Compact(Vec<Vec<Complex64>>),
}

/// One level of CoeffsToSlots or SlotsToCoeffs.
#[derive(Debug, Clone)]
struct Stage {
    level: Level,
    scale: f64,
    plan: Bsgs,
    diagonals: StageDiagonals,
}

/// A bootstrapping circuit for one parameter set and slot count, with its precomputed
/// transforms. Build once, bootstrap many ciphertexts.
#[derive(Debug)]
pub struct Bootstrapper {
    ctx: Arc<CkksContext>,
    config: BootstrapConfig,
    gap: usize,
    cts: Vec<Stage>,
    stc: Vec<Stage>,
    eval_mod: EvalMod,
    log_ratio: u32,
    raise_scale: f64,
    stc_scale: f64,
    output_scale: f64,
    em_level: Level,
    stc_level: Level,
    output_level: Level,
    minus_i: Plaintext,
    plus_i: Plaintext,
}

fn config_error(field: &'static str, value: usize, expected: &'static str) -> Error {
    Error::BootstrapConfig {
        field,
        value: value.to_string(),
        expected,
    }
}

impl Bootstrapper {
    /// Builds the circuit: checks that the chain has room for it, factors the transforms,
    /// plans their baby-step giant-step evaluation, encodes their diagonals (unless
    /// [`DiagonalStorage::OnTheFly`]) and interpolates EvalMod's cosine.
    ///
    /// # Errors
    /// [`Error::InvalidSlots`]; [`Error::BootstrapConfig`] for zero transform levels, a bad
    /// `K`, degree, double-angle count, message ratio or output scale;
    /// [`Error::BootstrapDepth`] when the chain is too short for the circuit.
    pub fn new(ctx: Arc<CkksContext>, config: BootstrapConfig) -> Result<Self> {
        let params = Arc::clone(ctx.params());
        let n = config.slots;
        let max = params.slots();
        if n == 0 || !n.is_power_of_two() || n > max {
            return Err(Error::InvalidSlots {
                slots: n,
                max_slots: max,
            });
        }
        if config.cts_levels == 0 {
            return Err(config_error(
                "cts_levels",
                config.cts_levels,
                "at least one CoeffsToSlots level",
            ));
        }
        if config.stc_levels == 0 {
            return Err(config_error(
                "stc_levels",
                config.stc_levels,
                "at least one SlotsToCoeffs level",
            ));
        }
        let log_ratio = config
            .log_message_ratio
            .unwrap_or(8 + (params.slots() / n).trailing_zeros() / 2);
        if !(MIN_LOG_MESSAGE_RATIO..=30).contains(&log_ratio) {
            return Err(config_error(
                "log_message_ratio",
                log_ratio as usize,
                "an integer in [4, 30]",
            ));
        }
        if config.stc_headroom_log2 > 30 {
            return Err(config_error(
                "stc_headroom_log2",
                config.stc_headroom_log2 as usize,
                "at most 30 bits",
            ));
        }
        let output_scale = config.output_scale.unwrap_or(params.default_scale());
        if !(output_scale.is_finite() && output_scale >= 2.0) {
            return Err(Error::BootstrapConfig {
                field: "output_scale",
                value: output_scale.to_string(),
                expected: "a finite scale of at least 2",
            });
        }
        let eval_mod = EvalMod::new(config.k, config.sine_degree, config.double_angle)?;
        let top = params.max_level();
        let needed = config.cts_levels + eval_mod.depth() + config.stc_levels;
        if needed > top.get() {
            return Err(Error::BootstrapDepth {
                needed,
                available: top.get(),
            });
        }
        let em_level = Level::new(top.get() - config.cts_levels);
        let stc_level = Level::new(em_level.get() - eval_mod.depth());
        let output_level = Level::new(stc_level.get() - config.stc_levels);
        let q: Vec<f64> = params.q().iter().map(|&x| x as f64).collect();
        let gap = params.n() / (2 * n);

        // CoeffsToSlots: the raised ciphertext is labelled `gap·q_0·K`, so its slots hold
        // `u = t/(q_0 K)` once transformed; the levels shed the factor that lands the
        // output at `q_em / 2` (the re/im split doubles it to the first EvalMod prime).
        let raise_scale = gap as f64 * q[0] * config.k as f64;
        let cts_ratio =
            (q[em_level.get()] / 2.0 / raise_scale).powf(1.0 / config.cts_levels as f64);
        // Pre-encoding is set-up work: an untraced evaluator without keys does it.
        let encoder = Evaluator::new(Arc::clone(&ctx), Arc::new(EvaluationKeys::default()));
        let cts_groups = dft::split_stages(n, Direction::CoeffsToSlots, config.cts_levels);
        let mut cts = Vec::with_capacity(config.cts_levels);
        for (j, sizes) in cts_groups.iter().enumerate() {
            let level = Level::new(top.get() - j);
            let scale = q[level.get()] * cts_ratio;
            cts.push(Self::stage(
                &encoder,
                n,
                Direction::CoeffsToSlots,
                sizes,
                level,
                scale,
                config.diagonals,
            )?);
        }
        // SlotsToCoeffs: from `output_scale·2^h` down to exactly `output_scale`.
        let stc_scale = output_scale * 2f64.powi(config.stc_headroom_log2 as i32);
        let stc_ratio = (output_scale / stc_scale).powf(1.0 / config.stc_levels as f64);
        let stc_groups = dft::split_stages(n, Direction::SlotsToCoeffs, config.stc_levels);
        let mut stc = Vec::with_capacity(config.stc_levels);
        for (j, sizes) in stc_groups.iter().enumerate() {
            let level = Level::new(stc_level.get() - j);
            let scale = q[level.get()] * stc_ratio;
            stc.push(Self::stage(
                &encoder,
                n,
                Direction::SlotsToCoeffs,
                sizes,
                level,
                scale,
                config.diagonals,
            )?);
        }
        // ±i at scale 1 encode exactly as the monomials ±X^{N/2}.
        let i_values = |sign: f64| vec![Complex64::new(0.0, sign); n];
        let minus_i = ctx.encode(
            &i_values(-1.0),
            em_level,
            1.0,
            n,
            DataClass::PlaintextConstant,
        )?;
        let plus_i = ctx.encode(
            &i_values(1.0),
            stc_level,
            1.0,
            n,
            DataClass::PlaintextConstant,
        )?;
        Ok(Self {
            ctx,
            config,
            gap,
            cts,
            stc,
            eval_mod,
            log_ratio,
            raise_scale,
            stc_scale,
            output_scale,
            em_level,
            stc_level,
            output_level,
            minus_i,
            plus_i,
        })
    }

    /// One transform level: the merged factor of the butterflies `sizes`, its plan, and its
    /// pre-rotated diagonals (encoded over `Q_ℓ ∪ P` at `level` and `scale` unless on the fly).
    fn stage(
        encoder: &Evaluator,
        n: usize,
        direction: Direction,
        sizes: &[usize],
        level: Level,
        scale: f64,
        storage: DiagonalStorage,
    ) -> Result<Stage> {
        let m = dft::group_matrix(n, direction, sizes, Complex64::new(1.0, 0.0));
        let plan = Bsgs::plan(n, &m.signed_shifts());
        let mut compact = Vec::new();
        for (g, terms) in &plan.giants {
            for &(_, k) in terms {
                let d = m.diagonals().get(&k).ok_or(Error::BootstrapConfig {
                    field: "diagonal",
                    value: k.to_string(),
                    expected: "a shift of the transform's factor",
                })?;
                compact.push(dft::rotate(d, -g));
            }
        }
        let diagonals = match storage {
            DiagonalStorage::OnTheFly => StageDiagonals::Compact(compact),
            DiagonalStorage::PreEncoded => StageDiagonals::Encoded(
                compact
                    .iter()
                    .map(|d| encoder.encode_qp(d, level, scale, n, DataClass::PlaintextConstant))
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(Stage {
            level,
            scale,
            plan,
            diagonals,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BootstrapConfig {
        &self.config
    }

    /// Slots of the ciphertexts this circuit bootstraps.
    pub fn slots(&self) -> usize {
        self.config.slots
    }

    /// The level of the result: the top minus every level the circuit consumes.
    pub fn output_level(&self) -> Level {
        self.output_level
    }

    /// The level of EvalMod's input (right below CoeffsToSlots).
    pub fn eval_mod_level(&self) -> Level {
        self.em_level
    }

    /// The level of SlotsToCoeffs' input (right below EvalMod).
    pub fn slots_to_coeffs_level(&self) -> Level {
        self.stc_level
    }

    /// The scale of the result.
    pub fn output_scale(&self) -> f64 {
        self.output_scale
    }

    /// Levels the circuit consumes (CoeffsToSlots + EvalMod + SlotsToCoeffs).
    pub fn depth(&self) -> usize {
        self.config.cts_levels + self.eval_mod.depth() + self.config.stc_levels
    }

    /// The EvalMod circuit.
    pub fn eval_mod(&self) -> &EvalMod {
        &self.eval_mod
    }

    /// The rotations (on [`Bootstrapper::slots`] slots) of CoeffsToSlots and SlotsToCoeffs,
    /// sorted and without repeats: pass them to
    /// [`KeyGenerator::evaluation_keys`] with the slot count.
    pub fn rotations(&self) -> Vec<i64> {
        let n = self.config.slots as i64;
        let mut r: Vec<i64> = self
            .cts
            .iter()
            .chain(&self.stc)
            .flat_map(|s| s.plan.rotations())
            .map(|x| x.rem_euclid(n))
            .filter(|&x| x != 0)
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// The rotations over all `N/2` slots of the subring trace ([`Evaluator::rotate_ring`] by
    /// `n·2^i`, `i < log2(N/2n)`); empty at full slots.
    pub fn ring_rotations(&self) -> Vec<i64> {
        let n = self.config.slots;
        (0..self.gap.trailing_zeros())
            .map(|i| (n << i) as i64)
            .collect()
    }

    /// Every Galois element the circuit uses: its rotations, the subring trace's, and
    /// conjugation (deduplicated, sorted).
    ///
    /// # Errors
    /// None for a bootstrapper that was built (the slot counts are valid).
    pub fn galois_elements(&self) -> Result<Vec<GaloisElement>> {
        let mut out = Vec::new();
        for r in self.rotations() {
            out.push(self.ctx.galois_element_for_rotation(r, self.config.slots)?);
        }
        for r in self.ring_rotations() {
            out.push(
                self.ctx
                    .galois_element_for_rotation(r, self.ctx.params().slots())?,
            );
        }
        out.push(self.ctx.galois_element_conjugate());
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The evaluation keys the circuit needs and nothing more: relinearisation, the
    /// rotations of [`Bootstrapper::rotations`] and [`Bootstrapper::ring_rotations`], and
    /// conjugation.
    ///
    /// # Errors
    /// Key generation errors (none for a bootstrapper built on `keygen`'s parameters).
    pub fn generate_keys(&self, keygen: &mut KeyGenerator) -> Result<EvaluationKeys> {
        let mut keys = keygen.evaluation_keys(&self.rotations(), self.config.slots, true)?;
        for r in self.ring_rotations() {
            let k = self
                .ctx
                .galois_element_for_rotation(r, self.ctx.params().slots())?;
            if !keys.has_galois(k) {
                keys.insert_galois(k, keygen.galois_key(k)?);
            }
        }
        Ok(keys)
    }

    /// Checks, before any work, that `eval` and `ct` fit this circuit and that every key is
    /// present.
    fn check(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<()> {
        let mine = self.ctx.params().fingerprint();
        let theirs = eval.context().params().fingerprint();
        if mine != theirs {
            return Err(Error::BootstrapContext {
                bootstrapper: mine.to_string(),
                evaluator: theirs.to_string(),
            });
        }
        if ct.slots() != self.config.slots {
            return Err(Error::BootstrapSlots {
                slots: ct.slots(),
                expected: self.config.slots,
            });
        }
        if ct.degree() > 1 {
            return Err(Error::CiphertextDegree {
                op: CIRCUIT,
                degree: ct.degree(),
                max: 1,
            });
        }
        let keys = eval.keys();
        if !keys.has_relin() {
            return Err(Error::MissingRelinKey);
        }
        for r in self.rotations() {
            let k = self.ctx.galois_element_for_rotation(r, self.config.slots)?;
            if !keys.has_galois(k) {
                return Err(Error::MissingGaloisKey {
                    rotation: Some(r),
                    galois_element: k.0,
                });
            }
        }
        for r in self.ring_rotations() {
            let k = self
                .ctx
                .galois_element_for_rotation(r, self.ctx.params().slots())?;
            if !keys.has_galois(k) {
                return Err(Error::MissingGaloisKey {
                    rotation: Some(r),
                    galois_element: k.0,
                });
            }
        }
        let conj = self.ctx.galois_element_conjugate();
        if !keys.has_galois(conj) {
            return Err(Error::MissingGaloisKey {
                rotation: None,
                galois_element: conj.0,
            });
        }
        Ok(())
    }

    /// The integer `k ≥ 1` that brings a message at scale `scale` to `≈ q_0/2^ρ`.
    fn ratio_factor(&self, scale: f64) -> Result<i64> {
        let q0 = self.ctx.params().q()[0] as f64;
        let target = q0 / 2f64.powi(self.log_ratio as i32);
        let max = q0 / 2f64.powi(MIN_LOG_MESSAGE_RATIO as i32);
        if !(scale.is_finite() && scale > 0.0 && scale <= max) {
            return Err(Error::BootstrapScale {
                log2_scale: scale.log2(),
                max_log2: max.log2(),
            });
        }
        Ok((target / scale).round().max(1.0) as i64)
    }

    /// The message ratio `ρ` in use: the message is brought to `≈ q_0/2^ρ`.
    pub fn log_message_ratio(&self) -> u32 {
        self.log_ratio
    }

    /// Bootstraps `ct` (any level, [`Bootstrapper::slots`] slots, scale at most
    /// `q_0/2^4`): the result decrypts to the same slots at [`Bootstrapper::output_level`]
    /// and [`Bootstrapper::output_scale`].
    ///
    /// # Errors
    /// See the module documentation.
    pub fn bootstrap(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
        self.check(eval, ct)?;
        let k = self.ratio_factor(ct.scale())?;
        let _scope = eval.scope(CIRCUIT);
        let low = eval.drop_to_level(ct, Level::new(0))?;
        let low = if k > 1 { eval.mul_int(&low, k)? } else { low };
        let message_scale = ct.scale() * k as f64;
        let mut raised = eval.mod_raise(&low)?;
        if self.gap > 1 {
            let _s = eval.scope("sub_sum");
            for r in self.ring_rotations() {
                let rot = eval.rotate_ring(&raised, r)?;
                raised = eval.add(&raised, &rot)?;
            }
        }
        raised.set_scale(self.raise_scale);

        let (re, im) = {
            let _s = eval.scope("coeffs_to_slots");
            self.marker(eval, OpKind::CoeffsToSlots, raised.level());
            let mut w = raised;
            for stage in &self.cts {
                w = self.apply_stage(eval, stage, &w)?;
            }
            let conj = eval.conjugate(&w)?;
            let mut re = eval.add(&w, &conj)?;
            let diff = eval.sub(&w, &conj)?;
            let mut im = eval.mul_plain(&diff, &self.minus_i)?;
            re.set_scale(re.scale() * 2.0);
            im.set_scale(im.scale() * 2.0);
            (re, im)
        };

        let kappa = self.ctx.params().q()[0] as f64 / (2.0 * PI * message_scale);
        let (re, im) = {
            let _s = eval.scope("eval_mod");
            self.marker(eval, OpKind::EvalMod, re.level());
            let target = self.stc_scale * kappa;
            let mut re = self.eval_mod.evaluate(eval, &re, target)?;
            let mut im = self.eval_mod.evaluate(eval, &im, target)?;
            re.set_scale(re.scale() / kappa);
            im.set_scale(im.scale() / kappa);
            (re, im)
        };

        let _s = eval.scope("slots_to_coeffs");
        self.marker(eval, OpKind::SlotsToCoeffs, re.level());
        let i_im = eval.mul_plain(&im, &self.plus_i)?;
        let mut z = eval.add(&re, &i_im)?;
        for stage in &self.stc {
            z = self.apply_stage(eval, stage, &z)?;
        }
        Ok(z)
    }

    /// Emits a bootstrapping marker event (no work, no objects) when tracing.
    fn marker(&self, eval: &Evaluator, op: OpKind, level: Level) {
        if let Some(t) = eval.tracer() {
            t.emit(TraceEvent::new(
                op,
                self.ctx.params().log_n(),
                level.get() as u32,
            ));
        }
    }

    /// One transform level by double-hoisted baby-step giant-step: one decomposition of the
    /// input for every baby rotation, the plaintext products summed per giant step in
    /// `Q·P` ([`Evaluator::rotate_mul_sum_hoisted`]), the giant rotations summed with one
    /// ModDown ([`Evaluator::rotate_sum_lazy`]), one rescale.
    fn apply_stage(&self, eval: &Evaluator, stage: &Stage, ct: &Ciphertext) -> Result<Ciphertext> {
        let n = self.config.slots;
        let ct = eval.drop_to_level(ct, stage.level)?;
        let plan = &stage.plan;
        let mut terms = Vec::new();
        for (gi, (_, ts)) in plan.giants.iter().enumerate() {
            for &(bi, _) in ts {
                terms.push((gi, plan.babies[bi], terms.len()));
            }
        }
        let groups = plan.giants.len();
        let inputs = std::slice::from_ref(&ct);
        let sums = match &stage.diagonals {
            StageDiagonals::Encoded(pts) => {
                eval.rotate_mul_sum_hoisted(inputs, &[terms], groups, |_, i| {
                    pts.get(i).map(Cow::Borrowed).ok_or(Error::LengthMismatch {
                        what: "transform diagonals",
                        expected: pts.len(),
                        got: i + 1,
                    })
                })?
            }
            StageDiagonals::Compact(ds) => {
                eval.rotate_mul_sum_hoisted(inputs, &[terms], groups, |_, i| {
                    let d = ds.get(i).ok_or(Error::LengthMismatch {
                        what: "transform diagonals",
                        expected: ds.len(),
                        got: i + 1,
                    })?;
                    let pt = eval.encode_qp(
                        d,
                        stage.level,
                        stage.scale,
                        n,
                        DataClass::PlaintextConstant,
                    )?;
                    Ok(Cow::Owned(pt))
                })?
            }
        };
        let total = match sums.as_slice() {
            [only] if plan.giants.first().is_some_and(|g| g.0 == 0) => only.clone(),
            _ => {
                let parts: Vec<(&Ciphertext, i64)> = sums
                    .iter()
                    .zip(&plan.giants)
                    .map(|(c, (g, _))| (c, *g))
                    .collect();
                eval.rotate_sum_lazy(&parts)?
            }
        };
        eval.rescale(&total)
    }
}

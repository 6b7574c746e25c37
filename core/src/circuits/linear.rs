//! Plaintext matrix × encrypted vector: the diagonal method with baby-step giant-step (BSGS),
//! hoisted baby steps, and output layouts that the next layer consumes directly.
//!
//! # The computation
//!
//! A [`LinearTransform`] holds a `rows × cols` plaintext matrix `M` as its non-zero
//! *generalised diagonals* on `S` slots (the ciphertext slot count). The input vector `x`
//! arrives in one of two [`InputLayout`]s:
//! - [`InputLayout::Blocks`]: column block `b` of `S` values in its own ciphertext (slot `j`
//!   of ciphertext `b` holds `x[b·S + j]`), for inputs longer than one ciphertext;
//! - [`InputLayout::Replicated`]: one ciphertext whose slot `j` holds `x[j mod p_in]`
//!   (`cols ≤ p_in`), the layout a replicated output of the previous layer has.
//!
//! and the result `y = M·x` leaves in one of two [`OutputLayout`]s:
//! - [`OutputLayout::Offset`]: `y[i]` in slot `o + i`, every other slot zero;
//! - [`OutputLayout::Replicated`]: `y[i]` in every slot `j` with `j mod p_out = o + i`, every
//!   other slot zero — so several products placed at disjoint offsets add up to their
//!   concatenation with no masking level.
//!
//! With `g = min(p_in, p_out)` (`p_in = S` for blocks, `p_out = S` for an offset), entry
//! `M[r, c]` (`c` local to its block) lands on diagonal `k = (c − o − r) mod g` at slot
//! `j = (c − k) mod p_in` if `p_out ≤ p_in`, else `j = o + r`. The product is
//! `z = Σ_b Σ_k diag_{b,k} ⊙ rot(x_b, k)`, rescaled once, then folded
//! `log2(S / p_out)` times (`z ← z + rot(z, p_out·2^t)`). For the HE-LRM packed embedding
//! lookup (`d × n` with `n ≤ S`, blocks in, `p_out = bh = 2^⌈log2 d⌉`) this is exactly
//! `diag_k[j] = M[j mod bh, (k + j) mod S]` for `k < bh` followed by `log2(S/bh)` folds; a
//! block-diagonal matrix of many tables stores and multiplies only its non-zero diagonals.
//!
//! BSGS writes `k = n1·g + b`: the baby rotations `rot(x_b, b)` (one hoisted decomposition
//! per input ciphertext) are multiplied by diagonals pre-rotated by `−n1·g`, summed per giant
//! step `g`, and each giant sum is rotated once by `n1·g`:
//! `Σ_g rot(Σ_b rot(diag_{n1 g + b}, −n1 g) ⊙ rot(x, b), n1 g)`. Giant sums accumulate over
//! every input ciphertext before their rotation, and everything is summed before the single
//! rescale. The split `n1` minimises the number of rotations over the actual set of non-zero
//! diagonals (ties: fewer giant steps, which cannot be hoisted).
//!
//! Diagonals are encoded at the prime the rescale drops (`q_ℓ`), so the output scale equals
//! the input scale exactly. They are kept compact (`f64` or `f32`, pre-rotated) and either
//! pre-encoded once ([`LinearTransform::encode`]) or encoded on the fly during the product
//! ([`DiagonalSource::OnTheFly`]) for tables too large to keep encoded.
//!
//! [`LinearTransform::cost`] predicts, without doing the work, the rotations, key switches,
//! plaintext multiplies, levels, bytes of encoded diagonals and the trace events by kind;
//! [`LinearTransform::rotations`] lists the rotation keys the product needs.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use helrm_core::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Params};
//! use helrm_core::circuits::linear::{
//!     DiagonalSource, Hoisting, InputLayout, LinearTransform, OutputLayout,
//! };
//! use helrm_core::ring::Backend;
//! use helrm_core::trace::DataClass;
//! let ctx = CkksContext::new(Params::preset("toy-n12-l10")?, Backend::Real)?;
//! let slots = 16;
//! // A 3 × 5 matrix; y lands replicated with period 4.
//! let m: Vec<f64> = (0..15).map(|i| i as f64 / 10.0).collect();
//! let lt = LinearTransform::builder(3, 5, slots)
//!     .output(OutputLayout::Replicated { period: 4, offset: 0 })
//!     .build_dense(&m)?;
//! let mut keygen = KeyGenerator::new(ctx.clone())?;
//! let keys = keygen.evaluation_keys(&lt.rotations(), slots, false)?;
//! let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
//! let mut enc = Encryptor::new(ctx.clone(), keygen.public_key()?)?;
//! let x = [1.0, -1.0, 0.5, 0.25, 2.0];
//! let packed = InputLayout::Blocks.pack(&x, 5, slots)?;
//! let ct = enc.encrypt(&ctx.encode_real(&packed[0], ctx.max_level(),
//!     ctx.params().default_scale(), slots, DataClass::Other)?)?;
//! let y = lt.apply(&eval, &[ct], DiagonalSource::OnTheFly, Hoisting::Single)?;
//! let got = Decryptor::new(ctx.clone(), keygen.secret_key()).decrypt_real(&y)?;
//! let want = lt.output().place(&lt.multiply_plain(&x)?, 3, slots)?;
//! assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-4));
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # Errors
//! Building: [`Error::InvalidLayout`] (a period that is not a power of two dividing the slot
//! count, an output that does not fit its period, a baby step outside `[1, g]`),
//! [`Error::MatrixEntry`] (an entry outside the matrix), [`Error::NonFiniteValue`].
//! Applying: [`Error::CircuitDimension`] (wrong number of input ciphertexts, wrong slot
//! count, encoded diagonals of another transform), [`Error::LevelMismatch`] (inputs at
//! different levels, or diagonals encoded for another level), [`Error::ScaleMismatch`],
//! [`Error::LevelTooLow`] (an input at level 0), [`Error::DiagonalBasis`] (double hoisting
//! needs diagonals encoded in `Q·P`), [`Error::MissingGaloisKey`] naming the first missing
//! rotation — all checked before any homomorphic work is done.
//!
//! # References
//! - S. Halevi, V. Shoup, "Algorithms in HElib", CRYPTO 2014 (the diagonal method, hoisting);
//!   "Faster homomorphic linear transformations in HElib", CRYPTO 2018 (baby-step giant-step,
//!   hybrid layouts for non-square matrices).
//! - J.-P. Bossuat, C. Mouchet, J. Troncoso-Pastoriza, J.-P. Hubaux, "Efficient bootstrapping
//!   for approximate homomorphic encryption with non-sparse keys", Eurocrypt 2021 (double
//!   hoisting of BSGS linear transforms).
//! - K. Garimella et al., "HE-LRM", arXiv 2506.18150 (the packed embedding lookup as one
//!   block-diagonal BSGS product).

use crate::ckks::{Ciphertext, Evaluator, Level, Params, Plaintext, SCALE_TOLERANCE};
use crate::error::{Error, Result};
use crate::trace::{DataClass, OpKind};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The circuit name used in errors and the trace scope.
const CIRCUIT: &str = "linear_transform";

/// How the input vector is laid out in the input ciphertext(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    /// Column blocks of `slots` values, one ciphertext per block: slot `j` of ciphertext `b`
    /// holds `x[b·slots + j]` (the last block zero-padded).
    Blocks,
    /// One ciphertext whose slot `j` holds `x[j mod period]` (`cols ≤ period`).
    Replicated {
        /// The replication period, a power of two dividing the slot count.
        period: usize,
    },
}

/// Where the product lands in the output ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputLayout {
    /// `y[i]` in slot `offset + i`; every other slot zero.
    Offset {
        /// The first slot.
        offset: usize,
    },
    /// `y[i]` in every slot `j` with `j mod period = offset + i`; every other slot zero.
    Replicated {
        /// The period, a power of two dividing the slot count, at least `offset + rows`.
        period: usize,
        /// The position of `y[0]` inside each period.
        offset: usize,
    },
}

/// Storage of the compact (not yet encoded) diagonals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiagonalPrecision {
    /// 8 bytes per slot value.
    #[default]
    F64,
    /// 4 bytes per slot value (about 24 bits of each weight are kept).
    F32,
}

/// How the baby-step rotations share work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hoisting {
    /// Every rotation on its own (a full key switch each); the reference path.
    None,
    /// One decomposition (ModUp) per input ciphertext for all its baby steps.
    #[default]
    Single,
    /// Baby steps kept in `Q·P` without ModDown, multiplied by diagonals encoded in `Q·P` and
    /// summed per giant step (lazily, in 128 bits); giant steps summed in `Q·P` with one
    /// ModDown (Bossuat et al.). Holds every input ciphertext's baby steps at once, so it
    /// suits inputs of a few ciphertexts; use `Single` for inputs of many.
    Double,
}

/// Whether the diagonals are encoded before the product or during it (for [`LinearTransform::cost`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiagonalMode {
    /// Encoded once by [`LinearTransform::encode`].
    #[default]
    PreEncoded,
    /// Encoded from the compact diagonals during every product.
    OnTheFly,
}

/// Where [`LinearTransform::apply`] takes its diagonal plaintexts from.
#[derive(Debug, Clone, Copy)]
pub enum DiagonalSource<'a> {
    /// Encode each compact diagonal during the product (traced as `encode`), then drop it.
    OnTheFly,
    /// Use diagonals encoded beforehand by [`LinearTransform::encode`].
    Encoded(&'a EncodedDiagonals),
}

impl DiagonalSource<'_> {
    /// The matching [`DiagonalMode`] for [`LinearTransform::cost`].
    pub fn mode(&self) -> DiagonalMode {
        match self {
            DiagonalSource::OnTheFly => DiagonalMode::OnTheFly,
            DiagonalSource::Encoded(_) => DiagonalMode::PreEncoded,
        }
    }
}

fn check_period(what: &'static str, period: usize, slots: usize) -> Result<()> {
    if period == 0 || !period.is_power_of_two() || period > slots {
        return Err(Error::InvalidLayout {
            what,
            value: period,
            expected: "a power of two no larger than the slot count",
        });
    }
    Ok(())
}

impl InputLayout {
    /// The replication period (`slots` for blocks).
    pub fn period(&self, slots: usize) -> usize {
        match *self {
            InputLayout::Blocks => slots,
            InputLayout::Replicated { period } => period,
        }
    }

    /// Number of input ciphertexts for a vector of `cols` values.
    pub fn ciphertexts(&self, cols: usize, slots: usize) -> usize {
        match self {
            InputLayout::Blocks => cols.div_ceil(slots.max(1)).max(1),
            InputLayout::Replicated { .. } => 1,
        }
    }

    /// The slot vectors to encrypt for `x` (what the client sends): one per input ciphertext.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] for a bad period or slot count, [`Error::CircuitDimension`]
    /// if `x` is longer than `cols` or than the period.
    pub fn pack(&self, x: &[f64], cols: usize, slots: usize) -> Result<Vec<Vec<f64>>> {
        check_period("slots", slots, slots.max(1))?;
        if x.len() > cols {
            return Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "input length",
                expected: cols,
                got: x.len(),
            });
        }
        match *self {
            InputLayout::Blocks => {
                let count = self.ciphertexts(cols, slots);
                Ok((0..count)
                    .map(|b| {
                        let lo = (b * slots).min(x.len());
                        let hi = ((b + 1) * slots).min(x.len());
                        let mut v = x[lo..hi].to_vec();
                        v.resize(slots, 0.0);
                        v
                    })
                    .collect())
            }
            InputLayout::Replicated { period } => {
                check_period("input period", period, slots)?;
                if cols > period {
                    return Err(Error::CircuitDimension {
                        circuit: CIRCUIT,
                        what: "columns of a replicated input",
                        expected: period,
                        got: cols,
                    });
                }
                let mut one = x.to_vec();
                one.resize(period, 0.0);
                Ok(vec![(0..slots).map(|j| one[j % period]).collect()])
            }
        }
    }
}

impl OutputLayout {
    /// The output period (`slots` for an offset) and the offset.
    pub fn period_offset(&self, slots: usize) -> (usize, usize) {
        match *self {
            OutputLayout::Offset { offset } => (slots, offset),
            OutputLayout::Replicated { period, offset } => (period, offset),
        }
    }

    /// The slot vector a product `y` (of `rows` values) decrypts to in this layout.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] if the layout does not fit `rows` values in `slots` slots;
    /// [`Error::CircuitDimension`] if `y` is longer than `rows`.
    pub fn place(&self, y: &[f64], rows: usize, slots: usize) -> Result<Vec<f64>> {
        self.check(rows, slots)?;
        if y.len() > rows {
            return Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "output length",
                expected: rows,
                got: y.len(),
            });
        }
        let (period, offset) = self.period_offset(slots);
        Ok((0..slots)
            .map(|j| {
                let t = j % period;
                if t >= offset && t - offset < y.len() {
                    y[t - offset]
                } else {
                    0.0
                }
            })
            .collect())
    }

    fn check(&self, rows: usize, slots: usize) -> Result<()> {
        check_period("slots", slots, slots.max(1))?;
        let (period, offset) = self.period_offset(slots);
        check_period("output period", period, slots)?;
        if offset + rows > period {
            return Err(Error::InvalidLayout {
                what: "output offset",
                value: offset,
                expected: "offset + rows no larger than the output period",
            });
        }
        Ok(())
    }
}

/// Compact diagonal values (pre-rotated for their giant step).
#[derive(Debug, Clone)]
enum Compact {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

impl Compact {
    fn to_f64(&self) -> Cow<'_, [f64]> {
        match self {
            Compact::F64(v) => Cow::Borrowed(v),
            Compact::F32(v) => Cow::Owned(v.iter().map(|&x| f64::from(x)).collect()),
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Compact::F64(v) => 8 * v.len() as u64,
            Compact::F32(v) => 4 * v.len() as u64,
        }
    }
}

/// One non-zero generalised diagonal of one input block.
#[derive(Debug, Clone)]
struct Diagonal {
    /// The diagonal index `k = n1·giant + baby`.
    k: usize,
    /// `rot(diag_k, −n1·giant)`.
    values: Compact,
}

/// Builder of a [`LinearTransform`]: shape and layouts first, then the entries.
#[derive(Debug, Clone)]
pub struct LinearTransformBuilder {
    rows: usize,
    cols: usize,
    slots: usize,
    input: InputLayout,
    output: OutputLayout,
    precision: DiagonalPrecision,
    baby_step: Option<usize>,
    class: DataClass,
}

impl LinearTransformBuilder {
    /// Sets the input layout (default [`InputLayout::Blocks`]).
    pub fn input(mut self, layout: InputLayout) -> Self {
        self.input = layout;
        self
    }

    /// Sets the output layout (default `Offset { offset: 0 }`).
    pub fn output(mut self, layout: OutputLayout) -> Self {
        self.output = layout;
        self
    }

    /// Sets the storage of the compact diagonals (default `F64`).
    pub fn precision(mut self, precision: DiagonalPrecision) -> Self {
        self.precision = precision;
        self
    }

    /// Forces the baby-step size `n1` instead of choosing it (`1`: the plain diagonal method
    /// with every rotation a giant step; `g`: every rotation a hoisted baby step).
    pub fn baby_step(mut self, n1: usize) -> Self {
        self.baby_step = Some(n1);
        self
    }

    /// Sets the trace class of the encoded diagonals (default `PlaintextWeight`; packed
    /// embedding tables use `PlaintextEmbedding`).
    pub fn data_class(mut self, class: DataClass) -> Self {
        self.class = class;
        self
    }

    /// Builds from a dense row-major `rows × cols` matrix (zeros are skipped).
    ///
    /// # Errors
    /// [`Error::CircuitDimension`] if `m.len() != rows·cols`; as [`LinearTransformBuilder::build`].
    pub fn build_dense(self, m: &[f64]) -> Result<LinearTransform> {
        if m.len() != self.rows * self.cols {
            return Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "dense matrix entries",
                expected: self.rows * self.cols,
                got: m.len(),
            });
        }
        let cols = self.cols;
        self.build(m.iter().enumerate().map(|(i, &v)| (i / cols, i % cols, v)))
    }

    /// Builds from `(row, col, value)` entries in any order; zeros are skipped and repeated
    /// positions are summed.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] for a bad slot count, period, offset or baby step;
    /// [`Error::MatrixEntry`] for an entry outside the matrix; [`Error::NonFiniteValue`] for a
    /// NaN or infinite entry (its index in the iteration).
    pub fn build<I>(self, entries: I) -> Result<LinearTransform>
    where
        I: IntoIterator<Item = (usize, usize, f64)>,
    {
        let (rows, cols, slots) = (self.rows, self.cols, self.slots);
        if rows == 0 || cols == 0 {
            return Err(Error::InvalidLayout {
                what: "matrix size",
                value: rows.min(cols),
                expected: "at least one row and one column",
            });
        }
        check_period("slots", slots, slots.max(1))?;
        self.output.check(rows, slots)?;
        let p_in = self.input.period(slots);
        check_period("input period", p_in, slots)?;
        if let InputLayout::Replicated { period } = self.input {
            if cols > period {
                return Err(Error::InvalidLayout {
                    what: "input period",
                    value: period,
                    expected: "at least the number of columns",
                });
            }
        }
        let (p_out, offset) = self.output.period_offset(slots);
        let g = p_in.min(p_out);
        let blocks = self.input.ciphertexts(cols, slots);

        // Scatter the entries onto (block, k) diagonals.
        let mut diags: HashMap<(usize, usize), Vec<f64>> = HashMap::new();
        for (index, (r, c, v)) in entries.into_iter().enumerate() {
            if r >= rows || c >= cols {
                return Err(Error::MatrixEntry {
                    row: r,
                    col: c,
                    rows,
                    cols,
                });
            }
            if !v.is_finite() {
                return Err(Error::NonFiniteValue { index });
            }
            if v == 0.0 {
                continue;
            }
            let (b, c_loc) = match self.input {
                InputLayout::Blocks => (c / slots, c % slots),
                InputLayout::Replicated { .. } => (0, c),
            };
            let k = (c_loc + 2 * g - (offset + r) % g) % g;
            let j = if p_out <= p_in {
                (c_loc + p_in - k) % p_in
            } else {
                offset + r
            };
            diags.entry((b, k)).or_insert_with(|| vec![0.0; slots])[j] += v;
        }
        let mut per_block: Vec<Vec<(usize, Vec<f64>)>> = vec![Vec::new(); blocks];
        let mut keys: Vec<(usize, usize)> = diags.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            if let Some(v) = diags.remove(&key) {
                if v.iter().any(|&x| x != 0.0) {
                    per_block[key.0].push((key.1, v));
                }
            }
        }

        let ks: Vec<Vec<usize>> = per_block
            .iter()
            .map(|d| d.iter().map(|(k, _)| *k).collect())
            .collect();
        let baby = match self.baby_step {
            Some(n1) => {
                if n1 == 0 || n1 > g {
                    return Err(Error::InvalidLayout {
                        what: "baby step",
                        value: n1,
                        expected: "a size in [1, g], g = min(input period, output period)",
                    });
                }
                n1
            }
            None => choose_baby_step(&ks),
        };

        let blocks_out = per_block
            .into_iter()
            .map(|d| {
                d.into_iter()
                    .map(|(k, v)| {
                        let shift = (k / baby) * baby % slots;
                        // rot(v, −shift): u[j] = v[(j − shift) mod S].
                        let rotated = (0..slots).map(|j| v[(j + slots - shift) % slots]);
                        let values = match self.precision {
                            DiagonalPrecision::F64 => Compact::F64(rotated.collect()),
                            DiagonalPrecision::F32 => {
                                Compact::F32(rotated.map(|x| x as f32).collect())
                            }
                        };
                        Diagonal { k, values }
                    })
                    .collect()
            })
            .collect();
        let mut folds = Vec::new();
        let mut f = p_out;
        while f < slots {
            folds.push(f as i64);
            f *= 2;
        }
        Ok(LinearTransform {
            rows,
            cols,
            slots,
            input: self.input,
            output: self.output,
            class: self.class,
            modulus: g,
            baby,
            blocks: blocks_out,
            folds,
        })
    }
}

/// Rotations of a BSGS split: `(baby rotations summed over blocks, giant rotations)`.
fn split_rotations(
    ks: &[Vec<usize>],
    n1: usize,
    seen: &mut [usize],
    stamp: &mut usize,
) -> (usize, usize) {
    let mut baby = 0;
    for block in ks {
        *stamp += 1;
        for &k in block {
            let b = k % n1;
            if b != 0 && seen[b] != *stamp {
                seen[b] = *stamp;
                baby += 1;
            }
        }
    }
    let giants: BTreeSet<usize> = ks
        .iter()
        .flatten()
        .map(|&k| k / n1)
        .filter(|&g| g != 0)
        .collect();
    (baby, giants.len())
}

/// The baby-step size minimising the rotation count over the non-zero diagonals (ties: fewer
/// giant steps, then the smaller size).
fn choose_baby_step(ks: &[Vec<usize>]) -> usize {
    let span = ks.iter().flatten().copied().max().map_or(1, |k| k + 1);
    let root = (span as f64).sqrt().ceil() as usize;
    let mut candidates: BTreeSet<usize> = (1..=span.min(4 * root + 4)).collect();
    let mut p = 1;
    while p <= span {
        candidates.insert(p);
        p *= 2;
    }
    candidates.insert(span);
    let mut seen = vec![0usize; span + 1];
    let mut stamp = 0;
    let mut best = (usize::MAX, usize::MAX, 1);
    for n1 in candidates {
        let (baby, giant) = split_rotations(ks, n1, &mut seen, &mut stamp);
        let key = (baby + giant, giant, n1);
        if key < best {
            best = key;
        }
    }
    best.2
}

/// A plaintext matrix prepared for products with encrypted vectors: its non-zero generalised
/// diagonals, the BSGS split, and the fold rotations of its output layout.
#[derive(Debug, Clone)]
pub struct LinearTransform {
    rows: usize,
    cols: usize,
    slots: usize,
    input: InputLayout,
    output: OutputLayout,
    class: DataClass,
    /// Diagonal indices live in `[0, modulus)`.
    modulus: usize,
    /// The baby-step size `n1`.
    baby: usize,
    /// Per input ciphertext, its non-zero diagonals sorted by index.
    blocks: Vec<Vec<Diagonal>>,
    /// Rotations of the output folds, in application order.
    folds: Vec<i64>,
}

/// Diagonals encoded as plaintexts at one level, for [`DiagonalSource::Encoded`].
#[derive(Debug, Clone)]
pub struct EncodedDiagonals {
    level: Level,
    qp: bool,
    plaintexts: Vec<Vec<Plaintext>>,
}

impl EncodedDiagonals {
    /// The level the diagonals were encoded for (the input ciphertexts' level).
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether they are encoded in `Q·P` (for [`Hoisting::Double`]).
    pub fn is_qp(&self) -> bool {
        self.qp
    }

    /// Number of encoded diagonals.
    pub fn len(&self) -> usize {
        self.plaintexts.iter().map(Vec::len).sum()
    }

    /// True if there are none (an all-zero matrix).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of all encoded diagonals.
    pub fn bytes(&self) -> u64 {
        self.plaintexts.iter().flatten().map(Plaintext::bytes).sum()
    }
}

/// What one product costs, predicted by [`LinearTransform::cost`] without doing it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinearCost {
    /// Keyed rotations (baby + giant + fold); each is one key switch.
    pub rotations: u64,
    /// Baby-step rotations, summed over input ciphertexts.
    pub baby_rotations: u64,
    /// Giant-step rotations.
    pub giant_rotations: u64,
    /// Output fold rotations.
    pub fold_rotations: u64,
    /// Key inner products (one per keyed rotation).
    pub key_switches: u64,
    /// Decompositions with base extension to `Q·P` (ModUp): shared by hoisted rotations.
    pub mod_ups: u64,
    /// ModDowns from `Q·P` back to `Q` (two per un-hoisted key switch; double hoisting
    /// does two per giant-step sum instead).
    pub mod_downs: u64,
    /// Plaintext × ciphertext multiplies (one per non-zero diagonal and input ciphertext).
    pub plaintext_multiplies: u64,
    /// Ciphertext additions (`add` events; the accumulation of diagonal products is fused
    /// into `mul_plain_acc` or into the double-hoisted primitives).
    pub additions: u64,
    /// Rescales.
    pub rescales: u64,
    /// Levels consumed.
    pub levels: usize,
    /// Diagonals encoded during the product (on-the-fly mode).
    pub diagonal_encodes: u64,
    /// Bytes of the encoded diagonals at the input level (held in memory when pre-encoded,
    /// produced and dropped one at a time on the fly).
    pub encoded_diagonal_bytes: u64,
    /// Bytes of the compact `f64`/`f32` diagonals.
    pub compact_diagonal_bytes: u64,
    /// Distinct Galois keys needed.
    pub galois_keys: u64,
    /// Bytes of those keys read at the input level.
    pub galois_key_bytes: u64,
    /// Trace events the product emits, by kind.
    pub events: BTreeMap<OpKind, u64>,
}

impl LinearTransform {
    /// Starts a builder for a `rows × cols` matrix on `slots` slots.
    pub fn builder(rows: usize, cols: usize, slots: usize) -> LinearTransformBuilder {
        LinearTransformBuilder {
            rows,
            cols,
            slots,
            input: InputLayout::Blocks,
            output: OutputLayout::Offset { offset: 0 },
            precision: DiagonalPrecision::F64,
            baby_step: None,
            class: DataClass::PlaintextWeight,
        }
    }

    /// Number of rows (output length).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (input length).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Slot count of the ciphertexts.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The input layout.
    pub fn input(&self) -> InputLayout {
        self.input
    }

    /// The output layout.
    pub fn output(&self) -> OutputLayout {
        self.output
    }

    /// Number of input ciphertexts.
    pub fn input_ciphertexts(&self) -> usize {
        self.blocks.len()
    }

    /// Number of stored (non-zero) diagonals, over all input ciphertexts.
    pub fn nonzero_diagonals(&self) -> usize {
        self.blocks.iter().map(Vec::len).sum()
    }

    /// The non-zero diagonal indices of input ciphertext `block`, ascending.
    pub fn diagonal_indices(&self, block: usize) -> Vec<usize> {
        self.blocks
            .get(block)
            .map(|d| d.iter().map(|d| d.k).collect())
            .unwrap_or_default()
    }

    /// The range `[0, g)` of diagonal indices, `g = min(input period, output period)`.
    pub fn diagonal_range(&self) -> usize {
        self.modulus
    }

    /// The BSGS split: `(n1, n2)` = (baby-step size, number of giant steps in use).
    pub fn bsgs_split(&self) -> (usize, usize) {
        (self.baby, self.giants().len())
    }

    /// Rotations of the output folds.
    pub fn fold_rotations(&self) -> &[i64] {
        &self.folds
    }

    fn giants(&self) -> BTreeSet<usize> {
        self.blocks
            .iter()
            .flatten()
            .map(|d| d.k / self.baby)
            .collect()
    }

    fn babies(&self, block: usize) -> Vec<usize> {
        let set: BTreeSet<usize> = self.blocks[block].iter().map(|d| d.k % self.baby).collect();
        set.into_iter().filter(|&b| b != 0).collect()
    }

    /// The rotations the product performs (baby, giant and fold steps; ascending, without 0):
    /// generate Galois keys for exactly these.
    pub fn rotations(&self) -> Vec<i64> {
        let mut set: BTreeSet<i64> = BTreeSet::new();
        for b in 0..self.blocks.len() {
            set.extend(self.babies(b).into_iter().map(|r| r as i64));
        }
        set.extend(
            self.giants()
                .into_iter()
                .filter(|&g| g != 0)
                .map(|g| (g * self.baby) as i64),
        );
        set.extend(self.folds.iter().copied());
        set.into_iter().collect()
    }

    /// Rotations the plain diagonal method (no BSGS: one rotation per non-zero diagonal of
    /// each input ciphertext, plus the folds) would perform, for comparison.
    pub fn plain_rotation_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|d| d.iter().filter(|d| d.k != 0).count())
            .sum::<usize>()
            + self.folds.len()
    }

    /// Bytes of the compact diagonals held by this transform.
    pub fn compact_bytes(&self) -> u64 {
        self.blocks.iter().flatten().map(|d| d.values.bytes()).sum()
    }

    /// `M·x` in plain `f64` arithmetic (`x` of length at most `cols`), from the stored
    /// diagonals: the oracle the encrypted product approximates.
    ///
    /// # Errors
    /// [`Error::CircuitDimension`] if `x` is longer than `cols`.
    pub fn multiply_plain(&self, x: &[f64]) -> Result<Vec<f64>> {
        let packed = self.input.pack(x, self.cols, self.slots)?;
        let slots = self.apply_slots(&packed)?;
        let (_, offset) = self.output.period_offset(self.slots);
        Ok((0..self.rows).map(|i| slots[offset + i]).collect())
    }

    /// The slot-level computation of [`LinearTransform::apply`] in plain `f64` arithmetic on
    /// the packed input slot vectors (same diagonals, rotations and folds).
    ///
    /// # Errors
    /// [`Error::CircuitDimension`] for a wrong number or length of slot vectors.
    pub fn apply_slots(&self, inputs: &[Vec<f64>]) -> Result<Vec<f64>> {
        let s = self.slots;
        if inputs.len() != self.blocks.len() {
            return Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "input slot vectors",
                expected: self.blocks.len(),
                got: inputs.len(),
            });
        }
        if let Some(bad) = inputs.iter().find(|v| v.len() != s) {
            return Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "slots",
                expected: s,
                got: bad.len(),
            });
        }
        let rot = |v: &[f64], r: usize| -> Vec<f64> { (0..s).map(|j| v[(j + r) % s]).collect() };
        let mut acc: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        for (diags, x) in self.blocks.iter().zip(inputs) {
            for d in diags {
                let xr = rot(x, d.k % self.baby);
                let vals = d.values.to_f64();
                let a = acc.entry(d.k / self.baby).or_insert_with(|| vec![0.0; s]);
                for j in 0..s {
                    a[j] += vals[j] * xr[j];
                }
            }
        }
        let mut z = vec![0.0; s];
        for (g, a) in acc {
            let r = rot(&a, g * self.baby % s);
            z.iter_mut().zip(r).for_each(|(z, r)| *z += r);
        }
        for &f in &self.folds {
            let r = rot(&z, f as usize);
            z.iter_mut().zip(r).for_each(|(z, r)| *z += r);
        }
        Ok(z)
    }

    /// Predicts the cost of one product on inputs at `level` without doing it.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] above the top level; [`Error::LevelTooLow`] at level 0.
    pub fn cost(
        &self,
        params: &Params,
        level: Level,
        hoisting: Hoisting,
        mode: DiagonalMode,
    ) -> Result<LinearCost> {
        if level.get() == 0 {
            return Err(Error::LevelTooLow {
                op: CIRCUIT,
                level: 0,
                needed: 1,
            });
        }
        let qp = hoisting == Hoisting::Double;
        let pt_bytes = params.plaintext_bytes(level, qp)?;
        let key_bytes = params.key_switch_key_bytes(level)?;
        let terms = self.nonzero_diagonals() as u64;
        let giants = self.giants();
        let g_all = giants.len() as u64;
        let g_keyed = giants.iter().filter(|&&g| g != 0).count() as u64;
        let babies: Vec<u64> = (0..self.blocks.len())
            .map(|b| self.babies(b).len() as u64)
            .collect();
        let baby_total: u64 = babies.iter().sum();
        let hoisted_blocks = babies.iter().filter(|&&n| n > 0).count() as u64;
        let folds = self.folds.len() as u64;
        let rotations = baby_total + g_keyed + folds;

        let mut events: BTreeMap<OpKind, u64> = BTreeMap::new();
        let mut put = |op: OpKind, n: u64| {
            if n > 0 {
                *events.entry(op).or_insert(0) += n;
            }
        };
        let (mod_ups, mod_downs, additions);
        match hoisting {
            Hoisting::None | Hoisting::Single => {
                // Per giant: one mul_plain, then (terms_g − 1) fused mul_plain_acc; then
                // (giants − 1) adds; then one per fold.
                additions = g_all.saturating_sub(1) + folds;
                if hoisting == Hoisting::None {
                    put(OpKind::Rotate, baby_total + g_keyed + folds);
                    mod_ups = rotations;
                } else {
                    put(OpKind::RotateHoisted, hoisted_blocks);
                    put(OpKind::Rotate, g_keyed + folds);
                    mod_ups = hoisted_blocks + g_keyed + folds;
                }
                mod_downs = 2 * rotations;
                put(OpKind::MulPlain, g_all);
                put(OpKind::MulPlainAcc, terms.saturating_sub(g_all));
                put(OpKind::Add, additions);
            }
            Hoisting::Double => {
                additions = folds;
                put(OpKind::HoistedRotateMulAcc, u64::from(terms > 0));
                put(OpKind::LazyRotateSum, u64::from(g_keyed > 0));
                put(OpKind::Rotate, folds);
                put(OpKind::Add, folds);
                mod_ups = hoisted_blocks + g_keyed + folds;
                // One pair per giant sum with keyed baby terms, one pair for the giant-step
                // sum, one pair per fold.
                let keyed_groups = self.keyed_groups() as u64;
                mod_downs = 2 * keyed_groups + if g_keyed > 0 { 2 } else { 0 } + 2 * folds;
            }
        }
        let encodes = if mode == DiagonalMode::OnTheFly {
            terms
        } else {
            0
        };
        put(OpKind::Encode, encodes);
        put(OpKind::Rescale, 1);
        Ok(LinearCost {
            rotations,
            baby_rotations: baby_total,
            giant_rotations: g_keyed,
            fold_rotations: folds,
            key_switches: rotations,
            mod_ups,
            mod_downs,
            plaintext_multiplies: terms,
            additions,
            rescales: 1,
            levels: 1,
            diagonal_encodes: encodes,
            encoded_diagonal_bytes: terms * pt_bytes,
            compact_diagonal_bytes: self.compact_bytes(),
            galois_keys: self.rotations().len() as u64,
            galois_key_bytes: self.rotations().len() as u64 * key_bytes,
            events,
        })
    }

    /// Giant steps that have at least one term with a keyed (non-zero) baby rotation.
    fn keyed_groups(&self) -> usize {
        let set: BTreeSet<usize> = self
            .blocks
            .iter()
            .flatten()
            .filter(|d| d.k % self.baby != 0)
            .map(|d| d.k / self.baby)
            .collect();
        set.len()
    }

    /// The encoding scale of the diagonals for inputs at `level`: the prime the rescale drops.
    fn diagonal_scale(eval: &Evaluator, level: Level) -> Result<f64> {
        eval.context()
            .params()
            .q()
            .get(level.get())
            .map(|&q| q as f64)
            .ok_or(Error::LevelOutOfRange {
                level: level.get(),
                max_level: eval.context().max_level().get(),
            })
    }

    fn encode_one(
        &self,
        eval: &Evaluator,
        d: &Diagonal,
        level: Level,
        qp: bool,
    ) -> Result<Plaintext> {
        let scale = Self::diagonal_scale(eval, level)?;
        let values = d.values.to_f64();
        if qp {
            eval.encode_real_qp(&values, level, scale, self.slots, self.class)
        } else {
            eval.encode_real(&values, level, scale, self.slots, self.class)
        }
    }

    /// Encodes every diagonal for inputs at `level` (at scale `q_ℓ`, in evaluation form; in
    /// `Q·P` for [`Hoisting::Double`]), traced as one `encode` event each.
    ///
    /// # Errors
    /// [`Error::LevelTooLow`] at level 0, [`Error::LevelOutOfRange`] above the top, encoder
    /// errors.
    pub fn encode(
        &self,
        eval: &Evaluator,
        level: Level,
        hoisting: Hoisting,
    ) -> Result<EncodedDiagonals> {
        if level.get() == 0 {
            return Err(Error::LevelTooLow {
                op: CIRCUIT,
                level: 0,
                needed: 1,
            });
        }
        let qp = hoisting == Hoisting::Double;
        let _scope = eval.scope("linear_transform/encode");
        let plaintexts = self
            .blocks
            .iter()
            .map(|diags| {
                diags
                    .iter()
                    .map(|d| self.encode_one(eval, d, level, qp))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(EncodedDiagonals {
            level,
            qp,
            plaintexts,
        })
    }

    fn check_inputs(
        &self,
        eval: &Evaluator,
        inputs: &[Ciphertext],
        source: &DiagonalSource<'_>,
        hoisting: Hoisting,
    ) -> Result<Level> {
        if inputs.len() != self.blocks.len() {
            return Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "input ciphertexts",
                expected: self.blocks.len(),
                got: inputs.len(),
            });
        }
        let first = &inputs[0];
        let level = first.level();
        for ct in inputs {
            if ct.slots() != self.slots {
                return Err(Error::CircuitDimension {
                    circuit: CIRCUIT,
                    what: "slots",
                    expected: self.slots,
                    got: ct.slots(),
                });
            }
            if ct.level() != level {
                return Err(Error::LevelMismatch {
                    op: CIRCUIT,
                    left: level.get(),
                    right: ct.level().get(),
                });
            }
            let (a, b) = (first.scale(), ct.scale());
            if ((a - b) / a.max(b)).abs() > SCALE_TOLERANCE {
                return Err(Error::ScaleMismatch {
                    op: CIRCUIT,
                    left_log2: a.log2(),
                    right_log2: b.log2(),
                });
            }
        }
        if level.get() == 0 {
            return Err(Error::LevelTooLow {
                op: CIRCUIT,
                level: 0,
                needed: 1,
            });
        }
        if let DiagonalSource::Encoded(e) = source {
            if e.level != level {
                return Err(Error::LevelMismatch {
                    op: CIRCUIT,
                    left: level.get(),
                    right: e.level.get(),
                });
            }
            let required_qp = hoisting == Hoisting::Double;
            if e.qp != required_qp {
                return Err(Error::DiagonalBasis {
                    encoded_qp: e.qp,
                    required_qp,
                });
            }
            if e.len() != self.nonzero_diagonals()
                || e.plaintexts.len() != self.blocks.len()
                || e.plaintexts
                    .iter()
                    .zip(&self.blocks)
                    .any(|(p, d)| p.len() != d.len())
            {
                return Err(Error::CircuitDimension {
                    circuit: CIRCUIT,
                    what: "encoded diagonals",
                    expected: self.nonzero_diagonals(),
                    got: e.len(),
                });
            }
        }
        let ctx = eval.context();
        for r in self.rotations() {
            let k = ctx.galois_element_for_rotation(r, self.slots)?;
            if k.0 != 1 && !eval.keys().has_galois(k) {
                return Err(Error::MissingGaloisKey {
                    rotation: Some(r),
                    galois_element: k.0,
                });
            }
        }
        Ok(level)
    }

    /// `M·x` on encrypted `x` (one ciphertext per input block, all at the same level ≥ 1 and
    /// scale): one level, output scale equal to the input scale, output in this transform's
    /// [`OutputLayout`]. Every operand and key is checked before any homomorphic work.
    ///
    /// # Errors
    /// See the module documentation.
    pub fn apply(
        &self,
        eval: &Evaluator,
        inputs: &[Ciphertext],
        source: DiagonalSource<'_>,
        hoisting: Hoisting,
    ) -> Result<Ciphertext> {
        let level = self.check_inputs(eval, inputs, &source, hoisting)?;
        let _scope = eval.scope(CIRCUIT);
        let total = match hoisting {
            Hoisting::Double => self.giant_sum_double(eval, inputs, &source, level)?,
            _ => self.giant_sum_simple(eval, inputs, &source, level, hoisting)?,
        };
        let mut out = eval.rescale(&total)?;
        for &f in &self.folds {
            let r = eval.rotate(&out, f)?;
            out = eval.add(&out, &r)?;
        }
        Ok(out)
    }

    fn plaintext<'a>(
        &self,
        eval: &Evaluator,
        source: &DiagonalSource<'a>,
        block: usize,
        index: usize,
        level: Level,
        qp: bool,
    ) -> Result<Cow<'a, Plaintext>> {
        match source {
            DiagonalSource::Encoded(e) => Ok(Cow::Borrowed(&e.plaintexts[block][index])),
            DiagonalSource::OnTheFly => Ok(Cow::Owned(self.encode_one(
                eval,
                &self.blocks[block][index],
                level,
                qp,
            )?)),
        }
    }

    /// Σ_g rot(Σ_{b, blocks} diag' ⊙ rot(x, b), n1·g) before the rescale (single or no
    /// hoisting).
    fn giant_sum_simple(
        &self,
        eval: &Evaluator,
        inputs: &[Ciphertext],
        source: &DiagonalSource<'_>,
        level: Level,
        hoisting: Hoisting,
    ) -> Result<Ciphertext> {
        let n1 = self.baby;
        let mut acc: BTreeMap<usize, Ciphertext> = BTreeMap::new();
        for (b, (diags, x)) in self.blocks.iter().zip(inputs).enumerate() {
            let babies = self.babies(b);
            let mut rotated: BTreeMap<usize, Ciphertext> = BTreeMap::new();
            if hoisting == Hoisting::Single && !babies.is_empty() {
                let rots: Vec<i64> = babies.iter().map(|&r| r as i64).collect();
                for (r, ct) in babies.iter().zip(eval.rotate_hoisted(x, &rots)?) {
                    rotated.insert(*r, ct);
                }
            } else {
                for &r in &babies {
                    rotated.insert(r, eval.rotate(x, r as i64)?);
                }
            }
            for (i, d) in diags.iter().enumerate() {
                let baby = d.k % n1;
                let src = if baby == 0 { x } else { &rotated[&baby] };
                let pt = self.plaintext(eval, source, b, i, level, false)?;
                // The first product of a giant step starts its sum; the others accumulate
                // into it without a temporary.
                match acc.get_mut(&(d.k / n1)) {
                    Some(a) => eval.mul_plain_acc(a, src, &pt)?,
                    None => {
                        acc.insert(d.k / n1, eval.mul_plain(src, &pt)?);
                    }
                }
                drop(pt);
            }
        }
        let mut total: Option<Ciphertext> = None;
        for (g, ct) in acc {
            let r = if g == 0 {
                ct
            } else {
                eval.rotate(&ct, (g * n1) as i64)?
            };
            total = Some(match total {
                Some(t) => eval.add(&t, &r)?,
                None => r,
            });
        }
        match total {
            Some(t) => Ok(t),
            // An all-zero matrix: 0·x at the product's scale.
            None => Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "non-zero diagonals",
                expected: 1,
                got: 0,
            }),
        }
    }

    /// The same sum with double hoisting: one `Q·P` primitive for every baby step and
    /// diagonal product, one for the giant steps.
    fn giant_sum_double(
        &self,
        eval: &Evaluator,
        inputs: &[Ciphertext],
        source: &DiagonalSource<'_>,
        level: Level,
    ) -> Result<Ciphertext> {
        let n1 = self.baby;
        let giants: Vec<usize> = self.giants().into_iter().collect();
        if giants.is_empty() {
            return Err(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "non-zero diagonals",
                expected: 1,
                got: 0,
            });
        }
        let group_of: BTreeMap<usize, usize> =
            giants.iter().enumerate().map(|(i, &g)| (g, i)).collect();
        // terms[input] = (group, baby rotation, diagonal index within the block)
        let terms: Vec<Vec<(usize, i64, usize)>> = self
            .blocks
            .iter()
            .map(|diags| {
                diags
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (group_of[&(d.k / n1)], (d.k % n1) as i64, i))
                    .collect()
            })
            .collect();
        let sums = eval.rotate_mul_sum_hoisted(inputs, &terms, giants.len(), |input, index| {
            self.plaintext(eval, source, input, index, level, true)
        })?;
        if giants == [0] {
            return sums.into_iter().next().ok_or(Error::CircuitDimension {
                circuit: CIRCUIT,
                what: "giant-step sums",
                expected: 1,
                got: 0,
            });
        }
        let parts: Vec<(&Ciphertext, i64)> = sums
            .iter()
            .zip(&giants)
            .map(|(ct, &g)| (ct, (g * n1) as i64))
            .collect();
        eval.rotate_sum_lazy(&parts)
    }
}

//! Datasets for the DLRM: the shipped UCI Heart Disease (Cleveland) and Criteo Kaggle files, and a
//! synthetic Criteo-shaped generator with the real Kaggle table cardinalities.
//!
//! Every loader produces a [`Dataset`]: dense features (row-major `f32`, fed to the bottom MLP),
//! sparse features (one table index per categorical feature, fed to the embedding tables, each
//! below its [`SparseFeature::cardinality`]) and binary labels. The shipped files are compiled into
//! the library (see [`shipped`]), so the loaders work from any working directory.
//!
//! - [`uci`]: Cleveland heart disease, 303 rows, 5 continuous + 8 categorical features, a fixed
//!   stratified 80/20 held-out split ([`uci::cleveland_split`]) standardised on the training rows.
//! - [`criteo`]: raw Kaggle rows (8,000 train + 2,000 hold-out), `log(1 + max(x, 0))` dense
//!   features and two categorical index schemes (hashed into the Kaggle table sizes, or a
//!   frequency-thresholded vocabulary built on the training file).
//! - [`synthetic`]: seeded Criteo-shaped rows with Zipf-like indices for full-size shape studies.
//! - [`shipped`]: SHA-256 pins of every shipped file and [`shipped::verify_shipped`].
//!
//! Splits and shuffles are deterministic per seed (ChaCha8 from `rand_chacha`).

pub mod criteo;
mod rng;
pub mod shipped;
mod standardize;
pub mod synthetic;
mod text;
pub mod uci;

pub use criteo::{
    load_kaggle, CriteoData, CriteoIndexing, CriteoRaw, IndexScheme, Vocabulary,
    CRITEO_KAGGLE_CARDINALITIES,
};
pub use shipped::verify_shipped;
pub use standardize::Standardizer;
pub use synthetic::SyntheticCriteo;
pub use uci::{cleveland_split, load_cleveland, UciSplit};

use crate::error::{Error, Result};

/// One categorical (sparse) feature: its name and the number of rows of its embedding table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SparseFeature {
    /// Feature name (`"thal"`, `"C3"`, …).
    pub name: String,
    /// Table size: every index of this feature is `< cardinality`.
    pub cardinality: u64,
}

impl SparseFeature {
    /// A feature named `name` with `cardinality` table rows.
    pub fn new(name: impl Into<String>, cardinality: u64) -> Self {
        Self {
            name: name.into(),
            cardinality,
        }
    }
}

/// A labelled table of rows for a DLRM: dense features, sparse table indices, binary labels.
///
/// Storage is row-major and flat: row `i`'s dense features are
/// `dense()[i * num_dense() .. (i + 1) * num_dense()]`, likewise for sparse indices.
/// [`Dataset::new`] checks every invariant (widths, index < cardinality, labels in {0, 1},
/// finite dense values), and no method breaks them afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    dense_names: Vec<String>,
    sparse_specs: Vec<SparseFeature>,
    dense: Vec<f32>,
    sparse: Vec<u32>,
    labels: Vec<u8>,
}

/// A borrowed view of one row of a [`Dataset`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    /// Dense features of the row (width [`Dataset::num_dense`]).
    pub dense: &'a [f32],
    /// Sparse table indices of the row (width [`Dataset::num_sparse`]).
    pub sparse: &'a [u32],
    /// The label, 0 or 1.
    pub label: u8,
}

impl Dataset {
    /// Builds a dataset from flat row-major parts, checking that the widths agree, that dense
    /// values are finite, that each sparse index is below its feature's cardinality and that
    /// labels are 0 or 1.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for inconsistent lengths, [`Error::InvalidParameter`] for a
    /// non-finite dense value or a cardinality of 0 or above 2^32,
    /// [`Error::IndexOutOfRange`], [`Error::InvalidLabel`].
    pub fn new(
        name: impl Into<String>,
        dense_names: Vec<String>,
        sparse_specs: Vec<SparseFeature>,
        dense: Vec<f32>,
        sparse: Vec<u32>,
        labels: Vec<u8>,
    ) -> Result<Self> {
        let n = labels.len();
        let nd = dense_names.len();
        let ns = sparse_specs.len();
        check_len("dense values", n.saturating_mul(nd), dense.len())?;
        check_len("sparse indices", n.saturating_mul(ns), sparse.len())?;
        for spec in &sparse_specs {
            check_cardinality(spec.cardinality)?;
        }
        if let Some(v) = dense.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "dense value",
                value: f64::from(*v),
                expected: "a finite number",
            });
        }
        if ns > 0 {
            for (row, chunk) in sparse.chunks_exact(ns).enumerate() {
                for (feature, (&index, spec)) in chunk.iter().zip(&sparse_specs).enumerate() {
                    if u64::from(index) >= spec.cardinality {
                        return Err(Error::IndexOutOfRange {
                            row,
                            feature,
                            index,
                            cardinality: spec.cardinality,
                        });
                    }
                }
            }
        }
        if let Some((row, &label)) = labels.iter().enumerate().find(|(_, &l)| l > 1) {
            return Err(Error::InvalidLabel { row, label });
        }
        Ok(Self {
            name: name.into(),
            dense_names,
            sparse_specs,
            dense,
            sparse,
            labels,
        })
    }

    /// The dataset's name (for example `"uci-heart-cleveland"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the dataset has no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of dense features per row.
    pub fn num_dense(&self) -> usize {
        self.dense_names.len()
    }

    /// Number of sparse (categorical) features per row.
    pub fn num_sparse(&self) -> usize {
        self.sparse_specs.len()
    }

    /// Names of the dense features, in column order.
    pub fn dense_names(&self) -> &[String] {
        &self.dense_names
    }

    /// Name and cardinality of each sparse feature, in column order.
    pub fn sparse_specs(&self) -> &[SparseFeature] {
        &self.sparse_specs
    }

    /// The cardinality of each sparse feature, in column order.
    pub fn cardinalities(&self) -> Vec<u64> {
        self.sparse_specs.iter().map(|s| s.cardinality).collect()
    }

    /// All dense values, row-major (`len() × num_dense()`).
    pub fn dense(&self) -> &[f32] {
        &self.dense
    }

    /// All sparse indices, row-major (`len() × num_sparse()`).
    pub fn sparse(&self) -> &[u32] {
        &self.sparse
    }

    /// All labels (0 or 1).
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Number of rows labelled 1.
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }

    /// Dense features of row `i`, or `None` past the end.
    pub fn dense_row(&self, i: usize) -> Option<&[f32]> {
        let w = self.num_dense();
        self.dense
            .get(i.checked_mul(w)?..i.checked_add(1)?.checked_mul(w)?)
    }

    /// Sparse indices of row `i`, or `None` past the end.
    pub fn sparse_row(&self, i: usize) -> Option<&[u32]> {
        let w = self.num_sparse();
        self.sparse
            .get(i.checked_mul(w)?..i.checked_add(1)?.checked_mul(w)?)
    }

    /// Label of row `i`, or `None` past the end.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.get(i).copied()
    }

    /// Row `i` as a borrowed view, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<Row<'_>> {
        Some(Row {
            dense: self.dense_row(i)?,
            sparse: self.sparse_row(i)?,
            label: self.label(i)?,
        })
    }

    /// Iterates over all rows in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        let (nd, ns) = (self.num_dense(), self.num_sparse());
        // `new` checked dense.len() == len × nd and sparse.len() == len × ns, so every slice is
        // in range.
        (0..self.len()).map(move |i| Row {
            dense: &self.dense[i * nd..(i + 1) * nd],
            sparse: &self.sparse[i * ns..(i + 1) * ns],
            label: self.labels[i],
        })
    }

    /// The rows at `indices` (in that order; repeats allowed) as a new dataset named `name`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (`what: "row index"`, `expected: len()`) for an index past the end.
    pub fn subset(&self, indices: &[usize], name: impl Into<String>) -> Result<Self> {
        let (nd, ns) = (self.num_dense(), self.num_sparse());
        let mut dense = Vec::with_capacity(indices.len() * nd);
        let mut sparse = Vec::with_capacity(indices.len() * ns);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let row = self.row(i).ok_or(Error::ShapeMismatch {
                what: "row index",
                expected: self.len(),
                found: i,
            })?;
            dense.extend_from_slice(row.dense);
            sparse.extend_from_slice(row.sparse);
            labels.push(row.label);
        }
        Ok(Self {
            name: name.into(),
            dense_names: self.dense_names.clone(),
            sparse_specs: self.sparse_specs.clone(),
            dense,
            sparse,
            labels,
        })
    }

    /// A copy with the rows in a seeded random order (Fisher–Yates driven by ChaCha8 seeded with
    /// `seed`; the same seed always gives the same order).
    pub fn shuffled(&self, seed: u64) -> Self {
        let mut order: Vec<usize> = (0..self.len()).collect();
        rng::shuffle(&mut order, &mut rng::seeded(seed));
        // Every index is in range, so `subset` cannot fail; fall back to a clone regardless.
        self.subset(&order, self.name.clone())
            .unwrap_or_else(|_| self.clone())
    }

    /// Splits into train and test rows as `spec` says (see [`split_indices`]). The parts are named
    /// `"<name>/train"` and `"<name>/test"` and keep the original row order.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `spec.test_fraction` is not in `[0, 1]`.
    pub fn split(&self, spec: &SplitSpec) -> Result<Split> {
        let (train_indices, test_indices) = split_indices(&self.labels, spec)?;
        Ok(Split {
            train: self.subset(&train_indices, format!("{}/train", self.name))?,
            test: self.subset(&test_indices, format!("{}/test", self.name))?,
            train_indices,
            test_indices,
        })
    }

    /// Mutable dense values, for in-crate transforms that keep values finite.
    pub(crate) fn dense_mut(&mut self) -> &mut [f32] {
        &mut self.dense
    }
}

/// How to split a dataset into train and test rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitSpec {
    /// Fraction of rows (of each class when stratified) that go to the test part, in `[0, 1]`.
    pub test_fraction: f64,
    /// Seed of the ChaCha8 stream that shuffles the rows.
    pub seed: u64,
    /// When true, each label class is split separately so both parts keep the class ratio.
    pub stratified: bool,
}

impl SplitSpec {
    /// A split stratified by label.
    pub fn stratified(test_fraction: f64, seed: u64) -> Self {
        Self {
            test_fraction,
            seed,
            stratified: true,
        }
    }

    /// A split that ignores labels.
    pub fn random(test_fraction: f64, seed: u64) -> Self {
        Self {
            test_fraction,
            seed,
            stratified: false,
        }
    }
}

/// The result of [`Dataset::split`]: the two parts and which source rows went where.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Training rows.
    pub train: Dataset,
    /// Test rows.
    pub test: Dataset,
    /// Source row of each training row (ascending).
    pub train_indices: Vec<usize>,
    /// Source row of each test row (ascending).
    pub test_indices: Vec<usize>,
}

/// Deterministic train/test row indices for rows with these `labels`.
///
/// Within each group (each label class if `spec.stratified`, otherwise all rows) the row
/// indices are shuffled with one ChaCha8 stream seeded by `spec.seed` (class 0 first, then
/// class 1), and the first `round(test_fraction × group size)` go to the test part. Both
/// returned lists are sorted ascending, disjoint, and together cover `0..labels.len()`.
///
/// # Errors
/// [`Error::InvalidParameter`] when `spec.test_fraction` is not a number in `[0, 1]`.
pub fn split_indices(labels: &[u8], spec: &SplitSpec) -> Result<(Vec<usize>, Vec<usize>)> {
    let f = spec.test_fraction;
    if !(0.0..=1.0).contains(&f) {
        return Err(Error::InvalidParameter {
            name: "test_fraction",
            value: f,
            expected: "a number in [0, 1]",
        });
    }
    let groups: Vec<Vec<usize>> = if spec.stratified {
        let mut classes: Vec<u8> = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        classes
            .iter()
            .map(|&c| (0..labels.len()).filter(|&i| labels[i] == c).collect())
            .collect()
    } else {
        vec![(0..labels.len()).collect()]
    };
    let mut rng = rng::seeded(spec.seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut group in groups {
        rng::shuffle(&mut group, &mut rng);
        // f is in [0, 1], so the rounded product is in [0, group.len()].
        let n_test = ((f * group.len() as f64).round() as usize).min(group.len());
        test.extend_from_slice(&group[..n_test]);
        train.extend_from_slice(&group[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}

fn check_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected,
            found,
        })
    }
}

/// Table sizes must be at least 1 and at most 2^32 (indices are `u32`).
fn check_cardinality(c: u64) -> Result<()> {
    if c == 0 || c > (1u64 << 32) {
        return Err(Error::InvalidParameter {
            name: "cardinality",
            value: c as f64,
            expected: "a table size in [1, 2^32]",
        });
    }
    Ok(())
}

//! Criteo Kaggle Display Advertising rows in the raw `train.txt` format.
//!
//! Format: one row per line, 40 tab-separated fields, no header:
//! `label, I1 … I13, C1 … C26`. The label is `0` or `1`; I1–I13 are decimal integers (may be
//! negative); C1–C26 are 8-character lowercase hex strings (32-bit hashes). An empty field is a
//! missing value, so a line can end in tabs (they are significant).
//!
//! Parsing ([`CriteoRaw::parse`]) keeps the raw values; [`CriteoRaw::to_dataset`] turns them into a
//! [`Dataset`]:
//! - dense: missing → 0, then `ln(1 + max(x, 0))` ([`dense_transform`]);
//! - sparse: an [`IndexScheme`]. In both schemes **index 0 is reserved** for a missing value
//!   ([`MISSING_INDEX`]):
//!   - [`IndexScheme::Hashed`]: a present hash `h` of feature `t` goes to
//!     `1 + h mod (size_t − 1)` — the default sizes are the real Kaggle cardinalities
//!     [`CRITEO_KAGGLE_CARDINALITIES`], so models built on this data have the full-size shapes;
//!   - [`IndexScheme::Vocabulary`]: a [`Vocabulary`] built on the training file keeps the values
//!     seen at least `min_count` times, numbered from 1 by decreasing count (ties by hash);
//!     unseen, rare and missing values go to index 0. Small, realistic tables.

use std::collections::HashMap;
use std::path::Path;

use super::shipped::{self, ShippedFile, CRITEO_HOLDOUT, CRITEO_TRAIN};
use super::text::{field_error, lines, row_error};
use super::{Dataset, SparseFeature};
use crate::error::{Error, Result};

/// Number of dense (integer) features, I1–I13.
pub const CRITEO_NUM_DENSE: usize = 13;
/// Number of categorical features, C1–C26.
pub const CRITEO_NUM_SPARSE: usize = 26;
/// Fields per line: label + 13 + 26.
pub const CRITEO_FIELDS: usize = 1 + CRITEO_NUM_DENSE + CRITEO_NUM_SPARSE;

/// Table sizes of C1–C26 in the Criteo Kaggle dataset (HE-LRM; 33,762,577 rows in total).
pub const CRITEO_KAGGLE_CARDINALITIES: [u64; CRITEO_NUM_SPARSE] = [
    1460, 583, 10_131_227, 2_202_608, 305, 24, 12517, 633, 3, 93145, 5683, 8_351_593, 3194, 27,
    14992, 5_461_306, 10, 5652, 2173, 4, 7_046_547, 18, 15, 286_181, 105, 142_572,
];

/// Names of the dense features.
pub const CRITEO_DENSE_NAMES: [&str; CRITEO_NUM_DENSE] = [
    "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10", "I11", "I12", "I13",
];

/// Names of the categorical features.
pub const CRITEO_SPARSE_NAMES: [&str; CRITEO_NUM_SPARSE] = [
    "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12", "C13", "C14", "C15",
    "C16", "C17", "C18", "C19", "C20", "C21", "C22", "C23", "C24", "C25", "C26",
];

/// The table index of a missing (or, in a vocabulary, unseen/rare) categorical value.
pub const MISSING_INDEX: u32 = 0;

/// Name of the dataset built from the shipped 8,000-row train file.
pub const TRAIN_NAME: &str = "criteo-kaggle-train";
/// Name of the dataset built from the shipped 2,000-row hold-out file.
pub const HOLDOUT_NAME: &str = "criteo-kaggle-holdout";

/// The standard Criteo dense preprocessing: missing → 0, negatives clipped to 0, `ln(1 + x)`.
pub fn dense_transform(x: Option<i64>) -> f32 {
    let x = x.unwrap_or(0).max(0) as f64;
    x.ln_1p() as f32
}

/// The hashed index of a categorical value in a table of `table_size` rows:
/// [`MISSING_INDEX`] for `None`, else `1 + hash mod (table_size − 1)`.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `2 ≤ table_size ≤ 2^32`.
pub fn hashed_index(hash: Option<u32>, table_size: u64) -> Result<u32> {
    if !(2..=(1u64 << 32)).contains(&table_size) {
        return Err(Error::InvalidParameter {
            name: "table_size",
            value: table_size as f64,
            expected: "a table size in [2, 2^32] (index 0 is the missing row)",
        });
    }
    Ok(match hash {
        None => MISSING_INDEX,
        // < table_size ≤ 2^32, so it fits in u32.
        Some(h) => (1 + u64::from(h) % (table_size - 1)) as u32,
    })
}

/// Raw Criteo rows as parsed: labels, dense integers and categorical hashes, with missing
/// values kept as `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriteoRaw {
    file: String,
    labels: Vec<u8>,
    dense: Vec<Option<i64>>,
    sparse: Vec<Option<u32>>,
}

/// How categorical hashes become table indices (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndexScheme<'a> {
    /// `1 + hash mod (size − 1)` with one table size per categorical feature (26 sizes).
    Hashed {
        /// Table size of each of C1–C26 (each in `[2, 2^32]`).
        table_sizes: &'a [u64],
    },
    /// Look the hash up in a vocabulary built on training rows.
    Vocabulary(&'a Vocabulary),
}

impl IndexScheme<'static> {
    /// Hashing into the real Kaggle table sizes [`CRITEO_KAGGLE_CARDINALITIES`].
    pub fn kaggle() -> Self {
        IndexScheme::Hashed {
            table_sizes: &CRITEO_KAGGLE_CARDINALITIES,
        }
    }
}

impl CriteoRaw {
    /// Parses raw Criteo Kaggle text (see the module docs for the format).
    ///
    /// # Errors
    /// [`Error::EmptyDataset`] for a file without rows; [`Error::Dataset`] naming the line and
    /// field for a row without exactly 40 tab-separated fields (`field: "row"`), a label other
    /// than `0`/`1`, a dense value that is not a decimal `i64`, a categorical value that is not
    /// 8 lowercase hex digits, or text that is not UTF-8.
    pub fn parse(bytes: &[u8], file: &str) -> Result<Self> {
        let rows = lines(bytes, file)?;
        let n = rows.len();
        let mut labels = Vec::with_capacity(n);
        let mut dense = Vec::with_capacity(n * CRITEO_NUM_DENSE);
        let mut sparse = Vec::with_capacity(n * CRITEO_NUM_SPARSE);
        for (line, text) in rows {
            let fields: Vec<&str> = text.split('\t').collect();
            if fields.len() != CRITEO_FIELDS {
                return Err(row_error(
                    file,
                    line,
                    "40 tab-separated fields",
                    &format!("{} fields", fields.len()),
                ));
            }
            labels.push(match fields[0] {
                "0" => 0,
                "1" => 1,
                raw => return Err(field_error(file, line, "label", "0 or 1", raw)),
            });
            for (raw, name) in fields[1..=CRITEO_NUM_DENSE].iter().zip(CRITEO_DENSE_NAMES) {
                dense.push(if raw.is_empty() {
                    None
                } else {
                    Some(raw.parse::<i64>().map_err(|_| {
                        field_error(file, line, name, "a decimal integer or empty", raw)
                    })?)
                });
            }
            for (raw, name) in fields[1 + CRITEO_NUM_DENSE..]
                .iter()
                .zip(CRITEO_SPARSE_NAMES)
            {
                sparse.push(if raw.is_empty() {
                    None
                } else {
                    Some(parse_hash(raw).ok_or_else(|| {
                        field_error(file, line, name, "8 lowercase hex digits or empty", raw)
                    })?)
                });
            }
        }
        Ok(Self {
            file: file.to_owned(),
            labels,
            dense,
            sparse,
        })
    }

    /// Reads and parses a raw Criteo file.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, and [`CriteoRaw::parse`]'s errors.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = shipped::read_file(path)?;
        Self::parse(&bytes, &path.display().to_string())
    }

    /// The file name given to the parser.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows (never, for a successfully parsed file).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Number of rows labelled 1.
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }

    /// Raw dense value `j` (0-based, I1 = 0) of row `i`: `Some(None)` when missing, `None` when out
    /// of range.
    pub fn dense_value(&self, i: usize, j: usize) -> Option<Option<i64>> {
        (j < CRITEO_NUM_DENSE).then(|| self.dense.get(i * CRITEO_NUM_DENSE + j).copied())?
    }

    /// Raw categorical hash `t` (0-based, C1 = 0) of row `i`: `Some(None)` when missing, `None`
    /// when out of range.
    pub fn sparse_value(&self, i: usize, t: usize) -> Option<Option<u32>> {
        (t < CRITEO_NUM_SPARSE).then(|| self.sparse.get(i * CRITEO_NUM_SPARSE + t).copied())?
    }

    /// How many rows miss each of I1–I13.
    pub fn missing_dense_counts(&self) -> [usize; CRITEO_NUM_DENSE] {
        let mut counts = [0; CRITEO_NUM_DENSE];
        for row in self.dense.chunks_exact(CRITEO_NUM_DENSE) {
            for (c, v) in counts.iter_mut().zip(row) {
                *c += usize::from(v.is_none());
            }
        }
        counts
    }

    /// How many rows miss each of C1–C26.
    pub fn missing_sparse_counts(&self) -> [usize; CRITEO_NUM_SPARSE] {
        let mut counts = [0; CRITEO_NUM_SPARSE];
        for row in self.sparse.chunks_exact(CRITEO_NUM_SPARSE) {
            for (c, v) in counts.iter_mut().zip(row) {
                *c += usize::from(v.is_none());
            }
        }
        counts
    }

    /// Number of distinct present (non-missing) values of each of C1–C26.
    pub fn distinct_sparse_counts(&self) -> [usize; CRITEO_NUM_SPARSE] {
        let mut counts = [0; CRITEO_NUM_SPARSE];
        for (t, c) in counts.iter_mut().enumerate() {
            let mut values: Vec<u32> = self.column(t).flatten().collect();
            values.sort_unstable();
            values.dedup();
            *c = values.len();
        }
        counts
    }

    /// Builds a [`Dataset`] named `name`: dense features through [`dense_transform`], categorical
    /// values through `scheme`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when a hashed scheme does not give 26 table sizes;
    /// [`Error::InvalidParameter`] for a table size outside `[2, 2^32]`.
    pub fn to_dataset(&self, scheme: &IndexScheme<'_>, name: &str) -> Result<Dataset> {
        let cardinalities: Vec<u64> = match scheme {
            IndexScheme::Hashed { table_sizes } => {
                if table_sizes.len() != CRITEO_NUM_SPARSE {
                    return Err(Error::ShapeMismatch {
                        what: "hashed table sizes",
                        expected: CRITEO_NUM_SPARSE,
                        found: table_sizes.len(),
                    });
                }
                for &size in *table_sizes {
                    hashed_index(None, size)?;
                }
                table_sizes.to_vec()
            }
            IndexScheme::Vocabulary(v) => v.cardinalities(),
        };
        let dense = self.dense.iter().map(|&x| dense_transform(x)).collect();
        let sparse = match scheme {
            IndexScheme::Hashed { .. } => self
                .sparse
                .chunks_exact(CRITEO_NUM_SPARSE)
                .flat_map(|row| row.iter().zip(&cardinalities))
                .map(|(&h, &size)| hashed_index(h, size))
                .collect::<Result<Vec<u32>>>()?,
            IndexScheme::Vocabulary(v) => self
                .sparse
                .chunks_exact(CRITEO_NUM_SPARSE)
                .flat_map(|row| row.iter().enumerate())
                .map(|(t, &h)| v.index(t, h))
                .collect(),
        };
        Dataset::new(
            name,
            CRITEO_DENSE_NAMES.iter().map(|s| (*s).to_owned()).collect(),
            CRITEO_SPARSE_NAMES
                .iter()
                .zip(&cardinalities)
                .map(|(n, &c)| SparseFeature::new(*n, c))
                .collect(),
            dense,
            sparse,
            self.labels.clone(),
        )
    }

    /// The values of categorical feature `t` down the rows.
    fn column(&self, t: usize) -> impl Iterator<Item = Option<u32>> + '_ {
        self.sparse
            .iter()
            .skip(t)
            .step_by(CRITEO_NUM_SPARSE)
            .copied()
    }
}

/// Per-feature maps from categorical hash to table index, built on training rows.
///
/// Index 0 is [`MISSING_INDEX`] (missing, unseen or seen fewer than `min_count` times); the kept
/// values get 1, 2, … in order of decreasing count, ties broken by increasing hash, so the
/// numbering is deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    min_count: u32,
    maps: Vec<HashMap<u32, u32>>,
}

impl Vocabulary {
    /// Keeps, per feature, the values that occur at least `min_count` times in `train`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `min_count` is 0.
    pub fn build(train: &CriteoRaw, min_count: u32) -> Result<Self> {
        if min_count == 0 {
            return Err(Error::InvalidParameter {
                name: "min_count",
                value: 0.0,
                expected: "at least 1",
            });
        }
        let maps = (0..CRITEO_NUM_SPARSE)
            .map(|t| {
                let mut counts: HashMap<u32, u32> = HashMap::new();
                for h in train.column(t).flatten() {
                    *counts.entry(h).or_insert(0) += 1;
                }
                let mut kept: Vec<(u32, u32)> = counts
                    .into_iter()
                    .filter(|&(_, c)| c >= min_count)
                    .collect();
                kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                // At most 8000-ish entries per feature here, and never more than 2^32 − 1
                // distinct u32 hashes, so `rank + 1` fits in u32.
                kept.into_iter()
                    .zip(1u32..)
                    .map(|((h, _), index)| (h, index))
                    .collect()
            })
            .collect();
        Ok(Self { min_count, maps })
    }

    /// The frequency threshold the vocabulary was built with.
    pub fn min_count(&self) -> u32 {
        self.min_count
    }

    /// Table size of each of C1–C26: kept values + 1 (the missing/unseen row).
    pub fn cardinalities(&self) -> Vec<u64> {
        self.maps.iter().map(|m| m.len() as u64 + 1).collect()
    }

    /// The table index of `hash` in feature `t` (0-based); [`MISSING_INDEX`] for a missing,
    /// unseen or rare value, or a feature number out of range.
    pub fn index(&self, t: usize, hash: Option<u32>) -> u32 {
        hash.and_then(|h| self.maps.get(t)?.get(&h).copied())
            .unwrap_or(MISSING_INDEX)
    }
}

/// The shipped Criteo files (8,000-row train and 2,000-row hold-out) as parsed raw rows.
///
/// # Errors
/// None in practice (the embedded files are pinned by SHA-256); the parser's errors otherwise.
pub fn load_shipped_raw() -> Result<(CriteoRaw, CriteoRaw)> {
    Ok((
        parse_shipped(&CRITEO_TRAIN)?,
        parse_shipped(&CRITEO_HOLDOUT)?,
    ))
}

/// How [`load_kaggle`] indexes categorical values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriteoIndexing {
    /// [`IndexScheme::kaggle`]: hashed into the real Kaggle table sizes.
    KaggleHashed,
    /// A [`Vocabulary`] built on the 8,000 training rows with this `min_count`.
    Vocabulary {
        /// Minimum number of training occurrences for a value to get its own index.
        min_count: u32,
    },
}

/// The shipped Criteo rows as datasets.
#[derive(Debug, Clone, PartialEq)]
pub struct CriteoData {
    /// The 8,000 training rows ([`TRAIN_NAME`]).
    pub train: Dataset,
    /// The 2,000 hold-out rows ([`HOLDOUT_NAME`]), indexed with the same scheme.
    pub holdout: Dataset,
    /// The vocabulary, when [`CriteoIndexing::Vocabulary`] was asked for.
    pub vocabulary: Option<Vocabulary>,
}

/// The shipped train and hold-out files, indexed as `indexing` says (a vocabulary is built on
/// the training rows only and applied to both).
///
/// # Errors
/// [`Error::InvalidParameter`] for `min_count == 0`; otherwise none in practice.
pub fn load_kaggle(indexing: CriteoIndexing) -> Result<CriteoData> {
    let (train_raw, holdout_raw) = load_shipped_raw()?;
    let vocabulary = match indexing {
        CriteoIndexing::KaggleHashed => None,
        CriteoIndexing::Vocabulary { min_count } => Some(Vocabulary::build(&train_raw, min_count)?),
    };
    let scheme = match &vocabulary {
        None => IndexScheme::kaggle(),
        Some(v) => IndexScheme::Vocabulary(v),
    };
    Ok(CriteoData {
        train: train_raw.to_dataset(&scheme, TRAIN_NAME)?,
        holdout: holdout_raw.to_dataset(&scheme, HOLDOUT_NAME)?,
        vocabulary,
    })
}

fn parse_shipped(file: &ShippedFile) -> Result<CriteoRaw> {
    let bytes = file.bytes()?;
    CriteoRaw::parse(&bytes, file.path)
}

/// Exactly 8 lowercase hex digits → the 32-bit value.
fn parse_hash(raw: &str) -> Option<u32> {
    let ok = raw.len() == 8
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        u32::from_str_radix(raw, 16).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_hash_is_strict() {
        assert_eq!(parse_hash("68fd1e64"), Some(0x68fd_1e64));
        assert_eq!(parse_hash("ffffffff"), Some(u32::MAX));
        assert_eq!(parse_hash("68FD1E64"), None);
        assert_eq!(parse_hash("+8fd1e64"), None);
        assert_eq!(parse_hash("68fd1e6"), None);
        assert_eq!(parse_hash("68fd1e645"), None);
        assert_eq!(parse_hash("zz12ab34"), None);
    }

    #[test]
    fn hashed_index_known_answers() {
        assert_eq!(hashed_index(None, 10).unwrap(), 0);
        assert_eq!(hashed_index(Some(0), 10).unwrap(), 1);
        assert_eq!(hashed_index(Some(8), 10).unwrap(), 9);
        assert_eq!(hashed_index(Some(9), 10).unwrap(), 1);
        assert_eq!(hashed_index(Some(u32::MAX - 1), 1 << 32).unwrap(), u32::MAX);
        assert_eq!(hashed_index(Some(u32::MAX), 1 << 32).unwrap(), 1);
        assert_eq!(hashed_index(Some(7), 2).unwrap(), 1);
        assert!(matches!(
            hashed_index(Some(1), 1),
            Err(Error::InvalidParameter {
                name: "table_size",
                ..
            })
        ));
        assert!(matches!(
            hashed_index(Some(1), (1 << 32) + 1),
            Err(Error::InvalidParameter {
                name: "table_size",
                ..
            })
        ));
    }
}

//! Table layouts (full or digit-compressed) and the packed one-hot layout of all tables.
//!
//! Each table's **segment** in the client vector has [`TableLayout::segment_len`] slots: `k` for
//! a full table (one one-hot of length `k`), `b·ℓ` for a compressed one (`ℓ` one-hots of length
//! `b`, digit `j`'s one-hot at segment positions `j·b … j·b + b − 1`). The table's *expanded
//! rows* are in the same order — row `r` of the expanded table multiplies segment slot `r` — so
//! the lookup is `e = Σ_{r active} W[r]`, one row for a full table, `ℓ` for a compressed one.
//!
//! [`PackedLayout`] concatenates the segments of all tables in table order (multi-embedding
//! packing): table `t` starts at [`PackedLayout::offset`]`(t)`, and the vector spans
//! ⌈Σ rows / slots⌉ input ciphertexts.
//!
//! # Example: HE-LRM's Criteo layout
//! ```
//! use helrm_workloads::data::CRITEO_KAGGLE_CARDINALITIES;
//! use helrm_workloads::embed::{CompressionPolicy, PackedLayout};
//! let policy = CompressionPolicy::new(4, 20_000)?;
//! let layout = PackedLayout::from_policy(&CRITEO_KAGGLE_CARDINALITIES, Some(&policy))?;
//! assert_eq!(layout.total_rows(), 47_746);
//! assert_eq!(layout.input_ciphertexts(32_768)?, 2);
//! # Ok::<(), helrm_workloads::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use super::digits::{decompose_into, num_digits};
use crate::error::{Error, Result};

/// How one embedding table is laid out: full, or compressed by base-`b` digit decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TableLayout {
    /// One row per index; the client sends a one-hot of length `rows`.
    Full {
        /// The table's cardinality `k`.
        rows: u64,
    },
    /// `digits` sub-tables of `base` rows; the client sends one one-hot of length `base` per digit.
    Compressed {
        /// The table's cardinality `k` (indices are `< rows`).
        rows: u64,
        /// The digit base `b ≥ 2`.
        base: u64,
        /// `ℓ`: the smallest integer ≥ 1 with `base^ℓ ≥ rows`.
        digits: u32,
    },
}

impl TableLayout {
    /// A full table of `rows` rows.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`name: "cardinality"`) when `rows == 0`.
    pub fn full(rows: u64) -> Result<Self> {
        check_rows(rows)?;
        Ok(Self::Full { rows })
    }

    /// A table of `rows` rows compressed in base `base` (`ℓ` from [`num_digits`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `rows == 0` or `base < 2`.
    pub fn compressed(rows: u64, base: u64) -> Result<Self> {
        let digits = num_digits(rows, base)?;
        Ok(Self::Compressed { rows, base, digits })
    }

    /// Checks the invariants of a layout built by hand or deserialised: `rows ≥ 1`, and for a
    /// compressed layout `base ≥ 2` and `digits` equal to [`num_digits`]`(rows, base)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the offending value (`"cardinality"`, `"base"`,
    /// `"digits"`).
    pub fn check(&self) -> Result<()> {
        match *self {
            Self::Full { rows } => check_rows(rows),
            Self::Compressed { rows, base, digits } => {
                let want = num_digits(rows, base)?;
                if digits != want {
                    return Err(Error::InvalidParameter {
                        name: "digits",
                        value: f64::from(digits),
                        expected: "the smallest l >= 1 with base^l >= rows",
                    });
                }
                Ok(())
            }
        }
    }

    /// The table's cardinality `k` (every index is `< k`).
    pub fn cardinality(&self) -> u64 {
        match *self {
            Self::Full { rows } | Self::Compressed { rows, .. } => rows,
        }
    }

    /// True for a compressed layout.
    pub fn is_compressed(&self) -> bool {
        matches!(self, Self::Compressed { .. })
    }

    /// The digit base of a compressed layout, `None` for a full one.
    pub fn base(&self) -> Option<u64> {
        match *self {
            Self::Full { .. } => None,
            Self::Compressed { base, .. } => Some(base),
        }
    }

    /// Number of rows summed per lookup: `ℓ` for a compressed layout, 1 for a full one.
    pub fn rows_per_lookup(&self) -> u32 {
        match *self {
            Self::Full { .. } => 1,
            Self::Compressed { digits, .. } => digits,
        }
    }

    /// Length of the table's one-hot segment = number of expanded table rows
    /// (`k` full, `b·ℓ` compressed).
    pub fn segment_len(&self) -> u64 {
        match *self {
            Self::Full { rows } => rows,
            Self::Compressed { base, digits, .. } => base * u64::from(digits),
        }
    }

    /// Number of trainable parameters at embedding dimension `dim` (`segment_len · dim`).
    pub fn parameters(&self, dim: usize) -> u64 {
        self.segment_len().saturating_mul(dim as u64)
    }

    /// The segment positions (expanded rows) that index `index` selects, ascending:
    /// `[index]` for a full table, `[j·b + digit_j for j < ℓ]` for a compressed one.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`name: "index"`) when `index ≥` [`TableLayout::cardinality`].
    pub fn active_rows(&self, index: u64) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        self.active_rows_into(index, &mut out)?;
        Ok(out)
    }

    /// As [`TableLayout::active_rows`], writing into `out` (cleared first).
    ///
    /// # Errors
    /// As [`TableLayout::active_rows`].
    pub fn active_rows_into(&self, index: u64, out: &mut Vec<u64>) -> Result<()> {
        if index >= self.cardinality() {
            return Err(Error::InvalidParameter {
                name: "index",
                value: index as f64,
                expected: "an index below the table's cardinality",
            });
        }
        match *self {
            Self::Full { .. } => {
                out.clear();
                out.push(index);
            }
            Self::Compressed { base, digits, .. } => {
                decompose_into(index, base, digits, out)?;
                for (j, d) in (0u64..).zip(out.iter_mut()) {
                    *d += j * base;
                }
            }
        }
        Ok(())
    }

    /// The table's one-hot segment for `index` (length [`TableLayout::segment_len`]): 1.0 at
    /// each active row, 0.0 elsewhere.
    ///
    /// # Errors
    /// As [`TableLayout::active_rows`].
    pub fn one_hot(&self, index: u64) -> Result<Vec<f64>> {
        let len = usize::try_from(self.segment_len()).map_err(|_| Error::InvalidParameter {
            name: "segment_len",
            value: self.segment_len() as f64,
            expected: "a segment that fits in memory",
        })?;
        let mut v = vec![0.0; len];
        for r in self.active_rows(index)? {
            // r < segment_len = len.
            v[r as usize] = 1.0;
        }
        Ok(v)
    }
}

/// Which tables to compress: those with more than `threshold` rows, in base `base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressionPolicy {
    /// Digit base `b ≥ 2`.
    pub base: u64,
    /// Tables with cardinality `k > threshold` are compressed; the others stay full.
    pub threshold: u64,
}

impl CompressionPolicy {
    /// HE-LRM's Criteo policy: base 4, compress tables above 20,000 rows.
    pub const HE_LRM: Self = Self {
        base: 4,
        threshold: 20_000,
    };

    /// A checked policy.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`name: "base"`) when `base < 2`.
    pub fn new(base: u64, threshold: u64) -> Result<Self> {
        let p = Self { base, threshold };
        p.check()?;
        Ok(p)
    }

    /// Compress every table (threshold 0) in base `base`.
    ///
    /// # Errors
    /// As [`CompressionPolicy::new`].
    pub fn all(base: u64) -> Result<Self> {
        Self::new(base, 0)
    }

    /// Checks `base ≥ 2`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`name: "base"`).
    pub fn check(&self) -> Result<()> {
        if self.base < 2 {
            return Err(Error::InvalidParameter {
                name: "base",
                value: self.base as f64,
                expected: "a digit base of at least 2",
            });
        }
        Ok(())
    }

    /// The layout of a table of `rows` rows under this policy.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `rows == 0` or the base is invalid.
    pub fn layout_for(&self, rows: u64) -> Result<TableLayout> {
        self.check()?;
        if rows > self.threshold {
            TableLayout::compressed(rows, self.base)
        } else {
            TableLayout::full(rows)
        }
    }
}

/// All tables' one-hot segments concatenated in table order (multi-embedding packing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackedLayout {
    tables: Vec<TableLayout>,
    offsets: Vec<u64>,
    total_rows: u64,
}

impl PackedLayout {
    /// Packs `tables` in order.
    ///
    /// # Errors
    /// [`TableLayout::check`]'s errors for any table; [`Error::InvalidParameter`]
    /// (`name: "total_rows"`) if Σ rows overflows `u64`.
    pub fn new(tables: Vec<TableLayout>) -> Result<Self> {
        let mut offsets = Vec::with_capacity(tables.len());
        let mut total = 0u64;
        for t in &tables {
            t.check()?;
            offsets.push(total);
            total = total
                .checked_add(t.segment_len())
                .ok_or(Error::InvalidParameter {
                    name: "total_rows",
                    value: u64::MAX as f64,
                    expected: "a total row count that fits in 64 bits",
                })?;
        }
        Ok(Self {
            tables,
            offsets,
            total_rows: total,
        })
    }

    /// One table per cardinality, compressed as `policy` says (`None`: all full).
    ///
    /// # Errors
    /// As [`PackedLayout::new`] and [`CompressionPolicy::layout_for`].
    pub fn from_policy(cardinalities: &[u64], policy: Option<&CompressionPolicy>) -> Result<Self> {
        let tables = cardinalities
            .iter()
            .map(|&k| match policy {
                Some(p) => p.layout_for(k),
                None => TableLayout::full(k),
            })
            .collect::<Result<Vec<_>>>()?;
        Self::new(tables)
    }

    /// The tables, in order.
    pub fn tables(&self) -> &[TableLayout] {
        &self.tables
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// True when there are no tables.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Offset of each table's segment in the concatenated client vector.
    pub fn offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// Offset of table `t`'s segment, or `None` past the end.
    pub fn offset(&self, t: usize) -> Option<u64> {
        self.offsets.get(t).copied()
    }

    /// Σ segment lengths: the length of the client's concatenated one-hot vector.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// Number of compressed tables.
    pub fn compressed_tables(&self) -> usize {
        self.tables.iter().filter(|t| t.is_compressed()).count()
    }

    /// Trainable embedding parameters at dimension `dim` (Σ rows · dim).
    pub fn parameters(&self, dim: usize) -> u64 {
        self.total_rows.saturating_mul(dim as u64)
    }

    /// Input ciphertexts the client vector needs at `slots` slots each: ⌈Σ rows / slots⌉.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`name: "slots"`) when `slots == 0`.
    pub fn input_ciphertexts(&self, slots: u64) -> Result<u64> {
        if slots == 0 {
            return Err(Error::InvalidParameter {
                name: "slots",
                value: 0.0,
                expected: "at least one slot per ciphertext",
            });
        }
        Ok(self.total_rows.div_ceil(slots))
    }

    /// Global positions (in the concatenated vector) of the 1s for one row's indices, one index
    /// per table, ascending.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (`what: "sparse indices"`) when `indices.len()` is not the table
    /// count; [`Error::IndexOutOfRange`] (`row: 0`) for an index not below its table's
    /// cardinality.
    pub fn active_positions(&self, indices: &[u32]) -> Result<Vec<u64>> {
        if indices.len() != self.tables.len() {
            return Err(Error::ShapeMismatch {
                what: "sparse indices",
                expected: self.tables.len(),
                found: indices.len(),
            });
        }
        let mut out = Vec::new();
        let mut rows = Vec::new();
        for (feature, ((t, &off), &i)) in self
            .tables
            .iter()
            .zip(&self.offsets)
            .zip(indices)
            .enumerate()
        {
            t.active_rows_into(u64::from(i), &mut rows)
                .map_err(|_| Error::IndexOutOfRange {
                    row: 0,
                    feature,
                    index: i,
                    cardinality: t.cardinality(),
                })?;
            out.extend(rows.iter().map(|r| off + r));
        }
        Ok(out)
    }

    /// Block `block` (`slots` values) of the concatenated one-hot vector for one row's indices:
    /// position `p` goes to block `p / slots`, slot `p mod slots`; unused slots are 0.
    ///
    /// # Errors
    /// As [`PackedLayout::active_positions`]; [`Error::InvalidParameter`] for `slots == 0`
    /// (`name: "slots"`) or a block past the last input ciphertext (`name: "block"`).
    pub fn one_hot_block(&self, indices: &[u32], block: u64, slots: usize) -> Result<Vec<f64>> {
        let blocks = self.input_ciphertexts(slots as u64)?;
        if block >= blocks {
            return Err(Error::InvalidParameter {
                name: "block",
                value: block as f64,
                expected: "a block below the number of input ciphertexts",
            });
        }
        let mut v = vec![0.0; slots];
        let s = slots as u64;
        for p in self.active_positions(indices)? {
            if p / s == block {
                // p mod s < slots.
                v[(p % s) as usize] = 1.0;
            }
        }
        Ok(v)
    }
}

fn check_rows(rows: u64) -> Result<()> {
    if rows == 0 {
        return Err(Error::InvalidParameter {
            name: "cardinality",
            value: 0.0,
            expected: "a table size of at least 1",
        });
    }
    Ok(())
}

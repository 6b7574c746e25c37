//! The embedding tables every lookup method reads, and the plaintext lookup they are checked
//! against.
//!
//! Table `t` has `k_t` rows and dimension `d`. It is defined by `ℓ_t` coded sub-tables of
//! `p` rows (`ℓ_t` the smallest integer ≥ 1 with `p^ℓ_t ≥ k_t`): sub-table row `(j, r)` is
//! *expanded row* `j·p + r`. The embedding of index `i` is
//! `e_t(i) = Σ_j T_{t,j}[digit_j(i)]` (base-`p` digits, least significant first), so
//! - the digit methods multiply the sub-tables by the client's digit one-hots,
//! - the one-hot method multiplies the *full* table whose row `i` is `e_t(i)`,
//! - CodedHELUT selects the same sub-table rows with an encrypted indicator,
//!
//! and every method computes the same function. Weights are pseudo-random in `[−½, ½)`,
//! derived from `(seed, t, row, column)` on demand, so a table of millions of rows costs no
//! memory until a product asks for its rows.

use crate::embed::{decompose, num_digits, TableLayout};
use crate::error::{Error, Result};

/// The SplitMix64 finaliser: a bijective 64-bit mix.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform value in `[0, 1)` from a 64-bit hash (53 bits).
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Embedding tables defined by coded sub-tables (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupTables {
    base: u64,
    dim: usize,
    cardinalities: Vec<u64>,
    digits: Vec<u32>,
    seed: u64,
}

impl LookupTables {
    /// Tables of the given cardinalities, sub-tables of `base` rows, dimension `dim`, weights
    /// drawn from `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no tables (`"tables"`), `dim == 0` (`"dim"`), a zero
    /// cardinality or `base < 2`.
    pub fn new(cardinalities: &[u64], base: u64, dim: usize, seed: u64) -> Result<Self> {
        if cardinalities.is_empty() {
            return Err(Error::InvalidParameter {
                name: "tables",
                value: 0.0,
                expected: "at least one table",
            });
        }
        if dim == 0 {
            return Err(Error::InvalidParameter {
                name: "dim",
                value: 0.0,
                expected: "an embedding dimension of at least 1",
            });
        }
        let digits = cardinalities
            .iter()
            .map(|&k| num_digits(k, base))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            base,
            dim,
            cardinalities: cardinalities.to_vec(),
            digits,
            seed,
        })
    }

    /// `tables` tables of `p^l` rows each (the bench's shape: `(p, ℓ, d)`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `p^l` overflows (`"table_rows"`), `l == 0` (`"l"`),
    /// and as [`LookupTables::new`].
    pub fn synthetic(p: u64, l: u32, dim: usize, tables: usize, seed: u64) -> Result<Self> {
        if l == 0 {
            return Err(Error::InvalidParameter {
                name: "l",
                value: 0.0,
                expected: "at least one digit",
            });
        }
        let rows = p.checked_pow(l).ok_or(Error::InvalidParameter {
            name: "table_rows",
            value: (p as f64).powi(l as i32),
            expected: "p^l below 2^64",
        })?;
        Self::new(&vec![rows; tables], p, dim, seed)
    }

    /// The sub-table size `p` (the digit base).
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The embedding dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.cardinalities.len()
    }

    /// Always false (construction requires a table).
    pub fn is_empty(&self) -> bool {
        self.cardinalities.is_empty()
    }

    /// The tables' cardinalities.
    pub fn cardinalities(&self) -> &[u64] {
        &self.cardinalities
    }

    /// `ℓ_t` of each table.
    pub fn digits(&self) -> &[u32] {
        &self.digits
    }

    /// Weight `c` of sub-table row `row` (`= j·p + r`) of table `t`.
    pub fn sub_weight(&self, t: usize, row: u64, c: usize) -> f64 {
        let h = mix(self.seed ^ mix((t as u64) << 40 ^ mix(row ^ mix(c as u64))));
        unit(h) - 0.5
    }

    /// The plaintext lookup `e_t(index)`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for a table past the end or an index not below `k_t`.
    pub fn lookup(&self, t: usize, index: u64) -> Result<Vec<f64>> {
        let (k, l) = match (self.cardinalities.get(t), self.digits.get(t)) {
            (Some(&k), Some(&l)) if index < k => (k, l),
            _ => {
                return Err(Error::IndexOutOfRange {
                    row: 0,
                    feature: t,
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    cardinality: self.cardinalities.get(t).copied().unwrap_or(0),
                })
            }
        };
        let _ = k;
        let digits = decompose(index, self.base, l)?;
        let mut e = vec![0.0; self.dim];
        for (j, &dj) in (0u64..).zip(&digits) {
            for (c, v) in e.iter_mut().enumerate() {
                *v += self.sub_weight(t, j * self.base + dj, c);
            }
        }
        Ok(e)
    }

    /// Expanded row `r` of table `t` under `layout`: sub-table row `r` when compressed in
    /// this base, the full row `e_t(r)` when full.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"base"`) for a compressed layout in another base;
    /// as [`LookupTables::lookup`].
    pub fn expanded_row(&self, t: usize, layout: &TableLayout, r: u64) -> Result<Vec<f64>> {
        match layout {
            TableLayout::Full { .. } => self.lookup(t, r),
            TableLayout::Compressed { base, .. } => {
                if *base != self.base {
                    return Err(Error::InvalidParameter {
                        name: "base",
                        value: *base as f64,
                        expected: "the tables' sub-table size",
                    });
                }
                Ok((0..self.dim).map(|c| self.sub_weight(t, r, c)).collect())
            }
        }
    }

    /// Pseudo-random indices, one per table, from `seed`.
    pub fn random_indices(&self, seed: u64) -> Vec<u64> {
        self.cardinalities
            .iter()
            .enumerate()
            .map(|(t, &k)| mix(seed ^ mix(t as u64 + 1)) % k)
            .collect()
    }

    /// Checks that there is one index per table, each below its cardinality.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (`"lookup indices"`), [`Error::IndexOutOfRange`].
    pub fn check_indices(&self, indices: &[u64]) -> Result<()> {
        if indices.len() != self.len() {
            return Err(Error::ShapeMismatch {
                what: "lookup indices",
                expected: self.len(),
                found: indices.len(),
            });
        }
        for (t, (&i, &k)) in indices.iter().zip(&self.cardinalities).enumerate() {
            if i >= k {
                return Err(Error::IndexOutOfRange {
                    row: 0,
                    feature: t,
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                    cardinality: k,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_rows_equal_the_sum_of_sub_table_rows() {
        let t = LookupTables::synthetic(4, 3, 5, 2, 7).unwrap();
        let full = TableLayout::full(64).unwrap();
        let comp = TableLayout::compressed(64, 4).unwrap();
        let i = 45; // digits 1, 3, 2
        let mut want = vec![0.0; 5];
        for r in comp.active_rows(i).unwrap() {
            for (w, v) in want.iter_mut().zip(t.expanded_row(1, &comp, r).unwrap()) {
                *w += v;
            }
        }
        assert_eq!(t.expanded_row(1, &full, i).unwrap(), want);
        assert!(t.lookup(1, 64).is_err());
        assert!(t
            .expanded_row(0, &TableLayout::compressed(64, 8).unwrap(), 0)
            .is_err());
    }
}

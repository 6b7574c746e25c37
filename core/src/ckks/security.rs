//! The 128-bit security check: the largest `log2(Q·P)` each ring degree tolerates for a given
//! secret distribution, and the verdict a parameter set gets.
//!
//! The bound applies to the **whole** modulus `Q·P` (ciphertext primes *and* special primes),
//! because key-switching keys are RLWE samples modulo `Q·P`. A set is checked on the sum of the
//! bit lengths of its primes, which is an upper bound on `log2(Q·P)` (each prime is below
//! `2^bits`), so the check is never optimistic.
//!
//! Every row assumes an error of standard deviation ≈ 3.2 (the HE standard's `8/√(2π) ≈ 3.19`);
//! a smaller `σ` is not covered by any row and is refused as [`Error::UnknownSecurity`].
//!
//! # The table
//!
//! | N | uniform ternary | sparse ternary, h = 192 |
//! |---|---|---|
//! | 2^10 | 27 | — |
//! | 2^11 | 54 | — |
//! | 2^12 | 109 | — |
//! | 2^13 | 218 | — |
//! | 2^14 | 438 | — |
//! | 2^15 | 881 | 768 |
//! | 2^16 | 1747 | 1533 |
//! | 2^17 | 3523 | — |
//!
//! Sources, row by row:
//! - uniform ternary, 2^10 … 2^15: Homomorphic Encryption Standard v1.1 (Albrecht et al., 2018),
//!   Table 1, 128-bit classical, `(−1, 0, 1)` secret — the same numbers as SEAL's
//!   `hestdparms.h` and OpenFHE's `StdLatticeParm` table.
//! - uniform ternary, 2^16 and 2^17: OpenFHE's current `StdLatticeParm` table
//!   (`HEStd_ternary`, `HEStd_128_classic`: 1747 and 3523), taken from Table 5.2 of Bossuat et
//!   al., "Security guidelines for implementing homomorphic encryption", IACR eprint 2024/463
//!   (openfhe-development pull request 807). OpenFHE's earlier 2^16 row (pull request 439,
//!   2023) was 1772; we take the newer, 25 bits tighter, estimate. No value for 2^17 that is not
//!   an extrapolation (such as 2·1772 = 3544) is used.
//! - sparse ternary h = 192, 2^16: 1533, the bound HE-LRM's evaluation setup cites from Lattigo
//!   and SimFHE; the largest `h = 192` set Lattigo ships at 2^16, `N16QP1553H192H32` (Set III
//!   of Bossuat, Troncoso-Pastoriza and Hubaux, ACNS 2022, eprint 2022/024), has log QP = 1553,
//!   so 1533 keeps a 20-bit margin below it.
//! - sparse ternary h = 192, 2^15: 768, Lattigo's `N15QP768H192H32` (Set V of eprint 2022/024).
//!
//! A sparse secret of Hamming weight `h ≥ 192` is checked against the `h = 192` row: a denser
//! secret is never easier to attack than a sparser one of the same length, so this is
//! conservative. Any other combination — `h < 192`, or a ring degree with no sourced row —
//! is refused as [`Error::UnknownSecurity`] unless the caller opts out with
//! [`Security::InsecureTestOnly`].
//!
//! # Example
//! ```
//! use helrm_core::ckks::security::{max_log_qp, check, SecretDistribution};
//! use helrm_core::Error;
//! let sparse = SecretDistribution::SparseTernary { hamming_weight: 192 };
//! assert_eq!(max_log_qp(16, &sparse)?.max_log_qp, 1533);
//! // HE-LRM's set: 55 + 10·40 + 3·61 = 638 bits.
//! assert!(check(16, 638, &sparse, 3.2).is_ok());
//! // A toy ring of degree 2^12 with the same chain is refused, naming the bound.
//! match check(12, 638, &SecretDistribution::Ternary, 3.2) {
//!     Err(Error::Insecure { log_n: 12, log_qp: 638, max_log_qp: 109, .. }) => {}
//!     other => panic!("expected Insecure, got {other:?}"),
//! }
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # References
//! - M. Albrecht et al., "Homomorphic Encryption Security Standard", HomomorphicEncryption.org,
//!   v1.1, 2018.
//! - J.-P. Bossuat et al., "Security guidelines for implementing homomorphic encryption",
//!   IACR eprint 2024/463.
//! - J.-P. Bossuat, J. Troncoso-Pastoriza, J.-P. Hubaux, "Bootstrapping for approximate
//!   homomorphic encryption with negligible failure-probability by using sparse-secret
//!   encapsulation", ACNS 2022, IACR eprint 2022/024.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The smallest error standard deviation the table rows assume (`8/√(2π)`, rounded down).
pub const MIN_ERROR_STD: f64 = 3.19;

/// The Hamming weight of the sparse-secret rows.
pub const SPARSE_ROW_HAMMING_WEIGHT: usize = 192;

/// How the secret key's coefficients are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretDistribution {
    /// Each coefficient uniform in `{−1, 0, 1}` (the HE standard's ternary secret).
    Ternary,
    /// Exactly `hamming_weight` coefficients in `{−1, 1}` (uniform signs), the rest zero.
    SparseTernary {
        /// Number of non-zero coefficients.
        hamming_weight: usize,
    },
}

impl fmt::Display for SecretDistribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretDistribution::Ternary => f.write_str("uniform ternary"),
            SecretDistribution::SparseTernary { hamming_weight } => {
                write!(f, "sparse ternary (h = {hamming_weight})")
            }
        }
    }
}

/// The security a parameter set asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// 128-bit classical security; sets above the bound are refused.
    #[default]
    Bits128,
    /// The explicit opt-out for toy sets in tests: the bound is still computed and reported,
    /// but an insecure (or unknown) set is accepted.
    InsecureTestOnly,
}

/// The secret distribution a table row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowSecret {
    /// Uniform ternary secrets.
    Ternary,
    /// Sparse ternary secrets of Hamming weight [`SPARSE_ROW_HAMMING_WEIGHT`] or more.
    SparseTernaryH192,
}

/// One row of the 128-bit table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bound {
    /// log2 of the ring degree.
    pub log_n: u32,
    /// The secret distribution the row covers.
    pub secret: RowSecret,
    /// The largest `log2(Q·P)`, in bits, that keeps 128-bit classical security.
    pub max_log_qp: u32,
    /// Where the number comes from.
    pub source: &'static str,
}

const HE_STD: &str = "HE Standard v1.1 (2018), Table 1, 128-bit classical, ternary secret";
const OPENFHE_2024: &str =
    "OpenFHE StdLatticeParm HEStd_ternary/128_classic, from IACR eprint 2024/463 Table 5.2";
const SPARSE_16: &str =
    "HE-LRM setup (Lattigo/SimFHE); below Lattigo N16QP1553H192H32, IACR eprint 2022/024";
const SPARSE_15: &str = "Lattigo N15QP768H192H32, IACR eprint 2022/024 Set V";

/// The whole table, one row per supported ring degree and secret distribution.
pub const TABLE: &[Bound] = &[
    Bound {
        log_n: 10,
        secret: RowSecret::Ternary,
        max_log_qp: 27,
        source: HE_STD,
    },
    Bound {
        log_n: 11,
        secret: RowSecret::Ternary,
        max_log_qp: 54,
        source: HE_STD,
    },
    Bound {
        log_n: 12,
        secret: RowSecret::Ternary,
        max_log_qp: 109,
        source: HE_STD,
    },
    Bound {
        log_n: 13,
        secret: RowSecret::Ternary,
        max_log_qp: 218,
        source: HE_STD,
    },
    Bound {
        log_n: 14,
        secret: RowSecret::Ternary,
        max_log_qp: 438,
        source: HE_STD,
    },
    Bound {
        log_n: 15,
        secret: RowSecret::Ternary,
        max_log_qp: 881,
        source: HE_STD,
    },
    Bound {
        log_n: 16,
        secret: RowSecret::Ternary,
        max_log_qp: 1747,
        source: OPENFHE_2024,
    },
    Bound {
        log_n: 17,
        secret: RowSecret::Ternary,
        max_log_qp: 3523,
        source: OPENFHE_2024,
    },
    Bound {
        log_n: 15,
        secret: RowSecret::SparseTernaryH192,
        max_log_qp: 768,
        source: SPARSE_15,
    },
    Bound {
        log_n: 16,
        secret: RowSecret::SparseTernaryH192,
        max_log_qp: 1533,
        source: SPARSE_16,
    },
];

/// The table row for `N = 2^log_n` and `secret`.
///
/// # Errors
/// [`Error::UnknownSecurity`] when no sourced row covers the combination (a ring degree outside
/// the table, or a sparse secret with `h < 192`, or with `h = 192` at a degree without a row).
pub fn max_log_qp(log_n: u32, secret: &SecretDistribution) -> Result<Bound> {
    let row = match secret {
        SecretDistribution::Ternary => RowSecret::Ternary,
        SecretDistribution::SparseTernary { hamming_weight } => {
            if *hamming_weight < SPARSE_ROW_HAMMING_WEIGHT {
                return Err(Error::UnknownSecurity {
                    log_n,
                    secret: secret.to_string(),
                    reason: "no sourced bound for Hamming weights below 192",
                });
            }
            RowSecret::SparseTernaryH192
        }
    };
    TABLE
        .iter()
        .find(|b| b.log_n == log_n && b.secret == row)
        .copied()
        .ok_or_else(|| Error::UnknownSecurity {
            log_n,
            secret: secret.to_string(),
            reason: "no sourced 128-bit bound for this ring degree and secret distribution",
        })
}

/// Checks `log_qp` (the bit size of `Q·P`) against the 128-bit bound and returns the row used.
///
/// # Errors
/// [`Error::Insecure`] when `log_qp` exceeds the bound; [`Error::UnknownSecurity`] when no row
/// applies or `error_std` is below [`MIN_ERROR_STD`] (or not finite).
pub fn check(
    log_n: u32,
    log_qp: u32,
    secret: &SecretDistribution,
    error_std: f64,
) -> Result<Bound> {
    if error_std.is_nan() || error_std.is_infinite() || error_std < MIN_ERROR_STD {
        return Err(Error::UnknownSecurity {
            log_n,
            secret: secret.to_string(),
            reason: "the tables assume an error standard deviation of at least 3.19",
        });
    }
    let bound = max_log_qp(log_n, secret)?;
    if log_qp > bound.max_log_qp {
        return Err(Error::Insecure {
            log_n,
            log_qp,
            secret: secret.to_string(),
            max_log_qp: bound.max_log_qp,
        });
    }
    Ok(bound)
}

/// What the security check concluded for a parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What the set asked for.
    pub requested: Security,
    /// `log2(Q·P)` as checked (sum of the prime bit lengths).
    pub log_qp: u32,
    /// The row used, when one applies (with the insecure opt-out there may be none).
    pub bound: Option<Bound>,
}

impl Verdict {
    /// True when a sourced row applies and `log_qp` is within it (whatever was requested).
    pub fn is_secure(&self) -> bool {
        self.bound.is_some_and(|b| self.log_qp <= b.max_log_qp)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.bound, self.is_secure()) {
            (Some(b), true) => write!(f, "128-bit (log QP {} ≤ {})", self.log_qp, b.max_log_qp),
            (Some(b), false) => write!(
                f,
                "INSECURE, test only (log QP {} > {})",
                self.log_qp, b.max_log_qp
            ),
            (None, _) => write!(f, "UNKNOWN, test only (no sourced bound)"),
        }
    }
}

/// Runs the check for a set asking for `requested` security.
///
/// With [`Security::Bits128`] this is [`check`]; with [`Security::InsecureTestOnly`] the bound is
/// looked up and reported but never enforced.
///
/// # Errors
/// As [`check`], only for [`Security::Bits128`].
pub fn assess(
    log_n: u32,
    log_qp: u32,
    secret: &SecretDistribution,
    error_std: f64,
    requested: Security,
) -> Result<Verdict> {
    let bound = match requested {
        Security::Bits128 => Some(check(log_n, log_qp, secret, error_std)?),
        Security::InsecureTestOnly => max_log_qp(log_n, secret).ok(),
    };
    Ok(Verdict {
        requested,
        log_qp,
        bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPARSE: SecretDistribution = SecretDistribution::SparseTernary {
        hamming_weight: 192,
    };

    fn secret_of(row: RowSecret) -> SecretDistribution {
        match row {
            RowSecret::Ternary => SecretDistribution::Ternary,
            RowSecret::SparseTernaryH192 => SPARSE,
        }
    }

    #[test]
    fn every_row_accepts_at_the_bound_and_refuses_one_bit_above() {
        for row in TABLE {
            let secret = secret_of(row.secret);
            let at = check(row.log_n, row.max_log_qp, &secret, 3.2);
            assert_eq!(at, Ok(*row), "row {row:?} at the bound");
            let below = check(row.log_n, row.max_log_qp - 1, &secret, 3.2);
            assert_eq!(below, Ok(*row), "row {row:?} just below");
            match check(row.log_n, row.max_log_qp + 1, &secret, 3.2) {
                Err(Error::Insecure {
                    log_n,
                    log_qp,
                    secret: s,
                    max_log_qp,
                }) => {
                    assert_eq!(log_n, row.log_n);
                    assert_eq!(log_qp, row.max_log_qp + 1);
                    assert_eq!(max_log_qp, row.max_log_qp);
                    assert_eq!(s, secret.to_string());
                }
                other => panic!("row {row:?} just above: expected Insecure, got {other:?}"),
            }
        }
    }

    #[test]
    fn table_values_are_pinned() {
        let dense: Vec<(u32, u32)> = TABLE
            .iter()
            .filter(|b| b.secret == RowSecret::Ternary)
            .map(|b| (b.log_n, b.max_log_qp))
            .collect();
        assert_eq!(
            dense,
            [
                (10, 27),
                (11, 54),
                (12, 109),
                (13, 218),
                (14, 438),
                (15, 881),
                (16, 1747),
                (17, 3523)
            ]
        );
        assert_eq!(max_log_qp(16, &SPARSE).map(|b| b.max_log_qp), Ok(1533));
        assert_eq!(max_log_qp(15, &SPARSE).map(|b| b.max_log_qp), Ok(768));
        // The sparse bound is tighter than the dense one wherever both exist.
        for row in TABLE
            .iter()
            .filter(|b| b.secret == RowSecret::SparseTernaryH192)
        {
            let dense = max_log_qp(row.log_n, &SecretDistribution::Ternary).map(|b| b.max_log_qp);
            assert!(dense.is_ok_and(|d| d > row.max_log_qp), "{row:?}");
        }
    }

    #[test]
    fn one_row_per_degree_and_secret() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert!(!(a.log_n == b.log_n && a.secret == b.secret), "{a:?} twice");
            }
        }
    }

    #[test]
    fn unsourced_combinations_are_unknown() {
        for (log_n, secret) in [
            (9, SecretDistribution::Ternary),
            (18, SecretDistribution::Ternary),
            (14, SPARSE),
            (17, SPARSE),
            (16, SecretDistribution::SparseTernary { hamming_weight: 64 }),
        ] {
            match check(log_n, 10, &secret, 3.2) {
                Err(Error::UnknownSecurity {
                    log_n: l,
                    secret: s,
                    ..
                }) => {
                    assert_eq!(l, log_n);
                    assert_eq!(s, secret.to_string());
                }
                other => panic!("({log_n}, {secret}): expected UnknownSecurity, got {other:?}"),
            }
        }
    }

    #[test]
    fn denser_sparse_secrets_use_the_h192_row() {
        let h256 = SecretDistribution::SparseTernary {
            hamming_weight: 256,
        };
        assert_eq!(max_log_qp(16, &h256).map(|b| b.max_log_qp), Ok(1533));
    }

    #[test]
    fn small_or_non_finite_error_std_is_unknown() {
        for std in [3.0, f64::NAN, f64::INFINITY, -3.2] {
            assert!(
                matches!(
                    check(16, 100, &SecretDistribution::Ternary, std),
                    Err(Error::UnknownSecurity { log_n: 16, .. })
                ),
                "σ = {std}"
            );
        }
        assert!(check(16, 100, &SecretDistribution::Ternary, MIN_ERROR_STD).is_ok());
    }

    #[test]
    fn opt_out_reports_but_does_not_enforce() {
        let v = assess(
            12,
            500,
            &SecretDistribution::Ternary,
            3.2,
            Security::InsecureTestOnly,
        );
        let v = v.expect("opt-out accepts");
        assert!(!v.is_secure());
        assert_eq!(v.bound.map(|b| b.max_log_qp), Some(109));
        assert_eq!(v.to_string(), "INSECURE, test only (log QP 500 > 109)");
        let unknown = assess(
            9,
            5,
            &SecretDistribution::Ternary,
            3.2,
            Security::InsecureTestOnly,
        );
        assert_eq!(unknown.map(|v| v.bound), Ok(None));
        let secure = assess(16, 638, &SPARSE, 3.2, Security::Bits128).expect("secure");
        assert!(secure.is_secure());
        assert_eq!(secure.to_string(), "128-bit (log QP 638 ≤ 1533)");
        assert!(matches!(
            assess(
                12,
                500,
                &SecretDistribution::Ternary,
                3.2,
                Security::Bits128
            ),
            Err(Error::Insecure {
                max_log_qp: 109,
                ..
            })
        ));
    }

    #[test]
    fn insecure_message_names_everything() {
        let e = check(16, 1600, &SPARSE, 3.2).expect_err("above the bound");
        let msg = e.to_string();
        for needle in ["2^16", "1600", "1533", "sparse ternary (h = 192)"] {
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        }
    }
}

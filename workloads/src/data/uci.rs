//! UCI Heart Disease (the `processed.*.data` files; Cleveland is the one used).
//!
//! Format: CSV, no header, 14 fields per row:
//! `age, sex, cp, trestbps, chol, fbs, restecg, thalach, exang, oldpeak, slope, ca, thal, num`;
//! numbers written as floats (`63.0`), `?` for a missing value.
//!
//! Mapping to a [`Dataset`]:
//! - dense (5, in this order): [`UCI_DENSE_NAMES`] = age, trestbps, chol, thalach, oldpeak, parsed
//!   as finite numbers; a missing (`?`) continuous value is an error (Cleveland has none);
//! - sparse (8, in this order): [`UCI_CATEGORICAL`] = sex, cp, fbs, restecg, exang, slope, ca,
//!   thal. Each feature's valid codes are listed in [`UciCategorical::codes`]; code
//!   `codes[k]` maps to index `k`. **Missing (`?`) maps to one extra index, `codes.len()`**, on
//!   every categorical feature, so each table has `codes.len() + 1` rows: sex 3, cp 5, fbs 3,
//!   restecg 4, exang 3, slope 4, ca 5, thal 4 (in Cleveland only ca (4 rows) and thal (2 rows)
//!   use it). An extra index keeps "unknown" distinct from every real code instead of imputing;
//! - label: `num > 0` (disease present), `num` must be an integer code 0–4.
//!
//! Dense values are raw here; [`cleveland_split`] gives the documented held-out split with the
//! dense features standardised on the training rows only.

use std::path::Path;

use super::shipped::{self, CLEVELAND};
use super::text::{field_error, lines, row_error};
use super::{Dataset, SparseFeature, Split, SplitSpec, Standardizer};
use crate::error::Result;

/// Names of the 14 CSV columns, in file order.
pub const UCI_COLUMNS: [&str; 14] = [
    "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak",
    "slope", "ca", "thal", "num",
];

/// Names of the dense (continuous) features, in dataset column order.
pub const UCI_DENSE_NAMES: [&str; 5] = ["age", "trestbps", "chol", "thalach", "oldpeak"];

/// CSV column of each dense feature (parallel to [`UCI_DENSE_NAMES`]).
const DENSE_COLUMNS: [usize; 5] = [0, 3, 4, 7, 9];

/// CSV column of the target `num`.
const TARGET_COLUMN: usize = 13;

/// One categorical UCI attribute: its CSV column and its code → index map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UciCategorical {
    /// Attribute name.
    pub name: &'static str,
    /// 0-based CSV column.
    pub column: usize,
    /// The valid codes; code `codes[k]` maps to table index `k`.
    pub codes: &'static [i32],
}

impl UciCategorical {
    /// The index that a missing value (`?`) maps to: one past the last code.
    pub const fn missing_index(&self) -> u32 {
        self.codes.len() as u32
    }

    /// Table size: one row per code plus the missing row.
    pub const fn cardinality(&self) -> u64 {
        self.codes.len() as u64 + 1
    }

    /// The table index of a code, or `None` if the code is not valid for this attribute.
    pub fn index_of(&self, code: i32) -> Option<u32> {
        self.codes
            .iter()
            .position(|&c| c == code)
            .and_then(|k| u32::try_from(k).ok())
    }
}

/// The eight categorical attributes, in dataset sparse-column order, with their code maps
/// (codes as documented in `heart-disease.names`).
pub const UCI_CATEGORICAL: [UciCategorical; 8] = [
    // 0 female, 1 male
    UciCategorical {
        name: "sex",
        column: 1,
        codes: &[0, 1],
    },
    // chest pain: 1 typical angina, 2 atypical angina, 3 non-anginal pain, 4 asymptomatic
    UciCategorical {
        name: "cp",
        column: 2,
        codes: &[1, 2, 3, 4],
    },
    // fasting blood sugar > 120 mg/dl: 0 false, 1 true
    UciCategorical {
        name: "fbs",
        column: 5,
        codes: &[0, 1],
    },
    // resting ECG: 0 normal, 1 ST-T abnormality, 2 left ventricular hypertrophy
    UciCategorical {
        name: "restecg",
        column: 6,
        codes: &[0, 1, 2],
    },
    // exercise-induced angina: 0 no, 1 yes
    UciCategorical {
        name: "exang",
        column: 8,
        codes: &[0, 1],
    },
    // slope of the peak exercise ST segment: 1 up, 2 flat, 3 down
    UciCategorical {
        name: "slope",
        column: 10,
        codes: &[1, 2, 3],
    },
    // number of major vessels coloured by fluoroscopy: 0–3
    UciCategorical {
        name: "ca",
        column: 11,
        codes: &[0, 1, 2, 3],
    },
    // thallium scan: 3 normal, 6 fixed defect, 7 reversible defect
    UciCategorical {
        name: "thal",
        column: 12,
        codes: &[3, 6, 7],
    },
];

/// Name of the dataset [`load_cleveland`] returns.
pub const CLEVELAND_NAME: &str = "uci-heart-cleveland";

/// Seed of the documented Cleveland held-out split.
pub const CLEVELAND_SPLIT_SEED: u64 = 20_240_808;

/// Test fraction of the documented Cleveland held-out split (per class, stratified).
pub const CLEVELAND_TEST_FRACTION: f64 = 0.2;

/// Parses a UCI `processed.*.data` file (see the module docs for the mapping).
///
/// # Errors
/// [`Error::EmptyDataset`](crate::Error::EmptyDataset) for a file without rows;
/// [`Error::Dataset`](crate::Error::Dataset) naming the line and column for a row without
/// exactly 14 fields, a non-numeric or non-finite value, a missing continuous value or target,
/// a code outside its attribute's list, or text that is not UTF-8.
pub fn parse_uci(bytes: &[u8], file: &str, name: &str) -> Result<Dataset> {
    let rows = lines(bytes, file)?;
    let n = rows.len();
    let mut dense = Vec::with_capacity(n * UCI_DENSE_NAMES.len());
    let mut sparse = Vec::with_capacity(n * UCI_CATEGORICAL.len());
    let mut labels = Vec::with_capacity(n);
    for (line, text) in rows {
        let fields: Vec<&str> = text.split(',').collect();
        if fields.len() != UCI_COLUMNS.len() {
            return Err(row_error(
                file,
                line,
                "14 comma-separated fields",
                &format!("{} fields", fields.len()),
            ));
        }
        for &c in &DENSE_COLUMNS {
            let v = number(fields[c], file, line, UCI_COLUMNS[c])?.ok_or_else(|| {
                field_error(file, line, UCI_COLUMNS[c], "a finite number", fields[c])
            })?;
            // Finite f64 of a realistic magnitude; clamp keeps f32 finite for absurd values.
            dense.push(v.clamp(f64::from(f32::MIN), f64::from(f32::MAX)) as f32);
        }
        for cat in &UCI_CATEGORICAL {
            let raw = fields[cat.column];
            let index = match number(raw, file, line, cat.name)? {
                None => cat.missing_index(),
                Some(v) => code(v)
                    .and_then(|c| cat.index_of(c))
                    .ok_or_else(|| field_error(file, line, cat.name, "a listed code or ?", raw))?,
            };
            sparse.push(index);
        }
        let raw = fields[TARGET_COLUMN];
        let num = number(raw, file, line, "num")?
            .and_then(code)
            .filter(|c| (0..=4).contains(c))
            .ok_or_else(|| field_error(file, line, "num", "an integer code 0-4", raw))?;
        labels.push(u8::from(num > 0));
    }
    Dataset::new(
        name,
        UCI_DENSE_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        UCI_CATEGORICAL
            .iter()
            .map(|c| SparseFeature::new(c.name, c.cardinality()))
            .collect(),
        dense,
        sparse,
        labels,
    )
}

/// The Cleveland file (303 rows, from the embedded copy), dense features raw.
///
/// # Errors
/// None in practice (the embedded file is pinned by its SHA-256); the parser's errors otherwise.
pub fn load_cleveland() -> Result<Dataset> {
    let bytes = shipped::CLEVELAND.bytes()?;
    parse_uci(&bytes, CLEVELAND.path, CLEVELAND_NAME)
}

/// A UCI `processed.*.data` file read from `path`; the dataset is named after the file stem.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) when the file cannot be read, and [`parse_uci`]'s errors.
pub fn load_uci_file(path: &Path) -> Result<Dataset> {
    let bytes = shipped::read_file(path)?;
    let file = path.display().to_string();
    let name = path
        .file_stem()
        .map_or_else(|| file.clone(), |s| s.to_string_lossy().into_owned());
    parse_uci(&bytes, &file, &name)
}

/// The documented Cleveland held-out split, standardised.
#[derive(Debug, Clone, PartialEq)]
pub struct UciSplit {
    /// Training rows, dense features standardised with `standardizer`.
    pub train: Dataset,
    /// Held-out rows, standardised with the same (training) statistics.
    pub test: Dataset,
    /// The standardizer fitted on the training rows only; apply it to any new client input.
    pub standardizer: Standardizer,
    /// Row numbers (0-based, file order) of the training rows in the Cleveland file.
    pub train_indices: Vec<usize>,
    /// Row numbers (0-based, file order) of the held-out rows in the Cleveland file.
    pub test_indices: Vec<usize>,
}

/// The fixed Cleveland held-out split: stratified by label, 20 % of each class held out
/// (`round(0.2 × 164) = 33` negatives and `round(0.2 × 139) = 28` positives: 242 train, 61 test),
/// seed [`CLEVELAND_SPLIT_SEED`], then dense features standardised with statistics of the
/// 242 training rows only.
///
/// # Errors
/// None in practice; see [`load_cleveland`].
pub fn cleveland_split() -> Result<UciSplit> {
    let data = load_cleveland()?;
    let Split {
        mut train,
        mut test,
        train_indices,
        test_indices,
    } = data.split(&SplitSpec::stratified(
        CLEVELAND_TEST_FRACTION,
        CLEVELAND_SPLIT_SEED,
    ))?;
    let standardizer = Standardizer::fit(&train)?;
    standardizer.apply(&mut train)?;
    standardizer.apply(&mut test)?;
    Ok(UciSplit {
        train,
        test,
        standardizer,
        train_indices,
        test_indices,
    })
}

/// Parses a numeric field: `Ok(None)` for `?`, `Ok(Some(v))` for a finite number.
fn number(raw: &str, file: &str, line: usize, field: &'static str) -> Result<Option<f64>> {
    if raw == "?" {
        return Ok(None);
    }
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(field_error(file, line, field, "a finite number or ?", raw)),
    }
}

/// The integer code a float-written field holds (`6.0` → 6), or `None` if it is not integral.
fn code(v: f64) -> Option<i32> {
    if v.fract() == 0.0 && v.abs() <= f64::from(i32::MAX) {
        Some(v as i32)
    } else {
        None
    }
}

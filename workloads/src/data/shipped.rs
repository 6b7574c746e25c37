//! The data files shipped in `workloads/data/`, pinned by SHA-256.
//!
//! Where the bytes come from: the three files the loaders use (Cleveland, the Criteo Kaggle
//! 8,000-row train file and the 2,000-row hold-out file, about 2.4 MB together) are compiled
//! into the library with `include_bytes!`, so `helrm` runs from any directory and from an
//! installed binary. The other shipped files (the remaining UCI sites, `heart-disease.names`, the
//! DeepCTR sample) are only located on disk, through the compile-time path
//! `env!("CARGO_MANIFEST_DIR")/data` ([`data_dir`]). [`verify_shipped`] checks both the embedded
//! copies and the files on disk against the digests recorded in `workloads/data/README.md`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One shipped data file: where it is, what it must hash to, and how many rows it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedFile {
    /// Path relative to `workloads/data/`.
    pub path: &'static str,
    /// SHA-256 of the file, lowercase hex, as recorded in `workloads/data/README.md`.
    pub sha256: &'static str,
    /// Number of data rows (`None` for documentation files).
    pub rows: Option<usize>,
}

/// UCI Heart Disease, Cleveland site (303 rows; embedded).
pub const CLEVELAND: ShippedFile = ShippedFile {
    path: "uci_heart/processed.cleveland.data",
    sha256: "a74b7efa387bc9d108d7d0115d831fe9b414b29ae7124f331b622b4efa0427c8",
    rows: Some(303),
};
/// UCI Heart Disease, Hungarian site (294 rows; on disk only).
pub const HUNGARIAN: ShippedFile = ShippedFile {
    path: "uci_heart/processed.hungarian.data",
    sha256: "d1ad108f785768cd3d7e82dc522e6f5a61eea93cccfb3a46ee8076f73fc3d796",
    rows: Some(294),
};
/// UCI Heart Disease, Switzerland site (123 rows; on disk only).
pub const SWITZERLAND: ShippedFile = ShippedFile {
    path: "uci_heart/processed.switzerland.data",
    sha256: "834a405ccf5b66ab4056bb77794adc8df0b7125186454c0a1d002d33c6c3b314",
    rows: Some(123),
};
/// UCI Heart Disease, VA Long Beach site (200 rows; on disk only).
pub const VA: ShippedFile = ShippedFile {
    path: "uci_heart/processed.va.data",
    sha256: "e7c93d8d0d2acdadfa4c5e8de768e2191e7f618b952e29623f1f0d5949ff6b8f",
    rows: Some(200),
};
/// The UCI archive's attribute documentation (on disk only).
pub const HEART_NAMES: ShippedFile = ShippedFile {
    path: "uci_heart/heart-disease.names",
    sha256: "ec7ed5aa4ed8321097808f47b836301c2a0c36f3bb09c40b8b43b622363e6b61",
    rows: None,
};
/// Criteo Kaggle `train.txt`, first 8,000 lines (embedded).
pub const CRITEO_TRAIN: ShippedFile = ShippedFile {
    path: "criteo/criteo_kaggle_train_head8000.txt",
    sha256: "26d49047cbe0ad6ce54197918d71a2dc6688b72b29de7235c9321301116fff6c",
    rows: Some(8000),
};
/// 2,000 further labelled Criteo Kaggle rows, disjoint from the train file (embedded).
pub const CRITEO_HOLDOUT: ShippedFile = ShippedFile {
    path: "criteo/criteo_kaggle_extra2000.txt",
    sha256: "75d8552c435e3225f659d4b726ac084539bfd2a44842d0c251913e496cbedbdd",
    rows: Some(2000),
};
/// The DeepCTR 200-row Criteo sample, CSV with a header (on disk only; not parsed here).
pub const DEEPCTR_SAMPLE: ShippedFile = ShippedFile {
    path: "criteo/deepctr_criteo_sample.txt",
    sha256: "08b84f12a22438fb534e989a5e4fa245726b2bda001983556bc2aea2f094f724",
    rows: Some(200),
};

/// Every shipped data file, in the order of the README table.
pub const SHIPPED_FILES: [ShippedFile; 8] = [
    CLEVELAND,
    HUNGARIAN,
    SWITZERLAND,
    VA,
    HEART_NAMES,
    CRITEO_TRAIN,
    CRITEO_HOLDOUT,
    DEEPCTR_SAMPLE,
];

static CLEVELAND_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/uci_heart/processed.cleveland.data"
));
static CRITEO_TRAIN_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/criteo/criteo_kaggle_train_head8000.txt"
));
static CRITEO_HOLDOUT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/criteo/criteo_kaggle_extra2000.txt"
));

/// The directory the shipped files were in at compile time (`<workloads crate>/data`).
pub fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
}

impl ShippedFile {
    /// Where the file was at compile time.
    pub fn disk_path(&self) -> PathBuf {
        data_dir().join(self.path)
    }

    /// The copy compiled into the library, for the files the loaders use.
    pub fn embedded(&self) -> Option<&'static [u8]> {
        match self.path {
            p if p == CLEVELAND.path => Some(CLEVELAND_BYTES),
            p if p == CRITEO_TRAIN.path => Some(CRITEO_TRAIN_BYTES),
            p if p == CRITEO_HOLDOUT.path => Some(CRITEO_HOLDOUT_BYTES),
            _ => None,
        }
    }

    /// The file's bytes: the embedded copy if there is one, otherwise read from [`Self::disk_path`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file must be read from disk and cannot be.
    pub fn bytes(&self) -> Result<Cow<'static, [u8]>> {
        match self.embedded() {
            Some(b) => Ok(Cow::Borrowed(b)),
            None => read_file(&self.disk_path()).map(Cow::Owned),
        }
    }

    /// Checks the on-disk file, and the embedded copy if any, against [`Self::sha256`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Checksum`] on a digest mismatch
    /// (`file` is the relative path, prefixed `embedded:` for the compiled-in copy).
    pub fn verify(&self) -> Result<()> {
        if let Some(b) = self.embedded() {
            check_digest(&format!("embedded:{}", self.path), self.sha256, b)?;
        }
        let bytes = read_file(&self.disk_path())?;
        check_digest(self.path, self.sha256, &bytes)
    }
}

/// Verifies every shipped file (on disk and embedded) against its recorded SHA-256.
///
/// # Errors
/// The first [`Error::Io`] or [`Error::Checksum`] met, in [`SHIPPED_FILES`] order.
pub fn verify_shipped() -> Result<()> {
    SHIPPED_FILES.iter().try_for_each(ShippedFile::verify)
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        file: path.display().to_string(),
        source,
    })
}

fn check_digest(file: &str, expected: &'static str, bytes: &[u8]) -> Result<()> {
    let found = sha256_hex(bytes);
    if found == expected {
        Ok(())
    } else {
        Err(Error::Checksum {
            file: file.to_owned(),
            expected,
            found,
        })
    }
}

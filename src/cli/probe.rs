//! `helrm infer --probe`: the server's intermediate ciphertexts decrypted by the client that
//! runs in the same process, one record per planned step and bootstrap — level, scale, the
//! largest real and imaginary slot magnitudes, and each bootstrap's error (its output against
//! its input). For finding where precision is lost; a deployed server never runs with one.

use std::sync::Mutex;

use helrm_core::ckks::{Ciphertext, Decryptor};
use serde::Serialize;

/// One probed ciphertext.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRecord {
    /// Held-out row.
    pub sample: usize,
    /// Where in the model (`bottom/layer1/sign0/g`, `bootstrap/out`, …).
    pub label: String,
    /// Level of the ciphertext.
    pub level: usize,
    /// `log2` of its scale.
    pub log2_scale: f64,
    /// Largest |real part| over the slots.
    pub max_abs_re: f64,
    /// Largest |imaginary part| over the slots (the model's values are real: this is noise).
    pub max_abs_im: f64,
    /// For `bootstrap/out`: the largest slot error (complex modulus) against `bootstrap/in`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_error: Option<f64>,
}

/// Collects [`ProbeRecord`]s; the bootstrap input is kept until its output arrives.
#[derive(Debug, Default)]
pub struct ProbeLog {
    sample: usize,
    records: Vec<ProbeRecord>,
    boot_in: Option<Vec<(f64, f64)>>,
}

impl ProbeLog {
    /// Records that follow belong to held-out row `sample`.
    pub fn set_sample(&mut self, sample: usize) {
        self.sample = sample;
    }

    /// Decrypts `ct` and records it under `label`; a ciphertext that cannot be decrypted is
    /// recorded with NaN magnitudes.
    pub fn observe(&mut self, label: &str, ct: &Ciphertext, dec: &Decryptor<'_>) {
        let slots: Vec<(f64, f64)> = dec
            .decrypt(ct)
            .map(|v| v.into_iter().map(|z| (z.re, z.im)).collect())
            .unwrap_or_default();
        let max = |f: fn(&(f64, f64)) -> f64| {
            if slots.is_empty() {
                f64::NAN
            } else {
                slots.iter().map(f).fold(0.0, f64::max)
            }
        };
        let mut bootstrap_error = None;
        match label {
            "bootstrap/in" => self.boot_in = Some(slots.clone()),
            "bootstrap/out" => {
                if let Some(input) = self.boot_in.take() {
                    bootstrap_error = (input.len() == slots.len()).then(|| {
                        input
                            .iter()
                            .zip(&slots)
                            .map(|(a, b)| (a.0 - b.0).hypot(a.1 - b.1))
                            .fold(0.0, f64::max)
                    });
                }
            }
            _ => {}
        }
        self.records.push(ProbeRecord {
            sample: self.sample,
            label: label.to_owned(),
            level: ct.level().get(),
            log2_scale: ct.scale().log2(),
            max_abs_re: max(|z| z.0.abs()),
            max_abs_im: max(|z| z.1.abs()),
            bootstrap_error,
        });
    }

    /// The records so far.
    pub fn into_records(self) -> Vec<ProbeRecord> {
        self.records
    }
}

/// A probe closure feeding `log` through `dec`.
pub fn observer<'a>(
    log: &'a Mutex<ProbeLog>,
    dec: &'a Decryptor<'a>,
) -> impl Fn(&str, &Ciphertext) + Send + Sync + 'a {
    move |label, ct| {
        log.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .observe(label, ct, dec);
    }
}

/// The records as a table for people.
pub fn table(records: &[ProbeRecord]) -> String {
    let mut out = format!(
        "{:>6}  {:<32} {:>5} {:>10} {:>11} {:>11} {:>11}\n",
        "sample", "label", "level", "log2 scale", "max |re|", "max |im|", "boot error"
    );
    for r in records {
        let boot = r
            .bootstrap_error
            .map_or_else(String::new, |e| format!("{e:.3e}"));
        out.push_str(&format!(
            "{:>6}  {:<32} {:>5} {:>10.2} {:>11.3e} {:>11.3e} {:>11}\n",
            r.sample, r.label, r.level, r.log2_scale, r.max_abs_re, r.max_abs_im, boot
        ));
    }
    out
}

//! Range and consistency checks run on every model after parsing.

use crate::error::Error;
use crate::schema::{KernelClass, MachineKind, MachineModel, SUPPORTED_SCHEMA_VERSIONS};

/// Largest accepted per-unit throughput (words or modular multiplications per cycle).
const MAX_UNIT_THROUGHPUT: f64 = 1e7;
/// Largest accepted latency in cycles (units and on-chip memory).
const MAX_LATENCY_CYCLES: u64 = 10_000_000;
/// Largest accepted number of units in a group.
const MAX_UNIT_COUNT: u32 = 1_000_000;
/// Largest accepted on-chip bandwidth in GB/s (10 PB/s): catches bytes/s written as GB/s.
const MAX_ONCHIP_GB_PER_S: f64 = 1e7;
/// Largest accepted off-chip bandwidth in GB/s (1 PB/s).
const MAX_OFFCHIP_GB_PER_S: f64 = 1e6;
/// Largest accepted host-link bandwidth in GB/s.
const MAX_HOST_LINK_GB_PER_S: f64 = 1e5;
/// Largest accepted latency or overhead in ns (10 ms).
const MAX_NS: f64 = 1e7;
/// Longest accepted model name.
const MAX_NAME_LEN: usize = 64;

/// Collects the origin so each check is one line.
struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn fail(&self, field: &str, expected: &str, found: impl ToString) -> Error {
        Error::Config {
            file: self.file.to_string(),
            field: field.to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    /// `lo < v < hi` (or `<= hi` when `hi_inclusive`), and finite.
    fn open_range(
        &self,
        field: &str,
        v: f64,
        lo: f64,
        hi: f64,
        hi_inclusive: bool,
    ) -> Result<(), Error> {
        let ok = v.is_finite() && v > lo && if hi_inclusive { v <= hi } else { v < hi };
        if ok {
            Ok(())
        } else {
            let close = if hi_inclusive { ']' } else { ')' };
            Err(self.fail(field, &format!("a finite number in ({lo}, {hi}{close}"), v))
        }
    }

    /// `0 <= v <= hi`, and finite.
    fn non_negative(&self, field: &str, v: f64, hi: f64) -> Result<(), Error> {
        if v.is_finite() && (0.0..=hi).contains(&v) {
            Ok(())
        } else {
            Err(self.fail(field, &format!("a finite number in [0, {hi}]"), v))
        }
    }

    fn positive_u64(&self, field: &str, v: u64) -> Result<(), Error> {
        if v > 0 {
            Ok(())
        } else {
            Err(self.fail(field, "a positive integer", v))
        }
    }

    fn at_most_u64(&self, field: &str, v: u64, hi: u64) -> Result<(), Error> {
        if v <= hi {
            Ok(())
        } else {
            Err(self.fail(field, &format!("an integer in [0, {hi}]"), v))
        }
    }

    /// Identifiers: 1..=64 ASCII letters, digits, `-`, `_`, `.`.
    fn identifier(&self, field: &str, v: &str) -> Result<(), Error> {
        let ok = !v.is_empty()
            && v.len() <= MAX_NAME_LEN
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(())
        } else {
            Err(self.fail(
                field,
                &format!(
                    "1 to {MAX_NAME_LEN} characters from ASCII letters, digits, '-', '_', '.'"
                ),
                format!("{v:?}"),
            ))
        }
    }
}

impl MachineModel {
    /// Check every value against its documented range and the cross-field rules.
    ///
    /// `file` names the model's origin in the error. Loaders in this crate call this after
    /// parsing; call it again after editing a model in code (e.g. in a sweep).
    ///
    /// # Errors
    /// [`Error::Config`] naming the first offending field by its dotted path, in file order.
    pub fn validate(&self, file: &str) -> Result<(), Error> {
        let c = Checker { file };

        if !SUPPORTED_SCHEMA_VERSIONS.contains(&self.schema_version) {
            return Err(c.fail(
                "schema_version",
                &supported_versions_text(),
                self.schema_version,
            ));
        }
        c.identifier("name", &self.name)?;
        if self.provenance.source.trim().is_empty() {
            return Err(c.fail(
                "provenance.source",
                "a non-empty citation (paper, datasheet or measurement)",
                format!("{:?}", self.provenance.source),
            ));
        }
        c.open_range("clock_ghz", self.clock_ghz, 0.0, 10.0, false)?;
        if !(16..=64).contains(&self.word_bits) {
            return Err(c.fail("word_bits", "an integer in [16, 64]", self.word_bits));
        }

        self.validate_units(&c)?;

        let on = &self.onchip;
        c.positive_u64("onchip.capacity_bytes", on.capacity_bytes)?;
        c.open_range(
            "onchip.bandwidth_gb_per_s",
            on.bandwidth_gb_per_s,
            0.0,
            MAX_ONCHIP_GB_PER_S,
            true,
        )?;
        c.at_most_u64(
            "onchip.latency_cycles",
            on.latency_cycles,
            MAX_LATENCY_CYCLES,
        )?;

        let off = &self.offchip;
        c.positive_u64("offchip.capacity_bytes", off.capacity_bytes)?;
        c.open_range(
            "offchip.bandwidth_gb_per_s",
            off.bandwidth_gb_per_s,
            0.0,
            MAX_OFFCHIP_GB_PER_S,
            true,
        )?;
        c.non_negative("offchip.latency_ns", off.latency_ns, MAX_NS)?;

        if let Some(link) = &self.host_link {
            c.open_range(
                "host_link.bandwidth_gb_per_s",
                link.bandwidth_gb_per_s,
                0.0,
                MAX_HOST_LINK_GB_PER_S,
                true,
            )?;
            c.non_negative("host_link.latency_ns", link.latency_ns, MAX_NS)?;
        }

        match (&self.efficiency, self.kind) {
            (Some(e), _) => {
                for class in KernelClass::ALL {
                    let field = format!("efficiency.{}", class.field_name());
                    c.open_range(&field, e.for_class(class), 0.0, 1.0, true)?;
                }
                c.open_range(
                    "efficiency.offchip_bandwidth",
                    e.offchip_bandwidth,
                    0.0,
                    1.0,
                    true,
                )?;
                c.non_negative(
                    "efficiency.kernel_launch_overhead_ns",
                    e.kernel_launch_overhead_ns,
                    MAX_NS,
                )?;
            }
            (None, MachineKind::Cpu | MachineKind::Gpu) => {
                return Err(c.fail(
                    "efficiency",
                    &format!(
                        "an efficiency block (required for kind `{}`)",
                        self.kind.as_str()
                    ),
                    "absent",
                ));
            }
            (None, MachineKind::Asic) => {}
        }
        Ok(())
    }

    fn validate_units(&self, c: &Checker<'_>) -> Result<(), Error> {
        for class in KernelClass::ALL {
            let g = self.units.get(class);
            let base = format!("units.{}", class.field_name());
            if !(1..=MAX_UNIT_COUNT).contains(&g.count) {
                return Err(c.fail(
                    &format!("{base}.count"),
                    &format!("an integer in [1, {MAX_UNIT_COUNT}]"),
                    g.count,
                ));
            }
            match (
                g.throughput_words_per_cycle,
                g.throughput_mod_mults_per_cycle,
            ) {
                (Some(w), None) => c.open_range(
                    &format!("{base}.throughput_words_per_cycle"),
                    w,
                    0.0,
                    MAX_UNIT_THROUGHPUT,
                    true,
                )?,
                (None, Some(m)) => {
                    let field = format!("{base}.throughput_mod_mults_per_cycle");
                    if !class.multiplies() {
                        return Err(c.fail(
                            &field,
                            &format!(
                                "absent: {} kernels perform no modular multiplications, \
                                 state throughput_words_per_cycle instead",
                                class.field_name()
                            ),
                            m,
                        ));
                    }
                    c.open_range(&field, m, 0.0, MAX_UNIT_THROUGHPUT, true)?;
                }
                (None, None) => {
                    return Err(c.fail(
                        &format!("{base}.throughput_words_per_cycle"),
                        "exactly one of throughput_words_per_cycle and \
                         throughput_mod_mults_per_cycle",
                        "neither given",
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(c.fail(
                        &format!("{base}.throughput_mod_mults_per_cycle"),
                        "exactly one of throughput_words_per_cycle and \
                         throughput_mod_mults_per_cycle",
                        "both given",
                    ));
                }
            }
            c.at_most_u64(
                &format!("{base}.latency_cycles"),
                g.latency_cycles,
                MAX_LATENCY_CYCLES,
            )?;
            if let Some(pool) = &g.pool {
                c.identifier(&format!("{base}.pool"), pool)?;
            }
        }
        // Groups sharing a pool are views of the same hardware: their counts must agree.
        for (i, a) in KernelClass::ALL.iter().enumerate() {
            let ga = self.units.get(*a);
            let Some(pool) = &ga.pool else { continue };
            for b in &KernelClass::ALL[..i] {
                let gb = self.units.get(*b);
                if gb.pool.as_deref() == Some(pool.as_str()) && gb.count != ga.count {
                    return Err(c.fail(
                        &format!("units.{}.count", a.field_name()),
                        &format!(
                            "{} (the count of units.{}, which shares pool `{pool}`)",
                            gb.count,
                            b.field_name()
                        ),
                        ga.count,
                    ));
                }
            }
        }
        Ok(())
    }
}

fn supported_versions_text() -> String {
    let list: Vec<String> = SUPPORTED_SCHEMA_VERSIONS
        .iter()
        .map(|v| v.to_string())
        .collect();
    format!("a supported schema version ({})", list.join(", "))
}

/// The message for an unsupported `schema_version`, shared with the loader's early check.
pub(crate) fn unsupported_version(file: &str, found: u64) -> Error {
    Error::Config {
        file: file.to_string(),
        field: "schema_version".to_string(),
        expected: supported_versions_text(),
        found: found.to_string(),
    }
}

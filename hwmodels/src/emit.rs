//! Writing a model back as YAML, in schema order, without a YAML library.
//!
//! Strings are written as YAML double-quoted scalars with every non-printable or
//! line-breaking character escaped, and floats in Rust's shortest round-trip form, so [`crate::from_yaml_str`] reads back
//! exactly the model that was written.

use std::fmt::Write as _;

use crate::schema::{KernelClass, MachineModel, UnitGroup};

/// Accumulates `key: value` lines at an indentation depth.
struct Out {
    text: String,
}

impl Out {
    fn line(&mut self, depth: usize, key: &str, value: &str) {
        let _ = writeln!(self.text, "{:width$}{key}: {value}", "", width = depth * 2);
    }

    fn open(&mut self, depth: usize, key: &str) {
        let _ = writeln!(self.text, "{:width$}{key}:", "", width = depth * 2);
    }
}

/// A YAML double-quoted scalar that reads back as exactly `s`: quotes and backslashes are
/// escaped, and so is every character YAML would fold (line breaks, including NEL, LS, PS)
/// or refuse (controls, BOM, non-characters).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        let code = u32::from(c);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ if code >= 0xA0 && !matches!(code, 0x2028 | 0x2029 | 0xFEFF | 0xFFFE | 0xFFFF) => {
                out.push(c);
            }
            _ if code < 0x100 => {
                let _ = write!(out, "\\x{code:02X}");
            }
            _ if code <= 0xFFFF => {
                let _ = write!(out, "\\u{code:04X}");
            }
            _ => {
                let _ = write!(out, "\\U{code:08X}");
            }
        }
    }
    out.push('"');
    out
}

fn float(v: f64) -> String {
    if v.is_nan() {
        ".nan".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { ".inf" } else { "-.inf" }.to_string()
    } else {
        let s = format!("{v:?}");
        // `1e16` reads back as a float in YAML 1.2, but keep a fraction for clarity.
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}

fn bool_str(v: bool) -> &'static str {
    if v {
        "true"
    } else {
        "false"
    }
}

fn unit_group(out: &mut Out, class: KernelClass, g: &UnitGroup) {
    out.open(1, class.field_name());
    out.line(2, "count", &g.count.to_string());
    if let Some(w) = g.throughput_words_per_cycle {
        out.line(2, "throughput_words_per_cycle", &float(w));
    }
    if let Some(m) = g.throughput_mod_mults_per_cycle {
        out.line(2, "throughput_mod_mults_per_cycle", &float(m));
    }
    out.line(2, "latency_cycles", &g.latency_cycles.to_string());
    out.line(2, "pipelined", bool_str(g.pipelined));
    if let Some(p) = &g.pool {
        out.line(2, "pool", &quoted(p));
    }
}

impl MachineModel {
    /// The model as YAML text in schema order (comments are not preserved).
    ///
    /// Reading the text back with [`crate::from_yaml_str`] gives an equal model.
    pub fn to_yaml(&self) -> String {
        let mut o = Out {
            text: String::new(),
        };
        o.line(0, "schema_version", &self.schema_version.to_string());
        o.line(0, "name", &quoted(&self.name));
        o.line(0, "kind", self.kind.as_str());
        o.open(0, "provenance");
        o.line(1, "source", &quoted(&self.provenance.source));
        o.line(1, "table", &quoted(&self.provenance.table));
        o.line(1, "notes", &quoted(&self.provenance.notes));
        o.line(0, "clock_ghz", &float(self.clock_ghz));
        o.line(0, "word_bits", &self.word_bits.to_string());
        o.open(0, "units");
        for class in KernelClass::ALL {
            unit_group(&mut o, class, self.units.get(class));
        }
        o.open(0, "onchip");
        o.line(1, "capacity_bytes", &self.onchip.capacity_bytes.to_string());
        o.line(
            1,
            "bandwidth_gb_per_s",
            &float(self.onchip.bandwidth_gb_per_s),
        );
        o.line(1, "latency_cycles", &self.onchip.latency_cycles.to_string());
        let policy = match self.onchip.replacement_policy {
            crate::schema::ReplacementPolicy::Lru => "lru",
            crate::schema::ReplacementPolicy::Belady => "belady",
        };
        o.line(1, "replacement_policy", policy);
        o.open(0, "offchip");
        o.line(
            1,
            "capacity_bytes",
            &self.offchip.capacity_bytes.to_string(),
        );
        o.line(
            1,
            "bandwidth_gb_per_s",
            &float(self.offchip.bandwidth_gb_per_s),
        );
        o.line(1, "latency_ns", &float(self.offchip.latency_ns));
        if let Some(link) = &self.host_link {
            o.open(0, "host_link");
            o.line(1, "bandwidth_gb_per_s", &float(link.bandwidth_gb_per_s));
            o.line(1, "latency_ns", &float(link.latency_ns));
        }
        let f = &self.features;
        o.open(0, "features");
        o.line(1, "key_prng_compression", bool_str(f.key_prng_compression));
        o.line(1, "on_the_fly_twiddles", bool_str(f.on_the_fly_twiddles));
        o.line(
            1,
            "fused_rescale_moddown",
            bool_str(f.fused_rescale_moddown),
        );
        o.line(
            1,
            "onchip_diagonal_encoding",
            bool_str(f.onchip_diagonal_encoding),
        );
        if let Some(e) = &self.efficiency {
            o.open(0, "efficiency");
            for class in KernelClass::ALL {
                o.line(1, class.field_name(), &float(e.for_class(class)));
            }
            o.line(1, "offchip_bandwidth", &float(e.offchip_bandwidth));
            o.line(
                1,
                "kernel_launch_overhead_ns",
                &float(e.kernel_launch_overhead_ns),
            );
        }
        o.text
    }
}

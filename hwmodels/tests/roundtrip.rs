//! Models round-trip (write → parse → equal), and no input makes the loader panic.
#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a broken fixture should abort the test"
)]

use helrm_hwmodels::{
    builtin, builtin_names, builtin_source, from_yaml_bytes, from_yaml_str, KernelClass,
    MachineModel, ReplacementPolicy,
};
use proptest::prelude::*;

#[test]
fn every_shipped_model_round_trips_through_yaml() {
    for name in builtin_names() {
        let m = builtin(name).expect("shipped");
        let text = m.to_yaml();
        assert_eq!(
            from_yaml_str(&text, name).expect("reparses"),
            m,
            "{name}:\n{text}"
        );
        // Writing is deterministic and idempotent.
        assert_eq!(
            from_yaml_str(&text, name).expect("reparses").to_yaml(),
            text
        );
    }
}

#[test]
fn serde_serialization_agrees_with_the_writer() {
    // JSON is YAML: the derived Serialize output must read back as the same model.
    for name in builtin_names() {
        let m = builtin(name).expect("shipped");
        let json = serde_json::to_string_pretty(&m).expect("serializes");
        assert_eq!(from_yaml_str(&json, name).expect("reparses"), m, "{name}");
    }
}

#[test]
fn optional_blocks_default_and_round_trip() {
    let mut m = builtin("ark").expect("shipped");
    // replacement_policy may be omitted (defaults to lru) ...
    let text = builtin_source("ark")
        .expect("shipped")
        .replace("  replacement_policy: lru\n", "");
    assert_eq!(from_yaml_str(&text, "ark").expect("valid"), m);
    // ... and belady survives a round trip, as do a removed host link and a pool change.
    m.onchip.replacement_policy = ReplacementPolicy::Belady;
    m.host_link = None;
    m.units.ntt.pool = Some("shared.pool-1".to_string());
    let back = from_yaml_str(&m.to_yaml(), "edited").expect("valid");
    assert_eq!(back, m);
}

#[test]
fn strings_with_awkward_characters_round_trip() {
    let mut m = builtin("craterlake").expect("shipped");
    m.provenance.notes = "quotes \" ' back\\slash\ttab\nnewline \u{85}nel \u{2028}ls \u{feff}bom \
        \u{7f}del \u{1}ctl #hash: colon - dash {brace} [bracket] & * ! | > % @ ` é 𝄞"
        .to_string();
    m.provenance.table = String::new();
    let back = from_yaml_str(&m.to_yaml(), "x").expect("valid");
    assert_eq!(back.provenance, m.provenance);
}

#[test]
fn pathological_yaml_is_refused_without_crashing() {
    // Deep nesting hits the parser's recursion limit instead of the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(from_yaml_str(&deep, "deep").is_err());
    let deep_map = "a: ".repeat(20_000);
    assert!(from_yaml_str(&deep_map, "deep_map").is_err());
    // Alias expansion ("billion laughs") is bounded.
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for name in 'b'..='j' {
        laughs.push_str(&format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = name;
    }
    assert!(from_yaml_str(&laughs, "laughs").is_err());
}

/// A random but valid model: the ARK model with every number and string redrawn.
fn arb_model() -> impl Strategy<Value = MachineModel> {
    let base = builtin("ark").expect("shipped");
    (
        (1e-6f64..9.99, 16u32..=64, any::<String>(), "\\PC*"),
        prop::collection::vec((1u32..=1000, 1e-9f64..1e7, 0u64..=10_000, any::<bool>()), 6),
        (
            1u64..=u64::MAX,
            1e-9f64..1e7,
            0u64..=10_000_000,
            any::<bool>(),
        ),
        (1u64..=u64::MAX, 1e-9f64..1e6, 0f64..1e7),
        prop::option::of((1e-9f64..1e5, 0f64..1e7)),
        prop::option::of((prop::collection::vec(1e-12f64..=1.0, 7), 0f64..=1e7)),
        any::<[bool; 4]>(),
    )
        .prop_map(move |(top, groups, on, off, link, eff, feats)| {
            let mut m = base.clone();
            m.clock_ghz = top.0;
            m.word_bits = top.1;
            m.provenance.notes = top.2;
            m.provenance.source = format!("src {}", top.3);
            for (class, (count, tp, lat, pipelined)) in KernelClass::ALL.into_iter().zip(groups) {
                let g = m.units.get_mut(class);
                g.count = count;
                g.pool = None;
                g.latency_cycles = lat;
                g.pipelined = pipelined;
                if class.multiplies() && pipelined {
                    g.throughput_words_per_cycle = None;
                    g.throughput_mod_mults_per_cycle = Some(tp);
                } else {
                    g.throughput_words_per_cycle = Some(tp);
                    g.throughput_mod_mults_per_cycle = None;
                }
            }
            m.onchip.capacity_bytes = on.0;
            m.onchip.bandwidth_gb_per_s = on.1;
            m.onchip.latency_cycles = on.2;
            m.onchip.replacement_policy = if on.3 {
                ReplacementPolicy::Belady
            } else {
                ReplacementPolicy::Lru
            };
            m.offchip.capacity_bytes = off.0;
            m.offchip.bandwidth_gb_per_s = off.1;
            m.offchip.latency_ns = off.2;
            m.host_link = link.map(|(bw, lat)| helrm_hwmodels::HostLink {
                bandwidth_gb_per_s: bw,
                latency_ns: lat,
            });
            m.efficiency = eff.map(|(f, overhead)| helrm_hwmodels::Efficiency {
                ntt: f[0],
                base_conversion: f[1],
                elementwise_mul: f[2],
                elementwise_add: f[3],
                automorphism: f[4],
                key_switch_mac: f[5],
                offchip_bandwidth: f[6],
                kernel_launch_overhead_ns: overhead,
            });
            m.features.key_prng_compression = feats[0];
            m.features.on_the_fly_twiddles = feats[1];
            m.features.fused_rescale_moddown = feats[2];
            m.features.onchip_diagonal_encoding = feats[3];
            m
        })
}

proptest! {
    #[test]
    fn random_valid_models_round_trip(m in arb_model()) {
        m.validate("generated").expect("the strategy only draws valid models");
        let text = m.to_yaml();
        let back = from_yaml_str(&text, "generated");
        prop_assert!(back.is_ok(), "{:?}\n{}", back, text);
        prop_assert_eq!(back.expect("checked"), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = from_yaml_bytes(&bytes, "fuzz");
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,256}") {
        let _ = from_yaml_str(&text, "fuzz");
    }

    #[test]
    fn yaml_like_strings_never_panic(text in "[a-z_:{}\\[\\], \n\\-.0-9&*!|>'\"#]{0,200}") {
        let _ = from_yaml_str(&text, "fuzz");
    }

    #[test]
    fn mutated_models_never_panic(
        line in 0usize..100,
        token in prop_oneof![
            Just("-1".to_string()), Just(".nan".to_string()), Just("0".to_string()),
            Just("1e400".to_string()), Just("~".to_string()), Just("[]".to_string()),
            Just("{}".to_string()), Just("18446744073709551616".to_string()),
            Just("\"x\"".to_string()), Just("true".to_string()), any::<i64>().prop_map(|v| v.to_string()),
            any::<f64>().prop_map(|v| format!("{v:?}")),
        ],
        delete in any::<bool>(),
    ) {
        // Replace (or delete) the value of one line of a shipped model.
        let text = builtin_source("a100").expect("shipped");
        let lines: Vec<&str> = text.lines().collect();
        let i = line % lines.len();
        let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
        if delete {
            out.remove(i);
        } else if let Some(colon) = lines[i].find(": ") {
            out[i] = format!("{}: {}", &lines[i][..colon], token);
        }
        let _ = from_yaml_str(&out.join("\n"), "mutated");
    }
}

#[test]
fn float_edge_values_round_trip() {
    let base = builtin("sharp").expect("shipped");
    for v in [
        5e-324,
        1e-300,
        1e-7,
        0.1,
        1.0 / 3.0,
        2.0,
        9.999_999_999_999_998,
    ] {
        let mut m = base.clone();
        m.clock_ghz = v;
        m.offchip.latency_ns = v;
        m.offchip.bandwidth_gb_per_s = v * 1e5;
        m.units.ntt.throughput_words_per_cycle = Some(v * 1e6);
        let text = m.to_yaml();
        assert_eq!(
            from_yaml_str(&text, "edge").expect("valid"),
            m,
            "{v:e}\n{text}"
        );
    }
}

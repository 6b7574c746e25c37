//! docs/hwmodel-schema.md is normative: its examples parse, and it documents every field.
#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a broken fixture should abort the test"
)]

use helrm_hwmodels::{builtin, from_yaml_str, KernelClass, MachineKind, Throughput};

fn schema_doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/hwmodel-schema.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The ```yaml blocks after the `## Example` heading, in order.
fn example_blocks(doc: &str) -> Vec<String> {
    let section = doc
        .split("\n## Example\n")
        .nth(1)
        .expect("an Example section");
    let section = section.split("\n## ").next().expect("section text");
    section
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().expect("closed block").to_string())
        .collect()
}

#[test]
fn the_documented_example_parses_and_validates() {
    let blocks = example_blocks(&schema_doc());
    assert_eq!(blocks.len(), 2);
    let m = from_yaml_str(&blocks[0], "docs/hwmodel-schema.md#example").expect("valid example");
    assert_eq!(m.name, "toy-asic");
    assert_eq!(m.kind, MachineKind::Asic);
    // The comments in the example state these derived figures.
    assert_eq!(m.onchip.bandwidth_bytes_per_cycle(m.clock_ghz), 4096.0);
    assert_eq!(m.onchip.capacity_bytes, 64 << 20);
    assert_eq!(
        m.effective_throughput(KernelClass::Ntt),
        Some(Throughput::WordsPerCycle(128.0))
    );
}

#[test]
fn the_documented_efficiency_block_completes_a_gpu_model() {
    let blocks = example_blocks(&schema_doc());
    let gpu = format!(
        "{}{}",
        blocks[0].replace("kind: asic", "kind: gpu"),
        blocks[1]
    );
    let m = from_yaml_str(&gpu, "docs example as gpu").expect("valid");
    assert_eq!(m.efficiency_for(KernelClass::ElementwiseMul), 0.7);
    // ... and it is the shipped GPUs' shared efficiency block.
    assert_eq!(m.efficiency, builtin("a100").expect("shipped").efficiency);
}

#[test]
fn every_schema_field_is_documented() {
    let doc = schema_doc();
    // A model with every optional block present writes every key.
    let mut m = builtin("a100").expect("shipped");
    m.units.ntt.throughput_words_per_cycle = Some(1.0);
    let text = m.to_yaml();
    for line in text.lines() {
        let key = line.trim_start().split(':').next().expect("key");
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/hwmodel-schema.md lacks `{key}`"
        );
    }
    for key in [
        "throughput_words_per_cycle",
        "throughput_mod_mults_per_cycle",
        "host_link",
        "belady",
    ] {
        assert!(doc.contains(&format!("`{key}`")), "docs lack `{key}`");
    }
}

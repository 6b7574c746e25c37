//! Every shipped model loads, validates, and carries the figures its source publishes.
#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a broken fixture should abort the test"
)]

use helrm_hwmodels::{
    builtin, builtin_all, builtin_names, builtin_source, load_file, resolve, Error, KernelClass,
    MachineKind, MachineModel, ReplacementPolicy, Throughput,
};

const MIB: u64 = 1 << 20;

fn model(name: &str) -> MachineModel {
    builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn peak(m: &MachineModel, class: KernelClass) -> Throughput {
    m.units.get(class).peak_throughput().expect("validated")
}

#[test]
fn every_shipped_model_loads_and_validates() {
    let names = builtin_names();
    assert_eq!(
        names,
        [
            "host-cpu",
            "a100",
            "h100",
            "bts",
            "ark",
            "sharp",
            "craterlake"
        ]
    );
    for name in &names {
        let m = model(name);
        assert_eq!(&m.name, name, "name field equals the built-in name");
        m.validate(name).expect("valid");
        assert!(
            !m.provenance.table.trim().is_empty(),
            "{name}: provenance.table"
        );
        assert!(
            !m.provenance.notes.trim().is_empty(),
            "{name}: provenance.notes"
        );
    }
    assert_eq!(builtin_all().expect("all load").len(), names.len());
}

#[test]
fn shipped_files_on_disk_equal_the_embedded_copies() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("models dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = builtin_names().into_iter().map(String::from).collect();
    names.sort();
    assert_eq!(
        on_disk, names,
        "every models/*.yaml is embedded, and only those"
    );
    for name in builtin_names() {
        let path = dir.join(format!("{name}.yaml"));
        assert_eq!(load_file(&path).expect("loads"), model(name));
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            builtin_source(name).expect("embedded")
        );
    }
}

#[test]
fn every_shipped_file_explains_its_numbers_in_comments() {
    for name in builtin_names() {
        let text = builtin_source(name).expect("embedded");
        let comments = text
            .lines()
            .filter(|l| l.trim_start().starts_with('#') || l.contains(" # "))
            .count();
        assert!(comments >= 10, "{name}: only {comments} commented lines");
    }
}

#[test]
fn accelerators_carry_their_published_figures() {
    // shared/ACCELERATORS.md: word length, clock, on-chip capacity and bandwidth,
    // off-chip bandwidth, total NTT throughput.
    struct Row {
        name: &'static str,
        word_bits: u32,
        clock_ghz: f64,
        onchip_mib: u64,
        onchip_gb_per_s: f64,
        ntt_words_per_cycle: f64,
    }
    let rows = [
        Row {
            name: "craterlake",
            word_bits: 28,
            clock_ghz: 1.0,
            onchip_mib: 256,
            onchip_gb_per_s: 84_000.0,
            ntt_words_per_cycle: 4096.0,
        },
        Row {
            name: "ark",
            word_bits: 64,
            clock_ghz: 1.0,
            onchip_mib: 512,
            onchip_gb_per_s: 20_000.0,
            ntt_words_per_cycle: 1024.0,
        },
        Row {
            name: "sharp",
            word_bits: 36,
            clock_ghz: 1.0,
            onchip_mib: 180,
            onchip_gb_per_s: 36_000.0,
            ntt_words_per_cycle: 1024.0,
        },
    ];
    for r in rows {
        let m = model(r.name);
        assert_eq!(m.kind, MachineKind::Asic, "{}", r.name);
        assert_eq!(m.word_bits, r.word_bits, "{}", r.name);
        assert_eq!(m.clock_ghz, r.clock_ghz, "{}", r.name);
        assert_eq!(m.onchip.capacity_bytes, r.onchip_mib * MIB, "{}", r.name);
        assert_eq!(m.onchip.bandwidth_gb_per_s, r.onchip_gb_per_s, "{}", r.name);
        assert_eq!(m.offchip.bandwidth_gb_per_s, 1000.0, "{}: 1 TB/s", r.name);
        assert_eq!(
            peak(&m, KernelClass::Ntt),
            Throughput::WordsPerCycle(r.ntt_words_per_cycle),
            "{}",
            r.name
        );
        assert!(
            m.efficiency.is_none(),
            "{}: accelerators run at their peak",
            r.name
        );
        assert_eq!(m.onchip.replacement_policy, ReplacementPolicy::Lru);
    }
}

#[test]
fn accelerator_unit_organisation_matches_the_papers() {
    // Lanes x per-lane rates from the comparison table.
    let cl = model("craterlake");
    assert_eq!(
        peak(&cl, KernelClass::BaseConversion),
        Throughput::ModMultsPerCycle(60.0 * 2048.0)
    );
    assert_eq!(
        peak(&cl, KernelClass::ElementwiseMul),
        Throughput::ModMultsPerCycle(5.0 * 2048.0)
    );
    assert_eq!(
        peak(&cl, KernelClass::ElementwiseAdd),
        Throughput::WordsPerCycle(5.0 * 2048.0)
    );
    assert!(
        cl.features.key_prng_compression,
        "CraterLake's key-switch hint generator"
    );

    let ark = model("ark");
    assert_eq!(
        peak(&ark, KernelClass::BaseConversion),
        Throughput::ModMultsPerCycle(6.0 * 1024.0)
    );
    assert_eq!(
        peak(&ark, KernelClass::ElementwiseMul),
        Throughput::ModMultsPerCycle(2.0 * 1024.0)
    );
    assert!(ark.features.on_the_fly_twiddles && !ark.features.key_prng_compression);

    let sharp = model("sharp");
    assert_eq!(
        peak(&sharp, KernelClass::BaseConversion),
        Throughput::ModMultsPerCycle(16.0 * 1024.0)
    );
    assert_eq!(
        peak(&sharp, KernelClass::ElementwiseMul),
        Throughput::ModMultsPerCycle(4.0 * 1024.0)
    );
    assert_eq!(
        peak(&sharp, KernelClass::ElementwiseAdd),
        Throughput::WordsPerCycle(2.0 * 1024.0)
    );
    assert!(
        sharp.features.key_prng_compression,
        "SHARP's evaluation-key PRNG"
    );

    let bts = model("bts");
    assert_eq!(bts.word_bits, 64);
    assert_eq!(bts.clock_ghz, 1.2);
    assert_eq!(bts.units.ntt.count, 2048, "one NTT unit per PE");
    assert_eq!(bts.onchip.capacity_bytes, 512 * MIB);
    assert_eq!(bts.offchip.bandwidth_gb_per_s, 1000.0);
    // The assumed scratchpad bandwidth is the stated derivation: 3 x 8 B x 2048 PEs x 1.2 GHz.
    assert!((bts.onchip.bandwidth_gb_per_s - 3.0 * 8.0 * 2048.0 * 1.2).abs() < 1e-9);
}

#[test]
fn gpus_carry_datasheet_figures_and_derived_peaks() {
    // (name, SMs, boost GHz, HBM GB/s, L2 MiB, PCIe GB/s)
    for (name, sms, ghz, hbm, l2_mib, pcie) in [
        ("a100", 108, 1.41, 1935.0, 40, 32.0),
        ("h100", 114, 1.755, 2000.0, 50, 64.0),
    ] {
        let m = model(name);
        assert_eq!(m.kind, MachineKind::Gpu);
        assert_eq!(m.word_bits, 32, "{name}: Cheddar's 32-bit words");
        assert_eq!(m.clock_ghz, ghz);
        assert_eq!(m.offchip.bandwidth_gb_per_s, hbm);
        assert_eq!(m.offchip.capacity_bytes, 80 << 30);
        assert_eq!(m.onchip.capacity_bytes, l2_mib * MIB);
        assert_eq!(
            m.host_link.as_ref().map(|h| h.bandwidth_gb_per_s),
            Some(pcie)
        );
        // 64 32-bit multiplies per clock per SM, 4 per Montgomery product.
        for class in KernelClass::ALL {
            let g = m.units.get(class);
            assert_eq!(g.count, sms, "{name}: one unit per SM");
            assert_eq!(
                g.pool.as_deref(),
                Some("sm"),
                "{name}: all classes share the SMs"
            );
        }
        assert_eq!(
            peak(&m, KernelClass::Ntt),
            Throughput::ModMultsPerCycle(16.0 * f64::from(sms))
        );
        // L2 bandwidth assumption: 5,120 bytes per clock.
        assert!((m.onchip.bandwidth_bytes_per_cycle(m.clock_ghz) - 5120.0).abs() < 1e-6);
    }
}

#[test]
fn both_gpus_share_one_set_of_efficiency_assumptions() {
    let a = model("a100");
    let h = model("h100");
    assert!(a.efficiency.is_some());
    assert_eq!(a.efficiency, h.efficiency);
    assert_eq!(a.features, h.features);
}

#[test]
fn host_cpu_is_calibrated_on_one_thread() {
    let m = model("host-cpu");
    assert_eq!(m.kind, MachineKind::Cpu);
    assert!(
        m.provenance
            .notes
            .contains("Calibrated with 1 worker thread(s)"),
        "{}",
        m.provenance.notes
    );
    assert!(m.efficiency.is_some());
    assert!(m.host_link.is_none(), "DRAM is the last level on a CPU");
    for class in KernelClass::ALL {
        assert_eq!(m.units.get(class).count, 1, "calibrated on one thread");
        assert_eq!(m.units.get(class).pool.as_deref(), Some("cores"));
    }
    // The usable share of the calibration machine's L2 + L3 (stated in the notes), as
    // `helrm calibrate` fitted it: a halving of that size, 0 to 7 times.
    let notes = &m.provenance.notes;
    let l2_l3: u64 = notes
        .split("L2 + L3 (")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|b| b.parse().ok())
        .expect("the notes state the machine's L2 + L3 in bytes");
    assert!(
        (0..8).any(|k| m.onchip.capacity_bytes == l2_l3 >> k),
        "{} is not L2 + L3 ({l2_l3}) halved 0 to 7 times",
        m.onchip.capacity_bytes
    );
}

#[test]
fn derived_quantities_follow_the_clock() {
    let ark = model("ark");
    assert_eq!(ark.cycle_ns(), 1.0);
    assert_eq!(ark.cycles_to_seconds(1e9), 1.0);
    assert_eq!(ark.ns_to_cycles(100.0), 100.0);
    assert_eq!(ark.kernel_launch_overhead_ns(), 0.0);
    assert_eq!(ark.efficiency_for(KernelClass::Ntt), 1.0);
    // 4 NTT units x 256 words/cycle: a 2^16-word limb takes 64 cycles of the whole group.
    let t = ark.effective_throughput(KernelClass::Ntt).expect("valid");
    assert_eq!(t.cycles_for(1 << 16, 0), 64.0);

    let a100 = model("a100");
    // 1935 GB/s x 0.85 at 1.41 GHz.
    let expect = 1935.0 * 0.85 / 1.41;
    assert!((a100.effective_offchip_bytes_per_cycle() - expect).abs() < 1e-9);
    // 108 SMs x 16 x 0.5 NTT efficiency = 864 butterflies per cycle.
    assert_eq!(
        a100.effective_throughput(KernelClass::Ntt),
        Some(Throughput::ModMultsPerCycle(864.0))
    );
    assert_eq!(Throughput::ModMultsPerCycle(864.0).cycles_for(7, 1728), 2.0);
    assert_eq!(a100.kernel_launch_overhead_ns(), 2000.0);
}

#[test]
fn resolve_takes_names_and_paths() {
    assert_eq!(resolve("sharp").expect("builtin"), model("sharp"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/bts.yaml");
    assert_eq!(resolve(path).expect("file"), model("bts"));
    assert!(matches!(
        resolve("nonexistent"),
        Err(Error::UnknownModel { .. })
    ));
    assert!(matches!(resolve("nonexistent.yaml"), Err(Error::Io { .. })));
    assert!(matches!(resolve("./ark"), Err(Error::Io { .. })));
}

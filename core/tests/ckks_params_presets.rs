//! CKKS parameter sets through the public API: presets, the security verdict, byte sizes,
//! fingerprints, serde, and one error variant per bad literal.

use helrm_core::ckks::params::{
    preset_names, Level, Params, ParamsLiteral, SecretDistribution, Security, PRESET_NAMES,
};
use helrm_core::math::prime::is_prime;
use helrm_core::Error;

#[expect(
    clippy::expect_used,
    reason = "test helper: a missing preset is a test failure"
)]
fn lit(name: &str) -> ParamsLiteral {
    ParamsLiteral::preset(name).expect("known preset")
}

#[test]
fn helrm_n16_l10_is_hes_lrm_configuration_and_secure() {
    let p = Params::preset("helrm-n16-l10").expect("builds");
    assert_eq!(p.n(), 65_536);
    assert_eq!(p.log_n(), 16);
    assert_eq!(p.slots(), 32_768);
    assert_eq!(p.max_level(), Level::new(10));
    assert_eq!(p.max_level().limbs(), 11);
    assert_eq!(p.q().len(), 11);
    assert_eq!(p.p().len(), 3);
    assert_eq!(p.log_q(), 455);
    assert_eq!(p.log_p(), 183);
    assert_eq!(p.log_qp(), 638);
    assert!(p.log2_qp() < 638.0 && p.log2_qp() > 637.9);
    assert_eq!(p.dnum(), 4);
    assert_eq!(p.digits(), vec![0..3, 3..6, 6..9, 9..11]);
    assert_eq!(p.default_scale(), 2f64.powi(40));
    assert_eq!(
        p.secret(),
        SecretDistribution::SparseTernary {
            hamming_weight: 192
        }
    );
    let v = p.security();
    assert!(v.is_secure());
    assert_eq!(v.requested, Security::Bits128);
    assert_eq!(v.bound.map(|b| b.max_log_qp), Some(1533));
    // Every prime is NTT-friendly, of its requested size, and all are distinct.
    let sizes: Vec<u32> = lit("helrm-n16-l10")
        .log_q
        .into_iter()
        .chain(lit("helrm-n16-l10").log_p)
        .collect();
    let primes: Vec<u64> = p.q().iter().chain(p.p()).copied().collect();
    for (q, bits) in primes.iter().zip(&sizes) {
        assert!(is_prime(*q));
        assert_eq!(q % (1 << 17), 1);
        assert_eq!(64 - q.leading_zeros(), *bits);
    }
    let mut sorted = primes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 14);
}

#[test]
fn byte_sizes_match_he_lrm() {
    let p = Params::preset("helrm-n16-l10").expect("builds");
    let top = p.max_level();
    // 2 · 11 · 65,536 · 8
    assert_eq!(p.ciphertext_bytes(top), Ok(11_534_336));
    // dnum · 2 · (11 + 3) · 65,536 · 8
    assert_eq!(p.key_switch_key_bytes(top), Ok(58_720_256));
    // 65,536 · (10 + 1 + 3) · 8 = 7.0 MiB; at ℓ = 1, 2.5 MiB.
    assert_eq!(p.plaintext_bytes(top, true), Ok(7 * 1024 * 1024));
    assert_eq!(p.plaintext_bytes(Level::new(1), true), Ok(5 * 512 * 1024));
    assert_eq!(p.plaintext_bytes(top, false), Ok(11 * 65_536 * 8));
    // Level 0: one limb, one digit (0..3 starts at 0).
    assert_eq!(p.ciphertext_bytes(Level::new(0)), Ok(2 * 65_536 * 8));
    assert_eq!(p.digit_count_at(Level::new(0)), Ok(1));
    assert_eq!(p.digit_count_at(Level::new(3)), Ok(2));
    assert_eq!(p.digit_count_at(Level::new(9)), Ok(4));
    assert_eq!(
        p.key_switch_key_bytes(Level::new(2)),
        Ok(2 * (3 + 3) * 65_536 * 8)
    );
    for bad in [
        p.ciphertext_bytes(Level::new(11)),
        p.key_switch_key_bytes(Level::new(11)),
        p.plaintext_bytes(Level::new(11), false),
    ] {
        assert_eq!(
            bad,
            Err(Error::LevelOutOfRange {
                level: 11,
                max_level: 10
            })
        );
    }
    assert_eq!(p.level(10), Ok(Level::new(10)));
    assert!(matches!(p.level(11), Err(Error::LevelOutOfRange { .. })));
}

#[test]
fn level_and_limbs_are_distinct() {
    assert_eq!(Level::new(0).limbs(), 1);
    assert_eq!(Level::from_limbs(11), Ok(Level::new(10)));
    assert!(matches!(
        Level::from_limbs(0),
        Err(Error::InvalidParameter { field: "limbs", .. })
    ));
}

#[test]
fn every_preset_builds_with_the_documented_shape() {
    // (name, log N, levels, |P|, dnum, log QP, secure)
    let table = [
        ("helrm-n16-l10", 16, 10, 3, 4, 638, true),
        ("helrm-n15", 15, 15, 3, 6, 838, true),
        ("helrm-n14", 14, 7, 1, 8, 396, true),
        ("toy-n10", 10, 3, 1, 4, 236, false),
        ("toy-n11", 11, 4, 2, 3, 337, false),
        ("toy-n12", 12, 6, 2, 4, 417, false),
        ("toy-n12-l10", 12, 10, 3, 4, 638, false),
        ("helrm-n16-boot", 16, 25, 4, 7, 1527, true),
        ("toy-n12-boot", 12, 25, 4, 7, 1527, false),
    ];
    assert_eq!(preset_names(), PRESET_NAMES);
    assert_eq!(table.len(), PRESET_NAMES.len());
    for (name, log_n, levels, p_count, dnum, log_qp, secure) in table {
        let p = Params::preset(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.log_n(), log_n, "{name}");
        assert_eq!(p.max_level().get(), levels, "{name}");
        assert_eq!(p.p().len(), p_count, "{name}");
        assert_eq!(p.dnum(), dnum, "{name}");
        assert_eq!(p.log_qp(), log_qp, "{name}");
        assert_eq!(p.security().is_secure(), secure, "{name}");
        assert_eq!(p.log_scale(), 40, "{name}");
        // P covers every digit.
        for d in p.digits() {
            let digit_bits: u32 = p.q()[d].iter().map(|q| 64 - q.leading_zeros()).sum();
            assert!(digit_bits <= p.log_p(), "{name}");
        }
        // Secure presets ask for 128 bits; toy presets carry the opt-out.
        let expected = if secure {
            Security::Bits128
        } else {
            Security::InsecureTestOnly
        };
        assert_eq!(p.literal().security, expected, "{name}");
        // The summary agrees with the accessors.
        let s = p.summary();
        assert_eq!(
            (s.log_n, s.dnum, s.log_qp, s.slots),
            (log_n, dnum, log_qp, p.slots())
        );
        assert_eq!(s.secure, secure);
    }
    // The secure presets keep a margin below their bound.
    for name in ["helrm-n16-l10", "helrm-n15", "helrm-n14"] {
        let p = Params::preset(name).expect("builds");
        let bound = p.security().bound.map(|b| b.max_log_qp).unwrap_or(0);
        assert!(
            bound >= p.log_qp() + 40,
            "{name}: {} vs {bound}",
            p.log_qp()
        );
    }
}

#[test]
fn toy_presets_are_refused_without_the_opt_out() {
    for (name, log_n, log_qp, max_log_qp, secret) in [
        ("toy-n10", 10, 236, 27, "uniform ternary"),
        ("toy-n11", 11, 337, 54, "uniform ternary"),
        ("toy-n12", 12, 417, 109, "uniform ternary"),
    ] {
        let l = ParamsLiteral {
            security: Security::Bits128,
            ..lit(name)
        };
        assert_eq!(
            Params::new(l),
            Err(Error::Insecure {
                log_n,
                log_qp,
                secret: secret.to_string(),
                max_log_qp
            }),
            "{name}"
        );
    }
    // h = 192 at N = 2^12 has no sourced row at all.
    let l = ParamsLiteral {
        security: Security::Bits128,
        ..lit("toy-n12-l10")
    };
    assert!(matches!(
        Params::new(l),
        Err(Error::UnknownSecurity { log_n: 12, .. })
    ));
}

#[test]
fn security_is_on_q_times_p_not_q_alone() {
    // N = 2^14 dense bound is 438. Q = 55 + 9·40 = 415 fits alone; with P = 61 it does not.
    let l = ParamsLiteral {
        log_q: {
            let mut v = vec![55];
            v.extend([40; 9]);
            v
        },
        ..lit("helrm-n14")
    };
    match Params::new(l) {
        Err(Error::Insecure {
            log_n: 14,
            log_qp: 476,
            max_log_qp: 438,
            ..
        }) => {}
        other => panic!("expected Insecure on Q·P, got {other:?}"),
    }
}

#[test]
fn fingerprint_is_pinned_and_discriminating() {
    let toy = Params::preset("toy-n10").expect("builds");
    // Pinned: a change to the canonical text, the prime generator or the preset fails here.
    // The value was recomputed independently (Python: the same downward prime search and
    // hashlib.sha256 over the canonical text documented in `params`).
    assert_eq!(
        toy.fingerprint(),
        "72f335003a33899975ac01c0d90119e2b0a892fbf8469f78c15db701bf240673",
        "fingerprint format drifted; bump FINGERPRINT_FORMAT if intended"
    );
    assert_eq!(toy.fingerprint().len(), 64);
    // Stable across builds of the same literal.
    assert_eq!(
        Params::preset("toy-n10").expect("builds").fingerprint(),
        toy.fingerprint()
    );
    // Explicit dnum equal to the default gives the same set.
    let explicit = Params::new(ParamsLiteral {
        dnum: Some(4),
        ..lit("toy-n10")
    })
    .expect("builds");
    assert_eq!(explicit.fingerprint(), toy.fingerprint());
    assert_eq!(*explicit, *toy);
    // Any change to the literal changes it.
    let variants = [
        // These two differ only in dnum (2 by default, 3 explicitly).
        ParamsLiteral {
            log_p: vec![61, 61],
            ..lit("toy-n10")
        },
        ParamsLiteral {
            log_p: vec![61, 61],
            dnum: Some(3),
            ..lit("toy-n10")
        },
        ParamsLiteral {
            log_scale: 41,
            ..lit("toy-n10")
        },
        ParamsLiteral {
            error_std: 3.3,
            ..lit("toy-n10")
        },
        ParamsLiteral {
            secret: SecretDistribution::SparseTernary { hamming_weight: 64 },
            ..lit("toy-n10")
        },
        ParamsLiteral {
            log_p: vec![60],
            ..lit("toy-n10")
        },
    ];
    let mut seen = vec![toy.fingerprint().to_string()];
    for v in variants {
        let p = Params::new(v.clone()).unwrap_or_else(|e| panic!("{v:?}: {e}"));
        assert!(!seen.contains(&p.fingerprint().to_string()), "{v:?}");
        seen.push(p.fingerprint().to_string());
    }
    let names: Vec<String> = PRESET_NAMES
        .iter()
        .map(|n| Params::preset(n).expect("builds").fingerprint().to_string())
        .collect();
    for (i, a) in names.iter().enumerate() {
        assert!(!names[i + 1..].contains(a), "presets share a fingerprint");
    }
}

#[test]
fn literal_serde_round_trip_and_strictness() {
    for name in PRESET_NAMES {
        let l = lit(name);
        let json = serde_json::to_string(&l).expect("serialize");
        let back: ParamsLiteral = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, l, "{name}");
    }
    let json = r#"{"log_n":16,"log_q":[55,40,40,40,40,40,40,40,40,40,40],"log_p":[61,61,61],
        "log_scale":40,"secret":{"kind":"sparse_ternary","hamming_weight":192}}"#;
    let l: ParamsLiteral = serde_json::from_str(json).expect("defaults fill in");
    assert_eq!(l, lit("helrm-n16-l10"));
    let insecure = r#"{"log_n":10,"log_q":[40],"log_p":[61],"log_scale":40,
        "secret":{"kind":"ternary"},"security":"insecure_test_only"}"#;
    let l: ParamsLiteral = serde_json::from_str(insecure).expect("opt-out by name");
    assert_eq!(l.security, Security::InsecureTestOnly);
    let unknown = r#"{"log_n":10,"log_q":[40],"log_p":[61],"log_scale":40,
        "secret":{"kind":"ternary"},"log_slots":9}"#;
    assert!(serde_json::from_str::<ParamsLiteral>(unknown).is_err());
}

fn expect_err(l: ParamsLiteral) -> Error {
    match Params::new(l.clone()) {
        Err(e) => e,
        Ok(_) => panic!("{l:?} was accepted"),
    }
}

#[test]
fn bad_literals_give_their_variants() {
    let base = || lit("toy-n12");
    assert_eq!(
        expect_err(ParamsLiteral { log_n: 9, ..base() }),
        Error::InvalidLogN {
            log_n: 9,
            min: 10,
            max: 17
        }
    );
    assert_eq!(
        expect_err(ParamsLiteral {
            log_n: 18,
            ..base()
        }),
        Error::InvalidLogN {
            log_n: 18,
            min: 10,
            max: 17
        }
    );
    assert_eq!(
        expect_err(ParamsLiteral {
            log_q: vec![],
            ..base()
        }),
        Error::EmptyChain { chain: "Q", min: 1 }
    );
    assert_eq!(
        expect_err(ParamsLiteral {
            log_p: vec![],
            ..base()
        }),
        Error::EmptyChain { chain: "P", min: 1 }
    );
    assert_eq!(
        expect_err(ParamsLiteral {
            log_q: vec![55, 40, 62],
            ..base()
        }),
        Error::InvalidChainPrime {
            chain: "Q",
            index: 2,
            bits: 62,
            min: 20,
            max: 61
        }
    );
    assert_eq!(
        expect_err(ParamsLiteral {
            log_p: vec![61, 19],
            ..base()
        }),
        Error::InvalidChainPrime {
            chain: "P",
            index: 1,
            bits: 19,
            min: 20,
            max: 61
        }
    );
    assert!(matches!(
        expect_err(ParamsLiteral {
            log_scale: 0,
            ..base()
        }),
        Error::InvalidParameter {
            field: "log_scale",
            ..
        }
    ));
    assert!(matches!(
        expect_err(ParamsLiteral {
            log_scale: 101,
            ..base()
        }),
        Error::InvalidParameter {
            field: "log_scale",
            ..
        }
    ));
    for std in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            expect_err(ParamsLiteral {
                error_std: std,
                ..base()
            }),
            Error::InvalidParameter {
                field: "error_std",
                ..
            }
        ));
    }
    for h in [0usize, 4097] {
        assert!(matches!(
            expect_err(ParamsLiteral {
                secret: SecretDistribution::SparseTernary { hamming_weight: h },
                ..base()
            }),
            Error::InvalidParameter {
                field: "secret.hamming_weight",
                ..
            }
        ));
    }
    assert_eq!(
        expect_err(ParamsLiteral {
            dnum: Some(0),
            ..base()
        }),
        Error::InvalidDnum {
            dnum: 0,
            q_count: 7
        }
    );
    assert_eq!(
        expect_err(ParamsLiteral {
            dnum: Some(8),
            ..base()
        }),
        Error::InvalidDnum {
            dnum: 8,
            q_count: 7
        }
    );
    // dnum = 1 puts all 7 Q primes (295 bits) in one digit; P has 122 bits.
    assert_eq!(
        expect_err(ParamsLiteral {
            dnum: Some(1),
            ..base()
        }),
        Error::SpecialModulusTooSmall {
            log_p: 122,
            digit_start: 0,
            digit_end: 7,
            digit_log: 295,
            dnum: 1
        }
    );
    // The default dnum can fail too: one 30-bit special prime cannot cover a 55-bit digit.
    assert!(matches!(
        expect_err(ParamsLiteral {
            log_p: vec![30],
            ..base()
        }),
        Error::SpecialModulusTooSmall {
            log_p: 30,
            digit_start: 0,
            digit_end: 1,
            ..
        }
    ));
    // Only four 20-bit primes ≡ 1 (mod 2^17) exist below 2^20.
    assert!(matches!(
        expect_err(ParamsLiteral {
            log_n: 16,
            log_q: vec![20; 5],
            log_p: vec![61, 61, 61],
            ..base()
        }),
        Error::PrimesExhausted { bits: 20, .. }
    ));
    assert_eq!(
        ParamsLiteral::preset("helrm-n99").map(|_| ()),
        Err(Error::UnknownPreset {
            name: "helrm-n99".into(),
            known: PRESET_NAMES
        })
    );
    assert!(matches!(
        Params::preset("nope"),
        Err(Error::UnknownPreset { .. })
    ));
}

#[test]
fn params_are_shared_cheaply() {
    let p = Params::preset("toy-n11").expect("builds");
    let q = std::sync::Arc::clone(&p);
    assert!(std::sync::Arc::ptr_eq(&p, &q));
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&p);
}

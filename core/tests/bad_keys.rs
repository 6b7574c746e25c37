//! The bad key corpus `tests/bad_inputs/keys/`: key files made for other parameters,
//! truncated, with a broken field or of another kind. Each must be refused with the error
//! variant `manifest.json` names (never a panic), and the manifest lists exactly the files
//! present. Regenerate the files (deterministic: fixed seeds) with
//!
//!     HELRM_REGENERATE_BAD_INPUTS=1 cargo test --release -p helrm-core --test bad_keys
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and their helpers panic on failure"
)]

use std::path::PathBuf;
use std::sync::Arc;

use helrm_core::ckks::serialize::{self as ser, client, BODY_LENGTH_OFFSET, HEADER_BYTES};
use helrm_core::ckks::{CkksContext, KeyGenerator, Params};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::Error;

fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/bad_inputs/keys"
    ))
}

fn context(preset: &str) -> Arc<CkksContext> {
    CkksContext::new(Params::preset(preset).unwrap(), Backend::Real).unwrap()
}

fn keygen(preset: &str) -> KeyGenerator {
    KeyGenerator::with_rng(context(preset), Csprng::from_seed([7; 32])).unwrap()
}

/// The first `HEADER_BYTES` of `object` followed by `body` (the body length field still
/// says the object's, so the loader meets the broken field before any length check).
fn header_then(object: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = object[..HEADER_BYTES as usize].to_vec();
    v.extend_from_slice(body);
    v
}

struct BadKey {
    file: &'static str,
    loader: &'static str,
    error: &'static str,
    broken: &'static str,
    bytes: Vec<u8>,
}

fn corpus() -> Vec<BadKey> {
    let mut kg = keygen("toy-n10");
    let ctx = kg.context().clone();
    let mut pk = Vec::new();
    ser::save_public_key(&ctx, &kg.public_key().unwrap(), &mut pk).unwrap();
    let mut relin = Vec::new();
    ser::save_relin_key(&ctx, &kg.relin_key().unwrap(), &mut relin).unwrap();
    let mut evk = Vec::new();
    let keys = kg
        .evaluation_keys(&[1], ctx.params().slots(), false)
        .unwrap();
    ser::save_evaluation_keys(&ctx, &keys, &mut evk).unwrap();
    let mut sk = Vec::new();
    client::save_secret_key(&ctx, kg.secret_key(), &mut sk).unwrap();
    let mut params = Vec::new();
    ser::save_params(ctx.params(), &mut params).unwrap();
    let mut kg11 = keygen("toy-n11");
    let mut pk11 = Vec::new();
    let key11 = kg11.public_key().unwrap();
    ser::save_public_key(kg11.context(), &key11, &mut pk11).unwrap();

    let mut flipped = pk.clone();
    flipped[HEADER_BYTES as usize + 8 + 100] ^= 1;
    // The fingerprint is checked with the header, before the body: 200 bytes suffice.
    let mut unknown = pk[..200].to_vec();
    let fp = ser::FINGERPRINT_OFFSET as usize;
    unknown[fp..fp + 64].copy_from_slice(&[b'a'; 64]);
    let mut absurd_len = relin[..200].to_vec();
    let bl = BODY_LENGTH_OFFSET as usize;
    absurd_len[bl..bl + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let mut count = vec![0u8];
    count.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut even = vec![0u8];
    even.extend_from_slice(&1u32.to_le_bytes());
    even.extend_from_slice(&4u64.to_le_bytes());

    let b = |file, loader, error, broken, bytes| BadKey {
        file,
        loader,
        error,
        broken,
        bytes,
    };
    vec![
        b(
            "public_key_other_params.hlrm",
            "public-key",
            "ParamsMismatch",
            "a valid toy-n11 public key",
            pk11,
        ),
        b(
            "public_key_unknown_params.hlrm",
            "public-key",
            "ParamsMismatch",
            "the first 200 bytes of a toy-n10 public key, fingerprint 64 x `a` (no parameter set's)",
            unknown,
        ),
        b(
            "public_key_truncated.hlrm",
            "public-key",
            "Truncated",
            "the first 1000 bytes of a toy-n10 public key",
            pk[..1000].to_vec(),
        ),
        b(
            "public_key_flipped_bit.hlrm",
            "public-key",
            "ChecksumMismatch",
            "bit 0 of residue 12 of a toy-n10 public key flipped",
            flipped,
        ),
        b(
            "public_key_is_params.hlrm",
            "public-key",
            "WrongObjectKind",
            "a valid toy-n10 parameter file where a public key is expected",
            params,
        ),
        b(
            "public_key_is_secret_key.hlrm",
            "public-key",
            "WrongObjectKind",
            "a toy-n10 secret key where a public key is expected",
            sk,
        ),
        b(
            "relin_key_truncated.hlrm",
            "relin-key",
            "Truncated",
            "the first 2000 bytes of a toy-n10 relinearisation key",
            relin[..2000].to_vec(),
        ),
        b(
            "relin_key_wrong_dnum.hlrm",
            "relin-key",
            "Corrupt",
            "a relinearisation key header then dnum 9",
            header_then(&relin, &9u32.to_le_bytes()),
        ),
        b(
            "relin_key_absurd_length.hlrm",
            "relin-key",
            "Corrupt",
            "the first 200 bytes of a relinearisation key, body length 2^63 - 1",
            absurd_len,
        ),
        b(
            "eval_keys_truncated.hlrm",
            "evaluation-keys",
            "Truncated",
            "the first 3000 bytes of a toy-n10 evaluation key set",
            evk[..3000].to_vec(),
        ),
        b(
            "eval_keys_bad_relin_flag.hlrm",
            "evaluation-keys",
            "Corrupt",
            "an evaluation key set header then relinearisation flag 7",
            header_then(&evk, &[7]),
        ),
        b(
            "eval_keys_absurd_count.hlrm",
            "evaluation-keys",
            "Corrupt",
            "an evaluation key set header, no relinearisation key, then 2^32 - 1 Galois keys",
            header_then(&evk, &count),
        ),
        b(
            "eval_keys_even_galois_element.hlrm",
            "evaluation-keys",
            "Corrupt",
            "an evaluation key set header, no relinearisation key, one Galois key for element 4",
            header_then(&evk, &even),
        ),
    ]
}

fn load(loader: &str, bytes: &[u8]) -> Result<(), Error> {
    let ctx = context("toy-n10");
    let r = &mut &bytes[..];
    match loader {
        "public-key" => ser::load_public_key(&ctx, r).map(drop),
        "relin-key" => ser::load_relin_key(&ctx, r).map(drop),
        "evaluation-keys" => ser::load_evaluation_keys(&ctx, r).map(drop),
        other => panic!("unknown loader {other}"),
    }
}

fn variant(e: &Error) -> &'static str {
    match e {
        Error::ParamsMismatch { .. } => "ParamsMismatch",
        Error::Truncated { .. } => "Truncated",
        Error::ChecksumMismatch { .. } => "ChecksumMismatch",
        Error::WrongObjectKind { .. } => "WrongObjectKind",
        Error::Corrupt { .. } => "Corrupt",
        _ => "other",
    }
}

#[test]
fn bad_keys_are_refused_with_the_listed_error() {
    let dir = dir();
    let corpus = corpus();
    if std::env::var_os("HELRM_REGENERATE_BAD_INPUTS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        let mut manifest = Vec::new();
        for bad in &corpus {
            std::fs::write(dir.join(bad.file), &bad.bytes).unwrap();
            manifest.push(serde_json::json!({
                "file": bad.file,
                "loader": bad.loader,
                "params": "toy-n10",
                "error": bad.error,
                "broken": bad.broken,
                "commands": [["inspect", "FILE", "--params", "toy-n10", "--expect", bad.loader]],
            }));
        }
        let text = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
        std::fs::write(dir.join("manifest.json"), text).unwrap();
    }
    for bad in &corpus {
        let err = load(bad.loader, &bad.bytes).unwrap_err();
        assert_eq!(variant(&err), bad.error, "{}: {err}", bad.file);
        assert!(!err.to_string().contains('\n'), "{}: {err}", bad.file);
    }
    // The committed files, as the committed manifest lists them.
    let manifest: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut listed = Vec::new();
    for entry in &manifest {
        let file = entry["file"].as_str().unwrap().to_owned();
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        let err = load(entry["loader"].as_str().unwrap(), &bytes).unwrap_err();
        assert_eq!(
            variant(&err),
            entry["error"].as_str().unwrap(),
            "{file}: {err}"
        );
        listed.push(file);
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hlrm"))
        .collect();
    present.sort();
    listed.sort();
    assert_eq!(present, listed);
}

//! Serialization of CKKS objects (`core::ckks::serialize`, docs/object-format.md): round trips
//! that must decrypt, rotate and relinearise exactly as the originals; one test per kind of
//! bad input, each matching its error variant; the committed bad-input corpus under
//! `tests/bad_inputs/ckks/`; the hexdump examples of the format document; and property tests
//! that feed random bytes and mutated files to every loader.
//!
//! Fast: toy-n10 (N = 2^10, 4 Q primes, 1 P prime, dnum 4) everywhere except one toy-n11
//! object (a file made for other parameters).
//!
//! Regenerate the corpus with `HELRM_REGENERATE_BAD_INPUTS=1 cargo test --release -p
//! helrm-core --test ckks_serialize bad_inputs`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions; a failure should panic the test"
)]

use helrm_core::ckks::serialize::{self as ser, client, ObjectKind};
use helrm_core::ckks::{
    Ciphertext, CkksContext, Decryptor, Encryptor, EvaluationKeys, Evaluator, KeyGenerator, Level,
    Params, Plaintext, PublicKey,
};
use helrm_core::math::sample::Csprng;
use helrm_core::ring::Backend;
use helrm_core::trace::DataClass;
use helrm_core::Error;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

// ---- fixtures ---------------------------------------------------------------------------------

const ROTATIONS: [i64; 3] = [1, -3, 100];

struct Fixture {
    ctx: Arc<CkksContext>,
    keygen: KeyGenerator,
    pk: PublicKey,
    keys: Arc<EvaluationKeys>,
    enc: Encryptor,
}

fn context(preset: &str) -> Arc<CkksContext> {
    CkksContext::new(Params::preset(preset).unwrap(), Backend::Real).unwrap()
}

fn fixture_for(preset: &str, seed: u8) -> Fixture {
    let ctx = context(preset);
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([seed; 32])).unwrap();
    let keys = keygen
        .evaluation_keys(&ROTATIONS, ctx.params().slots(), true)
        .unwrap();
    let pk = keygen.public_key().unwrap();
    let enc = Encryptor::with_rng(
        ctx.clone(),
        pk.clone(),
        Csprng::from_seed([seed ^ 0x5a; 32]),
    );
    Fixture {
        ctx,
        keygen,
        pk,
        keys: Arc::new(keys),
        enc,
    }
}

fn fixture(seed: u8) -> Fixture {
    fixture_for("toy-n10", seed)
}

fn values(seed: u64, len: usize) -> Vec<f64> {
    (0..len)
        .map(|i| (((i as u64 * 2654435761 + seed * 97) % 20001) as f64 / 10000.0) - 1.0)
        .collect()
}

impl Fixture {
    fn slots(&self) -> usize {
        self.ctx.params().slots()
    }
    fn encode(&self, v: &[f64], level: Level, class: DataClass) -> Plaintext {
        self.ctx
            .encode_real(
                v,
                level,
                self.ctx.params().default_scale(),
                self.slots(),
                class,
            )
            .unwrap()
    }
    fn encrypt_at(&mut self, v: &[f64], level: Level) -> Ciphertext {
        let pt = self.encode(v, level, DataClass::Other);
        self.enc.encrypt(&pt).unwrap()
    }
    fn encrypt(&mut self, v: &[f64]) -> Ciphertext {
        self.encrypt_at(v, self.ctx.max_level())
    }
    fn decrypt(&self, ct: &Ciphertext) -> Vec<f64> {
        Decryptor::new(self.ctx.clone(), self.keygen.secret_key())
            .decrypt_real(ct)
            .unwrap()
    }
    fn evaluator(&self, keys: Arc<EvaluationKeys>) -> Evaluator {
        Evaluator::new(self.ctx.clone(), keys)
    }
    fn ct_bytes(&self, ct: &Ciphertext) -> Vec<u8> {
        let mut out = Vec::new();
        ser::save_ciphertext(&self.ctx, ct, &mut out).unwrap();
        out
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// −log2 of the largest absolute difference.
fn precision_bits(got: &[f64], want: &[f64]) -> f64 {
    let err = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    -err.max(f64::MIN_POSITIVE).log2()
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("helrm-serialize-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- byte surgery -----------------------------------------------------------------------------

/// Offsets of a ciphertext's fields (docs/object-format.md).
const KIND_AT: usize = 8;
const BODY_LEN_AT: usize = 76;
const SCALE_AT: usize = 84;
const SLOTS_AT: usize = 92;
const DEGREE_AT: usize = 100;
const Q_COUNT_AT: usize = 101;
const P_COUNT_AT: usize = 105;
const RESIDUES_AT: usize = 109;

fn set_u32(v: &mut [u8], at: usize, x: u32) {
    v[at..at + 4].copy_from_slice(&x.to_le_bytes());
}
fn set_u64(v: &mut [u8], at: usize, x: u64) {
    v[at..at + 8].copy_from_slice(&x.to_le_bytes());
}
fn get_u64(v: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(v[at..at + 8].try_into().unwrap())
}

/// Recomputes the trailing SHA-256, so a mutation reaches the field checks.
fn reseal(mut v: Vec<u8>) -> Vec<u8> {
    let n = v.len() - 32;
    let digest = Sha256::digest(&v[..n]);
    v[n..].copy_from_slice(&digest);
    v
}

/// The error inside [`Error::InFile`], or the error itself.
fn inner(e: Error) -> Error {
    match e {
        Error::InFile { source, .. } => *source,
        e => e,
    }
}

// ---- round trips ------------------------------------------------------------------------------

#[test]
fn ciphertext_round_trip_at_every_level() {
    let mut f = fixture(1);
    let v = values(1, f.slots());
    let top = f.encrypt(&v);
    let eval = f.evaluator(f.keys.clone());
    for level in (0..=f.ctx.max_level().get()).rev() {
        let ct = eval.drop_to_level(&top, Level::new(level)).unwrap();
        let bytes = f.ct_bytes(&ct);
        let back = ser::load_ciphertext(&f.ctx, &mut bytes.as_slice()).unwrap();
        assert_eq!(back.level(), Level::new(level));
        assert_eq!(back.scale().to_bits(), ct.scale().to_bits());
        assert_eq!(back.slots(), ct.slots());
        assert_eq!(back.degree(), 1);
        // Decryption is deterministic: equal residues give bit-identical values.
        assert_eq!(
            bits(&f.decrypt(&back)),
            bits(&f.decrypt(&ct)),
            "level {level}"
        );
        assert_eq!(f.ct_bytes(&back), bytes, "re-saving is byte-identical");
        // Fresh encryption error is far below 2^-20 (see ckks_scheme.rs for the bound).
        assert!(precision_bits(&f.decrypt(&back), &v) >= 20.0);
    }
}

#[test]
fn degree_two_ciphertext_round_trip_relinearises_identically() {
    let mut f = fixture(2);
    let (a, b) = (values(2, f.slots()), values(3, f.slots()));
    let (ca, cb) = (f.encrypt(&a), f.encrypt(&b));
    let eval = f.evaluator(f.keys.clone());
    let prod = eval.mul_no_relin(&ca, &cb).unwrap();
    assert_eq!(prod.degree(), 2);
    let bytes = f.ct_bytes(&prod);
    let back = ser::load_ciphertext(&f.ctx, &mut bytes.as_slice()).unwrap();
    assert_eq!(back.degree(), 2);
    let r1 = eval.relinearize(&prod).unwrap();
    let r2 = eval.relinearize(&back).unwrap();
    assert_eq!(f.ct_bytes(&r1), f.ct_bytes(&r2));
}

#[test]
fn plaintext_round_trip_is_bit_identical() {
    let f = fixture(3);
    let v = values(4, f.slots());
    for (level, class) in [
        (f.ctx.max_level(), DataClass::PlaintextWeight),
        (Level::new(1), DataClass::PlaintextEmbedding),
        (Level::new(0), DataClass::KeyGalois(5)),
    ] {
        let pt = f.encode(&v, level, class);
        let mut bytes = Vec::new();
        ser::save_plaintext(&f.ctx, &pt, &mut bytes).unwrap();
        let back = ser::load_plaintext(&f.ctx, &mut bytes.as_slice()).unwrap();
        assert_eq!(back.level(), level);
        assert_eq!(back.class(), class);
        assert_eq!(back.slots(), pt.slots());
        assert_eq!(back.scale().to_bits(), pt.scale().to_bits());
        let mut again = Vec::new();
        ser::save_plaintext(&f.ctx, &back, &mut again).unwrap();
        assert_eq!(again, bytes);
        let (d1, d2) = (f.ctx.decode(&pt).unwrap(), f.ctx.decode(&back).unwrap());
        assert!(d1.iter().zip(&d2).all(|(x, y)| x == y));
    }
}

#[test]
fn loaded_objects_get_fresh_ids() {
    let mut f = fixture(4);
    let ct = f.encrypt(&values(5, 8));
    let bytes = f.ct_bytes(&ct);
    let a = ser::load_ciphertext(&f.ctx, &mut bytes.as_slice()).unwrap();
    let b = ser::load_ciphertext(&f.ctx, &mut bytes.as_slice()).unwrap();
    assert!(a.id() > ct.id(), "ids follow program order");
    assert_eq!(b.id(), a.id() + 1);
}

#[test]
fn public_and_secret_keys_round_trip() {
    let mut f = fixture(5);
    let v = values(6, f.slots());
    let mut pk_bytes = Vec::new();
    ser::save_public_key(&f.ctx, &f.pk, &mut pk_bytes).unwrap();
    let pk = ser::load_public_key(&f.ctx, &mut pk_bytes.as_slice()).unwrap();
    let mut again = Vec::new();
    ser::save_public_key(&f.ctx, &pk, &mut again).unwrap();
    assert_eq!(again, pk_bytes);

    let mut sk_bytes = Vec::new();
    client::save_secret_key(&f.ctx, f.keygen.secret_key(), &mut sk_bytes).unwrap();
    let sk = client::load_secret_key(&f.ctx, &mut sk_bytes.as_slice()).unwrap();
    assert_eq!(format!("{sk:?}"), "SecretKey { <redacted> }");

    // Encrypting with the reloaded public key and decrypting with the reloaded secret key
    // works, and the reloaded secret key decrypts exactly as the original.
    let mut enc = Encryptor::with_rng(f.ctx.clone(), pk, Csprng::from_seed([9; 32]));
    let pt = f.encode(&v, f.ctx.max_level(), DataClass::Other);
    let ct = enc.encrypt(&pt).unwrap();
    let got = Decryptor::new(f.ctx.clone(), &sk)
        .decrypt_real(&ct)
        .unwrap();
    assert!(precision_bits(&got, &v) >= 20.0);
    let other = f.encrypt(&v);
    assert_eq!(
        bits(
            &Decryptor::new(f.ctx.clone(), &sk)
                .decrypt_real(&other)
                .unwrap()
        ),
        bits(&f.decrypt(&other))
    );
}

#[test]
fn evaluation_keys_round_trip_rotate_and_multiply_identically() {
    let mut f = fixture(6);
    let (a, b) = (values(7, f.slots()), values(8, f.slots()));
    let (ca, cb) = (f.encrypt(&a), f.encrypt(&b));
    let mut bytes = Vec::new();
    ser::save_evaluation_keys(&f.ctx, &f.keys, &mut bytes).unwrap();
    let keys = ser::load_evaluation_keys(&f.ctx, &mut bytes.as_slice()).unwrap();
    assert!(keys.has_relin());
    assert_eq!(
        keys.galois_elements().collect::<Vec<_>>(),
        f.keys.galois_elements().collect::<Vec<_>>()
    );
    assert_eq!(keys.bytes(), f.keys.bytes());
    let (orig, reloaded) = (f.evaluator(f.keys.clone()), f.evaluator(Arc::new(keys)));
    for r in ROTATIONS {
        assert_eq!(
            f.ct_bytes(&orig.rotate(&ca, r).unwrap()),
            f.ct_bytes(&reloaded.rotate(&ca, r).unwrap()),
            "rotation {r}"
        );
    }
    assert_eq!(
        f.ct_bytes(&orig.conjugate(&ca).unwrap()),
        f.ct_bytes(&reloaded.conjugate(&ca).unwrap())
    );
    assert_eq!(
        f.ct_bytes(&orig.mul_relin(&ca, &cb).unwrap()),
        f.ct_bytes(&reloaded.mul_relin(&ca, &cb).unwrap())
    );
    let hoisted = reloaded.rotate_hoisted(&ca, &ROTATIONS).unwrap();
    let rotated = f.decrypt(&hoisted[0]);
    let want: Vec<f64> = (0..a.len()).map(|i| a[(i + 1) % a.len()]).collect();
    assert!(precision_bits(&rotated, &want) >= 20.0);

    // The relinearisation key on its own, and an empty key set.
    let relin = f.keygen.relin_key().unwrap();
    let mut rb = Vec::new();
    ser::save_relin_key(&f.ctx, &relin, &mut rb).unwrap();
    let back = ser::load_relin_key(&f.ctx, &mut rb.as_slice()).unwrap();
    assert_eq!(back.dnum(), f.ctx.params().dnum());
    let mut with_relin = EvaluationKeys::default();
    with_relin.set_relin(back);
    let prod = f
        .evaluator(Arc::new(with_relin))
        .mul_relin(&ca, &cb)
        .unwrap();
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    assert!(precision_bits(&f.decrypt(&prod), &want) >= 20.0);
    let mut eb = Vec::new();
    ser::save_evaluation_keys(&f.ctx, &EvaluationKeys::default(), &mut eb).unwrap();
    let empty = ser::load_evaluation_keys(&f.ctx, &mut eb.as_slice()).unwrap();
    assert!(!empty.has_relin() && empty.galois_elements().next().is_none());
}

#[test]
fn params_round_trip_for_every_preset() {
    for name in helrm_core::ckks::params::PRESET_NAMES {
        let params = Params::preset(name).unwrap();
        let mut bytes = Vec::new();
        ser::save_params(&params, &mut bytes).unwrap();
        let back = ser::load_params(&mut bytes.as_slice()).unwrap();
        assert_eq!(back.fingerprint(), params.fingerprint(), "{name}");
        assert_eq!(back.literal(), params.literal(), "{name}");
        let h = ser::read_header(&mut bytes.as_slice()).unwrap();
        assert_eq!(h.kind, ObjectKind::Params);
        assert_eq!(h.fingerprint, params.fingerprint());
        assert_eq!(
            h.body_len,
            bytes.len() as u64 - ser::HEADER_BYTES - ser::CHECKSUM_BYTES
        );
    }
}

#[test]
fn object_kind_codes_round_trip() {
    for kind in ObjectKind::ALL {
        assert_eq!(ObjectKind::from_code(kind.code()), Some(kind));
    }
    assert_eq!(ObjectKind::from_code(0), None);
    assert_eq!(ObjectKind::from_code(8), None);
}

/// Full size, on demand: a helrm-n16-l10 ciphertext round trip, with the times printed.
#[test]
#[ignore = "full size (N = 2^16); run with --ignored"]
fn full_size_ciphertext_round_trip() {
    let ctx = context("helrm-n16-l10");
    let mut keygen = KeyGenerator::with_rng(ctx.clone(), Csprng::from_seed([3; 32])).unwrap();
    let pk = keygen.public_key().unwrap();
    let mut enc = Encryptor::with_rng(ctx.clone(), pk, Csprng::from_seed([4; 32]));
    let v = values(3, ctx.params().slots());
    let pt = ctx
        .encode_real(
            &v,
            ctx.max_level(),
            ctx.params().default_scale(),
            ctx.params().slots(),
            DataClass::Other,
        )
        .unwrap();
    let ct = enc.encrypt(&pt).unwrap();
    let t = std::time::Instant::now();
    let mut bytes = Vec::new();
    ser::save_ciphertext(&ctx, &ct, &mut bytes).unwrap();
    let saved = t.elapsed();
    let t = std::time::Instant::now();
    let back = ser::load_ciphertext(&ctx, &mut bytes.as_slice()).unwrap();
    let loaded = t.elapsed();
    assert_eq!(bytes.len(), 11_534_485);
    let dec = Decryptor::new(ctx.clone(), keygen.secret_key());
    assert_eq!(
        bits(&dec.decrypt_real(&back).unwrap()),
        bits(&dec.decrypt_real(&ct).unwrap())
    );
    println!(
        "helrm-n16-l10 ciphertext ({} bytes): save {saved:?}, load {loaded:?}",
        bytes.len()
    );
}

// ---- files ------------------------------------------------------------------------------------

#[test]
fn file_helpers_write_atomically_and_name_the_path() {
    let mut f = fixture(7);
    let dir = TempDir::new("files");
    let ct = f.encrypt(&values(9, 16));
    let path = dir.path("ct.hlrm");
    ser::save_ciphertext_file(&f.ctx, &ct, &path).unwrap();
    assert_eq!(dir.entries(), vec!["ct.hlrm"], "no temporary file left");
    let back = ser::load_ciphertext_file(&f.ctx, &path).unwrap();
    assert_eq!(f.ct_bytes(&back), f.ct_bytes(&ct));

    // A failing save leaves the previous file untouched and no temporary file behind.
    let before = std::fs::read(&path).unwrap();
    let sym = CkksContext::new(Params::preset("toy-n10").unwrap(), Backend::Symbolic).unwrap();
    match ser::save_ciphertext_file(&sym, &ct, &path) {
        Err(Error::InFile { path: p, source }) => {
            assert_eq!(p, path.display().to_string());
            assert!(matches!(*source, Error::SymbolicValue { .. }), "{source:?}");
        }
        other => panic!("expected InFile(SymbolicValue), got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(dir.entries(), vec!["ct.hlrm"]);

    // A missing file, a missing directory.
    match ser::load_ciphertext_file(&f.ctx, dir.path("missing.hlrm")) {
        Err(Error::InFile { path: p, source }) => {
            assert!(p.ends_with("missing.hlrm"));
            assert!(
                matches!(
                    *source,
                    Error::Io {
                        kind: std::io::ErrorKind::NotFound,
                        ..
                    }
                ),
                "{source:?}"
            );
        }
        other => panic!("expected InFile(Io), got {other:?}"),
    }
    let err = ser::save_ciphertext_file(&f.ctx, &ct, dir.path("no/such/dir/ct.hlrm")).unwrap_err();
    assert!(matches!(inner(err), Error::Io { .. }));

    // Errors from the bytes carry the path too.
    let wrong = dir.path("params.hlrm");
    ser::save_params_file(f.ctx.params(), &wrong).unwrap();
    match ser::load_ciphertext_file(&f.ctx, &wrong) {
        Err(Error::InFile { path: p, source }) => {
            assert!(p.ends_with("params.hlrm"));
            assert!(matches!(*source, Error::WrongObjectKind { .. }));
        }
        other => panic!("expected InFile(WrongObjectKind), got {other:?}"),
    }
    assert_eq!(
        ser::load_params_file(&wrong).unwrap().fingerprint(),
        f.ctx.params().fingerprint()
    );

    // Every kind has a file pair.
    let pt = f.encode(&values(1, 4), Level::new(2), DataClass::PlaintextConstant);
    ser::save_plaintext_file(&f.ctx, &pt, dir.path("pt.hlrm")).unwrap();
    assert_eq!(
        ser::load_plaintext_file(&f.ctx, dir.path("pt.hlrm"))
            .unwrap()
            .level(),
        Level::new(2)
    );
    ser::save_public_key_file(&f.ctx, &f.pk, dir.path("pk.hlrm")).unwrap();
    ser::load_public_key_file(&f.ctx, dir.path("pk.hlrm")).unwrap();
    ser::save_evaluation_keys_file(&f.ctx, &f.keys, dir.path("ek.hlrm")).unwrap();
    ser::load_evaluation_keys_file(&f.ctx, dir.path("ek.hlrm")).unwrap();
    let relin = f.keygen.relin_key().unwrap();
    ser::save_relin_key_file(&f.ctx, &relin, dir.path("rk.hlrm")).unwrap();
    ser::load_relin_key_file(&f.ctx, dir.path("rk.hlrm")).unwrap();
    let sk_path = dir.path("sk.hlrm");
    client::save_secret_key_file(&f.ctx, f.keygen.secret_key(), &sk_path).unwrap();
    client::load_secret_key_file(&f.ctx, &sk_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sk_path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "secret key file readable by its owner only"
        );
    }
    assert_eq!(
        dir.entries(),
        vec![
            "ct.hlrm",
            "ek.hlrm",
            "params.hlrm",
            "pk.hlrm",
            "pt.hlrm",
            "rk.hlrm",
            "sk.hlrm"
        ]
    );
}

// ---- bad inputs, one variant each -------------------------------------------------------------

/// A level-0 toy-n10 ciphertext: small (16.5 KB), so every-offset loops stay fast.
fn small_ciphertext(f: &mut Fixture) -> Vec<u8> {
    let ct = f.encrypt_at(&values(11, f.slots()), Level::new(0));
    f.ct_bytes(&ct)
}

#[test]
fn file_for_other_parameters_is_refused() {
    let mut other = fixture_for("toy-n11", 8);
    let ct = other.encrypt(&values(1, 4));
    let bytes = other.ct_bytes(&ct);
    let f = fixture(8);
    match ser::load_ciphertext(&f.ctx, &mut bytes.as_slice()) {
        Err(Error::ParamsMismatch { expected, found }) => {
            assert_eq!(expected, f.ctx.params().fingerprint());
            assert_eq!(found, other.ctx.params().fingerprint());
        }
        other => panic!("expected ParamsMismatch, got {other:?}"),
    }
    // Same ring degree, other chain: toy-n12 vs toy-n12-l10.
    let a = context("toy-n12");
    let b = context("toy-n12-l10");
    let mut kb = KeyGenerator::with_rng(b.clone(), Csprng::from_seed([1; 32])).unwrap();
    let mut pk = Vec::new();
    ser::save_public_key(&b, &kb.public_key().unwrap(), &mut pk).unwrap();
    assert!(matches!(
        ser::load_public_key(&a, &mut pk.as_slice()),
        Err(Error::ParamsMismatch { .. })
    ));
}

#[test]
fn truncated_at_every_offset() {
    let mut f = fixture(9);
    let bytes = small_ciphertext(&mut f);
    let len = bytes.len();
    assert_eq!(len, 84 + 17 + 2 * (8 + 1024 * 8) + 32);
    for cut in 0..len {
        match ser::load_ciphertext(&f.ctx, &mut &bytes[..cut]) {
            Err(Error::Truncated {
                what,
                offset,
                needed,
            }) => {
                assert!(offset as usize <= cut && cut < (offset + needed) as usize);
                let expected = match cut {
                    0..=3 => "magic",
                    4..=5 => "format major version",
                    6..=7 => "format minor version",
                    8 => "object kind",
                    9..=11 => "reserved bytes",
                    12..=75 => "parameter fingerprint",
                    76..=83 => "body length",
                    84..=91 => "scale",
                    92..=99 => "slot count",
                    100 => "degree",
                    101..=104 => "Q limb count",
                    105..=108 => "P limb count",
                    c if c >= len - 32 => "checksum",
                    _ => what,
                };
                assert_eq!(what, expected, "cut at {cut}");
            }
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        }
    }
    ser::load_ciphertext(&f.ctx, &mut bytes.as_slice()).unwrap();
    // Inside the residues: the limb being read is named with its offset.
    match ser::load_ciphertext(&f.ctx, &mut &bytes[..RESIDUES_AT + 100]) {
        Err(Error::Truncated {
            what: "residues",
            offset,
            needed,
        }) => {
            assert_eq!(offset, RESIDUES_AT as u64);
            assert_eq!(needed, 1024 * 8);
        }
        other => panic!("expected Truncated residues, got {other:?}"),
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut f = fixture(10);
    let mut bytes = small_ciphertext(&mut f);
    let len = bytes.len() as u64;
    bytes.extend_from_slice(b"garbage");
    assert_eq!(
        ser::load_ciphertext(&f.ctx, &mut bytes.as_slice()).unwrap_err(),
        Error::TrailingBytes { offset: len }
    );
}

#[test]
fn flipped_bits_are_detected() {
    let mut f = fixture(11);
    let bytes = small_ciphertext(&mut f);
    let len = bytes.len();
    // Every bit of the header and fields, of the checksum, and of every 37th residue byte.
    let positions = (0..RESIDUES_AT)
        .chain((RESIDUES_AT..len - 32).step_by(37))
        .chain(len - 32..len);
    for pos in positions {
        for bit in 0..8 {
            let mut v = bytes.clone();
            v[pos] ^= 1 << bit;
            let err = match ser::load_ciphertext(&f.ctx, &mut v.as_slice()) {
                Ok(_) => panic!("flip at byte {pos} bit {bit} went unnoticed"),
                Err(e) => e,
            };
            if pos >= len - 32 {
                assert!(
                    matches!(err, Error::ChecksumMismatch { offset, .. } if offset as usize == len - 32)
                );
            }
        }
    }
    // The low bit of a residue keeps it below its prime: only the checksum notices.
    let mut v = bytes.clone();
    v[RESIDUES_AT + 8 * 17] ^= 1;
    match ser::load_ciphertext(&f.ctx, &mut v.as_slice()) {
        Err(Error::ChecksumMismatch {
            offset,
            stored,
            computed,
        }) => {
            assert_eq!(offset as usize, len - 32);
            assert_eq!(stored, hex(&bytes[len - 32..]));
            assert_ne!(stored, computed);
        }
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn wrong_kind_version_and_magic_are_refused() {
    let mut f = fixture(12);
    let bytes = small_ciphertext(&mut f);
    match ser::load_plaintext(&f.ctx, &mut bytes.as_slice()) {
        Err(Error::WrongObjectKind {
            expected,
            found,
            code,
        }) => {
            assert_eq!(
                (expected, found, code),
                ("plaintext", "ciphertext", ObjectKind::Ciphertext.code())
            );
        }
        other => panic!("expected WrongObjectKind, got {other:?}"),
    }
    assert!(matches!(
        client::load_secret_key(&f.ctx, &mut bytes.as_slice()),
        Err(Error::WrongObjectKind {
            expected: "secret key",
            ..
        })
    ));
    assert!(matches!(
        ser::load_params(&mut bytes.as_slice()),
        Err(Error::WrongObjectKind {
            expected: "parameter set",
            ..
        })
    ));
    let mut v = bytes.clone();
    v[KIND_AT] = 99;
    assert_eq!(
        ser::load_ciphertext(&f.ctx, &mut v.as_slice()).unwrap_err(),
        Error::WrongObjectKind {
            expected: "ciphertext",
            found: "unknown object",
            code: 99
        }
    );
    assert!(matches!(
        ser::read_header(&mut v.as_slice()),
        Err(Error::Corrupt {
            what: "object kind",
            offset: 8,
            ..
        })
    ));
    for (major, minor) in [(2u16, 0u16), (0, 0), (1, 1)] {
        let mut v = bytes.clone();
        v[4..6].copy_from_slice(&major.to_le_bytes());
        v[6..8].copy_from_slice(&minor.to_le_bytes());
        assert_eq!(
            ser::load_ciphertext(&f.ctx, &mut v.as_slice()).unwrap_err(),
            Error::UnsupportedVersion {
                major,
                minor,
                supported_major: 1,
                supported_minor: 0
            }
        );
    }
    let mut v = bytes.clone();
    v[..4].copy_from_slice(b"PK\x03\x04");
    assert_eq!(
        ser::load_ciphertext(&f.ctx, &mut v.as_slice()).unwrap_err(),
        Error::BadMagic {
            found: *b"PK\x03\x04"
        }
    );
}

/// Loads `v` (resealed) as a ciphertext and returns the `Corrupt` error's `what` and offset.
fn corrupt_field(ctx: &CkksContext, v: Vec<u8>) -> (&'static str, u64) {
    match ser::load_ciphertext(ctx, &mut reseal(v).as_slice()) {
        Err(Error::Corrupt { what, offset, .. }) => (what, offset),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn invalid_fields_are_refused_even_with_a_valid_checksum() {
    let mut f = fixture(13);
    let bytes = small_ciphertext(&mut f);
    let ctx = &f.ctx;
    let with = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut v = bytes.clone();
        edit(&mut v);
        v
    };
    // A level above the chain's top (toy-n10 has levels 0..=3, i.e. 1..=4 Q limbs).
    assert_eq!(
        corrupt_field(ctx, with(&|v| set_u32(v, Q_COUNT_AT, 5))),
        ("Q limb count (level + 1)", Q_COUNT_AT as u64)
    );
    assert_eq!(
        corrupt_field(ctx, with(&|v| set_u32(v, Q_COUNT_AT, 0))),
        ("Q limb count (level + 1)", Q_COUNT_AT as u64)
    );
    assert_eq!(
        corrupt_field(ctx, with(&|v| set_u32(v, Q_COUNT_AT, u32::MAX))),
        ("Q limb count (level + 1)", Q_COUNT_AT as u64)
    );
    // A ciphertext has no P limbs.
    assert_eq!(
        corrupt_field(ctx, with(&|v| set_u32(v, P_COUNT_AT, 1))),
        ("P limb count", P_COUNT_AT as u64)
    );
    // Second part at another level than the first.
    let second_q = RESIDUES_AT + 1024 * 8;
    assert_eq!(
        corrupt_field(ctx, with(&|v| set_u32(v, second_q, 2))),
        ("Q limb count (level + 1)", second_q as u64)
    );
    for scale in [f64::NAN, f64::INFINITY, 0.0, -1.0, f64::NEG_INFINITY] {
        assert_eq!(
            corrupt_field(ctx, with(&|v| set_u64(v, SCALE_AT, scale.to_bits()))),
            ("scale", SCALE_AT as u64),
            "scale {scale}"
        );
    }
    for slots in [0u64, 3, 1024, u64::MAX] {
        assert_eq!(
            corrupt_field(ctx, with(&|v| set_u64(v, SLOTS_AT, slots))),
            ("slot count", SLOTS_AT as u64),
            "slots {slots}"
        );
    }
    for degree in [0u8, 3, 255] {
        assert_eq!(
            corrupt_field(ctx, with(&|v| v[DEGREE_AT] = degree)),
            ("ciphertext degree", DEGREE_AT as u64)
        );
    }
    // Body lengths: absurd (refused before anything is allocated), too long, too short.
    for body in [u64::MAX, 1 << 40] {
        assert_eq!(
            corrupt_field(ctx, with(&|v| set_u64(v, BODY_LEN_AT, body))),
            ("body length", BODY_LEN_AT as u64)
        );
    }
    let body = get_u64(&bytes, BODY_LEN_AT);
    for b in [body + 1, body - 1, 0] {
        assert_eq!(
            corrupt_field(ctx, with(&|v| set_u64(v, BODY_LEN_AT, b))),
            ("body length", BODY_LEN_AT as u64)
        );
    }
    assert_eq!(
        corrupt_field(ctx, with(&|v| v[10] = 1)),
        ("reserved bytes", 9)
    );
    assert_eq!(
        corrupt_field(ctx, with(&|v| v[12] = b'G')),
        ("parameter fingerprint", 12)
    );
    // A residue equal to its prime.
    let q0 = f.ctx.params().q()[0];
    let at = RESIDUES_AT + 8 * 33;
    let v = reseal(with(&|v| set_u64(v, at, q0)));
    assert_eq!(
        ser::load_ciphertext(ctx, &mut v.as_slice()).unwrap_err(),
        Error::CorruptResidue {
            offset: at as u64,
            limb: 0,
            index: 33,
            value: q0,
            modulus: q0
        }
    );
}

#[test]
fn invalid_key_and_plaintext_fields_are_refused() {
    let f = fixture(14);
    let ctx = &f.ctx;
    let load_keys = |v: Vec<u8>| ser::load_evaluation_keys(ctx, &mut reseal(v).as_slice());
    let mut ek = Vec::new();
    ser::save_evaluation_keys(ctx, &f.keys, &mut ek).unwrap();
    // Layout: flag (84), relin dnum (85), dnum × 2 polys of 8 + 5·1024·8 bytes, Galois count.
    let ksk_len = 4 + 4 * 2 * (8 + 5 * 1024 * 8);
    let count_at = 85 + ksk_len;
    let first_element_at = count_at + 4;
    let elements: Vec<u64> = f.keys.galois_elements().map(|k| k.0).collect();
    assert_eq!(get_u64(&ek, first_element_at), elements[0]);
    let edit = |at: usize, x: u64| {
        let mut v = ek.clone();
        set_u64(&mut v, at, x);
        v
    };
    for bad in [0u64, 1, 2, 2048, 2049, u64::MAX] {
        assert!(
            matches!(
                load_keys(edit(first_element_at, bad)),
                Err(Error::Corrupt { what: "Galois element", offset, .. }) if offset == first_element_at as u64
            ),
            "element {bad}"
        );
    }
    // Elements must increase (no duplicates): the second equal to the first.
    let second_at = first_element_at + 8 + ksk_len;
    assert!(matches!(
        load_keys(edit(second_at, elements[0])),
        Err(Error::Corrupt {
            what: "Galois element",
            ..
        })
    ));
    let mut v = ek.clone();
    v[84] = 2;
    assert!(matches!(
        load_keys(v),
        Err(Error::Corrupt {
            what: "relinearisation key flag",
            offset: 84,
            ..
        })
    ));
    let mut v = ek.clone();
    set_u32(&mut v, 85, 3);
    assert!(matches!(
        load_keys(v),
        Err(Error::Corrupt {
            what: "key-switching digit count (dnum)",
            offset: 85,
            ..
        })
    ));
    let mut v = ek.clone();
    set_u32(&mut v, count_at, 1024);
    assert!(matches!(
        load_keys(v),
        Err(Error::Corrupt {
            what: "Galois key count",
            ..
        })
    ));
    // Key-switching keys live over Q ∪ P: P limb count 0 is refused.
    let mut v = ek.clone();
    set_u32(&mut v, 89 + 4, 0);
    assert!(matches!(
        load_keys(v),
        Err(Error::Corrupt {
            what: "P limb count",
            offset: 93,
            ..
        })
    ));

    // Plaintext: unknown class code, stray Galois element, P limbs other than 0 or |P|.
    let pt = f.encode(&values(1, 4), Level::new(1), DataClass::PlaintextWeight);
    let mut pb = Vec::new();
    ser::save_plaintext(ctx, &pt, &mut pb).unwrap();
    let load_pt = |v: Vec<u8>| ser::load_plaintext(ctx, &mut reseal(v).as_slice());
    let mut v = pb.clone();
    v[100] = 8;
    assert!(matches!(
        load_pt(v),
        Err(Error::Corrupt {
            what: "data class",
            offset: 100,
            ..
        })
    ));
    let mut v = pb.clone();
    set_u64(&mut v, 101, 5);
    assert!(matches!(
        load_pt(v),
        Err(Error::Corrupt {
            what: "data class",
            ..
        })
    ));
    let mut v = pb.clone();
    set_u32(&mut v, 113, 2);
    assert!(matches!(
        load_pt(v),
        Err(Error::Corrupt {
            what: "P limb count",
            offset: 113,
            ..
        })
    ));

    // Secret key: a coefficient outside {−1, 0, 1} (residue 2 in every evaluation slot is
    // the constant polynomial 2).
    let mut sk = Vec::new();
    client::save_secret_key(ctx, f.keygen.secret_key(), &mut sk).unwrap();
    let mut v = sk.clone();
    for limb in 0..5 {
        for i in 0..1024 {
            set_u64(&mut v, 92 + 8 * (limb * 1024 + i), 2);
        }
    }
    assert!(matches!(
        client::load_secret_key(ctx, &mut reseal(v).as_slice()),
        Err(Error::Corrupt {
            what: "secret key",
            offset: 84,
            ..
        })
    ));
}

#[test]
fn symbolic_objects_and_contexts_are_refused() {
    let mut f = fixture(15);
    let bytes = small_ciphertext(&mut f);
    let sym = CkksContext::new(Params::preset("toy-n10").unwrap(), Backend::Symbolic).unwrap();
    assert!(matches!(
        ser::load_ciphertext(&sym, &mut bytes.as_slice()),
        Err(Error::SymbolicValue { .. })
    ));
    let mut kg = KeyGenerator::with_rng(sym.clone(), Csprng::from_seed([1; 32])).unwrap();
    let pk = kg.public_key().unwrap();
    let mut enc = Encryptor::with_rng(sym.clone(), pk.clone(), Csprng::from_seed([2; 32]));
    let pt = sym
        .encode_real(&[1.0], sym.max_level(), 1e12, 1, DataClass::Other)
        .unwrap();
    let ct = enc.encrypt(&pt).unwrap();
    let mut out = Vec::new();
    for err in [
        ser::save_ciphertext(&sym, &ct, &mut out).unwrap_err(),
        ser::save_plaintext(&sym, &pt, &mut out).unwrap_err(),
        ser::save_public_key(&sym, &pk, &mut out).unwrap_err(),
        client::save_secret_key(&sym, kg.secret_key(), &mut out).unwrap_err(),
        // A symbolic object handed with a real context.
        ser::save_ciphertext(&f.ctx, &ct, &mut out).unwrap_err(),
    ] {
        assert!(matches!(err, Error::SymbolicValue { .. }), "{err:?}");
    }
    assert!(out.is_empty(), "nothing written before the refusal");
}

// ---- docs/object-format.md --------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `hexdump -C` of `bytes`, line for line.
fn hexdump_c(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut prev: Option<&[u8]> = None;
    let mut starred = false;
    for (i, chunk) in bytes.chunks(16).enumerate() {
        if chunk.len() == 16 && prev == Some(chunk) {
            if !starred {
                out.push_str("*\n");
                starred = true;
            }
            continue;
        }
        starred = false;
        prev = Some(chunk);
        write!(out, "{:08x}  ", i * 16).unwrap();
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => write!(out, "{b:02x} ").unwrap(),
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        for &b in chunk {
            out.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        out.push_str("|\n");
    }
    writeln!(out, "{:08x}", bytes.len()).unwrap();
    out
}

/// The body of the fenced block that follows `<!-- example: NAME -->` in the format document.
fn doc_example(name: &str) -> String {
    let doc = std::fs::read_to_string(repo_root().join("docs/object-format.md")).unwrap();
    let marker = format!("<!-- example: {name} -->");
    let start = doc.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
    let rest = &doc[start..];
    let open = rest.find("```text\n").unwrap() + "```text\n".len();
    let close = rest[open..].find("```").unwrap();
    rest[open..open + close].to_string()
}

#[test]
fn format_document_examples_match_the_code() {
    let params = Params::preset("toy-n10").unwrap();
    let mut bytes = Vec::new();
    ser::save_params(&params, &mut bytes).unwrap();
    let dump = hexdump_c(&bytes);
    assert_eq!(
        doc_example("params-toy-n10"),
        dump,
        "docs/object-format.md is out of date; the params example is now:\n{dump}"
    );

    // The first 109 bytes of a level-0 ciphertext: header, scale, slots, degree, layout.
    let mut f = fixture(16);
    let ct = small_ciphertext(&mut f);
    let dump = hexdump_c(&ct[..RESIDUES_AT]);
    assert_eq!(
        doc_example("ciphertext-toy-n10-head"),
        dump,
        "docs/object-format.md is out of date; the ciphertext example is now:\n{dump}"
    );
    // The constants the document quotes.
    assert_eq!(ser::HEADER_BYTES, 84);
    assert_eq!(ser::CHECKSUM_BYTES, 32);
    assert_eq!((ser::FORMAT_MAJOR, ser::FORMAT_MINOR), (1, 0));
    assert_eq!(&ser::MAGIC, b"HLRM");
    assert_eq!(ser::BODY_LENGTH_OFFSET as usize, BODY_LEN_AT);
}

// ---- the bad-input corpus ---------------------------------------------------------------------

/// One committed bad file: which loader reads it (with which preset) and what it must say.
struct BadInput {
    file: &'static str,
    loader: &'static str,
    params: &'static str,
    error: &'static str,
    what: &'static str,
    broken: &'static str,
    bytes: Vec<u8>,
}

/// xorshift64*: a fixed, documented byte stream for the random-bytes file.
fn xorshift_bytes(mut state: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// Builds the corpus from fixed seeds (see tests/bad_inputs/ckks/README.md).
fn bad_inputs() -> Vec<BadInput> {
    let mut f = fixture(42);
    let good = small_ciphertext(&mut f);
    let len = good.len();
    let with = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut v = good.clone();
        edit(&mut v);
        v
    };
    let mut other = fixture_for("toy-n11", 42);
    let ct11 = other.encrypt_at(&values(11, 4), Level::new(0));
    let mut params = Vec::new();
    ser::save_params(f.ctx.params(), &mut params).unwrap();
    let q0 = f.ctx.params().q()[0];
    let json_with = |json: &str| {
        let mut v = params[..84].to_vec();
        set_u64(&mut v, BODY_LEN_AT, json.len() as u64);
        v.extend_from_slice(json.as_bytes());
        v.extend_from_slice(&[0; 32]);
        reseal(v)
    };
    let literal = serde_json::to_string(f.ctx.params().literal()).unwrap();
    let b = |file, error, what, broken, bytes| BadInput {
        file,
        loader: "ciphertext",
        params: "toy-n10",
        error,
        what,
        broken,
        bytes,
    };
    vec![
        b("empty.hlrm", "Truncated", "magic", "no bytes", Vec::new()),
        b(
            "truncated_header.hlrm",
            "Truncated",
            "parameter fingerprint",
            "the first 40 bytes of a valid ciphertext",
            good[..40].to_vec(),
        ),
        b(
            "truncated_body.hlrm",
            "Truncated",
            "residues",
            "a valid ciphertext cut 5000 bytes into its first polynomial",
            good[..RESIDUES_AT + 5000].to_vec(),
        ),
        b(
            "truncated_checksum.hlrm",
            "Truncated",
            "checksum",
            "a valid ciphertext without its last 10 bytes",
            good[..len - 10].to_vec(),
        ),
        b(
            "wrong_magic.hlrm",
            "BadMagic",
            "",
            "magic HLRX instead of HLRM",
            with(&|v| v[3] = b'X'),
        ),
        b(
            "wrong_version.hlrm",
            "UnsupportedVersion",
            "",
            "format version 2.0",
            with(&|v| v[4] = 2),
        ),
        b(
            "wrong_kind.hlrm",
            "WrongObjectKind",
            "",
            "a valid toy-n10 parameter file",
            params.clone(),
        ),
        b(
            "wrong_params.hlrm",
            "ParamsMismatch",
            "",
            "a valid level-0 ciphertext made for toy-n11",
            other.ct_bytes(&ct11),
        ),
        b(
            "wrong_level.hlrm",
            "Corrupt",
            "Q limb count (level + 1)",
            "level 4 (5 Q limbs) in a 4-limb chain, checksum recomputed",
            reseal(with(&|v| set_u32(v, Q_COUNT_AT, 5))),
        ),
        b(
            "residue_not_reduced.hlrm",
            "CorruptResidue",
            "",
            "residue 33 of limb 0 equal to its prime q_0, checksum recomputed",
            reseal(with(&|v| set_u64(v, RESIDUES_AT + 8 * 33, q0))),
        ),
        b(
            "nan_scale.hlrm",
            "Corrupt",
            "scale",
            "scale NaN, checksum recomputed",
            reseal(with(&|v| set_u64(v, SCALE_AT, f64::NAN.to_bits()))),
        ),
        b(
            "bad_slots.hlrm",
            "Corrupt",
            "slot count",
            "3 slots (not a power of two), checksum recomputed",
            reseal(with(&|v| set_u64(v, SLOTS_AT, 3))),
        ),
        b(
            "absurd_body_length.hlrm",
            "Corrupt",
            "body length",
            "body length 2^64 − 1",
            with(&|v| set_u64(v, BODY_LEN_AT, u64::MAX)),
        ),
        b(
            "flipped_bit.hlrm",
            "ChecksumMismatch",
            "",
            "bit 0 of residue 17 flipped (still below its prime)",
            with(&|v| v[RESIDUES_AT + 8 * 17] ^= 1),
        ),
        b(
            "trailing_garbage.hlrm",
            "TrailingBytes",
            "",
            "a valid ciphertext followed by 16 bytes",
            with(&|v| v.extend_from_slice(b"trailing garbage")),
        ),
        b(
            "random_bytes.hlrm",
            "BadMagic",
            "",
            "512 bytes of xorshift64* seeded with 20240808",
            xorshift_bytes(20240808, 512),
        ),
        BadInput {
            loader: "params",
            ..b(
                "params_unknown_field.hlrm",
                "Corrupt",
                "parameter literal (JSON)",
                "toy-n10 literal with an extra field \"log_t\", checksum recomputed",
                json_with(&literal.replacen('{', "{\"log_t\":16,", 1)),
            )
        },
        BadInput {
            loader: "params",
            ..b(
                "params_insecure.hlrm",
                "Insecure",
                "",
                "toy-n10 literal asking for 128-bit security (log QP = 236 > 27), checksum recomputed",
                json_with(&literal.replace("insecure_test_only", "bits128")),
            )
        },
    ]
}

fn load_with(loader: &str, preset: &str, bytes: &[u8]) -> Result<(), Error> {
    let mut r = bytes;
    if loader == "params" {
        return ser::load_params(&mut r).map(|_| ());
    }
    let ctx = context(preset);
    match loader {
        "ciphertext" => ser::load_ciphertext(&ctx, &mut r).map(|_| ()),
        "plaintext" => ser::load_plaintext(&ctx, &mut r).map(|_| ()),
        "public_key" => ser::load_public_key(&ctx, &mut r).map(|_| ()),
        "relin_key" => ser::load_relin_key(&ctx, &mut r).map(|_| ()),
        "evaluation_keys" => ser::load_evaluation_keys(&ctx, &mut r).map(|_| ()),
        "secret_key" => client::load_secret_key(&ctx, &mut r).map(|_| ()),
        other => panic!("unknown loader {other}"),
    }
}

fn variant_name(e: &Error) -> String {
    let s = format!("{e:?}");
    s.split([' ', '{', '(']).next().unwrap_or("").to_string()
}

fn what_of(e: &Error) -> &'static str {
    match e {
        Error::Corrupt { what, .. } | Error::Truncated { what, .. } => what,
        _ => "",
    }
}

#[test]
fn bad_inputs_corpus() {
    let dir = repo_root().join("tests/bad_inputs/ckks");
    let corpus = bad_inputs();
    if std::env::var_os("HELRM_REGENERATE_BAD_INPUTS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        let mut manifest = Vec::new();
        for bad in &corpus {
            std::fs::write(dir.join(bad.file), &bad.bytes).unwrap();
            manifest.push(serde_json::json!({
                "file": bad.file,
                "loader": bad.loader,
                "params": bad.params,
                "error": bad.error,
                "what": bad.what,
                "broken": bad.broken,
            }));
        }
        let text = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
        std::fs::write(dir.join("manifest.json"), text).unwrap();
    }
    // The generator itself must produce what the manifest promises.
    for bad in &corpus {
        let err = load_with(bad.loader, bad.params, &bad.bytes).unwrap_err();
        assert_eq!(variant_name(&err), bad.error, "{}: {err}", bad.file);
        assert_eq!(what_of(&err), bad.what, "{}: {err}", bad.file);
    }
    // The committed files, as listed by the committed manifest.
    let manifest: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest.len() >= 12);
    let mut listed = Vec::new();
    for entry in &manifest {
        let field = |k: &str| entry[k].as_str().unwrap().to_string();
        let file = field("file");
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        let err = load_with(&field("loader"), &field("params"), &bytes).unwrap_err();
        assert_eq!(variant_name(&err), field("error"), "{file}: {err}");
        assert_eq!(what_of(&err), field("what"), "{file}: {err}");
        // The message is one line (the CLI prints it as such).
        assert!(!err.to_string().contains('\n'), "{file}: {err}");
        listed.push(file);
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "manifest.json" && n != "README.md")
        .collect();
    present.sort();
    listed.sort();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for file in &listed {
        assert!(
            readme.contains(&format!("`{file}`")),
            "README.md lists {file}"
        );
    }
    assert_eq!(
        present, listed,
        "every file is in manifest.json and vice versa"
    );
}

// ---- property tests ---------------------------------------------------------------------------

/// Valid toy-n10 files of every kind, built once.
fn valid_files() -> &'static (Arc<CkksContext>, Vec<Vec<u8>>) {
    static FILES: OnceLock<(Arc<CkksContext>, Vec<Vec<u8>>)> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut f = fixture(77);
        let ctx = f.ctx.clone();
        let mut files = Vec::new();
        let mut out = Vec::new();
        ser::save_params(ctx.params(), &mut out).unwrap();
        files.push(std::mem::take(&mut out));
        files.push(small_ciphertext(&mut f));
        let pt = f.encode(&values(1, 8), Level::new(0), DataClass::PlaintextWeight);
        ser::save_plaintext(&ctx, &pt, &mut out).unwrap();
        files.push(std::mem::take(&mut out));
        ser::save_public_key(&ctx, &f.pk, &mut out).unwrap();
        files.push(std::mem::take(&mut out));
        let relin = f.keygen.relin_key().unwrap();
        ser::save_relin_key(&ctx, &relin, &mut out).unwrap();
        files.push(std::mem::take(&mut out));
        let mut keys = EvaluationKeys::default();
        let k = ctx
            .galois_element_for_rotation(1, ctx.params().slots())
            .unwrap();
        keys.insert_galois(k, f.keygen.galois_key(k).unwrap());
        ser::save_evaluation_keys(&ctx, &keys, &mut out).unwrap();
        files.push(std::mem::take(&mut out));
        client::save_secret_key(&ctx, f.keygen.secret_key(), &mut out).unwrap();
        files.push(std::mem::take(&mut out));
        (ctx, files)
    })
}

/// Feeds `bytes` to every loader; the point is that none panics. Returns how many loaded.
fn feed_all(ctx: &CkksContext, bytes: &[u8]) -> usize {
    let mut ok = 0;
    ok += usize::from(ser::load_params(&mut &bytes[..]).is_ok());
    ok += usize::from(ser::read_header(&mut &bytes[..]).is_ok());
    ok += usize::from(ser::load_ciphertext(ctx, &mut &bytes[..]).is_ok());
    ok += usize::from(ser::load_plaintext(ctx, &mut &bytes[..]).is_ok());
    ok += usize::from(ser::load_public_key(ctx, &mut &bytes[..]).is_ok());
    ok += usize::from(ser::load_relin_key(ctx, &mut &bytes[..]).is_ok());
    ok += usize::from(ser::load_evaluation_keys(ctx, &mut &bytes[..]).is_ok());
    ok += usize::from(client::load_secret_key(ctx, &mut &bytes[..]).is_ok());
    ok
}

#[test]
fn every_valid_file_loads_with_its_own_loader_only() {
    let (ctx, files) = valid_files();
    for (i, bytes) in files.iter().enumerate() {
        // read_header plus exactly one loader.
        assert_eq!(feed_all(ctx, bytes), 2, "file {i}");
    }
}

/// One edit of a valid file.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR a byte at a position (taken modulo the length).
    Xor(usize, u8),
    /// Set a little-endian u64 at a position (modulo the length), e.g. a length or count.
    Word(usize, u64),
    /// Cut the file at a position (modulo the length).
    Truncate(usize),
    /// Insert bytes at a position (modulo the length).
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1..=255u8).prop_map(|(p, x)| Mutation::Xor(p, x)),
        // Field positions get extra weight: the header and the first fields.
        3 => (0..140usize, any::<u8>()).prop_map(|(p, x)| Mutation::Xor(p, x.max(1))),
        2 => (0..140usize, prop_oneof![any::<u64>(), 0..4096u64, Just(u64::MAX)])
            .prop_map(|(p, w)| Mutation::Word(p, w)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
    ]
}

fn apply(mut v: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let len = v.len().max(1);
    match m {
        Mutation::Xor(p, x) => {
            if let Some(b) = v.get_mut(p % len) {
                *b ^= x;
            }
        }
        Mutation::Word(p, w) => {
            let p = p % len;
            for (i, b) in w.to_le_bytes().iter().enumerate() {
                if let Some(t) = v.get_mut(p + i) {
                    *t = *b;
                }
            }
        }
        Mutation::Truncate(p) => v.truncate(p % len),
        Mutation::Insert(p, b) => {
            let p = p % len;
            v.splice(p..p, b.iter().copied());
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (ctx, _) = valid_files();
        prop_assert_eq!(feed_all(ctx, &bytes), 0);
    }

    #[test]
    fn valid_header_then_random_bytes_never_panic(
        file in 0..7usize,
        body_len in prop_oneof![any::<u64>(), 0..70_000u64],
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let (ctx, files) = valid_files();
        let mut v = files[file][..84].to_vec();
        set_u64(&mut v, BODY_LEN_AT, body_len);
        v.extend_from_slice(&tail);
        feed_all(ctx, &v);
    }

    #[test]
    fn mutated_files_never_panic(
        file in 0..7usize,
        mutations in proptest::collection::vec(mutation(), 1..6),
        fix_checksum in any::<bool>(),
    ) {
        let (ctx, files) = valid_files();
        let mut v = files[file].clone();
        for m in &mutations {
            v = apply(v, m);
        }
        if fix_checksum && v.len() > 32 {
            v = reseal(v);
        }
        // A mutated file may still load (a resealed residue change below its prime is a valid
        // object); it must never panic, and never load as more than one kind.
        prop_assert!(feed_all(ctx, &v) <= 2);
    }
}

//! Known-answer vectors from the independent generator `scripts/gen_ntt_kat.py` (naive
//! evaluation at the odd powers of ψ in bit-reversed order), for every kernel on this CPU.

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

use helrm_core::math::ntt::{Isa, NttPlan};
use helrm_core::math::prime::generate_primes;
use serde_json::Value;

fn numbers(v: &Value, key: &str) -> Vec<u64> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn check(file: &str, bits: u32) {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let n = v["n"].as_u64().unwrap() as usize;
    let q = v["q"].as_u64().unwrap();
    let input = numbers(&v, "input");
    let want = numbers(&v, "forward");
    assert_eq!((input.len(), want.len()), (n, n));
    // The generator picks its prime and root on its own; they must agree with ours.
    assert_eq!(generate_primes(n, &[bits]).unwrap()[0], q, "{file}: prime");
    for isa in Isa::available() {
        let plan = NttPlan::try_new_with_isa(n, q, isa).unwrap();
        assert_eq!(plan.psi(), v["psi"].as_u64().unwrap(), "{file}: psi");
        let mut a = input.clone();
        plan.forward(&mut a).unwrap();
        assert!(a == want, "{file}: forward differs on {}", plan.isa());
        plan.inverse(&mut a).unwrap();
        assert!(a == input, "{file}: inverse differs on {}", plan.isa());
    }
}

#[test]
fn known_answers_n1024_30_bit_prime() {
    check("ntt_kat_n1024_q30.json", 30);
}

#[test]
fn known_answers_n1024_60_bit_prime() {
    check("ntt_kat_n1024_q60.json", 60);
}

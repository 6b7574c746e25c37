//! `HELRM_ISA` caps the kernel a plan uses (own test binary: it sets the environment).

#![allow(clippy::unwrap_used, reason = "test helpers panic on failure")]

#[path = "ntt_common.rs"]
mod common;

use helrm_core::math::ntt::{Isa, NttPlan};
use helrm_core::Error;

#[test]
fn helrm_isa_caps_the_kernel_and_rejects_unknown_names() {
    let n = 1024;
    let q = common::prime(n, 49);
    // Sole test in this binary, so no other thread reads the environment meanwhile.
    std::env::set_var("HELRM_ISA", "scalar");
    assert_eq!(NttPlan::try_new(n, q).unwrap().isa(), Isa::Scalar);
    std::env::set_var("HELRM_ISA", "avx2");
    assert!(NttPlan::try_new(n, q).unwrap().isa() <= Isa::Avx2);
    std::env::set_var("HELRM_ISA", "Avx512IFMA");
    assert_eq!(NttPlan::try_new(n, q).unwrap().isa(), Isa::best_available());
    std::env::set_var("HELRM_ISA", "neon");
    assert!(matches!(
        NttPlan::try_new(n, q),
        Err(Error::UnknownIsa { value, origin: "HELRM_ISA" }) if value == "neon"
    ));
    std::env::set_var("HELRM_ISA", "");
    assert_eq!(NttPlan::try_new(n, q).unwrap().isa(), Isa::best_available());
    std::env::remove_var("HELRM_ISA");
    assert_eq!(NttPlan::try_new(n, q).unwrap().isa(), Isa::best_available());
}

//! x86-64 kernels: detection tokens and the per-ISA arithmetic.
//!
//! A token is a zero-sized proof that run-time detection saw the features its kernels are
//! compiled for; its field is private to this module, so `try_new` is the only way to get one.

pub(super) mod avx2;
pub(super) mod avx512;
mod engine;
pub(super) mod ifma;
pub(super) mod mont52;
pub(super) mod vec512;

/// Proof that the CPU runs AVX2.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2 {
    _private: (),
}

impl Avx2 {
    /// A token if the CPU has AVX2.
    pub(crate) fn try_new() -> Option<Self> {
        is_x86_feature_detected!("avx2").then_some(Self { _private: () })
    }
}

/// Proof that the CPU runs AVX-512 F and DQ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512 {
    _private: (),
}

impl Avx512 {
    /// A token if the CPU has AVX-512 F and DQ.
    pub(crate) fn try_new() -> Option<Self> {
        (is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512dq"))
            .then_some(Self { _private: () })
    }
}

/// Proof that the CPU runs AVX-512 F, DQ and IFMA.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ifma {
    _private: (),
}

impl Ifma {
    /// A token if the CPU has AVX-512 F, DQ and IFMA.
    pub(crate) fn try_new() -> Option<Self> {
        (Avx512::try_new().is_some() && is_x86_feature_detected!("avx512ifma"))
            .then_some(Self { _private: () })
    }

    /// IFMA detection included AVX-512 F and DQ.
    pub(crate) fn avx512(self) -> Avx512 {
        Avx512 { _private: () }
    }
}

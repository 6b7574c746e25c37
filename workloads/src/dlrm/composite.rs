//! The composite minimax ReLU of `helrm_core::circuits::activation` as workloads activations.
//!
//! After training with the exact ReLU, [`Dlrm::relu_to_core_composite`] replaces every ReLU
//! by `x · step(x / B)`, `step` the composition of the core's sign stages (degrees
//! `[15, 15, 27]`, the last folded into `step = ½ + ½·p₃`), `B = 2 ×` the largest
//! pre-activation magnitude calibration saw in that layer (Orion's margin). The plaintext
//! model then evaluates exactly the polynomials the encrypted model evaluates.
//!
//! # Example
//! ```
//! use helrm_workloads::dlrm::composite::core_relu_stages;
//! let stages = core_relu_stages()?;
//! assert_eq!(stages.len(), 3);
//! assert_eq!(stages.iter().map(|p| p.depth()).sum::<u32>(), 13); // + 1 for x · step
//! # Ok::<(), helrm_workloads::Error>(())
//! ```

use helrm_core::circuits::activation::Activation as CoreActivation;
use helrm_core::circuits::poly::Basis;

use super::activation::{ChebPoly, CompositeOutput};
use super::model::{Dlrm, CALIBRATION_MARGIN};
use crate::error::{Error, Result};

/// The core's default composite ReLU stages (`step = p₃ ∘ p₂ ∘ p₁`) as [`ChebPoly`]s on
/// `[−1, 1]`, with the very coefficients the encrypted evaluation uses.
///
/// # Errors
/// [`Error::Ckks`] if the core cannot build its ReLU; [`Error::InvalidParameter`]
/// (`name: "stages"`) if a stage is not a Chebyshev polynomial.
pub fn core_relu_stages() -> Result<Vec<ChebPoly>> {
    let CoreActivation::Relu(relu) = CoreActivation::relu()? else {
        return Err(Error::InvalidParameter {
            name: "stages",
            value: 0.0,
            expected: "the core's composite ReLU",
        });
    };
    relu.stages()
        .iter()
        .map(|p| match p.basis() {
            Basis::Chebyshev { a, b } => ChebPoly::new(a, b, p.coeffs().to_vec()),
            Basis::Monomial => Err(Error::InvalidParameter {
                name: "stages",
                value: p.degree() as f64,
                expected: "Chebyshev-basis sign stages",
            }),
        })
        .collect()
}

impl Dlrm {
    /// Replaces every exact ReLU by the core's composite ReLU with the calibrated bound
    /// (margin [`CALIBRATION_MARGIN`]); returns how many layers changed.
    ///
    /// # Errors
    /// [`core_relu_stages`]' errors; [`Dlrm::relu_to_composite`]'s
    /// ([`Error::MissingCalibration`] for an uncalibrated model).
    pub fn relu_to_core_composite(&mut self) -> Result<usize> {
        let stages = core_relu_stages()?;
        self.relu_to_composite(&stages, CompositeOutput::ReluFromStep, CALIBRATION_MARGIN)
    }

    /// As [`Dlrm::relu_to_core_composite`] with bound 1 everywhere, calibration or not: for
    /// plans and symbolic traces, which depend on shapes only.
    ///
    /// # Errors
    /// [`core_relu_stages`]' errors.
    pub fn relu_to_core_composite_unit(&mut self) -> Result<usize> {
        let stages = core_relu_stages()?;
        self.relu_to_composite_with_bound(&stages, CompositeOutput::ReluFromStep, 1.0)
    }
}

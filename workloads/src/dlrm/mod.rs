//! The plaintext DLRM: configuration, weights, forward pass, training, metrics, calibration,
//! model files and the export the encrypted pipeline consumes.
//!
//! ```text
//! dense ─ bottom MLP ─┐
//! sparse ─ embedding tables (full, or HE-LRM digit-compressed) ─┤ concat ─ top MLP ─ logit
//! ```
//! The client applies the sigmoid to the logit. Activations are polynomials evaluated exactly
//! as the encrypted model does ([`activation`]), so plaintext and encrypted runs compute the
//! same function and can be compared number for number.
//!
//! - [`config`]: [`DlrmConfig`] and the named presets `uci`, `criteo`, `criteo-44m`,
//!   `criteo-full`;
//! - [`model`]: [`Dlrm`] (weights, [`Dlrm::logit`], [`Dlrm::predict_logits`], depth);
//! - [`train`]: [`train::train`], [`train::loss_and_gradients`], [`TrainConfig`];
//! - [`metrics`]: accuracy, ROC AUC, log loss;
//! - [`calibrate`]: per-layer value ranges ([`Dlrm::calibrate`]);
//! - [`composite`]: the core's composite ReLU in place of the exact one
//!   ([`Dlrm::relu_to_core_composite`]);
//! - [`io`]: versioned JSON model files ([`Dlrm::save`], [`Dlrm::load`]);
//! - [`export`]: [`Dlrm::export`] for the DLRM → CKKS plan.
//!
//! # Example: train and evaluate the UCI model
//! ```no_run
//! use helrm_workloads::data::cleveland_split;
//! use helrm_workloads::dlrm::{train::train, Dlrm, DlrmConfig, TrainConfig};
//! let split = cleveland_split()?;
//! let mut model = Dlrm::new(DlrmConfig::uci(), 1)?;
//! train(&mut model, &split.train, &TrainConfig::uci(), |_| {})?;
//! let m = model.evaluate(&split.test)?;
//! println!("accuracy {:.3}, AUC {:?}", m.accuracy, m.auc);
//! # Ok::<(), helrm_workloads::Error>(())
//! ```

pub mod activation;
pub mod calibrate;
pub mod composite;
pub mod config;
pub mod export;
pub mod io;
pub mod metrics;
pub mod model;
pub mod train;

pub use activation::{Activation, ChebPoly, Composite, CompositeOutput};
pub use calibrate::{Calibration, LayerRanges, ValueRange};
pub use config::{DlrmConfig, LayerConfig, CONFIG_NAMES};
pub use export::{DlrmExport, LayerExport, MlpStage};
pub use metrics::Metrics;
pub use model::{DepthReport, Dlrm, EmbeddingTable, Linear, CALIBRATION_MARGIN};
pub use train::{DenseOptimizer, EmbeddingOptimizer, TrainConfig, TrainReport};

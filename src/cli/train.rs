//! `helrm train --dataset uci|criteo [--config NAME] --out FILE [--json]`: trains a plaintext
//! DLRM on the shipped data, reports its held-out metrics and saves it.
//!
//! - `uci`: the fixed Cleveland split (242 training rows, 61 held out; stratified, seed
//!   20240808), dense features standardised on the training rows; default config `uci`.
//! - `criteo`: the 8,000 shipped Kaggle training rows, evaluated on the separate 2,000 hold-out
//!   rows; categoricals hashed into the real Kaggle table sizes, dense `ln(1 + x)` features
//!   standardised on the training rows; default config `criteo` (HE-LRM's compressed layout).
//!   `--compare-full` also trains `criteo-full` (no compression, 540 M parameters, ≈ 2.2 GB)
//!   with the same seed and recipe and reports its hold-out metrics next to the saved model's.
//!
//! `--data FILE` trains on the rows of a user file instead (UCI `processed.*.data` format for
//! `uci`, Criteo Kaggle TSV rows for `criteo`, categoricals hashed as above): 20 % held out,
//! stratified by label, seed 20240808. A malformed file is a bad input (exit code 2) naming
//! the file, line and field; nothing is written.
//!
//! The saved model holds the standardizer (clients apply it before encrypting) and the
//! calibration ranges measured on the training rows. The file is written atomically.
//! `--json` prints one object: `dataset`, `config`, `out`, `seed`, `parameters`,
//! `embedding_rows`, `compressed_tables`, `train_rows`, `test_rows`, `test_split`, `epochs`,
//! `train_seconds`, `train` and `test` (each `{samples, positives, accuracy, auc, log_loss}`),
//! `depth` (levels per layer and in total, `null` while the model uses exact ReLU) and
//! `full_model` (`null` unless `--compare-full`), `exact_relu_test` (`null` without ReLU).
//!
//! ReLU models (Criteo) are trained with the exact ReLU, calibrated, and then saved with every
//! ReLU replaced by the core's composite ReLU pre-scaled by the calibrated bound (margin 2):
//! `train`/`test` are that model's metrics — the function the encrypted run computes — and
//! `exact_relu_test` the exact-ReLU model's, for comparison.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use helrm_workloads::data::uci::load_uci_file;
use helrm_workloads::data::{
    cleveland_split, load_kaggle, CriteoIndexing, CriteoRaw, Dataset, IndexScheme, SplitSpec,
    Standardizer,
};
use helrm_workloads::dlrm::train::{train, Progress};
use helrm_workloads::dlrm::{DepthReport, Dlrm, DlrmConfig, Metrics, TrainConfig};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::CliError;

/// Which shipped dataset to train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DatasetName {
    /// UCI Heart Disease (Cleveland).
    Uci,
    /// Criteo Kaggle sample (8,000 train + 2,000 hold-out rows).
    Criteo,
}

/// Arguments of `helrm train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The dataset.
    #[arg(long, value_enum)]
    pub dataset: DatasetName,
    /// Model configuration: uci, criteo, criteo-44m or criteo-full (default: the dataset's).
    #[arg(long)]
    pub config: Option<String>,
    /// Where to write the trained model (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the weight initialisation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Criteo only: also train the uncompressed `criteo-full` model and report it.
    #[arg(long)]
    pub compare_full: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `helrm train` on the command line: [`TrainArgs`] and a user data file.
#[derive(Debug, Args)]
pub struct TrainCommand {
    /// What to train.
    #[command(flatten)]
    pub args: TrainArgs,
    /// Train on this file's rows instead of the shipped data (the `--dataset` format).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
}

/// The uncompressed model's results (`--compare-full`).
#[derive(Debug, Serialize)]
pub struct FullModel {
    /// Its configuration (`criteo-full`).
    pub config: String,
    /// Its trainable parameters.
    pub parameters: u64,
    /// Its training time.
    pub train_seconds: f64,
    /// Its hold-out metrics.
    pub test: Metrics,
}

/// What `helrm train` reports.
#[derive(Debug, Serialize)]
pub struct TrainOutput {
    /// `uci` or `criteo`.
    pub dataset: &'static str,
    /// The configuration trained.
    pub config: String,
    /// The model file written.
    pub out: String,
    /// Initialisation seed.
    pub seed: u64,
    /// Trainable parameters.
    pub parameters: u64,
    /// Σ rows of the packed one-hot layout.
    pub embedding_rows: u64,
    /// Tables stored digit-compressed.
    pub compressed_tables: usize,
    /// Training rows.
    pub train_rows: usize,
    /// Held-out rows.
    pub test_rows: usize,
    /// Which rows are held out.
    pub test_split: &'static str,
    /// Epochs trained.
    pub epochs: usize,
    /// Training wall time.
    pub train_seconds: f64,
    /// Metrics on the training rows.
    pub train: Metrics,
    /// Metrics on the held-out rows.
    pub test: Metrics,
    /// Multiplicative depth, `None` while the model uses exact ReLU.
    pub depth: Option<DepthReport>,
    /// The uncompressed comparison model, with `--compare-full`.
    pub full_model: Option<FullModel>,
    /// Hold-out metrics of the exact-ReLU model before its ReLUs were replaced by the
    /// composite ReLU (`train`/`test` are the saved composite model's), `None` without ReLU.
    pub exact_relu_test: Option<Metrics>,
}

/// Trains, evaluates and saves as `args` says.
///
/// # Errors
/// [`CliError::Input`] for an unknown configuration, a configuration that does not fit the
/// dataset, or `--compare-full` on UCI; [`CliError::Run`] when training or saving fails.
pub fn train_and_save(args: &TrainArgs) -> Result<TrainOutput, CliError> {
    train_and_save_from(args, None)
}

/// [`train_and_save`] on the rows of `data` (see the module docs) when given.
///
/// # Errors
/// As [`train_and_save`], and [`CliError::Input`] naming the file for a malformed `data`.
pub fn train_and_save_from(args: &TrainArgs, data: Option<&Path>) -> Result<TrainOutput, CliError> {
    let run = |e: helrm_workloads::Error| CliError::Run(e.to_string());
    let (dataset, default_config, recipe, test_split) = match args.dataset {
        DatasetName::Uci => (
            "uci",
            "uci",
            TrainConfig::uci(),
            "Cleveland rows held out by cleveland_split (stratified 20 %, seed 20240808)",
        ),
        DatasetName::Criteo => (
            "criteo",
            "criteo",
            TrainConfig::criteo(),
            "the shipped Criteo hold-out file (2,000 rows)",
        ),
    };
    if args.compare_full && args.dataset != DatasetName::Criteo {
        return Err(CliError::Input(
            "--compare-full: only for --dataset criteo".into(),
        ));
    }
    let name = args.config.as_deref().unwrap_or(default_config);
    let config = DlrmConfig::named(name).map_err(|e| CliError::Input(format!("--config: {e}")))?;
    let (train_set, test_set, standardizer) = match data {
        None => load(args.dataset).map_err(run)?,
        Some(path) => load_file(args.dataset, path).map_err(|e| {
            let (file, msg) = (path.display().to_string(), e.to_string());
            CliError::Input(if msg.starts_with(&file) {
                msg
            } else {
                format!("--data {file}: {msg}")
            })
        })?,
    };
    if let Some(path) = data {
        let labels = |d: &Dataset| (d.positives(), d.len() - d.positives());
        let ((tp, tn), (hp, hn)) = (labels(&train_set), labels(&test_set));
        if tp == 0 || tn == 0 || hp + hn == 0 {
            return Err(CliError::Input(format!(
                "--data {}: {} rows ({} positive) leave {tp} positive and {tn} negative                  training rows and {} held out; expected both labels among the training rows                  and at least one held-out row",
                path.display(),
                tp + tn + hp + hn,
                tp + hp,
                hp + hn
            )));
        }
    }
    let test_split = if data.is_some() {
        "20 % of the --data rows (stratified, seed 20240808)"
    } else {
        test_split
    };
    let build = |config: DlrmConfig| -> Result<Dlrm, CliError> {
        // Checked before allocating: `criteo-full` alone is 2.2 GB of tables.
        if config.num_dense != train_set.num_dense()
            || config.cardinalities != train_set.cardinalities()
        {
            return Err(CliError::Input(format!(
                "--config {}: does not fit the {dataset} data ({} dense features and {} tables \
                 expected, the data has {} and {})",
                config.name,
                config.num_dense,
                config.cardinalities.len(),
                train_set.num_dense(),
                train_set.num_sparse()
            )));
        }
        let mut model = Dlrm::new(config, args.seed).map_err(run)?;
        model
            .set_standardizer(Some(standardizer.clone()))
            .map_err(run)?;
        Ok(model)
    };
    let mut model = build(config)?;
    let start = Instant::now();
    let bar = progress_bar(&model.config().name, args.json);
    train(&mut model, &train_set, &recipe, |p| tick(&bar, p)).map_err(run)?;
    bar.finish_and_clear();
    let train_seconds = start.elapsed().as_secs_f64();
    let calibration = model.calibrate(&train_set).map_err(run)?;
    model.set_calibration(Some(calibration)).map_err(run)?;
    // The encrypted model evaluates the composite ReLU (calibrated bound, margin 2); the
    // saved model is that one, so plaintext and encrypted runs compute the same function.
    let exact_test = model.evaluate(&test_set).map_err(run)?;
    let exact_relu_test = (model.relu_to_core_composite().map_err(run)? > 0).then_some(exact_test);
    let train_metrics = model.evaluate(&train_set).map_err(run)?;
    let test_metrics = model.evaluate(&test_set).map_err(run)?;
    model.save(&args.out).map_err(run)?;
    let full_model = if args.compare_full {
        let full_config = DlrmConfig::named("criteo-full").map_err(run)?;
        let mut full = build(full_config)?;
        let start = Instant::now();
        let bar = progress_bar("criteo-full", args.json);
        train(&mut full, &train_set, &recipe, |p| tick(&bar, p)).map_err(run)?;
        bar.finish_and_clear();
        Some(FullModel {
            config: full.config().name.clone(),
            parameters: full.parameters(),
            train_seconds: start.elapsed().as_secs_f64(),
            test: full.evaluate(&test_set).map_err(run)?,
        })
    } else {
        None
    };
    Ok(TrainOutput {
        dataset,
        config: model.config().name.clone(),
        out: args.out.display().to_string(),
        seed: args.seed,
        parameters: model.parameters(),
        embedding_rows: model.layout().total_rows(),
        compressed_tables: model.layout().compressed_tables(),
        train_rows: train_set.len(),
        test_rows: test_set.len(),
        test_split,
        epochs: recipe.epochs,
        train_seconds,
        train: train_metrics,
        test: test_metrics,
        depth: model.depth().ok(),
        full_model,
        exact_relu_test,
    })
}

/// Training rows, held-out rows and the training-row standardizer.
fn load(dataset: DatasetName) -> helrm_workloads::Result<(Dataset, Dataset, Standardizer)> {
    match dataset {
        DatasetName::Uci => {
            let split = cleveland_split()?;
            Ok((split.train, split.test, split.standardizer))
        }
        DatasetName::Criteo => {
            let data = load_kaggle(CriteoIndexing::KaggleHashed)?;
            let s = Standardizer::fit(&data.train)?;
            Ok((s.transform(&data.train)?, s.transform(&data.holdout)?, s))
        }
    }
}

/// A user file split 80/20 (stratified, seed 20240808), standardised on its training rows.
fn load_file(
    dataset: DatasetName,
    path: &Path,
) -> helrm_workloads::Result<(Dataset, Dataset, Standardizer)> {
    let all = match dataset {
        DatasetName::Uci => load_uci_file(path)?,
        DatasetName::Criteo => CriteoRaw::load(path)?
            .to_dataset(&IndexScheme::kaggle(), &path.display().to_string())?,
    };
    let split = all.split(&SplitSpec::stratified(0.2, 20_240_808))?;
    let s = Standardizer::fit(&split.train)?;
    Ok((s.transform(&split.train)?, s.transform(&split.test)?, s))
}

fn progress_bar(name: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} epoch {msg} [{bar:30}] {pos}/{len} batches")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(format!("training {name}:"));
    bar
}

fn tick(bar: &ProgressBar, p: &Progress) {
    bar.set_length(p.batches as u64);
    bar.set_position(p.batch as u64);
    bar.set_message(format!("{}/{} loss {:.4}", p.epoch + 1, p.epochs, p.loss));
}

fn metrics_line(label: &str, m: &Metrics) -> String {
    format!(
        "{label:<22} {:>6}  {:>8.4}  {:>8}  {:>8.4}",
        m.samples,
        m.accuracy,
        m.auc.map_or_else(|| "-".to_string(), |a| format!("{a:.4}")),
        m.log_loss
    )
}

/// Runs `helrm train`.
pub fn run(command: TrainCommand) -> Result<(), CliError> {
    let args = command.args;
    let out = train_and_save_from(&args, command.data.as_deref())?;
    if args.json {
        let s = serde_json::to_string(&out)
            .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
        println!("{s}");
        return Ok(());
    }
    println!(
        "trained {} on {} ({} rows, {} epoch(s), {:.2} s): {} parameters, {} embedding rows \
         ({} tables compressed)",
        out.config,
        out.dataset,
        out.train_rows,
        out.epochs,
        out.train_seconds,
        out.parameters,
        out.embedding_rows,
        out.compressed_tables
    );
    println!(
        "{:<22} {:>6}  {:>8}  {:>8}  {:>8}",
        "rows", "n", "accuracy", "AUC", "log loss"
    );
    println!("{}", metrics_line("train", &out.train));
    println!(
        "{}",
        metrics_line(&format!("held out ({})", out.config), &out.test)
    );
    if let Some(m) = &out.exact_relu_test {
        println!(
            "{}",
            metrics_line(&format!("held out ({}, exact ReLU)", out.config), m)
        );
    }
    if let Some(f) = &out.full_model {
        println!(
            "{}",
            metrics_line(&format!("held out ({})", f.config), &f.test)
        );
        println!(
            "({} parameters uncompressed, trained in {:.2} s)",
            f.parameters, f.train_seconds
        );
    }
    println!("held out: {}", out.test_split);
    match &out.depth {
        Some(d) => println!(
            "multiplicative depth: {} levels (bottom {:?}, embeddings {}, top {:?})",
            d.total, d.bottom, d.embedding, d.top
        ),
        None => println!(
            "multiplicative depth: not yet defined (exact ReLU; the encrypted run replaces it \
             by its composite polynomial approximation)"
        ),
    }
    println!("model written to {}", out.out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dataset: DatasetName, config: Option<&str>, out: PathBuf) -> TrainArgs {
        TrainArgs {
            dataset,
            config: config.map(str::to_owned),
            out,
            seed: 1,
            compare_full: false,
            json: true,
        }
    }

    #[test]
    fn uci_trains_saves_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("uci.json");
        let out = train_and_save(&args(DatasetName::Uci, None, path.clone())).unwrap();
        assert_eq!(out.config, "uci");
        assert_eq!((out.train_rows, out.test_rows), (242, 61));
        assert!(out.test.accuracy >= 0.8, "{}", out.test.accuracy);
        assert_eq!(out.depth.as_ref().unwrap().total, 6);
        let model = Dlrm::load(&path).unwrap();
        assert!(model.standardizer().is_some());
        assert_eq!(model.calibration().unwrap().samples, 242);
        let v = serde_json::to_value(&out).unwrap();
        for key in [
            "dataset",
            "config",
            "out",
            "train",
            "test",
            "depth",
            "full_model",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert!(v["test"]["auc"].as_f64().unwrap() > 0.85);
    }

    #[test]
    fn bad_combinations_are_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m.json");
        assert!(matches!(
            train_and_save(&args(DatasetName::Uci, Some("criteo"), out.clone())),
            Err(CliError::Input(ref m)) if m.contains("does not fit")
        ));
        assert!(matches!(
            train_and_save(&args(DatasetName::Uci, Some("nope"), out.clone())),
            Err(CliError::Input(ref m)) if m.contains("--config")
        ));
        let mut a = args(DatasetName::Uci, None, out.clone());
        a.compare_full = true;
        assert!(matches!(train_and_save(&a), Err(CliError::Input(_))));
        assert!(!out.exists());
    }
}

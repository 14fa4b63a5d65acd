//! riskpipe-train: the training stage.
//!
//! Fits each candidate model (logistic regression on WoE features, decision tree on encoded
//! raw features) over its YAML-declared grid with stratified k-fold cross-validation, refits the
//! best grid point on all training rows, and selects the model deploy will use (best mean CV
//! AUC, or the one named in `train.select`). Writes `<model>.json`, `cv.json`, `selection.json`.
//!
//! Where it sits: features -> **train** -> evaluate. The one design decision: selection uses
//! cross-validation on training rows only; the test set is never seen before `evaluate`.
//!
//! ```
//! use riskpipe_core::Target;
//! use riskpipe_models::Family;
//! use riskpipe_train::TrainConfig;
//! let params = TrainConfig::default().resolve("p.yaml", 7, Target::Binary).unwrap();
//! assert_eq!(params.cv_folds, 5);
//! assert_eq!(params.models.grid(Family::Logistic).len(), 4);
//! assert_eq!(params.models.grid(Family::Tree).len(), 6);
//! ```
#![warn(missing_docs)]

mod config;
mod detect;
mod run;
mod selection;

pub use config::{
    AdaBoostGridConfig, BaggingGridConfig, BoostingGridConfig, Calibration, ClassWeight, FloatRange, FloatValues,
    ForestGridConfig, Grids, IntRange, IntValues, LogisticGridConfig, MlpGridConfig, ModelsConfig,
    RegressionTreeGridConfig, Search, TrainConfig, TrainParams, TreeGridConfig,
};

pub use detect::ENSEMBLE;
pub use run::{CalibrationFile, GridPoint, ModelSearch, SEED_MODELS, SeedModels, Selection, inputs, run};

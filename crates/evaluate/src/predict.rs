//! What every task with a target reads first (the matrices, the transform, the target, the
//! train stage's selection), and scoring both matrices with a trained model.

use riskpipe_core::io::{read_json, read_parquet};
use riskpipe_core::names::ROW;
use riskpipe_core::stage::StageInputs;
use riskpipe_core::views::SelectionView;
use riskpipe_core::{Column, Error, Frame, Result};
use riskpipe_models::Model;

/// The features stage's matrices and transform, the target, and the train stage's selection.
pub(crate) struct Inputs {
    pub train: Frame,
    pub test: Frame,
    pub transform: riskpipe_features::Transform,
    pub target: String,
    pub ytr: Vec<f64>,
    pub yte: Vec<f64>,
    pub selection: SelectionView,
}

impl Inputs {
    pub(crate) fn load(inputs: &StageInputs) -> Result<Inputs> {
        let train = read_parquet(&inputs.artifact("features/train.parquet")?)?;
        let test = read_parquet(&inputs.artifact("features/test.parquet")?)?;
        let transform: riskpipe_features::Transform = read_json(&inputs.artifact("features/transform.json")?)?;
        let target = transform
            .target
            .clone()
            .ok_or_else(|| Error::Internal("transform.json names no target".into()))?;
        let y_of = |f: &Frame, part: &str| -> Result<Vec<f64>> {
            Ok(f.number(&target)
                .ok_or_else(|| Error::Internal(format!("the {part} matrix has no target `{target}`")))?
                .to_vec())
        };
        let (ytr, yte) = (y_of(&train, "train")?, y_of(&test, "test")?);
        let selection: SelectionView = read_json(&inputs.artifact(SelectionView::PATH)?)?;
        Ok(Inputs {
            train,
            test,
            transform,
            target,
            ytr,
            yte,
            selection,
        })
    }

    /// The start of `predictions.parquet`: the test rows' keys and target `yte`.
    pub(crate) fn predictions_of(test: &Frame, target: &str, yte: &[f64]) -> Frame {
        let mut preds = Frame::new();
        preds.push(
            ROW,
            test.get(ROW)
                .cloned()
                .unwrap_or(Column::Number(vec![f64::NAN; test.rows()])),
        );
        preds.push(target.to_string(), Column::Number(yte.to_vec()));
        preds
    }
}

/// The train stage's model `name`, and its predictions on the training and test matrices. A
/// prediction that is not finite is an error naming the model, the matrix and the row; `what`
/// says what a prediction is (`a PD`, `an amount`).
pub(crate) fn predict_parts(
    inputs: &StageInputs,
    name: &str,
    train: &Frame,
    test: &Frame,
    what: &str,
) -> Result<(Model, Vec<f64>, Vec<f64>)> {
    let model: Model = read_json(&inputs.artifact(&format!("train/{name}.json"))?)?;
    let ptr = model.predict_frame(train)?;
    let pte = model.predict_frame(test)?;
    for (part, p) in [("train", &ptr), ("test", &pte)] {
        if let Some(i) = riskpipe_core::stats::first_non_finite(p) {
            return Err(Error::Internal(format!(
                "the {name} model gives {what} of {} for {part} row {} (`features/{part}.parquet` row {i}); it must be finite",
                p[i],
                i + 1,
            )));
        }
    }
    Ok((model, ptr, pte))
}

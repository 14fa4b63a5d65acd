//! Loading a trained model and scoring both matrices with it, for every task with a target.

use riskpipe_core::io::read_json;
use riskpipe_core::stage::StageInputs;
use riskpipe_core::{Error, Frame, Result};
use riskpipe_models::Model;

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

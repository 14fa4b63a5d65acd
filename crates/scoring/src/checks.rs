//! What scored rows hold that training never saw: a number outside the feature's training range,
//! a category the transform does not know, a missing value. The rows are scored all the same
//! (the transform caps numbers and maps unseen categories to the fallback); the service flags
//! them in its response and counts them in its metrics.

use std::collections::BTreeMap;

use riskpipe_core::{Column, Frame};
use riskpipe_features::{Encoding, Transform};

/// The checks of a batch of rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputCheck {
    /// Per row: what was unusual, `; `-separated, or `None`.
    pub warnings: Vec<Option<String>>,
    /// Missing values per feature.
    pub missing: BTreeMap<String, u64>,
    /// Values outside the training range, or unseen categories, per feature.
    pub out_of_range: BTreeMap<String, u64>,
}

/// Checks the masked rows `masked` against what `transform` was fitted on.
pub fn check(transform: &Transform, masked: &Frame) -> InputCheck {
    let n = masked.rows();
    let mut notes: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut out = InputCheck::default();
    for f in &transform.features {
        let Some(col) = masked.get(&f.name) else { continue };
        let (mut missing, mut outside) = (0u64, 0u64);
        match (&f.encoding, col) {
            (Encoding::Numeric { .. }, Column::Number(v)) => {
                let special = |x: f64| f.binning.as_ref().is_some_and(|b| b.is_special(x));
                for (i, x) in v.iter().enumerate() {
                    if x.is_nan() {
                        missing += 1;
                    } else if let Some((lo, hi)) = f.range {
                        if (*x < lo || *x > hi) && !special(*x) {
                            outside += 1;
                            notes[i].push(format!("`{}` = {x} is outside the training range [{lo}, {hi}]", f.name));
                        }
                    }
                }
            }
            (Encoding::Categorical { codes, .. }, Column::Text(v)) => {
                for (i, s) in v.iter().enumerate() {
                    match s {
                        None => missing += 1,
                        Some(s) if !codes.contains_key(s) => {
                            outside += 1;
                            notes[i].push(format!("`{}` = `{s}` was not seen in training", f.name));
                        }
                        Some(_) => {}
                    }
                }
            }
            _ => {}
        }
        if missing > 0 {
            out.missing.insert(f.name.clone(), missing);
        }
        if outside > 0 {
            out.out_of_range.insert(f.name.clone(), outside);
        }
    }
    out.warnings = notes
        .into_iter()
        .map(|v| (!v.is_empty()).then(|| v.join("; ")))
        .collect();
    out
}

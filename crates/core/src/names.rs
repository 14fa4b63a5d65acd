//! The column names riskpipe adds to tables, in one place, and the rule that keeps user columns
//! from colliding with them.
//!
//! Every table a stage writes mixes the user's columns with a few of its own. A user column may
//! not take a name that riskpipe writes into a table where that column also appears:
//!
//! | table | riskpipe's columns | user columns in it |
//! |---|---|---|
//! | `ingest/data.parquet`, `privacy/data.parquet` | `source_row` | all |
//! | `features/{train,test}.parquet` | `row`, `woe_<f>`, `<f>__missing`, `<f>__scaled`, `<f>__scaled=<category>` | target or label, features |
//! | `evaluate/predictions.parquet` | `row`, `p_<model>`, `pd_calibrated` | target |
//! | `score` output, `deploy/test_scores.parquet` | `pd`, `score`, `reason_<k>` | id |
//!
//! Ingest checks every source column against [`reserved`] before anything is written, so a
//! collision is a user error naming the column (exit 2), never a duplicate column later on.

/// The 0-based source row number that ingest adds.
pub const SOURCE_ROW: &str = "source_row";
/// The row key of `split.parquet`, the matrices and the predictions (the id, or the source row).
pub const ROW: &str = "row";
/// `train` or `test` in `split.parquet`.
pub const SPLIT: &str = "split";
/// Prefix of a feature's weight-of-evidence column.
pub const WOE_PREFIX: &str = "woe_";
/// Suffix of a numeric feature's missing-value flag.
pub const MISSING_SUFFIX: &str = "__missing";
/// Suffix of a feature's scaled column (the detectors' input).
pub const SCALED_SUFFIX: &str = "__scaled";
/// Between a categorical feature's name and one of its categories in a one-hot detector column
/// (`channel__scaled=web`).
pub const ONE_HOT_INFIX: &str = "__scaled=";
/// Loss prediction's target when it is derived from exposures and recoveries.
pub const REALISED_LGD: &str = "realised_lgd";
/// Loss prediction's target when it is a credit conversion factor derived from exposures.
pub const REALISED_CCF: &str = "realised_ccf";
/// Prefix of a model's test-set prediction in `predictions.parquet`.
pub const PREDICTION_PREFIX: &str = "p_";
/// The calibrated PD column of `predictions.parquet`.
pub const PD_CALIBRATED: &str = "pd_calibrated";
/// Scoring output: probability of default.
pub const PD: &str = "pd";
/// Scoring output: points.
pub const SCORE: &str = "score";
/// Scoring output of a detector bundle: the anomaly score.
pub const ANOMALY_SCORE: &str = "anomaly_score";
/// Scoring output of a detector bundle: 1 when the score reaches the flag threshold.
pub const IS_FLAGGED: &str = "is_flagged";
/// Scoring output of a loss bundle: the predicted loss given default.
pub const LGD: &str = "lgd";
/// Scoring output of a CCF bundle: the predicted credit conversion factor.
pub const CCF: &str = "ccf";
/// The row-weight column of the model matrices (`train.weight`'s values).
pub const WEIGHT: &str = "__weight";
/// The column of the model matrices the folds are stratified on (`train.stratify`'s values).
pub const STRATUM: &str = "__stratum";
/// The column of the model matrices holding each row's day relative to the training window's
/// first day (`features.periods`): negative days are the validation folds' history.
pub const DAY: &str = "__day";
/// The column of the model matrices holding each row's card as its rank among the cards
/// (`features.periods.card`): card precision counts cards, and blocked cards leave the test.
pub const CARD: &str = "__card";
/// Scoring output of a loss bundle with a book: exposure at default.
pub const EAD: &str = "ead";
/// Scoring output of a loss bundle with a book: 12-month expected loss, PD x LGD x EAD.
pub const EL: &str = "el";
/// Scoring output of a loss bundle with a book: the IFRS 9 stage (1, 2 or 3).
pub const STAGE: &str = "stage";
/// Scoring output of a loss bundle with a book: the IFRS 9 expected credit loss.
pub const ECL: &str = "ecl";
/// Scoring output of a loss bundle with a book: Basel IRB risk-weighted assets.
pub const RWA: &str = "rwa";
/// Scoring output: prefix of the reason codes `reason_1..k`.
pub const REASON_PREFIX: &str = "reason_";

/// The feature a detector column derives from: `income__scaled`, `income__missing` and
/// `channel__scaled=web` give `income`, `income` and `channel`; any other name is itself.
pub fn detector_feature(column: &str) -> &str {
    if let Some((feature, _)) = column.split_once(ONE_HOT_INFIX) {
        return feature;
    }
    column
        .strip_suffix(SCALED_SUFFIX)
        .or_else(|| column.strip_suffix(MISSING_SUFFIX))
        .unwrap_or(column)
}

/// What a source column is to the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The target.
    Target,
    /// The row identifier.
    Id,
    /// Any other column (a feature candidate).
    Column,
}

/// Why `name` cannot be a source column with `role`, or `None` when it is free.
pub fn reserved(name: &str, role: Role) -> Option<String> {
    if name == SOURCE_ROW {
        return Some("riskpipe adds the source row number under this name".into());
    }
    if role == Role::Column && (name == REALISED_LGD || name == REALISED_CCF) {
        return Some("loss prediction derives its target (the realised LGD or CCF) under this name".into());
    }
    if role != Role::Id {
        if name == ROW {
            return Some("the feature matrices key their rows under this name".into());
        }
        if name.starts_with(WOE_PREFIX) {
            return Some(format!(
                "names starting with `{WOE_PREFIX}` are the weight-of-evidence columns riskpipe derives"
            ));
        }
        if name.ends_with(MISSING_SUFFIX) {
            return Some(format!(
                "names ending in `{MISSING_SUFFIX}` are the missing-value flags riskpipe derives"
            ));
        }
        if name.ends_with(SCALED_SUFFIX) || name.contains(ONE_HOT_INFIX) {
            return Some(format!(
                "names ending in `{SCALED_SUFFIX}` are the scaled columns riskpipe derives for detectors"
            ));
        }
    }
    if role == Role::Target && (name.starts_with(PREDICTION_PREFIX) || name == PD_CALIBRATED) {
        return Some(format!(
            "`{PREDICTION_PREFIX}<model>` and `{PD_CALIBRATED}` are the prediction columns written beside the target"
        ));
    }
    if role == Role::Id && is_score_output(name) {
        return Some(format!(
            "`{PD}`, `{SCORE}`, `{LGD}`, `{CCF}`, `{ANOMALY_SCORE}`, `{IS_FLAGGED}` and `{REASON_PREFIX}<k>` are the scoring outputs written beside the id"
        ));
    }
    None
}

/// Whether `name` is one of the columns `score` writes besides the id.
pub fn is_score_output(name: &str) -> bool {
    name == PD
        || name == SCORE
        || name == LGD
        || name == CCF
        || name == ANOMALY_SCORE
        || name == IS_FLAGGED
        || name
            .strip_prefix(REASON_PREFIX)
            .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_reserved_by_role() {
        assert!(reserved("source_row", Role::Column).is_some());
        assert!(reserved("row", Role::Target).is_some());
        assert!(reserved("row", Role::Id).is_none());
        assert!(reserved("woe_income", Role::Column).is_some());
        assert!(reserved("income__missing", Role::Column).is_some());
        assert!(reserved("score", Role::Id).is_some());
        assert!(reserved("reason_3", Role::Id).is_some());
        assert!(reserved("reason_code", Role::Id).is_none());
        assert!(reserved("score", Role::Column).is_none());
        assert!(reserved("p_logistic", Role::Target).is_some());
        assert!(reserved("p_logistic", Role::Column).is_none());
        assert!(reserved("income", Role::Column).is_none());
        assert!(reserved("channel__scaled=web", Role::Column).is_some());
        assert_eq!(detector_feature("channel__scaled=web=2"), "channel");
        assert_eq!(detector_feature("income__scaled"), "income");
        assert_eq!(detector_feature("income__missing"), "income");
        assert_eq!(detector_feature("pc_1"), "pc_1");
    }
}

//! The `evaluate:` section: as written ([`EvaluateConfig`]) and checked ([`EvaluateParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Target, Task};

/// The `evaluate:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateConfig {
    /// How the classification threshold is chosen on train: `best_f1` (default), `best_ks`,
    /// `approval_rate` (approve the `approval_rate` share with the lowest PD) or `min_cost`
    /// (least expected cost with `cost_false_negative` and `cost_false_positive`).
    pub threshold: Option<String>,
    /// With `threshold: approval_rate`: the share of applicants approved.
    pub approval_rate: Option<f64>,
    /// With `threshold: min_cost`: cost of approving a bad (default 5).
    pub cost_false_negative: Option<f64>,
    /// With `threshold: min_cost`: cost of declining a good (default 1).
    pub cost_false_positive: Option<f64>,
    /// Columns whose groups get a fairness table (they need not be features).
    pub protected: Option<Vec<String>>,
    /// Points per ROC curve in the report (default 200).
    pub roc_points: Option<usize>,
    /// A task without a target: the share of rows expected to be anomalous, in (0, 0.5]; rows
    /// scoring above that share of the training rows are flagged (default 0.02).
    pub contamination: Option<f64>,
    /// A task without a target, instead of `contamination`: the review team's daily capacity;
    /// the flagged share is `alerts_per_day / rows_per_day`.
    pub review_budget: Option<ReviewBudget>,
    /// A task without a target: rows listed with their reasons in the report (default 20).
    pub top_anomalies: Option<usize>,
    /// Fraud detection: price a threshold by the fraud it misses and the alerts it raises.
    pub alert_cost: Option<AlertCost>,
    /// Stress scenarios on the test rows (a 0/1 target).
    pub robustness: Option<crate::robustness::RobustnessConfig>,
    /// With `privacy.k_anonymity` and a 0/1 target: refit the selected model family on the
    /// quasi-identifiers as ingested and report the test AUC the generalisation cost (default
    /// true; `false` skips the refit).
    pub anonymity_cost: Option<bool>,
}

/// `evaluate.alert_cost`: what a fraud team pays. Every alert costs `review_cost`; every fraud
/// left below the threshold costs its `amount`. The threshold with the least total cost is
/// chosen on the rows before the training window (the validation history, which the deployed
/// model never saw) and then applied, day by day, to the test days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertCost {
    /// Cost of reviewing one alert.
    pub review_cost: f64,
    /// The amount column (a feature of the matrices, such as `TX_AMOUNT`).
    pub amount: String,
}

/// `evaluate.review_budget`: how many alerts a team reviews a day, out of how many rows scored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBudget {
    /// Alerts the team can review per day.
    pub alerts_per_day: f64,
    /// Rows scored per day.
    pub rows_per_day: f64,
}

/// How the classification threshold is chosen, on the training rows only.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ThresholdRule {
    /// The score that maximises F1 of the event class.
    BestF1,
    /// The score that maximises KS.
    BestKs,
    /// The score that approves this share of the rows (lowest PD first).
    ApprovalRate {
        /// Share approved, in (0, 1).
        rate: f64,
    },
    /// The score with the least expected cost.
    MinCost {
        /// Cost of approving a bad.
        false_negative: f64,
        /// Cost of declining a good.
        false_positive: f64,
    },
    /// Anomaly scores: flag the highest-scoring `share` of the training rows.
    Contamination {
        /// Share flagged, in (0, 0.5].
        share: f64,
    },
    /// Anomaly scores: flag as many rows as a review team reads a day.
    ReviewBudget {
        /// The team's capacity.
        #[serde(flatten)]
        budget: ReviewBudget,
    },
}

impl ThresholdRule {
    /// The threshold for labels `y` and probabilities `p` (training rows).
    pub fn choose(&self, y: &[f64], p: &[f64]) -> f64 {
        match *self {
            ThresholdRule::BestF1 => riskpipe_metrics::best_f1_threshold(y, p),
            ThresholdRule::BestKs => riskpipe_metrics::ks_with_threshold(y, p).1,
            ThresholdRule::ApprovalRate { rate } => riskpipe_metrics::approval_threshold(p, rate),
            ThresholdRule::MinCost {
                false_negative,
                false_positive,
            } => riskpipe_metrics::min_cost_threshold(y, p, false_negative, false_positive),
            ThresholdRule::Contamination { .. } | ThresholdRule::ReviewBudget { .. } => {
                flag_threshold(p, self.flag_share().unwrap_or(0.0))
            }
        }
    }

    /// The share of rows a detector's threshold flags, for the anomaly rules.
    pub fn flag_share(&self) -> Option<f64> {
        match *self {
            ThresholdRule::Contamination { share } => Some(share),
            ThresholdRule::ReviewBudget { budget } => Some(budget.alerts_per_day / budget.rows_per_day),
            _ => None,
        }
    }

    /// The rule in words, for the report.
    pub fn describe(&self) -> String {
        match *self {
            ThresholdRule::BestF1 => "the score that maximises F1 of the bad class on the training rows".into(),
            ThresholdRule::BestKs => "the score that maximises KS on the training rows".into(),
            ThresholdRule::ApprovalRate { rate } => format!(
                "the score that approves {:.1}% of the training rows (lowest PD first)",
                100.0 * rate
            ),
            ThresholdRule::MinCost {
                false_negative,
                false_positive,
            } => format!(
                "the score with the least expected cost on the training rows (approving a bad costs {false_negative}, declining a good costs {false_positive})"
            ),
            ThresholdRule::Contamination { share } => format!(
                "the score above which {:.2}% of the training rows lie (`contamination: {share}`)",
                100.0 * share
            ),
            ThresholdRule::ReviewBudget { budget } => format!(
                "the score above which {:.2}% of the training rows lie: a review budget of {} alerts a day out of {} rows",
                100.0 * budget.alerts_per_day / budget.rows_per_day,
                budget.alerts_per_day,
                budget.rows_per_day
            ),
        }
    }
}

/// The score at or above which the highest `share` of `scores` lie: the `ceil(share * n)`-th
/// highest (at least one row is flagged; ties at the threshold are all flagged).
pub fn flag_threshold(scores: &[f64], share: f64) -> f64 {
    let mut s: Vec<f64> = scores.iter().copied().filter(|v| !v.is_nan()).collect();
    if s.is_empty() {
        return f64::INFINITY;
    }
    s.sort_by(|a, b| b.total_cmp(a));
    let k = ((share * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[k - 1]
}

/// Checked parameters of the evaluate stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateParams {
    /// The pipeline's name, from the pipeline file.
    pub pipeline: String,
    /// The task, from the pipeline file.
    pub task: Task,
    /// The pipeline seed.
    pub seed: u64,
    /// How the classification threshold is chosen on the training rows.
    pub threshold: ThresholdRule,
    /// Protected attributes.
    pub protected: Vec<String>,
    /// ROC points.
    pub roc_points: usize,
    /// Rows listed with reasons in the anomaly report.
    #[serde(default = "twenty", skip_serializing_if = "is_twenty")]
    pub top_anomalies: usize,
    /// Loss prediction with `loss.book`: the book's PD source and measures, for the report's
    /// portfolio section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book: Option<riskpipe_portfolio::config::BookSpec>,
    /// Fraud detection: the cost of alerts and of missed fraud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_cost: Option<AlertCost>,
    /// Stress scenarios on the test rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robustness: Option<crate::robustness::RobustnessParams>,
    /// The pipeline without its k-anonymity generalisation, for the AUC cost (set from
    /// `privacy.k_anonymity` and `evaluate.anonymity_cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymity_cost: Option<Box<crate::anonymity_cost::CostParams>>,
}

fn twenty() -> usize {
    20
}

fn is_twenty(v: &usize) -> bool {
    *v == 20
}

impl EvaluateConfig {
    /// The threshold rule and its settings; `None` (with the problems recorded) when they are
    /// wrong. A setting that the chosen rule does not read is an error, never ignored.
    fn threshold_rule(&self, file: &str, errs: &mut Vec<Error>) -> Option<ThresholdRule> {
        let name = self.threshold.as_deref().unwrap_or("best_f1");
        let mut err = |key: &str, m: &str| {
            errs.push(Error::config(file, format!("evaluate.{key}"), m));
            None
        };
        if self.approval_rate.is_some() && name != "approval_rate" {
            return err("approval_rate", "applies only with `threshold: approval_rate`");
        }
        if (self.cost_false_negative.is_some() || self.cost_false_positive.is_some()) && name != "min_cost" {
            return err("cost_false_negative", "costs apply only with `threshold: min_cost`");
        }
        match name {
            "best_f1" => Some(ThresholdRule::BestF1),
            "best_ks" => Some(ThresholdRule::BestKs),
            "approval_rate" => match self.approval_rate {
                Some(rate) if rate > 0.0 && rate < 1.0 => Some(ThresholdRule::ApprovalRate { rate }),
                _ => err(
                    "approval_rate",
                    "`threshold: approval_rate` needs `approval_rate` between 0 and 1",
                ),
            },
            "min_cost" => {
                let (fn_, fp) = (
                    self.cost_false_negative.unwrap_or(5.0),
                    self.cost_false_positive.unwrap_or(1.0),
                );
                if !(fn_ >= 0.0 && fp >= 0.0 && fn_ + fp > 0.0 && (fn_ + fp).is_finite()) {
                    return err("cost_false_negative", "costs must be >= 0 and not both 0");
                }
                Some(ThresholdRule::MinCost {
                    false_negative: fn_,
                    false_positive: fp,
                })
            }
            other => err(
                "threshold",
                &format!("unknown `{other}`, expected `best_f1`, `best_ks`, `approval_rate` or `min_cost`"),
            ),
        }
    }

    /// The flag rule of a task without a target: `contamination` or `review_budget`.
    fn flag_rule(&self, file: &str, errs: &mut Vec<Error>) -> Option<ThresholdRule> {
        let mut err = |key: &str, m: String| {
            errs.push(Error::config(file, format!("evaluate.{key}"), m));
            None
        };
        for (key, set) in [
            ("threshold", self.threshold.is_some()),
            ("approval_rate", self.approval_rate.is_some()),
            ("cost_false_negative", self.cost_false_negative.is_some()),
            ("cost_false_positive", self.cost_false_positive.is_some()),
        ] {
            if set {
                return err(
                    key,
                    "applies to tasks with a target; a detector's flag threshold comes from `contamination` or `review_budget`".into(),
                );
            }
        }
        match (self.contamination, self.review_budget) {
            (Some(_), Some(_)) => err(
                "review_budget",
                "give either `contamination` or `review_budget`, not both".into(),
            ),
            (Some(c), None) if !(c > 0.0 && c <= 0.5) => {
                err("contamination", format!("must be in (0, 0.5], found {c}"))
            }
            (None, Some(b)) => {
                let share = b.alerts_per_day / b.rows_per_day;
                if !(b.alerts_per_day > 0.0 && b.rows_per_day > 0.0 && share.is_finite() && share <= 0.5) {
                    return err(
                        "review_budget",
                        format!(
                            "`alerts_per_day` and `rows_per_day` must be > 0, with at most half the rows reviewed (found {} of {})",
                            b.alerts_per_day, b.rows_per_day
                        ),
                    );
                }
                Some(ThresholdRule::ReviewBudget { budget: b })
            }
            (c, None) => Some(ThresholdRule::Contamination {
                share: c.unwrap_or(0.02),
            }),
        }
    }

    /// Checks the section.
    pub fn resolve(self, file: &str, pipeline: &str, task: Task, seed: u64) -> Result<EvaluateParams, Vec<Error>> {
        let mut errs = Vec::new();
        let threshold = if task.target() == Target::None {
            self.flag_rule(file, &mut errs)
        } else {
            for (key, set) in [
                ("contamination", self.contamination.is_some()),
                ("review_budget", self.review_budget.is_some()),
                ("top_anomalies", self.top_anomalies.is_some()),
            ] {
                if set {
                    errs.push(Error::config(
                        file,
                        format!("evaluate.{key}"),
                        format!("applies to a task without a target (`anomaly_detection`), not `{task}`"),
                    ));
                }
            }
            self.threshold_rule(file, &mut errs)
        };
        let top_anomalies = self.top_anomalies.unwrap_or(20);
        if !(1..=1000).contains(&top_anomalies) {
            errs.push(Error::config(
                file,
                "evaluate.top_anomalies",
                "must be between 1 and 1000",
            ));
        }
        if let Some(c) = &self.alert_cost {
            if task != Task::FraudDetection {
                errs.push(Error::config(
                    file,
                    "evaluate.alert_cost",
                    format!("applies to `fraud_detection` (its test days and their alerts), not `{task}`"),
                ));
            }
            if !(c.review_cost > 0.0 && c.review_cost.is_finite()) {
                errs.push(Error::config(
                    file,
                    "evaluate.alert_cost.review_cost",
                    format!("must be a cost above 0, found {}", c.review_cost),
                ));
            }
        }
        let robustness = self.robustness.map(|r| {
            if task.target() != Target::Binary {
                errs.push(Error::config(
                    file,
                    "evaluate.robustness",
                    format!("applies to tasks with a 0/1 target, not `{task}`"),
                ));
            }
            r.resolve(file, &mut errs)
        });
        if self.anonymity_cost == Some(true) && task.target() != Target::Binary {
            errs.push(Error::config(
                file,
                "evaluate.anonymity_cost",
                format!("applies to tasks with a 0/1 target (an AUC), not `{task}`"),
            ));
        }
        let roc_points = self.roc_points.unwrap_or(200);
        if !(10..=5000).contains(&roc_points) {
            errs.push(Error::config(
                file,
                "evaluate.roc_points",
                "must be between 10 and 5000",
            ));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(EvaluateParams {
            pipeline: pipeline.to_string(),
            task,
            seed,
            threshold: threshold.unwrap_or(ThresholdRule::BestF1),
            protected: self.protected.unwrap_or_default(),
            roc_points,
            top_anomalies,
            book: None,
            alert_cost: self.alert_cost,
            robustness,
            anonymity_cost: None,
        })
    }
}

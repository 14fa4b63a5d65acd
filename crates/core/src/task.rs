//! The learning problem a pipeline solves: its [`Task`], and the kind of [`Target`] that task
//! learns from. Stages dispatch on these values instead of assuming a 0/1 target.

use serde::{Deserialize, Serialize};

/// A pipeline's task, as `task:` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Application scorecards: a PD and points per applicant.
    CreditScoring,
    /// Default prediction: the probability that a loan defaults.
    DefaultPrediction,
    /// Anomaly detection: how unusual each row is, without a target (a label, when given,
    /// only evaluates).
    AnomalyDetection,
    /// Loss prediction: the loss given default of a loan, a share of its exposure in [0, 1],
    /// learnt from the defaulted loans' realised LGD.
    LossPrediction,
    /// Fraud detection: the probability that a card transaction is fraudulent, learnt from
    /// labels that arrive late, on features of each card's and terminal's recent history.
    FraudDetection,
}

/// What a task learns from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Two classes, encoded 0/1 (1 = the event); models return P(y = 1).
    Binary,
    /// A number in a range (loss given default, exposure); models return an amount.
    Continuous,
    /// No target: detectors score how unusual a row is; a label, when given, only evaluates.
    None,
}

impl Target {
    /// The kind, as a sentence says it ("binary (0/1)").
    pub fn describe(self) -> &'static str {
        match self {
            Target::Binary => "binary (0/1)",
            Target::Continuous => "continuous",
            Target::None => "absent",
        }
    }
}

impl Task {
    /// Every task this version runs.
    pub const ALL: [Task; 5] = [
        Task::CreditScoring,
        Task::DefaultPrediction,
        Task::AnomalyDetection,
        Task::LossPrediction,
        Task::FraudDetection,
    ];

    /// The name `task:` uses.
    pub fn name(self) -> &'static str {
        match self {
            Task::CreditScoring => "credit_scoring",
            Task::DefaultPrediction => "default_prediction",
            Task::AnomalyDetection => "anomaly_detection",
            Task::LossPrediction => "loss_prediction",
            Task::FraudDetection => "fraud_detection",
        }
    }

    /// Whether rows are events in time by entity (cards, terminals): the task's features
    /// look back over each entity's history and its validation respects time and label delay.
    pub fn time_ordered(self) -> bool {
        self == Task::FraudDetection
    }

    /// The kind of target the task learns from.
    pub fn target(self) -> Target {
        match self {
            Task::CreditScoring | Task::DefaultPrediction | Task::FraudDetection => Target::Binary,
            Task::AnomalyDetection => Target::None,
            Task::LossPrediction => Target::Continuous,
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for t in Task::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.name()));
            assert_eq!(serde_json::from_str::<Task>(&json).unwrap(), t);
        }
        assert_eq!(Task::DefaultPrediction.target(), Target::Binary);
        assert_eq!(Task::AnomalyDetection.target(), Target::None);
        assert_eq!(Task::LossPrediction.target(), Target::Continuous);
        assert_eq!(Task::FraudDetection.target(), Target::Binary);
        assert!(Task::FraudDetection.time_ordered() && !Task::DefaultPrediction.time_ordered());
        assert!(serde_json::from_str::<Task>("\"fraud\"").is_err());
    }
}

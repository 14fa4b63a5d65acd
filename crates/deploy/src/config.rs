//! The `deploy:` section: as written ([`DeployConfig`]) and checked ([`DeployParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::Error;
use riskpipe_features::ScorecardParams;

/// The `deploy:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// Reason codes per scored row (default 3).
    pub reason_codes: Option<usize>,
    /// Numeric features an applicant can change, which `riskpipe explain` may move (never a
    /// protected attribute, a masked column or age).
    pub actionable: Option<Vec<String>>,
}

/// Checked parameters of the deploy stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployParams {
    /// Scorecard scaling, from the pipeline's `scorecard:` section.
    pub scorecard: ScorecardParams,
    /// Reason codes per row.
    pub reason_codes: usize,
    /// Loss prediction with `loss.book`: the bundle also returns each loan's PD (from the
    /// credit bundle it embeds), EAD, EL, IFRS 9 stage and ECL and IRB RWA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book: Option<riskpipe_portfolio::config::BookSpec>,
    /// Features `riskpipe explain` may change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actionable: Vec<String>,
}

impl DeployConfig {
    /// Checks the section; `scorecard` is the checked `scorecard:` section.
    pub fn resolve(self, file: &str, scorecard: ScorecardParams) -> Result<DeployParams, Vec<Error>> {
        let reason_codes = self.reason_codes.unwrap_or(3);
        if reason_codes > 10 {
            return Err(vec![Error::config(file, "deploy.reason_codes", "at most 10")]);
        }
        Ok(DeployParams {
            scorecard,
            reason_codes,
            book: None,
            actionable: self.actionable.unwrap_or_default(),
        })
    }
}

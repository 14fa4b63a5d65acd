//! The `deploy:` section: as written ([`DeployConfig`]) and checked ([`DeployParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::Error;

/// The `deploy:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// Score at `base_odds` (default 600).
    pub base_score: Option<f64>,
    /// Good:bad odds at `base_score` (default 50, i.e. 50:1).
    pub base_odds: Option<f64>,
    /// Points to double the odds (default 20).
    pub pdo: Option<f64>,
    /// Reason codes per scored row (default 3).
    pub reason_codes: Option<usize>,
}

/// Checked parameters of the deploy stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployParams {
    /// Score at the base odds.
    pub base_score: f64,
    /// Good:bad odds at the base score.
    pub base_odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
    /// Reason codes per row.
    pub reason_codes: usize,
}

impl DeployConfig {
    /// Checks the section.
    pub fn resolve(self, file: &str) -> Result<DeployParams, Vec<Error>> {
        let mut errs = Vec::new();
        let base_odds = self.base_odds.unwrap_or(50.0);
        let pdo = self.pdo.unwrap_or(20.0);
        if base_odds.is_nan() || base_odds <= 0.0 {
            errs.push(Error::config(file, "deploy.base_odds", "must be > 0"));
        }
        if pdo.is_nan() || pdo <= 0.0 {
            errs.push(Error::config(file, "deploy.pdo", "must be > 0"));
        }
        let reason_codes = self.reason_codes.unwrap_or(3);
        if reason_codes > 10 {
            errs.push(Error::config(file, "deploy.reason_codes", "at most 10"));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(DeployParams {
            base_score: self.base_score.unwrap_or(600.0),
            base_odds,
            pdo,
            reason_codes,
        })
    }
}

//! The `loss:` section's target keys: how loss prediction's target, the realised loss given
//! default, is derived from a defaulted loan's exposure and recoveries.
//!
//! Realised LGD = 1 - (sum over recovery columns of amount / (1 + discount_rate)^years) / EAD,
//! for loans whose default flag is 1 and whose EAD is above 0. With `recovery_amount` (one
//! column, no timing) the recoveries are not discounted. Loans that did not default have no
//! realised LGD: they stay in the data (the loss stages need the whole book) and are left out
//! of the LGD model's rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use riskpipe_core::{Column, Error, Frame, Result};

/// What a loss pipeline learns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossTarget {
    /// Loss given default: `realised_lgd`.
    #[default]
    Lgd,
    /// Credit conversion factor of a revolving line: `realised_ccf`, the share of the undrawn
    /// limit drawn by default, `(EAD - drawn) / (limit - drawn)`.
    Ccf,
}

impl LossTarget {
    /// The derived target column.
    pub fn column(self) -> &'static str {
        match self {
            LossTarget::Lgd => riskpipe_core::names::REALISED_LGD,
            LossTarget::Ccf => riskpipe_core::names::REALISED_CCF,
        }
    }
}

/// The `loss:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossConfig {
    /// What the pipeline learns: `lgd` (default) or `ccf`.
    pub target: Option<LossTarget>,
    /// A revolving line's drawn balance before default (`ccf`; default `drawn`).
    pub drawn: Option<String>,
    /// A revolving line's limit (`ccf`; default `credit_limit`).
    pub limit: Option<String>,
    /// The 0/1 default flag (default `default_flag`), or a text column with `default_value`.
    pub default_flag: Option<String>,
    /// The text of `default_flag` that means default (`Charged Off`); without it the column
    /// is 0/1.
    pub default_value: Option<String>,
    /// Exposure at default of a defaulted loan (default `ead`).
    pub ead: Option<String>,
    /// Columns subtracted from `ead` (a funded amount less the principal repaid).
    pub ead_less: Option<Vec<String>>,
    /// Recovery columns and when each is received, in years after default.
    pub recoveries: Option<BTreeMap<String, f64>>,
    /// One column of total recoveries, without timing (not discounted).
    pub recovery_amount: Option<String>,
    /// Yearly rate at which recoveries are discounted to the default date (default 0.05).
    pub discount_rate: Option<f64>,
    /// An LGD target outside [0, 1]: `reject` (default, an error counting the rows) or `clip`.
    pub lgd_out_of_range: Option<OutOfRange>,
    /// The credit bundle that gives each loan its PD (read by evaluate and deploy, not ingest).
    pub pd_bundle: Option<std::path::PathBuf>,
    /// Expected loss, IFRS 9, IRB and the loss distribution over the book (evaluate and deploy).
    pub book: Option<riskpipe_portfolio::config::BookConfig>,
}

/// What to do with a realised LGD outside [0, 1].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfRange {
    /// Stop with an error that counts the rows and shows the first ones.
    #[default]
    Reject,
    /// Clip to [0, 1] and count the rows in `quality.json`.
    Clip,
}

/// How the realised LGD (or CCF) is computed (checked `loss:` keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LgdTarget {
    /// What is derived.
    #[serde(default, skip_serializing_if = "is_lgd")]
    pub target: LossTarget,
    /// Drawn balance and limit of a revolving line (`ccf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revolving: Option<(String, String)>,
    /// The default flag: 0/1, or text compared with `default_value`.
    pub default_flag: String,
    /// The text meaning default, when the flag is text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// Exposure at default.
    pub ead: String,
    /// Columns subtracted from `ead`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ead_less: Vec<String>,
    /// Recovery columns with the years after default at which each is received (discounted);
    /// a single `recovery_amount` column has no timing and is read at year 0.
    pub recoveries: Vec<(String, f64)>,
    /// Yearly discount rate.
    pub discount_rate: f64,
}

fn is_lgd(t: &LossTarget) -> bool {
    *t == LossTarget::Lgd
}

/// What deriving the target found, for `quality.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LgdSummary {
    /// Loans with a realised LGD.
    pub with_lgd: u64,
    /// Loans not in default (no LGD).
    pub not_defaulted: u64,
    /// Defaulted loans without a positive EAD (no LGD).
    pub no_exposure: u64,
    /// Defaulted loans that are not revolving lines with an undrawn limit (no CCF).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub no_undrawn: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LossConfig {
    /// Checks the keys; `synth_loss` fills the generator's column names and timing.
    pub fn resolve(self, file: &str, synth_loss: bool, errs: &mut Vec<Error>) -> Option<LgdTarget> {
        let discount_rate = self.discount_rate.unwrap_or(riskpipe_synth::DISCOUNT_RATE);
        if !(0.0..1.0).contains(&discount_rate) {
            errs.push(Error::config(
                file,
                "loss.discount_rate",
                format!("{discount_rate} is outside [0, 1): a yearly rate such as 0.05"),
            ));
        }
        let target = self.target.unwrap_or_default();
        let revolving = match target {
            LossTarget::Ccf => {
                if self.recoveries.is_some() || self.recovery_amount.is_some() {
                    errs.push(Error::config(
                        file,
                        "loss.target",
                        "is `ccf`: recoveries do not enter a credit conversion factor; drop `recoveries` / `recovery_amount`",
                    ));
                }
                let name = |v: Option<String>, synth: &str, key: &str, errs: &mut Vec<Error>| match v {
                    Some(c) => c,
                    None if synth_loss => synth.to_string(),
                    None => {
                        errs.push(Error::config(
                            file,
                            key,
                            "missing: `ccf` needs the drawn balance and the limit",
                        ));
                        String::new()
                    }
                };
                let drawn = name(self.drawn, "drawn", "loss.drawn", errs);
                let limit = name(self.limit, "credit_limit", "loss.limit", errs);
                Some((drawn, limit))
            }
            LossTarget::Lgd => {
                for (key, v) in [("loss.drawn", &self.drawn), ("loss.limit", &self.limit)] {
                    if v.is_some() {
                        errs.push(Error::config(file, key, "applies to `loss.target: ccf`"));
                    }
                }
                None
            }
        };
        let recoveries: Vec<(String, f64)> = match (self.recoveries, self.recovery_amount) {
            _ if target == LossTarget::Ccf => Vec::new(),
            (Some(_), Some(_)) => {
                errs.push(Error::config(
                    file,
                    "loss.recovery_amount",
                    "give either `recoveries` (columns with their timing) or `recovery_amount`, not both",
                ));
                return None;
            }
            (Some(r), None) => {
                if r.is_empty() {
                    errs.push(Error::config(file, "loss.recoveries", "names no column"));
                }
                for (c, y) in &r {
                    if !(y.is_finite() && *y >= 0.0) {
                        errs.push(Error::config(
                            file,
                            format!("loss.recoveries.{c}"),
                            format!("{y} is not a number of years at or after default"),
                        ));
                    }
                }
                r.into_iter().collect()
            }
            (None, Some(c)) => vec![(c, 0.0)],
            (None, None) if synth_loss => ["recovery_y1", "recovery_y2", "recovery_y3"]
                .iter()
                .enumerate()
                .map(|(y, c)| (c.to_string(), y as f64 + 0.5))
                .collect(),
            (None, None) => {
                errs.push(Error::config(
                    file,
                    "loss",
                    "name the recoveries of defaulted loans: `recoveries` (column: years after default) or `recovery_amount`; or name an LGD column with `data.target`",
                ));
                return None;
            }
        };
        Some(LgdTarget {
            target,
            revolving,
            default_flag: self
                .default_flag
                .unwrap_or_else(|| riskpipe_synth::DEFAULT_FLAG.to_string()),
            default_value: self.default_value,
            ead: self.ead.unwrap_or_else(|| "ead".to_string()),
            ead_less: self.ead_less.unwrap_or_default(),
            recoveries,
            discount_rate,
        })
    }
}

impl LgdTarget {
    /// The source columns the derivation reads.
    pub fn columns(&self) -> Vec<&str> {
        let mut v = vec![self.default_flag.as_str(), self.ead.as_str()];
        v.extend(self.ead_less.iter().map(String::as_str));
        v.extend(self.recoveries.iter().map(|(c, _)| c.as_str()));
        if let Some((d, l)) = &self.revolving {
            v.extend([d.as_str(), l.as_str()]);
        }
        v
    }

    /// The columns that describe the outcome (never features): the default flag, the
    /// recoveries and what is subtracted from the EAD for an LGD; the flag and the EAD for a CCF
    /// (the drawn balance and limit are known before default).
    pub fn outcome_columns(&self) -> Vec<&str> {
        let mut v = vec![self.default_flag.as_str()];
        match self.target {
            LossTarget::Lgd => {
                v.extend(self.ead_less.iter().map(String::as_str));
                v.extend(self.recoveries.iter().map(|(c, _)| c.as_str()));
            }
            LossTarget::Ccf => v.push(self.ead.as_str()),
        }
        v
    }

    /// The realised LGD of every row of `frame` (NaN where there is none; outside [0, 1] when
    /// the recoveries say so, for the target's range rule to judge), with a summary. `file`
    /// names the data in errors; a column that is missing or not numeric, a default flag that is
    /// not 0/1 and a negative EAD or recovery are errors naming the column and row.
    pub fn derive(&self, frame: &Frame, file: &str) -> Result<(Vec<f64>, LgdSummary)> {
        let number = |c: &str, key: &str| -> Result<&[f64]> {
            match frame.get(c) {
                Some(Column::Number(v)) => Ok(v),
                Some(other) => Err(Error::data(
                    file,
                    None,
                    Some(c),
                    format!("`{key}` names it, so it must be numeric; it is {:?}", other.kind()).to_lowercase(),
                )),
                None => Err(Error::ColumnNotFound {
                    file: file.to_string(),
                    column: c.to_string(),
                    hint: format!("; it is named by `{key}`"),
                }),
            }
        };
        let flag: Vec<f64> = match &self.default_value {
            None => number(&self.default_flag, "loss.default_flag")?.to_vec(),
            Some(want) => match frame.get(&self.default_flag) {
                Some(Column::Text(v)) => v
                    .iter()
                    .map(|s| f64::from(u8::from(s.as_deref() == Some(want.as_str()))))
                    .collect(),
                Some(other) => {
                    return Err(Error::data(
                        file,
                        None,
                        Some(&self.default_flag),
                        format!(
                            "`loss.default_value` compares text, but the column is {:?}; drop the key for a 0/1 flag",
                            other.kind()
                        )
                        .to_lowercase(),
                    ));
                }
                None => {
                    return Err(Error::ColumnNotFound {
                        file: file.to_string(),
                        column: self.default_flag.clone(),
                        hint: "; it is named by `loss.default_flag`".into(),
                    });
                }
            },
        };
        let mut ead = number(&self.ead, "loss.ead")?.to_vec();
        for c in &self.ead_less {
            let less = number(c, "loss.ead_less")?;
            ead.iter_mut()
                .zip(less)
                .for_each(|(e, l)| *e -= if l.is_nan() { 0.0 } else { *l });
        }
        let recs: Vec<(&[f64], f64)> = self
            .recoveries
            .iter()
            .map(|(c, y)| Ok((number(c, &format!("loss.recoveries.{c}"))?, *y)))
            .collect::<Result<_>>()?;
        let revolving = match &self.revolving {
            Some((d, l)) => Some((number(d, "loss.drawn")?, number(l, "loss.limit")?)),
            None => None,
        };
        let mut summary = LgdSummary::default();
        let mut lgd = vec![f64::NAN; frame.rows()];
        for i in 0..frame.rows() {
            match flag[i] {
                f if f == 0.0 || f.is_nan() => {
                    summary.not_defaulted += 1;
                    continue;
                }
                f if f != 1.0 => {
                    return Err(Error::data(
                        file,
                        Some(i as u64 + 1),
                        Some(&self.default_flag),
                        format!("the default flag must be 0 or 1, found {f}"),
                    ));
                }
                _ => {}
            }
            if ead[i] < 0.0 {
                return Err(Error::data(
                    file,
                    Some(i as u64 + 1),
                    Some(&self.ead),
                    if self.ead_less.is_empty() {
                        format!("a negative exposure at default ({})", ead[i])
                    } else {
                        format!(
                            "a negative exposure at default ({}, after subtracting {})",
                            ead[i],
                            self.ead_less.join(", ")
                        )
                    },
                ));
            }
            if ead[i].is_nan() || ead[i] == 0.0 {
                summary.no_exposure += 1;
                continue;
            }
            if let Some((drawn, limit)) = &revolving {
                let (d, l) = (drawn[i], limit[i]);
                if (l - d).is_nan() || l - d <= 0.0 {
                    summary.no_undrawn += 1;
                    continue;
                }
                lgd[i] = (ead[i] - d) / (l - d);
                summary.with_lgd += 1;
                continue;
            }
            let mut pv = 0.0;
            for ((col, years), (name, _)) in recs.iter().zip(&self.recoveries) {
                let r = col[i];
                if r < 0.0 {
                    return Err(Error::data(
                        file,
                        Some(i as u64 + 1),
                        Some(name),
                        format!("a negative recovery ({r})"),
                    ));
                }
                if !r.is_nan() {
                    pv += r / (1.0 + self.discount_rate).powf(*years);
                }
            }
            lgd[i] = 1.0 - pv / ead[i];
            summary.with_lgd += 1;
        }
        if summary.with_lgd == 0 {
            return Err(Error::data(
                file,
                None,
                Some(&self.default_flag),
                "no defaulted loan with a positive exposure: there is no realised LGD to learn from",
            ));
        }
        Ok((lgd, summary))
    }
}

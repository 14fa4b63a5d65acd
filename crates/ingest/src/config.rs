//! The `data:` section of a pipeline file: as written ([`IngestConfig`]) and checked
//! ([`IngestParams`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use riskpipe_core::{ColumnKind, Error, Target};

use crate::loss::{LgdTarget, LossConfig, OutOfRange};

/// The `data:` section, exactly as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// A CSV or Parquet file, relative to the pipeline file.
    pub path: Option<String>,
    /// A generator instead of a file: `loans` or `accounts`.
    pub synth: Option<String>,
    /// Rows to generate (with `synth`).
    pub rows: Option<u64>,
    /// Generator seed (with `synth`); defaults to the pipeline seed.
    pub seed: Option<u64>,
    /// Share of planted anomalies (with `synth: accounts`; default 0.02).
    pub anomaly_rate: Option<f64>,
    /// Customers (cards) to generate (with `synth: transactions`; default 5,000).
    pub customers: Option<u64>,
    /// Terminals to generate (with `synth: transactions`; default 10,000).
    pub terminals: Option<u64>,
    /// Days of transactions from 2018-04-01 (with `synth: transactions`; default 183).
    pub days: Option<u32>,
    /// The target column.
    pub target: Option<String>,
    /// A 0/1 column used only to evaluate a task without a target (never a feature, never
    /// seen by a detector).
    pub label: Option<String>,
    /// The target value that means the event (1); without it the target must be 0/1.
    pub positive: Option<String>,
    /// A row identifier column (kept, never a feature).
    pub id: Option<String>,
    /// Declared column types (`number`, `text`, `date`); other columns are inferred.
    pub schema: Option<BTreeMap<String, ColumnKind>>,
    /// Values read as missing (default `""`, `NA`, `N/A`, `NaN`, `null`, `None`).
    pub missing_values: Option<Vec<String>>,
    /// Field separator of a CSV file (default `,`).
    pub delimiter: Option<String>,
}

/// Where the data comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// A CSV file.
    Csv {
        /// Path as resolved against the pipeline file's folder.
        path: String,
    },
    /// A Parquet file.
    Parquet {
        /// Path as resolved against the pipeline file's folder.
        path: String,
    },
    /// The loan-book generator.
    SynthLoans {
        /// Rows.
        rows: u64,
        /// Seed.
        seed: u64,
    },
    /// The loss-book generator (exposures and recoveries).
    SynthLoss {
        /// Rows.
        rows: u64,
        /// Seed.
        seed: u64,
    },
    /// The account-behaviour generator (planted anomalies).
    SynthAccounts {
        /// Rows.
        rows: u64,
        /// Seed.
        seed: u64,
        /// Share of planted anomalies.
        anomaly_rate: f64,
    },
    /// The card-transaction generator (fraud scenarios).
    SynthTransactions {
        /// Customers.
        customers: u64,
        /// Terminals.
        terminals: u64,
        /// Days.
        days: u32,
        /// Seed.
        seed: u64,
    },
}

/// Checked parameters of the ingest stage (recorded in its manifest).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IngestParams {
    /// The source.
    pub source: Source,
    /// The target column (none for a task without a target).
    pub target: Option<String>,
    /// The evaluation-only label of a task without a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The value that means 1, if the target (or label) is not 0/1.
    pub positive: Option<String>,
    /// The kind of target (binary unless said).
    #[serde(default = "binary", skip_serializing_if = "is_binary")]
    pub target_kind: Target,
    /// How a loss task's target, the realised LGD, is derived from exposures and recoveries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lgd: Option<LgdTarget>,
    /// A continuous (LGD) target outside [0, 1]: rejected or clipped.
    #[serde(default, skip_serializing_if = "is_reject")]
    pub lgd_out_of_range: OutOfRange,
    /// The id column.
    pub id: Option<String>,
    /// Declared column types.
    pub schema: BTreeMap<String, ColumnKind>,
    /// Missing-value tokens.
    pub missing_values: Vec<String>,
    /// CSV separator.
    pub delimiter: char,
}

fn binary() -> Target {
    Target::Binary
}

fn is_reject(o: &OutOfRange) -> bool {
    *o == OutOfRange::Reject
}

fn is_binary(t: &Target) -> bool {
    *t == Target::Binary
}

impl IngestParams {
    /// The column carried beside the features: the target, or the evaluation label.
    pub fn outcome(&self) -> Option<&str> {
        self.target.as_deref().or(self.label.as_deref())
    }
}

impl IngestConfig {
    /// Checks the section for a task whose target is of kind `kind`, with the pipeline's
    /// `loss:` section (the target keys of a loss task); `file` names the pipeline file in
    /// errors, `base` is its folder.
    pub fn resolve(
        self,
        file: &str,
        base: &Path,
        pipeline_seed: u64,
        kind: Target,
        loss: Option<LossConfig>,
    ) -> Result<IngestParams, Vec<Error>> {
        let mut errs = Vec::new();
        let source = match (&self.path, &self.synth) {
            (Some(_), Some(_)) => {
                errs.push(Error::config(file, "data", "give either `path` or `synth`, not both"));
                None
            }
            (None, None) => {
                errs.push(Error::config(
                    file,
                    "data",
                    "missing `path` (a CSV or Parquet file) or `synth: loans` / `loss` / `accounts` / `transactions`",
                ));
                None
            }
            (Some(p), None) => {
                let full = base.join(p);
                let s = full.to_string_lossy().into_owned();
                let lower = p.to_ascii_lowercase();
                if lower.ends_with(".parquet") || lower.ends_with(".pq") {
                    Some(Source::Parquet { path: s })
                } else {
                    Some(Source::Csv { path: s })
                }
            }
            (None, Some(generator)) => self.generator(generator, file, pipeline_seed, &mut errs),
        };
        if self.path.is_some() && (self.rows.is_some() || self.seed.is_some()) {
            errs.push(Error::config(file, "data", "`rows` and `seed` apply only with `synth`"));
        }
        let transactions = matches!(source, Some(Source::SynthTransactions { .. }));
        for (set, key) in [
            (self.customers.is_some(), "customers"),
            (self.terminals.is_some(), "terminals"),
            (self.days.is_some(), "days"),
        ] {
            if set && !transactions {
                errs.push(Error::config(
                    file,
                    format!("data.{key}"),
                    "applies only with `synth: transactions`",
                ));
            }
        }
        if transactions && self.rows.is_some() {
            errs.push(Error::config(
                file,
                "data.rows",
                "does not apply to `synth: transactions`: `customers`, `terminals` and `days` set its size",
            ));
        }
        if self.anomaly_rate.is_some() && !matches!(source, Some(Source::SynthAccounts { .. })) {
            errs.push(Error::config(
                file,
                "data.anomaly_rate",
                "applies only with `synth: accounts`",
            ));
        }
        let (target, label) = self.outcome(&source, kind, file, &mut errs);
        let lgd_out_of_range = loss.as_ref().and_then(|l| l.lgd_out_of_range).unwrap_or_default();
        let lgd = self.lgd(&source, kind, &target, loss, file, &mut errs);
        let target = match &lgd {
            Some(l) => Some(l.target.column().to_string()),
            None => target,
        };
        let id = match (&self.id, &source) {
            (Some(i), _) => Some(i.clone()),
            (None, Some(Source::SynthLoans { .. })) => Some("id".to_string()),
            (None, Some(Source::SynthLoss { .. })) => Some("loan_id".to_string()),
            (None, Some(Source::SynthAccounts { .. })) => Some("account_id".to_string()),
            (None, Some(Source::SynthTransactions { .. })) => Some("TRANSACTION_ID".to_string()),
            _ => None,
        };
        for (key, other) in [("data.target", &target), ("data.label", &label)] {
            if let (Some(t), Some(i)) = (other, &id) {
                if t == i {
                    errs.push(Error::config(
                        file,
                        "data.id",
                        format!("`{i}` is also `{key}`; the id must be a column of its own"),
                    ));
                }
            }
        }
        use riskpipe_core::names::{Role, reserved};
        for (key, name, role) in [
            ("data.target", &target, Role::Target),
            ("data.label", &label, Role::Target),
            ("data.id", &id, Role::Id),
        ] {
            if let Some(why) = name.as_deref().and_then(|n| reserved(n, role)) {
                errs.push(Error::config(
                    file,
                    key,
                    format!(
                        "`{}` is a name riskpipe reserves: {why}; rename the column in the source",
                        name.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        let delimiter = match self.delimiter.as_deref() {
            None => ',',
            Some(d) if d.chars().count() == 1 && d.is_ascii() => d.chars().next().unwrap_or(','),
            Some("\\t") | Some("tab") => '\t',
            Some(d) => {
                errs.push(Error::config(
                    file,
                    "data.delimiter",
                    format!("`{d}` is not a single ASCII character"),
                ));
                ','
            }
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(IngestParams {
            source: source.expect("checked"),
            target,
            label,
            positive: self.positive,
            target_kind: kind,
            lgd,
            lgd_out_of_range,
            id,
            schema: self.schema.unwrap_or_default(),
            missing_values: self.missing_values.unwrap_or_else(|| {
                ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
            delimiter,
        })
    }

    /// The generated source `data.synth` names, with its rows and seed.
    fn generator(&self, name: &str, file: &str, pipeline_seed: u64, errs: &mut Vec<Error>) -> Option<Source> {
        let rows = match self.rows {
            Some(0) => {
                errs.push(Error::config(file, "data.rows", "must be at least 1"));
                return None;
            }
            rows => rows.unwrap_or(20_000),
        };
        let seed = self.seed.unwrap_or(pipeline_seed);
        match name {
            "loans" => Some(Source::SynthLoans { rows, seed }),
            "loss" => Some(Source::SynthLoss { rows, seed }),
            "transactions" => {
                let d = riskpipe_synth::TransactionParams::default();
                let customers = self.customers.unwrap_or(d.customers as u64);
                let terminals = self.terminals.unwrap_or(d.terminals as u64);
                let days = self.days.unwrap_or(d.days);
                for (v, key) in [
                    (customers, "customers"),
                    (terminals, "terminals"),
                    (u64::from(days), "days"),
                ] {
                    if v == 0 {
                        errs.push(Error::config(file, format!("data.{key}"), "must be at least 1"));
                        return None;
                    }
                }
                Some(Source::SynthTransactions {
                    customers,
                    terminals,
                    days,
                    seed,
                })
            }
            "accounts" => {
                let anomaly_rate = self.anomaly_rate.unwrap_or(0.02);
                if !(anomaly_rate > 0.0 && anomaly_rate < 0.5) {
                    errs.push(Error::config(
                        file,
                        "data.anomaly_rate",
                        format!("must be in (0, 0.5), found {anomaly_rate}"),
                    ));
                    return None;
                }
                Some(Source::SynthAccounts {
                    rows,
                    seed,
                    anomaly_rate,
                })
            }
            other => {
                errs.push(Error::config(
                    file,
                    "data.synth",
                    format!("unknown generator `{other}`, expected `loans`, `loss`, `accounts` or `transactions`"),
                ));
                None
            }
        }
    }

    /// A loss task's realised-LGD derivation: from the `loss:` section when `data.target` does
    /// not name an LGD column (the loss generator's columns by default). Any other task
    /// refuses the section.
    fn lgd(
        &self,
        source: &Option<Source>,
        kind: Target,
        target: &Option<String>,
        loss: Option<LossConfig>,
        file: &str,
        errs: &mut Vec<Error>,
    ) -> Option<LgdTarget> {
        if kind != Target::Continuous {
            if loss.is_some() {
                errs.push(Error::config(file, "loss", "applies to `task: loss_prediction` only"));
            }
            return None;
        }
        let synth = matches!(source, Some(Source::SynthLoss { .. }));
        match (target, loss) {
            (Some(_), Some(l)) if l.recoveries.is_some() || l.recovery_amount.is_some() => {
                errs.push(Error::config(
                    file,
                    "data.target",
                    "names an LGD column, and `loss:` names recoveries to derive one from; keep one",
                ));
                None
            }
            (Some(_), _) => None,
            (None, Some(loss)) => loss.resolve(file, synth, errs),
            (None, None) if synth => LossConfig::default().resolve(file, synth, errs),
            (None, None) => {
                errs.push(Error::config(
                    file,
                    "data.target",
                    "missing: name the LGD column, or derive it with a `loss:` section (`ead`, `recoveries`)",
                ));
                None
            }
        }
    }

    /// The target and the evaluation label, as the task's kind of target allows: a task with a
    /// target needs `data.target` and has no label; a task without one refuses `data.target`
    /// and may name a label.
    fn outcome(
        &self,
        source: &Option<Source>,
        kind: Target,
        file: &str,
        errs: &mut Vec<Error>,
    ) -> (Option<String>, Option<String>) {
        match kind {
            Target::Binary | Target::Continuous => {
                if self.label.is_some() {
                    errs.push(Error::config(
                        file,
                        "data.label",
                        "applies to a task without a target (`anomaly_detection`); this task learns from `data.target`",
                    ));
                }
                let target = match (&self.target, source) {
                    (Some(t), _) => Some(t.clone()),
                    (None, Some(Source::SynthLoans { .. })) => Some(riskpipe_synth::TARGET.to_string()),
                    (None, Some(Source::SynthTransactions { .. })) => Some(riskpipe_synth::TX_FRAUD.to_string()),
                    // A loss task derives its target from the `loss:` keys.
                    (None, _) if kind == Target::Continuous => None,
                    (None, _) => {
                        errs.push(Error::config(
                            file,
                            "data.target",
                            format!("missing: name the {} target column", kind.describe()),
                        ));
                        None
                    }
                };
                (target, None)
            }
            Target::None => {
                if self.target.is_some() {
                    errs.push(Error::config(
                        file,
                        "data.target",
                        "this task learns without a target; name a 0/1 column used only for evaluation with `data.label`",
                    ));
                }
                let label = match (&self.label, source) {
                    (Some(l), _) => Some(l.clone()),
                    (None, Some(Source::SynthAccounts { .. })) => Some(riskpipe_synth::LABEL.to_string()),
                    _ => None,
                };
                (None, label)
            }
        }
    }
}

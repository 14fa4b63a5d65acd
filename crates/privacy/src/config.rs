//! The `privacy:` section: as written ([`PrivacyConfig`]) and checked ([`PrivacyParams`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, frame::parse_date};

/// What to do with one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Remove the column.
    Drop,
    /// Replace each value by its keyed pseudonym (HMAC-SHA256).
    Hash,
    /// Encrypt the digits of each value with FF1 (format-preserving), the rest kept.
    Fpe,
    /// Coarsen: a date to its year or an age band, a number to a bucket.
    Generalize,
    /// Keep the first `chars` characters.
    Truncate,
    /// Keep as is.
    Keep,
}

/// One column's entry under `privacy.columns`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    /// `drop`, `hash`, `generalize`, `truncate` or `keep`.
    pub action: ActionKind,
    /// With `truncate`: characters to keep.
    pub chars: Option<usize>,
    /// With `generalize` on a date: `year` or `age_band`.
    pub to: Option<String>,
    /// With `generalize` on a number: bucket width.
    pub bucket: Option<f64>,
    /// With `to: age_band`: band width in years (default 10).
    pub band_years: Option<u32>,
    /// With `to: age_band`: the date ages are computed at (`YYYY-MM-DD`).
    pub as_of: Option<String>,
    /// With `hash`: the pseudonym domain (default `privacy.domain`).
    pub domain: Option<String>,
}

/// The `privacy:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Environment variable holding the masking key (default `RISKPIPE_MASK_KEY`).
    pub key_env: Option<String>,
    /// Per-column actions.
    pub columns: Option<BTreeMap<String, ColumnConfig>>,
    /// Columns that together could re-identify a person (after masking); the report gives their
    /// k-anonymity.
    pub quasi_identifiers: Option<Vec<String>>,
    /// The pseudonym domain of hashed columns (default: the pipeline's name): the key hashing a
    /// column is derived from the masking key and its domain, so pseudonyms link only across
    /// columns and pipelines that share a domain (and the key).
    pub domain: Option<String>,
    /// Columns allowed to pass unmasked although their values look personal.
    pub allow_pii: Option<Vec<String>>,
    /// National id formats to look for (`9` a digit, `A` a letter; default the US SSN and the UK
    /// national insurance number).
    pub national_id_formats: Option<Vec<String>>,
    /// Keep the raw table (`ingest/data.parquet`) in the run folder after this stage has masked
    /// it (default false: it leaves, its sha256 stays in ingest's manifest).
    pub keep_raw: Option<bool>,
    /// k-anonymity (and l-diversity) to reach by generalising quasi-identifiers.
    pub k_anonymity: Option<AnonymityConfig>,
}

/// Checked `privacy.k_anonymity` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnonymityParams {
    /// Smallest class size released.
    pub k: u64,
    /// Distinct sensitive values each released class holds (l-diversity), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l: Option<u64>,
    /// The sensitive column of `l` (default the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<String>,
    /// Share of rows that may be suppressed.
    pub max_suppressed: f64,
    /// The steps of each quasi-identifier's hierarchy, finest first (level 0, as is, and the
    /// last level, dropped, are implied).
    pub quasi_identifiers: BTreeMap<String, Vec<Action>>,
}

/// `privacy.k_anonymity`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnonymityConfig {
    /// Smallest class size.
    pub k: Option<u64>,
    /// Distinct sensitive values per class.
    pub l: Option<u64>,
    /// Sensitive column (default the target).
    pub sensitive: Option<String>,
    /// Share of rows that may be suppressed (default 0.02).
    pub max_suppressed: Option<f64>,
    /// Hierarchy per quasi-identifier.
    pub quasi_identifiers: Option<BTreeMap<String, HierarchyConfig>>,
}

/// One quasi-identifier's hierarchy, as written: at most one of the keys (none: the column is
/// kept or dropped).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HierarchyConfig {
    /// Text: prefixes kept, longest first (`[3, 1]`).
    pub prefix: Option<Vec<usize>>,
    /// Numbers: bucket widths, narrowest first, each a multiple of the one before.
    pub bucket: Option<Vec<f64>>,
    /// Dates: `[month, year]` or one of them.
    pub date: Option<Vec<String>>,
    /// Dates of birth: age bands in years, narrowest first, each a multiple of the one before.
    pub age_band: Option<Vec<u32>>,
    /// With `age_band`: the date ages are computed at.
    pub as_of: Option<String>,
}

impl AnonymityConfig {
    /// Checks the section; `columns` are the masking actions (a quasi-identifier has none).
    pub fn resolve(
        self,
        file: &str,
        columns: &BTreeMap<String, Action>,
        errs: &mut Vec<Error>,
    ) -> Option<AnonymityParams> {
        let at = |k: &str| format!("privacy.k_anonymity.{k}");
        let n0 = errs.len();
        let k = self.k.unwrap_or(0);
        if k < 2 {
            errs.push(Error::config(file, at("k"), "`k` is required, 2 or more"));
        }
        if self.l.is_some_and(|l| l < 2) {
            errs.push(Error::config(file, at("l"), "`l` must be 2 or more"));
        }
        let max_suppressed = self.max_suppressed.unwrap_or(0.02);
        if !(0.0..=0.5).contains(&max_suppressed) {
            errs.push(Error::config(
                file,
                at("max_suppressed"),
                "a share of rows from 0 to 0.5",
            ));
        }
        let qis = self.quasi_identifiers.unwrap_or_default();
        if qis.is_empty() {
            errs.push(Error::config(
                file,
                at("quasi_identifiers"),
                "declare at least one quasi-identifier with its hierarchy",
            ));
        }
        let mut hierarchies = BTreeMap::new();
        let mut nodes = 1usize;
        for (name, h) in qis {
            let key = at(&format!("quasi_identifiers.{name}"));
            if columns.get(&name).is_some_and(|a| *a != Action::Keep) {
                errs.push(Error::config(file, key.clone(), format!("`{name}` also has a masking action under `privacy.columns`; a quasi-identifier is generalised by its hierarchy only")));
                continue;
            }
            match h.steps(file, &key) {
                Ok(steps) => {
                    nodes = nodes.saturating_mul(steps.len() + 2);
                    hierarchies.insert(name, steps);
                }
                Err(e) => errs.push(e),
            }
        }
        if nodes > 100_000 {
            errs.push(Error::config(
                file,
                at("quasi_identifiers"),
                format!("{nodes} combinations of levels: declare fewer quasi-identifiers or levels (at most 100,000)"),
            ));
        }
        (errs.len() == n0).then_some(AnonymityParams {
            k,
            l: self.l,
            sensitive: self.sensitive,
            max_suppressed,
            quasi_identifiers: hierarchies,
        })
    }
}

impl HierarchyConfig {
    /// The steps of the hierarchy, checked to nest.
    fn steps(&self, file: &str, key: &str) -> Result<Vec<Action>, Error> {
        let bad = |m: String| Error::config(file, key.to_string(), m);
        let given = [
            self.prefix.is_some(),
            self.bucket.is_some(),
            self.date.is_some(),
            self.age_band.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(bad(
                "one hierarchy per column: `prefix`, `bucket`, `date` or `age_band`".into(),
            ));
        }
        if self.as_of.is_some() != self.age_band.is_some() {
            return Err(bad("`age_band` and `as_of: YYYY-MM-DD` go together".into()));
        }
        if let Some(p) = &self.prefix {
            if p.is_empty() || p.windows(2).any(|w| w[1] >= w[0]) || p.contains(&0) {
                return Err(bad(format!(
                    "`prefix: {p:?}` must list lengths of 1 or more, longest first"
                )));
            }
            return Ok(p.iter().map(|&chars| Action::Truncate { chars }).collect());
        }
        let multiples = |v: &[f64]| {
            !v.is_empty()
                && v.iter().all(|w| w.is_finite() && *w > 0.0)
                && v.windows(2).all(|w| {
                    let r = w[1] / w[0];
                    r > 1.0 && (r - r.round()).abs() < 1e-9
                })
        };
        if let Some(b) = &self.bucket {
            if !multiples(b) {
                return Err(bad(format!(
                    "`bucket: {b:?}` must list widths above 0, narrowest first, each a multiple of the one before (so that buckets nest)"
                )));
            }
            return Ok(b.iter().map(|&width| Action::Bucket { width }).collect());
        }
        if let Some(d) = &self.date {
            return match d.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                ["month", "year"] => Ok(vec![Action::Month, Action::Year]),
                ["month"] => Ok(vec![Action::Month]),
                ["year"] => Ok(vec![Action::Year]),
                _ => Err(bad(format!(
                    "`date: {d:?}`: write `[month, year]`, `[month]` or `[year]`"
                ))),
            };
        }
        if let Some(a) = &self.age_band {
            let widths: Vec<f64> = a.iter().map(|&x| f64::from(x)).collect();
            let as_of = self.as_of.clone().unwrap_or_default();
            if parse_date(&as_of).is_none() {
                return Err(bad(format!("`as_of: {as_of}` is not a date YYYY-MM-DD")));
            }
            if !multiples(&widths) {
                return Err(bad(format!(
                    "`age_band: {a:?}` must list years above 0, narrowest first, each a multiple of the one before"
                )));
            }
            return Ok(a
                .iter()
                .map(|&band_years| Action::AgeBand {
                    band_years,
                    as_of: as_of.clone(),
                })
                .collect());
        }
        Ok(Vec::new())
    }
}

/// A checked masking action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Remove the column.
    Drop,
    /// Keyed pseudonym, under the key derived for `domain` (a plan from before domains: the
    /// masking key itself).
    Hash {
        /// The pseudonym domain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domain: Option<String>,
    },
    /// The digits of each value encrypted with FF1 (NIST SP 800-38G) under a key derived for
    /// `domain`; other characters stay where they are.
    Fpe {
        /// The key domain.
        domain: String,
    },
    /// Date to year.
    Year,
    /// Date to the first day of its month.
    Month,
    /// Date to an age band at `as_of` (days since 1970-01-01).
    AgeBand {
        /// Band width in years.
        band_years: u32,
        /// Reference date, `YYYY-MM-DD`.
        as_of: String,
    },
    /// Number to `floor(x / width) * width`.
    Bucket {
        /// Bucket width.
        width: f64,
    },
    /// Text to its first `chars` characters.
    Truncate {
        /// Characters kept.
        chars: usize,
    },
    /// Unchanged.
    Keep,
}

impl Action {
    /// Whether the action needs the masking key (`hash`, `fpe`).
    pub fn needs_key(&self) -> bool {
        matches!(self, Action::Hash { .. } | Action::Fpe { .. })
    }
}

/// Checked parameters of the privacy stage: the masking plan, without the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyParams {
    /// Variable that holds the key.
    pub key_env: String,
    /// A non-secret fingerprint of the key (HMAC of a fixed label), present when a column is
    /// hashed, so that a new key reruns the stage and a wrong key is detected.
    pub key_id: Option<String>,
    /// Actions by column, sorted by column.
    pub columns: BTreeMap<String, Action>,
    /// Quasi-identifiers for the k-anonymity report.
    #[serde(default)]
    pub quasi_identifiers: Vec<String>,
    /// Columns allowed to pass unmasked although their values look personal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_pii: Vec<String>,
    /// National id formats looked for (empty: the defaults of [`crate::pii`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub national_id_formats: Vec<String>,
    /// Keep the raw table in the run folder once masked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_raw: bool,
    /// The k-anonymity search, when declared. In `plan.json` the levels it chose are actions
    /// in `columns`, so the bundle generalises new rows the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_anonymity: Option<AnonymityParams>,
}

impl PrivacyConfig {
    /// Checks the section, reading the key from the environment if any column is hashed;
    /// `pipeline` (the pipeline's name) is the default pseudonym domain.
    pub fn resolve(self, file: &str, pipeline: &str) -> Result<PrivacyParams, Vec<Error>> {
        let domain = self.domain.clone().unwrap_or_else(|| pipeline.to_string());
        let mut errs = Vec::new();
        let key_env = self
            .key_env
            .unwrap_or_else(|| riskpipe_core::env::RISKPIPE_MASK_KEY.to_string());
        let mut columns = BTreeMap::new();
        for (name, c) in self.columns.unwrap_or_default() {
            let key = format!("privacy.columns.{name}");
            let extra = |what: &str, errs: &mut Vec<Error>| {
                errs.push(Error::config(
                    file,
                    key.clone(),
                    format!("`{what}` does not apply to action `{:?}`", c.action).to_lowercase(),
                ));
            };
            let action = match c.action {
                ActionKind::Drop => Action::Drop,
                ActionKind::Hash => Action::Hash {
                    domain: Some(c.domain.clone().unwrap_or_else(|| domain.clone())),
                },
                ActionKind::Keep => Action::Keep,
                ActionKind::Fpe => Action::Fpe {
                    domain: c.domain.clone().unwrap_or_else(|| domain.clone()),
                },
                ActionKind::Truncate => match c.chars {
                    Some(n) if n > 0 => Action::Truncate { chars: n },
                    _ => {
                        errs.push(Error::config(file, key.clone(), "`truncate` needs `chars: N` (N >= 1)"));
                        continue;
                    }
                },
                ActionKind::Generalize => match (c.to.as_deref(), c.bucket) {
                    (Some("year"), None) => Action::Year,
                    (Some("month"), None) => Action::Month,
                    (Some("age_band"), None) => match c.as_of.as_deref().map(|d| (d, parse_date(d))) {
                        Some((d, Some(_))) => Action::AgeBand {
                            band_years: c.band_years.unwrap_or(10).max(1),
                            as_of: d.to_string(),
                        },
                        _ => {
                            errs.push(Error::config(
                                file,
                                key.clone(),
                                "`to: age_band` needs `as_of: YYYY-MM-DD`",
                            ));
                            continue;
                        }
                    },
                    (None, Some(w)) if w > 0.0 => Action::Bucket { width: w },
                    (Some(other), None) => {
                        errs.push(Error::config(
                            file,
                            key.clone(),
                            format!("unknown `to: {other}`, expected `year`, `month` or `age_band`"),
                        ));
                        continue;
                    }
                    _ => {
                        errs.push(Error::config(
                            file,
                            key.clone(),
                            "`generalize` needs `to: year`, `to: age_band` or `bucket: WIDTH` (> 0)",
                        ));
                        continue;
                    }
                },
            };
            if c.chars.is_some() && c.action != ActionKind::Truncate {
                extra("chars", &mut errs);
            }
            if (c.to.is_some() || c.bucket.is_some()) && c.action != ActionKind::Generalize {
                extra("to/bucket", &mut errs);
            }
            if c.domain.is_some() && !matches!(c.action, ActionKind::Hash | ActionKind::Fpe) {
                extra("domain", &mut errs);
            }
            columns.insert(name, action);
        }
        let key_id = if columns.values().any(Action::needs_key) {
            match read_key(&key_env) {
                Ok(k) => Some(crate::key::key_id(&k)),
                Err(e) => {
                    errs.push(e);
                    None
                }
            }
        } else {
            None
        };
        let k_anonymity = self.k_anonymity.and_then(|a| a.resolve(file, &columns, &mut errs));
        let national_id_formats = self.national_id_formats.unwrap_or_default();
        for (i, f) in national_id_formats.iter().enumerate() {
            if f.len() < 4 || !f.bytes().any(|c| c == b'9') {
                errs.push(Error::config(
                    file,
                    format!("privacy.national_id_formats[{i}]"),
                    format!("`{f}` is too loose a format: write at least 4 characters with digits as `9` and letters as `A` (`999-99-9999`)"),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(PrivacyParams {
            key_env,
            key_id,
            columns,
            quasi_identifiers: self.quasi_identifiers.unwrap_or_default(),
            allow_pii: self.allow_pii.unwrap_or_default(),
            national_id_formats,
            keep_raw: self.keep_raw.unwrap_or(false),
            k_anonymity,
        })
    }
}

/// Reads the masking key from `var`; unset or empty is an error, never a default.
pub fn read_key(var: &str) -> Result<Vec<u8>, Error> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v.into_bytes()),
        _ => Err(Error::MissingEnv {
            name: var.to_string(),
            why:
                "it holds the key for the `hash` masking action (set it, or name another variable in `privacy.key_env`)"
                    .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_belongs_to_hash_and_national_id_formats_are_checked() {
        let yaml = "columns:\n  c: { action: drop, domain: x }\nnational_id_formats: [\"999-99-9999\", \"AB\"]\n";
        let cfg: PrivacyConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
        let errs = cfg.resolve("p.yaml", "bank").unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text.iter()
                .any(|e| e.contains("privacy.columns.c") && e.contains("domain")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("privacy.national_id_formats[1]") && e.contains("`AB`")),
            "{text:?}"
        );
    }
}

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
    /// Date to year.
    Year,
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
                ActionKind::Truncate => match c.chars {
                    Some(n) if n > 0 => Action::Truncate { chars: n },
                    _ => {
                        errs.push(Error::config(file, key.clone(), "`truncate` needs `chars: N` (N >= 1)"));
                        continue;
                    }
                },
                ActionKind::Generalize => match (c.to.as_deref(), c.bucket) {
                    (Some("year"), None) => Action::Year,
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
                            format!("unknown `to: {other}`, expected `year` or `age_band`"),
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
            if c.domain.is_some() && c.action != ActionKind::Hash {
                extra("domain", &mut errs);
            }
            columns.insert(name, action);
        }
        let key_id = if columns.values().any(|a| matches!(a, Action::Hash { .. })) {
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

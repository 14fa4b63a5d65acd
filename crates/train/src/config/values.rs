//! Candidate values of one hyperparameter: a list, or (random search only) a range to draw from.
//! Each key path draws from a seeded stream of its own (`<key>.draws`), so reordering code or
//! adding a family never changes another key's draws.

use serde::Deserialize;

use riskpipe_core::{Error, Rng};

/// A numeric hyperparameter's candidates: a list, or (random search only) a range.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "a list of numbers, or a range `{ min, max, log }`")]
pub enum FloatValues {
    /// These values.
    List(Vec<f64>),
    /// Uniform draws from `[min, max]`, log-uniform with `log: true`.
    Range(FloatRange),
}

/// `{ min, max, log }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatRange {
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// Draw the logarithm uniformly (for penalties and rates spanning decades).
    #[serde(default)]
    pub log: bool,
}

/// A whole-number hyperparameter's candidates: a list, or (random search only) a range.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "a list of whole numbers, or a range `{ min, max }`")]
pub enum IntValues {
    /// These values.
    List(Vec<usize>),
    /// Uniform draws from `min..=max`.
    Range(IntRange),
}

/// `{ min, max }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntRange {
    /// Lowest value.
    pub min: usize,
    /// Highest value.
    pub max: usize,
}

fn range_needs_random(file: &str, key: &str) -> Error {
    Error::config(
        file,
        key,
        "a range of values needs `train.search: random` (grid search tries lists)",
    )
}

impl FloatValues {
    /// The candidates: the list, or `draws` draws from the range on the key's own stream.
    pub(crate) fn values(
        &self,
        key: &str,
        file: &str,
        random: Option<(usize, u64)>,
        errs: &mut Vec<Error>,
    ) -> Vec<f64> {
        match (self, random) {
            (FloatValues::List(v), _) => v.clone(),
            (FloatValues::Range(FloatRange { min, max, log }), Some((draws, seed))) => {
                if !(min.is_finite() && max.is_finite() && min <= max && (!log || *min > 0.0)) {
                    errs.push(Error::config(
                        file,
                        key,
                        "a range needs finite `min <= max` (and `min > 0` with `log: true`)",
                    ));
                    return vec![*min];
                }
                let mut rng = Rng::derive(seed, &format!("{key}.draws"));
                (0..draws)
                    .map(|_| {
                        let u = rng.uniform();
                        if *log {
                            (min.ln() + u * (max.ln() - min.ln())).exp()
                        } else {
                            min + u * (max - min)
                        }
                    })
                    .collect()
            }
            (FloatValues::Range(_), None) => {
                errs.push(range_needs_random(file, key));
                Vec::new()
            }
        }
    }
}

impl IntValues {
    /// The candidates: the list, or `draws` draws from the range on the key's own stream.
    pub(crate) fn values(
        &self,
        key: &str,
        file: &str,
        random: Option<(usize, u64)>,
        errs: &mut Vec<Error>,
    ) -> Vec<usize> {
        match (self, random) {
            (IntValues::List(v), _) => v.clone(),
            (IntValues::Range(IntRange { min, max }), Some((draws, seed))) => {
                if min > max {
                    errs.push(Error::config(file, key, "a range needs `min <= max`"));
                    return vec![*min];
                }
                let mut rng = Rng::derive(seed, &format!("{key}.draws"));
                (0..draws)
                    .map(|_| min + rng.below((max - min + 1) as u64) as usize)
                    .collect()
            }
            (IntValues::Range(_), None) => {
                errs.push(range_needs_random(file, key));
                Vec::new()
            }
        }
    }
}

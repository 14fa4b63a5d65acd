//! Population drift against the training rows: a bundle's `reference.json` holds the training
//! distribution of its score and of every feature (deciles of a number, the categories of a
//! text column, a bin for missing values); scored rows are counted into the same bins and
//! compared by the population stability index (PSI of the score, CSI of a feature) and the
//! Jensen-Shannon distance.
//!
//! `PSI = sum (a - e) ln(a / e)` over bins, shares floored at 1e-4 so an empty bin stays finite;
//! flagged at 0.10 (watch) and 0.25 (drift), the usual credit-risk thresholds. The JS distance
//! is the square root of the Jensen-Shannon divergence in bits (0 to 1).

use serde::{Deserialize, Serialize};

use riskpipe_core::{Column, Frame};
use riskpipe_features::{Encoding, Transform};

/// The reference file inside a bundle.
pub const REFERENCE_FILE: &str = "reference.json";
/// PSI at or above which a variable is watched.
pub const WATCH: f64 = 0.10;
/// PSI at or above which a variable has drifted.
pub const DRIFT: f64 = 0.25;
/// Categories kept per text feature (the rest share an `other` bin).
const MAX_CATEGORIES: usize = 30;
const FLOOR: f64 = 1e-4;

/// How a variable's values fall into bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bins {
    /// Numbers: bin k holds `edges[k-1] < x <= edges[k]` (open at both ends), then missing.
    Numeric {
        /// Inner edges, ascending.
        edges: Vec<f64>,
    },
    /// Text: one bin per category, then `other`, then missing.
    Categorical {
        /// The categories.
        categories: Vec<String>,
    },
}

impl Bins {
    /// Deciles of the training values (duplicates merged).
    fn numeric(values: &[f64]) -> Bins {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = (1..10).filter_map(|k| v.get(k * v.len() / 10).copied()).collect();
        edges.dedup();
        Bins::Numeric { edges }
    }

    fn categorical(values: &[Option<String>]) -> Bins {
        let mut counts: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for s in values.iter().flatten() {
            *counts.entry(s).or_default() += 1;
        }
        let mut order: Vec<(&str, u64)> = counts.into_iter().collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        Bins::Categorical {
            categories: order.iter().take(MAX_CATEGORIES).map(|(s, _)| s.to_string()).collect(),
        }
    }

    /// Number of bins, the missing bin included.
    pub fn len(&self) -> usize {
        match self {
            Bins::Numeric { edges } => edges.len() + 2,
            Bins::Categorical { categories } => categories.len() + 2,
        }
    }

    /// Whether there is no bin but missing (never: at least two bins).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Adds the values of `c` into `counts`.
    fn count(&self, c: &Column, counts: &mut [u64]) {
        let last = counts.len() - 1;
        match (self, c) {
            (Bins::Numeric { edges }, Column::Number(v)) => {
                for x in v {
                    let b = if x.is_nan() {
                        last
                    } else {
                        edges.partition_point(|e| e < x)
                    };
                    counts[b] += 1;
                }
            }
            (Bins::Categorical { categories }, Column::Text(v)) => {
                for s in v {
                    let b = match s {
                        None => last,
                        Some(s) => categories.iter().position(|c| c == s).unwrap_or(last - 1),
                    };
                    counts[b] += 1;
                }
            }
            _ => counts[last] += c.len() as u64,
        }
    }
}

/// One variable's training distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    /// The score output or the feature.
    pub name: String,
    /// Its bins.
    pub bins: Bins,
    /// Training share per bin.
    pub shares: Vec<f64>,
}

/// `reference.json`: the training distributions of the score and the features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Training rows behind it.
    pub rows: u64,
    /// The score (the bundle's first numeric output: PD, LGD or anomaly score).
    pub score: Variable,
    /// Every feature of the transform that the masked inputs hold.
    pub features: Vec<Variable>,
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let n = counts.iter().sum::<u64>().max(1) as f64;
    counts.iter().map(|c| *c as f64 / n).collect()
}

/// A variable's comparison with its reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The variable.
    pub name: String,
    /// Rows compared.
    pub rows: u64,
    /// PSI (the score) or CSI (a feature).
    pub psi: f64,
    /// Jensen-Shannon distance.
    pub js: f64,
}

impl Drift {
    /// `stable`, `watch` (PSI at least 0.10) or `drift` (at least 0.25).
    pub fn flag(&self) -> &'static str {
        if self.psi >= DRIFT {
            "drift"
        } else if self.psi >= WATCH {
            "watch"
        } else {
            "stable"
        }
    }
}

/// PSI of `actual` shares against `expected`, each floored at 1e-4.
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(e, a)| {
            let (e, a) = (e.max(FLOOR), a.max(FLOOR));
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// Jensen-Shannon distance of two share vectors, in [0, 1].
pub fn js_distance(p: &[f64], q: &[f64]) -> f64 {
    let kl = |a: f64, m: f64| if a > 0.0 { a * (a / m).log2() } else { 0.0 };
    let d: f64 = p
        .iter()
        .zip(q)
        .map(|(a, b)| {
            let m = (a + b) / 2.0;
            0.5 * kl(*a, m) + 0.5 * kl(*b, m)
        })
        .sum();
    d.max(0.0).sqrt()
}

impl Reference {
    /// The reference of training rows: their scores (`score_name`) and masked inputs.
    pub fn fit(score_name: &str, scores: &[f64], masked: &Frame, transform: &Transform) -> Reference {
        let variable = |name: &str, bins: Bins, c: &Column| {
            let mut counts = vec![0u64; bins.len()];
            bins.count(c, &mut counts);
            Variable {
                name: name.to_string(),
                shares: shares(&counts),
                bins,
            }
        };
        let score_col = Column::Number(scores.to_vec());
        let features = transform
            .features
            .iter()
            .filter_map(|f| {
                let c = masked.get(&f.name)?;
                let bins = match (&f.encoding, c) {
                    (Encoding::Numeric { .. }, Column::Number(v)) => Bins::numeric(v),
                    (Encoding::Categorical { .. }, Column::Text(v)) => Bins::categorical(v),
                    _ => return None,
                };
                Some(variable(&f.name, bins, c))
            })
            .collect();
        Reference {
            rows: scores.len() as u64,
            score: variable(score_name, Bins::numeric(scores), &score_col),
            features,
        }
    }

    /// Empty counts for rows to compare with this reference.
    pub fn counter(&self) -> Counts {
        Counts {
            score: vec![0; self.score.bins.len()],
            features: self.features.iter().map(|f| vec![0; f.bins.len()]).collect(),
            rows: 0,
        }
    }
}

/// Rows counted into a reference's bins.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    score: Vec<u64>,
    features: Vec<Vec<u64>>,
    rows: u64,
}

impl Counts {
    /// Adds a batch: its scores and masked inputs.
    pub fn add(&mut self, reference: &Reference, scores: &[f64], masked: &Frame) {
        reference
            .score
            .bins
            .count(&Column::Number(scores.to_vec()), &mut self.score);
        for (f, counts) in reference.features.iter().zip(&mut self.features) {
            match masked.get(&f.name) {
                Some(c) => f.bins.count(c, counts),
                None => *counts.last_mut().expect("a missing bin") += scores.len() as u64,
            }
        }
        self.rows += scores.len() as u64;
    }

    /// Rows counted.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds the counts of `other` (of the same reference).
    pub fn merge(&mut self, other: &Counts) {
        let add = |a: &mut [u64], b: &[u64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.score, &other.score);
        for (a, b) in self.features.iter_mut().zip(&other.features) {
            add(a, b);
        }
        self.rows += other.rows;
    }

    /// The score's and every feature's drift, the score first.
    pub fn compare(&self, reference: &Reference) -> Vec<Drift> {
        let one = |v: &Variable, counts: &[u64]| {
            let a = shares(counts);
            Drift {
                name: v.name.clone(),
                rows: self.rows,
                psi: psi(&v.shares, &a),
                js: js_distance(&v.shares, &a),
            }
        };
        std::iter::once(one(&reference.score, &self.score))
            .chain(reference.features.iter().zip(&self.features).map(|(f, c)| one(f, c)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_and_js_are_zero_on_the_same_distribution_and_grow_with_a_shift() {
        let e = [0.25, 0.25, 0.25, 0.25];
        assert_eq!(psi(&e, &e), 0.0);
        assert_eq!(js_distance(&e, &e), 0.0);
        let a = [0.1, 0.2, 0.3, 0.4];
        // By hand: sum (a - e) ln(a / e).
        let by_hand = -0.15 * (0.4f64).ln() - 0.05 * (0.8f64).ln() + 0.05 * (1.2f64).ln() + 0.15 * (1.6f64).ln();
        assert!((psi(&e, &a) - by_hand).abs() < 1e-15);
        assert!(js_distance(&e, &a) > 0.0 && js_distance(&[1.0, 0.0], &[0.0, 1.0]) == 1.0);
    }

    #[test]
    fn numeric_bins_count_missing_and_both_tails() {
        let b = Bins::numeric(&(0..100).map(f64::from).collect::<Vec<_>>());
        let mut counts = vec![0; b.len()];
        b.count(&Column::Number(vec![-5.0, 1e9, f64::NAN, 50.0]), &mut counts);
        assert_eq!(counts[0], 1);
        assert_eq!(counts[b.len() - 2], 1);
        assert_eq!(counts[b.len() - 1], 1);
        assert_eq!(counts.iter().sum::<u64>(), 4);
    }
}

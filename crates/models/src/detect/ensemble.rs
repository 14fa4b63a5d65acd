//! The detector ensemble: each member's score turned into its rank among the member's own
//! training scores (a number in [0, 1]), and the ranks averaged. Ranks put detectors whose
//! scores live on different scales (a path-length ratio, a sum of `-ln` tail probabilities, a
//! distance) on one scale without a label.

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

use super::Detect;
use crate::Model;

/// Order statistics kept of each member's training scores (the rank reference).
const REFERENCE_POINTS: usize = 1001;

/// One member of the ensemble: a fitted detector and where its training scores lay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The detector's family name (`iforest`).
    pub name: String,
    /// The fitted detector.
    pub model: Model,
    /// Evenly spaced order statistics of its training scores, ascending (at most 1,001: the
    /// rank of a new score is exact to a thousandth).
    pub reference: Vec<f64>,
}

/// The mean of the members' rank-normalised scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorEnsemble {
    /// The columns every member reads, in order.
    pub features: Vec<String>,
    /// The members, in family order.
    pub members: Vec<Member>,
}

/// `REFERENCE_POINTS` evenly spaced order statistics of `scores` (all of them when fewer).
fn reference(scores: &[f64]) -> Vec<f64> {
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    if s.len() <= REFERENCE_POINTS {
        return s;
    }
    let last = (s.len() - 1) as f64;
    (0..REFERENCE_POINTS)
        .map(|k| s[(k as f64 * last / (REFERENCE_POINTS - 1) as f64).round() as usize])
        .collect()
}

/// The mid-rank of `v` among the sorted `reference`, in [0, 1]: the share of reference values
/// below it plus half the share equal to it.
pub fn mid_rank(reference: &[f64], v: f64) -> f64 {
    if reference.is_empty() {
        return 0.5;
    }
    let below = reference.partition_point(|r| *r < v);
    let at_most = reference.partition_point(|r| *r <= v);
    (below + at_most) as f64 / (2 * reference.len()) as f64
}

impl DetectorEnsemble {
    /// Builds the ensemble from fitted detectors (name, model) and the training columns they
    /// were fitted on (in the members' feature order).
    pub fn build(members: Vec<(String, Model)>, x: &[&[f64]]) -> Result<DetectorEnsemble> {
        let Some((_, first)) = members.first() else {
            return Err(Error::Internal("an ensemble needs at least one detector".into()));
        };
        let features = first.features().to_vec();
        let mut out = Vec::with_capacity(members.len());
        for (name, model) in members {
            let Some(d) = model.detector().filter(|_| model.features() == features.as_slice()) else {
                return Err(Error::Internal(format!(
                    "ensemble member `{name}` is not a detector on the ensemble's columns"
                )));
            };
            let reference = reference(&d.reference_scores(x));
            out.push(Member { name, model, reference });
        }
        Ok(DetectorEnsemble { features, members: out })
    }

    /// Each member's rank-normalised scores of `x`, in member order.
    pub fn member_ranks(&self, x: &[&[f64]]) -> Vec<Vec<f64>> {
        self.members
            .iter()
            .map(|m| {
                m.model
                    .predict(x)
                    .into_iter()
                    .map(|s| mid_rank(&m.reference, s))
                    .collect()
            })
            .collect()
    }

    /// The ensemble score of each row: the mean of its members' ranks.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let ranks = self.member_ranks(x);
        let n = x.first().map_or(0, |c| c.len());
        let k = ranks.len().max(1) as f64;
        (0..n).map(|i| ranks.iter().map(|r| r[i]).sum::<f64>() / k).collect()
    }
}

impl Detect for DetectorEnsemble {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        DetectorEnsemble::score(self, x)
    }

    /// Each member's attribution, made shares of one (negative parts count zero), weighted by
    /// the member's rank of the row, and averaged.
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.features.len()];
        let cols: Vec<[f64; 1]> = row.iter().map(|v| [*v]).collect();
        let x: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        for m in &self.members {
            let Some(d) = m.model.detector() else { continue };
            let rank = mid_rank(&m.reference, d.score(&x)[0]);
            let a = d.explain_row(row);
            let total: f64 = a.iter().map(|v| v.max(0.0)).sum();
            if total > 0.0 {
                for (o, v) in out.iter_mut().zip(&a) {
                    *o += rank * v.max(0.0) / total;
                }
            }
        }
        let k = self.members.len().max(1) as f64;
        out.iter_mut().for_each(|v| *v /= k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_ranks_split_ties_and_stay_in_the_unit_interval() {
        let r = [1.0, 2.0, 2.0, 3.0];
        assert_eq!(mid_rank(&r, 0.0), 0.0);
        assert_eq!(mid_rank(&r, 2.0), 0.5);
        assert_eq!(mid_rank(&r, 2.5), 0.75);
        assert_eq!(mid_rank(&r, 9.0), 1.0);
        let many: Vec<f64> = (0..5000).map(f64::from).collect();
        let refs = reference(&many);
        assert_eq!(refs.len(), REFERENCE_POINTS);
        assert_eq!((refs[0], refs[REFERENCE_POINTS - 1]), (0.0, 4999.0));
        assert!((mid_rank(&refs, 2500.0) - 0.5).abs() < 1e-3);
    }

    #[test]
    fn the_ensemble_ranks_a_planted_outlier_first_and_names_its_feature() {
        use crate::{EcodParams, HbosParams, IsolationForestParams, ModelParams};
        let mut rng = riskpipe_core::Rng::new(5);
        let n = 1000;
        let mut a: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let b: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        a[17] = 6.0; // far out on `a` only
        let names = vec!["a".to_string(), "b".to_string()];
        let x: Vec<&[f64]> = vec![&a, &b];
        let members: Vec<(String, Model)> = [
            ModelParams::from(IsolationForestParams::default()),
            ModelParams::from(EcodParams::default()),
            ModelParams::from(HbosParams::default()),
        ]
        .iter()
        .map(|p| (p.family().name().to_string(), p.fit(&names, &x, &[]).unwrap()))
        .collect();
        let e = DetectorEnsemble::build(members, &x).unwrap();
        let s = e.score(&x);
        // The isolation forest and ECOD put the row in their top 1 %; HBOS, whose equal-width
        // bins the outlier stretches, in its top 10 %; the ensemble in its top 5 %.
        let ranks = e.member_ranks(&[&a[17..18], &b[17..18]]);
        assert!(
            ranks[0][0] > 0.99 && ranks[1][0] > 0.99 && ranks[2][0] > 0.9,
            "{ranks:?}"
        );
        let above = s.iter().filter(|v| **v > s[17]).count();
        assert!(above < 50, "{above} rows above the outlier");
        assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
        let why = Model::DetectorEnsemble(e.clone())
            .explain(&[&a[17..18], &b[17..18]])
            .unwrap();
        assert!(why[0][0] > 3.0 * why[0][1], "{why:?}");
        let back: Model = serde_json::from_str(&serde_json::to_string(&Model::DetectorEnsemble(e)).unwrap()).unwrap();
        assert_eq!(back.predict(&x), s);
    }
}

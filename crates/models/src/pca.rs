//! Principal component analysis: the eigenvectors of the columns' covariance (cyclic Jacobi
//! rotations, exact to rounding for the tens of columns a risk table has), kept by count or by
//! the share of variance they explain. Used twice: as a detector (a row's squared
//! reconstruction error from the kept components, or its weighted distance to every component)
//! and by the features stage to reduce the numeric features.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

/// How many components to keep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// This many components (at most the columns).
    Components(usize),
    /// The fewest components whose variance reaches this share of the total, in (0, 1].
    Variance(f64),
}

/// A fitted principal component analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Column means of the fit rows.
    pub mean: Vec<f64>,
    /// Every component, one unit vector of `features.len()` values each, by variance
    /// descending (each with its largest entry positive); the first `kept` are the kept ones.
    pub components: Vec<Vec<f64>>,
    /// Every component's variance, descending.
    pub variances: Vec<f64>,
    /// How many components are kept.
    pub kept: usize,
}

/// Eigenvalues (descending) and unit eigenvectors (rows) of the symmetric `d x d` matrix `a`.
pub fn symmetric_eigen(mut a: Vec<f64>, d: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut v = vec![0.0; d * d];
    (0..d).for_each(|i| v[i * d + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _ in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|p| (0..d).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[p * d + q].powi(2))
            .sum();
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                // The rotation that zeroes a[p][q] (Golub and Van Loan, 8.5.2).
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| a[j * d + j].total_cmp(&a[i * d + i]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| a[i * d + i].max(0.0)).collect();
    let vectors = order
        .iter()
        .map(|&i| {
            let mut col: Vec<f64> = (0..d).map(|k| v[k * d + i]).collect();
            let big = (0..d).fold(0, |b, k| if col[k].abs() > col[b].abs() { k } else { b });
            if col[big] < 0.0 {
                col.iter_mut().for_each(|x| *x = -*x);
            }
            col
        })
        .collect();
    (values, vectors)
}

impl Pca {
    /// Fits on columns `x` (named `names`).
    pub fn fit(names: &[String], x: &[&[f64]], keep: Keep) -> Result<Pca> {
        let n = crate::detect::check_table("pca", names, x)?;
        let d = x.len();
        match keep {
            Keep::Components(k) if k == 0 || k > d => {
                return Err(Error::Internal(format!(
                    "pca: `components` is {k}; it must be between 1 and the {d} columns"
                )));
            }
            Keep::Variance(v) if !(v > 0.0 && v <= 1.0) => {
                return Err(Error::Internal(format!("pca: `variance` is {v}; it must be in (0, 1]")));
            }
            _ => {}
        }
        let mean: Vec<f64> = x.iter().map(|c| c.iter().sum::<f64>() / n as f64).collect();
        let pairs: Vec<(usize, usize)> = (0..d).flat_map(|p| (0..=p).map(move |q| (p, q))).collect();
        let sums: Vec<f64> = pairs
            .par_iter()
            .map(|&(p, q)| {
                x[p].iter()
                    .zip(x[q])
                    .map(|(a, b)| (a - mean[p]) * (b - mean[q]))
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        let mut cov = vec![0.0; d * d];
        for (&(p, q), s) in pairs.iter().zip(sums) {
            cov[p * d + q] = s;
            cov[q * d + p] = s;
        }
        let (variances, vectors) = symmetric_eigen(cov, d);
        let k = match keep {
            Keep::Components(k) => k,
            Keep::Variance(share) => {
                let total: f64 = variances.iter().sum();
                let mut acc = 0.0;
                variances
                    .iter()
                    .position(|v| {
                        acc += v;
                        acc >= share * total * (1.0 - 1e-12)
                    })
                    .map_or(d, |i| i + 1)
            }
        };
        Ok(Pca {
            features: names.to_vec(),
            mean,
            components: vectors,
            variances,
            kept: k,
        })
    }

    /// Each kept component's coordinate for each row of `x`: one column per component.
    pub fn project(&self, x: &[&[f64]]) -> Vec<Vec<f64>> {
        let n = x.first().map_or(0, |c| c.len());
        self.components[..self.kept]
            .par_iter()
            .map(|comp| {
                (0..n)
                    .map(|i| {
                        x.iter()
                            .zip(comp.iter().zip(&self.mean))
                            .map(|(c, (w, m))| (c[i] - m) * w)
                            .sum()
                    })
                    .collect()
            })
            .collect()
    }

    /// The share of the total variance the kept components explain.
    pub fn explained(&self) -> f64 {
        let total: f64 = self.variances.iter().sum();
        if total > 0.0 {
            self.variances[..self.kept].iter().sum::<f64>() / total
        } else {
            1.0
        }
    }

    /// Per feature, the squared part of `row` its kept components do not explain: the row less
    /// its reconstruction from them. With `weighted`, each left-out component's coordinate is
    /// first divided by its standard deviation, so that a deviation along a direction in which
    /// the fit rows hardly vary counts for more (a direction with no variance at all counts as
    /// a standard deviation of 1e-6 of the largest).
    pub fn residuals(&self, row: &[f64], weighted: bool) -> Vec<f64> {
        let centred: Vec<f64> = row.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        let floor = 1e-12 * self.variances.first().copied().unwrap_or(0.0).max(f64::MIN_POSITIVE);
        let mut left = vec![0.0; row.len()];
        for (comp, var) in self.components.iter().zip(&self.variances).skip(self.kept) {
            let mut t: f64 = centred.iter().zip(comp).map(|(a, w)| a * w).sum();
            if weighted {
                t /= var.max(floor).sqrt();
            }
            left.iter_mut().zip(comp).for_each(|(b, w)| *b += t * w);
        }
        left.iter().map(|v| v * v).collect()
    }

    /// Per feature, its share of the component-distance score of `row` (see
    /// [`PcaScore::ComponentDistance`]): for each component `j` with weight `w_j` and distance
    /// `d_j` between the centred row and the component's unit vector, feature `f` takes
    /// `w_j (c_f - v_jf)^2 / d_j`; the shares sum to the score.
    pub fn component_distances(&self, row: &[f64]) -> Vec<f64> {
        let centred: Vec<f64> = row.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        let total: f64 = self.variances.iter().sum();
        let mut share = vec![0.0; row.len()];
        if total <= 0.0 {
            return share;
        }
        for (comp, var) in self.components.iter().zip(&self.variances) {
            let ratio = var / total;
            if ratio <= NULL_RATIO {
                continue;
            }
            let d2: f64 = centred.iter().zip(comp).map(|(c, v)| (c - v) * (c - v)).sum();
            if d2 > 0.0 {
                let scale = 1.0 / (ratio * d2.sqrt());
                share
                    .iter_mut()
                    .zip(centred.iter().zip(comp))
                    .for_each(|(s, (c, v))| *s += scale * (c - v) * (c - v));
            }
        }
        share
    }
}

/// A component whose share of the variance is at most this is a direction in which the fit
/// rows do not vary (more columns than rows, or a constant column); the component-distance
/// score leaves it out rather than divide by a rounding error.
const NULL_RATIO: f64 = 1e-12;

/// How the PCA detector turns a row into a score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcaScore {
    /// The squared part of the row the kept components do not explain (default).
    #[default]
    Reconstruction,
    /// The sum over every component of the distance between the centred row and the
    /// component's unit vector, divided by the share of the variance the component explains:
    /// PyOD's PCA score. It grows with the row's distance from the centre, most along the
    /// directions in which the fit rows hardly vary; `components`, `variance` and `weighted`
    /// do not apply.
    ComponentDistance,
}

/// Settings of the PCA detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcaParams {
    /// Components kept (default: by `variance`).
    pub components: Option<usize>,
    /// The share of variance the kept components reach when `components` is not set (default 0.9).
    pub variance: f64,
    /// Divide each left-out component's coordinate by its standard deviation (default false).
    pub weighted: bool,
    /// How a row becomes a score (default: reconstruction error).
    #[serde(default)]
    pub score: PcaScore,
}

impl Default for PcaParams {
    fn default() -> Self {
        PcaParams {
            components: None,
            variance: 0.9,
            weighted: false,
            score: PcaScore::Reconstruction,
        }
    }
}

/// PCA detector: by default a row's score is its reconstruction error, the squared distance
/// between it and its projection on the kept components, the part of the row the main
/// directions of the data do not explain (optionally in units of each left-out direction's
/// spread); or its weighted distance to every component ([`PcaScore::ComponentDistance`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaDetector {
    /// The fitted components.
    pub pca: Pca,
    /// The settings used.
    pub params: PcaParams,
}

impl PcaDetector {
    /// Fits on columns `x` (named `names`).
    pub fn fit(names: &[String], x: &[&[f64]], params: &PcaParams) -> Result<Self> {
        let keep = match params.components {
            Some(k) => Keep::Components(k),
            None => Keep::Variance(params.variance),
        };
        Ok(PcaDetector {
            pca: Pca::fit(names, x, keep)?,
            params: params.clone(),
        })
    }

    /// The anomaly score of each row: its squared reconstruction error, or its weighted
    /// distance to the components (`params.score`).
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        crate::predict_rows(x, |row| self.explain_row(row).iter().sum())
    }

    /// Per feature, its part of the row's score (the parts sum to the score).
    pub fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        match self.params.score {
            PcaScore::Reconstruction => self.pca.residuals(row, self.params.weighted),
            PcaScore::ComponentDistance => self.pca.component_distances(row),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, vectors (1, 1) and (1, -1) over sqrt 2.
        let (vals, vecs) = symmetric_eigen(vec![2.0, 1.0, 1.0, 2.0], 2);
        assert!(
            (vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12,
            "{vals:?}"
        );
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!(
            (vecs[0][0] - h).abs() < 1e-12 && (vecs[0][1] - h).abs() < 1e-12,
            "{vecs:?}"
        );
        assert!((vecs[1][0].abs() - h).abs() < 1e-12 && (vecs[1][0] + vecs[1][1]).abs() < 1e-12);
        // A 4 x 4 matrix: A v = lambda v for every pair.
        let a = vec![
            4.0, 1.0, 0.5, 0.2, 1.0, 3.0, 0.3, 0.1, 0.5, 0.3, 2.0, 0.7, 0.2, 0.1, 0.7, 1.0,
        ];
        let (vals, vecs) = symmetric_eigen(a.clone(), 4);
        for (l, v) in vals.iter().zip(&vecs) {
            for r in 0..4 {
                let av: f64 = (0..4).map(|c| a[r * 4 + c] * v[c]).sum();
                assert!((av - l * v[r]).abs() < 1e-10, "{av} vs {}", l * v[r]);
            }
        }
    }

    #[test]
    fn reconstruction_error_finds_the_row_off_the_plane() {
        // Three columns on a plane (c = a + b) with a little noise; one row off the plane.
        let mut rng = Rng::new(2);
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..500 {
            let (u, v) = (rng.normal(), rng.normal());
            a.push(u);
            b.push(v);
            c.push(u + v + 0.01 * rng.normal());
        }
        a.push(0.5);
        b.push(0.5);
        c.push(-1.0);
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = PcaDetector::fit(&names, &[&a, &b, &c], &PcaParams::default()).unwrap();
        assert_eq!(m.pca.kept, 2);
        assert!(m.pca.explained() > 0.99);
        let s = m.score(&[&a, &b, &c]);
        let top = (0..s.len()).max_by(|&i, &j| s[i].total_cmp(&s[j])).unwrap();
        assert_eq!(top, 500);
        let e = Pca::fit(&names, &[&a, &b, &c], Keep::Components(4)).unwrap_err();
        assert!(e.to_string().contains("`components` is 4"), "{e}");
    }

    #[test]
    fn component_distance_is_the_weighted_distance_to_each_component() {
        // Two correlated columns and a constant one (a component with no variance, left out).
        let mut rng = Rng::new(5);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..400 {
            let u = rng.normal();
            a.push(u);
            b.push(0.5 * u + 0.3 * rng.normal());
        }
        a.push(4.0);
        b.push(-2.0);
        let c = vec![1.0; a.len()];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let params = PcaParams {
            score: PcaScore::ComponentDistance,
            ..PcaParams::default()
        };
        let m = PcaDetector::fit(&names, &[&a, &b, &c], &params).unwrap();
        let s = m.score(&[&a, &b, &c]);
        assert!(
            s.iter().all(|v| v.is_finite()),
            "a null component must not divide by zero"
        );
        let total: f64 = m.pca.variances.iter().sum();
        for i in [0, 17, 400] {
            let row = [a[i], b[i], c[i]];
            let centred: Vec<f64> = row.iter().zip(&m.pca.mean).map(|(x, m)| x - m).collect();
            let direct: f64 = m
                .pca
                .components
                .iter()
                .zip(&m.pca.variances)
                .filter(|(_, v)| **v / total > NULL_RATIO)
                .map(|(comp, v)| {
                    let d: f64 = centred.iter().zip(comp).map(|(x, w)| (x - w) * (x - w)).sum();
                    d.sqrt() / (v / total)
                })
                .sum();
            assert!((s[i] - direct).abs() < 1e-9 * direct, "row {i}: {} vs {direct}", s[i]);
            let parts = m.explain_row(&row);
            assert_eq!(parts[2], 0.0, "the constant column takes no share");
            assert!((parts.iter().sum::<f64>() - s[i]).abs() < 1e-12 * s[i]);
        }
        let top = (0..s.len()).max_by(|&i, &j| s[i].total_cmp(&s[j])).unwrap();
        assert_eq!(top, 400, "the row off the line, far from the centre, scores highest");
        // The setting survives a round trip, and an older model without it reads as reconstruction.
        let back: PcaDetector = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let old: PcaParams = serde_json::from_str(r#"{"components":null,"variance":0.9,"weighted":false}"#).unwrap();
        assert_eq!(old.score, PcaScore::Reconstruction);
    }
}

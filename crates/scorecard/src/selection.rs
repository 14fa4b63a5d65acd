//! Feature selection for the scorecard, on the training WoE columns: information-value bounds,
//! pairwise correlation (the higher-IV feature of a correlated pair stays) and variance
//! inflation. Every feature gets a decision with its reason, for `report.json` and the report.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Selection settings (the `features.selection` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionParams {
    /// Drop features with a lower IV (default 0.02: "not predictive" in scorecard practice).
    pub min_iv: f64,
    /// Drop features with a higher IV (suspiciously predictive: a leak of the target?).
    pub max_iv: Option<f64>,
    /// Of two features whose WoE columns correlate beyond this (absolute Pearson), drop the one
    /// with the lower IV (off by default; 0.7 to 0.8 is usual).
    pub max_correlation: Option<f64>,
    /// While any variance inflation factor exceeds this, drop the lowest-IV feature among those
    /// above it.
    pub max_vif: Option<f64>,
    /// Stepwise selection by AIC of a logistic regression on the WoE columns, after the filters.
    #[serde(default)]
    pub stepwise: Stepwise,
}

/// Stepwise selection of the scorecard's features.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stepwise {
    /// No stepwise step.
    #[default]
    None,
    /// Start empty; add the feature that lowers AIC most while one does.
    Forward,
    /// Start with all; remove the feature whose removal lowers AIC most while one does.
    Backward,
}

impl Default for SelectionParams {
    fn default() -> Self {
        SelectionParams {
            min_iv: 0.02,
            max_iv: None,
            max_correlation: None,
            max_vif: None,
            stepwise: Stepwise::None,
        }
    }
}

/// AIC of a logistic regression (light L2) of `y` on the columns `cols`: 2 x parameters + 2 x
/// the summed log loss.
fn aic(cols: &[&[f64]], y: &[f64]) -> f64 {
    let names: Vec<String> = (0..cols.len()).map(|i| format!("x{i}")).collect();
    let params = riskpipe_models::LogisticParams::default();
    match riskpipe_models::LogisticRegression::fit(&names, cols, y, None, &params) {
        Ok(m) => {
            let p = if cols.is_empty() {
                vec![1.0 / (1.0 + (-m.intercept).exp()); y.len()]
            } else {
                m.predict_proba(cols)
            };
            let nll: f64 = p
                .iter()
                .zip(y)
                .map(|(p, y)| {
                    let p = p.clamp(1e-15, 1.0 - 1e-15);
                    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
                })
                .sum();
            2.0 * (cols.len() + 1) as f64 + 2.0 * nll
        }
        Err(_) => f64::INFINITY,
    }
}

/// Stepwise selection among the kept features by AIC; drops the others with their reason.
fn stepwise(features: &[(String, f64, &[f64])], y: &[f64], out: &mut [Decision], how: Stepwise) {
    let pool: Vec<usize> = (0..features.len()).filter(|&i| out[i].kept).collect();
    let cols = |set: &[usize]| -> Vec<&[f64]> { set.iter().map(|&i| features[i].2).collect() };
    match how {
        Stepwise::None => {}
        Stepwise::Forward => {
            let mut chosen: Vec<usize> = Vec::new();
            let mut current = aic(&[], y);
            loop {
                // Candidates in pool order; the first of equal AICs wins.
                let best = pool
                    .iter()
                    .filter(|i| !chosen.contains(i))
                    .map(|&i| {
                        let mut set = chosen.clone();
                        set.push(i);
                        (i, aic(&cols(&set), y))
                    })
                    .fold(None::<(usize, f64)>, |b, c| match b {
                        Some(b) if b.1 <= c.1 => Some(b),
                        _ => Some(c),
                    });
                match best {
                    Some((i, a)) if a < current => {
                        chosen.push(i);
                        current = a;
                    }
                    _ => break,
                }
            }
            for &i in &pool {
                if !chosen.contains(&i) {
                    let mut set = chosen.clone();
                    set.push(i);
                    out[i].kept = false;
                    out[i].reason = format!(
                        "forward stepwise: adding it would change AIC by {:+.1}",
                        aic(&cols(&set), y) - current
                    );
                }
            }
        }
        Stepwise::Backward => {
            let mut chosen = pool.clone();
            let mut current = aic(&cols(&chosen), y);
            while chosen.len() > 1 {
                let best = chosen
                    .iter()
                    .enumerate()
                    .map(|(k, _)| {
                        let mut set = chosen.clone();
                        set.remove(k);
                        (k, aic(&cols(&set), y))
                    })
                    .fold(None::<(usize, f64)>, |b, c| match b {
                        Some(b) if b.1 <= c.1 => Some(b),
                        _ => Some(c),
                    });
                match best {
                    Some((k, a)) if a < current => {
                        let i = chosen.remove(k);
                        out[i].kept = false;
                        out[i].reason = format!("backward stepwise: removing it lowered AIC by {:.1}", current - a);
                        current = a;
                    }
                    _ => break,
                }
            }
        }
    }
}

/// What selection decided for one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The raw feature.
    pub feature: String,
    /// Its information value.
    pub iv: f64,
    /// Whether the scorecard uses it.
    pub kept: bool,
    /// Why it was dropped (empty when kept).
    pub reason: String,
}

/// Pearson correlation matrix of columns (row-major, `k x k`), from one parallel pass over
/// fixed row chunks combined in order (the same bits on any thread count).
pub fn correlation(cols: &[&[f64]]) -> Vec<f64> {
    let k = cols.len();
    let n = cols.first().map_or(0, |c| c.len());
    if k == 0 || n == 0 {
        return vec![0.0; k * k];
    }
    let means: Vec<f64> = cols.iter().map(|c| c.iter().sum::<f64>() / n as f64).collect();
    const CHUNK: usize = 16_384;
    let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|ch| {
            let (lo, hi) = (ch * CHUNK, ((ch + 1) * CHUNK).min(n));
            let mut acc = vec![0.0; k * k];
            let mut centred = vec![0.0; k * (hi - lo)];
            for (j, c) in cols.iter().enumerate() {
                for (r, x) in c[lo..hi].iter().enumerate() {
                    centred[j * (hi - lo) + r] = x - means[j];
                }
            }
            let m = hi - lo;
            for a in 0..k {
                let ca = &centred[a * m..(a + 1) * m];
                for b in a..k {
                    let cb = &centred[b * m..(b + 1) * m];
                    acc[a * k + b] += riskpipe_core::stats::dot(ca, cb);
                }
            }
            acc
        })
        .collect();
    let mut cov = vec![0.0; k * k];
    for p in parts {
        for (c, v) in cov.iter_mut().zip(p) {
            *c += v;
        }
    }
    let mut r = vec![0.0; k * k];
    for a in 0..k {
        for b in a..k {
            let d = (cov[a * k + a] * cov[b * k + b]).sqrt();
            let v = if a == b {
                1.0
            } else if d > 0.0 {
                cov[a * k + b] / d
            } else {
                0.0
            };
            r[a * k + b] = v;
            r[b * k + a] = v;
        }
    }
    r
}

/// Inverse of a symmetric positive definite matrix by Gauss-Jordan with partial pivoting;
/// `None` when singular.
fn invert(m: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut a = m.to_vec();
    let mut inv = vec![0.0; k * k];
    for i in 0..k {
        inv[i * k + i] = 1.0;
    }
    for c in 0..k {
        let p = (c..k).max_by(|&x, &y| a[x * k + c].abs().total_cmp(&a[y * k + c].abs()))?;
        if a[p * k + c].abs() < 1e-12 {
            return None;
        }
        for j in 0..k {
            a.swap(c * k + j, p * k + j);
            inv.swap(c * k + j, p * k + j);
        }
        let d = a[c * k + c];
        for j in 0..k {
            a[c * k + j] /= d;
            inv[c * k + j] /= d;
        }
        for r in 0..k {
            if r != c {
                let f = a[r * k + c];
                if f != 0.0 {
                    for j in 0..k {
                        a[r * k + j] -= f * a[c * k + j];
                        inv[r * k + j] -= f * inv[c * k + j];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// Variance inflation factors of the features `keep` (indices into the correlation matrix `r`
/// of `k` columns): the diagonal of the inverse correlation matrix. Infinite when singular.
pub fn vif(r: &[f64], k: usize, keep: &[usize]) -> Vec<f64> {
    let m = keep.len();
    let sub: Vec<f64> = keep
        .iter()
        .flat_map(|&a| keep.iter().map(move |&b| r[a * k + b]))
        .collect();
    match invert(&sub, m) {
        Some(inv) => (0..m).map(|i| inv[i * m + i]).collect(),
        None => vec![f64::INFINITY; m],
    }
}

/// Decides, for each feature (name, IV, training WoE column), whether the scorecard uses it;
/// `y` (0/1 labels of the training rows) is read by the stepwise step only.
pub fn select(features: &[(String, f64, &[f64])], y: &[f64], p: &SelectionParams) -> Vec<Decision> {
    let mut out: Vec<Decision> = features
        .iter()
        .map(|(f, iv, _)| Decision {
            feature: f.clone(),
            iv: *iv,
            kept: true,
            reason: String::new(),
        })
        .collect();
    for d in &mut out {
        if d.iv < p.min_iv {
            d.kept = false;
            d.reason = format!("IV {:.4} below min_iv {}", d.iv, p.min_iv);
        } else if let Some(max) = p.max_iv
            && d.iv > max
        {
            d.kept = false;
            d.reason = format!(
                "IV {:.4} above max_iv {max} (too predictive: check for a leak of the target)",
                d.iv
            );
        }
    }
    if p.max_correlation.is_none() && p.max_vif.is_none() {
        stepwise(features, y, &mut out, p.stepwise);
        return out;
    }
    let k = features.len();
    let cols: Vec<&[f64]> = features.iter().map(|f| f.2).collect();
    let r = correlation(&cols);
    // Highest IV first (then name): a feature stays unless it correlates with one kept before it.
    let mut order: Vec<usize> = (0..k).filter(|&i| out[i].kept).collect();
    order.sort_by(|&a, &b| {
        out[b]
            .iv
            .total_cmp(&out[a].iv)
            .then(out[a].feature.cmp(&out[b].feature))
    });
    if let Some(maxc) = p.max_correlation {
        let mut kept: Vec<usize> = Vec::new();
        for &i in &order {
            if let Some(&j) = kept.iter().find(|&&j| r[i * k + j].abs() > maxc) {
                out[i].kept = false;
                out[i].reason = format!(
                    "WoE correlates {:.3} with `{}` (IV {:.4}), above max_correlation {maxc}",
                    r[i * k + j],
                    out[j].feature,
                    out[j].iv
                );
            } else {
                kept.push(i);
            }
        }
    }
    if let Some(maxv) = p.max_vif {
        loop {
            let keep: Vec<usize> = order.iter().copied().filter(|&i| out[i].kept).collect();
            if keep.len() < 2 {
                break;
            }
            let v = vif(&r, k, &keep);
            // Of the features above the limit, the one with the lowest IV goes (then the
            // higher VIF): the scorecard keeps its most informative features.
            let Some((pos, worst)) = v
                .iter()
                .enumerate()
                .filter(|(_, x)| **x > maxv)
                .min_by(|a, b| out[keep[a.0]].iv.total_cmp(&out[keep[b.0]].iv).then(b.1.total_cmp(a.1)))
                .map(|(i, x)| (i, *x))
            else {
                break;
            };
            let i = keep[pos];
            out[i].kept = false;
            out[i].reason = format!("VIF {worst:.2} above max_vif {maxv}");
        }
    }
    stepwise(features, y, &mut out, p.stepwise);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_weak_correlated_and_collinear_features_with_reasons() {
        let n = 2000;
        let a: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 53) % 97) as f64 / 97.0).collect();
        let a2: Vec<f64> = a.iter().enumerate().map(|(i, x)| x + 0.01 * ((i % 7) as f64)).collect();
        let ab: Vec<f64> = a
            .iter()
            .zip(&b)
            .enumerate()
            .map(|(i, (x, y))| x + y + 0.05 * ((i % 3) as f64))
            .collect();
        let weak: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let feats: Vec<(String, f64, &[f64])> = vec![
            ("a".into(), 0.5, &a),
            ("b".into(), 0.3, &b),
            ("a_copy".into(), 0.4, &a2),
            ("a_plus_b".into(), 0.2, &ab),
            ("weak".into(), 0.01, &weak),
        ];
        let d = select(
            &feats,
            &[],
            &SelectionParams {
                max_correlation: Some(0.8),
                max_vif: Some(5.0),
                ..SelectionParams::default()
            },
        );
        let kept: Vec<&str> = d.iter().filter(|d| d.kept).map(|d| d.feature.as_str()).collect();
        assert_eq!(kept, ["a", "b"]);
        assert!(
            d[2].reason.contains("correlates") && d[2].reason.contains("`a`"),
            "{}",
            d[2].reason
        );
        assert!(d[3].reason.contains("VIF"), "{}", d[3].reason);
        assert!(d[4].reason.contains("below min_iv"), "{}", d[4].reason);
    }

    #[test]
    fn stepwise_keeps_the_informative_features() {
        // y depends on a and b; c is noise.
        let n = 3000;
        let a: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 53) % 97) as f64 / 48.0 - 1.0).collect();
        let c: Vec<f64> = (0..n).map(|i| ((i * 71) % 89) as f64 / 44.0 - 1.0).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let z = 1.5 * a[i] - 1.0 * b[i];
                let p = 1.0 / (1.0 + (-z).exp());
                f64::from(u8::from(((i * 7919) % 1000) as f64 / 1000.0 < p))
            })
            .collect();
        let feats: Vec<(String, f64, &[f64])> =
            vec![("a".into(), 0.5, &a), ("b".into(), 0.3, &b), ("c".into(), 0.1, &c)];
        for how in [Stepwise::Forward, Stepwise::Backward] {
            let d = select(
                &feats,
                &y,
                &SelectionParams {
                    min_iv: 0.0,
                    stepwise: how,
                    ..SelectionParams::default()
                },
            );
            let kept: Vec<&str> = d.iter().filter(|d| d.kept).map(|d| d.feature.as_str()).collect();
            assert_eq!(kept, ["a", "b"], "{how:?}");
            assert!(
                d[2].reason.contains("stepwise") && d[2].reason.contains("AIC"),
                "{}",
                d[2].reason
            );
        }
    }

    #[test]
    fn correlation_matches_the_textbook_formula() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 1.0, 4.0, 3.0, 5.0];
        let r = correlation(&[&x, &y]);
        assert!((r[1] - 0.8).abs() < 1e-12 && (r[2] - 0.8).abs() < 1e-12);
        assert_eq!((r[0], r[3]), (1.0, 1.0));
        // VIF of two features: 1 / (1 - r^2).
        let v = vif(&r, 2, &[0, 1]);
        assert!((v[0] - 1.0 / (1.0 - 0.64)).abs() < 1e-9);
    }
}

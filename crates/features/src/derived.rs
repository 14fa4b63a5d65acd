//! Columns derived from the encoded matrix, fitted on the training rows after the per-feature
//! transform: principal components that replace the numeric features (`features.reduction`),
//! and anomaly scores appended for the models to read (`features.anomaly_scores`). Both are
//! saved in `transform.json`, so the bundle replays them on every scored row.

use serde::{Deserialize, Serialize};

use riskpipe_core::{Column, Error, Frame, Result};
use riskpipe_models::{Family, Keep, Model, ModelParams, Pca, feature_columns};

/// The `features.reduction` sub-section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReductionConfig {
    /// `pca` (the one method).
    pub method: Option<String>,
    /// Components kept.
    pub components: Option<usize>,
    /// Or: the share of variance the kept components reach (default 0.95).
    pub variance: Option<f64>,
}

/// Prefix of the principal-component columns (`pc_1`, `pc_2`, ...).
pub const PC_PREFIX: &str = "pc_";

/// Prefix of the anomaly-score columns (`anomaly_iforest`, ...).
pub const ANOMALY_PREFIX: &str = "anomaly_";

impl ReductionConfig {
    /// Checks the sub-section: how many components to keep.
    pub fn resolve(self, file: &str, errs: &mut Vec<Error>) -> Option<Keep> {
        let key = "features.reduction";
        if let Some(m) = self.method.as_deref()
            && m != "pca"
        {
            errs.push(Error::config(
                file,
                format!("{key}.method"),
                format!("unknown method `{m}`, expected `pca`"),
            ));
        }
        match (self.components, self.variance) {
            (Some(_), Some(_)) => {
                errs.push(Error::config(file, key, "give `components` or `variance`, not both"));
                None
            }
            (Some(0), None) => {
                errs.push(Error::config(file, format!("{key}.components"), "must be at least 1"));
                None
            }
            (Some(k), None) => Some(Keep::Components(k)),
            (None, v) => {
                let v = v.unwrap_or(0.95);
                if v > 0.0 && v <= 1.0 {
                    Some(Keep::Variance(v))
                } else {
                    errs.push(Error::config(
                        file,
                        format!("{key}.variance"),
                        format!("must be in (0, 1], found {v}"),
                    ));
                    None
                }
            }
        }
    }
}

/// Checks `features.anomaly_scores`: detector family names, each once.
pub fn resolve_anomaly_scores(names: Vec<String>, file: &str, errs: &mut Vec<Error>) -> Vec<String> {
    let detectors: Vec<&str> = Family::ALL
        .into_iter()
        .filter(|f| ModelParams::detector_defaults(*f, 0).is_some())
        .map(Family::name)
        .collect();
    let mut seen = Vec::new();
    for n in &names {
        if !detectors.contains(&n.as_str()) {
            errs.push(Error::config(
                file,
                "features.anomaly_scores",
                format!("unknown detector `{n}`, expected one of {}", detectors.join(", ")),
            ));
        } else if seen.contains(n) {
            errs.push(Error::config(
                file,
                "features.anomaly_scores",
                format!("`{n}` is listed twice"),
            ));
        }
        seen.push(n.clone());
    }
    names
}

/// Principal components of the standardised numeric columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reduction {
    /// The matrix columns reduced, in order.
    pub inputs: Vec<String>,
    /// Their training means and standard deviations (1 for a constant column).
    pub center: Vec<f64>,
    /// Standard deviations.
    pub scale: Vec<f64>,
    /// The components of the standardised columns.
    pub pca: Pca,
    /// The component columns written (`pc_1`, ...).
    pub names: Vec<String>,
}

/// One detector whose score is a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyFeature {
    /// The column written (`anomaly_<detector>`).
    pub name: String,
    /// The detector, fitted on the training rows' scaled columns.
    pub model: Model,
}

/// The derived columns of a transform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// Principal components, when `features.reduction` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduction: Option<Reduction>,
    /// Anomaly scores, in `features.anomaly_scores` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomaly: Vec<AnomalyFeature>,
}

impl Derived {
    /// Whether nothing is derived.
    pub fn is_empty(&self) -> bool {
        self.reduction.is_none() && self.anomaly.is_empty()
    }

    /// Fits the principal components of columns `inputs` of the training matrix `x`.
    pub fn fit_reduction(x: &Frame, inputs: &[String], keep: Keep) -> Result<Reduction> {
        let cols = feature_columns(x, inputs)?;
        let mut center = Vec::with_capacity(cols.len());
        let mut scale = Vec::with_capacity(cols.len());
        for c in &cols {
            let n = c.len().max(1) as f64;
            let m = c.iter().sum::<f64>() / n;
            let sd = (c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt();
            center.push(m);
            scale.push(if sd > 0.0 { sd } else { 1.0 });
        }
        let z = standardise(&cols, &center, &scale);
        let zr: Vec<&[f64]> = z.iter().map(Vec::as_slice).collect();
        let keep = match keep {
            Keep::Components(k) if k > inputs.len() => {
                return Err(Error::pipeline_key(
                    "features.reduction.components",
                    format!("is {k} but there are {} numeric features to reduce", inputs.len()),
                ));
            }
            k => k,
        };
        let pca = Pca::fit(inputs, &zr, keep)?;
        let names = (1..=pca.kept).map(|i| format!("{PC_PREFIX}{i}")).collect();
        Ok(Reduction {
            inputs: inputs.to_vec(),
            center,
            scale,
            pca,
            names,
        })
    }

    /// Fits the detectors `families` on the training matrix's `scaled` columns, each with its
    /// defaults and `seed`.
    pub fn fit_anomaly(x: &Frame, scaled: &[String], families: &[String], seed: u64) -> Result<Vec<AnomalyFeature>> {
        let cols = feature_columns(x, scaled)?;
        families
            .iter()
            .map(|name| {
                let params = Family::from_name(name)
                    .and_then(|f| ModelParams::detector_defaults(f, seed))
                    .ok_or_else(|| {
                        Error::pipeline_key("features.anomaly_scores", format!("unknown detector `{name}`"))
                    })?;
                let model = params.fit(scaled, &cols, &[]).map_err(|e| match e {
                    Error::Internal(m) => Error::pipeline_key("features.anomaly_scores", m),
                    e => e,
                })?;
                Ok(AnomalyFeature {
                    name: format!("{ANOMALY_PREFIX}{name}"),
                    model,
                })
            })
            .collect()
    }

    /// Appends the derived columns to the encoded matrix `x`.
    pub fn apply(&self, x: &mut Frame) -> Result<()> {
        if let Some(r) = &self.reduction {
            let cols = feature_columns(x, &r.inputs)?;
            let z = standardise(&cols, &r.center, &r.scale);
            let zr: Vec<&[f64]> = z.iter().map(Vec::as_slice).collect();
            for (name, v) in r.names.iter().zip(r.pca.project(&zr)) {
                x.push(name, Column::Number(v));
            }
        }
        for a in &self.anomaly {
            let s = a.model.predict_frame(x)?;
            x.push(&a.name, Column::Number(s));
        }
        Ok(())
    }
}

fn standardise(cols: &[&[f64]], center: &[f64], scale: &[f64]) -> Vec<Vec<f64>> {
    cols.iter()
        .zip(center.iter().zip(scale))
        .map(|(c, (m, s))| c.iter().map(|v| (v - m) / s).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        // b is 2a plus a little; c independent: two components hold almost all the variance.
        let a: Vec<f64> = (0..200).map(|i| f64::from(i % 17)).collect();
        let b: Vec<f64> = a
            .iter()
            .enumerate()
            .map(|(i, v)| 2.0 * v + 0.01 * f64::from(i as u32 % 3))
            .collect();
        let c: Vec<f64> = (0..200).map(|i| f64::from((i * 7) % 11)).collect();
        let mut f = Frame::new();
        f.push("a", Column::Number(a));
        f.push("b", Column::Number(b));
        f.push("c", Column::Number(c));
        f
    }

    #[test]
    fn components_replay_on_new_rows_and_scores_append() {
        let f = frame();
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let r = Derived::fit_reduction(&f, &names, Keep::Variance(0.99)).unwrap();
        assert_eq!(r.names, ["pc_1", "pc_2"]);
        let d = Derived {
            reduction: Some(r),
            anomaly: Derived::fit_anomaly(&f, &names, &["hbos".to_string()], 1).unwrap(),
        };
        let mut x = f.clone();
        d.apply(&mut x).unwrap();
        assert_eq!(
            x.names().iter().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c", "pc_1", "pc_2", "anomaly_hbos"]
        );
        // The components of the standardised columns are uncorrelated on the fit rows.
        let (p1, p2) = (x.number("pc_1").unwrap(), x.number("pc_2").unwrap());
        let dot: f64 = p1.iter().zip(p2).map(|(u, v)| u * v).sum();
        assert!(dot.abs() < 1e-6, "{dot}");
        // The same row scores the same alone as in the table.
        let one = f.take(&[5]);
        let mut y = one.clone();
        d.apply(&mut y).unwrap();
        assert_eq!(y.number("pc_1").unwrap()[0], p1[5]);
        assert_eq!(
            y.number("anomaly_hbos").unwrap()[0],
            x.number("anomaly_hbos").unwrap()[5]
        );
        let e = Derived::fit_anomaly(&f, &names, &["tree".to_string()], 1).unwrap_err();
        assert!(e.to_string().contains("features.anomaly_scores"), "{e}");
    }
}

//! The fitted [`Transform`]: imputation, capping, encoding and WoE, fitted on train and applied
//! identically to test and, in `deploy`, to new applications.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::derived::Derived;
use riskpipe_models::Keep;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Column, ColumnKind, Error, Frame, Result};

use riskpipe_scorecard::{BinRef, Binner, Binning};

/// Suffix of missing-indicator columns.
pub use riskpipe_core::names::MISSING_SUFFIX;
/// Between a feature and a category in a one-hot detector column.
pub use riskpipe_core::names::ONE_HOT_INFIX;
/// Suffix of scaled columns.
pub use riskpipe_core::names::SCALED_SUFFIX;
/// Prefix of WoE columns.
pub use riskpipe_core::names::WOE_PREFIX;

/// How numbers are scaled for detectors (`features.scaling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// `(x - median) / IQR` (the standard deviation when the IQR is 0): outliers do not set the
    /// scale that is meant to reveal them.
    #[default]
    Robust,
    /// `(x - mean) / standard deviation`.
    Standard,
}

/// How categories become detector columns (`features.category_encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CategoryEncoding {
    /// One column: the category's share of the training rows.
    #[default]
    Frequency,
    /// One 0/1 column per training category.
    OneHot,
}

/// A feature's scaled column: the detectors' input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scale {
    /// `(x - center) / spread`, uncapped; a missing value is the center (0), and the missing
    /// flag, when the feature has one, is a column of its own.
    Numeric {
        /// Training median (robust) or mean (standard).
        center: f64,
        /// Training IQR (robust) or standard deviation (standard); never 0.
        spread: f64,
    },
    /// The category's share of the training rows (frequency encoding): a rare category is a
    /// small number. A category not seen in training is 0; a missing value has the share of
    /// missing values in training.
    Frequency {
        /// Category -> share of training rows.
        shares: BTreeMap<String, f64>,
        /// Share of training rows with no value.
        missing: f64,
    },
    /// One 0/1 column `<feature>__scaled=<category>` per category seen in training, most
    /// frequent first (ties by name); a missing value or a category not seen in training is 0
    /// in every column.
    OneHot {
        /// The training categories, in column order.
        categories: Vec<String>,
    },
}

impl Scale {
    fn numeric(v: &[f64], scaling: Scaling) -> Scale {
        let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        let n = s.len().max(1) as f64;
        let mean = s.iter().sum::<f64>() / n;
        let sd = (s.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
        let (center, spread) = match scaling {
            Scaling::Standard => (mean, sd),
            Scaling::Robust => {
                let median = quantile(&mut s, 0.5);
                let iqr = quantile(&mut s, 0.75) - quantile(&mut s, 0.25);
                (median, if iqr > 0.0 { iqr } else { sd })
            }
        };
        Scale::Numeric {
            center: if center.is_finite() { center } else { 0.0 },
            spread: if spread.is_finite() && spread > 0.0 {
                spread
            } else {
                1.0
            },
        }
    }

    fn categorical(v: &[Option<String>], encoding: CategoryEncoding) -> Scale {
        match encoding {
            CategoryEncoding::Frequency => Scale::frequency(v),
            CategoryEncoding::OneHot => {
                let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
                for s in v.iter().flatten() {
                    *counts.entry(s).or_insert(0) += 1;
                }
                let mut order: Vec<(&str, u64)> = counts.into_iter().collect();
                order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                Scale::OneHot {
                    categories: order.into_iter().map(|(c, _)| c.to_string()).collect(),
                }
            }
        }
    }

    /// The detector columns this scale writes for feature `name`.
    fn columns(&self, name: &str) -> Vec<String> {
        match self {
            Scale::OneHot { categories } => categories.iter().map(|c| format!("{name}{ONE_HOT_INFIX}{c}")).collect(),
            _ => vec![format!("{name}{SCALED_SUFFIX}")],
        }
    }

    fn frequency(v: &[Option<String>]) -> Scale {
        let n = v.len().max(1) as f64;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut missing = 0u64;
        for s in v {
            match s {
                Some(s) => *counts.entry(s.clone()).or_insert(0) += 1,
                None => missing += 1,
            }
        }
        Scale::Frequency {
            shares: counts.into_iter().map(|(k, c)| (k, c as f64 / n)).collect(),
            missing: missing as f64 / n,
        }
    }
}

/// How one raw column becomes model inputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encoding {
    /// A number: impute, cap, optionally flag missing.
    Numeric {
        /// Training median, used for missing values.
        impute: f64,
        /// Lower cap (training quantile).
        cap_low: f64,
        /// Upper cap (training quantile).
        cap_high: f64,
        /// Whether a `<name>__missing` 0/1 column is written.
        missing_indicator: bool,
    },
    /// A category: an ordinal code by training frequency (target-free).
    Categorical {
        /// Category -> code (0 = most frequent).
        codes: BTreeMap<String, u32>,
        /// Code for missing and unseen categories (the mode's).
        fallback: u32,
    },
}

/// One feature of the transform.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureTransform {
    /// The raw column.
    pub name: String,
    /// Tree/raw encoding.
    pub encoding: Encoding,
    /// WoE binning for the scorecard (a binary target only: WoE needs events and non-events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binning: Option<Binning>,
    /// Scaling for detectors (when the task or a feature builder needs scaled columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Scale>,
    /// A number's smallest and largest training value (special values left out): a scored
    /// value outside is flagged as outside the training range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    /// A number whose training values (special values left out) are all whole: a count, years.
    /// `riskpipe explain` proposes whole values for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub integer: bool,
}

impl FeatureTransform {
    /// Whether `x` is one of the binning's declared special values (codes, not magnitudes).
    fn is_special(&self, x: f64) -> bool {
        self.binning.as_ref().is_some_and(|b| b.is_special(x))
    }
}

/// What [`Transform::fit`] builds besides the encoded raw values.
pub struct FitSpec<'a> {
    /// The target's column and the binner for WoE columns (a binary target only).
    pub woe: Option<(&'a str, &'a (dyn Binner + Sync))>,
    /// The scaling of detector columns, when they are wanted.
    pub scaling: Option<Scaling>,
    /// How categories become detector columns (when `scaling` is set).
    pub categories: CategoryEncoding,
    /// Lower and upper capping quantiles of the raw values.
    pub cap: (f64, f64),
}

/// The fitted transform, saved as `transform.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Transform {
    /// Target column (none for a task without a target).
    pub target: Option<String>,
    /// The evaluation-only label carried beside the features, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Features in order.
    pub features: Vec<FeatureTransform>,
    /// Columns for tree-type models (encoded raw values and missing flags).
    pub raw_features: Vec<String>,
    /// Columns for the scorecard (`woe_<name>`).
    pub woe_features: Vec<String>,
    /// Columns for detectors (`<name>__scaled`, and missing flags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scaled_features: Vec<String>,
    /// Columns derived from the matrix: principal components and anomaly scores.
    #[serde(default, skip_serializing_if = "Derived::is_empty")]
    pub derived: Derived,
    /// The time-aware split's windows (`split: periods`), for the train stage's validation
    /// folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periods: Option<riskpipe_core::split::Periods>,
    /// The window features (`features.windows`), which scoring computes from raw events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<crate::events::EventSpec>,
}

/// The `q` quantile of `v` (linear between order statistics), by selection: `v` is reordered,
/// not sorted.
fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (_, a, upper) = v.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *a;
    let b = if hi > lo {
        upper.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        a
    };
    a + (b - a) * (pos - lo as f64)
}

impl Transform {
    /// Fits on training rows. `columns` are the raw feature columns, in order.
    pub fn fit(train: &Frame, columns: &[String], spec: &FitSpec<'_>) -> Result<Transform> {
        let woe = match spec.woe {
            Some((target, binner)) => Some((
                train
                    .number(target)
                    .ok_or_else(|| Error::Internal(format!("target `{target}` is not numeric")))?,
                binner,
            )),
            None => None,
        };
        let cap = spec.cap;
        let features: Vec<FeatureTransform> = columns
            .par_iter()
            .map(|name| {
                let col = train.get(name).expect("feature column exists");
                match col {
                    Column::Number(v) => {
                        let binning = woe.map(|(y, binner)| binner.fit_numeric(v, y));
                        // Declared special values are codes, not magnitudes: they stay out of
                        // the median and the caps, and pass to tree models unchanged.
                        let mut s: Vec<f64> = v
                            .iter()
                            .copied()
                            .filter(|x| !x.is_nan() && !binning.as_ref().is_some_and(|b| b.is_special(*x)))
                            .collect();
                        let range = s.iter().fold(None, |r: Option<(f64, f64)>, x| {
                            Some(r.map_or((*x, *x), |(lo, hi)| (lo.min(*x), hi.max(*x))))
                        });
                        let integer = !s.is_empty() && s.iter().all(|x| x.fract() == 0.0);
                        let impute = quantile(&mut s, 0.5);
                        let cap_low = quantile(&mut s, cap.0);
                        let cap_high = quantile(&mut s, cap.1);
                        FeatureTransform {
                            name: name.clone(),
                            encoding: Encoding::Numeric {
                                impute,
                                cap_low,
                                cap_high,
                                missing_indicator: v.iter().any(|x| x.is_nan()),
                            },
                            binning,
                            scale: spec.scaling.map(|sc| Scale::numeric(v, sc)),
                            range,
                            integer,
                        }
                    }
                    Column::Text(v) => {
                        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
                        for s in v.iter().flatten() {
                            *counts.entry(s).or_insert(0) += 1;
                        }
                        let mut order: Vec<(&str, u64)> = counts.into_iter().collect();
                        order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                        let codes: BTreeMap<String, u32> = order
                            .iter()
                            .enumerate()
                            .map(|(i, (s, _))| (s.to_string(), i as u32))
                            .collect();
                        FeatureTransform {
                            name: name.clone(),
                            encoding: Encoding::Categorical { codes, fallback: 0 },
                            binning: woe.map(|(y, binner)| binner.fit_categorical(v, y)),
                            scale: spec.scaling.map(|_| Scale::categorical(v, spec.categories)),
                            range: None,
                            integer: false,
                        }
                    }
                    Column::Date(_) => unreachable!("dates are not features"),
                }
            })
            .collect();
        let mut raw_features = Vec::new();
        let mut woe_features = Vec::new();
        let mut scaled_features = Vec::new();
        for f in &features {
            raw_features.push(f.name.clone());
            if let Some(scale) = &f.scale {
                scaled_features.extend(scale.columns(&f.name));
            }
            if let Encoding::Numeric {
                missing_indicator: true,
                ..
            } = f.encoding
            {
                raw_features.push(format!("{}{MISSING_SUFFIX}", f.name));
                if f.scale.is_some() {
                    scaled_features.push(format!("{}{MISSING_SUFFIX}", f.name));
                }
            }
            if f.binning.is_some() {
                woe_features.push(format!("{WOE_PREFIX}{}", f.name));
            }
        }
        Ok(Transform {
            target: spec.woe.map(|(t, _)| t.to_string()),
            label: None,
            features,
            raw_features,
            woe_features,
            scaled_features,
            derived: Derived::default(),
            periods: None,
            events: None,
        })
    }

    /// Fits the derived columns on the training rows `train` (after [`Transform::fit`]):
    /// principal components of the numeric columns the models read (the scaled ones in a task
    /// without a target, where `detectors` is true), which then replace them; and the scores of
    /// detectors `anomaly` (fitted on the scaled columns, never on the target), which are
    /// appended to the columns tree models read.
    pub fn fit_derived(
        &mut self,
        train: &Frame,
        file: &str,
        reduction: Option<Keep>,
        anomaly: &[String],
        detectors: bool,
        seed: u64,
    ) -> Result<()> {
        if reduction.is_none() && anomaly.is_empty() {
            return Ok(());
        }
        let x = self.apply(train, file)?;
        let taken = |name: &str| x.get(name).is_some();
        if let Some(keep) = reduction {
            let inputs: Vec<String> = self
                .features
                .iter()
                .filter(|f| matches!(f.encoding, Encoding::Numeric { .. }))
                .map(|f| {
                    if detectors {
                        format!("{}{SCALED_SUFFIX}", f.name)
                    } else {
                        f.name.clone()
                    }
                })
                .collect();
            if inputs.is_empty() {
                return Err(Error::pipeline_key(
                    "features.reduction",
                    "there is no numeric feature to reduce",
                ));
            }
            let r = Derived::fit_reduction(&x, &inputs, keep)?;
            if let Some(n) = r.names.iter().find(|n| taken(n)) {
                return Err(Error::pipeline_key(
                    "features.reduction",
                    format!("the component column `{n}` is already a column of the data; rename that column"),
                ));
            }
            let list = if detectors {
                &mut self.scaled_features
            } else {
                &mut self.raw_features
            };
            list.retain(|c| !r.inputs.contains(c));
            list.extend(r.names.iter().cloned());
            self.derived.reduction = Some(r);
        }
        if !anomaly.is_empty() {
            let a = Derived::fit_anomaly(&x, &self.scaled_features, anomaly, seed)?;
            if let Some(n) = a.iter().map(|a| &a.name).find(|n| taken(n)) {
                return Err(Error::pipeline_key(
                    "features.anomaly_scores",
                    format!("the score column `{n}` is already a column of the data; rename that column"),
                ));
            }
            self.raw_features.extend(a.iter().map(|a| a.name.clone()));
            self.derived.anomaly = a;
        }
        Ok(())
    }

    /// The column the matrices carry beside the features: the target, or the label.
    pub fn outcome(&self) -> Option<&str> {
        self.target.as_deref().or(self.label.as_deref())
    }

    /// The raw columns (and their kinds) the transform reads.
    pub fn required_columns(&self) -> Vec<(String, ColumnKind)> {
        self.features
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    match f.encoding {
                        Encoding::Numeric { .. } => ColumnKind::Number,
                        Encoding::Categorical { .. } => ColumnKind::Text,
                    },
                )
            })
            .collect()
    }

    /// Applies the transform: returns the model input columns (raw-encoded and missing flags,
    /// then WoE, then scaled, each where fitted).
    /// `file` names the data in errors.
    pub fn apply(&self, frame: &Frame, file: &str) -> Result<Frame> {
        self.apply_keeping(frame, file, None)
    }

    /// [`Transform::apply`] computing only the model input columns named in `keep` (and all of
    /// them when features are derived from others): bulk scoring skips what the model never reads.
    pub fn apply_only(&self, frame: &Frame, file: &str, keep: &[String]) -> Result<Frame> {
        if !self.derived.is_empty() {
            return self.apply(frame, file);
        }
        let keep: std::collections::BTreeSet<&str> = keep.iter().map(String::as_str).collect();
        self.apply_keeping(frame, file, Some(&keep))
    }

    fn apply_keeping(
        &self,
        frame: &Frame,
        file: &str,
        keep: Option<&std::collections::BTreeSet<&str>>,
    ) -> Result<Frame> {
        let wanted = |name: &str| keep.is_none_or(|k| k.contains(name));
        // Features in parallel, each to its raw-encoded column, missing flag and WoE column;
        // assembled in feature order.
        type Parts = (
            Vec<(String, Column)>,
            Option<(String, Vec<f64>)>,
            Vec<(String, Vec<f64>)>,
        );
        let part = |f: &FeatureTransform| -> Result<Parts> {
            let col = frame.get(&f.name).ok_or_else(|| Error::ColumnNotFound {
                file: file.to_string(),
                column: f.name.clone(),
                hint: "; the fitted transform needs it".into(),
            })?;
            let mut raw = Vec::new();
            let woe_name = format!("{WOE_PREFIX}{}", f.name);
            match (&f.encoding, col) {
                (
                    Encoding::Numeric {
                        impute,
                        cap_low,
                        cap_high,
                        missing_indicator,
                    },
                    Column::Number(v),
                ) => {
                    if wanted(&f.name) {
                        raw.push((
                            f.name.clone(),
                            Column::Number(
                                v.iter()
                                    .map(|x| {
                                        if x.is_nan() {
                                            *impute
                                        } else if f.is_special(*x) {
                                            *x
                                        } else {
                                            x.clamp(*cap_low, *cap_high)
                                        }
                                    })
                                    .collect(),
                            ),
                        ));
                    }
                    let flag = format!("{}{MISSING_SUFFIX}", f.name);
                    if *missing_indicator && wanted(&flag) {
                        raw.push((
                            flag,
                            Column::Number(v.iter().map(|x| f64::from(u8::from(x.is_nan()))).collect()),
                        ));
                    }
                    let woe = f
                        .binning
                        .as_ref()
                        .filter(|_| wanted(&woe_name))
                        .map(|b| (woe_name, v.iter().map(|x| b.woe(b.locate_number(*x))).collect()));
                    let scaled_name = format!("{}{SCALED_SUFFIX}", f.name);
                    let scaled = match &f.scale {
                        Some(Scale::Numeric { center, spread }) if wanted(&scaled_name) => vec![(
                            scaled_name,
                            v.iter()
                                .map(|x| if x.is_nan() { 0.0 } else { (x - center) / spread })
                                .collect(),
                        )],
                        _ => Vec::new(),
                    };
                    Ok((raw, woe, scaled))
                }
                (Encoding::Categorical { codes, fallback }, Column::Text(v)) => {
                    if wanted(&f.name) {
                        raw.push((
                            f.name.clone(),
                            Column::Number(
                                v.iter()
                                    .map(|s| {
                                        f64::from(s.as_ref().and_then(|s| codes.get(s)).copied().unwrap_or(*fallback))
                                    })
                                    .collect(),
                            ),
                        ));
                    }
                    let woe = f.binning.as_ref().filter(|_| wanted(&woe_name)).map(|b| {
                        (
                            woe_name,
                            v.iter().map(|s| b.woe(b.locate_category(s.as_deref()))).collect(),
                        )
                    });
                    let scale_wanted = f
                        .scale
                        .as_ref()
                        .is_some_and(|sc| sc.columns(&f.name).iter().any(|c| wanted(c)));
                    let scaled = match &f.scale {
                        _ if !scale_wanted => Vec::new(),
                        Some(Scale::Frequency { shares, missing }) => vec![(
                            format!("{}{SCALED_SUFFIX}", f.name),
                            v.iter()
                                .map(|s| match s {
                                    Some(s) => shares.get(s).copied().unwrap_or(0.0),
                                    None => *missing,
                                })
                                .collect(),
                        )],
                        Some(Scale::OneHot { categories }) => {
                            let names = f.scale.as_ref().map(|s| s.columns(&f.name)).unwrap_or_default();
                            categories
                                .iter()
                                .zip(names)
                                .map(|(c, name)| {
                                    let hot = |s: &Option<String>| s.as_deref() == Some(c.as_str());
                                    (name, v.iter().map(|s| f64::from(u8::from(hot(s)))).collect())
                                })
                                .collect()
                        }
                        _ => Vec::new(),
                    };
                    Ok((raw, woe, scaled))
                }
                (enc, c) => Err(Error::data(
                    file,
                    None,
                    Some(&f.name),
                    format!(
                        "expected {} values, found a {:?} column",
                        if matches!(enc, Encoding::Numeric { .. }) {
                            "numeric"
                        } else {
                            "text"
                        },
                        c.kind()
                    )
                    .to_lowercase(),
                )),
            }
        };
        // A few rows (a service request) in this thread: handing 16 features to the pool would
        // cost more than the work.
        let parts: Vec<Parts> = if frame.rows() < PARALLEL_ROWS {
            self.features.iter().map(part).collect::<Result<_>>()?
        } else {
            self.features.par_iter().map(part).collect::<Result<_>>()?
        };
        let mut out = Frame::new();
        let mut woe = Vec::with_capacity(parts.len());
        let mut scaled = Vec::with_capacity(parts.len());
        for (raw, w, z) in parts {
            for (n, c) in raw {
                out.push(n, c);
            }
            woe.extend(w);
            scaled.extend(z);
        }
        for (n, v) in woe.into_iter().chain(scaled) {
            out.push(n, Column::Number(v));
        }
        self.derived.apply(&mut out)?;
        Ok(out)
    }

    /// Each feature's column of `frame`, resolved once, to locate rows in bins (for points and
    /// reason codes). A feature whose column is missing or of another kind is an error naming it,
    /// never another feature's bin or a neutral guess.
    pub fn locator<'a>(&'a self, frame: &'a Frame, file: &str) -> Result<Locator<'a>> {
        let mut cols = Vec::with_capacity(self.features.len());
        for f in &self.features {
            let col = frame.get(&f.name).ok_or_else(|| Error::ColumnNotFound {
                file: file.to_string(),
                column: f.name.clone(),
                hint: "; the fitted transform needs it".into(),
            })?;
            match (&f.encoding, col) {
                (Encoding::Numeric { .. }, Column::Number(_)) | (Encoding::Categorical { .. }, Column::Text(_)) => {}
                (_, c) => {
                    return Err(Error::data(
                        file,
                        None,
                        Some(&f.name),
                        format!("the fitted transform cannot bin a {:?} column", c.kind()).to_lowercase(),
                    ));
                }
            }
            cols.push((f, col));
        }
        Ok(Locator { cols })
    }
}

impl riskpipe_scorecard::BinningOf for Transform {
    fn binning_of(&self, feature: &str) -> Option<&Binning> {
        self.features
            .iter()
            .find(|f| f.name == feature)
            .and_then(|f| f.binning.as_ref())
    }
}

/// Below this many rows a transform runs in the calling thread.
const PARALLEL_ROWS: usize = 2048;

/// Feature columns resolved by [`Transform::locator`].
pub struct Locator<'a> {
    cols: Vec<(&'a FeatureTransform, &'a Column)>,
}

impl Locator<'_> {
    /// The bin each feature's value of `row` falls in, in transform order.
    pub fn row(&self, row: usize) -> Vec<BinRef> {
        (0..self.cols.len()).map(|j| self.bin(j, row)).collect()
    }

    /// The bin the value of feature `feature` (in transform order) of `row` falls in.
    pub fn bin(&self, feature: usize, row: usize) -> BinRef {
        let (f, c) = &self.cols[feature];
        match (&f.binning, c) {
            (None, _) => BinRef::Neutral, // no WoE binning fitted
            (Some(b), Column::Number(v)) => b.locate_number(v[row]),
            (Some(b), Column::Text(v)) => b.locate_category(v[row].as_deref()),
            (Some(_), Column::Date(_)) => BinRef::Neutral, // refused by `locator`
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &[Option<&str>]) -> Column {
        Column::Text(v.iter().map(|s| s.map(str::to_string)).collect())
    }

    #[test]
    fn one_hot_detector_columns_follow_training_categories() {
        let mut train = Frame::new();
        train.push(
            "channel",
            text(&[Some("web"), Some("branch"), Some("web"), None, Some("app"), Some("web")]),
        );
        train.push("amount", Column::Number(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        let spec = |categories| FitSpec {
            woe: None,
            scaling: Some(Scaling::Standard),
            categories,
            cap: (0.0, 1.0),
        };
        let columns = ["channel".to_string(), "amount".to_string()];
        let t = Transform::fit(&train, &columns, &spec(CategoryEncoding::OneHot)).unwrap();
        // Most frequent first, ties by name; no column for missing.
        assert_eq!(
            t.scaled_features,
            [
                "channel__scaled=web",
                "channel__scaled=app",
                "channel__scaled=branch",
                "amount__scaled"
            ]
        );
        let mut new = Frame::new();
        new.push("channel", text(&[Some("app"), Some("phone"), None, Some("web")]));
        new.push("amount", Column::Number(vec![1.0, 2.0, 3.0, 4.0]));
        let m = t.apply(&new, "new").unwrap();
        assert_eq!(m.number("channel__scaled=web").unwrap(), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(m.number("channel__scaled=app").unwrap(), [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(m.number("channel__scaled=branch").unwrap(), [0.0; 4]);
        assert!(m.get("channel__scaled").is_none());
        // The default stays one frequency column: unseen 0, missing its training share.
        let f = Transform::fit(&train, &columns, &spec(CategoryEncoding::Frequency)).unwrap();
        let m = f.apply(&new, "new").unwrap();
        assert_eq!(m.number("channel__scaled").unwrap(), [1.0 / 6.0, 0.0, 1.0 / 6.0, 0.5]);
        // The transform round-trips through its JSON.
        let back: Transform = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}

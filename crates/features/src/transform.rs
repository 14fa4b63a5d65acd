//! The fitted [`Transform`]: imputation, capping, encoding and WoE, fitted on train and applied
//! identically to test and, in `deploy`, to new applications.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Column, ColumnKind, Error, Frame, Result};

use riskpipe_scorecard::{BinRef, Binner, Binning};

/// Suffix of missing-indicator columns.
pub use riskpipe_core::names::MISSING_SUFFIX;
/// Prefix of WoE columns.
pub use riskpipe_core::names::WOE_PREFIX;

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
    /// WoE binning for the scorecard.
    pub binning: Binning,
}

/// The fitted transform, saved as `transform.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Transform {
    /// Target column.
    pub target: String,
    /// Features in order.
    pub features: Vec<FeatureTransform>,
    /// Columns for tree-type models (encoded raw values and missing flags).
    pub raw_features: Vec<String>,
    /// Columns for the scorecard (`woe_<name>`).
    pub woe_features: Vec<String>,
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
    pub fn fit(
        train: &Frame,
        target: &str,
        columns: &[String],
        cap: (f64, f64),
        binner: &(dyn Binner + Sync),
    ) -> Result<Transform> {
        let y = train
            .number(target)
            .ok_or_else(|| Error::Internal(format!("target `{target}` is not numeric")))?;
        let features: Vec<FeatureTransform> = columns
            .par_iter()
            .map(|name| {
                let col = train.get(name).expect("feature column exists");
                match col {
                    Column::Number(v) => {
                        let binning = binner.fit_numeric(v, y);
                        // Declared special values are codes, not magnitudes: they stay out of
                        // the median and the caps, and pass to tree models unchanged.
                        let mut s: Vec<f64> = v
                            .iter()
                            .copied()
                            .filter(|x| !x.is_nan() && !binning.is_special(*x))
                            .collect();
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
                            binning: binner.fit_categorical(v, y),
                        }
                    }
                    Column::Date(_) => unreachable!("dates are not features"),
                }
            })
            .collect();
        let mut raw_features = Vec::new();
        let mut woe_features = Vec::new();
        for f in &features {
            raw_features.push(f.name.clone());
            if let Encoding::Numeric {
                missing_indicator: true,
                ..
            } = f.encoding
            {
                raw_features.push(format!("{}{MISSING_SUFFIX}", f.name));
            }
            woe_features.push(format!("{WOE_PREFIX}{}", f.name));
        }
        Ok(Transform {
            target: target.to_string(),
            features,
            raw_features,
            woe_features,
        })
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

    /// Applies the transform: returns the model input columns (raw-encoded, missing flags, WoE).
    /// `file` names the data in errors.
    pub fn apply(&self, frame: &Frame, file: &str) -> Result<Frame> {
        // Features in parallel, each to its raw-encoded column, missing flag and WoE column;
        // assembled in feature order.
        type Parts = (Vec<(String, Column)>, (String, Vec<f64>));
        let parts: Vec<Parts> = self
            .features
            .par_iter()
            .map(|f| -> Result<Parts> {
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
                        raw.push((
                            f.name.clone(),
                            Column::Number(
                                v.iter()
                                    .map(|x| {
                                        if x.is_nan() {
                                            *impute
                                        } else if f.binning.is_special(*x) {
                                            *x
                                        } else {
                                            x.clamp(*cap_low, *cap_high)
                                        }
                                    })
                                    .collect(),
                            ),
                        ));
                        if *missing_indicator {
                            raw.push((
                                format!("{}{MISSING_SUFFIX}", f.name),
                                Column::Number(v.iter().map(|x| f64::from(u8::from(x.is_nan()))).collect()),
                            ));
                        }
                        let woe = v.iter().map(|x| f.binning.woe(f.binning.locate_number(*x))).collect();
                        Ok((raw, (woe_name, woe)))
                    }
                    (Encoding::Categorical { codes, fallback }, Column::Text(v)) => {
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
                        let woe = v
                            .iter()
                            .map(|s| f.binning.woe(f.binning.locate_category(s.as_deref())))
                            .collect();
                        Ok((raw, (woe_name, woe)))
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
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out = Frame::new();
        let mut woe = Vec::with_capacity(parts.len());
        for (raw, w) in parts {
            for (n, c) in raw {
                out.push(n, c);
            }
            woe.push(w);
        }
        for (n, v) in woe {
            out.push(n, Column::Number(v));
        }
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
        self.features.iter().find(|f| f.name == feature).map(|f| &f.binning)
    }
}

/// Feature columns resolved by [`Transform::locator`].
pub struct Locator<'a> {
    cols: Vec<(&'a FeatureTransform, &'a Column)>,
}

impl Locator<'_> {
    /// The bin each feature's value of `row` falls in, in transform order.
    pub fn row(&self, row: usize) -> Vec<BinRef> {
        self.cols
            .iter()
            .map(|(f, c)| match c {
                Column::Number(v) => f.binning.locate_number(v[row]),
                Column::Text(v) => f.binning.locate_category(v[row].as_deref()),
                Column::Date(_) => BinRef::Neutral, // refused by `locator`
            })
            .collect()
    }
}

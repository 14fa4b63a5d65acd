//! The scorecard: integer points per bin from a logistic regression on WoE features, and the
//! pipeline's `scorecard:` section (base score, base odds, points to double the odds).

use serde::{Deserialize, Serialize};

use riskpipe_core::Error;

use riskpipe_core::names::WOE_PREFIX;

use crate::binning::{BinMap, BinRef, Binning};

/// Where a scorecard finds each feature's binning (the features stage's fitted transform).
pub trait BinningOf {
    /// The binning of `feature`, if it is binned.
    fn binning_of(&self, feature: &str) -> Option<&Binning>;
}

/// The binnings of `features/transform.json`, read without the features stage's code (a typed
/// view: other fields of the file are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Binnings {
    features: Vec<NamedBinning>,
}

#[derive(Debug, Clone, Deserialize)]
struct NamedBinning {
    name: String,
    /// Absent without a binary target.
    #[serde(default)]
    binning: Option<Binning>,
}

impl BinningOf for Binnings {
    fn binning_of(&self, feature: &str) -> Option<&Binning> {
        self.features
            .iter()
            .find(|f| f.name == feature)
            .and_then(|f| f.binning.as_ref())
    }
}

/// The `scorecard:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardConfig {
    /// Score at `base_odds` (default 600).
    pub base_score: Option<f64>,
    /// Good:bad odds at `base_score` (default 50, i.e. 50:1).
    pub base_odds: Option<f64>,
    /// Points to double the odds (default 20).
    pub pdo: Option<f64>,
}

/// Checked scorecard scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardParams {
    /// Score at the base odds.
    pub base_score: f64,
    /// Good:bad odds at the base score.
    pub base_odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
}

impl Default for ScorecardParams {
    /// 600 points at good:bad odds of 50:1, 20 points to double the odds.
    fn default() -> Self {
        ScorecardParams {
            base_score: 600.0,
            base_odds: 50.0,
            pdo: 20.0,
        }
    }
}

impl ScorecardParams {
    /// Points for a probability of default: base_score - pdo/ln 2 x ln(base_odds) + pdo/ln 2 x
    /// ln((1 - pd) / pd), rounded (the PD clamped to [1e-12, 1 - 1e-12]).
    pub fn points(&self, pd: f64) -> i64 {
        let factor = self.pdo / std::f64::consts::LN_2;
        let offset = self.base_score - factor * self.base_odds.ln();
        let pd = pd.clamp(1e-12, 1.0 - 1e-12);
        (offset + factor * ((1.0 - pd) / pd).ln()).round() as i64
    }
}

impl ScorecardConfig {
    /// Checks the section.
    pub fn resolve(self, file: &str) -> Result<ScorecardParams, Vec<Error>> {
        let mut errs = Vec::new();
        let d = ScorecardParams::default();
        let base_odds = self.base_odds.unwrap_or(d.base_odds);
        let pdo = self.pdo.unwrap_or(d.pdo);
        let base_score = self.base_score.unwrap_or(d.base_score);
        if !(base_odds > 0.0 && base_odds.is_finite()) {
            errs.push(Error::config(file, "scorecard.base_odds", "must be a number > 0"));
        }
        if !(pdo > 0.0 && pdo.is_finite()) {
            errs.push(Error::config(file, "scorecard.pdo", "must be a number > 0"));
        }
        if !base_score.is_finite() {
            errs.push(Error::config(file, "scorecard.base_score", "must be a finite number"));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(ScorecardParams {
            base_score,
            base_odds,
            pdo,
        })
    }
}

/// One bin's points.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BinPoints {
    /// The bin's label.
    pub label: String,
    /// Its WoE.
    pub woe: f64,
    /// Its points.
    pub points: i64,
}

/// One feature of the scorecard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeaturePoints {
    /// Raw feature.
    pub feature: String,
    /// Coefficient of its WoE column.
    pub coef: f64,
    /// Points per value bin.
    pub bins: Vec<BinPoints>,
    /// Points of the missing bin, if training had one.
    pub missing: Option<BinPoints>,
    /// Points of each declared special value, in declared order (neutral points when training
    /// had no row with it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specials: Vec<(f64, BinPoints)>,
    /// Points of a value with no bin (missing or unseen where training had none): WoE 0.
    pub neutral_points: i64,
    /// The most points this feature gives.
    pub max_points: i64,
}

/// The scorecard, saved as `scorecard.json` (and `scorecard.csv`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scorecard {
    /// Score at the base odds.
    pub base_score: f64,
    /// Good:bad odds at the base score.
    pub base_odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
    /// pdo / ln 2.
    pub factor: f64,
    /// base_score - factor ln(base_odds).
    pub offset: f64,
    /// Features.
    pub features: Vec<FeaturePoints>,
    /// Lowest possible score.
    pub min_score: i64,
    /// Highest possible score.
    pub max_score: i64,
}

impl Scorecard {
    /// Builds points from a logistic regression (`names`, `coef`, `intercept`) whose features
    /// are `woe_<name>` columns.
    /// score = offset + factor ln(odds good) = offset - factor (b0 + sum b_j woe_j), with the
    /// constant spread evenly over features and each bin rounded to whole points.
    pub fn build(
        names: &[String],
        coef: &[f64],
        intercept: f64,
        transform: &impl BinningOf,
        p: &ScorecardParams,
    ) -> Scorecard {
        let factor = p.pdo / std::f64::consts::LN_2;
        let offset = p.base_score - factor * p.base_odds.ln();
        let k = names.len().max(1) as f64;
        let share = (offset - factor * intercept) / k;
        let pts = |coef: f64, woe: f64| (-factor * coef * woe + share).round() as i64;
        let mut features = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let raw = name.strip_prefix(WOE_PREFIX).unwrap_or(name);
            let Some(b) = transform.binning_of(raw) else {
                continue;
            };
            let coef = coef[j];
            let bins: Vec<BinPoints> = b
                .bins
                .iter()
                .map(|x| BinPoints {
                    label: x.label.clone(),
                    woe: x.woe,
                    points: pts(coef, x.woe),
                })
                .collect();
            let missing = b.missing.as_ref().map(|x| BinPoints {
                label: x.label.clone(),
                woe: x.woe,
                points: pts(coef, x.woe),
            });
            let neutral_points = pts(coef, 0.0);
            let specials: Vec<(f64, BinPoints)> = b
                .specials
                .iter()
                .map(|sp| {
                    let (label, woe) = sp.bin.as_ref().map_or_else(
                        || (format!("special {} (unseen)", sp.value), 0.0),
                        |x| (x.label.clone(), x.woe),
                    );
                    (
                        sp.value,
                        BinPoints {
                            label,
                            woe,
                            points: pts(coef, woe),
                        },
                    )
                })
                .collect();
            let max_points = bins
                .iter()
                .map(|x| x.points)
                .chain(missing.iter().map(|x| x.points))
                .chain(specials.iter().map(|x| x.1.points))
                .chain([neutral_points])
                .max()
                .unwrap_or(0);
            features.push(FeaturePoints {
                feature: raw.to_string(),
                coef,
                bins,
                missing,
                specials,
                neutral_points,
                max_points,
            });
        }
        let min_score = features
            .iter()
            .map(|f| {
                f.bins
                    .iter()
                    .map(|b| b.points)
                    .chain(f.missing.iter().map(|b| b.points))
                    .chain(f.specials.iter().map(|b| b.1.points))
                    .chain([f.neutral_points])
                    .min()
                    .unwrap_or(0)
            })
            .sum();
        let max_score = features.iter().map(|f| f.max_points).sum();
        Scorecard {
            base_score: p.base_score,
            base_odds: p.base_odds,
            pdo: p.pdo,
            factor,
            offset,
            features,
            min_score,
            max_score,
        }
    }

    /// Points of one feature for a located bin.
    pub fn points(&self, feature: usize, r: BinRef) -> i64 {
        let f = &self.features[feature];
        match r {
            BinRef::Value(i) => f.bins.get(i).map_or(f.neutral_points, |b| b.points),
            BinRef::Missing => f.missing.as_ref().map_or(f.neutral_points, |b| b.points),
            BinRef::Special(k) => f.specials.get(k).map_or(f.neutral_points, |b| b.1.points),
            BinRef::Neutral => f.neutral_points,
        }
    }

    /// A bin's human description for reason codes: `utilisation in [0.82, inf)`.
    pub fn describe(&self, feature: usize, binning: &Binning, r: BinRef) -> String {
        let name = &self.features[feature].feature;
        match (r, binning.bin(r)) {
            (BinRef::Missing, _) | (_, None) => format!("{name} is missing or unseen"),
            (BinRef::Special(k), _) => format!(
                "{name} is the special value {}",
                binning.specials.get(k).map_or(String::new(), |s| s.value.to_string())
            ),
            (_, Some(b)) if b.label.starts_with('[') => format!("{name} in {}", b.label),
            (_, Some(b)) => format!("{name} = {}", b.label),
        }
    }

    /// The scorecard as CSV: feature, bin, woe, points.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("feature,bin,woe,points\n");
        let q = |x: &str| {
            if x.contains([',', '"']) {
                format!("\"{}\"", x.replace('"', "\"\""))
            } else {
                x.to_string()
            }
        };
        for f in &self.features {
            for b in f
                .bins
                .iter()
                .chain(f.missing.iter())
                .chain(f.specials.iter().map(|s| &s.1))
            {
                s.push_str(&format!(
                    "{},{},{:.6},{}\n",
                    q(&f.feature),
                    q(&b.label),
                    b.woe,
                    b.points
                ));
            }
            s.push_str(&format!(
                "{},{},{:.6},{}\n",
                q(&f.feature),
                "(no bin)",
                0.0,
                f.neutral_points
            ));
        }
        s
    }

    /// The scorecard as one ANSI SQL expression: a `CASE` per feature, summed. It reads the
    /// columns as the privacy stage writes them and gives exactly the points `score` gives,
    /// including missing values, unseen categories and values outside every training bin.
    pub fn to_sql(&self, transform: &impl BinningOf) -> String {
        let q_ident = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
        let q_str = |v: &str| format!("'{}'", v.replace('\'', "''"));
        let mut parts = Vec::new();
        for f in &self.features {
            let Some(binning) = transform.binning_of(&f.feature) else {
                continue;
            };
            let col = q_ident(&f.feature);
            let missing = f.missing.as_ref().map_or(f.neutral_points, |b| b.points);
            let mut case = format!("CASE WHEN {col} IS NULL THEN {missing}");
            for (v, b) in &f.specials {
                case.push_str(&format!(" WHEN {col} = {v:?} THEN {}", b.points));
            }
            match &binning.map {
                BinMap::Numeric { edges } => {
                    if f.bins.is_empty() {
                        case.push_str(&format!(" ELSE {} END", f.neutral_points));
                    } else {
                        for (i, e) in edges.iter().enumerate() {
                            case.push_str(&format!(" WHEN {col} < {e:?} THEN {}", f.bins[i].points));
                        }
                        case.push_str(&format!(" ELSE {} END", f.bins[edges.len()].points));
                    }
                }
                BinMap::Categorical { categories, other } => {
                    let mut by_bin: std::collections::BTreeMap<usize, Vec<&str>> = std::collections::BTreeMap::new();
                    for (c, b) in categories {
                        by_bin.entry(*b).or_default().push(c);
                    }
                    for (b, cats) in by_bin {
                        let list: Vec<String> = cats.iter().map(|c| q_str(c)).collect();
                        case.push_str(&format!(
                            " WHEN {col} IN ({}) THEN {}",
                            list.join(", "),
                            f.bins[b].points
                        ));
                    }
                    let unseen = other.map_or(f.neutral_points, |o| f.bins[o].points);
                    case.push_str(&format!(" ELSE {unseen} END"));
                }
            }
            parts.push(case);
        }
        format!(
            "-- riskpipe scorecard: {} points at good:bad odds {}:1, {} points to double the odds.\n-- Sum of one CASE per feature over the masked columns; use as `SELECT ..., <expression> AS score FROM applications`.\n(\n  {}\n)\n",
            self.base_score,
            self.base_odds,
            self.pdo,
            if parts.is_empty() {
                "0".to_string()
            } else {
                parts.join("\n  + ")
            }
        )
    }

    /// Score from a probability of default: offset + factor ln((1 - pd) / pd), rounded.
    pub fn score_from_pd(&self, pd: f64) -> i64 {
        let pd = pd.clamp(1e-12, 1.0 - 1e-12);
        (self.offset + self.factor * ((1.0 - pd) / pd).ln()).round() as i64
    }
}

//! WoE binning: bins, weight of evidence and information value per feature.
//!
//! [`Binning`] is the fitted result any binning algorithm produces; [`Binner`] is what an
//! algorithm implements: the optimal binner ([`crate::OptimalBinner`], the default) and
//! equal-frequency binning with greedy merges ([`QuantileBinner`]). The transform, the scorecard
//! and the scorer only see [`Binning`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One bin of a feature.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bin {
    /// Human label: `[0.35, 0.62)`, `{rent, other}`, `missing`.
    pub label: String,
    /// Training rows.
    pub count: u64,
    /// Training events (target = 1).
    pub events: u64,
    /// events / count.
    pub event_rate: f64,
    /// ln(share of non-events / share of events): positive means lower risk than average.
    pub woe: f64,
    /// This bin's contribution to the information value.
    pub iv: f64,
}

/// How values map to bins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BinMap {
    /// Numeric: bin `i` holds `edges[i-1] <= x < edges[i]`; `edges` are the inner cut points.
    Numeric {
        /// Inner cut points, ascending.
        edges: Vec<f64>,
    },
    /// Categorical: category -> bin index; categories not listed go to `other`.
    Categorical {
        /// Category to bin index.
        categories: BTreeMap<String, usize>,
        /// Bin of rare and unseen categories, if any.
        other: Option<usize>,
    },
}

/// A declared special value (e.g. -999 for "no record") and its own bin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpecialBin {
    /// The value, matched exactly.
    pub value: f64,
    /// Its bin; `None` when training had no row with it (such rows are neutral, WoE 0).
    pub bin: Option<Bin>,
}

/// A fitted binning of one feature.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Binning {
    /// Value to bin map.
    pub map: BinMap,
    /// Bins of values (in map order).
    pub bins: Vec<Bin>,
    /// Bin of missing values, when training had any.
    pub missing: Option<Bin>,
    /// Bins of declared special values (numeric features), in declared order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specials: Vec<SpecialBin>,
    /// Information value of the feature.
    pub iv: f64,
    /// The event-rate trend the bins follow (`ascending`, `descending`, `peak`, `valley`,
    /// `none`), when the binner enforces one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<String>,
    /// Why the requested trend could not be followed without losing information, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_note: Option<String>,
}

/// Which bin a value falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinRef {
    /// A value bin.
    Value(usize),
    /// The missing bin.
    Missing,
    /// The bin of the i-th declared special value.
    Special(usize),
    /// No bin: a missing or unseen value where training had none (WoE 0, neutral).
    Neutral,
}

impl Binning {
    /// The bin of a numeric value.
    pub fn locate_number(&self, x: f64) -> BinRef {
        match &self.map {
            BinMap::Numeric { edges } => {
                if x.is_nan() {
                    if self.missing.is_some() {
                        BinRef::Missing
                    } else {
                        BinRef::Neutral
                    }
                } else if let Some(k) = self.specials.iter().position(|s| s.value == x) {
                    if self.specials[k].bin.is_some() {
                        BinRef::Special(k)
                    } else {
                        BinRef::Neutral
                    }
                } else if self.bins.is_empty() {
                    // Training saw no values at all: nothing to compare with.
                    BinRef::Neutral
                } else {
                    BinRef::Value(edges.partition_point(|e| *e <= x))
                }
            }
            BinMap::Categorical { .. } => BinRef::Neutral,
        }
    }

    /// The bin of a category.
    pub fn locate_category(&self, v: Option<&str>) -> BinRef {
        match (&self.map, v) {
            (_, None) => {
                if self.missing.is_some() {
                    BinRef::Missing
                } else {
                    BinRef::Neutral
                }
            }
            (BinMap::Categorical { categories, other }, Some(s)) => match categories.get(s) {
                Some(i) => BinRef::Value(*i),
                None => other.map_or(BinRef::Neutral, BinRef::Value),
            },
            (BinMap::Numeric { .. }, Some(_)) => BinRef::Neutral,
        }
    }

    /// The bin a reference points at, if any.
    pub fn bin(&self, r: BinRef) -> Option<&Bin> {
        match r {
            BinRef::Value(i) => self.bins.get(i),
            BinRef::Missing => self.missing.as_ref(),
            BinRef::Special(k) => self.specials.get(k).and_then(|s| s.bin.as_ref()),
            BinRef::Neutral => None,
        }
    }

    /// Whether `x` is one of the declared special values.
    pub fn is_special(&self, x: f64) -> bool {
        self.specials.iter().any(|s| s.value == x)
    }

    /// The WoE of a bin reference (0 for neutral).
    pub fn woe(&self, r: BinRef) -> f64 {
        self.bin(r).map_or(0.0, |b| b.woe)
    }
}

/// A binning algorithm.
pub trait Binner {
    /// Bins a numeric feature given training values and 0/1 labels.
    fn fit_numeric(&self, x: &[f64], y: &[f64]) -> Binning;
    /// Bins a categorical feature.
    fn fit_categorical(&self, x: &[Option<String>], y: &[f64]) -> Binning;
}

/// Equal-frequency bins on training quantiles; rare categories pooled.
#[derive(Debug, Clone)]
pub struct QuantileBinner {
    /// Bins at most.
    pub max_bins: usize,
    /// Categories with a smaller share are pooled into `other`.
    pub min_category_share: f64,
    /// Numeric bins hold at least this share of the non-missing rows.
    pub min_bin_share: f64,
    /// Merge numeric bins into a monotonic event-rate trend (ascending or descending, whichever
    /// keeps more information) unless that loses more than a quarter of the IV (a U shape).
    pub monotonic: bool,
}

/// Information value of bins given as (count, events).
fn iv_of(groups: &[(usize, u64, u64)]) -> f64 {
    let te: u64 = groups.iter().map(|g| g.2).sum();
    let tn: u64 = groups.iter().map(|g| g.1 - g.2).sum();
    let k = groups.len() as f64;
    groups
        .iter()
        .map(|g| crate::iv_term((g.1 - g.2) as f64, g.2 as f64, tn as f64, te as f64, k))
        .sum()
}

/// Pool-adjacent-violators: merges neighbouring bins until event rates are monotonic in the
/// given direction.
fn pava(groups: &[(usize, u64, u64)], ascending: bool) -> Vec<(usize, u64, u64)> {
    let mut out: Vec<(usize, u64, u64)> = Vec::with_capacity(groups.len());
    let rate = |g: &(usize, u64, u64)| g.2 as f64 / g.1 as f64;
    for g in groups {
        out.push(*g);
        while out.len() > 1 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let violates = if ascending {
                rate(&b) < rate(&a)
            } else {
                rate(&b) > rate(&a)
            };
            if !violates {
                break;
            }
            out.pop();
            let last = out.last_mut().expect("two");
            last.1 += b.1;
            last.2 += b.2;
        }
    }
    out
}

/// The better monotonic merge, or the bins as they are when the data is far from monotonic.
fn monotonic_merge(groups: Vec<(usize, u64, u64)>) -> Vec<(usize, u64, u64)> {
    let free = iv_of(&groups);
    let up = pava(&groups, true);
    let down = pava(&groups, false);
    let best = if iv_of(&up) >= iv_of(&down) { up } else { down };
    if iv_of(&best) >= 0.75 * free { best } else { groups }
}

pub(crate) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Fills WoE, IV and event rates from (label, count, events) of value bins and the missing bin.
fn finish(map: BinMap, raw: Vec<(String, u64, u64)>, missing: Option<(u64, u64)>) -> Binning {
    finish_with(map, raw, missing, &[])
}

/// [`finish`] with declared special values and their (count, events), `None` when unseen.
pub(crate) fn finish_with(
    map: BinMap,
    raw: Vec<(String, u64, u64)>,
    missing: Option<(u64, u64)>,
    specials: &[(f64, Option<(u64, u64)>)],
) -> Binning {
    let seen: Vec<(u64, u64)> = specials.iter().filter_map(|s| s.1).collect();
    let total_events: u64 =
        raw.iter().map(|r| r.2).sum::<u64>() + missing.map_or(0, |m| m.1) + seen.iter().map(|s| s.1).sum::<u64>();
    let total: u64 =
        raw.iter().map(|r| r.1).sum::<u64>() + missing.map_or(0, |m| m.0) + seen.iter().map(|s| s.0).sum::<u64>();
    let total_non = (total - total_events) as f64;
    let te = total_events as f64;
    let nb = raw.len() + usize::from(missing.is_some()) + seen.len();
    let make = |label: String, count: u64, events: u64| {
        let non = (count - events) as f64;
        let woe = crate::woe(non, events as f64, total_non, te, nb as f64);
        Bin {
            label,
            count,
            events,
            event_rate: if count > 0 { events as f64 / count as f64 } else { 0.0 },
            woe,
            iv: crate::iv_term(non, events as f64, total_non, te, nb as f64),
        }
    };
    let bins: Vec<Bin> = raw.into_iter().map(|(l, c, e)| make(l, c, e)).collect();
    let missing = missing.map(|(c, e)| make("missing".into(), c, e));
    let specials: Vec<SpecialBin> = specials
        .iter()
        .map(|(v, c)| SpecialBin {
            value: *v,
            bin: c.map(|(c, e)| make(format!("special {}", fmt_num(*v)), c, e)),
        })
        .collect();
    let iv = bins.iter().map(|b| b.iv).sum::<f64>()
        + missing.as_ref().map_or(0.0, |b| b.iv)
        + specials
            .iter()
            .filter_map(|s| s.bin.as_ref())
            .map(|b| b.iv)
            .sum::<f64>();
    Binning {
        map,
        bins,
        missing,
        specials,
        iv,
        trend: None,
        trend_note: None,
    }
}

impl Binner for QuantileBinner {
    fn fit_numeric(&self, x: &[f64], y: &[f64]) -> Binning {
        let mut v: Vec<(f64, f64)> = x
            .iter()
            .zip(y)
            .filter(|(a, _)| !a.is_nan())
            .map(|(a, b)| (*a, *b))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Distinct values with their (count, events).
        let mut distinct: Vec<(f64, u64, u64)> = Vec::new();
        for (a, b) in &v {
            match distinct.last_mut() {
                Some(d) if d.0 == *a => {
                    d.1 += 1;
                    d.2 += u64::from(*b > 0.5);
                }
                _ => distinct.push((*a, 1, u64::from(*b > 0.5))),
            }
        }
        // Equal-frequency pre-bins over distinct values: a heavy value (a mass of zeros) gets a
        // bin of its own and the rest is shared among the remaining bins; no bin is smaller
        // than `min_bin_share` of the rows.
        // Fine equal-frequency pre-bins over distinct values: a heavy value (a mass of zeros)
        // gets a bin of its own and the rest is shared among the remaining bins; no bin is
        // smaller than `min_bin_share` of the rows.
        let n = v.len() as u64;
        let min_rows = ((self.min_bin_share * n as f64).ceil() as u64).max(1);
        let pre_bins = (2 * self.max_bins).max(20);
        let mut groups: Vec<(usize, u64, u64)> = Vec::new(); // (first distinct index, count, events)
        let (mut start, mut acc, mut ev, mut left) = (0usize, 0u64, 0u64, n);
        for (i, d) in distinct.iter().enumerate() {
            acc += d.1;
            ev += d.2;
            let bins_left = pre_bins.saturating_sub(groups.len()).max(1) as u64;
            let target = (left / bins_left).max(min_rows);
            if acc >= target && groups.len() + 1 < pre_bins {
                groups.push((start, acc, ev));
                left -= acc;
                start = i + 1;
                acc = 0;
                ev = 0;
            }
        }
        if acc > 0 {
            groups.push((start, acc, ev));
        }
        // A last bin below the minimum joins its neighbour.
        if groups.len() > 1 && groups.last().is_some_and(|g| g.1 < min_rows) {
            let last = groups.pop().expect("last");
            let prev = groups.last_mut().expect("prev");
            prev.1 += last.1;
            prev.2 += last.2;
        }
        if self.monotonic && groups.len() > 2 {
            groups = monotonic_merge(groups);
        }
        // Merge neighbours, least information lost first, down to `max_bins`.
        while groups.len() > self.max_bins {
            let mut best = (f64::NEG_INFINITY, 0);
            for i in 0..groups.len() - 1 {
                let mut g = groups.clone();
                let b = g.remove(i + 1);
                g[i].1 += b.1;
                g[i].2 += b.2;
                let iv = iv_of(&g);
                if iv > best.0 {
                    best = (iv, i);
                }
            }
            let b = groups.remove(best.1 + 1);
            groups[best.1].1 += b.1;
            groups[best.1].2 += b.2;
        }
        let edges: Vec<f64> = groups.iter().skip(1).map(|g| distinct[g.0].0).collect();
        let raw: Vec<(String, u64, u64)> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let lo = if i == 0 {
                    "-inf".to_string()
                } else {
                    fmt_num(edges[i - 1])
                };
                let hi = if i == edges.len() {
                    "inf".to_string()
                } else {
                    fmt_num(edges[i])
                };
                (format!("[{lo}, {hi})"), g.1, g.2)
            })
            .collect();
        let miss_rows: Vec<f64> = x.iter().zip(y).filter(|(a, _)| a.is_nan()).map(|(_, b)| *b).collect();
        let missing = (!miss_rows.is_empty()).then(|| {
            (
                miss_rows.len() as u64,
                miss_rows.iter().filter(|b| **b > 0.5).count() as u64,
            )
        });
        finish(BinMap::Numeric { edges }, raw, missing)
    }

    fn fit_categorical(&self, x: &[Option<String>], y: &[f64]) -> Binning {
        let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        let (mut mc, mut me) = (0u64, 0u64);
        for (v, t) in x.iter().zip(y) {
            match v {
                Some(s) => {
                    let e = counts.entry(s.as_str()).or_insert((0, 0));
                    e.0 += 1;
                    e.1 += u64::from(*t > 0.5);
                }
                None => {
                    mc += 1;
                    me += u64::from(*t > 0.5);
                }
            }
        }
        let n = x.len().max(1) as f64;
        let mut raw = Vec::new();
        let mut categories = BTreeMap::new();
        let (mut oc, mut oe, mut pooled) = (0u64, 0u64, Vec::new());
        for (cat, (c, e)) in &counts {
            if (*c as f64) / n >= self.min_category_share {
                categories.insert(cat.to_string(), raw.len());
                raw.push((cat.to_string(), *c, *e));
            } else {
                oc += c;
                oe += e;
                pooled.push(*cat);
            }
        }
        // Unseen categories at scoring time go to `other`; it exists even when nothing was pooled
        // only if some categories were rare.
        let other = if oc > 0 {
            raw.push((format!("other ({} rare)", pooled.len()), oc, oe));
            Some(raw.len() - 1)
        } else {
            None
        };
        let missing = (mc > 0).then_some((mc, me));
        finish(BinMap::Categorical { categories, other }, raw, missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn binning_invariants(data in proptest::collection::vec((proptest::option::weighted(0.9, -100i32..100), 0u8..2), 1..300), max_bins in 2usize..12) {
            let x: Vec<f64> = data.iter().map(|d| d.0.map_or(f64::NAN, f64::from)).collect();
            let y: Vec<f64> = data.iter().map(|d| f64::from(d.1)).collect();
            let b = QuantileBinner { max_bins, min_category_share: 0.01, min_bin_share: 0.05, monotonic: max_bins % 2 == 0 }.fit_numeric(&x, &y);
            // Rows are kept: bin counts add up to the rows.
            let total: u64 = b.bins.iter().map(|b| b.count).sum::<u64>() + b.missing.as_ref().map_or(0, |m| m.count);
            prop_assert_eq!(total, x.len() as u64);
            // IV is non-negative, each bin's too.
            prop_assert!(b.iv >= -1e-12);
            prop_assert!(b.bins.iter().all(|b| b.iv >= -1e-12));
            prop_assert!(b.bins.len() <= max_bins);
            // Every value lands in the bin whose count it was added to; the bins cover the line.
            for v in [-1e300, -5.0, 0.0, 7.5, 1e300] {
                if b.bins.is_empty() {
                    prop_assert_eq!(b.locate_number(v), BinRef::Neutral);
                } else {
                    prop_assert!(matches!(b.locate_number(v), BinRef::Value(i) if i < b.bins.len()));
                }
            }
            // WoE sign matches the event rate against the overall rate.
            let rate = y.iter().sum::<f64>() / y.len() as f64;
            for bin in &b.bins {
                if bin.count >= 20 && (bin.event_rate - rate).abs() > 0.2 {
                    prop_assert_eq!(bin.woe > 0.0, bin.event_rate < rate);
                }
            }
        }
    }

    #[test]
    fn categories_and_unseen() {
        let x: Vec<Option<String>> = ["a", "a", "b", "b", "c"]
            .iter()
            .map(|s| Some(s.to_string()))
            .chain([None])
            .collect();
        let y = [1.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let b = QuantileBinner {
            max_bins: 5,
            min_category_share: 0.17,
            min_bin_share: 0.05,
            monotonic: true,
        }
        .fit_categorical(&x, &y);
        assert_eq!(b.locate_category(Some("a")), BinRef::Value(0));
        let other = b.locate_category(Some("zzz"));
        assert_eq!(other, b.locate_category(Some("c")));
        assert_eq!(b.locate_category(None), BinRef::Missing);
        assert!(b.woe(BinRef::Value(0)) < 0.0);
    }
}

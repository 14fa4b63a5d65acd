//! k-anonymity and l-diversity over declared quasi-identifiers: global generalisation along a
//! hierarchy per column, chosen to lose the least information, and local suppression of the
//! records still in classes that are too small (or not diverse enough).
//!
//! Each quasi-identifier has levels: 0 (as is), the hierarchy's steps (each a masking
//! [`Action`]: a shorter prefix, a wider bucket, month then year, a wider age band), and last
//! the column dropped. The levels of all quasi-identifiers form a lattice; a node satisfies
//! when the records in classes smaller than `k` (or with fewer than `l` distinct sensitive
//! values) are at most `max_suppressed` of the rows. Satisfaction is monotone (hierarchies
//! nest, checked when the YAML is read), and so is the information loss (per column, the
//! share of its distinct values' bits lost, averaged), so the search walks the lattice from
//! the top down: every node below one that fails fails too, uncounted, and a node whose loss
//! exceeds the best satisfying node's is not counted. A node's classes are counted from the
//! table of distinct (quasi-identifiers, sensitive) rows (module `classes`), not the rows.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Column, Error, Frame, Result};

use crate::classes::{Encoded, Space, encode};
use crate::config::Action;
pub use crate::config::AnonymityParams;
use crate::mask::mask_column;

/// One bar of the class-size histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeBin {
    /// Sizes covered, `5-9`.
    pub sizes: String,
    /// Classes of those sizes.
    pub classes: u64,
    /// Rows in them.
    pub rows: u64,
}

/// Risk figures of a set of classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    /// Smallest class.
    pub k: u64,
    /// Fewest distinct sensitive values in a class.
    pub l: u64,
    /// Classes.
    pub classes: u64,
    /// Rows in classes smaller than the target k.
    pub records_at_risk: u64,
    /// Prosecutor re-identification risk: the largest 1 / class size.
    pub prosecutor_max: f64,
    /// Prosecutor risk averaged over the records: classes / records.
    pub prosecutor_avg: f64,
    /// Class sizes.
    pub histogram: Vec<SizeBin>,
}

/// What the k-anonymity search chose and what it reached (`report.json`, `anonymity`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnonymityReport {
    /// Target k.
    pub k_target: u64,
    /// Target l, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l_target: Option<u64>,
    /// The sensitive column of l.
    pub sensitive: String,
    /// The level chosen per quasi-identifier: `as is`, an action (`truncate:2`,
    /// `bucket:20000`, `month`, `year`, `age_band:10`) or `dropped`.
    pub levels: BTreeMap<String, String>,
    /// Information lost by the generalisation (0: none, 1: every column dropped).
    pub information_loss: f64,
    /// Rows in.
    pub rows: u64,
    /// Rows whose quasi-identifiers were blanked (local suppression).
    pub suppressed_rows: u64,
    /// The most that could be suppressed.
    pub max_suppressed_rows: u64,
    /// The raw quasi-identifiers.
    pub before: Risk,
    /// The released rows (suppressed ones aside: they carry no quasi-identifier value).
    pub after: Risk,
    /// Lattice nodes, and those evaluated.
    pub lattice_nodes: u64,
    /// Nodes whose classes were counted.
    pub evaluated_nodes: u64,
}

fn encode_qi(name: &str, col: &Column, steps: &[Action], file: &str) -> Result<Encoded> {
    let (codes0, values) = encode(col);
    let n0 = values.len() as u32;
    let mut up = vec![(0..n0).collect::<Vec<u32>>()];
    let mut distinct = vec![n0];
    for a in steps {
        let general = mask_column(a, Cow::Borrowed(&values), None, name, file)?
            .ok_or_else(|| Error::Internal("a hierarchy step drops its column".into()))?;
        let (codes, vals) = encode(&general);
        distinct.push(vals.len() as u32);
        up.push(codes);
    }
    up.push(vec![0; n0 as usize]);
    distinct.push(1);
    Ok(Encoded { codes0, up, distinct })
}

fn risk(sizes: &[(u64, u64)], k_target: u64) -> Risk {
    let rows: u64 = sizes.iter().map(|s| s.0).sum();
    let k = sizes.iter().map(|s| s.0).min().unwrap_or(0);
    const BINS: [(u64, u64, &str); 9] = [
        (1, 1, "1"),
        (2, 2, "2"),
        (3, 4, "3-4"),
        (5, 9, "5-9"),
        (10, 19, "10-19"),
        (20, 49, "20-49"),
        (50, 99, "50-99"),
        (100, 999, "100-999"),
        (1000, u64::MAX, "1000+"),
    ];
    Risk {
        k,
        l: sizes.iter().map(|s| s.1).min().unwrap_or(0),
        classes: sizes.len() as u64,
        records_at_risk: sizes.iter().filter(|s| s.0 < k_target).map(|s| s.0).sum(),
        prosecutor_max: if k == 0 { 0.0 } else { 1.0 / k as f64 },
        prosecutor_avg: if rows == 0 {
            0.0
        } else {
            sizes.len() as f64 / rows as f64
        },
        histogram: BINS
            .iter()
            .map(|(lo, hi, label)| {
                let inb = sizes.iter().filter(|s| s.0 >= *lo && s.0 <= *hi);
                SizeBin {
                    sizes: label.to_string(),
                    classes: inb.clone().count() as u64,
                    rows: inb.map(|s| s.0).sum(),
                }
            })
            .filter(|b| b.classes > 0)
            .collect(),
    }
}

/// Lattice node index <-> levels (mixed radix, first quasi-identifier most significant).
fn levels_of(mut node: usize, radix: &[usize]) -> Vec<usize> {
    let mut out = vec![0; radix.len()];
    for j in (0..radix.len()).rev() {
        out[j] = node % radix[j];
        node /= radix[j];
    }
    out
}

fn node_of(levels: &[usize], radix: &[usize]) -> usize {
    levels.iter().zip(radix).fold(0, |acc, (l, r)| acc * r + l)
}

/// Runs the search on `frame` (the masked table) and applies its result: the quasi-identifiers
/// generalised (or dropped) and the rows left in small classes blanked in them. Returns the
/// report, the chosen action per generalised column (for the masking plan the bundle replays)
/// and the rows suppressed.
pub fn anonymise(
    p: &AnonymityParams,
    frame: &mut Frame,
    default_sensitive: &str,
    file: &str,
) -> Result<(AnonymityReport, BTreeMap<String, Action>, Vec<u64>)> {
    let sensitive = p.sensitive.clone().unwrap_or_else(|| default_sensitive.to_string());
    let names: Vec<&String> = p.quasi_identifiers.keys().collect();
    let mut qis = Vec::new();
    for name in &names {
        let col = frame.get(name).ok_or_else(|| Error::ColumnNotFound {
            file: file.to_string(),
            column: name.to_string(),
            hint: format!("; it is a quasi-identifier of `privacy.k_anonymity.quasi_identifiers.{name}`"),
        })?;
        qis.push(encode_qi(name, col, &p.quasi_identifiers[*name], file)?);
    }
    let sens: Vec<u32> = match (p.l, frame.get(&sensitive)) {
        (Some(_), None) => {
            return Err(Error::ColumnNotFound {
                file: file.to_string(),
                column: sensitive,
                hint: "; it is the sensitive column of `privacy.k_anonymity.l`".into(),
            });
        }
        (_, Some(c)) => encode(c).0,
        (None, None) => vec![0; frame.rows()],
    };
    // Keys pack every code and the sensitive code in a u128.
    let product = qis.iter().try_fold(u128::from(u32::MAX), |acc, e| {
        acc.checked_mul(u128::from(e.distinct[0].max(1)))
    });
    if product.is_none() {
        return Err(Error::pipeline_key(
            "privacy.k_anonymity.quasi_identifiers",
            "the quasi-identifiers have too many distinct values together to be counted; declare fewer",
        ));
    }
    let rows = frame.rows() as u64;
    let l = p.l.unwrap_or(1);
    let budget = (p.max_suppressed * rows as f64).floor() as u64;
    let space = Space { qis: &qis };
    let base = space.base(&sens);
    let n_sens = sens.iter().max().map_or(1, |m| m + 1);
    let suppressed = |lv: &[usize]| -> u64 {
        space
            .classes_at(&base, lv, n_sens)
            .iter()
            .filter(|c| c.size < p.k || u64::from(c.diversity) < l)
            .map(|c| c.size)
            .sum()
    };
    let radix: Vec<usize> = qis.iter().map(|e| e.up.len()).collect();
    let nodes: usize = radix.iter().product();
    let loss_of = |lv: &[usize]| -> f64 {
        let sum: f64 = qis
            .iter()
            .zip(lv)
            .map(|(e, &x)| {
                let d0 = f64::from(e.distinct[0]);
                if d0 <= 1.0 {
                    return if x + 1 == e.up.len() { 1.0 } else { 0.0 };
                }
                (d0.ln() - f64::from(e.distinct[x]).ln()) / d0.ln()
            })
            .sum();
        sum / qis.len() as f64
    };
    // Search from the top of the lattice down: coarse nodes are cheap to count, and a node
    // that fails makes every node below it fail, uncounted.
    const UNKNOWN: u8 = 0;
    const FAILS: u8 = 2;
    let mut status = vec![UNKNOWN; nodes];
    let mut best: Option<(f64, u64, usize)> = None;
    let mut evaluated = 0u64;
    let max_height: usize = radix.iter().map(|r| r - 1).sum();
    let mut by_height: Vec<Vec<usize>> = vec![Vec::new(); max_height + 1];
    for n in 0..nodes {
        by_height[levels_of(n, &radix).iter().sum::<usize>()].push(n);
    }
    for layer in by_height.iter().rev() {
        let mut todo = Vec::new();
        for &n in layer {
            let lv = levels_of(n, &radix);
            let above_fails = (0..lv.len()).any(|j| {
                lv[j] + 1 < radix[j] && {
                    let mut up = lv.clone();
                    up[j] += 1;
                    status[node_of(&up, &radix)] == FAILS
                }
            });
            if above_fails {
                status[n] = FAILS;
                continue;
            }
            let loss = loss_of(&lv);
            if best.is_some_and(|b| loss > b.0) {
                continue;
            }
            todo.push((n, lv, loss));
        }
        evaluated += todo.len() as u64;
        let results: Vec<(usize, f64, u64)> = todo
            .par_iter()
            .map(|(n, lv, loss)| (*n, *loss, suppressed(lv)))
            .collect();
        for (n, loss, sup) in results {
            if sup <= budget {
                status[n] = 1;
                if best.is_none_or(|b| (loss, sup, n) < (b.0, b.1, b.2)) {
                    best = Some((loss, sup, n));
                }
            } else {
                status[n] = FAILS;
            }
        }
    }
    let Some((loss, _, node)) = best else {
        return Err(Error::pipeline_key(
            "privacy.k_anonymity",
            format!(
                "no generalisation reaches k = {}{} with at most {} suppressed rows, not even with every quasi-identifier dropped (the sensitive column `{sensitive}` has too few values, or the table too few rows)",
                p.k,
                p.l.map(|l| format!(", l = {l}")).unwrap_or_default(),
                budget
            ),
        ));
    };
    let chosen = levels_of(node, &radix);
    let before_cls = space.classes_at(&base, &vec![0; qis.len()], n_sens);
    let after_cls = space.classes_at(&base, &chosen, n_sens);
    let small: std::collections::BTreeSet<u128> = after_cls
        .iter()
        .filter(|c| c.size < p.k || u64::from(c.diversity) < l)
        .map(|c| c.key)
        .collect();
    // Row-level: which rows fall in a suppressed class.
    let blank: Vec<usize> = if small.is_empty() {
        Vec::new()
    } else {
        (0..frame.rows())
            .filter(|&r| small.contains(&space.row_key(r, &chosen)))
            .collect()
    };
    let mut actions = BTreeMap::new();
    let mut levels = BTreeMap::new();
    for (j, name) in names.iter().enumerate() {
        let steps = &p.quasi_identifiers[*name];
        let level = chosen[j];
        let action = match level {
            0 => None,
            x if x <= steps.len() => Some(steps[x - 1].clone()),
            _ => Some(Action::Drop),
        };
        levels.insert(name.to_string(), action.as_ref().map_or("as is".into(), describe));
        let Some(action) = action else { continue };
        let col = frame.get(name).expect("checked");
        match mask_column(&action, Cow::Borrowed(col), None, name, file)? {
            Some(c) => frame.replace(name, c),
            None => {
                frame.remove(name);
            }
        }
        actions.insert(name.to_string(), action);
    }
    for name in &names {
        if let Some(col) = frame.get(name) {
            let blanked = blank_rows(col, &blank);
            frame.replace(name, blanked);
        }
    }
    let kept: Vec<(u64, u64)> = after_cls
        .iter()
        .filter(|c| !small.contains(&c.key))
        .map(|c| (c.size, u64::from(c.diversity)))
        .collect();
    let report = AnonymityReport {
        k_target: p.k,
        l_target: p.l,
        sensitive,
        levels,
        information_loss: loss,
        rows,
        suppressed_rows: blank.len() as u64,
        max_suppressed_rows: budget,
        before: risk(
            &before_cls
                .iter()
                .map(|c| (c.size, u64::from(c.diversity)))
                .collect::<Vec<_>>(),
            p.k,
        ),
        after: risk(&kept, p.k),
        lattice_nodes: nodes as u64,
        evaluated_nodes: evaluated,
    };
    Ok((report, actions, blank.iter().map(|&r| r as u64).collect()))
}

fn describe(a: &Action) -> String {
    match a {
        Action::Truncate { chars } => format!("truncate:{chars}"),
        Action::Bucket { width } => format!("bucket:{width}"),
        Action::Month => "month".into(),
        Action::Year => "year".into(),
        Action::AgeBand { band_years, .. } => format!("age_band:{band_years}"),
        Action::Drop => "dropped".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// `col` with the rows `blank` (sorted) set missing.
fn blank_rows(col: &Column, blank: &[usize]) -> Column {
    let mut c = col.clone();
    for &r in blank {
        match &mut c {
            Column::Number(v) => v[r] = f64::NAN,
            Column::Text(v) => v[r] = None,
            Column::Date(v) => v[r] = None,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    /// Zip codes clustered by area, ages, a category and a 0/1 outcome.
    fn table(rows: usize, seed: u64, rate: f64) -> Frame {
        let mut rng = Rng::new(seed);
        let (mut zip, mut age, mut sex, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rows {
            let area = rng.below(40);
            zip.push(Some(format!("{:03}{:02}", 100 + area * 7, rng.below(60))));
            age.push(18.0 + rng.below(60) as f64);
            sex.push(Some(if rng.bernoulli(0.5) { "F" } else { "M" }.to_string()));
            y.push(if rng.bernoulli(rate) { 1.0 } else { 0.0 });
        }
        let mut f = Frame::new();
        f.push("zip", Column::Text(zip));
        f.push("age", Column::Number(age));
        f.push("sex", Column::Text(sex));
        f.push("y", Column::Number(y));
        f
    }

    fn params(k: u64, l: Option<u64>) -> AnonymityParams {
        AnonymityParams {
            k,
            l,
            sensitive: None,
            max_suppressed: 0.02,
            quasi_identifiers: [
                (
                    "zip".to_string(),
                    vec![3, 2, 1]
                        .into_iter()
                        .map(|chars| Action::Truncate { chars })
                        .collect(),
                ),
                (
                    "age".to_string(),
                    [5.0, 10.0, 20.0]
                        .into_iter()
                        .map(|width| Action::Bucket { width })
                        .collect(),
                ),
                ("sex".to_string(), vec![]),
            ]
            .into(),
        }
    }

    /// Every node of the lattice, counted directly on the rows by their displayed values:
    /// (levels, loss, rows to suppress).
    fn brute_force(f: &Frame, p: &AnonymityParams) -> Vec<(Vec<usize>, f64, u64)> {
        let names: Vec<&String> = p.quasi_identifiers.keys().collect();
        let l = p.l.unwrap_or(1);
        let mut versions: Vec<Vec<Option<Column>>> = Vec::new();
        for n in &names {
            let col = f.get(n).unwrap();
            let mut v = vec![Some(col.clone())];
            for a in &p.quasi_identifiers[*n] {
                v.push(mask_column(a, Cow::Borrowed(col), None, n, "t").unwrap());
            }
            v.push(None);
            versions.push(v);
        }
        let distinct = |c: &Option<Column>| -> f64 {
            c.as_ref().map_or(1, |c| {
                (0..c.len())
                    .map(|i| c.display(i))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            }) as f64
        };
        let radix: Vec<usize> = versions.iter().map(Vec::len).collect();
        let y = f.get("y").unwrap();
        (0..radix.iter().product())
            .map(|node| {
                let lv = levels_of(node, &radix);
                let mut groups: BTreeMap<Vec<Option<String>>, (u64, std::collections::BTreeSet<Option<String>>)> =
                    BTreeMap::new();
                for r in 0..f.rows() {
                    let key = lv
                        .iter()
                        .enumerate()
                        .map(|(j, &x)| versions[j][x].as_ref().and_then(|c| c.display(r)))
                        .collect();
                    let g = groups.entry(key).or_default();
                    g.0 += 1;
                    g.1.insert(y.display(r));
                }
                let sup = groups
                    .values()
                    .filter(|g| g.0 < p.k || (g.1.len() as u64) < l)
                    .map(|g| g.0)
                    .sum();
                let loss = lv
                    .iter()
                    .enumerate()
                    .map(|(j, &x)| {
                        let d0 = distinct(&versions[j][0]);
                        (d0.ln() - distinct(&versions[j][x]).ln()) / d0.ln()
                    })
                    .sum::<f64>()
                    / lv.len() as f64;
                (lv, loss, sup)
            })
            .collect()
    }

    /// The search finds the least-loss node that satisfies, as counting every node on the rows
    /// does; the released rows are k-anonymous (and l-diverse) by their values.
    #[test]
    fn the_search_finds_the_least_loss_generalisation_and_the_output_reaches_k() {
        // A rare outcome makes l = 2 bind: classes of k rows often hold one outcome only.
        for (k, l, rate) in [(5, None, 0.2), (4, Some(2), 0.03), (3, None, 0.2)] {
            let f = table(6000, 11 + k, rate);
            let p = params(k, l);
            let budget = (p.max_suppressed * f.rows() as f64).floor() as u64;
            let nodes = brute_force(&f, &p);
            let best = nodes
                .iter()
                .filter(|n| n.2 <= budget)
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)))
                .unwrap();
            let mut out = f.clone();
            let (report, actions, rows) = anonymise(&p, &mut out, "y", "t").unwrap();
            assert_eq!(rows.len() as u64, report.suppressed_rows);
            assert!(
                (report.information_loss - best.1).abs() < 1e-12,
                "k {k}: {report:?} vs {best:?}"
            );
            assert_eq!(report.suppressed_rows, best.2, "k {k}");
            assert!(report.evaluated_nodes < report.lattice_nodes, "no pruning");
            // The output: rows with any quasi-identifier value form classes of k or more.
            let qi: Vec<&str> = ["zip", "age", "sex"]
                .into_iter()
                .filter(|c| out.get(c).is_some())
                .collect();
            let mut groups: BTreeMap<Vec<Option<String>>, (u64, std::collections::BTreeSet<Option<String>>)> =
                BTreeMap::new();
            let mut blank = 0;
            for r in 0..out.rows() {
                let key: Vec<Option<String>> = qi.iter().map(|c| out.get(c).unwrap().display(r)).collect();
                if key.iter().all(Option::is_none) {
                    blank += 1;
                    continue;
                }
                let g = groups.entry(key).or_default();
                g.0 += 1;
                g.1.insert(out.get("y").unwrap().display(r));
            }
            assert_eq!(blank, report.suppressed_rows);
            assert!(groups.values().all(|g| g.0 >= k && g.1.len() as u64 >= l.unwrap_or(1)));
            assert_eq!(report.after.k, groups.values().map(|g| g.0).min().unwrap());
            assert_eq!(report.before.k, 1);
            assert!(report.after.prosecutor_max <= 1.0 / k as f64);
            // The plan's actions generalise new rows the same way.
            for (c, a) in &actions {
                if let Some(col) = mask_column(a, Cow::Borrowed(f.get(c).unwrap()), None, c, "t").unwrap() {
                    let kept: Vec<usize> = (0..f.rows())
                        .filter(|&r| out.get(c).unwrap().display(r).is_some())
                        .collect();
                    assert_eq!(col.take(&kept), out.get(c).unwrap().take(&kept), "{c}");
                }
            }
        }
    }
}

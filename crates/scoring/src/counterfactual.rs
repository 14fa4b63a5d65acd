//! Counterfactuals (`riskpipe explain`): for a declined application, the smallest change to one
//! actionable feature that moves the decision across the threshold, every candidate scored by
//! the bundle itself, so the change shown is one the bundle was seen to approve.
//!
//! The candidates are the values where the model's output can change with the feature alone,
//! so the smallest crossing change among them is exact: for a model of WoE columns (a
//! scorecard) the two sides of each bin edge, where points change; for trees (a tree, forest or
//! boosting model) the two sides of each threshold the trees split the feature at, so a
//! boosted model's monotone constraints hold along the whole search. Other models (a network)
//! are searched over 200 evenly spaced values of the feature's training range. A feature whose
//! training values are all whole (a count, years) gets whole candidates.

use riskpipe_core::names::{PD, SCORE};
use riskpipe_core::{Column, Error, Frame, Result};
use riskpipe_features::BinMap;

use crate::Scorer;

/// When an application is approved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Approve {
    /// The PD is below this.
    PdBelow(f64),
    /// The score is at least this.
    ScoreAtLeast(f64),
}

impl Approve {
    fn ok(self, pd: f64, score: f64) -> bool {
        match self {
            Approve::PdBelow(t) => pd < t,
            Approve::ScoreAtLeast(s) => score >= s,
        }
    }
}

/// One counterfactual: the feature, its value and the value that crosses, and what the bundle
/// scores then.
#[derive(Debug, Clone, PartialEq)]
pub struct Counterfactual {
    /// Feature changed.
    pub feature: String,
    /// Its value.
    pub from: f64,
    /// The value that crosses.
    pub to: f64,
    /// PD with it.
    pub pd: f64,
    /// Score with it.
    pub score: f64,
}

/// The candidate values of an actionable feature, and the width its changes are measured in.
fn candidates(scorer: &Scorer, feature: &str) -> Result<(Vec<f64>, f64)> {
    let f = scorer
        .transform
        .features
        .iter()
        .find(|f| f.name == feature)
        .ok_or_else(|| {
            Error::pipeline_key(
                format!("deploy.actionable.{feature}"),
                format!("the bundle's transform does not read `{feature}`"),
            )
        })?;
    let (lo, hi) = f.range.unwrap_or((0.0, 1.0));
    let width = if hi > lo { hi - lo } else { 1.0 };
    let whole = f.integer;
    let reads_woe = scorer
        .model
        .features()
        .iter()
        .any(|c| c.strip_prefix(riskpipe_core::names::WOE_PREFIX) == Some(feature));
    let edges = match f.binning.as_ref().map(|b| &b.map) {
        Some(BinMap::Numeric { edges }) if reads_woe && !edges.is_empty() => Some(edges),
        _ => None,
    };
    let mut c: Vec<f64> = match (edges, scorer.model.split_values(feature)) {
        // A bin holds the values below its upper edge.
        (Some(edges), _) if whole => edges.iter().flat_map(|e| [e.ceil() - 1.0, e.ceil()]).collect(),
        (Some(edges), _) => edges.iter().flat_map(|e| [e.next_down(), *e]).collect(),
        // A tree sends the values at most its threshold left.
        (None, Some(t)) if whole => t.iter().flat_map(|t| [t.floor(), t.floor() + 1.0]).collect(),
        (None, Some(t)) => t.iter().flat_map(|t| [*t, t.next_up()]).collect(),
        (None, None) => (0..200)
            .map(|k| lo + width * f64::from(k) / 199.0)
            .map(|x| if whole { x.round() } else { x })
            .collect(),
    };
    c.retain(|x| x.is_finite());
    c.sort_by(f64::total_cmp);
    c.dedup();
    Ok((c, width))
}

/// Scores `raw` with reasons and, for each row the decision declines, the smallest one-feature
/// change among the actionable features that the bundle approves (none when no candidate does).
pub fn explain(
    scorer: &Scorer,
    raw: &Frame,
    approve: Approve,
    first_row: u64,
    file: &str,
) -> Result<(Frame, Vec<Option<Counterfactual>>)> {
    let scored = scorer.score_with(raw, first_row, file, true)?;
    let pd = scored
        .number(PD)
        .ok_or_else(|| Error::Internal("the scorer wrote no PD".into()))?;
    let score = scored
        .number(SCORE)
        .ok_or_else(|| Error::Internal("the scorer wrote no score".into()))?;
    let declined: Vec<usize> = (0..raw.rows()).filter(|&r| !approve.ok(pd[r], score[r])).collect();
    let mut best: Vec<Option<(f64, Counterfactual)>> = vec![None; raw.rows()];
    for feature in &scorer.info.actionable {
        let (cands, width) = candidates(scorer, feature)?;
        let Some(Column::Number(x)) = raw.get(feature) else {
            return Err(Error::Internal(format!(
                "`{feature}` is not a number column of the input"
            )));
        };
        // Every declined row once per candidate, the feature set to the candidate.
        let mut idx = Vec::with_capacity(declined.len() * cands.len());
        let mut values = Vec::with_capacity(idx.capacity());
        for &r in &declined {
            for &c in &cands {
                if c != x[r] {
                    idx.push(r);
                    values.push(c);
                }
            }
        }
        if idx.is_empty() {
            continue;
        }
        let mut trial = raw.take(&idx);
        trial.replace(feature, Column::Number(values.clone()));
        let out = scorer.score_with(&trial, 0, file, false)?;
        let (tpd, tscore) = (
            out.number(PD).ok_or_else(|| Error::Internal("no PD".into()))?,
            out.number(SCORE).ok_or_else(|| Error::Internal("no score".into()))?,
        );
        for (k, &r) in idx.iter().enumerate() {
            if !approve.ok(tpd[k], tscore[k]) {
                continue;
            }
            let from = x[r];
            let cost = if from.is_nan() {
                f64::INFINITY
            } else {
                (values[k] - from).abs() / width
            };
            let better = match &best[r] {
                Some((c, b)) => cost < *c || (cost == *c && (feature.as_str(), values[k]) < (b.feature.as_str(), b.to)),
                None => true,
            };
            if better {
                best[r] = Some((
                    cost,
                    Counterfactual {
                        feature: feature.clone(),
                        from,
                        to: values[k],
                        pd: tpd[k],
                        score: tscore[k],
                    },
                ));
            }
        }
    }
    Ok((scored, best.into_iter().map(|b| b.map(|(_, c)| c)).collect()))
}

/// The explain output: the scored rows, the decision, and the counterfactual's columns
/// (`cf_feature`, `cf_from`, `cf_to`, `cf_pd`, `cf_score`; empty when approved or none found).
pub fn output_frame(scored: Frame, approve: Approve, cfs: &[Option<Counterfactual>]) -> Frame {
    let pd = scored.number(PD).map(<[f64]>::to_vec).unwrap_or_default();
    let score = scored.number(SCORE).map(<[f64]>::to_vec).unwrap_or_default();
    let mut out = scored;
    out.push(
        "decision",
        Column::Text(
            pd.iter()
                .zip(&score)
                .map(|(p, s)| Some(if approve.ok(*p, *s) { "approve" } else { "decline" }.to_string()))
                .collect(),
        ),
    );
    let num = |f: &dyn Fn(&Counterfactual) -> f64| {
        Column::Number(cfs.iter().map(|c| c.as_ref().map_or(f64::NAN, f)).collect())
    };
    out.push(
        "cf_feature",
        Column::Text(cfs.iter().map(|c| c.as_ref().map(|c| c.feature.clone())).collect()),
    );
    out.push("cf_from", num(&|c| c.from));
    out.push("cf_to", num(&|c| c.to));
    out.push("cf_pd", num(&|c| c.pd));
    out.push("cf_score", num(&|c| c.score));
    out
}

/// `riskpipe explain`: reads `input` (CSV or Parquet) in batches, explains every row and writes
/// `output` (`.csv` or `.parquet`, by extension) once, atomically. Returns (rows, declined,
/// counterfactuals found).
pub fn explain_file(
    scorer: &Scorer,
    input: &std::path::Path,
    output: &std::path::Path,
    approve: Approve,
) -> Result<(u64, u64, u64)> {
    if scorer.info.actionable.is_empty() {
        return Err(Error::pipeline_key(
            "deploy.actionable",
            "the bundle declares no actionable features: list the numeric features an applicant can change under `deploy.actionable` and rerun deploy",
        ));
    }
    if scorer.is_detector() || scorer.is_amount() || scorer.event_order().is_some() {
        return Err(Error::pipeline_key(
            "deploy.actionable",
            "counterfactuals explain PD bundles scored row by row (credit scoring, default prediction)",
        ));
    }
    let file = input.display().to_string();
    let mut all: Option<Frame> = None;
    let (mut declined, mut found) = (0u64, 0u64);
    crate::stream::for_each_batch(scorer, input, &[], &mut |raw, done| {
        let (scored, cfs) = explain(scorer, &raw, approve, done, &file)?;
        let out = output_frame(scored, approve, &cfs);
        declined += out.get("decision").map_or(0, |d| {
            (0..out.rows())
                .filter(|&i| d.display(i).as_deref() == Some("decline"))
                .count() as u64
        });
        found += cfs.iter().filter(|c| c.is_some()).count() as u64;
        match &mut all {
            Some(a) => a.append(out),
            None => all = Some(out),
        }
        Ok(())
    })?;
    let all = all.unwrap_or_default();
    let rows = all.rows() as u64;
    match output.extension().and_then(|e| e.to_str()) {
        Some("parquet") => riskpipe_core::io::write_parquet(output, &all)?,
        _ => riskpipe_core::io::write_csv(output, &all)?,
    };
    Ok((rows, declined, found))
}

//! The loss book (loss prediction with `loss.book`): every loan of the data scored by the
//! selected LGD model and the named credit bundle's PD through the same scorer a loss bundle
//! uses, then summed by segment, IFRS 9 stage and IRB class, and the one-factor Vasicek loss
//! distribution simulated over it. Writes `book.parquet` (per loan) and `portfolio.json`.

use std::collections::BTreeMap;
use std::path::Path;

use riskpipe_core::io::{read_json, read_parquet, write_json, write_parquet};
use riskpipe_core::stage::StageInputs;
use riskpipe_core::views::SchemaView;
use riskpipe_core::{Column, Error, Frame, Result, Rng};
use riskpipe_features::Transform;
use riskpipe_models::Model;
use riskpipe_portfolio::book::Measures;
use riskpipe_portfolio::config::BookSpec;
use riskpipe_portfolio::vasicek::{Loan, simulate};
use riskpipe_privacy::PrivacyParams;
use riskpipe_scoring::{Book, BundleInfo, InputColumn, Scorer};

use crate::artifacts::{BookAdjustments, BookGroup, LossDistributionSummary, PortfolioFile, TailMeasure};

/// The files the book reads beyond the regression's.
pub const INPUTS: [&str; 3] = ["ingest/data.parquet", "ingest/schema.json", "privacy/plan.json"];

/// Confidence levels of the loss distribution's tail measures.
const LEVELS: [f64; 2] = [0.99, 0.999];
/// Histogram bins of the simulated loss distribution.
const BINS: usize = 40;

/// The scorer of the book: the selected LGD model behind the pipeline's masking plan and
/// transform, with the credit bundle's PD and the book's measures.
fn scorer(spec: &BookSpec, inputs: &StageInputs, selected: &str, pipeline: &str) -> Result<Scorer> {
    let plan: PrivacyParams = read_json(&inputs.artifact("privacy/plan.json")?)?;
    let transform: Transform = read_json(&inputs.artifact("features/transform.json")?)?;
    let model: Model = read_json(&inputs.artifact(&format!("train/{selected}.json"))?)?;
    let schema: SchemaView = read_json(&inputs.artifact(SchemaView::PATH)?)?;
    let book = Book {
        params: spec.params.clone(),
        pd: Box::new(Book::pd_scorer(&spec.pd_bundle, "loss.pd_bundle")?),
    };
    let kind_of = |n: &str| schema.kind_of(n);
    let mut cols: Vec<InputColumn> = Vec::new();
    for f in &transform.features {
        let kind = kind_of(&f.name).ok_or_else(|| Error::Internal(format!("`{}` is not in the schema", f.name)))?;
        cols.push(InputColumn {
            name: f.name.clone(),
            kind,
        });
    }
    for c in book.inputs(&kind_of)? {
        if !cols.iter().any(|x| x.name == c.name) {
            cols.push(c);
        }
    }
    let info = BundleInfo {
        actionable: Vec::new(),
        decision_threshold: None,
        riskpipe_version: env!("CARGO_PKG_VERSION").to_string(),
        pipeline: pipeline.to_string(),
        model: selected.to_string(),
        id: schema.id.clone(),
        inputs: cols,
        missing_values: schema.missing_values.clone(),
        reason_codes: 0,
        scaling: None,
        flag_threshold: None,
        events: None,
    };
    Scorer::assemble(info, plan, transform, model, None, None, Some(book))
}

fn add(g: &mut BookGroup, m: &Measures) {
    g.loans += 1;
    g.ead += m.ead;
    g.el += m.el;
    g.ecl += m.ecl;
    g.rwa += m.rwa;
}

/// The simulated distribution's summary: mean, tails at [`LEVELS`], a histogram.
fn loss_distribution(measures: &[Measures], scenarios: usize, seed: u64) -> Result<LossDistributionSummary> {
    let loans: Vec<Loan> = measures
        .iter()
        .map(|m| Loan {
            pd: m.pd,
            lgd: m.lgd,
            ead: m.ead,
            rho: m.correlation,
        })
        .collect();
    let d = simulate(&loans, scenarios, seed).map_err(|e| {
        Error::data(
            "ingest/data.parquet",
            None,
            None,
            format!("the loss book cannot be simulated: {e} (see `loss.book`'s exposure columns)"),
        )
    })?;
    let mean = d.mean();
    let tails = LEVELS
        .iter()
        .map(|&level| {
            let (v, es) = (d.var(level), d.expected_shortfall(level));
            TailMeasure {
                level,
                var: v.value,
                var_std_error: v.std_error,
                es: es.value,
                es_std_error: es.std_error,
            }
        })
        .collect();
    let top = d.losses.last().copied().unwrap_or(0.0).max(f64::MIN_POSITIVE);
    let width = top / BINS as f64;
    let mut counts = vec![0u64; BINS];
    for l in &d.losses {
        counts[((l / width) as usize).min(BINS - 1)] += 1;
    }
    Ok(LossDistributionSummary {
        scenarios,
        mean: mean.value,
        mean_std_error: mean.std_error,
        tails,
        bin_edges: (1..=BINS).map(|b| b as f64 * width).collect(),
        shares: counts.iter().map(|c| *c as f64 / scenarios as f64).collect(),
    })
}

/// The sum of true PD x true LGD x EAD over the book, where the generator's truth is at hand.
fn true_el(inputs: &StageInputs, raw: &Frame, id: Option<&str>, measures: &[Measures]) -> Result<Option<f64>> {
    let (Some(path), Some(id)) = (inputs.optional("ingest/truth.parquet"), id) else {
        return Ok(None);
    };
    let truth = read_parquet(&path)?;
    let (Some(ids), Some(pd), Some(lgd)) = (truth.get(id), truth.number("true_pd"), truth.number("true_lgd")) else {
        return Ok(None);
    };
    let at: BTreeMap<String, usize> = (0..truth.rows())
        .filter_map(|i| ids.display(i).map(|k| (k, i)))
        .collect();
    let Some(raw_ids) = raw.get(id) else { return Ok(None) };
    let mut total = 0.0;
    for (i, m) in measures.iter().enumerate() {
        let Some(&t) = raw_ids.display(i).and_then(|k| at.get(&k)) else {
            return Ok(None);
        };
        let p = if m.adjusted.defaulted { 1.0 } else { pd[t] };
        total += p * lgd[t] * m.ead;
    }
    Ok(Some(total))
}

/// Scores and sums the book; writes `book.parquet` and `portfolio.json` into `out`.
pub fn run(
    spec: &BookSpec,
    inputs: &StageInputs,
    out: &Path,
    (pipeline, selected, seed): (&str, &str, u64),
) -> Result<PortfolioFile> {
    let scorer = scorer(spec, inputs, selected, pipeline)?;
    let raw = read_parquet(&inputs.artifact("ingest/data.parquet")?)?;
    let (frame, measures) = scorer.score_book(&raw, 0, "ingest/data.parquet")?;
    let segment: &[Option<String>] = match raw.get(&spec.params.columns.segment) {
        Some(Column::Text(v)) => v,
        _ => return Err(Error::Internal("the book's segment column vanished".into())),
    };
    let mut total = BookGroup::default();
    let (mut by_segment, mut by_stage, mut by_class) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut adjusted = BookAdjustments::default();
    for (m, s) in measures.iter().zip(segment) {
        add(&mut total, m);
        add(by_segment.entry(s.clone().unwrap_or_default()).or_default(), m);
        add(by_stage.entry((m.stage as u8).to_string()).or_default(), m);
        add(by_class.entry(m.class.name().to_string()).or_default(), m);
        adjusted.pd_floored += u64::from(m.adjusted.pd_floored);
        adjusted.maturity_capped += u64::from(m.adjusted.maturity_capped);
        adjusted.defaulted += u64::from(m.adjusted.defaulted);
        adjusted.lgd_clipped += u64::from(m.lgd_clipped);
    }
    let p = &spec.params;
    let mut settings = vec![
        format!(
            "EAD: the outstanding `{}`, or for a revolving line `{}` + {} x (`{}` - `{}`)",
            p.columns.balance, p.columns.drawn, p.ccf, p.columns.limit, p.columns.drawn
        ),
        format!(
            "IFRS 9: stage 3 at {} days past due, stage 2 at {} days or a lifetime PD {}x the origination one{}; lifetime PDs from {}",
            p.staging.default_days,
            p.staging.backstop_days,
            p.staging.sicr_ratio,
            match &p.columns.origination_pd {
                Some(c) => format!(" (`{c}`)"),
                None => " (no origination PD: days past due only)".into(),
            },
            match &p.term_structure {
                riskpipe_portfolio::book::TermStructure::ConstantHazard => "a constant hazard".to_string(),
                riskpipe_portfolio::book::TermStructure::TransitionMatrix(m) =>
                    format!("a {}-rating transition matrix", m.ratings.len()),
            }
        ),
        format!(
            "IRB: PD floor {}; corporate maturity {} years{}",
            p.irb.pd_floor,
            p.maturity,
            if (1.0..=5.0).contains(&p.maturity) {
                ""
            } else {
                " (capped to [1, 5])"
            }
        ),
    ];
    settings.push(format!(
        "Classes: {}",
        p.classes
            .iter()
            .map(|(k, c)| format!("{k} = {}", c.name()))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let seed = Rng::derive(seed, "evaluate.loss_distribution").next_u64();
    let file = PortfolioFile {
        pd_pipeline: scorer
            .book
            .as_ref()
            .map(|b| b.pd.info.pipeline.clone())
            .unwrap_or_default(),
        true_el: true_el(inputs, &raw, scorer.info.id.as_deref(), &measures)?,
        loss_distribution: loss_distribution(&measures, spec.scenarios, seed)?,
        total,
        by_segment,
        by_stage,
        by_class,
        adjusted,
        settings,
    };
    write_parquet(&out.join("book.parquet"), &frame)?;
    write_json(&out.join("portfolio.json"), &file)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::ErrorClass;
    use riskpipe_portfolio::ifrs9::Stage;
    use riskpipe_portfolio::irb::{Adjusted, ExposureClass};

    fn measures(ead: f64) -> Measures {
        Measures {
            pd: 0.02,
            lgd: 0.4,
            ead,
            el: 0.008 * ead,
            stage: Stage::One,
            ecl: 0.008 * ead,
            class: ExposureClass::OtherRetail,
            correlation: 0.1,
            rwa: ead,
            adjusted: Adjusted::default(),
            lgd_clipped: false,
        }
    }

    #[test]
    fn a_book_without_exposure_is_a_user_error() {
        let e = loss_distribution(&[measures(0.0), measures(0.0)], 1000, 1).unwrap_err();
        assert_eq!(e.class(), ErrorClass::User);
        assert!(e.to_string().contains("have no exposure"), "{e}");
    }

    #[test]
    fn the_histogram_holds_every_scenario() {
        let d = loss_distribution(&vec![measures(100.0); 50], 2000, 1).unwrap();
        assert!((d.shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(d.bin_edges.len(), BINS);
        assert!(d.tails[1].var >= d.tails[0].var && d.tails[0].es >= d.tails[0].var);
    }
}

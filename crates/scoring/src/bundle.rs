//! The model bundle and the scorer that loads it: raw application in, PD, points and reason
//! codes out, through the same masking plan and transform as training.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use riskpipe_core::io::read_json;
use riskpipe_core::{Column, ColumnKind, Error, Frame, Result};
use riskpipe_features::{Locator, Transform};
use riskpipe_models::explain::Explainer;
use riskpipe_models::{Calibrator, Model};
use riskpipe_privacy::PrivacyParams;

use riskpipe_features::{MISSING_SUFFIX, Scorecard};
use riskpipe_portfolio::book::{BookParams, Measures};

use crate::book::{BOOK_FILE, BOOK_OUTPUTS, PD_PREFIX};
pub use crate::info::{BundleInfo, InputColumn};

/// Row `i`'s value of `column` as a reason shows it: the raw (masked) value, or for a column the
/// transform derives (a principal component, an anomaly score) its value in the matrix `x`.
fn shown(masked: &Frame, x: &Frame, column: &str, i: usize) -> String {
    masked
        .get(column)
        .or_else(|| x.get(column))
        .and_then(|c| c.display(i))
        .unwrap_or_else(|| "missing".into())
}

/// The parts of a bundle must fit together: the scorecard's features are in the transform, the
/// id is an input.
fn check_coherent(dir: &Path, info: &BundleInfo, transform: &Transform, scorecard: Option<&Scorecard>) -> Result<()> {
    let bad = |f: &str, m: String| Err(Error::data(dir.join(f).display().to_string(), None, None, m));
    if let Some(sc) = scorecard {
        if let Some(f) = sc.features.iter().find(|f| {
            !transform
                .features
                .iter()
                .any(|t| t.name == f.feature && t.binning.is_some())
        }) {
            return bad(
                "scorecard.json",
                format!("scores feature `{}`, which transform.json does not bin", f.feature),
            );
        }
    }
    if let Some(id) = &info.id {
        if !info.inputs.iter().any(|c| &c.name == id) {
            return bad("bundle.json", format!("names id `{id}` but not among its inputs"));
        }
    }
    Ok(())
}

/// The book part of a loss scorer.
#[derive(Debug, Clone)]
pub struct Book {
    /// The measures' settings.
    pub params: BookParams,
    /// The credit scorer giving each loan's PD.
    pub pd: Box<Scorer>,
}

impl Book {
    /// Loads the credit bundle `dir` as the PD source of a loss pipeline: a bundle that does not
    /// give a PD (an LGD or anomaly bundle) is a user error naming `key`.
    pub fn pd_scorer(dir: &Path, key: &str) -> Result<Scorer> {
        let s = Scorer::load(dir)
            .map_err(|e| Error::pipeline_key(key, format!("`{}` is not a usable credit bundle: {e}", dir.display())))?;
        if s.is_amount() || s.is_detector() {
            return Err(Error::pipeline_key(
                key,
                format!(
                    "`{}` is a bundle of the `{}` pipeline, which gives {}, not a PD: name the bundle of a credit scoring or default prediction pipeline",
                    dir.display(),
                    s.info.pipeline,
                    if s.is_detector() {
                        "anomaly scores"
                    } else {
                        "an LGD or CCF"
                    }
                ),
            ));
        }
        Ok(s.without_reasons())
    }

    /// The raw columns the book reads beyond the LGD model's, its own and the PD bundle's, with
    /// their kinds. `kind_of` gives a column's kind in the data: a book column missing from it
    /// or of the wrong kind, or a PD bundle input the data lacks, is a user error naming the key.
    pub fn inputs(&self, kind_of: &dyn Fn(&str) -> Option<ColumnKind>) -> Result<Vec<InputColumn>> {
        crate::book::inputs(&self.params, &self.pd.info.inputs, kind_of)
    }

    /// Each raw row's measures from its predicted `lgd`, the PD from the embedded bundle.
    pub fn measures(&self, raw: &Frame, lgd: &[f64], first_row: u64, file: &str) -> Result<Vec<Measures>> {
        let pd_frame = self.pd.score_with(raw, first_row, file, false)?;
        let pd = pd_frame
            .number(riskpipe_core::names::PD)
            .ok_or_else(|| Error::Internal("the PD bundle returned no `pd`".into()))?;
        crate::book::measures(&self.params, raw, (pd, lgd), first_row, file)
    }

    /// Writes `book.json` and the PD bundle's files (from `pd_dir`) into the bundle folder.
    pub fn write(&self, pd_dir: &Path, bundle: &Path) -> Result<()> {
        crate::book::write(&self.params, pd_dir, bundle)
    }

    /// The output columns of `measures`, in [`BOOK_OUTPUTS`] order.
    pub fn columns(measures: &[Measures]) -> Vec<(&'static str, Column)> {
        crate::book::columns(measures)
    }
}

/// A loaded bundle, ready to score.
#[derive(Debug, Clone)]
pub struct Scorer {
    /// Metadata.
    pub info: BundleInfo,
    /// Masking plan.
    pub plan: PrivacyParams,
    /// Feature transform.
    pub transform: Transform,
    /// The selected model.
    pub model: Model,
    /// The scorecard, when a logistic model on WoE was trained.
    pub scorecard: Option<Scorecard>,
    /// PD calibration of the model, when one was fitted.
    pub calibration: Option<Calibrator>,
    /// A loss bundle's book: the embedded PD bundle and the per-loan measures' settings.
    pub book: Option<Book>,
    key: Option<Vec<u8>>,
    /// The tree model's TreeSHAP tables, built on the first explained row and shared by clones.
    explainer: Arc<OnceLock<Option<Explainer>>>,
}

impl Scorer {
    /// Loads a bundle folder (and the masking key, when the plan hashes a column). The folder
    /// must match its seal (`bundle_manifest.json`) file for file: a changed, missing or extra
    /// file is a user error naming it.
    pub fn load(dir: &Path) -> Result<Scorer> {
        if !dir.join("bundle.json").is_file() {
            return Err(Error::MissingInput {
                path: dir.join("bundle.json"),
                hint: Some("`--bundle` must name a bundle folder written by the deploy stage (`runs/<pipeline>/<run>/deploy/bundle`)".into()),
            });
        }
        let seal = crate::seal::check(dir)?;
        Scorer::load_parts(dir, "", &seal)
    }

    /// Loads the bundle files named `<prefix>bundle.json`, ... of `dir` (sealed by `seal`).
    fn load_parts(dir: &Path, prefix: &str, seal: &crate::seal::Seal) -> Result<Scorer> {
        let file = |name: &str| dir.join(format!("{prefix}{name}"));
        let optional = |name: &str| seal.contains(&format!("{prefix}{name}"));
        let info: BundleInfo = read_json(&file("bundle.json"))?;
        let plan: PrivacyParams = read_json(&file("plan.json"))?;
        let transform: Transform = read_json(&file("transform.json"))?;
        let model: Model = read_json(&file("model.json"))?;
        let scorecard: Option<Scorecard> = if optional("scorecard.json") {
            Some(read_json(&file("scorecard.json"))?)
        } else {
            None
        };
        let calibration: Option<Calibrator> = if optional("calibration.json") {
            Some(read_json(&file("calibration.json"))?)
        } else {
            None
        };
        check_coherent(dir, &info, &transform, scorecard.as_ref())?;
        let book = if prefix.is_empty() && seal.contains(BOOK_FILE) {
            Some(Book {
                params: read_json(&dir.join(BOOK_FILE))?,
                pd: Box::new(Scorer::load_parts(dir, PD_PREFIX, seal)?.without_reasons()),
            })
        } else {
            None
        };
        Scorer::assemble(info, plan, transform, model, scorecard, calibration, book)
    }

    /// A scorer from its parts (the deploy stage's and, for a loss book, the evaluate stage's),
    /// with the masking key when the plan hashes a column the bundle reads.
    pub fn assemble(
        info: BundleInfo,
        plan: PrivacyParams,
        transform: Transform,
        model: Model,
        scorecard: Option<Scorecard>,
        calibration: Option<Calibrator>,
        book: Option<Book>,
    ) -> Result<Scorer> {
        // Only columns the bundle reads are masked at scoring time; the key is needed only if one
        // of them is hashed.
        let needed: Vec<&str> = info.inputs.iter().map(|c| c.name.as_str()).collect();
        let mut plan = plan;
        plan.columns.retain(|c, _| needed.contains(&c.as_str()));
        let key = riskpipe_privacy::load_key(&plan)?;
        Ok(Scorer {
            info,
            plan,
            transform,
            model,
            scorecard,
            calibration,
            book,
            key,
            explainer: Arc::default(),
        })
    }

    /// Whether the bundle holds a detector (it returns `anomaly_score` and `is_flagged`).
    pub fn is_detector(&self) -> bool {
        self.model.output() == riskpipe_models::Output::AnomalyScore
    }

    /// The output column of an amount bundle: `ccf` for a credit-conversion model, else `lgd`.
    fn amount_name(&self) -> &'static str {
        use riskpipe_core::names::{CCF, LGD, REALISED_CCF};
        if self.transform.target.as_deref() == Some(REALISED_CCF) {
            CCF
        } else {
            LGD
        }
    }

    /// Whether the bundle predicts an amount (loss prediction's LGD) rather than a PD.
    pub fn is_amount(&self) -> bool {
        self.model.output() == riskpipe_models::Output::Amount
    }

    /// Output column names: id (or `row`), `pd`, `score` (a detector: `anomaly_score`,
    /// `is_flagged`; an amount model: `lgd`), then `reason_1..k`.
    ///
    /// (The id cannot be named like the other outputs: ingest refuses such an id.)
    pub fn output_names(&self) -> Vec<String> {
        use riskpipe_core::names::{ANOMALY_SCORE, IS_FLAGGED, PD, REASON_PREFIX, ROW, SCORE};
        let mut v = vec![self.info.id.clone().unwrap_or_else(|| ROW.into())];
        if self.is_amount() {
            v.push(self.amount_name().into());
            if self.book.is_some() {
                v.extend(BOOK_OUTPUTS.map(String::from));
            }
        } else if self.is_detector() {
            v.extend([ANOMALY_SCORE.into(), IS_FLAGGED.into()]);
        } else {
            v.extend([PD.into(), SCORE.into()]);
        }
        for k in 1..=self.reasons() {
            v.push(format!("{REASON_PREFIX}{k}"));
        }
        v
    }

    fn reasons(&self) -> usize {
        self.info.reason_codes
    }

    /// The same scorer without reason codes (for bulk scoring: no reason columns are written,
    /// and tree ensembles skip their TreeSHAP contributions).
    pub fn without_reasons(mut self) -> Scorer {
        self.info.reason_codes = 0;
        self
    }

    /// Whether reason codes come from TreeSHAP contributions (a tree model with reason codes
    /// on), far slower than scoring alone (see `bench/results/scale.md`).
    pub fn explains_with_shap(&self) -> bool {
        self.info.reason_codes > 0 && self.model.logistic().is_none() && self.model.has_contributions()
    }

    /// An amount bundle's output: the predicted LGD and, as reasons, the features with the
    /// largest positive TreeSHAP contributions to it.
    fn score_amounts(
        &self,
        raw: &Frame,
        (x, masked): (&Frame, &Frame),
        first_row: u64,
        file: &str,
        explain: bool,
    ) -> Result<(Frame, Vec<Measures>)> {
        let lgd = self.model.predict_frame(x)?;
        self.check_finite(
            if self.amount_name() == "ccf" { "CCF" } else { "LGD" },
            &lgd,
            first_row,
            file,
        )?;
        let n = lgd.len();
        let k = self.reasons();
        let mut reasons: Vec<Vec<Option<String>>> = vec![vec![None; n]; k];
        if explain && k > 0 {
            self.shap_reasons(x, masked, &mut reasons)?;
        }
        let measures = match &self.book {
            Some(b) => b.measures(raw, &lgd, first_row, file)?,
            None => Vec::new(),
        };
        let names = self.output_names();
        let mut out = Frame::new();
        out.push(names[0].clone(), self.id_column(masked, n, first_row, file)?);
        out.push(names[1].clone(), Column::Number(lgd));
        if self.book.is_some() {
            for (name, col) in Book::columns(&measures) {
                out.push(name, col);
            }
        }
        for (name, r) in names[out.names().len()..].iter().zip(reasons) {
            out.push(name.clone(), Column::Text(r));
        }
        Ok((out, measures))
    }

    /// A loss bundle with a book: the output frame and each row's measures (for the evaluate
    /// stage's portfolio figures). Without a book, the measures are empty.
    pub fn score_book(&self, raw: &Frame, first_row: u64, file: &str) -> Result<(Frame, Vec<Measures>)> {
        self.check_inputs(raw, file)?;
        let masked = riskpipe_privacy::apply(&self.plan, raw, self.key.as_deref(), file)?;
        let x = self.transform.apply(&masked, file)?;
        self.score_amounts(raw, (&x, &masked), first_row, file, false)
    }

    /// Scores raw rows with reason codes. `first_row` numbers rows when there is no id column;
    /// `file` names the input in errors.
    pub fn score(&self, raw: &Frame, first_row: u64, file: &str) -> Result<Frame> {
        self.score_with(raw, first_row, file, true)
    }

    /// Reason codes of a tree model: per row, the features with the largest positive exact
    /// contributions (TreeSHAP) to its risk, a feature's missing flag counted with it.
    fn shap_reasons(&self, x: &Frame, masked: &Frame, reasons: &mut [Vec<Option<String>>]) -> Result<()> {
        let what = match (self.is_amount(), self.amount_name()) {
            (true, riskpipe_core::names::CCF) => "the CCF",
            (true, _) => "the LGD",
            _ => "the risk",
        };
        let cols = riskpipe_models::feature_columns(x, self.model.features())?;
        let phi = match self.explainer.get_or_init(|| self.model.explainer()) {
            Some(explainer) => explainer.contributions(&cols),
            None => match self.model.contributions(&cols) {
                Some((phi, _)) => phi,
                None => return Ok(()),
            },
        };
        let names: Vec<&str> = self
            .model
            .features()
            .iter()
            .map(|f| f.strip_suffix(MISSING_SUFFIX).unwrap_or(f))
            .collect();
        let mut bases: Vec<&str> = names.clone();
        bases.dedup();
        let scale = self.model.contribution_scale();
        for (i, row) in phi.iter().enumerate() {
            let mut by: Vec<(f64, usize)> = bases
                .iter()
                .enumerate()
                .map(|(b, base)| {
                    let v: f64 = names.iter().zip(row).filter(|(n, _)| *n == base).map(|(_, v)| v).sum();
                    (v, b)
                })
                .collect();
            by.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for (r, (v, b)) in by.iter().take(reasons.len()).enumerate() {
                if *v > 0.0 {
                    let base = bases[*b];
                    let value = shown(masked, x, base, i);
                    reasons[r][i] = Some(if self.is_amount() {
                        format!("{base} = {value} raises {what} ({v:+.4})")
                    } else {
                        format!("{base} = {value} raises {what} ({v:+.4} {scale})")
                    });
                }
            }
        }
        Ok(())
    }

    /// A NaN or infinite PD or score is an error naming the model and the first such row.
    fn check_finite(&self, what: &str, v: &[f64], first_row: u64, file: &str) -> Result<()> {
        match riskpipe_core::stats::first_non_finite(v) {
            None => Ok(()),
            Some(i) => Err(Error::data(
                file,
                Some(first_row + i as u64 + 1),
                None,
                format!(
                    "the {} model gives a {what} of {} for this row; check the row's values",
                    self.info.model, v[i]
                ),
            )),
        }
    }

    /// [`Scorer::id_column`], moved out of the masked rows rather than copied.
    fn take_id(&self, masked: &mut Frame, n: usize, first_row: u64, file: &str) -> Result<Column> {
        if let Some(c) = self.info.id.as_ref().and_then(|id| masked.remove(id)) {
            return Ok(c);
        }
        self.id_column(masked, n, first_row, file)
    }

    /// The id column of the output: the (masked) id, or row numbers from `first_row`.
    fn id_column(&self, masked: &Frame, n: usize, first_row: u64, file: &str) -> Result<Column> {
        match &self.info.id {
            Some(id) => masked.get(id).cloned().ok_or_else(|| Error::ColumnNotFound {
                file: file.to_string(),
                column: id.clone(),
                hint: "; it is the bundle's id column, and the masking plan must not drop it".into(),
            }),
            None => Ok(Column::Number((0..n).map(|i| (first_row + i as u64) as f64).collect())),
        }
    }

    /// A detector bundle's output: the anomaly score, the flag, and as reasons the features
    /// with the largest part in each row's unusualness (a feature's missing flag counted with
    /// it), with their values.
    fn score_anomalies(&self, x: &Frame, masked: &Frame, first_row: u64, file: &str, explain: bool) -> Result<Frame> {
        let cols = riskpipe_models::feature_columns(x, self.model.features())?;
        let score = self.model.predict(&cols);
        self.check_finite("anomaly score", &score, first_row, file)?;
        let threshold = self.info.flag_threshold.unwrap_or(f64::INFINITY);
        let n = score.len();
        let k = self.reasons();
        let mut reasons: Vec<Vec<Option<String>>> = vec![vec![None; n]; k];
        if explain && k > 0 {
            let bases: Vec<String> = self
                .model
                .features()
                .iter()
                .map(|c| riskpipe_core::names::detector_feature(c).to_string())
                .collect();
            let parts = self.model.explain(&cols).unwrap_or_default();
            for (i, row) in parts.iter().enumerate() {
                let mut by: Vec<(String, f64)> = Vec::new();
                for (b, v) in bases.iter().zip(row) {
                    match by.iter_mut().find(|e| &e.0 == b) {
                        Some(e) => e.1 += v.max(0.0),
                        None => by.push((b.clone(), v.max(0.0))),
                    }
                }
                let total: f64 = by.iter().map(|e| e.1).sum();
                by.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                for (r, (f, v)) in by.iter().take(k).enumerate() {
                    if *v > 0.0 {
                        let value = shown(masked, x, f, i);
                        reasons[r][i] = Some(format!(
                            "{f} = {value} is unusual ({:.0}% of the attribution)",
                            100.0 * v / total
                        ));
                    }
                }
            }
        }
        let mut out = Frame::new();
        let names = self.output_names();
        out.push(names[0].clone(), self.id_column(masked, n, first_row, file)?);
        let flagged: Vec<f64> = score.iter().map(|s| f64::from(u8::from(*s >= threshold))).collect();
        for (name, col) in names[1..].iter().zip(
            [Column::Number(score), Column::Number(flagged)]
                .into_iter()
                .chain(reasons.into_iter().map(Column::Text)),
        ) {
            out.push(name.clone(), col);
        }
        Ok(out)
    }

    /// Scores raw rows; reason codes only when `explain` (the deploy stage's check needs PDs).
    pub fn score_with(&self, raw: &Frame, first_row: u64, file: &str, explain: bool) -> Result<Frame> {
        self.check_inputs(raw, file)?;
        let masked = riskpipe_privacy::apply(&self.plan, raw, self.key.as_deref(), file)?;
        if self.is_amount() {
            let masked = self.with_events(masked, file, first_row)?;
            let x = self.transform.apply(&masked, file)?;
            return Ok(self.score_amounts(raw, (&x, &masked), first_row, file, explain)?.0);
        }
        self.score_masked(masked, first_row, file, explain)
    }

    /// [`Scorer::score`] of rows it may consume: bulk scoring moves the columns through the
    /// masking plan and into the output rather than copying them. Same bits as `score`.
    pub fn score_owned(&self, raw: Frame, first_row: u64, file: &str) -> Result<Frame> {
        if self.is_amount() {
            return self.score(&raw, first_row, file);
        }
        self.check_inputs(&raw, file)?;
        let masked = riskpipe_privacy::apply_owned(&self.plan, raw, self.key.as_deref(), file)?;
        self.score_masked(masked, first_row, file, true)
    }

    /// Scores rows already through the masking plan (not of an amount bundle): the model step
    /// alone, transform, model and points, as `bench/score_speed.sh` times it. Without reason
    /// codes only the model's own input columns are computed.
    pub fn score_masked(&self, masked: Frame, first_row: u64, file: &str, explain: bool) -> Result<Frame> {
        let masked = self.with_events(masked, file, first_row)?;
        self.score_with_events(masked, first_row, file, explain)
    }

    /// Raw rows through the bundle's checks and masking plan, consumed: the first step of
    /// [`Scorer::score_owned`], for a caller that adds the window features itself.
    pub fn mask_owned(&self, raw: Frame, file: &str) -> Result<Frame> {
        self.check_inputs(&raw, file)?;
        riskpipe_privacy::apply_owned(&self.plan, raw, self.key.as_deref(), file)
    }

    /// The window features a caller computes in event order before
    /// [`Scorer::score_with_events`], if any: those of a bundle with window features, but an
    /// amount bundle, which [`Scorer::score_with`] gives its windows per batch.
    pub fn event_order(&self) -> Option<&riskpipe_features::events::EventSpec> {
        self.info.events.as_ref().filter(|_| !self.is_amount())
    }

    /// [`Scorer::score_masked`] of rows that already hold the bundle's window features (from
    /// [`riskpipe_features::event_state::EventState`], as event-order scoring computes them).
    pub fn score_with_events(&self, masked: Frame, first_row: u64, file: &str, explain: bool) -> Result<Frame> {
        if self.is_detector() {
            let x = self.transform.apply(&masked, file)?;
            return self.score_anomalies(&x, &masked, first_row, file, explain);
        }
        let x = if explain && self.reasons() > 0 {
            self.transform.apply(&masked, file)?
        } else {
            self.transform.apply_only(&masked, file, self.model.features())?
        };
        self.score_pd(&x, masked, first_row, file, explain)
    }

    /// The raw rows after the bundle's masking plan, with the columns it reads (a dropped column
    /// is left out): what an audit log may keep, never raw personal data the plan masks.
    pub fn masked_inputs(&self, raw: &Frame, file: &str) -> Result<Frame> {
        self.check_inputs(raw, file)?;
        let masked = riskpipe_privacy::apply(&self.plan, raw, self.key.as_deref(), file)?;
        let masked = self.with_events(masked, file, 0)?;
        Ok(self.inputs_of(&masked))
    }

    /// The columns of masked rows (holding the window features, if any) that
    /// [`Scorer::masked_inputs`] keeps.
    pub(crate) fn inputs_of(&self, masked: &Frame) -> Frame {
        let mut out = Frame::new();
        let events = self
            .info
            .events
            .iter()
            .flat_map(riskpipe_features::events::EventSpec::feature_names);
        for name in self.info.inputs.iter().map(|c| c.name.clone()).chain(events) {
            if let Some(col) = masked.get(&name) {
                out.push(name, col.clone());
            }
        }
        out
    }

    /// `masked` with the bundle's window features added, when it has any: computed over the
    /// rows given, in the order given (the batch holds the history the windows look back on).
    fn with_events(&self, mut masked: Frame, file: &str, first_row: u64) -> Result<Frame> {
        let Some(spec) = &self.info.events else {
            return Ok(masked);
        };
        let seconds = riskpipe_features::events::timestamps(&masked, &spec.time_column, file, first_row)?;
        let cols =
            riskpipe_features::events::event_features(&masked, &seconds, &spec.windows, spec.label.as_deref(), file)?;
        for (n, c) in cols {
            masked.push(n, c);
        }
        Ok(masked)
    }

    /// What the masked rows (from [`Scorer::masked_inputs`]) hold that training never saw.
    pub fn check_inputs_seen(&self, masked: &Frame) -> crate::checks::InputCheck {
        crate::checks::check(&self.transform, masked)
    }

    /// Every input the bundle reads is in `raw`, of its kind.
    fn check_inputs(&self, raw: &Frame, file: &str) -> Result<()> {
        for c in &self.info.inputs {
            match raw.get(&c.name) {
                None => {
                    return Err(Error::ColumnNotFound {
                        file: file.to_string(),
                        column: c.name.clone(),
                        hint: "; the bundle needs it".into(),
                    });
                }
                Some(col) if col.kind() != c.kind => {
                    return Err(Error::data(
                        file,
                        None,
                        Some(&c.name),
                        format!("expected {:?} values, found {:?}", c.kind, col.kind()).to_lowercase(),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A scorecard's points per row and, as reason codes, the features that lost the most points
    /// against their best bin (`idx`: each scorecard feature's place in the transform).
    fn points_with_reasons(
        &self,
        sc: &Scorecard,
        (idx, located): (&[usize], &Locator<'_>),
        score: &mut [f64],
        reasons: &mut [Vec<Option<String>>],
    ) {
        let k = reasons.len();
        for (i, s) in score.iter_mut().enumerate() {
            let bins = located.row(i);
            let mut total = 0i64;
            let mut lost: Vec<(i64, usize)> = Vec::with_capacity(sc.features.len());
            for (j, f) in sc.features.iter().enumerate() {
                let p = sc.points(j, bins[idx[j]]);
                total += p;
                lost.push((f.max_points - p, j));
            }
            *s = total as f64;
            lost.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for (r, (l, j)) in lost.iter().take(k).enumerate() {
                // Every scorecard feature has a binning (checked at load).
                if let (true, Some(b)) = (*l > 0, &self.transform.features[idx[*j]].binning) {
                    reasons[r][i] = Some(sc.describe(*j, b, bins[idx[*j]]));
                }
            }
        }
    }

    /// A credit bundle's output: PD, points and reason codes.
    fn score_pd(&self, x: &Frame, mut masked: Frame, first_row: u64, file: &str, explain: bool) -> Result<Frame> {
        let mut pd = self.model.predict_frame(x)?;
        if let Some(c) = &self.calibration {
            for p in &mut pd {
                *p = c.apply(*p);
            }
        }
        self.check_finite("PD", &pd, first_row, file)?;
        let n = pd.len();
        let mut score = vec![0.0; n];
        let k = self.reasons();
        let mut reasons: Vec<Vec<Option<String>>> = vec![vec![None; n]; k];
        let is_logistic = self.model.logistic().is_some();
        if explain && k > 0 && !is_logistic {
            self.shap_reasons(x, &masked, &mut reasons)?;
        }
        match &self.scorecard {
            Some(sc) => {
                // Every scorecard feature is in the transform (checked at load).
                let idx: Vec<usize> = sc
                    .features
                    .iter()
                    .filter_map(|f| self.transform.features.iter().position(|t| t.name == f.feature))
                    .collect();
                let located = self.transform.locator(&masked, file)?;
                if explain && is_logistic && k > 0 {
                    self.points_with_reasons(sc, (&idx, &located), &mut score, &mut reasons);
                } else if is_logistic {
                    // The points summed feature by feature: no per-row work beyond the bin lookup.
                    let mut total = vec![0i64; n];
                    for (j, fi) in idx.iter().enumerate() {
                        for (i, t) in total.iter_mut().enumerate() {
                            *t += sc.points(j, located.bin(*fi, i));
                        }
                    }
                    for (s, t) in score.iter_mut().zip(total) {
                        *s = t as f64;
                    }
                } else {
                    // A PD model's score comes from its PD.
                    for (s, p) in score.iter_mut().zip(&pd) {
                        *s = sc.score_from_pd(*p) as f64;
                    }
                }
            }
            None => {
                let s = self.info.scaling.clone().unwrap_or_default();
                for (sc, p) in score.iter_mut().zip(&pd) {
                    *sc = s.points(*p) as f64;
                }
            }
        }
        self.check_finite("score", &score, first_row, file)?;
        let names = self.output_names();
        let mut out = Frame::new();
        out.push(names[0].clone(), self.take_id(&mut masked, n, first_row, file)?);
        for (name, col) in names[1..].iter().zip(
            [Column::Number(pd), Column::Number(score)]
                .into_iter()
                .chain(reasons.into_iter().map(Column::Text)),
        ) {
            out.push(name.clone(), col);
        }
        Ok(out)
    }
}

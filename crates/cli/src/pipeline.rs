//! The pipeline file: parsed straight from the text, every section checked, all problems
//! collected before failing.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use riskpipe_core::{Error, Task};
use riskpipe_deploy::{DeployConfig, DeployParams};
use riskpipe_evaluate::{EvaluateConfig, EvaluateParams};
use riskpipe_features::{FeaturesConfig, FeaturesParams, ScorecardConfig};
use riskpipe_ingest::{IngestConfig, IngestParams};
use riskpipe_privacy::{PrivacyConfig, PrivacyParams};
use riskpipe_train::{TrainConfig, TrainParams};

/// A pipeline file, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Format version; must be 1.
    pub version: u32,
    /// Pipeline name (run folders live under `runs/<name>/`).
    pub name: String,
    /// `credit_scoring`, `default_prediction` or `anomaly_detection`.
    pub task: Task,
    /// Seed for every random choice (default 42).
    pub seed: Option<u64>,
    /// The data source.
    pub data: IngestConfig,
    /// Masking.
    pub privacy: Option<PrivacyConfig>,
    /// Feature engineering.
    pub features: Option<FeaturesConfig>,
    /// Training.
    pub train: Option<TrainConfig>,
    /// Evaluation.
    pub evaluate: Option<EvaluateConfig>,
    /// Scorecard scaling (base score, base odds, points to double the odds).
    pub scorecard: Option<ScorecardConfig>,
    /// Deployment.
    pub deploy: Option<DeployConfig>,
    /// Loss prediction's keys.
    pub loss: Option<riskpipe_ingest::LossConfig>,
}

/// A checked pipeline: every stage's canonical parameters.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Name.
    pub name: String,
    /// Task.
    pub task: Task,
    /// Seed.
    pub seed: u64,
    /// Ingest parameters.
    pub ingest: IngestParams,
    /// Privacy parameters.
    pub privacy: PrivacyParams,
    /// Features parameters.
    pub features: FeaturesParams,
    /// Train parameters.
    pub train: TrainParams,
    /// Evaluate parameters.
    pub evaluate: EvaluateParams,
    /// Deploy parameters.
    pub deploy: DeployParams,
}

/// Reads and checks a pipeline file. On failure returns every problem found, with the file's
/// text so that callers can point at lines.
pub fn load(path: &Path) -> Result<Pipeline, (Vec<Error>, String)> {
    let file = path.display().to_string();
    let text = read_text(path).map_err(|e| (vec![e], String::new()))?;
    let (raw, mut parse_errs, set_aside) = riskpipe_core::yaml::parse_all::<PipelineFile>(&file, &text);
    let Some(raw) = raw else {
        return Err((parse_errs, text));
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    let base = std::path::absolute(&base).unwrap_or(base);
    let mut errs = Vec::new();
    if raw.version != 1 {
        errs.push(Error::config(
            &file,
            "version",
            format!("unsupported version {}, expected 1", raw.version),
        ));
    }
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        errs.push(Error::config(
            &file,
            "name",
            "use letters, digits, `_` and `-` only (it names the run folder)",
        ));
    }
    let seed = raw.seed.unwrap_or(42);
    // The task decides the kind of target, and so what `data` names and how rows are split and
    // folded.
    let target = raw.task.target();
    let mut loss = raw.loss;
    let book = book_spec(&file, &base, raw.task, loss.as_mut(), &mut errs);
    let ingest = take(&mut errs, raw.data.resolve(&file, &base, seed, target, loss));
    let privacy = take(&mut errs, raw.privacy.unwrap_or_default().resolve(&file, &raw.name));
    let features = take(&mut errs, raw.features.unwrap_or_default().resolve(&file, seed)).map(|f| f.for_target(target));
    let scorecard = take(&mut errs, raw.scorecard.unwrap_or_default().resolve(&file));
    let train = take(&mut errs, raw.train.unwrap_or_default().resolve(&file, seed, target))
        .map(|t| t.with_scorecard(scorecard.clone().unwrap_or_default()));
    // The features stage carries the weight column into the matrices the train stage reads.
    let features = features.map(|f| {
        let t = train.as_ref();
        f.carrying(t.and_then(|t| t.weight.clone()), t.and_then(|t| t.stratify.clone()))
    });
    let anonymity_cost = raw.evaluate.as_ref().and_then(|e| e.anonymity_cost);
    let evaluate = take(
        &mut errs,
        raw.evaluate
            .unwrap_or_default()
            .resolve(&file, &raw.name, raw.task, seed),
    )
    .map(|e| riskpipe_evaluate::EvaluateParams {
        book: book.clone(),
        ..e
    });
    let deploy = scorecard
        .and_then(|sc| take(&mut errs, raw.deploy.unwrap_or_default().resolve(&file, sc)))
        .map(|d| DeployParams { book, ..d });
    if let (Some(i), Some(pr)) = (&ingest, &privacy) {
        errs.extend(cross_checks(&file, i, pr));
    }
    // The AUC cost of k-anonymity: the selected family refitted without the generalisation.
    let evaluate = match (evaluate, &privacy, &features, &train) {
        (Some(ev), Some(pr), Some(f), Some(t)) => {
            if t.metric == Some(riskpipe_metrics::Metric::CardPrecision) && f.periods.is_none() {
                errs.push(Error::config(
                    &file,
                    "train.metric",
                    "`card_precision` ranks each validation day's cards: it needs events split by `features.split: periods` (with `features.periods.card`)",
                ));
            }
            if f.windows.is_some() && ev.robustness.is_some() {
                errs.push(Error::config(
                    &file,
                    "evaluate.robustness",
                    "stress scenarios re-score test rows one by one; window features (`features.windows`) are computed from the events before each row, so a pipeline with them cannot be stressed this way",
                ));
            }
            let cost = riskpipe_evaluate::anonymity_cost::CostParams::of(pr, f, t).map(Box::new);
            if cost.is_none() && anonymity_cost == Some(true) {
                errs.push(Error::config(
                    &file,
                    "evaluate.anonymity_cost",
                    "needs `privacy.k_anonymity` (the cost is that of its generalisation)",
                ));
            }
            let wanted = anonymity_cost != Some(false) && raw.task.target() == riskpipe_core::Target::Binary;
            Some(EvaluateParams {
                anonymity_cost: cost.filter(|_| wanted),
                ..ev
            })
        }
        (ev, ..) => ev,
    };
    if let (Some(d), Some(pr), Some(ev)) = (&deploy, &privacy, &evaluate) {
        for col in &d.actionable {
            let why = if ev.protected.contains(col) {
                Some("it is a protected attribute (`evaluate.protected`)")
            } else if pr
                .columns
                .get(col)
                .is_some_and(|a| *a != riskpipe_privacy::Action::Keep)
            {
                Some("it is masked under `privacy.columns`")
            } else if col.eq_ignore_ascii_case("age") {
                Some("an applicant cannot change their age")
            } else {
                None
            };
            if let Some(why) = why {
                errs.push(Error::config(
                    &file,
                    format!("deploy.actionable.{col}"),
                    format!("`{col}` cannot be actionable: {why}"),
                ));
            }
        }
    }
    // A problem of a key that was set aside (or of its section) would only repeat it.
    let related = |k: &str| {
        set_aside
            .iter()
            .any(|r| !r.is_empty() && (k.starts_with(r.as_str()) || r.starts_with(k)))
    };
    errs.retain(|e| !matches!(e, Error::Config { key, .. } if related(key)));
    parse_errs.append(&mut errs);
    if !parse_errs.is_empty() {
        return Err((parse_errs, text));
    }
    Ok(Pipeline {
        name: raw.name,
        task: raw.task,
        seed,
        ingest: ingest.expect("checked"),
        privacy: privacy.expect("checked"),
        features: features.expect("checked"),
        train: train.expect("checked"),
        evaluate: evaluate.expect("checked"),
        deploy: deploy.expect("checked"),
    })
}

/// The pipeline file's text: a missing file, a folder or a file that is not text are user errors
/// naming it.
fn read_text(path: &Path) -> Result<String, Error> {
    riskpipe_core::io::check_is_file(path)?;
    let bytes = fs_err::read(path)?;
    String::from_utf8(bytes).map_err(|e| {
        Error::data(
            path.display().to_string(),
            None,
            None,
            format!(
                "is not a text file (invalid UTF-8 at byte {}); a pipeline file is YAML text",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// `loss.book` and `loss.pd_bundle`, taken out of the `loss:` section (ingest reads the rest):
/// they need each other, and apply to LGD models only.
fn book_spec(
    file: &str,
    base: &Path,
    task: Task,
    loss: Option<&mut riskpipe_ingest::LossConfig>,
    errs: &mut Vec<Error>,
) -> Option<riskpipe_portfolio::config::BookSpec> {
    let loss = loss?;
    let (pd_bundle, book) = (loss.pd_bundle.take(), loss.book.take());
    let Some(book) = book else {
        if pd_bundle.is_some() {
            errs.push(Error::config(
                file,
                "loss.pd_bundle",
                "is read with `loss.book` (expected loss, IFRS 9 and IRB over the book); add that section or remove the key",
            ));
        }
        return None;
    };
    if task != Task::LossPrediction || loss.target == Some(riskpipe_ingest::LossTarget::Ccf) {
        errs.push(Error::config(
            file,
            "loss.book",
            "applies to an LGD model (`task: loss_prediction` with `loss.target: lgd`)",
        ));
        return None;
    }
    take(errs, book.resolve(file, base, pd_bundle))
}

/// Checks that need two sections at once.
fn cross_checks(file: &str, ingest: &IngestParams, privacy: &PrivacyParams) -> Vec<Error> {
    let mut errs = Vec::new();
    for (role, col) in [("id", &ingest.id), ("target", &ingest.target), ("label", &ingest.label)] {
        let Some(col) = col else { continue };
        match privacy.columns.get(col) {
            Some(riskpipe_privacy::Action::Drop) if role == "id" => errs.push(Error::config(
                file,
                format!("privacy.columns.{col}.action"),
                format!("`{col}` is `data.id`, which keys every output row; dropping it would leave scores without ids: use `hash` to pseudonymise it, or remove `data.id`"),
            )),
            Some(a) if role == "target" && *a != riskpipe_privacy::Action::Keep => errs.push(Error::config(
                file,
                format!("privacy.columns.{col}.action"),
                format!("`{col}` is `data.target`, which the models learn; it cannot be masked"),
            )),
            Some(a) if role == "label" && *a != riskpipe_privacy::Action::Keep => errs.push(Error::config(
                file,
                format!("privacy.columns.{col}.action"),
                format!("`{col}` is `data.label`, which the evaluation reads; it cannot be masked"),
            )),
            _ => {}
        }
    }
    errs
}

fn take<T>(errs: &mut Vec<Error>, r: Result<T, Vec<Error>>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(mut e) => {
            errs.append(&mut e);
            None
        }
    }
}

/// Finds the (1-based) line and column of a dotted key path in YAML text, by indentation.
pub fn locate_key(text: &str, key: &str) -> Option<(usize, usize)> {
    let parts: Vec<&str> = key.split('.').collect();
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut min_indent = 0;
    let mut found = None;
    for part in parts {
        found = None;
        for (i, l) in lines.iter().enumerate().skip(start) {
            let t = l.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let ind = l.len() - t.len();
            if ind < min_indent && i > start {
                break;
            }
            if t.starts_with(&format!("{part}:")) || t.starts_with(&format!("\"{part}\":")) {
                found = Some((i + 1, ind + 1));
                start = i + 1;
                min_indent = ind + 1;
                break;
            }
        }
        found?;
    }
    found
}

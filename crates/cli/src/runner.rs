//! The pipeline runner: fingerprints, skipping, atomic stage folders, manifests, verify.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use riskpipe_core::hash::artifact_sha256;
use riskpipe_core::manifest::{FileRecord, Manifest, code_version, fingerprint, now_rfc3339};
use riskpipe_core::stage::{Input, STAGES, StageInputs, StageReport};
use riskpipe_core::{Error, Result};

use crate::pipeline::Pipeline;
use crate::{lock, retention};

/// Whether the one-line stage summaries go to stderr (text logs, not `-q`). With
/// `--log-format json` the same facts travel in the `Stage finished.` events instead.
pub static PLAIN_SUMMARY: AtomicBool = AtomicBool::new(true);

fn plain(line: &str) {
    if PLAIN_SUMMARY.load(Ordering::Relaxed) {
        eprintln!("{line}");
    }
}

/// One stage's parameters, ready to run.
#[derive(Debug, Clone)]
pub enum StageParams {
    /// ingest
    Ingest(riskpipe_ingest::IngestParams),
    /// privacy
    Privacy(riskpipe_privacy::PrivacyParams),
    /// features
    Features(riskpipe_features::FeaturesParams),
    /// train
    Train(riskpipe_train::TrainParams),
    /// evaluate
    Evaluate(riskpipe_evaluate::EvaluateParams),
    /// deploy
    Deploy(riskpipe_deploy::DeployParams),
}

impl StageParams {
    /// The parameters of stage `name` of a pipeline.
    pub fn of(p: &Pipeline, name: &str) -> Result<StageParams> {
        Ok(match name {
            "ingest" => StageParams::Ingest(p.ingest.clone()),
            "privacy" => StageParams::Privacy(p.privacy.clone()),
            "features" => StageParams::Features(p.features.clone()),
            "train" => StageParams::Train(p.train.clone()),
            "evaluate" => StageParams::Evaluate(p.evaluate.clone()),
            "deploy" => StageParams::Deploy(p.deploy.clone()),
            other => return Err(Error::Internal(format!("no stage `{other}`"))),
        })
    }

    /// Rebuilds parameters from a manifest's JSON.
    pub fn from_json(stage: &str, v: &serde_json::Value) -> Result<StageParams> {
        let bad = |e: serde_json::Error| {
            Error::Internal(format!(
                "manifest of `{stage}` has parameters this version cannot read: {e}"
            ))
        };
        Ok(match stage {
            "ingest" => StageParams::Ingest(serde_json::from_value(v.clone()).map_err(bad)?),
            "privacy" => StageParams::Privacy(serde_json::from_value(v.clone()).map_err(bad)?),
            "features" => StageParams::Features(serde_json::from_value(v.clone()).map_err(bad)?),
            "train" => StageParams::Train(serde_json::from_value(v.clone()).map_err(bad)?),
            "evaluate" => StageParams::Evaluate(serde_json::from_value(v.clone()).map_err(bad)?),
            "deploy" => StageParams::Deploy(serde_json::from_value(v.clone()).map_err(bad)?),
            other => {
                return Err(Error::Internal(format!("unknown stage `{other}` in manifest")));
            }
        })
    }

    /// Canonical JSON (recorded and hashed).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            StageParams::Ingest(p) => serde_json::to_value(p),
            StageParams::Privacy(p) => serde_json::to_value(p),
            StageParams::Features(p) => serde_json::to_value(p),
            StageParams::Train(p) => serde_json::to_value(p),
            StageParams::Evaluate(p) => serde_json::to_value(p),
            StageParams::Deploy(p) => serde_json::to_value(p),
        }
        .expect("parameters serialise")
    }

    fn inputs(&self) -> Vec<Input> {
        match self {
            StageParams::Ingest(p) => riskpipe_ingest::inputs(p),
            StageParams::Privacy(p) => riskpipe_privacy::inputs(p),
            StageParams::Features(p) => riskpipe_features::inputs(p),
            StageParams::Train(p) => riskpipe_train::inputs(p),
            StageParams::Evaluate(p) => riskpipe_evaluate::inputs(p),
            StageParams::Deploy(p) => riskpipe_deploy::inputs(p),
        }
    }

    fn run(&self, inputs: &StageInputs, out: &Path, pipeline: &str) -> Result<StageReport> {
        match self {
            StageParams::Ingest(p) => riskpipe_ingest::run(p, inputs, out),
            StageParams::Privacy(p) => riskpipe_privacy::run(p, inputs, out),
            StageParams::Features(p) => riskpipe_features::run(p, inputs, out),
            StageParams::Train(p) => riskpipe_train::run(p, inputs, out),
            StageParams::Evaluate(p) => riskpipe_evaluate::run(p, inputs, out),
            StageParams::Deploy(p) => riskpipe_deploy::run(p, inputs, out, pipeline),
        }
    }
}

/// Identity of a run, recorded in every manifest.
#[derive(Debug, Clone)]
pub struct RunId {
    /// Pipeline name.
    pub pipeline: String,
    /// Run id (the run folder's name).
    pub run_id: String,
    /// Pipeline seed.
    pub seed: u64,
}

/// What happened to a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ran and wrote its folder.
    Ran,
    /// Fingerprint matched: nothing to do.
    Skipped,
}

/// Hashes a stage's declared inputs. Missing artifacts are user errors naming the stage to run.
fn input_records(stage: &str, inputs: &[Input], run_dir: &Path) -> Result<Vec<FileRecord>> {
    let mut recs = Vec::new();
    for i in inputs {
        match i {
            Input::Artifact(rel) => {
                let p = run_dir.join(rel);
                if let Some(sha256) = retention::recorded_sha(run_dir, rel)? {
                    recs.push(FileRecord {
                        path: rel.clone(),
                        sha256,
                        rows: None,
                    });
                    continue;
                }
                if !p.exists() {
                    let need = rel.split('/').next().unwrap_or(rel);
                    return Err(Error::MissingInput {
                        path: p,
                        hint: Some(format!(
                            "stage `{stage}` needs the output of stage `{need}`; run `--stage {need}` first (or the whole pipeline)"
                        )),
                    });
                }
                recs.push(FileRecord {
                    path: rel.clone(),
                    sha256: artifact_sha256(&p)?,
                    rows: None,
                });
            }
            Input::OptionalArtifact(rel) => {
                let p = run_dir.join(rel);
                if p.exists() {
                    recs.push(FileRecord {
                        path: rel.clone(),
                        sha256: artifact_sha256(&p)?,
                        rows: None,
                    });
                }
            }
            Input::External(p, key) => {
                riskpipe_core::io::check_is_file(p).map_err(|e| match e {
                    Error::MissingInput { path, .. } => Error::MissingInput {
                        path,
                        hint: Some(format!("check `{key}` in the pipeline file")),
                    },
                    e => e,
                })?;
                recs.push(FileRecord {
                    path: p.display().to_string(),
                    sha256: artifact_sha256(p)?,
                    rows: None,
                });
            }
        }
    }
    recs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(recs)
}

/// Every file under a stage folder but its own `manifest.json`, as `(path, relative name)`.
fn stage_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p != dir.join(MANIFEST) {
                let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                files.push((p, rel));
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

/// A stage folder's manifest file name.
const MANIFEST: &str = "manifest.json";

/// Every file under `dir`, relative, sorted, with sha256 and Parquet row counts.
fn output_records(dir: &Path, prefix: &str) -> Result<Vec<FileRecord>> {
    let mut recs = Vec::new();
    for (p, rel) in stage_files(dir)? {
        let rows = if rel.ends_with(".parquet") {
            Some(riskpipe_core::io::parquet_rows(&p)?)
        } else {
            None
        };
        recs.push(FileRecord {
            path: format!("{prefix}/{rel}"),
            sha256: artifact_sha256(&p)?,
            rows,
        });
    }
    recs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(recs)
}

/// Whether a finished stage folder still matches its manifest (fingerprint and outputs).
fn up_to_date(stage_dir: &Path, run_dir: &Path, fp: &str) -> Result<bool> {
    let Some(m) = Manifest::load(stage_dir)? else {
        return Ok(false);
    };
    if m.fingerprint != fp {
        return Ok(false);
    }
    for o in &m.outputs {
        if retention::recorded_sha(run_dir, &o.path)?.is_some_and(|sha| sha == o.sha256) {
            continue; // left the run folder after the privacy stage
        }
        let p = run_dir.join(&o.path);
        if !p.exists() || artifact_sha256(&p)? != o.sha256 {
            return Ok(false);
        }
    }
    Ok(true)
}

fn spinner(stage: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(format!("stage {stage}"));
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(pb)
}

/// Re-executes, into `scratch`, each input that left the run folder (the raw table after the
/// privacy stage), by its relative path.
fn removed_inputs(inputs: &[Input], run_dir: &Path, scratch: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let mut elsewhere = BTreeMap::new();
    for i in inputs {
        if let Input::Artifact(rel) | Input::OptionalArtifact(rel) = i {
            let Some(removed) = retention::removed(run_dir, rel)? else {
                continue;
            };
            // Re-execute the stage that wrote it from the parameters its manifest recorded.
            let stage = rel.split('/').next().unwrap_or(rel);
            let m = Manifest::load(&run_dir.join(stage))?.ok_or_else(|| Error::MissingInput {
                path: run_dir.join(stage).join(MANIFEST),
                hint: Some(format!(
                    "`{rel}` left the run folder and is re-executed from stage `{stage}`'s manifest; rerun the pipeline from `{stage}`"
                )),
            })?;
            let id = RunId {
                pipeline: m.pipeline.clone(),
                run_id: m.run_id.clone(),
                seed: m.seed,
            };
            tracing::info!(file = %rel, "Re-executing `{stage}` for a file that left the run folder.");
            fs_err::create_dir_all(scratch)?;
            run_stage(stage, &StageParams::from_json(stage, &m.params)?, scratch, &id, true)?;
            let path = scratch.join(rel);
            retention::check_regenerated(run_dir, rel, stage, &path, &removed)?;
            elsewhere.insert(rel.clone(), path);
        }
    }
    Ok(elsewhere)
}

/// Runs one stage into `run_dir/<stage>` unless it is up to date (or `force`).
pub fn run_stage(stage: &str, params: &StageParams, run_dir: &Path, id: &RunId, force: bool) -> Result<Outcome> {
    let span = tracing::info_span!("stage", stage);
    let _g = span.enter();
    let inputs = input_records(stage, &params.inputs(), run_dir)?;
    let pjson = params.to_json();
    let version = code_version();
    let fp = fingerprint(stage, &pjson, &inputs, &version);
    let stage_dir = run_dir.join(stage);
    if !force && up_to_date(&stage_dir, run_dir, &fp)? {
        tracing::info!(stage, "Stage skipped: up to date.");
        return Ok(Outcome::Skipped);
    }
    tracing::info!(stage, "Stage started.");
    let started_at = now_rfc3339();
    let t0 = Instant::now();
    let tmp = run_dir.join(format!(".{stage}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs_err::remove_dir_all(&tmp)?;
    }
    fs_err::create_dir_all(&tmp)?;
    let scratch = retention::scratch_dir(run_dir);
    let stage_inputs = match removed_inputs(&params.inputs(), run_dir, &scratch) {
        Ok(elsewhere) => StageInputs {
            run_dir: run_dir.to_path_buf(),
            elsewhere,
        },
        Err(e) => {
            let _ = fs_err::remove_dir_all(&tmp);
            let _ = fs_err::remove_dir_all(&scratch);
            return Err(e);
        }
    };
    let pb = spinner(stage);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        params.run(&stage_inputs, &tmp, &id.pipeline)
    }));
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if scratch.exists() {
        let _ = fs_err::remove_dir_all(&scratch);
    }
    // A panic (a bug; the hook has printed it) leaves no half-written folder behind either.
    let result = result.unwrap_or_else(|panic| {
        let _ = fs_err::remove_dir_all(&tmp);
        std::panic::resume_unwind(panic)
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs_err::remove_dir_all(&tmp);
            tracing::error!(stage, error = %e, "Stage failed.");
            return Err(e);
        }
    };
    let outputs = output_records(&tmp, stage)?;
    let secs = t0.elapsed().as_secs_f64();
    let manifest = Manifest {
        stage: stage.to_string(),
        pipeline: id.pipeline.clone(),
        run_id: id.run_id.clone(),
        version,
        git_commit: option_env!("RISKPIPE_GIT_COMMIT").map(str::to_string),
        seed: id.seed,
        params: pjson,
        inputs,
        outputs,
        fingerprint: fp,
        started_at,
        duration_secs: (secs * 1000.0).round() / 1000.0,
        timings: report
            .timings
            .iter()
            .map(|(k, v)| (k.clone(), (v * 1000.0).round() / 1000.0))
            .collect(),
    };
    riskpipe_core::io::write_json(&tmp.join("manifest.json"), &manifest)?;
    // Swap the finished folder into place.
    if stage_dir.exists() {
        let old = run_dir.join(format!(".{stage}.old-{}", std::process::id()));
        fs_err::rename(&stage_dir, &old)?;
        fs_err::rename(&tmp, &stage_dir)?;
        fs_err::remove_dir_all(&old)?;
    } else {
        fs_err::rename(&tmp, &stage_dir)?;
    }
    tracing::info!(stage, rows_in = report.rows_in, rows_out = report.rows_out, elapsed_secs = format!("{secs:.2}"), summary = %report.summary, "Stage finished.");
    plain(&format!(
        "{stage:>9}  {:>9} rows in  {:>9} rows out  {secs:>7.2} s  {}",
        report.rows_in, report.rows_out, report.summary
    ));
    Ok(Outcome::Ran)
}

/// Runs the pipeline (or one stage) in `run_dir`, holding the run folder's lock throughout.
/// A run that fails on a folder it created and left empty removes that folder again.
pub fn run_pipeline(
    p: &Pipeline,
    run_dir: &Path,
    run_id: &str,
    only: Option<&str>,
    force: bool,
    wait: lock::Wait,
) -> Result<Vec<(String, Outcome)>> {
    let created = first_missing_ancestor(run_dir);
    fs_err::create_dir_all(run_dir)?;
    let result = (|| {
        let _lock = lock::exclusive(run_dir, wait)?;
        remove_leftovers(run_dir)?;
        let ran = run_stages(p, run_dir, run_id, only, force);
        // The raw table leaves once privacy has masked it, whether or not a later stage failed.
        let retired = retention::retire_raw(run_dir, p.privacy.keep_raw);
        if retired.as_ref().is_ok_and(|r| *r) {
            plain(&format!(
                "{:>9}  raw table removed from the run folder now that privacy masked it (privacy.keep_raw: false)",
                "ingest"
            ));
        }
        let ran = ran?;
        retired?;
        Ok(ran)
    })();
    if let (Err(e), Some(top)) = (&result, created) {
        if !matches!(e, Error::Busy { .. }) {
            remove_empty_run_dir(run_dir, &top);
        }
    }
    result
}

fn run_stages(
    p: &Pipeline,
    run_dir: &Path,
    run_id: &str,
    only: Option<&str>,
    force: bool,
) -> Result<Vec<(String, Outcome)>> {
    let id = RunId {
        pipeline: p.name.clone(),
        run_id: run_id.to_string(),
        seed: p.seed,
    };
    let mut done = Vec::new();
    for stage in STAGES {
        if only.is_some_and(|o| o != stage) {
            continue;
        }
        let o = run_stage(stage, &StageParams::of(p, stage)?, run_dir, &id, force)?;
        if o == Outcome::Skipped {
            plain(&format!("{stage:>9}  skipped (up to date)"));
        }
        done.push((stage.to_string(), o));
    }
    Ok(done)
}

/// The outermost folder of `dir` that does not exist yet (what `create_dir_all` will create).
fn first_missing_ancestor(dir: &Path) -> Option<PathBuf> {
    let mut top = None;
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        top = Some(d.to_path_buf());
        cur = d.parent();
    }
    top
}

/// Removes `dir` (and its parents up to `top`) when nothing but the lock file is in it.
fn remove_empty_run_dir(dir: &Path, top: &Path) {
    let only_lock = fs_err::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).all(|e| e.file_name() == lock::LOCK_FILE))
        .unwrap_or(false);
    if !only_lock {
        return;
    }
    let _ = fs_err::remove_file(dir.join(lock::LOCK_FILE));
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if fs_err::remove_dir(d).is_err() || d == top {
            break;
        }
        cur = d.parent();
    }
}

/// Whether a process with this pid is alive (Linux: `/proc/<pid>`; elsewhere assumed gone).
fn process_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the temporary and superseded stage folders (`.<stage>.tmp-<pid>`, `.<stage>.old-<pid>`)
/// that a killed run left behind, and says so. Called under the run folder's lock.
fn remove_leftovers(run_dir: &Path) -> Result<()> {
    for e in fs_err::read_dir(run_dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.') else { continue };
        let Some((stage, pid)) = rest.split_once(".tmp-").or_else(|| rest.split_once(".old-")) else {
            continue;
        };
        let (true, Ok(pid)) = (STAGES.contains(&stage) || stage == "raw", pid.parse::<u32>()) else {
            continue;
        };
        if process_alive(pid) {
            tracing::warn!("Leaving {name}: process {pid} that wrote it is still running.");
            continue;
        }
        fs_err::remove_dir_all(e.path())?;
        tracing::warn!("Removed {name}, left by process {pid} that ended before finishing stage `{stage}`.");
        plain(&format!(
            "{stage:>9}  removed {name}, left behind by an interrupted run (process {pid})"
        ));
    }
    Ok(())
}

/// One difference found by [`verify`].
#[derive(Debug, Clone)]
pub struct Difference {
    /// The file, relative to the run folder.
    pub path: String,
    /// What differs.
    pub what: String,
}

/// Re-executes a run from its manifests in a scratch folder and compares every output.
/// Returns the differences (empty: the run reproduces byte for byte).
pub fn verify(run_dir: &Path, scratch: &Path) -> Result<Vec<Difference>> {
    let mut diffs = Vec::new();
    // Each stage folder with its manifest; a folder whose manifest is gone or unreadable ends
    // what can be re-executed, since later stages read its outputs.
    let mut manifests = Vec::new();
    let mut broken = None;
    for stage in STAGES {
        let dir = run_dir.join(stage);
        if !dir.is_dir() {
            continue;
        }
        let problem = match Manifest::load(&dir) {
            Ok(Some(m)) => {
                manifests.push((m, broken.is_none()));
                continue;
            }
            Ok(None) => "missing",
            Err(_) => "unreadable",
        };
        diffs.push(Difference {
            path: format!("{stage}/{MANIFEST}"),
            what: format!(
                "{problem}: the stage folder cannot be checked or re-executed; rerun it (`riskpipe run PIPELINE --stage {stage} --force`)"
            ),
        });
        broken.get_or_insert(stage);
    }
    if manifests.is_empty() && broken.is_none() {
        return Err(Error::MissingInput {
            path: run_dir.join("ingest").join(MANIFEST),
            hint: Some("`riskpipe verify` needs a run folder written by `riskpipe run`".into()),
        });
    }
    // 1. The files on disk are exactly the ones the manifests recorded.
    for (m, _) in &manifests {
        check_recorded(run_dir, m, &mut diffs)?;
    }
    // 2. Re-execute every stage from its recorded parameters into the scratch folder.
    fs_err::create_dir_all(scratch)?;
    for (m, runnable) in &manifests {
        if !runnable {
            diffs.push(Difference {
                path: format!("{}/", m.stage),
                what: format!(
                    "not re-executed: it reads the outputs of stage `{}`, whose manifest is {}",
                    broken.unwrap_or_default(),
                    "missing or unreadable"
                ),
            });
            continue;
        }
        reexecute(m, scratch, &mut diffs)?;
    }
    diffs.sort_by(|a, b| a.path.cmp(&b.path));
    diffs.dedup_by(|a, b| a.path == b.path && a.what == b.what);
    Ok(diffs)
}

/// Compares a stage folder with its manifest: recorded files present with their hashes, and no
/// file the manifest does not list.
fn check_recorded(run_dir: &Path, m: &Manifest, diffs: &mut Vec<Difference>) -> Result<()> {
    for o in &m.outputs {
        let p = run_dir.join(&o.path);
        if let Some(sha) = retention::recorded_sha(run_dir, &o.path)? {
            if sha != o.sha256 {
                diffs.push(Difference {
                    path: o.path.clone(),
                    what: format!(
                        "removed after the privacy stage with sha256 {} but manifest says {}",
                        &sha[..12.min(sha.len())],
                        &o.sha256[..12]
                    ),
                });
            }
            continue;
        }
        if !p.is_file() {
            diffs.push(Difference {
                path: o.path.clone(),
                what: "missing from the run folder".into(),
            });
            continue;
        }
        let h = artifact_sha256(&p)?;
        if h != o.sha256 {
            diffs.push(Difference {
                path: o.path.clone(),
                what: format!("on disk sha256 {} but manifest says {}", &h[..12], &o.sha256[..12]),
            });
        }
    }
    for (_, rel) in stage_files(&run_dir.join(&m.stage))? {
        let path = format!("{}/{rel}", m.stage);
        let marks_output = path
            .strip_suffix(riskpipe_core::manifest::Removed::SUFFIX)
            .is_some_and(|f| m.outputs.iter().any(|o| o.path == f));
        if !marks_output && !m.outputs.iter().any(|o| o.path == path) {
            diffs.push(Difference {
                path,
                what: "present in the stage folder but not in its manifest (added after the run)".into(),
            });
        }
    }
    Ok(())
}

/// Re-executes one stage from its manifest into `scratch` and compares inputs and outputs.
fn reexecute(m: &Manifest, scratch: &Path, diffs: &mut Vec<Difference>) -> Result<()> {
    let params = StageParams::from_json(&m.stage, &m.params)?;
    let id = RunId {
        pipeline: m.pipeline.clone(),
        run_id: m.run_id.clone(),
        seed: m.seed,
    };
    let inputs = input_records(&m.stage, &params.inputs(), scratch)?;
    for i in &m.inputs {
        match inputs.iter().find(|r| r.path == i.path) {
            Some(r) if r.sha256 == i.sha256 => {}
            Some(_) => diffs.push(Difference {
                path: i.path.clone(),
                what: format!("input of `{}` differs from the one recorded", m.stage),
            }),
            None => diffs.push(Difference {
                path: i.path.clone(),
                what: format!("input of `{}` is missing", m.stage),
            }),
        }
    }
    tracing::info!(stage = %m.stage, "Re-executing stage.");
    run_stage(&m.stage, &params, scratch, &id, true)?;
    let again = Manifest::load(&scratch.join(&m.stage))?
        .ok_or_else(|| Error::Internal(format!("re-executed stage `{}` wrote no manifest", m.stage)))?;
    for o in &m.outputs {
        match again.outputs.iter().find(|r| r.path == o.path) {
            Some(r) if r.sha256 == o.sha256 => {}
            Some(r) => diffs.push(Difference {
                path: o.path.clone(),
                what: format!(
                    "re-executed sha256 {} but manifest says {}",
                    &r.sha256[..12],
                    &o.sha256[..12]
                ),
            }),
            None => diffs.push(Difference {
                path: o.path.clone(),
                what: "not produced by the re-execution".into(),
            }),
        }
    }
    for r in &again.outputs {
        if !m.outputs.iter().any(|o| o.path == r.path) {
            diffs.push(Difference {
                path: r.path.clone(),
                what: "produced by the re-execution but not recorded".into(),
            });
        }
    }
    Ok(())
}

/// Default run folder: `runs/<pipeline>/<run_id>`.
pub fn default_run_dir(p: &Pipeline, run_id: &str) -> PathBuf {
    PathBuf::from("runs").join(&p.name).join(run_id)
}

//! The commands: each loads what it needs, calls the library crates and reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use riskpipe_core::{Error, ErrorClass};

use crate::pipeline::{self, Pipeline, locate_key};
use crate::runner;

/// A command's failure: one error, or every problem of a pipeline file.
#[derive(Debug)]
pub enum CliError {
    /// One error.
    One(Error),
    /// Problems of a pipeline file, with its text (to quote lines).
    Config(Vec<Error>, String),
    /// `verify` found differences (exit 1, already printed).
    Verify,
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::One(e)
    }
}

type CmdResult = Result<ExitCode, CliError>;

fn load(path: &Path) -> Result<Pipeline, CliError> {
    pipeline::load(path).map_err(|(errs, text)| CliError::Config(errs, text))
}

/// Prints an error (uv style: `error:`, `Caused by:`, `hint:`) and picks the exit code.
pub fn report_error(e: &CliError) -> ExitCode {
    let mut err = std::io::stderr().lock();
    match e {
        CliError::Verify => ExitCode::from(1),
        CliError::One(e) => {
            let _ = writeln!(err, "error: {e}");
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                let _ = writeln!(err, "  Caused by: {s}");
                src = s.source();
            }
            ExitCode::from(if e.class() == ErrorClass::User { 2 } else { 1 })
        }
        CliError::Config(errs, text) => {
            for e in errs {
                match e {
                    // A key the parser did not place: find its line in the text.
                    Error::Config {
                        file,
                        at: None,
                        key,
                        message,
                    } if !key.is_empty() => match locate_key(text, key) {
                        Some((line, col)) => {
                            let _ = writeln!(err, "error: {file}:{line}:{col}: {key}: {message}");
                            if let Some(l) = text.lines().nth(line - 1) {
                                let _ = writeln!(err, "  {line} | {l}");
                            }
                        }
                        None => {
                            let _ = writeln!(err, "error: {e}");
                        }
                    },
                    _ => {
                        let _ = writeln!(err, "error: {e}");
                    }
                }
            }
            let user = errs.iter().all(|e| e.class() == ErrorClass::User);
            ExitCode::from(if user { 2 } else { 1 })
        }
    }
}

fn out_line(s: &str) {
    // A closed stdout (`riskpipe ... | head`) is not a failure.
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{s}");
}

/// `riskpipe run`.
pub fn run(
    path: &Path,
    run_dir: Option<PathBuf>,
    run_id: &str,
    stage: Option<&str>,
    force: bool,
    quiet: bool,
    wait: bool,
) -> CmdResult {
    let p = load(path)?;
    if run_dir.is_none() {
        check_run_id(run_id)?;
    }
    let dir = run_dir.unwrap_or_else(|| runner::default_run_dir(&p, run_id));
    let run_id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| run_id.to_string());
    let t0 = std::time::Instant::now();
    let wait = if wait {
        crate::lock::Wait::Yes
    } else {
        crate::lock::Wait::No
    };
    let outcomes = runner::run_pipeline(&p, &dir, &run_id, stage, force, wait).map_err(|e| match e {
        // A stage raised a problem of a pipeline key: name the file, point at the key.
        Error::Config { file, key, message, .. } if file == riskpipe_core::PIPELINE_FILE => {
            let text = fs_err::read_to_string(path).unwrap_or_default();
            CliError::Config(vec![Error::config(path.display().to_string(), key, message)], text)
        }
        e => CliError::One(e),
    })?;
    if !quiet {
        summary(&p, &dir, &outcomes, t0.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(p: &Pipeline, dir: &Path, outcomes: &[(String, runner::Outcome)], secs: f64) {
    let ran = outcomes.iter().filter(|o| o.1 == runner::Outcome::Ran).count();
    let skipped = outcomes.len() - ran;
    out_line(&format!("pipeline   {} ({})", p.name, p.task));
    out_line(&format!("run folder {}", dir.display()));
    out_line(&format!("stages     {ran} ran, {skipped} skipped, {secs:.1} s"));
    if let Ok(q) = riskpipe_core::io::read_json::<serde_json::Value>(&dir.join("ingest/quality.json")) {
        let f: Option<serde_json::Value> = riskpipe_core::io::read_json(&dir.join("features/report.json")).ok();
        let split = f
            .map(|f| format!(" (train {}, test {})", f["train_rows"], f["test_rows"]))
            .unwrap_or_default();
        out_line(&format!("rows       {}{split}", q["rows_written"]));
    }
    if let Ok(m) = riskpipe_core::io::read_json::<riskpipe_evaluate::AnomalyMetrics>(&dir.join("evaluate/metrics.json"))
    {
        out_line("detector     test AUC  avg prec  prec@budget  flagged");
        for (name, d) in &m.detectors {
            let l = d.label.as_ref();
            let f = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
            out_line(&format!(
                "{:<12} {:>8} {:>9} {:>12} {:>7.2}%{}",
                name,
                f(l.map(|l| l.auc)),
                f(l.map(|l| l.average_precision)),
                f(l.map(|l| l.precision_at_budget)),
                100.0 * d.flagged_share_test,
                if name == &m.selected_model { "  <- deployed" } else { "" }
            ));
        }
        out_line(&format!("report     {}", dir.join("evaluate/report.html").display()));
    }
    if let Ok(m) = riskpipe_core::io::read_json::<riskpipe_evaluate::MetricsFile>(&dir.join("evaluate/metrics.json")) {
        out_line(&format!(
            "model        test AUC      KS    Gini  CV {}",
            m.cv_metric_label()
        ));
        for (name, mm) in &m.models {
            out_line(&format!(
                "{:<12} {:>8.4} {:>7.4} {:>7.4} {:>7}{}",
                name,
                mm.test.auc,
                mm.test.ks,
                mm.test.gini,
                mm.cv_auc.map(|v| format!("{v:.4}")).unwrap_or_default(),
                if name == &m.selected_model { "  <- selected" } else { "" }
            ));
        }
        if let Some(o) = &m.oracle {
            out_line(&format!(
                "{:<12} {:>8.4} {:>7.4} {:>7.4}   (true PD: the best achievable)",
                "oracle", o.auc, o.ks, o.gini
            ));
        }
        out_line(&format!("report     {}", dir.join("evaluate/report.html").display()));
    }
    if dir.join("deploy/bundle/bundle.json").exists() {
        out_line(&format!("bundle     {}", dir.join("deploy/bundle").display()));
    }
}

/// The run id names a folder under `runs/<name>/`: the same characters as a pipeline name, so
/// that it can never reach outside it.
fn check_run_id(run_id: &str) -> Result<(), CliError> {
    if run_id.is_empty()
        || !run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        || run_id.starts_with('.')
    {
        return Err(Error::config(
            "command line",
            "--run-id",
            format!(
                "`{run_id}`: use letters, digits, `_`, `-` and `.` (not first) only; it names a folder under runs/<name>/ (use --run-dir for another place)"
            ),
        )
        .into());
    }
    Ok(())
}

/// `riskpipe verify`.
pub fn verify(run_dir: &Path, keep: bool, wait: bool) -> CmdResult {
    if !run_dir.is_dir() {
        return Err(Error::MissingInput {
            path: run_dir.into(),
            hint: Some("name a run folder written by `riskpipe run`".into()),
        }
        .into());
    }
    let wait = if wait {
        crate::lock::Wait::Yes
    } else {
        crate::lock::Wait::No
    };
    let _lock = crate::lock::shared(run_dir, wait)?;
    let scratch = std::env::temp_dir().join(format!("riskpipe-verify-{}", std::process::id()));
    if scratch.exists() {
        fs_err::remove_dir_all(&scratch).map_err(Error::from)?;
    }
    let result = runner::verify(run_dir, &scratch);
    if keep {
        eprintln!("scratch folder kept: {}", scratch.display());
    } else {
        let _ = fs_err::remove_dir_all(&scratch);
    }
    let diffs = result?;
    if diffs.is_empty() {
        out_line(&format!(
            "verified: every output of {} reproduces byte for byte (report date and fit times aside)",
            run_dir.display()
        ));
        Ok(ExitCode::SUCCESS)
    } else {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {} file(s) differ in {}:", diffs.len(), run_dir.display());
        for d in &diffs {
            let _ = writeln!(err, "  {}: {}", d.path, d.what);
        }
        Err(CliError::Verify)
    }
}

/// `riskpipe synth loans`.
pub fn synth_loans(rows: u64, seed: u64, bureau: usize, out: &Path) -> CmdResult {
    if rows == 0 {
        return Err(Error::config("command line", "--rows", "must be at least 1").into());
    }
    if bureau > 99 {
        return Err(Error::config("command line", "--bureau", "at most 99").into());
    }
    let mut book = riskpipe_synth::loans(rows as usize, seed);
    if bureau > 0 {
        riskpipe_synth::add_bureau(&mut book, bureau, seed);
    }
    write_book(out, &book.data, &book.truth, "loans", "true PDs")
}

/// `riskpipe synth accounts`.
pub fn synth_accounts(rows: u64, seed: u64, anomaly_rate: f64, out: &Path) -> CmdResult {
    if rows == 0 {
        return Err(Error::config("command line", "--rows", "must be at least 1").into());
    }
    if !(0.0..=0.5).contains(&anomaly_rate) {
        return Err(Error::config("command line", "--anomaly-rate", "must be between 0 and 0.5").into());
    }
    let book = riskpipe_synth::accounts(rows as usize, seed, anomaly_rate);
    write_book(out, &book.data, &book.truth, "accounts", "anomaly kinds")
}

/// `riskpipe synth loss`.
pub fn synth_loss(rows: u64, seed: u64, out: &Path) -> CmdResult {
    if rows == 0 {
        return Err(Error::config("command line", "--rows", "must be at least 1").into());
    }
    let book = riskpipe_synth::loss(rows as usize, seed);
    write_book(out, &book.data, &book.truth, "loans", "true PD, LGD, EAD and CCF")
}

/// `riskpipe synth transactions`: Parquet is written block by block as the days are made (memory
/// stays bounded by a block of days); CSV is written once the table is complete.
pub fn synth_transactions(params: riskpipe_synth::TransactionParams, out: &Path) -> CmdResult {
    for (flag, value) in [
        ("--customers", params.customers),
        ("--terminals", params.terminals),
        ("--days", params.days as usize),
    ] {
        if value == 0 {
            return Err(Error::config("command line", flag, "must be at least 1").into());
        }
    }
    let (ext, truth) = book_paths(out, "transactions")?;
    if ext == "csv" {
        let (data, truth_frame): (Vec<_>, Vec<_>) = riskpipe_synth::transactions(params).unzip();
        let data = riskpipe_core::io::concat(data);
        let truth_frame = riskpipe_core::io::concat(truth_frame);
        return write_book(out, &data, &truth_frame, "transactions", "fraud scenarios");
    }
    let mut sinks: Option<(riskpipe_core::io::ParquetSink, riskpipe_core::io::ParquetSink)> = None;
    for (data, truth_frame) in riskpipe_synth::transactions(params) {
        let (d, t) = match &mut sinks {
            Some(s) => s,
            None => {
                let schema = |f: &riskpipe_core::Frame| riskpipe_core::io::to_batch(f).map(|b| b.schema());
                let d = riskpipe_core::io::ParquetSink::create(out, schema(&data)?)?;
                let t = riskpipe_core::io::ParquetSink::create(&truth, schema(&truth_frame)?)?;
                sinks.insert((d, t))
            }
        };
        d.write(&data)?;
        t.write(&truth_frame)?;
    }
    let Some((d, t)) = sinks else {
        return Err(Error::Internal("no transactions were generated".into()).into());
    };
    let rows = d.finish()?;
    t.finish()?;
    out_line(&format!(
        "wrote {rows} rows to {} (fraud scenarios: {})",
        out.display(),
        truth.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The extension (`csv` or `parquet`) of a generated table's `out` and the path of its truth
/// table beside it; another extension is a user error.
fn book_paths(out: &Path, what: &str) -> std::result::Result<(&'static str, std::path::PathBuf), Error> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| what.into());
    let kind = match ext.as_str() {
        "parquet" | "pq" => "parquet",
        "csv" => "csv",
        _ => {
            return Err(Error::config(
                "command line",
                "--out",
                format!("`{}`: use a `.csv` or `.parquet` file name", out.display()),
            ));
        }
    };
    Ok((kind, out.with_file_name(format!("{stem}.truth.{ext}"))))
}

/// Writes a generated table to `out` and its truth beside it, as `.csv` or `.parquet`.
fn write_book(
    out: &Path,
    data: &riskpipe_core::Frame,
    truth_frame: &riskpipe_core::Frame,
    what: &str,
    truth_is: &str,
) -> CmdResult {
    let (ext, truth) = book_paths(out, what)?;
    if ext == "parquet" {
        riskpipe_core::io::write_parquet(out, data)?;
        riskpipe_core::io::write_parquet(&truth, truth_frame)?;
    } else {
        riskpipe_core::io::write_csv(out, data)?;
        riskpipe_core::io::write_csv(&truth, truth_frame)?;
    }
    out_line(&format!(
        "wrote {} rows to {} ({truth_is}: {})",
        data.rows(),
        out.display(),
        truth.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `riskpipe score`.
pub fn score(bundle: &Path, input: &Path, output: &Path, no_reasons: bool) -> CmdResult {
    let t0 = std::time::Instant::now();
    let mut scorer = riskpipe_deploy::Scorer::load(bundle)?;
    if no_reasons {
        scorer = scorer.without_reasons();
    } else if scorer.explains_with_shap() {
        tracing::warn!(
            "Reason codes of this {} model come from exact TreeSHAP contributions, far slower than scoring alone (bench/results/scale.md); pass --no-reasons for bulk scoring.",
            scorer.info.model
        );
    }
    let n = riskpipe_deploy::score_file(&scorer, input, output)?;
    tracing::info!(
        rows = n,
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "Scoring finished."
    );
    eprintln!(
        "scored {n} rows in {:.2} s -> {}",
        t0.elapsed().as_secs_f64(),
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `riskpipe explain`: reason codes and a counterfactual per declined row.
pub fn explain(bundle: &Path, input: &Path, output: &Path, target_score: Option<f64>) -> CmdResult {
    use riskpipe_deploy::counterfactual::{Approve, explain_file};
    let scorer = riskpipe_deploy::Scorer::load(bundle)?;
    let approve = match (target_score, scorer.info.decision_threshold) {
        (Some(s), _) => Approve::ScoreAtLeast(s),
        (None, Some(t)) => Approve::PdBelow(t),
        (None, None) => {
            return Err(Error::pipeline_key(
                "--target-score",
                "the bundle records no decision threshold; pass the score to approve at",
            )
            .into());
        }
    };
    let (rows, declined, found) = explain_file(&scorer, input, output, approve)?;
    eprintln!(
        "explained {rows} rows: {declined} declined, a one-feature change found for {found} -> {}",
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `riskpipe serve`: until SIGTERM or Ctrl-C; the bound address goes to stderr.
pub fn serve(mut opts: riskpipe_serve::Options, request_timeout_secs: f64) -> CmdResult {
    opts.request_timeout = match std::time::Duration::try_from_secs_f64(request_timeout_secs) {
        Ok(d) if !d.is_zero() => d,
        _ => {
            return Err(riskpipe_core::Error::data(
                "--request-timeout-secs",
                None,
                None,
                format!("{request_timeout_secs} is not a number of seconds above 0"),
            )
            .into());
        }
    };
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    riskpipe_serve::serve(&opts, |addr| {
        eprintln!(
            "serving {} bundle(s) on {scheme}://{addr} (V2: /v2/models/<name>/infer, MLflow: /invocations, /metrics)",
            opts.bundles.len()
        );
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `riskpipe serve --openapi`: the service's OpenAPI description on stdout.
pub fn openapi() -> CmdResult {
    println!("{}", riskpipe_serve::openapi());
    Ok(ExitCode::SUCCESS)
}

/// `riskpipe monitor`.
pub fn monitor(
    bundle: &Path,
    input: &Path,
    out: &Path,
    (time_column, by): (Option<&str>, &str),
    labels: Option<(&Path, &str)>,
) -> CmdResult {
    use riskpipe_deploy::monitor;
    let period = monitor::Period::parse(by).ok_or_else(|| {
        riskpipe_core::Error::data("--by", None, None, format!("`{by}`: use `month`, `quarter` or `year`"))
    })?;
    let scorer = riskpipe_deploy::Scorer::load(bundle)?;
    let reference = monitor::reference(bundle)?;
    let labels = match labels {
        Some((path, column)) => {
            let id = scorer.info.id.clone().ok_or_else(|| {
                riskpipe_core::Error::data(
                    "--labels",
                    None,
                    None,
                    "the bundle has no id column, so labels cannot be matched to scored rows",
                )
            })?;
            Some(monitor::read_labels(path, &id, column)?)
        }
        None => None,
    };
    let (drift, performance) = monitor::monitor(
        &scorer,
        &reference,
        input,
        time_column.map(|c| (c, period)),
        labels.as_ref(),
        out,
    )?;
    for (p, perf) in &performance {
        out_line(&format!(
            "{p}: {} labelled rows, event rate {:.4}, AUC {:.4}",
            perf.labelled, perf.event_rate, perf.auc
        ));
    }
    for (p, ds) in &drift {
        let flagged: Vec<String> = ds
            .iter()
            .filter(|d| d.flag() != "stable")
            .map(|d| format!("{} {:.3} ({})", d.name, d.psi, d.flag()))
            .collect();
        out_line(&format!(
            "{p}: {} rows, score PSI {:.4}{}",
            ds.first().map_or(0, |d| d.rows),
            ds.first().map_or(0.0, |d| d.psi),
            if flagged.is_empty() {
                String::new()
            } else {
                format!("; flagged: {}", flagged.join(", "))
            }
        ));
    }
    eprintln!(
        "wrote {} and {}",
        out.join("drift.parquet").display(),
        out.join("drift.html").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `riskpipe audit verify`.
pub fn audit_verify(file: &Path) -> CmdResult {
    let v = riskpipe_serve::audit::verify(file)?;
    out_line(&format!("{}: {} lines, chain intact", file.display(), v.lines));
    Ok(ExitCode::SUCCESS)
}

/// `riskpipe validate`.
pub fn validate(path: &Path) -> CmdResult {
    let p = load(path)?;
    out_line(&format!(
        "{}: ok (pipeline `{}`, task `{}`, seed {})",
        path.display(),
        p.name,
        p.task,
        p.seed
    ));
    for stage in riskpipe_core::stage::STAGES {
        let params = runner::StageParams::of(&p, stage)?;
        out_line(&format!("  {stage}: {}", params.to_json()));
    }
    Ok(ExitCode::SUCCESS)
}

/// A Python string literal for `s` (JSON string syntax is valid Python: quotes, backslashes and
/// control characters escaped).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `s` as one word for the shell: single-quoted, with each `'` written as `'\''`.
fn sh_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Jinja (which Airflow runs over `bash_command`) must not see template syntax in a path that
/// is meant literally.
fn check_no_jinja(what: &str, s: &str) -> Result<(), CliError> {
    if ["{{", "{%", "{#"].iter().any(|t| s.contains(t)) {
        return Err(Error::config(
            "command line",
            what,
            format!("`{s}` contains Jinja template syntax, which Airflow would expand; move the file to a plain path"),
        )
        .into());
    }
    Ok(())
}

/// `riskpipe dag --airflow`.
pub fn dag(path: &Path, out: Option<&Path>, run_dir: Option<&str>) -> CmdResult {
    let p = load(path)?;
    let abs = std::path::absolute(path).map_err(Error::from)?;
    let pipeline = abs.display().to_string();
    check_no_jinja("PIPELINE", &pipeline)?;
    let run_dir = run_dir.map(str::to_string).unwrap_or_else(|| {
        let cwd = std::env::current_dir().unwrap_or_default();
        format!("{}/runs/{}/{{{{ ds_nodash }}}}", cwd.display(), p.name)
    });
    let mut s = String::new();
    s.push_str(&format!("\"\"\"Airflow DAG for the riskpipe pipeline `{}`, written by `riskpipe dag`.\n\nOne task per stage; every task runs `riskpipe run --stage NAME` on the same run folder,\nso a retried task skips work that is already done. Paths are quoted for the shell; the run\nfolder is a Jinja template (`{{{{ ds_nodash }}}}`), as Airflow renders every command.\n\"\"\"\n", p.name));
    s.push_str(
        "from datetime import datetime\n\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n\n",
    );
    s.push_str(&format!(
        "PIPELINE = {}\nRUN_DIR = {}\n\n",
        py_str(&pipeline),
        py_str(&run_dir)
    ));
    s.push_str(&format!(
        "with DAG(\n    dag_id={},\n    start_date=datetime(2026, 1, 1),\n    schedule=None,\n    catchup=False,\n    tags=[\"riskpipe\", {}],\n) as dag:\n",
        py_str(&format!("riskpipe_{}", p.name)),
        py_str(p.task.name())
    ));
    for stage in riskpipe_core::stage::STAGES {
        let command = format!(
            "riskpipe run {} --stage {stage} --run-dir {} --log-format json",
            sh_word(&pipeline),
            sh_word(&run_dir)
        );
        s.push_str(&format!(
            "    {stage} = BashOperator(\n        task_id={},\n        bash_command={},\n    )\n",
            py_str(stage),
            py_str(&command)
        ));
    }
    s.push_str(&format!("\n    {}\n", riskpipe_core::stage::STAGES.join(" >> ")));
    match out {
        Some(o) => {
            riskpipe_core::io::write_atomic(o, s.as_bytes())?;
            eprintln!("wrote {}", o.display());
        }
        None => {
            let mut o = std::io::stdout().lock();
            if let Err(e) = o.write_all(s.as_bytes()).and_then(|()| o.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("writing the DAG to standard output: {e}"),
                    ))
                    .into());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

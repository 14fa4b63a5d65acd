//! `riskpipe`: the command-line tool. Glue only: clap arguments, logging, exit codes; every
//! stage lives in its own library crate.

mod commands;
mod lock;
mod pipeline;
mod retention;
mod runner;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// mimalloc: scoring and the stages allocate a string per text cell, and glibc's malloc spent a
/// fifth of bulk scoring's time on them (bench/results/score_speed.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// riskpipe: machine learning pipelines for financial risk.
#[derive(Debug, Parser)]
#[command(name = "riskpipe", version, about, propagate_version = true)]
struct Cli {
    /// More logging (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// The bundle, the applications it reads and the file it writes (`score`, `explain`).
#[derive(Debug, Args)]
struct BundleFiles {
    /// Bundle folder (`runs/<name>/<run>/deploy/bundle`).
    #[arg(long)]
    bundle: PathBuf,
    /// Applications: raw columns as in the training data.
    #[arg(long)]
    input: PathBuf,
    /// Output file (`.csv` or `.parquet`).
    #[arg(long)]
    output: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline, or one stage of it.
    Run {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Run folder (default `runs/<name>/<run-id>`).
        #[arg(long)]
        run_dir: Option<PathBuf>,
        /// Run id naming the default run folder.
        #[arg(long, default_value = "default")]
        run_id: String,
        /// Run only this stage (a DAG step); its inputs must exist in the run folder.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(riskpipe_core::stage::STAGES))]
        stage: Option<String>,
        /// Run stages even when up to date.
        #[arg(long)]
        force: bool,
        /// When another riskpipe process holds the run folder, wait for it instead of failing.
        #[arg(long)]
        wait: bool,
    },
    /// Re-execute a run from its manifests and check every output byte for byte (the report's date and fit times aside).
    Verify {
        /// The run folder.
        run_dir: PathBuf,
        /// Keep the scratch folder (printed) instead of deleting it.
        #[arg(long)]
        keep_scratch: bool,
        /// When a run holds the run folder, wait for it instead of failing.
        #[arg(long)]
        wait: bool,
    },
    /// Write generated data.
    Synth {
        #[command(subcommand)]
        kind: SynthKind,
    },
    /// Score applications with a deployed bundle (CSV or Parquet in and out, streamed).
    Score {
        #[command(flatten)]
        files: BundleFiles,
        /// Write no reason codes (bulk scoring; tree ensembles then skip TreeSHAP).
        #[arg(long)]
        no_reasons: bool,
    },
    /// Reason codes and counterfactuals: for each declined application, the smallest change to
    /// one actionable feature (`deploy.actionable`) that the bundle approves, re-scored by it
    Explain {
        #[command(flatten)]
        files: BundleFiles,
        /// Approve at this score or above (default: decline at evaluate's PD threshold).
        #[arg(long)]
        target_score: Option<f64>,
    },
    /// Serve bundles over HTTP: Open Inference Protocol (KServe V2) and MLflow-style REST,
    /// Prometheus metrics, a hash-chained audit log.
    Serve {
        /// Bundle folder; repeat for more models (each served under its pipeline's name).
        #[arg(long, required_unless_present = "openapi")]
        bundle: Vec<PathBuf>,
        /// Print the service's OpenAPI description (JSON) and exit.
        #[arg(long)]
        openapi: bool,
        /// Serve HTTPS: the PEM certificate chain (with `--tls-key`).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Serve HTTPS: the PEM private key (with `--tls-cert`).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Address to listen on (loopback by default; `0.0.0.0:8080` to listen on every interface).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Append every decision to this JSON-lines audit log (verified first when it exists).
        #[arg(long)]
        audit_log: Option<PathBuf>,
        /// Largest request body in bytes.
        #[arg(long, default_value_t = 8 << 20)]
        max_body_bytes: usize,
        /// Environment variable holding a bearer token every request but the health checks
        /// must carry.
        #[arg(long)]
        auth_token_env: Option<String>,
        /// A challenger bundle scored beside the served bundle of its pipeline; its outputs go
        /// to the audit log, never to the client. Repeat for more.
        #[arg(long)]
        shadow: Vec<PathBuf>,
        /// Rows of the sliding window for live drift (`/v2/models/{name}/drift`, `/metrics`).
        #[arg(long, default_value_t = 10_000)]
        drift_window: usize,
        /// Seconds a request (reading its body and scoring it) may take before it gets 408; a
        /// connection whose TLS handshake or request headers take longer is closed.
        #[arg(long, default_value_t = 30.0)]
        request_timeout_secs: f64,
    },
    /// Compare scored data with a bundle's training distributions: PSI of the score, CSI of
    /// every feature, Jensen-Shannon distance, overall and per period.
    Monitor {
        /// Bundle folder.
        #[arg(long)]
        bundle: PathBuf,
        /// Data to compare (CSV or Parquet, raw columns as the bundle reads).
        #[arg(long)]
        input: PathBuf,
        /// Folder for `drift.parquet` and `drift.html`.
        #[arg(long)]
        out: PathBuf,
        /// A date column of the input that groups rows into periods.
        #[arg(long)]
        time_column: Option<String>,
        /// The period with `--time-column`: `month` (default), `quarter` or `year`.
        #[arg(long, default_value = "month")]
        by: String,
        /// Outcomes that arrived later (CSV or Parquet with the bundle's id column and
        /// `--label-column`): the realised AUC and event rate per period join the page.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// The 0/1 column of `--labels`.
        #[arg(long, default_value = "default_flag")]
        label_column: String,
    },
    /// Check an audit log's hash chain.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Check a pipeline file without running it.
    Validate {
        /// The pipeline file.
        pipeline: PathBuf,
    },
    /// Write a scheduler DAG with one task per stage.
    Dag {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Write an Airflow DAG (Python).
        #[arg(long, required = true)]
        airflow: bool,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run folder the tasks share (default `runs/<name>/{{ ds_nodash }}`).
        #[arg(long)]
        run_dir: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Check every line's hash and its link to the line before; exit 2 naming the first broken
    /// line.
    Verify {
        /// The audit log (`riskpipe serve --audit-log FILE`).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum SynthKind {
    /// A loan book of applicants with PII, risk drivers and a default flag.
    Loans {
        /// Rows.
        #[arg(long, default_value_t = 10_000)]
        rows: u64,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Credit-bureau attributes to add (`bureau_01`..): noisy views of the true risk in six
        /// shapes, including pure noise, a `-999` code and correlated pairs.
        #[arg(long, default_value_t = 0)]
        bureau: usize,
        /// Output file: `.csv` or `.parquet`; true PDs go to `<stem>.truth.<ext>` beside it.
        #[arg(long)]
        out: PathBuf,
    },
    /// A loss book: mortgages, personal loans and cards with PD drivers, a default flag, the
    /// exposure at default and the yearly recoveries of defaulted loans, for loss prediction.
    Loss {
        /// Rows.
        #[arg(long, default_value_t = 10_000)]
        rows: u64,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file: `.csv` or `.parquet`; the true PD, LGD, EAD and CCF of each loan go
        /// to `<stem>.truth.<ext>` beside it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Card transactions day by day: customers and terminals on a map, timestamps, amounts and
    /// three fraud scenarios (amount outliers, compromised terminals, compromised cards), with
    /// the columns of the fraud-detection handbook's data. Streams to Parquet block by block.
    Transactions {
        /// Customers.
        #[arg(long, default_value_t = 5_000)]
        customers: usize,
        /// Terminals.
        #[arg(long, default_value_t = 10_000)]
        terminals: usize,
        /// Days, from 2018-04-01.
        #[arg(long, default_value_t = 183)]
        days: u32,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file: `.parquet` (written as it is generated) or `.csv`; each transaction's
        /// fraud scenario goes to `<stem>.truth.<ext>` beside it.
        #[arg(long)]
        out: PathBuf,
    },
    /// A month of account behaviour with planted anomalies (global outliers, a mule ring, broken
    /// dependencies, near-duplicates) and their label, for anomaly detection.
    Accounts {
        /// Rows.
        #[arg(long, default_value_t = 10_000)]
        rows: u64,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Share of accounts made anomalous, in [0, 0.5].
        #[arg(long, default_value_t = 0.02)]
        anomaly_rate: f64,
        /// Output file: `.csv` or `.parquet`; each row's anomaly kind goes to
        /// `<stem>.truth.<ext>` beside it.
        #[arg(long)]
        out: PathBuf,
    },
}

fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let json = matches!(cli.log_format, LogFormat::Json);
    runner::PLAIN_SUMMARY.store(!cli.quiet && !json, std::sync::atomic::Ordering::Relaxed);
    let level = if cli.quiet {
        "warn"
    } else if json && cli.verbose == 0 {
        // Schedulers keep the structured stage events.
        "info"
    } else {
        match cli.verbose {
            0 => "warn",
            1 => "info,riskpipe=debug",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match cli.log_format {
        LogFormat::Json => b.json().init(),
        LogFormat::Text => b.with_ansi(ansi).init(),
    }
}

/// Any panic still reachable is a bug: one line on stderr, exit 1 (the runner has already
/// removed the stage's temporary folder while unwinding).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error: {}{at}; please report it with the command you ran (riskpipe {})",
            msg.replace('\n', " "),
            env!("CARGO_PKG_VERSION")
        );
    }));
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    init_logging(&cli);
    match std::panic::catch_unwind(move || dispatch(cli)) {
        Ok(code) => code,
        Err(_) => ExitCode::from(1),
    }
}

fn dispatch(cli: Cli) -> ExitCode {
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Run {
            pipeline,
            run_dir,
            run_id,
            stage,
            force,
            wait,
        } => commands::run(&pipeline, run_dir, &run_id, stage.as_deref(), force, quiet, wait),
        Command::Verify {
            run_dir,
            keep_scratch,
            wait,
        } => commands::verify(&run_dir, keep_scratch, wait),
        Command::Synth {
            kind:
                SynthKind::Loans {
                    rows,
                    seed,
                    bureau,
                    out,
                },
        } => commands::synth_loans(rows, seed, bureau, &out),
        Command::Synth {
            kind:
                SynthKind::Accounts {
                    rows,
                    seed,
                    anomaly_rate,
                    out,
                },
        } => commands::synth_accounts(rows, seed, anomaly_rate, &out),
        Command::Synth {
            kind: SynthKind::Loss { rows, seed, out },
        } => commands::synth_loss(rows, seed, &out),
        Command::Synth {
            kind:
                SynthKind::Transactions {
                    customers,
                    terminals,
                    days,
                    seed,
                    out,
                },
        } => commands::synth_transactions(
            riskpipe_synth::TransactionParams {
                customers,
                terminals,
                days,
                seed,
            },
            &out,
        ),
        Command::Score { files, no_reasons } => commands::score(&files.bundle, &files.input, &files.output, no_reasons),
        Command::Explain { files, target_score } => {
            commands::explain(&files.bundle, &files.input, &files.output, target_score)
        }
        Command::Serve {
            bundle,
            addr,
            audit_log,
            max_body_bytes,
            auth_token_env,
            shadow,
            drift_window,
            request_timeout_secs,
            openapi,
            tls_cert,
            tls_key,
        } if !openapi => commands::serve(
            riskpipe_serve::Options {
                tls: tls_cert
                    .zip(tls_key)
                    .map(|(cert, key)| riskpipe_serve::TlsFiles { cert, key }),
                drift_window,
                request_timeout: std::time::Duration::ZERO,
                bundles: bundle,
                addr,
                audit_log,
                max_body_bytes,
                auth_token_env,
                shadows: shadow,
            },
            request_timeout_secs,
        ),
        Command::Serve { .. } => commands::openapi(),
        Command::Audit {
            action: AuditAction::Verify { file },
        } => commands::audit_verify(&file),
        Command::Monitor {
            bundle,
            input,
            out,
            time_column,
            by,
            labels,
            label_column,
        } => commands::monitor(
            &bundle,
            &input,
            &out,
            (time_column.as_deref(), &by),
            labels.as_deref().map(|l| (l, label_column.as_str())),
        ),
        Command::Validate { pipeline } => commands::validate(&pipeline),
        Command::Dag {
            pipeline,
            airflow: _,
            out,
            run_dir,
        } => commands::dag(&pipeline, out.as_deref(), run_dir.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => commands::report_error(&e),
    }
}

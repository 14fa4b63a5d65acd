//! The one error type of riskpipe's libraries, classed as user or internal.

use std::path::PathBuf;

/// The file of a configuration error raised where the pipeline file's path is not known.
pub const PIPELINE_FILE: &str = "the pipeline file";

/// Whether an error is the user's to fix (exit 2) or ours (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad configuration or bad input data: the message says what to fix.
    User,
    /// Anything else: a bug, a full disk, a permission problem.
    Internal,
}

/// Errors raised by riskpipe's library crates.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pipeline file key is wrong: unknown, of the wrong type, or with an invalid value.
    #[error("{file}{}: {}{message}", at.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default(), if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Config {
        /// The pipeline file ([`PIPELINE_FILE`] when the code raising it does not know it: the
        /// runner, which does, puts it in).
        file: String,
        /// 1-based line and column of the key, when known.
        at: Option<(usize, usize)>,
        /// The key path, e.g. `features.test_fraction`.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A value in an input file is wrong.
    #[error("{}", data_message(file, *row, column.as_deref(), message))]
    Data {
        /// The data file.
        file: String,
        /// 1-based data row (the header is row 0), when known.
        row: Option<u64>,
        /// The column, when known.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A column the configuration or the bundle needs is not in the data.
    #[error("`{file}` has no column `{column}`{hint}")]
    ColumnNotFound {
        /// The data file.
        file: String,
        /// The missing column.
        column: String,
        /// Where the column was asked for (`; asked for by ...`).
        hint: String,
    },
    /// An input file or artifact does not exist.
    #[error("`{}` does not exist{}", path.display(), hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    MissingInput {
        /// The missing path.
        path: PathBuf,
        /// How to make it.
        hint: Option<String>,
    },
    /// A required environment variable is unset or empty.
    #[error("environment variable `{name}` is not set; {why}")]
    MissingEnv {
        /// The variable's name.
        name: String,
        /// Why it is needed.
        why: String,
    },
    /// An environment variable is set to a value riskpipe cannot use.
    #[error("environment variable `{name}` {message}")]
    BadEnv {
        /// The variable's name.
        name: String,
        /// What is wrong with its value and how to fix it.
        message: String,
    },
    /// Another riskpipe process holds the run folder.
    #[error("{message}")]
    Busy {
        /// Which folder, which process, and what to do.
        message: String,
    },
    /// An I/O error on a named path.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A Parquet file could not be read or written.
    #[error("parquet error on `{}`", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// An Arrow conversion failed.
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A JSON artifact could not be read or written.
    #[error("invalid JSON in `{}`", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A model could not be fitted or a computation failed.
    #[error("{0}")]
    Internal(String),
}

fn data_message(file: &str, row: Option<u64>, column: Option<&str>, message: &str) -> String {
    let mut s = format!("`{file}`");
    if let Some(r) = row {
        s.push_str(&format!(": row {r}"));
    }
    if let Some(c) = column {
        s.push_str(&format!(", column `{c}`"));
    }
    s.push_str(": ");
    s.push_str(message);
    s
}

impl Error {
    /// The class of this error, which the CLI maps to an exit code.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Config { .. }
            | Error::Data { .. }
            | Error::ColumnNotFound { .. }
            | Error::MissingInput { .. }
            | Error::MissingEnv { .. }
            | Error::BadEnv { .. }
            | Error::Busy { .. } => ErrorClass::User,
            Error::Io(e) if e.kind() == std::io::ErrorKind::NotFound => ErrorClass::User,
            _ => ErrorClass::Internal,
        }
    }

    /// Shorthand for a data error.
    pub fn data(file: impl Into<String>, row: Option<u64>, column: Option<&str>, message: impl Into<String>) -> Self {
        Error::Data {
            file: file.into(),
            row,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }

    /// Shorthand for a configuration error.
    pub fn config(file: impl Into<String>, key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            at: None,
            key: key.into(),
            message: message.into(),
        }
    }

    /// A configuration error of a key raised where the pipeline file is not known (a stage):
    /// the runner names the file and the key's line.
    pub fn pipeline_key(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::config(PIPELINE_FILE, key, message)
    }
}

/// riskpipe's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

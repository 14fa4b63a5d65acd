//! Streaming batch scoring: input of any size in, bounded memory, Parquet or CSV out.

use std::io::Write;
use std::path::Path;

use riskpipe_core::io::{ParquetSink, TempPath, arrow_schema, from_batch, parquet_batches};
use riskpipe_core::{Column, ColumnKind, Error, Frame, Result};

use crate::bundle::Scorer;
use crate::info::InputColumn;

/// Rows per batch: 65,536, or `RISKPIPE_BATCH_ROWS` when set (a whole number above 0; any
/// other value is a user error rather than silently ignored).
pub fn batch_rows() -> Result<usize> {
    let name = riskpipe_core::env::RISKPIPE_BATCH_ROWS;
    match std::env::var(name) {
        Err(std::env::VarError::NotPresent) => Ok(65_536),
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(Error::BadEnv {
                name: name.to_string(),
                message: format!("is `{v}`, not a whole number of rows above 0; unset it for the default 65536"),
            }),
        },
        Err(_) => Err(Error::BadEnv {
            name: name.to_string(),
            message: "is not valid UTF-8".into(),
        }),
    }
}

enum Sink {
    Parquet(ParquetSink),
    Csv {
        w: csv::Writer<std::io::BufWriter<fs_err::File>>,
        tmp: TempPath,
        path: std::path::PathBuf,
    },
}

impl Sink {
    fn create(path: &Path, scorer: &Scorer) -> Result<Sink> {
        if is_parquet(path) {
            let names = scorer.output_names();
            let mut kinds = vec![
                if scorer.info.id.is_some() {
                    ColumnKind::Text
                } else {
                    ColumnKind::Number
                },
                ColumnKind::Number,
                ColumnKind::Number,
            ];
            kinds.resize(names.len(), ColumnKind::Text);
            // The id keeps its kind from the input.
            if let Some(id) = &scorer.info.id {
                if let Some(c) = scorer.info.inputs.iter().find(|c| &c.name == id) {
                    kinds[0] = if scorer.plan.columns.contains_key(id)
                        && !matches!(scorer.plan.columns[id], riskpipe_privacy::Action::Keep)
                    {
                        ColumnKind::Text
                    } else {
                        c.kind
                    };
                }
            }
            Ok(Sink::Parquet(ParquetSink::create(path, arrow_schema(&names, &kinds))?))
        } else {
            riskpipe_core::io::ensure_parent(path)?;
            let tmp = TempPath::beside(path);
            let mut w = csv::Writer::from_writer(std::io::BufWriter::new(fs_err::File::create(tmp.path())?));
            w.write_record(scorer.output_names())
                .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
            Ok(Sink::Csv {
                w,
                tmp,
                path: path.to_path_buf(),
            })
        }
    }

    fn write(&mut self, f: &Frame) -> Result<()> {
        match self {
            Sink::Parquet(s) => s.write(f),
            Sink::Csv { w, .. } => {
                let mut rec = Vec::with_capacity(f.names().len());
                for i in 0..f.rows() {
                    rec.clear();
                    for c in f.columns() {
                        rec.push(match c {
                            Column::Number(v) if !v[i].is_nan() => format!("{}", v[i]),
                            _ => c.display(i).unwrap_or_default(),
                        });
                    }
                    w.write_record(&rec)
                        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
                }
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Parquet(s) => s.finish().map(|_| ()),
            Sink::Csv { w, tmp, path } => {
                let mut inner = w
                    .into_inner()
                    .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
                inner.flush()?;
                drop(inner);
                tmp.persist(&path)
            }
        }
    }
}

fn is_parquet(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

/// Scores `input` (CSV or Parquet, by extension) into `output` (CSV or Parquet) in batches;
/// returns the rows scored. On error nothing is left at `output`.
pub fn score_file(scorer: &Scorer, input: &Path, output: &Path) -> Result<u64> {
    riskpipe_core::io::check_is_file(input)?;
    if riskpipe_core::io::same_file(input, output) {
        return Err(Error::data(
            output.display().to_string(),
            None,
            None,
            format!(
                "is the input file `{}`; scoring would overwrite it: choose another `--output`",
                input.display()
            ),
        ));
    }
    if output.is_dir() {
        return Err(Error::data(
            output.display().to_string(),
            None,
            None,
            "is a folder; `--output` names a `.csv` or `.parquet` file",
        ));
    }
    let mut sink = Sink::create(output, scorer)?;
    let file = input.display().to_string();
    let result = for_each_batch(scorer, input, &[], &mut |raw, done| {
        let out = scorer.score(raw, done, &file)?;
        sink.write(&out)
    });
    // On error the sink is dropped with its temporary file; nothing reaches `output`.
    let n = result?;
    sink.finish()?;
    Ok(n)
}

/// Reads `input` (CSV or Parquet, by extension) in batches of the bundle's input columns and
/// the `extra` ones (a time column for `riskpipe monitor`), calling `f` with each batch and the
/// rows before it; returns the rows read. A missing column or a value of the wrong kind is a
/// user error naming the file, row and column.
pub fn for_each_batch(
    scorer: &Scorer,
    input: &Path,
    extra: &[InputColumn],
    f: &mut dyn FnMut(&Frame, u64) -> Result<()>,
) -> Result<u64> {
    riskpipe_core::io::check_is_file(input)?;
    let file = input.display().to_string();
    let batch = batch_rows()?;
    let wanted: Vec<&InputColumn> = scorer
        .info
        .inputs
        .iter()
        .chain(
            extra
                .iter()
                .filter(|e| !scorer.info.inputs.iter().any(|c| c.name == e.name)),
        )
        .collect();
    let mut done = 0u64;
    if is_parquet(input) {
        for b in parquet_batches(input, batch)? {
            let b = b.map_err(riskpipe_core::io::arrow_read_err(input))?;
            let raw = from_batch(&b, input)?;
            let raw = select_columns(&wanted, raw, &file)?;
            raw.check_finite(&file, done + 1)?;
            f(&raw, done)?;
            done += raw.rows() as u64;
        }
        return Ok(done);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, fs_err::File::open(input)?));
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::data(file.clone(), None, None, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut pos = Vec::new();
    for c in &wanted {
        let j = headers
            .iter()
            .position(|h| h == &c.name)
            .ok_or_else(|| Error::ColumnNotFound {
                file: file.clone(),
                column: c.name.clone(),
                hint: "; the bundle needs it".into(),
            })?;
        pos.push((j, c.kind, c.name.clone()));
    }
    let missing = |s: &str| scorer.info.missing_values.iter().any(|m| m == s.trim());
    let mut rec = csv::StringRecord::new();
    loop {
        let mut cols: Vec<Column> = pos.iter().map(|(_, k, _)| Column::with_capacity(*k, batch)).collect();
        let mut n = 0;
        while n < batch {
            let more = rdr.read_record(&mut rec).map_err(|e| match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => Error::data(
                    file.clone(),
                    Some(done + n as u64 + 1),
                    None,
                    format!("has {len} fields, the header has {expected_len}"),
                ),
                _ => Error::data(file.clone(), Some(done + n as u64 + 1), None, e.to_string()),
            })?;
            if !more {
                break;
            }
            let row = done + n as u64 + 1;
            for ((j, _, name), col) in pos.iter().zip(cols.iter_mut()) {
                let v = &rec[*j];
                col.push_parsed(v, missing(v)).map_err(|expected| {
                    Error::data(
                        file.clone(),
                        Some(row),
                        Some(name),
                        format!("expected {expected}, found `{v}`"),
                    )
                })?;
            }
            n += 1;
        }
        if n == 0 {
            break;
        }
        let mut raw = Frame::new();
        for ((_, _, name), col) in pos.iter().zip(cols) {
            raw.push(name.clone(), col);
        }
        f(&raw, done)?;
        done += n as u64;
        if n < batch {
            break;
        }
    }
    Ok(done)
}

/// Keeps the `wanted` columns of a Parquet batch.
fn select_columns(wanted: &[&InputColumn], raw: Frame, file: &str) -> Result<Frame> {
    let mut out = Frame::new();
    for c in wanted {
        let col = raw.get(&c.name).ok_or_else(|| Error::ColumnNotFound {
            file: file.to_string(),
            column: c.name.clone(),
            hint: "; the bundle needs it".into(),
        })?;
        out.push(c.name.clone(), col.clone());
    }
    Ok(out)
}

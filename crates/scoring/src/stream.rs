//! Streaming batch scoring: input of any size in, bounded memory, Parquet or CSV out.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;
use riskpipe_core::io::{ParquetSink, TempPath, arrow_schema, from_batch, parquet_column_batches};
use riskpipe_core::{Column, ColumnKind, Error, Frame, Result};

use riskpipe_features::events::EventSpec;

use crate::bundle::Scorer;
use crate::event_order::EventOrder;
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
            Ok(Sink::Parquet(ParquetSink::create_plain(
                path,
                arrow_schema(&names, &kinds),
            )?))
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
    let sink = Sink::create(output, scorer)?;
    // Three stages at once: a reader thread decodes batches, the thread pool scores them a
    // group at a time (a batch per thread), a writer thread encodes them in input order.
    let group = rayon::current_num_threads().max(1);
    let (to_score, batches) = std::sync::mpsc::sync_channel::<(RawBatch, u64)>(group);
    let (to_write, scored) = std::sync::mpsc::sync_channel::<Frame>(group);
    let (read, scoring, written) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            read_batches(scorer, input, &[], &mut |raw, done| {
                // A closed channel means scoring stopped on an error, which is the one reported.
                to_score
                    .send((raw, done))
                    .map_err(|_| Error::Internal("scoring stopped".into()))
            })
        });
        let writer = scope.spawn(move || -> Result<Sink> {
            let mut sink = sink;
            for out in scored {
                sink.write(&out)?;
            }
            Ok(sink)
        });
        let scoring = match scorer.event_order() {
            Some(spec) => score_groups_in_event_order(scorer, spec, input, group, batches, &to_write),
            None => score_groups(scorer, input, group, batches, &to_write),
        };
        drop(to_write);
        let join = |e: Box<dyn std::any::Any + Send>| Error::Internal(format!("a scoring thread panicked: {e:?}"));
        (
            reader.join().map_err(join).and_then(|r| r),
            scoring,
            writer.join().map_err(join).and_then(|r| r),
        )
    });
    // On error the sink is dropped with its temporary file; nothing reaches `output`.
    scoring?;
    let sink = written?;
    let n = read?;
    sink.finish()?;
    Ok(n)
}

/// Scores batches from `batches` a group at a time in parallel and sends the outputs on in
/// order; stops at the first error (the writer may have stopped on its own: its error is the
/// one reported then).
fn score_groups(
    scorer: &Scorer,
    input: &Path,
    group: usize,
    batches: std::sync::mpsc::Receiver<(RawBatch, u64)>,
    to_write: &std::sync::mpsc::SyncSender<Frame>,
) -> Result<()> {
    let file = input.display().to_string();
    let wanted = wanted(scorer, &[]);
    for_each_group(batches, group, |pending, _| {
        let outs: Vec<Result<Frame>> = pending
            .into_par_iter()
            .map(|(raw, done)| scorer.score_owned(raw.frame(&wanted, input, done)?, done, &file))
            .collect();
        for out in outs {
            if to_write.send(out?).is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    })
}

/// Calls `f` with the items of `items` `group` at a time (fewer at the end) and whether they
/// are the last; `f` returns whether to go on.
fn for_each_group<T>(
    items: std::sync::mpsc::Receiver<T>,
    group: usize,
    mut f: impl FnMut(Vec<T>, bool) -> Result<bool>,
) -> Result<()> {
    let mut pending: Vec<T> = Vec::with_capacity(group);
    let mut items = items.into_iter().peekable();
    while let Some(b) = items.next() {
        pending.push(b);
        let end = items.peek().is_none();
        if pending.len() < group && !end {
            continue;
        }
        if !f(std::mem::take(&mut pending), end)? {
            break;
        }
    }
    Ok(())
}

/// [`score_groups`] for a bundle with window features, which need the rows in time order. An
/// events thread masks a group of batches in parallel and gives them their window features in
/// order by one [`EventOrder`] (each entity's history carried from batch to batch, the rows of a
/// second that may go on in the next batch held back for it); meanwhile this thread scores the
/// groups it has handed on, in parallel. The first error stops both; the events thread's is the
/// one reported when it stopped first.
fn score_groups_in_event_order(
    scorer: &Scorer,
    spec: &EventSpec,
    input: &Path,
    group: usize,
    batches: std::sync::mpsc::Receiver<(RawBatch, u64)>,
    to_write: &std::sync::mpsc::SyncSender<Frame>,
) -> Result<()> {
    let file = input.display().to_string();
    let (to_score, ready) = std::sync::mpsc::sync_channel::<Vec<(Frame, u64)>>(1);
    std::thread::scope(|scope| {
        let events = scope.spawn(|| events_in_order(scorer, spec, input, group, batches, to_score));
        let mut scoring = Ok(());
        'groups: for frames in ready {
            let outs: Vec<Result<Frame>> = frames
                .into_par_iter()
                .map(|(rows, first)| scorer.score_with_events(rows, first, &file, true))
                .collect();
            for out in outs {
                match out {
                    Err(e) => {
                        scoring = Err(e);
                        break 'groups;
                    }
                    Ok(f) => {
                        if to_write.send(f).is_err() {
                            // A writer that stopped reports its own error.
                            break 'groups;
                        }
                    }
                }
            }
        }
        // Dropping the receiver (here, on leaving the loop) stops the events thread.
        let events = events
            .join()
            .map_err(|e| Error::Internal(format!("the events thread panicked: {e:?}")))
            .and_then(|r| r);
        events.and(scoring)
    })
}

/// The events thread of [`score_groups_in_event_order`]: groups of batches masked in parallel,
/// then given their window features in order, sent on a group at a time.
fn events_in_order(
    scorer: &Scorer,
    spec: &EventSpec,
    input: &Path,
    group: usize,
    batches: std::sync::mpsc::Receiver<(RawBatch, u64)>,
    to_score: std::sync::mpsc::SyncSender<Vec<(Frame, u64)>>,
) -> Result<()> {
    let file = input.display().to_string();
    let wanted = wanted(scorer, &[]);
    let mut order = EventOrder::new(spec, &file);
    for_each_group(batches, group, |pending, end| {
        let masked: Vec<Result<Frame>> = pending
            .into_par_iter()
            .map(|(raw, done)| scorer.mask_owned(raw.frame(&wanted, input, done)?, &file))
            .collect();
        let last = masked.len() - 1;
        let mut ready: Vec<(Frame, u64)> = Vec::with_capacity(masked.len());
        for (j, m) in masked.into_iter().enumerate() {
            if let Some(r) = order.push(m?, None, end && j == last)? {
                ready.push((r.masked, r.first));
            }
        }
        // A closed channel: scoring stopped on an error, which is the one reported.
        Ok(to_score.send(ready).is_ok())
    })
}

/// A batch as read: Parquet's decoded Arrow columns (turned into a frame by whichever thread
/// scores it) or the frame a CSV parse built.
pub(crate) enum RawBatch {
    Arrow(arrow_array::RecordBatch),
    Frame(Frame),
}

impl RawBatch {
    /// The batch as the frame of the `wanted` columns, checked for infinite values.
    pub(crate) fn frame(self, wanted: &[&InputColumn], input: &Path, done: u64) -> Result<Frame> {
        match self {
            RawBatch::Frame(f) => Ok(f),
            RawBatch::Arrow(b) => {
                let file = input.display().to_string();
                let raw = select_columns(wanted, from_batch(&b, input)?, &file)?;
                raw.check_finite(&file, done + 1)?;
                Ok(raw)
            }
        }
    }
}

/// The bundle's input columns and the `extra` ones not among them.
fn wanted<'a>(scorer: &'a Scorer, extra: &'a [InputColumn]) -> Vec<&'a InputColumn> {
    scorer
        .info
        .inputs
        .iter()
        .chain(
            extra
                .iter()
                .filter(|e| !scorer.info.inputs.iter().any(|c| c.name == e.name)),
        )
        .collect()
}

/// Reads `input` (CSV or Parquet, by extension) in batches of the bundle's input columns and
/// the `extra` ones (a time column for `riskpipe monitor`), calling `f` with each batch and the
/// rows before it; returns the rows read. A Parquet file's other columns are never decoded. A
/// missing column or a value of the wrong kind is a user error naming the file, row and column.
pub fn for_each_batch(
    scorer: &Scorer,
    input: &Path,
    extra: &[InputColumn],
    f: &mut dyn FnMut(Frame, u64) -> Result<()>,
) -> Result<u64> {
    let wanted = wanted(scorer, extra);
    read_batches(scorer, input, extra, &mut |raw, done| {
        f(raw.frame(&wanted, input, done)?, done)
    })
}

/// [`for_each_batch`] handing Parquet batches over undecoded into frames.
pub(crate) fn read_batches(
    scorer: &Scorer,
    input: &Path,
    extra: &[InputColumn],
    f: &mut dyn FnMut(RawBatch, u64) -> Result<()>,
) -> Result<u64> {
    riskpipe_core::io::check_is_file(input)?;
    let file = input.display().to_string();
    let batch = batch_rows()?;
    let wanted = wanted(scorer, extra);
    let mut done = 0u64;
    if is_parquet(input) {
        let names: Vec<&str> = wanted.iter().map(|c| c.name.as_str()).collect();
        for b in parquet_column_batches(input, batch, &names)? {
            let b = b.map_err(riskpipe_core::io::arrow_read_err(input))?;
            let n = b.num_rows() as u64;
            f(RawBatch::Arrow(b), done)?;
            done += n;
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
        f(RawBatch::Frame(raw), done)?;
        done += n as u64;
        if n < batch {
            break;
        }
    }
    Ok(done)
}

/// The `wanted` columns of a Parquet batch, in their order.
fn select_columns(wanted: &[&InputColumn], mut raw: Frame, file: &str) -> Result<Frame> {
    let mut out = Frame::new();
    for c in wanted {
        let col = raw.remove(&c.name).ok_or_else(|| Error::ColumnNotFound {
            file: file.to_string(),
            column: c.name.clone(),
            hint: "; the bundle needs it".into(),
        })?;
        out.push(c.name.clone(), col);
    }
    Ok(out)
}

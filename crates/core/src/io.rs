//! Artifact I/O with fixed settings: Parquet tables, JSON documents, atomic writes.
//!
//! Every Parquet file riskpipe writes goes through [`ParquetSink`] with the same writer settings
//! (Snappy, 65,536-row groups, `created_by = riskpipe`), so the same data gives the same bytes.
//! Every file is written to a temporary sibling and renamed into place.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Date32Array, Float64Array, RecordBatch, RecordBatchReader, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::frame::{Column, ColumnKind, Frame};
use crate::{Error, Result};

/// Rows per Parquet row group and per streaming batch.
pub const ROW_GROUP_ROWS: usize = 65_536;

fn writer_props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("riskpipe".to_string())
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// A temporary path next to `path`, for write-then-rename.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// A temporary file beside its final path: removed when dropped (an error or a panic unwinding
/// through the writer) unless [`TempPath::persist`] renamed it into place.
#[derive(Debug)]
pub struct TempPath {
    path: PathBuf,
    done: bool,
}

impl TempPath {
    /// A temporary path beside `final_path` (nothing is created yet).
    pub fn beside(final_path: &Path) -> TempPath {
        TempPath {
            path: temp_sibling(final_path),
            done: false,
        }
    }

    /// The temporary path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the finished file to `final_path`.
    pub fn persist(mut self, final_path: &Path) -> Result<()> {
        fs_err::rename(&self.path, final_path)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Creates the parent folder of `path`, if it has one.
pub fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    Ok(())
}

/// Writes bytes to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    ensure_parent(path)?;
    let tmp = TempPath::beside(path);
    fs_err::write(tmp.path(), bytes)?;
    tmp.persist(path)
}

/// Writes a value as pretty JSON (keys in struct/BTreeMap order) with a trailing newline.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads a JSON artifact. A missing file, a folder or text that is not the expected JSON is a
/// user error naming the file (someone edited or replaced it).
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    check_is_file(path)?;
    let bytes = fs_err::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::data(
            path.display().to_string(),
            None,
            None,
            format!("is not the JSON riskpipe wrote here ({e})"),
        )
    })
}

/// Whether two paths name the same existing file (through `..`, symlinks or hard links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs_err::metadata(a), fs_err::metadata(b)) {
        (Ok(x), Ok(y)) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                x.dev() == y.dev() && x.ino() == y.ino()
            }
            #[cfg(not(unix))]
            {
                let _ = (x, y);
                matches!((a.canonicalize(), b.canonicalize()), (Ok(p), Ok(q)) if p == q)
            }
        }
        _ => false,
    }
}

/// A user error unless `path` is an existing regular file (not a folder).
pub fn check_is_file(path: &Path) -> Result<()> {
    if !path.exists() {
        return Err(Error::MissingInput {
            path: path.to_path_buf(),
            hint: None,
        });
    }
    if path.is_dir() {
        return Err(Error::data(
            path.display().to_string(),
            None,
            None,
            "is a folder; a file is expected here",
        ));
    }
    Ok(())
}

/// A Parquet file that cannot be read is the user's to fix: it is truncated, corrupt or not
/// Parquet at all.
fn pq_read_err(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error + '_ {
    move |e| {
        Error::data(
            path.display().to_string(),
            None,
            None,
            format!("cannot be read as Parquet ({e}); is it truncated or not a Parquet file?"),
        )
    }
}

/// A batch of a Parquet file that cannot be decoded (a corrupt page).
pub fn arrow_read_err(path: &Path) -> impl FnOnce(arrow_schema::ArrowError) -> Error + '_ {
    move |e| {
        Error::data(
            path.display().to_string(),
            None,
            None,
            format!("cannot be read as Parquet ({e}); is it truncated or corrupt?"),
        )
    }
}

fn pq_err(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error + '_ {
    move |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

/// The Arrow schema riskpipe uses for a frame's columns.
pub fn arrow_schema(names: &[String], kinds: &[ColumnKind]) -> SchemaRef {
    let fields: Vec<Field> = names
        .iter()
        .zip(kinds)
        .map(|(n, k)| {
            let dt = match k {
                ColumnKind::Number => DataType::Float64,
                ColumnKind::Text => DataType::Utf8,
                ColumnKind::Date => DataType::Date32,
            };
            Field::new(n, dt, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Converts a frame into an Arrow record batch (NaN numbers become nulls).
pub fn to_batch(frame: &Frame) -> Result<RecordBatch> {
    let kinds: Vec<ColumnKind> = frame.columns().iter().map(Column::kind).collect();
    let schema = arrow_schema(frame.names(), &kinds);
    let arrays: Vec<ArrayRef> = frame
        .columns()
        .iter()
        .map(|c| -> ArrayRef {
            match c {
                Column::Number(v) => Arc::new(Float64Array::from_iter(
                    v.iter().map(|x| if x.is_nan() { None } else { Some(*x) }),
                )),
                Column::Text(v) => Arc::new(StringArray::from_iter(v.iter().map(Option::as_deref))),
                Column::Date(v) => Arc::new(Date32Array::from(v.clone())),
            }
        })
        .collect();
    if arrays.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}

/// Converts an Arrow record batch into a frame. Integer and float columns become numbers.
pub fn from_batch(batch: &RecordBatch, file: &Path) -> Result<Frame> {
    let mut frame = Frame::new();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let col = array_to_column(array.as_ref()).ok_or_else(|| {
            Error::data(
                file.display().to_string(),
                None,
                Some(field.name()),
                format!(
                    "unsupported column type `{}`; use numbers, text or dates",
                    field.data_type()
                ),
            )
        })?;
        if frame.get(field.name()).is_some() {
            return Err(Error::data(
                file.display().to_string(),
                None,
                Some(field.name()),
                "the file names this column twice",
            ));
        }
        frame.push(field.name().clone(), col);
    }
    Ok(frame)
}

fn array_to_column(array: &dyn Array) -> Option<Column> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    let n = array.len();
    macro_rules! num {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            Column::Number(
                (0..n)
                    .map(|i| if a.is_null(i) { f64::NAN } else { a.value(i) as f64 })
                    .collect(),
            )
        }};
    }
    Some(match array.data_type() {
        DataType::Float64 => num!(Float64Type),
        DataType::Float32 => num!(Float32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int8 => num!(Int8Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::Boolean => {
            let a = array.as_boolean();
            Column::Number(
                (0..n)
                    .map(|i| {
                        if a.is_null(i) {
                            f64::NAN
                        } else if a.value(i) {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            )
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Column::Text(
                (0..n)
                    .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
                    .collect(),
            )
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Column::Text(
                (0..n)
                    .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
                    .collect(),
            )
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Column::Text(
                (0..n)
                    .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
                    .collect(),
            )
        }
        DataType::Date32 => {
            let a = array.as_primitive::<Date32Type>();
            Column::Date((0..n).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect())
        }
        _ => return None,
    })
}

/// A Parquet file being written batch by batch with riskpipe's fixed settings; it appears at
/// its final path only on [`ParquetSink::finish`].
pub struct ParquetSink {
    path: PathBuf,
    tmp: TempPath,
    writer: ArrowWriter<File>,
    rows: u64,
}

impl ParquetSink {
    /// Starts a file with the given schema.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        Self::create_with(path, schema, writer_props())
    }

    /// Starts a file without dictionary encoding: for columns of mostly distinct values (ids,
    /// scores), where a dictionary is built only to be abandoned.
    pub fn create_plain(path: &Path, schema: SchemaRef) -> Result<Self> {
        let props = writer_props().into_builder().set_dictionary_enabled(false).build();
        Self::create_with(path, schema, props)
    }

    fn create_with(path: &Path, schema: SchemaRef, props: WriterProperties) -> Result<Self> {
        ensure_parent(path)?;
        let tmp = TempPath::beside(path);
        let file = fs_err::File::create(tmp.path())?.into_parts().0;
        let writer = ArrowWriter::try_new(file, schema, Some(props)).map_err(pq_err(path))?;
        Ok(ParquetSink {
            path: path.to_path_buf(),
            tmp,
            writer,
            rows: 0,
        })
    }

    /// Appends a frame whose columns match the schema.
    pub fn write(&mut self, frame: &Frame) -> Result<()> {
        let batch = to_batch(frame)?;
        self.write_batch(&batch)
    }

    /// Appends a record batch.
    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.writer.write(batch).map_err(pq_err(&self.path))
    }

    /// Closes the file and renames it into place; returns the number of rows.
    pub fn finish(self) -> Result<u64> {
        self.writer.close().map_err(pq_err(&self.path))?;
        self.tmp.persist(&self.path)?;
        Ok(self.rows)
    }
}

/// Writes a whole frame to a Parquet file (atomically, fixed settings).
pub fn write_parquet(path: &Path, frame: &Frame) -> Result<u64> {
    let batch = to_batch(frame)?;
    let mut sink = ParquetSink::create(path, batch.schema())?;
    if frame.rows() > 0 {
        for start in (0..frame.rows()).step_by(ROW_GROUP_ROWS) {
            let len = ROW_GROUP_ROWS.min(frame.rows() - start);
            sink.write_batch(&batch.slice(start, len))?;
        }
    }
    sink.finish()
}

/// Opens a Parquet file for streaming in batches of `batch_rows`.
pub fn parquet_batches(path: &Path, batch_rows: usize) -> Result<ParquetRecordBatchReader> {
    open_builder(path)?
        .with_batch_size(batch_rows)
        .build()
        .map_err(pq_read_err(path))
}

/// Opens a Parquet file for streaming the named columns only (others are never decoded) in
/// batches of `batch_rows`; a name the file lacks is left out (the caller names it missing).
pub fn parquet_column_batches(path: &Path, batch_rows: usize, columns: &[&str]) -> Result<ParquetRecordBatchReader> {
    let builder = open_builder(path)?;
    let mask = parquet::arrow::ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    builder
        .with_projection(mask)
        .with_batch_size(batch_rows)
        .build()
        .map_err(pq_read_err(path))
}

/// A reader builder for an existing Parquet file (a missing file is a user error naming it).
fn open_builder(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    check_is_file(path)?;
    let file = fs_err::File::open(path)?.into_parts().0;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq_read_err(path))
}

/// Reads only the named columns of a Parquet file (unknown names are left out).
pub fn read_parquet_columns(path: &Path, columns: &[&str]) -> Result<Frame> {
    let builder = open_builder(path)?;
    let mask = parquet::arrow::ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(ROW_GROUP_ROWS)
        .build()
        .map_err(pq_read_err(path))?;
    let schema = reader.schema();
    let mut parts = Vec::new();
    for batch in reader {
        parts.push(from_batch(&batch.map_err(arrow_read_err(path))?, path)?);
    }
    if parts.is_empty() {
        return from_batch(&RecordBatch::new_empty(schema), path);
    }
    Ok(concat(parts))
}

/// Column names and kinds of a Parquet file, from its footer (no data read).
pub fn parquet_column_kinds(path: &Path) -> Result<Vec<(String, ColumnKind)>> {
    let builder = open_builder(path)?;
    Ok(builder
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let kind = match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColumnKind::Text,
                DataType::Date32 => ColumnKind::Date,
                _ => ColumnKind::Number,
            };
            (f.name().clone(), kind)
        })
        .collect())
}

/// A text column read as codes: `codes[row]` indexes `labels` (sorted), `None` for a null.
#[derive(Debug, Clone, PartialEq)]
pub struct TextCodes {
    /// Distinct values, sorted.
    pub labels: Vec<String>,
    /// Per row: index into `labels`, or `None` when missing.
    pub codes: Vec<Option<u32>>,
}

/// Reads one text column as codes, without a `String` per row: for group-bys on large files.
/// Errors name the file and column when the column is absent or not text.
pub fn read_parquet_text_codes(path: &Path, column: &str) -> Result<TextCodes> {
    use arrow_array::cast::AsArray;
    let reader = {
        let builder = open_builder(path)?;
        if builder.schema().field_with_name(column).is_err() {
            return Err(Error::ColumnNotFound {
                file: path.display().to_string(),
                column: column.to_string(),
                hint: String::new(),
            });
        }
        let mask = parquet::arrow::ProjectionMask::columns(builder.parquet_schema(), [column]);
        builder
            .with_projection(mask)
            .with_batch_size(ROW_GROUP_ROWS)
            .build()
            .map_err(pq_read_err(path))?
    };
    // First-seen codes; the last code is tried first, then the map (no allocation on a hit).
    let mut index: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    let mut seen: Vec<String> = Vec::new();
    let mut raw: Vec<Option<u32>> = Vec::new();
    let mut last = u32::MAX;
    let mut code = |v: &str, index: &mut std::collections::BTreeMap<String, u32>| -> u32 {
        if seen.get(last as usize).is_some_and(|l| l == v) {
            return last;
        }
        last = match index.get(v) {
            Some(c) => *c,
            None => {
                let c = seen.len() as u32;
                index.insert(v.to_string(), c);
                seen.push(v.to_string());
                c
            }
        };
        last
    };
    for batch in reader {
        let batch = batch.map_err(arrow_read_err(path))?;
        let Some(array) = batch.column_by_name(column) else {
            break;
        };
        let not_text = || Error::Internal(format!("{}: column `{column}` is not text", path.display()));
        match array.data_type() {
            DataType::Utf8 => {
                let a = array.as_string::<i32>();
                raw.extend((0..a.len()).map(|i| (!a.is_null(i)).then(|| code(a.value(i), &mut index))));
            }
            DataType::LargeUtf8 => {
                let a = array.as_string::<i64>();
                raw.extend((0..a.len()).map(|i| (!a.is_null(i)).then(|| code(a.value(i), &mut index))));
            }
            DataType::Utf8View => {
                let a = array.as_string_view();
                raw.extend((0..a.len()).map(|i| (!a.is_null(i)).then(|| code(a.value(i), &mut index))));
            }
            _ => return Err(not_text()),
        }
    }
    // Renumber so that codes follow the sorted labels.
    let mut remap = vec![0u32; index.len()];
    let labels: Vec<String> = index
        .into_iter()
        .enumerate()
        .map(|(sorted, (label, first))| {
            remap[first as usize] = sorted as u32;
            label
        })
        .collect();
    let codes = raw.into_iter().map(|c| c.map(|c| remap[c as usize])).collect();
    Ok(TextCodes { labels, codes })
}

/// Reads a whole Parquet file into a frame.
pub fn read_parquet(path: &Path) -> Result<Frame> {
    let reader = parquet_batches(path, ROW_GROUP_ROWS)?;
    let schema = reader.schema();
    let mut parts = Vec::new();
    for batch in reader {
        let batch = batch.map_err(arrow_read_err(path))?;
        parts.push(from_batch(&batch, path)?);
    }
    if parts.is_empty() {
        return from_batch(&RecordBatch::new_empty(schema), path);
    }
    Ok(concat(parts))
}

/// Concatenates frames with the same columns.
pub fn concat(mut parts: Vec<Frame>) -> Frame {
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    let names = parts[0].names().to_vec();
    let mut out = Frame::new();
    for (ci, name) in names.iter().enumerate() {
        let col = match &parts[0].columns()[ci] {
            Column::Number(_) => Column::Number(
                parts
                    .iter()
                    .flat_map(|p| match &p.columns()[ci] {
                        Column::Number(v) => v.clone(),
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
            Column::Text(_) => Column::Text(
                parts
                    .iter()
                    .flat_map(|p| match &p.columns()[ci] {
                        Column::Text(v) => v.clone(),
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
            Column::Date(_) => Column::Date(
                parts
                    .iter()
                    .flat_map(|p| match &p.columns()[ci] {
                        Column::Date(v) => v.clone(),
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
        };
        out.push(name.clone(), col);
    }
    parts.clear();
    out
}

/// Writes a frame as CSV (header, `,` separator, missing values empty, dates `YYYY-MM-DD`),
/// atomically.
pub fn write_csv(path: &Path, frame: &Frame) -> Result<u64> {
    ensure_parent(path)?;
    let tmp = TempPath::beside(path);
    {
        let file = fs_err::File::create(tmp.path())?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        let csv_err = |e: csv::Error| Error::Io(std::io::Error::other(format!("{}: {e}", path.display())));
        w.write_record(frame.names()).map_err(csv_err)?;
        let mut rec: Vec<String> = vec![String::new(); frame.names().len()];
        for i in 0..frame.rows() {
            for (j, c) in frame.columns().iter().enumerate() {
                rec[j] = match c {
                    Column::Number(v) if !v[i].is_nan() => format!("{}", v[i]),
                    _ => c.display(i).unwrap_or_default(),
                };
            }
            w.write_record(&rec).map_err(csv_err)?;
        }
        w.flush()?;
    }
    tmp.persist(path)?;
    Ok(frame.rows() as u64)
}

/// Rows of a Parquet file, from its footer.
pub fn parquet_rows(path: &Path) -> Result<u64> {
    let file = fs_err::File::open(path)?.into_parts().0;
    let b = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq_read_err(path))?;
    Ok(b.metadata().file_metadata().num_rows() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Frame {
        let mut f = Frame::new();
        f.push("x", Column::Number(vec![1.5, f64::NAN, -3.0]));
        f.push("s", Column::Text(vec![Some("a".into()), None, Some("ç".into())]));
        f.push("d", Column::Date(vec![Some(0), Some(19_000), None]));
        f
    }

    #[test]
    fn parquet_round_trip_and_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p1 = dir.path().join("a.parquet");
        let p2 = dir.path().join("b.parquet");
        write_parquet(&p1, &sample()).unwrap();
        write_parquet(&p2, &sample()).unwrap();
        let back = read_parquet(&p1).unwrap();
        assert_eq!(back.names(), sample().names());
        assert!(back.number("x").unwrap()[1].is_nan());
        assert_eq!(back.get("s"), sample().get("s"));
        assert_eq!(back.get("d"), sample().get("d"));
        assert_eq!(fs_err::read(&p1).unwrap(), fs_err::read(&p2).unwrap());
        // No temporary file left behind.
        assert_eq!(fs_err::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn text_codes_follow_sorted_labels_and_name_bad_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        let mut f = Frame::new();
        let vals = ["rent", "own", "rent", "", "mortgage"];
        f.push(
            "h",
            Column::Text(vals.iter().map(|v| (!v.is_empty()).then(|| v.to_string())).collect()),
        );
        f.push("x", Column::Number(vec![1.0; 5]));
        write_parquet(&p, &f).unwrap();
        let t = read_parquet_text_codes(&p, "h").unwrap();
        assert_eq!(t.labels, ["mortgage", "own", "rent"]);
        assert_eq!(t.codes, [Some(2), Some(1), Some(2), None, Some(0)]);
        let kinds = parquet_column_kinds(&p).unwrap();
        assert_eq!(
            kinds,
            [
                ("h".to_string(), ColumnKind::Text),
                ("x".to_string(), ColumnKind::Number)
            ]
        );
        let e = read_parquet_text_codes(&p, "nope").unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("t.parquet"), "{e}");
        let e = read_parquet_text_codes(&p, "x").unwrap_err().to_string();
        assert!(e.contains("not text"), "{e}");
    }
}

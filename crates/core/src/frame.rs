//! `Frame`: the small columnar table every stage works on.
//!
//! Three column kinds cover the pipeline: numbers (`f64`, missing = NaN), text (missing = `None`)
//! and dates (days since 1970-01-01). Tables on disk are Parquet; see [`crate::io`].

use serde::{Deserialize, Serialize};

/// The kind of a column, as recorded in `schema.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// 64-bit float; missing is NaN.
    Number,
    /// UTF-8 text.
    Text,
    /// Calendar date.
    Date,
}

/// One column of data. Equality treats two missing numbers (NaN) as equal.
#[derive(Debug, Clone)]
pub enum Column {
    /// Numbers; missing values are NaN.
    Number(Vec<f64>),
    /// Text; missing values are `None`.
    Text(Vec<Option<String>>),
    /// Dates as days since 1970-01-01; missing values are `None`.
    Date(Vec<Option<i32>>),
}

impl PartialEq for Column {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Column::Number(a), Column::Number(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
            }
            (Column::Text(a), Column::Text(b)) => a == b,
            (Column::Date(a), Column::Date(b)) => a == b,
            _ => false,
        }
    }
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Number(v) => v.len(),
            Column::Text(v) => v.len(),
            Column::Date(v) => v.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column's kind.
    pub fn kind(&self) -> ColumnKind {
        match self {
            Column::Number(_) => ColumnKind::Number,
            Column::Text(_) => ColumnKind::Text,
            Column::Date(_) => ColumnKind::Date,
        }
    }

    /// Number of missing values.
    pub fn missing(&self) -> usize {
        match self {
            Column::Number(v) => v.iter().filter(|x| x.is_nan()).count(),
            Column::Text(v) => v.iter().filter(|x| x.is_none()).count(),
            Column::Date(v) => v.iter().filter(|x| x.is_none()).count(),
        }
    }

    /// The rows at `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> Column {
        match self {
            Column::Number(v) => Column::Number(idx.iter().map(|&i| v[i]).collect()),
            Column::Text(v) => Column::Text(idx.iter().map(|&i| v[i].clone()).collect()),
            Column::Date(v) => Column::Date(idx.iter().map(|&i| v[i]).collect()),
        }
    }

    /// An empty column of a kind, with room for `capacity` rows.
    pub fn with_capacity(kind: ColumnKind, capacity: usize) -> Column {
        match kind {
            ColumnKind::Number => Column::Number(Vec::with_capacity(capacity)),
            ColumnKind::Text => Column::Text(Vec::with_capacity(capacity)),
            ColumnKind::Date => Column::Date(Vec::with_capacity(capacity)),
        }
    }

    /// Parses one text cell (from CSV) and appends it; `missing` says the cell is a missing-value
    /// token. On a value that does not parse, returns what was expected (`a number`, ...).
    pub fn push_parsed(&mut self, v: &str, missing: bool) -> Result<(), &'static str> {
        match self {
            Column::Number(c) if missing => c.push(f64::NAN),
            Column::Number(c) => c.push(parse_number(v).ok_or("a number")?),
            Column::Text(c) => c.push((!missing).then(|| v.to_string())),
            Column::Date(c) if missing => c.push(None),
            Column::Date(c) => c.push(Some(parse_date(v.trim()).ok_or("a date `YYYY-MM-DD`")?)),
        }
        Ok(())
    }

    /// The value at row `i` rendered as text (for ids and reports); `None` when missing.
    pub fn display(&self, i: usize) -> Option<String> {
        match self {
            Column::Number(v) => {
                let x = v[i];
                if x.is_nan() {
                    None
                } else if x.fract() == 0.0 && x.abs() < 1e15 {
                    Some(format!("{}", x as i64))
                } else {
                    Some(format!("{x}"))
                }
            }
            Column::Text(v) => v[i].clone(),
            Column::Date(v) => v[i].map(format_date),
        }
    }
}

/// A table: named columns of equal length, in a fixed order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    names: Vec<String>,
    columns: Vec<Column>,
}

impl Frame {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a column. Panics if the name exists or the length differs: both are
    /// programming errors, never user input.
    pub fn push(&mut self, name: impl Into<String>, col: Column) {
        let name = name.into();
        assert!(self.index(&name).is_none(), "duplicate column {name}");
        if let Some(first) = self.columns.first() {
            assert_eq!(first.len(), col.len(), "column {name} has a different length");
        }
        self.names.push(name);
        self.columns.push(col);
    }

    /// The columns with their names, in order, consuming the table.
    pub fn into_columns(self) -> impl Iterator<Item = (String, Column)> {
        self.names.into_iter().zip(self.columns)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// Column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Position of a column.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// A column by name.
    pub fn get(&self, name: &str) -> Option<&Column> {
        self.index(name).map(|i| &self.columns[i])
    }

    /// A numeric column by name.
    pub fn number(&self, name: &str) -> Option<&[f64]> {
        match self.get(name) {
            Some(Column::Number(v)) => Some(v),
            _ => None,
        }
    }

    /// Removes a column and returns it.
    pub fn remove(&mut self, name: &str) -> Option<Column> {
        let i = self.index(name)?;
        self.names.remove(i);
        Some(self.columns.remove(i))
    }

    /// Replaces a column in place (same position).
    pub fn replace(&mut self, name: &str, col: Column) {
        let i = self.index(name).expect("replace: column exists");
        assert_eq!(self.columns[i].len(), col.len());
        self.columns[i] = col;
    }

    /// The rows at `idx`.
    pub fn take(&self, idx: &[usize]) -> Frame {
        Frame {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(idx)).collect(),
        }
    }

    /// Splits the table at row `at`: `self` keeps the rows before it, the rows from it on are
    /// returned (same columns).
    pub fn split_off(&mut self, at: usize) -> Frame {
        Frame {
            names: self.names.clone(),
            columns: self
                .columns
                .iter_mut()
                .map(|c| match c {
                    Column::Number(v) => Column::Number(v.split_off(at)),
                    Column::Text(v) => Column::Text(v.split_off(at)),
                    Column::Date(v) => Column::Date(v.split_off(at)),
                })
                .collect(),
        }
    }

    /// Appends the rows of `other`, which has the same columns in the same order and kinds (a
    /// programming error otherwise, never user input).
    pub fn append(&mut self, other: Frame) {
        assert_eq!(self.names, other.names, "append: the columns differ");
        for (c, o) in self.columns.iter_mut().zip(other.columns) {
            match (c, o) {
                (Column::Number(a), Column::Number(b)) => a.extend(b),
                (Column::Text(a), Column::Text(b)) => a.extend(b),
                (Column::Date(a), Column::Date(b)) => a.extend(b),
                _ => panic!("append: column kinds differ"),
            }
        }
    }

    /// A user error at the first infinite number (missing values are NaN; infinities are not
    /// values riskpipe can bin or score). `first_row` is the 1-based data row of row 0.
    pub fn check_finite(&self, file: &str, first_row: u64) -> crate::Result<()> {
        for (name, col) in self.iter() {
            if let Column::Number(v) = col {
                if let Some(i) = v.iter().position(|x| x.is_infinite()) {
                    return Err(crate::Error::data(
                        file,
                        Some(first_row + i as u64),
                        Some(name),
                        format!("`{}` is not a finite number; write missing values as null", v[i]),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Iterates over (name, column).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Column)> {
        self.names.iter().map(String::as_str).zip(self.columns.iter())
    }
}

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses a finite number (surrounding spaces allowed).
pub fn parse_number(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Formats days since 1970-01-01 as `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-02-29").map(format_date).as_deref(), Some("2024-02-29"));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        for z in (-50_000..50_000).step_by(37) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn split_off_and_append_give_back_the_table() {
        let mut f = Frame::new();
        f.push("x", Column::Number(vec![1.0, f64::NAN, 3.0]));
        f.push("s", Column::Text(vec![Some("a".into()), None, Some("c".into())]));
        f.push("d", Column::Date(vec![Some(1), Some(2), None]));
        let whole = f.clone();
        let tail = f.split_off(1);
        assert_eq!((f.rows(), tail.rows()), (1, 2));
        assert_eq!(tail.get("s"), Some(&Column::Text(vec![None, Some("c".into())])));
        f.append(tail);
        assert_eq!(f, whole);
    }

    #[test]
    fn take_and_missing() {
        let mut f = Frame::new();
        f.push("x", Column::Number(vec![1.0, f64::NAN, 3.0]));
        f.push("s", Column::Text(vec![Some("a".into()), None, Some("c".into())]));
        assert_eq!(f.get("x").unwrap().missing(), 1);
        let t = f.take(&[2, 0]);
        assert_eq!(t.number("x").unwrap(), &[3.0, 1.0]);
        assert_eq!(t.get("s").unwrap().display(0).as_deref(), Some("c"));
    }
}

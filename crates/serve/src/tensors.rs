//! Request bodies to the scorer's raw frame, and its output frame back to JSON: the Open
//! Inference Protocol's tensors (one per column, batch along the first dimension) and MLflow's
//! `dataframe_split` / `dataframe_records`.

use serde_json::{Map, Value};

use riskpipe_core::{Column, ColumnKind, Frame};
use riskpipe_scoring::InputColumn;

/// A request the service cannot score, with its HTTP status (400: malformed; 422: well formed
/// but not scorable) and a message naming the field.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// HTTP status.
    pub status: u16,
    /// What is wrong.
    pub message: String,
}

fn bad(message: impl Into<String>) -> Rejected {
    Rejected {
        status: 400,
        message: message.into(),
    }
}

/// The V2 datatype of a column kind (inputs) or output column.
pub fn datatype(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Number => "FP64",
        ColumnKind::Text | ColumnKind::Date => "BYTES",
    }
}

fn is_numeric_type(t: &str) -> bool {
    matches!(
        t,
        "FP64" | "FP32" | "FP16" | "INT64" | "INT32" | "INT16" | "INT8" | "UINT64" | "UINT32" | "UINT16" | "UINT8"
    )
}

/// One column of `n` JSON cells as the bundle's kind: numbers (null is missing), text (a number
/// is taken as its text), dates as `YYYY-MM-DD` text.
fn column(name: &str, kind: ColumnKind, cells: &[&Value]) -> Result<Column, Rejected> {
    let wrong = |i: usize, v: &Value, want: &str| bad(format!("input `{name}`, row {}: {v} is not {want}", i + 1));
    Ok(match kind {
        ColumnKind::Number => Column::Number(
            cells
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Null => Ok(f64::NAN),
                    Value::Number(x) => x.as_f64().ok_or_else(|| wrong(i, v, "a number")),
                    _ => Err(wrong(i, v, "a number")),
                })
                .collect::<Result<_, _>>()?,
        ),
        ColumnKind::Text => Column::Text(
            cells
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Null => Ok(None),
                    Value::String(s) => Ok(Some(s.clone())),
                    Value::Number(x) => Ok(Some(x.to_string())),
                    _ => Err(wrong(i, v, "text")),
                })
                .collect::<Result<_, _>>()?,
        ),
        ColumnKind::Date => Column::Date(
            cells
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Null => Ok(None),
                    Value::String(s) => riskpipe_core::frame::parse_date(s)
                        .map(Some)
                        .ok_or_else(|| wrong(i, v, "a date (YYYY-MM-DD)")),
                    _ => Err(wrong(i, v, "a date (YYYY-MM-DD)")),
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| flatten(x, out)),
        x => out.push(x),
    }
}

fn missing(name: &str, inputs: &[InputColumn]) -> Rejected {
    bad(format!(
        "input `{name}` is missing; the model reads {}",
        inputs
            .iter()
            .map(|c| format!("`{}`", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// A V2 inference request's `inputs` as the raw frame the bundle reads (other tensors are
/// ignored).
pub fn v2_frame(body: &Value, inputs: &[InputColumn]) -> Result<Frame, Rejected> {
    let Some(tensors) = body.get("inputs").and_then(Value::as_array) else {
        return Err(bad("the request has no `inputs` array"));
    };
    let mut rows: Option<usize> = None;
    let mut frame = Frame::new();
    for c in inputs {
        let Some(t) = tensors
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(&c.name))
        else {
            return Err(missing(&c.name, inputs));
        };
        let dt = t.get("datatype").and_then(Value::as_str).unwrap_or_default();
        let want = datatype(c.kind);
        if !(dt == want || (want == "FP64" && is_numeric_type(dt))) {
            return Err(bad(format!(
                "input `{}` has datatype `{dt}`; the model reads it as {want}",
                c.name
            )));
        }
        let shape: Vec<u64> = t
            .get("shape")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        let mut cells = Vec::new();
        flatten(t.get("data").unwrap_or(&Value::Null), &mut cells);
        let n = shape.first().copied().unwrap_or(0) as usize;
        if shape.is_empty()
            || shape.iter().product::<u64>() as usize != cells.len()
            || shape[1..].iter().any(|d| *d != 1)
        {
            return Err(bad(format!(
                "input `{}`: shape {shape:?} does not hold its {} values as one column ([rows] or [rows, 1])",
                c.name,
                cells.len()
            )));
        }
        if *rows.get_or_insert(n) != n {
            return Err(bad(format!(
                "input `{}` has {n} rows, the other inputs {}",
                c.name,
                rows.unwrap_or(0)
            )));
        }
        frame.push(c.name.clone(), column(&c.name, c.kind, &cells)?);
    }
    if rows == Some(0) {
        return Err(bad("the request has no rows"));
    }
    Ok(frame)
}

/// An MLflow-style body, `dataframe_split` (`columns` and `data` rows) or `dataframe_records`
/// (one object per row), as the raw frame the bundle reads.
pub fn mlflow_frame(body: &Value, inputs: &[InputColumn]) -> Result<Frame, Rejected> {
    let mut frame = Frame::new();
    if let Some(split) = body.get("dataframe_split") {
        let columns: Vec<&str> = split
            .get("columns")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .ok_or_else(|| bad("`dataframe_split` has no `columns`"))?;
        let rows = split
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("`dataframe_split` has no `data`"))?;
        for (i, r) in rows.iter().enumerate() {
            if r.as_array().map(Vec::len) != Some(columns.len()) {
                return Err(bad(format!(
                    "`dataframe_split.data` row {} does not have the {} values of `columns`",
                    i + 1,
                    columns.len()
                )));
            }
        }
        for c in inputs {
            let j = columns
                .iter()
                .position(|n| *n == c.name)
                .ok_or_else(|| missing(&c.name, inputs))?;
            let cells: Vec<&Value> = rows.iter().map(|r| &r[j]).collect();
            frame.push(c.name.clone(), column(&c.name, c.kind, &cells)?);
        }
        if rows.is_empty() {
            return Err(bad("the request has no rows"));
        }
    } else if let Some(records) = body.get("dataframe_records").and_then(Value::as_array) {
        if records.is_empty() {
            return Err(bad("the request has no rows"));
        }
        for c in inputs {
            let cells: Vec<&Value> = records
                .iter()
                .map(|r| r.get(&c.name).ok_or_else(|| missing(&c.name, inputs)))
                .collect::<Result<_, _>>()?;
            frame.push(c.name.clone(), column(&c.name, c.kind, &cells)?);
        }
    } else {
        return Err(bad("the body holds neither `dataframe_split` nor `dataframe_records`"));
    }
    Ok(frame)
}

/// Row `i` of `c` as JSON (a missing number or text is null).
pub fn cell(c: &Column, i: usize) -> Value {
    match c {
        Column::Number(v) if v[i].is_finite() => Value::from(v[i]),
        Column::Text(v) => v[i].clone().map_or(Value::Null, Value::String),
        Column::Date(_) => c.display(i).map_or(Value::Null, Value::String),
        Column::Number(_) => Value::Null,
    }
}

/// The scorer's output frame as V2 output tensors.
pub fn v2_outputs(out: &Frame) -> Vec<Value> {
    out.iter()
        .map(|(name, c)| {
            let n = c.len();
            serde_json::json!({
                "name": name,
                "datatype": datatype(c.kind()),
                "shape": [n],
                "data": (0..n).map(|i| cell(c, i)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The scorer's output frame as one JSON object per row.
pub fn records(out: &Frame) -> Vec<Map<String, Value>> {
    (0..out.rows())
        .map(|i| out.iter().map(|(name, c)| (name.to_string(), cell(c, i))).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Vec<InputColumn> {
        vec![
            InputColumn {
                name: "income".into(),
                kind: ColumnKind::Number,
            },
            InputColumn {
                name: "housing".into(),
                kind: ColumnKind::Text,
            },
        ]
    }

    #[test]
    fn v2_tensors_and_mlflow_frames_read_the_same_rows() {
        let v2 = serde_json::json!({"inputs": [
            {"name": "housing", "datatype": "BYTES", "shape": [2, 1], "data": [["rent"], [null]]},
            {"name": "income", "datatype": "INT64", "shape": [2], "data": [40000, null]},
            {"name": "ignored", "datatype": "FP64", "shape": [1], "data": [1]},
        ]});
        let a = v2_frame(&v2, &inputs()).unwrap();
        let split = serde_json::json!({"dataframe_split": {"columns": ["income", "housing"], "data": [[40000, "rent"], [null, null]]}});
        let records = serde_json::json!({"dataframe_records": [{"income": 40000, "housing": "rent"}, {"income": null, "housing": null}]});
        assert_eq!(mlflow_frame(&split, &inputs()).unwrap(), a);
        assert_eq!(mlflow_frame(&records, &inputs()).unwrap(), a);
        assert_eq!(a.number("income").unwrap()[0], 40000.0);
        assert!(a.number("income").unwrap()[1].is_nan());
    }

    #[test]
    fn bad_requests_name_the_input() {
        let reject = |body: Value| v2_frame(&body, &inputs()).unwrap_err().message;
        let m =
            reject(serde_json::json!({"inputs": [{"name": "income", "datatype": "FP64", "shape": [1], "data": [1]}]}));
        assert!(m.contains("`housing` is missing"), "{m}");
        let m = reject(serde_json::json!({"inputs": [
            {"name": "income", "datatype": "BYTES", "shape": [1], "data": ["x"]},
            {"name": "housing", "datatype": "BYTES", "shape": [1], "data": ["rent"]}]}));
        assert!(m.contains("`income` has datatype `BYTES`"), "{m}");
        let m = reject(serde_json::json!({"inputs": [
            {"name": "income", "datatype": "FP64", "shape": [2], "data": [1, "x"]},
            {"name": "housing", "datatype": "BYTES", "shape": [2], "data": ["a", "b"]}]}));
        assert!(m.contains("input `income`, row 2"), "{m}");
        let m = reject(serde_json::json!({"inputs": [
            {"name": "income", "datatype": "FP64", "shape": [3], "data": [1, 2]},
            {"name": "housing", "datatype": "BYTES", "shape": [2], "data": ["a", "b"]}]}));
        assert!(m.contains("shape"), "{m}");
        assert!(reject(serde_json::json!({"x": 1})).contains("no `inputs`"));
    }
}

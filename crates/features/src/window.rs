//! Window aggregates per entity over a time column, without look-ahead: the velocity features
//! of fraud detection, computed with polars' rolling windows by group.
//!
//! For a row at time `t`:
//! - a plain window of `w` days covers `(t - w, t]`, the row itself included: the entity's
//!   count of rows and mean of a value there (a customer's spending) and, when asked for, the
//!   row's value over that mean (an amount five times the customer's usual: 5);
//! - a delayed window covers `(t - delay - w, t - delay]`: only rows whose labels are known by
//!   `t` (the label arrives `delay` days late). Its count and the share of those rows labelled 1
//!   (a terminal's fraud ratio), 0 for an empty window. It is the window of `delay + w` days
//!   less the window of `delay` days, both ending at `t`.
//!
//! Row order is kept: the rows are sorted by entity and time for polars (stably) and put back.
//! Rows of one entity at the same second all fall in each other's windows.

use polars::prelude::{
    ClosedWindow, DataFrame, DataType, Duration, Expr, IntoLazy, RollingOptionsDynamicWindow, TimeUnit, col, lit,
};
use riskpipe_core::{Column, Error, Frame, Result};

/// One entity's windows.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityWindows {
    /// The entity column (customer, terminal); numbers or text, none missing.
    pub entity: String,
    /// Window lengths in days.
    pub days: Vec<u32>,
    /// What to aggregate.
    pub aggregate: Aggregate,
}

/// What an entity's windows hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregate {
    /// Count and mean of `value` in plain windows: `<entity>_NB_TX_<w>DAY_WINDOW`,
    /// `<entity>_AVG_AMOUNT_<w>DAY_WINDOW`; with `ratio`, also the row's value over that mean,
    /// `<entity>_AMOUNT_RATIO_<w>DAY_WINDOW` (1 when the mean is 0).
    CountMean {
        /// The value column (an amount).
        value: String,
        /// Whether the ratio columns are added.
        ratio: bool,
    },
    /// Count and share of `label` = 1 in windows delayed by `delay` days:
    /// `<entity>_NB_TX_<w>DAY_WINDOW`, `<entity>_RISK_<w>DAY_WINDOW`.
    DelayedRatio {
        /// The 0/1 label column.
        label: String,
        /// Days until a label is known.
        delay: u32,
    },
}

/// The names of the columns [`window_features`] adds for `spec`, in order.
pub fn window_names(spec: &EntityWindows) -> Vec<String> {
    let e = &spec.entity;
    let (second, ratio) = match spec.aggregate {
        Aggregate::CountMean { ratio, .. } => ("AVG_AMOUNT", ratio),
        Aggregate::DelayedRatio { .. } => ("RISK", false),
    };
    spec.days
        .iter()
        .flat_map(|w| {
            [
                Some(format!("{e}_NB_TX_{w}DAY_WINDOW")),
                Some(format!("{e}_{second}_{w}DAY_WINDOW")),
                ratio.then(|| format!("{e}_AMOUNT_RATIO_{w}DAY_WINDOW")),
            ]
        })
        .flatten()
        .collect()
}

fn polars_err(what: &str) -> impl Fn(polars::prelude::PolarsError) -> Error + '_ {
    move |e| Error::Internal(format!("window features ({what}): {e}"))
}

/// The window columns of `spec` for the rows of `frame`, whose `time` column holds seconds
/// (any origin). `file` names the input in errors: a missing column, a missing entity or time.
pub fn window_features(frame: &Frame, time: &str, spec: &EntityWindows, file: &str) -> Result<Vec<(String, Column)>> {
    let n = frame.rows();
    let number = |name: &str| -> Result<&[f64]> {
        frame.number(name).ok_or_else(|| match frame.get(name) {
            None => Error::ColumnNotFound {
                column: name.to_string(),
                file: file.to_string(),
                hint: "; asked for by the window features".into(),
            },
            Some(_) => Error::data(file, None, Some(name), "must hold numbers"),
        })
    };
    let seconds = number(time)?;
    if let Some(row) = seconds.iter().position(|s| !s.is_finite()) {
        return Err(Error::data(
            file,
            Some(row as u64 + 1),
            Some(time),
            "the time is missing",
        ));
    }
    let entity: polars::prelude::Column = match frame.get(&spec.entity) {
        None => {
            return Err(Error::ColumnNotFound {
                column: spec.entity.clone(),
                file: file.to_string(),
                hint: "; asked for by the window features".into(),
            });
        }
        Some(Column::Number(v)) => {
            if let Some(row) = v.iter().position(|x| x.is_nan()) {
                return Err(Error::data(
                    file,
                    Some(row as u64 + 1),
                    Some(&spec.entity),
                    "the entity is missing",
                ));
            }
            polars::prelude::Column::new("entity".into(), v.as_slice())
        }
        Some(Column::Text(v)) => {
            if let Some(row) = v.iter().position(Option::is_none) {
                return Err(Error::data(
                    file,
                    Some(row as u64 + 1),
                    Some(&spec.entity),
                    "the entity is missing",
                ));
            }
            let s: Vec<&str> = v.iter().map(|x| x.as_deref().unwrap_or_default()).collect();
            polars::prelude::Column::new("entity".into(), s)
        }
        Some(Column::Date(_)) => {
            return Err(Error::data(
                file,
                None,
                Some(&spec.entity),
                "an entity cannot be a date",
            ));
        }
    };
    let millis: Vec<i64> = seconds.iter().map(|s| (s * 1000.0).round() as i64).collect();
    let (value, days_back): (&[f64], u32) = match &spec.aggregate {
        Aggregate::CountMean { value, .. } => (number(value)?, 0),
        Aggregate::DelayedRatio { label, delay } => (number(label)?, *delay),
    };
    let df = DataFrame::new(
        n,
        vec![
            entity,
            polars::prelude::Column::new("ms".into(), millis),
            polars::prelude::Column::new("v".into(), value),
        ],
    )
    .map_err(polars_err("frame"))?;
    let window = |days: u32| RollingOptionsDynamicWindow {
        window_size: Duration::parse(&format!("{days}d")),
        min_periods: 1,
        closed_window: ClosedWindow::Right,
        fn_params: None,
    };
    let t = || col("t");
    let ones = || col("v").is_not_null().cast(DataType::Float64);
    let by_entity = |e: Expr| e.over([col("entity")]).map_err(polars_err("over"));
    let ratio = matches!(spec.aggregate, Aggregate::CountMean { ratio: true, .. });
    let mut exprs: Vec<Expr> = Vec::new();
    for &w in &spec.days {
        match spec.aggregate {
            Aggregate::CountMean { .. } => {
                exprs.push(by_entity(ones().rolling_sum_by(t(), window(w)))?.alias(format!("n{w}")));
                let mean = by_entity(col("v").rolling_mean_by(t(), window(w)))?;
                exprs.push(mean.clone().alias(format!("m{w}")));
                if ratio {
                    exprs.push(
                        polars::prelude::when(mean.clone().eq(lit(0.0)))
                            .then(lit(1.0))
                            .otherwise(col("v") / mean)
                            .alias(format!("r{w}")),
                    );
                }
            }
            Aggregate::DelayedRatio { .. } => {
                let long = days_back + w;
                let count = |d: u32| -> Result<Expr> {
                    if d == 0 {
                        return Ok(lit(0.0));
                    }
                    by_entity(ones().rolling_sum_by(t(), window(d)))
                };
                let frauds = |d: u32| -> Result<Expr> {
                    if d == 0 {
                        return Ok(lit(0.0));
                    }
                    by_entity(col("v").rolling_sum_by(t(), window(d)))
                };
                let nb = count(long)? - count(days_back)?;
                let fr = frauds(long)? - frauds(days_back)?;
                exprs.push(nb.clone().alias(format!("n{w}")));
                exprs.push(
                    polars::prelude::when(nb.clone().gt(lit(0.0)))
                        .then(fr / nb)
                        .otherwise(lit(0.0))
                        .alias(format!("m{w}")),
                );
            }
        }
    }
    let out = df
        .lazy()
        .with_row_index("row", None)
        .with_column(
            col("ms")
                .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
                .alias("t"),
        )
        // Stable: rows of one entity at one second are summed in row order, as event-order
        // scoring sums them (`crate::event_state`).
        .sort(
            ["entity", "t"],
            polars::prelude::SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_columns(exprs)
        .sort(["row"], Default::default())
        .collect()
        .map_err(polars_err("collect"))?;
    let names = window_names(spec);
    let mut cols = Vec::with_capacity(names.len());
    let shorts = spec.days.iter().flat_map(|w| {
        [
            Some(format!("n{w}")),
            Some(format!("m{w}")),
            ratio.then(|| format!("r{w}")),
        ]
        .into_iter()
        .flatten()
    });
    for (name, short) in names.iter().zip(shorts) {
        {
            let s = out
                .column(&short)
                .map_err(polars_err("column"))?
                .as_materialized_series()
                .cast(&DataType::Float64)
                .map_err(polars_err("cast"))?;
            // Every window holds its own row, so no value is null (`cont_slice` needs none).
            let ca = s.f64().map_err(polars_err("f64"))?.rechunk();
            let v: Vec<f64> = ca.cont_slice().map_err(polars_err("values"))?.to_vec();
            cols.push((name.clone(), Column::Number(v)));
        }
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same windows by brute force: every row against every row of its entity.
    fn reference(ent: &[f64], sec: &[f64], v: &[f64], days: u32, delay: Option<u32>) -> (Vec<f64>, Vec<f64>) {
        let (mut n, mut m) = (Vec::new(), Vec::new());
        for i in 0..ent.len() {
            let (lo, hi) = match delay {
                None => (sec[i] - f64::from(days) * 86_400.0, sec[i]),
                Some(d) => (
                    sec[i] - f64::from(d + days) * 86_400.0,
                    sec[i] - f64::from(d) * 86_400.0,
                ),
            };
            let rows: Vec<usize> = (0..ent.len())
                .filter(|&j| ent[j] == ent[i] && sec[j] > lo && sec[j] <= hi)
                .collect();
            let sum: f64 = rows.iter().map(|&j| v[j]).sum();
            n.push(rows.len() as f64);
            m.push(match (delay, rows.len()) {
                (None, 0) => f64::NAN,
                (Some(_), 0) => 0.0,
                (_, k) => sum / k as f64,
            });
        }
        (n, m)
    }

    fn table(seed: u64, rows: usize) -> Frame {
        let mut rng = riskpipe_core::Rng::new(seed);
        let mut f = Frame::new();
        // Unsorted times over 60 days, some shared seconds, 7 entities.
        let sec: Vec<f64> = (0..rows)
            .map(|_| (rng.uniform() * 60.0 * 86_400.0 / 600.0).floor() * 600.0)
            .collect();
        f.push("ent", Column::Number((0..rows).map(|_| rng.below(7) as f64).collect()));
        f.push("sec", Column::Number(sec));
        f.push(
            "amount",
            Column::Number((0..rows).map(|_| (rng.uniform() * 100.0).round()).collect()),
        );
        f.push(
            "y",
            Column::Number((0..rows).map(|_| f64::from(u8::from(rng.uniform() < 0.2))).collect()),
        );
        f
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9)
    }

    #[test]
    fn plain_and_delayed_windows_match_brute_force_on_every_row() {
        let f = table(3, 600);
        let (ent, sec) = (f.number("ent").unwrap(), f.number("sec").unwrap());
        let spend = EntityWindows {
            entity: "ent".into(),
            days: vec![1, 7, 30],
            aggregate: Aggregate::CountMean {
                value: "amount".into(),
                ratio: true,
            },
        };
        let got = window_features(&f, "sec", &spend, "t.parquet").unwrap();
        assert_eq!(
            got.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
            window_names(&spend)
        );
        assert_eq!(got[2].0, "ent_AMOUNT_RATIO_1DAY_WINDOW");
        let amount = f.number("amount").unwrap();
        for (k, &w) in spend.days.iter().enumerate() {
            let (n, m) = reference(ent, sec, amount, w, None);
            let (Column::Number(gn), Column::Number(gm), Column::Number(gr)) =
                (&got[3 * k].1, &got[3 * k + 1].1, &got[3 * k + 2].1)
            else {
                panic!("numbers")
            };
            assert!(close(gn, &n), "count {w}d");
            assert!(close(gm, &m), "mean {w}d");
            let r: Vec<f64> = amount
                .iter()
                .zip(&m)
                .map(|(a, m)| if *m == 0.0 { 1.0 } else { a / m })
                .collect();
            assert!(close(gr, &r), "ratio {w}d");
        }
        let risk = EntityWindows {
            entity: "ent".into(),
            days: vec![1, 7, 30],
            aggregate: Aggregate::DelayedRatio {
                label: "y".into(),
                delay: 7,
            },
        };
        let got = window_features(&f, "sec", &risk, "t.parquet").unwrap();
        for (k, &w) in risk.days.iter().enumerate() {
            let (n, m) = reference(ent, sec, f.number("y").unwrap(), w, Some(7));
            let (Column::Number(gn), Column::Number(gm)) = (&got[2 * k].1, &got[2 * k + 1].1) else {
                panic!("numbers")
            };
            assert!(close(gn, &n), "delayed count {w}d");
            assert!(close(gm, &m), "delayed ratio {w}d");
        }
    }

    #[test]
    fn a_missing_entity_or_column_names_the_culprit() {
        let mut f = table(4, 50);
        let spec = EntityWindows {
            entity: "ent".into(),
            days: vec![1],
            aggregate: Aggregate::CountMean {
                value: "amount".into(),
                ratio: false,
            },
        };
        let e = window_features(&f, "when", &spec, "t.parquet").unwrap_err().to_string();
        assert!(e.contains("when"), "{e}");
        let mut ent = f.number("ent").unwrap().to_vec();
        ent[9] = f64::NAN;
        f.replace("ent", Column::Number(ent));
        let e = window_features(&f, "sec", &spec, "t.parquet").unwrap_err().to_string();
        assert!(e.contains("row 10") && e.contains("ent"), "{e}");
    }
}

//! Rows that are events in time (card transactions): the `features.windows` and
//! `features.periods` sections, timestamps, calendar flags, and the time-aware split into a
//! training window, a delay while labels arrive, and a test window.

use serde::{Deserialize, Serialize};

use riskpipe_core::split::{Periods, known_compromised};
use riskpipe_core::{Column, Error, Frame, Result};

use crate::window::{Aggregate, EntityWindows, window_features};

/// Name of the weekend flag (Saturday or Sunday).
pub const WEEKEND: &str = "TX_DURING_WEEKEND";
/// Name of the night flag (hour at most `night_until_hour`).
pub const NIGHT: &str = "TX_DURING_NIGHT";
const DAY_SECONDS: i64 = 86_400;

/// A duration as written: whole days as a number (`7`) or text (`7d`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DaysValue {
    /// Days.
    Days(u32),
    /// `<n>d`.
    Text(String),
}

impl DaysValue {
    /// The days, or an error naming `key`.
    fn days(&self, file: &str, key: &str, errs: &mut Vec<Error>) -> u32 {
        let parsed = match self {
            DaysValue::Days(d) => Some(*d),
            DaysValue::Text(t) => t.trim().strip_suffix('d').and_then(|n| n.trim().parse::<u32>().ok()),
        };
        match parsed {
            Some(d) if d >= 1 => d,
            _ => {
                let shown = match self {
                    DaysValue::Days(d) => d.to_string(),
                    DaysValue::Text(t) => t.clone(),
                };
                errs.push(Error::config(
                    file,
                    key,
                    format!("`{shown}` is not a duration; write whole days as `7d` (at least 1)"),
                ));
                1
            }
        }
    }
}

/// One entity's windows, as written (`features.windows.entities[i]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityConfig {
    /// The entity column (a customer, a terminal).
    pub column: String,
    /// Window lengths (`[1d, 7d, 30d]`).
    pub windows: Vec<DaysValue>,
    /// Count and mean of this value column per window, the current row included.
    pub mean: Option<String>,
    /// With `mean`: also the row's value over each window's mean (default false).
    pub ratio: Option<bool>,
    /// Count and share of the target = 1 per window, shifted back by this label delay (a
    /// terminal's fraud ratio over rows whose labels are known).
    pub risk_delay: Option<DaysValue>,
}

/// The `features.windows` section, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsConfig {
    /// Entities and their windows.
    pub entities: Vec<EntityConfig>,
    /// `TX_DURING_NIGHT` is 1 when the hour is at most this (default 6); `TX_DURING_WEEKEND`
    /// is 1 on Saturdays and Sundays.
    pub night_until_hour: Option<u32>,
}

/// The `features.periods` section, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodsConfig {
    /// First day of the training window, `YYYY-MM-DD`.
    pub start: String,
    /// Days in the training window (default 7).
    pub train_days: Option<u32>,
    /// Days between training and test, while labels arrive (default 7).
    pub delay_days: Option<u32>,
    /// Days in the test window and in each validation window (default 7).
    pub test_days: Option<u32>,
    /// Prequential validation folds before the test window (default 4).
    pub validation_folds: Option<u32>,
    /// The card column: a card already known compromised leaves the test days.
    pub card: String,
}

/// Checked `features.windows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowsParams {
    /// Entities: column, window days, and `mean` value or `risk_delay`.
    pub entities: Vec<EntityParams>,
    /// Last night hour.
    pub night_until_hour: u32,
}

/// Checked windows of one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityParams {
    /// Entity column.
    pub column: String,
    /// Window days.
    pub windows: Vec<u32>,
    /// Value whose mean is taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<String>,
    /// Whether the value over each window's mean is added too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ratio: bool,
    /// Label delay of the risk windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_delay: Option<u32>,
}

impl EntityParams {
    /// The columns these windows add, in order.
    pub fn feature_names(&self) -> Vec<String> {
        crate::window::window_names(&self.spec(String::new()))
    }

    /// The window module's spec, counting `label` for risk windows.
    fn spec(&self, label: String) -> EntityWindows {
        EntityWindows {
            entity: self.column.clone(),
            days: self.windows.clone(),
            aggregate: match (&self.mean, self.risk_delay) {
                (Some(v), _) => Aggregate::CountMean {
                    value: v.clone(),
                    ratio: self.ratio,
                },
                (None, delay) => Aggregate::DelayedRatio {
                    label,
                    delay: delay.unwrap_or(0),
                },
            },
        }
    }
}

/// The window features of a fitted transform or bundle: computed from each batch's rows, so
/// a batch holds the history its rows' windows reach back over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventSpec {
    /// The timestamp column.
    pub time_column: String,
    /// The 0/1 label the risk windows count (a label not yet known, missing, counts as 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The windows.
    pub windows: WindowsParams,
}

impl EventSpec {
    /// The columns the window features add, in order.
    pub fn feature_names(&self) -> Vec<String> {
        [WEEKEND.to_string(), NIGHT.to_string()]
            .into_iter()
            .chain(self.windows.entities.iter().flat_map(EntityParams::feature_names))
            .collect()
    }

    /// The raw columns the window features read: time, entities, values, label.
    pub fn inputs(&self) -> Vec<String> {
        let mut out = vec![self.time_column.clone()];
        for e in &self.windows.entities {
            out.extend([Some(&e.column), e.mean.as_ref()].into_iter().flatten().cloned());
        }
        out.extend(self.label.clone());
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|c| seen.insert(c.clone()));
        out
    }
}

/// Checked `features.periods`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodsParams {
    /// The windows in days.
    pub periods: Periods,
    /// Card column.
    pub card: String,
}

impl WindowsConfig {
    /// Checks the section, recording problems in `errs`.
    pub fn resolve(self, file: &str, errs: &mut Vec<Error>) -> WindowsParams {
        if self.entities.is_empty() {
            errs.push(Error::config(
                file,
                "features.windows.entities",
                "needs one or more entities",
            ));
        }
        let entities = self
            .entities
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let key = format!("features.windows.entities[{i}]");
                let windows: Vec<u32> = e
                    .windows
                    .iter()
                    .enumerate()
                    .map(|(j, w)| w.days(file, &format!("{key}.windows[{j}]"), errs))
                    .collect();
                if windows.is_empty() {
                    errs.push(Error::config(file, format!("{key}.windows"), "needs one or more windows"));
                }
                let risk_delay = e.risk_delay.map(|d| d.days(file, &format!("{key}.risk_delay"), errs));
                if e.mean.is_some() == risk_delay.is_some() {
                    errs.push(Error::config(
                        file,
                        key.clone(),
                        "give either `mean: VALUE_COLUMN` (count and mean amount) or `risk_delay: 7d` (count and fraud share over labelled rows)",
                    ));
                }
                if e.ratio.is_some() && e.mean.is_none() {
                    errs.push(Error::config(
                        file,
                        format!("{key}.ratio"),
                        "applies to `mean` windows: the row's value over the window's mean",
                    ));
                }
                EntityParams {
                    column: e.column,
                    windows,
                    mean: e.mean,
                    ratio: e.ratio.unwrap_or(false),
                    risk_delay,
                }
            })
            .collect();
        let night_until_hour = self.night_until_hour.unwrap_or(6);
        if night_until_hour > 23 {
            errs.push(Error::config(
                file,
                "features.windows.night_until_hour",
                "must be an hour from 0 to 23",
            ));
        }
        WindowsParams {
            entities,
            night_until_hour,
        }
    }
}

impl PeriodsConfig {
    /// Checks the section, recording problems in `errs`.
    pub fn resolve(self, file: &str, errs: &mut Vec<Error>) -> PeriodsParams {
        let start = riskpipe_core::frame::parse_date(self.start.trim()).unwrap_or_else(|| {
            errs.push(Error::config(
                file,
                "features.periods.start",
                format!("`{}` is not a date; write `YYYY-MM-DD`", self.start),
            ));
            0
        });
        let mut days = |v: Option<u32>, key: &str| -> u32 {
            let d = v.unwrap_or(7);
            if d == 0 {
                errs.push(Error::config(
                    file,
                    format!("features.periods.{key}"),
                    "must be at least 1 day",
                ));
            }
            d
        };
        let train_days = days(self.train_days, "train_days");
        let test_days = days(self.test_days, "test_days");
        let delay_days = self.delay_days.unwrap_or(7);
        if delay_days > train_days {
            errs.push(Error::config(
                file,
                "features.periods.delay_days",
                format!(
                    "the label delay ({delay_days} days) is longer than the training period ({train_days} days): the validation folds, which learn from training windows of {train_days} days that end the delay before what they score, would mostly score rows whose labels no fold saw arrive; lengthen `train_days` or shorten the delay"
                ),
            ));
        }
        let validation_folds = self.validation_folds.unwrap_or(4);
        if !(1..=20).contains(&validation_folds) {
            errs.push(Error::config(
                file,
                "features.periods.validation_folds",
                "must be between 1 and 20 (the folds choose each model's settings)",
            ));
        }
        PeriodsParams {
            periods: Periods {
                start,
                train_days,
                delay_days,
                test_days,
                validation_folds,
            },
            card: self.card,
        }
    }
}

/// Seconds since 1970-01-01 of each row's `column`: a date (midnight), or text
/// `YYYY-MM-DD HH:MM:SS` (`T` also separates; fractions of a second are dropped). A missing or
/// unreadable timestamp is an error naming its row and column (the source row a frame records,
/// or `before` rows on from the frame's first).
pub fn timestamps(frame: &Frame, column: &str, file: &str, before: u64) -> Result<Vec<i64>> {
    let row_of = |i: usize| {
        frame
            .number(riskpipe_core::names::SOURCE_ROW)
            .map_or(before + i as u64 + 1, |r| r[i] as u64 + 1)
    };
    match frame.get(column) {
        None => Err(Error::ColumnNotFound {
            file: file.to_string(),
            column: column.to_string(),
            hint: "; `features.time_column` names it".into(),
        }),
        Some(Column::Date(d)) => d
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(|d| i64::from(d) * DAY_SECONDS)
                    .ok_or_else(|| Error::data(file, Some(row_of(i)), Some(column), "the timestamp is missing"))
            })
            .collect(),
        Some(Column::Text(t)) => t
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let v = v
                    .as_deref()
                    .ok_or_else(|| Error::data(file, Some(row_of(i)), Some(column), "the timestamp is missing"))?;
                parse_timestamp(v).ok_or_else(|| {
                    Error::data(
                        file,
                        Some(row_of(i)),
                        Some(column),
                        format!("`{v}` is not a timestamp; expected `YYYY-MM-DD HH:MM:SS`"),
                    )
                })
            })
            .collect(),
        Some(Column::Number(_)) => Err(Error::data(
            file,
            None,
            Some(column),
            "holds numbers; `features.time_column` must name a timestamp (`YYYY-MM-DD HH:MM:SS`) or date column",
        )),
    }
}

/// Seconds since 1970-01-01 of `YYYY-MM-DD HH:MM:SS` (or with `T`; a fraction is dropped).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.len() {
        10 => (s, "00:00:00"),
        n if n >= 19 && matches!(s.as_bytes()[10], b' ' | b'T') => (&s[..10], &s[11..]),
        _ => return None,
    };
    let day = riskpipe_core::frame::parse_date(date)?;
    let b = time.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' || !(b.len() == 8 || b[8] == b'.') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = time.get(r)?;
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())?
    };
    let (h, m, sec) = (num(0..2)?, num(3..5)?, num(6..8)?);
    if h > 23 || m > 59 || sec > 59 || (b.len() > 8 && !time[9..].bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    Some(i64::from(day) * DAY_SECONDS + h * 3600 + m * 60 + sec)
}

/// The weekend and night flags of rows stamped `seconds`: 1 on Saturdays and Sundays, and 1
/// when the hour is at most `night_until_hour`.
pub fn calendar_flags(seconds: &[i64], night_until_hour: u32) -> Vec<(String, Column)> {
    let weekend: Vec<f64> = seconds
        .iter()
        .map(|s| {
            // 1970-01-01 was a Thursday: day 0 is weekday 3 counting Monday as 0.
            let weekday = (s.div_euclid(DAY_SECONDS) + 3).rem_euclid(7);
            f64::from(u8::from(weekday >= 5))
        })
        .collect();
    let night: Vec<f64> = seconds
        .iter()
        .map(|s| {
            f64::from(u8::from(
                s.rem_euclid(DAY_SECONDS) / 3600 <= i64::from(night_until_hour),
            ))
        })
        .collect();
    vec![
        (WEEKEND.to_string(), Column::Number(weekend)),
        (NIGHT.to_string(), Column::Number(night)),
    ]
}

/// The event features of every row: the weekend and night flags, then each entity's window
/// aggregates, in the order `windows` lists them. `label` is the 0/1 target the risk windows
/// count; `seconds` the rows' timestamps.
pub fn event_features(
    frame: &Frame,
    seconds: &[i64],
    windows: &WindowsParams,
    label: Option<&str>,
    file: &str,
) -> Result<Vec<(String, Column)>> {
    let mut out = calendar_flags(seconds, windows.night_until_hour);
    // The window code reads the time from a numeric column of the frame it is given.
    const TIME: &str = "__seconds";
    let mut f = Frame::new();
    f.push(TIME, Column::Number(seconds.iter().map(|s| *s as f64).collect()));
    for e in &windows.entities {
        for name in [Some(&e.column), e.mean.as_ref()].into_iter().flatten() {
            let c = frame.get(name).ok_or_else(|| Error::ColumnNotFound {
                file: file.to_string(),
                column: name.clone(),
                hint: "; `features.windows` names it".into(),
            })?;
            if f.get(name).is_none() {
                f.push(name.clone(), c.clone());
            }
        }
    }
    // A label not yet known (missing, as when scoring recent events) counts as genuine.
    if let Some(l) = label
        && let Some(c) = frame.get(l)
        && f.get(l).is_none()
    {
        let c = match c {
            Column::Number(v) => Column::Number(v.iter().map(|x| if x.is_nan() { 0.0 } else { *x }).collect()),
            c => c.clone(),
        };
        f.push(l, c);
    }
    for e in &windows.entities {
        let label = match (&e.mean, label) {
            (Some(_), _) => String::new(),
            (None, Some(l)) => l.to_string(),
            (None, None) => {
                return Err(Error::pipeline_key(
                    "features.windows",
                    "`risk_delay` counts the target, and this task has none",
                ));
            }
        };
        out.extend(window_features(&f, TIME, &e.spec(label), file)?);
    }
    Ok(out)
}

/// Where a row goes under `features.periods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The training window, or the history before it that validation folds learn from.
    Train,
    /// The test window.
    Test,
    /// Neither: the delay, days outside the periods, or a test row of a card already known
    /// compromised.
    None,
}

/// The time-aware split.
#[derive(Debug, Clone)]
pub struct PeriodSplit {
    /// Each row's part.
    pub part: Vec<Part>,
    /// Each row's day relative to the training window's first day.
    pub day: Vec<f64>,
    /// Each row's card, as its rank among the distinct cards.
    pub card: Vec<f64>,
    /// Test rows taken out because their card was known compromised.
    pub known_card_rows: u64,
}

/// Splits rows stamped `seconds` by `p`: the history and training window train, the test window
/// test, less the rows of cards known compromised (labels `y`, arriving `delay_days` late).
/// A test window without rows is an error naming `features.periods.start`; a missing card one
/// naming its row.
pub fn split_periods(frame: &Frame, seconds: &[i64], y: &[f64], p: &PeriodsParams, file: &str) -> Result<PeriodSplit> {
    let card = card_ranks(frame, &p.card, file)?;
    let start = i64::from(p.periods.start);
    let day: Vec<f64> = seconds
        .iter()
        .map(|s| (s.div_euclid(DAY_SECONDS) - start) as f64)
        .collect();
    let (history, train_end) = (p.periods.history_start() as f64, f64::from(p.periods.train_days));
    let test_start = p.periods.test_start() as f64;
    let test_end = test_start + f64::from(p.periods.test_days);
    let mut part: Vec<Part> = day
        .iter()
        .map(|&d| {
            if (history..train_end).contains(&d) {
                Part::Train
            } else if (test_start..test_end).contains(&d) {
                Part::Test
            } else {
                Part::None
            }
        })
        .collect();
    let test: Vec<usize> = (0..part.len()).filter(|&i| part[i] == Part::Test).collect();
    if test.is_empty() {
        return Err(Error::pipeline_key(
            "features.periods.start",
            format!(
                "the test window, {} to {} (after {} training and {} delay days), has no transactions in {file}",
                riskpipe_core::frame::format_date(p.periods.start + test_start as i32),
                riskpipe_core::frame::format_date(p.periods.start + test_end as i32 - 1),
                p.periods.train_days,
                p.periods.delay_days
            ),
        ));
    }
    let known = known_compromised(&day, &card, y, 0.0, f64::from(p.periods.delay_days), &test);
    let mut known_card_rows = 0;
    for (&r, k) in test.iter().zip(known) {
        if k {
            part[r] = Part::None;
            known_card_rows += 1;
        }
    }
    Ok(PeriodSplit {
        part,
        day,
        card,
        known_card_rows,
    })
}

/// Each row's card as its rank among the distinct cards (numbers in numeric order, text in
/// byte order).
fn card_ranks(frame: &Frame, column: &str, file: &str) -> Result<Vec<f64>> {
    let missing = |i: usize| {
        Error::data(
            file,
            Some(i as u64 + 1),
            Some(column),
            "the card is missing (`features.periods.card`)",
        )
    };
    match frame.get(column) {
        Some(Column::Number(v)) => {
            if let Some(i) = v.iter().position(|x| x.is_nan()) {
                return Err(missing(i));
            }
            let mut distinct = v.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            Ok(v.iter().map(|x| distinct.partition_point(|d| d < x) as f64).collect())
        }
        Some(Column::Text(v)) => {
            if let Some(i) = v.iter().position(Option::is_none) {
                return Err(missing(i));
            }
            let mut distinct: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            Ok(v.iter()
                .flatten()
                .map(|x| distinct.partition_point(|d| *d < x.as_str()) as f64)
                .collect())
        }
        Some(Column::Date(_)) => Err(Error::data(file, None, Some(column), "a card column cannot hold dates")),
        None => Err(Error::ColumnNotFound {
            file: file.to_string(),
            column: column.to_string(),
            hint: "; `features.periods.card` names it".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_strictly_and_flags_follow_the_calendar() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_timestamp("2018-04-01 00:00:31"), Some(1_522_540_831));
        assert_eq!(parse_timestamp("2018-04-01T00:00:31.250"), Some(1_522_540_831));
        assert_eq!(parse_timestamp("2018-04-01"), Some(1_522_540_800));
        for bad in [
            "2018-04-31 00:00:00",
            "2018-04-01 24:00:00",
            "2018-04-01 1:00:00",
            "yesterday",
            "2018-04-01 00:00:0x",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        let mut f = Frame::new();
        // 2018-04-01 was a Sunday; 2018-04-02 a Monday.
        let t = ["2018-04-01 06:59:59", "2018-04-02 07:00:00", "2018-04-07 23:00:00"];
        f.push("t", Column::Text(t.iter().map(|s| Some(s.to_string())).collect()));
        f.push("c", Column::Number(vec![1.0, 1.0, 2.0]));
        let s = timestamps(&f, "t", "f.csv", 0).unwrap();
        let w = WindowsParams {
            entities: vec![],
            night_until_hour: 6,
        };
        let cols = event_features(&f, &s, &w, None, "f.csv").unwrap();
        assert_eq!(cols[0].1, Column::Number(vec![1.0, 0.0, 1.0]));
        assert_eq!(cols[1].1, Column::Number(vec![1.0, 0.0, 0.0]));
        f.push(
            "u",
            Column::Text(vec![
                Some("2018-04-01 00:00:00".into()),
                Some("2018-13-01 00:00:00".into()),
                None,
            ]),
        );
        let e = timestamps(&f, "u", "f.csv", 0).unwrap_err().to_string();
        assert!(
            e.contains("row 2") && e.contains("`u`") && e.contains("2018-13-01"),
            "{e}"
        );
    }

    #[test]
    fn a_label_not_yet_known_counts_as_genuine_in_the_risk_windows() {
        let day = |d: i64| Some(format!("2018-04-{:02} 12:00:00", d));
        let mut f = Frame::new();
        f.push("t", Column::Text((1..=10).map(day).collect()));
        f.push("term", Column::Number(vec![1.0; 10]));
        f.push("y", Column::Number(vec![0.0; 10]));
        let w = WindowsParams {
            entities: vec![EntityParams {
                column: "term".into(),
                windows: vec![7],
                mean: None,
                ratio: false,
                risk_delay: Some(1),
            }],
            night_until_hour: 6,
        };
        let s = timestamps(&f, "t", "f.csv", 0).unwrap();
        let mut risk = |labels: Vec<f64>| {
            f.replace("y", Column::Number(labels));
            event_features(&f, &s, &w, Some("y"), "f.csv").unwrap()[3].1.clone()
        };
        let known = risk(vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let unknown = risk(vec![1.0, f64::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, f64::NAN]);
        assert_eq!(known, unknown);
        // Day 3 looks back on days 1 and 2 (delay 1): one fraud in two.
        let Column::Number(v) = known else { panic!("numbers") };
        assert_eq!(v[2], 0.5);
    }

    #[test]
    fn durations_are_days_and_other_words_are_errors_naming_the_key() {
        let mut errs = Vec::new();
        assert_eq!(DaysValue::Text("7d".into()).days("p.yaml", "k", &mut errs), 7);
        assert_eq!(DaysValue::Days(30).days("p.yaml", "k", &mut errs), 30);
        assert!(errs.is_empty());
        DaysValue::Text("7x".into()).days("p.yaml", "features.windows.entities[0].windows[1]", &mut errs);
        let e = errs[0].to_string();
        assert!(
            e.contains("features.windows.entities[0].windows[1]") && e.contains("`7x`"),
            "{e}"
        );
    }

    #[test]
    fn the_split_keeps_history_drops_the_delay_and_blocks_known_cards() {
        // Days 0..30 from 1970-01-01, a row a day for card 7 and one for card 3; card 3 is
        // defrauded on day 20.
        let mut f = Frame::new();
        let days: Vec<i64> = (0..30).flat_map(|d| [d, d]).collect();
        let seconds: Vec<i64> = days.iter().map(|d| d * DAY_SECONDS + 100).collect();
        f.push(
            "card",
            Column::Number((0..60).map(|i| if i % 2 == 0 { 7.0 } else { 3.0 }).collect()),
        );
        let y: Vec<f64> = (0..60).map(|i| f64::from(u8::from(i == 41))).collect();
        let p = PeriodsParams {
            periods: Periods {
                start: 20,
                train_days: 3,
                delay_days: 2,
                test_days: 4,
                validation_folds: 1,
            },
            card: "card".into(),
        };
        let s = split_periods(&f, &seconds, &y, &p, "f.csv").unwrap();
        // History from day 20 - 2 - 4 = 14; train to day 22; test days 25..28.
        for (i, d) in days.iter().enumerate() {
            // Card 3's fraud on day 20 is known to every test day (more than 2 days later).
            let want = match d {
                14..=22 => Part::Train,
                25..=28 if i % 2 == 0 => Part::Test,
                _ => Part::None,
            };
            assert_eq!(s.part[i], want, "row {i} day {d}");
        }
        assert_eq!(s.known_card_rows, 4);
        assert_eq!((s.card[0], s.card[1]), (1.0, 0.0));
        assert_eq!(s.day[0], -20.0);
        let late = PeriodsParams {
            periods: Periods { start: 40, ..p.periods },
            ..p
        };
        let e = split_periods(&f, &seconds, &y, &late, "f.csv").unwrap_err().to_string();
        assert!(
            e.contains("features.periods.start") && e.contains("no transactions"),
            "{e}"
        );
    }
}

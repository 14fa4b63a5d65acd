//! Event-order window features: the columns of [`crate::events::event_features`] computed as
//! time-ordered rows arrive, with per-entity state, so `riskpipe score` gives every row of a
//! file the same features in batches as the batch path gives it over the whole file.
//!
//! Each entity (a customer, a terminal) keeps the rows its longest window reaches back over and,
//! per window length, a running sum updated as polars updates it (rows entering are added, rows
//! leaving subtracted, both with compensated summation, and the sum restarted when the window
//! empties), so the two paths agree to the bit, not merely to rounding. An entity idle for its
//! longest window is dropped: memory holds the active entities, not the file.
//!
//! Rows arrive in time order; all rows of one second must arrive together (a window ending at
//! `t` covers every row of its entity at `t`, later rows of that second included), which
//! [`EventState::complete_seconds`] lets a caller cutting batches respect.

use std::collections::{BTreeMap, VecDeque};

use riskpipe_core::{Column, Error, Frame, Result};

use crate::events::{EntityParams, EventSpec, calendar_flags};

const DAY_SECONDS: i64 = 86_400;

/// Window state of a bundle's event features across batches.
#[derive(Debug)]
pub struct EventState {
    spec: EventSpec,
    tracks: Vec<Track>,
    /// Rows seen, for row numbers in errors.
    rows: u64,
    /// The last second seen.
    last: Option<i64>,
    /// When idle entities were last dropped.
    swept: i64,
}

/// One entity's windows: the state of each entity value.
#[derive(Debug)]
struct Track {
    params: EntityParams,
    /// Distinct window lengths in seconds; `slots` maps each output window to them.
    lengths: Vec<i64>,
    slots: Vec<Slot>,
    /// The longest length: an entity idle this long has left every window.
    span: i64,
    entities: BTreeMap<Key, History>,
}

/// Where an output window's sums are: its length, and for delayed windows the delay's.
#[derive(Debug, Clone, Copy)]
struct Slot {
    long: usize,
    delay: Option<usize>,
}

/// An entity value: numbers by their bits (-0 as 0), text as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Number(u64),
    Text(Box<str>),
}

/// One entity's rows within reach and a running sum per window length.
#[derive(Debug)]
struct History {
    /// The entity's index of `rows[0]` among all its rows.
    base: u64,
    rows: VecDeque<(i64, f64)>,
    sums: Vec<RunningSum>,
    last: i64,
}

/// A window's sum as polars keeps it (`SumWindow`): compensated addition and subtraction
/// with separate error terms, non-finite values counted apart, restarted when the window moves
/// past everything it held.
#[derive(Debug, Clone, Copy, Default)]
struct RunningSum {
    sum: f64,
    err_add: f64,
    err_sub: f64,
    non_finite: u64,
    pos_inf: u64,
    neg_inf: u64,
    start: u64,
    end: u64,
}

impl RunningSum {
    fn add(&mut self, v: f64) {
        if v.is_finite() {
            let y = v - self.err_add;
            let s = self.sum + y;
            self.err_add = (s - self.sum) - y;
            self.sum = s;
        } else {
            self.non_finite += 1;
            self.pos_inf += u64::from(v > 0.0);
            self.neg_inf += u64::from(v < 0.0);
        }
    }

    fn sub(&mut self, v: f64) {
        if v.is_finite() {
            let y = (0.0 - v) - self.err_sub;
            let s = self.sum + y;
            self.err_sub = (s - self.sum) - y;
            self.sum = s;
        } else {
            self.non_finite -= 1;
            self.pos_inf -= u64::from(v > 0.0);
            self.neg_inf -= u64::from(v < 0.0);
        }
    }

    /// Moves the window to `[start, end)` of the entity's rows (`rows[0]` is index `base`).
    fn update(&mut self, start: u64, end: u64, base: u64, rows: &VecDeque<(i64, f64)>) {
        if start >= self.end {
            *self = RunningSum {
                start,
                end: start,
                ..RunningSum::default()
            };
        }
        for i in self.start..start {
            self.sub(rows[(i - base) as usize].1);
        }
        for i in self.end..end {
            self.add(rows[(i - base) as usize].1);
        }
        self.start = start;
        self.end = end;
    }

    fn value(&self) -> f64 {
        if self.non_finite == 0 {
            self.sum
        } else if self.non_finite == self.pos_inf {
            f64::INFINITY
        } else if self.non_finite == self.neg_inf {
            f64::NEG_INFINITY
        } else {
            f64::NAN
        }
    }

    fn count(&self) -> f64 {
        (self.end - self.start) as f64
    }
}

impl Track {
    fn new(params: &EntityParams) -> Track {
        let mut lengths: Vec<i64> = Vec::new();
        let mut at = |days: u32| -> usize {
            let s = i64::from(days) * DAY_SECONDS;
            lengths.iter().position(|l| *l == s).unwrap_or_else(|| {
                lengths.push(s);
                lengths.len() - 1
            })
        };
        let slots = params
            .windows
            .iter()
            .map(|&w| match params.risk_delay {
                None => Slot {
                    long: at(w),
                    delay: None,
                },
                Some(d) => Slot {
                    long: at(d + w),
                    delay: (d > 0).then(|| at(d)),
                },
            })
            .collect();
        let span = lengths.iter().copied().max().unwrap_or(0);
        Track {
            params: params.clone(),
            lengths,
            slots,
            span,
            entities: BTreeMap::new(),
        }
    }

    /// The number of columns this track adds.
    fn width(&self) -> usize {
        self.params.windows.len() * if self.params.ratio { 3 } else { 2 }
    }

    fn insert(&mut self, key: &Key, second: i64, value: f64) {
        let h = match self.entities.get_mut(key) {
            Some(h) => h,
            None => self.entities.entry(key.clone()).or_insert_with(|| History {
                base: 0,
                rows: VecDeque::new(),
                sums: vec![RunningSum::default(); self.lengths.len()],
                last: second,
            }),
        };
        h.rows.push_back((second, value));
        h.last = second;
    }

    /// The windows ending at `second` of `key` (inserted), written to `out` from `at`; `value`
    /// is the row's own value (for ratios).
    fn features(&mut self, key: &Key, second: i64, value: f64, out: &mut [Vec<f64>], at: usize, row: usize) {
        let h = self.entities.get_mut(key).expect("inserted before");
        let end = h.base + h.rows.len() as u64;
        for (sum, len) in h.sums.iter_mut().zip(&self.lengths) {
            let mut start = sum.start.max(h.base);
            while start < end && h.rows[(start - h.base) as usize].0 <= second - len {
                start += 1;
            }
            sum.update(start, end, h.base, &h.rows);
        }
        let mut col = at;
        for slot in &self.slots {
            let long = &h.sums[slot.long];
            if self.params.risk_delay.is_some() {
                let (n0, f0) = slot
                    .delay
                    .map_or((0.0, 0.0), |d| (h.sums[d].count(), h.sums[d].value()));
                let nb = long.count() - n0;
                let fr = long.value() - f0;
                out[col][row] = nb;
                out[col + 1][row] = if nb > 0.0 { fr / nb } else { 0.0 };
                col += 2;
            } else {
                let mean = long.value() / long.count();
                out[col][row] = long.count();
                out[col + 1][row] = mean;
                if self.params.ratio {
                    out[col + 2][row] = if mean == 0.0 { 1.0 } else { value / mean };
                    col += 1;
                }
                col += 2;
            }
        }
        // Rows before every window's start are never read again.
        let keep = h.sums.iter().map(|s| s.start).min().unwrap_or(end);
        while h.base < keep {
            h.rows.pop_front();
            h.base += 1;
        }
    }

    /// Drops the entities idle since `second - span`: every window of a later row starts after
    /// their last row, so polars restarts their sums too.
    fn sweep(&mut self, second: i64) {
        let span = self.span;
        self.entities.retain(|_, h| h.last > second - span);
    }
}

impl EventState {
    /// Empty state for `spec`'s windows.
    pub fn new(spec: &EventSpec) -> EventState {
        EventState {
            spec: spec.clone(),
            tracks: spec.windows.entities.iter().map(Track::new).collect(),
            rows: 0,
            last: None,
            swept: i64::MIN,
        }
    }

    /// Rows given features so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Entities held, over all entity columns (what memory grows with).
    pub fn entities(&self) -> usize {
        self.tracks.iter().map(|t| t.entities.len()).sum()
    }

    /// How many leading rows of a batch stamped `seconds` end on a whole second: all but the
    /// rows of its last second, which may go on in the next batch (all when `last_batch`).
    pub fn complete_seconds(seconds: &[i64], last_batch: bool) -> usize {
        match seconds.last() {
            Some(&t) if !last_batch => seconds.partition_point(|s| *s < t),
            _ => seconds.len(),
        }
    }

    /// The event features of the next rows, `frame`, stamped `seconds` (in time order after
    /// those before; a row earlier than the one before is an error naming it). Every row of
    /// the last second must be in this call or, for later seconds, a later one.
    pub fn features(&mut self, frame: &Frame, seconds: &[i64], file: &str) -> Result<Vec<(String, Column)>> {
        let n = seconds.len();
        self.check_order(seconds, file)?;
        let keys: Vec<Vec<Key>> = self
            .tracks
            .iter()
            .map(|t| keys(frame, &t.params.column, self.rows, file))
            .collect::<Result<_>>()?;
        let values: Vec<Vec<f64>> = self
            .tracks
            .iter()
            .map(|t| self.values(frame, &t.params, file))
            .collect::<Result<_>>()?;
        let width: usize = self.tracks.iter().map(Track::width).sum();
        let mut out = vec![vec![0.0; n]; width];
        let mut a = 0;
        while a < n {
            let t = seconds[a];
            let b = a + seconds[a..].partition_point(|s| *s == t);
            if t.saturating_sub(self.swept) >= DAY_SECONDS {
                self.tracks.iter_mut().for_each(|tr| tr.sweep(t));
                self.swept = t;
            }
            let mut at = 0;
            for ((track, k), v) in self.tracks.iter_mut().zip(&keys).zip(&values) {
                for i in a..b {
                    track.insert(&k[i], t, v[i]);
                }
                for i in a..b {
                    track.features(&k[i], t, v[i], &mut out, at, i);
                }
                at += track.width();
            }
            a = b;
        }
        self.rows += n as u64;
        let mut cols = calendar_flags(seconds, self.spec.windows.night_until_hour);
        let names = self.spec.feature_names();
        cols.extend(names[2..].iter().cloned().zip(out.into_iter().map(Column::Number)));
        Ok(cols)
    }

    fn check_order(&mut self, seconds: &[i64], file: &str) -> Result<()> {
        let mut prev = self.last;
        for (i, &s) in seconds.iter().enumerate() {
            if let Some(p) = prev
                && s < p
            {
                return Err(Error::data(
                    file,
                    Some(self.rows + i as u64 + 1),
                    Some(&self.spec.time_column),
                    format!(
                        "is earlier than the row before it ({} before {}): scoring with window features keeps each entity's history as rows arrive, so the rows must be in time order; sort the file by `{}`",
                        show(p),
                        show(s),
                        self.spec.time_column
                    ),
                ));
            }
            prev = Some(s);
        }
        self.last = prev;
        Ok(())
    }

    /// The values a track sums: its `mean` column, or the label with a label not yet known
    /// (missing) as 0.
    fn values(&self, frame: &Frame, p: &EntityParams, file: &str) -> Result<Vec<f64>> {
        let name = match (&p.mean, &self.spec.label) {
            (Some(v), _) => v,
            (None, Some(l)) => l,
            (None, None) => {
                return Err(Error::pipeline_key(
                    "features.windows",
                    "`risk_delay` counts the target, and this task has none",
                ));
            }
        };
        let v = frame.number(name).ok_or_else(|| match frame.get(name) {
            None => Error::ColumnNotFound {
                file: file.to_string(),
                column: name.clone(),
                hint: "; `features.windows` names it".into(),
            },
            Some(_) => Error::data(file, None, Some(name), "must hold numbers"),
        })?;
        Ok(if p.mean.is_some() {
            v.to_vec()
        } else {
            v.iter().map(|x| if x.is_nan() { 0.0 } else { *x }).collect()
        })
    }
}

/// Each row's entity key; a missing entity is an error naming its row.
fn keys(frame: &Frame, column: &str, before: u64, file: &str) -> Result<Vec<Key>> {
    let missing = |i: usize| Error::data(file, Some(before + i as u64 + 1), Some(column), "the entity is missing");
    match frame.get(column) {
        Some(Column::Number(v)) => v
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if x.is_nan() {
                    Err(missing(i))
                } else {
                    Ok(Key::Number((x + 0.0).to_bits()))
                }
            })
            .collect(),
        Some(Column::Text(v)) => v
            .iter()
            .enumerate()
            .map(|(i, x)| x.as_deref().map(|s| Key::Text(s.into())).ok_or_else(|| missing(i)))
            .collect(),
        Some(Column::Date(_)) => Err(Error::data(file, None, Some(column), "an entity cannot be a date")),
        None => Err(Error::ColumnNotFound {
            file: file.to_string(),
            column: column.to_string(),
            hint: "; `features.windows` names it".into(),
        }),
    }
}

fn show(second: i64) -> String {
    let day = second.div_euclid(DAY_SECONDS);
    let s = second.rem_euclid(DAY_SECONDS);
    format!(
        "{} {:02}:{:02}:{:02}",
        riskpipe_core::frame::format_date(day as i32),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EntityParams, WindowsParams, event_features, timestamps};

    fn spec() -> EventSpec {
        EventSpec {
            time_column: "t".into(),
            label: Some("y".into()),
            windows: WindowsParams {
                entities: vec![
                    EntityParams {
                        column: "customer".into(),
                        windows: vec![1, 7, 30],
                        mean: Some("amount".into()),
                        ratio: true,
                        risk_delay: None,
                    },
                    EntityParams {
                        column: "terminal".into(),
                        windows: vec![1, 7, 30],
                        mean: None,
                        ratio: false,
                        risk_delay: Some(7),
                    },
                    EntityParams {
                        column: "terminal".into(),
                        windows: vec![2],
                        mean: None,
                        ratio: false,
                        risk_delay: Some(1),
                    },
                ],
                night_until_hour: 6,
            },
        }
    }

    /// Time-ordered events over 120 days: bursts at one second, idle gaps longer than every
    /// window, text terminals, unknown labels and amounts with many digits.
    fn events(seed: u64, rows: usize) -> Frame {
        let mut rng = riskpipe_core::Rng::new(seed);
        let mut t = 1_522_540_800i64;
        let mut stamps = Vec::with_capacity(rows);
        for _ in 0..rows {
            t += match rng.below(20) {
                0..=5 => 0,
                6 => 40 * DAY_SECONDS,
                _ => (rng.uniform() * 20_000.0) as i64,
            };
            stamps.push(t);
        }
        let mut f = Frame::new();
        f.push(
            "t",
            Column::Text(
                stamps
                    .iter()
                    .map(|s| {
                        let d = s.div_euclid(DAY_SECONDS);
                        let r = s.rem_euclid(DAY_SECONDS);
                        Some(format!(
                            "{} {:02}:{:02}:{:02}",
                            riskpipe_core::frame::format_date(d as i32),
                            r / 3600,
                            r / 60 % 60,
                            r % 60
                        ))
                    })
                    .collect(),
            ),
        );
        f.push(
            "customer",
            Column::Number((0..rows).map(|_| rng.below(13) as f64).collect()),
        );
        f.push(
            "terminal",
            Column::Text((0..rows).map(|_| Some(format!("T{}", rng.below(9)))).collect()),
        );
        f.push(
            "amount",
            Column::Number(
                (0..rows)
                    .map(|_| match rng.below(50) {
                        0 => 0.0,
                        _ => rng.uniform() * 1e4 / 7.0,
                    })
                    .collect(),
            ),
        );
        f.push(
            "y",
            Column::Number(
                (0..rows)
                    .map(|_| match rng.below(10) {
                        0 => 1.0,
                        1 => f64::NAN,
                        _ => 0.0,
                    })
                    .collect(),
            ),
        );
        f
    }

    fn bits(c: &Column) -> Vec<u64> {
        match c {
            Column::Number(v) => v.iter().map(|x| x.to_bits()).collect(),
            _ => panic!("numbers"),
        }
    }

    /// Every row's features, batch after batch of the given sizes (moved to whole seconds).
    fn in_batches(f: &Frame, seconds: &[i64], sizes: &mut dyn FnMut() -> usize) -> Vec<(String, Column)> {
        let mut state = EventState::new(&spec());
        let mut parts: Vec<Vec<(String, Column)>> = Vec::new();
        let mut a = 0;
        while a < seconds.len() {
            let b = (a + sizes()).min(seconds.len());
            let mut k = a + EventState::complete_seconds(&seconds[a..b], b == seconds.len());
            if k == a {
                // One second fills the batch: it goes whole.
                k = a + seconds[a..].partition_point(|s| *s == seconds[a]);
            }
            let idx: Vec<usize> = (a..k).collect();
            parts.push(state.features(&f.take(&idx), &seconds[a..k], "e.csv").unwrap());
            a = k;
        }
        let names: Vec<String> = parts[0].iter().map(|c| c.0.clone()).collect();
        names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let v: Vec<f64> = parts
                    .iter()
                    .flat_map(|p| match &p[j].1 {
                        Column::Number(v) => v.clone(),
                        _ => panic!("numbers"),
                    })
                    .collect();
                (name.clone(), Column::Number(v))
            })
            .collect()
    }

    #[test]
    fn event_order_features_equal_the_batch_path_to_the_bit_on_every_row() {
        let f = events(11, 3_000);
        let seconds = timestamps(&f, "t", "e.csv", 0).unwrap();
        let batch = event_features(&f, &seconds, &spec().windows, Some("y"), "e.csv").unwrap();
        let mut rng = riskpipe_core::Rng::new(5);
        for mut sizes in [
            Box::new(|| 1usize) as Box<dyn FnMut() -> usize>,
            Box::new(|| 3_000usize),
            Box::new(move || 1 + rng.below(400) as usize),
        ] {
            let stream = in_batches(&f, &seconds, &mut sizes);
            assert_eq!(stream.len(), batch.len());
            for ((n, a), (m, b)) in stream.iter().zip(&batch) {
                assert_eq!(n, m);
                let (a, b) = (bits(a), bits(b));
                let differ = (0..a.len()).find(|&i| a[i] != b[i]);
                assert_eq!(differ, None, "{n}: first row that differs");
            }
        }
    }

    #[test]
    fn rows_out_of_time_order_are_an_error_naming_the_first_one() {
        let f = events(2, 40);
        let seconds = timestamps(&f, "t", "e.csv", 0).unwrap();
        let mut state = EventState::new(&spec());
        let idx: Vec<usize> = (0..20).collect();
        state.features(&f.take(&idx), &seconds[..20], "e.csv").unwrap();
        // Rows 21.. again, with row 25 (the 5th) stamped a day before row 20.
        let idx: Vec<usize> = (20..40).collect();
        let mut late = seconds[20..].to_vec();
        late[4] = seconds[19] - DAY_SECONDS;
        let e = state.features(&f.take(&idx), &late, "e.csv").unwrap_err();
        assert_eq!(e.class(), riskpipe_core::ErrorClass::User);
        let e = e.to_string();
        assert!(
            e.contains("row 25") && e.contains("`t`") && e.contains("time order"),
            "{e}"
        );
    }

    #[test]
    fn idle_entities_leave_the_state() {
        // 500 customers and terminals once each on day 0, then one customer daily for 90 days.
        let rows = 590;
        let mut f = Frame::new();
        let seconds: Vec<i64> = (0..rows)
            .map(|i| {
                if i < 500 {
                    1_000 + i as i64
                } else {
                    (i as i64 - 499) * DAY_SECONDS
                }
            })
            .collect();
        f.push(
            "customer",
            Column::Number((0..rows).map(|i| (i.min(500)) as f64).collect()),
        );
        f.push(
            "terminal",
            Column::Text((0..rows).map(|i| Some(format!("T{}", i.min(500)))).collect()),
        );
        f.push("amount", Column::Number(vec![10.0; rows]));
        f.push("y", Column::Number(vec![0.0; rows]));
        let mut state = EventState::new(&spec());
        state
            .features(&f.take(&(0..500).collect::<Vec<_>>()), &seconds[..500], "e.csv")
            .unwrap();
        assert_eq!(state.entities(), 1_500);
        state
            .features(&f.take(&(500..rows).collect::<Vec<_>>()), &seconds[500..], "e.csv")
            .unwrap();
        // Customer 500 and terminal T500 (in two tracks) are all that is left.
        assert_eq!(state.entities(), 3);
    }
}

//! Seeded assignment of rows to folds or to train/test, as the target requires: stratified by
//! class for a binary target, plain (shuffled) otherwise; and time-ordered folds for rows that
//! arrive in time ([`prequential`]), where a model may only learn from the past.

use crate::{Error, Result, Rng, Target};

/// One cross-validation fold: the rows a model is fitted on and the rows it is scored on, each
/// in ascending order. Under k-fold every row is scored once; under time-ordered folds a row
/// may be in neither list of a fold (after its scoring window, or inside the label delay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows to score.
    pub valid: Vec<usize>,
}

/// The folds of an assignment of rows to folds `0..k` (what [`folds`] returns): fold `f`
/// scores the rows assigned `f` and fits on all the others.
pub fn kfold(assign: &[usize], k: usize) -> Vec<Fold> {
    (0..k)
        .map(|f| {
            let (valid, train): (Vec<usize>, Vec<usize>) = (0..assign.len()).partition(|&i| assign[i] == f);
            Fold { train, valid }
        })
        .collect()
}

/// Time-ordered (prequential) folds, in the fraud practitioners' way: each fold fits on a
/// training window, skips a delay (labels not yet known when the model would be deployed),
/// and scores the window after it; fold `i` is shifted back in time by `i` scoring windows, so
/// the folds score disjoint windows and never learn from rows after the ones they score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prequential {
    /// Start of the most recent fold's training window (time units, e.g. days).
    pub train_start: f64,
    /// Length of each training window.
    pub train_len: f64,
    /// Gap between training and scoring windows (the label delay).
    pub delay: f64,
    /// Length of each scoring window, and the shift between folds.
    pub valid_len: f64,
    /// Number of folds.
    pub folds: usize,
}

/// The folds of `spec` over rows stamped `times` (column `column` of `file`, for errors): fold `i` fits on rows with time in
/// `[s, s + train_len)` and scores rows in `[s + train_len + delay, ... + valid_len)`, where
/// `s = train_start - i * valid_len`. A fold whose training window starts before the first
/// row, or that has no training or no scoring row, is an error naming it, as is a time that is not finite or a window that is not positive.
pub fn prequential(times: &[f64], spec: &Prequential, file: &str, column: &str) -> Result<Vec<Fold>> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !(positive(spec.train_len) && positive(spec.valid_len) && spec.delay.is_finite() && spec.delay >= 0.0) {
        return Err(Error::Internal(format!(
            "time-ordered folds need positive windows and a delay >= 0, found {spec:?}"
        )));
    }
    if let Some(i) = times.iter().position(|t| !t.is_finite()) {
        return Err(Error::data(
            file,
            Some(i as u64 + 1),
            Some(column),
            "has no time; time-ordered folds need one on every row",
        ));
    }
    let first = times.iter().copied().fold(f64::INFINITY, f64::min);
    let mut out = Vec::with_capacity(spec.folds);
    for i in 0..spec.folds {
        let start = spec.train_start - i as f64 * spec.valid_len;
        let train_end = start + spec.train_len;
        let valid_start = train_end + spec.delay;
        let valid_end = valid_start + spec.valid_len;
        let train: Vec<usize> = (0..times.len())
            .filter(|&r| (start..train_end).contains(&times[r]))
            .collect();
        let valid: Vec<usize> = (0..times.len())
            .filter(|&r| (valid_start..valid_end).contains(&times[r]))
            .collect();
        if start < first || train.is_empty() || valid.is_empty() {
            return Err(Error::data(
                file,
                None,
                Some(column),
                format!(
                    "time-ordered fold {i} (training from {start} to {train_end}, scoring from {valid_start} to {valid_end}) has {} training and {} scoring rows; use fewer folds or shorter windows",
                    train.len(),
                    valid.len()
                ),
            ));
        }
        out.push(Fold { train, valid });
    }
    Ok(out)
}

/// The time-aware validation of a task on time-ordered events (fraud detection), as
/// `features.periods` declares it, in days: the model learns from a training window, waits out
/// the delay while labels arrive, and is tested on the window after it. Days count from the
/// first day of the training window (day 0); earlier days are the history the prequential
/// validation folds learn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Periods {
    /// First day of the training window, as days since 1970-01-01.
    pub start: i32,
    /// Days in the training window.
    pub train_days: u32,
    /// Days between the training and test windows (labels not yet known).
    pub delay_days: u32,
    /// Days in the test window, and in each validation window.
    pub test_days: u32,
    /// Prequential validation folds before the test window, for model selection.
    pub validation_folds: u32,
}

impl Periods {
    /// First day of the test window (relative to the training start).
    pub fn test_start(&self) -> i64 {
        i64::from(self.train_days) + i64::from(self.delay_days)
    }

    /// First day (relative) any validation fold learns from: the history the training matrix
    /// holds before day 0.
    pub fn history_start(&self) -> i64 {
        -(i64::from(self.delay_days) + i64::from(self.test_days) * i64::from(self.validation_folds))
    }

    /// The prequential folds over relative days: fold 0 validates on the last `test_days` of
    /// the training window and learns from the `train_days` that end `delay_days` before them;
    /// fold `i` is `i` validation windows earlier.
    pub fn validation(&self) -> Prequential {
        let (train, delay, test) = (
            f64::from(self.train_days),
            f64::from(self.delay_days),
            f64::from(self.test_days),
        );
        Prequential {
            // Fold 0 validates on [train - test, train) and learns from the `train` days that
            // end `delay` before it.
            train_start: -(test + delay),
            train_len: train,
            delay,
            valid_len: test,
            folds: self.validation_folds as usize,
        }
    }
}

/// Which of the scored rows `valid` (their whole days `day` and cards `card`) belong to cards
/// already known to be compromised, in the fraud team's way: a card is known once it had a
/// transaction labelled 1 (`y`) on a day from `train_start` up to `delay` days before the
/// scored row's day (labels arrive that late; the day the row's own label would arrive is not
/// included). Such rows are taken out of a test window: the card is blocked already.
pub fn known_compromised(
    day: &[f64],
    card: &[f64],
    y: &[f64],
    train_start: f64,
    delay: f64,
    valid: &[usize],
) -> Vec<bool> {
    // The first day each card was labelled compromised, from the training start on.
    let mut first: std::collections::BTreeMap<u64, f64> = std::collections::BTreeMap::new();
    for i in 0..day.len() {
        if y[i] > 0.5 && day[i] >= train_start {
            let e = first.entry(card[i].to_bits()).or_insert(day[i]);
            *e = e.min(day[i]);
        }
    }
    valid
        .iter()
        .map(|&r| first.get(&card[r].to_bits()).is_some_and(|&d| d < day[r] - delay))
        .collect()
}

/// Cross-validation folds in `0..k` for a task's target `y`: stratified for a binary target,
/// plain for a continuous one or none.
pub fn folds(target: Target, y: &[f64], k: usize, rng: &mut Rng) -> Vec<usize> {
    match target {
        Target::Binary => stratified_folds(y, k, rng),
        Target::Continuous | Target::None => plain_folds(y.len(), k, rng),
    }
}

/// The hold-out test rows (true) for a task's target `y`: stratified for a binary target, plain
/// for a continuous one or none.
pub fn holdout(target: Target, y: &[f64], test_fraction: f64, rng: &mut Rng) -> Vec<bool> {
    match target {
        Target::Binary => stratified_holdout(y, test_fraction, rng),
        Target::Continuous | Target::None => plain_holdout(y.len(), test_fraction, rng),
    }
}

/// Rows shuffled and dealt to folds `0..k` in turn.
pub fn plain_folds(n: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut idx);
    let mut fold = vec![0usize; n];
    for (j, &i) in idx.iter().enumerate() {
        fold[i] = j % k;
    }
    fold
}

/// `test_fraction` of the rows, drawn at random, marked as test.
pub fn plain_holdout(n: usize, test_fraction: f64, rng: &mut Rng) -> Vec<bool> {
    let mut idx: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut idx);
    let mut test = vec![false; n];
    for &i in &idx[..(n as f64 * test_fraction).round() as usize] {
        test[i] = true;
    }
    test
}

/// Assigns each row a fold in `0..k` so that every fold holds the same share of each class
/// (labels > 0.5 are positive). Deterministic for a given seed.
pub fn stratified_folds(y: &[f64], k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut fold = vec![0usize; y.len()];
    for class in [false, true] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| (y[i] > 0.5) == class).collect();
        rng.shuffle(&mut idx);
        for (j, &i) in idx.iter().enumerate() {
            fold[i] = j % k;
        }
    }
    fold
}

/// Marks `test_fraction` of each class as test (true), the rest as train. Deterministic.
pub fn stratified_holdout(y: &[f64], test_fraction: f64, rng: &mut Rng) -> Vec<bool> {
    let mut test = vec![false; y.len()];
    for class in [false, true] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| (y[i] > 0.5) == class).collect();
        rng.shuffle(&mut idx);
        let n_test = (idx.len() as f64 * test_fraction).round() as usize;
        for &i in &idx[..n_test] {
            test[i] = true;
        }
    }
    test
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified() {
        let y: Vec<f64> = (0..1000).map(|i| if i % 10 == 0 { 1.0 } else { 0.0 }).collect();
        let f = stratified_folds(&y, 5, &mut Rng::new(1));
        for k in 0..5 {
            let pos = (0..1000).filter(|&i| f[i] == k && y[i] > 0.5).count();
            assert_eq!(pos, 20);
        }
        let t = stratified_holdout(&y, 0.3, &mut Rng::new(1));
        assert_eq!(t.iter().filter(|x| **x).count(), 300);
        assert_eq!((0..1000).filter(|&i| t[i] && y[i] > 0.5).count(), 30);
        // The binary target's splitters are the stratified ones, bit for bit.
        assert_eq!(folds(Target::Binary, &y, 5, &mut Rng::new(1)), f);
        assert_eq!(holdout(Target::Binary, &y, 0.3, &mut Rng::new(1)), t);
    }

    #[test]
    fn plain_splits_ignore_the_values_and_balance_the_sizes() {
        // A continuous target: every fold gets a fifth of the rows, whatever their values.
        let y: Vec<f64> = (0..1003).map(|i| f64::from(i) * 0.37).collect();
        let f = folds(Target::Continuous, &y, 5, &mut Rng::new(2));
        for k in 0..5 {
            let n = f.iter().filter(|x| **x == k).count();
            assert!((200..=201).contains(&n), "{n}");
        }
        assert_eq!(f, folds(Target::Continuous, &y, 5, &mut Rng::new(2)));
        assert_ne!(f, folds(Target::Continuous, &y, 5, &mut Rng::new(3)));
        let t = holdout(Target::None, &y, 0.25, &mut Rng::new(2));
        assert_eq!(t.iter().filter(|x| **x).count(), 251);
    }

    #[test]
    fn kfold_scores_every_row_once_and_fits_on_the_rest() {
        let assign = folds(Target::Continuous, &[0.0; 103], 4, &mut Rng::new(5));
        let fs = kfold(&assign, 4);
        let mut scored = vec![0; 103];
        for f in &fs {
            assert_eq!(f.train.len() + f.valid.len(), 103);
            assert!(f.train.windows(2).all(|w| w[0] < w[1]) && f.valid.windows(2).all(|w| w[0] < w[1]));
            f.valid.iter().for_each(|&i| scored[i] += 1);
        }
        assert!(scored.iter().all(|c| *c == 1));
    }

    #[test]
    fn periods_put_validation_before_the_test_window_and_know_cards_with_the_delay() {
        // The fraud handbook's layout: 7 days each, 4 folds; fold 0 learns from days -14..-8
        // and validates on days 0..6, the training window itself; the test starts on day 14.
        let p = Periods {
            start: 0,
            train_days: 7,
            delay_days: 7,
            test_days: 7,
            validation_folds: 4,
        };
        assert_eq!((p.test_start(), p.history_start()), (14, -35));
        let v = p.validation();
        assert_eq!(
            (v.train_start, v.train_len, v.delay, v.valid_len, v.folds),
            (-14.0, 7.0, 7.0, 7.0, 4)
        );
        // Card 1 defrauded on day 2 (train), card 2 on day 9 (delay), card 3 on day -3
        // (before training: unknown to the fraud team's list).
        let day = [2.0, 9.0, -3.0, 14.0, 14.0, 14.0, 16.0, 17.0];
        let card = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 2.0, 2.0];
        let y = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let known = known_compromised(&day, &card, &y, 0.0, 7.0, &[3, 4, 5, 6, 7]);
        // Day 14 knows labels of days before 7; day 16 those before 9; day 17 before 10.
        assert_eq!(known, [true, false, false, false, true]);
    }

    #[test]
    fn prequential_folds_never_learn_from_the_future_and_score_disjoint_windows() {
        // 60 days, 10 rows a day, shuffled order.
        let mut times: Vec<f64> = (0..600).map(|i| f64::from(i / 10) + 0.5).collect();
        Rng::new(4).shuffle(&mut times);
        let spec = Prequential {
            train_start: 30.0,
            train_len: 14.0,
            delay: 7.0,
            valid_len: 7.0,
            folds: 3,
        };
        let fs = prequential(&times, &spec, "t.parquet", "day").unwrap();
        assert_eq!(fs.len(), 3);
        let mut seen = std::collections::BTreeSet::new();
        for (i, f) in fs.iter().enumerate() {
            assert_eq!((f.train.len(), f.valid.len()), (140, 70), "fold {i}");
            let last_train = f.train.iter().map(|&r| times[r]).fold(f64::MIN, f64::max);
            let first_valid = f.valid.iter().map(|&r| times[r]).fold(f64::MAX, f64::min);
            // The delay lies between what a fold learns from and what it scores.
            assert!(
                first_valid - last_train >= spec.delay,
                "fold {i}: {last_train} {first_valid}"
            );
            for &r in &f.valid {
                assert!(seen.insert(r), "row {r} scored twice");
            }
        }
        // Fold 0 scores days 51..58; fold 2 is two weeks earlier.
        assert_eq!(fs[0].valid.iter().map(|&r| times[r]).fold(f64::MAX, f64::min), 51.5);
        assert_eq!(fs[2].valid.iter().map(|&r| times[r]).fold(f64::MAX, f64::min), 37.5);
        // Too many folds for the data: an error naming the fold, not an empty fold.
        let err = prequential(&times, &Prequential { folds: 6, ..spec }, "t.parquet", "day")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fold 5"), "{err}");
        times[3] = f64::NAN;
        let err = prequential(&times, &spec, "t.parquet", "day").unwrap_err().to_string();
        assert!(err.contains("row 4") && err.contains("day"), "{err}");
    }
}

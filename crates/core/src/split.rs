//! Seeded assignment of rows to folds or to train/test, as the target requires: stratified by
//! class for a binary target, plain (shuffled) otherwise.

use crate::{Rng, Target};

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
}

//! Seeded stratified assignment of rows to folds or to train/test.

use crate::Rng;

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
    }
}

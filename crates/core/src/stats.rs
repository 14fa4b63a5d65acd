//! Statistics more than one crate needs. The ROC AUC lives here, below `metrics` and `models`,
//! because the random forest's out-of-bag AUC needs it and library crates depend only on `core`.

/// Area under the ROC curve of `score` for 0/1 labels `y` (> 0.5 is positive), by mid-ranks so
/// that ties count one half. Returns 0.5 when one class is absent.
pub fn auc(y: &[f64], score: &[f64]) -> f64 {
    assert_eq!(y.len(), score.len());
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let (mut rank_sum_pos, mut n_pos) = (0.0, 0.0);
    let n = idx.len();
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if y[k] > 0.5 {
                rank_sum_pos += mid_rank;
                n_pos += 1.0;
            }
        }
        i = j + 1;
    }
    let n_neg = n as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return 0.5;
    }
    (rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

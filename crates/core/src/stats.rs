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

/// ROC AUC within each group from one ordering of all rows: `order` lists row indices by
/// ascending score, `group[r]` is row `r`'s group (< `groups`). Ties count one half, as in
/// [`auc`]. `None` for a group without both classes. One pass over `order`, so many groups cost
/// no more than one sort.
pub fn auc_by_group(y: &[f64], score: &[f64], order: &[usize], group: &[usize], groups: usize) -> Vec<Option<f64>> {
    let mut neg_below = vec![0.0f64; groups];
    let mut num = vec![0.0f64; groups];
    let (mut pos_b, mut neg_b) = (vec![0.0f64; groups], vec![0.0f64; groups]);
    let (mut pos_all, mut neg_all) = (vec![0.0f64; groups], vec![0.0f64; groups]);
    let mut touched: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        for &r in &order[i..=j] {
            let g = group[r];
            if pos_b[g] == 0.0 && neg_b[g] == 0.0 {
                touched.push(g);
            }
            if y[r] > 0.5 {
                pos_b[g] += 1.0;
            } else {
                neg_b[g] += 1.0;
            }
        }
        for &g in &touched {
            num[g] += pos_b[g] * neg_below[g] + 0.5 * pos_b[g] * neg_b[g];
            neg_below[g] += neg_b[g];
            pos_all[g] += pos_b[g];
            neg_all[g] += neg_b[g];
            pos_b[g] = 0.0;
            neg_b[g] = 0.0;
        }
        touched.clear();
        i = j + 1;
    }
    (0..groups)
        .map(|g| (pos_all[g] > 0.0 && neg_all[g] > 0.0).then(|| num[g] / (pos_all[g] * neg_all[g])))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn group_auc_equals_auc_of_each_group(
            rows in proptest::collection::vec((0u8..2, 0u8..20, 0usize..4), 1..300)
        ) {
            let y: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            // Coarse scores so that ties happen, within and across groups.
            let s: Vec<f64> = rows.iter().map(|r| f64::from(r.1) / 4.0).collect();
            let g: Vec<usize> = rows.iter().map(|r| r.2).collect();
            let mut order: Vec<usize> = (0..y.len()).collect();
            order.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
            let by_group = super::auc_by_group(&y, &s, &order, &g, 4);
            for (k, got) in by_group.iter().enumerate() {
                let idx: Vec<usize> = (0..y.len()).filter(|&r| g[r] == k).collect();
                let gy: Vec<f64> = idx.iter().map(|&r| y[r]).collect();
                let gs: Vec<f64> = idx.iter().map(|&r| s[r]).collect();
                let pos = gy.iter().filter(|v| **v > 0.5).count();
                match got {
                    Some(a) => prop_assert!((a - super::auc(&gy, &gs)).abs() < 1e-12),
                    None => prop_assert!(pos == 0 || pos == gy.len()),
                }
            }
        }
    }
}

/// Dot product with eight independent partial sums, so that it vectorises; the same bits on
/// every run (the order of additions is fixed).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a[..n].chunks_exact(8), b[..n].chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Sum with eight independent partial sums (see [`dot`]).
pub fn sum(a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let c = a.chunks_exact(8);
    let r = c.remainder();
    for x in c {
        for k in 0..8 {
            acc[k] += x[k];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + r.iter().sum::<f64>()
}

#[cfg(test)]
mod dot_tests {
    #[test]
    fn dot_and_sum_match_the_plain_loops() {
        let a: Vec<f64> = (0..37).map(|i| f64::from(i) * 0.5).collect();
        let b: Vec<f64> = (0..37).map(|i| f64::from(i % 5)).collect();
        let plain: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(super::dot(&a, &b), plain);
        assert_eq!(super::sum(&a), a.iter().sum::<f64>());
        assert_eq!(super::dot(&[], &[]), 0.0);
    }
}

/// The index of the first NaN or infinite value, if any.
pub fn first_non_finite(v: &[f64]) -> Option<usize> {
    v.iter().position(|x| !x.is_finite())
}

//! Histogram pre-binning: each feature cut into at most 255 quantile bins, stored as `u8` codes.
//!
//! Tree learners (this crate's CART, and the forest and boosting engines built on it) search
//! splits over bins instead of sorted values, which makes a split search O(rows + bins).

use serde::{Deserialize, Serialize};

/// Upper edges of one feature's bins: a value `x` falls in the first bin `b` with
/// `x <= edges[b]`; values above the last edge and missing values get the top code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BinEdges {
    /// Ascending upper edges (actual training values).
    pub edges: Vec<f64>,
}

impl BinEdges {
    /// Quantile edges of `values` (missing values ignored), at most `max_bins` bins.
    pub fn fit(values: &[f64], max_bins: usize) -> BinEdges {
        let max_bins = max_bins.clamp(2, 255);
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return BinEdges { edges: vec![] };
        }
        v.sort_by(f64::total_cmp);
        let mut distinct: Vec<f64> = v.clone();
        distinct.dedup();
        let edges = if distinct.len() <= max_bins {
            distinct
        } else {
            let n = v.len();
            let mut e: Vec<f64> = (1..max_bins).map(|k| v[(k * n / max_bins).min(n - 1)]).collect();
            e.push(v[n - 1]);
            e.dedup();
            e
        };
        BinEdges { edges }
    }

    /// Number of codes used (bins plus the missing/overflow code).
    pub fn n_codes(&self) -> usize {
        self.edges.len() + 1
    }

    /// The code of one value.
    pub fn code(&self, x: f64) -> u8 {
        if x.is_nan() {
            return self.edges.len() as u8;
        }
        self.edges.partition_point(|e| *e < x) as u8
    }
}

/// A feature matrix in binned form: one `u8` code column per feature.
#[derive(Debug, Clone)]
pub struct BinnedMatrix {
    /// Edges per feature.
    pub edges: Vec<BinEdges>,
    /// Codes per feature (column-major).
    pub codes: Vec<Vec<u8>>,
    /// Rows.
    pub rows: usize,
}

impl BinnedMatrix {
    /// Bins columns `x` with quantile edges of at most `max_bins` bins.
    pub fn fit(x: &[&[f64]], max_bins: usize) -> BinnedMatrix {
        use rayon::prelude::*;
        let edges: Vec<BinEdges> = x.par_iter().map(|c| BinEdges::fit(c, max_bins)).collect();
        let codes = x
            .par_iter()
            .zip(&edges)
            .map(|(c, e)| c.iter().map(|v| e.code(*v)).collect())
            .collect();
        BinnedMatrix {
            edges,
            codes,
            rows: x.first().map_or(0, |c| c.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_respect_edges() {
        let v: Vec<f64> = (0..1000).map(|i| (i % 100) as f64).collect();
        let e = BinEdges::fit(&v, 10);
        assert!(e.edges.len() <= 10);
        for x in &v {
            let c = e.code(*x) as usize;
            assert!(*x <= e.edges[c]);
            if c > 0 {
                assert!(*x > e.edges[c - 1]);
            }
        }
        assert_eq!(e.code(f64::NAN) as usize, e.edges.len());
        let few = BinEdges::fit(&[1.0, 2.0, 2.0, 3.0], 255);
        assert_eq!(few.edges, vec![1.0, 2.0, 3.0]);
    }
}

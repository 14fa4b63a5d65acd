//! linfa-clustering's `KMeans`, `GaussianMixtureModel` and `Dbscan` beside riskpipe's own k-means
//! and Gaussian mixture, on one generated numeric table (Parquet, every column a feature).
//! Prints one JSON line per tool: seconds and the objective (k-means inertia; mean
//! log-likelihood per row for the mixtures, both mixtures scored by the same code; clusters and
//! noise rows for DBSCAN), for `bench/linfa_peers.sh` to set beside scikit-learn.
//!
//! Usage: `riskpipe-linfa-bench kmeans|gmm TABLE K` or `riskpipe-linfa-bench dbscan TABLE EPS MIN_POINTS`.

use std::time::Instant;

use linfa::prelude::*;
use linfa_clustering::{Dbscan, GaussianMixtureModel, KMeans as LinfaKMeans};
use ndarray::Array2;
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;
use riskpipe_models::{Covariance, GaussianMixture, GmmParams, KMeans, KMeansParams};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let (what, table) = match (args.get(1), args.get(2)) {
        (Some(w), Some(t)) => (w.as_str(), t.as_str()),
        _ => return Err("usage: riskpipe-linfa-bench kmeans|gmm TABLE K | dbscan TABLE EPS MIN_POINTS".into()),
    };
    let frame = riskpipe_core::io::read_parquet(std::path::Path::new(table))?;
    let names: Vec<String> = frame.names().to_vec();
    let cols = riskpipe_models::feature_columns(&frame, &names)?;
    let (n, d) = (cols[0].len(), cols.len());
    let x = Array2::from_shape_fn((n, d), |(i, j)| cols[j][i]);
    let arg = |i: usize| -> Result<f64, Error> { Ok(args.get(i).ok_or("missing argument")?.parse()?) };
    let line = |tool: &str, secs: f64, objective: &str| {
        println!("{{\"tool\": \"{tool}\", \"algorithm\": \"{what}\", \"rows\": {n}, \"features\": {d}, \"secs\": {secs:.3}, {objective}}}");
    };
    match what {
        "kmeans" => {
            let k = arg(3)? as usize;
            let t0 = Instant::now();
            let ds = DatasetBase::from(x.clone());
            let m = LinfaKMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(42))
                .n_runs(1)
                .max_n_iterations(100)
                .tolerance(1e-4)
                .fit(&ds)?;
            // linfa reports the mean squared distance; times the rows, it is the inertia.
            let inertia = m.inertia() * n as f64;
            line("linfa", t0.elapsed().as_secs_f64(), &format!("\"inertia\": {inertia}"));
            let t0 = Instant::now();
            let ours = KMeans::fit(&names, &cols, &KMeansParams { k, ..KMeansParams::default() })?;
            line("riskpipe", t0.elapsed().as_secs_f64(), &format!("\"inertia\": {}", ours.inertia));
        }
        "gmm" => {
            let k = arg(3)? as usize;
            let t0 = Instant::now();
            let ds = DatasetBase::from(x.clone());
            let m = GaussianMixtureModel::params(k)
                .n_runs(1)
                .max_n_iterations(100)
                .tolerance(1e-3)
                .with_rng(Xoshiro256Plus::seed_from_u64(42))
                .fit(&ds)?;
            let secs = t0.elapsed().as_secs_f64();
            // linfa's fitted mixture, scored by riskpipe's code: the same objective for both.
            let params = GmmParams { components: k, covariance: Covariance::Full, ..GmmParams::default() };
            let theirs = GaussianMixture {
                features: names.clone(),
                weights: m.weights().to_vec(),
                means: m.means().outer_iter().map(|r| r.to_vec()).collect(),
                covariances: m.covariances().outer_iter().map(|c| c.iter().copied().collect()).collect(),
                iterations: 0,
                log_likelihood: 0.0,
                params: params.clone(),
            };
            let ll = |g: &GaussianMixture| -g.score(&cols).iter().sum::<f64>() / n as f64;
            line("linfa", secs, &format!("\"log_likelihood\": {}", ll(&theirs)));
            let t0 = Instant::now();
            let ours = GaussianMixture::fit(&names, &cols, &params)?;
            line("riskpipe", t0.elapsed().as_secs_f64(), &format!("\"log_likelihood\": {}", ll(&ours)));
        }
        "dbscan" => {
            let (eps, min_points) = (arg(3)?, arg(4)? as usize);
            let t0 = Instant::now();
            let labels = Dbscan::params(min_points).tolerance(eps).transform(&x)?;
            let secs = t0.elapsed().as_secs_f64();
            let clusters = labels.iter().flatten().max().map_or(0, |m| m + 1);
            let noise = labels.iter().filter(|l| l.is_none()).count();
            line("linfa", secs, &format!("\"clusters\": {clusters}, \"noise\": {noise}"));
        }
        other => return Err(format!("unknown algorithm `{other}`").into()),
    }
    Ok(())
}

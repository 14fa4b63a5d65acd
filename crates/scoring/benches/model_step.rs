//! The model step alone: rows already read and masked, in memory, through the transform, the
//! model and the points (`Scorer::score_masked`, no reason codes), a 65,536-row batch per task
//! on every core. Prints one JSON line: rows, the fastest of five passes and its rows/s.
//!
//! `cargo bench -p riskpipe-scoring --bench model_step -- BUNDLE INPUT.parquet`

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use riskpipe_core::{Frame, Result};
use riskpipe_scoring::Scorer;

const BATCH: usize = 65_536;

/// The allocator of the `riskpipe` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let [bundle, input] = args.as_slice() else {
        eprintln!("usage: model_step BUNDLE INPUT.parquet");
        std::process::exit(2);
    };
    let scorer = Scorer::load(Path::new(bundle))?.without_reasons();
    let names: Vec<&str> = scorer.info.inputs.iter().map(|c| c.name.as_str()).collect();
    let raw = riskpipe_core::io::read_parquet_columns(Path::new(input), &names)?;
    let n = raw.rows();
    let masked: Vec<Frame> = (0..n)
        .step_by(BATCH)
        .map(|start| {
            let rows: Vec<usize> = (start..(start + BATCH).min(n)).collect();
            scorer.masked_inputs(&raw.take(&rows), input)
        })
        .collect::<Result<_>>()?;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let batches = masked.clone();
        let t0 = Instant::now();
        let scored: Vec<Frame> = batches
            .into_par_iter()
            .enumerate()
            .map(|(i, m)| scorer.score_masked(m, (i * BATCH) as u64, input, false))
            .collect::<Result<_>>()?;
        best = best.min(t0.elapsed().as_secs_f64());
        assert_eq!(scored.iter().map(Frame::rows).sum::<usize>(), n);
    }
    println!(
        "{{\"rows\": {n}, \"threads\": {}, \"best_secs\": {best:.4}, \"rows_per_sec\": {:.0}}}",
        rayon::current_num_threads(),
        n as f64 / best
    );
    Ok(())
}

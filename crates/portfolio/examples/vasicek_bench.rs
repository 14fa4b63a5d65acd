//! Times the one-factor Monte Carlo on a portfolio file, for `bench/vasicek_peers.sh`.
//!
//! Usage: `vasicek_bench PORTFOLIO.csv SCENARIOS SEED`, where PORTFOLIO has the header
//! `pd,lgd,ead,rho` and one loan per line. Prints one JSON line: the time, the rate in
//! loan-scenarios per second, the mean loss, VaR and expected shortfall at 99 % and 99.9 %
//! with their standard errors.

use std::time::Instant;

use riskpipe_portfolio::vasicek::{Loan, simulate};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, scenarios, seed] = args.as_slice() else {
        return Err("usage: vasicek_bench PORTFOLIO.csv SCENARIOS SEED".into());
    };
    let text = fs_err::read_to_string(path)?;
    let mut lines = text.lines();
    if lines.next() != Some("pd,lgd,ead,rho") {
        return Err(format!("{path}: expected the header `pd,lgd,ead,rho`").into());
    }
    let loans: Vec<Loan> = lines
        .enumerate()
        .map(|(i, l)| -> Result<Loan, Error> {
            let v: Vec<f64> = l
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{path}: row {}: {e}", i + 1))?;
            let [pd, lgd, ead, rho] = v[..] else {
                return Err(format!("{path}: row {}: expected 4 values", i + 1).into());
            };
            Ok(Loan { pd, lgd, ead, rho })
        })
        .collect::<Result<_, _>>()?;
    let scenarios: usize = scenarios.parse()?;
    let t0 = Instant::now();
    let d = simulate(&loans, scenarios, seed.parse()?)?;
    let secs = t0.elapsed().as_secs_f64();
    let (v99, v999) = (d.var(0.99), d.var(0.999));
    let (e99, e999) = (d.expected_shortfall(0.99), d.expected_shortfall(0.999));
    let m = d.mean();
    println!(
        "{{\"tool\": \"riskpipe\", \"loans\": {}, \"scenarios\": {scenarios}, \"secs\": {secs:.3}, \"rate\": {:.4e}, \"exposure\": {:.6}, \"expected_loss\": {:.6}, \"mean\": {:.6}, \"mean_se\": {:.6}, \"var99\": {:.6}, \"var99_se\": {:.6}, \"var999\": {:.6}, \"var999_se\": {:.6}, \"es99\": {:.6}, \"es99_se\": {:.6}, \"es999\": {:.6}, \"es999_se\": {:.6}}}",
        loans.len(),
        (loans.len() * scenarios) as f64 / secs,
        d.exposure,
        d.expected_loss,
        m.value,
        m.std_error,
        v99.value,
        v99.std_error,
        v999.value,
        v999.std_error,
        e99.value,
        e99.std_error,
        e999.value,
        e999.std_error
    );
    Ok(())
}

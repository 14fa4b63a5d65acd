//! riskpipe's end-to-end tests: one binary that runs the real `riskpipe` on real pipelines and
//! checks the files it wrote.

mod anomaly;
mod cli;
mod derived;
mod errors;
mod explain;
mod fraud;
mod fuzz;
mod hardening;
mod loss;
mod pipeline;
mod privacy;
mod real_data;
mod report;
mod robustness;
mod serve;
mod tidy;
mod util;

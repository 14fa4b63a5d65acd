//! End-to-end tests of riskpipe live in `it/`.

//! Every `RISKPIPE_*` environment variable riskpipe reads, in one place.

/// Overrides the code version recorded in manifests (tests use it to simulate an upgrade).
pub const RISKPIPE_CODE_VERSION: &str = "RISKPIPE_CODE_VERSION";
/// The default name of the variable that holds the masking key.
pub const RISKPIPE_MASK_KEY: &str = "RISKPIPE_MASK_KEY";
/// Rows per batch when streaming (`score`); default 65,536.
pub const RISKPIPE_BATCH_ROWS: &str = "RISKPIPE_BATCH_ROWS";

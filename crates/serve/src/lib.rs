//! riskpipe-serve: the scoring service. One process serves one or more bundles over HTTP with
//! the Open Inference Protocol (KServe V2) REST endpoints and an MLflow-style `/invocations`,
//! scoring with the very [`Scorer`](riskpipe_scoring::Scorer) `riskpipe score` uses, so a row gets the same bits through
//! either door. Every decision is appended to a hash-chained audit log ([`audit`]) before the
//! response leaves; `/metrics` exposes Prometheus counters and histograms.
//!
//! The HTTP stack (axum on tokio) lives in this crate only: batch scoring does not pull it in.
//! Bad requests get 400 (malformed) or 422 (well formed but not scorable) with
//! `{"error": "..."}` naming the input; a body above the size limit gets 413.

#![warn(missing_docs)]

pub mod audit;
mod listen;
mod metrics;
mod models;
mod openapi;
pub mod tensors;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use riskpipe_core::{Error, ErrorClass, Frame, Result};

pub use crate::listen::TlsFiles;
pub use crate::openapi::openapi;

use crate::audit::{AuditLog, Entry};
use crate::metrics::Metrics;
use crate::models::{Model, Repository};
use crate::tensors::{Rejected, datatype};

/// How `riskpipe serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bundle folders; each is served under its pipeline's name.
    pub bundles: Vec<PathBuf>,
    /// Address to bind (loopback unless told otherwise).
    pub addr: SocketAddr,
    /// The audit log, appended to (and verified first when it exists).
    pub audit_log: Option<PathBuf>,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// The environment variable holding the bearer token every request but the health checks
    /// must carry (`Authorization: Bearer <token>`); none: no authentication.
    pub auth_token_env: Option<String>,
    /// Challenger bundles, each scored beside the served bundle of the same pipeline name; their
    /// outputs go to the audit log, never to the client.
    pub shadows: Vec<PathBuf>,
    /// Rows of the sliding window the live drift is computed over.
    pub drift_window: usize,
    /// A request (its body read and its scoring) taking longer gets 408; a connection whose
    /// TLS handshake or request headers take longer is closed.
    pub request_timeout: std::time::Duration,
    /// Serve HTTPS with this certificate and key; none: plain HTTP.
    pub tls: Option<TlsFiles>,
}

struct Shared {
    repo: Repository,
    token: Option<String>,
    audit: Option<AuditLog>,
    metrics: Mutex<Metrics>,
    next_id: AtomicU64,
}

type AppState = Arc<Shared>;

/// The bearer token from the environment variable `var`: unset or empty is a user error.
fn token(var: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(t) if !t.is_empty() => Ok(t),
        _ => Err(Error::BadEnv {
            name: var.to_string(),
            message: "is unset or empty; `--auth-token-env` names the variable holding the bearer token".into(),
        }),
    }
}

/// Equal bytes, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Every request but the health checks carries `Authorization: Bearer <token>` when the
/// service has one; else 401.
async fn authorize(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(t) = &state.token {
        let open = req.uri().path().starts_with("/v2/health/");
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !open && !given.is_some_and(|g| same(g.as_bytes(), t.as_bytes())) {
            return error_response(401, "this service needs `Authorization: Bearer <token>`");
        }
    }
    next.run(req).await
}

/// Every error the HTTP stack answers by itself (an unknown route, a wrong method, a body over
/// the limit, a timeout, a path that is not UTF-8) as `{"error": ...}`, like the handlers' own.
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let mut out = json_response(status, &json!({ "error": message }));
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// The router over loaded `models` (public for tests that drive it without a socket).
fn router(state: AppState, max_body_bytes: usize, timeout: std::time::Duration) -> Router {
    Router::new()
        .route("/v2", get(server_metadata))
        .route(
            "/v2/health/live",
            get(|| async { json_response(StatusCode::OK, &json!({"live": true})) }),
        )
        .route(
            "/v2/health/ready",
            get(|| async { json_response(StatusCode::OK, &json!({"ready": true})) }),
        )
        .route("/v2/models/{name}", get(model_metadata))
        .route("/v2/models/{name}/versions/{version}", get(model_metadata_version))
        .route("/v2/models/{name}/ready", get(model_ready))
        .route("/v2/models/{name}/drift", get(model_drift))
        .route("/v2/models/{name}/infer", post(infer))
        .route("/v2/models/{name}/versions/{version}/infer", post(infer_version))
        .route("/v2/repository/index", post(repository_index))
        .route("/v2/repository/models/{name}/load", post(repository_load))
        .route("/v2/repository/models/{name}/unload", post(repository_unload))
        .route("/invocations", post(invocations))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), authorize))
        .layer(axum::middleware::from_fn(json_errors))
        .with_state(state)
}

/// Runs the service until SIGTERM or Ctrl-C, then finishes the requests in flight and syncs the
/// audit log. `ready` is called with the bound address once the service accepts connections.
pub fn serve(opts: &Options, ready: impl FnOnce(SocketAddr)) -> Result<()> {
    let repo = Repository::load(&opts.bundles, &opts.shadows, opts.drift_window)?;
    let token = match &opts.auth_token_env {
        Some(var) => Some(token(var)?),
        None => None,
    };
    let audit = match &opts.audit_log {
        Some(p) => Some(AuditLog::open(p)?),
        None => None,
    };
    let mut m = Metrics::default();
    if let Some(a) = &audit {
        m.audit(a.counts());
    }
    let state = Arc::new(Shared {
        repo,
        token,
        audit,
        metrics: Mutex::new(m),
        next_id: AtomicU64::new(1),
    });
    let tls = opts.tls.as_ref().map(listen::acceptor).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()?;
    let app = router(state.clone(), opts.max_body_bytes, opts.request_timeout);
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(opts.addr)
            .await
            .map_err(|e| Error::data(opts.addr.to_string(), None, None, format!("cannot listen here: {e}")))?;
        ready(listener.local_addr()?);
        #[cfg(unix)]
        {
            // SIGHUP: every bundle loaded again from its folder; requests in flight finish on the
            // model they started with.
            let reloader = state.clone();
            if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        let errors = reloader.repo.reload_all();
                        for e in &errors {
                            tracing::error!(error = %e, "A bundle failed to reload; its previous version stays served.");
                        }
                        tracing::info!(failed = errors.len(), "Bundles reloaded (SIGHUP).");
                    }
                });
            }
        }
        listen::run(listener, tls, app, opts.request_timeout, shutdown_signal()).await;
        Ok::<(), Error>(())
    })?;
    if let Some(a) = &state.audit {
        a.sync()?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("Shutting down: finishing the requests in flight.");
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn error_response(status: u16, message: &str) -> Response {
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &json!({ "error": message }),
    )
}

async fn server_metadata() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"name": "riskpipe", "version": env!("CARGO_PKG_VERSION"), "extensions": []}),
    )
}

fn find(state: &Shared, name: &str, version: Option<&str>) -> std::result::Result<Arc<Model>, Rejected> {
    let not_found = |message: String| Rejected { status: 404, message };
    match state.repo.get(name) {
        Some(m) if version.is_none_or(|v| v == m.version) => Ok(m),
        Some(m) => Err(not_found(format!("model `{name}` has version `{}` only", m.version))),
        None => Err(not_found(format!(
            "no model `{name}`; this service serves {}",
            state
                .repo
                .all()
                .iter()
                .map(|m| format!("`{}`", m.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The output beside the scorer's: per row, what its inputs held that training never saw.
const WARNINGS: &str = "input_warnings";

fn metadata(m: &Model) -> Value {
    let s = &m.scorer;
    let mut names = s.output_names();
    names.push(WARNINGS.to_string());
    let outputs: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let kind = match i {
                0 if s.info.id.is_some() => riskpipe_core::ColumnKind::Text,
                _ if n.starts_with(riskpipe_core::names::REASON_PREFIX) || n == WARNINGS => {
                    riskpipe_core::ColumnKind::Text
                }
                _ => riskpipe_core::ColumnKind::Number,
            };
            json!({"name": n, "datatype": datatype(kind), "shape": [-1]})
        })
        .collect();
    json!({
        "name": m.name,
        "versions": [m.version],
        "platform": "riskpipe",
        "inputs": s.info.inputs.iter().map(|c| json!({"name": c.name, "datatype": datatype(c.kind), "shape": [-1]})).collect::<Vec<_>>(),
        "outputs": outputs,
        "parameters": {"model": s.info.model, "bundle_sha256": m.sha256, "riskpipe_version": s.info.riskpipe_version},
    })
}

async fn model_metadata(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match find(&state, &name, None) {
        Ok(m) => json_response(StatusCode::OK, &metadata(&m)),
        Err(r) => error_response(r.status, &r.message),
    }
}

async fn model_metadata_version(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    match find(&state, &name, Some(&version)) {
        Ok(m) => json_response(StatusCode::OK, &metadata(&m)),
        Err(r) => error_response(r.status, &r.message),
    }
}

async fn model_ready(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match find(&state, &name, None) {
        Ok(m) => json_response(StatusCode::OK, &json!({"name": m.name, "ready": true})),
        Err(r) => error_response(r.status, &r.message),
    }
}

fn drift_json(m: &Model) -> Option<Value> {
    let w = m.window.as_ref()?.lock().ok()?;
    let (rows, drift) = w.drift();
    Some(json!({
        "name": m.name,
        "version": m.version,
        "rows": rows,
        "reference_rows": w.reference.rows,
        "variables": drift.iter().map(|d| json!({"name": d.name, "psi": d.psi, "js": d.js, "flag": d.flag()})).collect::<Vec<_>>(),
    }))
}

async fn model_drift(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match find(&state, &name, None) {
        Ok(m) => match drift_json(&m) {
            Some(d) => json_response(StatusCode::OK, &d),
            None => error_response(
                404,
                &format!("the bundle of `{name}` has no training reference (deploy it again)"),
            ),
        },
        Err(r) => error_response(r.status, &r.message),
    }
}

/// The V2 repository extension: every model the service knows and whether it is served.
async fn repository_index(State(state): State<AppState>) -> Response {
    let index: Vec<Value> = state
        .repo
        .index()
        .into_iter()
        .map(|(name, version)| match version {
            Some(v) => json!({"name": name, "version": v, "state": "READY"}),
            None => json!({"name": name, "state": "UNAVAILABLE", "reason": "unloaded"}),
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(index))
}

/// Loads a model again from its bundle folder (a redeployed bundle); the old one serves until
/// the new one is in place, and stays when the new one fails to load (422).
async fn repository_load(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.repo.reload(&name) {
        Ok(true) => json_response(StatusCode::OK, &json!({})),
        Ok(false) => error_response(404, &format!("no model `{name}` in this service's repository")),
        Err(e) => error_response(422, &format!("`{name}` was not loaded: {e}")),
    }
}

/// Stops serving a model until it is loaded again.
async fn repository_unload(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    if state.repo.unload(&name) {
        json_response(StatusCode::OK, &json!({}))
    } else {
        error_response(404, &format!("model `{name}` is not loaded"))
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.lock().map(|m| m.render()).unwrap_or_default();
    text.push_str("# HELP riskpipe_drift_psi PSI of the score and CSI of each feature over the sliding window against the training reference.\n# TYPE riskpipe_drift_psi gauge\n");
    for m in &state.repo.all() {
        if let Some(w) = m.window.as_ref().and_then(|w| w.lock().ok()) {
            let (rows, drift) = w.drift();
            if rows > 0 {
                for d in drift {
                    text.push_str(&format!(
                        "riskpipe_drift_psi{{model=\"{}\",variable=\"{}\"}} {}\n",
                        m.name, d.name, d.psi
                    ));
                }
            }
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}

/// Which door a request came through.
#[derive(Clone, Copy, PartialEq)]
enum Door {
    V2,
    Mlflow,
}

/// Bodies above this many bytes (batches) are scored on tokio's blocking threads, so a long
/// batch never holds up the single-row requests queued behind it on an async worker.
const BLOCKING_BYTES: usize = 32 << 10;

async fn handle_async(state: AppState, name: String, version: Option<String>, door: Door, body: Bytes) -> Response {
    if body.len() <= BLOCKING_BYTES {
        return handle(&state, &name, version.as_deref(), door, &body);
    }
    tokio::task::spawn_blocking(move || handle(&state, &name, version.as_deref(), door, &body))
        .await
        .unwrap_or_else(|e| error_response(500, &format!("scoring stopped: {e}")))
}

async fn infer(State(state): State<AppState>, Path(name): Path<String>, body: Bytes) -> Response {
    handle_async(state, name, None, Door::V2, body).await
}

async fn infer_version(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    handle_async(state, name, Some(version), Door::V2, body).await
}

async fn invocations(State(state): State<AppState>, body: Bytes) -> Response {
    // An MLflow server serves one model: the first bundle.
    let Some(name) = state.repo.all().first().map(|m| m.name.clone()) else {
        return error_response(404, "no model is loaded");
    };
    handle_async(state, name, None, Door::Mlflow, body).await
}

/// Scores one request and records it: metrics always, the audit log for every scored row.
fn handle(state: &Shared, name: &str, version: Option<&str>, door: Door, body: &[u8]) -> Response {
    let t0 = Instant::now();
    let model = match find(state, name, version) {
        Ok(m) => m,
        Err(r) => return error_response(r.status, &r.message),
    };
    let result = score(state, &model, door, body);
    let outcome = match &result {
        Ok(_) => "ok",
        Err(r) if r.status == 400 || r.status == 413 => "bad_request",
        Err(r) if r.status == 422 => "unprocessable",
        Err(_) => "error",
    };
    if let Ok(mut m) = state.metrics.lock() {
        m.request(&model.name, outcome, t0.elapsed().as_secs_f64());
        if let Some(a) = &state.audit {
            m.audit(a.counts());
        }
    }
    match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(r) => error_response(r.status, &r.message),
    }
}

fn rejected(e: &Error) -> Rejected {
    Rejected {
        status: if e.class() == ErrorClass::User { 422 } else { 500 },
        message: e.to_string(),
    }
}

fn score(state: &Shared, model: &Model, door: Door, body: &[u8]) -> std::result::Result<Value, Rejected> {
    let request: Value = serde_json::from_slice(body).map_err(|e| Rejected {
        status: 400,
        message: format!("the body is not JSON: {e}"),
    })?;
    let inputs = &model.scorer.info.inputs;
    let raw = match door {
        Door::V2 => tensors::v2_frame(&request, inputs)?,
        Door::Mlflow => tensors::mlflow_frame(&request, inputs)?,
    };
    let file = "request";
    raw.check_finite(file, 1).map_err(|e| rejected(&e))?;
    let mut out = model.scorer.score(&raw, 0, file).map_err(|e| rejected(&e))?;
    // Values training never saw are flagged beside the outputs; the rows are scored all the same.
    let masked = model.scorer.masked_inputs(&raw, file).map_err(|e| rejected(&e))?;
    let checked = model.scorer.check_inputs_seen(&masked);
    out.push(WARNINGS, riskpipe_core::Column::Text(checked.warnings.clone()));
    let id = match request.get("id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => format!("req-{}", state.next_id.fetch_add(1, Ordering::Relaxed)),
    };
    // The challenger's outputs (or why it could not score) go to the audit log only.
    let shadow: Option<std::result::Result<(String, Frame), String>> = model.shadow.as_ref().map(|s| {
        s.scorer
            .score(&raw, 0, file)
            .map(|o| (s.version.clone(), o))
            .map_err(|e| e.to_string())
    });
    if let Some(audit) = &state.audit {
        append_audit(audit, model, &id, &masked, (&out, shadow.as_ref()))?;
    }
    if let (Some(w), Some((_, riskpipe_core::Column::Number(v)))) = (&model.window, out.iter().nth(1)) {
        if let Ok(mut w) = w.lock() {
            w.add(v, &masked);
        }
    }
    if let Ok(mut m) = state.metrics.lock() {
        if let Some((_, riskpipe_core::Column::Number(v))) = out.iter().nth(1) {
            m.scores(&model.name, v);
        }
        m.inputs(&model.name, &checked.missing, &checked.out_of_range);
    }
    Ok(match door {
        Door::V2 => json!({
            "model_name": model.name,
            "model_version": model.version,
            "id": id,
            "outputs": tensors::v2_outputs(&out),
        }),
        Door::Mlflow => json!({ "predictions": tensors::records(&out) }),
    })
}

/// One audit line per scored row, written before the response leaves. The lines are serialized
/// here, outside the log's lock.
fn append_audit(
    audit: &AuditLog,
    model: &Model,
    id: &str,
    masked: &Frame,
    (out, shadow): (&Frame, Option<&std::result::Result<(String, Frame), String>>),
) -> std::result::Result<(), Rejected> {
    let failed = |e: Error| Rejected {
        status: 500,
        message: format!("the audit log could not be written, so the decision is withheld: {e}"),
    };
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let inputs = tensors::records(masked);
    let shadow_rows: Option<std::result::Result<(&str, Vec<Map<String, Value>>), &str>> = shadow.map(|s| match s {
        Ok((v, f)) => Ok((v.as_str(), tensors::records(f))),
        Err(e) => Err(e.as_str()),
    });
    let mut entries = Vec::with_capacity(inputs.len());
    for (row, (input, output)) in inputs.into_iter().zip(tensors::records(out)).enumerate() {
        let mut line = Map::new();
        line.insert("time".into(), json!(time));
        line.insert("request_id".into(), json!(id));
        line.insert("model".into(), json!(model.name));
        line.insert("version".into(), json!(model.version));
        line.insert("bundle_sha256".into(), json!(model.sha256));
        line.insert("row".into(), json!(row));
        line.insert("input".into(), Value::Object(input));
        line.insert("output".into(), Value::Object(output));
        match &shadow_rows {
            Some(Ok((v, rows))) => {
                line.insert("shadow".into(), json!({"version": v, "output": rows.get(row)}));
            }
            Some(Err(e)) => {
                line.insert("shadow".into(), json!({ "error": e }));
            }
            None => {}
        }
        entries.push(Entry::new(line));
    }
    audit.append_all(&entries).map_err(failed)
}

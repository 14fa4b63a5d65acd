//! The accept loop: plain TCP or TLS (rustls, from PEM certificate and key files), HTTP/1.1
//! connections with a header-read timeout (a client that never finishes its headers is cut off,
//! not left holding a connection), and a graceful shutdown that lets the requests in flight
//! finish.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use riskpipe_core::{Error, Result};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificate chain and private key files the service presents (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

fn unreadable(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::data(
        path.display().to_string(),
        None,
        None,
        format!("is not a PEM {what}: {e}"),
    )
}

/// The TLS acceptor for `files`: a file that is missing, not PEM, or a key that does not match
/// the certificate is a user error naming the file.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    riskpipe_core::io::check_is_file(&files.cert)?;
    riskpipe_core::io::check_is_file(&files.key)?;
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| unreadable(&files.cert, "certificate chain", e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&files.cert, "certificate chain", e))?;
    if certs.is_empty() {
        return Err(unreadable(&files.cert, "certificate chain", "it holds no certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| unreadable(&files.key, "private key", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS protocol versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            Error::data(
                files.key.display().to_string(),
                None,
                None,
                format!("does not go with the certificate `{}`: {e}", files.cert.display()),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for the connections'
/// requests in flight. `header_timeout` bounds the TLS handshake and the reading of a request's
/// headers.
pub async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "Could not accept a connection.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        let http = http.clone();
        match &tls {
            None => {
                let conn = watcher.watch(http.serve_connection(TokioIo::new(tcp), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "A connection ended with an error.");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let stream = match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "A TLS handshake failed.");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("A TLS handshake timed out.");
                            return;
                        }
                    };
                    let conn = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "A connection ended with an error.");
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

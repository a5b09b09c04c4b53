//! One HTTP connection pool per process for what sessions send (MCP and `Net`): one reqwest
//! client per outbound policy (an application's, or the console's open one) and connect
//! timeout — so per TLS configuration too, the process has one — whose requests run on one
//! I/O thread of their own (a current-thread runtime). Connections live on that runtime, so
//! sessions on every worker share them, and a session's runtime ending (the console, tests)
//! takes no pooled connection with it. Timeouts stay with the session.
//!
//! One thread, not a multi-thread runtime: measured with `dialtone bench mcp`, two work-stealing
//! workers spent 0.1 ms of CPU per tools/call on wake-ups alone (0.30 -> 0.19 ms per call with
//! one thread), and one thread carries 200 concurrent sessions' calls (2 100 calls/s).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::runtime::Handle;

use crate::outbound::OutboundPolicy;

/// How long an idle pooled connection is kept for the next request (of any session).
pub(crate) const IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// The I/O runtime, started on first use; `None` if it could not be (requests then run on
/// their session's runtime).
fn io() -> Option<&'static Handle> {
    static IO: OnceLock<Option<Handle>> = OnceLock::new();
    IO.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                tracing::warn!("no HTTP I/O runtime ({e}); requests run on their session's")
            })
            .ok()?;
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("dialtone-http-io".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .map_err(|e| {
                tracing::warn!("no HTTP I/O thread ({e}); requests run on their session's")
            })
            .ok()?;
        Some(handle)
    })
    .as_ref()
}

/// The I/O task of a request ended without an answer (the process is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the HTTP I/O task ended before the answer")]
pub(crate) struct IoGone;

impl From<IoGone> for std::io::Error {
    fn from(gone: IoGone) -> Self {
        std::io::Error::other(gone)
    }
}

/// Runs `request` on the I/O runtime (cancelled when the returned future is dropped).
pub(crate) async fn on_io<T: Send + 'static>(
    request: impl Future<Output = T> + Send + 'static,
) -> Result<T, IoGone> {
    let Some(io) = io() else {
        return Ok(request.await);
    };
    tokio_util::task::AbortOnDropHandle::new(io.spawn(request))
        .await
        .map_err(|_| IoGone)
}

/// Runs `request` on the I/O runtime to its end, whoever waits for it: dropping the handle
/// does not cancel it (a request a session sent just before it ended still goes out).
pub(crate) fn detached<T: Send + 'static>(
    request: impl Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    match io() {
        Some(io) => io.spawn(request),
        None => tokio::spawn(request),
    }
}

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PoolError {
    /// The process's TLS client settings are unusable.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// reqwest refused the settings.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// The process's client for `outbound`'s applications, connecting within `connect_timeout`
/// (none: the operating system's bound).
pub(crate) fn client(
    outbound: &Arc<OutboundPolicy>,
    connect_timeout: Option<std::time::Duration>,
) -> Result<reqwest::Client, PoolError> {
    type Key = (String, Vec<String>, bool, Option<std::time::Duration>);
    static CLIENTS: OnceLock<Mutex<HashMap<Key, reqwest::Client>>> = OnceLock::new();
    let key = (
        outbound.application.clone(),
        outbound.allow_hosts.clone(),
        outbound.allow_private,
        connect_timeout,
    );
    let clients = CLIENTS.get_or_init(Mutex::default);
    let mut clients = clients.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    let tls = crate::tls::client_config().map_err(|e| PoolError::Tls(e.to_string()))?;
    let mut builder = outbound
        .apply(reqwest::Client::builder())
        .tcp_nodelay(true)
        .pool_idle_timeout(IDLE)
        .tls_backend_preconfigured(tls);
    if let Some(timeout) = connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    let client = builder
        .build()
        .map_err(|e| PoolError::Build(e.to_string()))?;
    clients.insert(key, client.clone());
    Ok(client)
}

//! The HTTP listener: `/health` (open), Prometheus `/metrics` (loopback or token), sessions'
//! access URLs (their key) and the admin API (token).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::admin::{self, Admin};

/// A listen address as a client on this machine reaches it: a wildcard one is 127.0.0.1.
pub fn reachable(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    if addr.ip().is_unspecified() {
        std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

/// The HTTP routes.
pub fn router(state: Arc<Admin>) -> Router {
    let metrics_route = Router::new()
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::loopback_or_token,
        ))
        .with_state(state.clone());
    Router::new()
        .route("/health", get(health))
        .with_state(state.clone())
        .merge(metrics_route)
        .merge(crate::access::routes(state.clone()))
        .merge(crate::webrtc::signaling::routes(state.clone()))
        .merge(crate::webrtc::pages::routes())
        .merge(admin::routes(state))
}

async fn health(State(state): State<Arc<Admin>>) -> impl IntoResponse {
    let metrics = &state.context.metrics;
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "calls": metrics.calls_active.load(Ordering::Relaxed),
        "sessions": metrics.sessions_active.load(Ordering::Relaxed),
        "catalog_version": state.context.catalog.current().config.shared.as_ref().map(|s| s.version),
    }))
}

async fn metrics(State(state): State<Arc<Admin>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.context.metrics.render(),
    )
}

/// Serves `router` on `listener`: each connection passes `gate` first; a request's headers
/// must arrive within `header_timeout` of its first byte, and a connection waiting that long
/// for its next request is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    gate: Arc<crate::accept::Gate>,
    header_timeout: std::time::Duration,
) {
    loop {
        let (stream, from) = crate::accept::accept(&gate, &listener).await;
        let Some(permit) = gate.admit(from) else {
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(from))),
        );
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!("HTTP connection from {from}: {e}");
            }
            drop(permit);
        });
    }
}

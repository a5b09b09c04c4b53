//! The HTTP listener: `/health` and Prometheus `/metrics` (the admin API joins them here).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::sip::CallContext;

/// The HTTP routes.
pub fn router(context: Arc<CallContext>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(context)
}

async fn health(State(context): State<Arc<CallContext>>) -> impl IntoResponse {
    let metrics = &context.metrics;
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "calls": metrics.calls_active.load(Ordering::Relaxed),
        "sessions": metrics.sessions_active.load(Ordering::Relaxed),
    }))
}

async fn metrics(State(context): State<Arc<CallContext>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        context.metrics.render(),
    )
}

//! The HTTP listener: `/health` (open), Prometheus `/metrics` (loopback or token) and the
//! admin API (token).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::admin::{self, Admin};

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
        .merge(admin::routes(state))
}

async fn health(State(state): State<Arc<Admin>>) -> impl IntoResponse {
    let metrics = &state.context.metrics;
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "calls": metrics.calls_active.load(Ordering::Relaxed),
        "sessions": metrics.sessions_active.load(Ordering::Relaxed),
    }))
}

async fn metrics(State(state): State<Arc<Admin>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.context.metrics.render(),
    )
}

//! The pages `dialtone serve` shows a person: `/` (links), `/phone` (a softphone that calls
//! through the WebRTC signalling and nothing else) and `/ui/sessions` (calls in progress and
//! recent history, read from the admin API with a token the operator pastes). Static files
//! embedded in the binary; no build step.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("pages/index.html");
const PHONE: &str = include_str!("pages/phone.html");
const PHONE_JS: &str = include_str!("pages/phone.js");
const SESSIONS: &str = include_str!("pages/sessions.html");
const SESSIONS_JS: &str = include_str!("pages/sessions.js");
const STYLE: &str = include_str!("pages/style.css");

/// The page routes (open: they hold nothing secret).
pub fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { html(INDEX) }))
        .route("/phone", get(|| async { html(PHONE) }))
        .route("/ui/phone.js", get(|| async { script(PHONE_JS) }))
        .route("/ui/sessions", get(|| async { html(SESSIONS) }))
        .route("/ui/sessions.js", get(|| async { script(SESSIONS_JS) }))
        .route(
            "/ui/style.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }),
        )
}

fn html(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; media-src 'self' blob: mediastream:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        ],
        body,
    )
}

fn script(body: &'static str) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        body,
    )
}

//! The admin HTTP API: applications, rules, scenarios, secrets, route tests and session
//! history, behind a Bearer token. Described by `/openapi.json`; documented in
//! docs/admin-api.md.
//!
//! - `token`: the Bearer token and its constant-time check.
//! - `catalog_api`: applications, rules, `POST /route-test`, `POST /reload`.
//! - `scenarios_api`: scenario upload, download, validation.
//! - `secrets_api`: per-application secrets (values go in, never out).
//! - `users_api`: application users (passwords go in, hashed; never out).
//! - `session_start_api`: sessions started without a call (rule + custom data).
//! - `sessions_api`: session history.
//! - `storage_api`: `ApplicationStorage` keys (list, read, write with a TTL, delete).
//! - `mcp_logins_api`: OAuth logins for MCP servers (the browser's callback needs no token).
//! - `openapi`: the OpenAPI 3.0 document.

mod catalog_api;
mod mcp_logins_api;
mod openapi;
mod scenarios_api;
mod secrets_api;
mod session_start_api;
mod sessions_api;
mod storage_api;
pub mod token;
mod users_api;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::catalog::edit::{EditError, Editor};
use crate::history::History;
use crate::secrets::SecretStore;
use crate::sip::CallContext;
pub use token::AdminToken;

/// What the admin API works on.
#[derive(Debug)]
pub struct Admin {
    /// The call context (catalog, metrics ...).
    pub context: Arc<CallContext>,
    /// The encrypted secrets.
    pub store: Arc<SecretStore>,
    /// Session history.
    pub history: Arc<History>,
    /// Serializes catalog changes.
    pub editor: Editor,
    /// The Bearer token.
    pub token: AdminToken,
    /// The address the HTTP server listens on (a login's default redirect goes there).
    pub http: SocketAddr,
    /// MCP OAuth logins started through the API.
    pub logins: mcp_logins_api::Logins,
}

/// Runs store or history I/O off the async threads; its error becomes the answer through
/// `error`, a task that died a 500.
async fn blocking<T: Send + 'static, E: Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
    error: impl FnOnce(E) -> ApiError,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(error)
}

/// A 500 carrying an error's words.
fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

/// 404 unless application `app` exists.
fn known_application(admin: &Admin, app: &str) -> Result<(), ApiError> {
    match admin.context.catalog.current().config.application(app) {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!("no application named '{app}'"))),
    }
}

impl Admin {
    /// The HTTP address as a browser on this machine reaches it.
    fn http_address(&self) -> SocketAddr {
        crate::http::reachable(self.http)
    }
}

/// An API error: a status and `{"error": message, "code": code}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with this status, stable code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        tracing::error!("admin API: {message}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message, "code": self.code }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"dialtone\""),
            );
        }
        response
    }
}

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        let (status, code) = match &e {
            EditError::ReadOnly => (StatusCode::CONFLICT, "read_only"),
            EditError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            EditError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            EditError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            EditError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            EditError::Io { .. } => return ApiError::internal(e.to_string()),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// 201 for something new, 200 for something replaced.
pub(crate) fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// The JSON body, or a 400 that says what is wrong with it.
pub(crate) fn body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// The path parameters, or a 400.
pub(crate) fn path<T>(
    path: Result<axum::extract::Path<T>, axum::extract::rejection::PathRejection>,
) -> Result<T, ApiError> {
    path.map(|axum::extract::Path(value)| value)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// Whether the request carries the admin token.
fn authorized(admin: &Admin, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .is_some_and(|presented| admin.token.accepts(presented))
}

/// The token of an `Authorization: Bearer <token>` value; the scheme is case-insensitive
/// (RFC 9110 11.1), so `bearer` and `BEARER` work as well.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized() -> Response {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong Bearer token (server.admin_token, DIALTONE_ADMIN_TOKEN or <data_dir>/admin.token)",
    )
    .into_response()
}

/// Every admin route requires the token.
async fn require_token(State(admin): State<Arc<Admin>>, request: Request, next: Next) -> Response {
    if authorized(&admin, request.headers()) {
        next.run(request).await
    } else {
        unauthorized()
    }
}

/// `/metrics`: open to loopback clients, others need the token.
pub(crate) async fn loopback_or_token(
    State(admin): State<Arc<Admin>>,
    request: Request,
    next: Next,
) -> Response {
    let loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
    if loopback || authorized(&admin, request.headers()) {
        next.run(request).await
    } else {
        unauthorized()
    }
}

/// The admin routes, all behind the token.
pub fn routes(admin: Arc<Admin>) -> Router {
    Router::new()
        .merge(catalog_api::routes())
        .merge(scenarios_api::routes())
        .merge(secrets_api::routes())
        .merge(users_api::routes())
        .merge(storage_api::routes())
        .merge(session_start_api::routes())
        .merge(sessions_api::routes())
        .merge(mcp_logins_api::routes())
        .route("/openapi.json", axum::routing::get(openapi::document))
        .fallback(|| async { ApiError::not_found("no such endpoint; see /openapi.json") })
        .layer(axum::middleware::from_fn_with_state(
            admin.clone(),
            require_token,
        ))
        .merge(mcp_logins_api::callback_route())
        .with_state(admin)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}

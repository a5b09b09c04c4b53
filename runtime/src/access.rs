//! Session access URLs (VoxEngine's media-session access URL): every session gets
//! `http://<server.http>/request/<session id>/<key>` in `AppEvents.Started.accessURL`, and an
//! HTTP request to it (or to a path below it) becomes the session's `AppEvents.HttpRequest`;
//! what the handler returns is the HTTP answer. The random key in the URL is the only
//! credential (no admin token), compared in constant time.
//!
//! Bounded: at most [`MAX_WAITING`] requests wait for their sessions at once (503 past it),
//! each at most [`ANSWER_TIMEOUT`] (504), bodies at most [`MAX_BODY_BYTES`] (413).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use dialtone_bindings::host::{HostEvent, HttpAnswer, HttpHeader, HttpRequest};
use tokio::sync::oneshot;

use crate::admin::Admin;

/// Requests waiting for their sessions' answers, at most.
pub const MAX_WAITING: usize = 256;
/// How long a session may take to answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most X- headers passed to the session.
const MAX_HEADERS: usize = 32;

/// The requests waiting for their sessions' answers.
#[derive(Debug, Default)]
pub struct AccessRequests {
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, (String, oneshot::Sender<HttpAnswer>)>>,
}

impl AccessRequests {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, (String, oneshot::Sender<HttpAnswer>)>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new request to session `session_id`: its id and where its answer arrives; none when
    /// too many wait.
    fn wait(&self, session_id: &str) -> Option<(u64, oneshot::Receiver<HttpAnswer>)> {
        let mut waiting = self.lock();
        if waiting.len() >= MAX_WAITING {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = oneshot::channel();
        waiting.insert(id, (session_id.to_owned(), tx));
        Some((id, rx))
    }

    /// A session's answer.
    pub fn answer(&self, answer: HttpAnswer) {
        if let Some((_, tx)) = self.lock().remove(&answer.id) {
            let _ = tx.send(answer);
        }
    }

    /// Session `session_id` ended: its waiting requests get 503 at once.
    pub fn session_ended(&self, session_id: &str) {
        self.lock().retain(|_, (session, _)| session != session_id);
    }

    fn forget(&self, id: u64) {
        self.lock().remove(&id);
    }
}

/// A fresh access key: 128 random bits, hex.
pub fn new_key() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // No system randomness: a key nobody can guess is not possible; one that expires
        // with the session is still better than none.
        bytes = uuid::Uuid::new_v4().into_bytes();
    }
    crate::users::hex(&bytes)
}

/// The access URL of a session, once the HTTP listener runs.
pub fn url(base: Option<&String>, session_id: &str, key: &str) -> Option<String> {
    base.map(|base| format!("{base}/request/{session_id}/{key}"))
}

/// The routes (no admin token: the key in the URL is the credential).
pub fn routes(admin: Arc<Admin>) -> Router {
    Router::new()
        .route("/request/{session}/{key}", any(without_rest))
        .route("/request/{session}/{key}/{*rest}", any(with_rest))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(admin)
}

async fn without_rest(
    State(admin): State<Arc<Admin>>,
    Path((session, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    forward(&admin, &session, &key, "", method, &uri, &headers, body).await
}

async fn with_rest(
    State(admin): State<Arc<Admin>>,
    Path((session, key, rest)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    forward(&admin, &session, &key, &rest, method, &uri, &headers, body).await
}

#[allow(clippy::too_many_arguments)]
async fn forward(
    admin: &Admin,
    session: &str,
    key: &str,
    rest: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let context = &admin.context;
    let Some(events) = context.live.by_access_key(session, key) else {
        return text(
            StatusCode::NOT_FOUND,
            "no such session (it ended, or the URL is wrong)",
        );
    };
    let Some((id, answer)) = context.access.wait(session) else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests are waiting for their sessions",
        );
    };
    let mut path = format!("/{rest}");
    if let Some(query) = uri.query() {
        path.push('?');
        path.push_str(query);
    }
    let request = HttpRequest {
        id,
        method: method.to_string(),
        path,
        content: String::from_utf8_lossy(&body).into_owned(),
        headers: headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("x-"))
            .take(MAX_HEADERS)
            .map(|(name, value)| HttpHeader {
                key: name.to_string(),
                value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            })
            .collect(),
    };
    if events.send(HostEvent::HttpRequest(request)).is_err() {
        context.access.forget(id);
        return text(StatusCode::NOT_FOUND, "no such session (it ended)");
    }
    match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
        Ok(Ok(answer)) => (
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, answer.content_type)],
            answer.body,
        )
            .into_response(),
        Ok(Err(_)) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the session ended before it answered",
        ),
        Err(_) => {
            context.access.forget(id);
            text(
                StatusCode::GATEWAY_TIMEOUT,
                "the session did not answer within 10 s",
            )
        }
    }
}

/// A plain-text answer (UTF-8).
pub(crate) fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

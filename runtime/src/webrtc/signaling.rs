//! WHIP-style signalling for browser calls, on the HTTP port (no admin token):
//!
//! - `POST /v1/webrtc/calls?to=DEST[&from=NAME]`, `Content-Type: application/sdp`, the offer
//!   with its candidates → `201 Created`, the answer (`application/sdp`) and `Location:
//!   /v1/webrtc/calls/{id}` once the scenario answers; the scenario's refusal or no route →
//!   the matching 4xx/5xx with the reason as text.
//! - `DELETE /v1/webrtc/calls/{id}` hangs up (200; 404 for a call that is not live).
//! - `GET /v1/webrtc/calls/{id}[?wait=1]`: `{"id", "state", "reason"}`; with `wait` it answers
//!   when the state changes (at most [`STATE_WAIT`]), so a page learns that the scenario hung up.
//!
//! Who may call: an application user with their password (`Authorization: Basic`; the call is
//! from them), anywhere; with `[application.webrtc] token_secret = "NAME"`, whoever carries
//! `Authorization: Bearer <that secret's value>`; without it, anyone only while the HTTP listener
//! is on loopback (the embedded defaults), so an exposed server never takes anonymous calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, watch};

use super::call::{self, Outcome, WebCallRequest};
use crate::admin::Admin;

/// Longest offer.
pub const MAX_OFFER_BYTES: usize = 64 * 1024;
/// How long `GET ...?wait=1` waits for a change.
pub const STATE_WAIT: Duration = Duration::from_secs(25);
/// How long a POST waits for the scenario to answer.
pub const ANSWER_WAIT: Duration = Duration::from_secs(120);
/// Most `X-` headers passed to the session.
const MAX_HEADERS: usize = 32;

/// Where a browser call is, as `GET` on its Location reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebCallState {
    /// `alerting`, `ringing`, `connected` or `ended`.
    pub state: &'static str,
    /// Why it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The live browser calls: how to hang each up and where it is.
#[derive(Debug, Default)]
pub struct WebCalls(Mutex<HashMap<String, Live>>);

#[derive(Debug)]
struct Live {
    hangup: mpsc::Sender<()>,
    state: watch::Receiver<WebCallState>,
}

impl WebCalls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new call; where its task reports its state.
    pub(crate) fn add(&self, id: &str, hangup: mpsc::Sender<()>) -> watch::Sender<WebCallState> {
        let (tx, state) = watch::channel(WebCallState {
            state: "alerting",
            reason: None,
        });
        self.lock().insert(id.to_owned(), Live { hangup, state });
        tx
    }

    /// The call's task ended.
    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Asks a live call to hang up; false when there is no such call or it has ended.
    fn hang_up(&self, id: &str) -> bool {
        match self.lock().get(id) {
            Some(live) if live.state.borrow().state != "ended" => {
                let _ = live.hangup.try_send(());
                true
            }
            _ => false,
        }
    }

    fn state(&self, id: &str) -> Option<watch::Receiver<WebCallState>> {
        self.lock().get(id).map(|live| live.state.clone())
    }
}

/// The signalling routes.
pub fn routes(admin: Arc<Admin>) -> Router {
    Router::new()
        .route("/v1/webrtc/calls", post(create))
        .route("/v1/webrtc/calls/{id}", get(status).delete(hang_up))
        .layer(DefaultBodyLimit::max(MAX_OFFER_BYTES))
        .with_state(admin)
}

#[derive(Debug, Deserialize)]
struct CallQuery {
    to: Option<String>,
    from: Option<String>,
}

/// A plain-text answer; `status` may be a SIP code a scenario rejected with (486, 603 ...).
fn text(status: u16, body: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    crate::access::text(status, &body.into())
}

async fn create(
    State(admin): State<Arc<Admin>>,
    Query(query): Query<CallQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let context = admin.context.clone();
    let caller = match authorize(&admin, &headers) {
        Ok(caller) => caller,
        Err(why) => {
            tracing::warn!("WebRTC call refused (401): {why}");
            return text(401, why);
        }
    };
    let Some(to) = query.to.filter(|to| !to.is_empty()) else {
        return text(
            400,
            "say whom to call: POST /v1/webrtc/calls?to=DESTINATION",
        );
    };
    let is_sdp = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/sdp"));
    if !is_sdp {
        return text(
            415,
            "the offer must be sent as Content-Type: application/sdp",
        );
    }
    let Ok(offer) = String::from_utf8(body.to_vec()) else {
        return text(400, "the offer is not UTF-8 text");
    };
    let (from, display_name) = match caller {
        Caller::User { name, display_name } => (Some(name), display_name),
        Caller::Anonymous => {
            // Only a signed-in user calls as a user: nobody else may take their name.
            let application = &admin.context.catalog.current().config.server.application;
            if let Some(name) = query.from.as_deref()
                && admin.context.users.credentials(application, name).is_some()
            {
                return text(
                    403,
                    format!(
                        "'{name}' is a user of application '{application}': sign in as them to call as them"
                    ),
                );
            }
            (query.from, None)
        }
    };
    let request = WebCallRequest {
        to,
        from,
        display_name,
        offer,
        headers: x_headers(&headers),
    };
    // Its own task, so a browser that gives up cannot cut the setup in half (a peer connection
    // built and never closed); `waiting` goes with this handler, and until the scenario answers
    // that cancels the call.
    let (waiting, gone) = tokio::sync::oneshot::channel::<()>();
    let taking = tokio::spawn(call::take(context, request, gone));
    let outcome = match tokio::time::timeout(ANSWER_WAIT, taking).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Outcome::Refused {
            status: 500,
            reason: "the call could not be set up (the server log says why)".to_owned(),
        },
        Err(_) => Outcome::Refused {
            status: 480,
            reason: format!(
                "the scenario did not answer within {} s",
                ANSWER_WAIT.as_secs()
            ),
        },
    };
    drop(waiting);
    match outcome {
        Outcome::Answered { id, sdp } => (
            StatusCode::CREATED,
            [
                (header::CONTENT_TYPE, "application/sdp".to_owned()),
                (header::LOCATION, format!("/v1/webrtc/calls/{id}")),
            ],
            sdp,
        )
            .into_response(),
        Outcome::Refused { status, reason } => {
            tracing::info!("WebRTC call refused ({status}): {reason}");
            text(status, reason)
        }
    }
}

async fn hang_up(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(why) = authorize(&admin, &headers) {
        return text(401, why);
    }
    if admin.context.web_calls.hang_up(&id) {
        text(200, "hung up")
    } else {
        text(404, format!("no live call {id}"))
    }
}

/// `?wait=STATE`: answer once the call is no longer in STATE (at once when it already is not).
#[derive(Debug, Deserialize)]
struct StatusQuery {
    wait: Option<String>,
}

async fn status(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<StatusQuery>,
) -> Response {
    if let Err(why) = authorize(&admin, &headers) {
        return text(401, why);
    }
    let Some(mut state) = admin.context.web_calls.state(&id) else {
        return text(404, format!("no live call {id}"));
    };
    if let Some(seen) = query.wait {
        let _ = tokio::time::timeout(
            STATE_WAIT,
            state.wait_for(|now| now.state != seen || now.state == "ended"),
        )
        .await;
    }
    let now = state.borrow().clone();
    axum::Json(serde_json::json!({"id": id, "state": now.state, "reason": now.reason}))
        .into_response()
}

/// Who a request is, once allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    /// Allowed without credentials (loopback listener) or with the web-call token.
    Anonymous,
    /// An application user who gave their password: the call is from them.
    User {
        name: String,
        display_name: Option<String>,
    },
}

const NEEDS_CREDENTIALS: &str = "a web call needs Authorization: Bearer <the application's web-call token>, or an application user's name and password (Basic)";

/// Whether this request may place or control a call, or why not.
fn authorize(admin: &Admin, headers: &HeaderMap) -> Result<Caller, String> {
    let catalog = admin.context.catalog.current();
    let application = &catalog.config.server.application;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // An application user's password, on any listener; a wrong one is refused even where
    // anyone may call, so nobody calls as somebody else.
    if let Some(basic) = authorization.strip_prefix("Basic ") {
        return user(admin, application, basic.trim());
    }
    let secret = catalog
        .config
        .applications
        .iter()
        .find(|a| &a.name == application)
        .and_then(|a| a.webrtc.token_secret.clone());
    let Some(secret) = secret else {
        return if admin.http.ip().is_loopback() {
            local_request(headers).map(|()| Caller::Anonymous)
        } else {
            Err(format!(
                "web calls on a listener other than loopback need credentials: set [application.webrtc] token_secret for application '{application}', or sign in as one of its users"
            ))
        };
    };
    let Some(expected) = admin.context.secrets.secrets(application).remove(&secret) else {
        // The operator's mistake, said in the operator's log; the caller learns only that it
        // may not call.
        tracing::warn!(
            "web calls are refused: the web-call token secret '{secret}' is not set for application '{application}' (dialtone secrets set {application} {secret})"
        );
        return Err(NEEDS_CREDENTIALS.to_owned());
    };
    let given = authorization.strip_prefix("Bearer ").unwrap_or_default();
    if !given.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(Caller::Anonymous)
    } else {
        Err(NEEDS_CREDENTIALS.to_owned())
    }
}

/// Whether a request without credentials really comes from this machine's own pages: a
/// loopback or `localhost` Host (a rebound DNS name is refused), an Origin naming that same
/// host when there is one, and no proxy in between (a local TLS proxy makes "loopback" public).
fn local_request(headers: &HeaderMap) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "anonymous web calls are taken only from this machine ({why}): set [application.webrtc] token_secret, or sign in as an application user"
        ))
    };
    if headers.contains_key("forwarded") || headers.contains_key("x-forwarded-for") {
        return refuse("this request came through a proxy");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = host_name(host);
    if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
        return refuse("the request names another host");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != format!("http://{host}")
    {
        return refuse("the page comes from another site");
    }
    Ok(())
}

/// `host` of `host[:port]` (brackets kept for IPv6).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.split(':').next().unwrap_or(host)
}

/// An application user from HTTP Basic credentials, checked against the user's stored
/// digest hash (the realm is the application's name, as for REGISTER).
fn user(admin: &Admin, application: &str, basic: &str) -> Result<Caller, String> {
    use base64::Engine as _;
    let wrong = || format!("wrong user name or password for application '{application}'");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(wrong)?;
    let (name, password) = decoded.split_once(':').ok_or_else(wrong)?;
    // The hash is computed for an unknown name too: the time taken does not tell who exists.
    let (_, sha256) = crate::users::ha1(name, application, password);
    let credentials = admin
        .context
        .users
        .credentials(application, name)
        .ok_or_else(wrong)?;
    if bool::from(sha256.as_bytes().ct_eq(credentials.ha1_sha256.as_bytes())) {
        Ok(Caller::User {
            name: name.to_owned(),
            display_name: credentials.display_name,
        })
    } else {
        Err(wrong())
    }
}

/// The request's `X-` headers, for `call.headers()`.
fn x_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-"))
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            // VoxEngine spells them X-Name.
            let mut spelled = String::with_capacity(name.as_str().len());
            let mut upper = true;
            for c in name.as_str().chars() {
                spelled.push(if upper { c.to_ascii_uppercase() } else { c });
                upper = c == '-';
            }
            Some((spelled, value.to_owned()))
        })
        .take(MAX_HEADERS)
        .collect()
}

//! OAuth logins for MCP servers through the admin API — what `dialtone mcp login` does on a
//! terminal. `POST /applications/{app}/mcp-logins` starts one and answers the authorization
//! URL; the operator's browser comes back to `GET /mcp-logins/callback` (no token: the
//! unguessable `state` is the key), which exchanges the code and stores the grant as the
//! application's secret; `GET /applications/{app}/mcp-logins/{id}` says how it went. At most
//! 16 logins wait at once, each for 10 minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use dialtone_bindings::mcp::oauth::login::{LoginRequest, PendingLogin, start};
use serde::{Deserialize, Serialize};

use super::{Admin, ApiError, body, path};

/// Logins waiting for their browser at once.
const MAX_PENDING: usize = 16;
/// How long a login waits for its browser.
const EXPIRY: Duration = Duration::from_secs(600);
/// Finished logins kept for `GET`.
const MAX_KEPT: usize = 256;

/// The admin API's logins.
#[derive(Debug, Default)]
pub struct Logins(Mutex<HashMap<String, Entry>>);

#[derive(Debug)]
struct Entry {
    application: String,
    name: String,
    url: String,
    state: Option<String>,
    authorization_url: String,
    redirect_uri: String,
    status: Status,
    started: Instant,
}

#[derive(Debug)]
enum Status {
    Pending(Option<Box<PendingLogin>>),
    Authorized,
    Failed(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartLogin {
    name: String,
    url: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    client_metadata_url: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
}

/// A login as the API shows it.
#[derive(Debug, Serialize)]
struct LoginInfo {
    id: String,
    application: String,
    name: String,
    url: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    authorization_url: String,
    redirect_uri: String,
}

impl Entry {
    fn info(&self, id: &str) -> LoginInfo {
        let (status, error) = match &self.status {
            Status::Pending(_) if self.started.elapsed() > EXPIRY => (
                "failed",
                Some("no redirect from the browser within 600 s".to_owned()),
            ),
            Status::Pending(_) => ("pending", None),
            Status::Authorized => ("authorized", None),
            Status::Failed(why) => ("failed", Some(why.clone())),
        };
        LoginInfo {
            id: id.to_owned(),
            application: self.application.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            status,
            error,
            authorization_url: self.authorization_url.clone(),
            redirect_uri: self.redirect_uri.clone(),
        }
    }

    fn waiting(&self) -> bool {
        matches!(self.status, Status::Pending(_)) && self.started.elapsed() <= EXPIRY
    }
}

/// The routes behind the token.
pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/applications/{app}/mcp-logins", post(begin))
        .route("/applications/{app}/mcp-logins/{id}", get(status))
}

/// The browser's way back (no token).
pub(super) fn callback_route() -> Router<Arc<Admin>> {
    Router::new().route("/mcp-logins/callback", get(callback))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

async fn begin(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
    request: Result<Json<StartLogin>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let app = path(app)?;
    let request = body(request)?;
    let outbound = match admin.context.catalog.current().config.application(&app) {
        Some(application) => Arc::new(application.outbound.policy(&app)),
        None => return Err(ApiError::not_found(format!("no application named '{app}'"))),
    };
    if !crate::secrets::store::valid_name(&request.name) {
        return Err(invalid(format!(
            "secret name '{}' must match ^[A-Za-z][A-Za-z0-9_]{{0,63}}$",
            request.name
        )));
    }
    let server = url::Url::parse(&request.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            invalid(format!(
                "url '{}' is not an http:// or https:// URL",
                request.url
            ))
        })?;
    let redirect_uri = match &request.redirect_uri {
        Some(uri) => url::Url::parse(uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.to_string())
            .ok_or_else(|| {
                invalid(format!(
                    "redirect_uri '{uri}' is not an http:// or https:// URL"
                ))
            })?,
        None => format!("http://{}/mcp-logins/callback", admin.http_address()),
    };
    {
        let mut logins = admin.logins.0.lock().unwrap_or_else(|e| e.into_inner());
        logins.retain(|_, e| e.waiting() || e.started.elapsed() <= EXPIRY * 6);
        if logins.values().filter(|e| e.waiting()).count() >= MAX_PENDING {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "{MAX_PENDING} logins already wait for their browser; finish one or wait 10 minutes"
                ),
            ));
        }
        if logins.len() >= MAX_KEPT {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "too many logins kept; try again later",
            ));
        }
    }
    let login = LoginRequest {
        server: server.clone(),
        scopes: request.scopes,
        client_id: request.client_id,
        client_secret: request.client_secret,
        client_metadata_url: request.client_metadata_url,
        client_name: format!("Dialtone ({app})"),
        redirect_port: 0,
        timeout: EXPIRY,
    };
    let pending = start(&login, &redirect_uri, &outbound)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, "login_failed", e.to_string()))?;
    let id = uuid::Uuid::new_v4().to_string();
    let entry = Entry {
        application: app,
        name: request.name,
        url: server.to_string(),
        state: pending.state(),
        authorization_url: pending.authorization_url().to_owned(),
        redirect_uri,
        status: Status::Pending(Some(Box::new(pending))),
        started: Instant::now(),
    };
    let info = entry.info(&id);
    admin
        .logins
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, entry);
    Ok((StatusCode::CREATED, Json(info)))
}

async fn status(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<LoginInfo>, ApiError> {
    let (app, id) = path(names)?;
    let logins = admin.logins.0.lock().unwrap_or_else(|e| e.into_inner());
    match logins.get(&id) {
        Some(entry) if entry.application == app => Ok(Json(entry.info(&id))),
        _ => Err(ApiError::not_found(format!(
            "application '{app}' has no MCP login '{id}'"
        ))),
    }
}

fn page(status: StatusCode, text: &str) -> (StatusCode, Html<String>) {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    (
        status,
        Html(format!(
            "<!doctype html><meta charset=utf-8><title>Dialtone</title><p>{escaped}</p>"
        )),
    )
}

async fn callback(
    State(admin): State<Arc<Admin>>,
    RawQuery(query): RawQuery,
) -> (StatusCode, Html<String>) {
    let query = query.unwrap_or_default();
    let state = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    let found = {
        let mut logins = admin.logins.0.lock().unwrap_or_else(|e| e.into_inner());
        logins
            .iter_mut()
            .find(|(_, e)| e.waiting() && e.state.is_some() && e.state == state)
            .and_then(|(id, e)| match &mut e.status {
                Status::Pending(pending) => pending.take().map(|p| {
                    (
                        id.clone(),
                        e.application.clone(),
                        e.name.clone(),
                        e.redirect_uri.clone(),
                        p,
                    )
                }),
                _ => None,
            })
    };
    let Some((id, application, name, redirect_uri, pending)) = found else {
        return page(
            StatusCode::NOT_FOUND,
            "Dialtone: no login waits for this redirect (finished, expired, or never started).",
        );
    };
    let redirect = format!("{redirect_uri}?{query}");
    let outcome = match pending.finish(&redirect).await {
        Ok(grant) => match serde_json::to_string(&grant) {
            Ok(value) => {
                let store = admin.store.clone();
                let description = format!("OAuth grant for {}", grant.server);
                let (app, secret) = (application.clone(), name.clone());
                tokio::task::spawn_blocking(move || {
                    store.set(&app, &secret, &value, Some(&description))
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|stored| stored.map(|_| ()).map_err(|e| e.to_string()))
            }
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    let mut logins = admin.logins.0.lock().unwrap_or_else(|e| e.into_inner());
    let (status, text) = match outcome {
        Ok(()) => {
            tracing::info!(
                "MCP login: secret '{name}' of application '{application}' holds a new grant"
            );
            (
                Status::Authorized,
                format!(
                    "Dialtone: authorized. Application '{application}' keeps the grant as secret '{name}'; you can close this window."
                ),
            )
        }
        Err(why) => {
            tracing::warn!(
                "MCP login for secret '{name}' of application '{application}' failed: {why}"
            );
            (
                Status::Failed(why.clone()),
                format!("Dialtone: the login failed: {why}"),
            )
        }
    };
    let code = match status {
        Status::Authorized => StatusCode::OK,
        _ => StatusCode::BAD_GATEWAY,
    };
    if let Some(entry) = logins.get_mut(&id) {
        entry.status = status;
    }
    page(code, &text)
}

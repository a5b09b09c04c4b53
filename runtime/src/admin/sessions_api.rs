//! Session history: list with filters, one session, one session's log lines. Log lines were
//! redacted by the session before they were stored.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};

use super::{Admin, ApiError, blocking, internal, path};
use crate::history::{LogRow, SessionFilter, SessionRow};

pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/sessions", get(list))
        .route("/sessions/{id}", get(one))
        .route("/sessions/{id}/logs", get(logs))
}

async fn list(
    State(admin): State<Arc<Admin>>,
    filter: Result<Query<SessionFilter>, QueryRejection>,
) -> Result<Json<Vec<SessionRow>>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::bad_request(e.body_text()))?;
    for (name, value) in [
        ("min_duration", filter.min_duration),
        ("max_duration", filter.max_duration),
    ] {
        if let Some(value) = value
            && !(value.is_finite() && value >= 0.0)
        {
            return Err(ApiError::bad_request(format!(
                "{name} must be a number of seconds, 0 or more (got {value})"
            )));
        }
    }
    let history = admin.history.clone();
    Ok(Json(
        blocking(move || history.list(&filter), internal).await?,
    ))
}

async fn one(
    State(admin): State<Arc<Admin>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<SessionRow>, ApiError> {
    let id = path(id)?;
    let history = admin.history.clone();
    let filter = SessionFilter {
        id: Some(id.clone()),
        ..SessionFilter::default()
    };
    let mut rows = blocking(move || history.list(&filter), internal).await?;
    rows.pop()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no session '{id}'")))
}

async fn logs(
    State(admin): State<Arc<Admin>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<LogRow>>, ApiError> {
    let id = path(id)?;
    let history = admin.history.clone();
    let wanted = id.clone();
    blocking(move || history.logs(&wanted), internal)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no session '{id}'")))
}

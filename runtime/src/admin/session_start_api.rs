//! Starting a session without a call (VoxEngine's `StartScenarios`):
//! `POST /applications/{app}/sessions` `{rule, customData?}` → 201 `{sessionId, accessURL,
//! accessSecureURL}`.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::{Admin, ApiError, body, path};
use crate::catalog::CatalogError;
use crate::router::NoRoute;
use crate::sip::api_session::{self, StartError};

pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new().route("/applications/{app}/sessions", post(start))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StartSession {
    rule: String,
    #[serde(default)]
    custom_data: String,
}

async fn start(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
    request: Result<Json<StartSession>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let app = path(app)?;
    let request = body(request)?;
    let started = api_session::start(&admin.context, &app, &request.rule, &request.custom_data)
        .map_err(|e| match e {
            StartError::Plan(CatalogError::NoRoute(e @ NoRoute::UnknownApplication(_))) => {
                ApiError::not_found(e.to_string())
            }
            StartError::Plan(CatalogError::NoRoute(e)) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            e @ StartError::CustomData(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            e => ApiError::internal(e.to_string()),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "sessionId": started.session_id,
            "accessURL": started.access_url,
            "accessSecureURL": started.access_url,
        })),
    ))
}

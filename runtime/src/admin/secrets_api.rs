//! Per-application secrets: set (value in the body, never in a URL), list (names,
//! descriptions, dates), delete. No response ever carries a value.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Admin, ApiError, blocking, body, created_or_ok, known_application, path};
use crate::secrets::{SecretError, SecretInfo};

pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/applications/{app}/secrets", get(list))
        .route(
            "/applications/{app}/secrets/{name}",
            put(set).delete(remove),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSecret {
    value: String,
    #[serde(default)]
    description: Option<String>,
}

fn store_error(e: SecretError) -> ApiError {
    match e {
        SecretError::Invalid(why) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why)
        }
        other => ApiError::internal(other.to_string()),
    }
}

async fn list(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<SecretInfo>>, ApiError> {
    let app = path(app)?;
    known_application(&admin, &app)?;
    Ok(Json(admin.store.list(&app)))
}

async fn set(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
    secret: Result<Json<SetSecret>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let (app, name) = path(names)?;
    let secret = body(secret)?;
    known_application(&admin, &app)?;
    let store = admin.store.clone();
    let (info, created) = blocking(
        move || store.set(&app, &name, &secret.value, secret.description.as_deref()),
        store_error,
    )
    .await?;
    Ok((created_or_ok(created), Json(info)))
}

async fn remove(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (app, name) = path(names)?;
    known_application(&admin, &app)?;
    let store = admin.store.clone();
    let (store_app, store_name) = (app.clone(), name.clone());
    match blocking(move || store.remove(&store_app, &store_name), store_error).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found(format!(
            "application '{app}' has no secret named '{name}'"
        ))),
    }
}

//! Application users: add or change (password in the body, never in a URL), list (names,
//! display names, dates), delete. No response carries a password hash.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Admin, ApiError, blocking, body, created_or_ok, known_application, path};
use crate::users::{UserError, UserInfo};

pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/applications/{app}/users", get(list))
        .route("/applications/{app}/users/{name}", put(set).delete(remove))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SetUser {
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

fn store_error(e: UserError) -> ApiError {
    match e {
        UserError::Invalid(why) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why),
        e @ UserError::NotFound { .. } => ApiError::not_found(e.to_string()),
        other => ApiError::internal(other.to_string()),
    }
}

async fn list(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<UserInfo>>, ApiError> {
    let app = path(app)?;
    known_application(&admin, &app)?;
    Ok(Json(admin.context.users.list(&app)))
}

async fn set(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
    user: Result<Json<SetUser>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let (app, name) = path(names)?;
    let user = body(user)?;
    known_application(&admin, &app)?;
    let users = admin.context.users.clone();
    let (info, created) = blocking(
        move || users.set(&app, &name, &user.password, user.display_name.as_deref()),
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
    let users = admin.context.users.clone();
    blocking(move || users.remove(&app, &name), store_error).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `ApplicationStorage` keys of an application: list (all, or a namespace's), read, write
//! with a TTL, delete. The same store and limits the scenarios' `ApplicationStorage` has.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use dialtone_bindings::host::storage::{
    AppStorage as _, MAX_KEYS_PAGE, MAX_TTL_S, StorageError, StorageKey, check_entry, ttl_seconds,
};
use serde::Deserialize;

use super::{Admin, ApiError, blocking, body, known_application, path};

pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/applications/{app}/storage", get(list))
        .route(
            "/applications/{app}/storage/{key}",
            get(one).put(put).delete(remove),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only this namespace (the part of a key before ':').
    namespace: Option<String>,
    /// Most keys (default and most: 1000).
    count: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutKey {
    value: String,
    /// Seconds to live (0 or absent: 90 days).
    #[serde(default)]
    ttl: u64,
}

fn store_error(e: StorageError) -> ApiError {
    match e {
        StorageError::Limit(why) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why),
        other => ApiError::internal(other.to_string()),
    }
}

async fn list(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<StorageKey>>, ApiError> {
    let app = path(app)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    known_application(&admin, &app)?;
    let count = query.count.unwrap_or(MAX_KEYS_PAGE);
    if !(1..=MAX_KEYS_PAGE).contains(&count) {
        return Err(ApiError::bad_request(format!(
            "count must be from 1 to {MAX_KEYS_PAGE}"
        )));
    }
    let store = admin.context.app_storage.clone();
    let keys = blocking(
        move || store.entries(&app, query.namespace.as_deref(), count),
        store_error,
    )
    .await?;
    Ok(Json(keys))
}

async fn one(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<StorageKey>, ApiError> {
    let (app, key) = path(names)?;
    known_application(&admin, &app)?;
    let store = admin.context.app_storage.clone();
    let missing = format!("application '{app}' has no key '{key}'");
    blocking(move || store.get(&app, &key), store_error)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(missing))
}

async fn put(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
    entry: Result<Json<PutKey>, JsonRejection>,
) -> Result<Json<StorageKey>, ApiError> {
    let (app, key) = path(names)?;
    let entry = body(entry)?;
    known_application(&admin, &app)?;
    let Some(ttl) = ttl_seconds(entry.ttl) else {
        return Err(ApiError::bad_request(format!(
            "ttl must be from 0 to {MAX_TTL_S} seconds (90 days)"
        )));
    };
    check_entry(&key, Some(&entry.value)).map_err(store_error)?;
    let store = admin.context.app_storage.clone();
    let stored = blocking(
        move || store.put(&app, &key, &entry.value, ttl),
        store_error,
    )
    .await?;
    Ok(Json(stored))
}

async fn remove(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (app, key) = path(names)?;
    known_application(&admin, &app)?;
    let store = admin.context.app_storage.clone();
    let missing = format!("application '{app}' has no key '{key}'");
    match blocking(move || store.remove(&app, &key), store_error).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::not_found(missing)),
    }
}

//! Scenario sources: list, download, upload (compiled first: a scenario that does not compile
//! is refused), delete (refused while a rule uses it), and validate without saving. Files
//! live next to the config file, or in the shared store's catalog for a cluster (a change is
//! a new catalog version every node takes); a rule picks an upload up on its next call.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::{Admin, ApiError, created_or_ok, path};
use crate::catalog::edit::{EditError, write_file};
use crate::config::{Config, valid_scenario_name as valid_name};
use dialtone_bindings::host::Script;

pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/scenarios", get(list))
        .route("/scenarios/validate", post(validate))
        .route(
            "/scenarios/{name}",
            get(download).put(upload).delete(remove),
        )
}

#[derive(Debug, Serialize)]
struct ScenarioInfo {
    name: String,
    size: u64,
    /// `application/rule` of every rule that runs it.
    used_by: Vec<String>,
}

fn checked(name: String) -> Result<String, ApiError> {
    if valid_name(&name) {
        Ok(name)
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("scenario name '{name}' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{{0,127}}\\.js$"),
        ))
    }
}

fn used_by(config: &Config, name: &str) -> Vec<String> {
    let mut users = Vec::new();
    for app in &config.applications {
        for rule in &app.rules {
            if rule.scenarios.iter().any(|s| s == name) {
                users.push(format!("{}/{}", app.name, rule.name));
            }
        }
    }
    users
}

async fn list(State(admin): State<Arc<Admin>>) -> Result<Json<Vec<ScenarioInfo>>, ApiError> {
    let catalog = admin.context.catalog.current();
    let config = &catalog.config;
    let mut names: Vec<(String, u64)> = Vec::new();
    match (&config.shared, config.dir()) {
        (Some(shared), _) => {
            for (name, source) in shared.sources.iter() {
                names.push((name.clone(), source.len() as u64));
            }
        }
        (None, Some(dir)) => {
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| ApiError::internal(format!("{}: {e}", dir.display())))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if valid_name(&name) {
                    names.push((name, entry.metadata().map(|m| m.len()).unwrap_or(0)));
                }
            }
        }
        (None, None) => {
            for app in &config.applications {
                for rule in &app.rules {
                    for script in config.load_scenarios(&rule.scenarios).unwrap_or_default() {
                        names.push((script.name, script.source.len() as u64));
                    }
                }
            }
        }
    }
    names.sort();
    names.dedup();
    Ok(Json(
        names
            .into_iter()
            .map(|(name, size)| ScenarioInfo {
                used_by: used_by(config, &name),
                name,
                size,
            })
            .collect(),
    ))
}

async fn download(
    State(admin): State<Arc<Admin>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let name = checked(path(name)?)?;
    let catalog = admin.context.catalog.current();
    let script = catalog
        .config
        .load_scenarios(std::slice::from_ref(&name))
        .ok()
        .and_then(|mut s| s.pop())
        .ok_or_else(|| ApiError::not_found(format!("no scenario named '{name}'")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        script.source,
    ))
}

async fn upload(
    State(admin): State<Arc<Admin>>,
    name: Result<Path<String>, PathRejection>,
    source: String,
) -> Result<impl IntoResponse, ApiError> {
    let name = checked(path(name)?)?;
    let catalog = admin.context.catalog.current();
    let max = catalog.config.limits.max_source_chars;
    if source.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_large",
            format!("the scenario is longer than the {max}-character limit"),
        ));
    }
    let script = Script::from_source(name.clone(), source);
    if let Err(e) = dialtone_bindings::validate_script(&script) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "compile_error",
            e.to_string(),
        ));
    }
    let created = if catalog.config.shared.is_some() {
        admin
            .editor
            .apply(&admin.context.catalog, |config| {
                let shared = config.shared.get_or_insert_default();
                Ok(Arc::make_mut(&mut shared.sources)
                    .insert(name.clone(), script.source.clone())
                    .is_none())
            })
            .await?
    } else {
        let file = catalog.config.dir().ok_or(EditError::ReadOnly)?.join(&name);
        admin
            .editor
            .exclusive(&admin.context.catalog, || {
                let created = !file.exists();
                write_file(&file, script.source.as_bytes()).map(|()| created)
            })
            .await?
    };
    let info = ScenarioInfo {
        used_by: used_by(&catalog.config, &name),
        size: script.source.len() as u64,
        name,
    };
    Ok((created_or_ok(created), Json(info)))
}

async fn remove(
    State(admin): State<Arc<Admin>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let name = checked(path(name)?)?;
    let catalog = admin.context.catalog.current();
    let in_use = |config: &Config| {
        let users = used_by(config, &name);
        match users.is_empty() {
            true => Ok(()),
            false => Err(EditError::Conflict(format!(
                "scenario '{name}' is used by {}; change those rules first",
                users.join(", ")
            ))),
        }
    };
    if catalog.config.shared.is_some() {
        admin
            .editor
            .apply(&admin.context.catalog, |config| {
                in_use(config)?;
                let shared = config.shared.get_or_insert_default();
                match Arc::make_mut(&mut shared.sources).remove(&name) {
                    Some(_) => Ok(()),
                    None => Err(EditError::NotFound(format!("no scenario named '{name}'"))),
                }
            })
            .await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    in_use(&catalog.config)?;
    let dir = catalog.config.dir().ok_or(EditError::ReadOnly)?;
    let file = dir.join(&name);
    admin
        .editor
        .exclusive(&admin.context.catalog, || {
            match std::fs::remove_file(&file) {
                Ok(()) => Ok(StatusCode::NO_CONTENT),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(ApiError::not_found(format!("no scenario named '{name}'")))
                }
                Err(e) => Err(ApiError::internal(format!("{}: {e}", file.display()))),
            }
        })
        .await
}

async fn validate(source: String) -> Json<serde_json::Value> {
    let script = Script::from_source("scenario.js", source);
    Json(match dialtone_bindings::validate_script(&script) {
        Ok(()) => serde_json::json!({ "valid": true }),
        Err(e) => serde_json::json!({ "valid": false, "error": e.to_string() }),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::valid_scenario_name as valid_name;

    #[test]
    fn scenario_names_cannot_leave_the_directory() {
        assert!(valid_name("dtmf-echo.voxengine.js"));
        for bad in ["../x.js", "a/b.js", ".js", "x.txt", ".hidden.js", "a..js"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}

//! Applications and their ordered rules, `POST /route-test` and `POST /reload`. Every change
//! goes through the catalog [`Editor`](crate::catalog::edit::Editor): validated, written to
//! the config file, then current for new calls.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Admin, ApiError, blocking, body, path};
use crate::catalog::edit::EditError;
use crate::config::{
    Application, Config, McpConfig, OutboundConfig, Rule, TrunkConfig, WebRtcConfig,
};
use crate::router::NoRoute;

pub(super) fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route(
            "/applications",
            get(list_applications).post(create_application),
        )
        .route(
            "/applications/{app}",
            get(get_application).delete(delete_application),
        )
        .route(
            "/applications/{app}/rules",
            get(list_rules).post(create_rule),
        )
        .route(
            "/applications/{app}/rules/{rule}",
            get(get_rule).put(update_rule).delete(delete_rule),
        )
        .route("/applications/{app}/rule-order", put(reorder_rules))
        .route("/route-test", post(route_test))
        .route("/reload", post(reload))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApplication {
    name: String,
    #[serde(default)]
    mcp: McpConfig,
    #[serde(default)]
    outbound: OutboundConfig,
    #[serde(default)]
    trunk: Option<TrunkConfig>,
    #[serde(default)]
    webrtc: WebRtcConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRule {
    name: String,
    pattern: String,
    #[serde(default)]
    exclude: Option<String>,
    scenarios: Vec<String>,
    /// Where to insert it (0 = first); at the end by default.
    #[serde(default)]
    position: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleUpdate {
    pattern: String,
    #[serde(default)]
    exclude: Option<String>,
    scenarios: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleOrder {
    rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteTest {
    destination: String,
    #[serde(default)]
    application: Option<String>,
}

fn application<'a>(config: &'a Config, name: &str) -> Result<&'a Application, ApiError> {
    config
        .application(name)
        .ok_or_else(|| ApiError::not_found(format!("no application named '{name}'")))
}

fn application_mut<'a>(
    config: &'a mut Config,
    name: &str,
) -> Result<&'a mut Application, EditError> {
    config
        .applications
        .iter_mut()
        .find(|a| a.name == name)
        .ok_or_else(|| EditError::NotFound(format!("no application named '{name}'")))
}

fn rule_index(app: &Application, rule: &str) -> Result<usize, EditError> {
    app.rules
        .iter()
        .position(|r| r.name == rule)
        .ok_or_else(|| {
            EditError::NotFound(format!(
                "application '{}' has no rule named '{rule}'",
                app.name
            ))
        })
}

/// An application as the API shows it (`rules`, where the TOML file says `rule`).
#[derive(Debug, serde::Serialize)]
struct ApplicationView {
    name: String,
    rules: Vec<Rule>,
    mcp: McpConfig,
    outbound: OutboundConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    trunk: Option<TrunkConfig>,
    webrtc: WebRtcConfig,
}

impl From<&Application> for ApplicationView {
    fn from(app: &Application) -> Self {
        Self {
            name: app.name.clone(),
            rules: app.rules.clone(),
            mcp: app.mcp,
            outbound: app.outbound.clone(),
            trunk: app.trunk.clone(),
            webrtc: app.webrtc.clone(),
        }
    }
}

async fn list_applications(State(admin): State<Arc<Admin>>) -> Json<Vec<ApplicationView>> {
    let catalog = admin.context.catalog.current();
    Json(catalog.config.applications.iter().map(Into::into).collect())
}

async fn get_application(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
) -> Result<Json<ApplicationView>, ApiError> {
    let app = path(app)?;
    let catalog = admin.context.catalog.current();
    Ok(Json(application(&catalog.config, &app)?.into()))
}

async fn create_application(
    State(admin): State<Arc<Admin>>,
    new: Result<Json<NewApplication>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let new = body(new)?;
    let created = admin
        .editor
        .apply(&admin.context.catalog, |config| {
            if config.application(&new.name).is_some() {
                return Err(EditError::Conflict(format!(
                    "application '{}' exists",
                    new.name
                )));
            }
            let app = Application {
                name: new.name.clone(),
                rules: Vec::new(),
                mcp: new.mcp,
                outbound: new.outbound.clone(),
                max_call_duration_s: None,
                trunk: new.trunk.clone(),
                webrtc: new.webrtc.clone(),
                queues: Vec::new(),
            };
            config.applications.push(app.clone());
            Ok(app)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(ApplicationView::from(&created))))
}

async fn delete_application(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let app = path(app)?;
    admin
        .editor
        .apply(&admin.context.catalog, |config| {
            application_mut(config, &app)?;
            if config.server.application == app {
                return Err(EditError::Conflict(format!(
                    "application '{app}' takes the inbound calls (server.application); it cannot be deleted"
                )));
            }
            config.applications.retain(|a| a.name != app);
            Ok(())
        })
        .await?;
    let store = admin.store.clone();
    blocking(
        move || store.remove_application(&app),
        |e| ApiError::internal(e.to_string()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_rules(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<Rule>>, ApiError> {
    let app = path(app)?;
    let catalog = admin.context.catalog.current();
    Ok(Json(application(&catalog.config, &app)?.rules.clone()))
}

async fn get_rule(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Rule>, ApiError> {
    let (app, rule) = path(names)?;
    let catalog = admin.context.catalog.current();
    let app = application(&catalog.config, &app)?;
    let index = rule_index(app, &rule)?;
    Ok(Json(app.rules[index].clone()))
}

async fn create_rule(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
    new: Result<Json<NewRule>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let app = path(app)?;
    let new = body(new)?;
    let rule = admin
        .editor
        .apply(&admin.context.catalog, |config| {
            let app = application_mut(config, &app)?;
            if app.rules.iter().any(|r| r.name == new.name) {
                return Err(EditError::Conflict(format!(
                    "application '{}' has a rule named '{}'",
                    app.name, new.name
                )));
            }
            let rule = Rule {
                name: new.name.clone(),
                pattern: new.pattern.clone(),
                exclude: new.exclude.clone(),
                scenarios: new.scenarios.clone(),
            };
            let at = new.position.unwrap_or(app.rules.len()).min(app.rules.len());
            app.rules.insert(at, rule.clone());
            Ok(rule)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

async fn update_rule(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
    update: Result<Json<RuleUpdate>, JsonRejection>,
) -> Result<Json<Rule>, ApiError> {
    let (app, rule) = path(names)?;
    let update = body(update)?;
    let rule = admin
        .editor
        .apply(&admin.context.catalog, |config| {
            let app = application_mut(config, &app)?;
            let index = rule_index(app, &rule)?;
            let rule = &mut app.rules[index];
            rule.pattern.clone_from(&update.pattern);
            rule.exclude.clone_from(&update.exclude);
            rule.scenarios.clone_from(&update.scenarios);
            Ok(rule.clone())
        })
        .await?;
    Ok(Json(rule))
}

async fn delete_rule(
    State(admin): State<Arc<Admin>>,
    names: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (app, rule) = path(names)?;
    admin
        .editor
        .apply(&admin.context.catalog, |config| {
            let app = application_mut(config, &app)?;
            let index = rule_index(app, &rule)?;
            app.rules.remove(index);
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reorder_rules(
    State(admin): State<Arc<Admin>>,
    app: Result<Path<String>, PathRejection>,
    order: Result<Json<RuleOrder>, JsonRejection>,
) -> Result<Json<Vec<Rule>>, ApiError> {
    let app = path(app)?;
    let order = body(order)?;
    let rules = admin
        .editor
        .apply(&admin.context.catalog, |config| {
            let app = application_mut(config, &app)?;
            let mut current: Vec<&str> = app.rules.iter().map(|r| r.name.as_str()).collect();
            let mut wanted: Vec<&str> = order.rules.iter().map(String::as_str).collect();
            current.sort_unstable();
            wanted.sort_unstable();
            if current != wanted {
                return Err(EditError::Invalid(format!(
                    "the new order must name every rule of '{}' once: {}",
                    app.name,
                    current.join(", ")
                )));
            }
            let mut reordered = Vec::with_capacity(app.rules.len());
            for name in &order.rules {
                let index = rule_index(app, name)?;
                reordered.push(app.rules[index].clone());
            }
            app.rules = reordered;
            Ok(app.rules.clone())
        })
        .await?;
    Ok(Json(rules))
}

async fn route_test(
    State(admin): State<Arc<Admin>>,
    test: Result<Json<RouteTest>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let test = body(test)?;
    let catalog = admin.context.catalog.current();
    let app = test
        .application
        .unwrap_or_else(|| catalog.config.server.application.clone());
    application(&catalog.config, &app)?;
    let answer = match catalog.plan(&app, &test.destination) {
        Ok(plan) => {
            let problem = plan
                .scripts
                .iter()
                .find_map(|script| dialtone_bindings::validate_script(script).err())
                .map(|e| format!("a call would fail: the scenario does not compile: {e}"));
            serde_json::json!({
                "destination": test.destination,
                "application": app,
                "matched": true,
                "rule": plan.route.rule,
                "scenarios": plan.route.scenarios,
                "misses": [],
                "problem": problem,
            })
        }
        Err(crate::catalog::CatalogError::NoRoute(NoRoute::NoMatch { misses, .. })) => {
            serde_json::json!({
                "destination": test.destination,
                "application": app,
                "matched": false,
                "reason": format!("no rule of application '{app}' matches; a SIP call gets 404"),
                "misses": misses.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "scenarios": [],
            })
        }
        Err(crate::catalog::CatalogError::NoRoute(e)) => {
            return Err(ApiError::not_found(e.to_string()));
        }
        Err(e) => {
            let route = catalog
                .plan_route(&app, &test.destination)
                .map_err(|e| ApiError::not_found(e.to_string()))?;
            serde_json::json!({
                "destination": test.destination,
                "application": app,
                "matched": true,
                "rule": route.rule,
                "scenarios": route.scenarios,
                "misses": [],
                "problem": format!("a call would fail: {e}"),
            })
        }
    };
    Ok(Json(answer))
}

async fn reload(State(admin): State<Arc<Admin>>) -> Result<Json<serde_json::Value>, ApiError> {
    admin.editor.reload(&admin.context.catalog).await?;
    Ok(Json(serde_json::json!({ "reloaded": true })))
}

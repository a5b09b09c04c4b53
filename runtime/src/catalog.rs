//! What a new call runs: the config's applications and rules, compiled for routing, and every
//! scenario a rule names, read and compiled to bytecode once per catalog version. A call takes
//! the catalog current when it arrives and keeps it, so a reload never changes a call in
//! progress, and an INVITE reads no file and parses no script.
//!
//! - `edit`: [`edit::Editor`], validated changes and reloads that replace the catalog.
//! - `shared`: [`shared::SharedCatalog`], the catalog versions a cluster's nodes share through
//!   the PostgreSQL store.

pub mod edit;
pub mod shared;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use dialtone_bindings::host::{Limits, Script};
use dialtone_bindings::mcp::McpPolicy;
use dialtone_bindings::outbound::OutboundPolicy;
use thiserror::Error;

use crate::config::{Config, ConfigError, TrunkConfig};
use crate::router::{NoRoute, Route, Router};

/// Why a call cannot start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// No rule takes the destination.
    #[error(transparent)]
    NoRoute(#[from] NoRoute),
    /// The rule's scenarios cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The scenarios, limits and policy for one call.
#[derive(Debug, Clone)]
pub struct CallPlan {
    /// The application, rule and scenario names.
    pub route: Route,
    /// The scenario sources.
    pub scripts: Vec<Script>,
    /// Session limits.
    pub limits: Limits,
    /// MCP policy of the application.
    pub mcp: McpPolicy,
    /// Where the application's sessions may connect.
    pub outbound: Arc<OutboundPolicy>,
    /// The application's SIP trunk (`VoxEngine.callPSTN`).
    pub trunk: Option<TrunkConfig>,
}

/// A config ready for routing.
#[derive(Debug)]
pub struct Catalog {
    /// The config.
    pub config: Config,
    router: Router,
    /// Each scenario the rules name, compiled; or why it could not be read (said to each
    /// call that needs it, as when files were read per call).
    scenarios: HashMap<String, Result<Script, Unreadable>>,
}

/// A scenario file that could not be read when the catalog was built.
#[derive(Debug)]
struct Unreadable {
    path: PathBuf,
    kind: std::io::ErrorKind,
    message: String,
}

impl Catalog {
    /// Compiles the config's rules, and reads and compiles every scenario they name.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let router = Router::new(&config)?;
        let mut scenarios = HashMap::new();
        for rule in config.applications.iter().flat_map(|a| &a.rules) {
            for name in &rule.scenarios {
                if scenarios.contains_key(name) {
                    continue;
                }
                let script = match config.load_scenario(name) {
                    Ok(script) => Ok(Script::compile(script.name, script.source)),
                    Err(ConfigError::Scenario { path, source }) => Err(Unreadable {
                        path,
                        kind: source.kind(),
                        message: source.to_string(),
                    }),
                    Err(other) => return Err(other),
                };
                scenarios.insert(name.clone(), script);
            }
        }
        Ok(Self {
            config,
            router,
            scenarios,
        })
    }

    /// The compiled scenarios `names` (in order), or the first that could not be read.
    pub(crate) fn scripts(&self, names: &[String]) -> Result<Vec<Script>, ConfigError> {
        names
            .iter()
            .map(|name| match self.scenarios.get(name) {
                Some(Ok(script)) => Ok(script.clone()),
                Some(Err(unreadable)) => Err(ConfigError::Scenario {
                    path: unreadable.path.clone(),
                    source: std::io::Error::new(unreadable.kind, unreadable.message.clone()),
                }),
                // Every rule's scenarios are in the map, and routes come from the same rules;
                // a call never reads a file, so a name from elsewhere is an error.
                None => Err(ConfigError::Scenario {
                    path: PathBuf::from(name),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no rule of this catalog version names it",
                    ),
                }),
            })
            .collect()
    }

    /// The rule that takes a call to `destination` (without reading its scenarios).
    pub fn plan_route(&self, application: &str, destination: &str) -> Result<Route, NoRoute> {
        self.router.route(application, destination)
    }

    /// What a call to `destination` in `application` runs.
    pub fn plan(&self, application: &str, destination: &str) -> Result<CallPlan, CatalogError> {
        let route = self.router.route(application, destination)?;
        self.plan_for(route)
    }

    /// What a session started by rule name (no call) runs.
    pub fn plan_rule(&self, application: &str, rule: &str) -> Result<CallPlan, CatalogError> {
        let app = self
            .config
            .application(application)
            .ok_or_else(|| NoRoute::UnknownApplication(application.to_owned()))?;
        let found =
            app.rules
                .iter()
                .find(|r| r.name == rule)
                .ok_or_else(|| NoRoute::UnknownRule {
                    application: application.to_owned(),
                    rule: rule.to_owned(),
                    known: app
                        .rules
                        .iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        self.plan_for(Route {
            application: application.to_owned(),
            rule: found.name.clone(),
            scenarios: found.scenarios.clone(),
        })
    }

    fn plan_for(&self, route: Route) -> Result<CallPlan, CatalogError> {
        let scripts = self.scripts(&route.scenarios)?;
        let app = self.config.application(&route.application);
        let mcp = app.map(|a| a.mcp.policy()).unwrap_or_default();
        let outbound = Arc::new(app.map(|a| a.outbound.policy(&a.name)).unwrap_or_default());
        let mut limits = self.config.limits;
        if let Some(max) = app.and_then(|a| a.max_call_duration_s) {
            limits.max_call_duration_s = max;
        }
        Ok(CallPlan {
            route,
            scripts,
            limits,
            mcp,
            outbound,
            trunk: app.and_then(|a| a.trunk.clone()),
        })
    }
}

/// The current catalog, replaceable as a whole.
#[derive(Debug)]
pub struct CatalogCell(RwLock<Arc<Catalog>>);

impl CatalogCell {
    /// Holds `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        Self(RwLock::new(Arc::new(catalog)))
    }

    /// The catalog new calls use.
    pub fn current(&self) -> Arc<Catalog> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces it for calls that arrive from now on.
    pub fn replace(&self, catalog: Catalog) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
    }

    /// Replaces it when `catalog` is a newer version of the shared store's catalog than the
    /// current one (a node's listener and its editor both put versions here); whether it did.
    pub fn replace_if_newer(&self, catalog: Catalog) -> bool {
        let mut current = self.0.write().unwrap_or_else(|e| e.into_inner());
        if catalog.config.catalog_version() <= current.config.catalog_version() {
            return false;
        }
        *current = Arc::new(catalog);
        true
    }
}

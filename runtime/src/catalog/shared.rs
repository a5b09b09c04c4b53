//! The catalog in the shared PostgreSQL store: applications, rules and scenario sources as
//! numbered versions that every node of a cluster runs.
//!
//! A node starting on an empty store writes version 1 from its config file (the
//! `[[application]]` tables and the scenario files beside it); every other start, and every
//! announcement on [`CHANNEL`], builds the newest version for the calls that arrive from then
//! on. An admin edit on any node writes the next version only if no other node wrote one since
//! the version it edited (otherwise it takes the newer one and applies the change again), so
//! two nodes never lose each other's edits. Calls in progress keep the version they started
//! with; the store keeps the last [`KEPT_VERSIONS`] versions.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use chrono::Utc;

use super::{Catalog, CatalogCell};
use crate::config::{Config, SharedScenarios, parse_applications, write_applications_toml};
use crate::store::listen::{Heard, listen};
use crate::store::{PgPool, StoreError};

/// The channel new catalog versions are announced on (payload: the version number).
pub const CHANNEL: &str = "dialtone_catalog";
/// How many versions the store keeps (older ones are deleted as new ones are written).
pub const KEPT_VERSIONS: i64 = 20;
/// Writes of a version take turns under this advisory lock.
const WRITE_LOCK: i64 = 0x6469_616c_6361_7401; // "dialcat" 1

/// One catalog version as the store holds it.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    /// Its number (from 1).
    pub version: i64,
    /// The applications with their rules.
    pub applications: Vec<crate::config::Application>,
    /// Scenario name -> source.
    pub sources: BTreeMap<String, String>,
}

/// What writing a version did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// It is the store's newest version now.
    Version(i64),
    /// Another node wrote this newer version since: nothing was written.
    Behind(i64),
}

/// A cluster's catalog in the store, as one node reads and writes it.
#[derive(Debug)]
pub struct SharedCatalog {
    pool: Arc<PgPool>,
    node: String,
}

impl SharedCatalog {
    /// The catalog in `pool`'s store, written as node `node` (named in the store and logs).
    pub fn new(pool: Arc<PgPool>, node: impl Into<String>) -> Self {
        Self {
            pool,
            node: node.into(),
        }
    }

    /// The newest version, or `None` when the store holds none yet. Blocking.
    pub fn latest(&self) -> Result<Option<StoredVersion>, StoreError> {
        let found = self.pool.with(|client| {
            let mut tx = client.build_transaction().read_only(true).start()?;
            let Some(row) = tx.query_opt(
                "SELECT version, applications FROM catalog_versions
                 ORDER BY version DESC LIMIT 1",
                &[],
            )?
            else {
                return Ok(None);
            };
            let version: i64 = row.get(0);
            let sources = tx
                .query(
                    "SELECT name, source FROM catalog_scenarios WHERE version = $1",
                    &[&version],
                )?
                .iter()
                .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
                .collect::<BTreeMap<_, _>>();
            tx.commit()?;
            Ok(Some((version, row.get::<_, String>(1), sources)))
        })?;
        let Some((version, applications, sources)) = found else {
            return Ok(None);
        };
        let applications = parse_applications(&applications).map_err(|e| StoreError::Query {
            url: self.pool.url().to_owned(),
            message: format!("catalog version {version} cannot be read: {e}"),
        })?;
        Ok(Some(StoredVersion {
            version,
            applications,
            sources,
        }))
    }

    /// Writes `config`'s applications and scenario sources as the version after `base`,
    /// unless the store's newest version is no longer `base`; announces what it wrote.
    /// Blocking.
    pub fn write(&self, base: i64, config: &Config) -> Result<Written, StoreError> {
        let applications =
            write_applications_toml(&config.applications).map_err(|e| StoreError::Query {
                url: self.pool.url().to_owned(),
                message: format!("the applications cannot be written: {e}"),
            })?;
        let empty = BTreeMap::new();
        let sources = config
            .shared
            .as_ref()
            .map_or(&empty, |shared| shared.sources.as_ref());
        self.pool.with(|client| {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
            let newest: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM catalog_versions",
                    &[],
                )?
                .get(0);
            if newest != base {
                return Ok(Written::Behind(newest));
            }
            let version = newest + 1;
            tx.execute(
                "INSERT INTO catalog_versions (version, applications, node, created)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &version,
                    &applications,
                    &self.node,
                    &Utc::now().timestamp_millis(),
                ],
            )?;
            let insert = tx.prepare(
                "INSERT INTO catalog_scenarios (version, name, source) VALUES ($1, $2, $3)",
            )?;
            for (name, source) in sources {
                tx.execute(&insert, &[&version, name, source])?;
            }
            tx.execute(
                "DELETE FROM catalog_versions WHERE version <= $1",
                &[&(version - KEPT_VERSIONS)],
            )?;
            tx.execute(
                "SELECT pg_notify($1, $2)",
                &[&CHANNEL, &version.to_string()],
            )?;
            tx.commit()?;
            Ok(Written::Version(version))
        })
    }

    /// The config a node starts with: `config` with the store's newest applications and
    /// scenarios, after writing version 1 from `config` (its applications and the scenario
    /// files beside it) when the store holds none. Blocking.
    pub fn adopt(&self, mut config: Config) -> Result<Config, StoreError> {
        // Twice at most: a node that loses the race to seed reads the winner's version.
        for _ in 0..2 {
            if let Some(stored) = self.latest()? {
                install(&mut config, stored, self.pool.url())?;
                return Ok(config);
            }
            config.shared = Some(SharedScenarios {
                version: 0,
                sources: Arc::new(scenarios_beside(&config)),
            });
            match self.write(0, &config)? {
                Written::Version(version) => {
                    tracing::info!(
                        "the store at {} held no applications: wrote catalog version {version} from {}",
                        self.pool.url(),
                        config.origin
                    );
                }
                // Another node seeded it first: take its version.
                Written::Behind(_) => {}
            }
        }
        Err(StoreError::Query {
            url: self.pool.url().to_owned(),
            message: "the catalog was written and then found empty: was catalog_versions emptied by hand?".into(),
        })
    }

    /// `config` with the store's newest applications and scenarios. Blocking.
    pub fn newest_config(&self, mut config: Config) -> Result<Config, StoreError> {
        if let Some(stored) = self.latest()? {
            install(&mut config, stored, self.pool.url())?;
        }
        Ok(config)
    }

    /// The store's newest version built on `current`'s config, when it is newer. Blocking.
    pub fn newer_than(&self, current: &Catalog) -> Result<Option<Catalog>, StoreError> {
        let Some(stored) = self.latest()? else {
            return Ok(None);
        };
        if stored.version <= current.config.catalog_version() {
            return Ok(None);
        }
        let version = stored.version;
        let mut config = current.config.clone();
        install(&mut config, stored, self.pool.url())?;
        Catalog::new(config)
            .map(Some)
            .map_err(|e| StoreError::Query {
                url: self.pool.url().to_owned(),
                message: format!("catalog version {version} cannot be used: {e}"),
            })
    }

    /// Puts the store's newest version in `cell` when it is newer than the cell's. Blocking.
    pub fn refresh(&self, cell: &CatalogCell) -> Result<(), StoreError> {
        if let Some(catalog) = self.newer_than(&cell.current())? {
            take(cell, catalog);
        }
        Ok(())
    }
}

/// Makes `catalog`, a version read from the store, current for new calls (unless the cell
/// holds a newer one already).
pub fn take(cell: &CatalogCell, catalog: Catalog) {
    let version = catalog.config.catalog_version();
    if cell.replace_if_newer(catalog) {
        tracing::info!("new calls run catalog version {version} from the shared store");
    }
}

/// Puts a stored version's applications and scenarios in `config`, checked as a config file
/// would be.
fn install(config: &mut Config, stored: StoredVersion, url: &str) -> Result<(), StoreError> {
    config.applications = stored.applications;
    config.shared = Some(SharedScenarios {
        version: stored.version,
        sources: Arc::new(stored.sources),
    });
    config.validate().map_err(|e| StoreError::Query {
        url: url.to_owned(),
        message: format!("catalog version {} is not valid: {e}", stored.version),
    })
}

/// The scenarios a node seeds an empty store with: each one its rules name, and each `*.js`
/// file with a scenario name beside the config file (the embedded ones for the embedded
/// config). A scenario that cannot be read is left out and logged (its calls say why).
fn scenarios_beside(config: &Config) -> BTreeMap<String, String> {
    let mut names: Vec<String> = config
        .applications
        .iter()
        .flat_map(|a| &a.rules)
        .flat_map(|r| r.scenarios.iter().cloned())
        .collect();
    if let Some(Ok(entries)) = config.dir().map(std::fs::read_dir) {
        names.extend(
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| crate::config::valid_scenario_name(name)),
        );
    }
    let mut sources = BTreeMap::new();
    for name in names {
        if sources.contains_key(&name) {
            continue;
        }
        match config.load_scenario(&name) {
            Ok(script) => {
                sources.insert(name, script.source);
            }
            Err(e) => tracing::warn!("not written to the shared store: {e}"),
        }
    }
    sources
}

/// Keeps `cell` (reached through `target` while it lives) on the store's newest version: a
/// listener thread builds each version another node announces, and reads the newest after
/// every (re)connect, since announcements made while it was away are lost.
pub fn follow<T: Send + Sync + 'static>(
    shared: Arc<SharedCatalog>,
    target: Weak<T>,
    cell: fn(&T) -> &CatalogCell,
) -> std::io::Result<()> {
    let pool = shared.pool.clone();
    listen(&pool, CHANNEL, move |heard| {
        let Some(target) = target.upgrade() else {
            return false;
        };
        let cell = cell(&target);
        let newer = match heard {
            Heard::Idle => false,
            Heard::Everything => true,
            Heard::Change(payload) => payload
                .parse::<i64>()
                .map_or(true, |v| v > cell.current().config.catalog_version()),
        };
        if newer && let Err(e) = shared.refresh(cell) {
            tracing::warn!("new calls keep the catalog they had: {e}");
        }
        true
    })
}

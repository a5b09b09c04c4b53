//! Changing the catalog while calls run: the admin API's edits and reloads of the config file
//! (SIGHUP, `POST /reload`). Every change is checked whole, written (to the config file, or as
//! the shared store's next catalog version in a cluster: [`super::shared`]), and only then
//! replaces the current catalog, so a call in progress keeps what it started with and a bad
//! change is refused without touching anything.
//!
//! The config file is rewritten with `toml_edit`: `[server]`, `[limits]` and their comments
//! stay as they are; the `[[application]]` tables are written anew.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use super::shared::{self, SharedCatalog, Written};
use super::{Catalog, CatalogCell};
use crate::config::{Config, ConfigError, Origin};

/// Why a change was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EditError {
    /// The server runs on the embedded config: there is no file to change.
    #[error(
        "the server runs on the embedded default config; start it with --config FILE to change applications, rules or scenarios"
    )]
    ReadOnly,
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// It exists already, or something else uses it.
    #[error("{0}")]
    Conflict(String),
    /// The result would be an invalid config.
    #[error("{0}")]
    Invalid(String),
    /// The shared store could not be read or written.
    #[error("{0}")]
    Store(String),
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl From<ConfigError> for EditError {
    fn from(e: ConfigError) -> Self {
        EditError::Invalid(e.to_string())
    }
}

/// Serializes changes to the catalog and where it is kept: the config file, or the shared
/// store of a cluster.
#[derive(Debug, Default)]
pub struct Editor {
    lock: tokio::sync::Mutex<()>,
    shared: Option<Arc<SharedCatalog>>,
}

/// How many times an edit is applied again on a newer catalog version another node wrote
/// meanwhile, before it is refused.
const SHARED_RETRIES: usize = 10;

impl Editor {
    /// An editor writing changes to the cluster's shared catalog instead of the config file.
    pub fn shared(shared: Arc<SharedCatalog>) -> Self {
        Self {
            lock: Default::default(),
            shared: Some(shared),
        }
    }

    /// Applies `change` to a copy of the current config; if the result is valid and every
    /// rule's scenarios can be read, writes it (to the file, or as the shared store's next
    /// catalog version) and makes it current for new calls. With a shared store, a change
    /// that meets a version another node wrote meanwhile is applied again to that version.
    pub async fn apply<T>(
        &self,
        cell: &CatalogCell,
        mut change: impl FnMut(&mut Config) -> Result<T, EditError>,
    ) -> Result<T, EditError> {
        let _guard = self.lock.lock().await;
        let mut base = cell.current().config.clone();
        let Some(shared) = &self.shared else {
            let Origin::File(path) = base.origin.clone() else {
                return Err(EditError::ReadOnly);
            };
            let out = change(&mut base)?;
            checked(&base)?;
            let catalog = build(base).await?;
            write_applications(&path, &catalog.config)?;
            cell.replace(catalog);
            return Ok(out);
        };
        for _ in 0..SHARED_RETRIES {
            let mut config = base.clone();
            let out = change(&mut config)?;
            checked(&config)?;
            let writer = shared.clone();
            let edited = base.catalog_version();
            let written = config.clone();
            match on_store(move || writer.write(edited, &written)).await? {
                Written::Version(version) => {
                    config.shared.get_or_insert_default().version = version;
                    shared::take(cell, build(config).await?);
                    return Ok(out);
                }
                Written::Behind(_) => {
                    let reader = shared.clone();
                    base = on_store(move || reader.newest_config(base)).await?;
                }
            }
        }
        Err(EditError::Conflict(format!(
            "other nodes changed the applications {SHARED_RETRIES} times while this change was applied; repeat it"
        )))
    }

    /// Reads the config file again and makes its limits current, with its applications and
    /// rules (the shared store's newest ones in a cluster); `[server]` settings need a
    /// restart. Nothing changes when the file is invalid.
    pub async fn reload(&self, cell: &CatalogCell) -> Result<(), EditError> {
        let _guard = self.lock.lock().await;
        let current = cell.current();
        let Origin::File(path) = &current.config.origin else {
            return Err(EditError::ReadOnly);
        };
        let mut config = Config::from_file(path)?;
        config.server = current.config.server.clone();
        if let Some(shared) = &self.shared {
            config.applications = current.config.applications.clone();
            config.shared = current.config.shared.clone();
            cell.replace(build(config).await?);
            refresh_shared(shared, cell).await?;
        } else {
            cell.replace(build(config).await?);
        }
        tracing::info!("reloaded {}", path.display());
        Ok(())
    }

    /// Runs `change` while no other change runs (scenario files), then compiles the scenarios
    /// again into a new catalog version for the calls that arrive from now on.
    pub async fn exclusive<T>(&self, cell: &CatalogCell, change: impl FnOnce() -> T) -> T {
        let _guard = self.lock.lock().await;
        let out = change();
        let config = cell.current().config.clone();
        match build(config).await {
            Ok(catalog) => cell.replace(catalog),
            Err(e) => tracing::error!("scenario change not applied to new calls: {e}"),
        }
        out
    }
}

/// Runs a shared-store read or write on the blocking pool; its failure is an
/// [`EditError::Store`].
async fn on_store<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, EditError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| EditError::Store(format!("the store task failed: {e}")))?
        .map_err(|e| EditError::Store(e.to_string()))
}

/// Puts the shared store's newest catalog version in `cell`, building it on the blocking
/// pool.
async fn refresh_shared(shared: &Arc<SharedCatalog>, cell: &CatalogCell) -> Result<(), EditError> {
    let (shared, current) = (shared.clone(), cell.current());
    if let Some(catalog) = on_store(move || shared.newer_than(&current)).await? {
        shared::take(cell, catalog);
    }
    Ok(())
}

/// Checks a changed config as a call would meet it: valid, its patterns compile, and every
/// rule's scenarios can be read.
fn checked(config: &Config) -> Result<(), EditError> {
    config.validate()?;
    crate::router::Router::new(config)?;
    for app in &config.applications {
        for rule in &app.rules {
            config.load_scenarios(&rule.scenarios).map_err(|e| {
                EditError::Invalid(format!(
                    "application '{}', rule '{}': {e}",
                    app.name, rule.name
                ))
            })?;
        }
    }
    Ok(())
}

/// Builds a catalog version (reading and compiling every rule's scenarios) on the blocking
/// pool, so the compile does not hold up the calls of the tokio worker it would run on.
async fn build(config: Config) -> Result<Catalog, EditError> {
    tokio::task::spawn_blocking(move || Catalog::new(config))
        .await
        .map_err(|e| EditError::Invalid(format!("building the new catalog failed: {e}")))?
        .map_err(EditError::from)
}

/// Rewrites the `[[application]]` tables of the config file, keeping the rest of it.
fn write_applications(path: &Path, config: &Config) -> Result<(), EditError> {
    let io = |source| EditError::Io {
        path: path.to_owned(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| EditError::Invalid(format!("{}: {e}", path.display())))?;
    let fresh = crate::config::write_applications_toml(&config.applications)
        .map_err(|e| EditError::Invalid(e.to_string()))?;
    let fresh: toml_edit::DocumentMut = fresh
        .parse()
        .map_err(|e| EditError::Invalid(format!("serialized applications: {e}")))?;
    document.remove("application");
    if let Some(item) = fresh.get("application") {
        document.insert("application", item.clone());
    }
    write_file(path, document.to_string().as_bytes())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let io = |source| EditError::Io {
        path: path.to_owned(),
        source,
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Rule;

    #[tokio::test]
    async fn an_edit_keeps_server_settings_and_comments_and_reaches_the_catalog() {
        let dir = std::env::temp_dir().join(format!("dialtone-edit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("a.js"), "Logger.write('a')").expect("scenario");
        let path = dir.join("dialtone.toml");
        let text = "# my comment\n[server]\nhistory_days = 3 # keep\n\n[[application]]\nname = 'default'\n[[application.rule]]\nname = 'all'\npattern = '.*'\nscenarios = ['a.js']\n";
        std::fs::write(&path, text).expect("config");
        let cell = CatalogCell::new(
            Catalog::new(Config::from_file(&path).expect("config")).expect("catalog"),
        );
        let editor = Editor::default();
        editor
            .apply(&cell, |config| {
                config.applications[0].rules.insert(
                    0,
                    Rule {
                        name: "vip".into(),
                        pattern: "100".into(),
                        exclude: None,
                        scenarios: vec!["a.js".into()],
                    },
                );
                Ok(())
            })
            .await
            .expect("edit");
        assert_eq!(
            cell.current()
                .plan("default", "100")
                .expect("plan")
                .route
                .rule,
            "vip"
        );
        let written = std::fs::read_to_string(&path).expect("read");
        assert!(
            written.contains("# my comment") && written.contains("history_days = 3 # keep"),
            "{written}"
        );
        let reread = Config::from_file(&path).expect("valid");
        assert_eq!(reread.applications, cell.current().config.applications);

        // A rule naming a missing scenario is refused and nothing changes.
        let refused = editor
            .apply(&cell, |config| {
                config.applications[0].rules[0].scenarios = vec!["missing.js".into()];
                Ok(())
            })
            .await
            .expect_err("missing scenario");
        assert!(refused.to_string().contains("missing.js"), "{refused}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), written);
        let _ = std::fs::remove_dir_all(dir);
    }
}

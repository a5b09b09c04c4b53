//! `dialtone storage ls/get/put/rm APP ...`: an application's `ApplicationStorage` keys,
//! through the running server's admin API when there is one, else in the config's store (the
//! data directory's database, or the shared PostgreSQL store).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use dialtone::app_storage::AppStore;
use dialtone::config::Config;
use dialtone_bindings::host::storage::{
    AppStorage as _, MAX_KEYS_PAGE, MAX_TTL_S, StorageKey, check_entry, ttl_seconds,
};
use reqwest::Method;

#[derive(Debug, Subcommand)]
pub(crate) enum StorageCommand {
    /// List keys and values, in key order: all, or one namespace's (the part before ':').
    Ls {
        /// Application.
        app: String,
        /// Only this namespace.
        namespace: Option<String>,
    },
    /// Print one key's value.
    Get {
        /// Application.
        app: String,
        /// Key.
        key: String,
    },
    /// Create or replace a key.
    Put {
        /// Application.
        app: String,
        /// Key (at most 200 characters).
        key: String,
        /// Value (at most 2000 characters).
        value: String,
        /// Seconds to live (0: 90 days, the most).
        #[arg(long, default_value_t = 0)]
        ttl: u64,
    },
    /// Delete a key.
    Rm {
        /// Application.
        app: String,
        /// Key.
        key: String,
    },
}

pub(crate) fn run(
    what: StorageCommand,
    config: Option<PathBuf>,
    server: Option<&str>,
) -> Result<ExitCode> {
    let config = Config::load(config.as_deref())?;
    let app = match &what {
        StorageCommand::Ls { app, .. }
        | StorageCommand::Get { app, .. }
        | StorageCommand::Put { app, .. }
        | StorageCommand::Rm { app, .. } => app.clone(),
    };
    let remote = crate::remote::for_application(&config, server, &app)?;
    // No server runs: the config's store itself (the data directory's, or PostgreSQL's).
    let local = || -> Result<AppStore> {
        Ok(match config.store.pool()? {
            Some(pool) => AppStore::postgres(pool),
            None => AppStore::lazy(&config.server.data_dir),
        })
    };
    match what {
        StorageCommand::Ls { app, namespace } => {
            let keys: Vec<StorageKey> = match &remote {
                Some(remote) => {
                    let query: Vec<(&str, &str)> = namespace
                        .as_deref()
                        .map(|ns| vec![("namespace", ns)])
                        .unwrap_or_default();
                    let path = ["applications", &app, "storage"];
                    let (_, json) = remote.call(Method::GET, &path, &query, None)?;
                    serde_json::from_value(json)?
                }
                None => local()?.entries(&app, namespace.as_deref(), MAX_KEYS_PAGE)?,
            };
            if keys.is_empty() {
                println!("application '{app}' has no keys");
            }
            for key in keys {
                let expires = chrono::DateTime::from_timestamp(key.expire_at, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_default();
                println!("{}\t{}\t(expires {expires})", key.key, key.value);
            }
        }
        StorageCommand::Get { app, key } => {
            let found = match &remote {
                Some(remote) => {
                    let path = ["applications", &app, "storage", &key];
                    let (_, json) = remote.call(Method::GET, &path, &[], None)?;
                    Some(serde_json::from_value(json)?)
                }
                None => local()?.get(&app, &key)?,
            };
            match found {
                Some(found) => println!("{}", found.value),
                None => bail!("application '{app}' has no key '{key}'"),
            }
        }
        StorageCommand::Put {
            app,
            key,
            value,
            ttl,
        } => {
            let Some(lives) = ttl_seconds(ttl) else {
                bail!("--ttl must be from 0 to {MAX_TTL_S} seconds (90 days)");
            };
            check_entry(&key, Some(&value))?;
            match &remote {
                Some(remote) => {
                    let path = ["applications", &app, "storage", &key];
                    let body = serde_json::json!({ "value": value, "ttl": ttl });
                    remote.call(Method::PUT, &path, &[], Some(body))?;
                }
                None => {
                    local()?.put(&app, &key, &value, lives)?;
                }
            }
            println!("key '{key}' of application '{app}' stored");
        }
        StorageCommand::Rm { app, key } => {
            let removed = match &remote {
                Some(remote) => {
                    let path = ["applications", &app, "storage", &key];
                    remote.call(Method::DELETE, &path, &[], None)?;
                    true
                }
                None => local()?.remove(&app, &key)?.is_some(),
            };
            if !removed {
                bail!("application '{app}' has no key '{key}'");
            }
            println!("key '{key}' of application '{app}' deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

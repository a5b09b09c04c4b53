//! `dialtone store migrate`: brings the shared PostgreSQL store named by `[store] url` (or
//! `--url`) to this build's schema. Nodes refuse to serve on a store whose schema is not
//! theirs, so a deployment migrates once, then starts or upgrades its nodes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use dialtone::config::Config;
use dialtone::store::{StoreError, StoreUrl, postgres};

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Apply the schema migrations this build has and the database lacks (each in its own
    /// transaction; nodes migrating at once take turns).
    Migrate {
        /// The database (default: the config's `[store] url`).
        #[arg(long)]
        url: Option<String>,
    },
}

pub(crate) fn run(what: StoreCommand, config: Option<PathBuf>) -> Result<ExitCode> {
    let StoreCommand::Migrate { url } = what;
    let url = match url {
        Some(url) => StoreUrl::parse(Some(&url)).map_err(|e| match e {
            StoreError::Url(why) => anyhow::anyhow!("--url: {why}"),
            other => other.into(),
        })?,
        None => Config::load(config.as_deref())?.store.url()?,
    };
    let StoreUrl::Postgres(raw) = &url else {
        bail!(
            "the config has no [store] url: the embedded store (SQLite in the data directory) needs no migration"
        );
    };
    let migrated = postgres::migrate(raw)?;
    if migrated.from == migrated.to {
        println!("{url}: schema version {} (up to date)", migrated.to);
    } else {
        println!("{url}: schema version {} -> {}", migrated.from, migrated.to);
    }
    Ok(ExitCode::SUCCESS)
}

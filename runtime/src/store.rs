//! Where shared state lives: the embedded default (SQLite and files in the data directory) or,
//! with `[store] url = "postgres://..."`, one PostgreSQL database that every node of a cluster
//! shares.
//!
//! This module holds what both backends need: the configured [`StoreUrl`], the PostgreSQL
//! connection pool ([`postgres::PgPool`]) and the versioned schema it migrates
//! ([`postgres::migrate`], `dialtone store migrate`). Each concern keeps its own code path per
//! backend beside it ([`crate::history`], [`crate::app_storage`]).

pub mod listen;
pub mod postgres;

pub use postgres::PgPool;

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use thiserror::Error;

/// Store errors, as an operator reads them.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// `[store] url` is not a URL this build can use.
    #[error("[store] url: {0}")]
    Url(String),
    /// The database could not be reached.
    #[error("cannot connect to the store at {url}: {message}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// Why.
        message: String,
    },
    /// A statement failed.
    #[error("the store at {url}: {message}")]
    Query {
        /// The URL, without its password.
        url: String,
        /// Why.
        message: String,
    },
    /// The database's schema is older or newer than this build's.
    #[error("the store at {url} has schema version {found}, this build needs {needed}: {advice}")]
    Schema {
        /// The URL, without its password.
        url: String,
        /// The version found.
        found: i32,
        /// The version this build needs.
        needed: i32,
        /// What to do.
        advice: &'static str,
    },
    /// Every connection stayed busy past the wait.
    #[error("the store at {url}: no connection came free within {waited_s} s")]
    Busy {
        /// The URL, without its password.
        url: String,
        /// How long it waited.
        waited_s: u64,
    },
}

/// `[store]` of the config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `postgres://user:password@host:port/database`; none: the embedded default (SQLite in
    /// the data directory).
    pub url: Option<String>,
    /// Most connections each node opens to PostgreSQL (default 8).
    pub max_connections: Option<u32>,
}

impl StoreConfig {
    /// Where the store is.
    pub fn url(&self) -> Result<StoreUrl, StoreError> {
        StoreUrl::parse(self.url.as_deref())
    }

    /// The PostgreSQL pool of this config, connected and its schema checked; `None` for the
    /// embedded store. Blocking: call it from a blocking thread.
    pub fn pool(&self) -> Result<Option<Arc<PgPool>>, StoreError> {
        match self.url()? {
            StoreUrl::Embedded => Ok(None),
            StoreUrl::Postgres(url) => {
                let max = self
                    .max_connections
                    .unwrap_or(postgres::DEFAULT_MAX_CONNECTIONS);
                PgPool::connect(&url, max).map(|pool| Some(Arc::new(pool)))
            }
        }
    }
}

/// Where the store is.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// SQLite and files in the data directory.
    Embedded,
    /// A PostgreSQL database.
    Postgres(String),
}

impl StoreUrl {
    /// Parses `[store] url` (none: the embedded default).
    pub fn parse(url: Option<&str>) -> Result<Self, StoreError> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Self::Embedded);
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(StoreError::Url(format!(
            "'{}' is not a PostgreSQL URL (postgres://user:password@host:port/database); leave it out for the embedded store",
            if url.contains("://") {
                format!("{scheme}://...")
            } else {
                redact(url)
            }
        )))
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded => f.write_str("the embedded store"),
            Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// `url` with its password replaced by `***`, for logs and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{path}")
            } else {
                format!("{scheme}://{user}@{host}{path}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_embedded_default_and_postgres_urls() {
        assert_eq!(StoreUrl::parse(None).expect("none"), StoreUrl::Embedded);
        assert_eq!(
            StoreUrl::parse(Some(" ")).expect("blank"),
            StoreUrl::Embedded
        );
        let url = "postgres://dialtone:s3cret@127.0.0.1:5432/dialtone";
        let parsed = StoreUrl::parse(Some(url)).expect("postgres");
        assert_eq!(parsed, StoreUrl::Postgres(url.into()));
        assert_eq!(
            parsed.to_string(),
            "postgres://dialtone:***@127.0.0.1:5432/dialtone"
        );
        assert_eq!(
            StoreUrl::parse(Some("mysql://root:pw@db/x"))
                .expect_err("mysql")
                .to_string(),
            "[store] url: 'mysql://...' is not a PostgreSQL URL (postgres://user:password@host:port/database); leave it out for the embedded store"
        );
    }

    #[test]
    fn redacts_only_the_password() {
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("postgres://u:p@h:1/db?x=1"),
            "postgres://u:***@h:1/db?x=1"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact("postgresql://u:p:q@h"), "postgresql://u:***@h");
    }
}

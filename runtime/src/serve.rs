//! `dialtone serve`: the SIP listener, the HTTP listener and the session pool, started
//! together from one config and stopped together.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dialtone_bindings::SessionPool;
use thiserror::Error;
use tokio::sync::broadcast;

use crate::admin::{Admin, AdminToken};
use crate::catalog::edit::{EditError, Editor};
use crate::catalog::shared::SharedCatalog;
use crate::catalog::{Catalog, CatalogCell};
use crate::config::{Config, ConfigError};
use crate::history::{History, HistoryError};
use crate::http;
use crate::media::source::MediaSource;
use crate::media::tts::{Espeak, Tts};
use crate::media::voices::VoiceTable;
use crate::metrics::Metrics;
use crate::rtp_ports::RtpPorts;
use crate::secrets::{SecretError, SecretSource, SecretStore};
use crate::sip::{CallContext, SessionRecord, SipError, SipServer};

/// Messages kept for slow observers of [`Server::subscribe`].
const RECORD_BACKLOG: usize = 16_384;

/// Why the server could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// SIP could not start.
    #[error(transparent)]
    Sip(#[from] SipError),
    /// The HTTP listener could not be bound.
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Http {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `[server]` value is invalid.
    #[error("invalid [server] setting: {0}")]
    Setting(String),
    /// The JS worker threads could not start.
    #[error("cannot start the session pool: {0}")]
    Pool(String),
    /// The secret store cannot be opened (wrong or missing key ...).
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// The user store cannot be opened.
    #[error(transparent)]
    Users(#[from] crate::users::UserError),
    /// The session history cannot be opened.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The application storage cannot be opened.
    #[error("{0}")]
    Storage(String),
    /// The shared store cannot be used.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The admin token cannot be read or created.
    #[error("admin token: {0}")]
    Token(String),
}

/// The replaceable parts of a server.
#[derive(Debug)]
pub struct ServeOptions {
    /// Speech synthesis for `say`.
    pub tts: Arc<dyn Tts>,
    /// JS worker threads (0: one per core).
    pub js_threads: usize,
    /// Where sessions get their secrets; `None`: the encrypted store in the data directory
    /// (which the admin API manages either way).
    pub secrets: Option<Arc<dyn SecretSource>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            tts: Arc::new(Espeak::default()),
            js_threads: 0,
            secrets: None,
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    /// The SIP listener.
    pub sip: SipServer,
    /// The HTTP listener's address.
    pub http: SocketAddr,
    /// What calls share (metrics, catalog ...).
    pub context: Arc<CallContext>,
    /// The admin API's state (secret store, history, catalog editor).
    pub admin: Arc<Admin>,
    http_task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts everything `config.server` describes. Must run on a multi-thread runtime.
    pub async fn start(config: Config) -> Result<Self, ServeError> {
        Self::start_with(config, ServeOptions::default()).await
    }

    /// [`Server::start`] with chosen parts.
    pub async fn start_with(mut config: Config, options: ServeOptions) -> Result<Self, ServeError> {
        let ServeOptions {
            tts,
            js_threads,
            secrets,
        } = options;
        let settings = config.server.clone();
        let voices = VoiceTable::new(&config.voices);
        let rtp_ports = RtpPorts::parse(&settings.rtp_ports).map_err(ServeError::Setting)?;
        rtp_ports
            .check_capacity(settings.max_calls)
            .map_err(ServeError::Setting)?;
        ensure_open_files(settings.max_calls).map_err(ServeError::Setting)?;
        let media_ip = settings
            .media_address
            .unwrap_or_else(|| reachable_ip(settings.sip.ip()));
        let media_root = config
            .dir()
            .unwrap_or_else(|| std::path::PathBuf::from("."));
        let store_config = config.store.clone();
        let store_pool = tokio::task::spawn_blocking(move || store_config.pool())
            .await
            .map_err(|e| ServeError::Storage(format!("opening the store: {e}")))??;
        let (history, app_storage) = match &store_pool {
            Some(pool) => {
                tracing::info!("store: {}", pool.url());
                (
                    History::open_postgres(pool.clone(), settings.history_days)?,
                    crate::app_storage::AppStore::postgres(pool.clone()),
                )
            }
            None => (
                History::open(&settings.data_dir, settings.history_days)?,
                crate::app_storage::AppStore::open(&settings.data_dir)
                    .map_err(|e| ServeError::Storage(e.to_string()))?,
            ),
        };
        let (history, app_storage) = (Arc::new(history), Arc::new(app_storage));
        let data_dir = settings.data_dir.clone();
        let store = match store_pool.clone() {
            Some(pool) => {
                tokio::task::spawn_blocking(move || SecretStore::open_shared(&data_dir, pool))
                    .await
                    .map_err(|e| ServeError::Storage(format!("opening the secrets: {e}")))??
            }
            None => Arc::new(SecretStore::open(&settings.data_dir)?),
        };
        let users = match store_pool.clone() {
            Some(pool) => {
                tokio::task::spawn_blocking(move || crate::users::UserStore::postgres(pool))
                    .await
                    .map_err(|e| ServeError::Storage(format!("opening the users: {e}")))??
            }
            None => Arc::new(crate::users::UserStore::open(&settings.data_dir)?),
        };
        let shared_catalog = match store_pool.clone() {
            Some(pool) => {
                let shared = Arc::new(SharedCatalog::new(pool, node_name(settings.sip)));
                let adopting = shared.clone();
                config = tokio::task::spawn_blocking(move || adopting.adopt(config))
                    .await
                    .map_err(|e| ServeError::Storage(format!("reading the catalog: {e}")))??;
                tracing::info!(
                    "applications, rules and scenarios: catalog version {} of the shared store (the [[application]] tables of {} only seed an empty store)",
                    config.catalog_version(),
                    config.origin
                );
                Some(shared)
            }
            None => None,
        };
        let token = AdminToken::resolve(settings.admin_token.as_deref(), &settings.data_dir)
            .map_err(|e| ServeError::Token(e.to_string()))?;
        let secrets: Arc<dyn SecretSource> = secrets.unwrap_or_else(|| store.clone());
        let pool = SessionPool::new(js_threads).map_err(|e| ServeError::Pool(e.to_string()))?;
        let (records, _) = broadcast::channel(RECORD_BACKLOG);
        let metrics = Arc::new(Metrics::default());
        for app in &config.applications {
            metrics.register_application(&app.name);
        }
        let context = Arc::new(CallContext {
            pool: Arc::new(pool),
            catalog: CatalogCell::new(Catalog::new(config)?),
            secrets,
            media: Arc::new(
                MediaSource::with_voices(media_root, tts, voices)
                    .with_recordings(settings.data_dir.join("recordings")),
            ),
            rtp_ports,
            media_ip,
            data_dir: settings.data_dir.clone(),
            metrics,
            records,
            history: Some(history.clone()),
            live: Default::default(),
            dialer: Default::default(),
            bye_headers: Default::default(),
            users,
            registrar: Default::default(),
            http_base: Default::default(),
            access: Default::default(),
            rooms: Default::default(),
            web_calls: Default::default(),
            app_storage,
            acd: Default::default(),
        });
        if let Some(pool) = &store_pool {
            crate::sip::shared_registrations::share(&context, pool.clone()).map_err(|e| {
                ServeError::Storage(format!("cannot start listening for registrations: {e}"))
            })?;
        }
        if let Some(shared) = &shared_catalog {
            crate::catalog::shared::follow(shared.clone(), Arc::downgrade(&context), |c| {
                &c.catalog
            })
            .map_err(|e| {
                ServeError::Storage(format!("cannot start listening for catalog changes: {e}"))
            })?;
        }
        crate::sip::run_acd(Arc::downgrade(&context));
        let sip = SipServer::start(settings.sip, settings.sip_tcp, context.clone()).await?;
        let listener = tokio::net::TcpListener::bind(settings.http)
            .await
            .map_err(|source| ServeError::Http {
                addr: settings.http,
                source,
            })?;
        let http = listener.local_addr().map_err(|source| ServeError::Http {
            addr: settings.http,
            source,
        })?;
        let _ = context
            .http_base
            .set(format!("http://{}", http::reachable(http)));
        let admin = Arc::new(Admin {
            context: context.clone(),
            store,
            history,
            editor: shared_catalog.map_or_else(Editor::default, Editor::shared),
            token,
            http,
            logins: Default::default(),
        });
        let server = &context.catalog.current().config.server;
        let gate = crate::accept::Gate::new(
            "HTTP",
            server.max_connections_per_source as usize,
            server.max_tcp_connections as usize,
        );
        let idle = std::time::Duration::from_secs(u64::from(server.tcp_idle_timeout_s));
        let http_task = tokio::spawn(http::serve(
            listener,
            http::router(admin.clone()),
            gate,
            idle,
        ));
        tracing::info!(
            "HTTP listening on http://{http} (/ with the softphone at /phone and sessions at /ui/sessions, browser calls, /health, /metrics, admin API; token from {})",
            admin.token.origin
        );
        Ok(Self {
            sip,
            http,
            context,
            admin,
            http_task,
        })
    }

    /// Reads the config file again: new calls get its applications, rules and limits.
    pub async fn reload(&self) -> Result<(), EditError> {
        self.admin.editor.reload(&self.context.catalog).await
    }

    /// Everything sessions send from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionRecord> {
        self.context.records.subscribe()
    }

    /// Counters and histograms.
    pub fn metrics(&self) -> &Metrics {
        &self.context.metrics
    }

    /// Stops taking calls, waits up to `grace` for calls in progress, then stops HTTP.
    pub async fn shutdown(self, grace: Duration) {
        // No new calls; every session runs its Terminating handlers and ends its calls (BYE
        // when connected); then the history is flushed. Bounded by `grace`.
        self.sip.stop();
        let told = self
            .context
            .live
            .shut_down_all("the server is shutting down");
        if told > 0 {
            tracing::info!("shutting down {told} sessions");
        }
        let deadline = tokio::time::Instant::now() + grace;
        let busy = || {
            self.context.metrics.calls_active.load(Ordering::Relaxed) > 0
                || self.context.metrics.sessions_active.load(Ordering::Relaxed) > 0
        };
        while busy() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if busy() {
            tracing::warn!(
                "shutdown: calls still in progress after {} s",
                grace.as_secs()
            );
        }
        if let Some(history) = self.context.history.clone() {
            let flushed = tokio::task::spawn_blocking(move || history.flush()).await;
            if !matches!(flushed, Ok(Ok(()))) {
                tracing::warn!("shutdown: the session history could not be flushed");
            }
        }
        self.http_task.abort();
    }
}

/// Open files a call may need: its RTP and RTCP sockets, a TCP SIP connection, a WebSocket or
/// MCP connection; plus the server's own.
/// How this node names itself in the shared store: host name and SIP port.
fn node_name(sip: std::net::SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{host}:{}", sip.port())
}

fn open_files_needed(max_calls: u32) -> u64 {
    u64::from(max_calls) * 4 + 64
}

/// Raises the open-files limit to what `max_calls` calls need, or says why it cannot.
fn ensure_open_files(max_calls: u32) -> Result<u64, String> {
    let needed = open_files_needed(max_calls);
    let limit = rlimit::increase_nofile_limit(needed)
        .map_err(|e| format!("cannot raise the open-files limit: {e}"))?;
    if limit < needed {
        return Err(format!(
            "server.max_calls = {max_calls} needs about {needed} open files, but the limit is {limit} (the hard limit): raise it (ulimit -Hn) or lower max_calls"
        ));
    }
    Ok(limit)
}

/// The address peers can reach us on when we listen on `ip`: itself, or for a wildcard the
/// address of the interface with the default route (no packet is sent to find it).
fn reachable_ip(ip: IpAddr) -> IpAddr {
    if !ip.is_unspecified() {
        return ip;
    }
    let probe = || -> std::io::Result<IpAddr> {
        let socket = UdpSocket::bind("0.0.0.0:0")?;
        socket.connect("192.0.2.1:9")?;
        Ok(socket.local_addr()?.ip())
    };
    probe().unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_files_limit_covers_the_call_limit() {
        let limit = ensure_open_files(10).expect("raised");
        assert!(limit >= open_files_needed(10));
        let error = ensure_open_files(100_000_000).expect_err("beyond any hard limit");
        assert!(
            error.starts_with(
                "server.max_calls = 100000000 needs about 400000064 open files, but the limit is "
            ),
            "{error}"
        );
    }
}

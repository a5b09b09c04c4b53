//! `dialtone serve`: the SIP listener, the HTTP listener and the session pool, started
//! together from one config and stopped together.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dialtone_bindings::SessionPool;
use thiserror::Error;
use tokio::sync::broadcast;

use crate::catalog::{Catalog, CatalogCell};
use crate::config::{Config, ConfigError};
use crate::http;
use crate::media::source::MediaSource;
use crate::media::tts::{Espeak, Tts};
use crate::metrics::Metrics;
use crate::rtp_ports::RtpPorts;
use crate::secrets::{SecretSource, StaticSecrets};
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
}

/// The replaceable parts of a server.
#[derive(Debug)]
pub struct ServeOptions {
    /// Speech synthesis for `say`.
    pub tts: Arc<dyn Tts>,
    /// JS worker threads (0: one per core).
    pub js_threads: usize,
    /// Per-application secrets.
    pub secrets: Arc<dyn SecretSource>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            tts: Arc::new(Espeak::default()),
            js_threads: 0,
            secrets: Arc::new(StaticSecrets::default()),
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
    http_task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts everything `config.server` describes. Must run on a multi-thread runtime.
    pub async fn start(config: Config) -> Result<Self, ServeError> {
        Self::start_with(config, ServeOptions::default()).await
    }

    /// [`Server::start`] with chosen parts.
    pub async fn start_with(config: Config, options: ServeOptions) -> Result<Self, ServeError> {
        let ServeOptions {
            tts,
            js_threads,
            secrets,
        } = options;
        let settings = config.server.clone();
        let rtp_ports = RtpPorts::parse(&settings.rtp_ports).map_err(ServeError::Setting)?;
        let media_ip = settings
            .media_address
            .unwrap_or_else(|| reachable_ip(settings.sip.ip()));
        let media_root = match &config.origin {
            crate::config::Origin::File(path) => path
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default(),
            crate::config::Origin::Embedded => std::path::PathBuf::from("."),
        };
        let pool = SessionPool::new(js_threads).map_err(|e| ServeError::Pool(e.to_string()))?;
        let (records, _) = broadcast::channel(RECORD_BACKLOG);
        let context = Arc::new(CallContext {
            pool: Arc::new(pool),
            catalog: CatalogCell::new(Catalog::new(config)?),
            secrets,
            media: Arc::new(MediaSource::new(media_root, tts)),
            rtp_ports,
            media_ip,
            data_dir: settings.data_dir.clone(),
            metrics: Arc::new(Metrics::default()),
            io: tokio::runtime::Handle::current(),
            records,
        });
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
        let app = http::router(context.clone());
        let http_task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("HTTP server stopped: {e}");
            }
        });
        tracing::info!("HTTP listening on http://{http} (/health, /metrics)");
        Ok(Self {
            sip,
            http,
            context,
            http_task,
        })
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
        self.sip.stop();
        let deadline = tokio::time::Instant::now() + grace;
        while self.context.metrics.calls_active.load(Ordering::Relaxed) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.http_task.abort();
    }
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

//! Inbound SIP: rsipstack's transport, transaction and dialog layers, and one [`call`] task per
//! INVITE that plays the host side of a scenario session.
//!
//! Out of dialog: INVITE starts a call (after routing), REGISTER goes to the [`registrar`],
//! OPTIONS gets 200, anything else that needs a dialog gets 481, other methods 405. In dialog (ACK, BYE, CANCEL, re-INVITE, INFO ...)
//! the dialog layer matches the request and the call task sees the resulting dialog state.

mod bye_headers;
pub(crate) mod call;
mod invite;
pub mod registrar;
pub mod rooms;
pub mod sdp;
pub mod session_timer;
pub mod shared_registrations;
mod tcp;
mod udp;
pub mod wire;

pub use udp::WIRE_TARGET;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dialtone_bindings::SessionPool;
use dialtone_bindings::host::{HostEvent, HostEventSender};
use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::{Method, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use thiserror::Error;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::accept::Gate;
use crate::catalog::CatalogCell;
use crate::media::source::MediaSource;
use crate::metrics::Metrics;
use crate::rtp_ports::RtpPorts;
use udp::CheckedSocket;

pub use bye_headers::ByeHeaders;
pub use call::SessionRecord;
pub use call::api_session;

/// `User-Agent` / `Server` of our messages.
pub const USER_AGENT: &str = concat!("Dialtone/", env!("CARGO_PKG_VERSION"));

/// SIP start-up errors.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SipError {
    /// A listener could not be bound.
    #[error("cannot listen for SIP on {transport} {addr}: {reason}")]
    Bind {
        /// "UDP" or "TCP".
        transport: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// rsipstack refused to start.
    #[error("SIP stack: {0}")]
    Stack(String),
}

/// What every call of a server shares.
#[derive(Debug)]
pub struct CallContext {
    /// Where sessions run.
    pub pool: Arc<SessionPool>,
    /// Applications, rules and scenarios (swapped as a whole on reload).
    pub catalog: CatalogCell,
    /// Per-application secrets.
    pub secrets: Arc<dyn crate::secrets::SecretSource>,
    /// Playback and speech.
    pub media: Arc<MediaSource>,
    /// RTP ports.
    pub rtp_ports: RtpPorts,
    /// Address in our SDP.
    pub media_ip: IpAddr,
    /// Recordings go under `data_dir/recordings`.
    pub data_dir: PathBuf,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Everything sessions send, for observers (tests).
    pub records: broadcast::Sender<SessionRecord>,
    /// Where sessions and their log lines are kept.
    pub history: Option<Arc<crate::history::History>>,
    /// Every running session's event channel, by session id (for a graceful shutdown).
    pub live: LiveSessions,
    /// Where outbound calls start from, once the SIP server runs.
    pub dialer: std::sync::OnceLock<Dialer>,
    /// X- headers of far-end BYEs, until their call task reads them.
    pub bye_headers: ByeHeaders,
    /// Application users (their digest hashes).
    pub users: Arc<crate::users::UserStore>,
    /// Where registered users can be reached.
    pub registrar: registrar::Registrar,
    /// `http://host:port` of the HTTP listener once it runs (access URLs start with it).
    pub http_base: std::sync::OnceLock<String>,
    /// HTTP requests to sessions' access URLs, waiting for their answers.
    pub access: crate::access::AccessRequests,
    /// Conference room sessions (`VoxEngine.callConference`), by application and id.
    pub rooms: rooms::Rooms,
    /// Live browser calls (WebRTC), by id.
    pub web_calls: crate::webrtc::signaling::WebCalls,
    /// Every application's `ApplicationStorage` keys.
    pub app_storage: Arc<crate::app_storage::AppStore>,
    /// Every application's ACD queues.
    pub acd: crate::acd::AcdQueues,
}

impl crate::acd::Operators for CallContext {
    fn queues(&self, application: &str) -> Vec<crate::config::QueueConfig> {
        self.catalog
            .current()
            .config
            .application(application)
            .map(|a| a.queues.clone())
            .unwrap_or_default()
    }

    fn registered(&self, application: &str, user: &str) -> bool {
        !self.registrar.contacts(application, user).is_empty()
    }
}

/// Offers waiting ACD requests the operators who became free or registered, every
/// [`crate::acd::DISPATCH_EVERY`] while the server runs.
pub fn run_acd(context: std::sync::Weak<CallContext>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut clock = tokio::time::interval(crate::acd::DISPATCH_EVERY);
        loop {
            clock.tick().await;
            let Some(context) = context.upgrade() else {
                return;
            };
            context.acd.dispatch_all(context.as_ref());
        }
    })
}

impl CallContext {
    /// The address our SDP gives for media: `server.public_address` behind a 1:1 NAT, else the
    /// media address the sockets bind.
    pub fn advertised_ip(&self) -> IpAddr {
        self.catalog
            .current()
            .config
            .server
            .public_address
            .unwrap_or(self.media_ip)
    }
}

/// What outbound calls need of the running SIP server.
#[derive(Clone)]
pub struct Dialer {
    /// rsipstack's dialogs (outbound INVITEs are client dialogs there).
    pub dialogs: Arc<DialogLayer>,
    /// Our SIP address (UDP), for From and Contact.
    pub local: SocketAddr,
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialer")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

/// The running sessions: each one's event channel (so a shutdown can reach it) and the key of
/// its access URL.
#[derive(Debug, Default)]
pub struct LiveSessions(std::sync::Mutex<BTreeMap<String, (HostEventSender, String)>>);

impl LiveSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (HostEventSender, String)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A session started; `access_key` is the key of its access URL.
    pub fn add(&self, session_id: &str, events: HostEventSender, access_key: &str) {
        self.lock()
            .insert(session_id.to_owned(), (events, access_key.to_owned()));
    }

    /// A session's host task ended.
    pub fn remove(&self, session_id: &str) {
        self.lock().remove(session_id);
    }

    /// The event channel of session `session_id` when `key` is its access key.
    pub fn by_access_key(&self, session_id: &str, key: &str) -> Option<HostEventSender> {
        use subtle::ConstantTimeEq as _;
        let live = self.lock();
        let (events, expected) = live.get(session_id)?;
        bool::from(expected.as_bytes().ct_eq(key.as_bytes())).then(|| events.clone())
    }

    /// Tells every running session to shut down (its Terminating handlers run, its calls are
    /// ended); returns how many were told.
    pub fn shut_down_all(&self, reason: &str) -> usize {
        let live = self.lock();
        for (events, _) in live.values() {
            let _ = events.send(HostEvent::Shutdown {
                reason: reason.to_owned(),
            });
        }
        live.len()
    }
}

/// A running SIP listener.
#[derive(Debug)]
pub struct SipServer {
    /// The UDP address (its port is also the TCP port).
    pub udp: SocketAddr,
    /// The TCP address, if TCP is on.
    pub tcp: Option<SocketAddr>,
    cancel: CancellationToken,
}

impl SipServer {
    /// Binds UDP (and TCP) on `addr` and starts taking calls. Port 0 picks a free port, used
    /// for both transports.
    pub async fn start(
        addr: SocketAddr,
        tcp: bool,
        context: Arc<CallContext>,
    ) -> Result<Self, SipError> {
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.child_token());
        // Port 0: the UDP port the system picks may be taken for TCP; pick again then.
        let attempts = if tcp && addr.port() == 0 { 16 } else { 1 };
        let mut attempt = 0;
        let (socket, udp, udp_addr) = loop {
            attempt += 1;
            let socket = CheckedSocket::bind(addr).map_err(|e| SipError::Bind {
                transport: "UDP",
                addr,
                reason: e.to_string(),
            })?;
            let platform: Arc<dyn rsipstack::platform::net::UdpSocket> = socket.clone();
            let udp = UdpConnection::from_socket(platform, None, Some(cancel.child_token()))
                .await
                .map_err(|e| SipError::Stack(e.to_string()))?;
            let udp_addr = SocketAddr::try_from(udp.get_addr().addr.clone())
                .map_err(|e| SipError::Stack(format!("UDP listener has no socket address: {e}")))?;
            if !tcp {
                break (socket, udp, udp_addr);
            }
            let at = SocketAddr::new(addr.ip(), udp_addr.port());
            // Bind once ourselves so a taken port is an error here, not a log line later.
            match std::net::TcpListener::bind(at) {
                Ok(_) => break (socket, udp, udp_addr),
                Err(e) if attempt < attempts && e.kind() == std::io::ErrorKind::AddrInUse => {}
                Err(e) => {
                    return Err(SipError::Bind {
                        transport: "TCP",
                        addr: at,
                        reason: e.to_string(),
                    });
                }
            }
        };
        transport.add_transport(udp.clone().into());
        let server_config = context.catalog.current().config.server.clone();
        transport.set_stream_idle_timeout(Duration::from_secs(u64::from(
            server_config.tcp_idle_timeout_s,
        )));
        let tcp_listener = if tcp {
            let at = SocketAddr::new(addr.ip(), udp_addr.port());
            Some(tcp::bind(at).map_err(|e| SipError::Bind {
                transport: "TCP",
                addr: at,
                reason: e.to_string(),
            })?)
        } else {
            None
        };
        let tcp_addr = tcp_listener.as_ref().and_then(|l| l.local_addr().ok());
        let endpoint = EndpointBuilder::new()
            .with_cancel_token(cancel.child_token())
            .with_transport_layer(transport)
            .with_user_agent(USER_AGENT)
            .build();
        socket
            .deliver_long_messages_to(&endpoint.inner.transport_layer, udp)
            .await
            .map_err(|e| SipError::Stack(e.to_string()))?;
        let mut incoming = endpoint
            .incoming_transactions()
            .map_err(|e| SipError::Stack(e.to_string()))?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let _ = context.dialer.set(Dialer {
            dialogs: dialogs.clone(),
            local: SocketAddr::new(
                if udp_addr.ip().is_unspecified() {
                    context.media_ip
                } else {
                    udp_addr.ip()
                },
                udp_addr.port(),
            ),
        });
        let inner = endpoint.inner.clone();
        let stack_reading = socket.reading();
        tokio::spawn(async move {
            if let Err(e) = inner.serve().await {
                tracing::error!("SIP endpoint stopped: {e}");
            }
        });
        if let Some(listener) = tcp_listener {
            // The stack serves the listeners it knows when it starts (it reads UDP then); ours
            // is registered after, so it is not bound twice.
            tokio::time::timeout(STACK_START_TIMEOUT, stack_reading.notified())
                .await
                .map_err(|_| SipError::Stack("the SIP stack did not start".into()))?;
            let gate = Gate::new(
                "SIP over TCP",
                server_config.max_connections_per_source as usize,
                server_config.max_tcp_connections as usize,
            );
            tcp::serve(listener, endpoint.inner.clone(), gate, cancel.child_token())
                .await
                .map_err(|e| SipError::Stack(e.to_string()))?;
        }
        let stop = cancel.clone();
        tokio::spawn(async move {
            // Keeps the endpoint (and its transports) alive while we serve.
            let _endpoint = endpoint;
            loop {
                let tx = tokio::select! {
                    () = stop.cancelled() => break,
                    tx = incoming.recv() => match tx {
                        Some(tx) => tx,
                        None => break,
                    },
                };
                dispatch(tx, &dialogs, &context).await;
            }
        });
        tracing::info!(
            "SIP listening on udp:{udp_addr}{}",
            tcp_addr
                .map(|a| format!(" and tcp:{a}"))
                .unwrap_or_default()
        );
        Ok(Self {
            udp: udp_addr,
            tcp: tcp_addr,
            cancel,
        })
    }

    /// Stops listening. Calls in progress keep their own tasks until they end.
    pub fn stop(&self) {
        self.cancel.cancel();
    }
}

impl Drop for SipServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// How long the SIP stack may take to start reading.
const STACK_START_TIMEOUT: Duration = Duration::from_secs(5);

async fn dispatch(mut tx: Transaction, dialogs: &Arc<DialogLayer>, context: &Arc<CallContext>) {
    if let Some(mut dialog) = dialogs.match_dialog(&tx) {
        if tx.original.method == Method::Bye {
            context
                .bye_headers
                .keep(&call_id(&tx), invite::x_headers(&tx.original.headers));
        }
        tokio::spawn(async move {
            if let Err(e) = dialog.handle(&mut tx).await {
                tracing::debug!("in-dialog {}: {e}", tx.original.method);
            }
        });
        return;
    }
    match tx.original.method {
        Method::Invite => call::start(tx, dialogs.clone(), context.clone()),
        Method::Options => reply_allowing(tx, StatusCode::OK),
        Method::Register => registrar::handle(tx, context.clone()),
        Method::Ack => {}
        Method::Bye | Method::Cancel | Method::Info | Method::Update | Method::PRack => {
            tracing::info!(
                "{} for no known call (Call-ID {}): 481",
                tx.original.method,
                call_id(&tx)
            );
            reply(tx, StatusCode::CallTransactionDoesNotExist);
        }
        _ => {
            tracing::info!("{} is not supported here: 405", tx.original.method);
            reply_allowing(tx, StatusCode::MethodNotAllowed);
        }
    }
}

/// The methods Dialtone takes (RFC 3261 20.5), sent with OPTIONS answers and 405s.
pub(crate) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REGISTER";

/// Answers with `status` and an Allow header.
fn reply_allowing(mut tx: Transaction, status: StatusCode) {
    tokio::spawn(async move {
        let allow = vec![rsipstack::sip::Header::Allow(ALLOW.into())];
        if let Err(e) = tx.reply_with(status, allow, None).await {
            tracing::debug!("reply to {}: {e}", tx.original.method);
        }
    });
}

fn reply(mut tx: Transaction, status: StatusCode) {
    tokio::spawn(async move {
        if let Err(e) = tx.reply(status).await {
            tracing::debug!("reply to {}: {e}", tx.original.method);
        }
    });
}

fn call_id(tx: &Transaction) -> String {
    use rsipstack::sip::HeadersExt as _;
    tx.original
        .call_id_header()
        .map(|h| h.value().to_owned())
        .unwrap_or_default()
}

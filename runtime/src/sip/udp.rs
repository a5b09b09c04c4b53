//! The UDP socket under the SIP stack. rsipstack reads datagrams through a socket trait; ours
//! reads each one whole (up to 65 535 bytes, RFC 3261 18.3, where the stack's own buffer stops
//! at 8 192), puts it through [`wire::inspect`], answers what it refuses and hands the stack
//! only well-formed messages. A message too long for the stack's buffer is parsed here and
//! delivered through a channel transport instead.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use dialtone_bindings::rate::{Budget, RateBudget};
use rsipstack::transport::channel::ChannelConnection;
use rsipstack::transport::connection::TransportSender;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, SipConnection, TransportEvent, TransportLayer};
use tokio::sync::Notify;

use super::wire::{self, Inspection};
use super::{ALLOW, USER_AGENT};

/// The largest datagram read (the largest a UDP datagram can be).
const MAX_DATAGRAM: usize = 65_535;

/// Receive buffer asked for the SIP socket. The kernel's default (about 208 KiB) held less than
/// a second of a 200 calls/s burst while the reader was busy, and the datagrams past it (ACKs
/// among them) were dropped, tearing down calls that had been answered.
const RECEIVE_BUFFER_BYTES: usize = 8 << 20;

/// The tracing target of our drop lines (the malformed-message log layer takes them).
pub const WIRE_TARGET: &str = "dialtone::sip::wire";

/// A UDP socket that checks each datagram before the stack sees it.
pub(super) struct CheckedSocket {
    socket: tokio::net::UdpSocket,
    buffer: tokio::sync::Mutex<Vec<u8>>,
    /// Where messages too long for the stack's buffer go.
    long: OnceLock<LongMessages>,
    /// Notified when the stack first reads: its listeners are being served.
    reading: Arc<Notify>,
    /// Refusals sent a second, all sources together: a spoofed source cannot turn us into a
    /// reflector (past it, bad requests are dropped unanswered).
    refusals: tokio::sync::Mutex<RateBudget>,
}

/// Refusals (400, 501, 505) sent a second at most.
const REFUSALS_PER_SECOND: u32 = 50;

struct LongMessages {
    udp: UdpConnection,
    events: TransportSender,
}

/// Asks for [`RECEIVE_BUFFER_BYTES`]: past `net.core.rmem_max` when the process may
/// (CAP_NET_ADMIN), else up to it; says so when the kernel gave less.
fn size_receive_buffer(socket: &std::net::UdpSocket) {
    use nix::sys::socket::{getsockopt, setsockopt, sockopt};
    let wanted = RECEIVE_BUFFER_BYTES;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let forced = setsockopt(socket, sockopt::RcvBufForce, &wanted).is_ok();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let forced = false;
    if !forced {
        let _ = setsockopt(socket, sockopt::RcvBuf, &wanted);
    }
    // Linux reports twice what was set (the other half is its bookkeeping); others report it.
    let reported = getsockopt(socket, sockopt::RcvBuf).unwrap_or(0);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let got = reported / 2;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let got = reported;
    if got < wanted {
        tracing::warn!(
            "SIP receive buffer is {} KiB, not the {} KiB asked for: a burst of calls may overflow it (raise net.core.rmem_max, or run with CAP_NET_ADMIN)",
            got >> 10,
            wanted >> 10
        );
    }
}

impl CheckedSocket {
    /// Binds `at`.
    pub(super) fn bind(at: SocketAddr) -> std::io::Result<Arc<Self>> {
        let socket = std::net::UdpSocket::bind(at)?;
        socket.set_nonblocking(true)?;
        size_receive_buffer(&socket);
        Ok(Arc::new(Self {
            socket: tokio::net::UdpSocket::from_std(socket)?,
            buffer: tokio::sync::Mutex::new(vec![0; MAX_DATAGRAM]),
            long: OnceLock::new(),
            reading: Arc::new(Notify::new()),
            refusals: tokio::sync::Mutex::new(RateBudget::new(REFUSALS_PER_SECOND)),
        }))
    }

    /// Resolves once the stack reads from this socket (its listeners are served then).
    pub(super) fn reading(&self) -> Arc<Notify> {
        self.reading.clone()
    }

    /// Sets up the path for long messages: a channel transport served by `transport`, through
    /// which they arrive as if read by `udp`.
    pub(super) async fn deliver_long_messages_to(
        &self,
        transport: &TransportLayer,
        udp: UdpConnection,
    ) -> rsipstack::Result<()> {
        let (events, incoming) = rsipstack::platform::mpsc::unbounded_channel();
        let (outgoing, _unused) = rsipstack::platform::mpsc::unbounded_channel();
        // The channel only carries messages in; its address is one nothing sends to.
        let nowhere = SipAddr {
            r#type: Some(rsipstack::sip::Transport::Udp),
            addr: SocketAddr::from(([0, 0, 0, 0], 0)).into(),
        };
        let channel =
            ChannelConnection::create_connection(incoming, outgoing, nowhere, None).await?;
        transport
            .inner
            .serve_connection(SipConnection::Channel(channel));
        let _ = self.long.set(LongMessages { udp, events });
        Ok(())
    }

    fn deliver_long(&self, bytes: &[u8], from: SocketAddr) {
        let Some(long) = self.long.get() else {
            tracing::warn!(target: WIRE_TARGET, src = %from, error = "not ready", raw_message = "", "dropped a long SIP message");
            return;
        };
        let Ok(message) = rsipstack::sip::SipMessage::try_from(bytes)
            .map_err(|_| ())
            .and_then(|m| {
                SipConnection::update_msg_received(m, from, rsipstack::sip::Transport::Udp)
                    .map_err(|_| ())
            })
        else {
            tracing::debug!(target: WIRE_TARGET, src = %from, error = "a long message the stack cannot take", raw_message = "", verdict = "dropped", "bad SIP message");
            return;
        };
        let source = SipAddr {
            r#type: Some(rsipstack::sip::Transport::Udp),
            addr: from.into(),
        };
        let event = TransportEvent::Incoming(message, SipConnection::Udp(long.udp.clone()), source);
        let _ = long.events.send(event);
    }
}

#[async_trait::async_trait]
impl rsipstack::platform::net::UdpSocket for CheckedSocket {
    async fn recv_from(&self, out: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        self.reading.notify_waiters();
        self.reading.notify_one();
        let mut buffer = self.buffer.lock().await;
        loop {
            let (len, from) = self.socket.recv_from(&mut buffer).await?;
            match wire::inspect(&buffer[..len], USER_AGENT, ALLOW) {
                Inspection::Pass(bytes) if bytes.len() <= out.len() => {
                    out[..bytes.len()].copy_from_slice(bytes);
                    return Ok((bytes.len(), from));
                }
                Inspection::Pass(bytes) => self.deliver_long(bytes, from),
                // Debug events: the malformed-message log layer writes them, escaped and at
                // most once a second.
                Inspection::Refuse { response, why } => {
                    let raw = String::from_utf8_lossy(&buffer[..len.min(200)]).into_owned();
                    let answered = self.refusals.lock().await.take(tokio::time::Instant::now())
                        == Budget::Spend;
                    let verdict = if answered { "refused" } else { "dropped" };
                    tracing::debug!(target: WIRE_TARGET, src = %from, error = %why, raw_message = %raw, verdict, "bad SIP request");
                    if answered {
                        let _ = self.socket.send_to(&response, from).await;
                    }
                }
                Inspection::Drop(why) => {
                    let raw = String::from_utf8_lossy(&buffer[..len.min(200)]).into_owned();
                    tracing::debug!(target: WIRE_TARGET, src = %from, error = %why, raw_message = %raw, verdict = "dropped", "bad SIP message");
                }
            }
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

//! A WebSocket media unit (`VoxEngine.createWebSocket`): one task per socket that connects
//! (ws:// or wss:// with the process's TLS roots), sends the scenario's texts, streams the
//! audio of the units linked to it to the server ([`outgoing`]), plays the server's audio
//! out to the units linked from it ([`incoming`]), and reports `WebSocketEvents` to the
//! session.
//!
//! Bounds: a server message is at most 1 MiB, a stream buffers at most 60 s of server audio,
//! and the inlet holds at most ~2 s of frames to send; a slow server loses audio, counted,
//! never memory. When the session is gone (its handle dropped) the task closes the socket
//! with 1001 and ends without reporting.

mod incoming;
mod outgoing;

use std::sync::Arc;
use std::time::Duration;

use dialtone_bindings::host::media::url_target as target_of;
use dialtone_bindings::host::{HostEvent, HostEventSender, WebSocketEvent, WebSocketSpec};
use dialtone_bindings::rate::{Budget, RateBudget};
use futures::{SinkExt as _, StreamExt as _};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

use self::incoming::{Handled, Incoming};
use self::outgoing::{After, Outgoing, TwilioIds};
use super::graph::{Delivery, Ports};

/// Largest message (and frame) accepted from a server.
const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// How much is read from the socket at a time.
const READ_BUFFER_BYTES: usize = 8 << 10;
/// Time allowed for TCP, TLS and the WebSocket handshake together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a closing handshake may take before the connection is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a socket could not be opened; each message names the host, never the headers or the
/// query (either may carry a secret).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WebSocketError {
    /// The URL is not a usable ws:// or wss:// URL.
    #[error("'{0}' is not a valid ws:// or wss:// URL")]
    BadUrl(String),
    /// A header name or value cannot be sent.
    #[error("header '{0}' cannot be sent (invalid name or value)")]
    BadHeader(String),
    /// TCP, TLS or the handshake failed.
    #[error("cannot connect to {target}: {reason}")]
    Connect {
        /// scheme://host:port
        target: String,
        /// Why.
        reason: String,
    },
    /// Nothing answered in time.
    #[error("cannot connect to {0}: no answer within 10 s")]
    Timeout(String),
}

enum Command {
    Send(String),
    Close,
    Clear(Option<String>),
}

/// The session host's handle on a socket's task. Dropping it closes the socket (1001) and
/// ends the task without further events.
#[derive(Debug)]
pub struct WebSocketHandle {
    commands: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Send(_) => "Send",
            Command::Close => "Close",
            Command::Clear(_) => "Clear",
        })
    }
}

impl WebSocketHandle {
    /// Sends one text frame (dropped when the socket is not open).
    pub fn send(&self, text: String) {
        let _ = self.commands.send(Command::Send(text));
    }

    /// Closes the socket (1000), or gives up connecting.
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }

    /// Drops buffered server audio of one stream, or of all.
    pub fn clear_media_buffer(&self, tag: Option<String>) {
        let _ = self.commands.send(Command::Clear(tag));
    }
}

/// Starts the socket's task. Events go to the session as [`HostEvent::WebSocket`].
pub fn spawn(
    spec: WebSocketSpec,
    ports: Ports,
    events: HostEventSender,
    account_sid: String,
    outbound: Arc<dialtone_bindings::outbound::OutboundPolicy>,
) -> WebSocketHandle {
    let (commands, rx) = mpsc::unbounded_channel();
    let stream_sid = format!("MZ{}", uuid::Uuid::new_v4().simple());
    let task = SocketTask {
        id: spec.id.clone(),
        ports,
        events,
        outgoing: Outgoing::new(
            spec.format,
            TwilioIds {
                account_sid,
                stream_sid: stream_sid.clone(),
            },
        ),
        incoming: Incoming::new(spec.format, stream_sid),
        messages: RateBudget::new(MESSAGES_PER_SECOND),
        outbound,
    };
    tokio::spawn(task.run(spec, rx));
    WebSocketHandle { commands }
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

/// How the task ended.
enum End {
    /// Report this close to the session.
    Closed {
        code: u16,
        reason: String,
        clean: bool,
    },
    /// The session is gone: report nothing.
    Abandoned,
}

struct SocketTask {
    id: String,
    ports: Ports,
    events: HostEventSender,
    outgoing: Outgoing,
    incoming: Incoming,
    /// Text messages the session may be handed, so a flooding server cannot grow its queue.
    messages: RateBudget,
    /// Where the socket may connect.
    outbound: Arc<dialtone_bindings::outbound::OutboundPolicy>,
}

/// Text messages (`WebSocket.Message`) a socket may hand its session each second; a burst of
/// as many is allowed. Media stream messages do not count.
const MESSAGES_PER_SECOND: u32 = 200;

impl SocketTask {
    fn report(&self, event: WebSocketEvent) {
        let _ = self.events.send(HostEvent::WebSocket {
            id: self.id.clone(),
            event,
        });
    }

    async fn run(mut self, spec: WebSocketSpec, mut commands: mpsc::UnboundedReceiver<Command>) {
        let connected = tokio::select! {
            connected = tokio::time::timeout(CONNECT_TIMEOUT, connect(&spec, &self.outbound)) => match connected {
                Ok(result) => result,
                Err(_) => Err(WebSocketError::Timeout(target_of(&spec.url))),
            },
            // close() before the connection is up, or the session went away.
            _ = wait_for_close(&mut commands) => {
                if !self.events.is_closed() {
                    self.report(WebSocketEvent::Close { code: 1000, reason: "closed before it was open".into(), was_clean: false });
                }
                return;
            }
        };
        let mut socket = match connected {
            Ok(socket) => socket,
            Err(error) => {
                tracing::info!(websocket = %self.id, "{error}");
                self.report(WebSocketEvent::Error {
                    error: error.to_string(),
                });
                self.report(WebSocketEvent::Close {
                    code: 1006,
                    reason: error.to_string(),
                    was_clean: false,
                });
                return;
            }
        };
        self.report(WebSocketEvent::Open);
        let end = self.serve(&mut socket, &mut commands).await;
        if let End::Closed {
            code,
            reason,
            clean,
        } = end
        {
            self.report(WebSocketEvent::Close {
                code,
                reason,
                was_clean: clean,
            });
        }
        if self.incoming.dropped_frames > 0 || self.ports.inlet.dropped() > 0 {
            tracing::info!(
                websocket = %self.id,
                "audio dropped: {} frames from the server, {} frames to it",
                self.incoming.dropped_frames,
                self.ports.inlet.dropped()
            );
        }
    }

    async fn serve(
        &mut self,
        socket: &mut Socket,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> End {
        let mut texts = Vec::new();
        if let Some(greeting) = self.outgoing.greeting()
            && let Err(e) = socket.send(Message::text(greeting)).await
        {
            return lost(&e);
        }
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut deliveries = Vec::new();
        loop {
            let playing = self.incoming.is_active();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Send(text)) => {
                        if let Err(e) = socket.send(Message::text(text)).await {
                            return lost(&e);
                        }
                    }
                    Some(Command::Clear(tag)) => {
                        let mut handled = Handled::default();
                        self.incoming.clear(tag.as_deref(), &mut handled);
                        if let Some(end) = self.apply(handled, socket).await {
                            return end;
                        }
                    }
                    Some(Command::Close) => {
                        // What the links delivered before close() goes out first (a stream's
                        // stop when its call just ended).
                        if let Err(end) = self.flush(socket, &mut deliveries, &mut texts).await {
                            return end;
                        }
                        return close(socket, CloseCode::Normal, true).await;
                    }
                    None => {
                        close(socket, CloseCode::Away, false).await;
                        return End::Abandoned;
                    }
                },
                () = self.ports.inlet.notified() => {
                    match self.flush(socket, &mut deliveries, &mut texts).await {
                        Err(end) => return end,
                        Ok(After::Close) => return close(socket, CloseCode::Normal, true).await,
                        Ok(After::Continue) => {}
                    }
                }
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        let handled = self.incoming.on_text(text.as_str().to_owned(), &self.ports.outlet);
                        if let Some(end) = self.apply(handled, socket).await {
                            return end;
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.as_str().to_owned()));
                        // Keep reading until tungstenite has answered the close.
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async { while socket.next().await.is_some() {} }).await;
                        return End::Closed { code, reason, clean: true };
                    }
                    // Binary frames carry nothing in either format; pings are answered by
                    // tungstenite.
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return lost(&e),
                    None => return End::Closed { code: 1006, reason: "the server closed the connection without a close frame".into(), clean: false },
                },
                _ = clock.tick(), if playing => {
                    let handled = self.incoming.on_tick(&self.ports.outlet);
                    if let Some(end) = self.apply(handled, socket).await {
                        return end;
                    }
                }
            }
            if !playing && self.incoming.is_active() {
                // Audio arrived after an idle spell: play it from the next 20 ms on.
                clock.reset_at(Instant::now() + Duration::from_millis(20));
            }
        }
    }

    /// Sends what the links delivered so far; says whether the socket must now close.
    async fn flush(
        &mut self,
        socket: &mut Socket,
        deliveries: &mut Vec<Delivery>,
        texts: &mut Vec<String>,
    ) -> Result<After, End> {
        self.ports.inlet.drain(deliveries);
        let mut after = After::Continue;
        for delivery in deliveries.drain(..) {
            if self.outgoing.on_delivery(delivery, texts) == After::Close {
                after = After::Close;
            }
        }
        for text in texts.drain(..) {
            socket
                .send(Message::text(text))
                .await
                .map_err(|e| lost(&e))?;
        }
        Ok(after)
    }

    /// Reports the events and sends the replies one server text or tick produced.
    async fn apply(&mut self, handled: Handled, socket: &mut Socket) -> Option<End> {
        for event in handled.events {
            if matches!(event, WebSocketEvent::Message { .. }) {
                match self.messages.take(Instant::now()) {
                    Budget::Spend => {}
                    Budget::Drop => continue,
                    Budget::DropAndTell(dropped) => {
                        self.report(WebSocketEvent::Error {
                            error: format!(
                                "the server sent more than {MESSAGES_PER_SECOND} text messages a second; {dropped} were dropped"
                            ),
                        });
                        continue;
                    }
                }
            }
            self.report(event);
        }
        for reply in handled.replies {
            if let Err(e) = socket.send(Message::text(reply)).await {
                return Some(lost(&e));
            }
        }
        None
    }
}

async fn wait_for_close(commands: &mut mpsc::UnboundedReceiver<Command>) {
    loop {
        match commands.recv().await {
            Some(Command::Close) | None => return,
            // Nothing can be sent before the socket is open.
            Some(_) => {}
        }
    }
}

/// Sends a close frame and waits (bounded) for the server's answer.
async fn close(socket: &mut Socket, code: CloseCode, report_clean: bool) -> End {
    let frame = CloseFrame {
        code,
        reason: "".into(),
    };
    let answered = tokio::time::timeout(CLOSE_TIMEOUT, async {
        if socket.close(Some(frame)).await.is_err() {
            return false;
        }
        while let Some(message) = socket.next().await {
            if message.is_err() {
                return false;
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    End::Closed {
        code: u16::from(code),
        reason: String::new(),
        clean: report_clean && answered,
    }
}

fn lost(error: &tungstenite::Error) -> End {
    let (code, reason) = match error {
        tungstenite::Error::Capacity(_) => (
            1009,
            "the server sent a message larger than 1 MiB".to_owned(),
        ),
        tungstenite::Error::Protocol(e) => (1002, format!("WebSocket protocol error: {e}")),
        other => (1006, format!("connection lost: {other}")),
    };
    End::Closed {
        code,
        reason,
        clean: false,
    }
}

/// Message caps, and a small read buffer: tungstenite zero-fills its whole read buffer
/// (128 KiB by default) on every read, which was a quarter of all CPU with a few hundred
/// 20 ms streams; a media message is well under 8 KiB, and larger ones still arrive whole.
pub fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

async fn connect(
    spec: &WebSocketSpec,
    outbound: &dialtone_bindings::outbound::OutboundPolicy,
) -> Result<Socket, WebSocketError> {
    let target = target_of(&spec.url);
    let mut request = spec
        .url
        .as_str()
        .into_client_request()
        .map_err(|_| WebSocketError::BadUrl(target.clone()))?;
    for (name, value) in &spec.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| WebSocketError::BadHeader(name.clone()))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| WebSocketError::BadHeader(name.clone()))?;
        request.headers_mut().append(header, value);
    }
    if !spec.protocols.is_empty() {
        let value = HeaderValue::from_str(&spec.protocols.join(", "))
            .map_err(|_| WebSocketError::BadHeader("Sec-WebSocket-Protocol".into()))?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", value);
    }
    let uri = request.uri().clone();
    let secure = uri.scheme_str() == Some("wss");
    let host = uri
        .host()
        .ok_or_else(|| WebSocketError::BadUrl(target.clone()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let failed = |reason: String| WebSocketError::Connect {
        target: target.clone(),
        reason,
    };
    let addresses = outbound
        .resolve(&host, port)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let tcp = TcpStream::connect(&addresses[..])
        .await
        .map_err(|e| failed(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if secure {
        let mut config = dialtone_bindings::tls::client_config().map_err(&failed)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| WebSocketError::BadUrl(target.clone()))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| failed(format!("TLS: {e}")))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let config = socket_config();
    let (socket, _response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| match e {
                tungstenite::Error::Http(response) => failed(format!(
                    "the server answered HTTP {} instead of switching to WebSocket",
                    response.status().as_u16()
                )),
                other => failed(other.to_string()),
            })?;
    Ok(socket)
}

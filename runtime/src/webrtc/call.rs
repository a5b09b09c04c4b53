//! A browser's call: admission (route, capacity, the peer connection's answer, the session)
//! and the call's task. The task is the shared call core (`sip::call::core`) with the peer
//! connection as its [`Signalling`]: the scenario's `answer()` releases our SDP answer to the
//! waiting POST (201), a reject refuses it, a hangup closes the connection; the connection
//! reaching "connected" is what an ACK is to SIP, and its failing or closing (or a DELETE) is
//! the caller hanging up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dialtone_bindings::host::{self, IncomingCall};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use webrtc::peer_connection::{PeerConnection, RTCPeerConnectionState};

use super::WebRtcError;
use super::opus::OpusCodec;
use super::peer::{self, AudioCodec, PeerSettings};
use super::signaling::WebCallState;
use super::wire::WebWire;
use crate::call_model::{CallInput, ExtraHeaders, Phase, Signal};
use crate::catalog::CatalogError;
use crate::media::session::SessionMedia;
use crate::media::stream::MediaStream;
use crate::metrics::CallResult;
use crate::sip::CallContext;
use crate::sip::call::core::{self, CallCore, CoreParts, Signalling};

/// After the answer, how long the browser has to connect (ICE and DTLS) before the call is
/// given up.
pub const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// A connected browser unheard of for this long after ICE called it disconnected (5 s of
/// silence) has gone: 10 s without ICE in all.
const ICE_LOST_WAIT: Duration = Duration::from_secs(5);

/// A browser's request to call.
#[derive(Debug, Clone)]
pub struct WebCallRequest {
    /// The destination, routed like a SIP request-URI's user.
    pub to: String,
    /// Who calls: the signed-in user, else what the page says (else "webrtc").
    pub from: Option<String>,
    /// The signed-in user's display name.
    pub display_name: Option<String>,
    /// The SDP offer, with its candidates.
    pub offer: String,
    /// The request's `X-` headers, for `call.headers()`.
    pub headers: BTreeMap<String, String>,
}

/// What the POST answers.
#[derive(Debug)]
pub enum Outcome {
    /// The scenario answered (or sent early media): our SDP answer and the call's id.
    Answered {
        /// The call's id (its Location).
        id: String,
        /// Our answer.
        sdp: String,
    },
    /// No call: an HTTP status and why.
    Refused {
        /// The status (SIP's final codes mean the same things in HTTP's 4xx/5xx range).
        status: u16,
        /// For the page and the log.
        reason: String,
    },
}

impl Outcome {
    fn refused(status: u16, reason: impl Into<String>) -> Self {
        Self::Refused {
            status,
            reason: reason.into(),
        }
    }
}

/// Takes a browser's call: starts its session and task, and waits for the scenario to answer
/// or refuse it (or for the session to end first).
///
/// `gone` resolves when whoever waits for the answer stops waiting (the browser went away, or
/// the signalling's own limit passed): until the scenario answers, that cancels the call.
pub async fn take(
    context: Arc<CallContext>,
    request: WebCallRequest,
    gone: oneshot::Receiver<()>,
) -> Outcome {
    let received = Instant::now();
    let catalog = context.catalog.current();
    let application = catalog.config.server.application.clone();
    let max_calls = catalog.config.server.max_calls;
    let Some(slot) = context.metrics.admit(max_calls) else {
        return Outcome::refused(
            503,
            format!("{max_calls} calls are in progress (server.max_calls)"),
        );
    };
    let plan = match catalog.plan(&application, &request.to) {
        Ok(plan) => plan,
        Err(CatalogError::NoRoute(e)) => {
            context
                .metrics
                .call_result(&application, CallResult::NoRoute);
            return Outcome::refused(404, core::no_route_why(&e));
        }
        Err(e) => {
            context
                .metrics
                .call_result(&application, CallResult::Failed);
            return Outcome::refused(500, e.to_string());
        }
    };
    let failed = |status, why: String| {
        context
            .metrics
            .call_result(&application, CallResult::Failed);
        Outcome::refused(status, why)
    };
    let settings = PeerSettings {
        media_ip: context.media_ip,
        public_ip: catalog.config.server.public_address,
    };
    let (sdp, link) = match peer::answer(&request.offer, settings).await {
        Ok(answered) => answered,
        Err(e @ (WebRtcError::BadOffer(_) | WebRtcError::NoCodec)) => {
            return failed(400, e.to_string());
        }
        Err(e) => return failed(503, e.to_string()),
    };
    let opus = match link.negotiated.codec {
        AudioCodec::Opus => match OpusCodec::new() {
            Ok(codec) => Some(codec),
            Err(e) => {
                let _ = link.connection.close().await;
                return failed(503, e.to_string());
            }
        },
        AudioCodec::Pcmu => None,
    };
    let call_id = uuid::Uuid::new_v4().to_string();
    let session_id = uuid::Uuid::new_v4().to_string();
    let (host, session_io) = host::channel();
    let media_context = crate::sip::call::session_out::media_context(&context, &plan, &session_id);
    let mut media = SessionMedia::new(media_context, host.events.clone());
    let ports = media.add_call(&call_id);
    let (stream_tx, stream_events) = mpsc::unbounded_channel();
    let peer::PeerLink {
        connection,
        track,
        ssrc,
        negotiated,
        inbound,
        states,
        local,
        ready,
    } = link;
    let wire = WebWire::new(track, ssrc, &negotiated, inbound, opus, ready);
    let stream = MediaStream::start_on(
        wire,
        local,
        ssrc,
        stream_tx,
        context.metrics.rtp.clone(),
        ports,
    );
    let caller = request
        .from
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "webrtc".to_owned());
    let incoming = IncomingCall {
        id: call_id.clone(),
        callerid: caller.clone(),
        display_name: request
            .display_name
            .clone()
            .unwrap_or_else(|| caller.clone()),
        destination: request.to.clone(),
        to_uri: format!("webrtc:{}", request.to),
        from_uri: format!("webrtc:{caller}"),
        headers: request.headers,
        scheme: "webrtc".to_owned(),
    };
    let access_key = match core::launch(&context, &plan, &session_id, session_io, &host, incoming) {
        Ok(key) => key,
        Err(why) => {
            let _ = connection.close().await;
            return failed(503, why);
        }
    };
    let core = CallCore::new(
        &plan,
        CoreParts {
            context: context.clone(),
            call_id: call_id.clone(),
            session_id,
            access_key,
            host,
            stream,
            stream_events,
            media,
            received,
            slot,
        },
    );
    let (answer_tx, answer_rx) = oneshot::channel();
    let (hangup_tx, hangups) = mpsc::channel(1);
    let state = context.web_calls.add(&call_id, hangup_tx);
    let side = WebSide {
        call_id: call_id.clone(),
        connection,
        answer: Some((answer_tx, sdp)),
        answered: false,
        connected: false,
        ack_due: false,
        connect_deadline: None,
        state,
        ended: None,
    };
    let mut call = WebCall {
        core,
        side,
        states,
        hangups,
        gone: Some(gone),
        ice_lost_deadline: None,
    };
    tokio::spawn(async move {
        call.run().await;
        call.core.context.web_calls.remove(&call.side.call_id);
    });
    // The session ends (or the scenario refuses) before it answers: the sender is dropped.
    answer_rx
        .await
        .unwrap_or_else(|_| Outcome::refused(480, "the call ended before it was answered"))
}

/// A browser call's task.
struct WebCall {
    core: CallCore,
    side: WebSide,
    states: mpsc::Receiver<RTCPeerConnectionState>,
    hangups: mpsc::Receiver<()>,
    /// Resolves when nobody waits for the answer any more.
    gone: Option<oneshot::Receiver<()>>,
    /// Connected, then ICE said disconnected: when to give the browser up.
    ice_lost_deadline: Option<Instant>,
}

/// The peer connection as the call's signalling.
struct WebSide {
    call_id: String,
    connection: Arc<dyn PeerConnection>,
    /// Where the POST waits, and the answer it gets once the scenario answers.
    answer: Option<(oneshot::Sender<Outcome>, String)>,
    /// The scenario answered (not early media only).
    answered: bool,
    /// The connection is up.
    connected: bool,
    /// The model is to hear that the call is confirmed (answered and connected).
    ack_due: bool,
    /// Answered but not connected yet: when to give up.
    connect_deadline: Option<Instant>,
    /// What `GET` on the call's Location reports.
    state: watch::Sender<WebCallState>,
    /// Why the call ended, once it has.
    ended: Option<String>,
}

impl WebSide {
    /// Sends our answer to the waiting POST (once).
    fn release_answer(&mut self) {
        if let Some((waiting, sdp)) = self.answer.take() {
            let id = self.call_id.clone();
            let _ = waiting.send(Outcome::Answered { id, sdp });
        }
    }

    fn close(&self) {
        let connection = self.connection.clone();
        tokio::spawn(async move {
            let _ = connection.close().await;
        });
    }
}

impl Signalling for WebSide {
    fn signal(&mut self, core: &mut CallCore, signal: Signal) {
        match signal {
            Signal::Ringing(_) => self.state.send_modify(|s| s.state = "ringing"),
            Signal::EarlyMedia(_) => self.release_answer(),
            Signal::Accept(_) => {
                self.release_answer();
                self.answered = true;
                if self.connected {
                    self.ack_due = true;
                } else {
                    self.connect_deadline = Some(Instant::now() + CONNECT_WAIT);
                }
                let metrics = &core.context.metrics;
                metrics.call_result(&core.application, CallResult::Answered);
                metrics.invite_to_answer.observe(core.received.elapsed());
            }
            Signal::Reject(code) => {
                if let Some((waiting, _)) = self.answer.take() {
                    let reason = format!("the scenario rejected the call ({code})");
                    let _ = waiting.send(Outcome::refused(code, reason));
                }
                self.ended.get_or_insert_with(|| "rejected".to_owned());
                self.close();
            }
            Signal::Bye(_) => {
                self.ended
                    .get_or_insert_with(|| "the scenario hung up".to_owned());
                self.close();
            }
        }
    }

    fn digits_refused(&self) -> Option<&'static str> {
        Some("a browser plays no RFC 4733 digits it receives")
    }
}

impl WebCall {
    async fn run(&mut self) {
        self.core.go_live();
        while !self.core.over() {
            let deadline = self.side.connect_deadline;
            let lost = self.ice_lost_deadline;
            let live = self.core.model.phase() != Phase::Ended;
            let waiting = self.side.answer.is_some() && self.gone.is_some();
            tokio::select! {
                input = self.core.next() => self.core.handle(&mut self.side, input).await,
                Some(state) = self.states.recv(), if live => self.on_connection(state).await,
                Some(()) = self.hangups.recv(), if live => {
                    self.remote_ended("the caller hung up").await;
                }
                () = crate::sip::call::core::until(deadline), if deadline.is_some() && live => {
                    self.side.connect_deadline = None;
                    let why = format!("no media connection within {} s of the answer", CONNECT_WAIT.as_secs());
                    self.remote_ended(&why).await;
                }
                () = crate::sip::call::core::until(lost), if lost.is_some() && live => {
                    self.ice_lost_deadline = None;
                    self.remote_ended("the browser's connection was lost (no ICE for 10 s)").await;
                }
                () = gave_up(&mut self.gone), if waiting && live => {
                    self.gone = None;
                    self.core
                        .context
                        .metrics
                        .call_result(&self.core.application, CallResult::Cancelled);
                    self.remote_ended("the caller gave up before the answer").await;
                }
            }
            if std::mem::take(&mut self.side.ack_due) && self.core.model.phase() == Phase::Answering
            {
                self.side.state.send_modify(|s| s.state = "connected");
                self.core.feed(&mut self.side, CallInput::Acked).await;
            }
        }
        self.core.finish();
        self.side.close();
        let reason = self
            .side
            .ended
            .clone()
            .unwrap_or_else(|| "ended".to_owned());
        self.side.state.send_modify(|s| {
            s.state = "ended";
            s.reason = Some(reason);
        });
    }

    async fn on_connection(&mut self, state: RTCPeerConnectionState) {
        tracing::debug!(call = %self.side.call_id, "WebRTC connection {state}");
        match state {
            RTCPeerConnectionState::Connected => {
                self.side.connected = true;
                self.side.connect_deadline = None;
                self.ice_lost_deadline = None;
                if self.side.answered {
                    self.side.ack_due = true;
                }
            }
            RTCPeerConnectionState::Disconnected if self.side.connected => {
                self.ice_lost_deadline = Some(Instant::now() + ICE_LOST_WAIT);
            }
            RTCPeerConnectionState::Failed => {
                self.remote_ended("the connection failed (ICE or DTLS)")
                    .await;
            }
            RTCPeerConnectionState::Closed => {
                self.remote_ended("the browser closed the connection").await;
            }
            _ => {}
        }
    }

    async fn remote_ended(&mut self, why: &str) {
        tracing::info!(call = %self.side.call_id, "WebRTC call ended: {why}");
        self.side.ended.get_or_insert_with(|| why.to_owned());
        // A POST still waiting hears it now, not when the session ends.
        if let Some((waiting, _)) = self.side.answer.take() {
            let reason = format!("the call ended before it was answered: {why}");
            let _ = waiting.send(Outcome::refused(480, reason));
        }
        self.side.close();
        let input = CallInput::RemoteEnded(why.to_owned(), ExtraHeaders::new());
        self.core.feed(&mut self.side, input).await;
    }
}

/// Resolves once `gone` does (its sender dropped); never without one.
async fn gave_up(gone: &mut Option<oneshot::Receiver<()>>) {
    match gone {
        Some(gone) => {
            let _ = gone.await;
        }
        None => std::future::pending().await,
    }
}

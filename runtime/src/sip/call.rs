//! One inbound SIP call and its scenario session: the host side of the host interface for a
//! real call. A task per call owns the INVITE dialog and the shared call core ([`core`]: the
//! session's channel ends, the call model, the media stream), and turns each into the other:
//!
//! - session commands (answer, say, hangup ...) → SIP responses/requests and stream commands;
//! - dialog states (ACK, BYE, CANCEL, re-INVITE) and stream events (tones, playback end) →
//!   call events for the session.
//!
//! The same core runs WebRTC calls (`crate::webrtc::call`) with their own signalling.

use std::sync::Arc;

use dialtone_bindings::host::{self, Outbound};
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, HeadersExt as _, Method, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::sdp::{self, Direction, Offer};
use super::session_timer::SessionTimer;
use super::{CallContext, invite};
use crate::call_model::{CallInput, ExtraHeaders, Phase, Signal};
use crate::catalog::CatalogError;
use crate::media::session::SessionMedia;
use crate::media::stream::{MediaStream, StreamCommand};
use crate::metrics::CallResult;

pub mod api_session;
pub(crate) mod core;
mod legs;
mod outbound_leg;
mod refresh;
mod room_host;
pub(crate) mod session_out;

use self::core::{CallCore, CoreParts, Signalling};
use refresh::{negotiate_timer, until};

/// Seconds a caller refused for overload is asked to wait (Retry-After).
const RETRY_AFTER_S: u32 = 5;

/// One message a session sent, as observers see it.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The session.
    pub session_id: String,
    /// Its call (SIP Call-ID).
    pub call_id: String,
    /// What it sent.
    pub message: Outbound,
}

/// Takes an INVITE: routes it, then runs the call on its own task.
pub(crate) fn start(mut tx: Transaction, dialogs: Arc<DialogLayer>, context: Arc<CallContext>) {
    tokio::spawn(async move {
        let received = Instant::now();
        let call_id = tx
            .original
            .call_id_header()
            .map(|h| h.value().to_owned())
            .unwrap_or_default();
        match admit(&tx, call_id.clone(), &dialogs, &context, received).await {
            Ok(mut call) => {
                let mut dialog = call.sip.dialog.clone();
                tokio::spawn(async move {
                    if let Err(e) = dialog.handle(&mut tx).await {
                        tracing::debug!("INVITE transaction: {e}");
                    }
                });
                let id = call.sip.dialog.id();
                call.run().await;
                dialogs.remove_dialog(&id);
            }
            Err(Refusal {
                status,
                result,
                why,
                headers,
            }) => {
                let application = context.catalog.current().config.server.application.clone();
                context.metrics.call_result(&application, result);
                tracing::warn!(call = %call_id, "INVITE answered {}: {why}", status.code());
                let _ = tx.reply_with(status, headers, None).await;
            }
        }
    });
}

/// Why an INVITE is answered with a final error instead of starting a call.
struct Refusal {
    status: StatusCode,
    result: CallResult,
    why: String,
    /// Headers the response carries (Retry-After, Min-SE).
    headers: Vec<Header>,
}

impl Refusal {
    fn new(status: StatusCode, result: CallResult, why: impl Into<String>) -> Self {
        let headers = if status == StatusCode::ServiceUnavailable {
            vec![Header::RetryAfter(RETRY_AFTER_S.to_string().into())]
        } else {
            Vec::new()
        };
        Self {
            status,
            result,
            why: why.into(),
            headers,
        }
    }

    fn failed(status: StatusCode, why: impl Into<String>) -> Self {
        Self::new(status, CallResult::Failed, why)
    }
}

/// Our Contact for the dialog of `tx`: the address the INVITE came in on, with
/// `;transport=tcp` when it came over TCP (else the peer sends ACK and BYE over UDP).
fn local_contact(tx: &Transaction) -> Option<rsipstack::sip::Uri> {
    use rsipstack::sip::{Param, Scheme, Transport, Uri};
    let local = tx.connection.as_ref()?.get_addr().clone();
    let params = match local.r#type {
        Some(Transport::Tcp) => vec![Param::Transport(Transport::Tcp)],
        _ => Vec::new(),
    };
    Some(Uri {
        scheme: Some(Scheme::Sip),
        host_with_port: local.addr,
        params,
        ..Default::default()
    })
}

/// Routes and accepts an INVITE up to a started session, or says why it cannot be taken.
async fn admit(
    tx: &Transaction,
    call_id: String,
    dialogs: &Arc<DialogLayer>,
    context: &Arc<CallContext>,
    received: Instant,
) -> Result<Call, Refusal> {
    let mut incoming = invite::incoming_call(&tx.original, &call_id);
    let catalog = context.catalog.current();
    let max_calls = catalog.config.server.max_calls;
    if let Some(contact) = tx
        .original
        .contact_header()
        .ok()
        .map(|c| c.value().to_owned())
        && context.registrar.is_registered_contact(
            &catalog.config.server.application,
            &incoming.callerid,
            &contact,
        )
    {
        // A call from one of the application's registered phones: the scenario knows the user.
        incoming.scheme = "user".into();
        if incoming.display_name.is_empty()
            && let Some(display) = context
                .users
                .credentials(&catalog.config.server.application, &incoming.callerid)
                .and_then(|c| c.display_name)
        {
            incoming.display_name = display;
        }
    }
    let slot = context.metrics.admit(max_calls).ok_or_else(|| {
        Refusal::failed(
            StatusCode::ServiceUnavailable,
            format!("{max_calls} calls are in progress (server.max_calls)"),
        )
    })?;
    let application = catalog.config.server.application.clone();
    let plan = catalog
        .plan(&application, &incoming.destination)
        .map_err(|e| match e {
            CatalogError::NoRoute(e) => Refusal::new(
                StatusCode::NotFound,
                CallResult::NoRoute,
                self::core::no_route_why(&e),
            ),
            e => Refusal::failed(StatusCode::ServerInternalError, e.to_string()),
        })?;
    let offer = if tx.original.body.is_empty() {
        None
    } else {
        let offer = Offer::parse(&tx.original.body)
            .map_err(|e| Refusal::failed(StatusCode::NotAcceptableHere, e.to_string()))?;
        Some(offer)
    };
    let session_timer = negotiate_timer(&tx.original, catalog.config.server.session_min_se_s)?;
    let sockets = context
        .rtp_ports
        .bind(context.media_ip)
        .await
        .map_err(|e| {
            Refusal::failed(StatusCode::ServiceUnavailable, format!("no RTP port: {e}"))
        })?;
    let (stream_tx, stream_events) = mpsc::unbounded_channel();
    let (host, session_io) = host::channel();
    let session_id = uuid::Uuid::new_v4().to_string();
    let media_context = session_out::media_context(context, &plan, &session_id);
    let mut media = SessionMedia::new(media_context, host.events.clone());
    let ports = media.add_call(&call_id);
    let stream = MediaStream::start(sockets, stream_tx, context.metrics.rtp.clone(), ports)
        .map_err(|e| {
            Refusal::failed(
                StatusCode::ServiceUnavailable,
                format!("cannot start RTP: {e}"),
            )
        })?;
    let (state_tx, states) = dialogs.new_dialog_state_channel();
    let dialog = dialogs
        .get_or_create_server_invite(tx, state_tx, None, local_contact(tx))
        .map_err(|e| match e {
            // A To tag names a dialog this server does not have (RFC 3261 12.2.2).
            rsipstack::Error::DialogError(_, _, StatusCode::CallTransactionDoesNotExist) => {
                Refusal::failed(
                    StatusCode::CallTransactionDoesNotExist,
                    "the INVITE names a dialog (To tag) that does not exist",
                )
            }
            e => Refusal::failed(
                StatusCode::BadRequest,
                format!("the INVITE does not identify a dialog: {e}"),
            ),
        })?;
    let access_key = self::core::launch(context, &plan, &session_id, session_io, &host, incoming)
        .map_err(|why| {
        dialogs.remove_dialog(&dialog.id());
        Refusal::failed(StatusCode::ServiceUnavailable, why)
    })?;
    let core = CallCore::new(
        &plan,
        CoreParts {
            context: context.clone(),
            call_id,
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
    // At most one refresh is in flight at a time.
    let (refreshes_tx, refreshes) = mpsc::unbounded_channel();
    let sip = SipSide {
        dialog,
        offer,
        sdp_version: 1,
        session_timer,
        session_deadline: None,
        refreshes_tx,
        refreshing: false,
    };
    Ok(Call {
        core,
        sip,
        states,
        refreshes,
    })
}

/// An inbound SIP call's task: the shared core and the dialog's side.
struct Call {
    core: CallCore,
    sip: SipSide,
    states: DialogStateReceiver,
    refreshes: mpsc::UnboundedReceiver<refresh::Refreshed>,
}

/// The SIP dialog of an inbound call: what [`Signalling`] needs to answer, reject and hang up.
struct SipSide {
    dialog: InviteDialog,
    offer: Option<Offer>,
    sdp_version: u64,
    /// The RFC 4028 session timer, when the caller asked for one.
    session_timer: Option<SessionTimer>,
    /// When the timer next acts (refresh, or give the session up); none while a refresh runs.
    session_deadline: Option<Instant>,
    refreshes_tx: mpsc::UnboundedSender<refresh::Refreshed>,
    /// Our refresh is on its way.
    refreshing: bool,
}

impl Signalling for SipSide {
    fn signal(&mut self, core: &mut CallCore, signal: Signal) {
        match signal {
            Signal::Ringing(headers) => {
                if let Err(e) = self.dialog.ringing(Some(extra_headers(&headers)), None) {
                    tracing::warn!(call = %core.call_id, "180 Ringing: {e}");
                }
            }
            Signal::EarlyMedia(headers) => {
                self.send_answer(core, true, &headers);
            }
            Signal::Accept(headers) => self.answer(core, &headers),
            Signal::Reject(code) => {
                // The reason stays in our log (a Reason header would leak stack traces).
                let _ = self.dialog.reject(Some(StatusCode::from(code)), None);
            }
            Signal::Bye(headers) => self.bye(core, &headers),
        }
    }

    fn peer_sends(&self) -> bool {
        self.offer.as_ref().is_none_or(|o| o.direction.we_send())
    }

    fn digits_refused(&self) -> Option<&'static str> {
        self.offer
            .as_ref()
            .is_some_and(|o| o.telephone_event.is_none())
            .then_some("the caller did not offer telephone-event")
    }
}

impl SipSide {
    /// Sends our SDP answer in a 183 Session Progress (early media) or the 200 OK, then
    /// points the RTP stream at the caller: media flows both ways from now on. False when
    /// nothing could be sent.
    fn send_answer(&mut self, core: &CallCore, early: bool, extra: &ExtraHeaders) -> bool {
        let Some(body) = self.local_answer(core) else {
            return false;
        };
        let mut headers = vec![Header::ContentType("application/sdp".into())];
        headers.extend(extra_headers(extra));
        let body = Some(body.into_bytes());
        let (sent, what) = if early {
            (
                self.dialog.ringing(Some(headers), body),
                "183 Session Progress",
            )
        } else {
            headers.extend(self.timer_headers());
            (self.dialog.accept(Some(headers), body), "200 OK")
        };
        if let Err(e) = sent {
            tracing::warn!(call = %core.call_id, "{what}: {e}");
            return false;
        }
        if !early {
            self.arm_session_timer();
        }
        self.start_media_to_offer(core);
        true
    }

    /// Our SDP answer to the caller's offer.
    fn local_answer(&self, core: &CallCore) -> Option<String> {
        let local = core.stream.as_ref().map(MediaStream::local_addr)?;
        let local = std::net::SocketAddr::new(core.context.advertised_ip(), local.port());
        let direction = self
            .offer
            .as_ref()
            .map_or(Direction::SendRecv, |offer| offer.direction.answer());
        Some(sdp::answer(
            local,
            session_number(&core.call_id),
            self.sdp_version,
            self.offer.as_ref(),
            direction,
        ))
    }

    /// Points the RTP stream at the address of the caller's offer.
    fn start_media_to_offer(&self, core: &CallCore) {
        if let Some(offer) = &self.offer {
            core.stream_send(StreamCommand::Remote {
                addr: offer.remote,
                telephone_event: offer.telephone_event,
                send: offer.direction.answer().we_send(),
            });
        }
    }

    fn answer(&mut self, core: &CallCore, extra: &ExtraHeaders) {
        if !self.send_answer(core, false, extra) {
            return;
        }
        let metrics = &core.context.metrics;
        metrics.call_result(&core.application, CallResult::Answered);
        metrics.invite_to_answer.observe(core.received.elapsed());
    }

    fn bye(&self, core: &CallCore, extra: &ExtraHeaders) {
        let dialog = self.dialog.clone();
        let call_id = core.call_id.clone();
        let headers = (!extra.is_empty()).then(|| extra_headers(extra));
        tokio::spawn(async move {
            if let Err(e) = dialog.bye_with_headers(headers).await {
                tracing::info!(call = %call_id, "BYE: {e}");
            }
        });
    }
}

impl Call {
    async fn run(&mut self) {
        self.core.go_live();
        while !self.core.over() {
            let deadline = self.sip.session_deadline;
            tokio::select! {
                input = self.core.next() => self.core.handle(&mut self.sip, input).await,
                state = self.states.recv(), if self.core.model.phase() != Phase::Ended => match state {
                    Some(state) => self.on_dialog(state).await,
                    None => self.feed(CallInput::RemoteEnded("the dialog is gone".into(), ExtraHeaders::new())).await,
                },
                () = until(deadline), if deadline.is_some() => {
                    if let Some(input) = self.sip.on_session_deadline(&self.core) {
                        self.feed(input).await;
                    }
                }
                Some(refreshed) = self.refreshes.recv() => {
                    if let Some(input) = self.sip.on_refreshed(&self.core, refreshed) {
                        self.feed(input).await;
                    }
                }
            }
        }
        self.core.finish();
    }

    async fn feed(&mut self, input: CallInput) {
        self.core.feed(&mut self.sip, input).await;
    }

    async fn on_dialog(&mut self, state: DialogState) {
        match state {
            DialogState::Confirmed(..) if self.core.model.phase() == Phase::Answering => {
                if self.sip.offer.is_none() {
                    self.take_answer_from_ack();
                }
                self.feed(CallInput::Acked).await;
            }
            DialogState::Updated(_, request, handle) => {
                let refresh = request.method == Method::Invite || request.method == Method::Update;
                let status = if refresh {
                    self.on_reoffer(&request.body)
                } else {
                    Err(StatusCode::OK)
                };
                // Only an accepted re-INVITE or UPDATE refreshes the session (RFC 4028 10).
                if status.is_ok() {
                    self.sip.on_refresh_request(&self.core, &request);
                }
                let result = match status {
                    Ok(body) => {
                        let mut headers = vec![Header::ContentType("application/sdp".into())];
                        headers.extend(self.sip.timer_headers());
                        handle
                            .respond(StatusCode::OK, Some(headers), Some(body.into_bytes()))
                            .await
                    }
                    Err(status) => handle.reply(status).await,
                };
                if result.is_err() {
                    tracing::debug!(call = %self.core.call_id, "re-INVITE transaction already gone");
                }
            }
            DialogState::Info(_, request, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
                if let Some(tone) = info_digit(&request.body)
                    && self.core.tone_allowed()
                {
                    self.feed(CallInput::Tone { tone, kind: "3" }).await;
                }
            }
            DialogState::Options(_, _, handle)
            | DialogState::Notify(_, _, handle)
            | DialogState::Message(_, _, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
            }
            DialogState::Refer(_, _, handle) | DialogState::Publish(_, _, handle) => {
                let _ = handle.reply(StatusCode::NotImplemented).await;
            }
            DialogState::Terminated(_, reason) => {
                let text = match reason {
                    TerminatedReason::UacBye => "caller hung up".to_owned(),
                    TerminatedReason::UacCancel => {
                        self.core
                            .context
                            .metrics
                            .call_result(&self.core.application, CallResult::Cancelled);
                        "caller cancelled".to_owned()
                    }
                    TerminatedReason::Timeout => "no ACK from the caller".to_owned(),
                    TerminatedReason::UasBye => "we hung up".to_owned(),
                    TerminatedReason::UacBusy | TerminatedReason::UasBusy => "busy".to_owned(),
                    TerminatedReason::UasDecline => "declined".to_owned(),
                    TerminatedReason::ProxyAuthRequired => {
                        "the proxy asked for authentication".to_owned()
                    }
                    TerminatedReason::ProxyError(code)
                    | TerminatedReason::UacOther(code)
                    | TerminatedReason::UasOther(code) => {
                        format!("the dialog ended with SIP {}", u16::from(code))
                    }
                };
                let headers = self.core.context.bye_headers.take(&self.core.call_id);
                self.feed(CallInput::RemoteEnded(text, headers)).await;
            }
            _ => {}
        }
    }

    /// A re-INVITE or UPDATE: a new offer (hold, unhold, new address) or a session refresh.
    fn on_reoffer(&mut self, body: &[u8]) -> Result<String, StatusCode> {
        let offer = if body.is_empty() {
            // No offer: answer with our current description.
            self.sip.offer.clone()
        } else {
            match Offer::parse(body) {
                Ok(offer) => Some(offer),
                Err(e) => {
                    tracing::warn!(call = %self.core.call_id, "re-INVITE refused (488): {e}");
                    return Err(StatusCode::NotAcceptableHere);
                }
            }
        };
        let local = self
            .core
            .stream
            .as_ref()
            .map(MediaStream::local_addr)
            .ok_or(StatusCode::ServerInternalError)?;
        let local = std::net::SocketAddr::new(self.core.context.advertised_ip(), local.port());
        let direction = offer
            .as_ref()
            .map_or(Direction::SendRecv, |o| o.direction.answer());
        if let Some(offer) = &offer {
            tracing::info!(call = %self.core.call_id, "re-INVITE: media to {} ({direction:?})", offer.remote);
            self.core.stream_send(StreamCommand::Remote {
                addr: offer.remote,
                telephone_event: offer.telephone_event,
                send: direction.we_send(),
            });
        }
        self.sip.offer = offer;
        if matches!(self.core.model.phase(), Phase::Connected { .. }) {
            // Held (the caller stops sending) or resumed: watch accordingly.
            self.core.watch_media(self.sip.peer_sends());
        }
        self.sip.sdp_version += 1;
        Ok(sdp::answer(
            local,
            session_number(&self.core.call_id),
            self.sip.sdp_version,
            self.sip.offer.as_ref(),
            direction,
        ))
    }

    /// A delayed offer's answer arrives in the ACK.
    fn take_answer_from_ack(&mut self) {
        let Some(ack) = self.sip.dialog.last_remote_ack() else {
            return;
        };
        if ack.body.is_empty() {
            return;
        }
        match Offer::parse(&ack.body) {
            Ok(answer) => {
                self.core.stream_send(StreamCommand::Remote {
                    addr: answer.remote,
                    telephone_event: answer.telephone_event,
                    send: answer.direction.answer().we_send(),
                });
                self.sip.offer = Some(answer);
            }
            Err(e) => tracing::warn!(call = %self.core.call_id, "SDP in ACK: {e}"),
        }
    }
}

/// The digit of a SIP INFO DTMF body (`application/dtmf-relay`: `Signal=5`).
fn info_digit(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let tone = text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("signal")
            .then(|| value.trim().to_ascii_uppercase())
    })?;
    let digit = tone.chars().next()?;
    (tone.len() == 1 && crate::media::rtp::digit_to_event(digit).is_some()).then_some(tone)
}

/// A stable SDP session number for a call.
pub(super) fn session_number(call_id: &str) -> u64 {
    call_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) >> 1
}

/// A scenario's extra headers as SIP headers (names and values were checked in the bindings).
fn extra_headers(extra: &ExtraHeaders) -> Vec<Header> {
    extra
        .iter()
        .map(|(name, value)| Header::Other(name.clone(), value.clone()))
        .collect()
}

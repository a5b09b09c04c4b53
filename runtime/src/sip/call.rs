//! One inbound SIP call and its scenario session: the host side of the host interface for a
//! real call. A task per call owns the INVITE dialog, the RTP stream and the session's channel
//! ends, and turns each into the other:
//!
//! - session commands (answer, say, hangup ...) → SIP responses/requests and stream commands;
//! - dialog states (ACK, BYE, CANCEL, re-INVITE) and stream events (tones, playback end) →
//!   call events for the session.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dialtone_bindings::host::{
    self, CallCommand, CallEvent, EndReason, HostEvent, HostIo, Outbound, SessionSpec,
};
use dialtone_bindings::rate::{Budget, RateBudget};
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
use crate::call_model::{
    CallInput, CallModel, CallOutput, ExtraHeaders, MediaAction, Phase, PlaybackSource, Signal,
};
use crate::catalog::CatalogError;
use crate::media::recorder::Recorder;
use crate::media::session::SessionMedia;
use crate::media::source::Audio;
use crate::media::stream::{MediaStream, StreamCommand, StreamEvent};
use crate::media::{MediaError, file_url};
use crate::metrics::{CallResult, CallSlot};

pub mod api_session;
mod legs;
mod outbound_leg;
mod refresh;
mod room_host;
mod session_out;

use refresh::{negotiate_timer, until};

/// Key presses (RFC 4733 and SIP INFO) a call passes to its session a second.
const TONES_PER_SECOND: u32 = 20;
/// Seconds a caller refused for overload is asked to wait (Retry-After).
const RETRY_AFTER_S: u32 = 5;
/// How long the end of a call waits for the recording to be closed.
const RECORD_CLOSE_WAIT: Duration = Duration::from_secs(2);

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
                let mut dialog = call.dialog.clone();
                tokio::spawn(async move {
                    if let Err(e) = dialog.handle(&mut tx).await {
                        tracing::debug!("INVITE transaction: {e}");
                    }
                });
                let id = call.dialog.id();
                context
                    .live
                    .add(&call.session_id, call.host.events.clone(), &call.access_key);
                call.run().await;
                context.live.remove(&call.session_id);
                context.access.session_ended(&call.session_id);
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
            CatalogError::NoRoute(e) => {
                let mut why = e.to_string();
                if let crate::router::NoRoute::NoMatch { misses, .. } = &e {
                    for miss in misses {
                        why.push_str("; ");
                        why.push_str(&miss.to_string());
                    }
                }
                Refusal::new(StatusCode::NotFound, CallResult::NoRoute, why)
            }
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
    let access_key = crate::access::new_key();
    let spec = SessionSpec {
        session_id: session_id.clone(),
        application: plan.route.application.clone(),
        rule: plan.route.rule.clone(),
        scripts: plan.scripts,
        secrets: context.secrets.secrets(&plan.route.application),
        custom_data: String::new(),
        access_url: crate::access::url(context.http_base.get(), &session_id, &access_key),
        limits: plan.limits,
        mcp: plan.mcp,
        outbound: plan.outbound.clone(),
        simulated_time: false,
    };
    if let Err(e) = context.pool.spawn(spec, session_io) {
        dialogs.remove_dialog(&dialog.id());
        let why = format!("cannot start the session: {e}");
        return Err(Refusal::failed(StatusCode::ServiceUnavailable, why));
    }
    tracing::info!(
        call = %call_id,
        session = %session_id,
        "INVITE from {} to {} -> application '{}', rule '{}'",
        incoming.from_uri,
        incoming.destination,
        plan.route.application,
        plan.route.rule
    );
    session_out::session_started(
        context,
        &session_id,
        &plan.route,
        &call_id,
        &incoming.callerid,
        &incoming.destination,
    );
    context.metrics.call_started(&plan.route.application);
    let _ = host.events.send(HostEvent::CallAlerting(incoming));
    let (loads_tx, loads) = mpsc::unbounded_channel();
    // At most one refresh is in flight at a time.
    let (refreshes_tx, refreshes) = mpsc::unbounded_channel();
    let legs = legs::OutboundLegs::new(
        context.clone(),
        plan.route.application.clone(),
        plan.trunk.clone(),
    );
    let call = Call {
        access_key,
        context: context.clone(),
        application: plan.route.application.clone(),
        outbound: plan.outbound.clone(),
        call_id,
        session_id,
        dialog,
        host,
        states,
        stream: Some(stream),
        stream_events,
        media,
        loads_tx,
        loads,
        offer,
        sdp_version: 1,
        model: CallModel::new(),
        loaded: None,
        received,
        session_ended: false,
        alerting_seen: false,
        recordings: 0,
        released: false,
        _slot: slot,
        tones: RateBudget::new(TONES_PER_SECOND),
        session_timer,
        session_deadline: None,
        refreshes_tx,
        refreshes,
        refreshing: false,
        legs,
    };
    Ok(call)
}

struct Call {
    /// The key of the session's access URL.
    access_key: String,
    context: Arc<CallContext>,
    application: String,
    /// Where the session's playback URLs may be fetched from.
    outbound: Arc<dialtone_bindings::outbound::OutboundPolicy>,
    call_id: String,
    session_id: String,
    dialog: InviteDialog,
    host: HostIo,
    states: DialogStateReceiver,
    stream: Option<MediaStream>,
    stream_events: mpsc::UnboundedReceiver<StreamEvent>,
    /// The session's media graph and units.
    media: SessionMedia,
    loads_tx: mpsc::UnboundedSender<Loaded>,
    loads: mpsc::UnboundedReceiver<Loaded>,
    offer: Option<Offer>,
    sdp_version: u64,
    /// The call's state: the same model the console's simulated leg runs.
    model: CallModel,
    /// Audio loaded for a generation, waiting for the model's `Play`.
    loaded: Option<(u64, Audio)>,
    received: Instant,
    session_ended: bool,
    alerting_seen: bool,
    recordings: u32,
    /// The media was released (the call ended).
    released: bool,
    /// The call's place under `server.max_calls`, freed when the call task ends.
    _slot: CallSlot,
    /// Key presses per second reaching the session.
    tones: RateBudget,
    /// The RFC 4028 session timer, when the caller asked for one.
    session_timer: Option<SessionTimer>,
    /// When the timer next acts (refresh, or give the session up); none while a refresh runs.
    session_deadline: Option<Instant>,
    refreshes_tx: mpsc::UnboundedSender<refresh::Refreshed>,
    refreshes: mpsc::UnboundedReceiver<refresh::Refreshed>,
    /// Our refresh is on its way.
    refreshing: bool,
    /// The session's outbound legs (`VoxEngine.callSIP`, `callPSTN`, `callUser`).
    legs: legs::OutboundLegs,
}

impl Call {
    async fn run(&mut self) {
        self.run_until_over().await;
        self.context
            .metrics
            .session_events_dropped
            .fetch_add(self.host.events.dropped(), Ordering::Relaxed);
    }

    async fn run_until_over(&mut self) {
        while !(self.session_ended && self.model.phase() == Phase::Ended) {
            let ringing_deadline = self.legs.ringing_deadline();
            tokio::select! {
                message = self.host.outbound.recv() => match message {
                    Some(message) => self.on_outbound(message).await,
                    None => self.on_session_end(None).await,
                },
                state = self.states.recv(), if self.model.phase() != Phase::Ended => match state {
                    Some(state) => self.on_dialog(state).await,
                    None => self.feed(CallInput::RemoteEnded("the dialog is gone".into(), ExtraHeaders::new())).await,
                },
                Some(event) = self.stream_events.recv() => self.on_stream(event).await,
                Some(loaded) = self.loads.recv() => self.on_loaded(loaded).await,
                () = until(self.session_deadline), if self.session_deadline.is_some() => {
                    self.on_session_deadline().await;
                }
                Some(refreshed) = self.refreshes.recv() => self.on_refreshed(refreshed).await,
                Some(input) = self.legs.next() => self.on_leg_input(input),
                () = until(ringing_deadline), if ringing_deadline.is_some() => {
                    self.legs.cancel_unanswered();
                }
            }
        }
        self.legs.hang_up_all(&mut self.media);
        self.context
            .metrics
            .sessions_active
            .fetch_sub(1, Ordering::Relaxed);
    }

    fn observe(&self, message: Outbound) {
        let _ = self.context.records.send(SessionRecord {
            session_id: self.session_id.clone(),
            call_id: self.call_id.clone(),
            message,
        });
    }

    fn deliver(&self, event: CallEvent) {
        let _ = self.host.events.send(HostEvent::Call {
            call_id: self.call_id.clone(),
            event,
        });
    }

    /// A state of an outbound leg's dialog: the scenario hears what it means.
    fn on_leg_input(&mut self, input: legs::LegInput) {
        for (call_id, event) in self.legs.on_input(&mut self.media, input) {
            let _ = self.host.events.send(HostEvent::Call { call_id, event });
        }
    }

    /// `VoxEngine.callSIP` / `callPSTN` / `callUser`: a new leg, or at once its `Failed`.
    async fn dial(&mut self, dial: dialtone_bindings::host::Dial) {
        if let Err(failure) = self.legs.dial(&mut self.media, &dial).await {
            report_dial_failure(&self.host.events, &self.session_id, &dial, failure);
        }
    }

    async fn on_outbound(&mut self, message: Outbound) {
        if let Outbound::Dial(dial) = message {
            self.dial(dial).await;
            return;
        }
        if let Outbound::Call { call_id, command } = &message
            && self.legs.has(call_id)
        {
            if let Some(missing) = self.legs.command(call_id, command) {
                tracing::warn!(session = %self.session_id, "{missing}");
                let _ = self.host.events.send(HostEvent::Warning { text: missing });
            }
            return;
        }
        let out = session_out::SessionOut {
            context: &self.context,
            application: &self.application,
            session_id: &self.session_id,
        };
        match out.handle(&message, &mut self.media, &self.host.events) {
            session_out::Handled::Observed => {
                self.observe(message);
                return;
            }
            session_out::Handled::Quiet => return,
            session_out::Handled::Not => {}
        }
        match &message {
            Outbound::Call { call_id, command } if *call_id == self.call_id => {
                self.on_command(command.clone()).await;
            }
            Outbound::Call { call_id, command } => tracing::warn!(
                session = %self.session_id,
                "{} for unknown call {call_id} ignored",
                command.name()
            ),
            Outbound::Event { name, .. }
                if name == "Application.CallAlerting" && !self.alerting_seen =>
            {
                self.alerting_seen = true;
                self.context
                    .metrics
                    .invite_to_alerting
                    .observe(self.received.elapsed());
            }
            Outbound::Ended(reason) => {
                let reason = reason.clone();
                self.observe(message);
                self.on_session_end(Some(reason)).await;
                return;
            }
            _ => {}
        }
        self.observe(message);
    }

    async fn on_session_end(&mut self, reason: Option<EndReason>) {
        if self.session_ended {
            return;
        }
        self.session_ended = true;
        let why = reason
            .as_ref()
            .map_or_else(|| "the session stopped".to_owned(), ToString::to_string);
        let normal = reason.as_ref().is_some_and(EndReason::is_normal);
        if normal {
            tracing::info!(session = %self.session_id, "session ended: {why}");
        } else {
            self.context
                .metrics
                .sessions_failed
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(session = %self.session_id, call = %self.call_id, "session ended: {why}");
        }
        let ending = self.model.phase();
        self.feed(CallInput::SessionEnded { normal }).await;
        if ending == Phase::Alerting {
            self.context
                .metrics
                .call_result(&self.application, CallResult::Rejected);
        }
    }

    /// Gives the model one input and carries out what it asks, feeding back what that
    /// produces (a recording that starts, a load that fails at once ...).
    async fn feed(&mut self, input: CallInput) {
        let mut work: VecDeque<CallOutput> = self.model.handle(Instant::now(), input).into();
        while let Some(output) = work.pop_front() {
            let next = match output {
                CallOutput::Event(event) => {
                    if matches!(event, CallEvent::Connected { .. }) {
                        self.watch_media();
                    }
                    self.deliver(event);
                    None
                }
                CallOutput::Signal(signal) => {
                    self.signal(signal);
                    None
                }
                CallOutput::Media(action) => self.media_action(action).await,
                CallOutput::Ignored(why) => {
                    tracing::debug!(call = %self.call_id, "{why}");
                    None
                }
            };
            if let Some(input) = next {
                work.extend(self.model.handle(Instant::now(), input));
            }
        }
    }

    async fn on_command(&mut self, command: CallCommand) {
        let from_alerting = self.model.phase() == Phase::Alerting;
        let rejects = matches!(
            command,
            CallCommand::Reject { .. } | CallCommand::Hangup { .. }
        );
        self.feed(CallInput::Command(command)).await;
        if from_alerting && rejects && self.model.phase() == Phase::Ended {
            self.context
                .metrics
                .call_result(&self.application, CallResult::Rejected);
        }
    }

    /// Carries out a signalling step the model asked for.
    fn signal(&mut self, signal: Signal) {
        match signal {
            Signal::Ringing(headers) => {
                if let Err(e) = self.dialog.ringing(Some(extra_headers(&headers)), None) {
                    tracing::warn!(call = %self.call_id, "180 Ringing: {e}");
                }
            }
            Signal::EarlyMedia(headers) => {
                self.send_answer(true, &headers);
            }
            Signal::Accept(headers) => self.answer(&headers),
            Signal::Reject(code) => {
                // The reason stays in our log (a Reason header would leak stack traces).
                let _ = self.dialog.reject(Some(StatusCode::from(code)), None);
            }
            Signal::Bye(headers) => self.bye(&headers),
        }
    }

    /// Carries out a media step; some answer at once with an input for the model.
    async fn media_action(&mut self, action: MediaAction) -> Option<CallInput> {
        match action {
            MediaAction::Load { generation, source } => {
                let media = self.context.media.clone();
                let done = self.loads_tx.clone();
                let events = self.host.events.clone();
                let outbound = self.outbound.clone();
                tokio::spawn(async move {
                    let audio = match source {
                        PlaybackSource::Url(url) => media.load(&url, &outbound).await,
                        PlaybackSource::Speech { text, voice } => media
                            .speech(&text, voice.as_deref())
                            .await
                            .map(|(audio, warning)| {
                                if let Some(text) = warning {
                                    let _ = events.send(HostEvent::Warning { text });
                                }
                                audio
                            }),
                    };
                    let _ = done.send(Loaded { generation, audio });
                });
                None
            }
            MediaAction::Play { generation, looped } => {
                if let Some((loaded, audio)) = self.loaded.take()
                    && loaded == generation
                {
                    self.stream_send(StreamCommand::Play {
                        generation,
                        audio,
                        looped,
                    });
                }
                None
            }
            MediaAction::Stop => {
                self.stream_send(StreamCommand::Stop);
                None
            }
            MediaAction::Digits(digits) => {
                if self
                    .offer
                    .as_ref()
                    .is_some_and(|o| o.telephone_event.is_none())
                {
                    tracing::warn!(call = %self.call_id, "sendDigits: the caller did not offer telephone-event; digits not sent");
                } else {
                    self.stream_send(StreamCommand::Digits(digits));
                }
                None
            }
            MediaAction::StartRecord { stereo } => {
                Some(CallInput::RecordStarted(self.record(stereo)))
            }
            MediaAction::StopRecord => Some(CallInput::RecordStopped(self.stop_recording().await)),
            MediaAction::Release => {
                self.release();
                None
            }
        }
    }

    fn stream_send(&self, command: StreamCommand) {
        if let Some(stream) = &self.stream {
            stream.send(command);
        }
    }

    /// Sends our SDP answer in a 183 Session Progress (early media) or the 200 OK, then
    /// points the RTP stream at the caller: media flows both ways from now on. False when
    /// nothing could be sent.
    fn send_answer(&mut self, early: bool, extra: &ExtraHeaders) -> bool {
        let Some(body) = self.local_answer() else {
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
            tracing::warn!(call = %self.call_id, "{what}: {e}");
            return false;
        }
        if !early {
            self.arm_session_timer();
        }
        self.start_media_to_offer();
        true
    }

    /// Our SDP answer to the caller's offer.
    fn local_answer(&self) -> Option<String> {
        let local = self.stream.as_ref().map(MediaStream::local_addr)?;
        let local = std::net::SocketAddr::new(self.context.media_ip, local.port());
        let direction = self
            .offer
            .as_ref()
            .map_or(Direction::SendRecv, |offer| offer.direction.answer());
        Some(sdp::answer(
            local,
            session_number(&self.call_id),
            self.sdp_version,
            self.offer.as_ref(),
            direction,
        ))
    }

    /// Points the RTP stream at the address of the caller's offer.
    fn start_media_to_offer(&self) {
        if let Some(offer) = &self.offer {
            self.stream_send(StreamCommand::Remote {
                addr: offer.remote,
                telephone_event: offer.telephone_event,
                send: offer.direction.answer().we_send(),
            });
        }
    }

    fn answer(&mut self, extra: &ExtraHeaders) {
        if !self.send_answer(false, extra) {
            return;
        }
        self.context
            .metrics
            .call_result(&self.application, CallResult::Answered);
        self.context
            .metrics
            .invite_to_answer
            .observe(self.received.elapsed());
    }

    fn bye(&self, extra: &ExtraHeaders) {
        let dialog = self.dialog.clone();
        let call_id = self.call_id.clone();
        let headers = (!extra.is_empty()).then(|| extra_headers(extra));
        tokio::spawn(async move {
            if let Err(e) = dialog.bye_with_headers(headers).await {
                tracing::info!(call = %call_id, "BYE: {e}");
            }
        });
    }

    /// Starts recording both directions, mixed (mono) or ours left and the caller's right
    /// (stereo), as VoxEngine records; the URL, or why it cannot.
    fn record(&mut self, stereo: bool) -> Result<String, String> {
        self.recordings += 1;
        let file = format!("{}-{}.wav", self.session_id, self.recordings);
        let path: PathBuf = self.media.recordings().join(file);
        match Recorder::create(&path, if stereo { 2 } else { 1 }) {
            Ok(recorder) => {
                self.stream_send(StreamCommand::Record(recorder));
                Ok(file_url(&path))
            }
            Err(e) => {
                tracing::warn!(call = %self.call_id, "record: {e}");
                Err(e.to_string())
            }
        }
    }

    /// Closes the recording, waiting (bounded) for the stream to finish the file.
    async fn stop_recording(&mut self) -> Result<(String, u64), String> {
        self.stream_send(StreamCommand::StopRecord);
        let deadline = Instant::now() + RECORD_CLOSE_WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.stream_events.recv()).await {
                Ok(Some(StreamEvent::RecordStopped { path, result })) => {
                    return result.map(|d| (file_url(&path), d.as_secs()));
                }
                Ok(Some(_)) => {}
                _ => return Err("the recording could not be closed in time".into()),
            }
        }
    }

    /// The call is over: its media goes.
    fn release(&mut self) {
        if std::mem::replace(&mut self.released, true) {
            return;
        }
        self.media.remove_call(&self.call_id);
        self.context.metrics.call_ended(&self.application);
        self.stream = None;
        self.loaded = None;
    }

    /// Watches for a caller who stops sending media (`server.media_timeout_s`), while the
    /// caller's direction says it sends (not on hold).
    fn watch_media(&self) {
        let seconds = self.context.catalog.current().config.server.media_timeout_s;
        let they_send = self.offer.as_ref().is_none_or(|o| o.direction.we_send());
        let watch = (seconds > 0 && they_send).then(|| Duration::from_secs(u64::from(seconds)));
        self.stream_send(StreamCommand::WatchMedia(watch));
    }

    /// Whether one more key press may reach the session: at most [`TONES_PER_SECOND`] (RFC 4733
    /// and SIP INFO together), so a flood cannot starve the session's timers and MCP clients.
    fn tone_allowed(&mut self) -> bool {
        match self.tones.take(Instant::now()) {
            Budget::Spend => true,
            Budget::Drop => false,
            Budget::DropAndTell(dropped) => {
                let _ = self.host.events.send(HostEvent::Warning {
                    text: format!(
                        "key presses from the caller dropped: {dropped} (at most {TONES_PER_SECOND} a second reach the scenario)"
                    ),
                });
                false
            }
        }
    }

    async fn on_loaded(&mut self, loaded: Loaded) {
        let Loaded { generation, audio } = loaded;
        let result = match audio {
            Ok(audio) => {
                let duration = audio.len() as u64 / 8;
                self.loaded = Some((generation, audio));
                Ok(duration)
            }
            Err(e) => {
                tracing::warn!(session = %self.session_id, call = %self.call_id, "playback failed: {e}");
                Err(e.to_string())
            }
        };
        self.feed(CallInput::Loaded { generation, result }).await;
    }

    async fn on_stream(&mut self, event: StreamEvent) {
        let input = match event {
            StreamEvent::PlaybackFinished { generation } => CallInput::PlaybackEnded { generation },
            StreamEvent::Tone(tone) => {
                if !self.tone_allowed() {
                    return;
                }
                CallInput::Tone {
                    tone: tone.to_string(),
                    kind: "1",
                }
            }
            StreamEvent::RecordStopped { path, result } => {
                CallInput::RecordStopped(result.map(|d| (file_url(&path), d.as_secs())))
            }
            StreamEvent::MediaTimeout => {
                tracing::info!(call = %self.call_id, "no RTP from the caller: hanging up (media timeout)");
                CallInput::Expired("media timeout".into())
            }
        };
        self.feed(input).await;
    }

    async fn on_dialog(&mut self, state: DialogState) {
        match state {
            DialogState::Confirmed(..) if self.model.phase() == Phase::Answering => {
                if self.offer.is_none() {
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
                    self.on_refresh_request(&request);
                }
                let result = match status {
                    Ok(body) => {
                        let mut headers = vec![Header::ContentType("application/sdp".into())];
                        headers.extend(self.timer_headers());
                        handle
                            .respond(StatusCode::OK, Some(headers), Some(body.into_bytes()))
                            .await
                    }
                    Err(status) => handle.reply(status).await,
                };
                if result.is_err() {
                    tracing::debug!(call = %self.call_id, "re-INVITE transaction already gone");
                }
            }
            DialogState::Info(_, request, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
                if let Some(tone) = info_digit(&request.body)
                    && self.tone_allowed()
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
                        self.context
                            .metrics
                            .call_result(&self.application, CallResult::Cancelled);
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
                let headers = self.context.bye_headers.take(&self.call_id);
                self.feed(CallInput::RemoteEnded(text, headers)).await;
            }
            _ => {}
        }
    }

    /// A re-INVITE or UPDATE: a new offer (hold, unhold, new address) or a session refresh.
    fn on_reoffer(&mut self, body: &[u8]) -> Result<String, StatusCode> {
        let offer = if body.is_empty() {
            // No offer: answer with our current description.
            self.offer.clone()
        } else {
            match Offer::parse(body) {
                Ok(offer) => Some(offer),
                Err(e) => {
                    tracing::warn!(call = %self.call_id, "re-INVITE refused (488): {e}");
                    return Err(StatusCode::NotAcceptableHere);
                }
            }
        };
        let local = self
            .stream
            .as_ref()
            .map(MediaStream::local_addr)
            .ok_or(StatusCode::ServerInternalError)?;
        let local = std::net::SocketAddr::new(self.context.media_ip, local.port());
        let direction = offer
            .as_ref()
            .map_or(Direction::SendRecv, |o| o.direction.answer());
        if let Some(offer) = &offer {
            tracing::info!(call = %self.call_id, "re-INVITE: media to {} ({direction:?})", offer.remote);
            self.stream_send(StreamCommand::Remote {
                addr: offer.remote,
                telephone_event: offer.telephone_event,
                send: direction.we_send(),
            });
        }
        self.offer = offer;
        if matches!(self.model.phase(), Phase::Connected { .. }) {
            // Held (the caller stops sending) or resumed: watch accordingly.
            self.watch_media();
        }
        self.sdp_version += 1;
        Ok(sdp::answer(
            local,
            session_number(&self.call_id),
            self.sdp_version,
            self.offer.as_ref(),
            direction,
        ))
    }

    /// A delayed offer's answer arrives in the ACK.
    fn take_answer_from_ack(&mut self) {
        let Some(ack) = self.dialog.last_remote_ack() else {
            return;
        };
        if ack.body.is_empty() {
            return;
        }
        match Offer::parse(&ack.body) {
            Ok(answer) => {
                self.stream_send(StreamCommand::Remote {
                    addr: answer.remote,
                    telephone_event: answer.telephone_event,
                    send: answer.direction.answer().we_send(),
                });
                self.offer = Some(answer);
            }
            Err(e) => tracing::warn!(call = %self.call_id, "SDP in ACK: {e}"),
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

/// Audio a loader task finished (file, URL or speech).
struct Loaded {
    generation: u64,
    audio: Result<Audio, MediaError>,
}

/// A stable SDP session number for a call.
pub(super) fn session_number(call_id: &str) -> u64 {
    call_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) >> 1
}

/// A call that could not be placed: a warning line in the session's log and its `Failed`.
fn report_dial_failure(
    events: &host::HostEventSender,
    session_id: &str,
    dial: &dialtone_bindings::host::Dial,
    failure: legs::DialFailure,
) {
    tracing::warn!(session = %session_id, "outbound call to {}: {}", dial.to, failure.reason);
    let _ = events.send(HostEvent::Warning {
        text: failure.reason.clone(),
    });
    let _ = events.send(HostEvent::Call {
        call_id: dial.call_id.clone(),
        event: CallEvent::Failed {
            code: failure.code,
            reason: failure.reason,
            headers: Default::default(),
        },
    });
}

/// A scenario's extra headers as SIP headers (names and values were checked in the bindings).
fn extra_headers(extra: &ExtraHeaders) -> Vec<Header> {
    extra
        .iter()
        .map(|(name, value)| Header::Other(name.clone(), value.clone()))
        .collect()
}

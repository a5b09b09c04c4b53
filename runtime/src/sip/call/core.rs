//! What every inbound call task does whatever its signalling: a SIP dialog (`call.rs`) or a
//! WebRTC peer connection over HTTP (`crate::webrtc::call`). [`CallCore`] owns the session's
//! channel ends, the call's [`CallModel`], its media stream and the session's media graph
//! and outbound legs; a leg's signalling plugs in as a [`Signalling`], which carries out the
//! model's [`Signal`]s (answer, reject, hang up) in its own protocol.
//!
//! A leg's task loops on [`CallCore::next`] beside its own signalling and hands what comes to
//! [`CallCore::handle`]; the model's outputs go through [`CallCore::feed`].

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dialtone_bindings::host::{
    self, CallCommand, CallEvent, EndReason, HostEvent, HostIo, Outbound,
};
use dialtone_bindings::rate::{Budget, RateBudget};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::legs::{self, OutboundLegs};
pub(crate) use super::refresh::until;
use super::{SessionRecord, session_out};
use crate::call_model::{
    CallInput, CallModel, CallOutput, MediaAction, Phase, PlaybackSource, Signal,
};
use crate::media::recorder::Recorder;
use crate::media::session::SessionMedia;
use crate::media::source::Audio;
use crate::media::stream::{MediaStream, StreamCommand, StreamEvent};
use crate::media::{MediaError, file_url};
use crate::metrics::{CallResult, CallSlot};
use crate::sip::CallContext;

/// Key presses (RFC 4733 and SIP INFO) a call passes to its session a second.
const TONES_PER_SECOND: u32 = 20;
/// How long the end of a call waits for the recording to be closed.
const RECORD_CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A leg's signalling, as the shared call task drives it.
pub(crate) trait Signalling {
    /// Carries out a step the model asked for (180, answer, reject, hang up).
    fn signal(&mut self, core: &mut CallCore, signal: Signal);
    /// Whether the far end says it sends media (not on hold): the media timeout applies.
    fn peer_sends(&self) -> bool {
        true
    }
    /// Why digits cannot be sent to the far end, if they cannot.
    fn digits_refused(&self) -> Option<&'static str> {
        None
    }
}

/// What the shared part of a call task waits on.
pub(crate) enum CoreInput {
    /// A message from the session; `None` when the session's channel closed.
    Outbound(Option<Outbound>),
    /// The media stream reported something.
    Stream(StreamEvent),
    /// A playback's audio is ready.
    Loaded(Loaded),
    /// An outbound leg's dialog moved.
    Leg(legs::LegInput),
    /// Outbound legs rang too long.
    RingingTimeout,
}

/// The parts of a call that do not depend on its signalling.
pub(crate) struct CallCore {
    /// The key of the session's access URL.
    pub(crate) access_key: String,
    pub(crate) context: Arc<CallContext>,
    pub(crate) application: String,
    /// Where the session's playback URLs may be fetched from.
    pub(crate) outbound: Arc<dialtone_bindings::outbound::OutboundPolicy>,
    pub(crate) call_id: String,
    pub(crate) session_id: String,
    pub(crate) host: HostIo,
    pub(crate) stream: Option<MediaStream>,
    pub(crate) stream_events: mpsc::UnboundedReceiver<StreamEvent>,
    /// The session's media graph and units.
    pub(crate) media: SessionMedia,
    loads_tx: mpsc::UnboundedSender<Loaded>,
    loads: mpsc::UnboundedReceiver<Loaded>,
    /// The call's state: the same model the console's simulated leg runs.
    pub(crate) model: CallModel,
    /// Audio loaded for a generation, waiting for the model's `Play`.
    loaded: Option<(u64, Audio)>,
    /// When the call arrived (latency metrics).
    pub(crate) received: Instant,
    pub(crate) session_ended: bool,
    alerting_seen: bool,
    recordings: u32,
    /// The media was released (the call ended).
    released: bool,
    /// The call's place under `server.max_calls`, freed when the call task ends.
    _slot: CallSlot,
    /// Key presses per second reaching the session.
    tones: RateBudget,
    /// The session's outbound legs (`VoxEngine.callSIP`, `callPSTN`, `callUser`).
    legs: OutboundLegs,
}

/// What a new call's core is made of.
pub(crate) struct CoreParts {
    pub(crate) context: Arc<CallContext>,
    pub(crate) call_id: String,
    pub(crate) session_id: String,
    pub(crate) access_key: String,
    pub(crate) host: HostIo,
    pub(crate) stream: MediaStream,
    pub(crate) stream_events: mpsc::UnboundedReceiver<StreamEvent>,
    pub(crate) media: SessionMedia,
    pub(crate) received: Instant,
    pub(crate) slot: CallSlot,
}

/// Why no rule takes a destination, with each rule's miss (the caller's refusal and our log).
pub(crate) fn no_route_why(e: &crate::router::NoRoute) -> String {
    let mut why = e.to_string();
    if let crate::router::NoRoute::NoMatch { misses, .. } = e {
        for miss in misses {
            why.push_str("; ");
            why.push_str(&miss.to_string());
        }
    }
    why
}

/// What a session of `plan` starts with: its scenarios, the application's secrets, limits and
/// policies.
pub(crate) fn session_spec(
    context: &CallContext,
    plan: &crate::catalog::CallPlan,
    session_id: &str,
    custom_data: String,
    access_url: Option<String>,
) -> host::SessionSpec {
    host::SessionSpec {
        session_id: session_id.to_owned(),
        application: plan.route.application.clone(),
        rule: plan.route.rule.clone(),
        scripts: plan.scripts.clone(),
        secrets: context.secrets.secrets(&plan.route.application),
        custom_data,
        access_url,
        limits: plan.limits,
        mcp: plan.mcp,
        outbound: plan.outbound.clone(),
        simulated_time: false,
        storage: Some(context.app_storage.clone()),
    }
}

/// Starts the scenario session of a new inbound call routed by `plan`: the session runs,
/// its history row and counters start, and it hears `CallAlerting`. The key of its access URL,
/// or why it could not start.
pub(crate) fn launch(
    context: &CallContext,
    plan: &crate::catalog::CallPlan,
    session_id: &str,
    session_io: host::SessionIo,
    host: &HostIo,
    incoming: host::IncomingCall,
) -> Result<String, String> {
    let access_key = crate::access::new_key();
    let access_url = crate::access::url(context.http_base.get(), session_id, &access_key);
    let spec = session_spec(context, plan, session_id, String::new(), access_url);
    context
        .pool
        .spawn(spec, session_io)
        .map_err(|e| format!("cannot start the session: {e}"))?;
    tracing::info!(
        call = %incoming.id,
        session = %session_id,
        "{} call from {} to {} -> application '{}', rule '{}'",
        incoming.scheme,
        incoming.from_uri,
        incoming.destination,
        plan.route.application,
        plan.route.rule
    );
    session_out::session_started(
        context,
        session_id,
        &plan.route,
        &incoming.id,
        &incoming.callerid,
        &incoming.destination,
    );
    context.metrics.call_started(&plan.route.application);
    let _ = host.events.send(HostEvent::CallAlerting(incoming));
    Ok(access_key)
}

impl CallCore {
    /// The core of a call routed by `plan`.
    pub(crate) fn new(plan: &crate::catalog::CallPlan, parts: CoreParts) -> Self {
        let (loads_tx, loads) = mpsc::unbounded_channel();
        let application = plan.route.application.clone();
        let legs = OutboundLegs::new(
            parts.context.clone(),
            application.clone(),
            plan.trunk.clone(),
        );
        Self {
            access_key: parts.access_key,
            context: parts.context,
            application,
            outbound: plan.outbound.clone(),
            call_id: parts.call_id,
            session_id: parts.session_id,
            host: parts.host,
            stream: Some(parts.stream),
            stream_events: parts.stream_events,
            media: parts.media,
            loads_tx,
            loads,
            model: CallModel::new(),
            loaded: None,
            received: parts.received,
            session_ended: false,
            alerting_seen: false,
            recordings: 0,
            released: false,
            _slot: parts.slot,
            tones: RateBudget::new(TONES_PER_SECOND),
            legs,
        }
    }

    /// Whether the task is done: the session ended and so did the call.
    pub(crate) fn over(&self) -> bool {
        self.session_ended && self.model.phase() == Phase::Ended
    }

    /// The next thing for the shared part of the task (cancel-safe).
    pub(crate) async fn next(&mut self) -> CoreInput {
        let ringing_deadline = self.legs.ringing_deadline();
        tokio::select! {
            message = self.host.outbound.recv() => CoreInput::Outbound(message),
            Some(event) = self.stream_events.recv() => CoreInput::Stream(event),
            Some(loaded) = self.loads.recv() => CoreInput::Loaded(loaded),
            Some(input) = self.legs.next() => CoreInput::Leg(input),
            () = until(ringing_deadline), if ringing_deadline.is_some() => CoreInput::RingingTimeout,
        }
    }

    /// Carries out what [`CallCore::next`] returned.
    pub(crate) async fn handle(&mut self, signalling: &mut impl Signalling, input: CoreInput) {
        match input {
            CoreInput::Outbound(Some(message)) => self.on_outbound(signalling, message).await,
            CoreInput::Outbound(None) => self.on_session_end(signalling, None).await,
            CoreInput::Stream(event) => {
                if let Some(input) = self.on_stream(event) {
                    self.feed(signalling, input).await;
                }
            }
            CoreInput::Loaded(loaded) => {
                let input = self.on_loaded(loaded);
                self.feed(signalling, input).await;
            }
            CoreInput::Leg(input) => self.on_leg_input(input),
            CoreInput::RingingTimeout => self.legs.cancel_unanswered(),
        }
    }

    /// The session is reachable: by a shutdown, by its access URL.
    pub(crate) fn go_live(&self) {
        self.context
            .live
            .add(&self.session_id, self.host.events.clone(), &self.access_key);
    }

    /// The task's last step: outbound legs hang up, the session count drops, the session is
    /// no longer reachable.
    pub(crate) fn finish(&mut self) {
        self.context.live.remove(&self.session_id);
        self.context.access.session_ended(&self.session_id);
        self.legs.hang_up_all(&mut self.media);
        let metrics = &self.context.metrics;
        metrics.sessions_active.fetch_sub(1, Ordering::Relaxed);
        metrics
            .session_events_dropped
            .fetch_add(self.host.events.dropped(), Ordering::Relaxed);
    }

    fn observe(&self, message: Outbound) {
        let _ = self.context.records.send(SessionRecord {
            session_id: self.session_id.clone(),
            call_id: self.call_id.clone(),
            message,
        });
    }

    /// Sends the session an event of this call.
    pub(crate) fn deliver(&self, event: CallEvent) {
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
    async fn dial(&mut self, dial: host::Dial) {
        if let Err(failure) = self.legs.dial(&mut self.media, &dial).await {
            report_dial_failure(&self.host.events, &self.session_id, &dial, failure);
        }
    }

    async fn on_outbound(&mut self, signalling: &mut impl Signalling, message: Outbound) {
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
                self.on_command(signalling, command.clone()).await;
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
                self.on_session_end(signalling, Some(reason)).await;
                return;
            }
            _ => {}
        }
        self.observe(message);
    }

    async fn on_session_end(
        &mut self,
        signalling: &mut impl Signalling,
        reason: Option<EndReason>,
    ) {
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
        if self.model.phase() == Phase::Alerting {
            self.context
                .metrics
                .call_result(&self.application, CallResult::Rejected);
        }
        self.feed(signalling, CallInput::SessionEnded { normal })
            .await;
    }

    async fn on_command(&mut self, signalling: &mut impl Signalling, command: CallCommand) {
        let from_alerting = self.model.phase() == Phase::Alerting;
        let rejects = matches!(
            command,
            CallCommand::Reject { .. } | CallCommand::Hangup { .. }
        );
        self.feed(signalling, CallInput::Command(command)).await;
        if from_alerting && rejects && self.model.phase() == Phase::Ended {
            self.context
                .metrics
                .call_result(&self.application, CallResult::Rejected);
        }
    }

    /// Gives the model one input and carries out what it asks, feeding back what that
    /// produces (a recording that starts, a load that fails at once ...).
    pub(crate) async fn feed(&mut self, signalling: &mut impl Signalling, input: CallInput) {
        let mut work: VecDeque<CallOutput> = self.model.handle(Instant::now(), input).into();
        while let Some(output) = work.pop_front() {
            let next = match output {
                CallOutput::Event(event) => {
                    if matches!(event, CallEvent::Connected { .. }) {
                        self.watch_media(signalling.peer_sends());
                    }
                    self.deliver(event);
                    None
                }
                CallOutput::Signal(signal) => {
                    signalling.signal(self, signal);
                    None
                }
                CallOutput::Media(action) => {
                    self.media_action(action, signalling.digits_refused()).await
                }
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

    /// Carries out a media step; some answer at once with an input for the model.
    async fn media_action(
        &mut self,
        action: MediaAction,
        digits_refused: Option<&'static str>,
    ) -> Option<CallInput> {
        match action {
            MediaAction::Load { generation, source } => {
                self.load(generation, source);
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
                match digits_refused {
                    Some(why) => {
                        tracing::warn!(call = %self.call_id, "sendDigits: {why}; digits not sent");
                    }
                    None => self.stream_send(StreamCommand::Digits(digits)),
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

    /// Loads (or synthesizes) a playback's audio off the call's task.
    fn load(&self, generation: u64, source: PlaybackSource) {
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
    }

    /// Sends the stream a command (nothing once the media is released).
    pub(crate) fn stream_send(&self, command: StreamCommand) {
        if let Some(stream) = &self.stream {
            stream.send(command);
        }
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
    /// caller says it sends (not on hold).
    pub(crate) fn watch_media(&self, peer_sends: bool) {
        let seconds = self.context.catalog.current().config.server.media_timeout_s;
        let watch = (seconds > 0 && peer_sends).then(|| Duration::from_secs(u64::from(seconds)));
        self.stream_send(StreamCommand::WatchMedia(watch));
    }

    /// Whether one more key press may reach the session: at most [`TONES_PER_SECOND`] (RFC 4733
    /// and SIP INFO together), so a flood cannot starve the session's timers and MCP clients.
    pub(crate) fn tone_allowed(&mut self) -> bool {
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

    fn on_loaded(&mut self, loaded: Loaded) -> CallInput {
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
        CallInput::Loaded { generation, result }
    }

    fn on_stream(&mut self, event: StreamEvent) -> Option<CallInput> {
        Some(match event {
            StreamEvent::PlaybackFinished { generation } => CallInput::PlaybackEnded { generation },
            StreamEvent::Tone(tone) => {
                if !self.tone_allowed() {
                    return None;
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
                tracing::info!(call = %self.call_id, "no media from the caller: hanging up (media timeout)");
                CallInput::Expired("media timeout".into())
            }
        })
    }
}

/// Audio a loader task finished (file, URL or speech).
pub(crate) struct Loaded {
    generation: u64,
    audio: Result<Audio, MediaError>,
}

/// A call that could not be placed: a warning line in the session's log and its `Failed`.
pub(super) fn report_dial_failure(
    events: &host::HostEventSender,
    session_id: &str,
    dial: &host::Dial,
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

//! The outbound legs of one session (`VoxEngine.callSIP`, `callPSTN`, `callUser`): where each
//! call goes (its [`Target`]s: a SIP address, a number on the application's trunk, every
//! address a user registered), the legs in progress, and their dialog states turned into the
//! scenario's call events. Owned by the session's call task, next to its media graph.
//!
//! A call to a user with several registered addresses is forked: one leg (branch) per
//! address, all in the call's one media unit. The scenario sees one call: its first `Ringing`
//! and `AudioStarted`, the `Connected` of the first branch to answer (the others are
//! cancelled, silently), and a `Failed` only when every branch failed (the most telling
//! failure: a 6xx, else the first that is not a 408/487, else the last).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dialtone_bindings::host::{CallCommand, CallEvent, Dial, DialKind, IncomingCall};
use dialtone_bindings::rate::{Budget, RateBudget};
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{DialogState, TerminatedReason};
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::outbound_leg::{LegState, OutboundLeg, Target};
use crate::config::TrunkConfig;
use crate::media::session::SessionMedia;
use crate::sip::CallContext;
use crate::sip::rooms::{CallerEvents, RoomCall, RoomInput};

/// How long an outbound call may ring before it is cancelled (VoxEngine's default).
const NO_ANSWER: Duration = Duration::from_secs(60);

/// Why a call could not be placed: the `Failed` the scenario gets at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DialFailure {
    pub(super) code: u16,
    pub(super) reason: String,
}

impl DialFailure {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// What the legs' tasks report: a SIP dialog's state, or an event of a call (a call into a
/// room, or a key the far end of a SIP leg pressed).
pub(crate) enum LegInput {
    Sip(Box<LegState>),
    Event(String, CallEvent),
}

/// Keys from the far end of outbound calls that reach the scenario, a second.
const TONES_PER_SECOND: u32 = 20;

/// What the scenario has heard of one call, over its branches.
struct CallState {
    /// `handleTones(true)`: the far end's keys reach the scenario.
    tones: bool,
    tone_budget: RateBudget,
    /// Branches not ended yet.
    live: usize,
    rang: bool,
    audio: bool,
    answered: bool,
    /// The failure to report when the last branch ends unanswered.
    failure: Option<CallEvent>,
}

/// The outbound legs of a session.
pub(super) struct OutboundLegs {
    context: Arc<CallContext>,
    application: String,
    trunk: Option<TrunkConfig>,
    /// The legs, by leg id (a call's id, or `<call id>/<n>` for a branch).
    legs: HashMap<String, OutboundLeg>,
    /// The scenario's calls, by call id, and the call each leg belongs to.
    calls: HashMap<String, CallState>,
    call_of: HashMap<String, String>,
    /// Calls into conference rooms (`callConference`), and whether each was answered.
    room_calls: HashMap<String, (RoomCall, bool)>,
    /// Events of calls from elsewhere than a dialog: the room's side of room calls, and the
    /// keys the far ends of SIP legs press.
    events_tx: CallerEvents,
    events: mpsc::UnboundedReceiver<(String, CallEvent)>,
    states_tx: mpsc::UnboundedSender<LegState>,
    states: mpsc::UnboundedReceiver<LegState>,
}

impl OutboundLegs {
    pub(super) fn new(
        context: Arc<CallContext>,
        application: String,
        trunk: Option<TrunkConfig>,
    ) -> Self {
        let (states_tx, states) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        Self {
            room_calls: HashMap::new(),
            events_tx,
            events,
            context,
            application,
            trunk,
            legs: HashMap::new(),
            calls: HashMap::new(),
            call_of: HashMap::new(),
            states_tx,
            states,
        }
    }

    /// Places a call; its events follow from [`OutboundLegs::on_input`].
    pub(super) async fn dial(
        &mut self,
        media: &mut SessionMedia,
        dial: &Dial,
    ) -> Result<(), DialFailure> {
        if dial.kind == DialKind::Conference {
            return self.dial_room(media, dial);
        }
        let targets = self.targets(dial)?;
        let mut why = String::new();
        let mut state = CallState {
            tones: false,
            tone_budget: RateBudget::new(TONES_PER_SECOND),
            live: 0,
            rang: false,
            audio: false,
            answered: false,
            failure: None,
        };
        for target in targets {
            let tones = self.events_tx.clone();
            match OutboundLeg::dial(&self.context, media, &target, self.states_tx.clone(), tones)
                .await
            {
                Ok(leg) => {
                    self.call_of
                        .insert(target.call_id.clone(), dial.call_id.clone());
                    self.legs.insert(target.call_id, leg);
                    state.live += 1;
                }
                Err(e) => why = e,
            }
        }
        if state.live == 0 {
            media.remove_call(&dial.call_id);
            return Err(DialFailure::new(500, why));
        }
        self.calls.insert(dial.call_id.clone(), state);
        Ok(())
    }

    /// `callConference`: a call into the room session of `dial.to` (started when needed).
    fn dial_room(&mut self, media: &mut SessionMedia, dial: &Dial) -> Result<(), DialFailure> {
        let ports = media.join_call(&dial.call_id);
        let callerid = dial.callerid.clone().unwrap_or_default();
        let incoming = IncomingCall {
            id: String::new(),
            callerid: callerid.clone(),
            display_name: dial.display_name.clone().unwrap_or_default(),
            destination: dial.to.clone(),
            to_uri: format!("sip:{}@conference", dial.to),
            from_uri: format!("sip:{callerid}@{}", self.application),
            headers: dial.headers.clone(),
            scheme: "conference".into(),
        };
        let context = self.context.clone();
        let (application, conference) = (self.application.clone(), dial.to.clone());
        let joined = self.context.rooms.join(
            &self.application,
            &dial.to,
            incoming,
            &dial.call_id,
            ports,
            self.events_tx.clone(),
            |inputs| super::api_session::start_room(&context, &application, &conference, inputs),
        );
        match joined {
            Ok(call) => {
                self.room_calls.insert(dial.call_id.clone(), (call, false));
                Ok(())
            }
            Err(why) => {
                media.remove_call(&dial.call_id);
                Err(DialFailure::new(
                    404,
                    format!("VoxEngine.callConference: {why}"),
                ))
            }
        }
    }

    /// An event of a call into a room, for the scenario; an ended call leaves the graph.
    fn on_room_event(
        &mut self,
        media: &mut SessionMedia,
        (call_id, event): (String, CallEvent),
    ) -> Vec<(String, CallEvent)> {
        let Some((_, answered)) = self.room_calls.get_mut(&call_id) else {
            return Vec::new();
        };
        if matches!(event, CallEvent::Connected { .. }) {
            *answered = true;
        }
        if event.is_final() {
            self.room_calls.remove(&call_id);
            media.remove_call(&call_id);
        }
        vec![(call_id, event)]
    }

    /// Where a call goes and how, from what the scenario asked and the application's config:
    /// one target, or for a user one per registered address.
    fn targets(&self, dial: &Dial) -> Result<Vec<Target>, DialFailure> {
        let no_answer = dial
            .no_answer_s
            .map_or(NO_ANSWER, |s| Duration::from_secs(u64::from(s)));
        let mut target = Target {
            call_id: dial.call_id.clone(),
            unit: dial.call_id.clone(),
            uri: dial.to.clone(),
            callerid: dial.callerid.clone(),
            display_name: dial.display_name.clone(),
            headers: dial.headers.clone(),
            credential: dial.auth.as_ref().map(|auth| Credential {
                username: auth.user.clone(),
                password: auth.password.clone(),
                realm: None,
                auth_username: None,
            }),
            destination: None,
            route: Vec::new(),
            no_answer,
        };
        match dial.kind {
            DialKind::Pstn => {
                let trunk = self.trunk.as_ref().ok_or_else(|| {
                    DialFailure::new(
                        503,
                        format!(
                            "VoxEngine.callPSTN needs a SIP trunk: application '{}' has no [application.trunk] in the config",
                            self.application
                        ),
                    )
                })?;
                target.uri = trunk.uri_for(&dial.to);
                target.destination =
                    Some(sip_addr(&trunk.address).map_err(|why| {
                        DialFailure::new(503, format!("the trunk address: {why}"))
                    })?);
                if target.callerid.as_deref().is_none_or(str::is_empty) {
                    target.callerid = trunk.callerid.clone().or(trunk.username.clone());
                }
                target.credential = match (&trunk.username, &trunk.password_secret) {
                    (Some(username), Some(secret)) => {
                        let password = self
                            .context
                            .secrets
                            .secrets(&self.application)
                            .remove(secret)
                            .ok_or_else(|| {
                                DialFailure::new(
                                    503,
                                    format!(
                                        "the trunk's password secret '{secret}' is not set for application '{}' (dialtone secrets set {} {secret})",
                                        self.application, self.application
                                    ),
                                )
                            })?;
                        Some(Credential {
                            username: username.clone(),
                            password,
                            realm: None,
                            auth_username: None,
                        })
                    }
                    _ => None,
                };
            }
            DialKind::User => {
                let devices = self.context.registrar.devices(&self.application, &dial.to);
                if devices.is_empty() {
                    let known = self
                        .context
                        .users
                        .credentials(&self.application, &dial.to)
                        .is_some();
                    return Err(if known {
                        DialFailure::new(
                            480,
                            format!(
                                "VoxEngine.callUser: user '{}' of application '{}' has no registered device",
                                dial.to, self.application
                            ),
                        )
                    } else {
                        DialFailure::new(
                            404,
                            format!(
                                "VoxEngine.callUser: application '{}' has no user named '{}' (dialtone users add {} {})",
                                self.application, dial.to, self.application, dial.to
                            ),
                        )
                    });
                }
                let forked = devices.len() > 1;
                return Ok(devices
                    .into_iter()
                    .enumerate()
                    .map(|(n, device)| {
                        let mut branch = target.clone();
                        if forked {
                            branch.call_id = format!("{}/{}", dial.call_id, n + 1);
                        }
                        branch.uri = device.contact;
                        branch.credential = None;
                        // Registered through a proxy (RFC 3327): back along its Path, which
                        // the registrar checked when it stored it.
                        branch.route =
                            rsipstack::sip::typed::Route::parse_header_list(&device.path)
                                .unwrap_or_default();
                        branch
                    })
                    .collect());
            }
            _ => {
                if let Some(proxy) = &dial.out_proxy {
                    target.destination = Some(sip_addr(proxy).map_err(|why| {
                        DialFailure::new(500, format!("VoxEngine.callSIP outProxy: {why}"))
                    })?);
                }
            }
        }
        Ok(vec![target])
    }

    /// The next state of a SIP leg's dialog, or event of a call into a room.
    pub(super) async fn next(&mut self) -> Option<LegInput> {
        tokio::select! {
            Some(state) = self.states.recv() => Some(LegInput::Sip(Box::new(state))),
            Some((id, event)) = self.events.recv() => Some(LegInput::Event(id, event)),
            else => None,
        }
    }

    /// What `input` means for the scenario: its calls' events.
    pub(super) fn on_input(
        &mut self,
        media: &mut SessionMedia,
        input: LegInput,
    ) -> Vec<(String, CallEvent)> {
        match input {
            LegInput::Sip(state) => self.on_state(media, *state),
            LegInput::Event(id, event) if self.room_calls.contains_key(&id) => {
                self.on_room_event(media, (id, event))
            }
            LegInput::Event(id, event) => {
                let heard = self.calls.get_mut(&id).is_some_and(|call| {
                    call.tones && matches!(call.tone_budget.take(Instant::now()), Budget::Spend)
                });
                if heard { vec![(id, event)] } else { Vec::new() }
            }
        }
    }

    /// What a leg's dialog state means for the scenario, as events of its call; an ended
    /// call leaves the graph.
    fn on_state(
        &mut self,
        media: &mut SessionMedia,
        (leg_id, state, final_response): LegState,
    ) -> Vec<(String, CallEvent)> {
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            return Vec::new();
        };
        let Some(call_id) = self.call_of.get(&leg_id).cloned() else {
            return Vec::new();
        };
        let bye_headers = match &state {
            DialogState::Terminated(id, TerminatedReason::UasBye) => {
                self.context.bye_headers.take(&id.call_id)
            }
            _ => Default::default(),
        };
        let events = leg.on_state(state, final_response, bye_headers);
        let ended = leg.over;
        if ended {
            self.legs.remove(&leg_id);
            self.call_of.remove(&leg_id);
        }
        let Some(call) = self.calls.get_mut(&call_id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut answered_now = false;
        for event in events {
            match &event {
                CallEvent::Ringing { .. } if call.answered || call.rang => continue,
                CallEvent::Ringing { .. } => call.rang = true,
                CallEvent::AudioStarted { .. } if call.audio => continue,
                CallEvent::AudioStarted { .. } => call.audio = true,
                CallEvent::Connected { .. } if call.answered => continue,
                CallEvent::Connected { .. } => {
                    call.answered = true;
                    answered_now = true;
                }
                CallEvent::Failed { .. } if call.answered => continue,
                CallEvent::Failed { code, .. } => {
                    let keep = match &call.failure {
                        None => true,
                        Some(CallEvent::Failed { code: kept, .. }) => {
                            *kept < 600 && (*code >= 600 || matches!(kept, 408 | 487))
                        }
                        Some(_) => true,
                    };
                    if keep {
                        call.failure = Some(event);
                    }
                    continue;
                }
                _ => {}
            }
            out.push((call_id.clone(), event));
        }
        if ended {
            call.live = call.live.saturating_sub(1);
        }
        if answered_now {
            // The first branch to answer has the call: the others are cancelled and leave.
            let losers: Vec<String> = self
                .call_of
                .iter()
                .filter(|(leg, call)| **call == call_id && **leg != leg_id)
                .map(|(leg, _)| leg.clone())
                .collect();
            for loser in losers {
                if let Some(mut leg) = self.legs.remove(&loser) {
                    leg.hang_up();
                }
                self.call_of.remove(&loser);
                call.live = call.live.saturating_sub(1);
            }
        }
        if call.live == 0 {
            if let Some(failure) = call.failure.take()
                && !call.answered
            {
                out.push((call_id.clone(), failure));
            }
            self.calls.remove(&call_id);
            media.remove_call(&call_id);
        }
        out
    }

    /// Whether `call_id` is one of these calls.
    pub(super) fn has(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id) || self.room_calls.contains_key(call_id)
    }

    /// A scenario's command for a call: hangup/reject (on every branch) and sendDigits act on
    /// an outbound call; playback and recording reach it as linked units (`call.js`).
    pub(super) fn command(&mut self, call_id: &str, command: &CallCommand) -> Option<String> {
        if let Some((call, answered)) = self.room_calls.get(call_id) {
            return match command {
                CallCommand::Hangup { .. } | CallCommand::Reject { .. } => {
                    let _ = call.room.send(RoomInput::Hangup {
                        call_id: call.room_call_id.clone(),
                    });
                    let ending = if *answered {
                        CallEvent::Disconnected {
                            reason: "hung up by the scenario".into(),
                            duration: 0,
                            headers: Default::default(),
                        }
                    } else {
                        CallEvent::Failed {
                            code: 487,
                            reason: "Request Terminated".into(),
                            headers: Default::default(),
                        }
                    };
                    let _ = self.events_tx.send((call_id.to_owned(), ending));
                    None
                }
                other => Some(format!(
                    "{} on a conference call is not available (playback, say, record and media links are)",
                    other.name()
                )),
            };
        }
        match command {
            CallCommand::Hangup { .. } | CallCommand::Reject { .. } => {
                for (leg, call) in &self.call_of {
                    if call == call_id
                        && let Some(leg) = self.legs.get_mut(leg)
                    {
                        leg.hang_up();
                    }
                }
                None
            }
            CallCommand::HandleTones { enabled } => {
                if let Some(call) = self.calls.get_mut(call_id) {
                    call.tones = *enabled;
                }
                None
            }
            CallCommand::SendDigits { digits } => {
                let answered = self
                    .call_of
                    .iter()
                    .filter(|(_, call)| *call == call_id)
                    .find_map(|(leg, _)| self.legs.get(leg).filter(|l| l.is_connected()));
                match answered {
                    Some(leg) => leg.send_digits(digits),
                    None => Some(format!(
                        "sendDigits on outbound call {call_id}: it is not answered (yet)"
                    )),
                }
            }
            other => Some(format!(
                "{} on an outbound call is not available (hangup, handleTones, sendDigits, playback, say, record and media links are)",
                other.name()
            )),
        }
    }

    /// When the first unanswered leg has rung long enough.
    pub(super) fn ringing_deadline(&self) -> Option<Instant> {
        self.legs
            .values()
            .filter_map(OutboundLeg::ringing_until)
            .min()
    }

    /// Cancels the legs unanswered for too long (they end in `Failed 408`).
    pub(super) fn cancel_unanswered(&mut self) {
        let now = Instant::now();
        for leg in self.legs.values_mut() {
            if leg.ringing_until().is_some_and(|until| until <= now) {
                leg.give_up_ringing();
            }
        }
    }

    /// The session ended: every leg is hung up and leaves the graph.
    pub(super) fn hang_up_all(&mut self, media: &mut SessionMedia) {
        for (id, (call, _)) in self.room_calls.drain() {
            let _ = call.room.send(RoomInput::Hangup {
                call_id: call.room_call_id.clone(),
            });
            media.remove_call(&id);
        }
        for (_, mut leg) in self.legs.drain() {
            leg.hang_up();
        }
        self.call_of.clear();
        for (id, _) in self.calls.drain() {
            media.remove_call(&id);
        }
    }
}

/// `host[:port]` as the address a request is sent to (UDP).
fn sip_addr(address: &str) -> Result<SipAddr, String> {
    let uri = rsipstack::sip::Uri::try_from(format!("sip:{address}").as_str())
        .map_err(|_| format!("'{address}' is not a host[:port]"))?;
    SipAddr::try_from(&uri).map_err(|_| format!("'{address}' is not a host[:port]"))
}

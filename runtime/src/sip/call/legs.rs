//! The outbound legs of one session (`VoxEngine.callSIP`, `callPSTN`, `callUser`): where each
//! call goes (its [`Target`]: a SIP address, a number on the application's trunk, the
//! registered addresses of a user), the legs in progress, and their dialog states turned into
//! the scenario's call events. Owned by the session's call task, next to its media graph.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dialtone_bindings::host::{CallCommand, CallEvent, Dial, DialKind};
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{DialogState, TerminatedReason};
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::outbound_leg::{LegState, OutboundLeg, Target};
use crate::config::TrunkConfig;
use crate::media::session::SessionMedia;
use crate::sip::CallContext;

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

/// The outbound legs of a session.
pub(super) struct OutboundLegs {
    context: Arc<CallContext>,
    application: String,
    trunk: Option<TrunkConfig>,
    legs: HashMap<String, OutboundLeg>,
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
        Self {
            context,
            application,
            trunk,
            legs: HashMap::new(),
            states_tx,
            states,
        }
    }

    /// Places a call; its events follow from [`OutboundLegs::on_state`].
    pub(super) async fn dial(
        &mut self,
        media: &mut SessionMedia,
        dial: &Dial,
    ) -> Result<(), DialFailure> {
        let target = self.target(dial)?;
        let leg = OutboundLeg::dial(&self.context, media, &target, self.states_tx.clone())
            .await
            .map_err(|why| DialFailure::new(500, why))?;
        self.legs.insert(dial.call_id.clone(), leg);
        Ok(())
    }

    /// Where a call goes and how, from what the scenario asked and the application's config.
    fn target(&self, dial: &Dial) -> Result<Target, DialFailure> {
        let no_answer = dial
            .no_answer_s
            .map_or(NO_ANSWER, |s| Duration::from_secs(u64::from(s)));
        let mut target = Target {
            call_id: dial.call_id.clone(),
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
                return Err(DialFailure::new(
                    480,
                    format!(
                        "VoxEngine.callUser: user '{}' of application '{}' has no registered device",
                        dial.to, self.application
                    ),
                ));
            }
            _ => {
                if let Some(proxy) = &dial.out_proxy {
                    target.destination = Some(sip_addr(proxy).map_err(|why| {
                        DialFailure::new(500, format!("VoxEngine.callSIP outProxy: {why}"))
                    })?);
                }
            }
        }
        Ok(target)
    }

    /// The next state of a leg's dialog, tagged with the leg's id.
    pub(super) async fn next_state(&mut self) -> Option<LegState> {
        self.states.recv().await
    }

    /// What a leg's dialog state means for the scenario; an ended leg leaves the graph.
    pub(super) fn on_state(
        &mut self,
        media: &mut SessionMedia,
        (leg_id, state, final_response): LegState,
    ) -> Vec<(String, CallEvent)> {
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            return Vec::new();
        };
        let bye_headers = match &state {
            DialogState::Terminated(id, TerminatedReason::UasBye) => {
                self.context.bye_headers.take(&id.call_id)
            }
            _ => Default::default(),
        };
        let events = leg.on_state(state, final_response, bye_headers);
        if leg.over {
            self.legs.remove(&leg_id);
            media.remove_call(&leg_id);
        }
        events.into_iter().map(|e| (leg_id.clone(), e)).collect()
    }

    /// Whether `call_id` is one of these legs.
    pub(super) fn has(&self, call_id: &str) -> bool {
        self.legs.contains_key(call_id)
    }

    /// A scenario's command for a leg: only hangup/reject act on an outbound call yet.
    pub(super) fn command(&mut self, call_id: &str, command: &CallCommand) -> Option<String> {
        let leg = self.legs.get_mut(call_id)?;
        match command {
            CallCommand::Hangup { .. } | CallCommand::Reject { .. } => {
                leg.hang_up();
                None
            }
            other => Some(format!(
                "{} on an outbound call is not available yet (only hangup and media links)",
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
        for (id, mut leg) in self.legs.drain() {
            leg.hang_up();
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

//! An outbound SIP leg a scenario placed with `VoxEngine.callSIP`: an RTP stream in the
//! session's media graph, our SDP offer in an INVITE (rsipstack's client dialog, which ACKs,
//! retransmits and CANCELs for us), and the dialog's states turned into the call's events:
//! `Ringing` (18x), `Connected` (200, media to the answer's address), `Failed {code, reason}`
//! before an answer, `Disconnected` after. It lives in its session's call task, which owns the
//! media graph, so the scenario can link it with the inbound call.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::time::Instant;

use dialtone_bindings::host::{CallEvent, Dial};
use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{DialogState, TerminatedReason};
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::Header;
use tokio::sync::mpsc;

use super::super::sdp::{self, Direction, Offer};
use super::super::{CallContext, Dialer};
use super::session_number;
use crate::media::session::SessionMedia;
use crate::media::stream::{MediaStream, StreamCommand};

/// The longest an outbound call may ring before it is cancelled (VoxEngine's default).
pub(super) const NO_ANSWER: std::time::Duration = std::time::Duration::from_secs(60);

/// One outbound leg.
pub(super) struct OutboundLeg {
    pub(super) call_id: String,
    dialog: InviteDialog,
    /// Kept for the leg's life: dropping it stops the RTP stream.
    stream: MediaStream,
    /// Set on the answer.
    connected: Option<Instant>,
    /// Media from the far end started (early media or the answer).
    audio: bool,
    started: Instant,
    /// The remote answered or ended: nothing more to do but clean up.
    pub(super) over: bool,
    /// CANCEL or BYE sent: not again.
    hung_up: bool,
}

/// A state of a leg's dialog, for the session's call task.
pub(super) type LegState = (String, DialogState);

impl OutboundLeg {
    /// Places the call; its dialog states arrive on `states` tagged with its call id.
    pub(super) async fn dial(
        context: &Arc<CallContext>,
        media: &mut SessionMedia,
        dial: &Dial,
        states: mpsc::UnboundedSender<LegState>,
    ) -> Result<Self, String> {
        let Some(Dialer { dialogs, local }) = context.dialer.get().cloned() else {
            return Err("the SIP server is not running".into());
        };
        let sockets = context
            .rtp_ports
            .bind(context.media_ip)
            .await
            .map_err(|e| format!("no RTP port: {e}"))?;
        let (stream_events, _ignored) = mpsc::unbounded_channel();
        let ports = media.add_call(&dial.call_id);
        let stream =
            match MediaStream::start(sockets, stream_events, context.metrics.rtp.clone(), ports) {
                Ok(stream) => stream,
                Err(e) => {
                    media.remove_call(&dial.call_id);
                    return Err(format!("cannot start RTP: {e}"));
                }
            };
        let rtp = SocketAddr::new(context.media_ip, stream.local_addr().port());
        let offer = sdp::answer(
            rtp,
            session_number(&dial.call_id),
            1,
            None,
            Direction::SendRecv,
        );
        let user = dial.callerid.clone().unwrap_or_else(|| "dialtone".into());
        let ours = format!("sip:{user}@{local}");
        let uri = |text: &str| {
            rsipstack::sip::Uri::try_from(text).map_err(|_| format!("'{text}' is not a SIP URI"))
        };
        let option = InviteOption {
            caller_display_name: dial.display_name.clone(),
            caller: uri(&ours)?,
            callee: uri(&dial.to)?,
            contact: uri(&ours)?,
            content_type: Some("application/sdp".into()),
            offer: Some(offer.into_bytes()),
            headers: Some(
                dial.headers
                    .iter()
                    .map(|(name, value)| Header::Other(name.clone(), value.clone()))
                    .collect(),
            ),
            ..Default::default()
        };
        let (state_tx, mut state_rx) = dialogs.new_dialog_state_channel();
        let (dialog, _final) = dialogs
            .do_invite_async(option, state_tx)
            .map_err(|e| format!("cannot send the INVITE: {e}"))?;
        let call_id = dial.call_id.clone();
        let forward = call_id.clone();
        let layer = dialogs.clone();
        tokio::spawn(async move {
            while let Some(state) = state_rx.recv().await {
                let over = matches!(state, DialogState::Terminated(..));
                let id: Option<DialogId> = match &state {
                    DialogState::Terminated(id, _) => Some(id.clone()),
                    _ => None,
                };
                if states.send((forward.clone(), state)).is_err() || over {
                    if let Some(id) = id {
                        layer.remove_dialog(&id);
                    }
                    break;
                }
            }
        });
        Ok(Self {
            call_id,
            dialog,
            stream,
            connected: None,
            audio: false,
            hung_up: false,
            started: Instant::now(),
            over: false,
        })
    }

    /// What a state of the dialog means for the scenario, in order.
    pub(super) fn on_state(&mut self, state: DialogState) -> Vec<CallEvent> {
        let mut events = Vec::new();
        match state {
            DialogState::Early(_, response) => {
                let code = u16::from(response.status_code.clone());
                if matches!(code, 180..=189) {
                    events.push(CallEvent::Ringing);
                }
                if let Some(answer) = media_answer(&response.body) {
                    self.send_media_to(&answer);
                    if !std::mem::replace(&mut self.audio, true) {
                        events.push(CallEvent::AudioStarted);
                    }
                }
            }
            DialogState::Confirmed(_, response) => {
                if self.connected.is_some() {
                    return events;
                }
                if let Some(answer) = media_answer(&response.body) {
                    self.send_media_to(&answer);
                }
                if !std::mem::replace(&mut self.audio, true) {
                    events.push(CallEvent::AudioStarted);
                }
                self.connected = Some(Instant::now());
                events.push(CallEvent::Connected {
                    headers: super::super::invite::x_headers(&response.headers),
                });
            }
            DialogState::Terminated(_, reason) => {
                if self.over {
                    return events;
                }
                self.over = true;
                events.push(match self.connected {
                    Some(at) => CallEvent::Disconnected {
                        reason: ended(&reason).to_owned(),
                        duration: at.elapsed().as_secs(),
                        headers: Default::default(),
                    },
                    None => {
                        let (code, reason) = failed(&reason);
                        CallEvent::Failed { code, reason }
                    }
                });
            }
            _ => {}
        }
        events
    }

    fn send_media_to(&self, answer: &Offer) {
        self.stream.send(StreamCommand::Remote {
            addr: answer.remote,
            telephone_event: answer.telephone_event,
            send: answer.direction.we_send(),
        });
    }

    /// When this leg, unanswered, is to be cancelled; none once answered, ended or hung up.
    pub(super) fn ringing_until(&self) -> Option<Instant> {
        (self.connected.is_none() && !self.over && !self.hung_up).then(|| self.started + NO_ANSWER)
    }

    /// `hangup()`: CANCEL before the answer, BYE after; once.
    pub(super) fn hang_up(&mut self) {
        if self.over || std::mem::replace(&mut self.hung_up, true) {
            return;
        }
        let dialog = self.dialog.clone();
        let call_id = self.call_id.clone();
        tokio::spawn(async move {
            if let Err(e) = dialog.hangup().await {
                tracing::info!(call = %call_id, "hangup of an outbound call: {e}");
            }
        });
    }
}

/// The SDP answer in a response body, when there is one we can use.
fn media_answer(body: &[u8]) -> Option<Offer> {
    (!body.is_empty())
        .then(|| Offer::parse(body).ok())
        .flatten()
}

/// Why an answered outbound call ended, in words.
fn ended(reason: &TerminatedReason) -> &'static str {
    match reason {
        TerminatedReason::UasBye => "the callee hung up",
        TerminatedReason::UacBye => "hung up by the scenario",
        TerminatedReason::Timeout => "no ACK or no answer in time",
        _ => "the dialog ended",
    }
}

/// The SIP status and reason of an outbound call that was never answered.
fn failed(reason: &TerminatedReason) -> (u16, String) {
    match reason {
        TerminatedReason::UacCancel => (487, "Request Terminated".into()),
        TerminatedReason::UasBusy | TerminatedReason::UacBusy => (486, "Busy Here".into()),
        TerminatedReason::UasDecline => (603, "Decline".into()),
        TerminatedReason::ProxyAuthRequired => (407, "Proxy Authentication Required".into()),
        TerminatedReason::Timeout => (408, "Request Timeout".into()),
        TerminatedReason::UasOther(code)
        | TerminatedReason::UacOther(code)
        | TerminatedReason::ProxyError(code) => (u16::from(code.clone()), code.text().to_owned()),
        TerminatedReason::UasBye | TerminatedReason::UacBye => (487, "Request Terminated".into()),
    }
}

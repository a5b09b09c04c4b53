//! An outbound SIP leg a scenario placed with `VoxEngine.callSIP`: an RTP stream in the
//! session's media graph, our SDP offer in an INVITE (rsipstack's client dialog, which ACKs,
//! retransmits and CANCELs for us), and the dialog's states turned into the call's events:
//! `Ringing` (18x), `Connected` (200, media to the answer's address), `Failed {code, reason}`
//! before an answer, `Disconnected` after. It lives in its session's call task, which owns the
//! media graph, so the scenario can link it with the inbound call.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::time::Instant;

use dialtone_bindings::host::CallEvent;
use rsipstack::dialog::DialogId;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{DialogState, TerminatedReason};
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Response};
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;

use super::super::sdp::{self, Direction, Offer};
use super::super::{CallContext, Dialer};
use super::session_number;
use crate::media::session::SessionMedia;
use crate::media::stream::{MediaStream, StreamCommand, StreamEvent};
use crate::sip::invite::x_headers;

/// How long the final response of a failed INVITE is waited for once its dialog ended.
const FINAL_RESPONSE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Where and how one outbound call is placed, resolved from the scenario's `Dial` (a SIP
/// address, a number on the application's trunk, a registered binding of a user).
#[derive(Clone)]
pub(super) struct Target {
    /// This leg's id: the call's id, or for a branch of a forked call `<call id>/<n>`.
    pub(super) call_id: String,
    /// The call's unit in the media graph (the call's id; shared by its branches).
    pub(super) unit: String,
    /// The Request-URI and To.
    pub(super) uri: String,
    /// The user part of our From.
    pub(super) callerid: Option<String>,
    /// The display name of our From.
    pub(super) display_name: Option<String>,
    /// X- headers of the INVITE.
    pub(super) headers: std::collections::BTreeMap<String, String>,
    /// Digest credentials for a 401/407.
    pub(super) credential: Option<Credential>,
    /// Where the INVITE goes instead of the URI's host (an outbound proxy, a trunk).
    pub(super) destination: Option<SipAddr>,
    /// Route headers preloaded on the INVITE (a registered device's Path); without a
    /// `destination` it goes to the first.
    pub(super) route: Vec<rsipstack::sip::typed::Route>,
    /// How long it may ring before it is cancelled.
    pub(super) no_answer: std::time::Duration,
}

/// One outbound leg.
pub(super) struct OutboundLeg {
    pub(super) call_id: String,
    dialog: InviteDialog,
    /// Kept for the leg's life: dropping it stops the RTP stream.
    stream: MediaStream,
    /// Set on the answer.
    connected: Option<Instant>,
    /// Cancelled because nobody answered in time: `Failed 408`.
    timed_out: bool,
    /// The far end's answer takes RFC 4733 digits.
    telephone_event: bool,
    no_answer: std::time::Duration,
    /// Media from the far end started (early media or the answer).
    audio: bool,
    started: Instant,
    /// The remote answered or ended: nothing more to do but clean up.
    pub(super) over: bool,
    /// CANCEL or BYE sent: not again.
    hung_up: bool,
}

/// A state of a leg's dialog, for the session's call task: the leg's id, the state, and with
/// a `Terminated` before an answer, the final response that ended it (when one came).
pub(super) type LegState = (String, DialogState, Option<Response>);

impl OutboundLeg {
    /// Places the call; its dialog states arrive on `states` tagged with its call id.
    pub(super) async fn dial(
        context: &Arc<CallContext>,
        media: &mut SessionMedia,
        dial: &Target,
        states: mpsc::UnboundedSender<LegState>,
        tones: crate::sip::rooms::CallerEvents,
    ) -> Result<Self, String> {
        let Some(Dialer { dialogs, local }) = context.dialer.get().cloned() else {
            return Err("the SIP server is not running".into());
        };
        let sockets = context
            .rtp_ports
            .bind(context.media_ip)
            .await
            .map_err(|e| format!("no RTP port: {e}"))?;
        // The far end's RFC 4733 keys, tagged with the call (handleTones decides on them).
        let (stream_events, mut stream_rx) = mpsc::unbounded_channel();
        let unit = dial.unit.clone();
        tokio::spawn(async move {
            while let Some(event) = stream_rx.recv().await {
                if let StreamEvent::Tone(tone) = event {
                    let key = CallEvent::ToneReceived {
                        tone: tone.to_string(),
                        tone_type: "1".into(),
                    };
                    if tones.send((unit.clone(), key)).is_err() {
                        break;
                    }
                }
            }
        });
        let ports = media.join_call(&dial.unit);
        let stream = MediaStream::start(sockets, stream_events, context.metrics.rtp.clone(), ports)
            .map_err(|e| format!("cannot start RTP: {e}"))?;
        let rtp = SocketAddr::new(context.advertised_ip(), stream.local_addr().port());
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
            callee: uri(&dial.uri)?,
            contact: uri(&ours)?,
            credential: dial.credential.clone(),
            destination: dial.destination.clone(),
            route_set: dial.route.clone(),
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
        let (dialog, final_response) = dialogs
            .do_invite_async(option, state_tx)
            .map_err(|e| format!("cannot send the INVITE: {e}"))?;
        let call_id = dial.call_id.clone();
        let forward = call_id.clone();
        let layer = dialogs.clone();
        tokio::spawn(async move {
            let mut final_response = Some(final_response);
            while let Some(state) = state_rx.recv().await {
                let over = matches!(state, DialogState::Terminated(..));
                let id: Option<DialogId> = match &state {
                    DialogState::Terminated(id, _) => Some(id.clone()),
                    _ => None,
                };
                // The INVITE's final response (its status, reason and headers) comes with
                // the end of a dialog that was never answered.
                let mut response = None;
                if over
                    && let Some(handle) = final_response.take()
                    && let Ok(Ok(Ok((_, Some(final_response))))) =
                        tokio::time::timeout(FINAL_RESPONSE_WAIT, handle).await
                {
                    response = Some(final_response);
                }
                if states.send((forward.clone(), state, response)).is_err() || over {
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
            timed_out: false,
            telephone_event: false,
            no_answer: dial.no_answer,
            audio: false,
            hung_up: false,
            started: Instant::now(),
            over: false,
        })
    }

    /// What a state of the dialog means for the scenario, in order.
    pub(super) fn on_state(
        &mut self,
        state: DialogState,
        final_response: Option<Response>,
        bye_headers: BTreeMap<String, String>,
    ) -> Vec<CallEvent> {
        let mut events = Vec::new();
        match state {
            DialogState::Early(_, response) => {
                let code = u16::from(response.status_code.clone());
                let headers = x_headers(&response.headers);
                if matches!(code, 180..=189) {
                    events.push(CallEvent::Ringing {
                        headers: headers.clone(),
                    });
                }
                if let Some(answer) = media_answer(&response.body) {
                    self.send_media_to(&answer);
                    if !std::mem::replace(&mut self.audio, true) {
                        events.push(CallEvent::AudioStarted { headers });
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
                let headers = x_headers(&response.headers);
                if !std::mem::replace(&mut self.audio, true) {
                    events.push(CallEvent::AudioStarted {
                        headers: headers.clone(),
                    });
                }
                self.connected = Some(Instant::now());
                events.push(CallEvent::Connected { headers });
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
                        headers: bye_headers,
                    },
                    None if self.timed_out => CallEvent::Failed {
                        code: 408,
                        reason: format!("no answer in {} s", self.no_answer.as_secs()),
                        headers: BTreeMap::new(),
                    },
                    None => match final_response {
                        Some(response) if response.status_code.code() >= 300 => CallEvent::Failed {
                            code: response.status_code.code(),
                            reason: response.status_code.text().to_owned(),
                            headers: x_headers(&response.headers),
                        },
                        _ => {
                            let (code, reason) = failed(&reason);
                            CallEvent::Failed {
                                code,
                                reason,
                                headers: BTreeMap::new(),
                            }
                        }
                    },
                });
            }
            _ => {}
        }
        events
    }

    /// Whether the far end answered (and the leg is not over).
    pub(super) fn is_connected(&self) -> bool {
        self.connected.is_some() && !self.over
    }

    /// RFC 4733 digits to the far end; a warning when its answer had no telephone-event.
    pub(super) fn send_digits(&self, digits: &str) -> Option<String> {
        if !self.telephone_event {
            return Some(format!(
                "sendDigits on outbound call {}: the far end did not offer telephone-event; digits not sent",
                self.call_id
            ));
        }
        self.stream.send(StreamCommand::Digits(digits.to_owned()));
        None
    }

    fn send_media_to(&mut self, answer: &Offer) {
        self.telephone_event = answer.telephone_event.is_some();
        self.stream.send(StreamCommand::Remote {
            addr: answer.remote,
            telephone_event: answer.telephone_event,
            send: answer.direction.we_send(),
        });
    }

    /// When this leg, unanswered, is to be cancelled; none once answered, ended or hung up.
    pub(super) fn ringing_until(&self) -> Option<Instant> {
        (self.connected.is_none() && !self.over && !self.hung_up)
            .then(|| self.started + self.no_answer)
    }

    /// Nobody answered in time: CANCEL, and the call fails with 408.
    pub(super) fn give_up_ringing(&mut self) {
        self.timed_out = true;
        self.hang_up();
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

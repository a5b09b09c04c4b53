//! The call's RFC 4028 session timer: the headers our responses carry, refreshes the caller
//! sends, refreshes we send, and the BYE when the session expires (the rules are in
//! [`super::session_timer`]).

use rsipstack::sip::{Header, Request, StatusCode};
use tokio::time::Instant;

use super::core::CallCore;
use super::{Refusal, SipSide};
use crate::call_model::CallInput;
use crate::sip::session_timer::{self, Refresher, SessionTimer, TimerRefusal};

impl SipSide {
    /// `Session-Expires` (and `Require: timer` for a caller that supports timers) for our 2xx
    /// responses, when a timer is in force.
    pub(super) fn timer_headers(&self) -> Vec<Header> {
        let Some(timer) = self.session_timer else {
            return Vec::new();
        };
        let mut headers = vec![Header::Other(
            "Session-Expires".into(),
            timer.header_value(),
        )];
        if timer.caller_supports {
            headers.push(Header::Require("timer".into()));
        }
        headers
    }

    /// Starts (or restarts) the session interval, from now.
    pub(super) fn arm_session_timer(&mut self) {
        self.session_deadline = self
            .session_timer
            .map(|timer| Instant::now() + timer.next_deadline());
    }

    /// A re-INVITE or UPDATE from the caller refreshes the session, and may change the interval.
    pub(super) fn on_refresh_request(&mut self, core: &CallCore, request: &Request) {
        let min_se = core
            .context
            .catalog
            .current()
            .config
            .server
            .session_min_se_s;
        // A caller that said it supports timers in its INVITE still does, even when a refresh
        // leaves `Supported: timer` out.
        let supported = self.session_timer.is_some_and(|t| t.caller_supports);
        match timer_request(request, min_se, supported) {
            Ok(Some(timer)) => self.session_timer = Some(timer),
            Ok(None) => {}
            Err(e) => tracing::info!(call = %core.call_id, "refresh: {e}; keeping the interval"),
        }
        // Restart the interval, or start it when this refresh is the first to ask for a timer;
        // not while our own refresh is on its way (its answer arms it).
        if self.session_timer.is_some() && !self.refreshing {
            self.arm_session_timer();
        }
    }

    /// The interval ran out: refresh, when it is ours to do; else the session has expired
    /// (what the model hears).
    pub(super) fn on_session_deadline(&mut self, core: &CallCore) -> Option<CallInput> {
        self.session_deadline = None;
        let timer = self.session_timer?;
        if timer.refresher == Refresher::Uac {
            tracing::info!(call = %core.call_id, "no session refresh within {} s: hanging up (session expired)", timer.interval);
            return Some(CallInput::Expired("session expired".into()));
        }
        self.refreshing = true;
        let dialog = self.dialog.clone();
        let done = self.refreshes_tx.clone();
        let headers = self.timer_headers();
        // UPDATE without a body where the caller allows it (RFC 4028 9), else a re-INVITE
        // with our current description.
        let update = self.dialog.initial_request().headers.iter().any(|h| {
            h.name().eq_ignore_ascii_case("Allow")
                && session_timer::names_option(h.value(), "UPDATE")
        });
        let offer = self.local_answer(core);
        tokio::spawn(async move {
            let sent = if update {
                dialog.update(Some(headers), None).await
            } else {
                let mut headers = headers;
                headers.push(Header::ContentType("application/sdp".into()));
                dialog
                    .reinvite(Some(headers), offer.map(String::into_bytes))
                    .await
            };
            // RFC 4028 10: only no answer, 408 or 481 end the session; another refusal (491
            // glare, 501 ...) leaves it to run until it expires, and we try again.
            let outcome = match sent {
                Ok(Some(response)) => {
                    let code = response.status_code.code();
                    match code {
                        200..=299 => Refreshed::Yes,
                        408 | 481 => Refreshed::Fatal(format!("the caller answered {code}")),
                        _ => Refreshed::Refused(code),
                    }
                }
                Ok(None) => Refreshed::Fatal("the call is not confirmed".to_owned()),
                Err(e) => Refreshed::Fatal(e.to_string()),
            };
            let _ = done.send(outcome);
        });
        None
    }

    /// Our refresh was answered (or not); what the model hears of it.
    pub(super) fn on_refreshed(
        &mut self,
        core: &CallCore,
        outcome: Refreshed,
    ) -> Option<CallInput> {
        self.refreshing = false;
        match outcome {
            Refreshed::Yes => self.arm_session_timer(),
            Refreshed::Refused(code) => {
                tracing::info!(call = %core.call_id, "session refresh answered {code}: trying again later");
                self.arm_session_timer();
            }
            Refreshed::Fatal(why) => {
                tracing::info!(call = %core.call_id, "session refresh failed ({why}): hanging up");
                return Some(CallInput::Expired("session refresh failed".into()));
            }
        }
        None
    }
}

/// How our refresh ended.
#[derive(Debug)]
pub(super) enum Refreshed {
    /// A 2xx.
    Yes,
    /// Another final answer that leaves the session to run (491, 501 ...).
    Refused(u16),
    /// No answer, 408 or 481: the session is gone.
    Fatal(String),
}

/// The session timer `request` asks for, from its `Session-Expires` (or `x`) and `Supported`
/// (or `k`) headers.
fn timer_request(
    request: &Request,
    min_se: u32,
    known_support: bool,
) -> Result<Option<SessionTimer>, TimerRefusal> {
    let named = |h: &Header, full: &str, compact: &str| {
        h.name().eq_ignore_ascii_case(full) || h.name().eq_ignore_ascii_case(compact)
    };
    let expires = request
        .headers
        .iter()
        .find(|h| named(h, "Session-Expires", "x"))
        .map(|h| h.value().to_owned());
    let supports = known_support
        || request
            .headers
            .iter()
            .filter(|h| named(h, "Supported", "k"))
            .any(|h| session_timer::names_option(h.value(), "timer"));
    SessionTimer::negotiate(expires.as_deref(), supports, min_se)
}

/// The INVITE's session timer, or the refusal it gets: 422 with our `Min-SE` for an interval
/// too short, 400 for one that is not a number.
pub(super) fn negotiate_timer(
    request: &Request,
    min_se: u32,
) -> Result<Option<SessionTimer>, Refusal> {
    timer_request(request, min_se, false).map_err(|e| match e {
        TimerRefusal::TooSmall(..) => {
            let mut refusal = Refusal::failed(StatusCode::SessionIntervalTooSmall, e.to_string());
            refusal
                .headers
                .push(Header::Other("Min-SE".into(), min_se.to_string()));
            refusal
        }
        TimerRefusal::Malformed(_) => Refusal::failed(StatusCode::BadRequest, e.to_string()),
    })
}

/// Resolves at `deadline`, never without one.
pub(crate) async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

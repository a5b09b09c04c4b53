//! SIP session timers (RFC 4028), the answering side, sans-IO: what an INVITE's
//! `Session-Expires` asks for, what our responses say, and when the call must be refreshed or
//! given up. A call whose BYE was lost ends when its session expires instead of holding a
//! session and a port for ever.
//!
//! Timers run only where the caller (or a proxy on its path) asks for them. When the caller
//! supports them (`Supported: timer`) it refreshes (`refresher=uac`, unless it asked us to);
//! otherwise we do, with UPDATE or a re-INVITE at half the interval.

use std::time::Duration;

/// The shortest interval accepted by default (RFC 4028 4: at least 90 s); shorter asks get 422.
pub const DEFAULT_MIN_SE: u32 = 90;
/// The longest interval we keep (a day); longer asks are cut to it.
const MAX_SE: u32 = 86_400;

/// Who sends the refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    /// The caller.
    Uac,
    /// We do.
    Uas,
}

/// A session timer in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimer {
    /// The session interval, in seconds.
    pub interval: u32,
    /// Who refreshes.
    pub refresher: Refresher,
    /// Whether the caller said `Supported: timer` (then our 2xx says `Require: timer`).
    pub caller_supports: bool,
}

/// Why an INVITE's session timer request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimerRefusal {
    /// Shorter than our minimum: 422 with `Min-SE`.
    #[error("Session-Expires {0} is below our minimum of {1} s")]
    TooSmall(u32, u32),
    /// Not `delta-seconds *(;param)`: 400.
    #[error("Session-Expires {0:?} is not a number of seconds")]
    Malformed(String),
}

impl SessionTimer {
    /// The timer a request asks for: its `Session-Expires` value (if any) and whether its
    /// `Supported` headers name `timer`; `min_se` is the shortest interval we take. `None` when
    /// it asks for none.
    pub fn negotiate(
        session_expires: Option<&str>,
        caller_supports: bool,
        min_se: u32,
    ) -> Result<Option<Self>, TimerRefusal> {
        let Some(value) = session_expires else {
            return Ok(None);
        };
        let mut parts = value.split(';').map(str::trim);
        let seconds = parts.next().unwrap_or_default();
        let interval: u32 = seconds
            .parse()
            .map_err(|_| TimerRefusal::Malformed(value.chars().take(40).collect()))?;
        if interval < min_se {
            return Err(TimerRefusal::TooSmall(interval, min_se));
        }
        let asked = parts.find_map(|p| {
            let (name, v) = p.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("refresher")
                .then(|| v.trim().to_ascii_lowercase())
        });
        let refresher = match (caller_supports, asked.as_deref()) {
            (true, Some("uas")) => Refresher::Uas,
            (true, _) => Refresher::Uac,
            // A caller that does not know timers cannot refresh (RFC 4028 9).
            (false, _) => Refresher::Uas,
        };
        Ok(Some(Self {
            interval: interval.min(MAX_SE),
            refresher,
            caller_supports,
        }))
    }

    /// The `Session-Expires` value of our 2xx responses.
    pub fn header_value(&self) -> String {
        let refresher = match self.refresher {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        };
        format!("{};refresher={refresher}", self.interval)
    }

    /// How long after a refresh (or the answer) we act: refresh ourselves at half the interval,
    /// or, when the caller refreshes, give the session up at the interval less a third (at most
    /// 32 s) (RFC 4028 10).
    pub fn next_deadline(&self) -> Duration {
        let interval = u64::from(self.interval);
        let seconds = match self.refresher {
            Refresher::Uas => interval / 2,
            Refresher::Uac => interval - (interval / 3).min(32),
        };
        // Never a zero wait (a 1 s interval allowed for tests would refresh in a loop).
        Duration::from_secs(seconds.max(1))
    }
}

/// Whether a `Supported` (or `Require`) header value names `token`.
pub fn names_option(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|option| option.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_session_expires_means_no_timer() {
        assert_eq!(
            SessionTimer::negotiate(None, true, DEFAULT_MIN_SE),
            Ok(None)
        );
    }

    #[test]
    fn a_caller_that_supports_timers_refreshes_unless_it_asks_us() {
        let timer = SessionTimer::negotiate(Some("1800"), true, DEFAULT_MIN_SE)
            .expect("ok")
            .expect("timer");
        assert_eq!(timer.refresher, Refresher::Uac);
        assert_eq!(timer.header_value(), "1800;refresher=uac");
        assert_eq!(timer.next_deadline(), Duration::from_secs(1800 - 32));
        let timer = SessionTimer::negotiate(Some("120;refresher=uas"), true, DEFAULT_MIN_SE)
            .expect("ok")
            .expect("timer");
        assert_eq!(timer.refresher, Refresher::Uas);
        assert_eq!(timer.next_deadline(), Duration::from_secs(60));
    }

    #[test]
    fn a_caller_without_timer_support_leaves_the_refreshing_to_us() {
        let timer = SessionTimer::negotiate(Some("90;refresher=uac"), false, DEFAULT_MIN_SE)
            .expect("ok")
            .expect("timer");
        assert_eq!(timer.refresher, Refresher::Uas);
        assert!(!timer.caller_supports);
    }

    #[test]
    fn short_and_malformed_intervals_are_refused() {
        assert_eq!(
            SessionTimer::negotiate(Some("60"), true, DEFAULT_MIN_SE),
            Err(TimerRefusal::TooSmall(60, 90))
        );
        assert_eq!(
            SessionTimer::negotiate(Some("soon"), true, DEFAULT_MIN_SE).map_err(|e| e.to_string()),
            Err("Session-Expires \"soon\" is not a number of seconds".into())
        );
    }

    #[test]
    fn a_short_interval_expires_a_third_early() {
        let timer = SessionTimer::negotiate(Some("90"), true, DEFAULT_MIN_SE)
            .expect("ok")
            .expect("timer");
        assert_eq!(timer.next_deadline(), Duration::from_secs(60));
    }

    #[test]
    fn options_are_matched_as_tokens() {
        assert!(names_option("100rel, Timer", "timer"));
        assert!(!names_option("timers", "timer"));
    }
}

//! Process-wide counters and latency histograms, rendered in the Prometheus text format on
//! `/metrics`. Plain atomics: the hot paths only add.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::media::pacing::PacingHistogram;
use crate::media::stream::RtpCounters;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// Latency samples kept for `bench` percentiles.
const MAX_SAMPLES: usize = 200_000;

/// How an inbound call ended, for `dialtone_calls_total{application, result}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// Answered (200 OK sent).
    Answered,
    /// Rejected by the scenario or ended before answer by it.
    Rejected,
    /// The caller cancelled.
    Cancelled,
    /// No rule matched (404).
    NoRoute,
    /// The offer could not be answered (488) or the server could not take it (500/503).
    Failed,
}

impl CallResult {
    const ALL: [CallResult; 5] = [
        CallResult::Answered,
        CallResult::Rejected,
        CallResult::Cancelled,
        CallResult::NoRoute,
        CallResult::Failed,
    ];

    fn label(self) -> &'static str {
        match self {
            CallResult::Answered => "answered",
            CallResult::Rejected => "rejected",
            CallResult::Cancelled => "cancelled",
            CallResult::NoRoute => "no_route",
            CallResult::Failed => "failed",
        }
    }
}

/// A latency histogram that also keeps raw samples for percentiles.
#[derive(Debug, Default)]
pub struct Latency {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    samples: Mutex<Vec<u32>>,
}

impl Latency {
    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() < MAX_SAMPLES {
            samples.push(u32::try_from(micros).unwrap_or(u32::MAX));
        }
    }

    /// Takes the raw samples recorded so far (microseconds).
    pub fn take_samples(&self) -> Vec<u32> {
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// One application's call counters.
#[derive(Debug, Default, Clone, Copy)]
struct AppCalls {
    results: [u64; 5],
    active: u64,
}

/// MCP request counters and latency, by method.
#[derive(Debug, Default)]
pub struct McpMetrics {
    /// (method, ok) → count.
    requests: Mutex<BTreeMap<(&'static str, bool), u64>>,
    /// Request latency, every method.
    pub latency: Latency,
}

impl McpMetrics {
    /// Records one finished request (or connect).
    pub fn observe(&self, method: &'static str, ok: bool, elapsed: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((method, ok))
            .or_default() += 1;
        self.latency.observe(elapsed);
    }

    fn render(&self, out: &mut String) {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        out.push_str("# HELP dialtone_mcp_requests_total MCP requests (and connects, method initialize) by method and outcome.\n# TYPE dialtone_mcp_requests_total counter\n");
        for ((method, ok), count) in &requests {
            let outcome = if *ok { "ok" } else { "error" };
            let _ = writeln!(
                out,
                "dialtone_mcp_requests_total{{method=\"{method}\",outcome=\"{outcome}\"}} {count}"
            );
        }
        out.push_str("# HELP dialtone_mcp_errors_total MCP requests that ended in MCPError or a failed connect.\n# TYPE dialtone_mcp_errors_total counter\n");
        let errors: u64 = requests
            .iter()
            .filter(|((_, ok), _)| !ok)
            .map(|(_, n)| n)
            .sum();
        let _ = writeln!(out, "dialtone_mcp_errors_total {errors}");
        self.latency.render(
            out,
            "dialtone_mcp_request_seconds",
            "MCP request (or connect) to its result.",
        );
    }
}

/// Everything `/metrics` shows.
#[derive(Debug, Default)]
pub struct Metrics {
    by_application: Mutex<BTreeMap<String, AppCalls>>,
    /// Calls with a live dialog.
    pub calls_active: AtomicU64,
    /// Sessions running.
    pub sessions_active: AtomicU64,
    /// Sessions started.
    pub sessions_total: AtomicU64,
    /// Sessions that ended abnormally (load error, uncaught error, limit).
    pub sessions_failed: AtomicU64,
    /// RTP packet counters of every call.
    pub rtp: Arc<RtpCounters>,
    /// INVITE received → 200 OK sent.
    pub invite_to_answer: Latency,
    /// INVITE received → the scenario's CallAlerting handler ran.
    pub invite_to_alerting: Latency,
    /// MCP requests of every session.
    pub mcp: McpMetrics,
    /// Calls admitted and not yet over (the `max_calls` check).
    admitted: Arc<AtomicU64>,
    /// INVITEs refused because `max_calls` calls were in progress.
    pub calls_refused_overload: AtomicU64,
    /// Events (key presses, WebSocket messages, markers, warnings) dropped because a session
    /// fell behind.
    pub session_events_dropped: AtomicU64,
    /// Session log lines not written to the history because the disk fell behind.
    pub history_lines_dropped: AtomicU64,
}

/// One admitted call's place under `max_calls`; dropping it frees the place.
#[derive(Debug)]
pub struct CallSlot(Arc<AtomicU64>);

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Metrics {
    fn with_app(&self, application: &str, f: impl FnOnce(&mut AppCalls)) {
        let mut apps = self
            .by_application
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match apps.get_mut(application) {
            Some(calls) => f(calls),
            None => f(apps.entry(application.to_owned()).or_default()),
        }
    }

    /// A place for one more call, unless `max` calls are in progress (then the refusal is
    /// counted).
    pub fn admit(&self, max: u32) -> Option<CallSlot> {
        let admitted = self.admitted.fetch_add(1, Ordering::AcqRel);
        if admitted >= u64::from(max) {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            self.calls_refused_overload.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(CallSlot(self.admitted.clone()))
    }

    /// Counts a call's result.
    pub fn call_result(&self, application: &str, result: CallResult) {
        self.with_app(application, |calls| calls.results[result as usize] += 1);
    }

    /// Makes `application`'s series appear (at 0) before its first call.
    pub fn register_application(&self, application: &str) {
        self.with_app(application, |_| {});
    }

    /// A call of `application` started.
    pub fn call_started(&self, application: &str) {
        self.calls_active.fetch_add(1, Ordering::Relaxed);
        self.with_app(application, |calls| calls.active += 1);
    }

    /// A call of `application` ended.
    pub fn call_ended(&self, application: &str) {
        self.calls_active.fetch_sub(1, Ordering::Relaxed);
        self.with_app(application, |calls| {
            calls.active = calls.active.saturating_sub(1);
        });
    }

    /// Calls counted with `result`.
    pub fn calls(&self, result: CallResult) -> u64 {
        self.by_application
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|calls| calls.results[result as usize])
            .sum()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let apps = self
            .by_application
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        out.push_str("# HELP dialtone_calls_total Inbound calls by application and result.\n");
        out.push_str("# TYPE dialtone_calls_total counter\n");
        for (application, calls) in &apps {
            for result in CallResult::ALL {
                let _ = writeln!(
                    out,
                    "dialtone_calls_total{{application=\"{}\",result=\"{}\"}} {}",
                    label_value(application),
                    result.label(),
                    calls.results[result as usize]
                );
            }
        }
        out.push_str("# HELP dialtone_calls_active Calls in progress by application.\n");
        out.push_str("# TYPE dialtone_calls_active gauge\n");
        for (application, calls) in &apps {
            let _ = writeln!(
                out,
                "dialtone_calls_active{{application=\"{}\"}} {}",
                label_value(application),
                calls.active
            );
        }
        let gauges = [
            (
                "dialtone_calls_refused_overload_total",
                "counter",
                "INVITEs answered 503 because server.max_calls calls were in progress.",
                &self.calls_refused_overload,
            ),
            (
                "dialtone_session_events_dropped_total",
                "counter",
                "Key presses, WebSocket messages, markers and warnings dropped because a session fell 1024 events behind.",
                &self.session_events_dropped,
            ),
            (
                "dialtone_history_lines_dropped_total",
                "counter",
                "Session log lines not kept in the history because the disk fell 65536 writes behind.",
                &self.history_lines_dropped,
            ),
            (
                "dialtone_sessions_active",
                "gauge",
                "Scenario sessions running.",
                &self.sessions_active,
            ),
            (
                "dialtone_sessions_total",
                "counter",
                "Scenario sessions started.",
                &self.sessions_total,
            ),
            (
                "dialtone_sessions_failed_total",
                "counter",
                "Sessions that ended on an error or a limit.",
                &self.sessions_failed,
            ),
            (
                "dialtone_rtp_packets_sent_total",
                "counter",
                "RTP packets sent.",
                &self.rtp.sent,
            ),
            (
                "dialtone_rtp_packets_received_total",
                "counter",
                "RTP packets received.",
                &self.rtp.received,
            ),
            (
                "dialtone_rtp_invalid_total",
                "counter",
                "Datagrams on RTP ports that were not RTP.",
                &self.rtp.invalid,
            ),
            (
                "dialtone_rtp_foreign_total",
                "counter",
                "RTP packets dropped because they came from another source than the call's.",
                &self.rtp.foreign,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        self.invite_to_answer.render(
            &mut out,
            "dialtone_invite_to_answer_seconds",
            "INVITE received to 200 OK sent.",
        );
        self.invite_to_alerting.render(
            &mut out,
            "dialtone_invite_to_alerting_seconds",
            "INVITE received to the scenario's CallAlerting handler.",
        );
        self.mcp.render(&mut out);
        render_pacing(
            &mut out,
            "dialtone_rtp_send_lateness_seconds",
            "Time from an RTP frame's 20 ms tick to its send.",
            &self.rtp.send_lateness,
        );
        render_pacing(
            &mut out,
            "dialtone_rtp_send_jitter_seconds",
            "How far the time between a call's consecutive RTP sends was from 20 ms.",
            &self.rtp.send_jitter,
        );
        out
    }
}

/// A pacing figure of the RTP sends as a Prometheus histogram (counted per second by each
/// stream).
fn render_pacing(out: &mut String, name: &str, help: &str, histogram: &PacingHistogram) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    let count = histogram.count();
    for bound in [0.001, 0.002, 0.005, 0.01, 0.02] {
        let within = count.saturating_sub(histogram.over(Duration::from_secs_f64(bound)));
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {within}");
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_count {count}"
    );
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_past_the_limit_are_refused_and_counted() {
        let metrics = Metrics::default();
        let first = metrics.admit(2).expect("room");
        let _second = metrics.admit(2).expect("room");
        assert!(metrics.admit(2).is_none());
        drop(first);
        assert!(
            metrics.admit(2).is_some(),
            "a finished call frees its place"
        );
        assert!(
            metrics
                .render()
                .contains("dialtone_calls_refused_overload_total 1\n")
        );
    }

    #[test]
    fn renders_counters_and_histograms() {
        let metrics = Metrics::default();
        metrics.call_result("a", CallResult::Answered);
        metrics.call_result("b\"x", CallResult::NoRoute);
        metrics.call_started("a");
        metrics
            .mcp
            .observe("tools/call", true, Duration::from_millis(3));
        metrics
            .mcp
            .observe("initialize", false, Duration::from_millis(1));
        metrics
            .invite_to_answer
            .observe(Duration::from_micros(1500));
        let text = metrics.render();
        assert!(text.contains("dialtone_calls_total{application=\"a\",result=\"answered\"} 1\n"));
        assert!(
            text.contains("dialtone_calls_total{application=\"b\\\"x\",result=\"no_route\"} 1\n")
        );
        assert!(text.contains("dialtone_calls_active{application=\"a\"} 1\n"));
        assert!(
            text.contains("dialtone_mcp_requests_total{method=\"tools/call\",outcome=\"ok\"} 1\n")
        );
        assert!(text.contains("dialtone_mcp_errors_total 1\n"));
        assert!(text.contains("dialtone_mcp_request_seconds_count 2\n"));
        assert!(text.contains("dialtone_invite_to_answer_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("dialtone_invite_to_answer_seconds_bucket{le=\"0.002\"} 1\n"));
        assert!(text.contains("dialtone_invite_to_answer_seconds_count 1\n"));
        assert_eq!(metrics.invite_to_answer.take_samples(), vec![1500]);
        assert_eq!(metrics.calls(CallResult::Answered), 1);
        assert_eq!(metrics.calls(CallResult::Cancelled), 0);
    }
}

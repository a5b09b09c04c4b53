//! Process-wide counters and latency histograms, rendered in the Prometheus text format on
//! `/metrics`. Plain atomics: the hot paths only add.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::media::stream::RtpCounters;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// Latency samples kept for `bench` percentiles.
const MAX_SAMPLES: usize = 200_000;

/// How an inbound call ended, for `dialtone_calls_total{result}`.
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

/// Everything `/metrics` shows.
#[derive(Debug, Default)]
pub struct Metrics {
    calls_total: [AtomicU64; 5],
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
}

impl Metrics {
    /// Counts a call's result.
    pub fn call_result(&self, result: CallResult) {
        self.calls_total[result as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Calls counted with `result`.
    pub fn calls(&self, result: CallResult) -> u64 {
        self.calls_total[result as usize].load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP dialtone_calls_total Inbound calls by result.\n");
        out.push_str("# TYPE dialtone_calls_total counter\n");
        for result in CallResult::ALL {
            let _ = writeln!(
                out,
                "dialtone_calls_total{{result=\"{}\"}} {}",
                result.label(),
                self.calls(result)
            );
        }
        let gauges = [
            (
                "dialtone_calls_active",
                "gauge",
                "Calls in progress.",
                &self.calls_active,
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
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let metrics = Metrics::default();
        metrics.call_result(CallResult::Answered);
        metrics.call_result(CallResult::NoRoute);
        metrics
            .invite_to_answer
            .observe(Duration::from_micros(1500));
        let text = metrics.render();
        assert!(text.contains("dialtone_calls_total{result=\"answered\"} 1\n"));
        assert!(text.contains("dialtone_calls_total{result=\"no_route\"} 1\n"));
        assert!(text.contains("dialtone_invite_to_answer_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("dialtone_invite_to_answer_seconds_bucket{le=\"0.002\"} 1\n"));
        assert!(text.contains("dialtone_invite_to_answer_seconds_count 1\n"));
        assert_eq!(metrics.invite_to_answer.take_samples(), vec![1500]);
    }
}

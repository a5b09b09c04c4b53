//! `dialtone bench calls`: how many answered calls with playback one server holds at once.
//! SIPp places `rate` calls a second until `concurrent` calls were placed, each held `hold`
//! seconds (so with `rate * hold >= concurrent` all of them are up together); the scenario
//! answers and plays a looping WAV until the caller hangs up. Printed: failed calls, the peak
//! of calls up, RSS per call at that peak, and CPU per call-second (the process's CPU over the
//! run divided by the seconds calls were up), and how late the paced RTP sends left after
//! their 20 ms tick.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::mcp::{BenchError, cpu_ms};
use super::sip::{bench_server_with, failed_calls, process_memory, run_load_held, write_tone};
use crate::media::pacing::PacingHistogram;

use super::LOOPING_PLAYBACK as SCENARIO;

/// What `bench calls` measured.
#[derive(Debug, Clone)]
pub struct CallsReport {
    /// Calls placed.
    pub calls: u32,
    /// Calls per second asked of SIPp.
    pub rate: u32,
    /// Seconds each call was held.
    pub hold_s: u32,
    /// Calls SIPp counted as failed (`u32::MAX`: it printed no statistics).
    pub failed: u32,
    /// Most calls up at once (sampled every 100 ms).
    pub peak_calls: u64,
    /// RSS before the load, and at the peak of calls.
    pub rss_idle: u64,
    /// RSS when the most calls were up.
    pub rss_at_peak: u64,
    /// The process's CPU ms over the run.
    pub cpu_ms: f64,
    /// Seconds calls were up, summed over the samples.
    pub call_seconds: f64,
    /// RTP packets the paced sends put out.
    pub sends: u64,
    /// Send lateness after the frame's tick: p50, p99, p99.9 (100 µs buckets).
    pub lateness: [Option<Duration>; 3],
    /// Send jitter (distance of the interval between a call's sends from 20 ms): p50, p99,
    /// p99.9.
    pub jitter: [Option<Duration>; 3],
    /// Sends whose jitter was over 2 ms.
    pub jitter_over_2ms: u64,
}

impl std::fmt::Display for CallsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |b: u64| b as f64 / f64::from(1 << 20);
        let mut failed = self.failed.to_string();
        if self.failed == u32::MAX {
            failed = "unknown (SIPp printed no statistics)".into();
        }
        let per_call =
            self.rss_at_peak.saturating_sub(self.rss_idle) as f64 / self.peak_calls.max(1) as f64;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "bench calls: {} calls at {} cps, each held {} s with looping playback (SIPp uac)",
            self.calls, self.rate, self.hold_s
        );
        let _ = writeln!(out, "  failed calls: {failed}");
        let _ = writeln!(
            out,
            "  most calls up at once: {} (RSS {:.0} MiB idle, {:.0} MiB then: {:.0} KiB per call)",
            self.peak_calls,
            mib(self.rss_idle),
            mib(self.rss_at_peak),
            per_call / 1024.0
        );
        let ms = |d: Option<Duration>| {
            d.map_or("-".to_owned(), |d| {
                format!("{:.1} ms", d.as_secs_f64() * 1e3)
            })
        };
        let [p50, p99, p999] = self.lateness;
        let _ = writeln!(
            out,
            "  RTP send lateness after the 20 ms tick, {} sends: p50 {}, p99 {}, p99.9 {}",
            self.sends,
            ms(p50),
            ms(p99),
            ms(p999),
        );
        let [p50, p99, p999] = self.jitter;
        let _ = writeln!(
            out,
            "  RTP send jitter (interval from 20 ms): p50 {}, p99 {} (target <= 2 ms), p99.9 {}; {} sends over 2 ms ({:.3} %)",
            ms(p50),
            ms(p99),
            ms(p999),
            self.jitter_over_2ms,
            self.jitter_over_2ms as f64 * 100.0 / self.sends.max(1) as f64
        );
        let _ = write!(
            out,
            "  CPU: {:.1} s over {:.0} call-seconds: {:.3} ms per call-second ({:.3} % of one core per call)",
            self.cpu_ms / 1000.0,
            self.call_seconds,
            self.cpu_ms / self.call_seconds.max(1.0),
            self.cpu_ms / self.call_seconds.max(1.0) / 10.0
        );
        f.write_str(&out)
    }
}

/// Runs the benchmark.
pub async fn calls(concurrent: u32, rate: u32, hold_s: u32) -> Result<CallsReport, BenchError> {
    let dir = std::env::temp_dir().join(format!("dialtone-bench-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    write_tone(&dir)?;
    let max_calls = concurrent + concurrent / 10 + 10;
    let server = bench_server_with(&dir, SCENARIO, &format!("max_calls = {max_calls}\n")).await?;
    let target = format!("127.0.0.1:{}", server.sip.udp.port());
    let rss_idle = process_memory("VmRSS:");
    let cpu_before = cpu_ms("self");
    let seconds = concurrent.div_ceil(rate.max(1));
    let hold = (hold_s * 1000).to_string();
    let load_dir = dir.clone();
    let load = tokio::task::spawn_blocking(move || {
        let scenario = ["-sn", "uac", "-d", hold.as_str()];
        let limit = concurrent + concurrent / 10;
        let load = (rate, seconds, concurrent);
        run_load_held(&load_dir, &target, &scenario, load, (limit, hold_s))
    });
    let metrics = server.metrics();
    let (mut peak_calls, mut rss_at_peak, mut call_seconds) = (0, rss_idle, 0.0);
    let began = Instant::now();
    let mut last = began;
    let limit = Duration::from_secs(u64::from(seconds + hold_s) + 60);
    while !load.is_finished() && began.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let up = metrics.calls_active.load(Ordering::Relaxed);
        call_seconds += up as f64 * last.elapsed().as_secs_f64();
        last = Instant::now();
        if up > peak_calls {
            peak_calls = up;
            rss_at_peak = process_memory("VmRSS:");
        }
    }
    let stdout = load.await.map_err(|e| BenchError::Peer(e.to_string()))??;
    let cpu = cpu_ms("self") - cpu_before;
    let quantiles = |h: &PacingHistogram| [0.5, 0.99, 0.999].map(|q| h.quantile(q));
    let (lateness, jitter) = (&metrics.rtp.send_lateness, &metrics.rtp.send_jitter);
    let (sends, jitter_over_2ms) = (lateness.count(), jitter.over(Duration::from_millis(2)));
    let (lateness, jitter) = (quantiles(lateness), quantiles(jitter));
    server.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(CallsReport {
        calls: concurrent,
        rate,
        hold_s,
        failed: failed_calls(&stdout),
        peak_calls,
        rss_idle,
        rss_at_peak,
        cpu_ms: cpu,
        call_seconds,
        sends,
        lateness,
        jitter,
        jitter_over_2ms,
    })
}

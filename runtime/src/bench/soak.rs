//! `dialtone bench soak`: SIPp places calls at a steady rate for a long time against an
//! in-process server (each call answered, a 2 s prompt played, one SIP INFO key press taken,
//! then hung up by the scenario). Every 30 s it prints the process's RSS, open files and the
//! calls and sessions up; at the end it says whether any call failed, whether RSS grew after
//! the warm-up, and whether sessions, calls or file descriptors (sockets, RTP ports) leaked.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::mcp::BenchError;
use super::sip::{bench_server, failed_calls, free_media_base, process_memory};
use super::sipp_xml;

const SCENARIO: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.handleTones(true);
  call.addEventListener(CallEvents.Connected, () => call.startPlayback("two-seconds.wav"));
  call.addEventListener(CallEvents.ToneReceived, (e) => Logger.write(`key ${e.tone}`));
  call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup());
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;

/// RSS may grow this much from the end of the warm-up to the end of the load.
const RSS_GROWTH_ALLOWED: f64 = 0.10;
/// File descriptors open after the load may exceed those before by this many (the runtime's
/// own pools settle).
const FD_SLACK: usize = 8;
/// How long the calls still up at the end may take to finish.
const DRAIN: Duration = Duration::from_secs(20);

/// One sample of the process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Seconds since the load began.
    pub at_s: u64,
    /// Resident memory, bytes.
    pub rss: u64,
    /// Open file descriptors.
    pub fds: usize,
    /// Calls up.
    pub calls: u64,
    /// Sessions running.
    pub sessions: u64,
}

/// The soak's result.
#[derive(Debug, Clone)]
pub struct SoakReport {
    /// Calls per second.
    pub rate: u32,
    /// Seconds of call arrivals.
    pub seconds: u32,
    /// Calls placed.
    pub calls: u64,
    /// Calls SIPp counted as failed.
    pub failed: u32,
    /// Samples every `every` seconds during the load.
    pub samples: Vec<Sample>,
    /// Before the load, and once it drained.
    pub before: Sample,
    /// After the drain.
    pub after: Sample,
    /// Key presses the scenarios reported (one per call expected).
    pub keys: u64,
}

impl SoakReport {
    /// RSS growth from the end of the warm-up (the first fifth of the run) to the last sample.
    pub fn rss_growth(&self) -> f64 {
        let warm = self.samples.len() / 5;
        match (self.samples.get(warm), self.samples.last()) {
            (Some(first), Some(last)) if first.rss > 0 => {
                (last.rss as f64 - first.rss as f64) / first.rss as f64
            }
            _ => 0.0,
        }
    }

    /// What went wrong, if anything.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.failed != 0 {
            problems.push(format!("{} calls failed", self.failed));
        }
        if self.after.calls != 0 || self.after.sessions != 0 {
            problems.push(format!(
                "{} calls and {} sessions still up {} s after the load",
                self.after.calls,
                self.after.sessions,
                DRAIN.as_secs()
            ));
        }
        if self.after.fds > self.before.fds + FD_SLACK {
            problems.push(format!(
                "{} file descriptors open after the load, {} before",
                self.after.fds, self.before.fds
            ));
        }
        if self.samples.len() >= 5 && self.rss_growth() > RSS_GROWTH_ALLOWED {
            problems.push(format!(
                "RSS grew {:.0}% after the warm-up",
                self.rss_growth() * 100.0
            ));
        }
        problems
    }
}

/// Counts the `key ...` lines the scenarios log, until the server goes.
fn count_keys(
    mut records: tokio::sync::broadcast::Receiver<crate::sip::SessionRecord>,
) -> tokio::task::JoinHandle<u64> {
    use dialtone_bindings::host::Outbound;
    use tokio::sync::broadcast::error::RecvError;
    tokio::spawn(async move {
        let mut keys = 0;
        loop {
            match records.recv().await {
                Ok(record) => {
                    if matches!(&record.message, Outbound::Log { text, .. } if text.starts_with("key "))
                    {
                        keys += 1;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return keys,
            }
        }
    })
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Runs the soak: `rate` calls a second for `seconds`, sampling every `every`; `print` gets
/// each sample line as it is taken.
pub async fn soak(
    rate: u32,
    seconds: u32,
    every: Duration,
    print: impl Fn(&str),
) -> Result<SoakReport, BenchError> {
    let dir = std::env::temp_dir().join(format!("dialtone-bench-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    super::sip::write_tone(&dir)?;
    let server = bench_server(&dir, SCENARIO).await?;
    let metrics = server.metrics();
    let sample = |start: Instant| Sample {
        at_s: start.elapsed().as_secs(),
        rss: process_memory("VmRSS:"),
        fds: open_fds(),
        calls: metrics.calls_active.load(Ordering::Relaxed),
        sessions: metrics.sessions_active.load(Ordering::Relaxed),
    };
    let keys = count_keys(server.subscribe());
    let start = Instant::now();
    let before = sample(start);
    let xml = dir.join("uac.xml");
    std::fs::write(&xml, sipp_xml::info_flood(1))?;
    let target = format!("127.0.0.1:{}", server.sip.udp.port());
    let media_port = free_media_base()?.to_string();
    let load_dir = dir.clone();
    let xml = xml.display().to_string();
    let mut load = tokio::task::spawn_blocking(move || {
        let scenario = super::sip::scenario_args(&xml, &media_port);
        super::sip::run_load_output(&load_dir, &target, &scenario, rate, seconds)
    });
    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    let output = loop {
        tokio::select! {
            done = &mut load => break done.map_err(|e| BenchError::Peer(e.to_string()))??,
            _ = ticker.tick() => {
                let now = sample(start);
                print(&format!(
                    "{:>5} s  RSS {:>7.1} MiB  fds {:>5}  calls {:>4}  sessions {:>4}",
                    now.at_s,
                    now.rss as f64 / 1048576.0,
                    now.fds,
                    now.calls,
                    now.sessions
                ));
                samples.push(now);
            }
        }
    };
    let drained_by = tokio::time::Instant::now() + DRAIN;
    while (metrics.calls_active.load(Ordering::Relaxed) > 0
        || metrics.sessions_active.load(Ordering::Relaxed) > 0)
        && tokio::time::Instant::now() < drained_by
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = sample(start);
    server.shutdown(Duration::from_secs(5)).await;
    let keys = match tokio::time::timeout(Duration::from_secs(5), keys).await {
        Ok(Ok(keys)) => keys,
        _ => 0,
    };
    let _ = std::fs::remove_dir_all(&dir);
    Ok(SoakReport {
        rate,
        seconds,
        calls: u64::from(rate) * u64::from(seconds),
        failed: failed_calls(&output),
        samples,
        before,
        after,
        keys,
    })
}

impl std::fmt::Display for SoakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let mib = |b: u64| b as f64 / 1048576.0;
        let _ = writeln!(
            out,
            "soak: {} calls at {} cps for {} s (answer, 2 s prompt, one SIP INFO key press, scenario hangs up)",
            self.calls, self.rate, self.seconds
        );
        let _ = writeln!(
            out,
            "failed calls: {}   key presses reported: {}",
            self.failed, self.keys
        );
        let _ = writeln!(
            out,
            "RSS: {:.1} MiB before, {:.1} MiB peak sample, {:.1} MiB after; growth after warm-up {:+.1}%",
            mib(self.before.rss),
            mib(self.samples.iter().map(|s| s.rss).max().unwrap_or(0)),
            mib(self.after.rss),
            self.rss_growth() * 100.0
        );
        let _ = writeln!(
            out,
            "open files: {} before, {} after; calls {} / sessions {} up after the drain",
            self.before.fds, self.after.fds, self.after.calls, self.after.sessions
        );
        let problems = self.problems();
        if problems.is_empty() {
            let _ = writeln!(out, "verdict: PASS");
        } else {
            let _ = writeln!(out, "verdict: FAIL ({})", problems.join("; "));
        }
        f.write_str(&out)
    }
}

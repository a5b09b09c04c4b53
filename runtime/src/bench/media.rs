//! `dialtone bench media`: N concurrent SIP calls (SIPp's built-in caller, which echoes the
//! RTP it receives), each streamed by its scenario to a local WebSocket server in VoxEngine's
//! format (μ-law both ways) and the server's echo played back to the call. Once every call is
//! up, for a window of seconds: Dialtone's CPU per stream, the jitter of the 20 ms media
//! frames as the WebSocket server receives them (|gap - 20 ms|, p50 and p99 over every
//! stream), and resident memory per call.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::mcp::BenchError;
use super::sip::{bench_server, failed_calls, free_media_base, percentiles, process_memory};

/// Target from the media-graph issue, on this 2-core kind of machine.
pub const STREAMS_TARGET: usize = 1000;
/// Frame send jitter p99 target.
pub const JITTER_P99_TARGET: Duration = Duration::from_millis(2);

const SCENARIO: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let ws;
  call.addEventListener(CallEvents.Connected, () => {
    ws = VoxEngine.createWebSocket("URL");
    ws.addEventListener(WebSocketEvents.OPEN, () => {
      call.sendMediaTo(ws, { tag: "caller", encoding: WebSocketAudioEncoding.ULAW });
      ws.sendMediaTo(call, { tag: "echo", encoding: WebSocketAudioEncoding.ULAW });
    });
  });
  call.addEventListener(CallEvents.Disconnected, () => {
    if (ws) ws.close();
    VoxEngine.terminate();
  });
  call.answer();
});
"#;

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct MediaReport {
    /// Calls asked for.
    pub calls: usize,
    /// Streams (WebSocket connections) that sent media during the window.
    pub streams: usize,
    /// Length of the measuring window.
    pub window: Duration,
    /// Dialtone's CPU (all threads) per stream, as a share of one core.
    pub cpu_per_stream: f64,
    /// Frame send jitter (p50, p99) in ms.
    pub jitter_ms: (f64, f64),
    /// Resident memory added per call, bytes.
    pub rss_per_call: u64,
    /// Calls SIPp counted as failed.
    pub failed: u32,
}

/// Per connection: when each media message arrived.
type Arrivals = Arc<Mutex<Vec<Vec<Instant>>>>;

/// A WebSocket server that echoes every media message back (tagged `echo`) and notes when
/// each arrived.
async fn echo_server(listener: TcpListener, arrivals: Arrivals, max_per_stream: usize) {
    while let Ok((tcp, _)) = listener.accept().await {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let config = Some(crate::media::websocket::socket_config());
            let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, config).await else {
                return;
            };
            let index = {
                let mut all = arrivals.lock().unwrap_or_else(|e| e.into_inner());
                all.push(Vec::with_capacity(max_per_stream.min(4096)));
                all.len() - 1
            };
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<serde_json::Value>(text.as_str()) else {
                    continue;
                };
                if value["event"] != "media" {
                    continue;
                }
                {
                    let mut all = arrivals.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(list) = all.get_mut(index)
                        && list.len() < max_per_stream
                    {
                        list.push(Instant::now());
                    }
                }
                let echo = serde_json::json!({
                    "event": "media",
                    "media": {"payload": value["media"]["payload"], "tag": "echo"},
                });
                if ws.send(Message::text(echo.to_string())).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// (user + system CPU seconds of this process, resident bytes).
fn cpu_and_rss() -> (f64, u64) {
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0);
    (cpu, process_memory("VmRSS:"))
}

/// The soft limit on open files; each stream needs about four.
fn open_files_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

/// Runs `calls` concurrent streamed calls and measures a window of `seconds`.
pub async fn media(calls: usize, seconds: u32) -> Result<MediaReport, BenchError> {
    if let Some(limit) = open_files_limit()
        && limit < (calls as u64) * 4 + 256
    {
        return Err(BenchError::Peer(format!(
            "{calls} calls need about {} open files and the limit is {limit}: raise it (ulimit -n)",
            calls * 4 + 256
        )));
    }
    let dir = std::env::temp_dir().join(format!("dialtone-bench-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://127.0.0.1:{}/stream", listener.local_addr()?.port());
    let arrivals: Arrivals = Arc::default();
    // Room for the whole hold time of a call at 50 frames a second.
    let ramp_s = (calls as u32).div_ceil(50).max(1);
    let hold_s = ramp_s + seconds + 5;
    let echo = tokio::spawn(echo_server(
        listener,
        arrivals.clone(),
        (hold_s as usize + 5) * 50,
    ));
    let server = bench_server(&dir, &SCENARIO.replace("URL", &url)).await?;
    let (_, rss_before) = cpu_and_rss();
    let target = format!("127.0.0.1:{}", server.sip.udp.port());
    let media_port = free_media_base()?.to_string();
    let (rate, count, hold) = (
        "50".to_owned(),
        calls.to_string(),
        (hold_s * 1000).to_string(),
    );
    let sipp = std::process::Command::new("timeout")
        .args(["-k", "5", &(hold_s + 40).to_string(), "sipp", &target])
        .args(["-sn", "uac", "-rtp_echo", "-d", &hold, "-s", "2000"])
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", &media_port])
        .args(["-r", &rate, "-m", &count, "-l", &count, "-nostdin"])
        .args(["-timeout", &format!("{}s", hold_s + 30)])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Peer(format!("cannot run sipp (Debian sip-tester): {e}")))?;
    // Wait until every call is up (or the ramp plus a margin has passed).
    let up_by = Instant::now() + Duration::from_secs(u64::from(ramp_s) + 10);
    let active = || {
        server
            .metrics()
            .calls_active
            .load(std::sync::atomic::Ordering::Relaxed) as usize
    };
    while active() < calls && Instant::now() < up_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let window_start = Instant::now();
    let (cpu_start, _) = cpu_and_rss();
    tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
    let (cpu_end, rss_during) = cpu_and_rss();
    let window_end = Instant::now();
    let window = window_end - window_start;
    let (mut jitter, mut streams) = (Vec::new(), 0);
    for list in arrivals.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let inside: Vec<&Instant> = list
            .iter()
            .filter(|t| **t >= window_start && **t <= window_end)
            .collect();
        if inside.len() > 1 {
            streams += 1;
        }
        for pair in inside.windows(2) {
            let gap = pair[1].duration_since(*pair[0]).as_micros() as i64;
            jitter.push((gap - 20_000).unsigned_abs().min(u64::from(u32::MAX)) as u32);
        }
    }
    let output = tokio::task::block_in_place(|| sipp.wait_with_output())?;
    let failed = failed_calls(&String::from_utf8_lossy(&output.stdout));
    echo.abort();
    server.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(MediaReport {
        calls,
        streams,
        window,
        cpu_per_stream: (cpu_end - cpu_start) / window.as_secs_f64() / streams.max(1) as f64,
        jitter_ms: percentiles(jitter),
        rss_per_call: rss_during.saturating_sub(rss_before) / calls.max(1) as u64,
        failed,
    })
}

impl std::fmt::Display for MediaReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "bench media: SIPp callers (RTP echoed) -> Dialtone -> WebSocket server (echo) -> back, \
             VoxEngine format, μ-law, loopback"
        );
        let _ = writeln!(
            out,
            "calls {}  streaming in the window {}  window {:.1} s  SIPp failed calls {}",
            self.calls,
            self.streams,
            self.window.as_secs_f64(),
            self.failed
        );
        let _ = writeln!(
            out,
            "CPU per stream        {:.3}% of a core ({:.2} cores for all; the echo server runs in this process too)",
            self.cpu_per_stream * 100.0,
            self.cpu_per_stream * self.streams as f64
        );
        let _ = writeln!(
            out,
            "frame send jitter     p50 {:.3} ms  p99 {:.3} ms  (target p99 <= {} ms at {} streams: {:.2}x)",
            self.jitter_ms.0,
            self.jitter_ms.1,
            JITTER_P99_TARGET.as_millis(),
            STREAMS_TARGET,
            self.jitter_ms.1 / JITTER_P99_TARGET.as_secs_f64() / 1000.0
        );
        let _ = write!(
            out,
            "RSS per call          {:.1} KiB",
            self.rss_per_call as f64 / 1024.0
        );
        f.write_str(&out)
    }
}

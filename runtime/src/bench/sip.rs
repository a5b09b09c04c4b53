//! `dialtone bench sip`: SIPp places calls at rising rates against an in-process server whose
//! scenario answers, plays 2 s and hangs up. For each rate: failed calls, INVITE→200 and
//! INVITE→CallAlerting-handler percentiles (measured in the server), and peak RSS. In the same
//! run, SIPp against SIPp (uac → uas, 2 s calls) gives the ceiling of the load generator
//! itself on this machine.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::mcp::BenchError;
use super::sipp_xml;
use crate::config::Config;
use crate::media::wav;
use crate::serve::{ServeOptions, Server};

/// Target from the telephony issue: p99 call setup at 200 cps.
pub const SETUP_P99_TARGET: Duration = Duration::from_millis(5);

const SCENARIO: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => call.startPlayback("two-seconds.wav"));
  call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup());
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;

/// One rate's figures.
#[derive(Debug, Clone)]
pub struct RateRun {
    /// Calls per second asked of SIPp.
    pub rate: u32,
    /// Calls placed.
    pub calls: u32,
    /// Calls SIPp counted as failed.
    pub failed: u32,
    /// INVITE→200 (p50, p99) in ms.
    pub answer_ms: (f64, f64),
    /// INVITE→CallAlerting handler (p50, p99) in ms.
    pub alerting_ms: (f64, f64),
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct SipReport {
    /// Dialtone at each rate.
    pub dialtone: Vec<RateRun>,
    /// SIPp uac → SIPp uas at each rate: (rate, failed calls).
    pub sipp_ceiling: Vec<(u32, u32)>,
    /// Peak RSS of this process (server included), bytes.
    pub peak_rss: u64,
}

pub(super) fn percentiles(mut micros: Vec<u32>) -> (f64, f64) {
    if micros.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    micros.sort_unstable();
    let at = |q: f64| f64::from(micros[((micros.len() - 1) as f64 * q) as usize]) / 1000.0;
    (at(0.5), at(0.99))
}

pub(super) fn peak_rss() -> u64 {
    process_memory("VmHWM:")
}

/// A memory figure of this process from `/proc/self/status` (`VmRSS:`, `VmHWM:` ...), in
/// bytes; 0 where it cannot be read.
pub(super) fn process_memory(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

pub(super) fn free_port() -> Result<u16, BenchError> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A base port for SIPp's media (`-mp`) on 127.0.0.1. SIPp binds four UDP ports from it (audio
/// RTP and RTCP, video RTP and RTCP) and gives up when any is taken, so all four must be free,
/// not only the first.
pub fn free_media_base() -> std::io::Result<u16> {
    use std::net::UdpSocket;
    const TRIES: usize = 64;
    for _ in 0..TRIES {
        let first = UdpSocket::bind("127.0.0.1:0")?;
        let base = first.local_addr()?.port();
        if base > u16::MAX - 3 {
            continue;
        }
        let rest: std::io::Result<Vec<UdpSocket>> = (1..4)
            .map(|i| UdpSocket::bind(("127.0.0.1", base + i)))
            .collect();
        if rest.is_ok() {
            return Ok(base);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no four consecutive free UDP ports on 127.0.0.1 in {TRIES} tries"),
    ))
}

/// Runs a sipp uac in the foreground at `rate` calls per second for `seconds` of arrivals,
/// with `scenario` arguments (`-sn uac ...` or `-sf FILE ...`); returns its failed calls.
pub(super) fn run_load(
    dir: &Path,
    target: &str,
    scenario: &[&str],
    rate: u32,
    seconds: u32,
) -> Result<u32, BenchError> {
    run_load_output(dir, target, scenario, rate, seconds).map(|stdout| failed_calls(&stdout))
}

/// [`run_load`], returning what SIPp printed.
pub(super) fn run_load_output(
    dir: &Path,
    target: &str,
    scenario: &[&str],
    rate: u32,
    seconds: u32,
) -> Result<String, BenchError> {
    run_load_held(
        dir,
        target,
        scenario,
        (rate, seconds, rate * seconds),
        (rate * 4, 0),
    )
}

/// [`run_load_output`] placing `calls` calls at `rate` over about `seconds`, with at most
/// `limit` calls up at once in SIPp, each held up to `hold_s` seconds (so SIPp's own timeouts
/// wait for them).
pub(super) fn run_load_held(
    dir: &Path,
    target: &str,
    scenario: &[&str],
    (rate, seconds, calls): (u32, u32, u32),
    (limit, hold_s): (u32, u32),
) -> Result<String, BenchError> {
    let port = free_port()?.to_string();
    let (rate_arg, calls, limit) = (rate.to_string(), calls.to_string(), limit.to_string());
    let timeout = format!("{}s", seconds + hold_s + 20);
    let output = Command::new("timeout")
        .arg("-k")
        .arg("5")
        .arg((seconds + hold_s + 30).to_string())
        .arg("sipp")
        .arg(target)
        .args(scenario)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port,
            "-r",
            &rate_arg,
            "-m",
            &calls,
            "-l",
            &limit,
        ])
        .args(["-nostdin", "-timeout", &timeout, "-recv_timeout", "10000"])
        .current_dir(dir)
        .output()
        .map_err(|e| BenchError::Peer(format!("cannot run sipp (Debian sip-tester): {e}")))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// SIPp's arguments for the scenario file `xml`, its media on `media_port`, calling 2000.
pub(super) fn scenario_args<'a>(xml: &'a str, media_port: &'a str) -> [&'a str; 8] {
    [
        "-sf",
        xml,
        "-mi",
        "127.0.0.1",
        "-mp",
        media_port,
        "-s",
        "2000",
    ]
}

/// SIPp's built-in uac calling its built-in uas at each of `rates` (calls held `hold_ms`):
/// the failed calls per rate, the ceiling of the load generator on this machine.
pub(super) async fn sipp_ceiling(
    dir: &Path,
    rates: &[u32],
    seconds: u32,
    hold_ms: u32,
) -> Result<Vec<(u32, u32)>, BenchError> {
    let hold = hold_ms.to_string();
    let mut ceiling = Vec::new();
    for &rate in rates {
        let (mut uas, port) = sipp_uas(dir, seconds)?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let target = format!("127.0.0.1:{port}");
        let scenario = ["-sn", "uac", "-d", hold.as_str()];
        let result =
            tokio::task::block_in_place(|| run_load(dir, &target, &scenario, rate, seconds));
        let _ = uas.kill();
        let _ = uas.wait();
        ceiling.push((rate, result?));
    }
    Ok(ceiling)
}

/// SIPp's built-in uas answering every call on a free port until killed (or `seconds` + 60).
pub(super) fn sipp_uas(dir: &Path, seconds: u32) -> Result<(std::process::Child, u16), BenchError> {
    let port = free_port()?;
    let child = Command::new("sipp")
        .args([
            "-sn",
            "uas",
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-nostdin",
        ])
        .args(["-timeout", &format!("{}s", seconds + 60)])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Peer(format!("cannot run sipp (Debian sip-tester): {e}")))?;
    Ok((child, port))
}

/// Waits (at most 15 s, checking every 100 ms) until `server` has no call left, so the next
/// rate starts from an idle server.
pub(super) async fn calls_drained(server: &Server) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while server
        .metrics()
        .calls_active
        .load(std::sync::atomic::Ordering::Relaxed)
        > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The highest rate with 0 failed calls (0 when none), of (rate, failed) pairs.
pub(super) fn best_rate(runs: impl Iterator<Item = (u32, u32)>) -> u32 {
    runs.filter(|(_, failed)| *failed == 0)
        .map(|(rate, _)| rate)
        .max()
        .unwrap_or(0)
}

/// `ours / theirs`, NaN when SIPp managed no rate.
pub(super) fn ratio(ours: u32, theirs: u32) -> f64 {
    if theirs > 0 {
        f64::from(ours) / f64::from(theirs)
    } else {
        f64::NAN
    }
}

/// The failed calls SIPp's final statistics report (`u32::MAX` when it printed none).
pub(super) fn failed_calls(stdout: &str) -> u32 {
    // "  Failed call            |        0                  |        3  "
    stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("Failed call"))
        .filter_map(|l| l.rsplit('|').next()?.trim().parse::<u32>().ok())
        .next_back()
        .unwrap_or(u32::MAX)
}

/// An in-process server in `dir` whose one rule runs `scenario` for every destination (UDP
/// SIP and HTTP on ports the OS picks, RTP ports likewise).
pub(super) async fn bench_server(dir: &Path, scenario: &str) -> Result<Server, BenchError> {
    bench_server_with(dir, scenario, "").await
}

/// [`bench_server`] with more `[server]` settings (TOML lines).
pub(super) async fn bench_server_with(
    dir: &Path,
    scenario: &str,
    server_settings: &str,
) -> Result<Server, BenchError> {
    std::fs::write(dir.join("bench.voxengine.js"), scenario)?;
    let config_path = dir.join("dialtone.toml");
    std::fs::write(
        &config_path,
        format!(
            "[server]\nsip = \"127.0.0.1:0\"\nsip_tcp = false\nhttp = \"127.0.0.1:0\"\nrtp_ports = \"0\"\n\
             data_dir = {:?}\n{server_settings}\n[[application]]\nname = \"default\"\n[[application.rule]]\n\
             name = \"bench\"\npattern = \".*\"\nscenarios = [\"bench.voxengine.js\"]\n",
            dir.join("data").display().to_string()
        ),
    )?;
    let config = Config::from_file(&config_path).map_err(|e| BenchError::Peer(e.to_string()))?;
    Server::start_with(config, ServeOptions::default())
        .await
        .map_err(|e| BenchError::Peer(e.to_string()))
}

pub(super) fn write_tone(dir: &Path) -> Result<PathBuf, BenchError> {
    let samples: Vec<u8> = (0..16_000)
        .flat_map(|n| {
            let v = (6000.0 * (2.0 * std::f64::consts::PI * 440.0 * f64::from(n) / 8000.0).sin())
                as i16;
            v.to_le_bytes()
        })
        .collect();
    let path = dir.join("two-seconds.wav");
    std::fs::write(&path, wav::encode(wav::FORMAT_PCM, 1, 8000, 16, &samples))?;
    Ok(path)
}

/// Runs the benchmark at each of `rates` for `seconds` of call arrivals per rate.
pub async fn sip(rates: &[u32], seconds: u32) -> Result<SipReport, BenchError> {
    let dir = std::env::temp_dir().join(format!("dialtone-bench-sip-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    write_tone(&dir)?;
    let server = bench_server(&dir, SCENARIO).await?;
    let target = format!("127.0.0.1:{}", server.sip.udp.port());
    let xml = dir.join("uac.xml");
    std::fs::write(&xml, sipp_xml::answered_then_server_bye("", "", ""))?;
    let xml = xml.display().to_string();
    let mut dialtone = Vec::new();
    for &rate in rates {
        let media_port = free_media_base()?.to_string();
        let scenario = scenario_args(&xml, &media_port);
        let failed =
            tokio::task::block_in_place(|| run_load(&dir, &target, &scenario, rate, seconds))?;
        // Let every session finish before measuring the next rate.
        calls_drained(&server).await;
        dialtone.push(RateRun {
            rate,
            calls: rate * seconds,
            failed,
            answer_ms: percentiles(server.metrics().invite_to_answer.take_samples()),
            alerting_ms: percentiles(server.metrics().invite_to_alerting.take_samples()),
        });
    }
    let peak = peak_rss();
    server.shutdown(Duration::from_secs(5)).await;
    let sipp_ceiling = sipp_ceiling(&dir, rates, seconds, 2000).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(SipReport {
        dialtone,
        sipp_ceiling,
        peak_rss: peak,
    })
}

impl std::fmt::Display for SipReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "bench sip: SIPp uac -> Dialtone (answer, play 2 s, hang up), UDP on loopback"
        );
        let _ = writeln!(
            out,
            "{:>6} {:>6} {:>7} {:>17} {:>22}",
            "cps", "calls", "failed", "INVITE->200 p50/p99", "INVITE->alerting p50/p99"
        );
        for run in &self.dialtone {
            let _ = writeln!(
                out,
                "{:>6} {:>6} {:>7} {:>9.2}/{:<7.2}ms {:>12.2}/{:<7.2}ms",
                run.rate,
                run.calls,
                run.failed,
                run.answer_ms.0,
                run.answer_ms.1,
                run.alerting_ms.0,
                run.alerting_ms.1
            );
        }
        let ours = best_rate(self.dialtone.iter().map(|r| (r.rate, r.failed)));
        let theirs = best_rate(self.sipp_ceiling.iter().copied());
        let _ = writeln!(
            out,
            "SIPp uac -> SIPp uas (2 s calls), failed calls per rate: {}",
            self.sipp_ceiling
                .iter()
                .map(|(rate, failed)| format!("{rate} cps: {failed}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            out,
            "highest rate with 0 failed calls: Dialtone {ours} cps, SIPp against itself {theirs} cps \
             (ratio {:.2})",
            ratio(ours, theirs)
        );
        if let Some(run) = self.dialtone.iter().find(|r| r.rate == 200) {
            let _ = writeln!(
                out,
                "p99 INVITE->200 at 200 cps: {:.2} ms (target <= {} ms)",
                run.answer_ms.1,
                SETUP_P99_TARGET.as_millis()
            );
        }
        let _ = writeln!(
            out,
            "peak RSS (server and bench): {} MiB",
            self.peak_rss >> 20
        );
        f.write_str(&out)
    }
}

//! `dialtone bench bridge`: SIPp callers → Dialtone → SIPp callee, each call bridged by
//! `easyProcess` to an outbound leg (`callSIP`), at rising rates: failed calls, the setup of
//! the whole bridge (the caller's INVITE to our 200, which waits for the callee's answer:
//! p50/p99, measured in the server), and the memory each bridged call holds. In the same run
//! SIPp calls SIPp at the same rates (the ceiling of the load generator on this machine), so
//! the figure that counts is the ratio of the highest rates with 0 failed calls.

use std::fmt::Write as _;
use std::time::Duration;

use super::mcp::BenchError;
use super::sip::{
    bench_server, best_rate, calls_drained, failed_calls, percentiles, ratio, run_load_output,
    sipp_ceiling, sipp_uas,
};

/// Seconds each caller holds the bridged call before its BYE.
const HOLD_S: u32 = 2;

const SCENARIO: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const callee = VoxEngine.callSIP("sip:bench@127.0.0.1:CALLEE", { callerid: call.callerid() });
  VoxEngine.easyProcess(call, callee);
});
"#;

/// One rate's figures.
#[derive(Debug, Clone)]
pub struct BridgeRun {
    /// Calls per second asked of SIPp.
    pub rate: u32,
    /// Calls placed.
    pub calls: u32,
    /// Calls the callers' SIPp counted as failed.
    pub failed: u32,
    /// The caller's INVITE to our 200 (callee answered), (p50, p99) in ms.
    pub setup_ms: (f64, f64),
    /// Resident memory at the end of the rate's arrivals, above the idle server, per bridged
    /// call up then (bytes).
    pub rss_per_call: u64,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct BridgeReport {
    /// Dialtone at each rate.
    pub dialtone: Vec<BridgeRun>,
    /// SIPp uac → SIPp uas at each rate: (rate, failed calls).
    pub sipp_ceiling: Vec<(u32, u32)>,
}

/// Runs the benchmark at each of `rates` for `seconds` of call arrivals per rate.
pub async fn bridge(rates: &[u32], seconds: u32) -> Result<BridgeReport, BenchError> {
    let dir = std::env::temp_dir().join(format!("dialtone-bench-bridge-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (mut uas, uas_port) = sipp_uas(&dir, seconds * rates.len() as u32)?;
    let server = bench_server(&dir, &SCENARIO.replace("CALLEE", &uas_port.to_string())).await?;
    let target = format!("127.0.0.1:{}", server.sip.udp.port());
    let hold = (HOLD_S * 1000).to_string();
    let mut dialtone = Vec::new();
    for &rate in rates {
        let idle = super::sip::process_memory("VmRSS:");
        let (dir2, target2, hold2) = (dir.clone(), target.clone(), hold.clone());
        // The arrivals run in the foreground of a blocking thread while this task samples the
        // memory once the calls are up.
        let load = tokio::task::spawn_blocking(move || {
            let scenario = ["-sn", "uac", "-d", hold2.as_str(), "-s", "2000"];
            run_load_output(&dir2, &target2, &scenario, rate, seconds)
        });
        tokio::time::sleep(Duration::from_secs(u64::from(seconds.min(HOLD_S + 1)))).await;
        let up = server
            .metrics()
            .calls_active
            .load(std::sync::atomic::Ordering::Relaxed);
        let busy = super::sip::process_memory("VmRSS:");
        let stdout = load.await.map_err(|e| BenchError::Peer(e.to_string()))??;
        calls_drained(&server).await;
        dialtone.push(BridgeRun {
            rate,
            calls: rate * seconds,
            failed: failed_calls(&stdout),
            setup_ms: percentiles(server.metrics().invite_to_answer.take_samples()),
            rss_per_call: busy.saturating_sub(idle) / (up as u64).max(1),
        });
    }
    server.shutdown(Duration::from_secs(5)).await;
    let _ = uas.kill();
    let _ = uas.wait();
    let sipp_ceiling = sipp_ceiling(&dir, rates, seconds, HOLD_S * 1000).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(BridgeReport {
        dialtone,
        sipp_ceiling,
    })
}

impl std::fmt::Display for BridgeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "bench bridge: SIPp uac -> Dialtone (easyProcess + callSIP) -> SIPp uas, {HOLD_S} s calls, UDP on loopback"
        );
        let _ = writeln!(
            out,
            "{:>6} {:>6} {:>7} {:>24} {:>16}",
            "cps", "calls", "failed", "bridge setup p50/p99", "RSS per call"
        );
        for run in &self.dialtone {
            let _ = writeln!(
                out,
                "{:>6} {:>6} {:>7} {:>13.2}/{:<7.2}ms {:>12} KiB",
                run.rate,
                run.calls,
                run.failed,
                run.setup_ms.0,
                run.setup_ms.1,
                run.rss_per_call >> 10
            );
        }
        let ours = best_rate(self.dialtone.iter().map(|r| (r.rate, r.failed)));
        let theirs = best_rate(self.sipp_ceiling.iter().copied());
        let _ = writeln!(
            out,
            "SIPp uac -> SIPp uas ({HOLD_S} s calls), failed calls per rate: {}",
            self.sipp_ceiling
                .iter()
                .map(|(rate, failed)| format!("{rate} cps: {failed}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            out,
            "highest rate with 0 failed calls: Dialtone bridging {ours} cps, SIPp against itself {theirs} cps \
             (ratio {:.2}; target 1.00)",
            ratio(ours, theirs)
        );
        f.write_str(&out)
    }
}

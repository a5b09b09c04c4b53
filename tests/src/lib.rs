//! # dialtone-tests
//!
//! Integration tests for Dialtone. Test files live in `tests/tests/`; shared harness code here.
//!
//! # Layout
//!
//! - [`admin`]: a client of the admin HTTP API.
//! - [`browser`]: headless Chromium driving `/phone` and `/ui/sessions` (playwright-core), in
//!   a loopback-only network namespace.
//! - [`cluster`]: `dialtone serve` nodes as processes and Kamailio (`deploy/kamailio/`) in
//!   front of them, on loopback.
//! - [`fuzz`]: the fuzz targets (SIP datagrams, SDP, RTP/RTCP/RFC 4733, audio files); AFL
//!   drives them from `fuzz/bin/` (`fuzz/run`), `tests/fuzz_corpus.rs` replays the corpus.
//! - [`golden`]: runs `golden/<case>.voxengine.js` through the console on simulated time and
//!   compares the transcript with `golden/<case>.out` (`UPDATE_GOLDEN=1` rewrites them).
//! - [`media`]: media WebSocket peers (Pipecat's echo bot, the VoxEngine format checker).
//! - [`peers`]: real MCP servers (npm, PyPI) on loopback, stopped on drop.
//! - [`proxy`]: a TCP relay that counts connections (keep-alive checks).
//! - [`scenario`]: runs a scenario through the console on real time and returns its transcript.
//! - [`sip`]: an in-process `dialtone serve` on port 0, SIPp runs, the pjsua2 caller,
//!   recording levels measured with sox.
//! - [`webrtc`]: a webrtc-crate caller (Opus/PCMU, RFC 4733) for `/v1/webrtc/calls`.
//! - [`sipp_xml`]: the SIPp uac scenarios (shared with `dialtone bench sip`).
//! - `tests/golden.rs`: one `#[test]` per golden case.
//! - `tests/typings.rs`: `scenarios/types/dialtone.d.ts` against a live session.
//! - `tests/mcp_*.rs`: the MCP client against real servers (npm, PyPI) and faults.
//! - `tests/sip_sipp.rs`: SIP call flows from SIPp against an in-process `dialtone serve`.
//! - `tests/sip_softphone.rs`: pjsua2 calls (audio both ways, DTMF) and the reference MCP
//!   scenario on a SIP call.
//! - `tests/media_websocket.rs`: calls streamed over WebSockets (VoxEngine format checked
//!   message by message, Pipecat over Twilio Media Streams), media links; `media_wss.rs`:
//!   wss:// with trusted and unknown roots; `media_units.rs`: players, recorders, early media,
//!   MP3/Ogg/FLAC on softphone calls; `voice_agent.rs`: the voice-agent scenario end to end.
//! - `tests/webrtc_calls.rs`: browser calls from the webrtc-crate caller (signalling, SRTP,
//!   Opus, keys, hangups, tokens); `tests/webrtc_browser.rs`: the same from headless Chromium
//!   through `/phone`, five at once, and `/ui/sessions`.
//! - `tests/net.rs`: `Net` against Python's HTTP server; `tests/app_storage.rs`:
//!   `ApplicationStorage` through scenarios, the admin API, the CLI and a restart;
//!   `tests/asr.rs`: speech recognition of espeak-ng words (`--caller-audio`); `tests/acd.rs`:
//!   ACD queues with pjsua2 operators; `tests/gatekeeper.rs`: the example conference
//!   gatekeeper (IVR + storage + callConference) on a SIP call.
//! - `tests/admin_api.rs`: secrets, redaction, the admin API (401, route-test, hot reload),
//!   schemathesis against `/openapi.json`.
//! - `tests/store.rs`: the session history and ApplicationStorage suite run on both stores
//!   (SQLite, PostgreSQL), two nodes sharing one PostgreSQL, `dialtone store migrate`.
//! - `tests/cluster.rs`: three nodes behind Kamailio sharing PostgreSQL: the calls spread, the
//!   history seen from every node, a node killed mid-run.
//! - `tests/fuzz_corpus.rs`: the fuzz corpus replayed through the targets; `tests/soak.rs`: a
//!   short `bench soak` (no failed call, nothing leaked).
//! - `fuzz/run`: AFL++ on the fuzz targets (short in `run`, 10 million executions by default).
//! - `run`: the project's test command (installs peers, then fmt, clippy and the tests).

pub mod admin;
pub mod browser;
pub mod cluster;
pub mod fuzz;
pub mod golden;
pub mod media;
pub mod peers;
pub mod proxy;
pub mod scenario;
pub mod sip;
pub mod webrtc;

/// The throwaway PostgreSQL server lives with `dialtone bench cluster`, which runs one too.
pub use dialtone::bench::postgres;
/// The SIPp scenarios live with `dialtone bench sip`, which runs them too.
pub use dialtone::bench::sipp_xml;

use std::path::PathBuf;

/// Taken first by the tests that measure real-time audio (softphones, streams, mixers): the
/// harness runs a binary's tests in parallel, and on a 2-core machine two of them at once
/// starve each other's 20 ms clocks, which a correlation then reads as the test's failure.
pub fn realtime_audio() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `dialtone` binary, built now so it matches this source (for tests of the CLI).
pub fn dialtone_binary() -> anyhow::Result<PathBuf> {
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "dialtone", "--bin", "dialtone"])
        .current_dir(workspace_root())
        .status()?;
    anyhow::ensure!(status.success(), "cargo build of dialtone failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    Ok(target.join("debug/dialtone"))
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

//! Real browser calls: headless Debian Chromium (fake microphone fed from a WAV) opens
//! `/phone`, dials, hears the scenario, presses keys and hangs up, while `/ui/sessions` shows
//! the call live and then in the history with its timeline. Each test runs itself in a
//! loopback-only network namespace (see `dialtone_tests::browser`).

use std::time::Duration;

use anyhow::{Context, Result};
use dialtone_tests::browser::{drive_phone, in_loopback_namespace, tone_wav};
use dialtone_tests::sip::{TestServer, spoken_wav, stereo_levels};
use serde_json::Value;

const TOKEN: &str = "browser-test-admin-token";

/// The demo `dialtone serve` answers with on its embedded defaults.
const DEMO: &str = include_str!("../../scenarios/dtmf-echo.voxengine.js");

/// Records both sides while it speaks, until the caller hangs up.
const RECORD: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    call.record({ stereo: true });
    call.say("Hello browser. This is Dialtone, recording what you say. Hang up when you are done.");
  });
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
"#;

/// Plays `tone<N>.wav` in a loop to whoever dials `tone<N>`, until the caller hangs up.
const TONE: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => call.startPlayback(`${call.number()}.wav`, { loop: true }));
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`${call.number()} disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
"#;

fn server() -> Result<TestServer> {
    TestServer::start_managed(
        &[("^record$", RECORD), ("^tone[1-5]$", TONE), (".*", DEMO)],
        TOKEN,
        "",
    )
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn chromium_dials_the_demo_hears_it_presses_keys_and_the_demo_hangs_up() -> Result<()> {
    if !in_loopback_namespace(
        "chromium_dials_the_demo_hears_it_presses_keys_and_the_demo_hangs_up",
    )? {
        return Ok(());
    }
    let mut server = server()?;
    let shot = match std::env::var_os("UPDATE_DOCS") {
        Some(_) => dialtone_tests::workspace_root().join("docs/images/softphone.png"),
        None => server.dir.join("softphone.png"),
    };
    let out = drive_phone(
        server.http(),
        &[
            "--to",
            "100",
            "--keys",
            "12#",
            "--hangup",
            "scenario",
            "--token",
            TOKEN,
            "--screenshot",
            &shot.display().to_string(),
        ],
    )?;
    let [live, call, history] = &out[..] else {
        panic!("three reports expected: {out:?}");
    };
    // The page: connected, heard the greeting, sent the keys, saw the demo hang up.
    assert_eq!(call["status"], "ended: the scenario hung up", "{call}");
    assert!(call["peak"].as_f64().unwrap_or(0.0) > 0.01, "{call}");
    let log = strings(&call["log"]);
    for line in ["connected: 100", "sent 1", "sent 2", "sent #"] {
        assert!(log.contains(&line.to_owned()), "{line} not in {log:?}");
    }
    let png = std::fs::read(&shot)?;
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot of {} bytes",
        png.len()
    );
    // The demo heard the browser's keys.
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    let logs = records.logs();
    assert_eq!(
        logs,
        [
            "connected to chromium-100",
            "caller pressed 1",
            "caller pressed 2",
            "caller pressed #",
        ],
        "{logs:?}"
    );
    // The sessions page showed the call while it ran, then in the history with its timeline.
    let live = strings(&live["live"]);
    assert!(
        live.iter().any(|row| row.contains("chromium-100")),
        "{live:?}"
    );
    let recent = strings(&history["recent"]);
    assert!(
        recent
            .iter()
            .any(|row| row.contains("chromium-100") && row.contains("terminated by the scenario")),
        "{recent:?}"
    );
    let timeline = strings(&history["timeline"]);
    for line in [
        "▸ Call.Connected",
        "caller pressed 1",
        "▸ Call.Disconnected: hung up by the scenario",
    ] {
        assert!(
            timeline.contains(&line.to_owned()),
            "{line} not in {timeline:?}"
        );
    }
    Ok(())
}

#[test]
fn the_scenario_records_the_browsers_voice_until_the_page_hangs_up() -> Result<()> {
    if !in_loopback_namespace("the_scenario_records_the_browsers_voice_until_the_page_hangs_up")? {
        return Ok(());
    }
    let mut server = server()?;
    let mic = spoken_wav(
        &server.dir,
        "mic",
        "Hello from the browser. One two three four five.",
    )?;
    let out = drive_phone(
        server.http(),
        &[
            "--to",
            "record",
            "--wav",
            &mic.display().to_string(),
            "--talk",
            "3",
            "--hangup",
            "page",
        ],
    )?;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["status"], "ended: you hung up", "{}", out[0]);
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    assert_eq!(records.logs(), ["disconnected: the caller hung up"]);
    // Both sides recorded: the greeting left, the browser's fake microphone right (sox).
    let recording = records.recording().context("a finished recording")?;
    let (ours, browser) = stereo_levels(&recording)?;
    assert!(ours > 0.01, "no greeting in the recording (rms {ours})");
    assert!(
        browser > 0.01,
        "no browser speech in the recording (rms {browser})"
    );
    Ok(())
}

#[test]
fn five_browsers_at_once_each_hear_their_own_tone_and_hang_up_from_the_page() -> Result<()> {
    if !in_loopback_namespace(
        "five_browsers_at_once_each_hear_their_own_tone_and_hang_up_from_the_page",
    )? {
        return Ok(());
    }
    let mut server = server()?;
    for n in 1..=5 {
        tone_wav(&server.dir.join(format!("tone{n}.wav")), 200 + 200 * n, 5)?;
    }
    let out = drive_phone(
        server.http(),
        &["--to", "tone", "--calls", "5", "--hangup", "page"],
    )?;
    assert_eq!(out.len(), 5, "{out:?}");
    for call in &out {
        let number = call["number"].as_str().unwrap_or_default();
        let n: u32 = number.trim_start_matches("tone").parse()?;
        let expected = f64::from(200 + 200 * n);
        let heard = call["heardHz"].as_f64().unwrap_or(0.0);
        assert!(
            (heard - expected).abs() < 40.0,
            "{number} heard {heard} Hz, not its {expected} Hz: {call}"
        );
        assert_eq!(call["status"], "ended: you hung up", "{call}");
    }
    let records = server.until_sessions_end(5, Duration::from_secs(20))?;
    let mut logs = records.logs();
    logs.sort();
    let expected: Vec<String> = (1..=5)
        .map(|n| format!("tone{n} disconnected: the caller hung up"))
        .collect();
    assert_eq!(logs, expected);
    Ok(())
}

#[test]
fn a_browser_that_dies_mid_call_is_hung_up_when_ice_gives_up() -> Result<()> {
    if !in_loopback_namespace("a_browser_that_dies_mid_call_is_hung_up_when_ice_gives_up")? {
        return Ok(());
    }
    let mut server = server()?;
    let out = drive_phone(server.http(), &["--to", "record", "--hangup", "vanish"])?;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["status"], "connected: record", "{}", out[0]);
    // No DELETE and no DTLS close: ICE calls it disconnected after 5 s, the call gives it up
    // 5 s later.
    let records = server.until_sessions_end(1, Duration::from_secs(30))?;
    assert_eq!(
        records.logs(),
        ["disconnected: the browser's connection was lost (no ICE for 10 s)"]
    );
    Ok(())
}

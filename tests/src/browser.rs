//! Headless Debian Chromium driving Dialtone's pages (`tests/peers/browser_phone.mjs` on npm
//! playwright-core, installed by `tests/peers/install-browser-peers.sh`).
//!
//! Chromium offers ICE candidates on every interface; in a network namespace with only
//! loopback (and `--allow-loopback-in-peer-connection`) it offers 127.0.0.1 alone. A browser
//! test therefore runs itself again inside `unshare -n` ([`in_loopback_namespace`]): the
//! server, the page and the browser all live there, and nothing listens outside.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

const INSIDE: &str = "DIALTONE_TEST_IN_NETNS";

/// True when the calling test is to run its body here: it already runs in its own loopback
/// namespace. Otherwise runs `test` (its full name) of this test binary again inside one,
/// fails with its output if it fails, and returns false.
pub fn in_loopback_namespace(test: &str) -> Result<bool> {
    if std::env::var_os(INSIDE).is_some() {
        return Ok(true);
    }
    let exe = std::env::current_exe()?;
    // Root makes the namespace itself; anyone else maps to root in a user namespace first.
    let flag = if is_root() { "-n" } else { "-rn" };
    let output = Command::new("unshare")
        .args([
            flag,
            "--",
            "sh",
            "-c",
            "ip link set lo up && exec \"$@\"",
            "sh",
        ])
        .arg(&exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .context("unshare (util-linux; tests/run installs it)")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() || !text.contains("1 passed") {
        bail!("{test} in its own network namespace failed:\n{text}");
    }
    Ok(false)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

/// What the driver printed: one JSON value per line before `DONE`.
pub fn drive_phone(http: std::net::SocketAddr, args: &[&str]) -> Result<Vec<serde_json::Value>> {
    let root = crate::workspace_root();
    let peers = root.join("target/peers/browser");
    if !peers.join("node_modules/playwright-core").exists() {
        bail!("playwright-core is missing: run tests/run (it installs the browser peers)");
    }
    let output = Command::new("node")
        .arg(root.join("tests/peers/browser_phone.mjs"))
        .args(["--base", &format!("http://{http}")])
        .args(args)
        .env("BROWSER_PEERS", &peers)
        .output()
        .context("node")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !stdout.lines().any(|l| l == "DONE") {
        bail!(
            "the browser run failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).with_context(|| format!("driver line {l}")))
        .collect()
}

/// A WAV of a sine tone at `hz` (8 kHz mono, `seconds` long), made by sox.
pub fn tone_wav(path: &Path, hz: u32, seconds: u32) -> Result<()> {
    let status = Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
        .arg(path)
        .args([
            "synth",
            &seconds.to_string(),
            "sine",
            &hz.to_string(),
            "vol",
            "0.5",
        ])
        .status()
        .context("sox")?;
    if !status.success() {
        bail!("sox could not make {}", path.display());
    }
    Ok(())
}

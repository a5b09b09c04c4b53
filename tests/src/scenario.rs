//! Runs scenarios through the console on real time (network peers need real time) and
//! returns the transcript, for tests that assert on what happened.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use dialtone::console::{self, ConsoleOptions, TextTranscript};
use dialtone_bindings::host::EndReason;

/// A real-time run that has not ended after this long has hung: it fails instead of blocking
/// the suite.
const RUN_BOUND: std::time::Duration = std::time::Duration::from_secs(180);

/// A finished run.
#[derive(Debug)]
pub struct Run {
    /// The text transcript.
    pub transcript: String,
    /// Why the session ended.
    pub end: EndReason,
    /// Tasks still alive on the session's runtime once it ended (leak check; should be 0).
    pub tasks_left: usize,
}

impl Run {
    /// The `Logger.write` lines (first line of each), in order.
    pub fn logs(&self) -> Vec<String> {
        self.lines_of("log")
    }

    /// Lines of one kind (`log`, `warn`, `error`, `event`, `cmd`, `sim`), text after the kind.
    pub fn lines_of(&self, kind: &str) -> Vec<String> {
        let marker = format!("  {kind:<5}  ");
        self.transcript
            .lines()
            .filter_map(|l| l.split_once(&marker).map(|(_, rest)| rest.to_owned()))
            .collect()
    }
}

/// Log lines written as `label JSON` (`Logger.write(label + " " + JSON.stringify(value))`),
/// as `(label, value)` pairs.
pub fn labelled(lines: &[String]) -> Result<Vec<(String, serde_json::Value)>> {
    lines
        .iter()
        .map(|line| {
            let (label, json) = line
                .split_once(' ')
                .with_context(|| format!("'{line}' is not 'label JSON'"))?;
            let value =
                serde_json::from_str(json).with_context(|| format!("{line} is not JSON"))?;
            Ok((label.to_owned(), value))
        })
        .collect()
}

/// The value logged under `label` (null when there is none).
pub fn shown<'a>(lines: &'a [(String, serde_json::Value)], label: &str) -> &'a serde_json::Value {
    static NULL: serde_json::Value = serde_json::Value::Null;
    lines
        .iter()
        .find(|(l, _)| l == label)
        .map_or(&NULL, |(_, v)| v)
}

/// Writes `source` to a temporary scenario file and runs it with `options` (its `scenarios`
/// are replaced).
pub fn run_source(source: &str, mut options: ConsoleOptions) -> Result<Run> {
    let dir = std::env::temp_dir().join(format!(
        "dialtone-scenario-{}-{}",
        std::process::id(),
        uuid_like()
    ));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("test.voxengine.js");
    std::fs::write(&path, source)?;
    options.scenarios = vec![path];
    let run = run(&options);
    let _ = std::fs::remove_dir_all(&dir);
    run
}

/// Runs `options` through the console: on real time, or on a paused clock (as `dialtone
/// console --sim-time`) when `options.simulated_time` is set.
pub fn run(options: &ConsoleOptions) -> Result<Run> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(options.simulated_time)
        .build()?;
    let local = tokio::task::LocalSet::new();
    let mut out = TextTranscript(Vec::new());
    let console = console::run(options, &mut out);
    let end = if options.simulated_time {
        // A paused clock jumps over idle time, so a bound would fire at once; these runs
        // wait on simulated timers only.
        runtime.block_on(local.run_until(console))?
    } else {
        runtime
            .block_on(local.run_until(async { tokio::time::timeout(RUN_BOUND, console).await }))
            .map_err(|_| anyhow::anyhow!("the scenario did not end within {RUN_BOUND:?}"))??
    };
    // Closing connections wind down on their own; wait (bounded) until no task is left. A
    // leaked task is still there when the bound passes.
    let metrics = runtime.metrics();
    runtime.block_on(local.run_until(async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
        while metrics.num_alive_tasks() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }));
    let tasks_left = runtime.metrics().num_alive_tasks();
    Ok(Run {
        transcript: String::from_utf8(out.0)?,
        end,
        tasks_left,
    })
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// The reference VoxEngine MCP scenario, read from the `shared/seeds` directory beside the
/// checkout or beside one of its parents, or from `DIALTONE_SEEDS` when that is set (it is
/// Voximplant's documentation; it runs unchanged and is not copied into the project).
pub fn reference_mcp_scenario() -> Result<String> {
    let root = crate::workspace_root();
    let seeds = match std::env::var_os("DIALTONE_SEEDS") {
        Some(dir) => PathBuf::from(dir),
        None => root
            .ancestors()
            .map(|dir| dir.join("shared").join("seeds"))
            .find(|dir| dir.is_dir())
            .with_context(|| {
                format!(
                    "no shared/seeds directory beside {} or any of its parents (set DIALTONE_SEEDS to the directory of the seed documents)",
                    root.display()
                )
            })?,
    };
    let path: PathBuf = std::fs::read_dir(&seeds)
        .with_context(|| format!("reading {}", seeds.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("004_"))
        })
        .with_context(|| {
            format!(
                "no 004_* seed (the VoxEngine MCP doc) in {}",
                seeds.display()
            )
        })?;
    let text = std::fs::read_to_string(&path)?;
    let start = text
        .find("```javascript title=\"mcp-client-example.js\"")
        .context("the reference scenario's code block")?;
    let body = &text[start..];
    let body = &body[body.find('\n').context("code block")? + 1..];
    let end = body.find("\n```").context("end of the code block")?;
    Ok(body[..end].to_owned())
}

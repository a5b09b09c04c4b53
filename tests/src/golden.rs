//! Golden scenario tests: a case is `golden/<case>.voxengine.js` and its expected console
//! transcript `golden/<case>.out`, produced on simulated time so it is deterministic.
//!
//! A case file may start with directive comments that set console options:
//!
//! ```text
//! // @dtmf 12#                 digits the caller presses once connected
//! // @hangup-after 3s          the caller hangs up 3 s after the call starts
//! // @secret NAME=VALUE        a secret of the application (repeatable)
//! // @header X-Name: value     a header of the INVITE (repeatable)
//! // @limit callback_ms=100    a session limit (repeatable)
//! // @prepend path.js          evaluate this file first, relative to golden/ (repeatable)
//! // @scenario path.js         run this file instead of the case file
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use dialtone::console::{self, ConsoleOptions, TextTranscript, parse_duration};

/// The golden cases' directory.
pub fn golden_dir() -> PathBuf {
    crate::workspace_root().join("tests").join("golden")
}

/// Console options for a case, from its directives.
pub fn options_for(case_path: &Path) -> Result<ConsoleOptions> {
    let source = std::fs::read_to_string(case_path)
        .with_context(|| format!("reading {}", case_path.display()))?;
    let dir = case_path.parent().unwrap_or(Path::new("."));
    let mut options = ConsoleOptions::default();
    let mut prepend = Vec::new();
    let mut scenario = None;
    for line in source.lines() {
        let Some(directive) = line.trim().strip_prefix("// @") else {
            continue;
        };
        let (key, value) = directive.split_once(' ').unwrap_or((directive, ""));
        let value = value.trim();
        match key {
            "dtmf" => options.caller.dtmf = value.to_owned(),
            "hangup-after" => {
                options.caller.hangup_after =
                    Some(parse_duration(value).map_err(anyhow::Error::msg)?)
            }
            "secret" => {
                let (name, secret) = value.split_once('=').context("@secret NAME=VALUE")?;
                options.secrets.insert(name.into(), secret.into());
            }
            "header" => {
                let (name, header) = value.split_once(':').context("@header Name: value")?;
                options
                    .headers
                    .insert(name.trim().into(), header.trim().into());
            }
            "limit" => {
                let (name, number) = value.split_once('=').context("@limit name=value")?;
                let mut limits = serde_json::to_value(options.limits)?;
                limits[name.trim()] = serde_json::from_str(number.trim())?;
                options.limits =
                    serde_json::from_value(limits).with_context(|| format!("@limit {value}"))?;
            }
            "prepend" => prepend.push(dir.join(value)),
            "scenario" => scenario = Some(dir.join(value)),
            "from" => options.from = value.to_owned(),
            "to" => options.to = value.to_owned(),
            "no-call" => options.no_call = true,
            "custom-data" => options.custom_data = value.to_owned(),
            other => bail!("{}: unknown directive @{other}", case_path.display()),
        }
    }
    options.scenarios = prepend;
    options
        .scenarios
        .push(scenario.unwrap_or_else(|| case_path.to_owned()));
    Ok(options)
}

/// Runs `options` through the console on simulated time; returns the text transcript.
pub fn transcript(options: &ConsoleOptions) -> Result<String> {
    let options = &ConsoleOptions {
        simulated_time: true,
        ..options.clone()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    let local = tokio::task::LocalSet::new();
    let mut out = TextTranscript(Vec::new());
    runtime.block_on(local.run_until(console::run(options, &mut out)))?;
    Ok(String::from_utf8(out.0)?)
}

/// Runs the case `name` and compares its transcript with `<name>.out`.
pub fn check(name: &str) -> Result<()> {
    let dir = golden_dir();
    let case = dir.join(format!("{name}.voxengine.js"));
    let expected_path = dir.join(format!("{name}.out"));
    let actual = transcript(&options_for(&case)?)?;
    if update_requested(
        std::env::var_os("UPDATE_GOLDEN").as_deref(),
        std::env::var_os("CI").as_deref(),
    )? {
        std::fs::write(&expected_path, &actual)?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(&expected_path).with_context(|| {
        format!(
            "reading {} (run with UPDATE_GOLDEN=1 to create it)",
            expected_path.display()
        )
    })?;
    if actual != expected {
        bail!(
            "golden case {name}: transcript differs from {}\n--- expected\n{expected}--- actual\n{actual}",
            expected_path.display()
        );
    }
    Ok(())
}

/// Whether to rewrite the `.out` files: `UPDATE_GOLDEN` is set, and never under CI (a run
/// that rewrites what it checks cannot fail).
fn update_requested(
    update: Option<&std::ffi::OsStr>,
    ci: Option<&std::ffi::OsStr>,
) -> Result<bool> {
    let on = |value: Option<&std::ffi::OsStr>| {
        value.is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
    };
    match (update.is_some(), on(ci)) {
        (true, true) => bail!(
            "UPDATE_GOLDEN is refused under CI: golden files are updated by a developer and committed"
        ),
        (update, _) => Ok(update),
    }
}

#[cfg(test)]
mod tests {
    use super::update_requested;
    use std::ffi::OsStr;

    #[test]
    fn update_golden_is_refused_under_ci() {
        let yes = Some(OsStr::new("1"));
        assert!(update_requested(yes, None).expect("allowed"));
        assert!(!update_requested(None, Some(OsStr::new("true"))).expect("checking"));
        assert!(update_requested(yes, Some(OsStr::new("false"))).expect("not CI"));
        let refused = update_requested(yes, Some(OsStr::new("true"))).expect_err("refused");
        assert_eq!(
            refused.to_string(),
            "UPDATE_GOLDEN is refused under CI: golden files are updated by a developer and committed"
        );
    }
}

//! The `dialtone` binary's commands, run as a newcomer would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dialtone(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the dialtone binary runs")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dialtone-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn console_hello_answers_says_and_hangs_up() {
    let out = dialtone(
        &["console", "scenarios/hello.voxengine.js", "--sim-time"],
        &root(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let answer = stdout.find("cmd    call-1 answer").expect("answer");
    let say = stdout.find("cmd    call-1 say").expect("say");
    let hangup = stdout.find("cmd    call-1 hangup").expect("hangup");
    assert!(answer < say && say < hangup, "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("end    terminated by the scenario"),
        "{stdout}"
    );
}

#[test]
fn console_json_lines_and_options() {
    let out = dialtone(
        &[
            "console",
            "scenarios/hello.voxengine.js",
            "--sim-time",
            "--json",
            "--from",
            "+15550100",
            "--header",
            "X-Campaign: spring",
        ],
        &root(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let alerting = lines
        .iter()
        .find(|l| l["name"] == "Application.CallAlerting")
        .expect("alerting event");
    assert_eq!(alerting["payload"]["callerid"], "+15550100");
    assert_eq!(alerting["payload"]["headers"]["X-Campaign"], "spring");
    let end = lines.last().expect("lines");
    assert_eq!(end["kind"], "end");
    assert_eq!(end["normal"], true);
}

#[test]
fn console_exits_non_zero_with_the_reason() {
    let dir = temp_dir("fail");
    std::fs::write(
        dir.join("bad.voxengine.js"),
        "VoxEngine.addEventListener(AppEvents.Started, () => { throw new Error('boom'); });",
    )
    .expect("write");
    let out = dialtone(&["console", "bad.voxengine.js", "--sim-time"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("session ended abnormally: uncaught error: Error: boom"),
        "{}",
        text(&out.stderr)
    );

    let out = dialtone(&["console", "missing.voxengine.js"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read scenario missing.voxengine.js"),
        "{}",
        text(&out.stderr)
    );

    let out = dialtone(
        &["console", "bad.voxengine.js", "--header", "no-colon"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid --header"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn route_explains_the_match_and_every_miss() {
    let dir = temp_dir("route");
    std::fs::write(
        dir.join("dialtone.toml"),
        r#"
[[application]]
name = "default"
[[application.rule]]
name = "support"
pattern = "1\\d{2}"
exclude = "199"
scenarios = ["lib.js", "support.js"]
"#,
    )
    .expect("write");
    let out = dialtone(&["route", "--to", "123", "--config", "dialtone.toml"], &dir);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("destination '123' -> application 'default', rule 'support'"),
        "{stdout}"
    );
    assert!(
        stdout.contains("scenarios (evaluated in this order): lib.js, support.js"),
        "{stdout}"
    );

    let out = dialtone(&["route", "--to", "199", "--config", "dialtone.toml"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("matched no rule of application 'default' (a SIP call would get 404)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule 'support': pattern matches, but exclude '199' matches too"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn embedded_defaults_work_outside_the_repository() {
    let dir = temp_dir("embedded");
    let out = dialtone(&["route", "--to", "5550100"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("config: (embedded default)"));
    std::fs::remove_dir_all(dir).expect("cleanup");
}

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

/// `dialtone serve` on the embedded defaults (from a directory without a config), with ports
/// chosen by the OS: it reports where it listens, answers /health and /metrics and a SIP
/// OPTIONS, and stops on SIGTERM.
#[test]
fn serve_runs_on_embedded_defaults_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = temp_dir("serve");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["serve", "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .args(["--rtp-ports", "0", "--threads", "1"])
        .current_dir(&dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let (mut sip, mut http) = (None, None);
    for _ in 0..20 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(at) = line.split("SIP listening on udp:").nth(1) {
            sip = at.split_whitespace().next().map(str::to_owned);
        }
        if let Some(at) = line.split("HTTP listening on http://").nth(1) {
            http = at.split_whitespace().next().map(str::to_owned);
        }
        if sip.is_some() && http.is_some() {
            break;
        }
    }
    let (sip, http) = (
        sip.expect("SIP address logged"),
        http.expect("HTTP address logged"),
    );
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&http).expect("HTTP connects");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    };
    let health = get("/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""status":"ok""#), "{health}");
    let metrics = get("/metrics");
    assert!(
        metrics.contains("dialtone_calls_total{result=\"answered\"} 0"),
        "{metrics}"
    );
    // A SIP OPTIONS over UDP gets 200 OK.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    let local = socket.local_addr().expect("addr");
    let options = format!(
        "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKcli1\r\n\
         From: <sip:cli@{local}>;tag=1\r\nTo: <sip:{sip}>\r\nCall-ID: cli-options-1\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    socket
        .send_to(options.as_bytes(), &sip)
        .expect("send OPTIONS");
    let mut buf = [0u8; 4096];
    let (len, _) = socket.recv_from(&mut buf).expect("a response to OPTIONS");
    let response = text(&buf[..len]);
    assert!(response.starts_with("SIP/2.0 200"), "{response}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit}");
    let _ = std::fs::remove_dir_all(&dir);
}

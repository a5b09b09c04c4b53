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
        metrics.contains("dialtone_calls_total{application=\"default\",result=\"answered\"} 0"),
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
    assert!(
        response.contains("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REGISTER\r\n"),
        "{response}"
    );
    // A method served nowhere: 405 with the same Allow (RFC 3261 21.4.6).
    let subscribe = options
        .replace("OPTIONS", "SUBSCRIBE")
        .replace("cli-options-1", "cli-subscribe-1");
    socket
        .send_to(subscribe.as_bytes(), &sip)
        .expect("send SUBSCRIBE");
    let (len, _) = socket.recv_from(&mut buf).expect("a response to SUBSCRIBE");
    let response = text(&buf[..len]);
    assert!(response.starts_with("SIP/2.0 405"), "{response}");
    assert!(response.contains("Allow: INVITE"), "{response}");
    // 200 datagrams of garbage with control bytes: dropped, and logged as one short line.
    let garbage = format!("INVITE \u{1b}[2J\r\n{}", "x".repeat(3000));
    for _ in 0..200 {
        socket
            .send_to(garbage.as_bytes(), &sip)
            .expect("send garbage");
    }
    socket
        .send_to(
            options.replace("cli-options-1", "cli-options-2").as_bytes(),
            &sip,
        )
        .expect("send OPTIONS");
    let (len, _) = socket.recv_from(&mut buf).expect("OPTIONS still answered");
    assert!(text(&buf[..len]).starts_with("SIP/2.0 200"));
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
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let malformed: Vec<&String> = rest
        .iter()
        .filter(|l| l.contains("dropped a SIP message"))
        .collect();
    assert_eq!(malformed.len(), 1, "{rest:#?}");
    assert!(malformed[0].len() < 400, "{}", malformed[0]);
    assert!(
        !malformed[0].contains('\u{1b}'),
        "raw control bytes: {}",
        malformed[0]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const KEY_A: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const KEY_B: &str = "2222222222222222222222222222222222222222222222222222222222222222";

/// A config in `dir` whose data dir is `dir/data`, HTTP on `http`, and one scenario that
/// reports what it can see of secret TOKEN.
fn secrets_config(dir: &Path, http: &str) -> PathBuf {
    let scenario = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const token = VoxEngine.getSecretValue("TOKEN");
  Logger.write(`token ${token} (${token.length} chars)`);
  VoxEngine.terminate();
});
"#;
    std::fs::write(dir.join("secret.voxengine.js"), scenario).expect("scenario");
    let config = format!(
        "[server]\nhttp = \"{http}\"\nsip = \"127.0.0.1:0\"\nrtp_ports = \"0\"\ndata_dir = \"data\"\n\n\
         [[application]]\nname = \"default\"\n[[application.rule]]\nname = \"all\"\npattern = \".*\"\n\
         scenarios = [\"secret.voxengine.js\"]\n"
    );
    let path = dir.join("dialtone.toml");
    std::fs::write(&path, config).expect("config");
    path
}

/// Runs `dialtone ARGS --config dialtone.toml` in `cwd` with only the master key `key` in the
/// environment and `stdin` as input.
fn dialtone_with(args: &[&str], cwd: &Path, key: Option<&str>, stdin: &str) -> Output {
    use std::io::Write as _;
    let mut command = Command::new(env!("CARGO_BIN_EXE_dialtone"));
    command
        .args(args)
        .args(["--config", "dialtone.toml"])
        .current_dir(cwd)
        .env_remove("DIALTONE_MASTER_KEY")
        .env_remove("DIALTONE_ADMIN_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(key) = key {
        command.env("DIALTONE_MASTER_KEY", key);
    }
    let mut child = command.spawn().expect("dialtone runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("dialtone exits")
}

/// Offline (no server at the config's HTTP address): the CLI edits the encrypted store, reads
/// values from stdin only, never prints them, and `console --app` runs with them. A wrong or
/// missing key is a clear error, for the CLI and for `serve`.
#[test]
fn secrets_cli_stores_encrypted_values_and_a_wrong_key_stops_serve() {
    let dir = temp_dir("secrets");
    // Port 1: nothing listens, so the CLI works on the files.
    secrets_config(&dir, "127.0.0.1:1");
    let value = "pa55-from-stdin-9c2e";
    let set = dialtone_with(
        &[
            "secrets",
            "set",
            "default",
            "TOKEN",
            "--description",
            "for tests",
        ],
        &dir,
        Some(KEY_A),
        &format!("{value}\n"),
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    let list = dialtone_with(&["secrets", "list", "default"], &dir, Some(KEY_A), "");
    let listed = text(&list.stdout);
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert!(
        listed.contains("TOKEN") && listed.contains("for tests"),
        "{listed}"
    );
    assert!(!listed.contains(value), "{listed}");
    let unknown = dialtone_with(&["secrets", "list", "nope"], &dir, Some(KEY_A), "");
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no application named 'nope'"));

    let console = dialtone_with(
        &["console", "--app", "default", "secret.voxengine.js"],
        &dir,
        Some(KEY_A),
        "",
    );
    let transcript = text(&console.stdout);
    assert!(
        transcript.contains(&format!("token *** ({} chars)", value.len())),
        "{transcript}"
    );
    assert!(!transcript.contains(value), "{transcript}");

    for entry in std::fs::read_dir(dir.join("data")).expect("data dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        assert!(!bytes.windows(value.len()).any(|w| w == value.as_bytes()));
    }

    // serve with another key: a clear error, exit code 2, before listening.
    let serve = dialtone_with(&["serve"], &dir, Some(KEY_B), "");
    assert_eq!(serve.status.code(), Some(2));
    let stderr = text(&serve.stderr);
    assert!(
        stderr.contains("does not open the secret store") && stderr.contains("DIALTONE_MASTER_KEY"),
        "{stderr}"
    );
    // No key at all, while a store exists: also clear.
    let list = dialtone_with(&["secrets", "list", "default"], &dir, None, "");
    assert!(!list.status.success());
    assert!(
        text(&list.stderr).contains("exists but there is no master key"),
        "{}",
        text(&list.stderr)
    );

    let rm = dialtone_with(
        &["secrets", "rm", "default", "TOKEN"],
        &dir,
        Some(KEY_A),
        "",
    );
    assert!(rm.status.success(), "{}", text(&rm.stderr));
    let again = dialtone_with(
        &["secrets", "rm", "default", "TOKEN"],
        &dir,
        Some(KEY_A),
        "",
    );
    assert!(!again.status.success());
    let _ = std::fs::remove_dir_all(dir);
}

/// With a server running at the config's HTTP address, the CLI goes through its admin API
/// (token from the data dir's admin.token), so the running server sees the change; SIGHUP
/// makes it read an edited config file.
#[test]
fn secrets_cli_talks_to_a_running_server() {
    use std::io::{BufRead, BufReader};
    let dir = temp_dir("secrets-api");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let http = format!("127.0.0.1:{port}");
    secrets_config(&dir, &http);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["serve", "--config", "dialtone.toml", "--threads", "1"])
        .current_dir(&dir)
        .env("DIALTONE_MASTER_KEY", KEY_A)
        .env_remove("DIALTONE_ADMIN_TOKEN")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut listening = false;
    for _ in 0..20 {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains("HTTP listening on") {
            listening = true;
            break;
        }
    }
    let set = dialtone_with(
        &["secrets", "set", "default", "API_TOKEN"],
        &dir,
        None,
        "v-123\n",
    );
    let route = dialtone_with(&["route", "--to", "555"], &dir, None, "");
    let list = dialtone_with(&["secrets", "list", "default"], &dir, None, "");
    // An edit of the config file reaches the running server on SIGHUP.
    let config = std::fs::read_to_string(dir.join("dialtone.toml")).expect("config");
    let edited = config.replace("pattern = \".*\"", "pattern = \"9.*\"");
    std::fs::write(dir.join("dialtone.toml"), edited).expect("edit config");
    let _ = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status();
    let route_args = ["route", "--to", "555"];
    let mut rerouted = None;
    for _ in 0..50 {
        let out = dialtone_with(&route_args, &dir, None, "");
        if !out.status.success() {
            rerouted = Some(text(&out.stdout));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let rerouted = rerouted.expect("after SIGHUP, 555 matches no rule");
    assert!(
        rerouted.contains("rule 'all': pattern '9.*' does not match")
            && rerouted.contains(&format!("server: http://{http}")),
        "{rerouted}"
    );
    assert!(listening, "serve did not start");
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        text(&set.stdout).contains(&format!("server http://{http}")),
        "{}",
        text(&set.stdout)
    );
    let listed = text(&list.stdout);
    assert!(
        listed.contains("API_TOKEN") && !listed.contains("v-123"),
        "{listed}"
    );
    let routed = text(&route.stdout);
    assert!(
        routed.contains("rule 'all'") && routed.contains(&format!("server: http://{http}")),
        "{routed}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `dialtone users add/list/rm` on the data directory's store: the password comes from stdin
/// and only its digest hashes are written; a short password and an unknown user are refused
/// in words.
#[test]
fn users_cli_adds_lists_and_removes_users_without_storing_passwords() {
    let dir = temp_dir("users");
    secrets_config(&dir, "127.0.0.1:1");
    let password = "desk-phone-pass-41";
    let add = dialtone_with(
        &[
            "users",
            "add",
            "default",
            "alice",
            "--display-name",
            "Alice",
        ],
        &dir,
        None,
        &format!("{password}\n"),
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    assert_eq!(
        text(&add.stdout),
        "user 'alice' of application 'default' added\n"
    );
    let list = dialtone_with(&["users", "list", "default"], &dir, None, "");
    let listed = text(&list.stdout);
    assert!(
        listed.starts_with("alice ") && listed.contains("Alice"),
        "{listed}"
    );
    let stored = std::fs::read_to_string(dir.join("data/users.json")).expect("users.json");
    assert!(!stored.contains(password), "{stored}");
    let short = dialtone_with(&["users", "add", "default", "bob"], &dir, None, "short\n");
    assert!(!short.status.success());
    assert!(
        text(&short.stderr).contains("a password must be 8 to 128 characters on one line"),
        "{}",
        text(&short.stderr)
    );
    let rm = dialtone_with(&["users", "rm", "default", "alice"], &dir, None, "");
    assert!(rm.status.success(), "{}", text(&rm.stderr));
    let again = dialtone_with(&["users", "rm", "default", "alice"], &dir, None, "");
    assert!(
        text(&again.stderr).contains("application 'default' has no user named 'alice'"),
        "{}",
        text(&again.stderr)
    );
    let empty = dialtone_with(&["users", "list", "default"], &dir, None, "");
    assert_eq!(text(&empty.stdout), "application 'default' has no users\n");
}

//! `wss://` WebSockets over rustls with the platform's roots: a server whose certificate
//! chains to a trusted root opens and echoes; one signed by an unknown authority is refused
//! with ERROR then CLOSE 1006 naming why.
//!
//! The trusted roots are read once per process (on Linux from `SSL_CERT_FILE` when it is
//! set), so this binary holds one test, which points `SSL_CERT_FILE` at test authority A
//! before any socket exists.

use anyhow::Result;
use dialtone::console::ConsoleOptions;
use dialtone_tests::media::voxengine_checker;
use dialtone_tests::peers::make_test_certificates;
use dialtone_tests::scenario::run_source;

const SCENARIO: &str = r#"
const open = (label, url) => new Promise((resolve) => {
  const ws = VoxEngine.createWebSocket(url);
  ws.addEventListener(WebSocketEvents.OPEN, () => ws.send(`hello ${label}`));
  ws.addEventListener(WebSocketEvents.MESSAGE, (e) => { Logger.write(`${label} ${e.text}`); ws.close(); });
  ws.addEventListener(WebSocketEvents.ERROR, (e) => Logger.write(`${label} error: ${e.error}`));
  ws.addEventListener(WebSocketEvents.CLOSE, (e) => {
    Logger.write(`${label} close ${e.code} ${e.wasClean}`);
    resolve();
  });
});
VoxEngine.addEventListener(AppEvents.Started, async () => {
  await open("trusted", "GOOD_URL");
  await open("untrusted", "BAD_URL");
  VoxEngine.terminate();
});
"#;

#[test]
fn wss_works_with_a_trusted_root_and_names_an_untrusted_one() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("dialtone-wss-{}", std::process::id()));
    make_test_certificates(&dir)?;
    // SAFETY: the only test in this binary, and no other thread has started that could read
    // the environment (servers start after this; the session starts later still).
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("SSL_CERT_FILE", dir.join("ca-a.pem"));
    }
    let pem = |name: &str| dir.join(name).display().to_string();
    let trusted = voxengine_checker(&["--tls", &pem("a.pem"), &pem("a.key")])?;
    let untrusted = voxengine_checker(&["--tls", &pem("b.pem"), &pem("b.key")])?;
    let source = SCENARIO
        .replace(
            "GOOD_URL",
            &format!("wss://127.0.0.1:{}/stream", trusted.port),
        )
        .replace(
            "BAD_URL",
            &format!("wss://127.0.0.1:{}/stream", untrusted.port),
        );
    let run = run_source(&source, ConsoleOptions::default())?;
    let _ = std::fs::remove_dir_all(&dir);
    let refused = format!(
        "cannot connect to wss://127.0.0.1:{}: TLS: invalid peer certificate: UnknownIssuer",
        untrusted.port
    );
    assert_eq!(
        run.logs(),
        [
            "trusted echo:hello trusted".to_owned(),
            "trusted close 1000 true".to_owned(),
            format!("untrusted error: {refused}"),
            "untrusted close 1006 false".to_owned(),
        ],
        "{}",
        run.transcript
    );
    Ok(())
}

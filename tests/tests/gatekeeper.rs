//! The example conference gatekeeper (`scenarios/conference-gatekeeper.voxengine.js`), run
//! unchanged on a SIP call: a pjsua2 caller keys in a PIN (RFC 4733) during the IVR prompt,
//! the PIN is looked up in the application's storage (written through the admin API), and the
//! caller joins the conference room it names through `callConference`.

use std::time::Duration;

use anyhow::Result;
use dialtone_tests::admin::Api;
use dialtone_tests::sip::{TestServer, caller_wav, pjsua2_call, temp_dir};
use reqwest::Method;
use serde_json::json;

const TOKEN: &str = "gatekeeper-test-token-0123456789";

/// The room: answers whoever the gatekeeper sends and says so.
const ROOM: &str = r#"
require(Modules.Conference);
const conf = VoxEngine.createConference();
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, destination }) => {
  call.addEventListener(CallEvents.Connected, () => {
    conf.add({ call });
    Logger.write(`${call.callerid()} joined ${destination}`);
  });
  call.answer();
});
conf.addEventListener(ConferenceEvents.EndpointRemoved, () => {
  if (conf.getList().length === 0) VoxEngine.terminate();
});
"#;

#[test]
fn a_caller_with_the_right_pin_joins_the_conference_it_opens() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let gatekeeper = std::fs::read_to_string(
        dialtone_tests::workspace_root().join("scenarios/conference-gatekeeper.voxengine.js"),
    )?;
    let mut server = TestServer::start_managed(&[("room1", ROOM), (".*", &gatekeeper)], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let stored = api.json(
        Method::PUT,
        "/applications/default/storage/pin:2468",
        Some(json!({"value": "room1"})),
    )?;
    assert_eq!(stored.status, 200, "{:?}", stored.body);
    let dir = temp_dir("gatekeeper")?;
    let says = caller_wav(&dir)?;
    // The PIN goes in 2 s after the answer, while the prompt still plays.
    let output = pjsua2_call(
        server.sip_port(),
        &says,
        8,
        &dir.join("heard.wav"),
        "2468",
        2.0,
    )?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    let mut logs = server
        .until_sessions_end(2, Duration::from_secs(30))?
        .logs();
    logs.sort();
    assert_eq!(logs, ["PIN 2468: joining room1", "pjsua joined room1"]);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

//! The conference mixer with three real softphones: a session started over the admin API
//! calls three pjsua2 phones and puts each into one conference (`conf.add({call})`); and three
//! pjsua2 callers whose sessions each join the shared room session with
//! `VoxEngine.callConference`. Each phone speaks in its own time window; each must hear the
//! other two (found in its recording by cross-correlation, numpy) and not itself.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use dialtone_tests::admin::Api;
use dialtone_tests::media::{echo_of, pjsua2_callee, speech_heard};
use dialtone_tests::sip::{TestServer, pjsua2_call, sox_rms, spoken_wav, temp_dir};
use reqwest::Method;
use serde_json::json;

const TOKEN: &str = "conference-test-token-0123456789";

const DIAL_THREE: &str = r#"
require(Modules.Conference);
VoxEngine.addEventListener(AppEvents.Started, () => {
  const conf = VoxEngine.createConference();
  const ports = JSON.parse(VoxEngine.customData());
  let joined = 0, left = 0;
  for (const port of ports) {
    const call = VoxEngine.callSIP(`sip:party@127.0.0.1:${port}`, { callerid: "conference" });
    call.addEventListener(CallEvents.Connected, () => {
      conf.add({ call });
      if (++joined === ports.length) Logger.write(`all ${joined} joined`);
    });
    call.addEventListener(CallEvents.Failed, (e) => Logger.write(`${port} failed: ${e.code}`));
  }
  conf.addEventListener(ConferenceEvents.EndpointRemoved, () => {
    if (++left === ports.length) VoxEngine.terminate();
  });
  setTimeout(() => conf.getList().forEach((endpoint) => endpoint.getCall().hangup()), 14000);
});
"#;

/// `text` spoken, then silence: the speech starts `pad_s` seconds into the file.
fn speech_at(
    dir: &std::path::Path,
    name: &str,
    text: &str,
    pad_s: f32,
) -> Result<std::path::PathBuf> {
    let spoken = spoken_wav(dir, &format!("{name}-raw"), text)?;
    let padded = dir.join(format!("{name}.wav"));
    let status = Command::new("sox")
        .arg(&spoken)
        .arg(&padded)
        .args(["pad", &pad_s.to_string(), "trim", "0", "11"])
        .status()
        .context("sox (tests/run installs it)")?;
    if !status.success() {
        bail!("sox pad failed: {status}");
    }
    Ok(padded)
}

#[test]
fn three_phones_in_a_conference_each_hear_the_other_two_and_not_themselves() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let dir = temp_dir("conference")?;
    let texts = [
        ("alpha", "Alpha speaking. One two three four.", 0.5),
        ("bravo", "Bravo here. Five six seven eight.", 3.5),
        ("charlie", "Charlie now. Nine ten eleven twelve.", 6.5),
    ];
    let mut says = Vec::new();
    let mut phones = Vec::new();
    for (name, text, pad) in texts {
        let wav = speech_at(&dir, name, text, pad)?;
        let heard = dir.join(format!("{name}-heard.wav"));
        phones.push(pjsua2_callee(&wav, &heard, 40, None)?);
        says.push((name, wav, heard));
    }
    let ports: Vec<u16> = phones.iter().map(|p| p.port).collect();
    let mut server = TestServer::start_managed(&[("conference", DIAL_THREE)], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let started = api.json(
        Method::POST,
        "/applications/default/sessions",
        Some(json!({"rule": "rule0", "customData": json!(ports).to_string()})),
    )?;
    assert_eq!(started.status, 201, "{:?}", started.body);
    for phone in &mut phones {
        phone.wait_for("STATE DISCONNECTED", Duration::from_secs(30))?;
    }
    let logs = server
        .until_sessions_end(1, Duration::from_secs(30))?
        .logs();
    assert_eq!(logs, ["all 3 joined"]);
    for phone in &mut phones {
        phone.wait_exit(Duration::from_secs(10))?;
    }
    each_hears_the_others(&says)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Each phone hears the other two and not itself.
fn each_hears_the_others(says: &[(&str, std::path::PathBuf, std::path::PathBuf)]) -> Result<()> {
    for (name, _, heard) in says {
        let rms = sox_rms(heard, None)?;
        assert!(rms > 0.005, "{name} heard silence (rms {rms})");
        for (other, sent, _) in says {
            let (lag_ms, peak) = if other == name {
                echo_of(sent, heard, 3000)?
            } else {
                speech_heard(sent, heard, 3000)?
            };
            eprintln!("{name} hears {other}: correlation {peak} at {lag_ms} ms");
            if other == name {
                assert!(
                    peak < 0.3,
                    "{name} heard itself (correlation {peak} at {lag_ms} ms)"
                );
            } else {
                assert!(
                    peak > 0.5,
                    "{name} did not hear {other} (correlation {peak} at {lag_ms} ms)"
                );
            }
        }
    }
    Ok(())
}

const JOIN_ROOM: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const room = VoxEngine.callConference("room1", call.callerid(), call.displayName());
  VoxEngine.easyProcess(call, room);
});
"#;

const ROOM: &str = r#"
require(Modules.Conference);
const conf = VoxEngine.createConference();
let joined = 0;
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, destination }) => {
  call.addEventListener(CallEvents.Connected, () => {
    conf.add({ call });
    if (++joined === 3) Logger.write(`all 3 joined ${destination} (${call.clientType()})`);
  });
  call.answer();
});
conf.addEventListener(ConferenceEvents.EndpointRemoved, () => {
  if (conf.getList().length === 0) VoxEngine.terminate();
});
"#;

#[test]
fn three_callers_join_one_room_with_call_conference_and_hear_each_other() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let dir = temp_dir("room")?;
    let texts = [
        ("alpha", "Alpha speaking. One two three four.", 1.0),
        ("bravo", "Bravo here. Five six seven eight.", 4.0),
        ("charlie", "Charlie now. Nine ten eleven twelve.", 7.0),
    ];
    let mut says = Vec::new();
    for (name, text, pad) in texts {
        let wav = speech_at(&dir, name, text, pad)?;
        says.push((name, wav, dir.join(format!("{name}-heard.wav"))));
    }
    let mut server = TestServer::start(&[("room1", ROOM), (".*", JOIN_ROOM)])?;
    let port = server.sip_port();
    let callers: Vec<_> = says
        .iter()
        .map(|(_, wav, heard)| {
            let (wav, heard) = (wav.clone(), heard.clone());
            std::thread::spawn(move || pjsua2_call(port, &wav, 14, &heard, "", 0.0))
        })
        .collect();
    for caller in callers {
        let output = caller.join().expect("caller thread")?;
        assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    }
    let logs = server
        .until_sessions_end(4, Duration::from_secs(30))?
        .logs();
    assert!(
        logs.contains(&"all 3 joined room1 (conference)".to_owned()),
        "{logs:?}"
    );
    each_hears_the_others(&says)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

//! Players and recorders as media units on a real SIP call (pjsua2): a ToneScript player and
//! a TTS player routed to the caller, a recorder mixing the caller and the tone; what the
//! caller heard and what was recorded are measured with sox, not with our own WAV code.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use dialtone_tests::sip::{TestServer, caller_wav, pjsua2_call};

const SCENARIO: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    require(Modules.Recorder);
    const recorder = VoxEngine.createRecorder({ name: "conversation" });
    recorder.addEventListener(RecorderEvents.Started, (e) => Logger.write(`recorder started ${e.url}`));
    recorder.addEventListener(RecorderEvents.Stopped, (e) => {
      Logger.write(`recorder stopped after ${e.duration} s`);
      VoxEngine.terminate();
    });
    call.sendMediaTo(recorder);
    const tone = VoxEngine.createToneScriptPlayer("1000@-10;2(*/0/1)");
    tone.sendMediaTo(call);
    tone.sendMediaTo(recorder);
    tone.addEventListener(PlayerEvents.Started, (e) => Logger.write(`tone started ${e.duration} ms`));
    tone.addEventListener(PlayerEvents.PlaybackFinished, () => {
      const speech = VoxEngine.createTTSPlayer("Your call is important to us. Please hold.",
        { voice: VoiceList.Google.xx_YY_Standard_A });
      speech.sendMediaTo(call);
      speech.addEventListener(PlayerEvents.PlaybackFinished, () => {
        Logger.write("speech finished");
        recorder.stop();
        call.hangup();
      });
    });
  });
  call.answer();
});
"#;

/// `sox FILE -n trim START LENGTH stat`, as a map of its labels to values.
fn sox_stat(path: &Path, start: f64, length: f64) -> Result<BTreeMap<String, f64>> {
    let output = Command::new("sox")
        .arg(path)
        .args([
            "-n",
            "trim",
            &start.to_string(),
            &length.to_string(),
            "stat",
        ])
        .output()
        .context("sox (tests/run installs it)")?;
    let text = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("sox stat {}: {text}", path.display());
    }
    Ok(text
        .lines()
        .filter_map(|line| {
            let (label, value) = line.split_once(':')?;
            let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
            Some((label, value.trim().parse().ok()?))
        })
        .collect())
}

#[test]
fn a_tone_and_speech_reach_the_caller_and_a_recorder_mixes_the_call() -> Result<()> {
    let mut server = TestServer::start(&[(".*", SCENARIO)])?;
    let sent = caller_wav(&server.dir)?;
    let heard = server.dir.join("heard.wav");
    let output = pjsua2_call(server.sip_port(), &sent, 12, &heard, "", 20.0)?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    let logs = records.logs();
    let recording = logs
        .iter()
        .find_map(|l| l.strip_prefix("recorder started file://"))
        .with_context(|| format!("no recorder start in {logs:?}"))?
        .to_owned();
    let expected: Vec<String> = vec![
        format!("recorder started file://{recording}"),
        "tone started 2000 ms".into(),
        "no espeak-ng voice for 'xx-YY'; speaking with 'en-us' instead (map it in the config's [voices] table)".into(),
        "speech finished".into(),
    ];
    assert_eq!(&logs[..4], &expected[..], "{}", records.describe());
    assert!(
        logs[4].starts_with("recorder stopped after "),
        "{}",
        records.describe()
    );
    assert!(recording.ends_with("-conversation.wav"), "{recording}");

    // The caller heard the 1000 Hz tone first, then speech.
    let tone = sox_stat(&heard, 0.5, 1.0)?;
    let frequency = tone["Rough frequency"];
    assert!(
        (950.0..=1050.0).contains(&frequency),
        "heard tone: {tone:?}"
    );
    let speech = sox_stat(&heard, 2.5, 1.5)?;
    assert!(speech["RMS amplitude"] > 0.01, "heard speech: {speech:?}");

    // The recorder mixed the tone and the caller from the start until stop().
    let recorded = sox_stat(Path::new(&recording), 0.0, 30.0)?;
    assert!(recorded["Length (seconds)"] > 3.0, "{recorded:?}");
    let start = sox_stat(Path::new(&recording), 0.3, 1.0)?;
    // The tone alone (-10 dBm) has an RMS of about 0.158; the caller adds to it.
    assert!(
        start["RMS amplitude"] > 0.12,
        "the tone is in the recording: {start:?}"
    );
    let later = sox_stat(Path::new(&recording), 2.2, 1.0)?;
    assert!(
        later["RMS amplitude"] > 0.005,
        "the caller is in the recording: {later:?}"
    );
    Ok(())
}

const EARLY_MEDIA: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.startEarlyMedia();
  call.playProgressTone("US");
  setTimeout(() => call.answer(), 3000);
  call.addEventListener(CallEvents.Connected, () => {
    call.stopPlayback();
    const beep = VoxEngine.createToneScriptPlayer("1000@-10;1(*/0/1)");
    beep.sendMediaTo(call);
    beep.addEventListener(PlayerEvents.PlaybackFinished, () => call.hangup());
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
});
"#;

#[test]
fn early_media_lets_the_caller_hear_a_ringback_before_the_answer() -> Result<()> {
    let mut server = TestServer::start(&[(".*", EARLY_MEDIA)])?;
    let sent = caller_wav(&server.dir)?;
    let heard = server.dir.join("heard.wav");
    let output = pjsua2_call(server.sip_port(), &sent, 10, &heard, "", 20.0)?;
    assert!(output.contains("STATE EARLY 183"), "{output}");
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    server.until_sessions_end(1, Duration::from_secs(20))?;
    // pjsua2 records from the 183 on: two seconds of US ringback (440 + 480 Hz), a pause,
    // then the 1000 Hz beep once answered at 3 s.
    let ringback = sox_stat(&heard, 0.3, 1.4)?;
    let frequency = ringback["Rough frequency"];
    assert!(
        (420.0..=500.0).contains(&frequency),
        "ringback: {ringback:?}"
    );
    // The recording lags what we send by the caller's jitter buffer (up to ~0.4 s on a busy
    // machine): the ringback ends at 2 s + lag, the beep starts at 3 s + lag.
    let pause = sox_stat(&heard, 2.45, 0.4)?;
    assert!(pause["RMS amplitude"] < 0.01, "ringback cadence: {pause:?}");
    let beep = sox_stat(&heard, 3.45, 0.4)?;
    assert!(
        (950.0..=1050.0).contains(&beep["Rough frequency"]),
        "after the answer: {beep:?}"
    );
    Ok(())
}

/// Plays an MP3, an Ogg Vorbis and a FLAC file (made by sox) one after another.
const COMPRESSED: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    const sequence = VoxEngine.createSequencePlayer({ segments: [
      { url: "tone.mp3" }, { url: "tone.ogg" }, { url: "tone.flac" },
    ] });
    sequence.addEventListener(SequencePlayerEvents.Started, (e) => Logger.write(`started ${e.duration} ms`));
    sequence.addEventListener(SequencePlayerEvents.PlaybackFinished, (e) => {
      Logger.write(`finished ${e.error || "ok"}`);
      call.hangup();
    });
    sequence.sendMediaTo(call);
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;

#[test]
fn mp3_ogg_and_flac_prompts_play_at_their_pitch() -> Result<()> {
    let mut server = TestServer::start(&[(".*", COMPRESSED)])?;
    for (file, hz) in [
        ("tone.mp3", "1000"),
        ("tone.ogg", "500"),
        ("tone.flac", "1500"),
    ] {
        let status = Command::new("sox")
            .args(["-n", "-r", "44100", "-c", "2"])
            .arg(server.dir.join(file))
            .args(["synth", "1", "sine", hz, "vol", "0.5"])
            .status()
            .context("sox (tests/run installs it with libsox-fmt-all)")?;
        assert!(status.success(), "sox could not write {file}");
    }
    let sent = caller_wav(&server.dir)?;
    let heard = server.dir.join("heard.wav");
    let output = pjsua2_call(server.sip_port(), &sent, 10, &heard, "", 20.0)?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    let logs = records.logs();
    assert_eq!(logs.len(), 2, "{logs:?}");
    let duration: u64 = logs[0]
        .strip_prefix("started ")
        .and_then(|l| l.strip_suffix(" ms"))
        .context("started line")?
        .parse()?;
    assert!((2_950..=3_150).contains(&duration), "{logs:?}");
    assert_eq!(logs[1], "finished ok");
    // Each prompt plays 1 s; the recording lags by the caller's jitter buffer (up to ~0.4 s
    // on a busy machine), so each window sits where only one prompt can be, lag or not.
    for (start, low, high) in [
        (0.4, 950.0, 1050.0),
        (1.4, 470.0, 530.0),
        (2.4, 1420.0, 1580.0),
    ] {
        let stat = sox_stat(&heard, start, 0.4)?;
        let frequency = stat["Rough frequency"];
        assert!((low..=high).contains(&frequency), "at {start} s: {stat:?}");
    }
    Ok(())
}

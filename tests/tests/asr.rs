//! Speech recognition with the local engine (PocketSphinx, Debian's packaged en-US model):
//! the console's caller speaks words rendered by espeak-ng (`--caller-audio`), the scenario
//! links the call to an ASR, and its `Result` events carry what was said.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, ensure};
use dialtone::console::{CallerScript, ConsoleOptions};
use dialtone_tests::scenario::run_source;
use dialtone_tests::sip::{spoken_wav, temp_dir};

/// `words` spoken one after another, each followed by 1.2 s of silence (sox), as a caller
/// answering prompts would.
fn spoken_words(dir: &Path, words: &[&str]) -> Result<PathBuf> {
    let mut parts = Vec::new();
    for (n, word) in words.iter().enumerate() {
        let spoken = spoken_wav(dir, &format!("word{n}"), word)?;
        let padded = dir.join(format!("padded{n}.wav"));
        let status = Command::new("sox")
            .arg(&spoken)
            .arg(&padded)
            .args(["pad", "0.3", "1.2"])
            .status()
            .context("sox")?;
        ensure!(status.success(), "sox pad failed");
        parts.push(padded);
    }
    let all = dir.join("words.wav");
    let status = Command::new("sox").args(&parts).arg(&all).status()?;
    ensure!(status.success(), "sox concatenation failed");
    Ok(all)
}

const LISTEN: &str = r#"
require(Modules.ASR);
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.answer();
  call.addEventListener(CallEvents.Connected, () => {
    const asr = VoxEngine.createASR({
      profile: ASRProfileList.Google.en_US,
      model: ASRModelList.Google.phone_call,
      phraseHints: ["yes", "no", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
      interimResults: true,
    });
    let interim = 0;
    let captures = 0;
    const results = [];
    asr.addEventListener(ASREvents.Started, () => Logger.write(`started: ${asr.language()}`));
    asr.addEventListener(ASREvents.CaptureStarted, () => captures++);
    asr.addEventListener(ASREvents.InterimResult, () => interim++);
    asr.addEventListener(ASREvents.Result, (e) => {
      results.push(e.text);
      if (!(e.confidence >= 0 && e.confidence <= 1)) Logger.write(`bad confidence ${e.confidence}`);
      if (results.length === WORDS) asr.stop();
    });
    asr.addEventListener(ASREvents.Stopped, () => {
      Logger.write(`results: ${results.join(" | ")}`);
      Logger.write(`captures ${captures}, interim results ${interim > 0 ? "yes" : "none"}`);
      VoxEngine.terminate();
    });
    call.sendMediaTo(asr);
    // The caller's words take about 11 s; a recognizer that misses one stops here, so the
    // test fails on what it heard rather than waiting for its bound.
    setTimeout(() => asr.stop(), 20000);
    try { VoxEngine.sendMediaBetween(call, asr); } catch (e) { Logger.write(`${e.name} ${e.code}: ${e.message}`); }
  });
});
"#;

#[test]
fn a_caller_saying_yes_no_and_digits_is_heard_by_the_local_recognizer() -> Result<()> {
    // The caller's audio is paced in real time: a starved clock would lose frames.
    let _realtime = dialtone_tests::realtime_audio();
    let dir = temp_dir("asr")?;
    let words = ["yes", "no", "two", "four", "nine"];
    let audio = spoken_words(&dir, &words)?;
    let source = LISTEN.replace("WORDS", &words.len().to_string());
    let options = ConsoleOptions {
        caller: CallerScript {
            audio: Some(audio),
            ..CallerScript::default()
        },
        ..ConsoleOptions::default()
    };
    let run = run_source(&source, options)?;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        run.logs(),
        [
            "TypeError ERR_INVALID_ARGUMENT: VoxEngine.sendMediaBetween: a speech recognizer cannot send media",
            "started: en-US",
            "results: yes | no | two | four | nine",
            "captures 5, interim results yes",
        ],
        "{}",
        run.transcript
    );
    assert_eq!(run.lines_of("warn"), Vec::<String>::new());
    Ok(())
}

#[test]
fn an_asr_needs_its_module_and_warns_about_a_language_it_does_not_have() -> Result<()> {
    let run = run_source(
        r#"
try { VoxEngine.createASR({}); } catch (e) { Logger.write(`${e.code}: ${e.message}`); }
require(Modules.ASR);
VoxEngine.addEventListener(AppEvents.Started, () => {
  const asr = VoxEngine.createASR({ profile: ASRProfileList.TBank.ru_RU, singleUtterance: true });
  asr.addEventListener(ASREvents.Started, () => { Logger.write(`language ${asr.language()}`); asr.stop(); });
  asr.addEventListener(ASREvents.Stopped, (e) => { Logger.write(`stopped, cost ${e.cost}`); VoxEngine.terminate(); });
});
"#,
        ConsoleOptions {
            no_call: true,
            ..ConsoleOptions::default()
        },
    )?;
    assert_eq!(
        run.logs(),
        [
            "ERR_MODULE_NOT_LOADED: VoxEngine.createASR needs require(Modules.ASR) first",
            "language ru-RU",
            "stopped, cost 0",
        ],
        "{}",
        run.transcript
    );
    assert_eq!(
        run.lines_of("warn"),
        [
            "ASR: the local recognizer (PocketSphinx) knows English only; 'ru-RU' is recognized as English"
        ]
    );
    Ok(())
}

//! Recorder units (`VoxEngine.createRecorder`): one task per recorder that mixes everything
//! linked to it, 20 ms at a time on its own clock, into a 16-bit 8 kHz mono WAV file under
//! the data directory's `recordings/`. Time with no audio linked is recorded as silence, so
//! the file's length is the recorder's life.

use std::path::PathBuf;
use std::time::Duration;

use dialtone_bindings::host::{
    HostEvent, HostEventSender, RecorderAction, RecorderEvent, RecorderSpec,
};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::graph::{Ports, SILENT_FRAME};
use super::recorder::Recorder;

/// The session host's handle on a recorder's task; dropping it closes the file (and reports
/// `Stopped`, which a session still running receives).
#[derive(Debug)]
pub struct RecorderHandle {
    commands: mpsc::UnboundedSender<RecorderAction>,
}

impl RecorderHandle {
    /// Passes on `mute` or `stop`.
    pub fn control(&self, action: RecorderAction) {
        let _ = self.commands.send(action);
    }
}

/// A file name from the scenario's `name`: letters, digits, `-` and `_` only, at most 64.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(64)
        .collect()
}

/// Creates the file and starts the recorder's task.
pub fn spawn(
    spec: RecorderSpec,
    path: PathBuf,
    ports: Ports,
    events: HostEventSender,
) -> RecorderHandle {
    let (commands, rx) = mpsc::unbounded_channel();
    let report = {
        let events = events.clone();
        let id = spec.id.clone();
        move |event: RecorderEvent| {
            let _ = events.send(HostEvent::Recorder {
                id: id.clone(),
                event,
            });
        }
    };
    match Recorder::create(&path, 1) {
        Ok(recorder) => {
            report(RecorderEvent::Started {
                url: super::file_url(&path),
            });
            tokio::spawn(run(recorder, ports, rx, report));
        }
        Err(e) => report(RecorderEvent::RecorderError {
            error: e.to_string(),
        }),
    }
    RecorderHandle { commands }
}

async fn run(
    mut recorder: Recorder,
    ports: Ports,
    mut commands: mpsc::UnboundedReceiver<RecorderAction>,
    report: impl Fn(RecorderEvent),
) {
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut muted = false;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(RecorderAction::Mute { mute }) => muted = mute,
                Some(RecorderAction::Stop) | None => break,
            },
            _ = clock.tick() => {
                let mixed = ports.inlet.pull_mix().unwrap_or(SILENT_FRAME);
                let frame = if muted { SILENT_FRAME } else { mixed };
                if let Err(e) = recorder.write(&frame) {
                    report(RecorderEvent::RecorderError { error: e.to_string() });
                    return;
                }
            }
        }
    }
    match recorder.finish() {
        Ok(duration) => report(RecorderEvent::Stopped {
            cost: "0".into(),
            duration: duration.as_secs(),
        }),
        Err(e) => report(RecorderEvent::RecorderError {
            error: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn names_cannot_leave_the_recordings_directory() {
        assert_eq!(file_stem("../../etc/passwd"), "etcpasswd");
        assert_eq!(file_stem("call 42_a-b"), "call42_a-b");
    }
}

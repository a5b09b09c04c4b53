//! What the console prints: one line per session-log line, event, command and simulated
//! caller action, stamped with the time since the session started.

use std::io::Write;
use std::time::Duration;

use dialtone_bindings::host::{CallCommand, LogLevel, Outbound};
use serde_json::json;

/// One transcript entry: what the session sent the host, or what the simulated leg did.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A message from the session (log line, dispatched event, call command, end).
    Session(Outbound),
    /// Something the simulated caller or leg did.
    Sim(String),
}

/// Where transcript entries go.
pub trait Transcript {
    /// Records `entry` at `at` since the session started.
    fn record(&mut self, at: Duration, entry: &Entry);
}

/// Human-readable lines: `   1.250  event  Call.Connected {...}`.
#[derive(Debug)]
pub struct TextTranscript<W: Write>(pub W);

/// One JSON object per line.
#[derive(Debug)]
pub struct JsonTranscript<W: Write>(pub W);

fn command_args(command: &CallCommand) -> String {
    let mut value = serde_json::to_value(command).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("op");
        map.retain(|_, v| !(v.is_null() || v.as_object().is_some_and(|o| o.is_empty())));
        if map.is_empty() {
            return String::new();
        }
    }
    format!(" {value}")
}

impl<W: Write> Transcript for TextTranscript<W> {
    fn record(&mut self, at: Duration, entry: &Entry) {
        let (kind, text) = match entry {
            Entry::Session(Outbound::Log { level, text }) => (
                match level {
                    LogLevel::Info => "log",
                    LogLevel::Warn => "warn",
                    LogLevel::Error => "error",
                },
                text.clone(),
            ),
            Entry::Session(Outbound::Event { name, payload }) => {
                let empty = payload.as_object().is_some_and(|o| o.is_empty());
                (
                    "event",
                    if empty {
                        name.clone()
                    } else {
                        format!("{name} {payload}")
                    },
                )
            }
            Entry::Session(Outbound::Call { call_id, command }) => (
                "cmd",
                format!("{call_id} {}{}", command.name(), command_args(command)),
            ),
            Entry::Session(Outbound::Media(command)) => ("media", command.describe()),
            Entry::Sim(text) => ("sim", text.clone()),
            Entry::Session(Outbound::Ended(reason)) => ("end", reason.to_string()),
            Entry::Session(_) => return,
        };
        let stamp = format!("{:>8.3}", at.as_secs_f64());
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        let _ = writeln!(self.0, "{stamp}  {kind:<5}  {first}");
        for line in lines {
            let _ = writeln!(self.0, "{:>8}  {:<5}  {line}", "", "");
        }
    }
}

impl<W: Write> Transcript for JsonTranscript<W> {
    fn record(&mut self, at: Duration, entry: &Entry) {
        let t = (at.as_secs_f64() * 1000.0).round() / 1000.0;
        let line = match entry {
            Entry::Session(Outbound::Log { level, text }) => {
                json!({"t": t, "kind": "log", "level": level, "text": text})
            }
            Entry::Session(Outbound::Event { name, payload }) => {
                json!({"t": t, "kind": "event", "name": name, "payload": payload})
            }
            Entry::Session(Outbound::Call { call_id, command }) => {
                json!({"t": t, "kind": "cmd", "call": call_id, "command": command})
            }
            Entry::Session(Outbound::Media(command)) => {
                json!({"t": t, "kind": "media", "text": command.describe()})
            }
            Entry::Sim(text) => json!({"t": t, "kind": "sim", "text": text}),
            Entry::Session(Outbound::Ended(reason)) => {
                json!({"t": t, "kind": "end", "reason": reason, "text": reason.to_string(), "normal": reason.is_normal()})
            }
            Entry::Session(_) => return,
        };
        let _ = writeln!(self.0, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_are_stamped_and_continuations_indented() {
        let mut out = TextTranscript(Vec::new());
        out.record(
            Duration::from_millis(1250),
            &Entry::Session(Outbound::Log {
                level: LogLevel::Error,
                text: "boom\n    at f (a.js:1:1)".into(),
            }),
        );
        out.record(
            Duration::ZERO,
            &Entry::Session(Outbound::Call {
                call_id: "call-1".into(),
                command: CallCommand::Answer {
                    headers: Default::default(),
                },
            }),
        );
        let text = String::from_utf8(out.0).expect("utf-8");
        assert_eq!(
            text,
            "   1.250  error  boom\n                     at f (a.js:1:1)\n   0.000  cmd    call-1 answer\n"
        );
    }
}

//! The media half of the host interface: media units (calls, WebSockets), the links a
//! scenario makes between them (`sendMediaTo`), and what a WebSocket unit reports.
//!
//! Audio itself never crosses this interface: the host moves 20 ms frames between units on
//! its own threads. A session only says which unit sends to which, and hears about the
//! units' lifecycle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::player::{PlayerAction, PlayerSegment, PlayerSpec, RecorderAction, RecorderSpec};

pub use super::unit::UnitId;

/// What a scenario asks of its media units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub enum MediaCommand {
    /// `VoxEngine.createWebSocket`: open an outgoing WebSocket.
    CreateWebSocket(WebSocketSpec),
    /// `ws.send(text)`: one text frame.
    WebSocketSend {
        /// The socket.
        id: UnitId,
        /// The text.
        text: String,
    },
    /// `ws.close()`: close the socket, or give up connecting.
    WebSocketClose {
        /// The socket.
        id: UnitId,
    },
    /// `ws.clearMediaBuffer({tag})`: drop the server audio buffered but not played yet.
    ClearMediaBuffer {
        /// The socket.
        id: UnitId,
        /// Only this stream's audio; every stream's when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tag: Option<String>,
    },
    /// `from.sendMediaTo(to, params)`: a one-way media link.
    SendMedia {
        /// The source unit.
        from: UnitId,
        /// The target unit.
        to: UnitId,
        /// WebSocket-only parameters.
        #[serde(default)]
        params: SendMediaParams,
    },
    /// `from.stopMediaTo(to)`: removes that link (nothing happens when there is none).
    StopMedia {
        /// The source unit.
        from: UnitId,
        /// The target unit.
        to: UnitId,
    },
    /// A player factory: the player loads and starts at once (unless `onPause`).
    CreatePlayer(PlayerSpec),
    /// `pause()`, `resume()`, `stop()`, `addMarker(offset)`.
    PlayerControl {
        /// The player.
        id: UnitId,
        /// What to do.
        action: PlayerAction,
    },
    /// `VoxEngine.createASR`: a speech recognizer hearing everything linked to it.
    CreateAsr(super::asr::AsrSpec),
    /// `asr.stop()`.
    AsrControl {
        /// The recognizer.
        id: UnitId,
        /// What to do.
        action: super::asr::AsrAction,
    },
    /// `VoxEngine.createRecorder`: a recorder mixing everything linked to it.
    CreateRecorder(RecorderSpec),
    /// `mute(on)`, `stop()`.
    RecorderControl {
        /// The recorder.
        id: UnitId,
        /// What to do.
        action: RecorderAction,
    },
    /// `VoxEngine.createConference`: an audio mixer; each unit linked from it hears every
    /// unit linked to it except itself.
    CreateConference {
        /// The conference.
        id: UnitId,
    },
    /// `conference.stop()`: the mixer stops and its links close.
    StopConference {
        /// The conference.
        id: UnitId,
    },
}

impl MediaCommand {
    /// A one-line account for logs and transcripts, e.g. `call-1 sendMediaTo websocket-1
    /// {"tag":"caller"}`. It never shows a WebSocket's headers or its URL's path and query,
    /// where secrets live.
    pub fn describe(&self) -> String {
        match self {
            MediaCommand::CreateWebSocket(spec) => {
                let format = match spec.format {
                    StreamFormat::Voxengine => "voxengine",
                    StreamFormat::Twilio => "twilio",
                };
                format!(
                    "{} createWebSocket {} ({format} format)",
                    spec.id,
                    url_target(&spec.url)
                )
            }
            MediaCommand::WebSocketSend { id, text } => format!("{id} send {text}"),
            MediaCommand::WebSocketClose { id } => format!("{id} close"),
            MediaCommand::ClearMediaBuffer { id, tag } => match tag {
                Some(tag) => format!("{id} clearMediaBuffer {{tag: {tag}}}"),
                None => format!("{id} clearMediaBuffer"),
            },
            MediaCommand::SendMedia { from, to, params } => {
                let params = serde_json::to_value(params).unwrap_or_default();
                let shown = params
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .filter(|(_, v)| {
                                !(v.as_str() == Some("")
                                    || v.as_object().is_some_and(|m| m.is_empty()))
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<serde_json::Map<_, _>>()
                    })
                    .unwrap_or_default();
                if shown.is_empty() {
                    format!("{from} sendMediaTo {to}")
                } else {
                    format!(
                        "{from} sendMediaTo {to} {}",
                        serde_json::Value::Object(shown)
                    )
                }
            }
            MediaCommand::StopMedia { from, to } => format!("{from} stopMediaTo {to}"),
            MediaCommand::CreatePlayer(spec) => {
                let segments: Vec<String> = spec
                    .segments
                    .iter()
                    .map(|segment| match segment {
                        PlayerSegment::Tts { text, voice } => {
                            // Quoted, with control characters escaped: one transcript line.
                            let text = text.escape_debug();
                            match voice {
                                Some(voice) => format!("say(\"{text}\", {voice})"),
                                None => format!("say(\"{text}\")"),
                            }
                        }
                        PlayerSegment::Url { url } => format!("url({url})"),
                        PlayerSegment::ToneScript { script } => format!("tones({script})"),
                    })
                    .collect();
                let mut flags = String::new();
                if spec.looped {
                    flags.push_str(" loop");
                }
                if spec.on_pause {
                    flags.push_str(" onPause");
                }
                format!("{} createPlayer {}{flags}", spec.id, segments.join(" + "))
            }
            MediaCommand::PlayerControl { id, action } => match action {
                PlayerAction::Pause => format!("{id} pause"),
                PlayerAction::Resume => format!("{id} resume"),
                PlayerAction::Stop => format!("{id} stop"),
                PlayerAction::AddMarker { offset } => format!("{id} addMarker {offset}"),
            },
            MediaCommand::CreateRecorder(spec) => format!("{} createRecorder", spec.id),
            MediaCommand::CreateAsr(spec) => format!("{} createASR", spec.id),
            MediaCommand::AsrControl { id, .. } => format!("{id} stop"),
            MediaCommand::RecorderControl { id, action } => match action {
                RecorderAction::Mute { mute } => format!("{id} mute {mute}"),
                RecorderAction::Stop => format!("{id} stop"),
            },
            MediaCommand::CreateConference { id } => format!("{id} createConference"),
            MediaCommand::StopConference { id } => format!("{id} stop"),
        }
    }
}

/// `scheme://host:port` of a URL: what logs may show of it (no credentials, path or query).
pub fn url_target(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("ws", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

/// An outgoing WebSocket the scenario asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSocketSpec {
    /// The unit id the session gave it.
    pub id: UnitId,
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// Subprotocols offered (`Sec-WebSocket-Protocol`).
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Extra request headers, in order (they may carry secrets: never log them).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The media stream dialect spoken on the socket.
    #[serde(default)]
    pub format: StreamFormat,
}

/// The media stream messages a WebSocket speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamFormat {
    /// VoxEngine's media stream format: start / media / stop per `tag`.
    #[default]
    Voxengine,
    /// Twilio Media Streams: connected, start, media, dtmf, mark, stop; one stream a socket.
    Twilio,
}

/// `SendMediaParameters`: only WebSocket links use them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMediaParams {
    /// Names the stream on the socket ("" when the scenario gave none).
    #[serde(default)]
    pub tag: String,
    /// Sent to the server in the stream's `start` message.
    #[serde(default)]
    pub custom_parameters: BTreeMap<String, String>,
    /// The payload encoding; PCM8 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<AudioEncoding>,
}

/// `WebSocketAudioEncoding`: how stream payloads are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AudioEncoding {
    /// Linear 16-bit little-endian, 8 kHz (VoxEngine's default).
    #[serde(rename = "PCM8")]
    Pcm8,
    /// Linear 16-bit little-endian, 16 kHz.
    #[serde(rename = "PCM16")]
    Pcm16,
    /// G.711 A-law, 8 kHz.
    #[serde(rename = "ALAW")]
    Alaw,
    /// G.711 μ-law, 8 kHz.
    #[serde(rename = "ULAW")]
    Ulaw,
    /// Opus, 48 kHz (not available in Dialtone yet; refused at `sendMediaTo`).
    #[serde(rename = "OPUS")]
    Opus,
}

impl AudioEncoding {
    /// The `WebSocketAudioEncoding` value, e.g. `PCM8`.
    pub fn name(self) -> &'static str {
        match self {
            AudioEncoding::Pcm8 => "PCM8",
            AudioEncoding::Pcm16 => "PCM16",
            AudioEncoding::Alaw => "ALAW",
            AudioEncoding::Ulaw => "ULAW",
            AudioEncoding::Opus => "OPUS",
        }
    }

    /// Samples per second of the payload.
    pub fn sample_rate(self) -> u32 {
        match self {
            AudioEncoding::Pcm16 => 16_000,
            AudioEncoding::Opus => 48_000,
            _ => 8_000,
        }
    }
}

/// What a WebSocket unit reports (`WebSocketEvents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[non_exhaustive]
pub enum WebSocketEvent {
    /// The connection is open.
    Open,
    /// A text frame that is not a media stream message.
    Message {
        /// The text.
        text: String,
    },
    /// The connection closed (or could not be opened); nothing follows.
    Close {
        /// RFC 6455 close code (1006 when the connection was lost or never made).
        code: u16,
        /// The close reason, or why the connection failed.
        reason: String,
        /// The closing handshake completed.
        #[serde(rename = "wasClean")]
        was_clean: bool,
    },
    /// Something went wrong that the scenario should know (a refused message, a failed
    /// connect); a `Close` follows when the socket is gone.
    Error {
        /// What.
        error: String,
    },
    /// Server audio for a stream started playing.
    MediaStarted {
        /// The stream's tag.
        tag: String,
        /// How its payloads are decoded.
        encoding: AudioEncoding,
        /// From the server's `start` message, if it sent one.
        #[serde(rename = "customParameters")]
        custom_parameters: BTreeMap<String, String>,
    },
    /// Server audio for a stream stopped (after a second of silence, a clear, or the end).
    MediaEnded {
        /// The stream's tag.
        tag: String,
        /// Seconds of audio played.
        duration: f64,
    },
}

impl WebSocketEvent {
    /// The VoxEngine event value, e.g. `WebSocket.Open`.
    pub fn name(&self) -> &'static str {
        match self {
            WebSocketEvent::Open => "WebSocket.Open",
            WebSocketEvent::Message { .. } => "WebSocket.Message",
            WebSocketEvent::Close { .. } => "WebSocket.Close",
            WebSocketEvent::Error { .. } => "WebSocket.Error",
            WebSocketEvent::MediaStarted { .. } => "WebSocket.MediaEventStarted",
            WebSocketEvent::MediaEnded { .. } => "WebSocket.MediaEventEnded",
        }
    }

    /// The JS event's fields: the payload without the `event` tag, `mediaInfo` shaped as
    /// VoxEngine has it.
    pub fn fields(&self) -> serde_json::Value {
        match self {
            WebSocketEvent::MediaEnded { tag, duration } => {
                serde_json::json!({ "tag": tag, "mediaInfo": { "duration": duration } })
            }
            other => super::untagged_fields(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_the_json_the_facade_writes() {
        let json = r#"{"op":"sendMedia","from":"c1","to":"ws1","params":{"tag":"caller","customParameters":{"a":"b"},"encoding":"ULAW"}}"#;
        let command: MediaCommand = serde_json::from_str(json).expect("parses");
        assert_eq!(
            command,
            MediaCommand::SendMedia {
                from: "c1".into(),
                to: "ws1".into(),
                params: SendMediaParams {
                    tag: "caller".into(),
                    custom_parameters: [("a".to_owned(), "b".to_owned())].into(),
                    encoding: Some(AudioEncoding::Ulaw),
                },
            }
        );
        let json = r#"{"op":"createWebSocket","id":"w","url":"ws://127.0.0.1:1/x","headers":[["X-Key","k"]],"format":"twilio"}"#;
        let command: MediaCommand = serde_json::from_str(json).expect("parses");
        assert!(matches!(
            command,
            MediaCommand::CreateWebSocket(WebSocketSpec { format: StreamFormat::Twilio, ref headers, .. }) if headers.len() == 1
        ));
    }

    #[test]
    fn descriptions_hide_headers_paths_and_queries() {
        let create = MediaCommand::CreateWebSocket(WebSocketSpec {
            id: "websocket-1".into(),
            url: "wss://user:pw@bot.example:8443/ws?token=secret".into(),
            protocols: vec![],
            headers: vec![("X-Key".into(), "secret".into())],
            format: StreamFormat::Twilio,
        });
        assert_eq!(
            create.describe(),
            "websocket-1 createWebSocket wss://bot.example:8443 (twilio format)"
        );
        let link = MediaCommand::SendMedia {
            from: "call-1".into(),
            to: "websocket-1".into(),
            params: SendMediaParams {
                tag: "caller".into(),
                ..SendMediaParams::default()
            },
        };
        assert_eq!(
            link.describe(),
            r#"call-1 sendMediaTo websocket-1 {"tag":"caller"}"#
        );
    }

    #[test]
    fn media_ended_carries_media_info() {
        let event = WebSocketEvent::MediaEnded {
            tag: "bot".into(),
            duration: 1.5,
        };
        assert_eq!(
            event.fields(),
            serde_json::json!({"tag": "bot", "mediaInfo": {"duration": 1.5}})
        );
        let close = WebSocketEvent::Close {
            code: 1000,
            reason: String::new(),
            was_clean: true,
        };
        assert_eq!(
            close.fields(),
            serde_json::json!({"code": 1000, "reason": "", "wasClean": true})
        );
    }
}

//! What a WebSocket unit does with its server's messages: media stream messages fill a
//! playout buffer per stream tag, which plays out on the unit's 20 ms clock to the units the
//! scenario linked from the socket (`ws.sendMediaTo(call, {tag, encoding})`); every other
//! text reaches the scenario as `WebSocket.Message`.
//!
//! Sans-IO: texts and clock ticks go in; frames (through the outlet), texts to send back
//! (Twilio marks) and scenario events come out.

use std::collections::{BTreeMap, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dialtone_bindings::host::{AudioEncoding, StreamFormat, WebSocketEvent};
use serde_json::{Value, json};

use crate::media::g711;
use crate::media::graph::{FRAME_SAMPLES, Frame, Outlet, SILENT_FRAME};
use crate::media::resample::StreamResampler;

/// Server audio a stream may buffer ahead of playback (60 s); more is dropped.
const MAX_BUFFERED_FRAMES: usize = 3_000;
/// Streams (distinct tags) a socket may carry; audio for more is dropped.
const MAX_STREAMS: usize = 16;
/// Silent ticks after which a stream's audio counts as ended (1 s).
const END_AFTER_IDLE_TICKS: u32 = 50;
/// Twilio marks waiting at once, at most.
const MAX_MARKS: usize = 1_000;

#[derive(Default)]
struct Playout {
    frames: VecDeque<Frame>,
    partial: Vec<i16>,
    encoding: Option<AudioEncoding>,
    custom_parameters: BTreeMap<String, String>,
    /// 16 kHz to 8 kHz, for PCM16.
    downsampler: Option<StreamResampler>,
    playing: bool,
    played: u64,
    idle: u32,
    /// Frames queued and played since the stream began, for marks.
    queued_total: u64,
    played_total: u64,
    /// Twilio marks: echoed once the audio queued before them has played.
    marks: VecDeque<(u64, String)>,
}

/// What handling one server text produced.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Handled {
    /// Events for the scenario.
    pub events: Vec<WebSocketEvent>,
    /// Texts to send back to the server.
    pub replies: Vec<String>,
}

/// The decoder and playout of one socket.
pub(crate) struct Incoming {
    format: StreamFormat,
    stream_sid: String,
    streams: BTreeMap<String, Playout>,
    /// Audio dropped (buffer full, too many streams, undecodable).
    pub(crate) dropped_frames: u64,
    warned: bool,
}

impl Incoming {
    pub(crate) fn new(format: StreamFormat, stream_sid: String) -> Self {
        Self {
            format,
            stream_sid,
            streams: BTreeMap::new(),
            dropped_frames: 0,
            warned: false,
        }
    }

    /// Whether the clock must tick: audio is buffered or a stream is still playing.
    pub(crate) fn is_active(&self) -> bool {
        self.streams
            .values()
            .any(|p| p.playing || !p.frames.is_empty())
    }

    /// Handles one text from the server.
    pub(crate) fn on_text(&mut self, text: String, outlet: &Outlet) -> Handled {
        let mut handled = Handled::default();
        let Some(message) = parse_stream_message(&text, self.format) else {
            handled.events.push(WebSocketEvent::Message { text });
            return handled;
        };
        let event = message["event"].as_str().unwrap_or_default();
        let tag = match self.format {
            StreamFormat::Twilio => String::new(),
            StreamFormat::Voxengine => message[event]["tag"].as_str().unwrap_or("").to_owned(),
        };
        match event {
            "start" => {
                let start = &message["start"];
                let encoding = start["mediaFormat"]["encoding"]
                    .as_str()
                    .and_then(encoding_named);
                let custom: BTreeMap<String, String> = start["customParameters"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                                (k.clone(), value)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(playout) = self.playout(&tag) {
                    playout.encoding = encoding.or(playout.encoding);
                    playout.custom_parameters = custom;
                }
            }
            "media" => {
                let payload = message["media"]["payload"].as_str().unwrap_or_default();
                self.on_media(&tag, payload, outlet, &mut handled);
            }
            "mark" if self.format == StreamFormat::Twilio => {
                let name = message["mark"]["name"].as_str().unwrap_or("").to_owned();
                if let Some(playout) = self.playout(&tag) {
                    if playout.marks.len() < MAX_MARKS {
                        playout.marks.push_back((playout.queued_total, name));
                    }
                    let due = take_due_marks(playout);
                    handled.replies.extend(self.mark_replies(due));
                }
            }
            "clear" if self.format == StreamFormat::Twilio => {
                self.clear(None, &mut handled);
            }
            // A server's stop ends nothing here: its audio plays out, then ends on silence.
            _ => {}
        }
        handled
    }

    fn playout(&mut self, tag: &str) -> Option<&mut Playout> {
        if !self.streams.contains_key(tag) && self.streams.len() >= MAX_STREAMS {
            return None;
        }
        Some(self.streams.entry(tag.to_owned()).or_default())
    }

    fn on_media(&mut self, tag: &str, payload: &str, outlet: &Outlet, handled: &mut Handled) {
        let format = self.format;
        let Some(playout) = self.playout(tag) else {
            self.dropped_frames += 1;
            return;
        };
        let encoding = match format {
            StreamFormat::Twilio => AudioEncoding::Ulaw,
            StreamFormat::Voxengine => outlet
                .encoding_for(tag)
                .or(playout.encoding)
                .unwrap_or(AudioEncoding::Pcm8),
        };
        playout.encoding = Some(encoding);
        let bytes = match BASE64.decode(payload.trim()) {
            Ok(bytes) => bytes,
            Err(_) => {
                self.warn_once(
                    handled,
                    format!(
                        "a media message's payload on stream '{tag}' is not base64; it was dropped"
                    ),
                );
                return;
            }
        };
        let Some(playout) = self.streams.get_mut(tag) else {
            return;
        };
        match encoding {
            AudioEncoding::Ulaw => playout
                .partial
                .extend(bytes.iter().map(|&b| g711::decode(b))),
            AudioEncoding::Alaw => playout
                .partial
                .extend(bytes.iter().map(|&b| g711::decode_alaw(b))),
            AudioEncoding::Pcm8 => playout.partial.extend(
                bytes
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]])),
            ),
            AudioEncoding::Pcm16 => {
                let wide: Vec<i16> = bytes
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect();
                if playout.downsampler.is_none() {
                    playout.downsampler = StreamResampler::new(16_000, 8_000).ok();
                }
                if let Some(down) = &mut playout.downsampler {
                    down.process(&wide, &mut playout.partial);
                }
            }
            AudioEncoding::Opus => {
                self.warn_once(
                    handled,
                    format!("stream '{tag}' declares OPUS audio, which Dialtone cannot decode yet; its audio was dropped"),
                );
                return;
            }
        }
        let mut dropped = 0;
        let mut start = 0;
        while playout.partial.len() - start >= FRAME_SAMPLES {
            if playout.frames.len() >= MAX_BUFFERED_FRAMES {
                dropped += 1;
            } else {
                let mut frame = SILENT_FRAME;
                frame.copy_from_slice(&playout.partial[start..start + FRAME_SAMPLES]);
                playout.frames.push_back(frame);
                playout.queued_total += 1;
            }
            start += FRAME_SAMPLES;
        }
        playout.partial.drain(..start);
        if dropped > 0 {
            self.dropped_frames += dropped;
            self.warn_once(
                handled,
                format!(
                    "stream '{tag}' buffered more than 60 s of server audio; the excess was dropped"
                ),
            );
        }
    }

    fn warn_once(&mut self, handled: &mut Handled, error: String) {
        if !self.warned {
            self.warned = true;
            handled.events.push(WebSocketEvent::Error { error });
        }
    }

    /// One 20 ms tick: every stream with audio plays a frame.
    pub(crate) fn on_tick(&mut self, outlet: &Outlet) -> Handled {
        let mut handled = Handled::default();
        let mut due = Vec::new();
        for (tag, playout) in &mut self.streams {
            if let Some(frame) = playout.frames.pop_front() {
                outlet.push_frame(tag, &frame);
                playout.played_total += 1;
                playout.idle = 0;
                if !playout.playing {
                    playout.playing = true;
                    playout.played = 0;
                    handled.events.push(WebSocketEvent::MediaStarted {
                        tag: tag.clone(),
                        encoding: playout.encoding.unwrap_or(AudioEncoding::Pcm8),
                        custom_parameters: playout.custom_parameters.clone(),
                    });
                }
                playout.played += 1;
                due.extend(take_due_marks(playout));
            } else if playout.playing {
                playout.idle += 1;
                if playout.idle >= END_AFTER_IDLE_TICKS {
                    playout.playing = false;
                    handled.events.push(ended(tag, playout));
                }
            }
        }
        handled.replies.extend(self.mark_replies(due));
        handled
    }

    /// `clearMediaBuffer({tag})` or Twilio's `clear`: drops buffered audio; marks come back.
    pub(crate) fn clear(&mut self, tag: Option<&str>, handled: &mut Handled) {
        let mut due = Vec::new();
        for (name, playout) in &mut self.streams {
            if tag.is_some_and(|t| t != name) {
                continue;
            }
            playout.frames.clear();
            playout.partial.clear();
            playout.played_total = playout.queued_total;
            due.extend(playout.marks.drain(..).map(|(_, name)| name));
            if playout.playing {
                playout.playing = false;
                handled.events.push(ended(name, playout));
            }
        }
        handled.replies.extend(self.mark_replies(due));
    }

    fn mark_replies(&self, names: Vec<String>) -> Vec<String> {
        names
            .into_iter()
            .map(|name| {
                json!({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})
                    .to_string()
            })
            .collect()
    }
}

fn ended(tag: &str, playout: &Playout) -> WebSocketEvent {
    WebSocketEvent::MediaEnded {
        tag: tag.to_owned(),
        duration: playout.played as f64 * 0.02,
    }
}

fn take_due_marks(playout: &mut Playout) -> Vec<String> {
    let mut due = Vec::new();
    while playout
        .marks
        .front()
        .is_some_and(|(at, _)| *at <= playout.played_total)
    {
        if let Some((_, name)) = playout.marks.pop_front() {
            due.push(name);
        }
    }
    due
}

/// The text as a media stream message of `format` (`start`, `media`, `stop`; Twilio's `mark`
/// and `clear` too), or None for an application message.
fn parse_stream_message(text: &str, format: StreamFormat) -> Option<Value> {
    if !text.trim_start().starts_with('{') || !text.contains("\"event\"") {
        return None;
    }
    let value: Value = serde_json::from_str(text).ok()?;
    let event = value.get("event")?.as_str()?;
    let stream = match format {
        StreamFormat::Voxengine => matches!(event, "start" | "media" | "stop"),
        StreamFormat::Twilio => matches!(event, "start" | "media" | "stop" | "mark" | "clear"),
    };
    stream.then_some(value)
}

/// A `mediaFormat.encoding` as VoxEngine or Twilio names it.
fn encoding_named(name: &str) -> Option<AudioEncoding> {
    match name.to_ascii_uppercase().as_str() {
        "PCM8" | "PCM16_8KHZ" => Some(AudioEncoding::Pcm8),
        "PCM16" | "PCM16_16KHZ" => Some(AudioEncoding::Pcm16),
        "ULAW" | "AUDIO/X-MULAW" => Some(AudioEncoding::Ulaw),
        "ALAW" | "AUDIO/X-ALAW" => Some(AudioEncoding::Alaw),
        "OPUS" => Some(AudioEncoding::Opus),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::graph::{Graph, InletMode, Ports, UnitKind};
    use dialtone_bindings::host::SendMediaParams;

    fn linked(tag: &str, encoding: Option<AudioEncoding>) -> (Graph, Ports, Ports) {
        let mut graph = Graph::new();
        let ws = Ports::new(UnitKind::WebSocket, InletMode::Streams);
        let call = Ports::new(UnitKind::Call, InletMode::Replace);
        graph.add_unit("ws", ws.clone());
        graph.add_unit("call", call.clone());
        let params = SendMediaParams {
            tag: tag.into(),
            encoding,
            ..SendMediaParams::default()
        };
        graph.link("ws", "call", &params).expect("link");
        (graph, ws, call)
    }

    fn media(tag: &str, bytes: &[u8]) -> String {
        json!({"event": "media", "media": {"payload": BASE64.encode(bytes), "tag": tag}})
            .to_string()
    }

    #[test]
    fn server_audio_plays_out_per_tick_with_started_and_ended() {
        let (_graph, ws, call) = linked("bot", Some(AudioEncoding::Ulaw));
        let mut incoming = Incoming::new(StreamFormat::Voxengine, String::new());
        let handled = incoming.on_text(media("bot", &[0x80; 480]), &ws.outlet);
        assert_eq!(handled, Handled::default());
        assert!(incoming.is_active());
        let first = incoming.on_tick(&ws.outlet);
        assert!(
            matches!(&first.events[..], [WebSocketEvent::MediaStarted { tag, encoding: AudioEncoding::Ulaw, .. }] if tag == "bot")
        );
        for _ in 0..2 {
            incoming.on_tick(&ws.outlet);
        }
        assert_eq!(call.inlet.pull(), Some([g711::decode(0x80); FRAME_SAMPLES]));
        let mut events = Vec::new();
        for _ in 0..END_AFTER_IDLE_TICKS {
            events.extend(incoming.on_tick(&ws.outlet).events);
        }
        assert_eq!(
            events,
            [WebSocketEvent::MediaEnded {
                tag: "bot".into(),
                duration: 0.06
            }]
        );
        assert!(!incoming.is_active());
    }

    #[test]
    fn other_texts_are_messages_and_bad_payloads_an_error() {
        let (_graph, ws, _call) = linked("", None);
        let mut incoming = Incoming::new(StreamFormat::Voxengine, String::new());
        for text in [r#"{"event":"tool","name":"x"}"#, r#"{"event":"clear"}"#] {
            let handled = incoming.on_text(text.into(), &ws.outlet);
            assert_eq!(
                handled.events,
                [WebSocketEvent::Message { text: text.into() }]
            );
        }
        let bad = r#"{"event":"media","media":{"payload":"***"}}"#;
        let handled = incoming.on_text(bad.into(), &ws.outlet);
        assert_eq!(
            handled.events,
            [WebSocketEvent::Error {
                error: "a media message's payload on stream '' is not base64; it was dropped"
                    .into()
            }]
        );
    }

    #[test]
    fn twilio_marks_come_back_after_their_audio_or_on_clear() {
        let (_graph, ws, _call) = linked("", None);
        let mut incoming = Incoming::new(StreamFormat::Twilio, "MZ1".into());
        let twilio_media = json!({"event": "media", "streamSid": "MZ1", "media": {"payload": BASE64.encode([0xff; 320])}}).to_string();
        incoming.on_text(twilio_media, &ws.outlet);
        let mark = |name: &str| {
            json!({"event": "mark", "streamSid": "MZ1", "mark": {"name": name}}).to_string()
        };
        assert!(incoming.on_text(mark("a"), &ws.outlet).replies.is_empty());
        assert!(incoming.on_tick(&ws.outlet).replies.is_empty());
        assert_eq!(incoming.on_tick(&ws.outlet).replies, [mark("a")]);
        incoming.on_text(
            json!({"event": "media", "streamSid": "MZ1", "media": {"payload": BASE64.encode([0xff; 800])}}).to_string(),
            &ws.outlet,
        );
        incoming.on_text(mark("b"), &ws.outlet);
        let cleared = incoming.on_text(
            json!({"event": "clear", "streamSid": "MZ1"}).to_string(),
            &ws.outlet,
        );
        assert_eq!(cleared.replies, [mark("b")]);
        assert!(incoming.on_tick(&ws.outlet).events.is_empty() || !incoming.is_active());
    }

    #[test]
    fn pcm16_is_brought_to_8_khz() {
        let (_graph, ws, _call) = linked("", Some(AudioEncoding::Pcm16));
        let mut incoming = Incoming::new(StreamFormat::Voxengine, String::new());
        incoming.on_text(media("", &[0u8; 6400]), &ws.outlet);
        let frames = incoming.streams.get("").map_or(0, |p| p.frames.len());
        assert_eq!(frames, 10, "200 ms at 16 kHz is ten 8 kHz frames");
    }
}

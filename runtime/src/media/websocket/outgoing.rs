//! What a WebSocket unit sends its server for the links into it: one media stream per link
//! in VoxEngine's format (start / media / stop, told apart by `tag`), or Twilio Media
//! Streams (connected, start, media, dtmf, stop; one stream a socket).
//!
//! Sans-IO: deliveries from the unit's inlet go in, JSON texts come out.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dialtone_bindings::host::{AudioEncoding, SendMediaParams, StreamFormat};
use serde_json::json;

use crate::media::g711;
use crate::media::graph::{Delivery, FRAME_SAMPLES, Frame, LinkId};
use crate::media::resample::StreamResampler;

/// Milliseconds of audio in one frame.
const FRAME_MS: u64 = 20;

/// What the encoder asks of the socket besides sending texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum After {
    /// Keep going.
    Continue,
    /// The Twilio stream stopped: close the socket, as Twilio does.
    Close,
}

struct LinkStream {
    tag: String,
    encoding: AudioEncoding,
    chunk: u64,
    bytes_sent: u64,
    /// 8 kHz to 16 kHz, for PCM16.
    upsampler: Option<StreamResampler>,
}

/// Identifiers a Twilio stream reports.
#[derive(Debug, Clone)]
pub(crate) struct TwilioIds {
    /// `start.accountSid`: the application's name.
    pub account_sid: String,
    /// `streamSid`, unique per socket.
    pub stream_sid: String,
}

/// The encoder for one socket.
pub(crate) struct Outgoing {
    format: StreamFormat,
    twilio: TwilioIds,
    /// Numbers every media stream message of the socket.
    sequence: u64,
    streams: BTreeMap<LinkId, LinkStream>,
    /// Twilio: the link whose audio the one stream carries (the newest open one).
    twilio_active: Vec<LinkId>,
    twilio_started: bool,
    /// Twilio: the source of the stream (`callSid`).
    twilio_call: String,
    scratch: Vec<u8>,
}

impl Outgoing {
    pub(crate) fn new(format: StreamFormat, twilio: TwilioIds) -> Self {
        Self {
            format,
            twilio,
            sequence: 0,
            streams: BTreeMap::new(),
            twilio_active: Vec::new(),
            twilio_started: false,
            twilio_call: String::new(),
            scratch: Vec::with_capacity(4 * FRAME_SAMPLES),
        }
    }

    /// The first message on a new connection (Twilio's `connected`).
    pub(crate) fn greeting(&self) -> Option<String> {
        (self.format == StreamFormat::Twilio).then(|| {
            json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}).to_string()
        })
    }

    fn next_sequence(&mut self) -> u64 {
        let n = self.sequence;
        self.sequence += 1;
        n
    }

    /// Turns one delivery into the texts to send, in order.
    pub(crate) fn on_delivery(&mut self, delivery: Delivery, out: &mut Vec<String>) -> After {
        match self.format {
            StreamFormat::Voxengine => {
                self.voxengine(delivery, out);
                After::Continue
            }
            StreamFormat::Twilio => self.twilio(delivery, out),
        }
    }

    fn open_stream(&mut self, link: LinkId, params: &SendMediaParams, encoding: AudioEncoding) {
        let upsampler = (encoding == AudioEncoding::Pcm16)
            .then(|| StreamResampler::new(8_000, 16_000).ok())
            .flatten();
        self.streams.insert(
            link,
            LinkStream {
                tag: params.tag.clone(),
                encoding,
                chunk: 0,
                bytes_sent: 0,
                upsampler,
            },
        );
    }

    /// The frame's payload in the stream's encoding, base64; None while a resampler fills.
    fn payload(&mut self, link: LinkId, frame: &Frame) -> Option<(String, u64, u64)> {
        let stream = self.streams.get_mut(&link)?;
        self.scratch.clear();
        match stream.encoding {
            AudioEncoding::Ulaw => self.scratch.extend(frame.iter().map(|&s| g711::encode(s))),
            AudioEncoding::Alaw => self
                .scratch
                .extend(frame.iter().map(|&s| g711::encode_alaw(s))),
            AudioEncoding::Pcm16 => {
                let mut wide = Vec::with_capacity(2 * FRAME_SAMPLES);
                if let Some(upsampler) = &mut stream.upsampler {
                    upsampler.process(frame, &mut wide);
                }
                if wide.is_empty() {
                    return None;
                }
                self.scratch
                    .extend(wide.iter().flat_map(|s| s.to_le_bytes()));
            }
            AudioEncoding::Pcm8 | AudioEncoding::Opus => self
                .scratch
                .extend(frame.iter().flat_map(|s| s.to_le_bytes())),
        }
        stream.chunk += 1;
        stream.bytes_sent += self.scratch.len() as u64;
        Some((
            BASE64.encode(&self.scratch),
            stream.chunk,
            (stream.chunk - 1) * FRAME_MS,
        ))
    }

    fn voxengine(&mut self, delivery: Delivery, out: &mut Vec<String>) {
        match delivery {
            Delivery::Opened { link, params, .. } => {
                let encoding = params.encoding.unwrap_or(AudioEncoding::Pcm8);
                self.open_stream(link, &params, encoding);
                let sequence = self.next_sequence();
                let mut start = json!({
                    "mediaFormat": {"encoding": encoding.name(), "sampleRate": encoding.sample_rate()},
                    "tag": params.tag,
                });
                if !params.custom_parameters.is_empty() {
                    start["customParameters"] = json!(params.custom_parameters);
                }
                out.push(
                    json!({"event": "start", "sequenceNumber": sequence, "start": start})
                        .to_string(),
                );
            }
            Delivery::Frame { link, frame } => {
                let Some((payload, chunk, timestamp)) = self.payload(link, &frame) else {
                    return;
                };
                let tag = self.streams.get(&link).map(|s| s.tag.clone());
                let sequence = self.next_sequence();
                out.push(
                    json!({
                        "event": "media",
                        "sequenceNumber": sequence,
                        "media": {"chunk": chunk, "timestamp": timestamp, "payload": payload, "tag": tag},
                    })
                    .to_string(),
                );
            }
            // VoxEngine's format has no DTMF message.
            Delivery::Tone { .. } => {}
            Delivery::Closed { link } => {
                if let Some(stream) = self.streams.remove(&link) {
                    let sequence = self.next_sequence();
                    let duration = stream.chunk * FRAME_MS / 1000;
                    out.push(
                        json!({
                            "event": "stop",
                            "sequenceNumber": sequence,
                            "stop": {
                                "mediaInfo": {"bytesSent": stream.bytes_sent, "duration": duration},
                                "tag": stream.tag,
                            },
                        })
                        .to_string(),
                    );
                }
            }
        }
    }

    fn twilio(&mut self, delivery: Delivery, out: &mut Vec<String>) -> After {
        match delivery {
            Delivery::Opened {
                link,
                source,
                params,
            } => {
                // Twilio payloads are always 8 kHz μ-law.
                self.open_stream(link, &params, AudioEncoding::Ulaw);
                self.twilio_active.push(link);
                if !self.twilio_started {
                    self.twilio_started = true;
                    self.twilio_call = source;
                    let sequence = self.next_sequence() + 1;
                    out.push(
                        json!({
                            "event": "start",
                            "sequenceNumber": sequence.to_string(),
                            "streamSid": self.twilio.stream_sid,
                            "start": {
                                "streamSid": self.twilio.stream_sid,
                                "accountSid": self.twilio.account_sid,
                                "callSid": self.twilio_call,
                                "tracks": ["inbound"],
                                "customParameters": params.custom_parameters,
                                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                            },
                        })
                        .to_string(),
                    );
                }
                After::Continue
            }
            Delivery::Frame { link, frame } => {
                if self.twilio_active.last() != Some(&link) {
                    return After::Continue;
                }
                if let Some((payload, chunk, timestamp)) = self.payload(link, &frame) {
                    let sequence = self.next_sequence() + 1;
                    out.push(
                        json!({
                            "event": "media",
                            "sequenceNumber": sequence.to_string(),
                            "streamSid": self.twilio.stream_sid,
                            "media": {
                                "track": "inbound",
                                "chunk": chunk.to_string(),
                                "timestamp": timestamp.to_string(),
                                "payload": payload,
                            },
                        })
                        .to_string(),
                    );
                }
                After::Continue
            }
            Delivery::Tone { link, digit } => {
                if self.twilio_active.last() == Some(&link) {
                    let sequence = self.next_sequence() + 1;
                    out.push(
                        json!({
                            "event": "dtmf",
                            "streamSid": self.twilio.stream_sid,
                            "sequenceNumber": sequence.to_string(),
                            "dtmf": {"track": "inbound_track", "digit": digit.to_string()},
                        })
                        .to_string(),
                    );
                }
                After::Continue
            }
            Delivery::Closed { link } => {
                self.streams.remove(&link);
                self.twilio_active.retain(|l| *l != link);
                if !self.twilio_active.is_empty() || !self.twilio_started {
                    return After::Continue;
                }
                let sequence = self.next_sequence() + 1;
                out.push(
                    json!({
                        "event": "stop",
                        "sequenceNumber": sequence.to_string(),
                        "streamSid": self.twilio.stream_sid,
                        "stop": {"accountSid": self.twilio.account_sid, "callSid": self.twilio_call},
                    })
                    .to_string(),
                );
                After::Close
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn ids() -> TwilioIds {
        TwilioIds {
            account_sid: "demo".into(),
            stream_sid: "MZ1".into(),
        }
    }

    fn opened(link: LinkId, tag: &str, encoding: Option<AudioEncoding>) -> Delivery {
        Delivery::Opened {
            link,
            source: "call-1".into(),
            params: SendMediaParams {
                tag: tag.into(),
                encoding,
                ..SendMediaParams::default()
            },
        }
    }

    fn frame(link: LinkId) -> Delivery {
        Delivery::Frame {
            link,
            frame: Box::new([1000; FRAME_SAMPLES]),
        }
    }

    fn run(format: StreamFormat, deliveries: Vec<Delivery>) -> (Vec<Value>, After) {
        let mut encoder = Outgoing::new(format, ids());
        let mut texts: Vec<String> = encoder.greeting().into_iter().collect();
        let mut after = After::Continue;
        for delivery in deliveries {
            after = encoder.on_delivery(delivery, &mut texts);
        }
        let values = texts
            .iter()
            .map(|t| serde_json::from_str(t).expect("json"))
            .collect();
        (values, after)
    }

    #[test]
    fn voxengine_streams_number_every_message_and_size_payloads_per_encoding() {
        let (messages, _) = run(
            StreamFormat::Voxengine,
            vec![
                opened(1, "caller", Some(AudioEncoding::Ulaw)),
                opened(2, "", None),
                frame(1),
                frame(2),
                frame(1),
                Delivery::Closed { link: 1 },
            ],
        );
        let sequence: Vec<u64> = messages
            .iter()
            .map(|m| m["sequenceNumber"].as_u64().expect("number"))
            .collect();
        assert_eq!(sequence, [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            messages[0]["start"],
            json!({"mediaFormat": {"encoding": "ULAW", "sampleRate": 8000}, "tag": "caller"})
        );
        assert_eq!(messages[1]["start"]["mediaFormat"]["encoding"], "PCM8");
        let size = |m: &Value| {
            BASE64
                .decode(m["media"]["payload"].as_str().expect("payload"))
                .expect("base64")
                .len()
        };
        assert_eq!((size(&messages[2]), size(&messages[3])), (160, 320));
        assert_eq!(messages[4]["media"]["chunk"], 2);
        assert_eq!(messages[4]["media"]["timestamp"], 20);
        assert_eq!(
            messages[5]["stop"],
            json!({"mediaInfo": {"bytesSent": 320, "duration": 0}, "tag": "caller"})
        );
    }

    #[test]
    fn twilio_streams_carry_sids_dtmf_and_close_after_stop() {
        let (messages, after) = run(
            StreamFormat::Twilio,
            vec![
                opened(1, "", None),
                frame(1),
                Delivery::Tone {
                    link: 1,
                    digit: '5',
                },
                Delivery::Closed { link: 1 },
            ],
        );
        let events: Vec<&str> = messages
            .iter()
            .map(|m| m["event"].as_str().expect("event"))
            .collect();
        assert_eq!(events, ["connected", "start", "media", "dtmf", "stop"]);
        assert_eq!(messages[1]["start"]["callSid"], "call-1");
        assert_eq!(messages[1]["start"]["streamSid"], "MZ1");
        assert_eq!(messages[1]["sequenceNumber"], "1");
        assert_eq!(messages[2]["media"]["track"], "inbound");
        assert_eq!(messages[2]["media"]["timestamp"], "0");
        assert_eq!(messages[3]["dtmf"]["digit"], "5");
        assert_eq!(after, After::Close);
    }
}

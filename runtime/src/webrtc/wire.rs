//! A WebRTC leg's [`Wire`]: the call's stream sends 8 kHz μ-law frames, this sends them to
//! the browser as Opus (or PCMU) on our track, and decodes what the browser sends (Opus, PCMU,
//! RFC 4733 events at either clock rate) back to 8 kHz samples. SRTP, RTCP and ICE are the
//! peer connection's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

use super::opus::{CLOCK_RATIO, OpusCodec};
use super::peer::{AudioCodec, Negotiated};
use crate::media::g711;
use crate::media::rtp::{FRAME_SAMPLES, PCMU, TelephoneEvent};
use crate::media::wire::{Inbound, Outgoing, Wire};

/// What a payload type of the answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    Opus,
    Pcmu,
    Event,
}

/// The browser side of a call's media stream.
pub struct WebWire {
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    codec: AudioCodec,
    payload_type: u8,
    payloads: BTreeMap<u8, Payload>,
    inbound: mpsc::Receiver<rtc::rtp::Packet>,
    opus: Option<OpusCodec>,
    pcm: [i16; FRAME_SAMPLES],
    /// SRTP is up: before, a frame would only make the connection complain.
    ready: Arc<AtomicBool>,
}

impl WebWire {
    /// A wire on `track`, reading the browser's packets from `inbound`.
    pub fn new(
        track: Arc<TrackLocalStaticRTP>,
        ssrc: u32,
        negotiated: &Negotiated,
        inbound: mpsc::Receiver<rtc::rtp::Packet>,
        opus: Option<OpusCodec>,
        ready: Arc<AtomicBool>,
    ) -> Self {
        let payloads = negotiated
            .payload_types
            .iter()
            .filter_map(|(pt, name)| {
                let kind = match name.to_ascii_lowercase().as_str() {
                    "opus" => Payload::Opus,
                    "pcmu" => Payload::Pcmu,
                    "telephone-event" => Payload::Event,
                    _ => return None,
                };
                Some((*pt, kind))
            })
            .collect();
        Self {
            track,
            ssrc,
            codec: negotiated.codec,
            payload_type: negotiated.payload_type,
            payloads,
            inbound,
            opus,
            pcm: [0; FRAME_SAMPLES],
            ready,
        }
    }

    /// What a packet is; Opus is decoded whether or not the stream wants the samples (the
    /// decoder's state follows every packet), PCMU only when it does.
    fn decode(&mut self, packet: &rtc::rtp::Packet, wanted: bool) -> Inbound {
        match self.payloads.get(&packet.header.payload_type) {
            Some(Payload::Opus) => match &mut self.opus {
                Some(opus) => {
                    let samples = opus.decode(&packet.payload);
                    if wanted {
                        Inbound::Audio(samples.to_vec())
                    } else {
                        Inbound::Heard
                    }
                }
                None => Inbound::Other,
            },
            Some(Payload::Pcmu) if !wanted => Inbound::Heard,
            Some(Payload::Pcmu) => {
                Inbound::Audio(packet.payload.iter().map(|&b| g711::decode(b)).collect())
            }
            Some(Payload::Event) => match TelephoneEvent::parse(&packet.payload) {
                Some(event) => Inbound::Event {
                    timestamp: packet.header.timestamp,
                    event,
                },
                None => Inbound::Other,
            },
            None => Inbound::Other,
        }
    }
}

impl Wire for WebWire {
    async fn recv(&mut self, decode: bool) -> Inbound {
        match self.inbound.recv().await {
            Some(packet) => self.decode(&packet, decode),
            // The connection is gone: nothing more will come.
            None => std::future::pending().await,
        }
    }

    async fn send(&mut self, out: Outgoing<'_>) -> bool {
        if !self.ready.load(Ordering::Acquire) {
            return false;
        }
        if out.payload_type != PCMU {
            // Browsers play no RFC 4733 they receive; the call refuses digits before this.
            return false;
        }
        let (payload, timestamp) = match self.codec {
            AudioCodec::Pcmu => (Bytes::copy_from_slice(out.payload), out.timestamp),
            AudioCodec::Opus => {
                let Some(opus) = &mut self.opus else {
                    return false;
                };
                for (pcm, &code) in self.pcm.iter_mut().zip(out.payload) {
                    *pcm = g711::decode(code);
                }
                match opus.encode(&self.pcm) {
                    Ok(encoded) => (
                        Bytes::copy_from_slice(encoded),
                        out.timestamp.wrapping_mul(CLOCK_RATIO),
                    ),
                    Err(_) => return false,
                }
            }
        };
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                marker: out.marker,
                payload_type: self.payload_type,
                sequence_number: out.sequence,
                timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload,
        };
        self.track.write_rtp(packet).await.is_ok()
    }

    fn set_remote(&mut self, _addr: SocketAddr, _telephone_event: Option<u8>) {}
}

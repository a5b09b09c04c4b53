//! A browser-like WebRTC caller built on the webrtc crate (not Dialtone's code): it offers
//! Opus (or PCMU only), posts the offer to `/v1/webrtc/calls`, and once connected sends 20 ms
//! frames of 8 kHz audio, RFC 4733 key presses, and keeps what it hears, decoded with libopus.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use audiopus::coder::{Decoder, Encoder};
use audiopus::{Application, Channels, SampleRate};
use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{Notify, watch};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
    Registry, SettingEngineBuilder, register_default_interceptors,
};

/// Which codec the caller offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Opus first, then PCMU (what a browser offers).
    Opus,
    /// PCMU alone.
    Pcmu,
}

/// One call from the client.
pub struct WebRtcCaller {
    connection: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    state: watch::Receiver<RTCPeerConnectionState>,
    heard: Arc<Heard>,
    codec: Offered,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    http: SocketAddr,
    /// The call's Location.
    pub location: String,
    /// The answer's payload type for telephone-event at our clock rate.
    event_payload_type: Option<u8>,
    encoder: Encoder,
}

/// What a POST answered when it did not answer 201.
#[derive(Debug)]
pub struct Refused {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl std::error::Error for Refused {}

/// What the caller heard, and a wake-up each time it hears more.
#[derive(Default)]
struct Heard {
    samples: Mutex<Vec<i16>>,
    more: Notify,
}

struct Handler {
    gathered: Arc<Notify>,
    state: watch::Sender<RTCPeerConnectionState>,
    heard: Arc<Heard>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.notify_one();
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let heard = self.heard.clone();
        tokio::spawn(async move {
            let Ok(mut decoder) = Decoder::new(SampleRate::Hz8000, Channels::Mono) else {
                return;
            };
            let mut pcm = vec![0i16; 960];
            while let Some(event) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(packet) = event else {
                    continue;
                };
                let samples: Vec<i16> = match packet.header.payload_type {
                    0 => packet.payload.iter().map(|&b| ulaw_decode(b)).collect(),
                    111 => match decoder.decode(Some(&packet.payload[..]), &mut pcm[..], false) {
                        Ok(n) => pcm[..n].to_vec(),
                        Err(_) => continue,
                    },
                    _ => continue,
                };
                {
                    let mut kept = heard.samples.lock().unwrap_or_else(|e| e.into_inner());
                    // At most two minutes.
                    if kept.len() < 8000 * 120 {
                        kept.extend(samples);
                    }
                }
                heard.more.notify_waiters();
            }
        });
    }
}

fn codec(offered: Offered) -> RTCRtpCodecParameters {
    match offered {
        Offered::Opus => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: "audio/opus".into(),
                clock_rate: 48000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
                rtcp_feedback: vec![],
            },
            payload_type: 111,
        },
        Offered::Pcmu => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: "audio/PCMU".into(),
                clock_rate: 8000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: vec![],
            },
            payload_type: 0,
        },
    }
}

fn event_codec(clock_rate: u32, payload_type: u8) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: "audio/telephone-event".into(),
            clock_rate,
            channels: 0,
            sdp_fmtp_line: "0-15".into(),
            rtcp_feedback: vec![],
        },
        payload_type,
    }
}

impl WebRtcCaller {
    /// Offers a call to `to` on the server at `http`; the answer is applied, the connection
    /// is on its way. `Refused` (in the error) when the server did not answer 201.
    pub async fn dial(
        http: SocketAddr,
        to: &str,
        offered: Offered,
        bearer: Option<&str>,
    ) -> Result<Self> {
        Self::dial_with(http, to, offered, bearer, true).await
    }

    /// A WebRTC offer (Opus, its candidates gathered) from a connection that is then closed.
    pub async fn offer_only() -> Result<String> {
        let mut engine = MediaEngine::default();
        engine.register_codec(codec(Offered::Opus), RtpCodecKind::Audio)?;
        let gathered = Arc::new(Notify::new());
        let (state, _) = watch::channel(RTCPeerConnectionState::New);
        let handler = Arc::new(Handler {
            gathered: gathered.clone(),
            state,
            heard: Arc::default(),
        });
        let connection = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_handler(handler)
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .build()
            .await?;
        connection
            .add_transceiver_from_kind(RtpCodecKind::Audio, None)
            .await?;
        let sdp = offer_with_candidates(&connection, &gathered).await?;
        connection.close().await?;
        Ok(sdp)
    }

    /// [`WebRtcCaller::dial`] (Opus) as an application user: `basic` is base64 of
    /// `name:password`.
    pub async fn dial_as(http: SocketAddr, to: &str, basic: &str) -> Result<Self> {
        Self::dial_authorized(
            http,
            to,
            Offered::Opus,
            Some(format!("Basic {basic}")),
            true,
        )
        .await
    }

    /// [`WebRtcCaller::dial`], applying the answer only when `apply` (else the connection never
    /// starts: a browser that got its 201 and vanished).
    pub async fn dial_with(
        http: SocketAddr,
        to: &str,
        offered: Offered,
        bearer: Option<&str>,
        apply: bool,
    ) -> Result<Self> {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        Self::dial_authorized(http, to, offered, authorization, apply).await
    }

    async fn dial_authorized(
        http: SocketAddr,
        to: &str,
        offered: Offered,
        authorization: Option<String>,
        apply: bool,
    ) -> Result<Self> {
        let mut engine = MediaEngine::default();
        engine.register_codec(codec(offered), RtpCodecKind::Audio)?;
        let event = match offered {
            Offered::Opus => event_codec(48000, 110),
            Offered::Pcmu => event_codec(8000, 101),
        };
        engine.register_codec(event.clone(), RtpCodecKind::Audio)?;
        let registry = register_default_interceptors(Registry::new(), &mut engine)?;
        let gathered = Arc::new(Notify::new());
        let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let heard = Arc::new(Heard::default());
        let handler = Arc::new(Handler {
            gathered: gathered.clone(),
            state: state_tx,
            heard: heard.clone(),
        });
        let connection: Arc<dyn PeerConnection> = Arc::new(
            PeerConnectionBuilder::new()
                .with_configuration(RTCConfigurationBuilder::new().build())
                .with_media_engine(engine)
                .with_setting_engine(
                    SettingEngineBuilder::new()
                        .with_include_loopback_candidate(true)
                        .build(),
                )
                .with_interceptor_registry(registry)
                .with_handler(handler)
                .with_udp_addrs(vec!["127.0.0.1:0"])
                .build()
                .await?,
        );
        let ssrc = 0x5eed_0001 ^ std::process::id();
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "caller".into(),
            "caller-audio".into(),
            "caller".into(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                active: true,
                codec: codec(offered).rtp_codec,
                ..Default::default()
            }],
        )));
        connection
            .add_track(track.clone() as Arc<dyn TrackLocal>)
            .await?;
        for transceiver in connection.get_transceivers().await {
            transceiver
                .set_codec_preferences(vec![codec(offered), event.clone()])
                .await?;
        }
        let offer = offer_with_candidates(connection.as_ref(), &gathered).await?;
        let url = format!("http://{http}/v1/webrtc/calls?to={to}&from=rust-client");
        let mut request = client()?
            .post(url)
            .header("content-type", "application/sdp")
            .header("x-test-leg", "rust-client")
            .body(offer);
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await?;
        if status != 201 {
            let _ = connection.close().await;
            return Err(Refused { status, body }.into());
        }
        if content_type != "application/sdp" || !location.starts_with("/v1/webrtc/calls/") {
            bail!("201 without an SDP answer or Location: {content_type:?} {location:?}");
        }
        let event_payload_type = body.lines().find_map(|line| {
            let (pt, name) = line.strip_prefix("a=rtpmap:")?.split_once(' ')?;
            let wanted = match offered {
                Offered::Opus => "telephone-event/48000",
                Offered::Pcmu => "telephone-event/8000",
            };
            (name.trim() == wanted).then(|| pt.parse().ok()).flatten()
        });
        if apply {
            connection
                .set_remote_description(RTCSessionDescription::answer(body)?)
                .await?;
        }
        let encoder = Encoder::new(SampleRate::Hz8000, Channels::Mono, Application::Voip)?;
        Ok(Self {
            connection,
            track,
            state,
            heard,
            codec: offered,
            ssrc,
            sequence: 1,
            timestamp: 0,
            http,
            location,
            event_payload_type,
            encoder,
        })
    }

    /// Waits until the connection is up (or fails).
    pub async fn connected(&mut self, timeout: Duration) -> Result<()> {
        let wait = self.state.wait_for(|s| {
            matches!(
                s,
                RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
            )
        });
        let state = *tokio::time::timeout(timeout, wait)
            .await
            .context("connecting")??;
        if state != RTCPeerConnectionState::Connected {
            bail!("the connection {state}");
        }
        Ok(())
    }

    /// Waits until the connection leaves "connected" (the server closed it), within `timeout`.
    pub async fn closed(&mut self, timeout: Duration) -> Result<RTCPeerConnectionState> {
        let wait = self.state.wait_for(|s| {
            matches!(
                s,
                RTCPeerConnectionState::Closed
                    | RTCPeerConnectionState::Failed
                    | RTCPeerConnectionState::Disconnected
            )
        });
        Ok(*tokio::time::timeout(timeout, wait)
            .await
            .context("waiting for the server to close the connection")??)
    }

    /// Sends `samples` (8 kHz) as 20 ms frames in real time.
    pub async fn speak(&mut self, samples: &[i16]) -> Result<()> {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        for frame in samples.chunks(160) {
            clock.tick().await;
            let mut padded = [0i16; 160];
            padded[..frame.len()].copy_from_slice(frame);
            let (payload, payload_type, step) = match self.codec {
                Offered::Opus => {
                    let mut out = [0u8; 400];
                    let len = self.encoder.encode(&padded, &mut out)?;
                    (Bytes::copy_from_slice(&out[..len]), 111, 960)
                }
                Offered::Pcmu => (
                    padded
                        .iter()
                        .map(|&s| ulaw_encode(s))
                        .collect::<Vec<u8>>()
                        .into(),
                    0,
                    160,
                ),
            };
            self.write(payload_type, false, self.timestamp, payload)
                .await?;
            self.timestamp = self.timestamp.wrapping_add(step);
        }
        Ok(())
    }

    /// Presses `digit` as RFC 4733 events (100 ms, three end packets).
    pub async fn press(&mut self, digit: char) -> Result<()> {
        let pt = self
            .event_payload_type
            .context("the answer has no telephone-event")?;
        let event = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            _ => bail!("not a key: {digit}"),
        };
        let unit = if self.codec == Offered::Opus {
            960
        } else {
            160
        };
        let start = self.timestamp;
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        for packet in 1..=8u32 {
            clock.tick().await;
            let end = packet >= 5;
            let duration = (packet.min(5) * unit) as u16;
            let payload = vec![
                event,
                (u8::from(end) << 7) | 10,
                (duration >> 8) as u8,
                duration as u8,
            ];
            self.write(pt, packet == 1, start, payload.into()).await?;
        }
        self.timestamp = self.timestamp.wrapping_add(8 * unit);
        Ok(())
    }

    async fn write(
        &mut self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: Bytes,
    ) -> Result<()> {
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                marker,
                payload_type,
                sequence_number: self.sequence,
                timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload,
        };
        self.sequence = self.sequence.wrapping_add(1);
        self.track.write_rtp(packet).await?;
        Ok(())
    }

    /// Everything heard so far (8 kHz).
    pub fn heard(&self) -> Vec<i16> {
        self.heard
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until `samples` samples (8 kHz) have been heard, within `timeout`.
    pub async fn until_heard(&self, samples: usize, timeout: Duration) -> Result<()> {
        let heard = async {
            loop {
                // Created before the check: a wake-up between the two is not lost.
                let more = self.heard.more.notified();
                let have = self
                    .heard
                    .samples
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .len();
                if have >= samples {
                    return;
                }
                more.await;
            }
        };
        tokio::time::timeout(timeout, heard)
            .await
            .with_context(|| format!("fewer than {samples} samples heard within {timeout:?}"))
    }

    /// Waits (a long poll of its Location, at most four of 25 s) until the server says the call
    /// has ended.
    pub async fn until_ended(&self) -> Result<()> {
        let url = format!("http://{}{}", self.http, self.location);
        let mut seen = String::new();
        for _ in 0..4 {
            let response = client()?.get(format!("{url}?wait={seen}")).send().await?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                // Ended and already forgotten.
                return Ok(());
            }
            let state: serde_json::Value = response.json().await?;
            seen = state["state"].as_str().unwrap_or_default().to_owned();
            if seen == "ended" {
                return Ok(());
            }
        }
        bail!("the call did not end (last state: {seen})")
    }

    /// `DELETE` on the call's Location: the HTTP status.
    pub async fn hang_up(&self) -> Result<u16> {
        let url = format!("http://{}{}", self.http, self.location);
        Ok(client()?.delete(url).send().await?.status().as_u16())
    }

    /// Closes our side.
    pub async fn close(&self) {
        let _ = self.connection.close().await;
    }
}

/// Our offer once every candidate is gathered (no trickle).
async fn offer_with_candidates(
    connection: &(impl PeerConnection + ?Sized),
    gathered: &Notify,
) -> Result<String> {
    let offer = connection.create_offer(None).await?;
    let waiting = gathered.notified();
    connection.set_local_description(offer).await?;
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .context("gathering candidates")?;
    Ok(connection
        .local_description()
        .await
        .context("no local offer")?
        .sdp)
}

/// An HTTP client whose every request is bounded (a POST waits for the scenario's answer).
pub fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Reads a WAV file as 8 kHz mono samples, converted by sox.
pub fn samples_8k(wav: &Path) -> Result<Vec<i16>> {
    let output = std::process::Command::new("sox")
        .arg(wav)
        .args([
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-t",
            "raw",
            "-",
        ])
        .output()
        .context("sox")?;
    if !output.status.success() {
        bail!("sox: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(output
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

/// Writes 8 kHz mono samples as a 16-bit WAV file (for sox to measure).
pub fn write_wav(path: &Path, samples: &[i16]) -> Result<()> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for sample in samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn ulaw_decode(byte: u8) -> i16 {
    let byte = !byte;
    let sign = byte & 0x80;
    let exponent = (byte >> 4) & 0x07;
    let mantissa = i32::from(byte & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if sign != 0 { -magnitude } else { magnitude }) as i16
}

fn ulaw_encode(sample: i16) -> u8 {
    let mut pcm = i32::from(sample);
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    pcm = (pcm + 0x84).min(0x7fff);
    let mut exponent = 7u8;
    let mut mask = 0x4000;
    while exponent > 0 && pcm & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = ((pcm >> (exponent + 3)) & 0x0f) as u8;
    !(sign | (exponent << 4) | mantissa)
}

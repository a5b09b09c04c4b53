//! One browser's peer connection (webrtc-rs over its sans-IO `rtc` core): we answer the
//! browser's offer with every ICE candidate gathered (no trickle), one audio track of ours
//! (Opus when offered, else PCMU) and RFC 4733 telephone-event, DTLS-SRTP as WebRTC requires.
//!
//! What the connection reports (its state, the browser's RTP) comes out of two bounded
//! channels of [`PeerLink`]; a packet that does not fit is dropped, never queued.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{Notify, mpsc};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
    Registry, SettingEngineBuilder, register_default_interceptors,
};

use super::WebRtcError;

/// How long gathering our candidates may take before the answer goes without the rest.
const GATHER_WAIT: Duration = Duration::from_secs(5);
/// ICE: no traffic for this long is "disconnected" (the call gives a connected browser 5 s
/// more, `webrtc::call`).
const ICE_DISCONNECTED: Duration = Duration::from_secs(5);
/// ICE "failed": checks start as soon as the offer is applied, before the browser has our
/// answer, so this must outlast the wait for the scenario's answer and the connection after it.
const ICE_FAILED: Duration = Duration::from_secs(
    super::signaling::ANSWER_WAIT.as_secs() + super::call::CONNECT_WAIT.as_secs(),
);
const ICE_KEEPALIVE: Duration = Duration::from_secs(2);
/// Browser RTP packets waiting for the call's stream, at most (a second of 20 ms audio).
const INBOUND_BACKLOG: usize = 50;
/// Connection states waiting for the call task, at most.
const STATE_BACKLOG: usize = 16;

/// The audio codec of our track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// Opus, 48 kHz RTP clock.
    Opus,
    /// G.711 μ-law.
    Pcmu,
}

/// What the answer settled: how our packets go out and how the browser's are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Our codec.
    pub codec: AudioCodec,
    /// Its payload type in the answer.
    pub payload_type: u8,
    /// Payload type → codec name (`opus`, `PCMU`, `telephone-event` ...) of the answer.
    pub payload_types: BTreeMap<u8, String>,
}

/// A connected (or connecting) browser.
pub struct PeerLink {
    /// The connection.
    pub connection: Arc<dyn PeerConnection>,
    /// Our audio track.
    pub track: Arc<TrackLocalStaticRTP>,
    /// Our track's SSRC.
    pub ssrc: u32,
    /// The codecs of the answer.
    pub negotiated: Negotiated,
    /// The browser's RTP, newest dropped when the stream falls behind.
    pub inbound: mpsc::Receiver<rtc::rtp::Packet>,
    /// Connection state changes.
    pub states: mpsc::Receiver<RTCPeerConnectionState>,
    /// Our media address (the one candidate's).
    pub local: SocketAddr,
    /// Whether SRTP is up (the connection is connected): media is sent only then.
    pub ready: Arc<AtomicBool>,
}

/// Where and how to answer.
#[derive(Debug, Clone, Copy)]
pub struct PeerSettings {
    /// The address our media socket binds (its host candidate).
    pub media_ip: IpAddr,
    /// The address browsers reach us at, when a NAT maps it (candidates and `c=` say it).
    pub public_ip: Option<IpAddr>,
}

/// Answers a browser's offer: the answer SDP, and the connection it starts.
pub async fn answer(
    offer: &str,
    settings: PeerSettings,
) -> Result<(String, PeerLink), WebRtcError> {
    let codec = offered_codec(offer)?;
    let fail = |e: webrtc::error::Error| WebRtcError::Peer(e.to_string());
    let mut engine = MediaEngine::default();
    for parameters in codecs() {
        engine
            .register_codec(parameters, RtpCodecKind::Audio)
            .map_err(fail)?;
    }
    let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(fail)?;
    let setting_engine = SettingEngineBuilder::new()
        .with_ice_timeouts(
            Some(ICE_DISCONNECTED),
            Some(ICE_FAILED),
            Some(ICE_KEEPALIVE),
        )
        .with_include_loopback_candidate(settings.media_ip.is_loopback())
        // A page that has the microphone gets the browser's real addresses, not mDNS names;
        // and no multicast socket per call.
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .build();
    let (states_tx, states) = mpsc::channel(STATE_BACKLOG);
    let (inbound_tx, inbound) = mpsc::channel(INBOUND_BACKLOG);
    let gathered = Arc::new(Notify::new());
    let ready = Arc::new(AtomicBool::new(false));
    let handler = Arc::new(Events {
        states: states_tx,
        inbound: inbound_tx,
        gathered: gathered.clone(),
        ready: ready.clone(),
    });
    let connection: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_setting_engine(setting_engine)
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec![SocketAddr::new(settings.media_ip, 0)])
            .build()
            .await
            .map_err(|e| WebRtcError::Peer(e.to_string()))?,
    );
    let ssrc = crate::media::stream::rand_u32();
    let sending = match codec {
        AudioCodec::Opus => opus(),
        AudioCodec::Pcmu => pcmu(),
    };
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("dialtone-{ssrc:08x}"),
        format!("audio-{ssrc:08x}"),
        "dialtone".to_owned(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            active: true,
            codec: sending.rtp_codec.clone(),
            ..Default::default()
        }],
    )));
    let result = async {
        connection
            .add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(fail)?;
        // The track's codec alone would be the answer's only one: keep telephone-event too.
        let mut preferred = vec![sending.clone()];
        preferred.extend(
            codecs()
                .into_iter()
                .filter(|c| c.rtp_codec.mime_type.ends_with("telephone-event")),
        );
        for transceiver in connection.get_transceivers().await {
            transceiver
                .set_codec_preferences(preferred.clone())
                .await
                .map_err(fail)?;
        }
        let offer = RTCSessionDescription::offer(offer.to_owned())
            .map_err(|e| WebRtcError::BadOffer(stack_reason(&e)))?;
        connection
            .set_remote_description(offer)
            .await
            .map_err(|e| WebRtcError::BadOffer(stack_reason(&e)))?;
        let answer = connection.create_answer(None).await.map_err(fail)?;
        let waiting = gathered.notified();
        connection
            .set_local_description(answer)
            .await
            .map_err(fail)?;
        // Every candidate goes in the answer: no trickle.
        let _ = tokio::time::timeout(GATHER_WAIT, waiting).await;
        connection
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or_else(|| WebRtcError::Peer("no local description after the answer".into()))
    }
    .await;
    let sdp = match result {
        Ok(sdp) => sdp,
        Err(e) => {
            let _ = connection.close().await;
            return Err(e);
        }
    };
    if sdp.lines().any(|l| l.trim().starts_with("m=audio 0 ")) {
        let _ = connection.close().await;
        return Err(WebRtcError::BadOffer(
            "its audio cannot be used (WebRTC audio needs rtcp-mux, a valid fingerprint and Opus or PCMU)".into(),
        ));
    }
    let payload_types = rtpmap(&sdp);
    let wanted = match codec {
        AudioCodec::Opus => "opus",
        AudioCodec::Pcmu => "PCMU",
    };
    let Some(payload_type) = payload_types
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(wanted))
        .map(|(pt, _)| *pt)
    else {
        let _ = connection.close().await;
        return Err(WebRtcError::NoCodec);
    };
    let local = candidate_address(&sdp).unwrap_or(SocketAddr::new(settings.media_ip, 0));
    let sdp = match settings.public_ip {
        Some(public) if public != settings.media_ip => {
            rewrite_address(&sdp, settings.media_ip, public)
        }
        _ => sdp,
    };
    let link = PeerLink {
        connection,
        track,
        ssrc,
        negotiated: Negotiated {
            codec,
            payload_type,
            payload_types,
        },
        inbound,
        states,
        local,
        ready,
    };
    Ok((sdp, link))
}

/// Opus when the browser offers it, else PCMU; first, what every WebRTC offer has.
fn offered_codec(offer: &str) -> Result<AudioCodec, WebRtcError> {
    check_offer(offer)?;
    let names: Vec<String> = rtpmap(offer).into_values().collect();
    if names.iter().any(|n| n.eq_ignore_ascii_case("opus")) {
        Ok(AudioCodec::Opus)
    } else if names.iter().any(|n| n.eq_ignore_ascii_case("PCMU")) {
        Ok(AudioCodec::Pcmu)
    } else {
        Err(WebRtcError::NoCodec)
    }
}

/// What an offer needs before the WebRTC stack sees it, said in words: SDP lines, audio, ICE
/// credentials, a DTLS fingerprint.
fn check_offer(offer: &str) -> Result<(), WebRtcError> {
    let bad = |why: &str| Err(WebRtcError::BadOffer(why.to_owned()));
    let mut lines = offer.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some("v=0") {
        return bad("it is not SDP (the first line must be v=0)");
    }
    let sdp_line = |l: &str| matches!(l.as_bytes(), [kind, b'=', ..] if kind.is_ascii_lowercase());
    if let Some(line) = offer
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !sdp_line(l))
    {
        let shown: String = line.chars().take(40).collect();
        return Err(WebRtcError::BadOffer(format!(
            "it is not SDP (a line is not type=value: '{}')",
            shown.escape_default()
        )));
    }
    let has = |prefix: &str| offer.lines().any(|l| l.trim().starts_with(prefix));
    if !has("m=audio") {
        return bad("the offer has no audio");
    }
    if !has("a=ice-ufrag:") || !has("a=ice-pwd:") {
        return bad("the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)");
    }
    if !has("a=fingerprint:") {
        return bad("the offer has no DTLS fingerprint (a=fingerprint)");
    }
    Ok(())
}

/// The codecs we answer with: Opus, PCMU, and telephone-event at both clock rates.
fn codecs() -> Vec<RTCRtpCodecParameters> {
    let event = |clock_rate, payload_type| RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: "audio/telephone-event".to_owned(),
            clock_rate,
            channels: 0,
            sdp_fmtp_line: "0-15".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type,
    };
    vec![opus(), pcmu(), event(48000, 110), event(8000, 126)]
}

/// Opus as browsers offer it (48 kHz, 2 channels, in-band FEC).
pub(crate) fn opus() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: "audio/opus".to_owned(),
            clock_rate: 48000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: 111,
    }
}

fn pcmu() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: "audio/PCMU".to_owned(),
            clock_rate: 8000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
        payload_type: 0,
    }
}

/// The WebRTC stack's reason, without the name of its error variant (`SdpInvalidSyntax: m=`
/// reads as `invalid syntax: m=`).
fn stack_reason(error: &webrtc::error::Error) -> String {
    let text = error.to_string();
    match text.split_once(": ") {
        Some((variant, rest))
            if !variant.contains(' ') && variant.starts_with(|c: char| c.is_ascii_uppercase()) =>
        {
            let mut words = String::new();
            for (i, c) in variant.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    words.push(' ');
                }
                words.push(c.to_ascii_lowercase());
            }
            let words = words.strip_prefix("err ").unwrap_or(&words).to_owned();
            format!("{words}: {rest}")
        }
        _ => text,
    }
}

/// `a=rtpmap:` lines: payload type → encoding name.
pub(crate) fn rtpmap(sdp: &str) -> BTreeMap<u8, String> {
    sdp.lines()
        .filter_map(|line| {
            let (pt, rest) = line.trim().strip_prefix("a=rtpmap:")?.split_once(' ')?;
            let name = rest.split('/').next()?;
            Some((pt.parse().ok()?, name.to_owned()))
        })
        .collect()
}

/// The address of the first UDP candidate in `sdp`.
fn candidate_address(sdp: &str) -> Option<SocketAddr> {
    sdp.lines().find_map(|line| {
        let fields: Vec<&str> = line
            .trim()
            .strip_prefix("a=candidate:")?
            .split(' ')
            .collect();
        if !fields.get(2)?.eq_ignore_ascii_case("udp") {
            return None;
        }
        Some(SocketAddr::new(
            fields.get(4)?.parse().ok()?,
            fields.get(5)?.parse().ok()?,
        ))
    })
}

/// `sdp` with `from` replaced by `to` in candidates and connection lines (a 1:1 NAT).
fn rewrite_address(sdp: &str, from: IpAddr, to: IpAddr) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    sdp.split_inclusive('\n')
        .map(|line| {
            if line.starts_with("a=candidate:") || line.starts_with("c=") {
                line.split(' ')
                    .map(|field| {
                        let (value, end) = field
                            .strip_suffix("\r\n")
                            .map_or((field, ""), |v| (v, "\r\n"));
                        if value == from {
                            format!("{to}{end}")
                        } else {
                            field.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The connection's callbacks, turned into channel messages.
struct Events {
    states: mpsc::Sender<RTCPeerConnectionState>,
    inbound: mpsc::Sender<rtc::rtp::Packet>,
    gathered: Arc<Notify>,
    ready: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.notify_one();
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.ready.store(
            state == RTCPeerConnectionState::Connected,
            Ordering::Release,
        );
        let _ = self.states.try_send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let inbound = self.inbound.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                match event {
                    TrackRemoteEvent::OnRtpPacket(packet) => {
                        // A full backlog means the stream is behind: drop, never queue more.
                        if let Err(mpsc::error::TrySendError::Closed(_)) = inbound.try_send(packet)
                        {
                            break;
                        }
                    }
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n\
        a=rtpmap:111 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\n\
        a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n\
        a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 AB:CD\r\n";

    #[test]
    fn opus_is_preferred_and_pcmu_is_the_fallback() {
        assert_eq!(
            offered_codec(CHROME_OFFER).expect("codec"),
            AudioCodec::Opus
        );
        let pcmu_only = CHROME_OFFER.replace("a=rtpmap:111 opus/48000/2\r\n", "");
        assert_eq!(offered_codec(&pcmu_only).expect("codec"), AudioCodec::Pcmu);
        let neither = pcmu_only.replace("a=rtpmap:0 PCMU/8000\r\n", "");
        assert_eq!(
            offered_codec(&neither).map_err(|e| e.to_string()),
            Err("the offer has neither Opus nor PCMU audio".to_owned())
        );
        assert_eq!(
            offered_codec("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n").map_err(|e| e.to_string()),
            Err("the offer cannot be answered: the offer has no audio".to_owned())
        );
    }

    #[test]
    fn offers_that_are_not_webrtc_are_refused_in_words() {
        let message = |offer: &str| check_offer(offer).map_err(|e| e.to_string());
        assert_eq!(
            message("hello"),
            Err(
                "the offer cannot be answered: it is not SDP (the first line must be v=0)"
                    .to_owned()
            )
        );
        assert_eq!(
            message("v=0\r\nm=audio 9 RTP/AVP 0\r\nnot a line\r\n"),
            Err("the offer cannot be answered: it is not SDP (a line is not type=value: 'not a line')".to_owned())
        );
        assert_eq!(
            message("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n"),
            Err("the offer cannot be answered: the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)".to_owned())
        );
        assert_eq!(
            message("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\n"),
            Err(
                "the offer cannot be answered: the offer has no DTLS fingerprint (a=fingerprint)"
                    .to_owned()
            )
        );
        assert_eq!(message(CHROME_OFFER), Ok(()));
    }

    #[test]
    fn the_stacks_error_names_read_as_words() {
        let syntax = webrtc::error::Error::SdpInvalidSyntax("m=".into());
        assert_eq!(stack_reason(&syntax), "sdp invalid syntax: m=");
        let other = webrtc::error::Error::Other("plain words: kept".into());
        assert_eq!(stack_reason(&other), "plain words: kept");
    }

    #[test]
    fn a_nat_address_replaces_the_bound_one_in_candidates_only() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 10.0.0.5\r\nc=IN IP4 10.0.0.5\r\n\
            a=candidate:1 1 udp 2130706431 10.0.0.5 50000 typ host\r\na=x:10.0.0.5\r\n";
        let rewritten = rewrite_address(
            sdp,
            "10.0.0.5".parse().expect("ip"),
            "203.0.113.7".parse().expect("ip"),
        );
        assert_eq!(
            rewritten,
            "v=0\r\no=- 1 2 IN IP4 10.0.0.5\r\nc=IN IP4 203.0.113.7\r\n\
            a=candidate:1 1 udp 2130706431 203.0.113.7 50000 typ host\r\na=x:10.0.0.5\r\n"
        );
        assert_eq!(
            candidate_address(&rewritten),
            Some("203.0.113.7:50000".parse().expect("addr"))
        );
    }
}

//! SDP offer/answer (RFC 3264) for one PCMU audio stream with RFC 4733 telephone-events,
//! parsed and printed with `rtc-sdp` (the webrtc-rs SDP crate).
//!
//! The answer mirrors the offer's media lines: the same count and order, the first plain-RTP
//! audio stream with PCMU taken (PCMU and, when offered, telephone-event, each with the offer's
//! payload type number), every other stream refused with port 0 (RFC 3264 6). Profiles we
//! cannot serve (SRTP's RTP/SAVP, DTLS) are refused, and when no stream can be taken the call is
//! answered 488.

use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use rtc_sdp::SessionDescription;
use thiserror::Error;

use crate::media::rtp::PCMU;

/// Why an offer cannot be answered (the call gets 488 Not Acceptable Here).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The body is not UTF-8 text.
    #[error("SDP is not text")]
    NotText,
    /// The SDP does not parse.
    #[error("the SDP does not parse: {0}")]
    Syntax(String),
    /// No `m=audio` line.
    #[error("the offer has no audio stream")]
    NoAudio,
    /// The audio streams use a profile we cannot serve.
    #[error("the offer's audio stream uses {0}, which Dialtone does not serve (only RTP/AVP)")]
    Profile(String),
    /// The audio stream does not offer PCMU.
    #[error("the offer's audio stream does not include PCMU/8000 (offered: {0})")]
    NoPcmu(String),
    /// No usable connection address.
    #[error("the offer has no IPv4/IPv6 connection address")]
    NoAddress,
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// The offerer only sends (it put us on hold).
    SendOnly,
    /// The offerer only receives.
    RecvOnly,
    /// No media.
    Inactive,
}

impl Direction {
    /// The direction our answer states for this offered direction.
    pub fn answer(self) -> Self {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether we send media with this (our) direction.
    pub fn we_send(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// One offered media line, as the answer repeats it when it refuses the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OfferedStream {
    media: String,
    proto: String,
    formats: Vec<String>,
}

/// What we use from an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Where to send RTP (port 0: the stream is disabled).
    pub remote: SocketAddr,
    /// The offerer's telephone-event/8000 payload type, if any.
    pub telephone_event: Option<u8>,
    /// The offered direction.
    pub direction: Direction,
    /// The offer's media lines, in order.
    streams: Vec<OfferedStream>,
    /// The one we take.
    taken: usize,
    /// PCMU's payload type number in the offer.
    pcmu: u8,
}

/// The profile we serve.
const RTP_AVP: &str = "RTP/AVP";

impl Offer {
    /// Parses an offer body.
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
        let desc = SessionDescription::unmarshal(&mut Cursor::new(text)).map_err(syntax)?;
        let streams: Vec<OfferedStream> = desc
            .media_descriptions
            .iter()
            .map(|m| OfferedStream {
                media: m.media_name.media.clone(),
                proto: m.media_name.protos.join("/"),
                formats: m.media_name.formats.clone(),
            })
            .collect();
        let mut refusal = SdpError::NoAudio;
        for (index, media) in desc.media_descriptions.iter().enumerate() {
            let stream = &streams[index];
            if stream.media != "audio" || media.media_name.port.value == 0 {
                continue;
            }
            if stream.proto != RTP_AVP {
                refusal = SdpError::Profile(stream.proto.clone());
                continue;
            }
            let codecs = media.codecs();
            let codec_of = |pt: u8| {
                codecs
                    .get(&pt)
                    .map(|c| format!("{}/{}", c.name, c.clock_rate).to_ascii_lowercase())
            };
            let payload_types: Vec<u8> = stream
                .formats
                .iter()
                .filter_map(|f| f.parse::<u8>().ok())
                .collect();
            let pcmu = payload_types
                .iter()
                .copied()
                .find(|&pt| match codec_of(pt) {
                    Some(codec) => codec == "pcmu/8000",
                    None => pt == PCMU,
                });
            let Some(pcmu) = pcmu else {
                let offered = payload_types
                    .iter()
                    .map(|&pt| match codec_of(pt) {
                        Some(codec) => format!("{pt} {codec}"),
                        None => pt.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                refusal = SdpError::NoPcmu(offered);
                continue;
            };
            let telephone_event = payload_types
                .iter()
                .copied()
                .find(|&pt| codec_of(pt).is_some_and(|c| c == "telephone-event/8000"));
            let connection = media
                .connection_information
                .as_ref()
                .or(desc.connection_information.as_ref());
            let ip = connection
                .and_then(|c| c.address.as_ref())
                .and_then(|a| a.address.split('/').next()?.parse::<IpAddr>().ok())
                .ok_or(SdpError::NoAddress)?;
            let port = u16::try_from(media.media_name.port.value)
                .map_err(|_| SdpError::Syntax(format!("port {}", media.media_name.port.value)))?;
            let direction = direction_of(media.attributes.iter().map(|a| a.key.as_str()))
                .or_else(|| direction_of(desc.attributes.iter().map(|a| a.key.as_str())))
                .unwrap_or(Direction::SendRecv);
            return Ok(Offer {
                remote: SocketAddr::new(ip, port),
                telephone_event,
                direction,
                streams,
                taken: index,
                pcmu,
            });
        }
        Err(refusal)
    }
}

/// The direction attribute among `keys`, if any.
fn direction_of<'a>(mut keys: impl Iterator<Item = &'a str>) -> Option<Direction> {
    keys.find_map(|key| match key {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    })
}

/// The parser's complaint, in words (without its error type's name).
fn syntax(error: rtc_shared::error::Error) -> SdpError {
    use rtc_shared::error::Error as E;
    let detail = match error {
        E::SdpInvalidSyntax(text) | E::SdpInvalidValue(text) => text,
        E::SdpEmptyTimeDescription => "no t= line".to_owned(),
        _ => "not a session description".to_owned(),
    };
    SdpError::Syntax(detail.chars().take(80).collect())
}

/// Default telephone-event payload type of our own offers.
pub const DEFAULT_TELEPHONE_EVENT: u8 = 101;

/// Our SDP on `local` with `direction`: the answer to `offer`, mirroring its media lines, or
/// (without an offer) our own offer of PCMU and telephone-event.
pub fn answer(
    local: SocketAddr,
    session_id: u64,
    version: u64,
    offer: Option<&Offer>,
    direction: Direction,
) -> String {
    let family = if local.is_ipv4() { "IP4" } else { "IP6" };
    let ip = local.ip();
    let mut sdp = format!(
        "v=0\r\n\
         o=dialtone {session_id} {version} IN {family} {ip}\r\n\
         s=dialtone\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n"
    );
    let (taken, telephone_event, pcmu) = match offer {
        Some(offer) => (Some(offer.taken), offer.telephone_event, offer.pcmu),
        None => (None, Some(DEFAULT_TELEPHONE_EVENT), PCMU),
    };
    let ours = |sdp: &mut String| {
        let port = local.port();
        let formats = match telephone_event {
            Some(te) => format!("{pcmu} {te}"),
            None => pcmu.to_string(),
        };
        sdp.push_str(&format!(
            "m=audio {port} {RTP_AVP} {formats}\r\na=rtpmap:{pcmu} PCMU/8000\r\n"
        ));
        if let Some(te) = telephone_event {
            sdp.push_str(&format!(
                "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
            ));
        }
        sdp.push_str(&format!("a=ptime:20\r\na={}\r\n", direction.attribute()));
    };
    match offer {
        None => ours(&mut sdp),
        Some(offer) => {
            for (index, stream) in offer.streams.iter().enumerate() {
                if Some(index) == taken {
                    ours(&mut sdp);
                } else {
                    // Refused: port 0, the offer's own format list (RFC 3264 6).
                    sdp.push_str(&format!(
                        "m={} 0 {} {}\r\n",
                        stream.media,
                        stream.proto,
                        stream.formats.join(" ")
                    ));
                }
            }
        }
    }
    sdp
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
        c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 0 96\r\n\
        a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n\
        a=fmtp:96 0-15\r\n";

    /// An offer with `media` lines after a minimal session part.
    fn offer(media: &str) -> String {
        format!("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n{media}")
    }

    #[test]
    fn parses_a_typical_offer() {
        let offer = Offer::parse(OFFER.as_bytes()).expect("offer");
        assert_eq!(
            offer.remote,
            "127.0.0.1:6000"
                .parse::<std::net::SocketAddr>()
                .expect("addr")
        );
        assert_eq!(offer.telephone_event, Some(96));
        assert_eq!(offer.direction, Direction::SendRecv);
    }

    #[test]
    fn static_pcmu_without_rtpmap_and_media_level_address_and_hold() {
        let body = "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n\
                    m=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.2\na=sendonly\n";
        let offer = Offer::parse(body.as_bytes()).expect("offer");
        assert_eq!(
            offer.remote,
            "10.0.0.2:4000"
                .parse::<std::net::SocketAddr>()
                .expect("addr")
        );
        assert_eq!(offer.telephone_event, None);
        assert_eq!(offer.direction, Direction::SendOnly);
        assert_eq!(offer.direction.answer(), Direction::RecvOnly);
        assert!(!offer.direction.answer().we_send());
    }

    #[test]
    fn rejects_what_cannot_be_answered_saying_why() {
        let no_pcmu = offer(
            "m=audio 5 RTP/AVP 8 111\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:111 opus/48000/2\r\n",
        );
        assert_eq!(
            Offer::parse(no_pcmu.as_bytes()).map_err(|e| e.to_string()),
            Err("the offer's audio stream does not include PCMU/8000 (offered: 8 pcma/8000, 111 opus/48000)".into())
        );
        let video_only = offer("m=video 5 RTP/AVP 96\r\n");
        assert_eq!(Offer::parse(video_only.as_bytes()), Err(SdpError::NoAudio));
        let srtp = offer("m=audio 5 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n");
        assert_eq!(
            Offer::parse(srtp.as_bytes()).map_err(|e| e.to_string()),
            Err("the offer's audio stream uses RTP/SAVP, which Dialtone does not serve (only RTP/AVP)".into())
        );
        let no_address =
            "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 5 RTP/AVP 0\r\n";
        assert_eq!(
            Offer::parse(no_address.as_bytes()),
            Err(SdpError::NoAddress)
        );
        let garbage = Offer::parse(b"garbage without equals").map_err(|e| e.to_string());
        assert!(
            garbage
                .as_ref()
                .is_err_and(|e| e.starts_with("the SDP does not parse: ") && !e.contains("Sdp")),
            "{garbage:?}"
        );
        assert_eq!(Offer::parse(&[0xff, 0xfe]), Err(SdpError::NotText));
    }

    #[test]
    fn the_answer_mirrors_the_offered_lines_and_keeps_their_payload_types() {
        let body = offer(
            "m=video 7000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n\
             m=audio 7002 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n\
             m=audio 7004 RTP/AVP 0 97\r\na=rtpmap:97 telephone-event/8000\r\n\
             m=audio 7006 RTP/AVP 0\r\n",
        );
        let parsed = Offer::parse(body.as_bytes()).expect("the third stream is taken");
        assert_eq!(
            parsed.remote,
            "10.0.0.1:7004"
                .parse::<std::net::SocketAddr>()
                .expect("addr")
        );
        assert_eq!(parsed.telephone_event, Some(97));
        let local: SocketAddr = "127.0.0.1:20000".parse().expect("addr");
        let sdp = answer(local, 7, 1, Some(&parsed), Direction::SendRecv);
        let lines: Vec<&str> = sdp.lines().filter(|l| l.starts_with("m=")).collect();
        assert_eq!(
            lines,
            [
                "m=video 0 RTP/AVP 96",
                "m=audio 0 RTP/SAVP 0",
                "m=audio 20000 RTP/AVP 0 97",
                "m=audio 0 RTP/AVP 0",
            ]
        );
        assert!(
            sdp.contains("a=rtpmap:97 telephone-event/8000\r\n"),
            "{sdp}"
        );
        // The crate's own parser reads our answer back.
        let reread = SessionDescription::unmarshal(&mut Cursor::new(sdp.as_str())).expect("parses");
        assert_eq!(reread.media_descriptions.len(), 4);
    }

    #[test]
    fn without_telephone_event_in_the_offer_the_answer_has_none() {
        let parsed = Offer::parse(offer("m=audio 7004 RTP/AVP 0\r\n").as_bytes()).expect("offer");
        let sdp = answer(
            "127.0.0.1:20000".parse().expect("addr"),
            7,
            1,
            Some(&parsed),
            Direction::SendRecv,
        );
        assert!(sdp.contains("m=audio 20000 RTP/AVP 0\r\n"), "{sdp}");
        assert!(!sdp.contains("telephone-event"), "{sdp}");
    }

    #[test]
    fn our_own_offer_round_trips_through_the_parser() {
        let local: SocketAddr = "127.0.0.1:20000".parse().expect("addr");
        let sdp = answer(local, 7, 1, None, Direction::SendRecv);
        let parsed = Offer::parse(sdp.as_bytes()).expect("our offer parses");
        assert_eq!(parsed.remote, local);
        assert_eq!(parsed.telephone_event, Some(101));
        assert!(sdp.contains("m=audio 20000 RTP/AVP 0 101\r\n"));
    }
}

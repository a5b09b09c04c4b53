//! SDP offer/answer (RFC 3264) for one PCMU audio stream with RFC 4733 telephone-events.
//!
//! Only what a UAS answering audio needs: the offer's connection address, audio port,
//! payload types and direction; the answer picks PCMU and telephone-event/8000.

use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

use crate::media::rtp::PCMU;

/// Why an offer cannot be answered (the call gets 488 Not Acceptable Here).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The body is not UTF-8 text.
    #[error("SDP is not text")]
    NotText,
    /// No `m=audio` line.
    #[error("the offer has no audio stream")]
    NoAudio,
    /// The audio stream does not offer PCMU.
    #[error("the offer's audio stream does not include PCMU/8000 (offered: {0})")]
    NoPcmu(String),
    /// A line could not be read.
    #[error("invalid SDP line '{0}'")]
    BadLine(String),
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

/// What we use from an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Where to send RTP (port 0: the stream is disabled).
    pub remote: SocketAddr,
    /// The offerer's telephone-event/8000 payload type, if any.
    pub telephone_event: Option<u8>,
    /// The offered direction.
    pub direction: Direction,
}

impl Offer {
    /// Parses an offer body.
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
        let mut session_addr: Option<IpAddr> = None;
        let mut media_addr: Option<IpAddr> = None;
        let mut audio: Option<(u16, Vec<u8>)> = None;
        let mut in_audio = false;
        let mut seen_audio = false;
        let mut rtpmaps: Vec<(u8, String)> = Vec::new();
        let mut session_direction = Direction::SendRecv;
        let mut media_direction: Option<Direction> = None;
        for raw in text.lines() {
            let line = raw.trim_end_matches('\r');
            let Some((kind, value)) = line.split_once('=') else {
                if line.trim().is_empty() {
                    continue;
                }
                return Err(SdpError::BadLine(line.chars().take(80).collect()));
            };
            match kind {
                "m" => {
                    // Only the first audio stream is used; the rest are not answered.
                    in_audio = value.starts_with("audio ") && !seen_audio;
                    if in_audio {
                        seen_audio = true;
                        let mut parts = value.split_whitespace().skip(1);
                        let port = parts
                            .next()
                            .and_then(|p| p.split('/').next())
                            .and_then(|p| p.parse::<u16>().ok())
                            .ok_or_else(|| SdpError::BadLine(line.to_owned()))?;
                        let _proto = parts.next();
                        let formats = parts.filter_map(|f| f.parse::<u8>().ok()).collect();
                        audio = Some((port, formats));
                    }
                }
                "c" => {
                    let addr = value
                        .split_whitespace()
                        .nth(2)
                        .and_then(|a| a.split('/').next())
                        .and_then(|a| a.parse::<IpAddr>().ok());
                    if in_audio {
                        media_addr = addr;
                    } else if !seen_audio {
                        session_addr = addr;
                    }
                }
                "a" if in_audio || !seen_audio => {
                    let direction = match value {
                        "sendrecv" => Some(Direction::SendRecv),
                        "sendonly" => Some(Direction::SendOnly),
                        "recvonly" => Some(Direction::RecvOnly),
                        "inactive" => Some(Direction::Inactive),
                        _ => None,
                    };
                    if let Some(direction) = direction {
                        if in_audio {
                            media_direction = Some(direction);
                        } else {
                            session_direction = direction;
                        }
                    } else if in_audio && let Some(map) = value.strip_prefix("rtpmap:") {
                        let mut parts = map.splitn(2, ' ');
                        if let (Some(pt), Some(codec)) = (parts.next(), parts.next())
                            && let Ok(pt) = pt.parse::<u8>()
                        {
                            rtpmaps.push((pt, codec.trim().to_ascii_lowercase()));
                        }
                    }
                }
                _ => {}
            }
        }
        let (port, formats) = audio.ok_or(SdpError::NoAudio)?;
        let codec_of = |pt: u8| {
            rtpmaps
                .iter()
                .find(|(p, _)| *p == pt)
                .map(|(_, c)| c.as_str())
        };
        let has_pcmu = formats.iter().any(|&pt| match codec_of(pt) {
            Some(codec) => codec.starts_with("pcmu/8000"),
            None => pt == PCMU,
        });
        if !has_pcmu {
            let offered = formats
                .iter()
                .map(|pt| match codec_of(*pt) {
                    Some(codec) => format!("{pt} {codec}"),
                    None => pt.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(SdpError::NoPcmu(offered));
        }
        let telephone_event = formats
            .iter()
            .copied()
            .find(|&pt| codec_of(pt).is_some_and(|c| c.starts_with("telephone-event/8000")));
        let ip = media_addr.or(session_addr).ok_or(SdpError::NoAddress)?;
        Ok(Offer {
            remote: SocketAddr::new(ip, port),
            telephone_event,
            direction: media_direction.unwrap_or(session_direction),
        })
    }
}

/// Default telephone-event payload type of our own offers and answers.
pub const DEFAULT_TELEPHONE_EVENT: u8 = 101;

/// Builds our SDP: PCMU plus telephone-event on `local`, with `direction`.
pub fn answer(
    local: SocketAddr,
    session_id: u64,
    version: u64,
    telephone_event: u8,
    direction: Direction,
) -> String {
    let family = if local.is_ipv4() { "IP4" } else { "IP6" };
    let ip = local.ip();
    let port = local.port();
    let te = telephone_event;
    format!(
        "v=0\r\n\
         o=dialtone {session_id} {version} IN {family} {ip}\r\n\
         s=dialtone\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP {PCMU} {te}\r\n\
         a=rtpmap:{PCMU} PCMU/8000\r\n\
         a=rtpmap:{te} telephone-event/8000\r\n\
         a=fmtp:{te} 0-16\r\n\
         a=ptime:20\r\n\
         a={}\r\n",
        direction.attribute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
        c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 0 96\r\n\
        a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n\
        a=fmtp:96 0-15\r\n";

    #[test]
    fn parses_a_typical_offer() {
        let offer = Offer::parse(OFFER.as_bytes()).expect("offer");
        assert_eq!(offer.remote, "127.0.0.1:6000".parse().expect("addr"));
        assert_eq!(offer.telephone_event, Some(96));
        assert_eq!(offer.direction, Direction::SendRecv);
    }

    #[test]
    fn static_pcmu_without_rtpmap_and_media_level_address_and_hold() {
        let body = "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n\
                    m=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.2\na=sendonly\n";
        let offer = Offer::parse(body.as_bytes()).expect("offer");
        assert_eq!(offer.remote, "10.0.0.2:4000".parse().expect("addr"));
        assert_eq!(offer.telephone_event, None);
        assert_eq!(offer.direction, Direction::SendOnly);
        assert_eq!(offer.direction.answer(), Direction::RecvOnly);
        assert!(!offer.direction.answer().we_send());
    }

    #[test]
    fn rejects_what_cannot_be_answered() {
        let no_pcmu = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 8 111\r\n\
                       a=rtpmap:8 PCMA/8000\r\na=rtpmap:111 opus/48000/2\r\n";
        assert_eq!(
            Offer::parse(no_pcmu.as_bytes()),
            Err(SdpError::NoPcmu("8 pcma/8000, 111 opus/48000/2".into()))
        );
        let video_only = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5 RTP/AVP 96\r\n";
        assert_eq!(Offer::parse(video_only.as_bytes()), Err(SdpError::NoAudio));
        assert_eq!(
            Offer::parse(b"v=0\r\nm=audio 5 RTP/AVP 0\r\n"),
            Err(SdpError::NoAddress)
        );
        assert!(Offer::parse(b"garbage without equals").is_err());
        assert!(Offer::parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn answer_round_trips_through_the_parser() {
        let local: SocketAddr = "127.0.0.1:20000".parse().expect("addr");
        let sdp = answer(local, 7, 1, 101, Direction::SendRecv);
        let parsed = Offer::parse(sdp.as_bytes()).expect("our answer parses");
        assert_eq!(parsed.remote, local);
        assert_eq!(parsed.telephone_event, Some(101));
        assert!(sdp.contains("m=audio 20000 RTP/AVP 0 101\r\n"));
    }
}

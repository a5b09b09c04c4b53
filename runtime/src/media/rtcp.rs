//! RTCP (RFC 3550 6) for a call's stream: our sender reports, on the port after the RTP port,
//! so the far end can tie our RTP timestamps to wall-clock time (lip sync, recording alignment)
//! and see how much we sent; each report is a compound packet, SR then SDES with our CNAME.
//!
//! Building is pure ([`sender_report`]); [`RtcpSender`] decides when (about every 5 s, jittered
//! to 0.5-1.5 times that, RFC 3550 6.2) and sends. [`parse_compound`] reads what peers send,
//! bounded, and is what the fuzz target drives.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::time::Instant;

/// RTCP packet types (RFC 3550 12.1).
const SR: u8 = 200;
const SDES: u8 = 202;
/// SDES item CNAME.
const CNAME: u8 = 1;
/// The mean interval between our reports.
const INTERVAL: Duration = Duration::from_secs(5);
/// Seconds from 1900 (NTP's epoch) to 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// What a sender report says about our stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// Our SSRC.
    pub ssrc: u32,
    /// Wall-clock time of the report, as a 64-bit NTP timestamp.
    pub ntp: u64,
    /// The RTP timestamp that corresponds to `ntp`.
    pub rtp_timestamp: u32,
    /// RTP packets sent so far.
    pub packets: u32,
    /// Payload octets sent so far.
    pub octets: u32,
}

/// `now` as a 64-bit NTP timestamp (seconds since 1900 . fraction).
pub fn ntp_timestamp(now: SystemTime) -> u64 {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs() + NTP_UNIX_OFFSET;
    let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds << 32) | fraction
}

/// A compound packet: SR (no report blocks) then SDES with `cname`, into `out`.
pub fn sender_report(info: &SenderInfo, cname: &str, out: &mut Vec<u8>) {
    out.clear();
    // SR: header, SSRC, NTP (8), RTP timestamp, packet count, octet count = 28 bytes, 6 words
    // after the header word.
    out.extend_from_slice(&[0x80, SR, 0, 6]);
    out.extend_from_slice(&info.ssrc.to_be_bytes());
    out.extend_from_slice(&info.ntp.to_be_bytes());
    out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
    out.extend_from_slice(&info.packets.to_be_bytes());
    out.extend_from_slice(&info.octets.to_be_bytes());
    // SDES, one chunk: SSRC, CNAME item, end item, padded to a word.
    let cname = &cname.as_bytes()[..cname.len().min(255)];
    let start = out.len();
    out.extend_from_slice(&[0x81, SDES, 0, 0]);
    out.extend_from_slice(&info.ssrc.to_be_bytes());
    out.push(CNAME);
    out.push(cname.len() as u8);
    out.extend_from_slice(cname);
    out.push(0);
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    let words = ((out.len() - start) / 4 - 1) as u16;
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

/// One packet of a compound RTCP datagram: its type and the SSRC after the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket {
    /// Packet type (200 SR, 201 RR, 202 SDES, 203 BYE, ...).
    pub packet_type: u8,
    /// The first SSRC in it (the sender's for SR/RR).
    pub ssrc: Option<u32>,
}

/// Why a datagram is not RTCP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    /// Shorter than a header, or a length past the end.
    #[error("truncated RTCP packet")]
    Truncated,
    /// Version is not 2.
    #[error("RTCP version {0}")]
    Version(u8),
    /// A type outside RTCP's range (192-223).
    #[error("not an RTCP packet type: {0}")]
    NotRtcp(u8),
}

/// Most packets read from one compound datagram.
const MAX_PACKETS: usize = 16;

/// The packets of a compound datagram (at most [`MAX_PACKETS`]).
pub fn parse_compound(bytes: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut packets = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() && packets.len() < MAX_PACKETS {
        if rest.len() < 4 {
            return Err(RtcpError::Truncated);
        }
        let version = rest[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version(version));
        }
        let packet_type = rest[1];
        if !(192..=223).contains(&packet_type) {
            return Err(RtcpError::NotRtcp(packet_type));
        }
        let length = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        if length > rest.len() {
            return Err(RtcpError::Truncated);
        }
        let ssrc = (length >= 8).then(|| u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]));
        packets.push(RtcpPacket { packet_type, ssrc });
        rest = &rest[length..];
    }
    Ok(packets)
}

/// Sends a stream's sender reports.
#[derive(Debug)]
pub struct RtcpSender {
    socket: UdpSocket,
    cname: String,
    next: Instant,
    packet: Vec<u8>,
}

impl RtcpSender {
    /// Reports from `socket` (the port after the RTP port) under `cname`.
    pub fn new(socket: UdpSocket, cname: String, now: Instant) -> Self {
        Self {
            socket,
            cname,
            // The first report goes out soon after media starts (RFC 3550 6.2: half the
            // interval for the first).
            next: now + INTERVAL / 2,
            packet: Vec::with_capacity(64),
        }
    }

    /// Sends a report to `rtp_remote`'s RTCP port (the next port) when one is due.
    pub async fn maybe_send(&mut self, now: Instant, rtp_remote: SocketAddr, info: SenderInfo) {
        if now < self.next {
            return;
        }
        self.next = now + jittered(INTERVAL);
        sender_report(&info, &self.cname, &mut self.packet);
        let remote = SocketAddr::new(rtp_remote.ip(), rtp_remote.port().wrapping_add(1));
        let _ = self.socket.send_to(&self.packet, remote).await;
    }

    /// Reads (and drops) what the peer sends, so its reports do not pile up; resolves with
    /// the number of packets in each datagram that is RTCP.
    pub async fn drain(&self, buf: &mut [u8]) -> Option<usize> {
        let (len, _) = self.socket.recv_from(buf).await.ok()?;
        parse_compound(&buf[..len]).ok().map(|p| p.len())
    }
}

/// `interval` times a random factor in 0.5..1.5 (RFC 3550 6.3.1).
fn jittered(interval: Duration) -> Duration {
    let factor = 0.5 + f64::from(rand_u16()) / f64::from(u16::MAX);
    interval.mul_f64(factor)
}

fn rand_u16() -> u16 {
    uuid::Uuid::new_v4().as_u128() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_an_sr_then_an_sdes_with_the_cname_in_whole_words() {
        let info = SenderInfo {
            ssrc: 0x0102_0304,
            ntp: 0xAABB_CCDD_0000_0001,
            rtp_timestamp: 160,
            packets: 3,
            octets: 480,
        };
        let mut out = Vec::new();
        sender_report(&info, "dialtone@host", &mut out);
        assert!(out.len().is_multiple_of(4));
        assert_eq!(&out[..4], &[0x80, 200, 0, 6]);
        assert_eq!(&out[8..16], &0xAABB_CCDD_0000_0001u64.to_be_bytes());
        assert_eq!(&out[20..24], &3u32.to_be_bytes());
        let packets = parse_compound(&out).expect("compound");
        assert_eq!(
            packets,
            vec![
                RtcpPacket {
                    packet_type: 200,
                    ssrc: Some(0x0102_0304)
                },
                RtcpPacket {
                    packet_type: 202,
                    ssrc: Some(0x0102_0304)
                },
            ]
        );
        assert_eq!(out[28 + 8], CNAME);
        assert_eq!(&out[28 + 10..28 + 10 + 13], b"dialtone@host");
    }

    #[test]
    fn ntp_time_counts_from_1900() {
        let ntp = ntp_timestamp(UNIX_EPOCH + Duration::from_millis(1500));
        assert_eq!(ntp >> 32, NTP_UNIX_OFFSET + 1);
        assert_eq!(ntp & 0xffff_ffff, 1 << 31);
    }

    #[test]
    fn what_is_not_rtcp_is_said_so() {
        assert_eq!(parse_compound(&[0x80, 0]), Err(RtcpError::Truncated));
        assert_eq!(
            parse_compound(&[0x40, 200, 0, 0]),
            Err(RtcpError::Version(1))
        );
        assert_eq!(parse_compound(&[0x80, 0, 0, 0]), Err(RtcpError::NotRtcp(0)));
        assert_eq!(
            parse_compound(&[0x80, 200, 0, 9, 0, 0, 0, 0]),
            Err(RtcpError::Truncated)
        );
    }

    #[test]
    fn reports_come_about_every_five_seconds() {
        for _ in 0..100 {
            let wait = jittered(INTERVAL);
            assert!(wait >= INTERVAL / 2 && wait <= INTERVAL * 3 / 2, "{wait:?}");
        }
    }
}

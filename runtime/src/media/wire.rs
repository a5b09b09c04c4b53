//! The transport under a call's media stream. The stream ([`super::stream`]) paces frames,
//! plays, mixes, records and reports keys the same way for every kind of leg; a [`Wire`] is
//! what differs: plain RTP over one UDP port for SIP ([`UdpWire`]), SRTP over a peer
//! connection with Opus or PCMU for WebRTC (`crate::webrtc::wire`).
//!
//! The stream speaks 8 kHz audio: it sends 20 ms μ-law frames (or RFC 4733 packets) and takes
//! decoded 8 kHz samples; a wire transcodes when its codec is another one.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;

use super::g711;
use super::rtcp::{self, RtcpSender, SenderInfo};
use super::rtp::{self, PCMU, RtpPacket, TelephoneEvent};
use crate::rtp_ports::RtpSockets;

/// How long after the remote address is set a packet from another address may still latch.
pub const LATCH_WINDOW: Duration = Duration::from_secs(5);

/// Counters shared by every stream of a server.
#[derive(Debug, Default)]
pub struct RtpCounters {
    /// Packets sent.
    pub sent: AtomicU64,
    /// Packets received and parsed.
    pub received: AtomicU64,
    /// Datagrams that were not RTP.
    pub invalid: AtomicU64,
    /// RTP packets from another source than the one the call latched on.
    pub foreign: AtomicU64,
    /// How late the paced sends left after their 20 ms tick.
    pub send_lateness: super::pacing::PacingHistogram,
    /// How far the time between a stream's consecutive sends was from 20 ms.
    pub send_jitter: super::pacing::PacingHistogram,
}

/// What came in from the far end.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Audio, decoded to 8 kHz samples.
    Audio(Vec<i16>),
    /// Audio the stream said it has no use for (nothing linked, no recording): not decoded.
    Heard,
    /// An RFC 4733 event; its RTP timestamp tells retransmissions of one key press apart from
    /// the next press.
    Event {
        /// The packet's RTP timestamp.
        timestamp: u32,
        /// The event.
        event: TelephoneEvent,
    },
    /// Media the stream has no use for (comfort noise, another payload type): it still shows
    /// the far end is there.
    Other,
}

/// One outgoing packet as the stream builds it: PCMU audio or a telephone-event.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// [`PCMU`] for audio, else the negotiated telephone-event type.
    pub payload_type: u8,
    /// RTP marker bit.
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Timestamp, in 8 kHz units.
    pub timestamp: u32,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// 160 bytes of μ-law, or a 4-byte event.
    pub payload: &'a [u8],
}

/// A media transport under a call's stream.
pub trait Wire: Send + 'static {
    /// The next thing the far end sent (datagrams that are not media, or not from the call's
    /// source, are dropped and counted on the way). Must be cancel-safe: the stream polls it in
    /// a `select!`; a wire that can no longer receive stays pending.
    /// `decode`: whether the stream wants the audio's samples (something is linked to the call
    /// or it records); when not, audio comes as [`Inbound::Heard`] where decoding can be skipped.
    fn recv(&mut self, decode: bool) -> impl Future<Output = Inbound> + Send;
    /// Sends one packet; false when it could not be sent (no far end yet, socket error).
    fn send(&mut self, packet: Outgoing<'_>) -> impl Future<Output = bool> + Send;
    /// The far end's media address and telephone-event type from its SDP (SIP only).
    fn set_remote(&mut self, addr: SocketAddr, telephone_event: Option<u8>);
}

/// Plain RTP on one UDP port (and RTCP sender reports on the next), latched symmetric RTP.
pub struct UdpWire {
    socket: UdpSocket,
    counters: Arc<RtpCounters>,
    rtcp: Option<RtcpSender>,
    latch: Latch,
    telephone_event: Option<u8>,
    /// RTP packets and payload octets sent (for sender reports; wrap as RFC 3550 says).
    packets_sent: u32,
    octets_sent: u32,
    packet: Vec<u8>,
    buf: Vec<u8>,
    rtcp_buf: Vec<u8>,
}

impl UdpWire {
    /// A wire on a call's sockets; `ssrc` names our stream in the RTCP CNAME.
    pub fn new(sockets: RtpSockets, counters: Arc<RtpCounters>, ssrc: u32) -> Self {
        let RtpSockets { rtp: socket, rtcp } = sockets;
        let ip = socket
            .local_addr()
            .map_or_else(|_| "0.0.0.0".to_owned(), |a| a.ip().to_string());
        let rtcp = rtcp.map(|rtcp| {
            let cname = format!("dialtone-{ssrc:08x}@{ip}");
            RtcpSender::new(rtcp, cname, tokio::time::Instant::now())
        });
        Self {
            socket,
            counters,
            rtcp,
            latch: Latch::default(),
            telephone_event: None,
            packets_sent: 0,
            octets_sent: 0,
            packet: Vec::with_capacity(12 + rtp::FRAME_SAMPLES),
            buf: vec![0u8; 2048],
            rtcp_buf: vec![0u8; 1500],
        }
    }

    /// The local RTP address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    fn on_datagram(&mut self, len: usize, from: SocketAddr, decode: bool) -> Option<Inbound> {
        let Some(packet) = RtpPacket::parse(&self.buf[..len]) else {
            self.counters.invalid.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if !self.latch.accepts(from) {
            self.counters.foreign.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let (payload_type, timestamp) = (packet.payload_type, packet.timestamp);
        Some(if payload_type == PCMU && !decode {
            Inbound::Heard
        } else if payload_type == PCMU {
            Inbound::Audio(packet.payload.iter().map(|&b| g711::decode(b)).collect())
        } else if Some(payload_type) == self.telephone_event
            && let Some(event) = TelephoneEvent::parse(packet.payload)
        {
            Inbound::Event { timestamp, event }
        } else {
            Inbound::Other
        })
    }
}

impl Wire for UdpWire {
    async fn recv(&mut self, decode: bool) -> Inbound {
        // Reads at line rate: a dropped datagram (foreign, not RTP) must not stall the next.
        loop {
            tokio::select! {
                Some(_) = drain_rtcp(self.rtcp.as_ref(), &mut self.rtcp_buf) => {}
                received = self.socket.recv_from(&mut self.buf) => {
                    if let Ok((len, from)) = received
                        && let Some(inbound) = self.on_datagram(len, from, decode)
                    {
                        return inbound;
                    }
                }
            }
        }
    }

    async fn send(&mut self, out: Outgoing<'_>) -> bool {
        let Some(remote) = self.latch.remote else {
            return false;
        };
        rtp::write_packet(
            &mut self.packet,
            out.payload_type,
            out.marker,
            out.sequence,
            out.timestamp,
            out.ssrc,
            out.payload,
        );
        let sent = self.socket.send_to(&self.packet, remote).await.is_ok();
        if sent {
            self.packets_sent = self.packets_sent.wrapping_add(1);
            self.octets_sent = self.octets_sent.wrapping_add(out.payload.len() as u32);
        }
        if let Some(rtcp) = &mut self.rtcp {
            let info = SenderInfo {
                ssrc: out.ssrc,
                ntp: rtcp::ntp_timestamp(std::time::SystemTime::now()),
                rtp_timestamp: out.timestamp,
                packets: self.packets_sent,
                octets: self.octets_sent,
            };
            rtcp.maybe_send(tokio::time::Instant::now(), remote, info)
                .await;
        }
        sent
    }

    fn set_remote(&mut self, addr: SocketAddr, telephone_event: Option<u8>) {
        self.telephone_event = telephone_event;
        if addr.port() != 0 {
            // A new offer (re-INVITE) may move the media: latch again.
            self.latch = Latch {
                remote: Some(addr),
                latched: None,
                latch_until: Some(tokio::time::Instant::now() + LATCH_WINDOW),
            };
        }
    }
}

/// Symmetric RTP: where media goes, and the one source it is taken from once latched.
#[derive(Debug, Default)]
struct Latch {
    /// The SDP's address, then the source the call latched on.
    remote: Option<SocketAddr>,
    /// The one source media is taken from (and sent to), once known.
    latched: Option<SocketAddr>,
    /// Until when a source other than the SDP's address may latch (NAT).
    latch_until: Option<tokio::time::Instant>,
}

impl Latch {
    /// Whether media from `from` belongs to the call; latches on the first good source.
    fn accepts(&mut self, from: SocketAddr) -> bool {
        if let Some(latched) = self.latched {
            return latched == from;
        }
        let Some(remote) = self.remote else {
            // No offer yet: nothing to send to, nothing to latch.
            return false;
        };
        let in_window = self
            .latch_until
            .is_some_and(|until| tokio::time::Instant::now() <= until);
        if from == remote || in_window {
            // Symmetric RTP: answer where the caller's media really comes from.
            self.latched = Some(from);
            self.remote = Some(from);
            return true;
        }
        false
    }
}

/// Reads the peer's RTCP, when there is a socket for it (never resolves without one).
async fn drain_rtcp(rtcp: Option<&RtcpSender>, buf: &mut [u8]) -> Option<usize> {
    match rtcp {
        Some(rtcp) => rtcp.drain(buf).await,
        None => std::future::pending().await,
    }
}

//! RTP port allocation: even ports from a configured range, from a random place in it (so a
//! third party cannot guess the next call's port), then round robin so a port just freed is
//! not reused at once (late packets of the old call would land in the new one); a port still in
//! use is skipped.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::net::UdpSocket;

/// Ports tried for one call before giving up (each one in use is skipped).
const MAX_TRIES: u32 = 1024;
/// OS-chosen RTP ports tried for one whose next port is free for RTCP.
const OS_PAIR_TRIES: u32 = 16;

/// The RTP port range of a server.
#[derive(Debug)]
pub struct RtpPorts {
    /// `None`: the OS picks (tests, or `rtp_ports = "0"`).
    range: Option<(u16, u16)>,
    next: AtomicU32,
}

impl RtpPorts {
    /// Parses `"LOW-HIGH"` or `"0"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "0" {
            return Ok(Self {
                range: None,
                next: AtomicU32::new(0),
            });
        }
        let invalid = || format!("invalid RTP port range '{text}' (expected LOW-HIGH or 0)");
        let (low, high) = text.split_once('-').ok_or_else(invalid)?;
        let low: u16 = low.trim().parse().map_err(|_| invalid())?;
        let high: u16 = high.trim().parse().map_err(|_| invalid())?;
        if low == 0 || high < low.saturating_add(1) {
            return Err(invalid());
        }
        // Pairs: an even RTP port and the odd RTCP port after it, both inside the range.
        let (low, high) = (low + low % 2, high - (1 - high % 2));
        if high <= low {
            return Err(invalid());
        }
        Ok(Self {
            range: Some((low, high)),
            next: AtomicU32::new(uuid::Uuid::new_v4().as_u128() as u32),
        })
    }

    /// How many calls the range can carry at once (an RTP and RTCP port pair each); `None` when the OS
    /// picks the ports.
    pub fn slots(&self) -> Option<u32> {
        self.range
            .map(|(low, high)| u32::from((high - low) / 2 + 1))
    }

    /// Checks the range can carry `max_calls` calls at once.
    pub fn check_capacity(&self, max_calls: u32) -> Result<(), String> {
        match self.slots() {
            Some(slots) if slots < max_calls => Err(format!(
                "server.rtp_ports has room for {slots} calls (an RTP and RTCP port pair each), fewer than server.max_calls = {max_calls}: widen the range or lower max_calls"
            )),
            _ => Ok(()),
        }
    }

    /// Binds one call's RTP socket on `ip` and its RTCP socket on the next port (RFC 3550
    /// 11). In a range both must be free; with OS-chosen ports RTCP is left out when the next
    /// port stays taken after a few tries.
    pub async fn bind(&self, ip: IpAddr) -> std::io::Result<RtpSockets> {
        let Some((low, high)) = self.range else {
            let mut rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
            for _ in 0..OS_PAIR_TRIES {
                let port = rtp.local_addr()?.port();
                if let Some(next) = port.checked_add(1)
                    && let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, next)).await
                {
                    return Ok(RtpSockets {
                        rtp,
                        rtcp: Some(rtcp),
                    });
                }
                rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
            }
            return Ok(RtpSockets { rtp, rtcp: None });
        };
        let slots = u32::from((high - low) / 2 + 1);
        let mut last_error = None;
        for _ in 0..slots.min(MAX_TRIES) {
            let slot = self.next.fetch_add(1, Ordering::Relaxed) % slots;
            let port = low + (slot * 2) as u16;
            let rtp = match UdpSocket::bind(SocketAddr::new(ip, port)).await {
                Ok(socket) => socket,
                Err(e) => {
                    last_error = Some(e);
                    continue;
                }
            };
            match UdpSocket::bind(SocketAddr::new(ip, port.saturating_add(1))).await {
                Ok(rtcp) => {
                    return Ok(RtpSockets {
                        rtp,
                        rtcp: Some(rtcp),
                    });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("no RTP port free")))
    }
}

/// One call's media sockets.
#[derive(Debug)]
pub struct RtpSockets {
    /// RTP, on an even port in a range.
    pub rtp: UdpSocket,
    /// RTCP, on the next port.
    pub rtcp: Option<UdpSocket>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert!(RtpPorts::parse("0").expect("0").range.is_none());
        assert_eq!(
            RtpPorts::parse("10001-10010").expect("range").range,
            Some((10002, 10009))
        );
        assert!(RtpPorts::parse("10-5").is_err());
        assert!(RtpPorts::parse("abc").is_err());
    }

    #[test]
    fn the_range_must_hold_max_calls() {
        // Pairs 20000/1 ... 20008/9: 20010 would need 20011 for RTCP.
        let ports = RtpPorts::parse("20000-20010").expect("range");
        assert_eq!(ports.slots(), Some(5));
        assert_eq!(ports.check_capacity(5), Ok(()));
        assert_eq!(
            ports.check_capacity(1000),
            Err("server.rtp_ports has room for 5 calls (an RTP and RTCP port pair each), fewer than server.max_calls = 1000: widen the range or lower max_calls".into())
        );
        assert_eq!(
            RtpPorts::parse("0").expect("0").check_capacity(100_000),
            Ok(())
        );
    }

    #[tokio::test]
    async fn hands_out_distinct_even_ports() {
        let ports = RtpPorts::parse("41000-41100").expect("range");
        let a = ports
            .bind("127.0.0.1".parse().expect("ip"))
            .await
            .expect("bind");
        let b = ports
            .bind("127.0.0.1".parse().expect("ip"))
            .await
            .expect("bind");
        let (pa, pb) = (
            a.rtp.local_addr().expect("addr").port(),
            b.rtp.local_addr().expect("addr").port(),
        );
        assert_ne!(pa, pb);
        assert_eq!((pa % 2, pb % 2), (0, 0));
        // RTCP on the next port.
        let rtcp = a
            .rtcp
            .as_ref()
            .expect("rtcp")
            .local_addr()
            .expect("addr")
            .port();
        assert_eq!(rtcp, pa + 1);
    }

    #[tokio::test]
    async fn first_ports_are_not_predictable_and_busy_ones_are_skipped() {
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let mut firsts = std::collections::BTreeSet::new();
        for _ in 0..10 {
            let ports = RtpPorts::parse("42000-42998").expect("range");
            let socket = ports.bind(ip).await.expect("bind");
            firsts.insert(socket.rtp.local_addr().expect("addr").port());
        }
        assert!(
            firsts.len() > 1,
            "every fresh allocator began at {firsts:?}"
        );
        // A two-port range with one port taken: the other is handed out, not an error.
        let taken = UdpSocket::bind((ip, 43000)).await.expect("bind");
        let ports = RtpPorts::parse("43000-43003").expect("range");
        let socket = ports.bind(ip).await.expect("a free port");
        assert_eq!(socket.rtp.local_addr().expect("addr").port(), 43002);
        drop(taken);
        // An RTP port whose RTCP port is taken is skipped too.
        drop(socket);
        let rtcp_taken = UdpSocket::bind((ip, 43003)).await.expect("bind");
        let socket = ports.bind(ip).await.expect("a free pair");
        assert_eq!(socket.rtp.local_addr().expect("addr").port(), 43000);
        drop(rtcp_taken);
    }
}

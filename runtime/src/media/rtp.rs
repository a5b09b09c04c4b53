//! RTP (RFC 3550) fixed headers and RFC 4733 telephone-event payloads: just what a PCMU leg
//! needs, parsed without trusting a byte of the packet.

/// Static payload type of PCMU (G.711 μ-law, 8 kHz).
pub const PCMU: u8 = 0;
/// Samples (and timestamp units) in one 20 ms PCMU frame.
pub const FRAME_SAMPLES: usize = 160;

/// One parsed RTP packet, borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Marker bit.
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Payload after the header, CSRCs and extension, without padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses a datagram; `None` when it is not RTP version 2 or is truncated.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        if data.len() < 12 || data[0] >> 6 != 2 {
            return None;
        }
        let padding = data[0] & 0x20 != 0;
        let extension = data[0] & 0x10 != 0;
        let csrc_count = usize::from(data[0] & 0x0f);
        let mut offset = 12 + 4 * csrc_count;
        if extension {
            let words = data.get(offset + 2..offset + 4)?;
            offset += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        let mut end = data.len();
        if padding {
            let pad = usize::from(*data.last()?);
            end = end.checked_sub(pad)?;
        }
        let payload = data.get(offset..end)?;
        Some(Self {
            payload_type: data[1] & 0x7f,
            marker: data[1] & 0x80 != 0,
            sequence: u16::from_be_bytes([data[2], data[3]]),
            timestamp: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            ssrc: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
            payload,
        })
    }
}

/// Writes a 12-byte RTP header followed by `payload` into `out` (cleared first).
pub fn write_packet(
    out: &mut Vec<u8>,
    payload_type: u8,
    marker: bool,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
    payload: &[u8],
) {
    out.clear();
    out.push(0x80);
    out.push((u8::from(marker) << 7) | (payload_type & 0x7f));
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// An RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 `A`-`D`.
    pub event: u8,
    /// End of the event.
    pub end: bool,
    /// Volume (dBm0 below zero).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the 4-byte payload.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let bytes: [u8; 4] = payload.get(..4)?.try_into().ok()?;
        Some(Self {
            event: bytes[0],
            end: bytes[1] & 0x80 != 0,
            volume: bytes[1] & 0x3f,
            duration: u16::from_be_bytes([bytes[2], bytes[3]]),
        })
    }

    /// The 4-byte payload.
    pub fn to_bytes(self) -> [u8; 4] {
        let duration = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            duration[0],
            duration[1],
        ]
    }
}

/// The DTMF character of an event code (`None` for non-DTMF events such as fax tones).
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The event code of a DTMF character (case-insensitive).
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let mut out = Vec::new();
        write_packet(&mut out, PCMU, true, 65535, 0xdead_beef, 42, &[1, 2, 3]);
        let packet = RtpPacket::parse(&out).expect("parses");
        assert_eq!(packet.payload_type, PCMU);
        assert!(packet.marker);
        assert_eq!(packet.sequence, 65535);
        assert_eq!(packet.timestamp, 0xdead_beef);
        assert_eq!(packet.ssrc, 42);
        assert_eq!(packet.payload, &[1, 2, 3]);
    }

    #[test]
    fn csrc_extension_and_padding_are_skipped() {
        // V=2, P=1, X=1, CC=1
        let mut data = vec![0xb1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        data.extend_from_slice(&[9, 9, 9, 9]); // CSRC
        data.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // one-word extension
        data.extend_from_slice(&[5, 6]); // payload
        data.extend_from_slice(&[0, 2]); // two bytes of padding
        let packet = RtpPacket::parse(&data).expect("parses");
        assert_eq!(packet.payload, &[5, 6]);
    }

    #[test]
    fn garbage_is_rejected_not_panicked_on() {
        assert!(RtpPacket::parse(&[]).is_none());
        assert!(RtpPacket::parse(&[0x80; 11]).is_none());
        assert!(RtpPacket::parse(&[0x40; 20]).is_none(), "version 1");
        // CSRC count beyond the datagram.
        assert!(RtpPacket::parse(&[0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
        // Padding longer than the packet.
        let mut data = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        data.push(200);
        assert!(RtpPacket::parse(&data).is_none());
    }

    #[test]
    fn telephone_events() {
        let event = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Some(event));
        assert!(TelephoneEvent::parse(&[1, 2]).is_none());
        for digit in "0123456789*#ABCD".chars() {
            let code = digit_to_event(digit).expect("dtmf");
            assert_eq!(event_to_digit(code), Some(digit));
        }
        assert_eq!(digit_to_event('x'), None);
        assert_eq!(event_to_digit(16), None);
    }
}

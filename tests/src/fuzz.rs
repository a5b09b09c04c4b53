//! The fuzz targets: what a remote peer's bytes go through, each checked for the properties
//! that must hold whatever arrives (no panic, bounded output, our own output re-reads). The
//! AFL binaries (`src/bin/fuzz_*.rs`, built by `tests/fuzz/run` with cargo-afl) and the corpus
//! replay test (`tests/fuzz_corpus.rs`, part of `tests/run`) call the same functions.

use std::net::SocketAddr;

use dialtone::media::rtcp;
use dialtone::media::rtp::{RtpPacket, TelephoneEvent};
use dialtone::sip::sdp::{self, Direction, Offer};
use dialtone::sip::wire::{self, Inspection};

/// A fuzz target: takes any bytes, panics when a property does not hold.
pub type Target = fn(&[u8]);

/// The targets, by name: `sip`, `sdp`, `rtp`, `audio`.
pub const TARGETS: [(&str, Target); 4] =
    [("sip", sip), ("sdp", sdp), ("rtp", rtp), ("audio", audio)];

/// A SIP datagram: the checks before the stack; what passes must parse; what is refused is a
/// response the stack's parser reads.
pub fn sip(data: &[u8]) {
    match wire::inspect(data, "Dialtone/fuzz", "INVITE, ACK, BYE") {
        Inspection::Pass(bytes) => {
            assert!(bytes.len() <= data.len());
            if !bytes.iter().all(u8::is_ascii_whitespace) {
                // Responses pass unparsed checks; requests passed the parser already.
                let _ = rsipstack::sip::SipMessage::try_from(bytes);
            }
        }
        Inspection::Refuse { response, .. } => {
            assert!(
                response.len() < data.len() + 1024,
                "a refusal is bounded by the request"
            );
            if let Err(e) = rsipstack::sip::SipMessage::try_from(response.as_slice()) {
                panic!(
                    "our refusal does not parse ({e}): {}",
                    String::from_utf8_lossy(&response)
                );
            }
        }
        Inspection::Drop(_) => {}
    }
}

/// An SDP offer: parsed; an offer we take gets an answer that parses again and takes the same
/// stream.
pub fn sdp(data: &[u8]) {
    let Ok(offer) = Offer::parse(data) else {
        return;
    };
    let local: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 20_000));
    let answer = sdp::answer(local, 1, 1, Some(&offer), Direction::SendRecv);
    let reread = match Offer::parse(answer.as_bytes()) {
        Ok(reread) => reread,
        Err(e) => panic!("our answer does not parse ({e}):\n{answer}"),
    };
    assert_eq!(reread.remote, local);
    assert_eq!(reread.telephone_event, offer.telephone_event);
}

/// An RTP or RTCP datagram: RTP header and RFC 4733 payload, or a compound RTCP packet.
pub fn rtp(data: &[u8]) {
    if let Some(packet) = RtpPacket::parse(data) {
        assert!(packet.payload.len() <= data.len());
        if let Some(event) = TelephoneEvent::parse(packet.payload) {
            assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Some(event));
        }
    }
    if let Ok(packets) = rtcp::parse_compound(data) {
        assert!(packets.len() <= 16);
    }
}

/// An audio file: WAV, MP3, Ogg Vorbis and FLAC decoders, at 8 kHz, with bounded output: a
/// WAV by its length (8-bit mono at the lowest rate, 4 kHz, doubles), a compressed file by the
/// decoder's cap on how long a prompt may play.
pub fn audio(data: &[u8]) {
    if let Ok(ulaw) = dialtone::media::convert::wav_to_ulaw(data) {
        assert!(
            ulaw.len() <= data.len() * 2 + 64,
            "{} from {}",
            ulaw.len(),
            data.len()
        );
    }
    let cap = dialtone::media::compressed::MAX_SECONDS as usize * 8000 + 8000;
    for hint in ["mp3", "ogg", "flac"] {
        if let Ok(samples) = dialtone::media::compressed::decode_to_8k(data.to_vec(), hint) {
            assert!(samples.len() <= cap, "{hint}: {} samples", samples.len());
        }
    }
}

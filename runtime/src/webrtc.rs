//! Calls from browsers: WHIP-style signalling on the HTTP port (RFC 9725 shape: the offer in
//! a POST, the answer in its 201, DELETE on the call's Location hangs up), a webrtc-rs peer
//! connection per call, and the same call task and media stream as a SIP call: a scenario
//! sees one more call, with `call.scheme` 'webrtc'.
//!
//! - [`signaling`]: the HTTP routes, who may call, and the registry of live web calls.
//! - [`call`]: admission (route, capacity, session) and the call's task, the shared call core
//!   with a peer connection as its signalling.
//! - [`peer`]: the peer connection and our answer (Opus or PCMU, telephone-event, NAT).
//! - [`wire`]: the media stream's transport over the connection's audio track.
//! - [`opus`]: libopus at 8 kHz.
//! - [`pages`]: the softphone page (`/phone`), the sessions page and the index, embedded.

pub mod call;
pub mod opus;
pub mod pages;
pub mod peer;
pub mod signaling;
pub mod wire;

use thiserror::Error;

/// Why a browser's call could not be taken; the text is the HTTP response's body.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WebRtcError {
    /// The offer is not an SDP offer we can answer.
    #[error("the offer cannot be answered: {0}")]
    BadOffer(String),
    /// Neither codec we speak is in the offer.
    #[error("the offer has neither Opus nor PCMU audio")]
    NoCodec,
    /// The peer connection failed to start.
    #[error("the WebRTC connection could not be set up: {0}")]
    Peer(String),
    /// libopus refused.
    #[error("Opus: {0}")]
    Opus(String),
}

//! Opus (RFC 6716, RFC 7587 for RTP) for a WebRTC leg, through libopus: the call's media is
//! 8 kHz, and libopus takes and gives 8 kHz itself (its RTP clock stays 48 kHz), so no
//! resampler sits in the path.

use audiopus::coder::{Decoder, Encoder};
use audiopus::{Application, Channels, SampleRate};

use super::WebRtcError;

/// RTP timestamp units (48 kHz) per 8 kHz sample.
pub const CLOCK_RATIO: u32 = 6;
/// The largest Opus frame is 120 ms: 960 samples at 8 kHz.
const MAX_FRAME_SAMPLES: usize = 960;
/// libopus encoder complexity (0-10).
const ENCODER_COMPLEXITY: u8 = 5;
/// Room for one encoded 20 ms frame (RFC 6716 caps a frame at 1275 bytes).
const MAX_PACKET: usize = 1275;

/// One call's encoder and decoder.
pub struct OpusCodec {
    encoder: Encoder,
    decoder: Decoder,
    packet: Vec<u8>,
    pcm: Vec<i16>,
}

impl OpusCodec {
    /// A mono 8 kHz codec tuned for speech.
    pub fn new() -> Result<Self, WebRtcError> {
        let opus = |e: audiopus::Error| WebRtcError::Opus(e.to_string());
        let mut encoder =
            Encoder::new(SampleRate::Hz8000, Channels::Mono, Application::Voip).map_err(opus)?;
        // Telephone speech at 8 kHz: complexity 10 (libopus's default) took most of a WebRTC
        // call's CPU in `bench webrtc` for no audible gain at this bandwidth.
        encoder.set_complexity(ENCODER_COMPLEXITY).map_err(opus)?;
        encoder.set_signal(audiopus::Signal::Voice).map_err(opus)?;
        let decoder = Decoder::new(SampleRate::Hz8000, Channels::Mono).map_err(opus)?;
        Ok(Self {
            encoder,
            decoder,
            packet: vec![0; MAX_PACKET],
            pcm: vec![0; MAX_FRAME_SAMPLES],
        })
    }

    /// Encodes one frame of 8 kHz samples (20 ms: 160).
    pub fn encode(&mut self, samples: &[i16]) -> Result<&[u8], WebRtcError> {
        let len = self
            .encoder
            .encode(samples, &mut self.packet)
            .map_err(|e| WebRtcError::Opus(e.to_string()))?;
        Ok(&self.packet[..len])
    }

    /// Decodes one packet into 8 kHz samples (nothing when it is not Opus).
    pub fn decode(&mut self, payload: &[u8]) -> &[i16] {
        if payload.is_empty() {
            return &[];
        }
        match self.decoder.decode(Some(payload), &mut self.pcm[..], false) {
            Ok(samples) => &self.pcm[..samples.min(MAX_FRAME_SAMPLES)],
            Err(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_survives_a_round_trip() {
        let mut codec = OpusCodec::new().expect("codec");
        // 400 Hz at 8 kHz, 20 frames; the decoder lags a little, so compare energy.
        let tone: Vec<i16> = (0..160 * 20)
            .map(|i| ((i as f64 * 400.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0) as i16)
            .collect();
        let mut decoded = Vec::new();
        for frame in tone.chunks(160) {
            let packet = codec.encode(frame).expect("encode").to_vec();
            assert!(!packet.is_empty() && packet.len() < 400);
            decoded.extend_from_slice(codec.decode(&packet));
        }
        assert_eq!(decoded.len(), tone.len());
        let rms = |s: &[i16]| {
            (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
        };
        let (sent, heard) = (rms(&tone[1600..]), rms(&decoded[1600..]));
        assert!(
            (heard / sent - 1.0).abs() < 0.3,
            "sent rms {sent}, heard {heard}"
        );
    }

    #[test]
    fn garbage_decodes_to_nothing() {
        let mut codec = OpusCodec::new().expect("codec");
        assert!(codec.decode(&[]).is_empty());
        // A packet whose TOC claims more frames than it holds.
        assert!(codec.decode(&[0xff, 0xff, 0xff]).is_empty());
    }
}

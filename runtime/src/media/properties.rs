//! Property tests of the audio path (proptest): whatever bytes a file, a URL or a WebSocket
//! server hands us, decoding and resampling never panic, and what they allocate is bounded by
//! the input's length, never by what a header claims.

use proptest::prelude::*;

use super::compressed;
use super::convert::wav_to_ulaw;
use super::resample::StreamResampler;

/// A RIFF/WAVE file with these header fields as they are (no arithmetic on them: a header
/// may claim anything).
fn wav_bytes(format: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.wrapping_mul(2).to_le_bytes());
    out.extend_from_slice(&channels.wrapping_mul(2).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes behind a valid RIFF header: a clear error or at most twice as many
    /// 8 kHz samples as there are input bytes (rates below 4 kHz are refused).
    #[test]
    fn wav_decoding_is_bounded_by_the_input(
        format in prop_oneof![Just(1u16), Just(6), Just(7), any::<u16>()],
        channels in 0u16..12,
        rate in prop_oneof![Just(8_000u32), Just(22_050), 4_000u32..=192_000, any::<u32>()],
        bits in prop_oneof![Just(8u16), Just(16), any::<u16>()],
        data in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let bytes = wav_bytes(format, channels, rate, bits, &data);
        if let Ok(ulaw) = wav_to_ulaw(&bytes) {
            prop_assert!(ulaw.len() <= 2 * data.len() + 64, "{} from {}", ulaw.len(), data.len());
        }
    }

    /// Garbage that looks like MP3, Ogg or FLAC is an error, never a panic or a hang.
    #[test]
    fn compressed_garbage_is_an_error(
        magic in prop_oneof![Just(b"ID3".to_vec()), Just(b"OggS".to_vec()), Just(b"fLaC".to_vec()), Just(Vec::new())],
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        extension in prop_oneof![Just("mp3"), Just("ogg"), Just("flac")],
    ) {
        let mut bytes = magic;
        bytes.extend(body);
        let _ = compressed::decode_to_8k(bytes, extension);
    }

    /// A stream resampler turns every whole 20 ms of input into exactly 20 ms of output,
    /// however the input is cut.
    #[test]
    fn stream_resampling_keeps_time(
        cuts in proptest::collection::vec(0usize..500, 1..40),
        up in any::<bool>(),
    ) {
        let (from, to) = if up { (8_000, 16_000) } else { (16_000, 8_000) };
        let mut resampler = StreamResampler::new(from, to).expect("resampler");
        let mut out = Vec::new();
        let mut total = 0;
        for cut in cuts {
            resampler.process(&vec![1000i16; cut], &mut out);
            total += cut;
        }
        let chunks = total / (from as usize / 50);
        prop_assert_eq!(out.len(), chunks * (to as usize / 50));
    }
}

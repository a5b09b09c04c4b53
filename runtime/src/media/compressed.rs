//! MP3, Ogg Vorbis and FLAC prompts (symphonia), decoded to mono and resampled to 8 kHz.
//! Bounded by what it produces, not by what the file claims: decoding stops with an error
//! once the prompt would play longer than [`MAX_SECONDS`].

use std::io::Cursor;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::resample::resample_clip;

/// Longest compressed prompt decoded (35 minutes, as for WAV and raw G.711 files).
pub const MAX_SECONDS: u64 = 35 * 60;

/// Whether `extension` names a format this module decodes.
pub fn handles(extension: &str) -> bool {
    matches!(extension, "mp3" | "ogg" | "oga" | "flac")
}

/// The file's audio as 8 kHz mono samples; the error says what is wrong, for the scenario.
pub fn decode_to_8k(bytes: Vec<u8>, extension: &str) -> Result<Vec<i16>, String> {
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension);
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| format!("not a playable {extension} file ({e})"))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or("it has no audio track")?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or("it has no audio track")?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| format!("its codec is not supported ({e})"))?;
    let track_id = track.id;
    let mut mono: Vec<i16> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut rate = 0u32;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(format!("it cannot be read to the end ({e})")),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // A damaged frame is skipped, as players do.
            Err(Error::DecodeError(_)) => continue,
            Err(e) => return Err(format!("it cannot be decoded ({e})")),
        };
        let spec = buffer.spec();
        let channels = spec.channels().count().max(1);
        if rate == 0 {
            rate = spec.rate();
            if !(4_000..=192_000).contains(&rate) {
                return Err(format!("its sample rate {rate} Hz is not supported"));
            }
        }
        interleaved.resize(buffer.samples_interleaved(), 0.0);
        buffer.copy_to_slice_interleaved(&mut interleaved);
        mono.extend(interleaved.chunks_exact(channels).map(|frame| {
            let sum: f32 = frame.iter().sum();
            (sum / channels as f32 * 32_767.0).clamp(-32_768.0, 32_767.0) as i16
        }));
        if mono.len() as u64 > MAX_SECONDS * u64::from(rate) {
            return Err(format!("it plays longer than {} minutes", MAX_SECONDS / 60));
        }
    }
    if rate == 0 {
        return Err("it holds no audio".into());
    }
    resample_clip(&mono, rate, 8_000).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_clear_error_not_a_panic() {
        let error = decode_to_8k(b"ID3\x03\x00garbage".repeat(100), "mp3").expect_err("garbage");
        assert!(error.starts_with("not a playable mp3 file"), "{error}");
        let error = decode_to_8k(Vec::new(), "ogg").expect_err("empty");
        assert!(error.starts_with("not a playable ogg file"), "{error}");
    }
}

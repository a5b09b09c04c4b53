//! Turning a prompt into what a PCMU leg sends: mono, 8 kHz, μ-law (resampled with rubato). WAV files may be 8/16-bit
//! PCM, μ-law or A-law, any channel count and sample rate; raw `.ulaw` files are used as is.

use super::g711;
use super::resample::resample_clip;
use super::wav::WavInfo;

/// The RTP legs' sample rate.
pub const RATE: u32 = 8_000;

/// Decodes a WAV file into mono 16-bit samples at its own rate.
pub fn wav_samples(bytes: &[u8]) -> Result<(Vec<i16>, u32), &'static str> {
    let info = WavInfo::parse(bytes)?;
    let data = &bytes[info.data_offset..info.data_offset + info.data_len];
    let width = usize::from(info.bits_per_sample / 8);
    let frame = width * usize::from(info.channels);
    let sample = |chunk: &[u8]| -> i32 {
        match (info.format, info.bits_per_sample) {
            (1, 16) => i32::from(i16::from_le_bytes([chunk[0], chunk[1]])),
            (1, 8) => (i32::from(chunk[0]) - 128) << 8,
            (7, 8) => i32::from(g711::decode(chunk[0])),
            (6, 8) => i32::from(g711::decode_alaw(chunk[0])),
            _ => 0,
        }
    };
    if !matches!(
        (info.format, info.bits_per_sample),
        (1, 16) | (1, 8) | (7, 8) | (6, 8)
    ) {
        return Err("unsupported sample format");
    }
    let channels = i32::from(info.channels);
    let mono = data
        .chunks_exact(frame)
        .map(|f| (f.chunks_exact(width).map(sample).sum::<i32>() / channels) as i16)
        .collect();
    Ok((mono, info.sample_rate))
}

/// A WAV file as mono 16-bit samples at 8 kHz.
pub fn wav_to_8k(bytes: &[u8]) -> Result<Vec<i16>, &'static str> {
    let (samples, rate) = wav_samples(bytes)?;
    resample_clip(&samples, rate, RATE).map_err(|_| "its sample rate cannot be converted")
}

/// A WAV file as 8 kHz μ-law bytes, ready to packetize (160 bytes per 20 ms).
pub fn wav_to_ulaw(bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    Ok(wav_to_8k(bytes)?.into_iter().map(g711::encode).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::wav::encode as wav;

    fn tone(rate: u32, ms: u32, hz: f64) -> Vec<i16> {
        (0..rate * ms / 1000)
            .map(|n| {
                (8000.0 * (2.0 * std::f64::consts::PI * hz * f64::from(n) / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    fn rms(samples: &[i16]) -> f64 {
        (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
    }

    #[test]
    fn sixteen_khz_stereo_pcm_becomes_half_a_second_of_8k_ulaw() {
        let mono = tone(16_000, 500, 440.0);
        let stereo: Vec<u8> = mono
            .iter()
            .flat_map(|s| [s.to_le_bytes(), s.to_le_bytes()])
            .flatten()
            .collect();
        let ulaw = wav_to_ulaw(&wav(1, 2, 16_000, 16, &stereo)).expect("converts");
        assert_eq!(ulaw.len(), 4_000);
        let back: Vec<i16> = ulaw.iter().map(|c| g711::decode(*c)).collect();
        // A 440 Hz tone keeps its level (RMS of a sine of amplitude 8000 is about 5657).
        assert!((rms(&back) - 5657.0).abs() < 600.0, "rms {}", rms(&back));
    }

    #[test]
    fn eight_bit_and_ulaw_and_alaw_wavs_decode() {
        let pcm8: Vec<u8> = tone(8_000, 100, 300.0)
            .iter()
            .map(|s| ((s >> 8) + 128) as u8)
            .collect();
        assert_eq!(
            wav_to_ulaw(&wav(1, 1, 8_000, 8, &pcm8))
                .expect("8-bit")
                .len(),
            800
        );
        let ulaw: Vec<u8> = tone(8_000, 100, 300.0)
            .iter()
            .map(|s| g711::encode(*s))
            .collect();
        assert_eq!(
            wav_to_ulaw(&wav(7, 1, 8_000, 8, &ulaw)).expect("ulaw"),
            ulaw
        );
        let (alaw, _) = wav_samples(&wav(6, 1, 8_000, 8, &[0xD5; 80])).expect("alaw");
        assert!(alaw.iter().all(|s| *s == 8));
    }

    #[test]
    fn upsampling_keeps_length_and_level() {
        let low = tone(4_000, 200, 200.0);
        let up = resample_clip(&low, 4_000, 8_000).expect("resampled");
        assert!((1_590..=1_610).contains(&up.len()), "{}", up.len());
        assert!((rms(&up) - rms(&low)).abs() < 300.0);
    }
}

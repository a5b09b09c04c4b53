//! A small RIFF/WAVE header reader: enough to know the format and length of a prompt.

use std::time::Duration;

/// WAVE_FORMAT_PCM (integer samples).
pub const FORMAT_PCM: u16 = 1;
/// WAVE_FORMAT_ALAW.
pub const FORMAT_ALAW: u16 = 6;
/// WAVE_FORMAT_MULAW.
pub const FORMAT_ULAW: u16 = 7;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Sample rates a prompt may have.
const MIN_RATE: u32 = 4_000;
const MAX_RATE: u32 = 192_000;

/// The format and data location of a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// 1 PCM, 6 A-law, 7 μ-law.
    pub format: u16,
    /// Channel count.
    pub channels: u16,
    /// Samples per second.
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits_per_sample: u16,
    /// Offset of the sample data in the file.
    pub data_offset: usize,
    /// Length of the sample data in bytes.
    pub data_len: usize,
}

impl WavInfo {
    /// Parses the RIFF chunks of `bytes`. The error says what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, &'static str> {
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err("no RIFF/WAVE header");
        }
        let mut at = 12;
        let mut fmt: Option<(u16, u16, u32, u16)> = None;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let size =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                    as usize;
            let body = at + 8;
            if id == b"fmt " {
                if size < 16 || body + 16 > bytes.len() {
                    return Err("truncated fmt chunk");
                }
                let u16_at = |o: usize| u16::from_le_bytes([bytes[body + o], bytes[body + o + 1]]);
                let rate = u32::from_le_bytes([
                    bytes[body + 4],
                    bytes[body + 5],
                    bytes[body + 6],
                    bytes[body + 7],
                ]);
                let mut format = u16_at(0);
                if format == FORMAT_EXTENSIBLE && size >= 26 && body + 26 <= bytes.len() {
                    format = u16_at(24);
                }
                fmt = Some((format, u16_at(2), rate, u16_at(14)));
            } else if id == b"data" {
                let (format, channels, sample_rate, bits_per_sample) =
                    fmt.ok_or("data chunk before fmt chunk")?;
                if !matches!(format, FORMAT_PCM | FORMAT_ALAW | FORMAT_ULAW) {
                    return Err("unsupported sample format (PCM, A-law and μ-law only)");
                }
                if channels == 0 || channels > 8 || !matches!(bits_per_sample, 8 | 16) {
                    return Err("unsupported channels or sample size");
                }
                // Resampling is sized by the rate: a header claiming 1 Hz must not make a
                // second of it 8000 samples.
                if !(MIN_RATE..=MAX_RATE).contains(&sample_rate) {
                    return Err("unsupported sample rate (4 kHz to 192 kHz)");
                }
                let data_len = size.min(bytes.len().saturating_sub(body));
                return Ok(Self {
                    format,
                    channels,
                    sample_rate,
                    bits_per_sample,
                    data_offset: body,
                    data_len,
                });
            }
            at = body + size + (size & 1);
        }
        Err("no data chunk")
    }

    /// Bytes per second of sample data.
    pub fn byte_rate(&self) -> u64 {
        u64::from(self.sample_rate) * u64::from(self.channels) * u64::from(self.bits_per_sample / 8)
    }

    /// Playing time of the sample data.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.data_len as u64 * 1000 / self.byte_rate().max(1))
    }
}

/// A minimal WAV file (tests and recordings): header plus `data`.
pub fn encode(
    format: u16,
    channels: u16,
    sample_rate: u32,
    bits_per_sample: u16,
    data: &[u8],
) -> Vec<u8> {
    let block_align = channels * (bits_per_sample / 8);
    let byte_rate = sample_rate * u32::from(block_align);
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&bits_per_sample.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_duration() {
        // 2 s of 16-bit mono at 16 kHz.
        let bytes = encode(FORMAT_PCM, 1, 16_000, 16, &vec![0; 64_000]);
        let info = WavInfo::parse(&bytes).expect("valid");
        assert_eq!(
            (
                info.format,
                info.channels,
                info.sample_rate,
                info.bits_per_sample
            ),
            (1, 1, 16_000, 16)
        );
        assert_eq!(info.data_offset, 44);
        assert_eq!(info.duration(), Duration::from_secs(2));
        // 0.5 s of μ-law at 8 kHz.
        let info = WavInfo::parse(&encode(FORMAT_ULAW, 1, 8000, 8, &[0xff; 4000])).expect("valid");
        assert_eq!(info.duration(), Duration::from_millis(500));
    }

    #[test]
    fn rejects_what_it_cannot_play() {
        assert_eq!(
            WavInfo::parse(b"not a wav file at all"),
            Err("no RIFF/WAVE header")
        );
        let mut float = encode(3, 1, 8000, 16, &[0; 10]);
        assert!(WavInfo::parse(&float).is_err());
        float.truncate(30);
        assert_eq!(WavInfo::parse(&float), Err("truncated fmt chunk"));
        // A header claiming 1 Hz would make resampling ask for 8000 samples per sample.
        assert_eq!(
            WavInfo::parse(&encode(FORMAT_PCM, 1, 1, 16, &[0; 64])),
            Err("unsupported sample rate (4 kHz to 192 kHz)")
        );
    }
}

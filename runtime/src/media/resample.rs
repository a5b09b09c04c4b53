//! Sample-rate conversion of mono 16-bit audio with rubato's FFT resampler: whole clips
//! (prompts loaded from files, speech) and 20 ms streams (WebSocket links at 16 kHz).

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::MediaError;

/// Converts a whole clip from `from` Hz to `to` Hz. The output length is the input's length
/// times the ratio, with the resampler's start-up delay trimmed off.
pub fn resample_clip(samples: &[i16], from: u32, to: u32) -> Result<Vec<i16>, MediaError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let chunk = (from as usize / 50).max(1);
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, chunk, 1, FixedSync::Input)
        .map_err(|e| resample_error(from, to, e))?;
    let input: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let adapter =
        InterleavedSlice::new(&input, 1, input.len()).map_err(|e| resample_error(from, to, e))?;
    let output = resampler
        .process_all(&adapter, input.len(), None)
        .map_err(|e| resample_error(from, to, e))?;
    Ok(output.take_data().into_iter().map(to_i16).collect())
}

/// A running conversion for a stream: feed it any number of samples, take whole 20 ms
/// output chunks as they are ready.
pub struct StreamResampler {
    resampler: Fft<f32>,
    chunk_in: usize,
    pending: Vec<f32>,
    output: Vec<f32>,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("chunk_in", &self.chunk_in)
            .finish_non_exhaustive()
    }
}

impl StreamResampler {
    /// A conversion from `from` Hz to `to` Hz in 20 ms chunks.
    pub fn new(from: u32, to: u32) -> Result<Self, MediaError> {
        let chunk_in = from as usize / 50;
        let chunk_out = to as usize / 50;
        let resampler = Fft::<f32>::new(from as usize, to as usize, chunk_in, 1, FixedSync::Both)
            .map_err(|e| resample_error(from, to, e))?;
        Ok(Self {
            resampler,
            chunk_in,
            pending: Vec::with_capacity(chunk_in * 2),
            output: vec![0.0; chunk_out],
        })
    }

    /// Converts `samples`, appending every whole output chunk to `out`; a remainder waits
    /// for the next call.
    pub fn process(&mut self, samples: &[i16], out: &mut Vec<i16>) {
        self.pending
            .extend(samples.iter().map(|&s| f32::from(s) / 32768.0));
        let mut start = 0;
        while self.pending.len() - start >= self.chunk_in {
            let input = &self.pending[start..start + self.chunk_in];
            let frames_out = self.output.len();
            let converted = InterleavedSlice::new(input, 1, input.len())
                .ok()
                .and_then(|i| {
                    let mut o = InterleavedSlice::new_mut(&mut self.output, 1, frames_out).ok()?;
                    self.resampler.process_into_buffer(&i, &mut o, None).ok()
                });
            match converted {
                Some((_, written)) => out.extend(self.output[..written].iter().map(|&s| to_i16(s))),
                // Sizes are fixed at construction, so this cannot happen; keep time anyway.
                None => out.extend(std::iter::repeat_n(0, frames_out)),
            }
            start += self.chunk_in;
        }
        self.pending.drain(..start);
    }
}

fn to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

fn resample_error(from: u32, to: u32, e: impl std::fmt::Display) -> MediaError {
    MediaError::Resample(format!("cannot convert {from} Hz to {to} Hz: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f32, seconds: f32) -> Vec<i16> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| {
                (8000.0 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin()) as i16
            })
            .collect()
    }

    /// Strength of `hz` in `samples` (one DFT bin), relative to the signal's energy.
    fn share_at(samples: &[i16], rate: u32, hz: f32) -> f32 {
        let (mut re, mut im, mut energy) = (0f32, 0f32, 0f32);
        for (i, &s) in samples.iter().enumerate() {
            let phase = 2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32;
            re += f32::from(s) * phase.cos();
            im += f32::from(s) * phase.sin();
            energy += f32::from(s) * f32::from(s);
        }
        2.0 * (re * re + im * im) / (samples.len() as f32 * energy)
    }

    #[test]
    fn a_clip_keeps_its_length_and_its_tone() {
        let input = tone(22_050, 440.0, 1.0);
        let output = resample_clip(&input, 22_050, 8_000).expect("resampled");
        assert!((7_990..=8_010).contains(&output.len()), "{}", output.len());
        assert!(share_at(&output[800..7200], 8_000, 440.0) > 0.9);
    }

    #[test]
    fn a_stream_doubles_its_rate_in_whole_chunks() {
        let mut resampler = StreamResampler::new(8_000, 16_000).expect("resampler");
        let input = tone(8_000, 1_000.0, 0.5);
        let mut out = Vec::new();
        for piece in input.chunks(100) {
            resampler.process(piece, &mut out);
        }
        assert_eq!(out.len(), 8_000, "25 chunks of 320 samples");
        assert!(share_at(&out[1_600..], 16_000, 1_000.0) > 0.9);
        let mut down = StreamResampler::new(16_000, 8_000).expect("resampler");
        let mut back = Vec::new();
        down.process(&out, &mut back);
        assert_eq!(back.len(), 4_000);
    }
}

//! A recording: 16-bit 8 kHz WAV (mono, or two channels) written as the call goes, its
//! sizes patched when it stops, so a crash leaves a playable prefix rather than nothing.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::MediaError;
use super::wav;

const RATE: u32 = 8000;

/// An open recording.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: BufWriter<File>,
    /// Samples written, all channels together.
    samples: u64,
    /// 1: mono; 2: interleaved left and right.
    pub channels: u16,
}

impl Recorder {
    /// Creates `path` (and its directory) with the header of a `channels`-channel WAV.
    pub fn create(path: &Path, channels: u16) -> Result<Self, MediaError> {
        let error = |source| MediaError::Record {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let mut file = BufWriter::new(File::create(path).map_err(error)?);
        let channels = channels.clamp(1, 2);
        file.write_all(&wav::encode(wav::FORMAT_PCM, channels, RATE, 16, &[]))
            .map_err(error)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            samples: 0,
            channels,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends samples (interleaved when there are two channels).
    pub fn write(&mut self, samples: &[i16]) -> Result<(), MediaError> {
        let mut bytes = Vec::with_capacity(samples.len() * 2);
        for sample in samples {
            bytes.extend_from_slice(&sample.to_le_bytes());
        }
        self.samples += samples.len() as u64;
        self.file
            .write_all(&bytes)
            .map_err(|source| MediaError::Record {
                path: self.path.display().to_string(),
                source,
            })
    }

    /// Length so far.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.samples * 1000 / u64::from(RATE) / u64::from(self.channels))
    }

    /// Patches the RIFF and data sizes and closes the file.
    pub fn finish(mut self) -> Result<Duration, MediaError> {
        let duration = self.duration();
        let error = |source| MediaError::Record {
            path: self.path.display().to_string(),
            source,
        };
        let data = u32::try_from(self.samples * 2).unwrap_or(u32::MAX - 36);
        self.file.flush().map_err(error)?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(4)).map_err(error)?;
        file.write_all(&(36 + data).to_le_bytes()).map_err(error)?;
        file.seek(SeekFrom::Start(40)).map_err(error)?;
        file.write_all(&data.to_le_bytes()).map_err(error)?;
        file.flush().map_err(error)?;
        Ok(duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_valid_wav() {
        let path = std::env::temp_dir()
            .join(format!("dialtone-rec-{}", std::process::id()))
            .join("r.wav");
        let mut recorder = Recorder::create(&path, 1).expect("create");
        recorder.write(&[1000; 8000]).expect("write");
        recorder.write(&[-1000; 4000]).expect("write");
        assert_eq!(
            recorder.finish().expect("finish"),
            Duration::from_millis(1500)
        );
        let bytes = std::fs::read(&path).expect("read");
        let info = wav::WavInfo::parse(&bytes).expect("valid wav");
        assert_eq!(info.duration(), Duration::from_millis(1500));
        assert_eq!((info.sample_rate, info.bits_per_sample), (8000, 16));
        let mut stereo = Recorder::create(&path, 2).expect("create");
        stereo.write(&[1, 2].repeat(8000)).expect("write");
        assert_eq!(stereo.finish().expect("finish"), Duration::from_secs(1));
        let info = wav::WavInfo::parse(&std::fs::read(&path).expect("read")).expect("valid");
        assert_eq!(
            (info.channels, info.duration()),
            (2, Duration::from_secs(1))
        );
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }
}

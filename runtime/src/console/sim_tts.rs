//! The console's speech: silence as long as the text would take to say, so players and
//! `say` keep realistic timing without a speech engine (and golden transcripts stay the same
//! on every machine).

use crate::media::speech_duration;
use crate::media::tts::{Tts, TtsFuture};

/// μ-law silence.
const SILENCE: u8 = 0xff;

/// A [`Tts`] that "speaks" silence of the estimated length.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SilentTts;

impl Tts for SilentTts {
    fn synthesize<'a>(&'a self, text: &'a str, _voice: Option<&'a str>) -> TtsFuture<'a> {
        let samples = speech_duration(text).as_millis() as usize * 8;
        Box::pin(async move { Ok(vec![SILENCE; samples]) })
    }
}

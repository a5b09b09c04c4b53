//! ToneScript (`createToneScriptPlayer`, `playProgressTone`): `FreqScript;Z1[;Z2...]` where
//! `FreqScript` is up to six `Hz@dBm` tones and each section `Zi` is `D(on/off/f[,...])`:
//! `D` seconds (`*`: forever) of up to six segments, each `on` seconds of the tones listed in
//! `f` (`1+2`: the first two summed) then `off` seconds of silence (`on` = `*`: always on).
//! `350@-19,440@-19;10(*/0/1+2)` is ten seconds of US dial tone.
//!
//! Rendered at 8 kHz: the sections that end once, then the cycle that repeats forever (a
//! section of `*` duration), if any. A tone at L dBm has the amplitude 10^((L-3)/20) of full
//! scale (0 dBm0 is about -3 dBFS).

use std::f64::consts::TAU;

use thiserror::Error;

const RATE: f64 = 8_000.0;
/// Longest section rendered (a longer `D` is cut to this).
const MAX_SECTION_S: f64 = 60.0;
/// Longest cycle of a section (its segments' `on` + `off`).
const MAX_CYCLE_S: f64 = 30.0;

/// A ToneScript that cannot be played, with what is wrong.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("ToneScript '{script}': {reason}")]
pub struct ToneScriptError {
    /// The script as given.
    pub script: String,
    /// What is wrong.
    pub reason: String,
}

/// A script's audio: `once`, then `forever` repeated until the player stops (if present).
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Played once.
    pub once: Vec<i16>,
    /// Repeated after `once`, forever.
    pub forever: Option<Vec<i16>>,
}

struct Segment {
    on: Option<f64>,
    off: f64,
    tones: Vec<usize>,
}

/// Renders `script`.
pub fn render(script: &str) -> Result<Rendered, ToneScriptError> {
    let fail = |reason: String| ToneScriptError {
        script: script.chars().take(200).collect(),
        reason,
    };
    let mut parts = script.trim().split(';');
    let tones = parse_tones(parts.next().unwrap_or_default()).map_err(fail)?;
    let mut once = Vec::new();
    let mut forever = None;
    let mut sections = 0;
    for section in parts {
        sections += 1;
        let (duration, segments) = parse_section(section, tones.len()).map_err(fail)?;
        let cycle = render_cycle(&tones, &segments);
        match duration {
            None => {
                forever = Some(cycle);
                break;
            }
            Some(seconds) => {
                let total = (seconds.min(MAX_SECTION_S) * RATE) as usize;
                once.extend(cycle.iter().copied().cycle().take(total));
            }
        }
    }
    if sections == 0 {
        return Err(fail(
            "no section after the tones (e.g. 440@-10;1(1/0/1))".into(),
        ));
    }
    Ok(Rendered { once, forever })
}

fn parse_tones(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let tones: Vec<(f64, f64)> = text
        .split(',')
        .map(|tone| {
            let (hz, dbm) = tone
                .split_once('@')
                .ok_or_else(|| format!("tone '{tone}' is not Hz@dBm"))?;
            let hz: f64 = hz
                .trim()
                .parse()
                .map_err(|_| format!("'{hz}' is not a frequency"))?;
            let dbm: f64 = dbm
                .trim()
                .parse()
                .map_err(|_| format!("'{dbm}' is not a level"))?;
            if !(1.0..=3_999.0).contains(&hz) || !(-60.0..=3.0).contains(&dbm) {
                return Err(format!(
                    "tone '{tone}' is out of range (1-3999 Hz, -60 to 3 dBm)"
                ));
            }
            Ok((hz, dbm))
        })
        .collect::<Result<_, _>>()?;
    if tones.len() > 6 {
        return Err("more than six tones".into());
    }
    Ok(tones)
}

fn seconds(text: &str) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text == "*" {
        return Ok(None);
    }
    let value: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a duration"))?;
    if !(0.0..=3_600.0).contains(&value) {
        return Err(format!("duration '{text}' is out of range"));
    }
    Ok(Some(value))
}

fn parse_section(text: &str, tones: usize) -> Result<(Option<f64>, Vec<Segment>), String> {
    let (duration, rest) = text
        .split_once('(')
        .ok_or_else(|| format!("section '{text}' is not D(on/off/tones,...)"))?;
    let body = rest
        .strip_suffix(')')
        .ok_or_else(|| format!("section '{text}' lacks its ')'"))?;
    let duration = seconds(duration)?;
    let segments: Vec<Segment> = body
        .split(',')
        .map(|segment| {
            let fields: Vec<&str> = segment.split('/').collect();
            let [on, off, which] = fields[..] else {
                return Err(format!("segment '{segment}' is not on/off/tones"));
            };
            let tones = which
                .split('+')
                .map(|n| match n.trim().parse::<usize>() {
                    Ok(i) if (1..=tones).contains(&i) => Ok(i - 1),
                    _ => Err(format!(
                        "segment '{segment}' names tone '{n}', which is not defined"
                    )),
                })
                .collect::<Result<_, _>>()?;
            Ok(Segment {
                on: seconds(on)?,
                off: seconds(off)?.unwrap_or(0.0),
                tones,
            })
        })
        .collect::<Result<_, _>>()?;
    if segments.is_empty() || segments.len() > 6 {
        return Err(format!("section '{text}' needs one to six segments"));
    }
    let cycle: f64 = segments.iter().map(|s| s.on.unwrap_or(1.0) + s.off).sum();
    if cycle <= 0.0 || cycle > MAX_CYCLE_S {
        return Err(format!(
            "section '{text}' has a cycle of {cycle} s (0 to {MAX_CYCLE_S} s)"
        ));
    }
    Ok((duration, segments))
}

/// One cycle of a section's segments (an always-on segment counts as one second of tone).
fn render_cycle(tones: &[(f64, f64)], segments: &[Segment]) -> Vec<i16> {
    let mut out = Vec::new();
    for segment in segments {
        let on = (segment.on.unwrap_or(1.0) * RATE) as usize;
        let off = (segment.off * RATE) as usize;
        let start = out.len();
        for n in 0..on {
            let t = (start + n) as f64 / RATE;
            let sample: f64 = segment
                .tones
                .iter()
                .map(|&i| {
                    let (hz, dbm) = tones[i];
                    32_767.0 * 10f64.powf((dbm - 3.0) / 20.0) * (TAU * hz * t).sin()
                })
                .sum();
            out.push(sample.clamp(-32_768.0, 32_767.0) as i16);
        }
        out.extend(std::iter::repeat_n(0, off));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_tone_alternates_half_seconds_for_its_duration() {
        let rendered = render("480@-19,620@-19;2(.5/.5/1+2)").expect("renders");
        assert_eq!(rendered.once.len(), 16_000);
        assert!(rendered.forever.is_none());
        let energy = |from: usize| {
            rendered.once[from..from + 4_000]
                .iter()
                .map(|&s| i64::from(s).abs())
                .sum::<i64>()
        };
        assert!(energy(0) > 0 && energy(4_000) == 0 && energy(8_000) > 0);
        let peak = rendered.once.iter().map(|s| s.abs()).max().unwrap_or(0);
        assert!(
            (4_000..5_300).contains(&peak),
            "two tones at -19 dBm: {peak}"
        );
    }

    #[test]
    fn a_star_section_repeats_forever() {
        let rendered = render("425@-10;*(1/4/1)").expect("renders");
        assert!(rendered.once.is_empty());
        assert_eq!(rendered.forever.map(|f| f.len()), Some(40_000));
        let dial = render("350@-19,440@-19;10(*/0/1+2)").expect("renders");
        assert_eq!(dial.once.len(), 80_000);
        // call.playProgressTone's scripts (bindings/src/api/call.js).
        for script in [
            "440@-19,480@-19;*(2/4/1+2)",
            "425@-10;*(.8/3.2/1)",
            "400@-19,450@-19;*(.4/.2/1+2,.4/2/1+2)",
            "425@-10;*(1/4/1)",
        ] {
            assert!(render(script).expect(script).forever.is_some(), "{script}");
        }
    }

    #[test]
    fn bad_scripts_say_what_is_wrong() {
        let error = |s: &str| render(s).expect_err("bad").to_string();
        assert_eq!(error("440"), "ToneScript '440': tone '440' is not Hz@dBm");
        assert_eq!(
            error("440@-10;1(1/0/2)"),
            "ToneScript '440@-10;1(1/0/2)': segment '1/0/2' names tone '2', which is not defined"
        );
        assert_eq!(
            error("440@-10"),
            "ToneScript '440@-10': no section after the tones (e.g. 440@-10;1(1/0/1))"
        );
        assert_eq!(
            error("440@-10;1(1/0)"),
            "ToneScript '440@-10;1(1/0)': segment '1/0' is not on/off/tones"
        );
    }
}

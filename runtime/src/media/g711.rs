//! G.711 (PCMU μ-law, and A-law for prompts and WebSocket streams): the codec of Dialtone's RTP legs.
//! μ-law encodes by the classic biased segment search; decoding uses tables built at compile
//! time.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32_635;

/// Encodes one 16-bit linear sample to μ-law.
pub fn encode(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    value = value.min(CLIP) + BIAS;
    // The segment is the position of the highest set bit above bit 7.
    let mut exponent = 7;
    while exponent > 0 && value & (0x80 << exponent) == 0 {
        exponent -= 1;
    }
    let mantissa = (value >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

const fn decode_one(code: u8) -> i16 {
    let code = !code;
    let sign = code & 0x80;
    let exponent = ((code >> 4) & 0x07) as i32;
    let mantissa = (code & 0x0F) as i32;
    let magnitude = ((mantissa << 3) + BIAS) << exponent;
    let value = magnitude - BIAS;
    if sign != 0 {
        -value as i16
    } else {
        value as i16
    }
}

const DECODE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = decode_one(i as u8);
        i += 1;
    }
    table
};

/// Decodes one μ-law byte to a 16-bit linear sample.
pub fn decode(code: u8) -> i16 {
    DECODE[code as usize]
}

/// Decodes one A-law byte to a 16-bit linear sample (A-law WAV prompts).
pub fn decode_alaw(code: u8) -> i16 {
    let code = code ^ 0x55;
    let exponent = i32::from((code >> 4) & 0x07);
    let mantissa = i32::from(code & 0x0F);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        _ => ((mantissa << 4) + 0x108) << (exponent - 1),
    };
    if code & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// Encodes one 16-bit linear sample to A-law (WebSocket streams in `ALAW`).
pub fn encode_alaw(sample: i16) -> u8 {
    // A-law works on 13-bit magnitudes.
    let value = i32::from(sample) >> 3;
    let (sign, magnitude) = if value >= 0 {
        (0x80, value)
    } else {
        (0x00, -value - 1)
    };
    let magnitude = magnitude.min(0x0FFF);
    let code = if magnitude < 32 {
        (magnitude >> 1) as u8
    } else {
        // The segment is the position of the highest set bit above bit 4.
        let mut exponent = 1;
        while exponent < 7 && magnitude >= (32 << exponent) {
            exponent += 1;
        }
        ((exponent << 4) as u8) | ((magnitude >> exponent) & 0x0F) as u8
    };
    (sign | code) ^ 0x55
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alaw_round_trips_within_its_step() {
        for sample in (-32_768i32..32_768).step_by(7) {
            let sample = sample as i16;
            let back = decode_alaw(encode_alaw(sample));
            let step = (i32::from(sample).abs() / 16).max(16);
            assert!(
                (i32::from(back) - i32::from(sample)).abs() <= step,
                "{sample} -> {back}"
            );
        }
        assert_eq!(encode_alaw(0), 0xD5);
    }

    #[test]
    fn alaw_known_codes() {
        assert_eq!(decode_alaw(0xD5), 8);
        assert_eq!(decode_alaw(0x55), -8);
        assert_eq!(decode_alaw(0xAA), 32_256);
        assert_eq!(decode_alaw(0x2A), -32_256);
    }

    #[test]
    fn known_codes() {
        assert_eq!(encode(0), 0xFF);
        assert_eq!(decode(0xFF), 0);
        assert_eq!(decode(0x7F), 0);
        assert_eq!(encode(i16::MAX), 0x80);
        assert_eq!(encode(i16::MIN), 0x00);
        assert_eq!(decode(0x80), 32_124);
        assert_eq!(decode(0x00), -32_124);
    }

    #[test]
    fn round_trip_error_stays_within_the_segment_step() {
        for sample in (i16::MIN..=i16::MAX).step_by(7) {
            let back = i32::from(decode(encode(sample)));
            let s = i32::from(sample).clamp(-CLIP, CLIP);
            // The quantisation step doubles per segment; the error stays below one step.
            let step = ((s.abs() + BIAS) >> 4).max(8);
            assert!((back - s).abs() <= step, "{sample} -> {back}");
        }
    }

    #[test]
    fn every_code_decodes_and_re_encodes_to_itself() {
        for code in 0..=255u8 {
            let again = encode(decode(code));
            // 0x7F and 0xFF are both zero; everything else maps back exactly.
            assert!(again == code || decode(again) == decode(code), "{code:#x}");
        }
    }
}

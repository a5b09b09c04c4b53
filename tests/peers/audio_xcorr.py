#!/usr/bin/env python3
"""How much of SENT a caller heard back in HEARD, and how late: normalized cross-correlation.

    target/peers/venv-media/bin/python tests/peers/audio_xcorr.py SENT.wav HEARD.wav [MAX_LAG_MS]

Both files are 16-bit PCM WAV (read with Python's wave module, independent of Dialtone's own
WAV code), mono or the first channel, resampled to 8 kHz if needed. Prints one line:

    LAG_MS <lag> PEAK <r>

where lag is how much later SENT appears in HEARD (0..MAX_LAG_MS, default 3000) and r is the
correlation at that lag, normalized by the energy of SENT and of the matching stretch of HEARD
(1.0 = an exact, scaled copy; speech through two μ-law hops stays above 0.8).
"""
import sys
import wave

import numpy as np


def read(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            sys.exit(f"{path}: not 16-bit PCM")
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
        data = np.frombuffer(frames, dtype="<i2").astype(np.float64)
        data = data[:: w.getnchannels()]
    if rate != 8000:
        positions = np.arange(0, len(data) * 8000 / rate) * rate / 8000
        data = np.interp(positions, np.arange(len(data)), data)
    return data


def main():
    sent, heard = read(sys.argv[1]), read(sys.argv[2])
    max_lag = int(int(sys.argv[3]) * 8 if len(sys.argv) > 3 else 3000 * 8)
    size = 1
    while size < len(sent) + len(heard):
        size *= 2
    spectrum = np.fft.rfft(heard, size) * np.conj(np.fft.rfft(sent, size))
    corr = np.fft.irfft(spectrum, size)[: max_lag + 1]
    lag = int(np.argmax(corr))
    stretch = heard[lag : lag + len(sent)]
    denominator = np.sqrt(np.sum(sent[: len(stretch)] ** 2) * np.sum(stretch**2))
    peak = float(corr[lag] / denominator) if denominator > 0 else 0.0
    print(f"LAG_MS {lag / 8:.1f} PEAK {peak:.3f}", flush=True)


main()

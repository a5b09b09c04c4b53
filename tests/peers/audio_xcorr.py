#!/usr/bin/env python3
"""How much of SENT a caller heard back in HEARD, and how late: normalized cross-correlation.

    target/peers/venv-media/bin/python tests/peers/audio_xcorr.py SENT.wav HEARD.wav [MAX_LAG_MS]

Both files are 16-bit PCM WAV (read with Python's wave module, independent of Dialtone's own
WAV code), mono or the first channel, resampled to 8 kHz if needed. Prints one line:

    LAG_MS <lag> PEAK <r> SEGMENTED <s>

where lag is how much later SENT appears in HEARD (0..MAX_LAG_MS, default 3000) and r is the
correlation at that lag, normalized by the energy of SENT and of the matching stretch of HEARD
(1.0 = an exact, scaled copy; speech through two μ-law hops stays above 0.8).

s measures the same per half second of SENT's speech, each half second at its own lag within
100 ms of <lag>, weighted by its energy. A softphone's adaptive jitter buffer may move its
delay by a few packets mid-call when its machine is busy; r then falls (half the speech at one
lag, half at another) while s still says whether the speech was heard.
"""
import sys
import wave

import numpy as np

RATE = 8000
WINDOW = RATE // 2
DRIFT = RATE // 10


def read(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            sys.exit(f"{path}: not 16-bit PCM")
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
        data = np.frombuffer(frames, dtype="<i2").astype(np.float64)
        data = data[:: w.getnchannels()]
    if rate != RATE:
        positions = np.arange(0, len(data) * RATE / rate) * rate / RATE
        data = np.interp(positions, np.arange(len(data)), data)
    return data


def normalized(a, b):
    denominator = np.sqrt(np.sum(a**2) * np.sum(b**2))
    return float(np.dot(a, b) / denominator) if denominator > 0 else 0.0


def segmented(sent, heard, lag):
    """Energy-weighted correlation of SENT's voiced half seconds, each at its best lag near LAG."""
    windows = [sent[i : i + WINDOW] for i in range(0, len(sent) - WINDOW + 1, WINDOW)]
    energies = np.array([np.sum(w**2) for w in windows])
    if len(windows) == 0 or energies.max() == 0:
        return 0.0
    voiced = energies > 0.1 * energies.mean()
    total, weight = 0.0, 0.0
    for index, window in enumerate(windows):
        if not voiced[index]:
            continue
        start = index * WINDOW + lag
        best = 0.0
        for shift in range(max(-DRIFT, -start), DRIFT + 1):
            stretch = heard[start + shift : start + shift + WINDOW]
            if len(stretch) < WINDOW:
                break
            best = max(best, normalized(window, stretch))
        total += best * energies[index]
        weight += energies[index]
    return total / weight if weight > 0 else 0.0


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
    seg = segmented(sent, heard, lag)
    print(f"LAG_MS {lag / 8:.1f} PEAK {peak:.3f} SEGMENTED {seg:.3f}", flush=True)


main()

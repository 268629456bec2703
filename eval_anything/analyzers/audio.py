"""Measure a sound: how many beeps it holds and how high they are.

Beeps are runs of 10 ms frames whose loudness exceeds a fifth of the loudest frame (gaps shorter
than 40 ms are bridged, blips shorter than 30 ms dropped). The pitch is the strongest frequency
of the loud frames, classed low (< 311 Hz), medium (< 622 Hz) or high: the geometric midpoints
between the generator's 220, 440 and 880 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_S = 0.01
LOW_MEDIUM_HZ = 311.0
MEDIUM_HIGH_HZ = 622.0


@dataclass
class AudioFacts:
    beeps: int
    pitch_hz: float | None
    pitch: str | None
    duration_s: float


def pitch_class(hz: float | None) -> str | None:
    if hz is None:
        return None
    if hz < LOW_MEDIUM_HZ:
        return "low"
    return "medium" if hz < MEDIUM_HIGH_HZ else "high"


def analyze_audio(wave: np.ndarray, sr: int) -> AudioFacts:
    x = np.asarray(wave, dtype=np.float32)
    n = max(1, int(FRAME_S * sr))
    frames = len(x) // n
    duration = len(x) / float(sr)
    if frames == 0:
        return AudioFacts(0, None, None, duration)
    rms = np.sqrt((x[: frames * n].reshape(frames, n) ** 2).mean(axis=1))
    if rms.max() < 1e-4:
        return AudioFacts(0, None, None, duration)
    loud = rms > 0.2 * rms.max()
    runs: list[list[int]] = []
    for i, on in enumerate(loud):
        if not on:
            continue
        if runs and i - runs[-1][1] <= 4:  # bridge gaps up to 40 ms
            runs[-1][1] = i
        else:
            runs.append([i, i])
    runs = [r for r in runs if r[1] - r[0] + 1 >= 3]
    voiced = np.concatenate([x[a * n : (b + 1) * n] for a, b in runs]) if runs else x
    spectrum = np.abs(np.fft.rfft(voiced * np.hanning(len(voiced))))
    freqs = np.fft.rfftfreq(len(voiced), 1.0 / sr)
    spectrum[freqs < 40] = 0.0
    hz = float(freqs[int(spectrum.argmax())]) if spectrum.max() > 0 else None
    return AudioFacts(len(runs), hz, pitch_class(hz), duration)

"""Turning the tracks of one prompt into matched stimuli (pure: arrays in, arrays out).

Order of operations, per prompt: decode → stereo → common sample rate → excerpt of equal length
from the same offset with fades → gain to the loudness target → if any track's true peak would
pass the ceiling, lower all tracks of the prompt by the same amount (so they stay matched).
"""

from dataclasses import dataclass

import numpy as np

from evaluation.stimuli.audio import (
    SILENCE_LUFS,
    AudioError,
    Decoded,
    apply_gain,
    clipped_fraction,
    excerpt,
    integrated_loudness,
    resample,
    to_stereo,
    true_peak_dbtp,
)

MAX_CLIPPED_FRACTION = 0.01


@dataclass(frozen=True)
class PreparedAudio:
    samples: np.ndarray  # float32 [2, n]
    sample_rate: int
    excerpt_start_s: float
    loudness_lufs: float  # measured after gain
    true_peak_dbtp: float  # measured after gain
    gain_db: float

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate


@dataclass(frozen=True)
class MatchSettings:
    sample_rate: int = 48000
    excerpt_s: float = 20.0
    target_lufs: float = -23.0
    max_true_peak_dbtp: float = -1.0
    excerpt_start_s: float = 0.0


def check_usable(decoded: Decoded) -> None:
    """Raise AudioError for silent or heavily clipped input."""
    if float(np.max(np.abs(decoded.samples))) == 0.0:
        raise AudioError("is silent")
    if clipped_fraction(decoded.samples) > MAX_CLIPPED_FRACTION:
        share = 100 * clipped_fraction(decoded.samples)
        raise AudioError(f"is heavily clipped ({share:.1f}% of samples at full scale)")


def excerpt_length_s(durations_s: list[float], settings: MatchSettings) -> float:
    """Common excerpt length: the study's length, or the shortest track when that is shorter."""
    available = min(durations_s) - settings.excerpt_start_s
    return float(min(settings.excerpt_s, available))


def match_tracks(tracks: list[Decoded], settings: MatchSettings) -> list[PreparedAudio]:
    """Prepare all tracks of one prompt together so that they are matched to each other."""
    if not tracks:
        return []
    for decoded in tracks:
        check_usable(decoded)
    length_s = excerpt_length_s([t.duration_s for t in tracks], settings)
    if length_s < 1.0:
        raise AudioError(f"too short for an excerpt ({length_s + settings.excerpt_start_s:.2f} s)")
    rate = settings.sample_rate
    cuts = [
        excerpt(
            resample(to_stereo(t.samples), t.sample_rate, rate),
            rate,
            settings.excerpt_start_s,
            length_s,
        )
        for t in tracks
    ]
    loudness = [integrated_loudness(cut, rate) for cut in cuts]
    for measured in loudness:
        if measured <= SILENCE_LUFS:
            raise AudioError("is silent in the excerpt")
    gains = [settings.target_lufs - measured for measured in loudness]
    peaks = [true_peak_dbtp(cut) + gain for cut, gain in zip(cuts, gains, strict=True)]
    overshoot = max(peaks) - settings.max_true_peak_dbtp
    if overshoot > 0:
        # Lower the whole group together: loudness stays matched, below target but equal.
        gains = [gain - overshoot for gain in gains]
    prepared = []
    for cut, gain in zip(cuts, gains, strict=True):
        leveled = apply_gain(cut, gain)
        prepared.append(
            PreparedAudio(
                samples=leveled,
                sample_rate=rate,
                excerpt_start_s=settings.excerpt_start_s,
                loudness_lufs=integrated_loudness(leveled, rate),
                true_peak_dbtp=true_peak_dbtp(leveled),
                gain_db=gain,
            )
        )
    return prepared

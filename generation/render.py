"""The one renderer every side of a pair goes through: four-part score -> stereo audio.

Bach's harmonization and every generated one are rendered by :func:`render_voices` with the
same :class:`RenderSettings`, so timbre, tempo, loudness and room can never tell them apart;
only the notes differ. Timing depends only on the number of steps and the soprano fermatas,
which the two sides of a pair share, so both have exactly the same length in samples.

Synthesis is pure numpy: per voice, one phase accumulator over the whole line (so held and
re-struck notes stay phase-continuous), a wavetable of a few harmonics (organ/choir-like, a
different spectrum per voice), slow vibrato on the two upper voices, per-note attack and
release ramps, constant-power panning, then a short synthetic room (deterministic noise
impulse response, fixed seed) by FFT convolution, and a fixed master gain with a peak guard at
-1 dBFS.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import oaconvolve

from generation.dataset import REST, STEPS_PER_QUARTER, Chorale

RENDERER_VERSION = "1"
TABLE_SIZE = 8192  # power of two: positions wrap with a bit mask
VIBRATO_HOP = 64


@dataclass(frozen=True)
class VoiceTimbre:
    """Additive timbre of one voice: relative harmonic amplitudes and articulation."""

    harmonics: tuple[float, ...]
    level: float  # linear gain before panning
    pan: float  # -1 (left) .. +1 (right)
    attack_s: float
    release_s: float
    vibrato_hz: float
    vibrato_cents: float


@dataclass(frozen=True)
class RenderSettings:
    """Everything that shapes the audio. One instance (``DEFAULT_SETTINGS``) serves all sides."""

    sample_rate: int = 48_000
    quarter_bpm: float = 76.0
    fermata_stretch: float = 1.75  # fermata steps last this many times longer
    tail_s: float = 1.6  # silence after the last note, filled by the room
    reverb_s: float = 1.4  # impulse response length
    reverb_rt60_s: float = 1.1
    reverb_wet: float = 0.28
    reverb_seed: int = 1723
    master_gain: float = 0.22
    peak_limit: float = 0.891  # -1 dBFS
    timbres: tuple[VoiceTimbre, ...] = (
        # soprano: flute-like principal with a gentle vibrato
        VoiceTimbre((1.0, 0.42, 0.22, 0.12, 0.07, 0.04), 1.0, -0.30, 0.035, 0.09, 5.2, 9.0),
        # alto: "ooh" choir-like, softer upper partials
        VoiceTimbre((1.0, 0.55, 0.18, 0.16, 0.06, 0.05, 0.02), 0.78, 0.30, 0.05, 0.10, 4.8, 7.0),
        # tenor: reedier organ stop
        VoiceTimbre(
            (1.0, 0.62, 0.44, 0.30, 0.20, 0.12, 0.08, 0.05), 0.74, -0.12, 0.03, 0.09, 0.0, 0.0
        ),
        # bass: 8' principal, many harmonics so low notes stay audible on small speakers
        VoiceTimbre(
            (1.0, 0.85, 0.55, 0.40, 0.28, 0.18, 0.12, 0.08, 0.05, 0.03),
            0.85,
            0.12,
            0.03,
            0.10,
            0.0,
            0.0,
        ),
    )

    def describe(self) -> dict:
        """A JSON-able record of the settings, for provenance."""
        return {"renderer_version": RENDERER_VERSION, **asdict(self)}


DEFAULT_SETTINGS = RenderSettings()


def step_boundaries(
    fermatas: np.ndarray, settings: RenderSettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """int64 ndarray [steps + 1]: the sample index where each 16th-note step starts (and ends).

    A step lasts ``60 / quarter_bpm / 4`` seconds, ``fermata_stretch`` times longer under a
    fermata. Depends only on the fermata mask, which both sides of a pair share.
    """
    step_s = 60.0 / settings.quarter_bpm / STEPS_PER_QUARTER
    durations = np.where(fermatas, step_s * settings.fermata_stretch, step_s)
    seconds = np.concatenate(([0.0], np.cumsum(durations)))
    return np.round(seconds * settings.sample_rate).astype(np.int64)


def rendered_length(fermatas: np.ndarray, settings: RenderSettings = DEFAULT_SETTINGS) -> int:
    """Number of samples per channel :func:`render_voices` returns for this fermata mask."""
    return int(step_boundaries(fermatas, settings)[-1]) + round(
        settings.tail_s * settings.sample_rate
    )


def _wavetable(harmonics: tuple[float, ...]) -> np.ndarray:
    phase = np.arange(TABLE_SIZE) * (2 * np.pi / TABLE_SIZE)
    table = sum(a * np.sin((k + 1) * phase) for k, a in enumerate(harmonics))
    return (table / np.abs(table).max()).astype(np.float32)


def _notes(pitches: np.ndarray, onsets: np.ndarray) -> list[tuple[int, int, int]]:
    """(start step, end step, MIDI pitch) of every sounding note of one voice."""
    starts = np.flatnonzero(onsets | np.concatenate(([True], pitches[1:] != pitches[:-1])))
    ends = np.append(starts[1:], len(pitches))
    return [
        (int(start), int(end), int(pitches[start]))
        for start, end in zip(starts, ends, strict=True)
        if pitches[start] != REST
    ]


def _render_voice(
    pitches: np.ndarray,
    onsets: np.ndarray,
    boundaries: np.ndarray,
    length: int,
    timbre: VoiceTimbre,
    sample_rate: int,
    voice_index: int,
) -> np.ndarray:
    """float32 ndarray [length]: one voice, mono, peak about ``timbre.level``."""
    notes = _notes(pitches, onsets)
    frequency = np.zeros(length, dtype=np.float64)
    envelope = np.zeros(length, dtype=np.float32)
    attack = max(1, round(timbre.attack_s * sample_rate))
    release = max(1, round(timbre.release_s * sample_rate))
    for start_step, end_step, pitch in notes:
        start, end = int(boundaries[start_step]), int(boundaries[end_step])
        frequency[start:end] = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
        span = end - start
        ramp_in = min(attack, span // 2)
        # The release starts before the next attack, so repeated notes are heard as two.
        ramp_out = min(release, span - ramp_in)
        segment = envelope[start:end]
        segment[:] = 1.0
        segment[:ramp_in] = np.linspace(0.0, 1.0, ramp_in, endpoint=False, dtype=np.float32)
        segment[span - ramp_out :] = np.linspace(1.0, 0.0, ramp_out, dtype=np.float32)
    # Hold the last frequency through the release tail so the phase never jumps.
    if notes:
        last_end = int(boundaries[notes[-1][1]])
        frequency[last_end:] = frequency[last_end - 1]
    if timbre.vibrato_cents:
        # Vibrato is slow: compute it every VIBRATO_HOP samples and hold in between.
        hops = -(-length // VIBRATO_HOP)
        time = np.arange(hops) * (VIBRATO_HOP / sample_rate)
        phase_offset = 0.7 * voice_index  # voices do not wobble in lockstep
        cents = timbre.vibrato_cents * np.sin(2 * np.pi * timbre.vibrato_hz * time + phase_offset)
        frequency *= np.repeat(2.0 ** (cents / 1200.0), VIBRATO_HOP)[:length]
    # Table position as a running sum in float64 (exact enough over hours), wrapped by a mask.
    frequency *= TABLE_SIZE / sample_rate
    position = np.cumsum(frequency).astype(np.int64)
    position &= TABLE_SIZE - 1
    wave = _wavetable(timbre.harmonics).take(position)
    wave *= envelope
    wave *= np.float32(timbre.level)
    return wave


def room_impulse_response(settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """float32 ndarray [2, taps]: a deterministic synthetic stereo room (decaying noise).

    Exponential decay reaching -60 dB after ``reverb_rt60_s``; high frequencies decay faster
    (one-pole smoothing growing along the tail); a few early reflections; unit energy.
    """
    rng = np.random.default_rng(settings.reverb_seed)
    taps = round(settings.reverb_s * settings.sample_rate)
    time = np.arange(taps) / settings.sample_rate
    decay = 10.0 ** (-3.0 * time / settings.reverb_rt60_s)
    noise = rng.standard_normal((2, taps))
    # Darken the tail: blend each sample with a smoothed copy, more so as time passes.
    kernel = np.ones(24) / 24
    smoothed = np.stack([np.convolve(channel, kernel, mode="same") for channel in noise])
    darkness = np.clip(time / settings.reverb_rt60_s, 0.0, 1.0)
    response = ((1 - darkness) * noise + darkness * smoothed * 4.0) * decay
    predelay = round(0.012 * settings.sample_rate)
    response[:, :predelay] = 0.0
    for delay_s, gain, channel in (
        (0.017, 0.5, 0),
        (0.023, 0.45, 1),
        (0.031, 0.3, 0),
        (0.037, 0.3, 1),
    ):
        response[channel, round(delay_s * settings.sample_rate)] += gain * 30.0
    response /= np.sqrt((response**2).sum(axis=1, keepdims=True))
    return response.astype(np.float32)


def render_voices(
    pitches: np.ndarray,
    onsets: np.ndarray,
    fermatas: np.ndarray,
    settings: RenderSettings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Render a four-part setting to stereo audio.

    pitches: int ndarray [4, steps], MIDI pitch per 16th-note step (S, A, T, B; 0 = rest).
    onsets: bool ndarray [4, steps], True where a note is (re)struck.
    fermatas: bool ndarray [steps], the soprano fermatas (they slow the steps down).
    Returns samples: float32 ndarray [2, n] at ``settings.sample_rate`` Hz, with
    ``n == rendered_length(fermatas, settings)`` and peak at most ``settings.peak_limit``.
    """
    pitches = np.asarray(pitches)
    onsets = np.asarray(onsets, dtype=bool)
    if pitches.shape[0] != len(settings.timbres) or pitches.shape != onsets.shape:
        raise ValueError(f"expected pitches and onsets of shape [4, steps], got {pitches.shape}")
    boundaries = step_boundaries(np.asarray(fermatas, dtype=bool), settings)
    length = rendered_length(fermatas, settings)
    dry = np.zeros((2, length), dtype=np.float32)
    for voice, timbre in enumerate(settings.timbres):
        mono = _render_voice(
            pitches[voice], onsets[voice], boundaries, length, timbre, settings.sample_rate, voice
        )
        angle = (timbre.pan + 1.0) * np.pi / 4.0  # constant-power pan law
        dry[0] += np.float32(np.cos(angle)) * mono
        dry[1] += np.float32(np.sin(angle)) * mono
    response = room_impulse_response(settings)
    wet = np.stack([oaconvolve(dry[channel], response[channel])[:length] for channel in range(2)])
    mixed = (1.0 - settings.reverb_wet) * dry + settings.reverb_wet * wet
    samples = (mixed * settings.master_gain).astype(np.float32)
    fade = min(length, round(0.05 * settings.sample_rate))
    samples[:, length - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    peak = float(np.abs(samples).max())
    if peak > settings.peak_limit:
        samples *= np.float32(settings.peak_limit / peak)
    return samples


def render_chorale(chorale: Chorale, settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """``render_voices`` of a chorale: float32 ndarray [2, n] at ``settings.sample_rate``."""
    return render_voices(chorale.pitches, chorale.onsets, chorale.fermatas, settings)


def write_wav(path: Path | str, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float32 samples [channels, n] as a 24-bit PCM WAV; returns the path."""
    path = Path(path)
    soundfile.write(str(path), np.ascontiguousarray(samples.T), sample_rate, subtype="PCM_24")
    return path

"""Voice-leading measures on four-part settings (int16 pitches [4, steps], ``REST`` = 0).

Counted on the sequence of vertical slices where any voice starts a note, so a held note and a
re-struck one of the same pitch are treated alike.
"""

from __future__ import annotations

import numpy as np

from generation.backends.base import VOICE_RANGES
from generation.dataset import REST, STEPS_PER_QUARTER, VOICES


def parallel_perfect_events(pitches: np.ndarray, onsets: np.ndarray) -> list[tuple[int, int, int]]:
    """Parallel fifths and octaves/unisons (incl. compound) between any two voices, as
    ``(step, upper, lower)``: ``step`` is the 16th-note step of the first of the two slices,
    ``upper`` < ``lower`` voice rows (0 = soprano).

    Both voices must move, in the same direction, from one perfect interval to the same one.
    """
    columns = np.flatnonzero(onsets.any(axis=0))
    slices = pitches[:, columns].astype(int)
    events = []
    for upper in range(4):
        for lower in range(upper + 1, 4):
            a, b = slices[upper], slices[lower]
            sounding = (a != REST) & (b != REST)
            both = sounding[:-1] & sounding[1:]
            interval = (a - b) % 12
            move_a, move_b = np.diff(a), np.diff(b)
            same_interval = interval[:-1] == interval[1:]
            perfect = np.isin(interval[:-1], (0, 7))
            parallel = (move_a != 0) & (np.sign(move_a) == np.sign(move_b))
            hits = np.flatnonzero(both & same_interval & perfect & parallel)
            events += [(int(columns[i]), upper, lower) for i in hits]
    return sorted(events)


def parallel_perfects(pitches: np.ndarray, onsets: np.ndarray) -> int:
    """Number of :func:`parallel_perfect_events`."""
    return len(parallel_perfect_events(pitches, onsets))


def voice_crossings(pitches: np.ndarray) -> int:
    """Steps where a lower voice sounds above the voice written above it."""
    sounding = pitches != REST
    count = 0
    for upper in range(3):
        both = sounding[upper] & sounding[upper + 1]
        count += int((both & (pitches[upper + 1] > pitches[upper])).sum())
    return count


def out_of_range(pitches: np.ndarray) -> int:
    """Sounding steps outside ``VOICE_RANGES`` (soprano included)."""
    count = 0
    for index, name in enumerate(VOICES):
        low, high = VOICE_RANGES[name]
        row = pitches[index]
        count += int(((row != REST) & ((row < low) | (row > high))).sum())
    return count


def spacing_errors(pitches: np.ndarray) -> int:
    """Steps where soprano-alto or alto-tenor are more than an octave apart."""
    sounding = pitches != REST
    count = 0
    for upper in range(2):
        both = sounding[upper] & sounding[upper + 1]
        count += int((both & (pitches[upper] - pitches[upper + 1] > 12)).sum())
    return count


def per_100_beats(count: int, steps: int) -> float:
    return 100.0 * count / (steps / STEPS_PER_QUARTER)


def pitch_class_histogram(pitches: np.ndarray, onsets: np.ndarray, key_tonic: int) -> np.ndarray:
    """float [12]: counts of lower-voice notes by scale degree (pitch - tonic) mod 12."""
    lower, starts = pitches[1:].astype(int), onsets[1:]
    notes = lower[starts & (lower != REST)]
    return np.bincount((notes - key_tonic) % 12, minlength=12).astype(float)


INTERVAL_BINS = 25  # melodic intervals -12..+12 semitones; larger leaps share the end bins


def interval_histogram(pitches: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """float [25]: counts of melodic intervals between consecutive notes of each lower voice."""
    counts = np.zeros(INTERVAL_BINS)
    for voice in range(1, 4):
        row = pitches[voice]
        notes = row[onsets[voice] & (row != REST)].astype(int)
        intervals = np.clip(np.diff(notes), -12, 12) + 12
        counts += np.bincount(intervals, minlength=INTERVAL_BINS)
    return counts


def histogram_distance(counts: np.ndarray, reference: np.ndarray) -> float:
    """Total variation distance (0 = same shape, 1 = disjoint) between two count histograms."""
    return 0.5 * float(np.abs(counts / counts.sum() - reference / reference.sum()).sum())

import numpy as np

from generation.metrics import (
    out_of_range,
    parallel_perfects,
    per_100_beats,
    spacing_errors,
    voice_crossings,
)


def score(*voices):
    """Four voices of whole-step notes: every step is an onset."""
    pitches = np.array(voices, dtype=np.int16)
    return pitches, np.ones(pitches.shape, dtype=bool)


def test_it_counts_parallel_fifths_and_octaves():
    # S-B in octaves C->D, A-T a fifth apart G/C -> A/D.
    pitches, onsets = score([72, 74], [67, 69], [60, 62], [48, 50])
    # Every pair moves in parallel; all but soprano-alto (a fourth) are perfect intervals.
    assert parallel_perfects(pitches, onsets) == 5


def test_contrary_motion_into_a_fifth_is_not_parallel():
    pitches, onsets = score([76, 74], [67, 69], [60, 62], [48, 55])
    # Only alto and tenor (fifth -> fifth, both up) move in parallel.
    assert parallel_perfects(pitches, onsets) == 1


def test_a_held_fifth_is_not_parallel():
    pitches, onsets = score([72, 72], [67, 67], [64, 64], [48, 48])
    assert parallel_perfects(pitches, onsets) == 0


def test_it_counts_crossings_spacing_and_range():
    pitches, _ = score([72, 72], [74, 60], [67, 40], [48, 36])
    assert voice_crossings(pitches) == 1  # the alto D5 above the soprano C5
    assert spacing_errors(pitches) == 1  # tenor E2 is 20 below the alto C4
    assert out_of_range(pitches) == 1  # tenor E2 is below 48


def test_rates_are_per_100_quarter_beats():
    assert per_100_beats(3, steps=400) == 3.0


def test_bach_writes_fewer_parallels_than_the_baseline(dataset, markov):
    from generation.backends import Melody

    bach = generated = 0
    for chorale in dataset.in_split("test")[:12]:
        voices = markov.harmonize(Melody.from_chorale(chorale), seed=0)
        bach += parallel_perfects(chorale.pitches, chorale.onsets)
        generated += parallel_perfects(voices.pitches, voices.onsets)
    assert bach < generated

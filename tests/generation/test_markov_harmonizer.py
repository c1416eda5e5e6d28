import dataclasses

import numpy as np
import pytest

from generation.backends import VOICE_RANGES, Melody
from generation.backends.markov import (
    MarkovHarmonizer,
    chord_class,
    segment_starts,
    tonic_offset,
)
from generation.dataset import REST


@pytest.fixture(scope="module")
def test_melodies(dataset):
    return [Melody.from_chorale(c) for c in dataset.in_split("test")]


@pytest.fixture(scope="module")
def settings(markov, test_melodies):
    """(melody, voices) for every test melody, with seeds 0 and 1: sampled once per module."""
    return [
        (melody, markov.harmonize(melody, seed=seed)) for seed in (0, 1) for melody in test_melodies
    ]


def test_it_is_fitted_on_the_train_split_only(markov, dataset):
    assert markov.tables.chorales == len(dataset.split["train"]) == 286
    assert markov.describe() == {
        "system": "markov",
        "system_version": "1",
        "trained_on": "train split (286 chorales)",
    }


def test_it_keeps_the_soprano_and_the_length(settings):
    for melody, voices in settings:
        assert voices.pitches.shape == (4, melody.steps)
        assert voices.onsets.shape == (4, melody.steps)
        assert voices.pitches[0].tolist() == melody.pitches.tolist()
        assert voices.onsets[0].tolist() == melody.onsets.tolist()
        voices.validate_against(melody)


def test_the_same_seed_gives_the_same_notes(markov, test_melodies):
    melody = test_melodies[0]
    first = markov.harmonize(melody, seed=11)
    again = MarkovHarmonizer.fit().harmonize(melody, seed=11)
    assert np.array_equal(first.pitches, again.pitches)
    assert np.array_equal(first.onsets, again.onsets)


def test_a_different_seed_gives_different_notes(markov, test_melodies):
    for melody in test_melodies[:5]:
        one = markov.harmonize(melody, seed=1)
        two = markov.harmonize(melody, seed=2)
        assert not np.array_equal(one.pitches[1:], two.pitches[1:])


def test_alto_tenor_and_bass_stay_in_their_ranges(settings):
    for _, voices in settings:
        for index, name in enumerate(("alto", "tenor", "bass"), start=1):
            low, high = VOICE_RANGES[name]
            sounding = voices.pitches[index][voices.pitches[index] != REST]
            assert sounding.min() >= low
            assert sounding.max() <= high


def test_lower_voices_sing_exactly_when_the_soprano_sings(settings):
    for melody, voices in settings:
        soprano_rests = melody.pitches == REST
        for row in voices.pitches[1:]:
            assert ((row == REST) == soprano_rests).all()


def test_the_final_bass_note_is_the_tonic(settings):
    for melody, voices in settings:
        bass = voices.pitches[3]
        last = bass[bass != REST][-1]
        assert int(last) % 12 == melody.key_tonic


def test_the_lower_voices_change_only_at_segment_starts(markov, test_melodies):
    melody = test_melodies[0]
    voices = markov.harmonize(melody, seed=0)
    starts = set(segment_starts(melody.onsets.copy(), melody.beat_mask()).tolist())
    for row, onsets in zip(voices.pitches[1:], voices.onsets[1:], strict=True):
        changes = set(np.flatnonzero(np.diff(row) != 0) + 1) | set(np.flatnonzero(onsets))
        assert changes <= starts


def test_it_harmonizes_a_melody_transposed_to_every_key(markov, bwv269):
    melody = Melody.from_chorale(bwv269)
    for shift in range(-6, 6):
        moved = dataclasses.replace(
            melody,
            pitches=np.where(melody.pitches == REST, REST, melody.pitches + shift).astype(np.int16),
            key_tonic=(melody.key_tonic + shift) % 12,
        )
        markov.harmonize(moved, seed=0).validate_against(moved)


def test_a_higher_temperature_spreads_the_choices(markov, test_melodies):
    hot = MarkovHarmonizer(markov.tables, temperature=3.0)
    melody = test_melodies[1]
    cold_notes = markov.harmonize(melody, seed=4).pitches
    hot_notes = hot.harmonize(melody, seed=4).pitches
    assert not np.array_equal(cold_notes, hot_notes)


def test_keys_move_to_c_the_short_way():
    assert [tonic_offset(t) for t in range(12)] == [0, 1, 2, 3, 4, 5, 6, -5, -4, -3, -2, -1]


def test_a_chord_class_is_its_bass_and_its_pitch_classes():
    assert chord_class((72, 64, 55, 48)) == (0, (1 << 0) | (1 << 4) | (1 << 7))

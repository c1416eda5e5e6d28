import numpy as np

from generation.listening import (
    FEATURES,
    Setting,
    audible_features,
    chord_kind,
    discriminator_accuracy,
    final_chord_correct,
    hidden_outer_perfects,
    neighbour_notes,
    passing_notes,
    wilson_interval,
)


def test_chords_are_named_by_their_pitch_classes_in_any_inversion():
    assert chord_kind({0, 4, 7}) == "major"
    assert chord_kind({4, 7, 0}) == "major"
    assert chord_kind({9, 0, 4}) == "minor"
    assert chord_kind({11, 2, 5}) == "diminished"
    assert chord_kind({7, 11, 2, 5}) == "seventh"
    assert chord_kind({7, 11, 5}) == "seventh"  # dominant seventh without its fifth
    assert chord_kind({0, 7}) == "incomplete"
    assert chord_kind({0, 1, 4}) == "other"


def test_the_final_chord_needs_the_tonic_bass_and_a_major_third():
    c_major = np.array([[72], [67], [64], [48]])
    assert final_chord_correct(c_major, 0)
    assert not final_chord_correct(np.array([[72], [67], [63], [48]]), 0)  # minor third
    assert not final_chord_correct(np.array([[72], [67], [64], [52]]), 0)  # E in the bass
    assert not final_chord_correct(np.array([[72], [67], [60], [48]]), 0)  # no third
    # A rest after the last chord does not hide it.
    assert final_chord_correct(np.concatenate([c_major, np.zeros((4, 1), int)], axis=1), 0)


def test_passing_and_neighbour_notes_are_counted_off_the_beat_only():
    # Eighth notes C4 (beat) D4 E4 (beat) D4 E4 (beat): the first D4 passes, the second is a
    # lower neighbour; shifted by an eighth, the Ds fall on the beats and only the first E4,
    # off the beat between two Ds, is a note of either kind (an upper neighbour).
    row = np.repeat([60, 62, 64, 62, 64], 2)
    starts = np.zeros(10, dtype=bool)
    starts[::2] = True
    assert passing_notes(row, starts, bar_offset=0) == 1
    assert neighbour_notes(row, starts, bar_offset=0) == 1
    assert passing_notes(row, starts, bar_offset=2) == 0
    assert neighbour_notes(row, starts, bar_offset=2) == 1


def test_hidden_octaves_need_similar_motion_and_a_soprano_leap():
    pitches = np.array([[64, 72], [60, 67], [55, 64], [48, 48]])
    onsets = np.ones((4, 2), dtype=bool)
    assert hidden_outer_perfects(pitches, onsets) == 0  # the bass holds
    pitches[3] = [43, 48]  # G2 -> C3 under E4 -> C5: both rise into an octave, soprano leaps
    assert hidden_outer_perfects(pitches, onsets) == 1
    pitches[0] = [71, 72]  # soprano B4 -> C5 by step: allowed
    assert hidden_outer_perfects(pitches, onsets) == 0


def test_features_are_finite_rates_for_a_bach_chorale(bwv269):
    setting = Setting(
        pitches=bwv269.pitches,
        onsets=bwv269.onsets,
        fermatas=bwv269.fermatas,
        key_tonic=bwv269.key_tonic,
        bar_offset=bwv269.bar_offset,
    )
    features = dict(zip(FEATURES, audible_features(setting), strict=True))
    assert np.isfinite(list(features.values())).all()
    assert features["final_chord_correct"] == 1.0
    assert 0 < features["major_triads"] < 1
    assert features["passing_bass"] > 0


def test_the_discriminator_finds_a_real_difference_and_not_a_shuffled_one():
    rng = np.random.default_rng(0)
    bach = rng.normal(0.0, 1.0, size=(30, 4))
    system = rng.normal(0.0, 1.0, size=(30, 4))
    system[:, 0] += 3.0  # one audible feature differs a lot
    groups = np.tile(np.arange(30), 2)  # each melody set by both, held out together
    found = discriminator_accuracy(bach, system, groups)
    assert found["accuracy"] >= 0.9 and found["n"] == 60
    assert found["low"] < found["accuracy"] < found["high"]
    alike = discriminator_accuracy(bach, rng.normal(0.0, 1.0, size=(30, 4)), groups)
    assert alike["accuracy"] < 0.7


def test_the_wilson_interval_of_half_of_72():
    low, high = wilson_interval(36, 72)
    assert (round(low, 4), round(high, 4)) == (0.3875, 0.6125)


def test_one_tune_family_cannot_be_cross_validated():
    import pytest

    with pytest.raises(ValueError, match="at least two tune families"):
        discriminator_accuracy(np.zeros((2, 3)), np.ones((2, 3)), np.zeros(4, dtype=int))

import numpy as np
import pytest

from generation.soprano import (
    HOLD,
    REST_TOKEN,
    SopranoBigram,
    SopranoContinuer,
    encode_soprano,
    soprano_bits,
    soprano_tokens,
)


@pytest.fixture(scope="module")
def continuer():
    return SopranoContinuer.load()


def test_tokens_name_holds_rests_and_onsets_in_the_soprano_range():
    pitches = np.array([57, 57, 0, 81], dtype=np.int16)
    onsets = np.array([True, False, True, True])
    assert soprano_tokens(pitches, onsets).tolist() == [2, HOLD, REST_TOKEN, 26]
    with pytest.raises(ValueError, match="soprano leaves its range 57-81"):
        soprano_tokens(np.array([56]), np.array([True]))


def test_features_read_the_previous_step_and_the_current_context(bwv269):
    item = encode_soprano(bwv269, shift=2)
    assert item.features.shape == (7, bwv269.steps)
    # Step 0 sees "before the start"; step 1 sees step 0's pitch, transposed.
    assert item.features[0, 0] == 26
    assert item.features[0, 1] == int(bwv269.pitches[0, 0]) + 2 - 57 + 1
    assert item.features[6].tolist() == [(bwv269.key_tonic + 2) % 12] * bwv269.steps


def test_the_shipped_model_beats_the_bigram_baseline_on_test_sopranos(dataset, continuer):
    encoded = [encode_soprano(c) for c in dataset.in_split("test")[:6]]
    neural, steps = soprano_bits(continuer.model, encoded)
    bigram, same_steps = SopranoBigram.fit(dataset.in_split("train")).bits(encoded)
    assert steps == same_steps == sum(len(item.targets) for item in encoded)
    assert neural / steps < 0.8 * bigram / steps


def test_continuing_keeps_the_prefix_and_is_seeded(bwv269, continuer):
    pitches, onsets = bwv269.soprano
    context = {
        "key_tonic": bwv269.key_tonic,
        "key_mode": bwv269.key_mode,
        "meter": bwv269.meter,
        "bar_offset": bwv269.bar_offset,
        "prefix_steps": 40,
    }
    first = continuer.continue_line(pitches, onsets, bwv269.fermatas, seed=5, **context)
    second = continuer.continue_line(pitches, onsets, bwv269.fermatas, seed=5, **context)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert np.array_equal(first[0][:40], pitches[:40])
    assert np.array_equal(first[1][:40], onsets[:40])
    with pytest.raises(ValueError, match="prefix_steps must be in 1.."):
        continuer.continue_line(
            pitches, onsets, bwv269.fermatas, seed=5, **context | {"prefix_steps": 0}
        )

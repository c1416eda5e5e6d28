import numpy as np
import pytest

from generation.backends.base import VOICE_RANGES
from generation.continuation import (
    build_continuation_pair,
    continue_chorale,
    eligible_chorales,
    excerpt_steps,
    prefix_steps,
    select_continuations,
)
from generation.dataset import REST, VOICES


@pytest.fixture(scope="module")
def pickup_chorale(dataset):
    """BWV 183.5: 4/4 with a one-beat pickup (bar_offset 12)."""
    return dataset.chorales["bach/bwv183.5"]


@pytest.fixture(scope="module")
def continued(pickup_chorale):
    return continue_chorale(pickup_chorale, bars=4, continue_bars=4, seed=0)


def test_a_pickup_counts_as_the_first_bar(pickup_chorale, bwv269):
    assert (pickup_chorale.meter, pickup_chorale.bar_offset) == ("4/4", 12)
    assert prefix_steps(pickup_chorale, 4) == 4 + 3 * 16
    assert excerpt_steps(pickup_chorale, bars=4, continue_bars=4) == 52 + 64
    assert (bwv269.meter, bwv269.bar_offset) == ("3/4", 8)
    assert prefix_steps(bwv269, 2) == 4 + 12


def test_the_reference_is_bachs_real_continuation(continued, pickup_chorale):
    steps = 116
    assert continued.reference.steps == continued.generated.steps == steps
    assert np.array_equal(continued.reference.pitches, pickup_chorale.pitches[:, :steps])
    assert np.array_equal(continued.reference.onsets, pickup_chorale.onsets[:, :steps])
    assert np.array_equal(continued.reference.fermatas, pickup_chorale.fermatas[:steps])


def test_the_given_bars_are_identical_in_both_and_the_new_bars_differ(continued):
    given = continued.prefix_steps
    assert given == 52
    generated, reference = continued.generated, continued.reference
    assert np.array_equal(generated.pitches[:, :given], reference.pitches[:, :given])
    assert np.array_equal(generated.onsets[:, :given], reference.onsets[:, :given])
    assert not np.array_equal(generated.pitches[0, given:], reference.pitches[0, given:])
    assert generated.onsets[:, 0].all()
    # Key, meter and the fermata plan (which sets the renderer's timing) are shared.
    assert np.array_equal(generated.fermatas, reference.fermatas)
    assert (generated.key_tonic, generated.meter) == (reference.key_tonic, reference.meter)


def test_every_voice_stays_in_range(dataset):
    for chorale in eligible_chorales(split="test", bars=2, continue_bars=6)[:6]:
        generated = continue_chorale(chorale, bars=2, continue_bars=6, seed=3).generated
        for index, name in enumerate(VOICES):
            row = generated.pitches[index]
            sounding = row[row != REST]
            low, high = VOICE_RANGES[name]
            assert low <= sounding.min() and sounding.max() <= high, (chorale.chorale_id, name)


def test_the_same_seed_gives_the_same_notes_and_another_seed_others(continued, pickup_chorale):
    again = continue_chorale(pickup_chorale, bars=4, continue_bars=4, seed=0)
    other = continue_chorale(pickup_chorale, bars=4, continue_bars=4, seed=1)
    assert np.array_equal(again.generated.pitches, continued.generated.pitches)
    assert np.array_equal(again.generated.onsets, continued.generated.onsets)
    assert (again.soprano_seed, again.harmony_seed) == (
        continued.soprano_seed,
        continued.harmony_seed,
    )
    assert not np.array_equal(other.generated.pitches, continued.generated.pitches)


def test_a_chorale_too_short_is_refused_with_its_length(pickup_chorale):
    with pytest.raises(ValueError, match=r"bach/bwv183.5 has \d+ bars; cannot continue 4 bars"):
        continue_chorale(pickup_chorale, bars=4, continue_bars=400, seed=0)
    with pytest.raises(ValueError, match="no test chorale has 4 \\+ 400 bars"):
        select_continuations(n=2, seed=0, split="test", bars=4, continue_bars=400)


def test_both_sides_are_rendered_alike_and_last_as_long(pickup_chorale):
    pair = build_continuation_pair(pickup_chorale, bars=4, continue_bars=4, seed=0)
    assert pair.generated.samples.shape == pair.reference.samples.shape
    assert pair.generated.sample_rate == pair.reference.sample_rate
    assert pair.prompt_text == "First 4 bars of BWV 183.5 (A minor, 4/4), continued for 4 bars"
    provenance = pair.generated.provenance
    assert provenance["system"] == "builtin-continuation"
    assert (provenance["bars"], provenance["continue_bars"], provenance["study_seed"]) == (4, 4, 0)
    assert provenance["renderer_version"] == pair.reference.provenance["renderer_version"]

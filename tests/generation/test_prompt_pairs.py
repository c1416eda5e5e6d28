import numpy as np
import pytest

from generation.dataset import load_dataset
from generation.pairs import (
    build_pair,
    build_pairs,
    harmonize_chorale,
    prompt_seed,
    prompt_text,
    select_chorales,
)
from generation.render import render_chorale


@pytest.fixture(scope="module")
def pairs():
    return build_pairs(n=3, seed=0, system="markov", split="test")


def test_it_draws_distinct_prompts_from_the_test_split(pairs, dataset):
    ids = [pair.prompt_id for pair in pairs]
    assert ids == ["bach/bwv144.3", "bach/bwv74.8", "bach/bwv437"]
    assert set(ids) <= set(dataset.split["test"])


def test_the_draw_is_fixed_by_the_seed():
    first = [c.chorale_id for c in select_chorales(n=5, seed=3, split="validation")]
    again = [c.chorale_id for c in select_chorales(n=5, seed=3, split="validation")]
    other = [c.chorale_id for c in select_chorales(n=5, seed=4, split="validation")]
    assert first == again
    assert len(set(first)) == 5
    assert first != other


def test_both_sides_of_a_pair_have_one_format_and_length(pairs):
    for pair in pairs:
        assert pair.reference.sample_rate == pair.generated.sample_rate == 48_000
        assert pair.reference.samples.dtype == pair.generated.samples.dtype == np.float32
        assert pair.reference.samples.shape == pair.generated.samples.shape
        assert pair.reference.samples.shape[0] == 2
        assert pair.reference.samples.tobytes() != pair.generated.samples.tobytes()


def test_both_sides_go_through_the_one_renderer(pairs, dataset):
    pair = pairs[0]
    chorale = dataset.chorales[pair.prompt_id]
    generated = harmonize_chorale(chorale, system="markov", seed=prompt_seed(0, pair.prompt_id))
    assert pair.reference.samples.tobytes() == render_chorale(chorale).tobytes()
    assert pair.generated.samples.tobytes() == render_chorale(generated).tobytes()


def test_the_neural_side_goes_through_the_same_renderer(bwv269):
    pair = build_pair(bwv269, seed=0, system="builtin")
    generated = harmonize_chorale(bwv269, system="builtin", seed=prompt_seed(0, "bach/bwv269"))
    assert np.array_equal(generated.pitches[0], bwv269.pitches[0])
    assert pair.reference.samples.tobytes() == render_chorale(bwv269).tobytes()
    assert pair.generated.samples.tobytes() == render_chorale(generated).tobytes()
    assert pair.generated.samples.shape == pair.reference.samples.shape
    assert (
        pair.generated.provenance["renderer_version"]
        == pair.reference.provenance["renderer_version"]
    )


def test_the_generated_side_keeps_bachs_soprano(pairs, dataset):
    for pair in pairs:
        chorale = dataset.chorales[pair.prompt_id]
        generated = harmonize_chorale(chorale, system="markov", seed=prompt_seed(0, pair.prompt_id))
        assert np.array_equal(generated.pitches[0], chorale.pitches[0])
        assert np.array_equal(generated.onsets[0], chorale.onsets[0])
        assert np.array_equal(generated.fermatas, chorale.fermatas)


def test_the_same_arguments_give_identical_pairs(pairs):
    again = build_pair(load_dataset().chorales[pairs[1].prompt_id], seed=0)
    assert again.generated.samples.tobytes() == pairs[1].generated.samples.tobytes()
    assert again.generated.midi_bytes == pairs[1].generated.midi_bytes
    assert again.reference.midi_bytes == pairs[1].reference.midi_bytes


def test_another_seed_gives_other_notes(pairs):
    other = build_pair(load_dataset().chorales[pairs[0].prompt_id], seed=1)
    assert other.generated.midi_bytes != pairs[0].generated.midi_bytes
    assert other.reference.samples.tobytes() == pairs[0].reference.samples.tobytes()


def test_each_track_records_its_provenance(pairs):
    pair = pairs[0]
    assert pair.generated.provenance == {
        "system": "markov",
        "system_version": "1",
        "trained_on": "train split (286 chorales)",
        "seed": prompt_seed(0, "bach/bwv144.3"),
        "study_seed": 0,
        "source": "bach/bwv144.3",
        "generator_version": "0.1.0",
        "renderer_version": "1",
    }
    assert pair.reference.provenance == {
        "system": "bach",
        "seed": None,
        "source": "bach/bwv144.3",
        "generator_version": "0.1.0",
        "renderer_version": "1",
    }


def test_the_prompt_text_names_the_melody(pairs, bwv269):
    assert prompt_text(bwv269) == "Soprano melody of BWV 269 (G major, 3/4, 21 bars)"
    assert pairs[0].prompt_text == "Soprano melody of BWV 144.3 (G major, 4/4, 10 bars)"


def test_a_prompt_seed_is_fixed_by_study_seed_and_chorale():
    assert prompt_seed(0, "bach/bwv269") == 1610871249
    assert prompt_seed(1, "bach/bwv269") != prompt_seed(0, "bach/bwv269")


def test_it_writes_wav_and_midi(pairs, tmp_path):
    wav = pairs[0].generated.write_wav(tmp_path / "a.wav")
    mid = pairs[0].generated.write_midi(tmp_path / "a.mid")
    assert wav.stat().st_size == 44 + 3 * pairs[0].generated.samples.size
    assert mid.read_bytes()[:4] == b"MThd"


def test_more_prompts_than_the_split_holds_are_refused():
    with pytest.raises(ValueError, match="n must be between 1 and 36 for split 'test', got 37"):
        build_pairs(n=37, seed=0)


def test_an_unknown_system_is_refused():
    with pytest.raises(ValueError, match="unknown or unavailable system 'gpt'"):
        build_pairs(n=1, seed=0, system="gpt")

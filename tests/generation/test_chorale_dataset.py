import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from generation.dataset import (
    DATA_PATH,
    METERS,
    REST,
    SPLIT_SEED,
    SPLITS,
    SkipChorale,
    chorale_from_record,
    chorale_to_record,
    corpus_chorale_paths,
    decode_runs,
    encode_runs,
    load_dataset,
    melody_signature,
    parse_corpus_chorale,
    split_chorale_ids,
)


def test_it_loads_the_shipped_dataset_in_under_a_second():
    load_dataset.cache_clear()
    started = time.perf_counter()
    dataset = load_dataset()
    assert time.perf_counter() - started < 1.0
    assert len(dataset.chorales) == 359
    assert len(dataset.excluded) == 51


def test_the_shipped_file_is_a_few_hundred_kilobytes_at_most():
    assert DATA_PATH.stat().st_size < 500_000


def test_every_chorale_is_four_voices_on_one_16th_note_grid(dataset):
    for chorale in dataset.chorales.values():
        steps = chorale.steps
        assert chorale.pitches.shape == (4, steps)
        assert chorale.pitches.dtype == np.int16
        assert chorale.onsets.shape == (4, steps)
        assert chorale.onsets.dtype == np.bool_
        assert chorale.fermatas.shape == (steps,)
        assert chorale.onsets[:, 0].all()
        assert chorale.meter in METERS
        assert 0 <= chorale.bar_offset < chorale.bar_steps
        assert chorale.key_mode in ("major", "minor")
        assert chorale.chorale_id.startswith("bach/bwv")


def test_the_splits_are_disjoint_and_cover_every_chorale(dataset):
    ids = {name: set(dataset.split[name]) for name in SPLITS}
    assert {name: len(members) for name, members in ids.items()} == {
        "train": 287,
        "validation": 36,
        "test": 36,
    }
    assert not ids["train"] & ids["validation"]
    assert not ids["train"] & ids["test"]
    assert not ids["validation"] & ids["test"]
    assert ids["train"] | ids["validation"] | ids["test"] == set(dataset.chorales)


def test_the_stored_split_is_the_one_derived_from_the_fixed_seed(dataset):
    derived = split_chorale_ids(list(dataset.chorales.values()), seed=SPLIT_SEED)
    assert derived == dataset.split


def test_the_split_is_deterministic_and_depends_on_the_seed(dataset):
    chorales = list(dataset.chorales.values())
    assert split_chorale_ids(chorales, seed=7) == split_chorale_ids(chorales[::-1], seed=7)
    assert (
        split_chorale_ids(chorales, seed=7)["test"] != split_chorale_ids(chorales, seed=8)["test"]
    )


def test_chorales_with_the_same_melody_fall_in_the_same_split(dataset):
    split_of = {cid: name for name in SPLITS for cid in dataset.split[name]}
    groups = defaultdict(set)
    for chorale in dataset.chorales.values():
        groups[melody_signature(chorale)].add(split_of[chorale.chorale_id])
    assert sum(1 for g in groups.values() if len(g) > 1) == 0
    assert melody_signature(dataset.chorales["bach/bwv326"]) == melody_signature(
        dataset.chorales["bach/bwv327"]
    )


def test_runs_round_trip_exactly():
    pitches = np.array([60, 60, 60, 62, 0, 0, 64, 64], dtype=np.int16)
    onsets = np.array([1, 0, 1, 1, 1, 0, 1, 0], dtype=bool)
    runs = encode_runs(pitches, onsets)
    assert runs == [60, 2, 60, 1, 62, 1, 0, 2, 64, 2]
    decoded_pitches, decoded_onsets = decode_runs(runs, 8)
    assert decoded_pitches.tolist() == pitches.tolist()
    assert decoded_onsets.tolist() == onsets.tolist()


def test_runs_that_do_not_cover_the_chorale_are_refused():
    with pytest.raises(ValueError, match="cover"):
        decode_runs([60, 3], 4)


def test_a_stored_record_round_trips(bwv269):
    again = chorale_from_record(chorale_to_record(bwv269))
    assert np.array_equal(again.pitches, bwv269.pitches)
    assert np.array_equal(again.onsets, bwv269.onsets)
    assert np.array_equal(again.fermatas, bwv269.fermatas)
    assert (again.key_tonic, again.key_mode, again.meter, again.bar_offset) == (
        7,
        "major",
        "3/4",
        8,
    )


def test_it_describes_a_chorale(bwv269):
    assert bwv269.key_name == "G major"
    assert bwv269.slug == "bwv269"
    assert bwv269.bwv == "BWV 269"
    assert bwv269.steps == 252
    assert bwv269.bars == 21
    assert bwv269.pitches[:, 0].tolist() == [67, 62, 59, 43]
    assert int(bwv269.fermatas.sum()) == 48


def test_parsing_the_corpus_again_gives_the_shipped_chorale(bwv269):
    parsed = parse_corpus_chorale("bach/bwv269", corpus_chorale_paths()["bach/bwv269"])
    assert np.array_equal(parsed.pitches, bwv269.pitches)
    assert np.array_equal(parsed.onsets, bwv269.onsets)
    assert np.array_equal(parsed.fermatas, bwv269.fermatas)
    assert parsed.key_tonic == bwv269.key_tonic


def test_it_skips_a_chorale_with_instrumental_parts(dataset):
    with pytest.raises(SkipChorale, match="5 parts"):
        parse_corpus_chorale("bach/bwv1.6", corpus_chorale_paths()["bach/bwv1.6"])
    assert dataset.excluded["bach/bwv1.6"] == "5 parts"


def test_lower_voices_rest_only_rarely(dataset):
    sounding_steps = sum(int((c.pitches != REST).sum()) for c in dataset.chorales.values())
    all_steps = sum(4 * c.steps for c in dataset.chorales.values())
    assert sounding_steps / all_steps > 0.98


def test_an_unknown_split_is_refused(dataset):
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        dataset.in_split("dev")


def test_a_missing_data_file_names_the_rebuild_command(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="python -m generation.dataset build"):
        load_dataset(tmp_path / "absent.json.gz")

import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from generation.dataset import (
    DATA_PATH,
    FAMILY_THRESHOLD,
    METERS,
    REST,
    SPLIT_SEED,
    SPLITS,
    Chorale,
    SkipChorale,
    chorale_from_record,
    chorale_to_record,
    corpus_chorale_paths,
    decode_runs,
    duplicate_chorales,
    encode_runs,
    load_dataset,
    melody_distances,
    melody_intervals_on_beats,
    melody_signature,
    parse_corpus_chorale,
    split_chorale_ids,
    tune_families,
)


def test_it_loads_the_shipped_dataset_in_under_a_second():
    load_dataset.cache_clear()
    started = time.perf_counter()
    dataset = load_dataset()
    assert time.perf_counter() - started < 1.0
    assert len(dataset.chorales) == 358
    assert len(dataset.excluded) == 52


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
        "train": 286,
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


def test_no_held_out_melody_is_within_0_15_of_a_training_melody(dataset):
    train = dataset.in_split("train")
    for name in ("validation", "test"):
        held_out = dataset.in_split(name)
        for by in ("beat", "note"):
            closest = melody_distances(held_out, train, by=by).min()
            # The families are cut at 0.30, so the margin over 0.15 is wide.
            assert closest > FAMILY_THRESHOLD > 0.15, (name, by, closest)


def test_whole_tune_families_fall_in_one_split(dataset):
    split_of = {cid: name for name in SPLITS for cid in dataset.split[name]}
    families = tune_families(list(dataset.chorales.values()))
    assert all(len({split_of[cid] for cid in family}) == 1 for family in families)
    # The leaks: variants of one tune now share a split.
    assert split_of["bach/bwv248.46-5"] == split_of["bach/bwv244.32"]
    assert split_of["bach/bwv227.11"] == split_of["bach/bwv227.7"]


def test_identical_settings_are_kept_once(dataset):
    assert dataset.excluded["bach/bwv398"] == "duplicate of bach/bwv197.7-a"
    assert "bach/bwv398" not in dataset.chorales
    assert duplicate_chorales(list(dataset.chorales.values())) == {}


def _melody(pitches: list[int], lengths: list[int]) -> Chorale:
    """A one-voice 4/4 chorale from notes (MIDI) and their lengths in 16th notes."""
    row = np.repeat(pitches, lengths).astype(np.int16)
    onsets = np.zeros(len(row), dtype=bool)
    onsets[np.concatenate(([0], np.cumsum(lengths)[:-1]))] = True
    return Chorale(
        chorale_id="bach/test",
        key_tonic=0,
        key_mode="major",
        meter="4/4",
        bar_offset=0,
        pitches=np.stack([row] * 4),
        onsets=np.stack([onsets] * 4),
        fermatas=np.zeros(len(row), dtype=bool),
    )


def test_the_melody_distance_ignores_key_and_passing_eighths():
    tune = _melody([60, 62, 64, 65, 67, 65, 64, 62, 60], [4] * 9)
    transposed = _melody([67, 69, 71, 72, 74, 72, 71, 69, 67], [4] * 9)
    # The same tune with an eighth-note passing tone between two beats.
    ornamented = _melody([60, 62, 64, 65, 67, 65, 64, 63, 62, 60], [4] * 6 + [2, 2, 4, 4])
    other = _melody([60, 67, 65, 60, 72, 71, 69, 67, 60], [4] * 9)
    assert melody_intervals_on_beats(tune) == [2, 2, 1, 2, -2, -1, -2, -2]
    distances = melody_distances([tune], [transposed, ornamented, other], by="beat")
    assert distances[0].round(3).tolist() == [0.0, 0.0, 0.75]
    by_note = melody_distances([tune], [ornamented], by="note")
    assert by_note[0].round(3).tolist() == [0.222]


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

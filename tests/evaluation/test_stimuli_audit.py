"""The pure blindness checks: per-pair tolerances and the size/duration classifier."""

from dataclasses import replace

import pytest

from evaluation.stimuli.audit import (
    FileMeasurement,
    classifier_threshold,
    measure_file,
    pair_problems,
    size_classifier,
)

MATCHED = FileMeasurement(
    codec="flac",
    sample_rate=48000,
    channels=2,
    duration_s=20.0,
    size_bytes=2_000_000,
    loudness_lufs=-23.0,
    true_peak_dbtp=-3.0,
    tags={},
)


def problems(a, b, **options):
    return pair_problems(a, b, target_lufs=-23.0, max_true_peak_dbtp=-1.0, **options)


def test_a_matched_pair_has_no_problems():
    assert problems(MATCHED, replace(MATCHED, loudness_lufs=-22.6)) == []


def test_every_mismatch_is_named():
    louder = replace(
        MATCHED,
        loudness_lufs=-22.0,
        true_peak_dbtp=-0.5,
        duration_s=20.002,
        sample_rate=44100,
        tags={"title": "x"},
        size_bytes=2_200_000,
    )
    assert problems(MATCHED, louder) == [
        "B loudness -22.00 LUFS is not within ±0.5 LU of -23.00",
        "B true peak -0.50 dBTP > -1.0",
        "B carries metadata tags: title",
        "loudness differs by 1.00 LU (> 0.5)",
        "durations differ by 2.0 ms (> 1 ms)",
        "sample_rate differs: 48000 vs 44100",
        "bitrate differs: 800.0 vs 879.9 kbit/s",
    ]


def test_a_recorded_peak_reduction_moves_the_expected_loudness():
    lowered = replace(MATCHED, loudness_lufs=-26.0)
    assert problems(lowered, lowered, peak_reduction_db=3.0) == []
    assert problems(lowered, lowered)[0] == "A loudness -26.00 LUFS is not within ±0.5 LU of -23.00"


def test_the_classifier_threshold_is_chance_plus_a_margin_shrinking_with_n():
    assert classifier_threshold(3) == pytest.approx(0.5 + 1.645 * 0.5 / 3**0.5)
    assert classifier_threshold(1000) == 0.6


def test_equal_sizes_give_the_classifier_chance_accuracy():
    pairs = [(MATCHED, MATCHED)] * 5
    results = size_classifier({"human vs model": pairs})
    assert [(r.feature, r.accuracy, r.passed) for r in results] == [
        ("size", 0.5, True),
        ("duration", 0.5, True),
    ]


def test_sizes_that_always_favour_one_system_fail_the_classifier():
    pairs = [(replace(MATCHED, size_bytes=2_000_000 + i), MATCHED) for i in range(1, 6)]
    size, duration = size_classifier({"human vs model": pairs})
    assert (size.accuracy, size.n_pairs, size.passed) == (1.0, 5, False)
    assert duration.passed


def test_measure_file_refuses_a_file_that_is_no_stimulus(tmp_path):
    from evaluation.stimuli.audio import AudioError

    path = tmp_path / "x.bin"
    path.write_bytes(b"not audio")
    with pytest.raises(AudioError, match="is not a FLAC, Opus or MP3 file"):
        measure_file(path)


def test_hash_collisions_name_every_file_that_shares_its_bytes():
    from evaluation.stimuli.audit import HashCollision, hash_collisions

    served = [("s1", "aa"), ("s2", "bb"), ("s3", "aa"), ("s4", "cc"), ("s5", "aa"), ("s6", "bb")]
    assert hash_collisions(served) == [
        HashCollision(sha256="aa", stimuli=("s1", "s3", "s5")),
        HashCollision(sha256="bb", stimuli=("s2", "s6")),
    ]
    assert hash_collisions([("s1", "aa"), ("s2", "bb")]) == []

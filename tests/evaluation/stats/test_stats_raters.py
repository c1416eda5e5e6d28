"""Rater quality: Krippendorff's alpha against the krippendorff package, catch trials,
hidden repeats and position bias."""

import krippendorff
import numpy as np
import pandas as pd
import pytest

from evaluation.stats.intervals import binomial_p_value
from evaluation.stats.raters import krippendorff_alpha_nominal, rater_summary
from evaluation.stats.responses import normalize_responses


def counts_from_reliability(data):
    """[raters, units] with NaN for missing -> [units, values] counts of values 0, 1, 2."""
    counts = np.zeros((data.shape[1], 3))
    for unit in range(data.shape[1]):
        for value in data[:, unit]:
            if not np.isnan(value):
                counts[unit, int(value)] += 1
    return counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_matches_the_krippendorff_package_with_missing_ratings(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, 40)
    data = np.where(rng.random((6, 40)) < 0.7, truth, rng.integers(0, 3, (6, 40))).astype(float)
    data[rng.random((6, 40)) < 0.3] = np.nan

    ours = krippendorff_alpha_nominal(counts_from_reliability(data))

    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert ours == pytest.approx(expected, abs=1e-12)


def test_alpha_is_one_for_perfect_agreement_and_undefined_without_variation():
    assert krippendorff_alpha_nominal(np.array([[3, 0, 0], [0, 2, 0]])) == 1.0
    assert krippendorff_alpha_nominal(np.array([[3, 0, 0], [2, 0, 0]])) is None
    assert krippendorff_alpha_nominal(np.array([[1, 0, 0], [0, 1, 0]])) is None


ROWS = [
    # panelist, system_a, system_b, track_a, track_b, choice, is_catch, catch_passed
    ("p1", "x", "y", "t1", "t2", "a", 0, ""),
    ("p1", "y", "x", "t2", "t1", "b", 0, ""),  # hidden repeat, consistent
    ("p1", "x", "y", "t3", "t4", "a", 0, ""),
    ("p1", "x", "x", "c1", "c2", "a", 1, 1),
    ("p2", "x", "y", "t1", "t2", "b", 0, ""),
    ("p2", "x", "y", "t1", "t2", "a", 0, ""),  # hidden repeat, inconsistent
    ("p2", "x", "y", "t3", "t4", "tie", 0, ""),
    ("p2", "x", "x", "c1", "c2", "a", 1, 0),
    ("p2", "x", "x", "c3", "c4", "b", 1, 1),
]


@pytest.fixture
def raters():
    frame = pd.DataFrame(
        ROWS,
        columns=[
            "panelist_id",
            "system_a",
            "system_b",
            "track_a",
            "track_b",
            "choice",
            "is_catch",
            "catch_passed",
        ],
    )
    return rater_summary(normalize_responses(frame.astype(str)))


def test_catch_trials_are_counted_per_panelist_and_overall(raters):
    assert raters["catch"]["n"] == 3 and raters["catch"]["passed"] == 2
    assert raters["catch"]["n_panelists_all_passed"] == 1
    panelists = {row["panelist_id"]: row for row in raters["panelists"]}
    assert panelists["p2"]["catch_pass_rate"] == 0.5 and panelists["p1"]["catch_pass_rate"] == 1.0


def test_hidden_repeats_of_the_same_tracks_measure_consistency(raters):
    assert raters["repeats"]["n"] == 2 and raters["repeats"]["consistent"] == 1
    panelists = {row["panelist_id"]: row for row in raters["panelists"]}
    assert panelists["p1"]["repeat_consistency"] == 1.0
    assert panelists["p2"]["repeat_consistency"] == 0.0


def test_position_bias_counts_decisive_choices_of_position_a(raters):
    assert raters["position"]["decisive_n"] == 5 and raters["position"]["chose_a"] == 3
    # The exact two-sided binomial test (2 x the smaller tail), as scipy's binomtest.
    assert raters["position"]["p_value"] == pytest.approx(binomial_p_value(3, 5), abs=1e-15)
    panelists = {row["panelist_id"]: row for row in raters["panelists"]}
    assert (panelists["p1"]["decisive_n"], panelists["p1"]["chose_a"]) == (3, 2)


def test_agreement_is_computed_per_pair_of_tracks(raters):
    agreement = raters["agreement"]

    assert agreement["unit"] == "the same two tracks"
    assert agreement["n_units"] == 2 and agreement["n_ratings"] == 4
    # Units t1/t2 (p1: x, p2: y) and t3/t4 (p1: x, p2: tie): all disagree.
    assert agreement["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(
            reliability_data=np.array([[0, 0], [1, 2]], dtype=float),
            level_of_measurement="nominal",
        ),
        abs=1e-12,
    )

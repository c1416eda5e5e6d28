"""Sample-size planning: the binomial formula, the design effect and the ICC estimator."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from evaluation.stats.comparisons import build_comparisons
from evaluation.stats.planning import (
    intraclass_correlation,
    panelists_needed,
    pilot_design,
    votes_needed,
)


def test_votes_needed_for_60_against_50_percent_is_the_textbook_194():
    expected = ((norm.ppf(0.975) * 0.5 + norm.ppf(0.8) * math.sqrt(0.24)) / 0.1) ** 2

    assert votes_needed(0.6) == pytest.approx(expected, abs=1e-12)
    assert math.ceil(votes_needed(0.6)) == 194


def test_the_planned_size_gives_the_score_test_80_percent_power_under_the_binomial():
    n = math.ceil(votes_needed(0.6))
    wins = np.arange(n + 1)
    rejects = np.abs(wins / n - 0.5) > norm.ppf(0.975) * math.sqrt(0.25 / n)

    power = float(binom.pmf(wins, n, 0.6)[rejects].sum())

    assert power == pytest.approx(0.8, abs=0.02)


def test_clustered_votes_multiply_the_panelists_by_the_design_effect():
    plan = panelists_needed(0.6, votes_per_panelist=5, icc=0.25)

    assert plan["design_effect"] == 2.0
    assert plan["votes"] == pytest.approx(2 * votes_needed(0.6), abs=1e-12)
    assert plan["panelists"] == math.ceil(2 * votes_needed(0.6) / 5)


def test_independent_votes_need_one_panelist_per_vote():
    plan = panelists_needed(0.6)

    assert plan["design_effect"] == 1.0 and plan["panelists"] == 194


def test_votes_needed_refuses_a_win_rate_equal_to_the_null():
    with pytest.raises(ValueError, match="differ from null_rate"):
        votes_needed(0.5)


def test_intraclass_correlation_matches_the_one_way_anova_formula_for_equal_groups():
    scores = np.array([1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1], dtype=float)
    groups = np.repeat([0, 1, 2, 3], 3)

    icc, mean_size = intraclass_correlation(scores, groups)

    means = scores.reshape(4, 3).mean(axis=1)
    between = 3 * np.sum((means - scores.mean()) ** 2) / 3
    within = np.sum((scores.reshape(4, 3) - means[:, None]) ** 2) / 8
    assert icc == pytest.approx((between - within) / (between + 2 * within), abs=1e-12)
    assert mean_size == 3.0


def test_intraclass_correlation_needs_two_groups_with_repeats():
    assert intraclass_correlation(np.array([1.0, 0.0]), np.array([0, 1])) == (None, 1.0)


def test_pilot_design_measures_votes_per_panelist_and_the_icc():
    rows = [("p1", "x", "y", "a")] * 3 + [("p2", "x", "y", "b")] * 3 + [("p3", "x", "y", "a")] * 3
    frame = pd.DataFrame(rows, columns=["panelist_id", "system_a", "system_b", "choice"])

    design = pilot_design(build_comparisons(frame))

    assert design == {"icc": 1.0, "votes_per_panelist_per_pair": 3.0}

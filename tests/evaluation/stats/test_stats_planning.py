"""Sample-size planning: the binomial formula, the design effect and the ICC estimator."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, binomtest, nct, norm, t

from evaluation.stats.comparisons import build_comparisons
from evaluation.stats.planning import (
    design_effect,
    exact_binomial_power,
    exact_binomial_votes,
    intraclass_correlation,
    panelists_needed,
    pilot_design,
    t_test_power,
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


def test_exact_power_for_70_against_50_percent_stays_above_80_percent_from_54_votes():
    plan = exact_binomial_votes(0.7)

    assert plan == {"first": 49, "stays_from": 54}
    powers = exact_binomial_power(np.arange(54, 120), 0.7)
    assert powers.min() >= 0.8
    assert exact_binomial_power(np.array([53]), 0.7)[0] < 0.8


def test_exact_power_is_the_binomial_mass_of_the_exact_tests_rejection_region():
    n = 49
    rejected = [k for k in range(n + 1) if binomtest(k, n, 0.5).pvalue <= 0.05]

    expected = float(binom.pmf(rejected, n, 0.7).sum())
    assert exact_binomial_power(np.array([n]), 0.7)[0] == pytest.approx(expected, abs=1e-12)


def test_the_design_effect_is_kish_for_equal_clusters_and_grows_with_unequal_ones():
    assert design_effect(5, 0.25) == pytest.approx(2.0, abs=1e-12)
    unequal = design_effect(np.array([1, 9, 1, 9]), 0.25)
    assert unequal == pytest.approx(5 * (0.25 + 0.75 * np.mean([1, 1 / 9, 1, 1 / 9])), abs=1e-12)
    assert unequal > design_effect(5, 0.25)


def test_the_plan_is_the_smallest_panel_whose_t_test_reaches_the_power():
    plan = panelists_needed(0.6, votes_per_panelist=5, icc=0.25, n_pairs=3)

    variance = 0.24 * (0.25 + 0.75 / 5)
    assert plan["alpha_pair"] == pytest.approx(0.05 / 3, abs=1e-15)
    assert t_test_power(plan["panelists"], 0.6, variance, 0.05 / 3) >= 0.8
    assert t_test_power(plan["panelists"] - 1, 0.6, variance, 0.05 / 3) < 0.8
    assert plan["votes_each"] == 5.0 and plan["votes"] == 5.0 * plan["panelists"]


def test_t_test_power_is_the_noncentral_t_tail_mass():
    df, nc = 29, 0.1 / math.sqrt(0.06 / 30)
    critical = t.ppf(0.975, df)
    expected = nct.sf(critical, df, nc) + nct.cdf(-critical, df, nc)

    assert t_test_power(30, 0.6, 0.06, 0.05) == pytest.approx(expected, abs=1e-15)


def test_the_plan_never_asks_for_fewer_panelists_than_a_verdict_needs():
    plan = panelists_needed(0.9, votes_per_panelist=20, icc=0.0, min_panelists=8)

    assert plan["panelists"] == 8


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

    assert design["icc"] == 1.0 and design["votes_per_panelist_per_pair"] == 3.0
    assert design["vote_counts"].tolist() == [3.0, 3.0, 3.0]

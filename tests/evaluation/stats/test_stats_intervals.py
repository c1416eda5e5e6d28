import math

import numpy as np
import pytest
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from evaluation.stats import binomial_p_value, wilson_interval, wilson_intervals
from evaluation.stats.intervals import binomial_p_values_half, clopper_pearson_interval, z_value


@pytest.mark.parametrize(
    ("successes", "n"),
    [(0, 1), (1, 1), (7, 10), (0, 25), (25, 25), (418 * 0.62, 418), (3.5, 9), (50, 100)],
)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_interval_matches_statsmodels(successes, n, confidence):
    expected = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")

    low, high = wilson_interval(successes, n, confidence)

    assert low == pytest.approx(expected[0], abs=1e-12)
    assert high == pytest.approx(expected[1], abs=1e-12)


def test_wilson_interval_of_seven_in_ten_is_the_textbook_value():
    low, high = wilson_interval(7, 10)

    assert (round(low, 4), round(high, 4)) == (0.3968, 0.8922)


def test_wilson_interval_without_trials_rules_nothing_out():
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_intervals_are_vectorised_and_agree_with_the_scalar_form():
    successes = np.array([0.0, 2.5, 9.0, 0.0])
    n = np.array([4.0, 5.0, 9.0, 0.0])

    low, high = wilson_intervals(successes, n)

    for index in range(4):
        assert (low[index], high[index]) == wilson_interval(successes[index], n[index])


def test_wilson_interval_rejects_more_successes_than_trials():
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


@pytest.mark.parametrize(("successes", "n"), [(0, 1), (7, 10), (60, 100), (3, 40), (500, 1000)])
def test_binomial_p_value_matches_scipy_binomtest(successes, n):
    assert binomial_p_value(successes, n) == binomtest(successes, n, 0.5).pvalue


def test_binomial_p_value_one_sided_and_other_null():
    assert binomial_p_value(9, 10, 0.3, "greater") == binomtest(9, 10, 0.3, "greater").pvalue


def test_binomial_p_value_without_trials_is_one():
    assert binomial_p_value(0, 0) == 1.0


def test_clopper_pearson_interval_contains_the_wilson_interval_for_small_n():
    exact = clopper_pearson_interval(7, 10)
    wilson = wilson_interval(7, 10)

    assert exact[0] < wilson[0] and wilson[1] < exact[1]


def test_z_value_of_95_percent():
    assert z_value(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert math.isclose(z_value(0.99), 2.5758293035489004)


def test_vectorised_half_p_values_equal_scipy_binomtest_for_every_count():
    n = np.repeat(np.arange(0, 41), 41)
    successes = np.tile(np.arange(0, 41), 41)
    valid = successes <= n

    ours = binomial_p_values_half(successes[valid], n[valid])

    expected = [
        binomtest(int(k), int(m)).pvalue if m else 1.0
        for k, m in zip(successes[valid], n[valid], strict=True)
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)

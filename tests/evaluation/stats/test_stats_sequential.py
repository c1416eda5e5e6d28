"""The monitor: empirical-Bernstein confidence sequences over panelists, study-wide control."""

import math

import numpy as np
import pytest

from evaluation.stats.sequential import confidence_sequence, monitor, panelist_rates


def reference_sequence(x, alpha):
    """Waudby-Smith & Ramdas (2024) Theorem 2, written as a plain loop (c = 1/2)."""
    lows, highs = [], []
    total_x = total_sq = weight = weighted = penalty = 0.0
    mean_prev, var_prev = 0.5, 0.25
    for t, value in enumerate(x, start=1):
        bet = min(math.sqrt(2 * math.log(2 / alpha) / (var_prev * t * math.log(1 + t))), 0.5)
        penalty += 4 * (value - mean_prev) ** 2 * (-math.log(1 - bet) - bet) / 4
        weight += bet
        weighted += bet * value
        centre, radius = weighted / weight, (math.log(2 / alpha) + penalty) / weight
        lows.append(max(0.0, centre - radius, lows[-1] if lows else 0.0))
        highs.append(min(1.0, centre + radius, highs[-1] if highs else 1.0))
        total_x += value
        mean_prev = (0.5 + total_x) / (t + 1)
        total_sq += (value - mean_prev) ** 2
        var_prev = (0.25 + total_sq) / (t + 1)
    return np.array(lows), np.array(highs)


def test_the_sequence_is_the_predictable_plug_in_empirical_bernstein_bound():
    x = np.random.default_rng(3).random(60)

    low, high = confidence_sequence(x, 0.05)

    expected_low, expected_high = reference_sequence(x, 0.05)
    np.testing.assert_allclose(low, expected_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, expected_high, rtol=0, atol=1e-12)


def test_low_spread_panelists_give_a_narrower_sequence_than_the_worst_case():
    rng = np.random.default_rng(1)
    tight = np.clip(0.6 + 0.05 * rng.standard_normal(200), 0, 1)
    spread = (rng.random(200) < 0.6).astype(float)

    tight_low, tight_high = confidence_sequence(tight)
    spread_low, spread_high = confidence_sequence(spread)

    assert tight_high[-1] - tight_low[-1] < 0.5 * (spread_high[-1] - spread_low[-1])


def test_looking_after_every_panelist_keeps_false_decisions_below_five_percent():
    rng = np.random.default_rng(7)
    paths, length = 1000, 300
    errors = 0
    for _ in range(paths):
        shares = rng.binomial(10, 0.5, size=length) / 10.0
        low, high = confidence_sequence(shares, 0.05)
        errors += bool(np.any((low > 0.5) | (high < 0.5)))

    assert errors / paths <= 0.05


def test_the_monitor_splits_alpha_over_the_pairs_and_names_the_side_ahead():
    ahead = np.full(40, 0.9)
    even = np.tile([0.4, 0.6], 20)

    states = monitor([ahead, even, np.zeros(0)], alpha=0.06)

    assert [state["alpha"] for state in states] == [0.02, 0.02, 0.02]
    assert [state["decided_first"] for state in states] == [True, None, None]
    assert states[2]["low"] == 0.0 and states[2]["high"] == 1.0 and states[2]["rate"] is None


def test_panelist_rates_average_each_panelists_votes_in_arrival_order():
    scores = np.array([1.0, 0.0, 0.5, 1.0, 1.0, 0.0])
    panelist = np.array([0, 0, 1, 2, 2, 1])
    pair = np.array([0, 0, 0, 0, 1, 1])
    order = np.array([5.0, 6.0, 1.0, 3.0, 0.0, 2.0])

    rates = panelist_rates(scores, panelist, pair, 2, order)

    assert [list(values) for values in rates] == [[0.5, 1.0, 0.5], [1.0, 0.0]]


def test_no_panelist_rules_nothing_out():
    low, high = confidence_sequence(np.zeros(0))

    assert low.size == 0 and high.size == 0
    assert pytest.approx(0.0) == 0.0

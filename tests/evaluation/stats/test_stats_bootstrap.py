"""The panelist bootstrap: weights, exactness of the fast paths, and coverage when listeners
cluster (the reason Earshot resamples panelists, not vote rows)."""

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.stats.bootstrap import (
    panelist_bootstrap,
    percentile_interval,
    resampling_weights,
    reweighted_counts,
)
from evaluation.stats.comparisons import build_comparisons


def votes(rows):
    """A responses frame from (panelist, system_a, system_b, choice) tuples."""
    return pd.DataFrame(rows, columns=["panelist_id", "system_a", "system_b", "choice"])


def clustered_study(rng, *, panelists=60, votes_each=20, mean_rate=0.6, concentration=2.0):
    """Each panelist has their own chance of preferring x over y, Beta-distributed around
    ``mean_rate``: with ``concentration`` 2 the intra-class correlation is 1/3."""
    own_rate = rng.beta(mean_rate * concentration, (1 - mean_rate) * concentration, panelists)
    prefers_x = rng.random((panelists, votes_each)) < own_rate[:, None]
    panelist = np.repeat([f"p{index}" for index in range(panelists)], votes_each)
    return votes(
        {
            "panelist_id": panelist,
            "system_a": "x",
            "system_b": "y",
            "choice": np.where(prefers_x.ravel(), "a", "b"),
        }
    )


def test_resampling_weights_draw_every_round_to_the_same_total():
    weights = resampling_weights(7, 500, np.random.default_rng(3))

    assert weights.shape == (500, 7)
    assert np.all(weights.sum(axis=1) == 7.0)
    assert np.all(weights >= 0) and np.all(weights == np.round(weights))
    assert weights.mean() == pytest.approx(1.0, abs=0.05)


def test_resampling_weights_draw_the_same_multiplicities_in_float32():
    wide = resampling_weights(40, 30, np.random.default_rng(5))
    narrow = resampling_weights(40, 30, np.random.default_rng(5), np.float32)
    # The multiplicities of one multinomial draw per round, counted the textbook way.
    draws = np.random.default_rng(5).integers(0, 40, size=(30, 40))
    counted = np.stack([np.bincount(row, minlength=40) for row in draws])

    assert wide.dtype == np.float64 and narrow.dtype == np.float32
    np.testing.assert_array_equal(wide, counted)
    np.testing.assert_array_equal(narrow, counted)


@pytest.mark.parametrize("n_units", [3, 5000, 300_000])
def test_resampling_weights_drawn_in_blocks_are_the_draws_of_one_call(n_units):
    # The draws are made a few rounds at a time (one round per block at 300,000 units);
    # counted from a single [rounds, units] draw they must be the same, and so must the
    # generator's state afterwards.
    rounds = 7 if n_units > 10_000 else 130
    generator = np.random.default_rng(11)
    weights = resampling_weights(n_units, rounds, generator, np.float32)
    reference = np.random.default_rng(11)
    draws = reference.integers(0, n_units, size=(rounds, n_units))
    counted = np.stack([np.bincount(row, minlength=n_units) for row in draws])

    np.testing.assert_array_equal(weights, counted)
    assert generator.random() == reference.random()


def test_reweighted_counts_in_float32_equal_the_float64_product():
    rng = np.random.default_rng(1)
    table = rng.integers(0, 40, size=(300, 12)) / 2.0
    weights = resampling_weights(300, 50, rng)

    np.testing.assert_array_equal(reweighted_counts(table, weights), weights @ table)
    np.testing.assert_array_equal(
        reweighted_counts(table, weights.astype(np.float32)), weights @ table
    )
    # Totals past float32's exact range take the float64 product, whatever the weights' type.
    large = table * 2.0**20
    np.testing.assert_array_equal(
        reweighted_counts(large, weights.astype(np.float32)), weights @ large
    )


def test_panelists_with_one_vote_each_make_the_panelist_bootstrap_a_row_bootstrap():
    rng = np.random.default_rng(2)
    frame = votes(
        [
            (f"p{index}", "x", "y", choice)
            for index, choice in enumerate(rng.choice(["a", "b", "tie"], 400))
        ]
    )
    comparisons = build_comparisons(frame)

    by_panelist = panelist_bootstrap(comparisons, n_rounds=2000, seed=0)
    by_vote = panelist_bootstrap(comparisons, n_rounds=2000, seed=1, by="vote")

    low_p, high_p = percentile_interval(by_panelist.pair_rates)
    low_v, high_v = percentile_interval(by_vote.pair_rates)
    assert low_p[0] == pytest.approx(low_v[0], abs=0.01)
    assert high_p[0] == pytest.approx(high_v[0], abs=0.01)


def test_a_bootstrap_round_that_draws_everyone_once_reproduces_the_data():
    frame = votes([("p1", "x", "y", "a"), ("p1", "y", "x", "tie"), ("p2", "x", "y", "b")])
    comparisons = build_comparisons(frame)

    result = panelist_bootstrap(comparisons, n_rounds=400, seed=5)

    # Rounds drawing p1 and p2 once each give x 1.5 of 3 votes; p1 twice 3 of 4, p2 twice 0
    # of 2. In 400 rounds each of the three happens (a quarter to a half of the rounds each).
    assert set(np.round(result.pair_rates[:, 0], 12)) == {0.5, 0.75, 0.0}
    assert result.scores.shape == (400, 2) and result.n_rounds == 400
    assert bool(np.all(result.converged))


def test_the_same_seed_gives_the_same_replicates_and_davidson_adds_nu():
    rng = np.random.default_rng(4)
    comparisons = build_comparisons(clustered_study(rng, panelists=10, votes_each=5))
    frame_ties = votes([("p1", "x", "y", "tie"), ("p2", "x", "y", "a"), ("p3", "y", "x", "a")])

    first = panelist_bootstrap(comparisons, n_rounds=50, seed=9)
    again = panelist_bootstrap(comparisons, n_rounds=50, seed=9)
    davidson = panelist_bootstrap(build_comparisons(frame_ties), n_rounds=50, ties_model="davidson")

    np.testing.assert_array_equal(first.scores, again.scores)
    assert first.tie_log_nu is None
    assert davidson.tie_log_nu.shape == (50,)


def test_progress_is_reported_for_every_round():
    comparisons = build_comparisons(votes([("p1", "x", "y", "a"), ("p2", "x", "y", "b")]))
    reported = []

    panelist_bootstrap(comparisons, n_rounds=120, progress=reported.append)

    assert sum(reported) == 120


def test_an_unknown_resampling_unit_is_refused():
    comparisons = build_comparisons(votes([("p1", "x", "y", "a")]))

    with pytest.raises(ValueError, match="by must be 'panelist' or 'vote'"):
        panelist_bootstrap(comparisons, by="prompt")


def test_panelist_intervals_cover_the_truth_with_clustered_listeners_and_row_intervals_do_not():
    rng = np.random.default_rng(2024)
    true_score = math.log(0.6 / 0.4) / 2.0  # x's log-strength when x wins 60%, mean zero
    covered = {"panelist": 0, "vote": 0}
    repetitions = 400
    for _ in range(repetitions):
        comparisons = build_comparisons(clustered_study(rng))
        for by in covered:
            result = panelist_bootstrap(comparisons, n_rounds=200, seed=rng, by=by)
            low, high = percentile_interval(result.scores)
            covered[by] += int(low[0] <= true_score <= high[0])

    panelist_coverage = covered["panelist"] / repetitions
    row_coverage = covered["vote"] / repetitions
    assert panelist_coverage >= 0.90
    assert row_coverage < 0.75
    assert row_coverage < panelist_coverage - 0.2

"""The listener-cluster helpers' linear fast paths give what numpy's sorts give."""

import numpy as np

from evaluation.stats.clusters import _by_group_then_arrival, first_occurrences, grouped_shares


def test_first_occurrences_equals_numpy_unique_index_for_small_and_wide_ranges():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 500, 3000)
    assert np.array_equal(first_occurrences(values, 500), np.unique(values, return_index=True)[1])
    wide = rng.integers(0, 10**9, 300)
    assert np.array_equal(first_occurrences(wide, 10**9), np.unique(wide, return_index=True)[1])


def test_group_then_arrival_order_equals_lexsort_for_row_numbers_times_and_ties():
    rng = np.random.default_rng(1)
    group = rng.integers(0, 12, 800)
    rows = rng.permutation(5000)[:800].astype(float)  # file order: distinct whole numbers
    seconds = rng.random(800) * 100.0  # submission times
    repeated = rng.integers(0, 50, 800).astype(float)  # whole numbers with ties
    for arrival in (rows, seconds, repeated):
        expected = np.lexsort((arrival, group))
        assert np.array_equal(_by_group_then_arrival(group, arrival), expected)


def test_grouped_shares_lists_each_pairs_panelists_by_first_vote():
    # Panelist 2 votes first on group 0, then panelist 0; panelist 1 only on group 1.
    values = np.array([1.0, 0.0, 1.0, 0.5, 0.0])
    panelist = np.array([2, 0, 1, 0, 2])
    group = np.array([0, 0, 1, 0, 0])
    order = np.arange(5, dtype=float)
    (shares_0, counts_0), (shares_1, counts_1) = grouped_shares(values, panelist, group, 2, order)
    assert shares_0.tolist() == [0.5, 0.25] and counts_0.tolist() == [2.0, 2.0]
    assert shares_1.tolist() == [1.0] and counts_1.tolist() == [1.0]


def test_cluster_difference_is_a_t_test_on_listener_means_with_the_null_floor():
    from scipy.stats import ttest_1samp

    from evaluation.stats.clusters import cluster_difference

    values = np.array([0.5, 0.1, -0.2, 0.4, 0.3, -0.1, 0.6, 0.0])
    panelists = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    means = np.array([0.3, 0.1, 0.1, 0.3])
    estimate = cluster_difference(values, np.zeros(8), panelists)
    assert estimate["rate"] == np.mean(means)
    assert estimate["p_value"] == ttest_1samp(means, 0.0).pvalue
    # A null variance larger than the listeners' spread widens the interval.
    floored = cluster_difference(values, np.full(8, 0.25), panelists)
    assert floored["high"] - floored["low"] > estimate["high"] - estimate["low"]
    assert cluster_difference(values[:2], np.zeros(2), panelists[:2])["bound"] == "none"


def test_cluster_mean_averages_listener_means_and_bounds_a_ceiling():
    from evaluation.stats.clusters import cluster_mean

    estimate = cluster_mean(np.array([5, 3, 4, 4, 2.0]), np.array(["a", "a", "b", "b", "c"]))
    assert estimate["mean"] == (4 + 4 + 2) / 3 and estimate["bound"] == "two_sided"
    assert estimate["n"] == 5 and estimate["n_panelists"] == 3
    top = cluster_mean(np.full(6, 5.0), np.arange(6).astype(str))
    assert top["bound"] == "lower" and top["high"] == 5.0
    assert abs(top["low"] - (1.0 + 4.0 * 0.025 ** (1 / 6))) < 1e-12
    bottom = cluster_mean(np.ones(6), np.arange(6).astype(str))
    assert bottom["bound"] == "upper" and bottom["low"] == 1.0
    assert cluster_mean(np.array([3.0]), np.array(["a"]))["bound"] == "none"


def test_paired_mean_difference_uses_listeners_who_rated_both_and_the_sign_test_when_flat():
    from scipy.stats import ttest_rel

    from evaluation.stats.clusters import cluster_mean, paired_mean_difference

    x = cluster_mean(np.array([5, 4, 5, 3.0]), np.array(["a", "b", "c", "d"]))
    y = cluster_mean(np.array([3, 3, 4, 3, 1.0]), np.array(["a", "b", "c", "d", "e"]))
    result = paired_mean_difference(x, y, ["a", "b", "c", "d"], ["a", "b", "c", "d", "e"], 0.0)
    assert result["n_panelists"] == 4 and result["difference"] == 1.0
    assert result["p_value"] == ttest_rel([5, 4, 5, 3], [3, 3, 4, 3]).pvalue
    flat_x = cluster_mean(np.full(5, 5.0), np.arange(5).astype(str))
    flat_y = cluster_mean(np.full(5, 4.0), np.arange(5).astype(str))
    ids = np.arange(5).astype(str)
    sign = paired_mean_difference(flat_x, flat_y, ids, ids, 0.0)
    assert sign["p_value"] == 2 * 0.5**5 and sign["bound"] == "none"

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

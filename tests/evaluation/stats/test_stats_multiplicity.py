"""Holm and Benjamini-Hochberg adjustments against statsmodels."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from evaluation.stats.multiplicity import benjamini_hochberg, holm

P_VALUES = np.array([0.01, 0.04, 0.03, 0.2, 0.001, 0.04, 0.9, 0.0005])


@pytest.mark.parametrize(("ours", "method"), [(holm, "holm"), (benjamini_hochberg, "fdr_bh")])
def test_adjusted_p_values_match_statsmodels(ours, method):
    np.testing.assert_allclose(
        ours(P_VALUES), multipletests(P_VALUES, method=method)[1], atol=1e-15
    )


def test_holm_multiplies_the_smallest_p_value_by_the_number_of_tests():
    assert holm(np.array([0.01, 0.02, 0.5])).tolist() == pytest.approx([0.03, 0.04, 0.5])


def test_benjamini_hochberg_of_two_equal_p_values_keeps_them():
    assert benjamini_hochberg(np.array([0.02, 0.02])).tolist() == [0.02, 0.02]


def test_adjusted_p_values_never_pass_one_and_keep_the_input_order():
    adjusted = holm(np.array([0.6, 0.001, 0.7]))

    assert adjusted.tolist() == pytest.approx([1.0, 0.003, 1.0])


def test_no_tests_give_no_adjusted_p_values():
    assert holm(np.array([])).size == 0 and benjamini_hochberg(np.array([])).size == 0

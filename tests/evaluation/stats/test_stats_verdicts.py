"""The one verdict rule: Holm across a family, too little data below the minimum listeners."""

import numpy as np

from evaluation.stats.multiplicity import holm
from evaluation.stats.verdicts import pair_verdicts, section_verdicts


def test_section_verdicts_apply_holm_across_the_family_and_the_minimum_listeners():
    effects = np.array([0.2, -0.3, 0.1, np.nan])
    p_values = np.array([0.01, 0.012, 0.5, 0.001])
    counts = np.array([10, 10, 10, 10])
    verdicts, adjusted = section_verdicts(
        effects, p_values, counts, labels=("up", "down", "neither"), min_panelists=8
    )
    assert np.allclose(adjusted, holm(p_values))
    assert verdicts == ["up", "down", "neither", "too_little_data"]  # NaN effect: no data
    few, _ = section_verdicts(
        effects, p_values, np.array([7, 10, 10, 10]), labels=("up", "down", "neither")
    )
    assert few[0] == "too_little_data"


def test_section_verdicts_agree_with_the_pair_verdicts_on_shares():
    rates = np.array([0.7, 0.3, 0.55])
    p_values = np.array([0.001, 0.02, 0.3])
    counts = np.array([9, 9, 9])
    pairs, pair_p = pair_verdicts(rates, p_values, counts)
    section, section_p = section_verdicts(
        rates - 0.5,
        p_values,
        counts,
        labels=("prefers_a", "prefers_b", "no_clear_preference"),
    )
    assert pairs == section and np.allclose(pair_p, section_p)

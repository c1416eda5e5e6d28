"""The one verdict rule for a comparison, used by every consumer (CLI, JSON, API, results page,
report): a panelist-level test, Holm-adjusted across all pairs of the study.

For each pair: the t-test of :mod:`evaluation.stats.clusters` on the per-panelist win shares
(each listener weighted equally) gives a p-value; Holm's step-down method adjusts the p-values
of *all* pairs of the study together (family-wise error: the chance of any false "clear
preference" in the study stays at most ``alpha``). A pair rated by fewer than
``min_panelists`` panelists gets ``too_little_data`` whatever its p-value.
"""

from __future__ import annotations

import numpy as np

from .defaults import DEFAULT_MIN_PANELISTS
from .multiplicity import holm

PREFERS_A = "prefers_a"
PREFERS_B = "prefers_b"
NO_CLEAR_PREFERENCE = "no_clear_preference"
TOO_LITTLE_DATA = "too_little_data"
VERDICTS = (PREFERS_A, PREFERS_B, NO_CLEAR_PREFERENCE, TOO_LITTLE_DATA)


VERDICT_METHOD = (
    "t-test on per-panelist win shares (each listener weighted equally), "
    "Holm-adjusted across all pairs of the study"
)


def pair_verdicts(
    rates: np.ndarray,
    p_values: np.ndarray,
    n_panelists: np.ndarray,
    *,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
    alpha: float = 0.05,
) -> tuple[list[str], np.ndarray]:
    """Verdict and Holm-adjusted p-value of every pair (all arrays ``[n_pairs]``).

    ``rates``: panelist-averaged win share of each pair's first system (NaN without votes);
    ``p_values``: the pair's panelist-level p-value; ``n_panelists``: panelists who rated it.
    Returns ``(verdicts, adjusted)``: one of :data:`VERDICTS` per pair and the adjusted p.
    """
    p_values = np.where(np.isfinite(p_values), p_values, 1.0)
    adjusted = holm(p_values)
    verdicts = []
    for rate, p_adjusted, count in zip(rates, adjusted, n_panelists, strict=True):
        if count < min_panelists:
            verdicts.append(TOO_LITTLE_DATA)
        elif p_adjusted < alpha and rate > 0.5:
            verdicts.append(PREFERS_A)
        elif p_adjusted < alpha and rate < 0.5:
            verdicts.append(PREFERS_B)
        else:
            verdicts.append(NO_CLEAR_PREFERENCE)
    return verdicts, adjusted


def chance_verdict(
    rate: float | None, p_value: float, n_panelists: int, *, min_panelists: int, alpha: float = 0.05
) -> str:
    """Verdict of a single rate against chance (AI identification): ``better_than_chance``,
    ``worse_than_chance``, ``not_distinguishable_from_chance`` or ``too_little_data``."""
    if rate is None or n_panelists < min_panelists:
        return TOO_LITTLE_DATA
    if p_value < alpha:
        return "better_than_chance" if rate > 0.5 else "worse_than_chance"
    return "not_distinguishable_from_chance"


def section_verdicts(
    effects: np.ndarray,
    p_values: np.ndarray,
    n_panelists: np.ndarray,
    *,
    labels: tuple[str, str, str],
    min_panelists: int = DEFAULT_MIN_PANELISTS,
    alpha: float = 0.05,
) -> tuple[list[str], np.ndarray]:
    """The verdict rule of :func:`pair_verdicts` for any family of tests (all the comparisons
    of one summary section): Holm across the whole family, ``too_little_data`` below
    ``min_panelists`` listeners.

    ``effects``: ``[k]`` signed effect (difference from the null; NaN without data);
    ``p_values``: ``[k]`` two-sided (or one-sided, for a one-sided family) panelist-level
    p-values; ``labels``: the verdicts for (positive effect, negative effect, neither).
    Returns ``(verdicts, holm_adjusted_p)``.
    """
    effects = np.asarray(effects, dtype=float)
    p_values = np.asarray(p_values, dtype=float)
    p_values = np.where(np.isfinite(p_values), p_values, 1.0)
    adjusted = holm(p_values)
    positive, negative, neither = labels
    verdicts = []
    for effect, p_adjusted, count in zip(effects, adjusted, n_panelists, strict=True):
        if count < min_panelists or not np.isfinite(effect):
            verdicts.append(TOO_LITTLE_DATA)
        elif p_adjusted < alpha and effect > 0:
            verdicts.append(positive)
        elif p_adjusted < alpha and effect < 0:
            verdicts.append(negative)
        else:
            verdicts.append(neither)
    return verdicts, adjusted

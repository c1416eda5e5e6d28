"""Anytime-valid monitoring: confidence sequences for each pair's win rate.

A 95% confidence *interval* is only valid if it is looked at once, at a sample size fixed in
advance; recomputing it every day and stopping as soon as it excludes 50% makes false
"decided" calls far more likely than 5%. A 95% confidence *sequence* holds at every sample
size simultaneously: with probability at least 95% it contains the true value at all looks,
so a researcher may watch it daily and stop the moment it excludes 50%.

Earshot's sequence is the two-sided normal-mixture boundary of Howard, Ramdas, McAuliffe &
Sekhon (2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist.)
for observations bounded in [0, 1] (sub-Gaussian with variance proxy 1/4).

The observations are *panelists*, not votes: each panelist who rated a pair contributes their
own win rate for it (ties half), in the order panelists arrived. Panelists arrive
independently; votes of one panelist do not, so a sequence over votes would not be valid.
The target is therefore the panelist-averaged win rate (equal to the vote win rate when every
panelist casts the same number of votes on the pair).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

SUB_GAUSSIAN_VARIANCE = 0.25
"""Variance proxy of a [0, 1]-bounded observation (Hoeffding)."""

PLANNED_PANELISTS = 100
"""Sample size at which the boundary is tightest; any other size stays valid."""


def mixture_precision(alpha: float = 0.05, planned_n: int = PLANNED_PANELISTS) -> float:
    """Mixture parameter ``rho`` that makes the boundary tightest at ``planned_n`` observations."""
    intrinsic_time = SUB_GAUSSIAN_VARIANCE * planned_n

    def boundary(log_rho: float) -> float:
        return _boundary(intrinsic_time, math.exp(log_rho), alpha)

    best = minimize_scalar(boundary, bounds=(-10.0, 10.0), method="bounded")
    return float(math.exp(best.x))


def _boundary(intrinsic_time: float, rho: float, alpha: float) -> float:
    """Two-sided normal-mixture boundary on the centred sum (each side at level alpha / 2)."""
    total = intrinsic_time + rho
    return math.sqrt(2.0 * total * math.log(2.0 / alpha * math.sqrt(total / rho)))


def confidence_sequence_radius(
    n: int, alpha: float = 0.05, planned_n: int = PLANNED_PANELISTS
) -> float:
    """Half-width of the confidence sequence for a mean after ``n`` observations in [0, 1]."""
    if n <= 0:
        return math.inf
    rho = mixture_precision(alpha, planned_n)
    return _boundary(SUB_GAUSSIAN_VARIANCE * n, rho, alpha) / n


def confidence_sequence(
    observations: np.ndarray, alpha: float = 0.05, planned_n: int = PLANNED_PANELISTS
) -> tuple[np.ndarray, np.ndarray]:
    """Running confidence sequence for the mean of ``observations`` (``[n]``, each in [0, 1],
    in arrival order). Returns ``(low, high)``, each ``[n]``: the bounds after 1, 2, ... n
    observations, clipped to [0, 1]."""
    values = np.asarray(observations, dtype=float)
    n = np.arange(1, values.size + 1)
    mean = np.cumsum(values) / n
    rho = mixture_precision(alpha, planned_n)
    total = SUB_GAUSSIAN_VARIANCE * n + rho
    radius = np.sqrt(2.0 * total * np.log(2.0 / alpha * np.sqrt(total / rho))) / n
    return np.clip(mean - radius, 0.0, 1.0), np.clip(mean + radius, 0.0, 1.0)


def panelist_rates(
    scores: np.ndarray, panelist: np.ndarray, pair: np.ndarray, n_pairs: int, order: np.ndarray
) -> list[np.ndarray]:
    """Per pair, each panelist's own win rate for the pair's first system, in arrival order.

    ``scores``: ``[n_votes]`` outcome for the first system (1, 0.5, 0); ``panelist``, ``pair``:
    ``[n_votes]`` codes; ``order``: ``[n_votes]`` sortable arrival key (e.g. submission time as
    a number). A panelist's place in a pair's sequence is their first vote on it.
    """
    cell = panelist.astype(np.int64) * n_pairs + pair
    cells, inverse = np.unique(cell, return_inverse=True)
    totals = np.bincount(inverse, weights=scores)
    counts = np.bincount(inverse)
    arrival = np.full(cells.size, np.inf)
    np.minimum.at(arrival, inverse, np.asarray(order, dtype=float))
    cell_pair = cells % n_pairs
    ordered = np.lexsort((arrival, cell_pair))
    rates = totals[ordered] / counts[ordered]
    bounds = np.searchsorted(cell_pair[ordered], np.arange(n_pairs + 1))
    return [rates[bounds[k] : bounds[k + 1]] for k in range(n_pairs)]

"""Sample-size planning for the test the report runs: how many panelists × votes each.

The report decides a pair by a t-test on per-panelist win shares (each listener weighted
equally), Holm-adjusted across the study's ``K`` pairs (:mod:`evaluation.stats.verdicts`).
The planner sizes exactly that test, at the per-pair level ``α / K`` (the first Holm step, so
the plan holds for any pair, whatever the others show):

- a panelist who casts ``m`` votes on a pair whose votes share an intra-class correlation
  ``ρ`` has a share with variance ``p (1 - p) (ρ + (1 - ρ) / m)``; averaged over panelists with
  *unequal* vote counts that is ``p (1 - p) (ρ + (1 - ρ) E[1 / m])``, so the design effect of the
  panelist-averaged rate against ``G · m̄`` independent votes is
  ``deff = m̄ (ρ + (1 - ρ) E[1 / m])`` (``1 + (m - 1) ρ`` when every ``m`` is equal, Kish 1965);
- power with ``G`` panelists is the exact power of the two-sided t-test with ``G - 1`` degrees
  of freedom (non-central t, non-centrality ``(p - 1/2) / sqrt(var / G)``), and the plan is the
  smallest ``G`` (at least the study's minimum) with power at least the target.

For independent votes (one per panelist) the reference is the *exact* binomial test:
:func:`exact_binomial_votes` is the smallest ``n`` from which the exact test's power stays at
or above the target for every larger ``n`` (its power saw-tooths in ``n``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from scipy import special

from .comparisons import Comparisons
from .distributions import binom_cdf, binom_sf, nct_cdf, norm_ppf, t_ppf


def votes_needed(
    win_rate: float, *, null_rate: float = 0.5, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Normal-approximation votes for a two-sided test of ``null_rate`` (Fleiss, Levin & Paik):
    ``n = ((z_{1-a/2} sqrt(p0 q0) + z_{power} sqrt(p1 q1)) / (p1 - p0))^2``; a reference only,
    :func:`exact_binomial_votes` is what the planner reports."""
    if not 0.0 < win_rate < 1.0 or win_rate == null_rate:
        raise ValueError("win_rate must lie in (0, 1) and differ from null_rate")
    z_alpha = norm_ppf(1.0 - alpha / 2.0)
    z_power = norm_ppf(power)
    spread = z_alpha * math.sqrt(null_rate * (1.0 - null_rate)) + z_power * math.sqrt(
        win_rate * (1.0 - win_rate)
    )
    return (spread / (win_rate - null_rate)) ** 2


def exact_binomial_power(n: np.ndarray, win_rate: float, alpha: float = 0.05) -> np.ndarray:
    """Power ``[len(n)]`` of the exact two-sided binomial test of 1/2 (scipy's ``binomtest``
    p-value ≤ ``alpha``) with ``n`` independent votes when the true rate is ``win_rate``.

    With a null of 1/2 the test rejects exactly when ``min(k, n - k) ≤ c_n``, ``c_n`` the
    largest count whose lower tail is at most ``alpha / 2``; so the power is
    ``P(K ≤ c_n) + P(K ≥ n - c_n)`` for ``K ~ Binomial(n, win_rate)``, all ``n`` at once.
    """
    n = np.asarray(n, dtype=float)
    # The continuous inverse of the binomial distribution function, then the whole count.
    guess = np.floor(np.nan_to_num(special.bdtrik(alpha / 2.0, n, 0.5), nan=-1.0))
    critical = guess + 1.0
    for _ in range(3):
        critical = np.where(binom_cdf(critical, n, 0.5) <= alpha / 2.0, critical, critical - 1.0)
    lower = np.where(critical >= 0, binom_cdf(critical, n, win_rate), 0.0)
    upper = np.where(critical >= 0, binom_sf(n - critical - 1.0, n, win_rate), 0.0)
    # 2 c_n >= n would reject an even split, whose p-value is 1: never the case for alpha < 1.
    return lower + upper


@functools.lru_cache(maxsize=256)
def exact_binomial_votes(
    win_rate: float, *, alpha: float = 0.05, power: float = 0.8
) -> dict[str, int]:
    """Independent votes for the exact two-sided binomial test: ``{"first", "stays_from"}``,
    the first ``n`` whose power reaches ``power`` and the smallest from which it stays there
    (checked up to twice the normal-approximation size plus 50)."""
    horizon = int(2 * votes_needed(win_rate, alpha=alpha, power=power)) + 50
    sizes = np.arange(1, horizon + 1)
    enough = exact_binomial_power(sizes, win_rate, alpha) >= power
    if not enough.any():
        raise ValueError(f"power {power} is not reached within {horizon} votes")
    first = int(sizes[np.argmax(enough)])
    failing = np.flatnonzero(~enough)
    stays = int(sizes[failing[-1] + 1]) if failing.size else 1
    return {"first": first, "stays_from": stays}


def design_effect(votes_per_panelist: np.ndarray | float, icc: float) -> float:
    """Design effect of the panelist-averaged rate: ``m̄ (ρ + (1 - ρ) E[1/m])`` over the
    panelists' vote counts ``m`` (``[G]`` or one number); ``1 + (m - 1) ρ`` for equal ``m``."""
    counts = np.maximum(np.atleast_1d(np.asarray(votes_per_panelist, dtype=float)), 1.0)
    icc = min(max(icc, 0.0), 1.0)
    return float(counts.mean() * (icc + (1.0 - icc) * np.mean(1.0 / counts)))


def t_test_power(panelists: int, win_rate: float, share_variance: float, alpha: float) -> float:
    """Exact power of the two-sided one-sample t-test of 1/2 on ``panelists`` shares whose
    variance is ``share_variance`` (non-central t)."""
    if panelists < 2:
        return 0.0
    df = panelists - 1
    noncentrality = (win_rate - 0.5) / math.sqrt(share_variance / panelists)
    critical = t_ppf(1.0 - alpha / 2.0, df)
    return float(1.0 - nct_cdf(critical, df, noncentrality) + nct_cdf(-critical, df, noncentrality))


def panelists_needed(
    win_rate: float,
    *,
    votes_per_panelist: np.ndarray | float = 1.0,
    icc: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    n_pairs: int = 1,
    min_panelists: int = 2,
) -> dict[str, Any]:
    """Panelists (each casting ``votes_per_panelist`` votes on the pair, one number or the
    ``[G]`` counts of a pilot) for the report's t-test to call ``win_rate`` against 1/2 with
    ``power``, at the per-pair level ``alpha / n_pairs``.

    Returns ``{"panelists", "votes_each", "votes", "power", "design_effect", "alpha_pair"}``.
    """
    if not 0.0 < win_rate < 1.0 or win_rate == 0.5:
        raise ValueError("win_rate must lie in (0, 1) and differ from 0.5")
    counts = np.maximum(np.atleast_1d(np.asarray(votes_per_panelist, dtype=float)), 1.0)
    icc = min(max(icc, 0.0), 1.0)
    share_variance = (
        win_rate * (1.0 - win_rate) * (icc + (1.0 - icc) * float(np.mean(1.0 / counts)))
    )
    level = alpha / max(n_pairs, 1)

    def enough(size: int) -> bool:
        return t_test_power(size, win_rate, share_variance, level) >= power

    # Power grows with the panel: double until enough, then bisect to the smallest.
    low = high = max(2, min_panelists)
    while not enough(high):
        low, high = high + 1, 2 * high
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle + 1, high)
    size = high
    return {
        "panelists": size,
        "votes_each": float(counts.mean()),
        "votes": float(size * counts.mean()),
        "power": t_test_power(size, win_rate, share_variance, level),
        "design_effect": design_effect(counts, icc),
        "alpha_pair": level,
    }


def intraclass_correlation(scores: np.ndarray, groups: np.ndarray) -> tuple[float | None, float]:
    """One-way ANOVA intra-class correlation of ``scores`` ``[n]`` within ``groups`` ``[n]``.

    Uses the unequal-group-size estimator (Donner 1986, n0 adjustment). Returns
    ``(icc or None, mean group size)``; None when it cannot be estimated (fewer than two
    groups, or no group with two scores). Clipped at 0 below (a negative estimate means no
    detectable clustering).
    """
    scores = np.asarray(scores, dtype=float)
    _, codes = np.unique(groups, return_inverse=True)
    sizes = np.bincount(codes).astype(float)
    sums = np.bincount(codes, weights=scores)
    squares = np.bincount(codes, weights=scores**2)
    icc = _anova_icc(sizes, sums, squares)
    return icc, (scores.size / sizes.size if sizes.size else 0.0)


def _anova_icc(sizes: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> float | None:
    """:func:`intraclass_correlation` from per-group sizes, sums and sums of squares."""
    n, g = float(sizes.sum()), sizes.size
    if g < 2 or n <= g:
        return None
    group_means = sums / sizes
    grand = sums.sum() / n
    between = np.sum(sizes * (group_means - grand) ** 2) / (g - 1)
    within = (np.sum(squares) - np.sum(sizes * group_means**2)) / (n - g)
    n0 = (n - np.sum(sizes**2) / n) / (g - 1)
    denominator = between + (n0 - 1.0) * within
    if denominator <= 0:
        return None
    return float(max(0.0, (between - within) / denominator))


def pilot_design(comparisons: Comparisons) -> dict[str, Any]:
    """What a pilot measured: votes per panelist per pair (``votes_per_panelist_per_pair``,
    the mean; ``vote_counts``, every panelist-pair count ``[cells]``) and the pooled
    intra-class correlation (per pair, groups = panelists, pooled weighting each pair by its
    votes; None when no panelist voted twice on a pair)."""
    k = comparisons.n_pairs
    scores = comparisons.first_score
    if comparisons.n_votes == 0:
        return {"icc": None, "votes_per_panelist_per_pair": 1.0, "vote_counts": np.ones(1)}
    cells, inverse = comparisons.panelist_pair_cells
    sizes = np.bincount(inverse).astype(float)
    sums = np.bincount(inverse, weights=scores)
    squares = np.bincount(inverse, weights=scores**2)
    cell_pair = cells % k
    order = np.argsort(cell_pair, kind="stable")
    bounds = np.searchsorted(cell_pair[order], np.arange(k + 1))
    estimates, weights = [], []
    for pair in range(k):
        rows = order[bounds[pair] : bounds[pair + 1]]
        icc = _anova_icc(sizes[rows], sums[rows], squares[rows])
        if icc is not None:
            estimates.append(icc)
            weights.append(float(sizes[rows].sum()))
    votes_per_panelist = float(sizes.mean())
    icc = float(np.average(estimates, weights=weights)) if estimates else None
    return {"icc": icc, "votes_per_panelist_per_pair": votes_per_panelist, "vote_counts": sizes}

"""Sample-size planning: how many panelists a study needs, given how listeners cluster.

Votes from one panelist are correlated, so ``k`` votes from one person are worth less than
``k`` votes from ``k`` people. With ``m`` votes per panelist on a pair and an intra-class
correlation ``icc`` between a panelist's votes, the variance of the win rate grows by the
*design effect* ``1 + (m - 1) * icc`` (Kish 1965). The planner sizes the study for a plain
binomial test and multiplies by the design effect.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from .comparisons import Comparisons


def votes_needed(
    win_rate: float, *, null_rate: float = 0.5, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Independent votes for a two-sided test of ``null_rate`` to detect ``win_rate``.

    Normal approximation to the binomial test (Fleiss, Levin & Paik, *Statistical Methods for
    Rates and Proportions*): ``n = ((z_{1-a/2} sqrt(p0 q0) + z_{power} sqrt(p1 q1)) / (p1 - p0))^2``.
    """
    if not 0.0 < win_rate < 1.0 or win_rate == null_rate:
        raise ValueError("win_rate must lie in (0, 1) and differ from null_rate")
    z_alpha = stats.norm.ppf(1.0 - alpha / 2.0)
    z_power = stats.norm.ppf(power)
    spread = z_alpha * math.sqrt(null_rate * (1.0 - null_rate)) + z_power * math.sqrt(
        win_rate * (1.0 - win_rate)
    )
    return (spread / (win_rate - null_rate)) ** 2


def panelists_needed(
    win_rate: float,
    *,
    votes_per_panelist: float = 1.0,
    icc: float = 0.0,
    null_rate: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, float | int]:
    """Panelists needed to detect ``win_rate`` on one pair with the given power.

    ``votes_per_panelist``: votes each panelist casts on that pair (``m``); ``icc``: intra-
    class correlation of one panelist's votes on it (0 = independent, 1 = always the same).
    Returns ``{"votes_srs", "design_effect", "votes", "panelists"}``: independent votes
    needed, the design effect, votes needed with clustering, and panelists (rounded up).
    """
    simple = votes_needed(win_rate, null_rate=null_rate, alpha=alpha, power=power)
    design_effect = 1.0 + (max(votes_per_panelist, 1.0) - 1.0) * min(max(icc, 0.0), 1.0)
    votes = simple * design_effect
    return {
        "votes_srs": simple,
        "design_effect": design_effect,
        "votes": votes,
        "panelists": int(math.ceil(votes / max(votes_per_panelist, 1.0))),
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
    n, g = scores.size, sizes.size
    mean_size = n / g if g else 0.0
    if g < 2 or n <= g:
        return None, mean_size
    group_means = np.bincount(codes, weights=scores) / sizes
    grand = scores.mean()
    between = np.sum(sizes * (group_means - grand) ** 2) / (g - 1)
    within = np.sum((scores - group_means[codes]) ** 2) / (n - g)
    n0 = (n - np.sum(sizes**2) / n) / (g - 1)
    denominator = between + (n0 - 1.0) * within
    if denominator <= 0:
        return None, mean_size
    return float(max(0.0, (between - within) / denominator)), mean_size


def pilot_design(comparisons: Comparisons) -> dict[str, Any]:
    """Votes per panelist per pair and the pooled intra-class correlation, from pilot votes.

    The ICC is estimated per pair (groups = panelists) and pooled weighting each pair by its
    votes; it is None when no panelist voted twice on a pair (the design effect is then 1 for
    the pair win rates, whatever the ICC).
    """
    scores = comparisons.first_score
    estimates, weights, sizes = [], [], []
    for k in range(comparisons.n_pairs):
        mine = comparisons.pair == k
        icc, mean_size = intraclass_correlation(scores[mine], comparisons.panelist[mine])
        sizes.append((mean_size, int(mine.sum())))
        if icc is not None:
            estimates.append(icc)
            weights.append(int(mine.sum()))
    total = sum(n for _, n in sizes)
    votes_per_panelist = sum(size * n for size, n in sizes) / total if total else 1.0
    icc = float(np.average(estimates, weights=weights)) if estimates else None
    return {"icc": icc, "votes_per_panelist_per_pair": votes_per_panelist}

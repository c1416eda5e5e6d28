"""The system ranking: Bradley-Terry (or Davidson) scores with panelist-bootstrap intervals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .bootstrap import BootstrapResult, panelist_bootstrap, percentile_interval
from .bradley_terry import BOOTSTRAP_RIDGE, ELO_ORIGIN, ELO_SCALE, fit_bradley_terry
from .clusters import cluster_estimate, grouped_shares
from .comparisons import FIRST_WINS, SECOND_WINS, TIE, Comparisons, pair_counts
from .defaults import TIES_MODELS
from .verdicts import DEFAULT_MIN_PANELISTS


def ranks(scores: np.ndarray) -> np.ndarray:
    """Competition ranks (1 = best; equal scores share a rank) along the last axis.

    ``scores``: ``[..., n_systems]`` -> int array of the same shape.
    """
    scores = np.asarray(scores)
    return 1 + np.sum(scores[..., None, :] > scores[..., :, None], axis=-1)


def system_ranking(
    comparisons: Comparisons,
    *,
    ties: str = "half",
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any], BootstrapResult | None]:
    """Fit the ranking and bootstrap it over panelists.

    Returns ``(systems, ranking_meta, bootstrap)``: one dict per system sorted by rank
    (``system, score, ci_low, ci_high, elo, elo_low, elo_high, rank, rank_low, rank_high,
    votes, wins, losses, ties``), a dict describing the fit, and the bootstrap replicates
    (None when ``n_bootstrap == 0``); ``progress`` is passed to the bootstrap. Scores are
    natural-log strengths with mean zero; ``elo = 400 / ln(10) * score + 1000``.

    Degenerate data get bounds, not values set by the fit's ridge penalty: a system that never
    won (no win, no tie) has ``score``, ``ci_low``, ``elo`` and ``elo_low`` None and
    ``bound = "upper"``: ``elo_high`` is the Elo at which it would win the one-sided upper
    cluster bound of its (zero) win share against its opponents' vote-weighted mean Elo; a
    system that never lost is the mirror image (``bound = "lower"``). With fewer than
    ``min_panelists`` panelists the ranking's ``status`` is ``too_little_data`` and no rank
    range is given.
    """
    if ties not in TIES_MODELS:
        raise ValueError(f"ties must be one of {TIES_MODELS}, not {ties!r}")
    m = comparisons.n_systems
    counts = pair_counts(comparisons)
    fit = fit_bradley_terry(
        counts["wins_first"],
        counts["wins_second"],
        counts["ties"],
        comparisons.pair_first,
        comparisons.pair_second,
        m,
        ties_model=ties,
    )
    bootstrap = None
    if n_bootstrap > 0 and comparisons.n_votes:
        bootstrap = panelist_bootstrap(
            comparisons,
            n_rounds=n_bootstrap,
            seed=seed,
            ties_model=ties,
            progress=progress,
            initial_scores=fit.scores,
            initial_log_nu=None if fit.tie_log_nu is None else float(fit.tie_log_nu),
        )
    point_rank = ranks(fit.scores)
    if bootstrap is not None:
        low, high = percentile_interval(bootstrap.scores, confidence)
        tail = (1.0 - confidence) / 2.0
        boot_ranks = ranks(bootstrap.scores)
        rank_low = np.quantile(boot_ranks, tail, axis=0, method="inverted_cdf")
        rank_high = np.quantile(boot_ranks, 1.0 - tail, axis=0, method="inverted_cdf")
    else:
        low = high = np.full(m, np.nan)
        rank_low = rank_high = np.full(m, None)
    enough = comparisons.n_panelists >= min_panelists
    if not enough:
        rank_low = rank_high = np.full(m, None)
    votes = np.bincount(comparisons.first, minlength=m) + np.bincount(
        comparisons.second, minlength=m
    )
    wins = np.bincount(
        comparisons.first[comparisons.outcome == FIRST_WINS], minlength=m
    ) + np.bincount(comparisons.second[comparisons.outcome == SECOND_WINS], minlength=m)
    tie_votes = np.bincount(comparisons.first[comparisons.outcome == TIE], minlength=m)
    tie_votes = tie_votes + np.bincount(comparisons.second[comparisons.outcome == TIE], minlength=m)
    bounds = _one_sided_bounds(comparisons, fit.scores, wins, votes - wins - tie_votes, confidence)
    systems = []
    for index in np.lexsort((np.arange(m), point_rank)):
        entry = {
            "system": comparisons.systems[index],
            "score": float(fit.scores[index]),
            "ci_low": float(low[index]),
            "ci_high": float(high[index]),
            "elo": ELO_SCALE * float(fit.scores[index]) + ELO_ORIGIN,
            "elo_low": ELO_SCALE * float(low[index]) + ELO_ORIGIN,
            "elo_high": ELO_SCALE * float(high[index]) + ELO_ORIGIN,
            "rank": int(point_rank[index]),
            "rank_low": None if rank_low[index] is None else int(rank_low[index]),
            "rank_high": None if rank_high[index] is None else int(rank_high[index]),
            "votes": int(votes[index]),
            "wins": int(wins[index]),
            "losses": int(votes[index] - wins[index] - tie_votes[index]),
            "ties": int(tie_votes[index]),
            "bound": "two_sided",
        }
        if index in bounds:
            side, elo_bound = bounds[index]
            entry.update(bound=side, score=None, elo=None)
            if side == "upper":
                entry.update(ci_low=None, elo_low=None, ci_high=None, elo_high=elo_bound)
            else:
                entry.update(ci_high=None, elo_high=None, ci_low=None, elo_low=elo_bound)
        systems.append(entry)
    meta: dict[str, Any] = {
        "model": "davidson" if ties == "davidson" else "bradley-terry",
        "ties": ties,
        "scale": "natural-log strength, mean zero over systems; elo = 400 / ln(10) * score + 1000",
        "penalised": fit.ridge > 0,
        "ridge": fit.ridge,
        "converged": bool(np.all(fit.converged)),
        "n_bootstrap": int(n_bootstrap) if bootstrap is not None else 0,
        "bootstrap_resamples": "panelists",
        "bootstrap_ridge": BOOTSTRAP_RIDGE,
        "bootstrap_not_converged": (
            int(np.sum(~bootstrap.converged)) if bootstrap is not None else 0
        ),
        "seed": seed,
        "status": "ok" if enough else "too_little_data",
        "n_panelists": comparisons.n_panelists,
        "min_panelists": int(min_panelists),
        "tie_nu": None,
        "tie_nu_ci_low": None,
        "tie_nu_ci_high": None,
    }
    if fit.tie_log_nu is not None:
        meta["tie_nu"] = float(np.exp(fit.tie_log_nu))
        if bootstrap is not None and bootstrap.tie_log_nu is not None:
            nu_low, nu_high = percentile_interval(np.exp(bootstrap.tie_log_nu), confidence)
            meta["tie_nu_ci_low"], meta["tie_nu_ci_high"] = float(nu_low), float(nu_high)
    return systems, meta, bootstrap


def _one_sided_bounds(
    comparisons: Comparisons,
    scores: np.ndarray,
    wins: np.ndarray,
    losses: np.ndarray,
    confidence: float,
) -> dict[int, tuple[str, float]]:
    """``{system: ("upper" | "lower", Elo bound)}`` for systems that never won (never lost).

    The bound is the one-sided cluster bound of the system's win share over the panelists who
    heard it (:func:`evaluation.stats.clusters.cluster_estimate`), turned into Elo against the
    vote-weighted mean strength of the systems it met.
    """
    m = comparisons.n_systems
    if m < 2:
        return {}
    degenerate = [index for index in range(m) if wins[index] == 0 or losses[index] == 0]
    if not degenerate or m < 2:
        return {}
    # Each vote seen from both systems: its score for that system and the opponent's code.
    score_first = comparisons.first_score
    system = np.concatenate([comparisons.first, comparisons.second])
    opponent = np.concatenate([comparisons.second, comparisons.first])
    value = np.concatenate([score_first, 1.0 - score_first])
    panelist = np.concatenate([comparisons.panelist, comparisons.panelist])
    shares = grouped_shares(value, panelist, system, m)
    result = {}
    for index in degenerate:
        estimate = cluster_estimate(*shares[index], confidence=confidence)
        if estimate["bound"] not in ("upper", "lower"):
            continue  # ties or panelists on both sides: the fit is set by the data
        met = opponent[system == index]
        opponents = float(np.mean(scores[met]))
        side = estimate["bound"]
        share = estimate["high"] if side == "upper" else estimate["low"]
        share = min(max(share, 1e-12), 1.0 - 1e-12)
        bound = opponents + float(np.log(share / (1.0 - share)))
        result[index] = (side, ELO_SCALE * bound + ELO_ORIGIN)
    return result

"""The "decided yet?" monitor: confidence sequences over panelists, error controlled study-wide.

A 95% confidence *interval* is only valid if it is looked at once, at a sample size fixed in
advance; recomputing it after every panelist and stopping as soon as it excludes 50% makes false
"decided" calls far more likely than 5%. A confidence *sequence* holds at every sample size
simultaneously: with probability at least ``1 - α`` it contains the true value at all looks.

Earshot's sequence is the predictable plug-in empirical-Bernstein confidence sequence of
Waudby-Smith & Ramdas (2024, "Estimating means of bounded random variables by betting", JRSS-B,
Theorem 2) for observations in [0, 1]. Unlike a Hoeffding-type boundary (variance proxy 1/4,
the worst case), it adapts to the observed spread: panelists' shares that cluster near their
mean give a much narrower sequence, so a real preference is decided with far fewer panelists.

The observations are *panelists*, not votes: each panelist who rated a pair contributes their
own share of wins on it (ties half), in the order panelists arrived; the target is the
panelist-averaged win rate. Panelists arrive independently; votes of one panelist do not.

Study-wide control: with ``K`` pairs each pair's sequence is run at level ``α / K``. By the
union bound, the chance that *any* pair's sequence ever excludes its true value, at any look
after any panelist, is at most ``α``: so the chance of any false "decided" in the whole study,
however often it is watched, is at most ``α``.
"""

from __future__ import annotations

import math

import numpy as np

from .clusters import grouped_shares

TRUNCATION = 0.5
"""Largest bet ``λ`` (the paper's ``c``; 1/2 or 3/4 are its recommended choices)."""


def confidence_sequence(
    observations: np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Running empirical-Bernstein confidence sequence for the mean of ``observations``.

    ``observations``: ``[n]`` values in [0, 1] in arrival order. Returns ``(low, high)``, each
    ``[n]``: the bounds after 1, 2, ... n observations, as the running intersection (each
    bound never loosens), within [0, 1]. Valid simultaneously over all ``n`` at level
    ``1 - alpha`` (two-sided).
    """
    x = np.asarray(observations, dtype=float)
    n = x.size
    if n == 0:
        return np.zeros(0), np.zeros(0)
    t = np.arange(1, n + 1, dtype=float)
    log_term = math.log(2.0 / alpha)
    mean_hat = (0.5 + np.cumsum(x)) / (t + 1.0)
    variance_hat = (0.25 + np.cumsum((x - mean_hat) ** 2)) / (t + 1.0)
    previous_mean = np.concatenate([[0.5], mean_hat[:-1]])
    previous_variance = np.concatenate([[0.25], variance_hat[:-1]])
    bets = np.minimum(np.sqrt(2.0 * log_term / (previous_variance * t * np.log1p(t))), TRUNCATION)
    penalties = 4.0 * (x - previous_mean) ** 2 * (-np.log1p(-bets) - bets) / 4.0
    weight = np.cumsum(bets)
    centre = np.cumsum(bets * x) / weight
    radius = (log_term + np.cumsum(penalties)) / weight
    low = np.maximum.accumulate(np.clip(centre - radius, 0.0, 1.0))
    high = np.minimum.accumulate(np.clip(centre + radius, 0.0, 1.0))
    return low, high


def panelist_rates(
    scores: np.ndarray, panelist: np.ndarray, pair: np.ndarray, n_pairs: int, order: np.ndarray
) -> list[np.ndarray]:
    """Per pair, each panelist's own win rate for the pair's first system, in arrival order.

    ``scores``: ``[n_votes]`` outcome for the first system (1, 0.5, 0); ``panelist``, ``pair``:
    ``[n_votes]`` codes; ``order``: ``[n_votes]`` sortable arrival key (e.g. submission time as
    a number). A panelist's place in a pair's sequence is their first vote on it.
    """
    return [shares for shares, _ in grouped_shares(scores, panelist, pair, n_pairs, order)]


def monitor(shares: list[np.ndarray], alpha: float = 0.05) -> list[dict]:
    """The monitor's state for every pair: ``[{"low", "high", "rate", "n_panelists", "alpha",
    "decided_first"}]`` where ``decided_first`` is True (first system ahead), False (second
    ahead) or None (not decided). ``shares``: per pair, panelists' shares in arrival order.
    Each pair's sequence runs at ``alpha / len(shares)`` (study-wide control)."""
    level = alpha / max(len(shares), 1)
    states = []
    for values in shares:
        low, high = confidence_sequence(values, level)
        state = {
            "low": float(low[-1]) if values.size else 0.0,
            "high": float(high[-1]) if values.size else 1.0,
            "rate": float(values.mean()) if values.size else None,
            "n_panelists": int(values.size),
            "alpha": level,
        }
        state["decided_first"] = (
            True if state["low"] > 0.5 else False if state["high"] < 0.5 else None
        )
        states.append(state)
    return states

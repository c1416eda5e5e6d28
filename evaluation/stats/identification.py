"""Single-track "human or AI?" judgments (the Turing-style protocol of DeepBach and many
AI-music studies).

Input: one row per heard track with ``panelist_id``, ``system``, ``is_ai`` (the truth, 1/0)
and ``guess`` (``human``, ``ai`` or ``familiar``); ``expertise`` is optional. A listener who
recognises the piece ("familiar") cannot judge it blind: those answers are left out of every
rate and counted separately.

"AI" is the signal: a *hit* is an AI track called AI, a *false alarm* a human track called AI.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .clusters import cluster_share
from .detection import d_prime_yes_no
from .distributions import norm_ppf, t_ppf
from .intervals import wilson_interval
from .responses import SINGLE_TRACK_COLUMNS
from .verdicts import chance_verdict

IDENTIFICATION_COLUMNS = SINGLE_TRACK_COLUMNS


def has_identification_columns(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` holds single-track judgments (see :data:`IDENTIFICATION_COLUMNS`)."""
    return set(IDENTIFICATION_COLUMNS) <= set(frame.columns)


def identification_summary(
    judgments: pd.DataFrame, *, confidence: float = 0.95, min_panelists: int = 8
) -> dict:
    """Confusion matrix, accuracy, sensitivity, specificity, d' and criterion with intervals,
    overall, ``by_system`` and ``by_expertise``.

    ``judgments`` must be normalised (``is_ai`` as 1.0/0.0/NaN, ``guess`` in
    ``{"human", "ai", "familiar", ""}``). Rows with an unknown truth or no guess are counted
    in ``n_unscorable``. ``p_value`` is Fisher's exact test of "the guess is unrelated to the
    truth" on the 2x2 confusion matrix (answers as independent: reference only). Listener
    level (what sentences use): ``panelist_accuracy`` with ``cluster_ci_low/high`` over
    ``n_panelists`` (each panelist's own share correct, averaged), ``verdict`` against 50%
    with ``verdict_p``, and ``d_prime_cluster_low/high``, a leave-one-panelist-out jackknife t
    interval of d'.
    """
    known = judgments["is_ai"].notna() & judgments["guess"].isin(["human", "ai", "familiar"])
    scorable = judgments[known]
    result = _figures(scorable, confidence, min_panelists)
    result["n_unscorable"] = int((~known).sum())
    result["by_system"] = [
        _system_figures(str(system), rows, confidence)
        for system, rows in scorable.groupby("system", sort=True)
    ]
    # An AI system's d' compares its hit rate with the false-alarm rate on all human tracks.
    human = scorable[(scorable["is_ai"] == 0.0) & (scorable["guess"] != "familiar")]
    false_alarms, n_human = int((human["guess"] == "ai").sum()), int(len(human))
    for entry in result["by_system"]:
        if entry["is_ai"]:
            entry.update(
                d_prime_yes_no(entry["called_ai"], entry["n"], false_alarms, n_human, confidence)
            )
    result["by_expertise"] = []
    if "expertise" in scorable:
        result["by_expertise"] = [
            {"expertise": str(group) or "unknown", **_figures(rows, confidence, min_panelists)}
            for group, rows in scorable.groupby("expertise", sort=True)
        ]
    return result


def _figures(rows: pd.DataFrame, confidence: float, min_panelists: int = 8) -> dict[str, Any]:
    familiar = rows["guess"] == "familiar"
    judged = rows[~familiar]
    is_ai = judged["is_ai"].to_numpy() == 1.0
    said_ai = judged["guess"].to_numpy() == "ai"
    hits = int(np.sum(is_ai & said_ai))
    misses = int(np.sum(is_ai & ~said_ai))
    false_alarms = int(np.sum(~is_ai & said_ai))
    correct_rejections = int(np.sum(~is_ai & ~said_ai))
    n = hits + misses + false_alarms + correct_rejections
    correct = hits + correct_rejections
    n_ai, n_human = hits + misses, false_alarms + correct_rejections
    figures: dict[str, Any] = {
        "n": n,
        "n_familiar": int(familiar.sum()),
        "confusion": {
            "ai_called_ai": hits,
            "ai_called_human": misses,
            "human_called_ai": false_alarms,
            "human_called_human": correct_rejections,
        },
    }
    for name, successes, trials in (
        ("accuracy", correct, n),
        ("sensitivity", hits, n_ai),
        ("specificity", correct_rejections, n_human),
    ):
        low, high = wilson_interval(successes, trials, confidence)
        figures[name] = successes / trials if trials else None
        figures[f"{name}_low"] = low
        figures[f"{name}_high"] = high
    figures.update(d_prime_yes_no(hits, n_ai, false_alarms, n_human, confidence))
    figures.update(_listener_level(judged, is_ai, said_ai, confidence, min_panelists))
    figures["p_value"] = (
        float(_fisher_exact([[hits, misses], [false_alarms, correct_rejections]]).pvalue)
        if n_ai and n_human
        else None
    )
    return figures


def _system_figures(system: str, rows: pd.DataFrame, confidence: float) -> dict[str, Any]:
    familiar = rows["guess"] == "familiar"
    judged = rows[~familiar]
    truth = judged["is_ai"].mean() if len(judged) else rows["is_ai"].mean()
    said_ai = int((judged["guess"] == "ai").sum())
    n = int(len(judged))
    low, high = wilson_interval(said_ai, n, confidence)
    return {
        "system": system,
        "is_ai": None if pd.isna(truth) else bool(truth >= 0.5),
        "n": n,
        "n_familiar": int(familiar.sum()),
        "called_ai": said_ai,
        "called_ai_rate": said_ai / n if n else None,
        "ci_low": low,
        "ci_high": high,
    }


def _listener_level(
    judged: pd.DataFrame,
    is_ai: np.ndarray,
    said_ai: np.ndarray,
    confidence: float,
    min_panelists: int,
) -> dict[str, Any]:
    """Panelist-cluster accuracy, its verdict against chance, and a jackknife interval of d'."""
    panelists = judged["panelist_id"].to_numpy()
    correct = (is_ai == said_ai).astype(float)
    estimate = cluster_share(correct, panelists, confidence=confidence)
    verdict = chance_verdict(
        estimate["rate"],
        estimate["p_value"],
        estimate["n_panelists"],
        min_panelists=min_panelists,
        alpha=1.0 - confidence,
    )
    # Leave one panelist out: subtract that panelist's four counts from the totals.
    codes = pd.factorize(panelists)[0]
    count = int(codes.max()) + 1 if codes.size else 0
    cells = np.zeros((max(count, 1), 4))
    if codes.size:
        for column, mask in enumerate(
            (is_ai & said_ai, is_ai & ~said_ai, ~is_ai & said_ai, ~is_ai & ~said_ai)
        ):
            cells[:, column] = np.bincount(codes[mask], minlength=count)
    totals = cells.sum(axis=0)
    low = high = None
    if count >= 2 and totals[0] + totals[1] > 0 and totals[2] + totals[3] > 0:
        full = _d_prime_counts(totals)
        leave_out = np.array([_d_prime_counts(totals - row) for row in cells])
        if np.all(np.isfinite(leave_out)):
            se = math.sqrt((count - 1) / count * float(np.sum((leave_out - leave_out.mean()) ** 2)))
            critical = float(t_ppf(0.5 + confidence / 2.0, count - 1))
            low, high = full - critical * se, full + critical * se
    return {
        "n_panelists": estimate["n_panelists"],
        "panelist_accuracy": estimate["rate"],
        "cluster_ci_low": estimate["low"],
        "cluster_ci_high": estimate["high"],
        "cluster_ci_bound": estimate["bound"],
        "verdict": verdict,
        "verdict_p": estimate["p_value"],
        "d_prime_cluster_low": low,
        "d_prime_cluster_high": high,
    }


def _d_prime_counts(counts: np.ndarray) -> float:
    """Log-linear d' from ``[hits, misses, false alarms, correct rejections]`` (NaN when a
    kind of track is missing)."""
    hits, misses, false_alarms, rejections = counts
    if hits + misses <= 0 or false_alarms + rejections <= 0:
        return math.nan
    hit_rate = (hits + 0.5) / (hits + misses + 1.0)
    false_rate = (false_alarms + 0.5) / (false_alarms + rejections + 1.0)
    return float(norm_ppf(hit_rate) - norm_ppf(false_rate))


def _fisher_exact(table):
    """:func:`scipy.stats.fisher_exact`, imported when first needed (see
    :mod:`evaluation.stats.distributions`)."""
    from scipy.stats import fisher_exact

    return fisher_exact(table)

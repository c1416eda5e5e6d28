"""Single-track "human or AI?" judgments (the Turing-style protocol of DeepBach and many
AI-music studies).

Input: one row per heard track with ``panelist_id``, ``system``, ``is_ai`` (the truth, 1/0)
and ``guess`` (``human``, ``ai`` or ``familiar``); ``expertise`` is optional. A listener who
recognises the piece ("familiar") cannot judge it blind: those answers are left out of every
rate and counted separately.

"AI" is the signal: a *hit* is an AI track called AI, a *false alarm* a human track called AI.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .detection import d_prime_yes_no
from .intervals import wilson_interval
from .responses import SINGLE_TRACK_COLUMNS

IDENTIFICATION_COLUMNS = SINGLE_TRACK_COLUMNS


def has_identification_columns(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` holds single-track judgments (see :data:`IDENTIFICATION_COLUMNS`)."""
    return set(IDENTIFICATION_COLUMNS) <= set(frame.columns)


def identification_summary(judgments: pd.DataFrame, *, confidence: float = 0.95) -> dict:
    """Confusion matrix, accuracy, sensitivity, specificity, d' and criterion with intervals,
    overall, ``by_system`` and ``by_expertise``.

    ``judgments`` must be normalised (``is_ai`` as 1.0/0.0/NaN, ``guess`` in
    ``{"human", "ai", "familiar", ""}``). Rows with an unknown truth or no guess are counted
    in ``n_unscorable``. ``p_value`` is Fisher's exact test of "the guess is unrelated to the
    truth" on the 2x2 confusion matrix.
    """
    known = judgments["is_ai"].notna() & judgments["guess"].isin(["human", "ai", "familiar"])
    scorable = judgments[known]
    result = _figures(scorable, confidence)
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
            {"expertise": str(group) or "unknown", **_figures(rows, confidence)}
            for group, rows in scorable.groupby("expertise", sort=True)
        ]
    return result


def _figures(rows: pd.DataFrame, confidence: float) -> dict[str, Any]:
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
    figures["p_value"] = (
        float(stats.fisher_exact([[hits, misses], [false_alarms, correct_rejections]]).pvalue)
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

"""Familiarity: "Do you know this piece?" (no / sounds familiar / I know it), and the headline
results recomputed without the answers of listeners who knew the piece.

A listener who recognises a piece (a Bach chorale, a cover of a hit) does not judge it blind:
they may know who made it. One answer per trial (``familiar`` is repeated on every candidate
row of a pool trial; a pool trial counts once). ``levels`` gives each level's listener-level
share (each panelist's own share of trials at that level, averaged over panelists, with the
panelist-cluster interval). The headline preference (every pair's verdict) and identification
(pairwise "which is AI?" and single-track "human or AI?") are recomputed, by the same
functions and the same verdict rule, from the rows whose ``familiar`` is neither
``sounds_familiar`` nor ``knows_it``, and shown beside the figures from every answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .clusters import cluster_estimate, grouped_shares
from .responses import FAMILIAR_LEVELS, trial_kind_mask

FAMILIAR_ANSWERS = ("sounds_familiar", "knows_it")
"""Levels whose answers the "without familiar" figures leave out."""


def has_familiar_answers(frame: pd.DataFrame) -> bool:
    return "familiar" in frame and bool((frame["familiar"] != "").any())


def not_familiar_mask(frame: pd.DataFrame) -> np.ndarray:
    """``[n]`` bool: rows kept by the "without familiar answers" figures (``familiar`` empty or
    ``no``)."""
    return ~frame["familiar"].isin(FAMILIAR_ANSWERS).to_numpy()


def trial_answers(analysed: pd.DataFrame) -> pd.DataFrame:
    """One row per answered trial: ``panelist_id``, ``familiar`` (pool trials once)."""
    pool = trial_kind_mask(analysed, "pool")
    answered = (analysed["familiar"] != "").to_numpy()
    # Only the columns read below: filtering all ~85 export columns costs more than the rest.
    needed = ("panelist_id", "familiar", "response_id", "trial_id")
    rows = analysed[[column for column in needed if column in analysed]][answered]
    pool = pool[answered]
    if pool.any():
        if "response_id" in rows:
            response = rows["response_id"]
        elif "trial_id" in rows:
            response = rows["trial_id"]
        else:  # no way to tell a pool's candidate rows apart: count each row
            response = pd.Series(np.arange(len(rows)).astype(str), index=rows.index)
        key = rows["panelist_id"] + "\x1f" + response
        first = ~pd.Series(key.to_numpy()).duplicated().to_numpy()
        rows = rows[~pool | first]
    return pd.DataFrame(
        {"panelist_id": rows["panelist_id"].to_numpy(), "familiar": rows["familiar"].to_numpy()}
    )


def familiarity_levels(analysed: pd.DataFrame, confidence: float = 0.95) -> list[dict[str, Any]]:
    """Per level of :data:`evaluation.stats.responses.FAMILIAR_LEVELS`: answers and the
    listener-level share with its cluster interval."""
    answered = trial_answers(analysed)
    codes = pd.factorize(answered["panelist_id"].to_numpy())[0]
    levels = []
    for level in FAMILIAR_LEVELS:
        values = (answered["familiar"] == level).to_numpy(dtype=float)
        if codes.size:
            shares, counts = grouped_shares(values, codes, np.zeros(codes.size, np.int64), 1)[0]
        else:
            shares, counts = np.zeros(0), np.zeros(0)
        estimate = cluster_estimate(shares, counts, confidence=confidence)
        levels.append(
            {
                "level": level,
                "n": int(values.sum()),
                "panelist_share": estimate["rate"],
                "cluster_ci_low": estimate["low"],
                "cluster_ci_high": estimate["high"],
                "cluster_ci_bound": estimate["bound"],
            }
        )
    return levels


def brief_pair(pair: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of one ``pairs`` entry."""
    keys = ("n", "n_panelists", "panelist_rate_a", "cluster_ci_low", "cluster_ci_high",
            "cluster_ci_bound", "verdict", "verdict_p")  # fmt: skip
    return {key: pair[key] for key in keys}


def brief_identification(figures: dict[str, Any] | None, pairwise: bool) -> dict[str, Any] | None:
    """The headline figures of ``ai_identification`` (``pairwise``: the decided a/b guesses)
    or of ``identification``."""
    if not figures:
        return None
    if pairwise:
        return {
            "n": figures["n_decided"],
            "n_panelists": figures["n_panelists"],
            "panelist_accuracy": figures["panelist_accuracy_decided"],
            "cluster_ci_low": figures["decided_cluster_ci_low"],
            "cluster_ci_high": figures["decided_cluster_ci_high"],
            "cluster_ci_bound": figures["decided_cluster_ci_bound"],
            "verdict": figures["verdict"],
            "verdict_p": figures["verdict_p"],
        }
    keys = ("n", "n_panelists", "panelist_accuracy", "cluster_ci_low", "cluster_ci_high",
            "cluster_ci_bound", "verdict", "verdict_p")  # fmt: skip
    return {key: figures[key] for key in keys}


def familiarity_summary(
    analysed: pd.DataFrame,
    headline: dict[str, Any],
    recompute: Callable[[pd.DataFrame], dict[str, Any]],
    *,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """The ``familiarity`` section. ``headline``: ``{"pairs", "ai_identification",
    "identification"}`` from every answer (the summary's own); ``recompute(rows)`` returns
    the same three keys for the rows without familiar answers."""
    answered = trial_answers(analysed)
    keep = not_familiar_mask(analysed)
    without = recompute(analysed[keep].reset_index(drop=True))
    after = {(p["system_a"], p["system_b"]): p for p in without["pairs"]}
    pairs = [
        {
            "system_a": pair["system_a"],
            "system_b": pair["system_b"],
            "with_familiar": brief_pair(pair),
            "without_familiar": (
                brief_pair(after[(pair["system_a"], pair["system_b"])])
                if (pair["system_a"], pair["system_b"]) in after
                else None
            ),
        }
        for pair in headline["pairs"]
    ]
    return {
        "n_answers": int(len(answered)),
        "n_panelists": int(answered["panelist_id"].nunique()),
        "levels": familiarity_levels(analysed, confidence),
        "left_out_levels": list(FAMILIAR_ANSWERS),
        "n_rows_left_out": int((~keep).sum()),
        "pairs": pairs,
        "ai_identification": {
            "with_familiar": brief_identification(headline["ai_identification"], True),
            "without_familiar": brief_identification(without["ai_identification"], True),
        },
        "identification": {
            "with_familiar": brief_identification(headline["identification"], False),
            "without_familiar": brief_identification(without["identification"], False),
        },
    }

"""Hit potential: "Would you add it to a playlist?" and "Would you release it?" per system.

Input: a normalised responses frame with ``playlist_a/_b`` and ``release_a/_b`` (yes/no): the
``_a`` answer belongs to the row's track (``system_a``) on every design, the ``_b`` answer to
``system_b`` on ab rows. Each rate is listener-level (:mod:`evaluation.stats.clusters`): each
panelist's own share of "yes", averaged over panelists, with the panelist-cluster interval.

For every AI system (``system_*_kind == "ai"``) and question, a one-sided t-test of "the rate
exceeds ``threshold``" (default 5%: the chance that a track becomes a hit, as a label sees it):
``t = (rate - threshold) / se`` with ``G - 1`` degrees of freedom and the variance floored at
the null's ``threshold (1 - threshold) Σ (1 / n_p) / G²``; when every listener said yes to
every track the exact bound ``threshold^G`` is the p-value. The AI systems' tests (both
questions) form the section's family: Holm across them; fewer than ``min_panelists`` listeners
give ``too_little_data``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .clusters import CLUSTER_METHOD, cluster_estimate, grouped_shares
from .defaults import DEFAULT_HIT_THRESHOLD
from .distributions import t_sf
from .responses import pairwise_mask
from .verdicts import DEFAULT_MIN_PANELISTS, section_verdicts

QUESTIONS = ("playlist", "release")
EXCEEDS, NOT_SHOWN = "exceeds_threshold", "not_shown_to_exceed"
HIT_VERDICT_METHOD = (
    "one-sided t-test on per-panelist shares of yes against the threshold (variance floored "
    "at the threshold's binomial variance), Holm-adjusted across every AI system and question"
)


def has_hit_columns(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has a playlist or release answer."""
    return any(
        f"{question}_{side}" in frame and frame[f"{question}_{side}"].notna().any()
        for question in QUESTIONS
        for side in ("a", "b")
    )


def exceeds_p_value(shares: np.ndarray, counts: np.ndarray, threshold: float) -> float:
    """One-sided p-value of "the listener-level rate exceeds ``threshold``" (``shares``,
    ``counts``: ``[G]`` each listener's share of yes and answers). 1 below two listeners."""
    count = int(shares.size)
    if count < 2:
        return 1.0
    rate = float(shares.mean())
    if np.all(shares >= 1.0):
        return float(threshold**count)
    if np.all(shares <= 0.0):
        return 1.0
    variance = max(
        float(np.var(shares, ddof=1)) / count,
        threshold * (1.0 - threshold) * float(np.sum(1.0 / np.maximum(counts, 1.0))) / count**2,
    )
    return float(t_sf((rate - threshold) / math.sqrt(variance), count - 1))


def answers(analysed: pd.DataFrame, question: str) -> pd.DataFrame:
    """Every yes/no answer to ``question`` as rows ``panelist_id, system, kind, yes``."""
    parts = []
    ab = pairwise_mask(analysed)
    for side in ("a", "b"):
        column = f"{question}_{side}"
        if column not in analysed:
            continue
        kind = f"system_{side}_kind"
        # Only the columns read below: filtering all ~85 export columns costs more than the
        # whole section.
        rows = analysed[
            [name for name in ("panelist_id", f"system_{side}", kind, column) if name in analysed]
        ]
        if side == "b":
            rows = rows[ab]
        rows = rows[rows[column].notna() & (rows[f"system_{side}"] != "")]
        parts.append(
            pd.DataFrame(
                {
                    "panelist_id": rows["panelist_id"].to_numpy(),
                    "system": rows[f"system_{side}"].to_numpy(),
                    "kind": rows[kind].to_numpy() if kind in rows else "",
                    "yes": rows[column].to_numpy(dtype=float),
                }
            )
        )
    if not parts:
        return pd.DataFrame({"panelist_id": [], "system": [], "kind": [], "yes": []})
    return pd.concat(parts, ignore_index=True)


def hit_potential_summary(
    analysed: pd.DataFrame,
    *,
    threshold: float = DEFAULT_HIT_THRESHOLD,
    confidence: float = 0.95,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
) -> dict[str, Any]:
    """The ``hit_potential`` section: per system the playlist and release rates (None where
    the question was not asked), and for AI systems the one-sided test against
    ``threshold``."""
    frames = {question: answers(analysed, question) for question in QUESTIONS}
    systems = sorted(set().union(*(set(frame["system"]) for frame in frames.values())))
    rows, tests = [], []
    for system in systems:
        entry: dict[str, Any] = {"system": str(system), "kind": ""}
        for question, frame in frames.items():
            mine = frame[frame["system"] == system]
            if mine.empty:
                entry[question] = None
                continue
            entry["kind"] = entry["kind"] or str(mine["kind"].iloc[0])
            codes = pd.factorize(mine["panelist_id"].to_numpy())[0]
            shares, counts = grouped_shares(
                mine["yes"].to_numpy(), codes, np.zeros(codes.size, dtype=np.int64), 1
            )[0]
            estimate = cluster_estimate(shares, counts, confidence=confidence, null=threshold)
            rate = {
                "n": int(len(mine)),
                "yes": int(mine["yes"].sum()),
                "n_panelists": estimate["n_panelists"],
                "rate": estimate["rate"],
                "cluster_ci_low": estimate["low"],
                "cluster_ci_high": estimate["high"],
                "cluster_ci_bound": estimate["bound"],
                "p_exceeds": None,
                "verdict": None,
                "verdict_p": None,
            }
            if (mine["kind"] == "ai").any():
                rate["p_exceeds"] = exceeds_p_value(shares, counts, threshold)
                tests.append(rate)
            entry[question] = rate
        rows.append(entry)
    verdicts, adjusted = section_verdicts(
        np.array([test["rate"] - threshold for test in tests]),
        np.array([test["p_exceeds"] for test in tests]),
        np.array([test["n_panelists"] for test in tests]),
        labels=(EXCEEDS, NOT_SHOWN, NOT_SHOWN),
        min_panelists=min_panelists,
        alpha=1.0 - confidence,
    )
    for test, verdict, p_value in zip(tests, verdicts, adjusted, strict=True):
        test["verdict"] = verdict
        test["verdict_p"] = float(p_value)
    return {
        "threshold": float(threshold),
        "systems": rows,
        "n_comparisons": len(tests),
        "min_panelists": int(min_panelists),
        "verdict_method": HIT_VERDICT_METHOD,
        "cluster_ci_method": CLUSTER_METHOD,
    }

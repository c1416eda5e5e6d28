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

from .clusters import cluster_difference, cluster_mean, cluster_share, paired_mean_difference
from .clusters import within_variance as pooled_within_variance
from .detection import d_prime_yes_no
from .distributions import norm_ppf, t_ppf
from .intervals import wilson_interval
from .responses import SINGLE_TRACK_COLUMNS, trial_kind_mask
from .verdicts import TOO_LITTLE_DATA, chance_verdict, section_verdicts

IDENTIFICATION_COLUMNS = SINGLE_TRACK_COLUMNS

SINGLE_TRIAL_COLUMNS = ("trial_kind", "system_a", "system_a_kind", "guess_kind")
"""The export columns that feed identification from single-track trials."""

CONFIDENCE_BANDS = ((50, 60), (60, 70), (70, 80), (80, 90), (90, 101))
"""Bands of ``guess_confidence`` (percent, lower end included) for the calibration table."""

IDENTIFICATION_VERDICT_METHOD = (
    "overall: t-test of the per-panelist share correct against 50%; per system: t-test of the "
    "per-panelist difference between how often the system and the other kind were called AI; "
    "Holm-adjusted across the overall test and every system"
)

_BETTER, _WORSE, _CHANCE = (
    "better_than_chance",
    "worse_than_chance",
    "not_distinguishable_from_chance",
)


def has_identification_columns(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` holds single-track judgments (see :data:`IDENTIFICATION_COLUMNS`)."""
    return set(IDENTIFICATION_COLUMNS) <= set(frame.columns)


def has_single_trials(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` holds single-track trials with a "human or AI?" guess."""
    return set(SINGLE_TRIAL_COLUMNS) <= set(frame.columns) and bool(
        (trial_kind_mask(frame, "single") & (frame["guess_kind"] != "").to_numpy()).any()
    )


def single_judgments(frame: pd.DataFrame) -> pd.DataFrame:
    """The single-track trials of an export as identification judgments: ``panelist_id``,
    ``system`` (= ``system_a``), ``is_ai`` (1.0 when ``system_a_kind`` is ``ai``, 0.0 when
    ``human``, else NaN), ``guess`` (= ``guess_kind``), and ``expertise``,
    ``guess_confidence``, ``familiar`` where present."""
    rows = frame[trial_kind_mask(frame, "single")]
    kind = rows["system_a_kind"].to_numpy()
    judgments = pd.DataFrame(
        {
            "panelist_id": rows["panelist_id"].to_numpy(),
            "system": rows["system_a"].to_numpy(),
            "is_ai": np.where(kind == "ai", 1.0, np.where(kind == "human", 0.0, np.nan)),
            "guess": rows["guess_kind"].to_numpy(),
        }
    )
    for column in ("expertise", "guess_confidence", "familiar"):
        if column in rows:
            judgments[column] = rows[column].to_numpy()
    return judgments


def identification_summary(
    judgments: pd.DataFrame,
    *,
    confidence: float = 0.95,
    min_panelists: int = 8,
    source: str = "judgment_columns",
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
    interval of d'. At the ceiling (every AI track called AI and no human track) d' is
    ``None`` with ``d_prime_bound = "lower"``: ``d_prime_low`` = z(lower cluster bound of the
    hit rate) - z(upper cluster bound of the false-alarm rate); the floor is the mirror image.

    ``by_system``: per system the share called AI and the share judged correctly (listener
    level, cluster intervals) and a ``verdict``: the per-panelist difference between how often
    this system and the other kind were called AI. The overall and per-system verdicts are
    Holm-adjusted together (``verdict_p``). ``calibration`` (when ``guess_confidence`` is
    present): accuracy per confidence band and the mean over listeners of (stated confidence -
    correct), tested against 0 (perfect calibration). ``source``: ``single_trials`` (the
    export's single-track trials) or ``judgment_columns`` (a CSV with ``system, is_ai,
    guess``).
    """
    known = judgments["is_ai"].notna() & judgments["guess"].isin(["human", "ai", "familiar"])
    scorable = judgments[known]
    result = _figures(scorable, confidence, min_panelists)
    result["source"] = source
    result["n_unscorable"] = int((~known).sum())
    judged_all = scorable[scorable["guess"] != "familiar"]
    result["by_system"] = [
        _system_figures(str(system), rows, confidence, judged_all)
        for system, rows in scorable.groupby("system", sort=True)
    ]
    tests = [result, *result["by_system"]]
    effects = [np.nan if result["panelist_accuracy"] is None else result["panelist_accuracy"] - 0.5]
    effects += [np.nan if e["difference"] is None else e["difference"] for e in result["by_system"]]
    verdicts, adjusted = section_verdicts(
        np.array(effects),
        np.array([result.pop("_p")] + [entry.pop("_p") for entry in result["by_system"]]),
        np.array(
            [result["n_panelists"]] + [entry["n_panelists_paired"] for entry in result["by_system"]]
        ),
        labels=(_BETTER, _WORSE, _CHANCE),
        min_panelists=min_panelists,
        alpha=1.0 - confidence,
    )
    for test, verdict, p_value in zip(tests, verdicts, adjusted, strict=True):
        test["verdict"] = verdict
        test["verdict_p"] = float(p_value)
    result["verdict_method"] = IDENTIFICATION_VERDICT_METHOD
    result["n_comparisons"] = len(tests)
    result["calibration"] = (
        calibration(judged_all, confidence) if "guess_confidence" in judged_all else None
    )
    # An AI system's d' compares its hit rate with the false-alarm rate on all human tracks.
    human = scorable[(scorable["is_ai"] == 0.0) & (scorable["guess"] != "familiar")]
    false_alarms, n_human = int((human["guess"] == "ai").sum()), int(len(human))
    human_panelists = human["panelist_id"].to_numpy()
    human_called = (human["guess"] == "ai").to_numpy(dtype=float)
    for entry in result["by_system"]:
        if entry["is_ai"]:
            entry.update(
                d_prime_yes_no(entry["called_ai"], entry["n"], false_alarms, n_human, confidence)
            )
            entry.update(
                _system_d_prime_bound(
                    entry,
                    scorable,
                    false_alarms,
                    n_human,
                    human_called,
                    human_panelists,
                    confidence,
                )  # fmt: skip
            )
    result["by_expertise"] = []
    if "expertise" in scorable:
        for group, rows in scorable.groupby("expertise", sort=True):
            figures = _figures(rows, confidence, min_panelists)
            figures["verdict_p"] = figures.pop("_p")
            result["by_expertise"].append({"expertise": str(group) or "unknown", **figures})
    return result


def calibration(judged: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Does stated confidence match accuracy? Per band of :data:`CONFIDENCE_BANDS`: answers,
    listeners, mean stated confidence and the listener-level share correct with its cluster
    interval; overall ``overconfidence``: the mean over listeners of (confidence / 100 -
    correct), its t interval and the test of "calibrated" (0), whose null variance per
    answer is ``c (1 - c)``."""
    rows = judged[judged["guess_confidence"].notna()]
    stated = rows["guess_confidence"].to_numpy(dtype=float) / 100.0
    correct = ((rows["is_ai"].to_numpy() == 1.0) == (rows["guess"].to_numpy() == "ai")).astype(
        float
    )
    panelists = rows["panelist_id"].to_numpy()
    bands = []
    for low, high in CONFIDENCE_BANDS:
        mine = (stated * 100.0 >= low) & (stated * 100.0 < high)
        estimate = cluster_share(correct[mine], panelists[mine], confidence=confidence)
        bands.append(
            {
                "band": f"{low}-{min(high, 100) - (0 if high > 100 else 1)}%",
                "confidence_low": low,
                "confidence_high": min(high, 100),
                "n": int(mine.sum()),
                "n_panelists": estimate["n_panelists"],
                "mean_confidence": float(stated[mine].mean()) if mine.any() else None,
                "panelist_accuracy": estimate["rate"],
                "cluster_ci_low": estimate["low"],
                "cluster_ci_high": estimate["high"],
                "cluster_ci_bound": estimate["bound"],
            }
        )
    gap = cluster_difference(
        stated - correct, stated * (1.0 - stated), panelists, confidence=confidence
    )
    return {
        "n": int(len(rows)),
        "n_panelists": gap["n_panelists"],
        "mean_confidence": float(stated.mean()) if stated.size else None,
        "accuracy": float(correct.mean()) if correct.size else None,
        "overconfidence": gap["rate"],
        "overconfidence_ci_low": gap["low"] if gap["bound"] == "two_sided" else None,
        "overconfidence_ci_high": gap["high"] if gap["bound"] == "two_sided" else None,
        "p_value": gap["p_value"],
        "bands": bands,
    }


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
    figures.update(_d_prime_bounds(judged, is_ai, said_ai, figures, confidence))
    figures["p_value"] = (
        float(_fisher_exact([[hits, misses], [false_alarms, correct_rejections]]).pvalue)
        if n_ai and n_human
        else None
    )
    return figures


def _system_figures(
    system: str, rows: pd.DataFrame, confidence: float, judged_all: pd.DataFrame
) -> dict[str, Any]:
    familiar = rows["guess"] == "familiar"
    judged = rows[~familiar]
    truth = judged["is_ai"].mean() if len(judged) else rows["is_ai"].mean()
    is_ai = None if pd.isna(truth) else bool(truth >= 0.5)
    called = (judged["guess"] == "ai").to_numpy(dtype=float)
    said_ai = int(called.sum())
    n = int(len(judged))
    low, high = wilson_interval(said_ai, n, confidence)
    panelists = judged["panelist_id"].to_numpy()
    share = cluster_share(called, panelists, confidence=confidence)
    correct = called if is_ai else 1.0 - called
    accuracy = cluster_share(correct, panelists, confidence=confidence)
    # Told apart: how much more often AI tracks are called AI than human ones, per listener.
    other = judged_all[judged_all["is_ai"] == (0.0 if is_ai else 1.0)]
    other_called = (other["guess"] == "ai").to_numpy(dtype=float)
    mine = cluster_mean(called, panelists, scale=(0.0, 1.0), confidence=confidence)
    theirs = cluster_mean(
        other_called, other["panelist_id"].to_numpy(), scale=(0.0, 1.0), confidence=confidence
    )
    everything = np.concatenate([called, other_called])
    cells = pd.factorize(
        np.concatenate([panelists, other["panelist_id"].to_numpy()]).astype(str)
        + np.array(["\x1fs"] * called.size + ["\x1fo"] * other_called.size, dtype=object)
    )[0]
    variance = pooled_within_variance(everything, cells)
    if is_ai:
        difference = paired_mean_difference(
            mine, theirs, pd.unique(panelists), pd.unique(other["panelist_id"].to_numpy()),
            variance, confidence=confidence,
        )  # fmt: skip
    else:
        difference = paired_mean_difference(
            theirs, mine, pd.unique(other["panelist_id"].to_numpy()), pd.unique(panelists),
            variance, confidence=confidence,
        )  # fmt: skip
    usable = n > 0 and other_called.size > 0 and is_ai is not None and mine["n_panelists"] > 0
    return {
        "system": system,
        "is_ai": is_ai,
        "n": n,
        "n_familiar": int(familiar.sum()),
        "called_ai": said_ai,
        "called_ai_rate": said_ai / n if n else None,
        "ci_low": low,
        "ci_high": high,
        "n_panelists": share["n_panelists"],
        "panelist_called_ai_rate": share["rate"],
        "called_ai_cluster_ci_low": share["low"],
        "called_ai_cluster_ci_high": share["high"],
        "called_ai_cluster_ci_bound": share["bound"],
        "panelist_accuracy": accuracy["rate"],
        "cluster_ci_low": accuracy["low"],
        "cluster_ci_high": accuracy["high"],
        "cluster_ci_bound": accuracy["bound"],
        "n_panelists_paired": difference["n_panelists"] if usable else 0,
        "difference": difference["difference"] if usable else None,
        "difference_ci_low": difference["low"] if usable else None,
        "difference_ci_high": difference["high"] if usable else None,
        "_p": difference["p_value"] if usable else 1.0,
        "verdict": TOO_LITTLE_DATA,
        "verdict_p": 1.0,
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
        "_p": estimate["p_value"],
        "d_prime_cluster_low": low,
        "d_prime_cluster_high": high,
    }


def _d_prime_bounds(
    judged: pd.DataFrame,
    is_ai: np.ndarray,
    said_ai: np.ndarray,
    figures: dict[str, Any],
    confidence: float,
) -> dict[str, Any]:
    """``d_prime_bound``; at the ceiling (no miss, no false alarm) or the floor (no hit, no
    correct rejection) d' is not a number the data give, only a bound: ``d_prime`` (and the
    side without a bound) become None and the bound comes from the one-sided listener-cluster
    bounds of the hit and false-alarm rates."""
    n_ai, n_human = int(is_ai.sum()), int((~is_ai).sum())
    if not n_ai or not n_human:
        return {"d_prime_bound": "none"}
    hits, false_alarms = int((is_ai & said_ai).sum()), int((~is_ai & said_ai).sum())
    ceiling = hits == n_ai and false_alarms == 0
    floor = hits == 0 and false_alarms == n_human
    if not (ceiling or floor):
        return {"d_prime_bound": "two_sided"}
    panelists = judged["panelist_id"].to_numpy()
    hit = cluster_share(said_ai[is_ai].astype(float), panelists[is_ai], confidence=confidence)
    false = cluster_share(said_ai[~is_ai].astype(float), panelists[~is_ai], confidence=confidence)

    def z(rate: float) -> float | None:
        return float(norm_ppf(rate)) if 0.0 < rate < 1.0 else None

    if ceiling:
        low = None if z(hit["low"]) is None or z(false["high"]) is None else (
            z(hit["low"]) - z(false["high"]))  # fmt: skip
        return {
            "d_prime": None,
            "d_prime_low": low,
            "d_prime_high": None,
            "d_prime_cluster_low": low,
            "d_prime_cluster_high": None,
            "d_prime_bound": "lower" if low is not None else "none",
        }
    high = None if z(hit["high"]) is None or z(false["low"]) is None else (
        z(hit["high"]) - z(false["low"]))  # fmt: skip
    return {
        "d_prime": None,
        "d_prime_low": None,
        "d_prime_high": high,
        "d_prime_cluster_low": None,
        "d_prime_cluster_high": high,
        "d_prime_bound": "upper" if high is not None else "none",
    }


def _system_d_prime_bound(
    entry: dict[str, Any],
    scorable: pd.DataFrame,
    false_alarms: int,
    n_human: int,
    human_called: np.ndarray,
    human_panelists: np.ndarray,
    confidence: float,
) -> dict[str, Any]:
    """An AI system's ``d_prime_bound``: at the ceiling (every track of it called AI, no
    human track called AI) or the floor (none called AI, every human track called AI) its d'
    is a bound from the listener-cluster bounds of its hit rate and the false-alarm rate."""
    if not entry["n"] or not n_human:
        return {"d_prime_bound": "none"}
    ceiling = entry["called_ai"] == entry["n"] and false_alarms == 0
    floor = entry["called_ai"] == 0 and false_alarms == n_human
    if not (ceiling or floor):
        return {"d_prime_bound": "two_sided"}
    mine = scorable[(scorable["system"] == entry["system"]) & (scorable["guess"] != "familiar")]
    hit = cluster_share(
        (mine["guess"] == "ai").to_numpy(dtype=float),
        mine["panelist_id"].to_numpy(),
        confidence=confidence,
    )
    false = cluster_share(human_called, human_panelists, confidence=confidence)

    def z(rate: float) -> float | None:
        return float(norm_ppf(rate)) if 0.0 < rate < 1.0 else None

    if ceiling:
        ends = (z(hit["low"]), z(false["high"]))
        low = None if None in ends else ends[0] - ends[1]
        return {
            "d_prime": None,
            "d_prime_low": low,
            "d_prime_high": None,
            "d_prime_bound": "lower" if low is not None else "none",
        }
    ends = (z(hit["high"]), z(false["low"]))
    high = None if None in ends else ends[0] - ends[1]
    return {
        "d_prime": None,
        "d_prime_low": None,
        "d_prime_high": high,
        "d_prime_bound": "upper" if high is not None else "none",
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

"""The study summary: every figure of the results page, from the responses alone.

:func:`summarize` takes the responses (one row per response, see
:mod:`evaluation.stats.responses`) and returns a JSON-ready ``dict`` of plain ``str``/``int``/
``float``/``bool``/``None``/``list``/``dict`` values (never NaN). docs/statistics.md documents
every key and every convention.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .comparisons import build_comparisons, comparable_rows, pair_counts
from .intervals import binomial_p_value, wilson_intervals
from .responses import RESPONSE_COLUMNS, missing_columns, normalize_responses

SUMMARY_VERSION = 1

MUSHRA_MIN_CATCH_PASS_RATE = 0.85
"""ITU-R BS.1534-3 post-screening tolerates failing the hidden reference on up to 15% of items."""


def summarize(
    responses: pd.DataFrame,
    *,
    exclude_catch: bool = True,
    exclude_failed_catch: bool = False,
    min_catch_pass_rate: float = MUSHRA_MIN_CATCH_PASS_RATE,
    min_listen_s: float | None = None,
    exclude_simulated: bool = False,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Summarise a study's responses.

    ``responses``: one row per response with at least ``panelist_id, system_a, system_b,
    choice`` (raw text or already normalised). Rules, applied in this order and each reported
    in ``meta["exclusions"]``:

    - ``exclude_catch``: catch trials (attention checks) are not comparisons; they are left out
      of the preference, liked and AI-identification figures (the rater figures use them).
    - ``exclude_failed_catch``: drop every response of a panelist whose catch-trial pass rate
      is below ``min_catch_pass_rate`` (default 0.85, MUSHRA post-screening).
    - ``min_listen_s``: drop responses where either track was heard for less than this many
      seconds (responses without listen times are kept).
    - ``exclude_simulated``: drop simulated panelists' responses.

    ``confidence``: level of every interval (0.95 = 95%).

    Returns a dict with the keys ``meta``, ``pairs``, ``liked``, ``ai_identification``,
    ``panels`` (see docs/statistics.md for each field).
    """
    frame = normalize_responses(responses)
    missing = missing_columns(frame)
    notes: list[dict[str, str]] = []
    keep, exclusions = _exclusions(
        frame,
        exclude_catch=exclude_catch,
        exclude_failed_catch=exclude_failed_catch,
        min_catch_pass_rate=min_catch_pass_rate,
        min_listen_s=min_listen_s,
        exclude_simulated=exclude_simulated,
        notes=notes,
    )
    analysed = frame[keep].reset_index(drop=True)
    comparable = comparable_rows(analysed)

    summary: dict[str, Any] = {
        "meta": {
            "version": SUMMARY_VERSION,
            "n_responses": int(len(frame)),
            "n_panelists": _n_distinct(frame["panelist_id"]),
            "n_analysed": int(len(analysed)),
            "n_excluded": int((~keep).sum()),
            "exclusions": exclusions,
            "n_votes": int(comparable.sum()),
            "n_not_votes": int((~comparable).sum()),
            "not_votes_reason": "choice missing or not a/b/tie, a system name missing, "
            "or the same system on both sides",
            "n_simulated": int(frame["simulated"].sum()) if "simulated" in frame else None,
            "confidence": confidence,
            "columns_missing": missing,
            "figures_left_out": notes,
            "source_sha256": frame.attrs.get("sha256"),
        },
        "pairs": pair_summary(analysed, confidence=confidence),
        "liked": liked_summary(analysed, confidence=confidence, notes=notes),
        "ai_identification": ai_identification_summary(
            analysed, confidence=confidence, notes=notes
        ),
        "panels": panel_summary(frame, keep, notes=notes),
    }
    return json_ready(summary)


def _n_distinct(values: pd.Series) -> int:
    return int(values[values != ""].nunique())


def _exclusions(
    frame: pd.DataFrame,
    *,
    exclude_catch: bool,
    exclude_failed_catch: bool,
    min_catch_pass_rate: float,
    min_listen_s: float | None,
    exclude_simulated: bool,
    notes: list,
) -> tuple[pd.Series, list[dict[str, Any]]]:
    """Boolean mask of analysed rows, and one record per rule applied."""
    keep = pd.Series(True, index=frame.index)
    exclusions: list[dict[str, Any]] = []

    def apply(rule: str, reason: str, drop: pd.Series) -> None:
        newly = drop & keep
        exclusions.append(
            {
                "rule": rule,
                "reason": reason,
                "n_responses": int(newly.sum()),
                "n_panelists": _n_distinct(frame.loc[newly, "panelist_id"]),
            }
        )
        keep[newly] = False

    if exclude_catch:
        if "is_catch" in frame:
            apply(
                "catch_trials",
                "catch trials are attention checks, not comparisons",
                frame["is_catch"],
            )
    if exclude_failed_catch:
        if {"is_catch", "catch_passed"} <= set(frame.columns):
            rates = catch_pass_rates(frame)
            failed = rates.index[rates < min_catch_pass_rate]
            apply(
                "failed_catch",
                f"panelists who passed fewer than {min_catch_pass_rate:.0%} of their catch "
                "trials (ITU-R BS.1534-3 post-screening)",
                frame["panelist_id"].isin(failed),
            )
        else:
            notes.append(
                {
                    "figure": "exclusion failed_catch",
                    "reason": "not applied: needs the columns is_catch and catch_passed",
                }
            )
    if min_listen_s is not None:
        if {"listen_a_s", "listen_b_s"} <= set(frame.columns):
            shortest = frame[["listen_a_s", "listen_b_s"]].min(axis=1, skipna=False)
            apply(
                "min_listen",
                f"a track was heard for less than {min_listen_s:g} s",
                shortest < min_listen_s,
            )
        else:
            notes.append(
                {
                    "figure": "exclusion min_listen",
                    "reason": "not applied: needs the columns listen_a_s and listen_b_s",
                }
            )
    if exclude_simulated and "simulated" in frame:
        apply("simulated", "simulated panelists", frame["simulated"])
    return keep, exclusions


def catch_pass_rates(frame: pd.DataFrame) -> pd.Series:
    """Per panelist: share of answered catch trials passed (index: panelist_id)."""
    catch = frame[frame["is_catch"] & frame["catch_passed"].notna()]
    return catch.groupby("panelist_id")["catch_passed"].mean()


def pair_summary(analysed: pd.DataFrame, *, confidence: float = 0.95) -> list[dict[str, Any]]:
    """Per unordered system pair: counts, win rate of ``system_a`` with Wilson interval and
    exact binomial p-value.

    ``system_a`` / ``system_b`` here are the pair's systems in alphabetical order, whatever
    position they were shown at. ``win_rate_a = (wins_a + ties / 2) / n``; its interval is the
    Wilson interval with ``wins_a + ties / 2`` successes in ``n`` trials. ``p_value`` is the
    exact two-sided binomial test of ``wins_a`` in ``wins_a + wins_b`` decisive votes against
    0.5 (ties carry no information about the direction).
    """
    comparisons = build_comparisons(analysed)
    counts = pair_counts(comparisons)
    n = counts["n"].astype(float)
    successes = counts["wins_first"] + counts["ties"] / 2.0
    low, high = wilson_intervals(successes, n, confidence)
    pairs = []
    for k in range(comparisons.n_pairs):
        wins_a = int(counts["wins_first"][k])
        wins_b = int(counts["wins_second"][k])
        pairs.append(
            {
                "system_a": comparisons.systems[comparisons.pair_first[k]],
                "system_b": comparisons.systems[comparisons.pair_second[k]],
                "n": int(n[k]),
                "n_panelists": int(counts["n_panelists"][k]),
                "wins_a": wins_a,
                "wins_b": wins_b,
                "ties": int(counts["ties"][k]),
                "win_rate_a": float(successes[k] / n[k]),
                "ci_low": float(low[k]),
                "ci_high": float(high[k]),
                "p_value": binomial_p_value(wins_a, wins_a + wins_b),
            }
        )
    return pairs


def liked_summary(
    analysed: pd.DataFrame, *, confidence: float = 0.95, notes: list | None = None
) -> list[dict[str, Any]]:
    """Per system: how many of the answered "did you like it?" questions were yes.

    ``liked_a`` belongs to the system at position A, ``liked_b`` to the one at B. ``rate`` is
    ``liked / n`` with its Wilson interval; ``of_10`` (and ``of_10_low``, ``of_10_high``) are
    the same in "N of 10 liked it" units.
    """
    if not {"liked_a", "liked_b"} & set(analysed.columns):
        if notes is not None:
            notes.append({"figure": "liked", "reason": "needs the columns liked_a, liked_b"})
        return []
    parts = []
    for side in ("a", "b"):
        column = f"liked_{side}"
        if column in analysed:
            parts.append(
                pd.DataFrame({"system": analysed[f"system_{side}"], "liked": analysed[column]})
            )
    answers = pd.concat(parts, ignore_index=True)
    answers = answers[(answers["system"] != "") & answers["liked"].notna()]
    grouped = answers.groupby("system")["liked"].agg(["size", "sum"]).sort_index()
    n = grouped["size"].to_numpy(dtype=float)
    liked = grouped["sum"].to_numpy(dtype=float)
    low, high = wilson_intervals(liked, n, confidence)
    rows = []
    for index, system in enumerate(grouped.index):
        rate = liked[index] / n[index]
        rows.append(
            {
                "system": str(system),
                "n": int(n[index]),
                "liked": int(liked[index]),
                "rate": float(rate),
                "ci_low": float(low[index]),
                "ci_high": float(high[index]),
                "of_10": 10.0 * float(rate),
                "of_10_low": 10.0 * float(low[index]),
                "of_10_high": 10.0 * float(high[index]),
            }
        )
    return rows


def ai_identification_summary(
    analysed: pd.DataFrame, *, confidence: float = 0.95, notes: list | None = None
) -> dict[str, Any] | None:
    """How often listeners picked the AI track of a human-vs-AI pair.

    Scorable rows: ``ai_side`` is ``a`` or ``b`` and ``guess_ai`` is ``a``, ``b`` or
    ``unsure``. ``accuracy = correct / n`` over all scorable answers, an ``unsure`` answer
    counting as not correct (so chance is below 50% when listeners say "unsure");
    ``unsure_rate`` is reported beside it. ``accuracy_decided = correct / n_decided`` over the
    a/b guesses only, and ``p_value`` is the exact two-sided binomial test of ``correct`` in
    ``n_decided`` against 0.5. ``by_expertise`` repeats the figures per expertise group.
    """
    needed = {"guess_ai", "ai_side"}
    if not needed <= set(analysed.columns):
        if notes is not None:
            notes.append(
                {
                    "figure": "ai_identification",
                    "reason": "needs the columns " + ", ".join(sorted(needed)),
                }
            )
        return None
    scorable_mask = analysed["ai_side"].isin(["a", "b"]) & analysed["guess_ai"].isin(
        ["a", "b", "unsure"]
    )
    scorable = analysed[scorable_mask]
    figures = _identification_figures(scorable, confidence)
    figures["n_unscorable"] = int((~scorable_mask).sum())
    figures["unscorable_reason"] = (
        "no AI track or two (ai_side both/none/missing), or no guess given"
    )
    by_expertise = []
    if "expertise" in scorable:
        for group, rows in scorable.groupby("expertise", sort=True):
            by_expertise.append(
                {"expertise": str(group) or "unknown", **_identification_figures(rows, confidence)}
            )
    elif notes is not None:
        notes.append(
            {"figure": "ai_identification.by_expertise", "reason": "needs the column expertise"}
        )
    figures["by_expertise"] = by_expertise
    return figures


def _identification_figures(scorable: pd.DataFrame, confidence: float) -> dict[str, Any]:
    n = int(len(scorable))
    correct = int((scorable["guess_ai"] == scorable["ai_side"]).sum())
    unsure = int((scorable["guess_ai"] == "unsure").sum())
    decided = n - unsure
    low, high = wilson_intervals(np.array([correct]), np.array([n]), confidence)
    decided_low, decided_high = wilson_intervals(
        np.array([correct]), np.array([decided]), confidence
    )
    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "ci_low": float(low[0]),
        "ci_high": float(high[0]),
        "unsure": unsure,
        "unsure_rate": unsure / n if n else None,
        "n_decided": decided,
        "accuracy_decided": correct / decided if decided else None,
        "decided_ci_low": float(decided_low[0]),
        "decided_ci_high": float(decided_high[0]),
        "p_value": binomial_p_value(correct, decided),
    }


def panel_summary(
    frame: pd.DataFrame, keep: pd.Series, *, notes: list | None = None
) -> list[dict[str, Any]]:
    """Per panel: distinct panelists and responses (all rows), and responses analysed."""
    if "panel" not in frame:
        if notes is not None:
            notes.append({"figure": "panels", "reason": "needs the column panel"})
        return []
    counted = frame.assign(analysed=keep.to_numpy())
    panels = []
    for panel, rows in counted.groupby("panel", sort=True):
        panels.append(
            {
                "panel": str(panel),
                "n_panelists": _n_distinct(rows["panelist_id"]),
                "n_responses": int(len(rows)),
                "n_analysed": int(rows["analysed"].sum()),
            }
        )
    return panels


def json_ready(value: Any) -> Any:
    """Convert numpy scalars and arrays to Python values and NaN/inf to ``None``, recursively."""
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return [json_ready(item) for item in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


__all__ = [
    "RESPONSE_COLUMNS",
    "summarize",
    "pair_summary",
    "liked_summary",
    "ai_identification_summary",
    "panel_summary",
    "catch_pass_rates",
    "json_ready",
]

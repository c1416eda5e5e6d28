"""The study summary: every figure of the results page, from the responses alone.

:func:`summarize` takes the responses (one row per response, see
:mod:`evaluation.stats.responses`) and returns a JSON-ready ``dict`` of plain ``str``/``int``/
``float``/``bool``/``None``/``list``/``dict`` values (never NaN). docs/statistics.md documents
every key and every convention.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .bootstrap import BootstrapResult, percentile_interval
from .comparisons import Comparisons, build_comparisons, comparable_rows, pair_counts
from .detection import d_prime_two_alternative
from .identification import (
    IDENTIFICATION_COLUMNS,
    has_identification_columns,
    identification_summary,
)
from .intervals import binomial_p_value, binomial_p_values_half, wilson_intervals, z_value
from .multiplicity import benjamini_hochberg, holm
from .planning import panelists_needed, pilot_design
from .ranking import system_ranking
from .raters import rater_summary
from .responses import (
    ASPECT_PREFIX,
    REQUIRED_COLUMNS,
    RESPONSE_COLUMNS,
    aspect_columns,
    missing_columns,
    normalize_responses,
)
from .sequential import confidence_sequence_radius, panelist_rates

SUMMARY_VERSION = 2

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
    ties: str = "half",
    n_bootstrap: int = 1000,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Summarise a study's responses.

    ``responses``: one row per response with at least ``panelist_id, system_a, system_b,
    choice`` (raw text or already normalised), or one row per heard track with
    ``panelist_id, system, is_ai, guess`` for the single-track ``identification`` figures.
    Rules, applied in this order and each reported in ``meta["exclusions"]``:

    - ``exclude_catch``: catch trials (attention checks) are not comparisons; they are left out
      of the preference, liked and AI-identification figures (the rater figures use them).
    - ``exclude_failed_catch``: drop every response of a panelist whose catch-trial pass rate
      is below ``min_catch_pass_rate`` (default 0.85, MUSHRA post-screening).
    - ``min_listen_s``: drop responses where either track was heard for less than this many
      seconds (responses without listen times are kept).
    - ``exclude_simulated``: drop simulated panelists' responses.

    When a rule beyond catch trials removes responses, ``without_exclusions`` repeats the
    headline figures without it. ``confidence``: level of every interval (0.95 = 95%).
    ``ties``: ``"half"`` (a tie is half a win each way) or ``"davidson"`` for the ranking.
    ``n_bootstrap``: panelist-bootstrap rounds (0 = no bootstrap intervals); ``seed`` makes
    them reproducible; ``progress`` is called with the rounds finished after each chunk.

    Returns a dict with the keys ``meta, pairs, systems, liked, ai_identification,
    identification, raters, panels, planning, progress, without_exclusions``
    (docs/statistics.md).
    """
    frame = normalize_responses(responses)
    has_votes = set(REQUIRED_COLUMNS) <= set(frame.columns)
    missing = missing_columns(frame) if has_votes else []
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
    meta: dict[str, Any] = {
        "version": SUMMARY_VERSION,
        "n_responses": int(len(frame)),
        "n_panelists": _n_distinct(frame["panelist_id"]),
        "n_analysed": int(len(analysed)),
        "n_excluded": int((~keep).sum()),
        "exclusions": exclusions,
        "n_votes": 0,
        "n_not_votes": 0,
        "not_votes_reason": "choice missing or not a/b/tie, a system name missing, "
        "or the same system on both sides",
        "n_simulated": int(frame["simulated"].sum()) if "simulated" in frame else None,
        "confidence": confidence,
        "seed": seed,
        "columns_missing": missing,
        "figures_left_out": notes,
        "source_sha256": frame.attrs.get("sha256"),
        "ranking": None,
    }
    summary: dict[str, Any] = {
        "meta": meta,
        "pairs": [],
        "systems": [],
        "liked": [],
        "ai_identification": None,
        "identification": None,
        "raters": None,
        "panels": panel_summary(frame, keep, notes=notes),
        "planning": None,
        "progress": progress_summary(frame, keep, notes=notes),
        "without_exclusions": None,
    }
    if has_votes:
        comparable = comparable_rows(analysed)
        meta["n_votes"] = int(comparable.sum())
        meta["n_not_votes"] = int((~comparable).sum())
        comparisons = build_comparisons(analysed)
        systems, ranking_meta, bootstrap = system_ranking(
            comparisons,
            ties=ties,
            n_bootstrap=n_bootstrap,
            seed=seed,
            confidence=confidence,
            progress=progress,
        )
        summary["pairs"] = pair_summary(
            analysed, confidence=confidence, comparisons=comparisons, bootstrap=bootstrap
        )
        summary["systems"] = systems
        meta["ranking"] = ranking_meta
        if comparisons.n_systems < 2:
            notes.append({"figure": "systems", "reason": "needs votes between two systems"})
        summary["liked"] = liked_summary(analysed, confidence=confidence, notes=notes)
        summary["ai_identification"] = ai_identification_summary(
            analysed, confidence=confidence, notes=notes
        )
        summary["raters"] = rater_summary(frame, confidence=confidence)
        summary["planning"] = planning_summary(comparisons)
        if any(item["rule"] != "catch_trials" and item["n_responses"] for item in exclusions):
            summary["without_exclusions"] = _without_exclusions(
                frame, exclude_catch=exclude_catch, confidence=confidence
            )
    else:
        notes.append(
            {
                "figure": "pairs, systems, liked, ai_identification, raters, planning",
                "reason": "need the columns " + ", ".join(REQUIRED_COLUMNS),
            }
        )
    if has_identification_columns(analysed):
        summary["identification"] = identification_summary(analysed, confidence=confidence)
    else:
        notes.append(
            {
                "figure": "identification",
                "reason": "needs one row per heard track with the columns "
                + ", ".join(IDENTIFICATION_COLUMNS),
            }
        )
    return json_ready(summary)


def _without_exclusions(
    frame: pd.DataFrame, *, exclude_catch: bool, confidence: float
) -> dict[str, Any]:
    """The headline figures with no exclusion rule but the catch-trial one."""
    keep = ~frame["is_catch"] if exclude_catch and "is_catch" in frame else frame.index >= 0
    analysed = frame[keep].reset_index(drop=True)
    return {
        "n_analysed": int(len(analysed)),
        "pairs": pair_summary(analysed, confidence=confidence),
        "liked": liked_summary(analysed, confidence=confidence),
        "ai_identification": ai_identification_summary(analysed, confidence=confidence),
    }


PLANNING_WIN_RATES = (0.55, 0.6, 0.65, 0.7)


def planning_summary(
    comparisons: Comparisons, *, alpha: float = 0.05, power: float = 0.8
) -> dict[str, Any]:
    """Panelists per pair needed to detect each of :data:`PLANNING_WIN_RATES` against 50%,
    with the votes per panelist and the intra-class correlation measured in these data."""
    design = pilot_design(comparisons)
    icc = design["icc"] or 0.0
    per_panelist = design["votes_per_panelist_per_pair"]
    scenarios = []
    for rate in PLANNING_WIN_RATES:
        plan = panelists_needed(
            rate, votes_per_panelist=per_panelist, icc=icc, alpha=alpha, power=power
        )
        scenarios.append({"win_rate": rate, **plan})
    return {
        "icc": design["icc"],
        "votes_per_panelist_per_pair": per_panelist,
        "design_effect": 1.0 + (max(per_panelist, 1.0) - 1.0) * icc,
        "alpha": alpha,
        "power": power,
        "test": "two-sided test of a pair's win rate against 50%",
        "scenarios": scenarios,
    }


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


def pair_summary(
    analysed: pd.DataFrame,
    *,
    confidence: float = 0.95,
    comparisons: Comparisons | None = None,
    bootstrap: BootstrapResult | None = None,
) -> list[dict[str, Any]]:
    """Per unordered system pair: counts, win rate of ``system_a`` with Wilson interval and
    exact binomial p-value, multiplicity-adjusted p-values, listener-cluster intervals and an
    anytime-valid confidence sequence.

    ``system_a`` / ``system_b`` here are the pair's systems in alphabetical order, whatever
    position they were shown at. ``win_rate_a = (wins_a + ties / 2) / n``; its interval is the
    Wilson interval with ``wins_a + ties / 2`` successes in ``n`` trials. ``p_value`` is the
    exact two-sided binomial test of ``wins_a`` in ``wins_a + wins_b`` decisive votes against
    0.5 (ties carry no information about the direction); ``p_holm`` and ``p_bh`` adjust it
    across all pairs (Holm; Benjamini-Hochberg).

    ``cluster_ci_low/high``: percentile interval from ``bootstrap`` (panelists resampled), or,
    without one, a cluster-robust Wald interval; ``design_effect`` is the cluster-robust
    variance over the binomial variance. ``cs_*``: see :mod:`evaluation.stats.sequential`.
    """
    if comparisons is None:
        comparisons = build_comparisons(analysed)
    counts = pair_counts(comparisons)
    n = counts["n"].astype(float)
    successes = counts["wins_first"] + counts["ties"] / 2.0
    low, high = wilson_intervals(successes, n, confidence)
    p_values = binomial_p_values_half(
        counts["wins_first"], counts["wins_first"] + counts["wins_second"]
    )
    p_holm, p_bh = holm(p_values), benjamini_hochberg(p_values)
    cluster = _cluster_figures(comparisons, confidence)
    if bootstrap is not None:
        low_boot, high_boot = percentile_interval(bootstrap.pair_rates, confidence)
        # One panelist's votes give no information about between-panelist variation.
        several = counts["n_panelists"] > 1
        cluster["low"] = np.where(several, low_boot, np.nan)
        cluster["high"] = np.where(several, high_boot, np.nan)
        cluster_method = f"panelist bootstrap, {bootstrap.n_rounds} rounds, percentile"
    else:
        cluster_method = "cluster-robust (panelist) Wald interval"
    sequences = _confidence_sequences(analysed, comparisons, confidence)
    pairs = []
    for k in range(comparisons.n_pairs):
        wins_a = int(counts["wins_first"][k])
        wins_b = int(counts["wins_second"][k])
        system_a = comparisons.systems[comparisons.pair_first[k]]
        system_b = comparisons.systems[comparisons.pair_second[k]]
        cs_low, cs_high, cs_rate, cs_n = sequences[k]
        decided = None
        if cs_low > 0.5:
            decided = system_a
        elif cs_high < 0.5:
            decided = system_b
        pairs.append(
            {
                "system_a": system_a,
                "system_b": system_b,
                "n": int(n[k]),
                "n_panelists": int(counts["n_panelists"][k]),
                "wins_a": wins_a,
                "wins_b": wins_b,
                "ties": int(counts["ties"][k]),
                "win_rate_a": float(successes[k] / n[k]),
                "ci_low": float(low[k]),
                "ci_high": float(high[k]),
                "p_value": float(p_values[k]),
                "p_holm": float(p_holm[k]),
                "p_bh": float(p_bh[k]),
                "cluster_ci_low": float(cluster["low"][k]),
                "cluster_ci_high": float(cluster["high"][k]),
                "cluster_ci_method": cluster_method,
                "design_effect": float(cluster["design_effect"][k]),
                "cs_rate": cs_rate,
                "cs_n_panelists": cs_n,
                "cs_low": cs_low,
                "cs_high": cs_high,
                "decided": decided is not None,
                "decided_for": decided,
            }
        )
    return pairs


def _cluster_figures(comparisons: Comparisons, confidence: float) -> dict[str, np.ndarray]:
    """Cluster-robust (panelists as clusters) variance of each pair's win rate.

    For a ratio estimator ``r = sum(y_p) / sum(n_p)`` over panelists ``p`` with ``y_p`` the
    panelist's score on the pair and ``n_p`` their votes: ``var = G / (G - 1) *
    sum((y_p - r n_p)^2) / N^2``. The design effect divides it by the naive variance
    ``s^2 / N`` of independent votes.
    """
    k = comparisons.n_pairs
    scores = comparisons.first_score
    cell = comparisons.panelist * k + comparisons.pair
    cells, inverse = np.unique(cell, return_inverse=True)
    cell_pair = cells % k if k else cells
    cell_scores = np.bincount(inverse, weights=scores)
    cell_votes = np.bincount(inverse).astype(float)
    votes = np.bincount(comparisons.pair, minlength=k).astype(float)
    rate = np.bincount(comparisons.pair, weights=scores, minlength=k) / np.maximum(votes, 1)
    clusters = np.bincount(cell_pair, minlength=k).astype(float)
    residual = (cell_scores - rate[cell_pair] * cell_votes) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = (
            clusters / (clusters - 1.0) * np.bincount(cell_pair, residual, minlength=k)
        ) / votes**2
        vote_variance = (
            np.bincount(comparisons.pair, (scores - rate[comparisons.pair]) ** 2, minlength=k)
            / votes
        )
        design_effect = variance / (vote_variance / votes)
    variance = np.where(clusters > 1, variance, np.nan)
    design_effect = np.where((clusters > 1) & (vote_variance > 0), design_effect, np.nan)
    half = z_value(confidence) * np.sqrt(variance)
    return {
        "low": np.clip(rate - half, 0.0, 1.0),
        "high": np.clip(rate + half, 0.0, 1.0),
        "design_effect": design_effect,
    }


def _confidence_sequences(
    analysed: pd.DataFrame, comparisons: Comparisons, confidence: float
) -> list[tuple[float, float, float, int]]:
    """Per pair ``(low, high, panelist-averaged rate, panelists)`` of the confidence sequence
    at the current look; panelists ordered by their first submission (file order without
    timestamps)."""
    order = comparisons.row.astype(float)
    if "submitted_at" in analysed and comparisons.n_votes:
        times = analysed["submitted_at"].iloc[comparisons.row]
        if times.notna().all():
            order = (times - times.min()).dt.total_seconds().to_numpy()
    sequences = panelist_rates(
        comparisons.first_score, comparisons.panelist, comparisons.pair, comparisons.n_pairs, order
    )
    alpha = 1.0 - confidence
    result = []
    for rates in sequences:
        radius = confidence_sequence_radius(rates.size, alpha)
        rate = float(rates.mean()) if rates.size else math.nan
        result.append((max(0.0, rate - radius), min(1.0, rate + radius), rate, int(rates.size)))
    return result


def liked_summary(
    analysed: pd.DataFrame, *, confidence: float = 0.95, notes: list | None = None
) -> list[dict[str, Any]]:
    """Per system: how many of the answered "did you like it?" questions were yes.

    ``liked_a`` belongs to the system at position A, ``liked_b`` to the one at B. ``rate`` is
    ``liked / n`` with its Wilson interval; ``of_10`` (and ``of_10_low``, ``of_10_high``) are
    the same in "N of 10 liked it" units.

    When the CSV records aspect choices (``aspect_<name>`` columns, ``a``/``b``/``tie``), each
    row also has ``aspects``: per aspect, of the ``n_liked`` times the system's track was liked
    and the aspect answered, how often (``preferred_other``, ``share`` with Wilson interval)
    the *other* track was preferred on that aspect.
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
    aspects = _liked_but_other_on_aspect(analysed, confidence)
    rows = []
    for index, system in enumerate(grouped.index):
        rate = liked[index] / n[index]
        extra = {"aspects": aspects.get(str(system), [])} if aspects else {}
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
                **extra,
            }
        )
    return rows


def _liked_but_other_on_aspect(
    analysed: pd.DataFrame, confidence: float
) -> dict[str, list[dict[str, Any]]]:
    """Per system and aspect: liked the system's track but preferred the other on the aspect."""
    columns = aspect_columns(analysed)
    if not columns:
        return {}
    result: dict[str, list[dict[str, Any]]] = {}
    for column in columns:
        parts = []
        for side, other in (("a", "b"), ("b", "a")):
            if f"liked_{side}" not in analysed:
                continue
            answered = (analysed[f"liked_{side}"] == 1.0) & analysed[column].isin(["a", "b", "tie"])
            rows = analysed[answered]
            parts.append(
                pd.DataFrame({"system": rows[f"system_{side}"], "other": rows[column] == other})
            )
        if not parts:
            continue
        answers = pd.concat(parts, ignore_index=True)
        counts = answers.groupby("system")["other"].agg(["size", "sum"])
        for system, (n_liked, preferred_other) in counts.iterrows():
            low, high = wilson_intervals(
                np.array([float(preferred_other)]), np.array([float(n_liked)]), confidence
            )
            result.setdefault(str(system), []).append(
                {
                    "aspect": column[len(ASPECT_PREFIX) :],
                    "n_liked": int(n_liked),
                    "preferred_other": int(preferred_other),
                    "share": float(preferred_other) / float(n_liked),
                    "ci_low": float(low[0]),
                    "ci_high": float(high[0]),
                }
            )
    return result


def ai_identification_summary(
    analysed: pd.DataFrame, *, confidence: float = 0.95, notes: list | None = None
) -> dict[str, Any] | None:
    """How often listeners picked the AI track of a human-vs-AI pair.

    Scorable rows: ``ai_side`` is ``a`` or ``b`` and ``guess_ai`` is ``a``, ``b`` or
    ``unsure``. ``accuracy = correct / n`` over all scorable answers, an ``unsure`` answer
    counting as not correct (so chance is below 50% when listeners say "unsure");
    ``unsure_rate`` is reported beside it. ``accuracy_decided = correct / n_decided`` over the
    a/b guesses only, and ``p_value`` is the exact two-sided binomial test of ``correct`` in
    ``n_decided`` against 0.5. ``d_prime`` (with ``d_prime_low``, ``d_prime_high``) is the
    two-alternative d' of ``(correct + unsure / 2) / n``. ``by_expertise`` repeats the figures
    per expertise group.
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
        # d' of a two-alternative choice; "can't tell" scores what a coin flip would (half).
        **d_prime_two_alternative(correct + unsure / 2.0, n, confidence),
    }


def progress_summary(
    frame: pd.DataFrame, keep: pd.Series, *, notes: list | None = None
) -> list[dict[str, Any]]:
    """Collection per UTC day: ``date`` (YYYY-MM-DD), ``responses``, ``responses_total``,
    ``analysed_total``, ``panelists_new`` (first response that day), ``panelists_total``.

    Days without responses between the first and the last are listed with zero new ones, so
    the series is evenly spaced. Empty without a ``submitted_at`` column or times.
    """
    if "submitted_at" not in frame or frame["submitted_at"].isna().all():
        if notes is not None:
            notes.append({"figure": "progress", "reason": "needs the column submitted_at"})
        return []
    timed = frame.assign(analysed=keep.to_numpy())[frame["submitted_at"].notna()]
    day = timed["submitted_at"].dt.tz_convert("UTC").dt.floor("D").dt.tz_localize(None)
    days = pd.date_range(day.min(), day.max(), freq="D")
    responses = day.value_counts().reindex(days, fill_value=0)
    analysed = day[timed["analysed"].to_numpy()].value_counts().reindex(days, fill_value=0)
    first_day = day.groupby(timed["panelist_id"].to_numpy()).min()
    new_panelists = first_day.value_counts().reindex(days, fill_value=0)
    return [
        {
            "date": date.strftime("%Y-%m-%d"),
            "responses": int(responses.iloc[index]),
            "responses_total": int(responses.iloc[: index + 1].sum()),
            "analysed_total": int(analysed.iloc[: index + 1].sum()),
            "panelists_new": int(new_panelists.iloc[index]),
            "panelists_total": int(new_panelists.iloc[: index + 1].sum()),
        }
        for index, date in enumerate(days)
    ]


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

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

from .aspects import aspects_summary, has_aspect_columns
from .breakdowns import breakdowns
from .clusters import CLUSTER_METHOD, cluster_estimate, cluster_share, grouped_shares
from .comparisons import Comparisons, build_comparisons, pair_counts
from .contract import Summary
from .defaults import MUSHRA_MIN_CATCH_PASS_RATE
from .detection import d_prime_from_share
from .familiarity import familiarity_summary, has_familiar_answers
from .hit_potential import DEFAULT_HIT_THRESHOLD, has_hit_columns, hit_potential_summary
from .identification import (
    IDENTIFICATION_COLUMNS,
    SINGLE_TRIAL_COLUMNS,
    has_identification_columns,
    has_single_trials,
    identification_summary,
    single_judgments,
)
from .intervals import binomial_p_value, binomial_p_values_half, wilson_intervals
from .multiplicity import benjamini_hochberg, holm
from .planning import design_effect, exact_binomial_votes, panelists_needed, pilot_design
from .pool import has_pool_rows, pool_summary
from .ranking import system_ranking
from .raters import rater_summary
from .responses import (
    ASPECT_PREFIX,
    REQUIRED_COLUMNS,
    RESPONSE_COLUMNS,
    ResponsesError,
    aspect_columns,
    missing_columns,
    normalize_responses,
    pairwise_mask,
    reader_codes,
)
from .sequential import monitor
from .verdicts import DEFAULT_MIN_PANELISTS, VERDICT_METHOD, chance_verdict, pair_verdicts

SUMMARY_VERSION = 4


def summarize(
    responses: pd.DataFrame,
    *,
    exclude_catch: bool = True,
    exclude_failed_catch: bool = False,
    min_catch_pass_rate: float = MUSHRA_MIN_CATCH_PASS_RATE,
    min_listen_s: float | None = None,
    include_simulated: bool = False,
    confidence: float = 0.95,
    ties: str = "half",
    n_bootstrap: int = 1000,
    seed: int = 0,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
    hit_threshold: float = DEFAULT_HIT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> Summary:
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
    - simulated panelists' responses are dropped unless ``include_simulated``.

    When a rule beyond catch trials removes responses, ``without_exclusions`` repeats the
    headline figures without it. ``confidence``: level of every interval (0.95 = 95%).
    ``ties``: ``"half"`` (a tie is half a win each way) or ``"davidson"`` for the ranking.
    ``n_bootstrap``: panelist-bootstrap rounds (0 = no bootstrap intervals); ``seed`` makes
    them reproducible; ``progress`` is called with the rounds finished after each chunk.
    ``min_panelists``: panelists a comparison needs before it gets a verdict (fewer give
    ``too_little_data``; the study setting ``stats_min_panelists``). ``hit_threshold``: the
    rate an AI system's playlist / release share is tested against (one-sided, default 5%).

    Pairwise figures (pairs, systems, liked, ai_identification, raters, planning) use only
    the rows whose ``trial_kind`` is ``ab`` or empty; the study-design sections ``aspects``,
    ``pool``, ``identification`` (single-track trials), ``familiarity`` and ``hit_potential``
    read their own rows and are None, with the reason in ``meta.figures_left_out``, when the
    columns or rows they need are absent.

    Returns a :class:`evaluation.stats.contract.Summary` (a JSON-ready dict with the keys
    ``meta, pairs, systems, liked, ai_identification, identification, raters, panels,
    planning, progress, without_exclusions, aspects, pool, familiarity, hit_potential``;
    docs/statistics.md, docs/summary.schema.json).
    """
    frame = normalize_responses(responses)
    _check_panelist_ids(frame)
    has_votes = set(REQUIRED_COLUMNS) <= set(frame.columns)
    missing = missing_columns(frame) if has_votes else []
    notes: list[dict[str, str]] = []
    keep, exclusions = _exclusions(
        frame,
        exclude_catch=exclude_catch,
        exclude_failed_catch=exclude_failed_catch,
        min_catch_pass_rate=min_catch_pass_rate,
        min_listen_s=min_listen_s,
        exclude_simulated=not include_simulated,
        notes=notes,
    )
    if np.all(keep) and frame.index.equals(pd.RangeIndex(len(frame))):
        # Nothing excluded: the same rows without copying a million of them (nothing below
        # writes into the frame).
        analysed = frame.copy(deep=False)
    else:
        analysed = frame[keep].reset_index(drop=True)
    pairwise = _pairwise_rows(analysed)
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
        "alpha": 1.0 - confidence,
        "min_panelists": int(min_panelists),
        "include_simulated": bool(include_simulated),
        "listeners": listener_summary(analysed),
        "seed": seed,
        "columns_missing": missing,
        "figures_left_out": notes,
        "source_sha256": frame.attrs.get("sha256"),
        "ranking": None,
        "n_by_trial_kind": trial_kind_counts(analysed),
        "hit_threshold": float(hit_threshold),
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
        "aspects": None,
        "pool": None,
        "familiarity": None,
        "hit_potential": None,
    }
    if has_votes:
        comparisons = build_comparisons(pairwise)
        meta["n_votes"] = comparisons.n_votes
        meta["n_not_votes"] = int(len(pairwise)) - comparisons.n_votes
        systems, ranking_meta, _ = system_ranking(
            comparisons,
            ties=ties,
            n_bootstrap=n_bootstrap,
            seed=seed,
            confidence=confidence,
            min_panelists=min_panelists,
            progress=progress,
        )
        summary["pairs"] = pair_summary(
            pairwise, confidence=confidence, comparisons=comparisons, min_panelists=min_panelists
        )
        summary["systems"] = systems
        meta["ranking"] = ranking_meta
        if comparisons.n_systems < 2:
            notes.append({"figure": "systems", "reason": "needs votes between two systems"})
        summary["liked"] = liked_summary(pairwise, confidence=confidence, notes=notes)
        summary["ai_identification"] = ai_identification_summary(
            pairwise, confidence=confidence, notes=notes, min_panelists=min_panelists
        )
        # Rater quality is measured on catch trials too, but never on simulated panelists
        # unless they are analysed.
        people = _pairwise_rows(frame)
        if not include_simulated and "simulated" in people:
            people = people[~people["simulated"]].reset_index(drop=True)
        # The analysed rows are exactly the raters' votes unless a rule beyond catch trials
        # and simulated panelists removed some: then the votes are encoded once.
        same = exclude_catch and not any(
            item["n_responses"] for item in exclusions if item["rule"] not in SAME_VOTE_RULES
        )
        summary["raters"] = rater_summary(
            people,
            confidence=confidence,
            votes=pairwise if same else None,
            comparisons=comparisons if same else None,
        )
        summary["planning"] = planning_summary(
            comparisons, alpha=1.0 - confidence, min_panelists=min_panelists
        )
        summary["breakdowns"] = breakdowns(
            pairwise, confidence=confidence, min_panelists=min_panelists
        )
        if any(
            item["rule"] not in ("catch_trials", "simulated") and item["n_responses"]
            for item in exclusions
        ):
            summary["without_exclusions"] = _without_exclusions(
                frame,
                exclude_catch=exclude_catch,
                confidence=confidence,
                min_panelists=min_panelists,
            )
    else:
        notes.append(
            {
                "figure": "pairs, systems, liked, ai_identification, raters, planning",
                "reason": "need the columns " + ", ".join(REQUIRED_COLUMNS),
            }
        )
    summary["identification"] = _identification(
        analysed, confidence=confidence, min_panelists=min_panelists, notes=notes
    )
    _design_sections(
        summary,
        analysed,
        confidence=confidence,
        min_panelists=min_panelists,
        hit_threshold=hit_threshold,
        n_bootstrap=n_bootstrap,
        seed=seed,
        notes=notes,
    )
    return json_ready(summary)


def _pairwise_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows pairwise figures use (``trial_kind`` ``ab`` or empty): the frame itself when
    that is every row (no copy of a million rows), else a re-indexed subset."""
    mask = pairwise_mask(frame)
    if mask.all():
        return frame
    return frame[mask].reset_index(drop=True)


def trial_kind_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per design: ``{"ab", "single", "pool"}`` (an empty ``trial_kind`` counts as ab;
    a pool trial has one row per candidate)."""
    if "trial_kind" not in frame:
        return {"ab": int(len(frame)), "single": 0, "pool": 0}
    counts = frame["trial_kind"].value_counts()
    return {
        "ab": int(counts.get("ab", 0) + counts.get("", 0)),
        "single": int(counts.get("single", 0)),
        "pool": int(counts.get("pool", 0)),
    }


def _identification(
    analysed: pd.DataFrame, *, confidence: float, min_panelists: int, notes: list | None
) -> dict[str, Any] | None:
    """Single-track "human or AI?" figures: from ``system, is_ai, guess`` columns, or from
    the export's single-track trials (truth ``system_a_kind``, guess ``guess_kind``)."""
    if has_identification_columns(analysed):
        return identification_summary(analysed, confidence=confidence, min_panelists=min_panelists)
    if has_single_trials(analysed):
        return identification_summary(
            single_judgments(analysed),
            confidence=confidence,
            min_panelists=min_panelists,
            source="single_trials",
        )
    if notes is not None:
        notes.append(
            {
                "figure": "identification",
                "reason": "needs single-track trials (trial_kind single with "
                + ", ".join(SINGLE_TRIAL_COLUMNS[1:])
                + ") or one row per heard track with the columns "
                + ", ".join(IDENTIFICATION_COLUMNS),
            }
        )
    return None


def _design_sections(
    summary: dict[str, Any],
    analysed: pd.DataFrame,
    *,
    confidence: float,
    min_panelists: int,
    hit_threshold: float,
    n_bootstrap: int,
    seed: int,
    notes: list,
) -> None:
    """Fill ``aspects``, ``pool``, ``familiarity`` and ``hit_potential`` (or say why not)."""
    if has_aspect_columns(analysed):
        summary["aspects"] = aspects_summary(
            analysed, confidence=confidence, min_panelists=min_panelists
        )
    else:
        notes.append(
            {
                "figure": "aspects",
                "reason": "needs aspect_<name>, score_<name>_a/_b, rating_a/_b or "
                "weaker_a/_b columns",
            }
        )
    if has_pool_rows(analysed):
        summary["pool"] = pool_summary(
            analysed,
            confidence=confidence,
            min_panelists=min_panelists,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
    else:
        notes.append(
            {
                "figure": "pool",
                "reason": "needs pool trials (trial_kind pool with system_a, system_a_kind, "
                "pick_rank)",
            }
        )
    if has_familiar_answers(analysed):
        summary["familiarity"] = familiarity_summary(
            analysed,
            {key: summary[key] for key in ("pairs", "ai_identification", "identification")},
            lambda rows: _headline_figures(rows, confidence, min_panelists),
            confidence=confidence,
        )
    else:
        notes.append({"figure": "familiarity", "reason": "needs answers in the column familiar"})
    if has_hit_columns(analysed):
        summary["hit_potential"] = hit_potential_summary(
            analysed, threshold=hit_threshold, confidence=confidence, min_panelists=min_panelists
        )
    else:
        notes.append(
            {
                "figure": "hit_potential",
                "reason": "needs the columns playlist_a/_b or release_a/_b",
            }
        )


def _headline_figures(rows: pd.DataFrame, confidence: float, min_panelists: int) -> dict[str, Any]:
    """``pairs``, ``ai_identification`` and ``identification`` of ``rows``, by the functions
    and rule the summary uses (for the familiarity section's "without familiar")."""
    pairwise = _pairwise_rows(rows)
    has_votes = set(REQUIRED_COLUMNS) <= set(rows.columns)
    return {
        "pairs": pair_summary(pairwise, confidence=confidence, min_panelists=min_panelists)
        if has_votes
        else [],
        "ai_identification": ai_identification_summary(
            pairwise, confidence=confidence, min_panelists=min_panelists
        )
        if has_votes
        else None,
        "identification": _identification(
            rows, confidence=confidence, min_panelists=min_panelists, notes=None
        ),
    }


def _check_panelist_ids(frame: pd.DataFrame) -> None:
    """Refuse responses without a panelist id: listeners, not votes, are the unit of every
    figure, so a row that cannot be given to a listener cannot be counted honestly."""
    read = reader_codes(frame["panelist_id"])
    if read is not None:
        codes, uniques = read
        blank_code = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
        blank = np.flatnonzero(codes == blank_code[0]) if blank_code.size else blank_code
    else:
        blank = np.flatnonzero((frame["panelist_id"] == "").to_numpy())
    if blank.size:
        # CSV line numbers: the header is line 1.
        lines = ", ".join(str(index + 2) for index in blank[:10])
        more = f" and {blank.size - 10} more" if blank.size > 10 else ""
        raise ResponsesError(
            f"{blank.size} responses have no panelist_id (CSV lines {lines}{more}); every "
            "response needs its panelist's pseudonymous id, because listeners, not votes, are "
            "what the statistics count. Fill the column or remove those rows."
        )


def _without_exclusions(
    frame: pd.DataFrame, *, exclude_catch: bool, confidence: float, min_panelists: int
) -> dict[str, Any]:
    """The headline figures with no exclusion rule but the catch-trial and simulated ones."""
    keep = ~frame["is_catch"] if exclude_catch and "is_catch" in frame else frame.index >= 0
    if "simulated" in frame:
        keep = keep & ~frame["simulated"]
    analysed = frame[keep & pairwise_mask(frame)].reset_index(drop=True)
    return {
        "n_analysed": int(len(analysed)),
        "pairs": pair_summary(analysed, confidence=confidence, min_panelists=min_panelists),
        "liked": liked_summary(analysed, confidence=confidence),
        "ai_identification": ai_identification_summary(
            analysed, confidence=confidence, min_panelists=min_panelists
        ),
    }


SAME_VOTE_RULES = ("catch_trials", "simulated")
"""Exclusion rules after which the analysed votes are the rater figures' votes."""

PLANNING_WIN_RATES = (0.55, 0.6, 0.65, 0.7)


def planning_summary(
    comparisons: Comparisons,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
) -> dict[str, Any]:
    """How many panelists × votes each the report's test needs to call each of
    :data:`PLANNING_WIN_RATES` against 50% on one pair (:mod:`evaluation.stats.planning`),
    with the votes per panelist per pair (their spread included) and the intra-class
    correlation measured in these data, at the per-pair level ``alpha / n_pairs``."""
    design = pilot_design(comparisons)
    icc = design["icc"] or 0.0
    counts = design["vote_counts"]
    n_pairs = max(comparisons.n_pairs, 1)
    scenarios = []
    for rate in PLANNING_WIN_RATES:
        plan = panelists_needed(
            rate,
            votes_per_panelist=counts,
            icc=icc,
            alpha=alpha,
            power=power,
            n_pairs=n_pairs,
            min_panelists=min_panelists,
        )
        exact = exact_binomial_votes(rate, alpha=alpha, power=power)
        scenarios.append({"win_rate": rate, **plan, "independent_votes_exact": exact["stays_from"]})
    return {
        "icc": design["icc"],
        "votes_per_panelist_per_pair": design["votes_per_panelist_per_pair"],
        "votes_per_panelist_cv": float(np.std(counts) / np.mean(counts)),
        "design_effect": design_effect(counts, icc),
        "alpha": alpha,
        "alpha_pair": alpha / n_pairs,
        "n_pairs": n_pairs,
        "power": power,
        "test": VERDICT_METHOD,
        "scenarios": scenarios,
    }


def _n_distinct(values: pd.Series) -> int:
    """Distinct panelist ids (blank ids are refused before any figure is computed)."""
    read = reader_codes(values)
    if read is not None:
        return int(read[1].size)  # every distinct cell the reader kept occurs in the column
    return int(values.nunique())


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
    min_panelists: int = DEFAULT_MIN_PANELISTS,
) -> list[dict[str, Any]]:
    """Per unordered system pair: counts, the verdict, and the figures behind it.

    ``system_a`` / ``system_b`` here are the pair's systems in alphabetical order, whatever
    position they were shown at. Vote-level figures (every vote counted as independent; shown
    for reference, no sentence rests on them): ``win_rate_a = (wins_a + ties / 2) / n`` with its
    Wilson interval ``ci_low/ci_high``; ``p_value``, the exact two-sided binomial test of
    ``wins_a`` in ``wins_a + wins_b`` decisive votes, and its Holm / Benjamini-Hochberg
    adjustments ``p_holm`` / ``p_bh``.

    Listener-level figures (what the verdict and every sentence use): ``panelist_rate_a``, the
    mean over panelists of each panelist's own win share for ``system_a`` (ties half), its
    cluster interval ``cluster_ci_low/high`` (:mod:`evaluation.stats.clusters`, one-sided when
    ``cluster_ci_bound`` is ``lower``/``upper``) and t-test ``cluster_p_value``; ``verdict``
    (:mod:`evaluation.stats.verdicts`) with ``verdict_p``, the Holm-adjusted p it came from.
    ``design_effect``: the cluster variance of the panelist-averaged rate over the binomial
    variance of as many independent votes. ``cs_*`` / ``decided``: the monitor
    (:mod:`evaluation.stats.sequential`).
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
    order = _arrival_order(analysed, comparisons)
    shares = grouped_shares(
        comparisons.first_score,
        comparisons.panelist,
        comparisons.pair,
        comparisons.n_pairs,
        order,
        cells=comparisons.panelist_pair_cells,
    )
    estimates = [cluster_estimate(rates, votes, confidence=confidence) for rates, votes in shares]
    cluster_rates = np.array([np.nan if e["rate"] is None else e["rate"] for e in estimates])
    verdicts, verdict_p = pair_verdicts(
        cluster_rates,
        np.array([e["p_value"] for e in estimates]),
        np.array([e["n_panelists"] for e in estimates]),
        min_panelists=min_panelists,
        alpha=1.0 - confidence,
    )
    states = monitor([rates for rates, _ in shares], 1.0 - confidence)
    pairs = []
    for k in range(comparisons.n_pairs):
        system_a = comparisons.systems[comparisons.pair_first[k]]
        system_b = comparisons.systems[comparisons.pair_second[k]]
        estimate, state = estimates[k], states[k]
        decided = {True: system_a, False: system_b}.get(state["decided_first"])
        rates, votes = shares[k]
        pairs.append(
            {
                "system_a": system_a,
                "system_b": system_b,
                "n": int(n[k]),
                "n_panelists": int(counts["n_panelists"][k]),
                "wins_a": int(counts["wins_first"][k]),
                "wins_b": int(counts["wins_second"][k]),
                "ties": int(counts["ties"][k]),
                "win_rate_a": float(successes[k] / n[k]),
                "ci_low": float(low[k]),
                "ci_high": float(high[k]),
                "p_value": float(p_values[k]),
                "p_holm": float(p_holm[k]),
                "p_bh": float(p_bh[k]),
                "panelist_rate_a": estimate["rate"],
                "cluster_ci_low": estimate["low"],
                "cluster_ci_high": estimate["high"],
                "cluster_ci_bound": estimate["bound"],
                "cluster_ci_method": CLUSTER_METHOD,
                "cluster_p_value": estimate["p_value"],
                "design_effect": _design_effect(rates, votes, estimate),
                "verdict": verdicts[k],
                "verdict_p": float(verdict_p[k]),
                "verdict_method": VERDICT_METHOD,
                "cs_rate": state["rate"],
                "cs_n_panelists": state["n_panelists"],
                "cs_low": state["low"],
                "cs_high": state["high"],
                "cs_alpha": state["alpha"],
                "decided": decided is not None,
                "decided_for": decided,
            }
        )
    return pairs


def _design_effect(rates: np.ndarray, votes: np.ndarray, estimate: dict) -> float | None:
    """Cluster variance of the panelist-averaged rate over the binomial variance of as many
    independent votes (None when either is zero or there are fewer than two panelists)."""
    rate, count = estimate["rate"], rates.size
    if count < 2 or rate is None or not 0.0 < rate < 1.0:
        return None
    binomial = rate * (1.0 - rate) * float(np.sum(1.0 / votes)) / count**2
    return float(np.var(rates, ddof=1) / count / binomial)


def _arrival_order(analysed: pd.DataFrame, comparisons: Comparisons) -> np.ndarray:
    """Arrival key per vote: submission time in seconds, or file order without times."""
    order = comparisons.row.astype(float)
    if "submitted_at" in analysed and comparisons.n_votes:
        times = analysed["submitted_at"].iloc[comparisons.row]
        if times.notna().all():
            order = (times - times.min()).dt.total_seconds().to_numpy()
    return order


def liked_summary(
    analysed: pd.DataFrame, *, confidence: float = 0.95, notes: list | None = None
) -> list[dict[str, Any]]:
    """Per system: how many listeners liked its tracks ("did you like it?" answered yes).

    ``liked_a`` belongs to the system at position A, ``liked_b`` to the one at B. Vote level
    (reference): ``rate = liked / n`` over all answers with its Wilson interval
    ``ci_low/ci_high``. Listener level (what sentences use): ``panelist_rate``, the mean over
    panelists of each panelist's own share of liked answers (each listener weighted equally),
    with its cluster interval ``cluster_ci_low/high`` (``cluster_ci_bound``) over
    ``n_panelists`` panelists; ``of_10`` (``of_10_low``, ``of_10_high``) is the same in
    "N of 10 listeners" units.

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
                pd.DataFrame(
                    {
                        "system": analysed[f"system_{side}"],
                        "liked": analysed[column],
                        "panelist": analysed["panelist_id"],
                    }
                )
            )
    answers = pd.concat(parts, ignore_index=True)
    answers = answers[(answers["system"] != "") & answers["liked"].notna()]
    grouped = answers.groupby("system")["liked"].agg(["size", "sum"]).sort_index()
    n = grouped["size"].to_numpy(dtype=float)
    liked = grouped["sum"].to_numpy(dtype=float)
    low, high = wilson_intervals(liked, n, confidence)
    system_codes = pd.Categorical(answers["system"], categories=grouped.index).codes
    panelist_codes = pd.factorize(answers["panelist"].to_numpy())[0]
    shares = grouped_shares(
        answers["liked"].to_numpy(dtype=float), panelist_codes, system_codes, len(grouped)
    )
    aspects = _liked_but_other_on_aspect(analysed, confidence)
    rows = []
    for index, system in enumerate(grouped.index):
        rate = liked[index] / n[index]
        estimate = cluster_estimate(*shares[index], confidence=confidence)
        extra = {"aspects": aspects.get(str(system), [])} if aspects else {}
        rows.append(
            {
                "system": str(system),
                "n": int(n[index]),
                "liked": int(liked[index]),
                "rate": float(rate),
                "ci_low": float(low[index]),
                "ci_high": float(high[index]),
                "n_panelists": estimate["n_panelists"],
                "panelist_rate": estimate["rate"],
                "cluster_ci_low": estimate["low"],
                "cluster_ci_high": estimate["high"],
                "cluster_ci_bound": estimate["bound"],
                "of_10": 10.0 * estimate["rate"],
                "of_10_low": 10.0 * estimate["low"],
                "of_10_high": 10.0 * estimate["high"],
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
            rows = analysed.loc[answered, [f"system_{side}", column]]  # only what is read
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
    analysed: pd.DataFrame,
    *,
    confidence: float = 0.95,
    notes: list | None = None,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
) -> dict[str, Any] | None:
    """How often listeners picked the AI track of a human-vs-AI pair.

    Scorable rows: ``ai_side`` is ``a`` or ``b`` and ``guess_ai`` is ``a``, ``b`` or
    ``unsure``. ``accuracy = correct / n`` over all scorable answers, an ``unsure`` answer
    counting as not correct (so chance is below 50% when listeners say "unsure");
    ``unsure_rate`` is reported beside it. ``accuracy_decided = correct / n_decided`` over the
    a/b guesses only, and ``p_value`` is the exact two-sided binomial test of ``correct`` in
    ``n_decided`` against 0.5 (vote level, reference). Listener level (what sentences use):
    ``panelist_accuracy`` / ``panelist_accuracy_decided`` (each panelist's own share, averaged
    over panelists) with cluster intervals, and ``verdict`` / ``verdict_p``, the t-test of the
    per-panelist share of correct a/b guesses against 50%. ``d_prime`` (``d_prime_low``,
    ``d_prime_high``, ``d_prime_bound``) is the two-alternative d' of the panelist-level share
    ``(correct + unsure / 2) / n``, a lower bound only at the ceiling. ``by_expertise``
    repeats the figures per expertise group.
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
    # Only the columns read below: filtering every export column costs more than the figures.
    read = [
        name for name in ("panelist_id", "guess_ai", "ai_side", "expertise") if name in analysed
    ]
    scorable = analysed.loc[scorable_mask, read]
    figures = _identification_figures(scorable, confidence, min_panelists)
    figures["n_unscorable"] = int((~scorable_mask).sum())
    figures["unscorable_reason"] = (
        "no AI track or two (ai_side both/none/missing), or no guess given"
    )
    by_expertise = []
    if "expertise" in scorable:
        for group, rows in scorable.groupby("expertise", sort=True):
            by_expertise.append(
                {
                    "expertise": str(group) or "unknown",
                    **_identification_figures(rows, confidence, min_panelists),
                }
            )
    elif notes is not None:
        notes.append(
            {"figure": "ai_identification.by_expertise", "reason": "needs the column expertise"}
        )
    figures["by_expertise"] = by_expertise
    return figures


def _identification_figures(
    scorable: pd.DataFrame, confidence: float, min_panelists: int = DEFAULT_MIN_PANELISTS
) -> dict[str, Any]:
    n = int(len(scorable))
    hit = (scorable["guess_ai"] == scorable["ai_side"]).to_numpy()
    is_unsure = (scorable["guess_ai"] == "unsure").to_numpy()
    correct = int(hit.sum())
    unsure = int(is_unsure.sum())
    decided = n - unsure
    low, high = wilson_intervals(np.array([correct]), np.array([n]), confidence)
    decided_low, decided_high = wilson_intervals(
        np.array([correct]), np.array([decided]), confidence
    )
    panelists = scorable["panelist_id"].to_numpy()
    # Listener level: each panelist's own share of correct answers, then the mean over them.
    overall = cluster_share(hit.astype(float), panelists, confidence=confidence)
    among_decided = cluster_share(
        hit[~is_unsure].astype(float), panelists[~is_unsure], confidence=confidence
    )
    # "Can't tell" scores what a coin flip would (half) for the two-alternative d'.
    credit = cluster_share(hit + 0.5 * is_unsure, panelists, confidence=confidence)
    verdict = chance_verdict(
        among_decided["rate"],
        among_decided["p_value"],
        among_decided["n_panelists"],
        min_panelists=min_panelists,
        alpha=1.0 - confidence,
    )
    return {
        "n": n,
        "n_panelists": overall["n_panelists"],
        "correct": correct,
        "accuracy": correct / n if n else None,
        "ci_low": float(low[0]),
        "ci_high": float(high[0]),
        "panelist_accuracy": overall["rate"],
        "cluster_ci_low": overall["low"],
        "cluster_ci_high": overall["high"],
        "cluster_ci_bound": overall["bound"],
        "unsure": unsure,
        "unsure_rate": unsure / n if n else None,
        "n_decided": decided,
        "accuracy_decided": correct / decided if decided else None,
        "decided_ci_low": float(decided_low[0]),
        "decided_ci_high": float(decided_high[0]),
        "panelist_accuracy_decided": among_decided["rate"],
        "decided_cluster_ci_low": among_decided["low"],
        "decided_cluster_ci_high": among_decided["high"],
        "decided_cluster_ci_bound": among_decided["bound"],
        "p_value": binomial_p_value(correct, decided),
        "verdict": verdict,
        "verdict_p": among_decided["p_value"],
        "verdict_method": "t-test of the per-panelist share of correct a/b guesses against 50%",
        **d_prime_from_share(credit),
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


EXPERTISE_WORDS = {
    "professional": ("professional musician", "professional musicians"),
    "semi_professional": ("semi-professional musician", "semi-professional musicians"),
    "amateur": ("amateur musician", "amateur musicians"),
    "non_musician": ("non-musician", "non-musicians"),
    # The values of exports made before the four strata (read as they were written).
    "student": ("music student", "music students"),
    "hobbyist": ("amateur musician", "amateur musicians"),
    "none": ("non-musician", "non-musicians"),
    "": ("listener who did not say", "listeners who did not say"),
}
"""How each expertise answer is named in sentences (singular, plural)."""

MUSICIAN_EXPERTISE = ("professional", "semi_professional", "amateur", "student", "hobbyist")
"""Expertise answers that declare the listener a musician."""


def listener_summary(analysed: pd.DataFrame) -> dict[str, Any]:
    """Who answered: distinct analysed panelists, by declared expertise, and the sentence
    subject naming them ("12 listeners: 7 professional musicians, 5 amateur musicians").

    ``all_musicians`` is True only when every analysed panelist declared a musician
    expertise (professional, semi-professional or amateur; student or hobbyist in older
    exports); only then may a sentence say "musicians".
    """
    panelists = analysed
    if "expertise" in panelists:
        first = panelists.drop_duplicates("panelist_id")["expertise"]
        counts = first.value_counts()
    else:
        counts = pd.Series(dtype=int)
    total = _n_distinct(panelists["panelist_id"])
    groups = [
        {"expertise": str(group), "n": int(count)}
        for group, count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    ]
    parts = []
    for group in groups:
        singular, plural = EXPERTISE_WORDS.get(group["expertise"], (group["expertise"],) * 2)
        parts.append(f"{group['n']} {singular if group['n'] == 1 else plural}")
    noun = "listener" if total == 1 else "listeners"
    subject = f"{total} {noun}" + (f": {', '.join(parts)}" if parts and total else "")
    # Nobody declared anything (no expertise column) is not "all musicians".
    declared = sum(group["n"] for group in groups)
    all_musicians = (
        bool(total)
        and declared == total
        and all(group["expertise"] in MUSICIAN_EXPERTISE for group in groups)
    )
    return {"n": total, "by_expertise": groups, "all_musicians": all_musicians, "subject": subject}


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
    # The plain Python types first (a million responses give tens of thousands of values,
    # most of them in the rater rows); then the general cases below.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {
            key if type(key) is str else str(key): json_ready(item) for key, item in value.items()
        }
    if kind is list:
        return [json_ready(item) for item in value]
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

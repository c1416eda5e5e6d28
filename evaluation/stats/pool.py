"""Pool trials ("pick 1 of N"): is AI picked more or less often than its share of the pool,
how often each system is picked when shown, and a ranking from the picks.

Input: the ``pool`` rows of a normalised responses frame: one row per candidate shown, the
candidate in the ``_a`` columns (``system_a``, ``system_a_kind``), ``pool_size``,
``pool_position`` and ``pick_rank`` (1 = favourite, 2/3 = the optional top 3). A trial is the
rows sharing ``panelist_id`` and ``response_id`` (``trial_id`` when there is no response id);
a trial without a favourite is left out and counted.

Every figure is listener-level (:mod:`evaluation.stats.clusters`). Under "no preference" a
listener picks each of the ``N`` candidates with probability ``1/N``, so the expected AI share
of a trial's first pick is the AI share of its candidates ``e``; each listener's mean of
``picked_ai - e`` is the observation of a t-test with the variance floored at the null's
``Σ e (1 - e) / n_p²`` (:func:`evaluation.stats.clusters.cluster_difference`). Per system the
same test compares its pick rate per time shown with ``1/N``. The AI-share test and every
per-system test form the section's family: Holm across them
(:func:`evaluation.stats.verdicts.section_verdicts`). The ranking is Bradley-Terry on the
implied pairs (the favourite beat every other candidate; with a top 3, each ranked candidate
beat every candidate ranked below it or not ranked), with the panelist bootstrap of
:mod:`evaluation.stats.ranking` (implied pairs of one listener stay together).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .clusters import CLUSTER_METHOD, cluster_difference, cluster_estimate, grouped_shares
from .comparisons import build_comparisons
from .ranking import system_ranking
from .responses import trial_kind_mask
from .verdicts import DEFAULT_MIN_PANELISTS, section_verdicts

ABOVE, BELOW, NEITHER = "above_expected", "below_expected", "not_distinguishable_from_expected"
POOL_VERDICT_METHOD = (
    "t-test on per-panelist mean of (picked - expected under no preference), variance "
    "floored at the null's binomial variance, Holm-adjusted across the AI-share test and "
    "every system of the pool section"
)
RANKING_DATA = (
    "implied pairs: the favourite beat every other candidate of its trial; with a top 3, "
    "each ranked candidate beat every candidate ranked below it or not ranked"
)


POOL_COLUMNS = (
    "trial_kind",
    "panelist_id",
    "response_id",
    "trial_id",
    "system_a",
    "system_a_kind",
    "pick_rank",
)
"""The columns the pool section reads."""


def pool_rows(analysed: pd.DataFrame) -> pd.DataFrame:
    """The pool candidates (``trial_kind == "pool"``) with a ``trial`` key column."""
    rows = analysed[trial_kind_mask(analysed, "pool")]
    if rows.empty:
        return rows.assign(trial=pd.Series(dtype=object))
    response = rows["response_id"] if "response_id" in rows else pd.Series("", index=rows.index)
    trial = rows["trial_id"] if "trial_id" in rows else pd.Series("", index=rows.index)
    key = np.where(response.to_numpy() != "", response.to_numpy(), trial.to_numpy())
    return rows.assign(trial=rows["panelist_id"].to_numpy() + "\x1f" + key.astype(str))


def has_pool_rows(analysed: pd.DataFrame) -> bool:
    return "pick_rank" in analysed and bool(trial_kind_mask(analysed, "pool").any())


def pool_summary(
    analysed: pd.DataFrame,
    *,
    confidence: float = 0.95,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The ``pool`` section (docs/statistics.md, "Pool trials"): ``ai_share``, ``systems``
    (pick rate per time shown), ``ranking`` with ``ranking_meta``, and the counts."""
    # Only the columns this section reads: filtering all ~85 export columns costs more than
    # the section's own figures.
    rows = pool_rows(analysed[[column for column in POOL_COLUMNS if column in analysed]])
    rows = rows[rows["system_a"] != ""]
    favourite = rows["pick_rank"].to_numpy() == 1.0
    picked_trials = set(rows["trial"].to_numpy()[favourite])
    in_picked = rows["trial"].isin(picked_trials).to_numpy()
    without_pick = int(rows.loc[~in_picked, "trial"].nunique())
    rows = rows[in_picked]
    favourite = rows["pick_rank"].to_numpy() == 1.0
    trial_codes, trials = pd.factorize(rows["trial"].to_numpy())
    shown = np.bincount(trial_codes, minlength=len(trials)).astype(float)
    size = shown[trial_codes]  # candidates of the row's trial
    is_ai = (rows["system_a_kind"] == "ai").to_numpy() if "system_a_kind" in rows else None

    ai_share = _ai_share(rows, trial_codes, len(trials), favourite, is_ai, confidence)
    systems = _systems(rows, favourite, size, confidence)
    tests = ([ai_share] if ai_share is not None else []) + systems
    verdicts, adjusted = section_verdicts(
        np.array([np.nan if t["difference"] is None else t["difference"] for t in tests]),
        np.array([t["p_value"] for t in tests]),
        np.array([t["n_panelists"] for t in tests]),
        labels=(ABOVE, BELOW, NEITHER),
        min_panelists=min_panelists,
        alpha=1.0 - confidence,
    )
    for test, verdict, p_value in zip(tests, verdicts, adjusted, strict=True):
        test["verdict"] = verdict
        test["verdict_p"] = float(p_value)
    ranking, ranking_meta, n_implied = _ranking(
        rows, trial_codes, confidence, min_panelists, n_bootstrap, seed
    )
    return {
        "n_trials": int(len(trials)),
        "n_trials_without_pick": without_pick,
        "n_panelists": int(rows["panelist_id"].nunique()),
        "n_candidates_shown": int(len(rows)),
        "n_ranked_trials": int(len(set(rows["trial"].to_numpy()[rows["pick_rank"] >= 2]))),
        "mean_pool_size": float(shown.mean()) if shown.size else None,
        "ai_share": ai_share,
        "systems": systems,
        "ranking": ranking,
        "ranking_meta": ranking_meta,
        "ranking_data": RANKING_DATA,
        "n_implied_pairs": n_implied,
        "n_comparisons": len(tests),
        "min_panelists": int(min_panelists),
        "verdict_method": POOL_VERDICT_METHOD,
        "cluster_ci_method": CLUSTER_METHOD,
    }


def _ai_share(rows, trial_codes, n_trials, favourite, is_ai, confidence):
    """AI share of first picks against the AI share of the candidates, over trials whose
    pool mixed AI and human candidates (a pool of one kind says nothing about preference)."""
    if is_ai is None or n_trials == 0:
        return None
    expected = np.bincount(trial_codes, weights=is_ai.astype(float), minlength=n_trials)
    expected /= np.bincount(trial_codes, minlength=n_trials)
    picked_ai = np.zeros(n_trials)
    picked_ai[trial_codes[favourite]] = is_ai[favourite].astype(float)
    first_rows = np.unique(trial_codes, return_index=True)[1]
    panelist = rows["panelist_id"].to_numpy()[first_rows]
    mixed = (expected > 0.0) & (expected < 1.0)
    share = cluster_estimate(*_shares(picked_ai[mixed], panelist[mixed]), confidence=confidence)
    pool = _shares(expected[mixed], panelist[mixed])[0]
    difference = cluster_difference(
        picked_ai[mixed] - expected[mixed],
        expected[mixed] * (1.0 - expected[mixed]),
        panelist[mixed],
        confidence=confidence,
    )
    return {
        "n_trials": int(mixed.sum()),
        "n_trials_one_kind": int((~mixed).sum()),
        "n_panelists": difference["n_panelists"],
        "picked_ai": int(picked_ai[mixed].sum()),
        "ai_pick_rate": share["rate"],
        "cluster_ci_low": share["low"],
        "cluster_ci_high": share["high"],
        "cluster_ci_bound": share["bound"],
        "expected_share": float(pool.mean()) if pool.size else None,
        "difference": difference["rate"],
        "difference_ci_low": difference["low"],
        "difference_ci_high": difference["high"],
        "difference_ci_bound": difference["bound"],
        "p_value": difference["p_value"],
    }


def _shares(values: np.ndarray, panelists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = pd.factorize(np.asarray(panelists, dtype=object))[0]
    if codes.size == 0:
        return np.zeros(0), np.zeros(0)
    return grouped_shares(values, codes, np.zeros(codes.size, dtype=np.int64), 1)[0]


def _systems(rows, favourite, size, confidence) -> list[dict[str, Any]]:
    """Per system: picked as favourite per time shown, against ``1/N`` per showing."""
    result = []
    picked = favourite.astype(float)
    expected = 1.0 / size
    kinds = rows["system_a_kind"].to_numpy() if "system_a_kind" in rows else None
    systems = rows["system_a"].to_numpy()
    panelists = rows["panelist_id"].to_numpy()
    for system in sorted(pd.unique(systems)):
        mine = systems == system
        rate = cluster_estimate(*_shares(picked[mine], panelists[mine]), confidence=confidence)
        difference = cluster_difference(
            picked[mine] - expected[mine],
            expected[mine] * (1.0 - expected[mine]),
            panelists[mine],
            confidence=confidence,
        )
        result.append(
            {
                "system": str(system),
                "kind": str(kinds[mine][0]) if kinds is not None else "",
                "shown": int(mine.sum()),
                "picked": int(picked[mine].sum()),
                "n_panelists": difference["n_panelists"],
                "pick_rate": rate["rate"],
                "cluster_ci_low": rate["low"],
                "cluster_ci_high": rate["high"],
                "cluster_ci_bound": rate["bound"],
                "expected_rate": float(_shares(expected[mine], panelists[mine])[0].mean()),
                "difference": difference["rate"],
                "p_value": difference["p_value"],
            }
        )
    return result


def implied_pairs(rows: pd.DataFrame, trial_codes: np.ndarray) -> pd.DataFrame:
    """The implied pairwise votes of ranked pool trials as a votes frame (``panelist_id,
    system_a`` = the better-ranked, ``system_b``, ``choice`` = ``a``); pairs of one system
    with itself are dropped. ``trial_codes``: ``[n]`` integer trial of each candidate row."""
    rank = rows["pick_rank"].to_numpy(dtype=float)
    rank = np.where(np.isnan(rank), np.inf, rank)  # not ranked = below every ranked one
    trial_codes = np.asarray(trial_codes, dtype=np.int64)
    order = np.argsort(trial_codes, kind="stable")
    trial, rank = trial_codes[order], rank[order]
    systems = rows["system_a"].to_numpy()[order]
    panelists = rows["panelist_id"].to_numpy()[order]
    sizes = np.bincount(trial, minlength=int(trial.max()) + 1 if trial.size else 0)
    starts = np.cumsum(sizes) - sizes
    # Each ranked candidate against every candidate of its own trial.
    ranked = np.flatnonzero(np.isfinite(rank))
    counts = sizes[trial[ranked]]
    better = np.repeat(ranked, counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    other = starts[trial[better]] + offsets
    keep = (rank[better] < rank[other]) & (systems[better] != systems[other])
    better, other = better[keep], other[keep]
    return pd.DataFrame(
        {
            "panelist_id": panelists[better],
            "system_a": systems[better],
            "system_b": systems[other],
            "choice": "a",
        }
    )


def _ranking(rows, trial_codes, confidence, min_panelists, n_bootstrap, seed):
    votes = implied_pairs(rows, trial_codes)
    comparisons = build_comparisons(votes)
    if comparisons.n_systems < 2:
        return [], None, int(len(votes))
    systems, meta, _ = system_ranking(
        comparisons,
        n_bootstrap=n_bootstrap,
        seed=seed,
        confidence=confidence,
        min_panelists=min_panelists,
    )
    return systems, meta, int(comparisons.n_votes)

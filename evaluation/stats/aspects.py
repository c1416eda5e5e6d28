"""Aspects: which track was better on melody, lyrics, ... (A/B preference), how each track was
rated on them (1-5), and "liked it, but <aspect> was weaker".

Input: a normalised responses frame (:mod:`evaluation.stats.responses`) with the study-design
columns: ``aspect_<name>`` (``a``/``b``/``tie``, ab rows only), ``score_<name>_a/_b`` (1-5),
``rating_a/_b`` (the overall "How much do you like it?", reported as the aspect
``overall``), ``weaker_a/_b`` (``;``-joined aspect names) and ``liked_a/_b``.

Every figure is listener-level (:mod:`evaluation.stats.clusters`): each panelist's own share
or mean first, then averaged over panelists, each weighted equally, with the panelist-cluster
interval. The section's tests — every aspect preference pair and every paired rating
comparison — form one family: Holm across all of them, and ``too_little_data`` below
``min_panelists`` listeners (:func:`evaluation.stats.verdicts.section_verdicts`), so the chance
of any false "better on <aspect>" in the section stays at most ``alpha``.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from evaluation.catalogue import ASPECTS

from .clusters import (
    CLUSTER_METHOD,
    cluster_estimate,
    cluster_mean,
    grouped_shares,
    paired_mean_difference,
    within_variance,
)
from .comparisons import build_comparisons, pair_counts
from .responses import ASPECT_PREFIX, SCORE_PREFIX, pairwise_mask, split_weaker
from .verdicts import (
    DEFAULT_MIN_PANELISTS,
    NO_CLEAR_PREFERENCE,
    PREFERS_A,
    PREFERS_B,
    section_verdicts,
)

OVERALL = "overall"
"""The aspect name under which ``rating_a/_b`` ("How much do you like it?", 1-5) is reported."""

LIKED_RATING = 4
"""Where a row has no yes/no "liked" answer, a 1-5 rating of at least this counts as liked."""

ASPECT_VERDICT_METHOD = (
    "t-test on per-panelist shares (preference) or per-panelist mean rating differences "
    "(ratings), Holm-adjusted across every comparison of the aspects section"
)


def has_aspect_columns(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has an answer in any column this section reads (``aspect_<name>``,
    ``score_<name>_a/_b``, ``rating_a/_b``, ``weaker_a/_b``)."""
    for column in frame.columns:
        name = str(column)
        if name.startswith(ASPECT_PREFIX) or name in ("weaker_a", "weaker_b"):
            if (frame[column] != "").any():
                return True
        elif name.startswith(SCORE_PREFIX) or name in ("rating_a", "rating_b"):
            if frame[column].notna().any():
                return True
    return False


def _aspect_order(names) -> list[str]:
    """Catalogue order first, then any other name alphabetically."""
    names = set(names)
    known = [name for name in (OVERALL, *ASPECTS) if name in names]
    return known + sorted(names - set(known))


def aspects_summary(
    analysed: pd.DataFrame,
    *,
    confidence: float = 0.95,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
) -> dict[str, Any]:
    """The ``aspects`` section: ``preference`` (per aspect asked as A/B preference, per
    system pair), ``ratings`` (per aspect asked as a 1-5 rating: per system and per system
    pair), ``weaker`` (per system: "liked, but <aspect> weaker") and the family's size
    ``n_comparisons``. See docs/statistics.md ("Aspects")."""
    preference = _preference(analysed, confidence)
    ratings = _ratings(analysed, confidence)
    tests = [pair for aspect in preference for pair in aspect["pairs"]] + [
        pair for aspect in ratings for pair in aspect["pairs"]
    ]
    verdicts, adjusted = section_verdicts(
        np.array([_effect(test) for test in tests]),
        np.array([test.pop("_p") for test in tests]),
        np.array([test["n_panelists"] for test in tests]),
        labels=(PREFERS_A, PREFERS_B, NO_CLEAR_PREFERENCE),
        min_panelists=min_panelists,
        alpha=1.0 - confidence,
    )
    for test, verdict, p_value in zip(tests, verdicts, adjusted, strict=True):
        test["verdict"] = verdict
        test["verdict_p"] = float(p_value)
    asked = {aspect["aspect"] for aspect in preference} | {aspect["aspect"] for aspect in ratings}
    weaker = _weaker(analysed, confidence)
    return {
        "aspects_asked": _aspect_order(asked),
        "preference": preference,
        "ratings": ratings,
        "weaker": weaker,
        "n_comparisons": len(tests),
        "min_panelists": int(min_panelists),
        "verdict_method": ASPECT_VERDICT_METHOD,
        "cluster_ci_method": CLUSTER_METHOD,
    }


def _effect(test: dict[str, Any]) -> float:
    if "difference" in test:
        return np.nan if test["difference"] is None else test["difference"]
    rate = test["panelist_rate_a"]
    return np.nan if rate is None else rate - 0.5


def _preference(analysed: pd.DataFrame, confidence: float) -> list[dict[str, Any]]:
    """Per aspect asked as an A/B preference: per unordered pair (alphabetical, as
    ``pairs``), the panelist-averaged share preferring ``system_a`` (ties half)."""
    if not {"system_a", "system_b"} <= set(analysed.columns):
        return []
    ab = analysed[pairwise_mask(analysed)]
    result = []
    names = [
        str(c)[len(ASPECT_PREFIX) :] for c in analysed.columns if str(c).startswith(ASPECT_PREFIX)
    ]
    for column in (ASPECT_PREFIX + name for name in _aspect_order(names)):
        answered = ab[ab[column].isin(["a", "b", "tie"])]
        if answered.empty:
            continue
        votes = pd.DataFrame(
            {
                "panelist_id": answered["panelist_id"].to_numpy(),
                "system_a": answered["system_a"].to_numpy(),
                "system_b": answered["system_b"].to_numpy(),
                "choice": answered[column].to_numpy(),
            }
        )
        comparisons = build_comparisons(votes)
        if comparisons.n_votes == 0:
            continue
        counts = pair_counts(comparisons)
        shares = grouped_shares(
            comparisons.first_score,
            comparisons.panelist,
            comparisons.pair,
            comparisons.n_pairs,
            cells=comparisons.panelist_pair_cells,
        )
        pairs = []
        for k in range(comparisons.n_pairs):
            estimate = cluster_estimate(*shares[k], confidence=confidence)
            pairs.append(
                {
                    "system_a": comparisons.systems[comparisons.pair_first[k]],
                    "system_b": comparisons.systems[comparisons.pair_second[k]],
                    "n": int(counts["n"][k]),
                    "n_panelists": int(counts["n_panelists"][k]),
                    "wins_a": int(counts["wins_first"][k]),
                    "wins_b": int(counts["wins_second"][k]),
                    "ties": int(counts["ties"][k]),
                    "panelist_rate_a": estimate["rate"],
                    "cluster_ci_low": estimate["low"],
                    "cluster_ci_high": estimate["high"],
                    "cluster_ci_bound": estimate["bound"],
                    "cluster_p_value": estimate["p_value"],
                    "_p": estimate["p_value"],
                }
            )
        result.append({"aspect": column[len(ASPECT_PREFIX) :], "pairs": pairs})
    return result


def rating_answers(
    analysed: pd.DataFrame, aspect: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every 1-5 answer on ``aspect`` (``overall`` = ``rating_a/_b``) as three ``[n]`` arrays
    ``(panelist_id, system, value)``: the ``_a`` column from every row (the row's track), the
    ``_b`` column from ab rows."""
    if aspect == OVERALL:
        names = ("rating_a", "rating_b")
    else:
        names = (f"{SCORE_PREFIX}{aspect}_a", f"{SCORE_PREFIX}{aspect}_b")
    ab = pairwise_mask(analysed)
    panelists, systems, values = [], [], []
    for side, column in zip(("a", "b"), names, strict=True):
        if column not in analysed:
            continue
        if f"system_{side}" not in analysed:
            continue
        value = analysed[column].to_numpy(dtype=float)
        system = analysed[f"system_{side}"].to_numpy()
        keep = ~np.isnan(value) & (system != "")
        if side == "b":
            keep &= ab
        panelists.append(analysed["panelist_id"].to_numpy()[keep])
        systems.append(system[keep])
        values.append(value[keep])
    if not values:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object), np.zeros(0)
    return (
        np.concatenate(panelists).astype(object),
        np.concatenate(systems).astype(object),
        np.concatenate(values),
    )


def _ratings(analysed: pd.DataFrame, confidence: float) -> list[dict[str, Any]]:
    """Per aspect asked as a rating: per system the panelist-averaged mean rating, per pair
    the panelist-paired difference of means (``system_a`` minus ``system_b``)."""
    aspects = [OVERALL] if {"rating_a", "rating_b"} & set(analysed.columns) else []
    aspects += [
        name
        for name in _aspect_order(
            str(c)[len(SCORE_PREFIX) : -2]
            for c in analysed.columns
            if str(c).startswith(SCORE_PREFIX) and str(c).endswith(("_a", "_b"))
        )
        if name != OVERALL
    ]
    result = []
    for aspect in aspects:
        panelist, system, value = rating_answers(analysed, aspect)
        if value.size == 0:
            continue
        system_codes, systems = pd.factorize(system, sort=True)
        panelist_codes, _ = pd.factorize(panelist)
        pooled = within_variance(value, panelist_codes * len(systems) + system_codes)
        means, panelists = {}, {}
        rows = []
        for code, name in enumerate(systems):
            mine = system_codes == code
            estimate = cluster_mean(value[mine], panelist[mine], confidence=confidence)
            means[name] = estimate
            panelists[name] = pd.unique(panelist[mine])
            rows.append(
                {
                    "system": str(name),
                    "n": estimate["n"],
                    "n_panelists": estimate["n_panelists"],
                    "mean": estimate["mean"],
                    "answer_mean": float(value[mine].mean()),
                    "ci_low": estimate["low"],
                    "ci_high": estimate["high"],
                    "ci_bound": estimate["bound"],
                }
            )
        pairs = []
        for first, second in combinations(systems, 2):
            difference = paired_mean_difference(
                means[first],
                means[second],
                panelists[first],
                panelists[second],
                pooled,
                confidence=confidence,
            )
            pairs.append(
                {
                    "system_a": str(first),
                    "system_b": str(second),
                    "n_panelists": difference["n_panelists"],
                    "difference": difference["difference"],
                    "ci_low": difference["low"],
                    "ci_high": difference["high"],
                    "ci_bound": difference["bound"],
                    "p_value": difference["p_value"],
                    "_p": difference["p_value"],
                }
            )
        result.append({"aspect": aspect, "systems": rows, "pairs": pairs})
    return result


def hearings(analysed: pd.DataFrame) -> pd.DataFrame:
    """One row per heard track with a "liked" determination: ``panelist_id, system, liked
    (bool), weaker (list of aspect names)``. The ``_a`` side of every row, the ``_b`` side of
    ab rows. Liked = the yes/no answer where given, else a 1-5 rating of at least
    :data:`LIKED_RATING`, and always when an aspect was named weaker (the question is only
    asked of a liked track). Hearings with none of these are left out."""
    ab = pairwise_mask(analysed)
    parts = []
    for side in ("a", "b"):
        if f"system_{side}" not in analysed:
            continue
        if side == "a":
            rows = analysed
        else:
            # Only the columns read below: filtering all ~85 export columns costs more than
            # the whole section.
            needed = [
                "panelist_id",
                *(f"{name}_b" for name in ("system", "liked", "rating", "weaker")),
            ]
            rows = analysed.loc[ab, [column for column in needed if column in analysed]]
        n = len(rows)
        liked = np.full(n, np.nan)
        if f"liked_{side}" in rows:
            liked = rows[f"liked_{side}"].to_numpy(dtype=float)
        if f"rating_{side}" in rows:
            rating = rows[f"rating_{side}"].to_numpy(dtype=float)
            liked = np.where(np.isnan(liked) & ~np.isnan(rating), rating >= LIKED_RATING, liked)
        if f"weaker_{side}" in rows:
            # Split each distinct cell once (few: "", "lyrics", "lyrics;vocals", ...), not
            # each of up to a million rows; rows with the same cell share its (read-only) list.
            codes, cells = pd.factorize(rows[f"weaker_{side}"].to_numpy(dtype=object))
            split = np.empty(len(cells) + 1, dtype=object)
            for index, cell in enumerate(cells):
                split[index] = split_weaker(cell)
            split[-1] = []  # code -1: a missing cell
            weaker = pd.Series(split[codes], index=rows.index, dtype=object)
        else:
            weaker = pd.Series([[]] * n, index=rows.index, dtype=object)
        named = weaker.map(bool).to_numpy(dtype=bool)
        liked = np.where(named, 1.0, liked)
        keep = ~np.isnan(liked) & (rows[f"system_{side}"] != "").to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "panelist_id": rows["panelist_id"].to_numpy()[keep],
                    "system": rows[f"system_{side}"].to_numpy()[keep],
                    "liked": liked[keep] == 1.0,
                    "weaker": weaker.to_numpy()[keep],
                }
            )
        )
    if not parts:
        return pd.DataFrame({"panelist_id": [], "system": [], "liked": [], "weaker": []})
    return pd.concat(parts, ignore_index=True)


def _weaker(analysed: pd.DataFrame, confidence: float) -> list[dict[str, Any]]:
    """Per system: hearings, listeners, liked, and per aspect named weaker the count with two
    listener-level shares: of all hearings, and of liked hearings."""
    if not {"weaker_a", "weaker_b"} & set(analysed.columns):
        return []
    heard = hearings(analysed)
    named = sorted({name for names in heard["weaker"] for name in names})
    if not named:
        return []
    aspects = _aspect_order(named)
    result = []
    for system, rows in heard.groupby("system", sort=True):
        panelists = rows["panelist_id"].to_numpy()
        liked = rows["liked"].to_numpy(dtype=bool)
        entries = []
        for aspect in aspects:
            flagged = rows["weaker"].map(lambda names, a=aspect: a in names).to_numpy(dtype=float)
            overall = _share(flagged, panelists, confidence)
            among_liked = _share(flagged[liked], panelists[liked], confidence)
            entries.append(
                {
                    "aspect": aspect,
                    "count": int(flagged.sum()),
                    "panelist_share": overall["rate"],
                    "cluster_ci_low": overall["low"],
                    "cluster_ci_high": overall["high"],
                    "cluster_ci_bound": overall["bound"],
                    "n_panelists_liked": among_liked["n_panelists"],
                    "share_of_liked": among_liked["rate"],
                    "liked_ci_low": among_liked["low"],
                    "liked_ci_high": among_liked["high"],
                    "liked_ci_bound": among_liked["bound"],
                }
            )
        liked_share = _share(liked.astype(float), panelists, confidence)
        result.append(
            {
                "system": str(system),
                "n_heard": int(len(rows)),
                "n_panelists": int(pd.unique(panelists).size),
                "n_liked": int(liked.sum()),
                "liked_share": liked_share["rate"],
                "liked_cluster_ci_low": liked_share["low"],
                "liked_cluster_ci_high": liked_share["high"],
                "liked_cluster_ci_bound": liked_share["bound"],
                "aspects": entries,
            }
        )
    return result


def _share(values: np.ndarray, panelists: np.ndarray, confidence: float) -> dict[str, Any]:
    codes = pd.factorize(np.asarray(panelists, dtype=object))[0]
    if codes.size == 0:
        return cluster_estimate(np.zeros(0), confidence=confidence)
    shares, counts = grouped_shares(values, codes, np.zeros(codes.size, dtype=np.int64), 1)[0]
    return cluster_estimate(shares, counts, confidence=confidence)

"""Rater quality: catch trials, hidden repeats, position bias and inter-rater agreement.

All figures are computed on every panelist, before any exclusion rule, because they are what
the exclusion rules are judged by.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .clusters import first_occurrences
from .comparisons import FIRST_WINS, TIE, build_comparisons
from .intervals import binomial_p_values_half, wilson_interval
from .responses import reader_codes, sorted_codes


def krippendorff_alpha_nominal(value_counts: np.ndarray) -> float | None:
    """Krippendorff's alpha for nominal data from a units-by-values count matrix.

    ``value_counts``: ``[n_units, n_values]``, how many raters gave each value to each unit
    (one value per rater per unit). Units rated fewer than twice carry no information about
    agreement and are ignored. Returns None when fewer than two pairable values remain or
    when every pairable value is the same (no variation, alpha undefined).

    Uses the coincidence matrix of Krippendorff (2011, "Computing Krippendorff's alpha-
    reliability"): ``alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k``.
    """
    counts = np.asarray(value_counts, dtype=float)
    raters = counts.sum(axis=1)
    counts = counts[raters >= 2]
    raters = raters[raters >= 2]
    if counts.size == 0:
        return None
    scaled = counts / (raters - 1.0)[:, None]
    coincidences = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    marginals = coincidences.sum(axis=1)
    n = marginals.sum()
    expected_disagreement = n * n - np.sum(marginals**2)
    if n < 2 or expected_disagreement <= 0:
        return None
    observed_disagreement = n - np.trace(coincidences)
    return float(1.0 - (n - 1.0) * observed_disagreement / expected_disagreement)


def rater_summary(
    frame: pd.DataFrame,
    *,
    confidence: float = 0.95,
    votes: pd.DataFrame | None = None,
    comparisons=None,
) -> dict[str, Any]:
    """Catch-trial pass rate, hidden-repeat consistency and position bias per panelist and
    for the study, and Krippendorff's alpha (nominal) on the preference votes.

    ``frame``: all normalised responses (catch trials included; they are used only for the
    catch figures). ``votes`` and ``comparisons``: the frame's non-catch rows and their
    :func:`build_comparisons` when the caller has them already (encoding a million votes
    twice costs as much as the rest of the rater figures).
    """
    result: dict[str, Any] = {}
    # Integer codes once: grouping a million text ids repeatedly would dominate the summary.
    read = reader_codes(frame["panelist_id"])
    if read is not None:
        codes, names = sorted_codes(*read)
    else:
        codes, names = pd.factorize(frame["panelist_id"].to_numpy(), sort=True)
    names = np.asarray(names, dtype=object)
    named = names != ""
    per_panelist = pd.DataFrame(index=pd.Index(names[named]))
    per_panelist["n_responses"] = np.bincount(codes, minlength=names.size)[named]

    if {"is_catch", "catch_passed"} <= set(frame.columns):
        catch = frame[frame["is_catch"] & frame["catch_passed"].notna()]
        grouped = catch.groupby("panelist_id")["catch_passed"]
        per_panelist["catch_n"] = grouped.size()
        per_panelist["catch_passed"] = grouped.sum()
        passed, n = float(catch["catch_passed"].sum()), int(len(catch))
        low, high = wilson_interval(passed, n, confidence)
        result["catch"] = {
            "n": n,
            "passed": int(passed),
            "pass_rate": passed / n if n else None,
            "ci_low": low,
            "ci_high": high,
            "n_panelists": int(catch["panelist_id"].nunique()),
            "n_panelists_all_passed": int((grouped.min() == 1.0).sum()),
        }
    else:
        result["catch"] = None

    if comparisons is None or votes is None:
        votes = frame[~frame["is_catch"]].reset_index(drop=True) if "is_catch" in frame else frame
        comparisons = build_comparisons(votes)
    if comparisons.n_votes != len(votes) or not votes.index.equals(pd.RangeIndex(len(votes))):
        votes = votes.iloc[comparisons.row].reset_index(drop=True)
    # else every row is a vote (comparisons.row is 0..n-1): read the rows without a copy.

    repeats = _repeat_agreements(votes, comparisons)
    if repeats is not None:
        per_panelist["repeat_n"] = repeats.groupby("panelist_id").size()
        per_panelist["repeat_consistent"] = repeats.groupby("panelist_id")["agree"].sum()
        agree, n = float(repeats["agree"].sum()), int(len(repeats))
        low, high = wilson_interval(agree, n, confidence)
        result["repeats"] = {
            "n": n,
            "consistent": int(agree),
            "consistency": agree / n if n else None,
            "ci_low": low,
            "ci_high": high,
            "n_panelists": int(repeats["panelist_id"].nunique()),
            "definition": "pairs of answers by one panelist to the same two tracks (or the "
            "same prompt and systems) that agree on the preferred system or on a tie",
        }
    else:
        result["repeats"] = None

    decisive = comparisons.outcome != TIE
    chose_a = decisive & ((comparisons.outcome == FIRST_WINS) == comparisons.first_at_a)
    # comparisons.panelists is sorted, like per_panelist's index: place one in the other.
    place = per_panelist.index.get_indexer(pd.Index(comparisons.panelists))
    for column, flags in (("decisive_n", decisive), ("chose_a", chose_a)):
        counts = np.zeros(len(per_panelist))
        counts[place] = np.bincount(
            comparisons.panelist, weights=flags, minlength=comparisons.n_panelists
        )
        per_panelist[column] = counts
    n_decisive, n_a = int(decisive.sum()), int(chose_a.sum())
    low, high = wilson_interval(n_a, n_decisive, confidence)
    result["position"] = {
        "decisive_n": n_decisive,
        "chose_a": n_a,
        "a_rate": n_a / n_decisive if n_decisive else None,
        "ci_low": low,
        "ci_high": high,
        "p_value": float(binomial_p_values_half(np.array([n_a]), np.array([n_decisive]))[0]),
    }

    result["agreement"] = _agreement(votes, comparisons)
    result["panelists"] = _panelist_rows(per_panelist, confidence)
    return result


def _item_keys(votes: pd.DataFrame, comparisons) -> tuple[np.ndarray, str] | None:
    """An integer key per vote naming the item judged (the same two tracks, or the same prompt
    and systems), or None when neither is recorded on every vote."""
    if {"track_a", "track_b"} <= set(votes.columns):
        track_a = votes["track_a"].to_numpy(dtype=object)
        track_b = votes["track_b"].to_numpy(dtype=object)
        codes, tracks = pd.factorize(np.concatenate([track_a, track_b]))
        blank = np.flatnonzero(np.asarray(tracks, dtype=object) == "")
        code_a, code_b = codes[: track_a.size], codes[track_a.size :]
        if not np.isin(code_a, blank).any() and not np.isin(code_b, blank).any():
            low, high = np.minimum(code_a, code_b), np.maximum(code_a, code_b)
            return low.astype(np.int64) * max(len(tracks), 1) + high, "the same two tracks"
    if "prompt_id" in votes.columns:
        prompt, prompts = pd.factorize(votes["prompt_id"].to_numpy(dtype=object))
        if not (np.asarray(prompts, dtype=object) == "").any():
            key = prompt.astype(np.int64) * max(comparisons.n_pairs, 1) + comparisons.pair
            return key, "the same prompt and systems"
    return None


def _repeat_agreements(votes: pd.DataFrame, comparisons) -> pd.DataFrame | None:
    """One row per pair of answers a panelist gave to the same item, with ``agree``."""
    keyed = _item_keys(votes, comparisons)
    if keyed is None or comparisons.n_votes == 0:
        return None
    keys, _ = keyed
    panelist_ids = np.asarray(comparisons.panelists, dtype=object)
    answers = pd.DataFrame(
        {"panelist": comparisons.panelist, "item": keys, "outcome": comparisons.outcome}
    )
    answers = answers[answers.duplicated(["panelist", "item"], keep=False)]
    rows = []
    for (panelist, _item), group in answers.groupby(["panelist", "item"], sort=False):
        outcomes = group["outcome"].to_numpy()
        for left in range(outcomes.size):
            for right in range(left + 1, outcomes.size):
                rows.append((panelist_ids[panelist], outcomes[left] == outcomes[right]))
    return pd.DataFrame(rows, columns=["panelist_id", "agree"])


def _agreement(votes: pd.DataFrame, comparisons) -> dict[str, Any]:
    keyed = _item_keys(votes, comparisons)
    if keyed is None:
        keys, unit = comparisons.pair, "the same systems (no prompt or track columns)"
    else:
        keys, unit = keyed
    # One value per rater and unit: a hidden repeat counts once (its first answer).
    item_codes, _ = pd.factorize(keys)
    n_items = int(item_codes.max(initial=-1)) + 1
    cell = comparisons.panelist.astype(np.int64) * max(n_items, 1) + item_codes
    first = first_occurrences(cell, comparisons.n_panelists * max(n_items, 1))
    value_counts = np.zeros((n_items, 3))
    np.add.at(value_counts, (item_codes[first], comparisons.outcome[first]), 1.0)
    pairable = value_counts.sum(axis=1) >= 2
    return {
        "krippendorff_alpha": krippendorff_alpha_nominal(value_counts),
        "level": "nominal",
        "values": "first system preferred, second preferred, tie",
        "unit": unit,
        "n_units": int(pairable.sum()),
        "n_ratings": int(value_counts[pairable].sum()),
    }


def _panelist_rows(per_panelist: pd.DataFrame, confidence: float) -> list[dict[str, Any]]:
    """One plain dict per panelist (columns as whole numbers, rates None without answers)."""
    position_p = binomial_p_values_half(
        per_panelist["chose_a"].fillna(0).to_numpy(),
        per_panelist["decisive_n"].fillna(0).to_numpy(),
    )

    def counts(column: str) -> list[int]:
        # Through float64: fillna on an object column is deprecated in pandas (same values).
        return per_panelist[column].astype(np.float64).fillna(0).astype(np.int64).tolist()

    def rates(part: list[int], whole: list[int]) -> list[float | None]:
        return [done / n if n else None for done, n in zip(part, whole, strict=True)]

    columns: dict[str, list] = {
        "panelist_id": [str(name) for name in per_panelist.index],
        "n_responses": counts("n_responses"),
    }
    if "catch_n" in per_panelist:
        columns["catch_n"], columns["catch_passed"] = counts("catch_n"), counts("catch_passed")
        columns["catch_pass_rate"] = rates(columns["catch_passed"], columns["catch_n"])
    if "repeat_n" in per_panelist:
        columns["repeat_n"] = counts("repeat_n")
        columns["repeat_consistent"] = counts("repeat_consistent")
        columns["repeat_consistency"] = rates(columns["repeat_consistent"], columns["repeat_n"])
    columns["decisive_n"], columns["chose_a"] = counts("decisive_n"), counts("chose_a")
    columns["position_a_rate"] = rates(columns["chose_a"], columns["decisive_n"])
    columns["position_p_value"] = position_p.astype(float).tolist()
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _count(value) -> int:
    return 0 if value is None or pd.isna(value) else int(value)

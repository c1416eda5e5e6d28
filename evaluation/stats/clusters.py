"""Listener-cluster estimates: every proportion a sentence reports, with panelists as the unit.

A listener who gives 20 answers is one listener, not 20: their answers share their taste, so
20 of them carry far less information about "listeners" than 20 listeners do. Every rate that a
headline reports is therefore computed per panelist first (each panelist's own share of wins,
likes or correct guesses) and then averaged over panelists, each weighted equally. Its
interval and test treat those per-panelist shares as the independent observations:

- ``rate``: the panelist-averaged share, ``mean_p(r_p)``;
- the interval is Student's t interval on the ``G`` per-panelist shares, ``rate ± t_{G-1}
  · se`` with ``se² = max(s² / G, rate (1 - rate) Σ_p (1 / n_p) / G²)``: the sample variance
  of the shares, floored by the variance those shares would have if every answer were an
  independent coin flip (clustering can widen an interval, never narrow it below that);
- its test of ``rate = null`` is the matching t-test with ``G - 1`` degrees of freedom, with
  the variance floored at the null's binomial variance ``null (1 - null) Σ_p (1 / n_p) / G²``
  instead (a score-type floor: under the null no listener's share varies less than that);
- degenerate data get one-sided bounds, never a zero-width interval: when every panelist's
  share is 1 the population rate ``μ`` satisfies ``P(all G shares are 1) ≤ μ^G``, so ``μ ≥
  (α/2)^(1/G)`` (``bound = "lower"``) and the two-sided p-value is ``2 · null^G``; all 0 is
  the mirror image (``bound = "upper"``);
- with fewer than two panelists there is no between-listener variation to measure: the
  interval is (0, 1) and the p-value 1 (``bound = "none"``).

The t interval holds its level with few panelists far better than a normal (Wald) or
bootstrap percentile interval; ``benchmarks/validity.py`` measures its coverage.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .distributions import t_ppf, t_sf

CLUSTER_METHOD = (
    "Student t on per-panelist shares (each listener weighted equally), df = panelists - 1, "
    "variance floored at the independent-answer binomial variance"
)


def cluster_estimate(
    rates: np.ndarray,
    votes: np.ndarray | None = None,
    *,
    confidence: float = 0.95,
    null: float = 0.5,
) -> dict[str, Any]:
    """Panelist-averaged share with its cluster interval and t-test against ``null``.

    ``rates``: ``[G]`` each panelist's own share (in [0, 1]); ``votes``: ``[G]`` answers behind
    each share (for the binomial floor; ones when None). Returns ``{"rate", "low", "high",
    "p_value", "n_panelists", "bound"}`` with ``rate`` None when ``G == 0`` and ``bound`` one of
    ``"two_sided"``, ``"lower"`` (only the lower end is informative: every share was 1),
    ``"upper"`` (every share was 0) or ``"none"`` (fewer than two panelists).
    """
    rates = np.asarray(rates, dtype=float)
    count = int(rates.size)
    votes = np.ones(count) if votes is None else np.asarray(votes, dtype=float)
    alpha = 1.0 - confidence
    if count == 0:
        return _estimate(None, 0.0, 1.0, 1.0, 0, "none")
    rate = float(rates.mean())
    if count < 2:
        return _estimate(rate, 0.0, 1.0, 1.0, count, "none")
    if np.all(rates >= 1.0):
        low = (alpha / 2.0) ** (1.0 / count)
        return _estimate(rate, low, 1.0, min(1.0, 2.0 * null**count), count, "lower")
    if np.all(rates <= 0.0):
        high = 1.0 - (alpha / 2.0) ** (1.0 / count)
        return _estimate(rate, 0.0, high, min(1.0, 2.0 * (1.0 - null) ** count), count, "upper")
    variance = float(np.var(rates, ddof=1)) / count
    inverse_votes = float(np.sum(1.0 / np.maximum(votes, 1.0))) / count**2
    se = math.sqrt(max(variance, rate * (1.0 - rate) * inverse_votes))
    critical = float(t_ppf(1.0 - alpha / 2.0, count - 1))
    # The test floors at the variance the shares have *under the null*: a panelist whose own
    # rate p has mean `null` over listeners gives a share of variance Var(p)(1 - 1/n) +
    # null (1 - null) / n >= null (1 - null) / n. An estimated variance below it (a few
    # listeners with one or two votes each) would make the test too eager in the far tail
    # that Holm uses with many pairs.
    statistic = (rate - null) / math.sqrt(max(variance, null * (1.0 - null) * inverse_votes))
    p_value = float(2.0 * t_sf(abs(statistic), count - 1))
    low, high = max(0.0, rate - critical * se), min(1.0, rate + critical * se)
    return _estimate(rate, low, high, p_value, count, "two_sided")


def _estimate(rate, low, high, p_value, count, bound) -> dict[str, Any]:
    return {
        "rate": rate,
        "low": float(low),
        "high": float(high),
        "p_value": float(p_value),
        "n_panelists": int(count),
        "bound": bound,
    }


def grouped_shares(
    values: np.ndarray,
    panelist: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    order: np.ndarray | None = None,
    cells: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per group, each panelist's share and answer count: ``[(shares [G_k], counts [G_k])]``.

    ``values``: ``[n]`` per answer in [0, 1] (1 win / 0.5 tie / 0 loss, 1 liked, ...);
    ``panelist``, ``group``: ``[n]`` integer codes; ``order``: optional ``[n]`` arrival key,
    the panelists of a group are then listed by their first answer in it (else by code).
    ``cells``: ``dense_codes(panelist * n_groups + group)`` when the caller has it already
    (``Comparisons.panelist_pair_cells``).
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return [(np.zeros(0), np.zeros(0)) for _ in range(n_groups)]
    if cells is None:
        panelist = np.asarray(panelist, dtype=np.int64)
        cell = panelist * max(n_groups, 1) + np.asarray(group)
        cells = dense_codes(cell, (int(panelist.max()) + 1) * max(n_groups, 1))
    cells, inverse = cells
    totals = np.bincount(inverse, weights=values)
    counts = np.bincount(inverse).astype(float)
    cell_group = cells % max(n_groups, 1)
    if order is not None:
        # Each cell's first arrival: numpy 2's unbuffered np.minimum.at is a single pass
        # (a pandas group-by hashes the million cell codes again, ~15x slower).
        arrival = np.full(cells.size, np.inf)
        np.minimum.at(arrival, inverse, np.asarray(order, dtype=float))
        ordered = _by_group_then_arrival(cell_group, arrival)
    else:
        ordered = np.argsort(cell_group, kind="stable")
    shares, counts = totals[ordered] / counts[ordered], counts[ordered]
    bounds = np.searchsorted(cell_group[ordered], np.arange(n_groups + 1))
    return [
        (shares[bounds[k] : bounds[k + 1]], counts[bounds[k] : bounds[k + 1]])
        for k in range(n_groups)
    ]


def _by_group_then_arrival(group: np.ndarray, arrival: np.ndarray) -> np.ndarray:
    """``np.lexsort((arrival, group))`` (``[m]`` each; group: small non-negative codes).

    File order (the usual key: whole row numbers, one per cell) is put in order by scattering
    each cell into its row's slot, then a stable radix sort on the 16-bit group codes; both are
    linear, where lexsort's comparison sort of 600,000 cells is the slowest step of the
    listener shares. Other keys (submission times, repeated values) take lexsort itself.
    """
    whole = arrival.astype(np.int64)
    if arrival.size and whole.min() >= 0 and np.array_equal(whole, arrival):
        top = int(whole.max()) + 1
        if top <= 8 * arrival.size + 1024:
            slot = np.full(top, -1, dtype=np.int64)
            slot[whole] = np.arange(arrival.size)
            by_arrival = slot[slot >= 0]
            if by_arrival.size == arrival.size:  # every key distinct: no ties to break
                keys = group[by_arrival]
                if keys.size and int(keys.max()) < 2**15:
                    keys = keys.astype(np.int16)  # numpy's stable sort is a radix sort here
                return by_arrival[np.argsort(keys, kind="stable")]
    return np.lexsort((arrival, group))


def dense_codes(values: np.ndarray, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for non-negative integers below
    ``n_values``: a linear counting pass when that range is small against the number of values
    (sorting a million cell codes costs more than the rest of a pair's statistics)."""
    values = np.asarray(values, dtype=np.int64)
    if n_values > 8 * max(values.size, 1):
        return np.unique(values, return_inverse=True)
    present = np.bincount(values, minlength=n_values) > 0
    renumber = np.cumsum(present) - 1
    return np.flatnonzero(present), renumber[values]


def first_occurrences(values: np.ndarray, n_values: int) -> np.ndarray:
    """Index of each distinct value's first occurrence, in order of value: the ``index`` of
    ``np.unique(values, return_index=True)`` for non-negative integers below ``n_values``
    (``[n]`` -> ``[distinct]``); one linear pass when that range is small, not a sort."""
    values = np.asarray(values, dtype=np.int64)
    if n_values > 8 * max(values.size, 1):
        return np.unique(values, return_index=True)[1]
    first = np.full(n_values, values.size, dtype=np.int64)
    np.minimum.at(first, values, np.arange(values.size, dtype=np.int64))
    return first[first < values.size]


def panelist_shares(values: np.ndarray, panelists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One group: each panelist's share of ``values`` and answer count (panelists: ``[n]`` ids)."""
    codes = np.unique(np.asarray(panelists), return_inverse=True)[1]
    return grouped_shares(values, codes, np.zeros(codes.size, dtype=np.int64), 1)[0]


def cluster_share(
    values: np.ndarray, panelists: np.ndarray, *, confidence: float = 0.95, null: float = 0.5
) -> dict[str, Any]:
    """:func:`cluster_estimate` of ``values`` (``[n]`` answers in [0, 1]) by ``panelists``."""
    shares, counts = panelist_shares(values, panelists)
    return cluster_estimate(shares, counts, confidence=confidence, null=null)


def jackknife_interval(
    statistic, panelists: np.ndarray, *, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Leave-one-panelist-out jackknife t interval of ``statistic(mask)`` (a function of a
    boolean row mask ``[n]`` returning a float or None). ``(None, None)`` below two panelists."""
    codes = np.unique(np.asarray(panelists), return_inverse=True)[1]
    count = int(codes.max()) + 1 if codes.size else 0
    full = statistic(np.ones(codes.size, dtype=bool))
    if count < 2 or full is None:
        return None, None
    leave_out = [statistic(codes != code) for code in range(count)]
    if any(value is None or not math.isfinite(value) for value in leave_out):
        return None, None
    values = np.asarray(leave_out)
    se = math.sqrt((count - 1) / count * float(np.sum((values - values.mean()) ** 2)))
    critical = float(t_ppf(0.5 + confidence / 2.0, count - 1))
    return full - critical * se, full + critical * se


def panelist_codes(panelists: np.ndarray) -> tuple[np.ndarray, int]:
    """``[n]`` panelist ids -> (``[n]`` integer codes, number of distinct panelists)."""
    codes = pd.factorize(np.asarray(panelists, dtype=object))[0].astype(np.int64)
    return codes, (int(codes.max()) + 1 if codes.size else 0)


def cluster_difference(
    values: np.ndarray,
    null_variance: np.ndarray,
    panelists: np.ndarray,
    *,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Panelist-averaged mean of ``values`` (``[n]``, e.g. observed minus expected per
    answer) with its t interval and two-sided t-test of "the mean is 0".

    ``null_variance``: ``[n]`` each answer's variance under the null (``e (1 - e)`` for a pick
    expected with probability ``e``): a panelist's mean varies at least by ``Σ v / n_p²``
    under the null, and ``se² = max(s² / G, Σ_p Σ v / n_p² / G²)`` (the floor of
    :func:`cluster_estimate`). Returns ``{"rate", "low", "high", "p_value", "n_panelists",
    "bound"}`` (``rate`` is the mean difference; ``bound`` ``"none"`` below two panelists or
    when nothing varies).
    """
    values = np.asarray(values, dtype=float)
    codes, count = panelist_codes(panelists)
    if count == 0:
        return _estimate(None, -1.0, 1.0, 1.0, 0, "none")
    answers = np.bincount(codes, minlength=count).astype(float)
    means = np.bincount(codes, weights=values, minlength=count) / answers
    floor = np.bincount(codes, weights=np.asarray(null_variance, dtype=float), minlength=count)
    floor = float(np.sum(floor / answers**2)) / count**2
    rate = float(means.mean())
    if count < 2:
        return _estimate(rate, -1.0, 1.0, 1.0, count, "none")
    variance = max(float(np.var(means, ddof=1)) / count, floor)
    if variance <= 0.0:
        return _estimate(rate, -1.0, 1.0, 1.0, count, "none")
    se = math.sqrt(variance)
    critical = float(t_ppf(0.5 + confidence / 2.0, count - 1))
    p_value = float(2.0 * t_sf(abs(rate) / se, count - 1))
    return _estimate(rate, rate - critical * se, rate + critical * se, p_value, count, "two_sided")


def cluster_mean(
    values: np.ndarray,
    panelists: np.ndarray,
    *,
    scale: tuple[float, float] = (1.0, 5.0),
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Panelist-averaged mean of bounded answers (ratings on ``scale``) with a t interval.

    ``values``: ``[n]`` answers; each panelist's own mean first, then the mean over panelists
    (each weighted equally). ``se² = max(s_b² / G, s_w² Σ_p (1 / n_p) / G²)``: the variance
    of the panelist means, floored at what independent answers with the pooled within-listener
    variance ``s_w²`` would give. When every answer is the top of the scale the mean is only
    bounded below: at least ``low + (high - low) (α/2)^(1/G)`` (``bound = "lower"``; the
    share of top answers is at least ``(α/2)^(1/G)``, the rest at worst the bottom); all at
    the bottom is the mirror image. Fewer than two panelists, or answers that never vary off
    the scale's ends, give the whole scale (``bound = "none"``).
    Returns ``{"mean", "low", "high", "n", "n_panelists", "bound", "means", "counts"}``
    (``means``/``counts``: ``[G]`` per panelist, in order of first answer).
    """
    values = np.asarray(values, dtype=float)
    bottom, top = scale
    codes, count = panelist_codes(panelists)
    result: dict[str, Any] = {"n": int(values.size), "n_panelists": count}
    if count == 0:
        return {**result, "mean": None, "low": bottom, "high": top, "bound": "none"}
    counts = np.bincount(codes, minlength=count).astype(float)
    means = np.bincount(codes, weights=values, minlength=count) / counts
    result.update(mean=float(means.mean()), means=means, counts=counts)
    if count < 2:
        return {**result, "low": bottom, "high": top, "bound": "none"}
    alpha = 1.0 - confidence
    within = float(np.sum((values - means[codes]) ** 2))
    within = within / (values.size - count) if values.size > count else 0.0
    variance = max(
        float(np.var(means, ddof=1)) / count, within * float(np.sum(1.0 / counts)) / count**2
    )
    if variance <= 0.0:
        share = (alpha / 2.0) ** (1.0 / count)
        if np.all(values >= top):
            return {**result, "low": bottom + (top - bottom) * share, "high": top, "bound": "lower"}
        if np.all(values <= bottom):
            return {**result, "low": bottom, "high": top - (top - bottom) * share, "bound": "upper"}
        return {**result, "low": bottom, "high": top, "bound": "none"}
    half = float(t_ppf(1.0 - alpha / 2.0, count - 1)) * math.sqrt(variance)
    mean = result["mean"]
    return {
        **result,
        "low": max(bottom, mean - half),
        "high": min(top, mean + half),
        "bound": "two_sided",
    }


def paired_mean_difference(
    first: dict[str, Any],
    second: dict[str, Any],
    first_panelists: np.ndarray,
    second_panelists: np.ndarray,
    within_variance: float,
    *,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Panelist-paired difference of two :func:`cluster_mean` results (panelists who rated
    both): mean over those panelists of their own mean on ``first`` minus on ``second``, with
    its t interval and two-sided t-test of "no difference".

    ``first_panelists`` / ``second_panelists``: ``[G1]`` / ``[G2]`` panelist ids in the order
    of ``first["means"]`` / ``second["means"]``; ``within_variance``: the pooled variance of
    one answer around its panelist's mean, the floor ``s_w² Σ (1/n_1 + 1/n_2) / G²``. When
    nothing varies, the exact sign test: every panelist's difference has the same sign with
    probability ``2 · 0.5^G`` under no difference. Returns ``{"difference", "low", "high",
    "p_value", "n_panelists", "bound"}``.
    """
    common, left, right = np.intersect1d(
        np.asarray(first_panelists, dtype=object).astype(str),
        np.asarray(second_panelists, dtype=object).astype(str),
        return_indices=True,
    )
    count = int(common.size)
    if count == 0:
        return {"difference": None, "low": None, "high": None, "p_value": 1.0,
                "n_panelists": 0, "bound": "none"}  # fmt: skip
    differences = first["means"][left] - second["means"][right]
    difference = float(differences.mean())
    if count < 2:
        return {"difference": difference, "low": None, "high": None, "p_value": 1.0,
                "n_panelists": count, "bound": "none"}  # fmt: skip
    inverse = float(np.sum(1.0 / first["counts"][left] + 1.0 / second["counts"][right]))
    variance = max(float(np.var(differences, ddof=1)) / count, within_variance * inverse / count**2)
    if variance <= 0.0:
        same_sign = bool(np.all(differences > 0) or np.all(differences < 0))
        p_value = min(1.0, 2.0 * 0.5**count) if same_sign else 1.0
        return {"difference": difference, "low": None, "high": None, "p_value": p_value,
                "n_panelists": count, "bound": "none"}  # fmt: skip
    se = math.sqrt(variance)
    half = float(t_ppf(0.5 + confidence / 2.0, count - 1)) * se
    return {
        "difference": difference,
        "low": difference - half,
        "high": difference + half,
        "p_value": float(2.0 * t_sf(abs(difference) / se, count - 1)),
        "n_panelists": count,
        "bound": "two_sided",
    }


def within_variance(values: np.ndarray, codes: np.ndarray) -> float:
    """Pooled variance of answers around their own group's mean (``codes``: ``[n]`` integer
    group, e.g. panelist × system); 0 when no group has two answers."""
    values = np.asarray(values, dtype=float)
    codes = np.asarray(codes, dtype=np.int64)
    if values.size == 0:
        return 0.0
    _, inverse = np.unique(codes, return_inverse=True)
    groups = int(inverse.max()) + 1
    counts = np.bincount(inverse, minlength=groups).astype(float)
    means = np.bincount(inverse, weights=values, minlength=groups) / counts
    squares = float(np.sum((values - means[inverse]) ** 2))
    return squares / (values.size - groups) if values.size > groups else 0.0

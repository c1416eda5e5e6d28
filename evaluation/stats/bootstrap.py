"""The panelist (listener-cluster) bootstrap, done as one matrix product.

Votes by the same panelist are not independent: a listener who prefers dry mixes prefers them
in every pair. Resampling vote *rows* treats 200 votes from one person as 200 people and gives
intervals that are too narrow. Resampling *panelists* (with all their votes) keeps that
dependence.

It is fast because nothing is recounted per round:

1. the votes are counted once per panelist and pair: a table ``[n_panelists, 3 * n_pairs]``
   (wins of the first system, wins of the second, ties);
2. a bootstrap round that draws panelists with replacement is a vector of multiplicities
   ``[n_panelists]`` (how often each panelist was drawn, summing to ``n_panelists``); all
   rounds form a weight matrix ``[n_rounds, n_panelists]``;
3. every round's pair counts are ``weights @ table`` — one matrix product;
4. all rounds are fitted together by the batched Newton method of
   :mod:`evaluation.stats.bradley_terry`.

``by="vote"`` gives the classic row bootstrap of the public leaderboards (for comparison only):
resampling vote rows only changes how many votes land in each (pair, outcome) cell, so a round
is one multinomial draw over those cells.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .bradley_terry import BOOTSTRAP_RIDGE, fit_bradley_terry
from .comparisons import Comparisons, panelist_pair_counts

_CELLS_PER_CHUNK = 8_000_000
_DRAWS_PER_BLOCK = 1 << 18
"""Bootstrap draws generated at a time (int64: 2 MB)."""
_FLOAT32_EXACT = 2**23
"""float32 adds whole and half counts exactly while every total stays below this."""
_FLOAT32_WHOLE = 2**24
"""float32 holds every whole number below this exactly."""


@dataclass(frozen=True)
class BootstrapResult:
    """Panelist-bootstrap replicates; the first axis is the round.

    - ``scores``: ``[n_rounds, n_systems]`` log-strengths (mean zero per round).
    - ``tie_log_nu``: ``[n_rounds]`` Davidson ``log(nu)``, or None for ties as half.
    - ``pair_rates``: ``[n_rounds, n_pairs]`` win rate of each pair's first system (ties
      half); NaN in a round that drew no panelist who rated the pair.
    - ``converged``: ``[n_rounds]`` whether each round's fit converged.
    """

    scores: np.ndarray
    tie_log_nu: np.ndarray | None
    pair_rates: np.ndarray
    converged: np.ndarray

    @property
    def n_rounds(self) -> int:
        return int(self.scores.shape[0])


def resampling_weights(
    n_units: int, n_rounds: int, rng: np.random.Generator, dtype: type = float
) -> np.ndarray:
    """Multiplicities of ``n_units`` units drawn ``n_units`` times with replacement, per round.

    Returns an array ``[n_rounds, n_units]`` of ``dtype`` (float64 by default; float32 is
    exact for fewer than 2**24 units) whose rows each sum to ``n_units`` (one multinomial
    draw per round: the ordinary nonparametric bootstrap). The draws are the same whatever
    ``dtype``.
    """
    weights = np.empty((n_rounds, n_units), dtype=dtype)
    # The draws a few rounds at a time (about 2 MB, reused while in cache, instead of one
    # [n_rounds, n_units] int64 block of fresh pages): numpy's bounded integers below 2**32
    # come from the bit generator's 32-bit stream, so consecutive blocks are exactly the
    # draws of one call. One count per round straight into the result.
    block = max(1, _DRAWS_PER_BLOCK // max(n_units, 1))
    for start in range(0, n_rounds, block):
        draws = rng.integers(0, n_units, size=(min(block, n_rounds - start), n_units))
        for offset, row in enumerate(draws):
            weights[start + offset] = np.bincount(row, minlength=n_units)
    return weights


def reweighted_counts(table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-round totals ``weights @ table``: ``[rounds, units] @ [units, c] -> [rounds, c]``.

    Uses float32 (twice as fast) when the result is still exact: counts are whole or half
    numbers and each total is below 2**23. ``weights`` (whole numbers) may be float32
    already; the result is float64 either way and the same.
    """
    largest_total = float(table.sum(axis=0).max(initial=0.0)) * float(weights.max(initial=0.0))
    if largest_total < _FLOAT32_EXACT:
        product = weights.astype(np.float32, copy=False) @ table.astype(np.float32)
        return product.astype(float)
    return weights.astype(float, copy=False) @ table


def panelist_bootstrap(
    comparisons: Comparisons,
    *,
    n_rounds: int = 1000,
    seed: int | np.random.Generator = 0,
    ties_model: str = "half",
    by: str = "panelist",
    progress: Callable[[int], None] | None = None,
    initial_scores: np.ndarray | None = None,
    initial_log_nu: float | None = None,
) -> BootstrapResult:
    """Bootstrap the Bradley-Terry fit and every pair's win rate by resampling panelists.

    ``by="panelist"`` (default) resamples panelists with all their votes; ``by="vote"``
    resamples single votes (the row bootstrap of the public leaderboards; for comparison).
    ``seed``: an int or a numpy Generator. Rounds are processed in chunks so that memory
    stays bounded for any number of panelists. ``progress``, if given, is called with the
    number of rounds finished after each chunk (for a progress bar). ``initial_scores`` /
    ``initial_log_nu``: the full-data fit, where every round's Newton method starts.
    """
    if by not in ("panelist", "vote"):
        raise ValueError(f"by must be 'panelist' or 'vote', not {by!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_pairs = comparisons.n_pairs
    # With ties as half a win, a pair's fit and win rate need only two numbers: the first
    # system's (half-)wins and the votes; three are needed for Davidson's tie model.
    columns = 2 if ties_model == "half" else 3
    if by == "vote":
        table = None
        cells = np.bincount(
            comparisons.outcome.astype(np.int64) * n_pairs + comparisons.pair,
            minlength=3 * n_pairs,
        )
        n_units = comparisons.n_votes
    else:
        counts = panelist_pair_counts(comparisons)
        table = _outcome_columns(
            counts["wins_first"], counts["wins_second"], counts["ties"], columns
        )
        n_units = table.shape[0]
    memory_rows = n_units if table is not None else 1
    chunk = max(1, min(n_rounds, _CELLS_PER_CHUNK // max(memory_rows, 1)))
    scores, log_nu, rates, converged = [], [], [], []
    for start in range(0, n_rounds, chunk):
        rounds = min(chunk, n_rounds - start)
        if table is None:
            # Resampling n votes with replacement only changes how many votes fall in each
            # (pair, outcome) cell: the cell counts are Multinomial(n, observed shares).
            drawn = rng.multinomial(n_units, cells / max(n_units, 1), size=rounds).astype(float)
            totals = _outcome_columns(
                drawn[:, :n_pairs],
                drawn[:, n_pairs : 2 * n_pairs],
                drawn[:, 2 * n_pairs :],
                columns,
            )
        else:
            # float32 holds every multiplicity exactly below 2**24 units (half the memory).
            dtype = np.float32 if n_units < _FLOAT32_WHOLE else float
            totals = reweighted_counts(table, resampling_weights(n_units, rounds, rng, dtype))
        if columns == 2:
            wins_first, n = totals[:, :n_pairs], totals[:, n_pairs:]
            wins_second, ties = n - wins_first, np.zeros_like(wins_first)
        else:
            wins_first = totals[:, :n_pairs]
            wins_second = totals[:, n_pairs : 2 * n_pairs]
            ties = totals[:, 2 * n_pairs :]
            n = wins_first + wins_second + ties
        fit = fit_bradley_terry(
            wins_first,
            wins_second,
            ties,
            comparisons.pair_first,
            comparisons.pair_second,
            comparisons.n_systems,
            ties_model=ties_model,
            ridge=BOOTSTRAP_RIDGE,
            initial_scores=initial_scores,
            initial_log_nu=initial_log_nu,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            rates.append(np.where(n > 0, (wins_first + ties / 2.0) / n, np.nan))
        scores.append(fit.scores)
        converged.append(fit.converged)
        if fit.tie_log_nu is not None:
            log_nu.append(fit.tie_log_nu)
        if progress is not None:
            progress(rounds)
    return BootstrapResult(
        scores=np.concatenate(scores),
        tie_log_nu=np.concatenate(log_nu) if log_nu else None,
        pair_rates=np.concatenate(rates),
        converged=np.concatenate(converged),
    )


def percentile_interval(
    replicates: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over the first axis of ``replicates`` (NaN rounds ignored)."""
    tail = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        # An all-NaN column (a pair no resample ever drew) has no interval: NaN, not a warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(replicates, [tail, 1.0 - tail], axis=0)
    return low, high


def _outcome_columns(
    wins_first: np.ndarray, wins_second: np.ndarray, ties: np.ndarray, columns: int
) -> np.ndarray:
    """``[..., 2 * n_pairs]`` (half-wins of the first system, votes) when ``columns == 2``,
    else ``[..., 3 * n_pairs]`` (wins of the first, wins of the second, ties)."""
    if columns == 2:
        return np.concatenate([wins_first + ties / 2.0, wins_first + wins_second + ties], axis=-1)
    return np.concatenate([wins_first, wins_second, ties], axis=-1)

"""Pairwise comparisons in canonical form: each vote as (first system, second system, outcome).

A system pair is *unordered*: the alphabetically first system name is ``first`` whatever the
position (A or B) it was shown at. Every vote becomes an outcome for ``first``: a win (1), a
loss (0) or a tie (half a win for each side). All heavier statistics (Bradley-Terry, panelist
bootstrap, confidence sequences) start from the integer-coded arrays built here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .clusters import dense_codes
from .responses import reader_codes, sorted_codes

FIRST_WINS, SECOND_WINS, TIE = 0, 1, 2
_FIRST_SCORE = np.array([1.0, 0.0, 0.5])
"""The first system's score for each outcome code (win, loss, tie)."""
_CHOICE_CLASS = {"a": 0, "b": 1, "tie": 2}
"""Choice codes: a, b, tie; anything else (not a vote) is 3."""
_OUTCOME = np.array(
    [
        [SECOND_WINS, FIRST_WINS, TIE, TIE],  # the first system was shown at B
        [FIRST_WINS, SECOND_WINS, TIE, TIE],  # the first system was shown at A
    ],
    dtype=np.int8,
)
"""Outcome by (first system shown at A, choice class)."""


@dataclass(frozen=True)
class Comparisons:
    """Integer-coded votes; every array has one entry per vote (shape ``[n_votes]``).

    - ``systems``: system names, sorted; a system's code is its index here.
    - ``panelists``: panelist ids; a panelist's code is its index here.
    - ``first``, ``second``: system codes with ``first < second`` (alphabetical order).
    - ``pair``: code of the unordered pair, an index into ``pair_first`` / ``pair_second``
      (arrays of shape ``[n_pairs]``, sorted by (first, second)).
    - ``outcome``: ``FIRST_WINS``, ``SECOND_WINS`` or ``TIE``.
    - ``first_at_a``: True where the first system was shown at position A.
    - ``panelist``: panelist code.
    - ``row``: index of the vote's row in the responses frame it was built from.
    """

    systems: tuple[str, ...]
    panelists: tuple[str, ...]
    first: np.ndarray
    second: np.ndarray
    pair: np.ndarray
    pair_first: np.ndarray
    pair_second: np.ndarray
    outcome: np.ndarray
    first_at_a: np.ndarray
    panelist: np.ndarray
    row: np.ndarray

    @property
    def n_votes(self) -> int:
        return int(self.outcome.shape[0])

    @property
    def n_pairs(self) -> int:
        return int(self.pair_first.shape[0])

    @property
    def n_systems(self) -> int:
        return len(self.systems)

    @property
    def n_panelists(self) -> int:
        return len(self.panelists)

    @cached_property
    def panelist_pair_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """The (panelist, pair) cells that hold votes: ``cells`` ``[m]``, the sorted cell keys
        ``panelist * n_pairs + pair``, and ``inverse`` ``[n_votes]``, each vote's index into
        ``cells`` (:func:`evaluation.stats.clusters.dense_codes`). Computed once per encoding
        and read-only: the listener shares, the panelist counts and the planner share it."""
        cells, inverse = dense_codes(
            self.panelist * max(self.n_pairs, 1) + self.pair,
            max(self.n_panelists, 1) * max(self.n_pairs, 1),
        )
        cells.setflags(write=False)
        inverse.setflags(write=False)
        return cells, inverse

    @cached_property
    def first_score(self) -> np.ndarray:
        """Outcome for the first system as a float per vote: 1 win, 0.5 tie, 0 loss
        (computed once per encoding, read-only: the pair shares, the planner and the
        ranking's bounds all read it)."""
        score = _FIRST_SCORE.take(self.outcome)
        score.setflags(write=False)
        return score


def comparable_rows(responses: pd.DataFrame) -> pd.Series:
    """Boolean mask of rows that are usable votes: choice a/b/tie between two named systems."""
    system_a = responses["system_a"]
    system_b = responses["system_b"]
    return (
        responses["choice"].isin(["a", "b", "tie"])
        & (system_a != "")
        & (system_b != "")
        & (system_a != system_b)
    )


def build_comparisons(responses: pd.DataFrame) -> Comparisons:
    """Encode the usable votes of a normalised responses frame (see ``comparable_rows``).

    Works on integer codes from the start: pandas' hash-based factorize of each text column
    once, then only integer arithmetic (string comparisons on a million rows cost more than
    the whole bootstrap).
    """
    choice_codes, choice_names = reader_codes(responses["choice"]) or pd.factorize(
        responses["choice"].to_numpy()
    )
    choice_names = np.asarray(choice_names, dtype=object)
    all_a, all_b, systems = _system_codes(responses)
    named = np.asarray(systems, dtype=object) != ""
    # One class per distinct choice, looked up by code; the extra 3 serves code -1 (NaN).
    classes = np.array([_CHOICE_CLASS.get(name, 3) for name in choice_names] + [3], np.int8)
    choice_class = classes[choice_codes]
    usable = (choice_class < 3) & (all_a != all_b) & named[all_a] & named[all_b]
    rows = np.flatnonzero(usable)
    code_a, code_b = all_a[rows], all_b[rows]
    # Drop systems that only appear in rows that are not votes, and renumber the rest.
    used = np.zeros(len(systems), dtype=bool)
    used[code_a] = True
    used[code_b] = True
    renumber = np.cumsum(used) - 1
    systems = np.asarray(systems, dtype=object)[used]
    code_a, code_b = renumber[code_a], renumber[code_b]
    first = np.minimum(code_a, code_b)
    second = np.maximum(code_a, code_b)
    first_at_a = code_a == first
    outcome = _OUTCOME[first_at_a.view(np.int8), choice_class[rows]]

    n_systems = len(systems)
    pair_key = first.astype(np.int64) * max(n_systems, 1) + second
    # pd.factorize(pair_key, sort=True) by counting: the keys are below n_systems².
    pair_keys, pair = dense_codes(pair_key, max(n_systems, 1) ** 2)
    read = reader_codes(responses["panelist_id"])
    if read is not None:
        panelist, panelists = sorted_codes(*read, rows=rows)
    else:
        panelist, panelists = pd.factorize(responses["panelist_id"].to_numpy()[rows], sort=True)
    return Comparisons(
        systems=tuple(str(name) for name in systems),
        panelists=tuple(str(name) for name in panelists),
        first=first,
        second=second,
        pair=pair.astype(np.int64),
        pair_first=(np.asarray(pair_keys) // max(n_systems, 1)).astype(np.int64),
        pair_second=(np.asarray(pair_keys) % max(n_systems, 1)).astype(np.int64),
        outcome=outcome,
        first_at_a=first_at_a,
        panelist=panelist.astype(np.int64),
        row=rows,
    )


def _system_codes(responses: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of ``system_a`` and ``system_b`` (each ``[n_rows]``) into their sorted distinct
    names (``""`` included when present): the reader's codes when it left them, else one
    factorize of both columns."""
    read_a, read_b = reader_codes(responses["system_a"]), reader_codes(responses["system_b"])
    if read_a is not None and read_b is not None:
        # Every distinct cell the reader kept occurs in its column: sorting the few names of
        # both columns together gives what factorising the two million cells would.
        (codes_a, names_a), (codes_b, names_b) = read_a, read_b
        merged, systems = pd.factorize(np.concatenate([names_a, names_b]), sort=True)
        return merged[codes_a], merged[names_a.size + codes_b], systems
    system_codes, systems = pd.factorize(
        np.concatenate([responses["system_a"].to_numpy(), responses["system_b"].to_numpy()]),
        sort=True,
    )
    n_rows = len(responses)
    return system_codes[:n_rows], system_codes[n_rows:], systems


def _distinct_panelists_per_pair(comparisons: Comparisons) -> np.ndarray:
    """How many distinct panelists voted on each pair, ``[n_pairs]``."""
    k = comparisons.n_pairs
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    cells, _ = comparisons.panelist_pair_cells
    return np.bincount(cells % k, minlength=k)


def pair_counts(comparisons: Comparisons) -> dict[str, np.ndarray]:
    """Vote counts per pair: ``wins_first``, ``wins_second``, ``ties``, ``n`` (each ``[n_pairs]``),
    plus ``n_panelists`` (distinct panelists who rated the pair)."""
    k = comparisons.n_pairs
    # One pass: each vote's (pair, outcome) cell, counted once.
    cells = np.bincount(comparisons.pair * 3 + comparisons.outcome, minlength=3 * k).reshape(k, 3)
    counts = {
        "wins_first": cells[:, FIRST_WINS].copy(),
        "wins_second": cells[:, SECOND_WINS].copy(),
        "ties": cells[:, TIE].copy(),
    }
    counts["n"] = counts["wins_first"] + counts["wins_second"] + counts["ties"]
    counts["n_panelists"] = _distinct_panelists_per_pair(comparisons)
    return counts


def panelist_pair_counts(comparisons: Comparisons) -> dict[str, np.ndarray]:
    """Vote counts per panelist and pair, each a float array ``[n_panelists, n_pairs]``:
    ``wins_first``, ``wins_second``, ``ties``.

    This is the only pass over the individual votes that the panelist bootstrap needs: a
    bootstrap round is a reweighting of these rows.
    """
    p, k = comparisons.n_panelists, comparisons.n_pairs
    cell = (comparisons.panelist * k + comparisons.pair) * 3 + comparisons.outcome
    counted = np.bincount(cell, minlength=p * k * 3).reshape(p, k, 3)
    return {
        name: counted[:, :, code].astype(float)
        for name, code in (("wins_first", FIRST_WINS), ("wins_second", SECOND_WINS), ("ties", TIE))
    }

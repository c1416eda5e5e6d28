"""Encoding votes: canonical pair order, outcomes, and the counts built from them."""

import numpy as np
import pandas as pd

from evaluation.stats.comparisons import (
    FIRST_WINS,
    SECOND_WINS,
    TIE,
    build_comparisons,
    comparable_rows,
    pair_counts,
    panelist_pair_counts,
)

FRAME = pd.DataFrame(
    [
        ("p2", "zeta", "alpha", "a"),  # zeta shown at A wins: second system wins
        ("p1", "alpha", "zeta", "a"),
        ("p1", "alpha", "beta", "tie"),
        ("p3", "beta", "alpha", "b"),
        ("p3", "beta", "beta", "a"),  # same system twice: not a vote
        ("p3", "", "beta", "a"),  # no system: not a vote
        ("p4", "beta", "zeta", ""),  # no choice: not a vote
        ("p1", "zeta", "beta", "b"),  # beta shown at B wins: first system wins
    ],
    columns=["panelist_id", "system_a", "system_b", "choice"],
)


def test_votes_are_coded_for_the_alphabetically_first_system():
    comparisons = build_comparisons(FRAME)

    assert comparisons.systems == ("alpha", "beta", "zeta")
    assert comparisons.panelists == ("p1", "p2", "p3")
    assert comparisons.row.tolist() == [0, 1, 2, 3, 7]
    assert comparisons.first.tolist() == [0, 0, 0, 0, 1]
    assert comparisons.second.tolist() == [2, 2, 1, 1, 2]
    assert comparisons.outcome.tolist() == [SECOND_WINS, FIRST_WINS, TIE, FIRST_WINS, FIRST_WINS]
    assert comparisons.first_at_a.tolist() == [False, True, True, False, False]
    assert comparisons.first_score.tolist() == [0.0, 1.0, 0.5, 1.0, 1.0]


def test_pairs_are_numbered_in_system_order():
    comparisons = build_comparisons(FRAME)

    assert list(zip(comparisons.pair_first, comparisons.pair_second, strict=True)) == [
        (0, 1),
        (0, 2),
        (1, 2),
    ]
    assert comparisons.pair.tolist() == [1, 1, 0, 0, 2]


def test_comparable_rows_marks_the_same_rows_as_the_encoding():
    assert np.flatnonzero(comparable_rows(FRAME)).tolist() == [0, 1, 2, 3, 7]


def test_pair_counts_count_wins_ties_votes_and_panelists():
    counts = pair_counts(build_comparisons(FRAME))

    assert counts["wins_first"].tolist() == [1, 1, 1]
    assert counts["wins_second"].tolist() == [0, 1, 0]
    assert counts["ties"].tolist() == [1, 0, 0]
    assert counts["n"].tolist() == [2, 2, 1]
    assert counts["n_panelists"].tolist() == [2, 2, 1]


def test_panelist_pair_counts_are_a_panelist_by_pair_table():
    tables = panelist_pair_counts(build_comparisons(FRAME))

    assert tables["wins_first"].tolist() == [[0, 1, 1], [0, 0, 0], [1, 0, 0]]
    assert tables["wins_second"].tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert tables["ties"].tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_a_frame_without_votes_encodes_to_nothing():
    comparisons = build_comparisons(FRAME.iloc[4:7])

    assert comparisons.n_votes == 0 and comparisons.n_pairs == 0 and comparisons.systems == ()
    assert pair_counts(comparisons)["n"].tolist() == []


def test_panelist_pair_cells_and_scores_are_computed_once_and_read_only():
    comparisons = build_comparisons(FRAME)
    cells, inverse = comparisons.panelist_pair_cells
    expected_cells, expected_inverse = np.unique(
        comparisons.panelist * comparisons.n_pairs + comparisons.pair, return_inverse=True
    )

    assert cells.tolist() == expected_cells.tolist()
    assert inverse.tolist() == expected_inverse.tolist()
    assert comparisons.first_score.tolist() == [0.0, 1.0, 0.5, 1.0, 1.0]
    assert comparisons.panelist_pair_cells[0] is cells  # cached on the encoding
    assert comparisons.first_score is comparisons.first_score
    for shared in (cells, inverse, comparisons.first_score):
        assert not shared.flags.writeable

"""The system ranking: order, Elo scale, rank intervals and vote counts."""

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.stats.comparisons import build_comparisons
from evaluation.stats.ranking import ranks, system_ranking


def study(rng, panelists=40):
    """Three systems with true log-strengths 1, 0, -1; every panelist rates each pair twice."""
    strengths = {"strong": 1.0, "middle": 0.0, "weak": -1.0}
    rows = []
    for index in range(panelists):
        for a, b in (("strong", "middle"), ("middle", "weak"), ("weak", "strong")) * 2:
            p_a = 1 / (1 + math.exp(strengths[b] - strengths[a]))
            rows.append((f"p{index}", a, b, "a" if rng.random() < p_a else "b"))
    rows.append(("p0", "strong", "weak", "tie"))
    return pd.DataFrame(rows, columns=["panelist_id", "system_a", "system_b", "choice"])


def test_ranks_are_competition_ranks_with_shared_places():
    assert ranks(np.array([0.3, -1.0, 0.3, 2.0])).tolist() == [2, 4, 2, 1]
    assert ranks(np.array([[1.0, 0.0], [0.0, 1.0]])).tolist() == [[1, 2], [2, 1]]


def test_systems_come_sorted_by_rank_with_intervals_around_the_score():
    comparisons = build_comparisons(study(np.random.default_rng(0)))

    systems, meta, bootstrap = system_ranking(comparisons, n_bootstrap=300, seed=1)

    assert [entry["system"] for entry in systems] == ["strong", "middle", "weak"]
    assert [entry["rank"] for entry in systems] == [1, 2, 3]
    for entry in systems:
        assert entry["ci_low"] < entry["score"] < entry["ci_high"]
        assert entry["elo"] == pytest.approx(400 / math.log(10) * entry["score"] + 1000)
        assert entry["elo_low"] == pytest.approx(400 / math.log(10) * entry["ci_low"] + 1000)
        assert 1 <= entry["rank_low"] <= entry["rank"] <= entry["rank_high"] <= 3
    assert sum(entry["score"] for entry in systems) == pytest.approx(0.0, abs=1e-12)
    assert bootstrap.scores.shape == (300, 3)
    assert meta["bootstrap_resamples"] == "panelists" and meta["n_bootstrap"] == 300


def test_vote_counts_add_up_per_system():
    comparisons = build_comparisons(study(np.random.default_rng(0), panelists=5))

    systems, _, _ = system_ranking(comparisons, n_bootstrap=0)

    by_name = {entry["system"]: entry for entry in systems}
    assert by_name["strong"]["votes"] == 21 and by_name["weak"]["votes"] == 21
    assert by_name["strong"]["ties"] == 1 and by_name["middle"]["ties"] == 0
    for entry in systems:
        assert entry["wins"] + entry["losses"] + entry["ties"] == entry["votes"]
    assert sum(entry["wins"] for entry in systems) == 30
    # Without a bootstrap there is no interval: NaN (a float, like every other ci_low).
    assert math.isnan(by_name["middle"]["ci_low"])
    assert by_name["middle"]["rank_low"] is None


def test_the_davidson_ranking_reports_the_tie_parameter_with_an_interval():
    frame = study(np.random.default_rng(3))
    frame.loc[::5, "choice"] = "tie"

    _, meta, _ = system_ranking(build_comparisons(frame), ties="davidson", n_bootstrap=200)

    assert meta["model"] == "davidson"
    assert meta["tie_nu_ci_low"] < meta["tie_nu"] < meta["tie_nu_ci_high"]


def test_an_unknown_tie_model_is_refused():
    comparisons = build_comparisons(study(np.random.default_rng(0), panelists=1))

    with pytest.raises(ValueError, match="ties must be one of"):
        system_ranking(comparisons, ties="thurstone")

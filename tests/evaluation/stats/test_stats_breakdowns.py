"""Breakdowns by panel and stratum (evaluation.stats.breakdowns): each group gets the study's
own figures and verdict rule with listener-cluster intervals, and a small group says "too
little data" instead of a finding."""

import pandas as pd

from evaluation.stats import summarize
from evaluation.stats.breakdowns import breakdown_dimensions, breakdowns
from evaluation.stats.responses import RESPONSE_COLUMNS, normalize_responses
from evaluation.stats.summary import pair_summary


def response_row(**values) -> dict:
    row = dict.fromkeys(RESPONSE_COLUMNS, "")
    row.update(study="demo", is_catch="0", simulated="0", position_swapped="0")
    row.update({key: str(value) for key, value in values.items()})
    return row


def panel_rows(stratum: str, panel: str, panelists: int, prefer: str, votes: int = 6) -> list:
    """`panelists` listeners of one stratum, each voting `votes` times human vs model, always
    for `prefer` (the human on A every time)."""
    return [
        response_row(
            panelist_id=f"{stratum}-{n}",
            panel=panel,
            stratum=stratum,
            expertise=stratum,
            system_a="human",
            system_b="model",
            choice="a" if prefer == "human" else "b",
            liked_a=1,
            liked_b=0,
        )
        for n in range(panelists)
        for _ in range(votes)
    ]


def frame(rows) -> pd.DataFrame:
    return normalize_responses(pd.DataFrame(rows))


def by(result, dimension):
    return {entry["group"]: entry for entry in result if entry["dimension"] == dimension}


def test_each_stratum_gets_its_own_verdict_by_the_study_rule():
    rows = panel_rows("professional", "pros", 10, "human") + panel_rows(
        "amateur", "open call", 10, "model"
    )
    result = breakdowns(frame(rows), min_panelists=8)
    strata = by(result, "stratum")
    pro, amateur = strata["professional"]["pairs"][0], strata["amateur"]["pairs"][0]
    assert (pro["system_a"], pro["system_b"]) == ("human", "model")
    assert pro["verdict"] == "prefers_a" and amateur["verdict"] == "prefers_b"
    # cluster-aware: the interval is over 10 listeners, not 60 votes
    assert pro["n_panelists"] == 10 and pro["n"] == 60
    assert pro["cluster_ci_method"] and pro["cluster_ci_bound"] in ("lower", "two_sided", "none")
    # ...and the whole study, mixed, has no clear preference
    assert pair_summary(frame(rows), min_panelists=8)[0]["verdict"] == "no_clear_preference"


def test_a_group_is_exactly_the_study_figures_on_its_rows():
    rows = panel_rows("professional", "pros", 9, "human") + panel_rows(
        "amateur", "pros", 9, "model"
    )
    data = frame(rows)
    group = by(breakdowns(data, min_panelists=8), "stratum")["professional"]
    alone = data[data["stratum"] == "professional"].reset_index(drop=True)
    assert group["pairs"] == pair_summary(alone, min_panelists=8)


def test_a_small_stratum_reads_too_little_data():
    rows = panel_rows("professional", "pros", 10, "human") + panel_rows(
        "non_musician", "pros", 3, "human"
    )
    strata = by(breakdowns(frame(rows), min_panelists=8), "stratum")
    assert strata["non_musician"]["too_little_data"] is True
    assert strata["non_musician"]["pairs"][0]["verdict"] == "too_little_data"
    assert strata["professional"]["too_little_data"] is False


def test_panels_and_strata_are_both_broken_down_and_empty_columns_are_not():
    rows = panel_rows("professional", "pros", 2, "human") + panel_rows(
        "amateur", "open call", 2, "model"
    )
    data = frame(rows)
    assert breakdown_dimensions(data) == ["panel", "stratum", "expertise"]
    assert set(by(breakdowns(data), "panel")) == {"pros", "open call"}
    without_strata = frame([{**row, "stratum": ""} for row in rows])
    assert "stratum" not in breakdown_dimensions(without_strata)


def test_summarize_carries_the_breakdowns():
    rows = panel_rows("professional", "pros", 3, "human") + panel_rows(
        "amateur", "pros", 3, "model"
    )
    summary = summarize(pd.DataFrame(rows), n_bootstrap=0, min_panelists=3)
    assert {(b["dimension"], b["group"]) for b in summary["breakdowns"]} >= {
        ("stratum", "professional"),
        ("stratum", "amateur"),
        ("panel", "pros"),
    }


def test_only_pairwise_rows_are_broken_down():
    rows = panel_rows("professional", "pros", 3, "human")
    pool = [{**row, "trial_kind": "pool", "choice": "b"} for row in rows]
    summary = summarize(pd.DataFrame(rows + pool), n_bootstrap=0, min_panelists=3)
    (pro,) = [b for b in summary["breakdowns"] if b["dimension"] == "stratum"]
    assert pro["n_responses"] == len(rows) and pro["pairs"][0]["wins_b"] == 0

import json
import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm, t
from statsmodels.stats.proportion import proportion_confint

from evaluation.stats import read_responses, summarize

# panelist, panel, expertise, system_a, system_b, choice, liked_a, liked_b, guess_ai, catch
STUDY = [
    ("p1", "pros", "professional", "model", "human", "a", 1, 0, "a", ""),
    ("p1", "pros", "professional", "human", "model", "a", 1, 1, "b", ""),
    ("p2", "pros", "hobbyist", "model", "human", "b", 0, 1, "b", ""),
    ("p2", "pros", "hobbyist", "human", "model", "tie", "", 1, "unsure", ""),
    ("p3", "students", "hobbyist", "human", "model", "b", 0, 1, "", ""),
    ("p3", "students", "hobbyist", "human", "model", "a", 1, 0, "a", "0"),
    ("p1", "pros", "professional", "baseline", "human", "b", 0, 1, "a", ""),
    ("p1", "pros", "professional", "human", "baseline", "a", 1, 0, "b", ""),
    ("p2", "pros", "hobbyist", "baseline", "human", "b", 0, 1, "b", ""),
    ("p2", "pros", "hobbyist", "human", "baseline", "a", 1, 1, "unsure", ""),
    ("p3", "students", "hobbyist", "baseline", "human", "b", 0, 1, "a", ""),
    ("p3", "students", "hobbyist", "human", "baseline", "a", "", 0, "a", ""),
    ("p4", "students", "none", "baseline", "human", "a", 1, 0, "a", ""),
    ("p4", "students", "none", "human", "baseline", "tie", 1, 1, "b", ""),
    ("p4", "students", "none", "baseline", "human", "b", 0, 1, "b", ""),
    ("p5", "students", "none", "human", "baseline", "tie", 0, 0, "unsure", ""),
]


@pytest.fixture
def study_csv(responses_csv, response_row):
    rows = []
    for number, (
        panelist,
        panel,
        expertise,
        a,
        b,
        choice,
        liked_a,
        liked_b,
        guess,
        catch,
    ) in enumerate(STUDY, start=1):
        rows.append(
            response_row(
                response_id=number,
                panelist_id=panelist,
                panel=panel,
                expertise=expertise,
                system_a=a,
                system_b=b,
                choice=choice,
                preferred_system={"a": a, "b": b}.get(choice, ""),
                liked_a=liked_a,
                liked_b=liked_b,
                guess_ai=guess,
                ai_side="a" if a != "human" else "b",
                is_catch=1 if catch else 0,
                catch_passed=catch,
                listen_a_s=20,
                listen_b_s=5 if number == 13 else 20,
            )
        )
    return responses_csv(rows)


P1_PAIR_KEYS = (
    "system_a",
    "system_b",
    "n",
    "n_panelists",
    "wins_a",
    "wins_b",
    "ties",
    "win_rate_a",
    "ci_low",
    "ci_high",
    "p_value",
)


def wilson(successes, n):
    return pytest.approx(proportion_confint(successes, n, method="wilson"), abs=1e-12)


def test_summarize_counts_every_unordered_pair_independent_of_position(study_csv):
    pairs = summarize(read_responses(study_csv))["pairs"]

    baseline_human, human_model = pairs
    assert {key: baseline_human[key] for key in ("system_a", "system_b", "n", "wins_a")} == {
        "system_a": "baseline",
        "system_b": "human",
        "n": 10,
        "wins_a": 1,
    }
    assert (baseline_human["wins_b"], baseline_human["ties"]) == (7, 2)
    assert baseline_human["win_rate_a"] == 0.2
    assert (baseline_human["ci_low"], baseline_human["ci_high"]) == wilson(2, 10)
    assert baseline_human["p_value"] == binomtest(1, 8).pvalue
    assert baseline_human["n_panelists"] == 5
    assert (human_model["system_a"], human_model["system_b"]) == ("human", "model")
    assert (human_model["n"], human_model["wins_a"], human_model["wins_b"]) == (5, 2, 2)
    assert human_model["ties"] == 1 and human_model["win_rate_a"] == 0.5
    assert (human_model["ci_low"], human_model["ci_high"]) == wilson(2.5, 5)
    assert human_model["p_value"] == 1.0


def test_summarize_reports_liked_rates_in_of_10_units(study_csv):
    liked = {row["system"]: row for row in summarize(read_responses(study_csv))["liked"]}

    assert [(row["n"], row["liked"]) for row in liked.values()] == [(10, 3), (13, 9), (5, 4)]
    assert list(liked) == ["baseline", "human", "model"]
    human = liked["human"]
    low, high = proportion_confint(9, 13, method="wilson")
    assert human["rate"] == 9 / 13
    assert (human["ci_low"], human["ci_high"]) == pytest.approx((low, high), abs=1e-12)
    # "N of 10" weighs each listener equally: the mean of each panelist's own share.
    shares = {}
    for panelist, _, _, a, b, _, liked_a, liked_b, _, catch in STUDY:
        for system, liked in ((a, liked_a), (b, liked_b)):
            if system == "human" and liked != "" and not catch:
                shares.setdefault(panelist, []).append(liked)
    per_panelist = [sum(values) / len(values) for values in shares.values()]
    assert human["n_panelists"] == len(per_panelist) == 5
    assert human["panelist_rate"] == pytest.approx(np.mean(per_panelist), abs=1e-12)
    assert human["of_10"] == pytest.approx(10 * np.mean(per_panelist), abs=1e-12)
    half = t.ppf(0.975, 4) * np.std(per_panelist, ddof=1) / math.sqrt(5)
    assert human["cluster_ci_low"] == pytest.approx(np.mean(per_panelist) - half, abs=1e-12)
    assert human["of_10_high"] == pytest.approx(10 * min(1.0, np.mean(per_panelist) + half))


def test_summarize_scores_ai_identification_with_unsure_as_not_correct(study_csv):
    ai = summarize(read_responses(study_csv))["ai_identification"]

    assert (ai["n"], ai["correct"], ai["unsure"], ai["n_decided"]) == (14, 7, 3, 11)
    assert ai["accuracy"] == 0.5
    assert ai["unsure_rate"] == 3 / 14
    assert ai["accuracy_decided"] == 7 / 11
    assert (ai["ci_low"], ai["ci_high"]) == wilson(7, 14)
    assert ai["p_value"] == binomtest(7, 11).pvalue
    assert ai["n_unscorable"] == 1
    # d' of the panelist-averaged share correct (the 3 "unsure" count half).
    credit = {}
    for panelist, _, _, a, _, _, _, _, guess, catch in STUDY:
        if guess in ("a", "b", "unsure") and not catch:
            side = "a" if a != "human" else "b"
            score = 0.5 if guess == "unsure" else float(guess == side)
            credit.setdefault(panelist, []).append(score)
    shares = [np.mean(values) for values in credit.values()]
    assert ai["n_panelists"] == 5
    assert ai["d_prime"] == pytest.approx(math.sqrt(2) * norm.ppf(np.mean(shares)), abs=1e-12)
    mean = np.mean(shares)
    # The cluster variance is floored at the binomial variance of independent answers.
    floor = mean * (1 - mean) * sum(1 / len(values) for values in credit.values()) / 25
    half = t.ppf(0.975, 4) * math.sqrt(max(np.var(shares, ddof=1) / 5, floor))
    assert ai["d_prime_low"] == pytest.approx(
        math.sqrt(2) * norm.ppf(np.mean(shares) - half), abs=1e-12
    )
    assert ai["verdict"] == "too_little_data"
    groups = {group["expertise"]: group for group in ai["by_expertise"]}
    assert list(groups) == ["hobbyist", "none", "professional"]
    assert [(g["n"], g["correct"], g["unsure"]) for g in groups.values()] == [
        (6, 1, 2),
        (4, 2, 1),
        (4, 4, 0),
    ]
    assert groups["professional"]["p_value"] == binomtest(4, 4).pvalue


def test_summarize_counts_panels_and_leaves_catch_trials_out(study_csv):
    summary = summarize(read_responses(study_csv))

    assert summary["panels"] == [
        {"panel": "pros", "n_panelists": 2, "n_responses": 8, "n_analysed": 8},
        {"panel": "students", "n_panelists": 3, "n_responses": 8, "n_analysed": 7},
    ]
    meta = summary["meta"]
    assert (meta["n_responses"], meta["n_panelists"], meta["n_analysed"]) == (16, 5, 15)
    assert meta["n_excluded"] == 1
    assert meta["exclusions"][0]["rule"] == "catch_trials"
    assert meta["exclusions"][0]["n_responses"] == 1
    assert meta["columns_missing"] == []


def test_summarize_can_count_catch_trials_as_comparisons(study_csv):
    summary = summarize(read_responses(study_csv), exclude_catch=False)

    assert summary["meta"]["n_analysed"] == 16
    assert summary["pairs"][1]["n"] == 6 and summary["pairs"][1]["wins_a"] == 3


def test_summarize_drops_panelists_who_failed_catch_trials_when_asked(study_csv):
    summary = summarize(read_responses(study_csv), exclude_failed_catch=True)

    failed = summary["meta"]["exclusions"][1]
    assert (failed["rule"], failed["n_responses"], failed["n_panelists"]) == ("failed_catch", 3, 1)
    assert summary["meta"]["n_analysed"] == 12
    assert summary["pairs"][0]["n"] == 8


def test_summarize_drops_too_short_listening_when_asked(study_csv):
    summary = summarize(read_responses(study_csv), min_listen_s=10)

    assert summary["meta"]["exclusions"][1]["n_responses"] == 1
    assert summary["pairs"][0]["wins_a"] == 0


def test_summarize_is_json_ready_without_nan(study_csv):
    summary = summarize(read_responses(study_csv))

    assert json.loads(json.dumps(summary, allow_nan=False)) == summary


def test_summarize_leaves_out_figures_whose_columns_are_missing(responses_csv, response_row):
    path = responses_csv(
        [
            response_row(panelist_id="p1", system_a="x", system_b="y", choice="a"),
            response_row(panelist_id="p2", system_a="y", system_b="x", choice="a"),
        ],
        columns=("panelist_id", "system_a", "system_b", "choice"),
    )

    summary = summarize(read_responses(path))

    assert summary["pairs"][0]["wins_a"] == 1 and summary["pairs"][0]["wins_b"] == 1
    assert summary["liked"] == [] and summary["ai_identification"] is None
    assert summary["panels"] == []
    left_out = {note["figure"] for note in summary["meta"]["figures_left_out"]}
    assert {"liked", "ai_identification", "panels"} <= left_out
    assert "expertise" in summary["meta"]["columns_missing"]


def test_summarize_skips_rows_that_are_not_votes(responses_csv, response_row):
    path = responses_csv(
        [
            response_row(panelist_id="p1", system_a="x", system_b="y", choice="b"),
            response_row(panelist_id="p1", system_a="x", system_b="x", choice="a"),
            response_row(panelist_id="p1", system_a="x", system_b="y", choice=""),
        ]
    )

    summary = summarize(read_responses(path))

    assert summary["meta"]["n_votes"] == 1 and summary["meta"]["n_not_votes"] == 2
    (pair,) = summary["pairs"]
    assert {key: pair[key] for key in P1_PAIR_KEYS} == (
        {
            "system_a": "x",
            "system_b": "y",
            "n": 1,
            "n_panelists": 1,
            "wins_a": 0,
            "wins_b": 1,
            "ties": 0,
            "win_rate_a": 0.0,
            "ci_low": 0.0,
            "ci_high": pytest.approx(proportion_confint(0, 1, method="wilson")[1]),
            "p_value": 1.0,
        }
    )
    # One panelist: no between-listener variation to measure, so no verdict.
    assert (pair["cluster_ci_low"], pair["cluster_ci_high"], pair["cluster_ci_bound"]) == (
        0.0,
        1.0,
        "none",
    )
    assert pair["design_effect"] is None
    assert (pair["verdict"], pair["verdict_p"]) == ("too_little_data", 1.0)


def test_summarize_counts_liked_tracks_that_lost_on_a_recorded_aspect(responses_csv, response_row):
    columns = (
        "panelist_id",
        "system_a",
        "system_b",
        "choice",
        "liked_a",
        "liked_b",
        "aspect_melody",
    )
    answers = [
        ("p1", "x", "y", "a", 1, 1, "b"),
        ("p2", "y", "x", "a", 0, 1, "a"),
        ("p3", "x", "y", "b", 1, 0, "tie"),
        ("p4", "x", "y", "b", 1, 0, ""),
    ]
    path = responses_csv(
        [response_row(**dict(zip(columns, answer, strict=True))) for answer in answers],
        columns=columns,
    )

    liked = {row["system"]: row for row in summarize(read_responses(path), n_bootstrap=0)["liked"]}

    assert liked["x"]["aspects"] == [
        {
            "aspect": "melody",
            "n_liked": 3,
            "preferred_other": 2,
            "share": 2 / 3,
            "ci_low": pytest.approx(proportion_confint(2, 3, method="wilson")[0], abs=1e-12),
            "ci_high": pytest.approx(proportion_confint(2, 3, method="wilson")[1], abs=1e-12),
        }
    ]
    assert (
        liked["y"]["aspects"][0]["n_liked"] == 1
        and liked["y"]["aspects"][0]["preferred_other"] == 0
    )


def test_summarize_has_no_aspect_figures_when_none_are_recorded(study_csv):
    assert all("aspects" not in row for row in summarize(read_responses(study_csv))["liked"])


# --- too little data and degenerate data -----------------------------------------------------


def votes(rows):
    """``(panelist, system_a, system_b, choice)`` tuples as a normalised-ready frame."""
    import pandas as pd

    return pd.DataFrame(rows, columns=["panelist_id", "system_a", "system_b", "choice"])


def test_one_panelist_with_twenty_votes_is_too_little_data_everywhere():
    from evaluation.stats.report import headlines

    summary = summarize(votes([("p1", "x", "y", "a")] * 20), n_bootstrap=50)

    (pair,) = summary["pairs"]
    assert (pair["verdict"], pair["verdict_p"], pair["cluster_ci_bound"]) == (
        "too_little_data",
        1.0,
        "none",
    )
    assert (pair["cluster_ci_low"], pair["cluster_ci_high"]) == (0.0, 1.0)
    assert summary["meta"]["ranking"]["status"] == "too_little_data"
    assert [entry["rank_high"] for entry in summary["systems"]] == [None, None]
    assert headlines(summary) == [
        "Who answered: 1 listener.",
        "x vs y: too little data for a verdict (1 listener; a verdict needs at least 8).",
        "Too little data to rank the 2 systems (1 listeners; a ranking needs at least 8).",
    ]


def test_a_single_vote_is_too_little_data():
    summary = summarize(votes([("p1", "x", "y", "b")]), n_bootstrap=0)

    assert [pair["verdict"] for pair in summary["pairs"]] == ["too_little_data"]


def test_all_votes_one_way_get_a_one_sided_bound_never_a_zero_width_interval():
    few = summarize(votes([(f"p{i}", "x", "y", "a") for i in range(3) for _ in range(5)]))
    many = summarize(votes([(f"p{i}", "x", "y", "a") for i in range(10) for _ in range(5)]))

    (pair,) = few["pairs"]
    assert pair["verdict"] == "too_little_data"
    assert pair["cluster_ci_bound"] == "lower"
    assert (pair["cluster_ci_low"], pair["cluster_ci_high"]) == (((1 - 0.95) / 2) ** (1 / 3), 1.0)
    (pair,) = many["pairs"]
    # P(all 10 listeners' shares are 1) <= rate^10: the rate is at least 0.025^(1/10) = 69%.
    assert (pair["cluster_ci_low"], pair["cluster_ci_high"]) == (((1 - 0.95) / 2) ** (1 / 10), 1.0)
    assert (pair["verdict"], pair["verdict_p"]) == ("prefers_a", 2 * 0.5**10)


def test_a_system_that_never_won_gets_an_elo_bound_not_a_prior_determined_score():
    rows = [(f"p{i}", "never", other, "b") for i in range(10) for other in ("x", "y")]
    rows += [(f"p{i}", "x", "y", "a" if i % 2 else "b") for i in range(10)]

    systems = {entry["system"]: entry for entry in summarize(votes(rows))["systems"]}

    never = systems["never"]
    assert never["bound"] == "upper"
    assert (never["score"], never["elo"], never["ci_low"], never["elo_low"]) == (None,) * 4
    share_bound = 1 - ((1 - 0.95) / 2) ** (1 / 10)
    opponents = (systems["x"]["score"] + systems["y"]["score"]) / 2
    expected = 400 / math.log(10) * (opponents + math.log(share_bound / (1 - share_bound))) + 1000
    assert never["elo_high"] == pytest.approx(expected, abs=1e-9)
    assert systems["x"]["bound"] == "two_sided" and systems["x"]["score"] is not None


def test_blank_panelist_ids_are_refused_with_the_lines_to_fix():
    from evaluation.stats import ResponsesError

    with pytest.raises(ResponsesError) as error:
        summarize(votes([("p1", "x", "y", "a"), ("", "x", "y", "b"), (" ", "x", "y", "a")]))

    assert str(error.value) == (
        "2 responses have no panelist_id (CSV lines 3, 4); every response needs its "
        "panelist's pseudonymous id, because listeners, not votes, are what the statistics "
        "count. Fill the column or remove those rows."
    )


def test_simulated_rows_are_left_out_unless_asked_for():
    import pandas as pd

    rows = votes([(f"p{i}", "x", "y", "a") for i in range(10)] + [("bot", "x", "y", "b")] * 5)
    rows["simulated"] = [False] * 10 + [True] * 5

    default = summarize(rows, n_bootstrap=0)
    included = summarize(rows, n_bootstrap=0, include_simulated=True)

    assert (default["pairs"][0]["n"], included["pairs"][0]["n"]) == (10, 15)
    assert default["meta"]["include_simulated"] is False
    assert [
        e["n_responses"] for e in default["meta"]["exclusions"] if e["rule"] == "simulated"
    ] == [5]
    assert isinstance(rows, pd.DataFrame)


def test_the_headline_subject_names_who_answered_and_says_musicians_only_when_all_are():
    from evaluation.stats.report import headlines

    rows = votes([(f"p{i}", "x", "y", "a" if i % 3 else "b") for i in range(12)])
    rows["expertise"] = ["professional"] * 7 + ["hobbyist"] * 5
    mixed = rows.assign(expertise=["professional"] * 7 + ["none"] * 5)

    musicians = headlines(summarize(rows, n_bootstrap=0))
    listeners = headlines(summarize(mixed, n_bootstrap=0))

    assert (
        musicians[0] == "Who answered: 12 listeners: 7 professional musicians, 5 amateur musicians."
    )
    assert musicians[1].startswith("No clear preference between x and y:")
    assert listeners[0] == "Who answered: 12 listeners: 7 professional musicians, 5 non-musicians."
    clear = headlines(summarize(rows.assign(choice="a"), n_bootstrap=0))
    assert clear[1].startswith("Musicians clearly preferred x over y:")
    clear_mixed = headlines(summarize(mixed.assign(choice="a"), n_bootstrap=0))
    assert clear_mixed[1].startswith("Listeners clearly preferred x over y:")


def test_a_csv_without_expertise_never_says_musicians():
    from evaluation.stats.report import headlines

    rows = votes([(f"p{i}", "x", "y", "a") for i in range(12)])
    summary = summarize(rows, n_bootstrap=0)

    assert summary["meta"]["listeners"]["all_musicians"] is False
    assert headlines(summary)[1].startswith("Listeners clearly preferred x over y:")

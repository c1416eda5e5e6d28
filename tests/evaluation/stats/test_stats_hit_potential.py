"""Hit potential: playlist / release rates per system and the one-sided test against 5%."""

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import read_responses, summarize
from evaluation.stats.hit_potential import exceeds_p_value, has_hit_columns, hit_potential_summary
from evaluation.stats.responses import RESPONSE_COLUMNS, normalize_responses


def row(**values) -> dict:
    return {**dict.fromkeys(RESPONSE_COLUMNS, ""), **{k: str(v) for k, v in values.items()}}


def frame(rows) -> pd.DataFrame:
    return normalize_responses(pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS)))


def test_rates_count_the_a_answer_of_every_design_and_the_b_answer_of_ab_rows():
    rows = [
        row(panelist_id="p1", trial_kind="ab", system_a="ai", system_a_kind="ai",
            system_b="human", system_b_kind="human", playlist_a=1, playlist_b=0, release_a=0),
        row(panelist_id="p1", trial_kind="single", system_a="ai", system_a_kind="ai",
            playlist_a=0, playlist_b=1),  # a stray _b cell on a single row is not counted
        row(panelist_id="p2", trial_kind="pool", system_a="ai", system_a_kind="ai", playlist_a=1),
    ]  # fmt: skip
    section = hit_potential_summary(frame(rows), min_panelists=2)
    systems = {entry["system"]: entry for entry in section["systems"]}
    ai = systems["ai"]["playlist"]
    assert (ai["n"], ai["yes"], ai["n_panelists"]) == (3, 2, 2)
    assert ai["rate"] == pytest.approx((0.5 + 1.0) / 2)
    assert systems["human"]["playlist"]["n"] == 1
    assert systems["human"]["playlist"]["verdict"] is None  # only AI systems are tested
    assert systems["human"]["release"] is None
    assert systems["ai"]["release"]["n"] == 1
    assert section["threshold"] == 0.05 and section["n_comparisons"] == 2


def test_the_one_sided_test_matches_a_t_test_and_uses_the_exact_bound_when_all_say_yes():
    from scipy.stats import ttest_1samp

    shares = np.array([0.5, 0.2, 0.0, 0.4, 0.3, 0.1, 0.25, 0.6])
    counts = np.full(8, 20.0)
    expected = ttest_1samp(shares, 0.05, alternative="greater").pvalue
    assert exceeds_p_value(shares, counts, 0.05) == pytest.approx(expected)
    assert exceeds_p_value(np.ones(6), np.ones(6), 0.05) == pytest.approx(0.05**6)
    assert exceeds_p_value(np.zeros(6), np.ones(6), 0.05) == 1.0
    assert exceeds_p_value(np.array([1.0]), np.array([3.0]), 0.05) == 1.0


def test_a_popular_ai_system_exceeds_the_threshold_and_few_listeners_are_too_little_data():
    rows = [
        row(panelist_id=f"p{i}", trial_kind="single", system_a="hit", system_a_kind="ai",
            playlist_a=int(i % 3 != 0), release_a=0)
        for i in range(12)
        for _ in range(2)
    ]  # fmt: skip
    section = hit_potential_summary(frame(rows), min_panelists=8)
    (hit,) = section["systems"]
    assert hit["playlist"]["verdict"] == "exceeds_threshold"
    assert hit["release"]["verdict"] == "not_shown_to_exceed"
    assert hit["release"]["cluster_ci_bound"] == "upper"
    few = hit_potential_summary(frame(rows[:6]), min_panelists=8)
    assert few["systems"][0]["playlist"]["verdict"] == "too_little_data"


def test_the_threshold_is_a_cli_option(responses_csv, design_rows, capsys):
    import json

    from evaluation.stats.cli import main

    path = responses_csv(design_rows(n_panelists=6, trials_each=2))
    assert main([str(path), "--json", "--bootstrap", "0", "--hit-threshold", "0.5"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["hit_potential"]["threshold"] == 0.5
    assert summary["meta"]["hit_threshold"] == 0.5
    with pytest.raises(SystemExit):
        main([str(path), "--hit-threshold", "1.5"])


def null_answers(rng, n_panelists=20, answers=6, threshold=0.05) -> pd.DataFrame:
    """Two AI systems whose yes-rate is exactly the threshold on average over listeners,
    with listeners who differ (a listener's own rate is 0 or 2 × threshold)."""
    rate = rng.choice([0.0, 2 * threshold], size=(n_panelists, 2))
    panelist = np.repeat(np.arange(n_panelists), 2 * answers)
    system = np.tile(np.repeat([0, 1], answers), n_panelists)
    study = pd.DataFrame(
        {
            "panelist_id": np.char.add("p", panelist.astype(str)).astype(object),
            "trial_kind": "single",
            "system_a": np.array(["ai-1", "ai-2"], dtype=object)[system],
            "system_a_kind": "ai",
            "playlist_a": (rng.random(panelist.size) < rate[panelist, system]).astype(float),
            "release_a": (rng.random(panelist.size) < rate[panelist, system]).astype(float),
        }
    )
    study.attrs["earshot_normalized"] = True
    return study


def test_ai_systems_at_the_threshold_rarely_are_said_to_exceed_it():
    rng = np.random.default_rng(5)
    studies, false = 300, 0
    for _ in range(studies):
        section = hit_potential_summary(null_answers(rng), min_panelists=8)
        verdicts = [
            entry[q]["verdict"] for entry in section["systems"] for q in ("playlist", "release")
        ]
        false += "exceeds_threshold" in verdicts
    assert false / studies <= 0.05


def test_the_section_equals_a_recomputation_from_the_csv(responses_csv, design_rows):
    path = responses_csv(design_rows(n_panelists=8, trials_each=3, seed=2))
    summary = summarize(read_responses(path), n_bootstrap=0)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    answers = pd.concat(
        [
            raw[["panelist_id", "system_a", "release_a"]].set_axis(["p", "s", "yes"], axis=1),
            raw.loc[raw["trial_kind"] == "ab", ["panelist_id", "system_b", "release_b"]].set_axis(
                ["p", "s", "yes"], axis=1
            ),
        ]
    )
    answers = answers[(answers["yes"] != "") & (answers["s"] == "model-x")]
    expected = answers.assign(yes=answers["yes"].astype(float)).groupby("p")["yes"].mean().mean()
    entry = next(e for e in summary["hit_potential"]["systems"] if e["system"] == "model-x")
    assert entry["release"]["rate"] == pytest.approx(expected)
    assert entry["release"]["n"] == len(answers)
    assert not has_hit_columns(frame([row(panelist_id="p", system_a="x", system_b="y")]))

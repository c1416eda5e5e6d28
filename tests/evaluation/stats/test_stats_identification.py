"""Single-track "human or AI?" judgments: confusion matrix, rates, d' and familiar answers."""

import pandas as pd
import pytest
from scipy.stats import fisher_exact

from evaluation.stats.detection import d_prime_yes_no
from evaluation.stats.identification import has_identification_columns, identification_summary
from evaluation.stats.intervals import wilson_interval
from evaluation.stats.responses import normalize_responses

# panelist, expertise, system, is_ai, guess
JUDGMENTS = [
    ("p1", "professional", "model-x", 1, "ai"),
    ("p1", "professional", "model-x", 1, "ai"),
    ("p1", "professional", "bach", 0, "human"),
    ("p1", "professional", "bach", 0, "familiar"),
    ("p2", "hobbyist", "model-x", 1, "human"),
    ("p2", "hobbyist", "model-y", 1, "ai"),
    ("p2", "hobbyist", "bach", 0, "ai"),
    ("p2", "hobbyist", "bach", 0, "human"),
    ("p3", "hobbyist", "model-y", 1, "human"),
    ("p3", "hobbyist", "bach", 0, "human"),
    ("p3", "hobbyist", "model-y", "", "ai"),  # unknown truth
    ("p3", "hobbyist", "bach", 0, ""),  # no guess
]


@pytest.fixture
def summary():
    frame = pd.DataFrame(
        JUDGMENTS, columns=["panelist_id", "expertise", "system", "is_ai", "guess"]
    )
    return identification_summary(normalize_responses(frame.astype(str)))


def test_the_confusion_matrix_leaves_familiar_answers_out_and_counts_them(summary):
    assert summary["confusion"] == {
        "ai_called_ai": 3,
        "ai_called_human": 2,
        "human_called_ai": 1,
        "human_called_human": 3,
    }
    assert summary["n"] == 9 and summary["n_familiar"] == 1 and summary["n_unscorable"] == 2


def test_accuracy_sensitivity_and_specificity_carry_wilson_intervals(summary):
    assert summary["accuracy"] == 6 / 9
    assert (summary["accuracy_low"], summary["accuracy_high"]) == wilson_interval(6, 9)
    assert summary["sensitivity"] == 3 / 5
    assert (summary["sensitivity_low"], summary["sensitivity_high"]) == wilson_interval(3, 5)
    assert summary["specificity"] == 3 / 4


def test_d_prime_criterion_and_fisher_p_value_use_the_confusion_matrix(summary):
    expected = d_prime_yes_no(3, 5, 1, 4)

    assert {key: summary[key] for key in expected} == expected
    assert summary["p_value"] == pytest.approx(fisher_exact([[3, 2], [1, 3]]).pvalue, abs=1e-15)


def test_each_ai_system_is_compared_with_the_human_tracks(summary):
    by_system = {entry["system"]: entry for entry in summary["by_system"]}

    assert by_system["bach"]["is_ai"] is False and by_system["bach"]["called_ai"] == 1
    assert by_system["bach"]["n"] == 4 and by_system["bach"]["n_familiar"] == 1
    model_y = by_system["model-y"]
    assert (model_y["n"], model_y["called_ai"], model_y["called_ai_rate"]) == (2, 1, 0.5)
    assert model_y["d_prime"] == d_prime_yes_no(1, 2, 1, 4)["d_prime"]
    assert "d_prime" not in by_system["bach"]


def test_figures_are_repeated_per_expertise_group(summary):
    groups = {entry["expertise"]: entry for entry in summary["by_expertise"]}

    assert sorted(groups) == ["hobbyist", "professional"]
    assert groups["professional"]["accuracy"] == 1.0 and groups["professional"]["n_familiar"] == 1
    assert groups["hobbyist"]["n"] == 6 and groups["hobbyist"]["accuracy"] == 3 / 6


def test_identification_needs_its_four_columns():
    assert has_identification_columns(
        pd.DataFrame(columns=["panelist_id", "system", "is_ai", "guess"])
    )
    assert not has_identification_columns(pd.DataFrame(columns=["panelist_id", "system", "guess"]))


# --- single-track trials of the export (issue 12): truth system_a_kind, guess guess_kind ---

import numpy as np  # noqa: E402

from evaluation.stats import read_responses, summarize  # noqa: E402
from evaluation.stats.identification import single_judgments  # noqa: E402
from evaluation.stats.responses import RESPONSE_COLUMNS  # noqa: E402


def single(panelist, system, kind, guess, confidence="", **values) -> dict:
    row = dict.fromkeys(RESPONSE_COLUMNS, "")
    row.update(panelist_id=panelist, trial_kind="single", system_a=system, system_a_kind=kind,
               guess_kind=guess, guess_confidence=str(confidence), **values)  # fmt: skip
    return row


def export_frame(rows) -> pd.DataFrame:
    return normalize_responses(pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS)))


def test_single_trials_feed_identification_with_truth_from_the_system_kind():
    rows = [
        single("p1", "model-x", "ai", "ai", 90),
        single("p1", "bach", "human", "ai", 60),
        single("p2", "model-x", "ai", "human", 70),
        single("p2", "bach", "human", "human", 80),
        single("p2", "bach", "human", "", 80),  # no guess: unscorable
        {**single("p3", "model-x", "ai", "ai"), "trial_kind": "ab"},  # not a single trial
    ]
    judgments = single_judgments(export_frame(rows))
    assert list(judgments["is_ai"]) == [1.0, 0.0, 1.0, 0.0, 0.0]
    result = identification_summary(judgments, min_panelists=2, source="single_trials")
    assert result["source"] == "single_trials"
    assert result["confusion"] == {
        "ai_called_ai": 1,
        "ai_called_human": 1,
        "human_called_ai": 1,
        "human_called_human": 1,
    }
    assert result["n_unscorable"] == 1
    assert result["panelist_accuracy"] == pytest.approx(0.5)
    bands = {band["band"]: band for band in result["calibration"]["bands"]}
    assert bands["90-100%"]["n"] == 1 and bands["90-100%"]["panelist_accuracy"] == 1.0
    assert bands["60-69%"]["panelist_accuracy"] == 0.0
    assert result["calibration"]["mean_confidence"] == pytest.approx(0.75)
    assert result["calibration"]["overconfidence"] == pytest.approx(
        ((0.9 - 1 + 0.6 - 0) / 2 + (0.7 - 0 + 0.8 - 1) / 2) / 2
    )


def test_perfect_identification_reports_d_prime_as_a_lower_bound():
    rows = [single(f"p{i}", "model-x", "ai", "ai") for i in range(10)] + [
        single(f"p{i}", "bach", "human", "human") for i in range(10)
    ]
    result = identification_summary(single_judgments(export_frame(rows)), min_panelists=8)
    assert result["d_prime"] is None and result["d_prime_high"] is None
    assert result["d_prime_bound"] == "lower"
    lower = 0.025**0.1  # one-sided cluster bound of a hit rate of 1 over 10 listeners
    expected = 2 * float(__import__("scipy.stats").stats.norm.ppf(lower))
    assert result["d_prime_low"] == pytest.approx(expected)
    assert result["cluster_ci_bound"] == "lower"
    assert result["verdict"] == "better_than_chance"
    model = next(entry for entry in result["by_system"] if entry["system"] == "model-x")
    assert model["difference"] == pytest.approx(1.0) and model["verdict"] == "better_than_chance"
    assert model["d_prime"] is None and model["d_prime_bound"] == "lower"
    assert model["d_prime_low"] == pytest.approx(expected)


def test_each_system_is_told_apart_from_the_other_kind_per_listener_with_holm():
    rows = []
    for i in range(12):
        rows += [single(f"p{i}", "obvious-ai", "ai", "ai")] * 2
        rows += [single(f"p{i}", "subtle-ai", "ai", "ai" if i % 2 else "human")] * 2
        rows += [single(f"p{i}", "bach", "human", "human" if i % 3 else "ai")] * 2
    result = identification_summary(single_judgments(export_frame(rows)), min_panelists=8)
    systems = {entry["system"]: entry for entry in result["by_system"]}
    assert systems["obvious-ai"]["verdict"] == "better_than_chance"
    assert systems["subtle-ai"]["verdict"] == "not_distinguishable_from_chance"
    assert systems["obvious-ai"]["n_panelists_paired"] == 12
    # Called AI: bach 4 of 12 listeners; obvious-ai by all: difference 1 - 1/3.
    assert systems["obvious-ai"]["difference"] == pytest.approx(1 - 4 / 12)
    assert systems["bach"]["panelist_called_ai_rate"] == pytest.approx(4 / 12)
    assert result["n_comparisons"] == 4
    from scipy.stats import ttest_1samp

    differences = np.array([0.0 if i % 3 == 0 else 1.0 for i in range(12)])
    raw_p = ttest_1samp(differences, 0.0).pvalue
    # Holm over 4 tests: the adjusted p lies between the raw p and 4 times it.
    assert raw_p <= systems["obvious-ai"]["verdict_p"] <= 4 * raw_p + 1e-12


def null_single_study(rng, n_panelists=20, answers=8) -> pd.DataFrame:
    """Listeners who cannot tell: each says "AI" with their own bias, whatever the truth."""
    bias = rng.uniform(0.2, 0.8, n_panelists)
    panelist = np.repeat(np.arange(n_panelists), answers)
    system = rng.integers(0, 3, panelist.size)
    study = pd.DataFrame(
        {
            "panelist_id": np.char.add("p", panelist.astype(str)).astype(object),
            "system": np.array(["human", "ai-1", "ai-2"], dtype=object)[system],
            "is_ai": (system > 0).astype(float),
            "guess": np.where(rng.random(panelist.size) < bias[panelist], "ai", "human").astype(
                object
            ),
        }
    )
    return study


def test_listeners_who_cannot_tell_rarely_get_any_better_than_chance_verdict():
    rng = np.random.default_rng(4)
    studies, false = 150, 0
    for _ in range(studies):
        result = identification_summary(null_single_study(rng), min_panelists=8)
        verdicts = [result["verdict"], *(entry["verdict"] for entry in result["by_system"])]
        false += any(v in ("better_than_chance", "worse_than_chance") for v in verdicts)
    assert false / studies <= 0.05


def test_single_trial_identification_equals_a_recomputation_from_the_csv(
    responses_csv, design_rows
):
    path = responses_csv(design_rows(n_panelists=10, trials_each=4, seed=6))
    summary = summarize(read_responses(path), n_bootstrap=0)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    singles = raw[raw["trial_kind"] == "single"]
    correct = (singles["system_a_kind"] == singles["guess_kind"]).astype(float)
    expected = correct.groupby(singles["panelist_id"]).mean().mean()
    identification = summary["identification"]
    assert identification["source"] == "single_trials"
    assert identification["n"] == len(singles)
    assert identification["panelist_accuracy"] == pytest.approx(expected)
    hits = ((singles["system_a_kind"] == "ai") & (singles["guess_kind"] == "ai")).sum()
    assert identification["confusion"]["ai_called_ai"] == hits

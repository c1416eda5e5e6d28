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

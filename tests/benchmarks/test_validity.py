"""benchmarks/validity.py: the simulated studies and the checks it prints, run small."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "validity.py"


@pytest.fixture(scope="module")
def validity():
    spec = importlib.util.spec_from_file_location("validity", PATH)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs.
    sys.modules["validity"] = module
    spec.loader.exec_module(module)
    return module


def test_true_values_are_the_population_average_over_listener_taste(validity):
    exact, _ = integrate.quad(
        lambda z: special.expit(0.4 + 0.6 * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
        -12,
        12,
    )

    assert validity.mean_expit(0.4, 0.6) == pytest.approx(exact, abs=1e-12)
    assert validity.mean_expit(0.0, 1.0) == pytest.approx(0.5, abs=1e-15)


def test_a_simulated_study_has_every_column_the_report_needs(validity):
    scenario = validity.Scenario("tiny", 3, 5, 4, 0.6)

    frame = validity.simulate(scenario, np.random.default_rng(0))

    assert len(frame) == 20 and frame["panelist_id"].nunique() == 5
    assert set(frame["choice"]) <= {"a", "b"} and set(frame["guess"]) <= {"ai", "human"}
    assert (frame["system_a"] != frame["system_b"]).all()


def test_a_study_run_reports_verdicts_and_interval_hits(validity):
    scenario = validity.Scenario("null", 3, 10, 6, 0.5)

    outcome = validity.run_study(scenario, np.random.default_rng(1))

    assert len(outcome["clear"]) == 3
    assert len(outcome["hits"]["pair (listener cluster)"]) == 3
    assert set(outcome["hits"]) >= {"AI d′ (listener cluster)", "single-track d′ (jackknife)"}


def test_the_monitor_never_decides_a_null_study_wrongly_in_a_small_run(validity):
    scenario = validity.Scenario("null", 3, 40, 5, 0.6)

    result = validity.monitor_paths(scenario, 5, np.random.default_rng(2))

    assert result["false_decided_any_pair"] == 0.0
    assert result["median_panelists_at_decision"] is None


def test_the_markdown_table_lists_every_check(validity):
    results = {
        "studies": 2,
        "seed": 0,
        "null": [
            {"scenario": "s", "false_clear_preference_any_pair": 0.05, "false_ai_vs_chance": 0.0}
        ],
        "coverage": {"scenario": "c", "intervals": {"pair (listener cluster)": 0.95}},
        "power": {"scenario": "p", "verdict_power": 0.5},
        "monitor": {
            "studies": 1,
            "null": {"scenario": "m0", "false_decided_any_pair": 0.0},
            "alternative": {
                "scenario": "m1",
                "power_per_true_pair": 1.0,
                "median_panelists_at_decision": 75.0,
            },
        },
    }

    table = validity.markdown(results)

    assert "| s | 5.0% | 0.0% |" in table
    assert "| pair (listener cluster) | 95.0% |" in table
    assert "| monitor power, m1 | 100.0% (median 75.0 panelists at the decision) |" in table

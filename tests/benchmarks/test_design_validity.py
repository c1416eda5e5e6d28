"""benchmarks/design_validity.py: the null studies of the design sections, run small."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "design_validity.py"


@pytest.fixture(scope="module")
def design_validity():
    spec = importlib.util.spec_from_file_location("design_validity", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["design_validity"] = module
    spec.loader.exec_module(module)
    return module


def test_every_section_runs_its_null_studies_and_prints_a_table(design_validity, capsys):
    results = design_validity.run(studies=4, seed=1)

    assert list(results) == ["aspects", "pool", "identification", "familiarity", "hit_potential"]
    assert [result["tests_per_study"] for result in results.values()] == [6, 6, 4, 3, 4]
    assert all(0.0 <= result["any_false_verdict"] <= 1.0 for result in results.values())
    assert design_validity.main(["--studies", "2"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| section | null scenario | tests | studies | any false verdict |")
    assert table.count("\n") == 7


def test_the_null_pools_pick_ai_as_often_as_it_is_shown(design_validity):
    study = design_validity.null_pools(np.random.default_rng(0), n_panelists=4000, trials=5)
    ai = study["system_a_kind"].to_numpy().reshape(-1, 5) == "ai"
    favourite = study["pick_rank"].to_numpy().reshape(-1, 5) == 1.0
    share = ai.mean(axis=1)
    mixed = (share > 0) & (share < 1)
    assert favourite.sum(axis=1).tolist() == [1] * len(share)
    # sd of the gap ≈ 0.005 (listeners' ±0.8 liking and the picks themselves)
    assert abs((ai & favourite).any(axis=1)[mixed].mean() - share[mixed].mean()) < 0.015


def test_a_claiming_verdict_counts_as_false_and_too_little_data_does_not(design_validity):
    assert "too_little_data" in design_validity.NOT_FALSE
    assert "prefers_a" not in design_validity.NOT_FALSE
    assert "above_expected" not in design_validity.NOT_FALSE
    assert "exceeds_threshold" not in design_validity.NOT_FALSE

"""The results contract: the published JSON schema is the typed Summary, and real output fits it."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from evaluation.stats.cli import main
from evaluation.stats.contract import json_schema

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "summary.schema.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def cli_json(path, capsys, *extra) -> dict:
    assert main([str(path), "--json", "--bootstrap", "50", "--no-progress", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_published_schema_is_the_one_generated_from_the_typed_contract(capsys):
    assert main(["--schema"]) == 0
    printed = json.loads(capsys.readouterr().out)

    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == json_schema() == printed


def test_a_full_study_from_the_cli_fits_the_schema_with_every_section(
    validator, study_csv_full, capsys
):
    path = study_csv_full()

    summary = cli_json(path, capsys, "--min-listen", "5", "--min-panelists", "3")

    assert list(validator.iter_errors(summary)) == []
    filled = [key for key, value in summary.items() if value not in (None, [])]
    assert filled == [
        "meta",
        "pairs",
        "systems",
        "liked",
        "ai_identification",
        "identification",
        "raters",
        "panels",
        "planning",
        "progress",
        "aspects",
        "breakdowns",
    ]
    assert summary["liked"][0]["aspects"][0]["aspect"] == "melody"


def test_every_study_design_from_the_cli_fits_the_schema_with_every_section(
    validator, responses_csv, design_rows, capsys
):
    summary = cli_json(responses_csv(design_rows()), capsys, "--bootstrap", "50")

    assert list(validator.iter_errors(summary)) == []
    for section in ("aspects", "pool", "identification", "familiarity", "hit_potential"):
        assert summary[section], section
    assert summary["identification"]["source"] == "single_trials"
    assert summary["identification"]["calibration"]["bands"]


def test_a_header_only_csv_fits_the_schema_with_empty_sections(validator, responses_csv, capsys):
    summary = cli_json(responses_csv([]), capsys)

    assert list(validator.iter_errors(summary)) == []
    assert (summary["pairs"], summary["systems"], summary["liked"]) == ([], [], [])
    assert summary["meta"]["listeners"] == {
        "n": 0,
        "by_expertise": [],
        "all_musicians": False,
        "subject": "0 listeners",
    }


def test_a_renamed_or_missing_key_breaks_the_schema(validator, study_csv_full, capsys):
    summary = cli_json(study_csv_full(), capsys)
    renamed = copy.deepcopy(summary)
    renamed["pairs"][0]["verdict_pvalue"] = renamed["pairs"][0].pop("verdict_p")
    unknown_verdict = copy.deepcopy(summary)
    unknown_verdict["pairs"][0]["verdict"] = "significant"

    messages = sorted(error.message for error in validator.iter_errors(renamed))

    assert messages == [
        "'verdict_p' is a required property",
        "Additional properties are not allowed ('verdict_pvalue' was unexpected)",
    ]
    assert [error.validator for error in validator.iter_errors(unknown_verdict)] == ["enum"]

"""Exports: fixed columns, pseudonymous ids, formula escaping, and the stats CLI agrees."""

import csv
import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command

from evaluation.exports import RESPONSE_COLUMNS, escape_cell
from evaluation.selectors.results import study_results
from evaluation.services.simulation import panel_simulate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1+2", "'+1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-cmd", "'-cmd"),
        ("-1.5", "-1.5"),
        ("plain", "plain"),
        (True, "1"),
        (None, ""),
        (2.123456789, "2.123457"),
    ],
)
def test_cells_are_escaped_against_formula_injection(value, expected):
    assert escape_cell(value) == expected


def test_export_results_writes_both_files_with_fixed_columns(prepared_study, tmp_path):
    panel_simulate(study=prepared_study, panelists=4, seed=3)
    call_command("export_results", "pilot", "--out", str(tmp_path), "--include-simulated")
    rows = list(csv.DictReader((tmp_path / "responses.csv").open()))
    assert tuple(rows[0].keys()) == RESPONSE_COLUMNS
    assert len(rows) == 12
    assert {row["simulated"] for row in rows} == {"1"}
    assert {row["panel"] for row in rows} == {"simulated"}
    summary = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert summary[0] == {
        "section": "pairs",
        "key": "human reference vs model-x",
        "metric": "n",
        "value": "12",
    }
    sections = [row["section"] for row in summary]
    order = [
        "pairs",
        "liked",
        "ai_identification",
        "panels",
        "systems",
        "pair_verdicts",
        "liked_listeners",
        "ai_verdict",
    ]
    assert sections == sorted(sections, key=order.index)
    verdicts = {row["metric"]: row["value"] for row in summary if row["section"] == "pair_verdicts"}
    # Four simulated listeners: fewer than the 8 a verdict needs.
    assert (verdicts["verdict"], verdicts["n_panelists"]) == ("too_little_data", "4")
    systems = {
        (row["key"], row["metric"]): row["value"] for row in summary if row["section"] == "systems"
    }
    assert {key for key, _ in systems} == {"human reference", "model-x"}
    assert {systems[(name, "rank")] for name in ("human reference", "model-x")} <= {"1", "2"}


def test_panelist_ids_are_pseudonyms_stable_within_the_study(prepared_study):
    from evaluation.exports import response_rows

    panel_simulate(study=prepared_study, panelists=2, seed=1)
    ids = [row["panelist_id"] for row in response_rows(prepared_study)]
    assert len(set(ids)) == 2
    assert all(pid.startswith("P-") and len(pid) == 10 for pid in ids)


def test_a_hostile_prompt_id_is_escaped_in_the_csv(prepared_study):
    from evaluation.exports import responses_csv

    prepared_study.prompts.filter(external_id="p0").update(external_id="=cmd|'/c calc'!A1")
    panel_simulate(study=prepared_study, panelists=1, seed=1)
    cells = [row["prompt_id"] for row in csv.DictReader(io.StringIO(responses_csv(prepared_study)))]
    assert "'=cmd|'/c calc'!A1" in cells


def test_the_stats_cli_recomputes_the_results_page_from_the_csv_alone(prepared_study, tmp_path):
    panel_simulate(study=prepared_study, panelists=4, seed=5)
    call_command("export_results", "pilot", "--out", str(tmp_path), "--include-simulated")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluation.stats",
            str(tmp_path / "responses.csv"),
            "--json",
            "--include-simulated",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    from_csv = json.loads(cli.stdout)
    from_page = study_results(prepared_study, include_simulated=True)
    assert from_csv == from_page
    assert from_csv["systems"] and from_csv["progress"]
    assert from_csv["pairs"][0]["verdict"] == "too_little_data"


def test_catch_trials_are_exported_with_whether_they_were_passed(catch_study, answer_all):
    from evaluation.exports import responses_csv
    from evaluation.models import Panel
    from evaluation.services.panelists import invite_create, panelist_join

    invite = invite_create(study=catch_study, panel=Panel.objects.create(name="qc"))
    careful = panelist_join(invite=invite, expertise="professional")
    careless = panelist_join(invite=invite, expertise="none")

    def expected(trial):
        return trial.pair.catch_expected_choice(swapped=trial.swapped) if trial.is_catch else "a"

    def wrong(trial):
        if not trial.is_catch:
            return "a"
        return {"a": "b", "b": "a", "tie": "a"}[expected(trial)]

    answer_all(careful, expected)
    answer_all(careless, wrong)
    rows = list(csv.DictReader(io.StringIO(responses_csv(catch_study))))
    assert len(rows) == 8
    by_panelist = {}
    for row in rows:
        by_panelist.setdefault(row["panelist_id"], []).append(
            (row["is_catch"], row["catch_passed"])
        )
    assert sorted(by_panelist[careful.pseudonym]) == [("0", ""), ("0", ""), ("0", ""), ("1", "1")]
    assert sorted(by_panelist[careless.pseudonym]) == [("0", ""), ("0", ""), ("0", ""), ("1", "0")]


def test_the_headphone_check_outcome_is_the_last_column(prepared_study, make_panelist, answer_all):
    from evaluation.exports import responses_csv
    from evaluation.models import Study
    from evaluation.services.headphones import headphone_attempt_score, headphone_attempt_start

    unchecked = make_panelist()
    answer_all(unchecked, lambda trial: "a")
    Study.objects.filter(pk=prepared_study.pk).update(headphone_check=True)
    checked = make_panelist()
    items = headphone_attempt_start(panelist=checked)
    headphone_attempt_score(
        panelist=checked, answers={item.index: item.quiet_position for item in items}
    )
    answer_all(checked, lambda trial: "b")
    panel_simulate(study=prepared_study, panelists=1, seed=2)

    assert RESPONSE_COLUMNS[-2:] == ("catch_passed", "headphone_check_passed")
    rows = list(csv.DictReader(io.StringIO(responses_csv(prepared_study))))
    outcome = {}
    for row in rows:
        outcome.setdefault(row["panelist_id"], set()).add(row["headphone_check_passed"])
    simulated = {row["panelist_id"] for row in rows if row["simulated"] == "1"}
    assert outcome.pop(checked.pseudonym) == {"1"}
    assert outcome.pop(unchecked.pseudonym) == {""}
    assert len(simulated) == 1
    assert outcome == {simulated.pop(): {""}}  # simulated panelists skip the check

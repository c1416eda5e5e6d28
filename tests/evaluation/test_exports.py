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
    # Competition ranks of the fitted strengths: 1 + how many systems have a higher Elo. (Which
    # system wins depends on the simulated answers, and these on database ids: PostgreSQL's
    # sequences are not rolled back between tests, so the names of the ranks are not pinned.)
    elo = {name: float(systems[(name, "elo")]) for name in ("human reference", "model-x")}
    assert {name: systems[(name, "rank")] for name in elo} == {
        name: str(1 + sum(other > elo[name] for other in elo.values())) for name in elo
    }


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
    # Equal to 12 significant digits: the page and the CLI sum in different orders.
    assert rounded(from_csv) == rounded(from_page)
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


def test_the_headphone_check_outcome_is_column_28(prepared_study, make_panelist, answer_all):
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

    assert RESPONSE_COLUMNS[26:28] == ("catch_passed", "headphone_check_passed")
    rows = list(csv.DictReader(io.StringIO(responses_csv(prepared_study))))
    outcome = {}
    for row in rows:
        outcome.setdefault(row["panelist_id"], set()).add(row["headphone_check_passed"])
    simulated = {row["panelist_id"] for row in rows if row["simulated"] == "1"}
    assert outcome.pop(checked.pseudonym) == {"1"}
    assert outcome.pop(unchecked.pseudonym) == {""}
    assert len(simulated) == 1
    assert outcome == {simulated.pop(): {""}}  # simulated panelists skip the check


def test_listening_evidence_is_exported_in_columns_29_to_33(prepared_study, make_panelist):
    from datetime import timedelta

    from django.utils import timezone

    from evaluation.exports import responses_csv
    from evaluation.services.listening_evidence import (
        response_record_heard,
        stimulus_fetch_record,
    )
    from evaluation.services.responses import Answer
    from evaluation.services.scheduling import trial_mark_served, trial_next

    assert RESPONSE_COLUMNS[28:33] == (
        "heard_a_s",
        "heard_b_s",
        "heard_overlap_s",
        "switches",
        "audio_fetched",
    )
    panelist = make_panelist()
    served = timezone.now() - timedelta(minutes=1)
    trial = trial_next(panelist=panelist, now=served)
    trial_mark_served(trial=trial, now=served)
    trial.refresh_from_db()
    size = trial.stimulus_at("a").size_bytes
    stimulus_fetch_record(
        trial=trial, panelist=panelist, side="a", first_byte=0, last_byte=size - 1, at=served
    )
    # Half of B downloaded (a player that streams would stop there).
    stimulus_fetch_record(
        trial=trial, panelist=panelist, side="b", first_byte=0, last_byte=size // 2 - 1, at=served
    )
    events = [
        {"t": 1000, "type": "play", "side": "a", "pos": 0.0},
        {"t": 3500, "type": "switch", "side": "b", "pos": 2.5},
        {"t": 6000, "type": "seek", "side": "b", "pos": 0.5},
        {"t": 8000, "type": "switch", "side": "a", "pos": 2.5},
        {"t": 8500, "type": "submit", "side": "a", "pos": 0.0},
    ]
    response_record_heard(
        panelist=panelist,
        trial_token=trial.token,
        answer=Answer(
            choice="a", listen_a_s=0, listen_b_s=0, liked_a=True, liked_b=True, guess_ai="a"
        ),  # fmt: skip
        listening={"loop_s": 3.0, "events": events},
        now=served + timedelta(seconds=30),
    )
    panel_simulate(study=prepared_study, panelists=1, seed=2)
    rows = list(csv.DictReader(io.StringIO(responses_csv(prepared_study))))
    heard = rows[0]
    # A plays 0–2.5 s, later 2.5–3; B plays 2.5–3 and 0–2 (wrapped), then 0.5–2.5 after the
    # seek: each side heard the whole 3 s loop; two changes of side (the seek is none).
    assert [heard[c] for c in RESPONSE_COLUMNS[28:33]] == ["3.0", "3.0", "3.0", "2", "0.5"]
    assert (heard["listen_a_s"], heard["listen_b_s"]) == ("3.0", "4.5")
    simulated = [row for row in rows if row["simulated"] == "1"]
    assert {tuple(row[c] for c in RESPONSE_COLUMNS[28:33]) for row in simulated} == {("",) * 5}


def rounded(value):
    """`value` with every float rounded to 12 significant digits (lists and dicts walked)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value

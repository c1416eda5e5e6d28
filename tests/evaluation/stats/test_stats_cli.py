import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.stats import read_responses, summarize
from evaluation.stats.cli import main

ROOT = Path(__file__).resolve().parents[3]


def two_votes(responses_csv, response_row):
    return responses_csv(
        [
            response_row(panelist_id="p1", system_a="x", system_b="y", choice="a", liked_a=1),
            response_row(panelist_id="p2", system_a="y", system_b="x", choice="tie", liked_b=0),
        ]
    )


def test_cli_prints_the_same_json_as_summarize(responses_csv, response_row, capsys):
    path = two_votes(responses_csv, response_row)

    assert main([str(path), "--json"]) == 0

    assert json.loads(capsys.readouterr().out) == summarize(read_responses(path))


def test_cli_prints_a_readable_table(responses_csv, response_row, capsys):
    path = two_votes(responses_csv, response_row)

    assert main([str(path)]) == 0

    out = capsys.readouterr().out
    assert "x vs y" in out and "75.0%" in out
    assert "5.0 of 10" in out


def clustered_votes(responses_csv, response_row):
    rows = []
    for panelist in range(8):
        for repeat in range(3):
            choice = "a" if (panelist + repeat) % 3 else ("tie" if panelist % 2 else "b")
            rows.append(
                response_row(panelist_id=f"p{panelist}", system_a="x", system_b="y", choice=choice)
            )
    return responses_csv(rows)


def test_cli_bootstrap_seed_and_ties_options_reach_the_summary(responses_csv, response_row, capsys):
    path = clustered_votes(responses_csv, response_row)

    assert main([str(path), "--json", "--bootstrap", "200", "--seed", "3", "--no-progress"]) == 0
    seeded = json.loads(capsys.readouterr().out)
    assert main([str(path), "--json", "--ties", "davidson", "--bootstrap", "0"]) == 0
    davidson = json.loads(capsys.readouterr().out)

    assert seeded == summarize(read_responses(path), n_bootstrap=200, seed=3)
    assert seeded["meta"]["seed"] == 3 and seeded["meta"]["ranking"]["n_bootstrap"] == 200
    assert seeded["systems"][0]["ci_low"] < seeded["systems"][0]["score"]
    assert davidson["meta"]["ranking"]["model"] == "davidson"
    assert davidson["meta"]["ranking"]["tie_nu"] > 0
    assert davidson["systems"][0]["ci_low"] is None


def test_cli_shows_a_progress_bar_on_stderr_unless_told_not_to(responses_csv, response_row, capsys):
    path = clustered_votes(responses_csv, response_row)

    main([str(path), "--bootstrap", "50"])
    with_bar = capsys.readouterr()
    main([str(path), "--bootstrap", "50", "--no-progress"])
    without_bar = capsys.readouterr()

    assert "panelist bootstrap" in with_bar.err and "50/50" in with_bar.err
    assert without_bar.err == ""
    assert "monitor" in with_bar.out and "p (Holm)" in with_bar.out
    (pair,) = summarize(read_responses(path), n_bootstrap=0)["pairs"]
    assert pair["verdict"] == "prefers_a"
    assert "x vs y" in with_bar.out and "prefers_a" in with_bar.out
    assert "Planning: panelists × votes each per pair for 80% power" in with_bar.out


def test_cli_refuses_a_negative_number_of_bootstrap_rounds(responses_csv, response_row, capsys):
    path = clustered_votes(responses_csv, response_row)

    with pytest.raises(SystemExit) as exit_info:
        main([str(path), "--bootstrap", "-5"])

    assert exit_info.value.code == 2
    assert "--bootstrap must be 0 or more rounds, not -5" in capsys.readouterr().err


def test_cli_reports_a_missing_column_as_an_error(responses_csv, response_row, capsys):
    path = responses_csv([response_row()], columns=("panelist_id", "system_a"))

    assert main([str(path)]) == 2

    assert "missing: system_b, choice" in capsys.readouterr().err


def test_module_runs_without_django_settings(responses_csv, response_row):
    path = two_votes(responses_csv, response_row)

    completed = subprocess.run(
        [sys.executable, "-m", "evaluation.stats", str(path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["pairs"][0]["n"] == 2


def test_stats_package_imports_neither_django_nor_the_rest_of_evaluation():
    script = (
        "import sys, evaluation.stats, evaluation.stats.cli\n"
        "roots = ('django', 'evaluation')\n"
        "loaded = [name for name in sys.modules if name.split('.')[0] in roots]\n"
        "print(' '.join(sorted(loaded)))"
    )

    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    loaded = completed.stdout.split()
    assert loaded and all(
        name == "evaluation" or name.startswith("evaluation.stats") for name in loaded
    )


def test_the_command_line_module_loads_no_numpy_pandas_or_scipy_before_it_reads():
    # python -m evaluation.stats parses its options, then reads the CSV on a thread while
    # scipy and the statistics modules load: the package and the CLI module import none of
    # them, and the package's public names still resolve on first use.
    script = (
        "import sys, evaluation.stats, evaluation.stats.cli\n"
        "heavy = sorted(n for n in sys.modules if n.split('.')[0] in ('numpy', 'pandas', 'scipy'))\n"
        "print(' '.join(heavy) or '-')\n"
        "from evaluation.stats import summarize, read_responses\n"
        "print(summarize.__module__, read_responses.__module__)\n"
        "print('summarize' in dir(evaluation.stats))\n"
        "try:\n"
        "    evaluation.stats.no_such_name\n"
        "except AttributeError as error:\n"
        "    print(type(error).__name__)\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert completed.stdout.split("\n")[:4] == [
        "-",
        "evaluation.stats.summary evaluation.stats.responses",
        "True",
        "AttributeError",
    ]


def test_cli_reports_an_unreadable_file_after_reading_it_on_a_thread(tmp_path, capsys):
    path = tmp_path / "missing.csv"

    assert main([str(path), "--no-progress"]) == 2
    assert "error:" in capsys.readouterr().err


def test_cli_summarises_a_header_only_csv_as_no_data(responses_csv, capsys):
    assert main([str(responses_csv([])), "--no-progress"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("0 responses from 0 panelists; 0 analysed, 0 preference votes.\n")
    assert "Pairwise preference" not in out


def test_cli_refuses_blank_panelist_ids_with_a_clear_error(responses_csv, response_row, capsys):
    path = responses_csv([response_row(panelist_id="", system_a="x", system_b="y", choice="a")])

    assert main([str(path), "--no-progress"]) == 2

    error = capsys.readouterr().err
    assert error.startswith(f"error: {path}: 1 responses have no panelist_id (CSV lines 2);")


def test_cli_prints_every_design_section_and_says_why_one_is_absent(
    responses_csv, design_rows, capsys
):
    path = responses_csv(design_rows(n_panelists=9, trials_each=2, seed=8))
    assert main([str(path), "--bootstrap", "20", "--no-progress"]) == 0
    text = capsys.readouterr().out
    for title in (
        "Human or AI? (single tracks",
        "Aspects (",
        "Pool trials: 18 picks by 9 listeners",
        "Familiarity (",
        "Hit potential (AI systems tested to exceed 5.0%, one-sided)",
    ):
        assert title in text, title

    ab_only = responses_csv(
        [row for row in design_rows(n_panelists=3, trials_each=1) if row["trial_kind"] == "ab"]
    )
    assert main([str(ab_only), "--json", "--bootstrap", "0"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pool"] is None and summary["identification"] is None
    reasons = {note["figure"]: note["reason"] for note in summary["meta"]["figures_left_out"]}
    assert reasons["pool"].startswith("needs pool trials")
    assert reasons["identification"].startswith("needs single-track trials")

import json
import subprocess
import sys
from pathlib import Path

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

"""Check that a speed change left ``python -m evaluation.stats`` output byte for byte the same.

    .venv/bin/python benchmarks/stats_identity.py [--against main] [--benchmark-csv PATH]
        [--quick]

Writes a set of response CSVs, runs the command line of this checkout and of the git
revision ``--against`` (exported with ``git archive`` into a temporary folder, run with the
same Python) on each of them with several option sets, and compares their stdout bytes
(``--json`` and the readable report) and exit codes. Exits 1 and names every difference.
The small CSVs run through ``evaluation.stats.cli.main`` in one process per checkout; the
1M-response CSV runs as ``python -m evaluation.stats`` in a fresh process each time.

The CSVs: the 1M-response benchmark study of ``benchmarks/stats.py`` (``--benchmark-csv``
reuses one already written; ``--quick`` leaves it out), studies with every optional column
and with every study design (aspects, pool, single-track identification, familiarity, hit
potential, panels and strata), the same with catch trials, simulated panelists and an
exclusion rule, a header-only file, one panelist, blank panelist ids (an error), only the four
required columns with many ties and other spellings of a choice, single-track judgments,
quoted cells with a byte-order mark, and two 150,000-response files (5.5 MB: read through the
path that hashes the bytes on a thread), one with a byte-order mark and CRLF line ends.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "evaluation" / "stats"))

OPTION_SETS: tuple[tuple[str, ...], ...] = (
    ("--json", "--bootstrap", "200"),
    ("--json", "--bootstrap", "50", "--include-simulated", "--include-catch", "--seed", "3"),
    ("--json", "--bootstrap", "50", "--exclude-failed-catch", "--min-listen", "10"),
    ("--json", "--bootstrap", "0", "--ties", "davidson"),
    ("--bootstrap", "50"),
)
"""Option sets every small CSV is summarised with (``--no-progress`` is always added)."""

BENCHMARK_OPTIONS: tuple[tuple[str, ...], ...] = (("--json", "--bootstrap", "1000"),)


def write_inputs(folder: Path, benchmark_csv: Path | None, quick: bool) -> list[Path]:
    """The CSVs both checkouts summarise (written into ``folder``)."""
    from conftest import ALL_COLUMNS, design_rows, response_row, study_rows, write_csv
    from evaluation.stats.responses import (
        REQUIRED_COLUMNS,
        RESPONSE_COLUMNS,
        SINGLE_TRACK_COLUMNS,
    )

    paths = []

    def add(name: str, rows: list[dict], columns=RESPONSE_COLUMNS) -> None:
        paths.append(write_csv(folder / name, rows, columns))

    add("study.csv", study_rows(n_panelists=14, votes_each=15, seed=1), ALL_COLUMNS)
    add("study-prefer.csv", study_rows(n_panelists=30, votes_each=8, seed=2, prefer="model-x"))
    simulated = study_rows(n_panelists=12, votes_each=10, seed=3)
    for index, row in enumerate(simulated):
        row["simulated"] = "1" if row["panelist_id"] in ("p00", "p01") else "0"
        row["listen_a_s"] = "5" if index % 7 == 0 else "20"
        row["stratum"] = "s1" if index % 2 else "s2"
    add("study-simulated.csv", simulated, ALL_COLUMNS)
    add("designs.csv", design_rows(n_panelists=15, trials_each=4, seed=4))
    add("designs-boost.csv", design_rows(n_panelists=40, trials_each=3, seed=5, ai_pick_boost=2))
    strata = design_rows(n_panelists=20, trials_each=3, seed=6)
    for row in strata:
        row["stratum"] = "young" if row["panelist_id"] < "p10" else "old"
        row["panel"] = "pros" if row["panelist_id"] < "p05" else "amateurs"
    add("designs-strata.csv", strata)
    add("header-only.csv", [])
    add(
        "one-panelist.csv",
        [
            response_row(panelist_id="solo", system_a="x", system_b="y", choice="a")
            for _ in range(20)
        ],
    )
    add(
        "blank-panelist.csv",
        [
            response_row(panelist_id="p1", system_a="x", system_b="y", choice="a"),
            response_row(panelist_id="", system_a="x", system_b="y", choice="b"),
        ],
    )
    # Only the four required columns (every optional figure left out), many ties and the
    # other spellings of a choice, blanks around cells.
    ties = study_rows(n_panelists=16, votes_each=12, seed=7)
    for index, row in enumerate(ties):
        row["choice"] = ("tie", " draw", "no preference", "a ", "b")[index % 5]
    add("required-only-ties.csv", ties, REQUIRED_COLUMNS)
    add(
        "single-track.csv",
        [
            {
                "panelist_id": f"p{index % 11:02d}",
                "system": ("human", "model-x", "model-y")[index % 3],
                "is_ai": "0" if index % 3 == 0 else "1",
                "guess": ("human", "ai", "familiar")[(index * 7) % 3],
            }
            for index in range(132)
        ],
        SINGLE_TRACK_COLUMNS,
    )
    # Quoted cells (a comma, a doubled quote), a byte-order mark and CRLF line ends.
    quoted = study_rows(n_panelists=12, votes_each=10, seed=8, systems=("a, b", 'say "hi"', "c"))
    paths.append(write_csv(folder / "quoted.csv", quoted, RESPONSE_COLUMNS))
    paths[-1].write_bytes(b"\xef\xbb\xbf" + paths[-1].read_bytes())
    # Above the size from which the reader hashes the bytes on a thread (4 MiB): plain, and
    # with a byte-order mark and CRLF line ends.
    from stats import simulate_responses

    middle, _ = simulate_responses(n_responses=150_000, n_systems=6, n_panelists=400, seed=9)
    middle.to_csv(folder / "middle.csv", index=False)
    middle.to_csv(
        folder / "middle-bom-crlf.csv", index=False, lineterminator="\r\n", encoding="utf-8-sig"
    )
    paths += [folder / "middle.csv", folder / "middle-bom-crlf.csv"]
    if not quick:
        if benchmark_csv is None:
            benchmark_csv = folder / "benchmark.csv"
            frame, _ = simulate_responses(
                n_responses=1_000_000, n_systems=20, n_panelists=5000, seed=0
            )
            frame.to_csv(benchmark_csv, index=False)
        paths.append(benchmark_csv)
    return paths


def run(tree: Path, csv: Path, options: tuple[str, ...]) -> tuple[int, bytes, bytes]:
    """Exit code, stdout and stderr of the command line of ``tree`` on ``csv`` (a fresh
    process: ``python -m evaluation.stats``)."""
    finished = subprocess.run(
        [sys.executable, "-m", "evaluation.stats", str(csv), *options, "--no-progress"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        check=False,
    )
    return finished.returncode, finished.stdout, finished.stderr


_BATCH_DRIVER = """
import contextlib, io, json, sys
from evaluation.stats.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    results.append([code, out.getvalue(), err.getvalue()])
sys.stdout.write(json.dumps(results))
"""
"""Runs ``evaluation.stats.cli.main`` on each argument list in one process (the small CSVs:
160 fresh interpreters would take most of the check's time on a loaded machine)."""


def run_batch(
    tree: Path, jobs: list[tuple[Path, tuple[str, ...]]]
) -> list[tuple[int, bytes, bytes]]:
    """Exit code, stdout and stderr of ``tree``'s command line for each (CSV, options) job,
    all in one process of that tree."""
    arguments = [[str(csv), *options, "--no-progress"] for csv, options in jobs]
    finished = subprocess.run(
        [sys.executable, "-c", _BATCH_DRIVER, json.dumps(arguments)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        check=True,
    )
    return [
        (code, out.encode("utf-8"), err.encode("utf-8"))
        for code, out, err in json.loads(finished.stdout)
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--benchmark-csv", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="leave out the 1M-response CSV")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    differences = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        other = folder / "other"
        other.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.against], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(other)], input=archive, check=True)
        inputs = folder / "inputs"
        inputs.mkdir()
        small, large = [], []
        for csv in write_inputs(inputs, args.benchmark_csv, args.quick):
            if csv.stat().st_size > 20_000_000:
                large += [(csv, options) for options in BENCHMARK_OPTIONS]
            else:
                small += [(csv, options) for options in OPTION_SETS]
        outcomes = list(zip(run_batch(ROOT, small), run_batch(other, small), strict=True))
        outcomes += [(run(ROOT, csv, options), run(other, csv, options)) for csv, options in large]
        compared = len(outcomes)
        for (csv, options), (ours, theirs) in zip(small + large, outcomes, strict=True):
            # stderr holds the CSV's path only; the code's own paths must not differ.
            if ours[:2] != theirs[:2] or ours[2].replace(bytes(ROOT), b"") != theirs[2].replace(
                bytes(other), b""
            ):
                differences.append(f"{csv.name} {' '.join(options)}")
                print(f"DIFFERENT: {csv.name} {' '.join(options)}", file=sys.stderr)
            else:
                print(
                    f"same: {csv.name} {' '.join(options)} ({len(ours[1]):,} bytes, "
                    f"exit {ours[0]})",
                    file=sys.stderr,
                )
    print(f"{compared - len(differences)} of {compared} outputs byte-identical to {args.against}")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())

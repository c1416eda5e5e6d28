"""benchmarks/load.py run small against PostgreSQL and gunicorn: every panelist finishes, the
audit passes, and the report names every endpoint.

It needs a PostgreSQL server reachable as `postgres` without a password: it runs in the CI
pass on PostgreSQL (.ci/run: DATABASE_URL=postgres://…) and is skipped on SQLite, where the
benchmark does not apply. The benchmark makes and drops its own database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")


def postgres_server() -> str | None:
    """postgres://user@host:port of the suite's database, or None on SQLite."""
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        return None
    return DATABASE_URL.rsplit("/", 1)[0]


@pytest.mark.skipif(postgres_server() is None, reason="runs on PostgreSQL only (CI's pass)")
def test_a_small_load_run_loses_and_duplicates_nothing():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    run = subprocess.run(
        [sys.executable, "benchmarks/load.py", "--panelists", "6", "--trials", "2",
         "--workers", "2", "--threads", "2", "--ramp-s", "1", "--deadline-s", "180",
         "--pg", postgres_server()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    audit = json.loads(run.stdout.split("audit: ", 1)[1].splitlines()[0])
    assert audit["ok"] is True
    assert audit["acknowledged"] == audit["rows"] == audit["csv_rows"] == 12
    assert "6 of 6 panelists reached the done page" in run.stdout
    for endpoint in ("page GET", "page POST", "audio", "answer POST"):
        assert f"\n{endpoint}" in run.stdout and "server" in run.stdout

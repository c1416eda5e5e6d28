"""config.local_setup: the local key file is made once, atomically and private; the folders
a local run writes to are made by the command, not by importing settings."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from config.local_setup import private_file_ensure, secret_key_file_ensure

ROOT = Path(__file__).resolve().parents[2]

# Each racer waits for the starting signal, then makes the key with a slow key generator: the
# 0.3 s between "no file yet" and "file written" lets every racer find the file missing, the
# interleaving that gave processes different keys when settings wrote the key at import.
RACER = """
import secrets, sys, time
from pathlib import Path
from config import local_setup
fast = secrets.token_urlsafe
def slow(nbytes):
    time.sleep(0.3)
    return fast(nbytes)
local_setup.secrets.token_urlsafe = slow
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
print(local_setup.secret_key_file_ensure(Path(sys.argv[1])))
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh local run: no key, no DEBUG, and the default SQLite database
    (CI runs this module with DATABASE_URL pointing at PostgreSQL)."""
    dropped = ("DJANGO_SECRET_KEY", "DEBUG", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def test_six_racing_processes_end_with_one_key_in_one_private_file(tmp_path):
    for round_ in range(2):
        key_file = tmp_path / f"round{round_}" / "secret_key"
        go = tmp_path / f"go{round_}"
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(key_file), str(go)],
                env=clean_env(),
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        time.sleep(1.0)  # every racer is up and waiting
        go.touch()
        keys = [racer.communicate(timeout=60)[0].strip() for racer in racers]
        assert [racer.returncode for racer in racers] == [0] * 6
        assert len(set(keys)) == 1
        assert len(keys[0]) == 67
        assert key_file.read_text() == keys[0] + "\n"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert sorted(path.name for path in key_file.parent.iterdir()) == ["secret_key"]


def test_an_existing_key_file_is_read_not_replaced(tmp_path):
    key_file = tmp_path / "secret_key"
    first = secret_key_file_ensure(key_file)
    assert secret_key_file_ensure(key_file) == first


def test_the_setup_command_makes_the_key_and_every_folder_a_local_run_writes_to(tmp_path):
    var = tmp_path / "var"
    result = subprocess.run(
        [sys.executable, "-m", "config.local_setup"],
        cwd=ROOT,
        env=clean_env(
            EARSHOT_VAR_DIR=str(var),
            DJANGO_SETTINGS_MODULE="config.settings",
            CELERY_BROKER_URL="filesystem://",
            MEDIA_ROOT=str(tmp_path / "media"),
        ),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((var / "secret_key").stat().st_mode) == 0o600
    made = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_dir())
    assert made == [
        "media",
        "var",
        "var/celery",
        "var/celery/control",
        "var/celery/out",
        "var/celery/processed",
        "var/staticfiles",
    ]
    # The SQLite database (sessions, API tokens) exists from the start, private.
    assert stat.S_IMODE((var / "earshot.sqlite3").stat().st_mode) == 0o600


def test_a_private_file_is_made_0600_even_with_a_permissive_umask_and_an_open_one_is_fixed(
    tmp_path,
):
    previous = os.umask(0)
    try:
        made = private_file_ensure(tmp_path / "new.sqlite3")
    finally:
        os.umask(previous)
    assert (stat.S_IMODE(made.stat().st_mode), made.read_bytes()) == (0o600, b"")
    existing = tmp_path / "old.sqlite3"
    existing.write_bytes(b"SQLite format 3\x00")
    existing.chmod(0o644)
    private_file_ensure(existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert existing.read_bytes() == b"SQLite format 3\x00"


def test_migrate_leaves_a_new_sqlite_database_readable_by_its_owner_only(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=clean_env(
            DJANGO_SETTINGS_MODULE="config.settings_test",
            DATABASE_URL=f"sqlite:///{database}",
            EARSHOT_VAR_DIR=str(tmp_path / "var"),
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(database.stat().st_mode) == 0o600

"""config.env and the settings that use it: the secret key comes from the environment (or,
with DEBUG on, the local key file), and importing settings writes nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import SECRET_KEY_HELP, secret_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)


def test_the_environment_key_wins_over_the_local_file(tmp_path, monkeypatch):
    (tmp_path / "secret_key").write_text("from-file\n")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "from-env")
    assert secret_key(debug=True, key_file=tmp_path / "secret_key") == "from-env"
    assert secret_key(debug=False, key_file=tmp_path / "secret_key") == "from-env"


def test_with_debug_on_the_local_key_file_is_read(tmp_path, no_env_key):
    (tmp_path / "secret_key").write_text("from-file\n")
    assert secret_key(debug=True, key_file=tmp_path / "secret_key") == "from-file"


def test_with_debug_off_a_missing_environment_key_is_refused_even_beside_a_key_file(
    tmp_path, no_env_key
):
    (tmp_path / "secret_key").write_text("from-file\n")
    with pytest.raises(ImproperlyConfigured) as refused:
        secret_key(debug=False, key_file=tmp_path / "secret_key")
    assert str(refused.value) == f"DJANGO_SECRET_KEY is not set and DEBUG is off. {SECRET_KEY_HELP}"


def test_with_debug_on_and_no_key_file_the_error_names_the_file_and_the_variable(
    tmp_path, no_env_key
):
    with pytest.raises(ImproperlyConfigured) as refused:
        secret_key(debug=True, key_file=tmp_path / "secret_key")
    assert str(refused.value) == (
        f"DJANGO_SECRET_KEY is not set and {tmp_path / 'secret_key'} does not exist "
        f"(or is empty). {SECRET_KEY_HELP}"
    )


def start(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Start Django with config.settings in a fresh process (`manage.py check`)."""
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DEBUG")}
    base |= {"DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)}
    base |= {"EARSHOT_VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
    )


def test_starting_with_debug_off_and_no_key_stops_with_the_sentence(tmp_path):
    result = start(tmp_path, DEBUG="0")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set and DEBUG "
        f"is off. {SECRET_KEY_HELP}"
    )


def test_starting_writes_nothing_no_folder_and_no_key(tmp_path):
    result = start(
        tmp_path, DEBUG="0", DJANGO_SECRET_KEY="k" * 50, CELERY_BROKER_URL="filesystem://"
    )
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "System check identified no issues (0 silenced).",
    )
    assert list(tmp_path.iterdir()) == []

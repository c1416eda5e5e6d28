"""The documented production set-up (deploy/, config/gunicorn.py, docs/deploy.md): Django's
deployment checks pass with deploy/production.env, and gunicorn serves /healthz with it."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = ROOT / "deploy" / "production.env"


def production_env(**overrides: str) -> dict[str, str]:
    """deploy/production.env as a process environment, CHANGE-ME values filled for a test."""
    values = {}
    for line in PRODUCTION_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    values["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    values["DATABASE_URL"] = values["DATABASE_URL"].replace("CHANGE-ME", "test-password")
    assert not [name for name, value in values.items() if "CHANGE-ME" in value]
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return {**base, **values, "PYTHONPATH": str(ROOT), **overrides}


def test_the_production_env_file_documents_every_security_setting():
    env = production_env()
    assert {name: env[name] for name in ("DEBUG", "SECURE_COOKIES", "SECURE_SSL_REDIRECT")} == {
        "DEBUG": "0",
        "SECURE_COOKIES": "1",
        "SECURE_SSL_REDIRECT": "1",
    }
    documented = (ROOT / "docs" / "deploy.md").read_text()
    for name in env:
        if name not in ("PATH", "HOME", "PYTHONPATH"):
            assert f"`{name}`" in documented, f"{name} is not in docs/deploy.md"


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_without_the_https_settings_check_deploy_names_what_is_missing():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=production_env(
            DJANGO_SETTINGS_MODULE="config.settings",
            SECURE_SSL_REDIRECT="0",
            SECURE_HSTS_SECONDS="0",
            SECURE_COOKIES="0",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = sorted(
        code for code in ("W004", "W008", "W012", "W016") if f"security.{code}" in result.stderr
    )
    assert found == ["W004", "W008", "W012", "W016"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=90) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with config/gunicorn.py and the production env, on SQLite and the file
    broker under a temporary folder (no PostgreSQL or Redis needed for this smoke test)."""
    port = free_port()
    var = tmp_path / "var"
    env = production_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{var / 'earshot.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        CACHE_URL="locmem://",
        EARSHOT_VAR_DIR=str(var),
        MEDIA_ROOT=str(tmp_path / "media"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
    )
    subprocess.run(
        [sys.executable, "-m", "config.local_setup"], cwd=ROOT, env=env, check=True, timeout=120
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    gunicorn_bin = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(gunicorn_bin), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
    yield base, tmp_path, var
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_gunicorn_serves_healthz_over_plain_http_and_logs_json_lines(gunicorn):
    base, tmp_path, var = gunicorn
    status, body = get(f"{base}/healthz")
    assert status == 200
    assert (body["status"], body["failing"]) == ("ok", [])
    assert sorted(body["checks"]) == ["broker", "database", "storage"]
    assert all(check["ok"] for check in body["checks"].values())
    # Everything else is redirected to HTTPS (SECURE_SSL_REDIRECT); /healthz answers any
    # Host over plain HTTP, as load balancers probe it by address.
    request = urllib.request.Request(
        f"{base}/p/some-invite-token/", headers={"Host": "listen.example.org"}
    )
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(request, timeout=90)
    assert (redirect.value.code, redirect.value.headers["Location"]) == (
        301,
        "https://listen.example.org/p/some-invite-token/",
    )
    time.sleep(0.5)
    lines = [line for line in (tmp_path / "gunicorn.log").read_text().splitlines() if line]
    access = [json.loads(line) for line in lines if '"logger": "gunicorn.access"' in line]
    assert [entry["message"].split('"')[1] for entry in access] == [
        "GET /healthz HTTP/1.1",
        "GET /p/<redacted>/ HTTP/1.1",
    ]
    assert "some-invite-token" not in (tmp_path / "gunicorn.log").read_text()
    # The SQLite file holding sessions and tokens is private.
    assert oct((var / "earshot.sqlite3").stat().st_mode & 0o777) == "0o600"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

"""services.health and GET /healthz: 200 with one entry per check, 503 naming the failing
check, and never a secret in the answer."""

import pytest
from django.db import OperationalError

from evaluation.services import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_with_database_broker_and_storage_ok(client, media_root):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert (body["status"], body["ok"], body["failing"]) == ("ok", True, [])
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "storage": True,
    }
    assert list(media_root.joinpath(".healthz").iterdir()) == []  # the probe file is gone


def test_a_failing_broker_gives_503_naming_it_and_not_its_url(client, media_root, monkeypatch):
    def broker_down():
        raise OperationalError("Error 111 connecting to redis://:s3cret-pw@10.0.0.9:6379/0")

    monkeypatch.setitem(health.PROBES, "broker", broker_down)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["failing"]) == ("failing", ["broker"])
    assert body["checks"]["broker"]["error"] == "OperationalError"
    assert (body["checks"]["database"]["ok"], body["checks"]["storage"]["ok"]) == (True, True)
    assert "s3cret" not in response.content.decode()


def test_unwritable_media_storage_fails_the_storage_check(client, tmp_path, settings):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    response = client.get("/healthz")
    assert (response.status_code, response.json()["failing"]) == (503, ["storage"])


def test_healthz_answers_any_host_and_only_safe_methods(client, media_root):
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.post("/healthz").status_code == 405

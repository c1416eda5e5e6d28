"""Media through the storage API: import, preparation, the blindness audit, the listener's
audio view (with Range), /healthz and clean-up on error, each on local disk and on an
S3-compatible bucket (moto's server mode on a free loopback port, django-storages' S3Storage).

The S3 half runs when EARSHOT_TEST_S3=1 (.ci/run sets it), so `make test` stays fast; on disk
it always runs. Assertions read storage through the storage API only, so both halves check
the same things; the S3 half also checks that nothing lands on the local disk."""

import os
import re
import socket
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from evaluation.models import Stimulus, Study, Track, Trial
from evaluation.selectors.blindness import study_audit
from evaluation.selectors.media import media_local_path, media_read_range
from evaluation.services.stimuli import stimuli_prepare
from evaluation.services.storage import files_removed_on_error
from evaluation.services.tracks import tracks_import

pytestmark = pytest.mark.django_db

S3_ENABLED = os.environ.get("EARSHOT_TEST_S3") == "1"
PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "yes"}


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server on a free loopback port for the whole run; its URL."""
    from moto.server import ThreadedMotoServer

    port = _free_loopback_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["disk", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request, media_root, settings):
    """ "disk" (FileSystemStorage under a fresh media_root) or "s3" (a fresh private bucket on
    the moto server, configured exactly as config.settings does from AWS_* variables)."""
    if request.param == "s3":
        if not S3_ENABLED:
            pytest.skip("S3 storage tests run with EARSHOT_TEST_S3=1 (.ci/run sets it)")
        import boto3

        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"earshot-test-{uuid.uuid4().hex[:12]}"
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", **credentials
        ).create_bucket(Bucket=bucket)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": bucket,
                    "endpoint_url": endpoint,
                    "region_name": "us-east-1",
                    "access_key": "testing",
                    "secret_key": "testing",
                    "location": "media",
                    "default_acl": None,
                    "querystring_auth": True,
                    "file_overwrite": False,
                },
            },
        }
    yield request.param
    if request.param == "s3":
        # Nothing may have gone to the local media folder.
        assert not [p for p in Path(media_root).rglob("*") if p.is_file()]


def stored_names(folder: str = "") -> list[str]:
    """Every file name under `folder` in the default storage (recursively), sorted."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{name}" if folder else name for name in files]
    for sub in folders:
        names += stored_names(f"{folder}/{sub}" if folder else sub)
    return sorted(names)


def test_the_settings_backend_is_the_one_in_use(storage):
    default_storage.exists("x")  # make the lazy storage resolve
    backend = type(default_storage._wrapped).__name__
    assert backend == {"disk": "FileSystemStorage", "s3": "S3Storage"}[storage]


def test_import_and_preparation_store_every_file_in_storage(storage, prepared_study):
    tracks = list(Track.objects.all())
    stimuli = list(Stimulus.objects.all())
    assert (len(tracks), len(stimuli)) == (6, 6)
    names = set(stored_names())
    assert {t.file.name for t in tracks} | {s.file.name for s in stimuli} <= names
    for name in names:  # object keys name no system, prompt or original file
        assert re.fullmatch(
            r"(tracks/[0-9a-f]{2}/[0-9a-f]{64}\.wav|stimuli/[0-9a-f]{32}\.flac)", name
        )
    for stimulus in stimuli:
        with default_storage.open(stimulus.file.name, "rb") as handle:
            content = handle.read()
        assert content[:4] == b"fLaC"
        assert len(content) == stimulus.size_bytes


def test_the_blindness_audit_measures_every_stored_file(storage, prepared_study):
    report = study_audit(study=prepared_study)
    assert report.files_checked == Stimulus.objects.count() == 6


def test_a_local_copy_for_tools_has_the_stored_bytes_and_goes_away(storage, prepared_study):
    stimulus = Stimulus.objects.first()
    with default_storage.open(stimulus.file.name, "rb") as handle:
        stored = handle.read()
    with media_local_path(stimulus.file) as path:
        assert path.suffix == Path(stimulus.file.name).suffix
        assert path.read_bytes() == stored
    assert path.exists() == (storage == "disk")  # a temporary copy is deleted
    assert media_read_range(stimulus.file, 10, 20) == stored[10:30]
    assert media_read_range(stimulus.file, len(stored) - 5, 5) == stored[-5:]


def test_the_listener_gets_audio_through_the_checking_view_with_range(
    storage, prepared_study, invite, client
):
    assert client.post(invite.path(), PROFILE).status_code == 302
    page = client.get(invite.path()).content.decode()
    assert "127.0.0.1:" not in page and "X-Amz" not in page  # no storage URL
    trial = Trial.objects.get(panelist__isnull=False)
    url = reverse("listener:audio", args=[invite.token, trial.token, "a"])
    whole = client.get(url)
    stimulus = trial.stimulus_at("a")
    with default_storage.open(stimulus.file.name, "rb") as handle:
        stored = handle.read()
    assert (whole.status_code, whole.content) == (200, stored)
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert (part.status_code, part.content) == (206, stored[100:200])
    assert part["Content-Range"] == f"bytes 100-199/{len(stored)}"
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert (tail.status_code, tail.content) == (206, stored[-10:])
    refused = client.get(url, HTTP_RANGE=f"bytes={len(stored)}-")
    assert (refused.status_code, refused["Content-Range"]) == (416, f"bytes */{len(stored)}")


def test_a_failed_import_leaves_no_file_in_storage(storage, manifest, monkeypatch):
    real_save = Track.save
    calls = {"n": 0}

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk full")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Track, "save", failing_save)
    with pytest.raises(RuntimeError):
        tracks_import(study_slug="pilot", manifest=manifest)
    assert Track.objects.count() == 0
    assert stored_names() == []


def test_files_written_in_a_failing_block_are_deleted(storage):
    with pytest.raises(RuntimeError), files_removed_on_error() as written:
        written.append(default_storage.save("stimuli/x.flac", ContentFile(b"fLaC....")))
        raise RuntimeError("later step failed")
    assert stored_names() == []


def test_a_track_missing_from_storage_is_named_when_preparing(storage, manifest):
    tracks_import(study_slug="pilot", manifest=manifest)
    Study.objects.filter(slug="pilot").update(excerpt_s=3.0)
    lost = Track.objects.order_by("pk").first()
    default_storage.delete(lost.file.name)
    summary = stimuli_prepare(study=lost.prompt.study)
    assert len(summary["failures"]) == 1
    assert "is missing from storage" in summary["failures"][0]
    assert lost.prompt.external_id in summary["failures"][0]


def test_healthz_checks_storage_and_leaves_no_probe_file(storage, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["storage"]["ok"] is True
    assert stored_names(".healthz") == []

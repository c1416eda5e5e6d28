"""Background jobs through a real Celery worker process sharing the test database."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from evaluation.models import Job, Study, Track
from evaluation.services.tracks import tracks_import

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs on (the worker must use the same one)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(
    media_root, *, pool: str = "solo", log: Path | None = None, **extra_env: str
) -> subprocess.Popen:
    """A Celery worker process on this test's database, broker and media folder; its output
    goes to a pipe, or to `log` for a worker that outlives one test (a pipe nobody reads
    would fill up and stop it)."""
    # Purge before the worker starts: its own --purge would run after start-up and could
    # delete the message a test has queued meanwhile.
    from config.celery_app import app

    app.control.purge()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media_root),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **extra_env,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab") if log else subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def worker_media(tmp_path_factory) -> Path:
    """The media folder of the module's shared worker (emptied before each test)."""
    return tmp_path_factory.mktemp("worker-media")


def worker_output(process: subprocess.Popen) -> str:
    """The last of what a worker printed (from its pipe or its log file)."""
    log = getattr(process, "log", None)
    return (log.read_text() if log else process.stdout.read().decode())[-2000:]


class SharedWorker:
    """One real Celery worker process (solo pool) for the module's ordinary job tests, as in
    production, where one worker runs job after job: starting a worker costs seconds of CPU
    (Django, Celery, the generators' imports) and stopping it seconds more. It runs on the test
    database, which every test empties (transactional), and on one media folder. The tests that
    kill a worker stop it first (`no_shared_worker`) and start their own: two workers on one
    broker would take each other's jobs."""

    def __init__(self, media: Path):
        self.media, self.log = media, media.parent / "worker.log"
        self.process: subprocess.Popen | None = None

    def running(self) -> subprocess.Popen:
        if self.process is None:
            self.process = start_worker(self.media, log=self.log)
            self.process.log = self.log
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited: {worker_output(self.process)}")
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            stop_worker(self.process)
            self.process = None


@pytest.fixture(scope="module")
def shared_worker(worker_media, django_db_setup):
    """The module's SharedWorker (the test database is set up first: the worker is given its
    name)."""
    shared = SharedWorker(worker_media)
    yield shared
    shared.stop()


@pytest.fixture
def no_shared_worker(shared_worker):
    """For a test that starts (and kills) a worker of its own."""
    shared_worker.stop()


@pytest.fixture
def worker(shared_worker, worker_media, settings):
    """The shared worker, alive and idle, with this test's media on the worker's folder.
    (`media_root` would give each test its own folder, which a running worker cannot follow.)"""
    from config.celery_app import app

    process = shared_worker.running()
    app.control.purge()  # nothing left from an earlier test may reach this one's database
    for child in worker_media.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    settings.MEDIA_ROOT = worker_media
    return process


@pytest.fixture
def media_root(request, tmp_path, settings):
    """Tests with the shared worker store media where the worker reads it."""
    if "worker" in request.fixturenames:
        request.getfixturevalue("worker")  # points MEDIA_ROOT at the worker's folder
        return settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def wait_for(job: Job, worker, seconds: float = 90.0) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (Job.Status.DONE, Job.Status.FAILED, Job.Status.CANCELLED):
            return job
        if worker.poll() is not None:
            raise AssertionError(f"worker exited: {worker_output(worker)}")
        time.sleep(0.2)
    raise AssertionError(f"job still {job.status} after {seconds} s")


def test_the_prepare_job_runs_in_the_worker_and_reports_progress(
    client, researcher, manifest, worker
):
    tracks_import(study_slug="pilot", manifest=manifest)
    Study.objects.filter(slug="pilot").update(excerpt_s=3.0)
    client.force_login(researcher)
    response = client.post("/api/studies/pilot/prepare/")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    job = wait_for(Job.objects.get(pk=response.json()["id"]), worker)
    assert (job.status, job.done, job.total, job.failures) == ("done", 3, 3, [])
    assert job.message == "prepared 3 prompt(s), 3 new pair(s)"
    assert Study.objects.get(slug="pilot").pairs.count() == 3
    body = client.get(f"/api/jobs/{job.pk}/").json()
    assert (body["status"], body["percent"]) == ("done", 100)


def test_a_failing_track_is_reported_in_the_job(client, researcher, manifest, audio_folder, worker):
    tracks_import(study_slug="pilot", manifest=manifest)
    Study.objects.filter(slug="pilot").update(excerpt_s=3.0)
    # Make one stored track unreadable after import, as a disk error would.
    from evaluation.models import Track

    broken = Track.objects.get(prompt__external_id="p1", system__name="model-x")
    Path(broken.file.path).write_bytes(b"garbage")
    client.force_login(researcher)
    job_id = client.post("/api/studies/pilot/prepare/").json()["id"]
    job = wait_for(Job.objects.get(pk=job_id), worker)
    assert job.status == "done"
    assert len(job.failures) == 1
    assert "p1/model-x" in job.failures[0] and "not readable" in job.failures[0]
    assert Study.objects.get(slug="pilot").pairs.count() == 2


@pytest.fixture
def chorale_study(media_root):
    return Study.objects.create(slug="chorales", title="Chorales", seed=3, trials_per_panelist=2)


def test_the_generate_job_stores_neural_tracks_with_provenance(
    client, researcher, chorale_study, worker
):
    from generation.neural import CHECKPOINT_PATH, file_sha256
    from generation.pairs import prompt_seed

    client.force_login(researcher)
    response = client.post(
        "/api/studies/chorales/generate/", {"prompts": 2}, content_type="application/json"
    )
    assert response.status_code == 202
    assert response.json()["parameters"] == {"system": "builtin", "prompts": 2, "split": "test"}
    job = wait_for(Job.objects.get(pk=response.json()["id"]), worker)
    assert (job.status, job.done, job.total, job.failures) == ("done", 2, 2, [])
    assert job.message == "2 prompt(s): 4 new track(s), 0 prompt(s) already complete"
    neural = Track.objects.filter(system__name="Built-in neural harmonizer")
    assert neural.count() == 2
    for track in neural:
        assert track.provenance["checkpoint_sha256"] == file_sha256(CHECKPOINT_PATH)
        assert track.provenance["seed"] == prompt_seed(3, track.prompt.external_id)
        assert track.provenance["prompt"] == track.prompt.text
    assert Track.objects.filter(system__name="Bach (human reference)").count() == 2


def test_a_cancelled_generate_job_keeps_its_tracks_and_a_rerun_fills_the_gaps(
    client, researcher, chorale_study, worker
):
    client.force_login(researcher)
    body = {"prompts": 3, "system": "markov"}  # cancelled after the first, so two remain
    job_id = client.post(
        "/api/studies/chorales/generate/", body, content_type="application/json"
    ).json()["id"]
    job = Job.objects.get(pk=job_id)
    deadline = time.monotonic() + 60
    while job.done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    client.post(f"/api/jobs/{job_id}/cancel/")
    job = wait_for(job, worker)
    assert job.status == "cancelled"
    kept = Track.objects.filter(prompt__study=chorale_study).count()
    assert kept == 2 * job.done < 6

    rerun = client.post("/api/studies/chorales/generate/", body, content_type="application/json")
    job = wait_for(Job.objects.get(pk=rerun.json()["id"]), worker)
    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert job.message == (
        f"3 prompt(s): {6 - kept} new track(s), {kept // 2} prompt(s) already complete"
    )
    assert Track.objects.filter(prompt__study=chorale_study).count() == 6


def test_generating_with_an_unknown_system_is_refused_before_queueing(
    client, researcher, chorale_study
):
    client.force_login(researcher)
    response = client.post(
        "/api/studies/chorales/generate/", {"system": "gpt"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_system"
    assert not Job.objects.exists()


# A worker that dies mid-job: acks-late and reject-on-worker-lost put the task back, the job
# is claimed again and finishes; a worker that is gone for good leaves a stale job that
# cancel ends.


# Each starts a worker of its own: a group apart from the shared worker's tests, so that under
# pytest-xdist the two halves of this module can run in two processes at once.
WORKER_FAULTS = pytest.mark.xdist_group("tests/evaluation/test_tasks.py::worker-faults")


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def wait_until_done_at_least(job: Job, done: int, seconds: float = 120.0) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.done >= done:
            return job
        assert job.status in ("queued", "running"), (job.status, job.message)
        time.sleep(0.05)
    raise AssertionError(f"job still at {job.done}/{job.total} after {seconds} s")


@WORKER_FAULTS
@pytest.mark.faults
def test_a_job_whose_pool_process_is_killed_is_run_again_and_finishes_complete(
    client, researcher, chorale_study, media_root, no_shared_worker
):
    process = start_worker(media_root, pool="prefork", EARSHOT_JOB_HEARTBEAT_S="1")
    try:
        client.force_login(researcher)
        body = {"prompts": 4, "system": "markov"}  # killed after the first: three remain
        job_id = client.post(
            "/api/studies/chorales/generate/", body, content_type="application/json"
        ).json()["id"]
        job = wait_until_done_at_least(Job.objects.get(pk=job_id), 1)
        [child] = child_pids(process.pid)
        os.kill(child, signal.SIGKILL)  # the pool process dies mid-job; the worker lives
        job = wait_for(job, process, seconds=180)
    finally:
        stop_worker(process)
    assert (job.status, job.done, job.total, job.attempts) == ("done", 4, 4, 2)
    kept_before = int(job.message.split(", ")[1].split(" ")[0])
    assert job.message == (
        f"4 prompt(s): {8 - 2 * kept_before} new track(s), {kept_before} prompt(s) already complete"
    )
    assert 1 <= kept_before < 4
    assert Track.objects.filter(prompt__study=chorale_study).count() == 8


@WORKER_FAULTS
@pytest.mark.faults
def test_a_job_whose_whole_worker_died_shows_as_stale_and_cancel_ends_it(
    client, researcher, chorale_study, media_root, settings, no_shared_worker
):
    settings.EARSHOT = {**settings.EARSHOT, "JOB_STALE_S": 3}
    process = start_worker(media_root, EARSHOT_JOB_HEARTBEAT_S="1")
    try:
        client.force_login(researcher)
        body = {"prompts": 20, "system": "markov"}
        job_id = client.post(
            "/api/studies/chorales/generate/", body, content_type="application/json"
        ).json()["id"]
        wait_until_done_at_least(Job.objects.get(pk=job_id), 1)
        os.kill(process.pid, signal.SIGKILL)  # the whole worker, without a word
        process.wait(timeout=20)
    finally:
        stop_worker(process)
    time.sleep(4.5)  # past JOB_STALE_S without a heartbeat
    shown = client.get(f"/api/jobs/{job_id}/").json()
    assert (shown["status"], shown["stale"]) == ("stale", True)
    assert 1 <= shown["done"] < 20
    cancelled = client.post(f"/api/jobs/{job_id}/cancel/").json()
    assert (cancelled["status"], cancelled["stale"]) == ("cancelled", False)
    assert cancelled["message"].startswith("cancelled: its worker stopped answering")

"""services.jobs: jobs are sent by task name, so every kind's name must be a registered task."""

import pytest
from celery import current_app

from evaluation.models import Job, Study
from evaluation.services.jobs import TASK_NAMES, job_queue


def test_every_job_kind_names_a_task_the_worker_registers():
    import evaluation.tasks  # noqa: F401  (what the worker's autodiscovery imports)

    assert sorted(TASK_NAMES) == sorted(Job.Kind.values)
    assert {kind: current_app.tasks[name].name for kind, name in TASK_NAMES.items()} == TASK_NAMES


@pytest.mark.django_db
def test_a_queued_job_is_sent_by_name_once_the_transaction_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    study = Study.objects.create(slug="jobs", title="Jobs")
    sent = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args: sent.append((name, args)), raising=False
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_queue(study=study, kind=Job.Kind.PREPARE_STIMULI)
    assert sent == []
    for callback in callbacks:
        callback()
    assert sent == [("evaluation.prepare_stimuli", [job.pk])]


# Heartbeats, stale jobs, re-delivery and cancelling a dead job (a real worker killed
# mid-job: tests/evaluation/test_tasks.py).

from datetime import timedelta  # noqa: E402

from django.utils import timezone  # noqa: E402

from evaluation.selectors.jobs import job_display_status, job_is_stale, jobs_stale  # noqa: E402
from evaluation.services.jobs import job_cancel, job_claim, job_run  # noqa: E402


@pytest.fixture
def study(db):
    return Study.objects.create(slug="jobs", title="Jobs")


def running_job(study, *, silent_s: float) -> Job:
    beat = timezone.now() - timedelta(seconds=silent_s)
    return Job.objects.create(
        study=study,
        kind=Job.Kind.PREPARE_STIMULI,
        status=Job.Status.RUNNING,
        started_at=beat,
        heartbeat_at=beat,
        runner="dead-run",
        done=2,
        total=8,
    )


def test_a_running_job_without_a_heartbeat_for_the_stale_time_is_stale(study, settings):
    settings.EARSHOT = {**settings.EARSHOT, "JOB_STALE_S": 120}
    fresh, dead = running_job(study, silent_s=60), running_job(study, silent_s=121)
    assert (job_is_stale(fresh), job_is_stale(dead)) == (False, True)
    assert (job_display_status(fresh), job_display_status(dead)) == ("running", "stale")
    assert list(jobs_stale()) == [dead]
    done = Job.objects.create(study=study, kind=Job.Kind.PREPARE_STIMULI, status="done")
    assert job_display_status(done) == "done"


def test_cancelling_a_stale_job_ends_it_at_once_and_a_redelivery_does_not_restart_it(study):
    job = running_job(study, silent_s=600)
    job = job_cancel(job=job)
    assert (job.status, job.runner, job.cancel_requested) == ("cancelled", "", True)
    assert job.message == "cancelled: its worker stopped answering (no heartbeat for 600 s)"
    assert job.finished_at is not None
    ran = []
    job = job_run(job_id=job.pk, work=lambda job, progress: ran.append(job) or {})
    assert (ran, job.status) == ([], "cancelled")


def test_cancelling_a_live_running_job_only_asks_it_to_stop(study):
    job = job_cancel(job=running_job(study, silent_s=1))
    assert (job.status, job.cancel_requested, job.finished_at) == ("running", True, None)


def test_a_redelivered_task_takes_the_job_over_and_the_old_run_stops_at_its_next_report(study):
    job = Job.objects.create(study=study, kind=Job.Kind.PREPARE_STIMULI)
    outcomes = []

    def interrupted_then_redelivered(job, progress):
        progress(1, 4)
        # The worker died here and the broker re-delivered the task to another worker:
        inner = job_run(
            job_id=job.pk, work=lambda job, progress: progress(4, 4) or {"message": "ok"}
        )
        outcomes.append((inner.status, inner.attempts, inner.message))
        progress(2, 4)  # the old run wakes up: superseded, it must not write
        raise AssertionError("a superseded run must stop")

    job = job_run(job_id=job.pk, work=interrupted_then_redelivered)
    assert outcomes == [("done", 2, "ok")]
    assert (job.status, job.done, job.total, job.message, job.attempts) == ("done", 4, 4, "ok", 2)


def test_a_finished_job_is_never_claimed_again(study):
    for status in ("done", "failed", "cancelled"):
        job = Job.objects.create(study=study, kind=Job.Kind.PREPARE_STIMULI, status=status)
        assert job_claim(job_id=job.pk, runner="late") is False
        job.refresh_from_db()
        assert (job.status, job.attempts, job.runner) == (status, 0, "")


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_while_a_long_step_makes_no_progress(settings):
    import time

    # transaction=True: the heartbeat thread has its own connection and must see the job.
    study = Study.objects.create(slug="beats", title="Beats")
    settings.EARSHOT = {**settings.EARSHOT, "JOB_HEARTBEAT_S": 0.2}
    job = Job.objects.create(study=study, kind=Job.Kind.PREPARE_STIMULI)
    beats = []

    def slow(job, progress):
        first = Job.objects.get(pk=job.pk).heartbeat_at
        time.sleep(1.0)
        beats.append(Job.objects.get(pk=job.pk).heartbeat_at - first)
        return {}

    job_run(job_id=job.pk, work=slow)
    assert beats[0] >= timedelta(seconds=0.6)


@pytest.mark.django_db
def test_the_api_shows_a_dead_job_as_stale_and_cancel_ends_it(client, researcher, study):
    job = running_job(study, silent_s=3600)
    client.force_login(researcher)
    body = client.get(f"/api/jobs/{job.pk}/").json()
    assert (body["status"], body["stale"], body["done"], body["total"]) == ("stale", True, 2, 8)
    cancelled = client.post(f"/api/jobs/{job.pk}/cancel/").json()
    assert (cancelled["status"], cancelled["stale"]) == ("cancelled", False)


def test_a_job_id_that_is_not_a_number_is_404_not_500(client, researcher):
    client.force_login(researcher)
    assert client.post("/api/jobs/abc/cancel/").status_code == 404
    assert client.get("/api/jobs/abc/").status_code == 404
    assert client.post("/api/jobs/999999/cancel/").status_code == 404


def test_the_admin_job_list_shows_a_dead_job_as_stale(client, admin_user, study):
    running_job(study, silent_s=3600)
    client.force_login(admin_user)
    page = client.get("/admin/evaluation/job/").content.decode()
    assert '<td class="field-state">stale</td>' in page

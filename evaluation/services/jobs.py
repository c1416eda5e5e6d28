"""Background jobs: queue on commit, report progress with heartbeats, honour cancellation,
survive a worker that dies (the task is re-delivered, acks-late; the job is claimed again).

Jobs are sent to the worker by task name, so this module never imports ``evaluation.tasks``
(the tasks import the services they run, never the other way round)."""

import logging
import secrets
import threading
from collections.abc import Callable
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from evaluation.models import Job, Study
from evaluation.selectors.jobs import job_is_stale

logger = logging.getLogger(__name__)

# The Celery task that runs each kind of job; evaluation.tasks registers its tasks under
# these names.
TASK_NAMES: dict[str, str] = {
    Job.Kind.PREPARE_STIMULI: "evaluation.prepare_stimuli",
    Job.Kind.GENERATE_TRACKS: "evaluation.generate_tracks",
}


class JobCancelled(Exception):
    pass


class JobSuperseded(Exception):
    """Another run of the same job took it over (the task was re-delivered): this run stops
    without writing anything more."""


def job_queue(*, study: Study, kind: str, parameters: dict | None = None) -> Job:
    """Create a job and send it to the worker once the surrounding transaction commits."""
    task_name = TASK_NAMES[kind]
    job = Job.objects.create(study=study, kind=kind, parameters=parameters or {})
    transaction.on_commit(lambda: current_app.send_task(task_name, args=[job.pk]))
    return job


def job_progress_reporter(job: Job, *, runner: str) -> Callable[[int, int], None]:
    """A progress(done, total) callback for the run `runner` of `job`: saves progress with a
    heartbeat, raises JobCancelled on request and JobSuperseded when another run took over."""

    def report(done: int, total: int) -> None:
        mine = Job.objects.filter(pk=job.pk, runner=runner)
        if not mine.update(done=done, total=total, heartbeat_at=timezone.now()):
            raise JobSuperseded()
        if mine.filter(cancel_requested=True).exists():
            raise JobCancelled()

    return report


class _Heartbeat(threading.Thread):
    """Writes ``heartbeat_at`` every `interval_s` seconds while a job's work runs, so a long
    step without progress is not mistaken for a dead worker. Dies with its process: a killed
    worker stops beating, which is how a stale job is recognised."""

    def __init__(self, *, job_id: int, runner: str, interval_s: float):
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id, self.runner, self.interval_s = job_id, runner, interval_s
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval_s):
                try:
                    Job.objects.filter(pk=self.job_id, runner=self.runner).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:  # the next beat tries again; progress beats too
                    logger.warning("job %s: heartbeat not written", self.job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def job_claim(*, job_id: int, runner: str) -> bool:
    """Make `runner` the run of a queued or running job (running: the task was re-delivered
    because its worker died, or a duplicate delivery; the newest run wins and the older one
    stops at its next progress report). False for a job that ended (done, failed, cancelled):
    a re-delivered task must not run it again."""
    now = timezone.now()
    return bool(
        Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
            status=Job.Status.RUNNING,
            runner=runner,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )


def job_run(*, job_id: int, work: Callable[[Job, Callable[[int, int], None]], dict]) -> Job:
    """Run `work(job, progress)` for a job, recording start, heartbeats, end, failures and
    outcome. Idempotent: a job that already ended is returned untouched, and `work` itself
    skips what an earlier, interrupted run finished (tracks generated, stimuli prepared)."""
    runner = secrets.token_hex(16)
    if not job_claim(job_id=job_id, runner=runner):
        return Job.objects.get(pk=job_id)
    job = Job.objects.select_related("study").get(pk=job_id)
    heartbeat = _Heartbeat(
        job_id=job.pk, runner=runner, interval_s=settings.EARSHOT["JOB_HEARTBEAT_S"]
    )
    heartbeat.start()
    try:
        outcome = work(job, job_progress_reporter(job, runner=runner))
    except JobSuperseded:
        job.refresh_from_db()
        return job
    except JobCancelled:
        status, message, failures = Job.Status.CANCELLED, "cancelled on request", []
    except Exception as exc:  # a job must end in a visible state, whatever went wrong
        status, message, failures = Job.Status.FAILED, f"{type(exc).__name__}: {exc}", []
    else:
        failures = outcome.get("failures", [])
        status = Job.Status.DONE
        message = outcome.get("message", "")
    finally:
        heartbeat.stop()
    Job.objects.filter(pk=job.pk, runner=runner).update(
        status=status, message=message, failures=failures, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def job_cancel(*, job: Job, now: datetime | None = None) -> Job:
    """Ask a job to stop. A queued job is cancelled at once; a running one stops at its next
    progress report; a stale one (running, but its worker stopped sending heartbeats: see
    selectors.jobs) is cancelled at once, since no worker is left to notice the request."""
    now = now or timezone.now()
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, finished_at=now, message="cancelled before start"
    )
    job.refresh_from_db()
    if job_is_stale(job, now=now):
        last = job.heartbeat_at or job.started_at
        silent_s = round((now - last).total_seconds()) if last else None
        # Only if nothing moved since we looked: a run that just beat again stops by itself.
        Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at
        ).update(
            status=Job.Status.CANCELLED,
            runner="",
            finished_at=now,
            message=f"cancelled: its worker stopped answering (no heartbeat for {silent_s} s)",
        )
        job.refresh_from_db()
    return job

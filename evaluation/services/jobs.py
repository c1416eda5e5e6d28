"""Background jobs: queue on commit, report progress, honour cancellation.

Jobs are sent to the worker by task name, so this module never imports ``evaluation.tasks``
(the tasks import the services they run, never the other way round)."""

from collections.abc import Callable

from celery import current_app
from django.db import transaction
from django.utils import timezone

from evaluation.models import Job, Study

# The Celery task that runs each kind of job; evaluation.tasks registers its tasks under
# these names.
TASK_NAMES: dict[str, str] = {
    Job.Kind.PREPARE_STIMULI: "evaluation.prepare_stimuli",
    Job.Kind.GENERATE_TRACKS: "evaluation.generate_tracks",
}


class JobCancelled(Exception):
    pass


def job_queue(*, study: Study, kind: str, parameters: dict | None = None) -> Job:
    """Create a job and send it to the worker once the surrounding transaction commits."""
    task_name = TASK_NAMES[kind]
    job = Job.objects.create(study=study, kind=kind, parameters=parameters or {})
    transaction.on_commit(lambda: current_app.send_task(task_name, args=[job.pk]))
    return job


def job_progress_reporter(job: Job) -> Callable[[int, int], None]:
    """A progress(done, total) callback that saves progress and raises JobCancelled on request."""

    def report(done: int, total: int) -> None:
        Job.objects.filter(pk=job.pk).update(done=done, total=total)
        if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
            raise JobCancelled()

    return report


def job_run(*, job_id: int, work: Callable[[Job, Callable[[int, int], None]], dict]) -> Job:
    """Run `work(job, progress)` for a job, recording start, end, failures and outcome."""
    job = Job.objects.select_related("study").get(pk=job_id)
    if job.status in (Job.Status.DONE, Job.Status.CANCELLED):
        return job
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    try:
        outcome = work(job, job_progress_reporter(job))
    except JobCancelled:
        status, message, failures = Job.Status.CANCELLED, "cancelled on request", []
    except Exception as exc:  # a job must end in a visible state, whatever went wrong
        status, message, failures = Job.Status.FAILED, f"{type(exc).__name__}: {exc}", []
    else:
        failures = outcome.get("failures", [])
        status = Job.Status.DONE
        message = outcome.get("message", "")
    Job.objects.filter(pk=job.pk).update(
        status=status, message=message, failures=failures, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def job_cancel(*, job: Job) -> Job:
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, finished_at=timezone.now(), message="cancelled before start"
    )
    job.refresh_from_db()
    return job

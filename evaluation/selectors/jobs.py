"""Reads about background jobs: is a running job's worker still alive?"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from evaluation.models import Job


def job_stale_after_s() -> int:
    """Seconds without a heartbeat after which a running job counts as stale."""
    return settings.EARSHOT["JOB_STALE_S"]


def job_is_stale(job: Job, *, now: datetime | None = None) -> bool:
    """True when the job is ``running`` but its worker has not written a heartbeat for
    JOB_STALE_S seconds: the worker (or its pool process) died, and nothing will finish it."""
    if job.status != Job.Status.RUNNING:
        return False
    last = job.heartbeat_at or job.started_at
    now = now or timezone.now()
    return last is None or now - last > timedelta(seconds=job_stale_after_s())


def jobs_stale(*, now: datetime | None = None) -> QuerySet[Job]:
    """Running jobs without a heartbeat for JOB_STALE_S seconds (see :func:`job_is_stale`)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=job_stale_after_s())
    return Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def job_display_status(job: Job, *, now: datetime | None = None) -> str:
    """The status people see: ``stale`` for a running job whose worker stopped answering,
    else the stored status."""
    return "stale" if job_is_stale(job, now=now) else job.status

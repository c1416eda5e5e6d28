"""Celery tasks: thin wrappers that fetch by id and call one service."""

from celery import shared_task

from evaluation.models import Job
from evaluation.services.jobs import job_run
from evaluation.services.stimuli import stimuli_prepare


def _prepare(job: Job, progress) -> dict:
    outcome = stimuli_prepare(study=job.study, progress=progress)
    return {
        "failures": outcome["failures"],
        "message": f"prepared {outcome['prompts']} prompt(s), {outcome['pairs']} new pair(s)",
    }


@shared_task(name="evaluation.prepare_stimuli")
def prepare_stimuli_task(job_id: int) -> str:
    return job_run(job_id=job_id, work=_prepare).status


TASKS_BY_KIND = {Job.Kind.PREPARE_STIMULI: prepare_stimuli_task}

"""Celery tasks: thin wrappers that fetch by id and call one service."""

from celery import shared_task

from evaluation.models import Job
from evaluation.services.generation import tracks_generate
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


def _generate(job: Job, progress) -> dict:
    outcome = tracks_generate(study=job.study, progress=progress, **job.parameters)
    return {
        "failures": outcome["failures"],
        "message": (
            f"{outcome['prompts']} prompt(s): {outcome['created']} new track(s), "
            f"{outcome['skipped']} prompt(s) already complete"
        ),
    }


@shared_task(name="evaluation.generate_tracks")
def generate_tracks_task(job_id: int) -> str:
    return job_run(job_id=job_id, work=_generate).status


TASKS_BY_KIND = {
    Job.Kind.PREPARE_STIMULI: prepare_stimuli_task,
    Job.Kind.GENERATE_TRACKS: generate_tracks_task,
}

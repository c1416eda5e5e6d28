"""Celery tasks: thin wrappers that fetch by id and call one service."""

from celery import shared_task

from evaluation.models import Job, Study
from evaluation.services.auto_close import CLOSE_IF_DECIDED_TASK, study_close_if_decided
from evaluation.services.generation import tracks_generate
from evaluation.services.jobs import TASK_NAMES, job_run
from evaluation.services.stimuli import stimuli_prepare


def _prepare(job: Job, progress) -> dict:
    outcome = stimuli_prepare(study=job.study, progress=progress)
    return {
        "failures": outcome["failures"],
        "message": f"prepared {outcome['prompts']} prompt(s), {outcome['pairs']} new pair(s)",
    }


@shared_task(name=TASK_NAMES[Job.Kind.PREPARE_STIMULI])
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


@shared_task(name=TASK_NAMES[Job.Kind.GENERATE_TRACKS])
def generate_tracks_task(job_id: int) -> str:
    return job_run(job_id=job_id, work=_generate).status


@shared_task(name=CLOSE_IF_DECIDED_TASK)
def study_close_if_decided_task(study_id: int) -> bool:
    study = Study.objects.filter(pk=study_id).first()
    return study is not None and study_close_if_decided(study=study)

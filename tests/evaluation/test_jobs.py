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

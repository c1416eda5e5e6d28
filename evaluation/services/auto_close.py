"""Writes: close a study by itself once the monitor has decided every comparison."""

from celery import current_app
from django.db import transaction

from evaluation.models import Study
from evaluation.selectors.results import study_results
from evaluation.services.studies import study_close

# The Celery task (evaluation.tasks) that runs study_close_if_decided for one study.
CLOSE_IF_DECIDED_TASK = "evaluation.study_close_if_decided"


def study_close_if_decided(*, study: Study) -> bool:
    """Close an open study whose ``auto_close_decided`` is on once the monitor has decided
    every comparison; returns whether it closed now.

    "Decided" is the results' ``pairs[].decided``: the pair's anytime-valid confidence
    sequence on listener-level win shares, each pair at α/K (study-wide error control,
    :mod:`evaluation.stats.sequential`), excludes an even split. Because the sequences hold
    at every look, closing at the first moment they all exclude it keeps that guarantee: this
    is not stopping when a p-value happens to dip. Simulated listeners are left out, as in
    every statistic, so a simulated panel never closes a real study. A study with no analysed
    comparison stays open. The audit log records the close as any other."""
    study = Study.objects.get(pk=study.pk)
    if not (study.auto_close_decided and study.is_open):
        return False
    pairs = study_results(study)["pairs"]
    if not pairs or not all(pair["decided"] for pair in pairs):
        return False
    study_close(study=study)
    return True


def study_close_if_decided_queue(*, study: Study) -> None:
    """Ask the worker to check :func:`study_close_if_decided` once the surrounding
    transaction commits (the statistics take longer than a listener should wait)."""
    study_id = study.pk
    transaction.on_commit(lambda: current_app.send_task(CLOSE_IF_DECIDED_TASK, args=[study_id]))

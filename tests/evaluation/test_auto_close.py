"""Closing a study by itself once the monitor has decided every comparison
(services.auto_close, the task evaluation.study_close_if_decided): it closes when listeners
agree, never on an even split, never with the setting off, and a finishing listener queues
the check for the worker."""

import pytest

from evaluation.models import AuditEntry, Study, Trial
from evaluation.selectors.results import study_results
from evaluation.services import auto_close
from evaluation.services.panelists import invite_create, panelist_join
from evaluation.services.studies import slots_ensure
from evaluation.tasks import study_close_if_decided_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(prepared_study):
    """The pilot study (human reference vs model-x, 3 prompts, 3 trials per listener) with
    room for 20 listeners (K = 20 per pair) and the setting on."""
    Trial.objects.all().delete()
    Study.objects.filter(pk=prepared_study.pk).update(ratings_per_pair=20, auto_close_decided=True)
    prepared_study.refresh_from_db()
    slots_ensure(study=prepared_study)
    return prepared_study


def human_side(trial) -> str:
    """The side on which the human reference plays."""
    return "a" if trial.stimulus_at("a").track.system.kind == "human" else "b"


def listeners(study, panel, answer_all, count: int, choose) -> None:
    invite = invite_create(study=study, panel=panel)
    for _ in range(count):
        panelist = panelist_join(invite=invite, expertise="professional", plays_instrument=True)
        answer_all(panelist, choose)


def test_listeners_who_all_prefer_one_side_close_it_once_the_monitor_decides(
    study, panel, answer_all
):
    closed_after = None
    for count in range(1, 21):
        listeners(study, panel, answer_all, 1, human_side)
        if study_close_if_decided_task(study.pk):
            closed_after = count
            break
    # Unanimous listeners: the one pair's confidence sequence (alpha 0.05) first excludes an
    # even split at 16 listeners; before that the study stays open.
    assert closed_after == 16
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED
    assert AuditEntry.objects.filter(study=study, action=AuditEntry.Action.CLOSE).count() == 1
    [pair] = study_results(study)["pairs"]
    assert pair["decided"] and pair["decided_for"] == "human reference"


def test_an_even_split_never_closes_it(study, panel, answer_all):
    sides = iter(["a", "b"] * 60)
    listeners(study, panel, answer_all, 20, lambda trial: next(sides))
    [pair] = study_results(study)["pairs"]
    assert pair["n_panelists"] == 20 and not pair["decided"]
    assert study_close_if_decided_task(study.pk) is False
    assert Study.objects.get(pk=study.pk).is_open


def test_with_the_setting_off_a_decided_study_stays_open(study, panel, answer_all):
    Study.objects.filter(pk=study.pk).update(auto_close_decided=False)
    listeners(study, panel, answer_all, 18, human_side)
    assert study_results(study)["pairs"][0]["decided"]
    assert auto_close.study_close_if_decided(study=study) is False
    assert Study.objects.get(pk=study.pk).is_open


@pytest.mark.parametrize("setting", [True, False])
def test_a_finishing_listener_queues_the_check_for_the_worker_when_the_setting_is_on(
    setting, study, panel, answer_all, monkeypatch, django_capture_on_commit_callbacks
):
    Study.objects.filter(pk=study.pk).update(auto_close_decided=setting)
    study.refresh_from_db()
    sent = []
    monkeypatch.setattr(
        auto_close.current_app, "send_task", lambda name, args: sent.append((name, args))
    )
    invite = invite_create(study=study, panel=panel)
    panelist = panelist_join(invite=invite, expertise="amateur", plays_instrument=False)
    with django_capture_on_commit_callbacks(execute=True):
        served = answer_all(panelist, human_side)
    assert len(served) == 3
    # Once, when the listener finished (their third answer), not after every answer.
    assert sent == ([("evaluation.study_close_if_decided", [study.pk])] if setting else [])

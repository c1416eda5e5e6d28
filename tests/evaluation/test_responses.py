"""Responses: stored once, idempotent on retry, invalid submissions refused with a reason."""

from datetime import timedelta

import pytest
from django.utils import timezone

from evaluation.models import Response
from evaluation.services import ServiceError
from evaluation.services.responses import Answer, response_record
from evaluation.services.scheduling import trial_mark_served, trial_next

pytestmark = pytest.mark.django_db

GOOD = Answer(choice="b", listen_a_s=2.5, listen_b_s=2.5, liked_a=False, liked_b=True, guess_ai="a")


@pytest.fixture
def served(make_panelist):
    panelist = make_panelist()
    trial = trial_next(panelist=panelist)
    now = timezone.now()
    trial_mark_served(trial=trial, now=now)
    return panelist, trial, now + timedelta(seconds=8)


def test_it_stores_the_answer(served):
    panelist, trial, now = served
    response, created = response_record(
        panelist=panelist, trial_token=trial.token, answer=GOOD, now=now
    )
    assert created is True
    assert (response.choice, response.liked_a, response.liked_b, response.guess_ai) == (
        "b",
        False,
        True,
        "a",
    )


def test_a_retried_submit_is_idempotent(served):
    panelist, trial, now = served
    first, _ = response_record(panelist=panelist, trial_token=trial.token, answer=GOOD, now=now)
    again, created = response_record(
        panelist=panelist, trial_token=trial.token, answer=GOOD, now=now
    )
    assert (again.pk, created) == (first.pk, False)
    assert Response.objects.count() == 1


def test_a_different_second_answer_never_overwrites_the_first(served):
    panelist, trial, now = served
    response_record(panelist=panelist, trial_token=trial.token, answer=GOOD, now=now)
    changed = Answer(**{**GOOD.__dict__, "choice": "a"})
    with pytest.raises(ServiceError) as error:
        response_record(panelist=panelist, trial_token=trial.token, answer=changed, now=now)
    assert (error.value.code, error.value.status) == ("already_answered", 409)
    assert Response.objects.get().choice == "b"


def test_it_rejects_another_panelists_trial(served, make_panelist):
    _, trial, now = served
    with pytest.raises(ServiceError) as error:
        response_record(panelist=make_panelist(), trial_token=trial.token, answer=GOOD, now=now)
    assert error.value.code == "foreign_trial"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"choice": "maybe"}, "invalid_choice"),
        ({"guess_ai": "c"}, "invalid_guess"),
        ({"liked_a": None}, "missing_liked"),
        ({"listen_a_s": 0.5}, "too_short_listening"),
        ({"listen_b_s": -1.0}, "invalid_listen"),
    ],
)
def test_it_rejects_invalid_answers_with_a_specific_code(served, changes, code):
    panelist, trial, now = served
    with pytest.raises(ServiceError) as error:
        response_record(
            panelist=panelist,
            trial_token=trial.token,
            answer=Answer(**{**GOOD.__dict__, **changes}),
            now=now,
        )
    assert error.value.code == code
    assert Response.objects.count() == 0


def test_it_rejects_more_listening_than_the_page_was_open(make_panelist):
    panelist = make_panelist()
    trial = trial_next(panelist=panelist)
    start = timezone.now()
    trial_mark_served(trial=trial, now=start)
    with pytest.raises(ServiceError, match="open for only 1.0 s"):
        response_record(
            panelist=panelist,
            trial_token=trial.token,
            answer=GOOD,
            now=start + timedelta(seconds=1),
        )


def test_an_answer_to_a_trial_reserved_before_the_study_closed_is_refused(served):
    from evaluation.services.studies import study_close

    panelist, trial, now = served
    study = study_close(study=trial.pair.study)
    with pytest.raises(ServiceError) as error:
        response_record(panelist=panelist, trial_token=trial.token, answer=GOOD, now=now)
    assert (error.value.code, error.value.status) == ("study_closed", 409)
    assert str(error.value) == (
        f"this study closed on {study.closed_at:%Y-%m-%d at %H:%M} UTC and no longer accepts "
        f"answers; nothing was stored. Thank you for listening"
    )
    assert Response.objects.count() == 0

"""The headphone check's service: seeded items, scoring, attempts, pass and fail, and that no
trial is reserved for a panelist who has not passed."""

from collections import Counter

import pytest

from evaluation.models import HeadphoneItem, Panelist, Study, Trial
from evaluation.selectors.headphones import headphone_check_pending, headphone_open_items
from evaluation.services import ServiceError
from evaluation.services.headphones import (
    headphone_attempt_score,
    headphone_attempt_start,
    headphone_orders,
)
from evaluation.services.scheduling import trial_reserve
from evaluation.services.simulation import panel_simulate

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked_study(prepared_study):
    """prepared_study with the check on at its defaults: 6 items, pass with 5, 2 attempts."""
    Study.objects.filter(pk=prepared_study.pk).update(headphone_check=True)
    prepared_study.refresh_from_db()
    return prepared_study


@pytest.fixture
def listener(checked_study, make_panelist) -> Panelist:
    return make_panelist()


def answers_with(items, correct: int) -> dict[int, int]:
    """The first `correct` items answered right, the rest wrong (the antiphase tone: what a
    listener over loudspeakers would pick)."""
    return {
        item.index: item.quiet_position if n < correct else item.antiphase_position
        for n, item in enumerate(items)
    }


def test_new_studies_run_the_check_with_6_items_5_to_pass_and_2_attempts():
    study = Study(slug="new", title="New")
    assert (
        study.headphone_check,
        study.headphone_items,
        study.headphone_pass_min,
        study.headphone_attempts,
    ) == (True, 6, 5, 2)
    assert {"headphone_check", "headphone_items", "headphone_pass_min", "headphone_attempts"} <= (
        set(study.protocol())
    )


def test_the_check_settings_change_the_config_hash(prepared_study):
    before = prepared_study.config_hash()
    prepared_study.headphone_pass_min = 6
    assert prepared_study.config_hash() != before


def test_a_pass_mark_above_the_number_of_items_is_refused_with_the_reason():
    from django.core.exceptions import ValidationError

    study = Study(slug="odd", title="Odd", headphone_items=4, headphone_pass_min=5)
    with pytest.raises(ValidationError, match=r"At most the number of items \(4\)"):
        study.clean()


def test_orders_are_seeded_per_panelist_and_attempt_and_balanced():
    first = headphone_orders(seed=7, panelist_id=1, attempt=1, items=6)
    assert first == headphone_orders(seed=7, panelist_id=1, attempt=1, items=6)
    assert first != headphone_orders(seed=7, panelist_id=2, attempt=1, items=6)
    assert first != headphone_orders(seed=7, panelist_id=1, attempt=2, items=6)
    assert first != headphone_orders(seed=8, panelist_id=1, attempt=1, items=6)
    assert len(set(first)) == 6  # each of the six orders once
    quiet = Counter(order.index("quiet") + 1 for order in first)
    assert quiet == {1: 2, 2: 2, 3: 2}


def test_joining_a_study_with_the_check_reserves_no_trial(listener):
    assert headphone_check_pending(panelist=listener) is True
    assert trial_reserve(panelist=listener) is None
    assert Trial.objects.filter(panelist=listener).count() == 0


def test_starting_an_attempt_makes_6_items_once(listener):
    items = headphone_attempt_start(panelist=listener)
    assert [(item.attempt, item.index) for item in items] == [(1, n) for n in range(1, 7)]
    again = headphone_attempt_start(panelist=listener)
    assert [item.pk for item in again] == [item.pk for item in items]
    assert HeadphoneItem.objects.count() == 6
    orders = headphone_orders(seed=7, panelist_id=listener.pk, attempt=1, items=6)
    assert [item.quiet_position for item in items] == [o.index("quiet") + 1 for o in orders]
    assert [item.antiphase_position for item in items] == [o.index("antiphase") + 1 for o in orders]


@pytest.mark.parametrize("correct", [6, 5])
def test_five_or_six_right_passes_and_the_first_trial_can_be_reserved(listener, correct):
    items = headphone_attempt_start(panelist=listener)
    outcome = headphone_attempt_score(panelist=listener, answers=answers_with(items, correct))
    assert (outcome.correct, outcome.items, outcome.passed) == (correct, 6, True)
    assert (outcome.attempts_made, outcome.attempts_left) == (1, 1)
    listener.refresh_from_db()
    assert (listener.headphone_passed, listener.headphone_correct) == (True, correct)
    assert headphone_check_pending(panelist=listener) is False
    trial = trial_reserve(panelist=listener)
    assert trial is not None and trial.panelist_id == listener.pk
    assert headphone_attempt_start(panelist=listener) == []


def test_four_right_asks_for_a_second_attempt_with_fresh_items(listener):
    first = headphone_attempt_start(panelist=listener)
    outcome = headphone_attempt_score(panelist=listener, answers=answers_with(first, 4))
    assert (outcome.correct, outcome.passed, outcome.attempts_left) == (4, None, 1)
    assert trial_reserve(panelist=listener) is None
    second = headphone_attempt_start(panelist=listener)
    assert {item.attempt for item in second} == {2}
    assert {item.token for item in second}.isdisjoint({item.token for item in first})
    outcome = headphone_attempt_score(panelist=listener, answers=answers_with(second, 5))
    assert (outcome.correct, outcome.passed, outcome.attempts_made) == (5, True, 2)


def test_failing_both_attempts_fails_the_panelist_for_good(listener):
    for correct in (4, 0):
        items = headphone_attempt_start(panelist=listener)
        outcome = headphone_attempt_score(panelist=listener, answers=answers_with(items, correct))
    assert (outcome.correct, outcome.passed, outcome.attempts_left) == (0, False, 0)
    listener.refresh_from_db()
    assert (listener.headphone_passed, listener.headphone_attempts_made) == (False, 2)
    assert headphone_attempt_start(panelist=listener) == []
    assert trial_reserve(panelist=listener) is None
    assert Trial.objects.filter(panelist=listener).count() == 0
    with pytest.raises(ServiceError) as error:
        headphone_attempt_score(panelist=listener, answers={})
    assert error.value.code == "no_headphone_check"


def test_a_missing_answer_is_refused_and_nothing_is_stored(listener):
    items = headphone_attempt_start(panelist=listener)
    answers = answers_with(items, 6)
    del answers[3], answers[5]
    with pytest.raises(ServiceError, match="missing for sound 3, 5") as error:
        headphone_attempt_score(panelist=listener, answers=answers)
    assert error.value.code == "headphone_incomplete"
    assert HeadphoneItem.objects.filter(answer__isnull=False).count() == 0
    listener.refresh_from_db()
    assert (listener.headphone_attempts_made, listener.headphone_passed) == (0, None)


@pytest.mark.parametrize("answers", [{1: 4}, {1: 0}, {7: 1}])
def test_an_answer_outside_tones_1_to_3_or_the_items_is_refused(listener, answers):
    items = headphone_attempt_start(panelist=listener)
    full = {**answers_with(items, 6), **answers}
    with pytest.raises(ServiceError, match="tone 1, 2 or 3") as error:
        headphone_attempt_score(panelist=listener, answers=full)
    assert error.value.code == "headphone_invalid"
    assert headphone_open_items(panelist=listener)[0].answer is None


def test_a_study_without_the_check_reserves_trials_at_once(prepared_study, make_panelist):
    panelist = make_panelist()
    assert headphone_check_pending(panelist=panelist) is False
    assert headphone_attempt_start(panelist=panelist) == []
    trial = trial_reserve(panelist=panelist)
    assert (trial.panelist_id, trial.position) == (panelist.pk, 1)


def test_simulated_panelists_skip_the_check_and_are_marked_not_run(checked_study):
    summary = panel_simulate(study=checked_study, panelists=2, seed=1)
    assert summary == {"panelists": 2, "responses": 6, "turned_away": 0}
    assert list(Panelist.objects.values_list("headphone_passed", "headphone_attempts_made")) == [
        (None, 0),
        (None, 0),
    ]
    assert HeadphoneItem.objects.count() == 0

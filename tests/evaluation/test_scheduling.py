"""Scheduling: balanced coverage, counterbalanced positions, a prompt at most once, resume."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from evaluation.models import Panel, Trial
from evaluation.services.responses import Answer, response_record
from evaluation.services.scheduling import trial_mark_served, trial_next

pytestmark = pytest.mark.django_db


def answer(panelist, trial, now):
    trial_mark_served(trial=trial, now=now)
    return response_record(
        panelist=panelist,
        trial_token=trial.token,
        answer=Answer(
            choice="a", listen_a_s=3, listen_b_s=3, liked_a=True, liked_b=True, guess_ai="a"
        ),
        now=now + timedelta(seconds=10),
    )


def run_panelist(panelist, now):
    prompts = []
    while (trial := trial_next(panelist=panelist, now=now)) is not None:
        prompts.append(trial.prompt_id)
        answer(panelist, trial, now)
    return prompts


def test_each_pair_has_k_slots_with_positions_balanced(prepared_study):
    for pair in prepared_study.pairs.all():
        swaps = Counter(pair.trials.values_list("swapped", flat=True))
        assert swaps == {True: 2, False: 2}


def test_a_panelist_hears_each_prompt_once_and_then_is_done(prepared_study, make_panelist):
    panelist = make_panelist()
    prompts = run_panelist(panelist, timezone.now())
    assert len(prompts) == 3 == len(set(prompts))
    panelist.refresh_from_db()
    assert panelist.finished_at is not None


def test_every_pair_reaches_k_ratings_before_any_gets_k_plus_1(prepared_study, make_panelist):
    now = timezone.now()
    for expected_round in range(4):
        run_panelist(make_panelist(), now)
        counts = [
            pair.trials.filter(response__isnull=False).count()
            for pair in prepared_study.pairs.all()
        ]
        assert counts == [expected_round + 1] * 3


def test_order_is_randomised_per_panelist_and_reproducible(prepared_study, make_panelist):
    now = timezone.now()
    orders = [tuple(run_panelist(make_panelist(), now)) for _ in range(4)]
    assert len(set(orders)) > 1


def test_the_same_seed_gives_the_same_first_trial_order(prepared_study, make_panelist):
    from evaluation.selectors.scheduling import order_key

    keys = sorted(
        prepared_study.pairs.values_list("pk", flat=True), key=lambda pk: order_key(7, 1, pk)
    )
    assert keys == sorted(
        prepared_study.pairs.values_list("pk", flat=True), key=lambda pk: order_key(7, 1, pk)
    )
    assert order_key(7, 1, 1) != order_key(8, 1, 1)


def test_reopening_the_page_returns_the_same_unanswered_trial(prepared_study, make_panelist):
    panelist = make_panelist()
    first = trial_next(panelist=panelist)
    again = trial_next(panelist=panelist)
    assert again.pk == first.pk and again.token == first.token


def test_an_expired_reservation_goes_to_the_next_panelist_with_a_new_token(
    prepared_study, make_panelist, settings
):
    prepared_study.ratings_per_pair = 1
    prepared_study.save()
    Trial.objects.filter(round__gte=1).delete()
    slow, fast = make_panelist(), make_panelist()
    now = timezone.now()
    held = [trial_next(panelist=slow, now=now)]
    later = now + timedelta(seconds=settings.EARSHOT["RESERVATION_S"] + 1)
    taken = run_panelist(fast, later)
    assert held[0].prompt_id in taken
    with pytest.raises(Exception, match="not yours"):
        answer(slow, held[0], later)


def test_nothing_is_served_when_the_study_is_closed(prepared_study, make_panelist):
    from evaluation.services.studies import study_close

    panelist = make_panelist()
    study_close(study=prepared_study)
    panelist.refresh_from_db()
    assert trial_next(panelist=panelist) is None


def test_catch_trials_are_mixed_in_at_the_study_rate_and_never_first(catch_study, answer_all):
    from evaluation.models import Pair
    from evaluation.selectors.scheduling import catch_positions
    from evaluation.services.panelists import invite_create, panelist_join

    assert Trial.objects.count() == 3 * 2  # slots for regular pairs only
    assert Pair.objects.filter(study=catch_study, is_catch=True).count() == 6
    panel = Panel.objects.create(name="qc listeners")
    invite = invite_create(study=catch_study, panel=panel)
    for _ in range(2):  # K=2: two panelists fill every regular slot
        panelist = panelist_join(invite=invite, expertise="hobbyist")
        assert (panelist.planned_trials, panelist.planned_catch_trials) == (4, 1)
        served = answer_all(panelist, lambda trial: "a")
        assert [t.position for t in served] == [1, 2, 3, 4]
        catch = [t for t in served if t.is_catch]
        assert len(catch) == 1 and catch[0].pair.is_catch
        assert {catch[0].position} == catch_positions(5, panelist.pk, 4, 1)
        assert catch[0].position != 1
        regular_prompts = [t.prompt_id for t in served if not t.is_catch]
        assert len(set(regular_prompts)) == 3

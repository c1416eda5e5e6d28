"""Scheduling: balanced coverage, counterbalanced positions, a prompt at most once, resume."""

import hashlib
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from evaluation.models import Panel, Trial
from evaluation.services import ServiceError
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
    now = timezone.now()
    prompts = run_panelist(panelist, now)
    assert sorted(prompts) == sorted(prepared_study.prompts.values_list("pk", flat=True))
    panelist.refresh_from_db()
    assert panelist.finished_at == now + timedelta(seconds=10)  # the last answer's time


def test_every_pair_reaches_k_ratings_before_any_gets_k_plus_1(prepared_study, make_panelist):
    now = timezone.now()
    for expected_round in range(4):
        run_panelist(make_panelist(), now)
        counts = [
            pair.trials.filter(response__isnull=False).count()
            for pair in prepared_study.pairs.all()
        ]
        assert counts == [expected_round + 1] * 3


def orders_replayed(study, panelists, seed, now) -> list[tuple[int, ...]]:
    """The prompt order each panelist would be served, every one starting from the same
    state: the study's seed set to `seed`, each walk rolled back (a savepoint) afterwards."""
    from evaluation.models import Panelist, Study

    Study.objects.filter(pk=study.pk).update(seed=seed)
    orders = []
    for panelist in panelists:
        with transaction.atomic():
            orders.append(tuple(run_panelist(Panelist.objects.get(pk=panelist.pk), now)))
            transaction.set_rollback(True)
    assert Trial.objects.filter(panelist__isnull=False).count() == 0  # really rolled back
    return orders


def test_the_order_follows_the_seed_same_seed_same_order_other_seed_other_order(
    prepared_study, make_panelist
):
    from evaluation.selectors.scheduling import order_key

    now = timezone.now()
    panelists = [make_panelist() for _ in range(8)]
    pairs = {pair.pk: pair.prompt_id for pair in prepared_study.pairs.all()}

    with_seed_7 = orders_replayed(prepared_study, panelists, seed=7, now=now)

    # Each panelist's order is the study's keyed hash of (seed, panelist, pair), ...
    assert with_seed_7 == [
        tuple(pairs[pk] for pk in sorted(pairs, key=lambda pk: order_key(7, panelist.pk, pk)))
        for panelist in panelists
    ]
    # ... so panelists get different orders (all 8 alike: probability 6**-7), ...
    assert len(set(with_seed_7)) > 1
    # ... the same seed gives the same orders again, ...
    assert orders_replayed(prepared_study, panelists, seed=7, now=now) == with_seed_7
    # ... and another seed other orders (all 8 alike by chance: probability 6**-8).
    assert orders_replayed(prepared_study, panelists, seed=8, now=now) != with_seed_7


def test_the_order_key_is_a_sha256_of_seed_panelist_and_pair_so_it_never_changes():
    """Running studies must keep their orders across upgrades: the key is pinned."""
    from evaluation.selectors.scheduling import order_key

    assert order_key(7, 1, 2) == hashlib.sha256(b"7:1:2").digest()
    assert order_key(7, 1, 2) != order_key(8, 1, 2)


def test_reopening_the_page_returns_the_same_unanswered_trial(prepared_study, make_panelist):
    panelist = make_panelist()
    first = trial_next(panelist=panelist)
    again = trial_next(panelist=panelist)
    assert (again.pk, again.token) == (first.pk, first.token)


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
    with pytest.raises(ServiceError, match="not yours") as refused:
        answer(slow, held[0], later)
    assert refused.value.code == "foreign_trial"


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


def test_reserving_ahead_keeps_the_planned_sequence_catch_positions_included(catch_study):
    """The same panelist walked twice (rolled back in between): taking each trial as usual,
    and with the next one reserved ahead while each is answered. Same pairs, same positions."""
    from evaluation.services.panelists import invite_create, panelist_join
    from evaluation.services.scheduling import trial_reserve_ahead

    invite = invite_create(study=catch_study, panel=Panel.objects.create(name="ahead"))
    panelist = panelist_join(invite=invite, expertise="hobbyist")
    now = timezone.now()

    def walk(reserve_ahead: bool):
        served = []
        with transaction.atomic():
            while (trial := trial_next(panelist=panelist, now=now)) is not None:
                if reserve_ahead:
                    ahead = trial_reserve_ahead(panelist=panelist, current=trial, now=now)
                    again = trial_reserve_ahead(panelist=panelist, current=trial, now=now)
                    assert ahead == again  # idempotent
                    if ahead is not None:
                        assert ahead.position == trial.position + 1 and ahead.served_at == now
                        # Not ahead of a trial that is not the current one.
                        assert trial_reserve_ahead(panelist=panelist, current=ahead) is None
                served.append((trial.pair_id, trial.is_catch, trial.position))
                answer(panelist, trial, now)
            transaction.set_rollback(True)
        return served

    plain = walk(False)
    assert [position for *_, position in plain] == [1, 2, 3, 4]
    assert sum(is_catch for _, is_catch, _ in plain) == 1
    assert walk(True) == plain

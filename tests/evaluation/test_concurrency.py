"""Panelists racing for the same slot, and a double-clicked submit, on a real database
(SQLite file in `make test`, PostgreSQL in CI) with one connection per thread."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from evaluation.models import Response, Trial
from evaluation.services.responses import Answer, response_record
from evaluation.services.scheduling import trial_mark_served, trial_next

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = Answer(
    choice="a", listen_a_s=2.5, listen_b_s=2.5, liked_a=True, liked_b=False, guess_ai="a"
)


def race(functions):
    """Run the callables at the same moment in threads; returns their results (or exceptions)."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_panelists_racing_for_the_last_slot_never_share_it(prepared_study, make_panelist):
    last = Trial.objects.order_by("pk").first()
    Trial.objects.exclude(pk=last.pk).delete()
    first, second = make_panelist(), make_panelist()
    now = timezone.now()
    results = race(
        [lambda: trial_next(panelist=first, now=now), lambda: trial_next(panelist=second, now=now)]
    )
    won = [r for r in results if isinstance(r, Trial)]
    assert len(won) == 1, results
    assert results.count(None) == 1
    winner = first if results[0] is not None else second
    assert Trial.objects.get(pk=last.pk).panelist_id == winner.pk


def test_many_panelists_at_once_get_distinct_slots_and_every_answer_is_kept(
    prepared_study, make_panelist
):
    panelists = [make_panelist() for _ in range(6)]
    now = timezone.now()

    def work(panelist):
        def run():
            count = 0
            while (trial := trial_next(panelist=panelist, now=now)) is not None:
                trial_mark_served(trial=trial, now=now)
                response_record(
                    panelist=panelist,
                    trial_token=trial.token,
                    answer=ANSWER,
                    now=now + timedelta(seconds=9),
                )
                count += 1
            return count

        return run

    results = race([work(p) for p in panelists])
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == Response.objects.count() == 12  # 3 pairs × K=4 slots
    assert Trial.objects.filter(response__isnull=True).count() == 0


def test_a_double_submit_stores_one_response(prepared_study, make_panelist):
    panelist = make_panelist()
    now = timezone.now()
    trial = trial_next(panelist=panelist, now=now)
    trial_mark_served(trial=trial, now=now)
    later = now + timedelta(seconds=9)

    def submit():
        return response_record(panelist=panelist, trial_token=trial.token, answer=ANSWER, now=later)

    results = race([submit, submit])
    assert sorted(created for _, created in results) == [False, True]
    assert Response.objects.count() == 1


def test_concurrent_reservations_for_one_panelist_hold_one_trial(prepared_study, make_panelist):
    """Duplicate answer POSTs arriving together each ask for the next trial: one is
    reserved, the others get that same one (never "Question 6 of 4")."""
    from evaluation.services.scheduling import trial_reserve

    panelist = make_panelist()
    now = timezone.now()
    first = trial_reserve(panelist=panelist, now=now)
    response_record(
        panelist=panelist, trial_token=first.token, answer=ANSWER, now=now + timedelta(seconds=9)
    )
    results = race([lambda: trial_reserve(panelist=panelist, now=now)] * 8)
    assert all(isinstance(r, Trial) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Trial.objects.filter(panelist=panelist, response__isnull=True).count() == 1
    assert Trial.objects.filter(panelist=panelist).count() == 2


def test_newcomers_racing_for_one_idle_reservation_never_share_it(prepared_study, make_panelist):
    """An idle reservation (no audio fetched past the grace) is claimable: of several
    listeners claiming at the same moment exactly one gets it."""
    from evaluation.services.scheduling import trial_reserve

    last = Trial.objects.order_by("pk").first()
    Trial.objects.exclude(pk=last.pk).delete()
    idle = make_panelist()
    then = timezone.now() - timedelta(minutes=1)
    assert trial_reserve(panelist=idle, now=then).pk == last.pk  # never fetched its audio
    newcomers = [make_panelist() for _ in range(4)]
    now = timezone.now()
    results = race([lambda p=p: trial_reserve(panelist=p, now=now) for p in newcomers])
    won = [r for r in results if isinstance(r, Trial)]
    assert len(won) == 1 and results.count(None) == 3, results
    holder = Trial.objects.get(pk=last.pk).panelist_id
    assert holder in {p.pk for p in newcomers} and holder != idle.pk

"""What one listener request costs the database: a fixed number of queries for the trial page,
the audio view and the answer POST, the same on the first trial as on the last (no query per
answered trial, pair or prompt), and the headphone check locking only the panelist's row.

The counts are those of the code as written (docs/benchmarks.md, "Load"): a change that adds
a query per request fails here, and must say why in the new number."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.models import Panelist, Trial
from evaluation.services.headphones import headphone_attempt_start
from evaluation.services.panelists import panelist_join
from tests.evaluation.test_listener_views import PROFILE, download_both, heard_both

pytestmark = pytest.mark.django_db

# Queries per request. Every listener request: session, the study's language (the listener
# language middleware), invite (with study and panel), panelist. Then the trial page: open
# trial (with pair, stimuli, study), answered count. Audio: the trial, the fetch record (a
# savepoint around a read and an insert or update) and the reservation's extension. The
# answer: the trial with everything its snapshot needs, the fetched bytes, the response and
# its evidence (savepoints), the answered count, then the next trial's reservation
# (services/scheduling.py: the panelist's lock, the open trial, the answered count, the
# invite's cap, the lowest free round, its candidates, one conditional UPDATE, the claimed
# trial) and the served-at stamp. 25, not 28: the optimistic claim takes no row locks (26),
# and the claim is given the position its caller computed instead of counting the answers
# again (25).
TRIAL_PAGE_QUERIES = 6
AUDIO_QUERIES = 10
ANSWER_QUERIES = 25


def queries(call) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [query["sql"] for query in captured.captured_queries]


def answer(client, invite, trial):
    body = {
        "choice": "a",
        "liked_a": True,
        "liked_b": False,
        "guess_ai": "b",
        "listen_a_s": 2.5,
        "listen_b_s": 2.5,
        "listening": heard_both(2.5),
    }
    url = reverse("listener:answer", args=[invite.token, trial.token])
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_trial_page_audio_and_answer_cost_the_same_queries_on_every_trial(client, invite):
    assert client.post(invite.path(), PROFILE).status_code == 302
    for position in (1, 2, 3):
        page, sql = queries(lambda: client.get(invite.path()))
        assert f"{position} of 3" in page.content.decode()
        assert len(sql) == TRIAL_PAGE_QUERIES, sql
        trial = Trial.objects.get(panelist__isnull=False, response__isnull=True)
        url = reverse("listener:audio", args=[invite.token, trial.token, "a"])
        audio, sql = queries(lambda u=url: client.get(u))
        assert audio.status_code == 200
        assert len(sql) == AUDIO_QUERIES, sql
        download_both(client, invite, trial)
        stored, sql = queries(lambda t=trial: answer(client, invite, t))
        assert stored.status_code == 201
        # The last answer reserves nothing, so it may cost fewer queries, never more.
        assert len(sql) <= ANSWER_QUERIES, sql
        if position < 3:
            assert len(sql) == ANSWER_QUERIES, sql


def test_a_retried_answer_is_answered_without_storing_twice(client, invite):
    assert client.post(invite.path(), PROFILE).status_code == 302
    client.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    download_both(client, invite, trial)
    assert answer(client, invite, trial).status_code == 201
    retried = answer(client, invite, trial)
    assert (retried.status_code, retried.json()["created"]) == (200, False)
    assert Trial.objects.filter(panelist__isnull=False, response__isnull=False).count() == 1


def test_the_headphone_check_locks_only_the_panelist_row(invite):
    """FOR UPDATE with a join locks every joined row unless OF names the table: the study's
    row would serialise every listener's check. SQLite has no row locks (nothing to check)."""
    if not connection.features.has_select_for_update_of:
        pytest.skip("this database has no SELECT ... FOR UPDATE OF (SQLite)")
    invite.study.headphone_check = True
    invite.study.save(update_fields=["headphone_check"])
    panelist = panelist_join(invite=invite, expertise="professional", plays_instrument=True)
    Panelist.objects.filter(pk=panelist.pk).update(headphone_passed=None)
    _, sql = queries(lambda: headphone_attempt_start(panelist=panelist))
    locking = [statement for statement in sql if "FOR UPDATE" in statement]
    assert locking, sql
    for statement in locking:
        assert 'FOR UPDATE OF "evaluation_panelist"' in statement, statement

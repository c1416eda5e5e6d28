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
from evaluation.services.enrolment import panelist_enrol
from evaluation.services.headphones import headphone_attempt_start
from evaluation.services.panelists import panelist_join
from tests.evaluation.test_listener_views import PROFILE, download_both, heard_both

pytestmark = pytest.mark.django_db

# Queries per request. Every listener request: session, invite (with study, panel and
# member; read once per request, by the listener language middleware or the view), panelist
# (their study and invite are the view's objects: no join, no second read).
# Trial page: open trial (with pair, stimuli, study), answered count.
# Audio: the trial, the fetch record (a savepoint around a read and an insert or update) and
# the reservation's extension.
# Answer: the trial with everything its snapshot needs, the fetched bytes, the response and
# its evidence (one savepoint: the response's transaction writes the evidence), the answered
# count, then the next trial's reservation (services/scheduling.py, a savepoint around: the
# panelist's lock, the open trial, and, with nothing reserved ahead, the answered count, the
# invite's cap, the candidates of the lowest free round (the round a subquery), one
# conditional UPDATE that also stamps served_at, the claimed trial).
# Was 6 / 10 / 25: the language middleware and the view read the invite once each, the
# panelist's study was joined and their invite read again for the cap, the evidence had a
# nested savepoint, the lowest round was a query of its own, served_at a second UPDATE.
TRIAL_PAGE_QUERIES = 5
AUDIO_QUERIES = 9
ANSWER_QUERIES = 19
# The page's own flow (EARSHOT_LISTENER_PREFETCH, the default): once the answer is allowed it
# reserves the next trial (``ahead``: session, invite, panelist, trial, then a savepoint
# around the lock, the open trials, the answered count, the cap, the candidates, the claim
# and the claimed trial), and the answer then only finds that trial open (its audio fetched,
# its reservation already the full span: nothing to write).
AHEAD_QUERIES = 13
ANSWER_AFTER_AHEAD_QUERIES = 14


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


def test_with_the_next_trial_reserved_ahead_the_answer_reserves_nothing_new(client, invite):
    assert client.post(invite.path(), PROFILE).status_code == 302
    for position in (1, 2, 3):
        page = client.get(invite.path())
        assert f"{position} of 3" in page.content.decode()
        trial = Trial.objects.get(panelist__isnull=False, token=_shown_trial_token(page))
        download_both(client, invite, trial)
        url = reverse("listener:ahead", args=[invite.token, trial.token])
        ahead, sql = queries(lambda u=url: client.post(u))
        if position == 3:  # nothing comes after the last trial
            assert ahead.json() == {"audio": []}
            continue
        assert len(ahead.json()["audio"]) == 2
        assert len(sql) == AHEAD_QUERIES, sql
        for audio_url in ahead.json()["audio"]:  # the page decodes the next trial ahead
            assert client.get(audio_url).status_code == 200
        stored, sql = queries(lambda t=trial: answer(client, invite, t))
        assert stored.status_code == 201
        assert len(sql) == ANSWER_AFTER_AHEAD_QUERIES, sql
        assert not [statement for statement in sql if statement.startswith("UPDATE")], sql


def _shown_trial_token(page) -> str:
    return page.content.decode().split('data-answer="', 1)[1].split("/")[4]


def test_a_retried_answer_is_answered_without_storing_twice(client, invite):
    assert client.post(invite.path(), PROFILE).status_code == 302
    client.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    download_both(client, invite, trial)
    assert answer(client, invite, trial).status_code == 201
    retried = answer(client, invite, trial)
    assert (retried.status_code, retried.json()["created"]) == (200, False)
    assert Trial.objects.filter(panelist__isnull=False, response__isnull=False).count() == 1


def test_enrolment_counts_the_invite_use_last_so_a_shared_link_is_locked_only_to_commit(invite):
    """Every listener of a shared link updates the invite's row (its use count), which stays
    locked until the enrolment commits: counted first, it serialised whole enrolments (the
    panelist, the first reservation) of everyone joining at once."""
    enrolment, sql = queries(
        lambda: panelist_enrol(invite=invite, enrolment_key="k" * 32, expertise="professional")
    )
    assert enrolment.panelist.enrolment_key_hash and enrolment.panelist.resume_code_hash
    statements = [s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert statements[-1].startswith('UPDATE "evaluation_invite"'), statements[-3:]
    assert sum(s.startswith('UPDATE "evaluation_invite"') for s in statements) == 1
    # The keys are written with the panelist's row, not by updates after it.
    assert not [s for s in statements if s.startswith('UPDATE "evaluation_panelist"')]


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

"""Joining that cannot be abused, over HTTP: short reservations grown only by real activity,
idle ones taken by listeners who need them, a cap per invite, rate limits per client, a
failed screening remembered on the device, and never "Thank you" for nothing.

The headline test: 100 bot joins from one client do not stop a genuine listener from
finishing the study."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_ratelimit import core as ratelimit_core

from evaluation.models import Invite, Panelist, Response, StimulusFetch, Study, Trial
from evaluation.services.reservations import reservations_release_expired

pytestmark = pytest.mark.django_db

PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "no"}
BOT_ADDRESS = "203.0.113.66"
HUMAN_ADDRESS = "198.51.100.7"


def listener(address: str) -> Client:
    """A browser with no cookies at one client address."""
    return Client(REMOTE_ADDR=address)


def bot_joins(invite: Invite, count: int) -> list[int]:
    """`count` joins from one address, each from a fresh browser (cookies cleared);
    returns their status codes. The burst stays in one rate-limit window, as a real one (well
    under a second) does; on a slow machine the test's own burst could straddle a window edge
    and see the counter reset half way."""
    real_window, windows = ratelimit_core._get_window, {}

    def window(value, period):
        return windows.setdefault((value, period), real_window(value, period))

    with mock.patch.object(ratelimit_core, "_get_window", window):
        return [
            listener(BOT_ADDRESS).post(invite.path(), PROFILE).status_code for _ in range(count)
        ]


def age_reservations(seconds: float) -> None:
    """Move every reservation `seconds` into the past, as if that much time had gone by."""
    shift = timedelta(seconds=seconds)
    Trial.objects.filter(panelist__isnull=False).update(
        served_at=F("served_at") - shift, reserved_until=F("reserved_until") - shift
    )


def download_both(client, invite, trial):
    for side in "ab":
        url = reverse("listener:audio", args=[invite.token, trial.token, side])
        assert client.get(url).status_code == 200
    minute = timedelta(minutes=1)
    trial.refresh_from_db()
    Trial.objects.filter(pk=trial.pk).update(served_at=trial.served_at - minute)
    StimulusFetch.objects.filter(trial=trial).update(first_at=F("first_at") - minute)


def post_answer(client, invite, trial):
    body = {
        "choice": "a",
        "liked_a": True,
        "liked_b": False,
        "guess_ai": "b",
        "listen_a_s": 2.5,
        "listen_b_s": 2.5,
        "listening": {
            "loop_s": 3.0,
            "events": [
                {"t": 1000, "type": "play", "side": "a", "pos": 0.0},
                {"t": 3500, "type": "seek", "side": "a", "pos": 0.0},
                {"t": 3500, "type": "switch", "side": "b", "pos": 0.0},
                {"t": 6000, "type": "submit", "side": "b", "pos": 2.5},
            ],
        },
    }
    url = reverse("listener:answer", args=[invite.token, trial.token])
    return client.post(url, json.dumps(body), content_type="application/json")


def complete_study(client, invite) -> Panelist:
    """Join and answer every planned trial as a real page would; returns the panelist."""
    assert client.post(invite.path(), PROFILE).status_code == 302
    panelist = Panelist.objects.latest("pk")
    for _ in range(panelist.planned_trials):
        assert client.get(invite.path()).status_code == 200
        trial = Trial.objects.get(panelist=panelist, response__isnull=True)
        download_both(client, invite, trial)
        assert post_answer(client, invite, trial).status_code == 201
    return panelist


def test_100_bot_joins_from_one_client_do_not_stop_a_genuine_listener(invite):
    statuses = bot_joins(invite, 100)
    # The join limit (30/min per client) turns most away before anything is stored...
    assert statuses.count(429) == 70
    # ...and of the 30 that got through, only as many as there are slots hold one (12); the
    # rest were told the study is busy without spending an invite use.
    assert statuses.count(302) == 12 and statuses.count(409) == 18
    assert Invite.objects.get(pk=invite.pk).uses == 12
    bots = set(Panelist.objects.values_list("pk", flat=True))
    held = Trial.objects.filter(panelist__in=bots, response__isnull=True)
    assert held.count() == 12
    # Each bot's reservation is short: minutes, not the full hour.
    assert all(t.reserved_until - t.served_at <= timedelta(minutes=3) for t in held.order_by("pk"))

    # Half a minute later a genuine listener, from their own address, does the whole study.
    age_reservations(31)
    human = listener(HUMAN_ADDRESS)
    panelist = complete_study(human, invite)
    done = human.get(invite.path()).content.decode()
    assert "Thank you!" in done and "You answered 3 questions" in done
    assert Response.objects.filter(panelist=panelist).count() == panelist.planned_trials == 3
    assert Response.objects.exclude(panelist=panelist).count() == 0


def test_a_listener_arriving_while_bots_hold_everything_is_told_to_wait_not_thanked(invite):
    assert bot_joins(invite, 12).count(302) == 12
    human = listener(HUMAN_ADDRESS)
    page = human.post(invite.path(), PROFILE)
    assert page.status_code == 409
    assert "try this link again in a few minutes" in page.content.decode()
    assert "Thank you!" not in page.content.decode()
    assert Invite.objects.get(pk=invite.pk).uses == 12  # no use spent on a refusal
    age_reservations(31)
    assert complete_study(human, invite).responses.count() == 3


def test_an_active_listener_keeps_their_trial_while_idle_ones_are_taken(invite):
    first = listener(HUMAN_ADDRESS)
    assert first.post(invite.path(), PROFILE).status_code == 302
    mine = Trial.objects.get(panelist__isnull=False)
    for side in "ab":
        first.get(reverse("listener:audio", args=[invite.token, mine.token, side]))
    mine.refresh_from_db()
    assert mine.active_at is not None
    assert mine.reserved_until - timezone.now() > timedelta(minutes=50)  # grown to the hour
    bot_joins(invite, 11)
    age_reservations(3600 - 120)  # everyone's reservation is old; only mine saw activity
    assert listener("192.0.2.9").post(invite.path(), PROFILE).status_code == 302
    mine.refresh_from_db()
    assert mine.panelist_id == Panelist.objects.order_by("pk").first().pk
    newcomer = Panelist.objects.latest("pk")
    assert Trial.objects.filter(panelist=newcomer).count() == 1  # an idle bot's slot


def test_posting_the_page_keeps_only_a_short_reservation(invite):
    client = listener(HUMAN_ADDRESS)
    client.post(invite.path(), PROFILE)
    trial = Trial.objects.get(panelist__isnull=False)
    for _ in range(5):
        client.post(invite.path())  # the "Continue" button, again and again
    trial.refresh_from_db()
    assert trial.reserved_until - timezone.now() <= timedelta(minutes=3)
    assert trial.active_at is None


def test_an_invite_caps_its_open_reservations(invite):
    Invite.objects.filter(pk=invite.pk).update(max_open_reservations=5)
    statuses = bot_joins(invite, 9)
    assert statuses.count(302) == 9  # joined, but only five hold a trial
    assert Trial.objects.filter(panelist__isnull=False, response__isnull=True).count() == 5
    waiting = Panelist.objects.filter(trials__isnull=True).count()
    assert waiting == 4


def test_expired_reservations_are_released_with_a_fresh_token(invite):
    bot_joins(invite, 3)
    tokens = set(Trial.objects.filter(panelist__isnull=False).values_list("token", flat=True))
    assert reservations_release_expired(study=invite.study) == 0
    age_reservations(4 * 60)
    assert reservations_release_expired(study=invite.study) == 3
    assert not Trial.objects.filter(panelist__isnull=False).exists()
    assert tokens.isdisjoint(Trial.objects.values_list("token", flat=True))


def test_a_duplicate_answer_reserves_nothing_more(invite):
    client = listener(HUMAN_ADDRESS)
    client.post(invite.path(), PROFILE)
    trial = Trial.objects.get(panelist__isnull=False)
    download_both(client, invite, trial)
    assert post_answer(client, invite, trial).status_code == 201
    for _ in range(3):
        assert post_answer(client, invite, trial).status_code == 200
    panelist = Panelist.objects.get()
    assert Trial.objects.filter(panelist=panelist).count() == 2  # one answered, one next
    page = client.get(invite.path()).content.decode()
    assert "2 of 3" in page


def test_a_listener_with_nothing_answered_never_sees_thank_you(invite):
    client = listener(HUMAN_ADDRESS)
    client.post(invite.path(), PROFILE)
    # Every slot this listener could get is gone to others (here: none is left at all).
    Trial.objects.update(panelist=None)
    Trial.objects.all().delete()
    page = client.get(invite.path()).content.decode()
    assert "Thank you!" not in page
    assert 'id="unavailable"' in page and 'id="retry"' in page


@pytest.fixture
def checked_invite(invite):
    Study.objects.filter(pk=invite.study_id).update(headphone_check=True)
    invite.study.refresh_from_db()
    return invite


def fail_screening(client, invite) -> Panelist:
    panelist = Panelist.objects.latest("pk")
    for _ in range(invite.study.headphone_attempts):
        items = list(panelist.headphone_items.filter(answer__isnull=True))
        wrong = {f"item-{item.index}": str(item.antiphase_position) for item in items}
        client.post(reverse("listener:headphones", args=[invite.token]), wrong)
    panelist.refresh_from_db()
    assert panelist.headphone_passed is False
    return panelist


def test_bots_that_cannot_pass_screening_reserve_nothing(checked_invite):
    assert bot_joins(checked_invite, 30).count(302) == 30
    assert not Trial.objects.filter(panelist__isnull=False).exists()


def test_a_failed_screening_is_remembered_on_the_device(checked_invite):
    client = listener(HUMAN_ADDRESS)
    assert client.post(checked_invite.path(), PROFILE).status_code == 302
    failed = fail_screening(client, checked_invite)
    # A new session in the same browser (the session cookie gone, nothing else cleared).
    del client.cookies["sessionid"]
    page = client.get(checked_invite.path()).content.decode()
    assert "This study needs headphones" in page and "I agree" not in page
    # Posting the form again (the resume cookie recognises the listener) makes nothing new.
    again = client.post(checked_invite.path(), PROFILE, follow=True)
    assert "This study needs headphones" in again.content.decode()
    assert Panelist.objects.count() == 1 and Panelist.objects.get() == failed
    assert Trial.objects.filter(panelist__isnull=False).count() == 0


def test_the_screened_out_cookie_cannot_be_forged_or_moved(checked_invite, panel):
    from evaluation.services.panelists import invite_create

    client = listener(HUMAN_ADDRESS)
    client.post(checked_invite.path(), PROFILE)
    fail_screening(client, checked_invite)
    other = invite_create(study=checked_invite.study, panel=panel)
    del client.cookies["sessionid"]
    # (Without the resume cookie, which recognises this listener on every invite of the study:
    # views.session. This test is about the screened-out cookie alone.)
    del client.cookies[f"earshot_resume_{checked_invite.study_id}"]
    # Another invite's page is not affected...
    assert b"I agree" in client.get(other.path()).content
    # ...and a hand-made cookie is ignored.
    forger = listener("192.0.2.11")
    forger.cookies[f"earshot_so_{other.pk}"] = f"{other.pk}:failed"
    assert b"I agree" in forger.get(other.path()).content


def test_headphone_attempts_and_answers_are_rate_limited_per_client(checked_invite, settings):
    settings.EARSHOT_RATE_LIMITS = {**settings.EARSHOT_RATE_LIMITS, "listener:headphones": "3/m"}
    client = listener(HUMAN_ADDRESS)
    client.post(checked_invite.path(), PROFILE)
    url = reverse("listener:headphones", args=[checked_invite.token])
    statuses = [client.post(url, {"item-1": "1"}).status_code for _ in range(5)]
    assert statuses[3:] == [429, 429]


def test_the_release_command_frees_expired_reservations(invite, capsys):
    from django.core.management import call_command

    bot_joins(invite, 2)
    age_reservations(4 * 60)
    call_command("release_reservations", invite.study.slug)
    assert "Released 2 expired reservation(s)." in capsys.readouterr().out
    call_command("release_reservations")
    assert "Released 0" in capsys.readouterr().out

"""config.middleware: per-client rate limits on the listener's writes, a short idle
timeout for logged-in accounts while panelists keep long sessions, and the benchmarks'
Server-Timing header."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.models import HeadphoneItem, Panelist, Response, Study, Trial

pytestmark = pytest.mark.django_db

PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "no"}


@pytest.fixture
def limits(settings):
    """Small limits per hour (an hour's window is not crossed during a test)."""
    settings.EARSHOT_RATE_LIMITS = {
        "listener:listen": "3/h",
        "listener:headphones": "2/h",
        "listener:answer": "2/h",
    }
    return settings.EARSHOT_RATE_LIMITS


def test_a_fourth_join_from_one_address_is_refused_with_429_and_stores_nothing(invite, limits):
    statuses = [Client().post(invite.path(), PROFILE).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert Panelist.objects.count() == 3
    refused = Client().post(invite.path(), PROFILE)
    assert refused["Retry-After"] == "60"
    assert refused.content.decode() == (
        "Too many requests from your address. Wait a minute, then try again."
    )


def test_another_address_has_its_own_limit(invite, limits):
    for _ in range(3):
        Client().post(invite.path(), PROFILE)
    other = Client(REMOTE_ADDR="198.51.100.7").post(invite.path(), PROFILE)
    assert other.status_code == 302
    assert Panelist.objects.count() == 4


def test_the_proxy_header_names_the_client_when_configured(invite, limits, settings):
    settings.EARSHOT_CLIENT_IP_HEADER = "X-Real-IP"
    for _ in range(3):
        assert Client(HTTP_X_REAL_IP="203.0.113.1").post(invite.path(), PROFILE).status_code == 302
    assert Client(HTTP_X_REAL_IP="203.0.113.1").post(invite.path(), PROFILE).status_code == 429
    assert Client(HTTP_X_REAL_IP="203.0.113.2").post(invite.path(), PROFILE).status_code == 302


def test_pages_and_audio_are_never_limited(invite, limits):
    client = Client()
    assert [client.get(invite.path()).status_code for _ in range(5)] == [200] * 5


def test_headphone_attempts_are_limited_per_client(invite, limits):
    Study.objects.filter(pk=invite.study_id).update(headphone_check=True)
    client = Client()
    client.post(invite.path(), PROFILE)  # joining counts on its own limit
    url = reverse("listener:headphones", args=[invite.token])
    answered = HeadphoneItem.objects.filter(answer__isnull=False).count
    statuses = [client.post(url, {}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert answered() == 0  # an empty form answers nothing; the third never reached the view


def test_answers_are_limited_per_client(invite, limits):
    client = Client()
    client.post(invite.path(), PROFILE)
    client.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    Trial.objects.filter(pk=trial.pk).update(served_at=trial.served_at.replace(year=2020))
    url = reverse("listener:answer", args=[invite.token, trial.token])
    bad = json.dumps({"choice": "both"})
    statuses = [
        client.post(url, bad, content_type="application/json").status_code for _ in range(2)
    ]
    assert statuses == [400, 400]
    good = {
        "choice": "a",
        "liked_a": True,
        "liked_b": False,
        "guess_ai": "b",
        "listen_a_s": 2.5,
        "listen_b_s": 2.5,
    }
    third = client.post(url, json.dumps(good), content_type="application/json")
    assert third.status_code == 429
    assert Response.objects.count() == 0


def test_an_admin_session_ends_after_the_idle_timeout_and_a_panelists_lasts_weeks(
    client, admin_user, invite, settings
):
    settings.EARSHOT_ACCOUNT_SESSION_IDLE_S = 8 * 3600
    client.force_login(admin_user)
    client.get("/admin/")
    assert client.session.get_expiry_age() == 8 * 3600
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 3600

    listener = Client()
    listener.post(invite.path(), PROFILE)
    listener.get(invite.path())
    assert listener.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 30 * 24 * 3600


def test_server_timing_is_off_by_default_and_gives_app_cpu_and_database_time_when_on(
    invite, settings
):
    assert "Server-Timing" not in Client().get(invite.path())
    settings.EARSHOT_SERVER_TIMING = True
    joined = Client()
    timing = joined.post(invite.path(), PROFILE)["Server-Timing"]
    parts = {name: float(ms) for name, ms in re.findall(r"(\w+);dur=([\d.]+)", timing)}
    assert set(parts) == {"app", "cpu", "db"}, timing
    # One thread's CPU time never exceeds its wall time (1 ms for the clocks' granularity).
    assert 0 < parts["cpu"] <= parts["app"] + 1.0
    assert 0 < parts["db"] <= parts["app"] + 1.0
    # Joining reads the invite and the session and writes the panelist and their trial.
    assert int(re.search(r'db;dur=[\d.]+;desc="(\d+)"', timing).group(1)) >= 4

"""The designs of issue 12 over HTTP: the single-track and pool listener pages (blind: no
system, kind or file anywhere, the same page whatever made the track), their audio URLs,
answers with listening evidence, the A/B page's extra questions, and the API's design
endpoint (researchers only, validated, frozen once open)."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from evaluation.models import Panelist, Response, ResponseCandidate, StimulusFetch, Study, Trial

pytestmark = pytest.mark.django_db

PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "yes",
           "instrument": "cello", "years_playing": "12", "genres": "classical"}  # fmt: skip
SECRETS = ("model-x", "model-y", "human reference", "human b", ".wav", ".flac", "stimuli/",
           "tracks/", "system", "Stimulus")  # fmt: skip


def joined(client, invite):
    assert client.post(invite.path(), PROFILE).status_code == 302
    panelist = Panelist.objects.latest("pk")
    return Trial.objects.get(panelist=panelist, response__isnull=True)


def audio_url(invite, trial, side):
    return reverse("listener:audio", args=[invite.token, trial.token, side])


def fetched_a_minute_ago(client, invite, trial, sides):
    for side in sides:
        assert client.get(audio_url(invite, trial, side)).status_code == 200
    minute = timedelta(minutes=1)
    trial.refresh_from_db()
    Trial.objects.filter(pk=trial.pk).update(served_at=trial.served_at - minute)
    StimulusFetch.objects.filter(trial=trial).update(first_at=trial.served_at - minute)


def heard_each(sides, seconds=1.5, loop_s=3.0) -> dict:
    """A log: each side played in turn from 0 for `seconds`."""
    events, t = [], 1000.0
    for index, side in enumerate(sides):
        kind = "play" if index == 0 else "switch"
        events.append({"t": t, "type": kind, "side": side, "pos": 0.0})
        t += 1000 * seconds
        events.append({"t": t, "type": "seek", "side": side, "pos": 0.0})
    events.append({"t": t, "type": "submit", "side": sides[-1], "pos": 0.0})
    return {"loop_s": loop_s, "events": events}


def post(client, invite, trial, body):
    url = reverse("listener:answer", args=[invite.token, trial.token])
    return client.post(url, json.dumps(body), content_type="application/json")


def blind(html: str, trial: Trial) -> str:
    """The page with its per-trial tokens and per-panelist resume code blanked, so two
    trials' pages can be compared."""
    html = html.replace(trial.token, "TOKEN")
    # Per-request values: the CSRF token and the CSP nonce; per-panelist: the resume code.
    html = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1CSRF", html)
    html = re.sub(r"\b[2-9A-Z]{4}(?:-[2-9A-Z]{4}){3}\b", "CODE", html)
    html = re.sub(r"/r/[2-9A-Z]{16}\b", "/r/CODE", html)
    return re.sub(r'nonce="[^"]+"', 'nonce="N"', html)


SINGLE = {"design": "single", "aspects": {"melody": "rating"}, "ask_weaker": True,
          "ask_familiar": True, "ask_hit": True}  # fmt: skip


def test_the_single_page_names_no_system_and_is_the_same_for_human_and_ai(
    client, design_study, django_user_model
):
    from django.test import Client

    study, invite = design_study(**SINGLE)
    pages = {}
    for _ in range(8):
        browser = Client()
        trial = joined(browser, invite)
        html = browser.get(invite.path()).content.decode()
        assert 'data-kind="single"' in html and "How much do you like it?" in html
        assert "Was it made by a human or by AI?" in html and "Do you know this piece?" in html
        for secret in SECRETS:
            assert secret not in html, secret
        assert len(re.findall(r"/t/[\w-]+/[a-j]\b", html)) == 1
        pages.setdefault(trial.stimulus_at("a").track.system.kind, set()).add(blind(html, trial))
    assert set(pages) == {"human", "ai"}
    import difflib

    first, second = sorted(pages["human"])[0], sorted(pages["ai"])[0]
    diff = [line for line in difflib.unified_diff(first.splitlines(), second.splitlines())]
    assert pages["human"] == pages["ai"] and len(pages["human"]) == 1, "\n".join(diff[:20])


def test_a_single_trial_serves_side_a_only_and_stores_a_heard_answer(client, design_study):
    study, invite = design_study(**SINGLE)
    trial = joined(client, invite)
    assert client.get(audio_url(invite, trial, "b")).status_code == 404
    fetched_a_minute_ago(client, invite, trial, "a")
    body = {"listen_a_s": 1.5, "listen_b_s": 0, "rating_a": 5, "guess_kind": "human",
            "guess_confidence": 85, "familiar": "knows_it", "playlist_a": True,
            "release_a": True, "aspects": {"melody": {"a": 4}}, "weaker_a": ["melody"],
            "listening": heard_each("a")}  # fmt: skip
    refused = post(client, invite, trial, {**body, "guess_confidence": 101})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_confidence"
    refused = post(client, invite, trial, {**body, "rating_a": "5"})
    assert refused.status_code == 400 and "whole number" in refused.json()["detail"]
    assert not Response.objects.exists()
    stored = post(client, invite, trial, body)
    assert stored.status_code == 201, stored.json()
    response = Response.objects.get()
    assert (response.trial_kind, response.guess_kind, response.guess_confidence) == (
        "single",
        "human",
        85,
    )
    assert (response.familiar, response.weaker_a, response.listen_a_s) == (
        "knows_it",
        "melody",
        1.5,
    )
    assert response.evidence.heard_a_s == 1.5


def test_the_pool_page_shows_n_numbered_tracks_and_stores_a_ranking(client, design_study):
    study, invite = design_study("pool", pool_size=3, pool_rank_top3=True, ask_familiar=True)
    trial = joined(client, invite)
    html = client.get(invite.path()).content.decode()
    assert 'data-kind="pool"' in html and "Which one is your favourite?" in html
    for secret in SECRETS:
        assert secret not in html, secret
    urls = re.search(r'data-urls="([^"]+)"', html).group(1).split(",")
    assert [url.rsplit("/", 1)[1] for url in urls] == ["a", "b", "c"]
    assert client.get(audio_url(invite, trial, "d")).status_code == 404
    fetched_a_minute_ago(client, invite, trial, "abc")
    body = {"listen_a_s": 0, "listen_b_s": 0, "ranking": [3, 1], "familiar": "no",
            "listen_pool_s": [1.5, 1.5, 1.5], "listening": heard_each("abc")}  # fmt: skip
    short = post(client, invite, trial, {**body, "listening": heard_each("ab")})
    assert short.status_code == 400 and "candidate 3" in short.json()["detail"]
    stored = post(client, invite, trial, body)
    assert stored.status_code == 201, stored.json()
    ranks = list(ResponseCandidate.objects.values_list("position", "pick_rank"))
    assert ranks == [(1, 2), (2, None), (3, 1)]


@pytest.mark.parametrize("design, options", [("single", {}), ("pool", {"pool_size": 3})])
def test_the_single_and_pool_pages_reserve_nothing_ahead_and_cache_their_audio_privately(
    client, design_study, design, options
):
    """Prefetching the next trial is the A/B page's (static/earshot/listener.js); these pages
    have their own player and load only their own audio, from the private HTTP cache."""
    study, invite = design_study(design, **options)
    trial = joined(client, invite)
    html = client.get(invite.path()).content.decode()
    assert "data-ahead" not in html and "listener.js" not in html and "pool.js" in html
    reply = client.post(reverse("listener:ahead", args=[invite.token, trial.token]))
    assert reply.json() == {"audio": []}
    assert Trial.objects.filter(panelist=trial.panelist, response__isnull=True).count() == 1
    audio = client.get(audio_url(invite, trial, "a"))
    assert audio["Cache-Control"].startswith("private, max-age=")
    assert "immutable" in audio["Cache-Control"]


def test_the_ab_page_asks_the_studys_extra_questions_and_stores_them(client, design_study):
    settings = {"aspects": {"lyrics": "preference", "emotion": "rating"}, "ask_hit": True,
                "ask_familiar": True, "ask_weaker": True}  # fmt: skip
    study, invite = design_study("ab", **settings)
    trial = joined(client, invite)
    html = client.get(invite.path()).content.decode()
    for words in ("Which is better on Lyrics?", "Would you add it to a playlist?",
                  "Would you release it?", 'name="score_emotion_b"', "Do you know this piece?",
                  'name="weaker_a"', "questions.js"):  # fmt: skip
        assert words in html, words
    fetched_a_minute_ago(client, invite, trial, "ab")
    body = {"choice": "b", "liked_a": False, "liked_b": True, "guess_ai": "unsure",
            "listen_a_s": 1.5, "listen_b_s": 1.5, "familiar": "sounds_familiar",
            "playlist_a": False, "playlist_b": True, "release_a": False, "release_b": False,
            "aspects": {"lyrics": {"choice": "b"}, "emotion": {"a": 2, "b": 4}},
            "weaker_b": ["lyrics"],
            "listening": {"loop_s": 3.0, "events": [
                {"t": 1000, "type": "play", "side": "a", "pos": 0.0},
                {"t": 2500, "type": "seek", "side": "a", "pos": 0.0},
                {"t": 2500, "type": "switch", "side": "b", "pos": 0.0},
                {"t": 4000, "type": "submit", "side": "b", "pos": 1.5}]}}  # fmt: skip
    stored = post(client, invite, trial, body)
    assert stored.status_code == 201, stored.json()
    response = Response.objects.get()
    assert (response.weaker_b, response.playlist_b, response.aspects["emotion"]) == (
        "lyrics",
        True,
        {"a": 2, "b": 4},
    )


def test_the_design_api_is_for_researchers_validated_and_frozen_once_open(
    client, researcher, outsider, prepared_study
):
    draft = Study.objects.create(slug="draft", title="Draft")
    url = "/api/studies/draft/design/"
    client.force_login(outsider)
    assert client.patch(url, {"design": "single"}, content_type="application/json").status_code in (
        401,
        403,
    )
    client.force_login(researcher)
    bad = client.patch(
        url, {"design": "single", "aspects": {"melody": "preference"}}, "application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_design"
    assert "needs two tracks" in bad.json()["detail"]
    unknown = client.patch(url, {"seed": 4}, content_type="application/json")
    assert unknown.status_code == 400 and "seed" in unknown.json()
    small = client.patch(url, {"pool_size": 2}, content_type="application/json")
    assert small.status_code == 400 and "pool_size" in small.json()
    good = client.patch(
        url,
        {"design": "single", "aspects": {"emotion": "rating"}, "ask_familiar": True},
        content_type="application/json",
    )
    assert good.status_code == 200
    body = good.json()
    assert (body["design"], body["aspects"], body["ask_familiar"]) == (
        "single",
        {"emotion": "rating"},
        True,
    )
    draft.refresh_from_db()
    assert draft.design == "single"
    frozen = client.patch(
        "/api/studies/pilot/design/", {"ask_hit": True}, content_type="application/json"
    )
    assert frozen.status_code == 409 and frozen.json()["error"] == "study_frozen"


def admin_study_data(client, **changes) -> dict:
    from django.urls import reverse

    form = client.get(reverse("admin:evaluation_study_add")).context["adminform"].form
    data = {
        name: field.initial
        for name, field in form.fields.items()
        if field.initial not in (None, False, {}) and not callable(field.initial)
    }
    data.update({"slug": "made-in-admin", "title": "Made in admin", "seed": "0",
                 "catch_rate": "0", "aspects": "{}", "invites-TOTAL_FORMS": "0",
                 "invites-INITIAL_FORMS": "0", "jobs-TOTAL_FORMS": "0",
                 "jobs-INITIAL_FORMS": "0"})  # fmt: skip
    data.update(changes)
    return data


def test_the_admin_sets_a_design_and_shows_why_a_bad_one_is_refused(client, researcher):
    from django.urls import reverse

    client.force_login(researcher)
    add = reverse("admin:evaluation_study_add")
    bad = client.post(add, admin_study_data(client, design="pool", aspects='{"melody": "rating"}'))
    assert bad.status_code == 200
    assert "the pool design asks no aspects" in bad.content.decode()
    assert not Study.objects.filter(slug="made-in-admin").exists()
    good = client.post(
        add,
        admin_study_data(
            client,
            design="single",
            aspects='{"lyrics": "rating", "vocals": "rating"}',
            ask_weaker="on",
            ask_familiar="on",
        ),
    )
    assert good.status_code == 302, good.context["adminform"].form.errors
    study = Study.objects.get(slug="made-in-admin")
    assert (study.design, study.aspect_names(), study.ask_weaker) == (
        "single",
        ["lyrics", "vocals"],
        True,
    )


def test_an_opened_studys_design_is_read_only_in_the_admin(client, admin_user, prepared_study):
    from django.urls import reverse

    client.force_login(admin_user)
    page = client.get(reverse("admin:evaluation_study_change", args=[prepared_study.pk]))
    form = page.context["adminform"].form
    for name in Study.DESIGN_FIELDS:
        assert name not in form.fields, name


def test_the_admin_shows_a_pool_trials_and_answers_candidates(client, admin_user, design_study):
    from django.core.management import call_command
    from django.urls import reverse

    study, _ = design_study("pool", pool_size=3, pool_rank_top3=True)
    call_command("simulate_panel", study.slug, "--panelists", "1", "--seed", "1")
    response = Response.objects.first()
    client.force_login(admin_user)
    trial_page = client.get(reverse("admin:evaluation_trial_change", args=[response.trial_id]))
    answer_page = client.get(reverse("admin:evaluation_response_change", args=[response.pk]))
    assert trial_page.status_code == answer_page.status_code == 200
    assert trial_page.content.decode().count("field-stimulus") >= 3
    html = answer_page.content.decode()
    assert html.count("field-pick_rank") >= 3
    systems = ResponseCandidate.objects.filter(response=response).values_list("system", flat=True)
    assert all(system in html for system in systems)

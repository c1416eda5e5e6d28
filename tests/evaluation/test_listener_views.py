"""The panelist's pages over HTTP: consent, trial page, audio, answers, resume, blinding."""

import json

import pytest
from django.urls import reverse

from evaluation.models import Panelist, Response, StimulusFetch, Trial

pytestmark = pytest.mark.django_db

PROFILE = {
    "consent": "on",
    "expertise": "professional",
    "plays_instrument": "yes",
    "instrument": "cello",
    "years_playing": "12",
    "genres": "classical, jazz",
}


@pytest.fixture
def joined(client, invite):
    response = client.post(invite.path(), PROFILE)
    assert response.status_code == 302
    return client


def test_the_invite_page_asks_for_consent_and_a_profile(client, invite):
    page = client.get(invite.path())
    assert page.status_code == 200
    assert b"I agree to take part" in page.content
    assert b"csrfmiddlewaretoken" in page.content


def test_joining_without_consent_is_refused_with_the_form_again(client, invite):
    page = client.post(invite.path(), {**PROFILE, "consent": ""})
    assert page.status_code == 200
    assert b"This field is required" in page.content
    assert Panelist.objects.count() == 0


def test_joining_stores_a_pseudonymous_profile(joined):
    panelist = Panelist.objects.get()
    assert panelist.pseudonym.startswith("P-")
    assert (panelist.expertise, panelist.instrument, panelist.years_playing) == (
        "professional",
        "cello",
        12,
    )
    assert panelist.planned_trials == 3


def test_the_trial_page_reveals_no_system_track_or_file(joined, invite):
    page = joined.get(invite.path())
    html = page.content.decode()
    assert "1 of 3" in html
    for secret in ("model-x", "human reference", "human", ".wav", ".flac", "stimuli/", "tracks/"):
        assert secret not in html
    trial = Trial.objects.get(panelist__isnull=False)
    assert trial.token in html
    assert page["Cache-Control"].startswith("max-age=0")


def audio_urls(client, invite):
    client.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    return [reverse("listener:audio", args=[invite.token, trial.token, side]) for side in "ab"]


def test_audio_for_a_and_b_has_identical_headers_and_bodies_of_equal_size(joined, invite):
    responses = [joined.get(url) for url in audio_urls(joined, invite)]
    assert [r.status_code for r in responses] == [200, 200]
    assert dict(responses[0].headers) == dict(responses[1].headers)
    size = len(responses[0].content)
    for response in responses:
        assert response["Content-Type"] == "audio/flac"
        assert response["Content-Length"] == str(size)
        assert response["Accept-Ranges"] == "bytes"
        assert "Content-Disposition" not in response
        assert "ETag" not in response and "Last-Modified" not in response
        # Kept privately by the browser: a reload of the trial does not download it again.
        assert response["Cache-Control"] == "private, max-age=86400, immutable"
        assert response.content[:4] == b"fLaC"


def test_a_range_request_gets_a_206_with_the_exact_bytes_for_a_and_b_alike(joined, invite):
    urls = audio_urls(joined, invite)
    whole = joined.get(urls[0]).content
    partials = [joined.get(url, HTTP_RANGE="bytes=100-199") for url in urls]
    assert [p.status_code for p in partials] == [206, 206]
    assert dict(partials[0].headers) == dict(partials[1].headers)
    assert partials[0]["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert partials[0]["Content-Length"] == "100"
    assert partials[0].content == whole[100:200]
    tail = joined.get(urls[0], HTTP_RANGE="bytes=-10")
    assert (tail.status_code, tail.content) == (206, whole[-10:])
    assert tail["Content-Range"] == f"bytes {len(whole) - 10}-{len(whole) - 1}/{len(whole)}"


def test_an_unsatisfiable_range_gets_a_416(joined, invite):
    url = audio_urls(joined, invite)[1]
    size = len(joined.get(url).content)
    refused = joined.get(url, HTTP_RANGE=f"bytes={size}-")
    assert (refused.status_code, refused["Content-Range"]) == (416, f"bytes */{size}")


def test_another_browser_cannot_fetch_a_panelists_audio(joined, invite):
    from django.test import Client

    url = audio_urls(joined, invite)[0]
    assert Client().get(url).status_code == 404


def test_another_panelist_cannot_fetch_a_trial_that_is_not_theirs(joined, invite):
    from django.test import Client

    url = audio_urls(joined, invite)[0]
    other = Client()
    assert other.post(invite.path(), PROFILE).status_code == 302
    other.get(invite.path())
    assert Trial.objects.filter(panelist__isnull=False).count() == 2
    assert other.get(url).status_code == 404
    assert joined.get(url).status_code == 200


def heard_both(seconds: float) -> dict:
    """A page's log: A played from 0 for `seconds`, then B over the same passage."""
    return {
        "loop_s": 3.0,
        "events": [
            {"t": 1000, "type": "play", "side": "a", "pos": 0.0},
            {"t": 1000 + 1000 * seconds, "type": "seek", "side": "a", "pos": 0.0},
            {"t": 1000 + 1000 * seconds, "type": "switch", "side": "b", "pos": 0.0},
            {"t": 1000 + 2000 * seconds, "type": "submit", "side": "b", "pos": seconds},
        ],
    }


def download_both(client, invite, trial):
    """Fetch A and B as the page does, then date the trial and the downloads a minute back
    (as if the listener had spent that minute listening)."""
    from datetime import timedelta

    for url in [reverse("listener:audio", args=[invite.token, trial.token, s]) for s in "ab"]:
        assert client.get(url).status_code == 200
    minute = timedelta(minutes=1)
    Trial.objects.filter(pk=trial.pk).update(served_at=trial.served_at - minute)
    StimulusFetch.objects.filter(trial=trial).update(first_at=trial.served_at - minute)


def post_answer(client, invite, trial, listening=None, **changes):
    body = {
        "choice": "a",
        "liked_a": True,
        "liked_b": False,
        "guess_ai": "b",
        "listen_a_s": 2.5,
        "listen_b_s": 2.5,
        "listening": heard_both(2.5) if listening is None else listening,
    }
    body.update(changes)
    url = reverse("listener:answer", args=[invite.token, trial.token])
    return client.post(url, json.dumps(body), content_type="application/json")


def test_an_answer_is_stored_and_the_next_trial_follows(joined, invite):
    joined.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    download_both(joined, invite, trial)
    response = post_answer(joined, invite, trial)
    assert response.status_code == 201
    assert response.json() == {"stored": True, "created": True, "next": invite.path()}
    assert "2 of 3" in joined.get(invite.path()).content.decode()
    stored = Response.objects.get()
    assert (stored.listen_a_s, stored.listen_b_s) == (2.5, 2.5)
    assert (stored.evidence.heard_overlap_s, stored.evidence.switches) == (2.5, 1)
    assert stored.evidence.audio_fetched == 1.0


def test_an_answer_whose_audio_was_never_downloaded_is_refused(joined, invite):
    joined.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    Trial.objects.filter(pk=trial.pk).update(served_at=trial.served_at.replace(year=2020))
    response = post_answer(joined, invite, trial)
    assert response.status_code == 400
    assert response.json() == {
        "error": "audio_not_fetched",
        "detail": "the audio of A and B was never downloaded for this trial, so it cannot have "
        "been heard; reload the page, listen to both, then answer",
    }
    assert Response.objects.count() == 0


def test_a_too_short_listen_gets_a_clear_400(joined, invite):
    joined.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    download_both(joined, invite, trial)
    response = post_answer(joined, invite, trial, listening=heard_both(0.3))
    assert response.status_code == 400
    assert response.json() == {
        "error": "too_short_listening",
        "detail": "listen to the same passage on both A and B for at least 2 s before "
        "answering (heard on both so far: 0.3 s)",
    }
    assert Response.objects.count() == 0


def test_an_oversized_answer_is_refused_before_it_is_read(joined, invite):
    joined.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    download_both(joined, invite, trial)
    response = post_answer(joined, invite, trial, padding="x" * (1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_listening_log"
    assert Response.objects.count() == 0


def test_an_unknown_choice_and_bad_json_get_a_clear_400(joined, invite):
    joined.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    download_both(joined, invite, trial)
    assert post_answer(joined, invite, trial, choice="both").json()["error"] == "invalid_choice"
    url = reverse("listener:answer", args=[invite.token, trial.token])
    bad = joined.post(url, "{not json", content_type="application/json")
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_json")


def test_serving_audio_records_the_bytes_served_and_nothing_for_head(joined, invite):
    urls = audio_urls(joined, invite)
    trial = Trial.objects.get(panelist__isnull=False)
    joined.head(urls[0])
    assert StimulusFetch.objects.count() == 0
    joined.get(urls[1], HTTP_RANGE="bytes=100-199")
    joined.get(urls[1], HTTP_RANGE="bytes=200-299")
    size = len(joined.get(urls[0]).content)
    rows = StimulusFetch.objects.order_by("side").values_list(
        "trial", "panelist__pseudonym", "side", "first_byte", "last_byte"
    )
    pseudonym = trial.panelist.pseudonym
    assert list(rows) == [
        (trial.pk, pseudonym, "a", 0, size - 1),
        (trial.pk, pseudonym, "b", 100, 299),
    ]


def test_answers_need_the_csrf_token(invite):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    page = strict.get(invite.path())
    token = page.cookies["csrftoken"].value
    strict.post(invite.path(), {**PROFILE, "csrfmiddlewaretoken": token})
    strict.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    assert post_answer(strict, invite, trial).status_code == 403


def test_a_returning_panelist_resumes_where_they_left(joined, invite):
    first = joined.get(invite.path()).content.decode()
    again = joined.get(invite.path()).content.decode()
    token = Trial.objects.get(panelist__isnull=False).token
    assert token in first and token in again
    assert Panelist.objects.count() == 1


def test_a_single_use_invite_admits_one_listener(client, prepared_study, panel):
    from django.test import Client

    from evaluation.services.panelists import invite_create

    single = invite_create(study=prepared_study, panel=panel, max_uses=1)
    assert client.post(single.path(), PROFILE).status_code == 302
    other = Client()
    refused = other.get(single.path())
    # Not a dead end: the page says why and offers resuming with a code (tests/test_resume.py).
    assert refused.status_code == 200
    assert b"already been used" in refused.content
    assert b'name="code"' in refused.content
    assert other.post(single.path(), PROFILE).status_code == 200
    assert Panelist.objects.count() == 1


def test_a_draft_study_is_not_open_for_listening(client, invite):
    invite.study.status = "draft"
    invite.study.save()
    page = client.get(invite.path())
    assert page.status_code == 403
    assert b"not open for listening" in page.content


def test_finishing_shows_the_thank_you_page(joined, invite):

    for _ in range(3):
        joined.get(invite.path())
        trial = Trial.objects.get(panelist__isnull=False, response__isnull=True)
        download_both(joined, invite, trial)
        assert post_answer(joined, invite, trial).status_code == 201
    page = joined.get(invite.path())
    assert b"Thank you" in page.content
    assert Response.objects.count() == 3


def trial_rows():
    return list(
        Trial.objects.order_by("pk").values_list(
            "pk", "panelist", "token", "reserved_until", "served_at"
        )
    )


def test_opening_the_trial_page_changes_nothing(joined, invite):
    before = trial_rows()
    for _ in range(3):
        assert joined.get(invite.path()).status_code == 200
    assert trial_rows() == before


def test_a_listener_without_a_reserved_trial_gets_a_continue_button_that_posts(joined, invite):
    Trial.objects.filter(panelist__isnull=False).update(panelist=None, reserved_until=None)
    before = trial_rows()
    page = joined.get(invite.path())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'method="post"' in html and 'id="continue"' in html and "csrfmiddlewaretoken" in html
    assert trial_rows() == before  # showing the button reserved nothing
    assert joined.post(invite.path()).status_code == 302
    assert Trial.objects.filter(panelist__isnull=False, served_at__isnull=False).count() == 1
    assert "1 of 3" in joined.get(invite.path()).content.decode()


def test_when_the_study_closes_a_waiting_listener_is_told_so_without_thanks_for_nothing(
    joined, invite
):
    Trial.objects.filter(panelist__isnull=False).update(panelist=None, reserved_until=None)
    invite.study.status = "closed"
    invite.study.save()
    page = joined.get(invite.path())
    assert b"This study has closed" in page.content and b"Thank you" not in page.content


def test_closed_means_closed_for_a_trial_reserved_before_closing(joined, invite):
    from evaluation.models import Response
    from evaluation.services.studies import study_close

    joined.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    Trial.objects.filter(pk=trial.pk).update(served_at=trial.served_at.replace(year=2020))
    study = study_close(study=invite.study)
    response = post_answer(joined, invite, trial)
    assert response.status_code == 409
    assert response.json() == {
        "error": "study_closed",
        "detail": (
            f"this study closed on {study.closed_at:%Y-%m-%d at %H:%M} UTC and no longer "
            f"accepts answers; nothing was stored. Thank you for listening"
        ),
    }
    assert Response.objects.count() == 0
    page = joined.get(invite.path())
    assert page.status_code == 200
    # Nothing answered: told it closed, not thanked.
    assert "This study has closed; no more answers" in page.content.decode()
    assert trial.token not in page.content.decode()  # no player, no audio URL
    assert joined.post(invite.path()).status_code == 409


def ahead_url(invite, trial):
    return reverse("listener:ahead", args=[invite.token, trial.token])


def test_the_next_trial_is_reserved_ahead_and_its_prefetched_audio_counts(joined, invite):
    from datetime import timedelta

    joined.get(invite.path())
    first = Trial.objects.get(panelist__isnull=False)
    page = joined.get(invite.path()).content.decode()
    assert f'data-ahead="{ahead_url(invite, first)}"' in page
    reply = joined.post(ahead_url(invite, first))
    assert reply.status_code == 200 and reply["Cache-Control"].startswith("max-age=0")
    urls = reply.json()["audio"]
    second = Trial.objects.get(panelist__isnull=False, position=2)
    assert urls == [reverse("listener:audio", args=[invite.token, second.token, s]) for s in "ab"]
    # Opaque URLs only, and the same ones again (idempotent): nothing new is reserved.
    assert joined.post(ahead_url(invite, first)).json()["audio"] == urls
    assert Trial.objects.filter(panelist__isnull=False).count() == 2
    assert first.token in joined.get(invite.path()).content.decode()  # still trial 1
    # The page downloads the next trial's audio while trial 1 is answered ...
    for url in urls:
        assert joined.get(url).status_code == 200
    download_both(joined, invite, first)
    assert post_answer(joined, invite, first).status_code == 201
    # ... shows it next, and its answer is accepted without downloading it again.
    assert second.token in joined.get(invite.path()).content.decode()
    minute = timedelta(minutes=1)
    second.refresh_from_db()
    Trial.objects.filter(pk=second.pk).update(served_at=second.served_at - minute)
    StimulusFetch.objects.filter(trial=second).update(first_at=second.served_at - minute)
    fetched = StimulusFetch.objects.filter(trial=second).count()
    assert post_answer(joined, invite, second).status_code == 201
    assert StimulusFetch.objects.filter(trial=second).count() == fetched


def test_nothing_is_reserved_ahead_of_the_last_trial_or_with_prefetch_off(joined, invite, settings):
    for _ in range(2):
        joined.get(invite.path())
        trial = Trial.objects.get(panelist__isnull=False, response__isnull=True)
        download_both(joined, invite, trial)
        assert post_answer(joined, invite, trial).status_code == 201
    last = Trial.objects.get(panelist__isnull=False, response__isnull=True)
    assert last.position == 3
    assert joined.post(ahead_url(invite, last)).json() == {"audio": []}
    settings.EARSHOT = {**settings.EARSHOT, "LISTENER_PREFETCH": False}
    assert 'data-ahead=""' in joined.get(invite.path()).content.decode()
    assert joined.post(ahead_url(invite, last)).json() == {"audio": []}
    assert Trial.objects.filter(panelist__isnull=False).count() == 3


def test_only_the_panelist_may_reserve_ahead_of_their_trial_and_only_by_post(joined, invite):
    from django.test import Client

    joined.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    assert joined.get(ahead_url(invite, trial)).status_code == 405
    other = Client()
    other.post(invite.path(), PROFILE)
    assert other.post(ahead_url(invite, trial)).status_code == 404
    assert Trial.objects.filter(position=2).count() == 0

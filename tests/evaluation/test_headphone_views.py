"""The headphone check over HTTP: GET changes nothing, answers only on POST with CSRF, the
page and the audio reveal nothing about the answers, and the outcome decides the trials."""

import io
import re

import numpy as np
import pytest
import soundfile
from django.test import Client
from django.urls import reverse

from evaluation.models import HeadphoneItem, Panelist, Study, Trial
from evaluation.stimuli.headphones import item_flac_size, tone_spans

pytestmark = pytest.mark.django_db

PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "no"}


@pytest.fixture
def checked_invite(invite):
    Study.objects.filter(pk=invite.study_id).update(headphone_check=True)
    invite.study.refresh_from_db()
    return invite


def join(client, invite) -> Panelist:
    assert client.post(invite.path(), PROFILE).status_code == 302
    return Panelist.objects.latest("created_at")


@pytest.fixture
def joined(client, checked_invite):
    join(client, checked_invite)
    return client


def items_of(panelist) -> list[HeadphoneItem]:
    return list(panelist.headphone_items.filter(answer__isnull=True).order_by("index"))


def form(items, correct: int) -> dict[str, str]:
    return {
        f"item-{item.index}": str(item.quiet_position if n < correct else item.antiphase_position)
        for n, item in enumerate(items)
    }


def post_answers(client, invite, answers):
    return client.post(reverse("listener:headphones", args=[invite.token]), answers)


def snapshot():
    return (
        list(HeadphoneItem.objects.values_list("token", "attempt", "answer").order_by("pk")),
        list(Panelist.objects.values_list("headphone_passed", "headphone_attempts_made")),
        list(Trial.objects.filter(panelist__isnull=False).values_list("pk", "reserved_until")),
    )


def test_joining_shows_the_check_and_reserves_no_trial(joined, checked_invite):
    page = joined.get(checked_invite.path())
    html = page.content.decode()
    assert page.status_code == 200
    assert "Please put on your headphones" in html
    assert "Which tone is the quietest?" in html
    assert html.count('class="play hp-play"') == 6
    assert 'action="' + reverse("listener:headphones", args=[checked_invite.token]) in html
    assert "csrfmiddlewaretoken" in html
    assert Trial.objects.filter(panelist__isnull=False).count() == 0


def test_get_changes_nothing(joined, checked_invite):
    before = snapshot()
    for _ in range(3):
        joined.get(checked_invite.path())
    item = HeadphoneItem.objects.first()
    joined.get(reverse("listener:headphones-audio", args=[checked_invite.token, item.token]))
    assert snapshot() == before
    assert joined.get(reverse("listener:headphones", args=[checked_invite.token])).status_code == (
        405
    )


def blank(html: str, tokens) -> str:
    """The page with what legitimately differs between two listeners blanked: item tokens,
    the CSRF token and the listener's resume code (shown and in the resume link)."""
    for token in tokens:
        html = html.replace(token, "TOKEN")
    html = re.sub(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", "CODE", html)
    html = re.sub(r"/r/[0-9A-Z]{16}\b", "/r/CODE", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)


def test_the_page_is_the_same_for_listeners_with_different_answers(checked_invite):
    """Two listeners whose items have different quiet tones get byte-identical pages once
    the opaque tokens are blanked: nothing in the HTML can carry the answers."""
    pages, answers = [], []
    for _ in range(2):
        client = Client()
        panelist = join(client, checked_invite)
        html = client.get(checked_invite.path()).content.decode()
        items = items_of(panelist)
        pages.append(blank(html, [item.token for item in items]))
        answers.append([item.quiet_position for item in items])
    assert answers[0] != answers[1]
    assert pages[0] == pages[1]
    for word in ("quiet_position", "antiphase", "data-answer", "correct"):
        assert word not in pages[0]


def fetch_items(client, invite, panelist):
    responses = []
    for item in items_of(panelist):
        url = reverse("listener:headphones-audio", args=[invite.token, item.token])
        assert url == f"/p/{invite.token}/h/{item.token}"  # nothing in the URL but the token
        responses.append((item, client.get(url)))
    return responses


def test_the_audio_headers_are_identical_and_the_sound_matches_the_stored_answer(
    joined, checked_invite
):
    panelist = Panelist.objects.get()
    responses = fetch_items(joined, checked_invite, panelist)
    assert {r.status_code for _, r in responses} == {200}
    # Every header is the same for all six sounds, Content-Length included (padded FLAC).
    headers = {tuple(sorted(r.headers.items())) for _, r in responses}
    assert len(headers) == 1
    first = responses[0][1]
    assert first["Content-Type"] == "audio/flac"
    assert (
        first["Content-Length"] == str(item_flac_size()) and int(first["Content-Length"]) < 40_000
    )
    # Kept by the browser (a reload does not download the check again), never by a proxy.
    assert first["Cache-Control"] == "private, max-age=86400, immutable"
    assert "Content-Disposition" not in first and "ETag" not in first and "Expires" not in first
    for item, response in responses:
        samples, _ = soundfile.read(io.BytesIO(response.content))
        tones = [samples[start:end] for start, end in tone_spans()]
        levels = [np.sqrt(np.mean(tone[:, 0] ** 2)) for tone in tones]
        assert int(np.argmin(levels)) + 1 == item.quiet_position
        cancels = [np.abs(tone.sum(axis=1)).max() == 0 for tone in tones]
        assert cancels.index(True) + 1 == item.antiphase_position


def test_a_range_request_on_a_check_sound_gets_the_exact_bytes(joined, checked_invite):
    item = HeadphoneItem.objects.first()
    url = reverse("listener:headphones-audio", args=[checked_invite.token, item.token])
    whole = joined.get(url).content
    part = joined.get(url, HTTP_RANGE="bytes=44-143")
    assert (part.status_code, part.content) == (206, whole[44:144])
    assert part["Content-Range"] == f"bytes 44-143/{len(whole)}"


def test_another_listener_cannot_fetch_someone_elses_check_sound(joined, checked_invite):
    item = HeadphoneItem.objects.first()
    url = reverse("listener:headphones-audio", args=[checked_invite.token, item.token])
    assert Client().get(url).status_code == 404
    other = Client()
    join(other, checked_invite)
    assert other.get(url).status_code == 404


def test_answers_need_the_csrf_token(checked_invite):
    strict = Client(enforce_csrf_checks=True)
    csrf = strict.get(checked_invite.path()).cookies["csrftoken"].value
    strict.post(checked_invite.path(), {**PROFILE, "csrfmiddlewaretoken": csrf})
    panelist = Panelist.objects.get()
    answers = form(items_of(panelist), 6)
    assert post_answers(strict, checked_invite, answers).status_code == 403
    panelist.refresh_from_db()
    assert panelist.headphone_passed is None
    accepted = post_answers(strict, checked_invite, {**answers, "csrfmiddlewaretoken": csrf})
    assert accepted.status_code == 302
    panelist.refresh_from_db()
    assert panelist.headphone_passed is True


def test_a_passing_listener_gets_their_first_trial(joined, checked_invite):
    panelist = Panelist.objects.get()
    response = post_answers(joined, checked_invite, form(items_of(panelist), 5))
    assert (response.status_code, response["Location"]) == (302, checked_invite.path())
    panelist.refresh_from_db()
    assert (panelist.headphone_passed, panelist.headphone_correct) == (True, 5)
    assert Trial.objects.filter(panelist=panelist).count() == 1
    assert "Question <strong>1</strong> of 3" in joined.get(checked_invite.path()).content.decode()


def test_a_listener_who_misses_once_gets_a_second_try_with_their_score(joined, checked_invite):
    panelist = Panelist.objects.get()
    post_answers(joined, checked_invite, form(items_of(panelist), 3))
    html = joined.get(checked_invite.path()).content.decode()
    assert "You picked the quietest tone in 3 of 6 sounds" in html
    assert "attempt 2 of 2" in html
    assert [item.attempt for item in items_of(panelist)] == [2] * 6
    assert Trial.objects.filter(panelist=panelist).count() == 0


def test_a_listener_who_fails_every_attempt_gets_a_polite_message_and_no_trial(
    joined, checked_invite
):
    panelist = Panelist.objects.get()
    for correct in (4, 2):
        post_answers(joined, checked_invite, form(items_of(panelist), correct))
    page = joined.get(checked_invite.path())
    html = page.content.decode()
    assert page.status_code == 200
    assert "Thank you for your time. This study needs headphones" in html
    assert joined.post(checked_invite.path()).status_code == 302  # "continue" does nothing
    assert "Thank you for your time" in joined.get(checked_invite.path()).content.decode()
    panelist.refresh_from_db()
    assert (panelist.headphone_passed, panelist.headphone_attempts_made) == (False, 2)
    assert Trial.objects.filter(panelist=panelist).count() == 0
    assert HeadphoneItem.objects.filter(panelist=panelist).count() == 12


def test_an_incomplete_form_is_shown_again_with_the_reason(joined, checked_invite):
    panelist = Panelist.objects.get()
    answers = form(items_of(panelist), 6)
    del answers["item-2"]
    page = post_answers(joined, checked_invite, answers)
    assert page.status_code == 400
    assert "which tone was quietest is missing for sound 2" in page.content.decode()
    assert post_answers(joined, checked_invite, {**answers, "item-2": "x"}).status_code == 400
    panelist.refresh_from_db()
    assert panelist.headphone_attempts_made == 0


def test_a_resubmitted_first_attempt_cannot_score_the_second(joined, checked_invite):
    panelist = Panelist.objects.get()
    first = {**form(items_of(panelist), 2), "attempt": "1"}
    post_answers(joined, checked_invite, first)
    again = post_answers(joined, checked_invite, first)
    assert (again.status_code, again["Location"]) == (302, checked_invite.path())
    panelist.refresh_from_db()
    assert (panelist.headphone_attempts_made, panelist.headphone_passed) == (1, None)
    assert [item.answer for item in items_of(panelist)] == [None] * 6


def test_a_check_turned_on_after_joining_starts_only_on_post(client, invite):
    panelist = join(client, invite)  # the study had no check then
    Study.objects.filter(pk=invite.study_id).update(headphone_check=True)
    html = client.get(invite.path()).content.decode()
    assert "Start the headphone check" in html
    assert HeadphoneItem.objects.count() == 0
    assert client.post(invite.path()).status_code == 302
    assert [item.attempt for item in items_of(panelist)] == [1] * 6
    assert "Sound 6 of 6" in client.get(invite.path()).content.decode()

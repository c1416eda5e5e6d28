"""Every listener page in English and Simplified Chinese, over HTTP: nothing untranslated
in zh-hans, nothing Chinese in en, the public title and never the internal one, friendly
pages for a bad, expired or used-up link, translated errors. The walk covers consent, the
headphone check, the A/B, single-track and pool trial pages, pause and resume, continue and
done."""

import json
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.db.backends import utils as db_utils
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluation.models import Invite, Panelist, Study, Trial
from evaluation.services.panelists import invite_create
from evaluation.services.responses import Answer, response_record
from tests.visible_text import CJK, untranslated, visible_texts

pytestmark = pytest.mark.django_db

INTERNAL_TITLE = "Internal pilot 7 (vendor X vs Y)"
TEXTS = {
    "en": {"title": "Piano sketches", "description": "Short piano pieces.", "consent": "I hear."},
    "zh-hans": {"title": "钢琴小品", "description": "几首简短的钢琴曲。", "consent": "我已知悉。"},
}
PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "no"}
LANGUAGES = {"en": "en-GB,en;q=0.9", "zh-hans": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture
def study(invite):
    Study.objects.filter(pk=invite.study_id).update(
        title=INTERNAL_TITLE, listener_texts=TEXTS, headphone_check=True, headphone_attempts=2
    )
    return Study.objects.get(pk=invite.study_id)


def client_in(language: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=LANGUAGES[language])


def check_page(response, language: str, page: str) -> str:
    """The page's HTML after checking its language, its title and every visible text."""
    html = response.content.decode()
    assert f'<html lang="{language}">' in html, page
    assert INTERNAL_TITLE not in html, page
    texts = visible_texts(html, language)
    assert texts, page
    if language == "zh-hans":
        assert untranslated(texts) == [], page
    else:
        assert [text for text in texts if CJK.search(text)] == [], page
    return html


def join(client, invite) -> Panelist:
    assert client.post(invite.path(), PROFILE).status_code == 302
    return Panelist.objects.latest("created_at")


def answer_check(client, invite, panelist, *, right: bool):
    items = list(panelist.headphone_items.filter(answer__isnull=True).order_by("index"))
    answers = {
        f"item-{item.index}": str(item.quiet_position if right else item.antiphase_position)
        for item in items
    }
    answers["attempt"] = str(items[0].attempt)
    response = client.post(reverse("listener:headphones", args=[invite.token]), answers)
    assert response.status_code == 302


def answer_open_trial(panelist):
    trial = Trial.objects.get(panelist=panelist, response__isnull=True)
    Trial.objects.filter(pk=trial.pk).update(served_at=timezone.now() - timedelta(seconds=30))
    answer = Answer(
        choice="a", listen_a_s=3.0, listen_b_s=3.0, liked_a=True, liked_b=False, guess_ai="a"
    )
    response_record(panelist=panelist, trial_token=trial.token, answer=answer)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_listener_page_is_in_the_listeners_language(language, study, invite):
    client = client_in(language)
    consent = check_page(client.get(invite.path()), language, "consent")
    assert TEXTS[language]["title"] in consent and TEXTS[language]["consent"] in consent
    refused = client.post(invite.path(), {**PROFILE, "consent": ""})
    check_page(refused, language, "consent with errors")
    panelist = join(client, invite)
    check_page(client.get(invite.path()), language, "headphone check")
    answer_check(client, invite, panelist, right=False)
    retry = check_page(client.get(invite.path()), language, "headphone check, second attempt")
    assert 'class="error"' in retry
    answer_check(client, invite, panelist, right=True)
    trial = check_page(client.get(invite.path()), language, "trial")
    assert TEXTS[language]["title"] in trial and 'id="resume-code"' in trial
    pause = check_page(
        client.get(reverse("listener:pause", args=[invite.token])), language, "pause"
    )
    assert 'id="resume-code"' in pause
    elsewhere = client_in(language)
    resume_url = reverse("listener:resume", args=[invite.token])
    form = check_page(elsewhere.get(resume_url), language, "resume")
    assert 'name="code"' in form
    wrong = elsewhere.post(resume_url, {"code": "2222-3333-4444-5555"})
    assert wrong.status_code == 400
    assert 'class="error"' in check_page(wrong, language, "resume, wrong code")
    answer_open_trial(panelist)
    check_page(client.get(invite.path()), language, "continue")
    # Continue (a POST reserves the next trial) and answer until the last one.
    while client.post(invite.path()).status_code == 302 and Trial.objects.filter(
        panelist=panelist, response__isnull=True
    ):
        answer_open_trial(panelist)
    done = check_page(client.get(invite.path()), language, "done")
    assert panelist.pseudonym in done


DESIGNS = {
    "single": {"aspects": {"melody": "rating", "vocals": "rating"}, "ask_weaker": True,
               "ask_familiar": True, "ask_hit": True},
    "pool": {"pool_size": 3, "pool_rank_top3": True, "ask_familiar": True},
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_the_single_track_and_pool_trial_pages_are_in_the_listeners_language(
    language, design, design_study
):
    study, invite = design_study(design, **DESIGNS[design])
    Study.objects.filter(pk=study.pk).update(title=INTERNAL_TITLE, listener_texts=TEXTS)
    client = client_in(language)
    join(client, invite)
    html = check_page(client.get(invite.path()), language, f"{design} trial")
    assert f'data-kind="{design}"' in html and TEXTS[language]["title"] in html
    # The first trial, like the A/B one, links the pause page and shows the resume code.
    assert 'id="pause"' in html and 'id="resume-code"' in html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_failing_the_headphone_check_gets_a_translated_goodbye(language, study, invite):
    client = client_in(language)
    panelist = join(client, invite)
    answer_check(client, invite, panelist, right=False)
    answer_check(client, invite, panelist, right=False)
    check_page(client.get(invite.path()), language, "headphone check failed")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_bad_expired_used_up_and_closed_links_get_friendly_pages(language, study, invite, panel):
    client = client_in(language)
    missing = client.get("/p/no-such-invite-token/")
    assert missing.status_code == 404
    html = check_page(missing, language, "bad link")
    assert "Not Found" not in html
    expired = invite_create(study=study, panel=panel)
    Invite.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert check_page(client.get(expired.path()), language, "expired") is not None
    used = invite_create(study=study, panel=panel, max_uses=1)
    Invite.objects.filter(pk=used.pk).update(uses=1)
    page = client.get(used.path())
    # Not a dead end: why, and the resume form for whoever started (tests/test_resume.py).
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    check_page(page, language, "used up")
    joined = client_in(language)
    join(joined, invite)
    Study.objects.filter(pk=study.pk).update(status=Study.Status.CLOSED)
    check_page(joined.get(invite.path()), language, "closed")


def test_an_unknown_page_outside_the_listener_pages_is_a_plain_friendly_404(client):
    page = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert page.status_code == 404
    assert "页面不存在" in page.content.decode()


def database_down(monkeypatch):
    """Every query from now on fails as it does while the database restarts."""

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused: the database is restarting")

    monkeypatch.setattr(db_utils.CursorWrapper, "execute", refuse)
    monkeypatch.setattr(db_utils.CursorWrapper, "executemany", refuse)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_page_load_during_a_database_outage_explains_and_tries_again_by_itself(
    language, study, invite, monkeypatch
):
    client = client_in(language)
    join(client, invite)
    client.raise_request_exception = False
    database_down(monkeypatch)
    page = client.get(invite.path())
    assert page.status_code == 500
    html = check_page(page, language, "server error")
    assert '<meta http-equiv="refresh" content="5">' in html
    assert ("Something went wrong on our side" in html) == (language == "en")


def test_a_form_post_during_a_database_outage_says_to_try_again_and_does_not_repost(
    study, invite, monkeypatch
):
    client = client_in("zh-hans")
    client.raise_request_exception = False
    database_down(monkeypatch)
    page = client.post(invite.path(), PROFILE)
    assert page.status_code == 500
    html = check_page(page, "zh-hans", "server error after a POST")
    assert 'http-equiv="refresh"' not in html
    assert "请返回并稍后再试" in html


def test_the_answer_endpoint_explains_refusals_in_the_listeners_language(study, invite):
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    client = client_in("zh-hans")
    panelist = join(client, invite)
    trial = Trial.objects.get(panelist=panelist, response__isnull=True)
    body = {"choice": "a", "listen_a_s": 0.5, "listen_b_s": 0.5, "liked_a": True}
    response = client.post(
        reverse("listener:answer", args=[invite.token, trial.token]),
        json.dumps({**body, "liked_b": True, "guess_ai": "a", "listening": None}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert CJK.search(response.json()["detail"])
    anonymous = client_in("zh-hans").post(
        reverse("listener:answer", args=[invite.token, trial.token]), "{}", "application/json"
    )
    assert anonymous.json()["detail"] == "您的会话已过期；请重新打开邀请链接"


def test_the_check_catches_english_text_and_labels_but_not_marked_or_neutral_parts():
    html = (
        '<p>播放 <kbd>Space</kbd> 1 / 3 ✓</p><button aria-label="Play">A</button>'
        '<button lang="en">English</button><p>Submit</p><script>var x = "y";</script>'
    )
    assert untranslated(visible_texts(html, "zh-hans")) == ["Play", "Submit"]

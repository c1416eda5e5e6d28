"""Resuming on any device (views.listener resume/pause, views.session, services.enrolment,
selectors.resume): a resume code and link, the recognition cookie, a used personal link that
offers resuming, and enrolment that is all-or-nothing and idempotent on retry. Two Django test
clients stand for two devices."""

import re
from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from evaluation.models import Invite, Panelist, Trial
from evaluation.selectors.resume import (
    RESUME_ALPHABET,
    panelist_by_resume_code,
    resume_code_format,
    resume_code_valid,
    secret_hash,
)
from evaluation.services.enrolment import panelist_enrol, resume_code_new
from evaluation.services.panelists import invite_create
from tests.evaluation.test_listener_views import PROFILE, download_both, post_answer

pytestmark = pytest.mark.django_db

CODE = re.compile(r'id="resume-code">([0-9A-Z-]{19})<')
KEY = re.compile(r'name="enrolment_key" value="([^"]+)"')


def join(client, invite) -> str:
    """Consent on `client` (one device) and return the resume code the first page shows."""
    form = client.get(invite.path()).content.decode()
    key = KEY.search(form).group(1)
    assert client.post(invite.path(), {**PROFILE, "enrolment_key": key}).status_code == 302
    page = client.get(invite.path()).content.decode()
    return CODE.search(page).group(1)


def shown_trial(client, invite) -> str:
    """The trial token the device's trial page carries."""
    page = client.get(invite.path()).content.decode()
    tokens = [t.token for t in Trial.objects.filter(panelist__isnull=False) if t.token in page]
    assert len(tokens) == 1, page
    return tokens[0]


def test_a_code_is_16_symbols_of_the_alphabet_and_only_its_hash_is_stored(client, invite):
    code = join(client, invite)
    bare = code.replace("-", "")
    assert len(bare) == 16 and set(bare) <= set(RESUME_ALPHABET)
    panelist = Panelist.objects.get()
    assert panelist.resume_code_hash == secret_hash(bare)
    stored = [str(value) for value in Panelist.objects.values_list().get()]
    assert not any(bare in value or code in value for value in stored)
    assert resume_code_valid(code.lower().replace("-", " "))
    assert not resume_code_valid(bare[:-1]) and not resume_code_valid(bare[:-1] + "O")
    assert resume_code_format(bare) == code


def test_the_code_resumes_the_same_trial_and_order_on_another_device(client, invite):
    code = join(client, invite)
    first_trial = shown_trial(client, invite)
    phone = Client()
    resumed = phone.post(reverse("listener:resume", args=[invite.token]), {"code": code.lower()})
    assert resumed.status_code == 302 and resumed["Location"] == invite.path()
    assert shown_trial(phone, invite) == first_trial
    assert Panelist.objects.count() == 1
    # Answer on the phone; the laptop goes on with the same panelist's next trial, position 2.
    trial = Trial.objects.get(token=first_trial)
    download_both(phone, invite, trial)
    assert post_answer(phone, invite, trial).status_code == 201
    assert "2 of 3" in client.get(invite.path()).content.decode()
    assert shown_trial(client, invite) == shown_trial(phone, invite)
    panelist = Panelist.objects.get()
    assert list(Trial.objects.filter(panelist=panelist).order_by("position").values_list(
        "position", flat=True)) == [1, 2]  # fmt: skip


def test_the_resume_link_fills_in_the_code_and_resuming_waits_for_a_post(client, invite):
    code = join(client, invite)
    link = CODE_LINK.search(client.get(invite.path()).content.decode()).group(1)
    assert link.endswith(
        reverse("listener:resume-link", args=[invite.token, code.replace("-", "")])
    )
    tablet = Client()
    page = tablet.get(link)
    assert page.status_code == 200 and code.replace("-", "") in page.content.decode()
    # The GET bound nothing: the invite page still asks for consent.
    assert b'name="enrolment_key"' in tablet.get(invite.path()).content
    tablet.post(reverse("listener:resume", args=[invite.token]), {"code": code})
    assert shown_trial(tablet, invite) == shown_trial(client, invite)


CODE_LINK = re.compile(r'href="([^"]+)" id="resume-link"')


def test_a_wrong_code_is_refused_and_binds_nothing(client, invite):
    join(client, invite)
    other = Client()
    url = reverse("listener:resume", args=[invite.token])
    for typed in ("nonsense", resume_code_new(), ""):
        page = other.post(url, {"code": typed})
        assert page.status_code == 400
        assert b"does not match anyone in this study" in page.content
    assert b'name="enrolment_key"' in other.get(invite.path()).content


def test_a_code_of_another_study_does_not_resume_here(client, invite, panel, prepared_study):
    code = join(client, invite)
    assert panelist_by_resume_code(study=prepared_study, code=code) is not None
    prepared_study.pk = None
    prepared_study.slug = "other"
    prepared_study.save()
    assert panelist_by_resume_code(study=prepared_study, code=code) is None


def test_a_returning_listener_on_a_multi_use_link_is_recognised_not_enrolled_again(client, invite):
    join(client, invite)
    trial = shown_trial(client, invite)
    # The session is gone (browser closed, session expired); the resume cookie stays.
    client.cookies.pop("sessionid")
    page = client.get(invite.path()).content.decode()
    assert trial in page and 'name="enrolment_key"' not in page
    assert Panelist.objects.count() == 1
    # A forged or tampered cookie is ignored: that browser is a newcomer.
    stranger = Client()
    stranger.cookies[f"earshot_resume_{invite.study_id}"] = "ABCD" * 4
    assert b'name="enrolment_key"' in stranger.get(invite.path()).content


def test_a_used_personal_link_offers_resume_and_the_code_gets_back_in(
    client, prepared_study, panel
):
    personal = invite_create(study=prepared_study, panel=panel, max_uses=1)
    code = join(client, personal)
    trial = shown_trial(client, personal)
    second = Client()
    page = second.get(personal.path())
    assert page.status_code == 200
    assert b"already been used" in page.content and b'name="code"' in page.content
    assert b"Start the test instead" not in page.content
    second.post(reverse("listener:resume", args=[personal.token]), {"code": code})
    assert shown_trial(second, personal) == trial
    assert Invite.objects.get(pk=personal.pk).uses == 1
    assert Panelist.objects.count() == 1


def test_a_failure_during_enrolment_leaves_no_panelist_and_no_counted_use(prepared_study, panel):
    personal = invite_create(study=prepared_study, panel=panel, max_uses=1)
    device = Client(raise_request_exception=False)
    with mock.patch(
        "evaluation.services.enrolment.panelist_step", side_effect=DatabaseError("lost")
    ):
        assert (
            device.post(personal.path(), {**PROFILE, "enrolment_key": "k" * 32}).status_code == 500
        )
    assert Panelist.objects.count() == 0
    assert Invite.objects.get(pk=personal.pk).uses == 0
    # The listener retries and gets in: the link was never used up.
    assert device.post(personal.path(), {**PROFILE, "enrolment_key": "k" * 32}).status_code == 302
    assert Panelist.objects.count() == 1


def test_a_retried_enrolment_post_resumes_instead_of_a_403_or_a_second_panelist(
    prepared_study, panel
):
    personal = invite_create(study=prepared_study, panel=panel, max_uses=1)
    body = {**PROFILE, "enrolment_key": "retry-key-" + "x" * 20}
    lost = Client()
    assert lost.post(personal.path(), body).status_code == 302
    # The first response never arrived (no session, no cookie): the browser posts again.
    retry = Client()
    again = retry.post(personal.path(), body)
    assert again.status_code == 302
    assert Panelist.objects.count() == 1
    assert Invite.objects.get(pk=personal.pk).uses == 1
    page = retry.get(personal.path()).content.decode()
    assert "1 of 3" in page
    # Resumed on a device that never saw the first code: it gets a new one, which works.
    code = CODE.search(page).group(1)
    third = Client()
    third.post(reverse("listener:resume", args=[personal.token]), {"code": code})
    assert shown_trial(third, personal) == shown_trial(retry, personal)


def test_panelist_enrol_is_idempotent_per_key(invite):
    first = panelist_enrol(invite=invite, enrolment_key="same-key-" * 3, expertise="student")
    again = panelist_enrol(invite=invite, enrolment_key="same-key-" * 3, expertise="student")
    other = panelist_enrol(invite=invite, enrolment_key="other-key-" * 3, expertise="student")
    assert (first.resumed, again.resumed, other.resumed) == (False, True, False)
    assert again.panelist == first.panelist and again.code is None
    assert other.panelist != first.panelist
    assert Invite.objects.get(pk=invite.pk).uses == 2


def test_the_pause_page_shows_the_code_and_a_new_code_replaces_the_old(client, invite):
    code = join(client, invite)
    pause = client.get(reverse("listener:pause", args=[invite.token])).content.decode()
    assert CODE.search(pause).group(1) == code
    assert b'id="pause"' in client.get(invite.path()).content
    # A device that lost the code (no cookie, a session without it) can make a new one.
    client.cookies.pop(f"earshot_resume_{invite.study_id}")
    session = client.session
    session.pop(f"earshot:resume:{invite.study_id}")
    session.save()
    lost = client.get(reverse("listener:pause", args=[invite.token])).content.decode()
    assert CODE.search(lost) is None and 'id="new-code"' in lost
    client.post(reverse("listener:pause", args=[invite.token]))
    new = CODE.search(client.get(reverse("listener:pause", args=[invite.token])).content.decode())
    assert new and new.group(1) != code
    url = reverse("listener:resume", args=[invite.token])
    assert Client().post(url, {"code": code}).status_code == 400
    assert Client().post(url, {"code": new.group(1)}).status_code == 302


def test_the_pause_page_without_a_session_goes_to_the_invite(invite):
    page = Client().get(reverse("listener:pause", args=[invite.token]))
    assert page.status_code == 302 and page["Location"] == invite.path()

"""Recruitment: personal invites by e-mail (services.invitations, send_invites, the admin
action), external participant ids stored hashed with the study's salt, and the completion
and screened-out codes shown on the way back."""

import hashlib

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from evaluation.models import Invite, Panelist, PanelMember, Study
from evaluation.services.invitations import invitations_send
from evaluation.services.panel_members import panel_members_import

pytestmark = pytest.mark.django_db

ROSTER = (
    "external_id,expertise,email,instrument_family,languages\n"
    "m1,professional,m1@example.org,strings,en\n"
    "m2,amateur,,voice,de\n"
)
PROFILE = {"consent": "on", "expertise": "non_musician", "plays_instrument": "no"}


@pytest.fixture
def members(db):
    panel_members_import(panel_name="session players", text=ROSTER)
    return list(PanelMember.objects.order_by("external_id"))


def test_each_member_with_an_address_gets_one_personal_single_use_link(prepared_study, members):
    run = invitations_send(study=prepared_study, members=members)
    assert run.sent == ["m1"] and run.skipped == ["m2 (no e-mail address)"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    invite = Invite.objects.get(member__external_id="m1")
    assert message.to == ["m1@example.org"] and invite.path() in message.body
    assert invite.max_uses == 1
    for secret in ("model-x", "human reference"):
        assert secret not in message.body
    # Sending again re-sends the same link; no second invite is made.
    invitations_send(study=prepared_study, members=members)
    assert Invite.objects.filter(member__isnull=False).count() == 1
    assert invite.path() in mail.outbox[1].body


def test_the_command_sends_and_dry_run_sends_nothing(prepared_study, members, capsys):
    call_command("send_invites", "pilot", "session players", "--dry-run")
    assert "Would send 1" in capsys.readouterr().out and not mail.outbox
    assert not Invite.objects.filter(member__isnull=False).exists()
    call_command("send_invites", "pilot", "session players")
    assert len(mail.outbox) == 1


def test_the_admin_action_sends_to_the_chosen_study(client, admin_user, prepared_study, members):
    client.force_login(admin_user)
    url = reverse("admin:evaluation_panelmember_changelist")
    response = client.post(
        url,
        {
            "action": "send_invitations",
            "_selected_action": [m.pk for m in members],
            "study": prepared_study.pk,
        },
        follow=True,
    )
    assert b"Sent 1 invitation" in response.content
    assert len(mail.outbox) == 1


def test_a_personal_invite_asks_only_consent_and_the_roster_decides(
    client, prepared_study, members
):
    invitations_send(study=prepared_study, members=members)
    invite = Invite.objects.get(member__external_id="m1")
    page = client.get(invite.path()).content.decode()
    assert "I agree" in page and "musical experience" not in page
    assert client.post(invite.path(), PROFILE).status_code == 302
    panelist = Panelist.objects.get()
    assert (panelist.expertise, panelist.instrument_family, panelist.languages) == (
        "professional",
        "strings",
        "en",
    )


def test_external_ids_from_the_link_are_stored_salted_and_hashed(client, invite):
    url = invite.path() + "?PROLIFIC_PID=5f1c0ffee&STUDY_ID=abc&SESSION_ID=s1&OTHER=x"
    assert client.post(url, PROFILE).status_code == 302
    panelist = Panelist.objects.get()
    salt = Study.objects.get(pk=invite.study_id).external_id_salt
    expected = hashlib.sha256(f"{salt}:5f1c0ffee".encode()).hexdigest()
    assert panelist.external_ids["PROLIFIC_PID"] == expected
    assert set(panelist.external_ids) == {"PROLIFIC_PID", "STUDY_ID", "SESSION_ID"}
    assert "5f1c0ffee" not in str(Panelist.objects.values().get())


def test_an_invite_can_name_its_own_id_parameters(client, invite):
    Invite.objects.filter(pk=invite.pk).update(external_id_params="worker_id")
    client.post(invite.path() + "?worker_id=w-42&PROLIFIC_PID=p", PROFILE)
    assert set(Panelist.objects.get().external_ids) == {"worker_id"}


def test_two_studies_hash_the_same_id_differently(prepared_study):
    from evaluation.services.panelists import external_id_hash

    other = Study(slug="other", title="other")
    assert external_id_hash(study=prepared_study, value="p1") != external_id_hash(
        study=other, value="p1"
    )


def test_finishing_shows_the_completion_code_and_link(client, invite):
    from tests.evaluation.test_joining import complete_study

    Invite.objects.filter(pk=invite.pk).update(
        completion_url="https://app.prolific.com/submissions/complete?cc=C0MPL3TE",
        completion_code="C0MPL3TE",
        screened_out_code="SCR33N",
    )
    complete_study(client, invite)
    page = client.get(invite.path()).content.decode()
    assert "Thank you!" in page and "C0MPL3TE" in page and "SCR33N" not in page
    assert 'href="https://app.prolific.com/submissions/complete?cc=C0MPL3TE"' in page


def test_a_screened_out_listener_gets_the_other_code(client, invite):
    from tests.evaluation.test_joining import fail_screening

    Study.objects.filter(pk=invite.study_id).update(headphone_check=True)
    invite.study.refresh_from_db()
    Invite.objects.filter(pk=invite.pk).update(
        completion_code="C0MPL3TE", screened_out_code="SCR33N"
    )
    invite.refresh_from_db()
    client.post(invite.path(), PROFILE)
    fail_screening(client, invite)
    page = client.get(invite.path()).content.decode()
    assert "SCR33N" in page and "C0MPL3TE" not in page


def test_mail_is_printed_on_the_console_unless_configured():
    from config import settings as project_settings

    assert project_settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"

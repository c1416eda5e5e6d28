"""Personal invites by e-mail: one single-use link per roster member, sent through Django's
e-mail backend (the console backend by default: EMAIL_BACKEND). A member who already has a
personal invite to the study gets the same link again, never a second one."""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from evaluation.models import Invite, PanelMember, Study
from evaluation.services import ServiceError


@dataclass
class InvitationRun:
    """What a send did: external ids of the members e-mailed, and of those skipped (no
    e-mail address) with why."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def personal_invite_get_or_create(*, study: Study, member: PanelMember, created_by=None) -> Invite:
    """The member's single-use invite to the study (made once, reused afterwards)."""
    invite = Invite.objects.filter(study=study, member=member).first()
    if invite is None:
        invite = Invite.objects.create(
            study=study,
            panel=member.panel,
            member=member,
            max_uses=1,
            label=f"personal: {member.external_id}"[:100],
            created_by=created_by,
        )
    return invite


def invite_email_text(*, study: Study, link: str) -> tuple[str, str]:
    """The subject and body of an invitation (no system, model or track is named)."""
    subject = _("Invitation: %(title)s") % {"title": study.title}
    body = _(
        'Hello,\n\nYou are invited to take part in a blind listening test, "%(title)s".\n'
        "It takes about %(minutes)d minutes; please use headphones in a quiet place.\n\n"
        "Your personal link (please don't share it):\n%(link)s\n\nThank you!\n"
    ) % {"title": study.title, "minutes": max(5, study.trials_per_panelist), "link": link}
    return subject, body


def invitations_send(
    *, study: Study, members, created_by=None, dry_run: bool = False
) -> InvitationRun:
    """E-mail each member with an address a personal link to `study` (open or draft, not
    closed). Links are made in one transaction before any e-mail leaves; each e-mail is
    sent on its own, so one failing address does not stop the rest (it raises after)."""
    if study.status == Study.Status.CLOSED:
        raise ServiceError(f"study {study.slug} is closed: no invitations", code="study_closed")
    run = InvitationRun()
    outgoing = []
    with transaction.atomic():
        for member in members:
            if not member.email:
                run.skipped.append(f"{member.external_id} (no e-mail address)")
                continue
            if dry_run:
                run.sent.append(member.external_id)
                continue
            invite = personal_invite_get_or_create(
                study=study, member=member, created_by=created_by
            )
            outgoing.append((member, settings.EARSHOT["PUBLIC_URL"] + invite.path()))
    for member, link in outgoing:
        subject, body = invite_email_text(study=study, link=link)
        send_mail(subject, body, None, [member.email])
        run.sent.append(member.external_id)
    return run

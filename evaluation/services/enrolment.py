"""Enrolment as one step, and resume codes.

``panelist_enrol`` joins a consenting listener and takes their first step (the headphone
check's first attempt, or the first trial) in one transaction, so a database failure half way
leaves no panelist and no counted use of the invite. The consent form carries a one-time
enrolment key: a retried POST of the same form (the first response lost, e.g. the session
could not be saved) finds the panelist it already made and resumes them, instead of
enrolling the same person twice or refusing a personal link as "already used"."""

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from evaluation.models import Invite, Panelist
from evaluation.selectors.headphones import headphone_check_pending
from evaluation.selectors.resume import (
    RESUME_ALPHABET,
    RESUME_CODE_LENGTH,
    panelist_by_enrolment_key,
    secret_hash,
)
from evaluation.services.headphones import headphone_attempt_start
from evaluation.services.panelists import invite_use_count, panelist_join
from evaluation.services.scheduling import trial_reserve


def enrolment_key_new() -> str:
    """A one-time key for one showing of the consent form (about 190 bits)."""
    return secrets.token_urlsafe(24)


def resume_code_new() -> str:
    """A fresh bare resume code: RESUME_CODE_LENGTH symbols of RESUME_ALPHABET (about 79 bits)."""
    return "".join(secrets.choice(RESUME_ALPHABET) for _ in range(RESUME_CODE_LENGTH))


def panelist_resume_code_issue(*, panelist: Panelist) -> str:
    """Give the panelist a new resume code and return it (bare); any older code stops working.
    Only the hash is stored, so this is the one moment the code exists on the server."""
    code = resume_code_new()
    Panelist.objects.filter(pk=panelist.pk).update(resume_code_hash=secret_hash(code))
    panelist.resume_code_hash = secret_hash(code)
    return code


def panelist_step(*, panelist: Panelist) -> None:
    """The panelist's next step: the headphone check while it is pending, else a trial."""
    if headphone_check_pending(panelist=panelist):
        headphone_attempt_start(panelist=panelist)
    else:
        trial_reserve(panelist=panelist)


@dataclass(frozen=True)
class Enrolment:
    panelist: Panelist
    code: str | None  # the new resume code (bare); None when an earlier enrolment is resumed
    resumed: bool


def panelist_enrol(*, invite: Invite, enrolment_key: str = "", **profile) -> Enrolment:
    """Enrol a consenting listener (``services.panelists.panelist_join``), give them a resume
    code and take their first step, all or nothing. With the `enrolment_key` of a form that
    already enrolled someone, that panelist is returned (`resumed`) and nothing new is made;
    the invite's refusal (used, expired) does not apply to them."""
    if enrolment_key:
        earlier = panelist_by_enrolment_key(study=invite.study, key=enrolment_key)
        if earlier is not None:
            return Enrolment(panelist=earlier, code=None, resumed=True)
    try:
        with transaction.atomic():
            code = resume_code_new()
            panelist = panelist_join(
                invite=invite,
                count_use=False,
                enrolment_key_hash=secret_hash(enrolment_key) if enrolment_key else "",
                resume_code_hash=secret_hash(code),
                **profile,
            )
            panelist_step(panelist=panelist)
            # Last: counting the use locks the invite's row, which every listener of a shared
            # link writes, so it is held only until this commits (services.panelists).
            invite_use_count(invite=invite)
    except IntegrityError:
        # The same form posted twice at once: the other request enrolled them.
        earlier = panelist_by_enrolment_key(study=invite.study, key=enrolment_key)
        if earlier is None:
            raise
        return Enrolment(panelist=earlier, code=None, resumed=True)
    return Enrolment(panelist=panelist, code=code, resumed=False)

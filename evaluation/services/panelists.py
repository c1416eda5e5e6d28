"""Enrolling panelists through invite links."""

import hashlib

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import (
    LEGACY_EXPERTISE,
    AuditEntry,
    Expertise,
    HeadphoneItem,
    InstrumentFamily,
    Invite,
    Panel,
    Panelist,
    Response,
    Study,
    Trial,
)
from evaluation.models.study import opaque_token
from evaluation.selectors.strata import stratum_for, stratum_has_free_slot, stratum_is_served
from evaluation.services import ServiceError
from evaluation.services.audit_log import audit_record


def planned_trials_for(study: Study) -> int:
    """How many regular trials a new panelist is promised: one per prompt at most."""
    prompts = study.pairs.filter(is_catch=False).values("prompt_id").distinct().count()
    return min(study.trials_per_panelist, prompts)


def planned_catch_trials_for(study: Study, regular: int) -> int:
    """Catch trials mixed in: the study's catch rate of the regular trials, rounded, and at
    least one when the rate is set and catch pairs exist."""
    if study.catch_rate <= 0 or not study.pairs.filter(is_catch=True).exists():
        return 0
    return max(1, round(study.catch_rate * regular))


def external_id_hash(*, study: Study, value: str) -> str:
    """The salted SHA-256 (hex) of one external participant id: the study's own salt, so the
    same Prolific id hashes differently in two studies and cannot be joined across them."""
    return hashlib.sha256(f"{study.external_id_salt}:{value}".encode()).hexdigest()


def external_ids_hash(*, study: Study, values: dict[str, str]) -> dict[str, str]:
    """Each external id (name → value, names and values cut to 100 characters) hashed."""
    return {
        str(name)[:100]: external_id_hash(study=study, value=str(value)[:100])
        for name, value in values.items()
        if value
    }


def invite_create(*, study: Study, panel: Panel, max_uses=None, label="", created_by=None):
    return Invite.objects.create(
        study=study, panel=panel, max_uses=max_uses, label=label, created_by=created_by
    )


@transaction.atomic
def panelist_join(
    *,
    invite: Invite,
    expertise: str,
    plays_instrument: bool = False,
    instrument: str = "",
    years_playing: int | None = None,
    genres: str = "",
    instrument_family: str = "",
    languages: str = "",
    external_ids: dict[str, str] | None = None,
    simulated: bool = False,
    count_use: bool = True,
    enrolment_key_hash: str = "",
    resume_code_hash: str = "",
) -> Panelist:
    """Enrol a consenting listener; counts a use of the invite (race-safe), unless
    `count_use` is False: then the caller counts it with ``invite_use_count`` in the same
    transaction, last (``services.enrolment.panelist_enrol``).

    Refused before anything is stored or counted when the study has quotas and the
    listener's stratum is not one of them or met its quota (code ``stratum_closed``), or when
    no slot of it is free now (code ``study_full``).

    A personal invite's roster member decides the attributes (expertise and the others),
    whatever the form said. `external_ids` (e.g. ``{"PROLIFIC_PID": "5f…"}``) are stored
    as salted SHA-256 digests (``external_ids_hash``), never in clear. `enrolment_key_hash`
    and `resume_code_hash` are stored with the row (``services.enrolment``)."""
    if invite.member_id is not None:
        member = invite.member
        expertise, instrument_family = member.expertise, member.instrument_family
        genres, languages = member.genres or genres, member.languages or languages
    expertise = LEGACY_EXPERTISE.get(expertise, expertise)
    if expertise not in Expertise.values:
        raise ServiceError(
            f"expertise must be one of {', '.join(Expertise.values)}, not {expertise!r}",
            code="invalid_profile",
        )
    if years_playing is not None and not 0 <= years_playing <= 100:
        raise ServiceError("years playing must be between 0 and 100", code="invalid_profile")
    if instrument_family not in InstrumentFamily.values:
        raise ServiceError(
            f"instrument family must be one of {', '.join(v for v in InstrumentFamily.values if v)}"
            f" or empty, not {instrument_family!r}",
            code="invalid_profile",
        )
    refusal = invite.refusal()
    if refusal:
        raise ServiceError(refusal, code="invite_refused", status=403)
    stratum = stratum_for(invite.study, expertise)
    if stratum is None or not stratum_is_served(invite.study, stratum):
        raise ServiceError(
            _(
                "Thank you for your interest: this study already has all the listeners it "
                "needs with your background, so we can't ask you to take part."
            ),
            code="stratum_closed",
            status=409,
        )
    if not stratum_has_free_slot(invite.study, stratum, timezone.now()):
        # Nothing to give now: no invite use is spent on a listener who would get no trial.
        raise ServiceError(
            _(
                "Every question of this study is being answered by other listeners right "
                "now. Please try this link again in a few minutes."
            ),
            code="study_full",
            status=409,
        )
    if count_use:
        invite_use_count(invite=invite)
    regular = planned_trials_for(invite.study)
    catch = planned_catch_trials_for(invite.study, regular)
    return Panelist.objects.create(
        study=invite.study,
        panel=invite.panel,
        invite=invite,
        expertise=expertise,
        plays_instrument=plays_instrument,
        instrument=instrument[:100],
        years_playing=years_playing,
        genres=genres[:200],
        instrument_family=instrument_family,
        languages=languages[:100],
        stratum=stratum,
        external_ids=external_ids_hash(study=invite.study, values=external_ids or {}),
        consent_at=timezone.now(),
        planned_trials=regular + catch,
        planned_catch_trials=catch,
        simulated=simulated,
        enrolment_key_hash=enrolment_key_hash,
        resume_code_hash=resume_code_hash,
    )


def invite_use_count(*, invite: Invite) -> None:
    """Count one use of the invite; refused (``invite_refused``) when a limited link is used
    up. A conditional increment: two people racing for a single-use link cannot both get in.

    The UPDATE locks the invite's row until the transaction ends, and every listener of a
    shared link updates the same row: inside a longer transaction (an enrolment that also
    reserves a trial) make it the last statement, so that concurrent joins wait for each
    other only for the commit."""
    counted = (
        Invite.objects.filter(pk=invite.pk)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if not counted:
        raise ServiceError(
            _("This invite link has already been used."), code="invite_refused", status=403
        )


@transaction.atomic
def panelist_data_delete(*, panelist: Panelist, user=None, reason: str = "") -> dict:
    """Delete everything stored about one panelist, on their privacy request: profile,
    headphone-check items, responses and their own catch trials. Their regular rating slots
    go back to the pool (unreserved, with a fresh token), so an open study can still fill
    them. The study's audit log keeps one entry: who deleted which pseudonym, when, why and
    how many rows. Returns the counts ``{"pseudonym", "study", "responses",
    "headphone_items", "trials_freed", "catch_trials"}``."""
    panelist = Panelist.objects.select_for_update().select_related("study").get(pk=panelist.pk)
    responses, _ = Response.objects.filter(panelist=panelist).delete()
    items, _ = HeadphoneItem.objects.filter(panelist=panelist).delete()
    catch, _ = Trial.objects.filter(panelist=panelist, is_catch=True).delete()
    freed = 0
    for trial in Trial.objects.filter(panelist=panelist):
        trial.panelist = None
        trial.token = opaque_token()
        trial.position = trial.reserved_until = trial.served_at = None
        trial.save(update_fields=["panelist", "token", "position", "reserved_until", "served_at"])
        freed += 1
    outcome = {
        "pseudonym": panelist.pseudonym,
        "study": panelist.study.slug,
        "responses": responses,
        "headphone_items": items,
        "trials_freed": freed,
        "catch_trials": catch,
    }
    audit_record(
        study=panelist.study,
        action=AuditEntry.Action.PRIVACY_DELETION,
        user=user,
        detail={**outcome, "reason": reason},
    )
    panelist.delete()
    return outcome

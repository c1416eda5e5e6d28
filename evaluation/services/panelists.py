"""Enrolling panelists through invite links."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import (
    AuditEntry,
    Expertise,
    HeadphoneItem,
    Invite,
    Panel,
    Panelist,
    Response,
    Study,
    Trial,
)
from evaluation.models.study import opaque_token
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
    simulated: bool = False,
) -> Panelist:
    """Enrol a consenting listener; counts a use of the invite (race-safe)."""
    if expertise not in Expertise.values:
        raise ServiceError(
            f"expertise must be one of {', '.join(Expertise.values)}, not {expertise!r}",
            code="invalid_profile",
        )
    if years_playing is not None and not 0 <= years_playing <= 100:
        raise ServiceError("years playing must be between 0 and 100", code="invalid_profile")
    refusal = invite.refusal()
    if refusal:
        raise ServiceError(refusal, code="invite_refused", status=403)
    # Conditional increment: two people racing for a single-use link cannot both get in.
    counted = (
        Invite.objects.filter(pk=invite.pk)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if not counted:
        raise ServiceError(
            _("This invite link has already been used."), code="invite_refused", status=403
        )
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
        consent_at=timezone.now(),
        planned_trials=regular + catch,
        planned_catch_trials=catch,
        simulated=simulated,
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

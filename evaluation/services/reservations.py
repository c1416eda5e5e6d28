"""Writes for reservations: extend one on real activity, release expired ones, and make room
under an invite's cap. The reads and the rules are in ``selectors.reservations``."""

from datetime import datetime, timedelta

from django.db.models import DateTimeField, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from evaluation.models import Invite, Panelist, Trial
from evaluation.models.study import opaque_token
from evaluation.selectors.reservations import (
    expired_reservations,
    invite_idle_reservations,
    invite_open_reservations,
    invite_reservation_cap,
)
from evaluation.selectors.scheduling import reservation_span


def trial_activity_record(*, trial: Trial, panelist: Panelist, now: datetime | None = None) -> bool:
    """Real activity on a reserved trial (its audio was fetched): the reservation grows to
    the full span (EARSHOT["RESERVATION_S"]) from now and its first activity is kept.
    Returns whether a row was written (False when the trial is no longer this panelist's,
    is answered, or was extended less than a minute ago)."""
    now = now or timezone.now()
    until = now + reservation_span()
    # Each range request of the page lands here: write only when it changes something
    # (first activity, or a reservation with less than a minute of its full span used up).
    return bool(
        Trial.objects.filter(pk=trial.pk, panelist=panelist, response__isnull=True)
        .filter(Q(active_at__isnull=True) | Q(reserved_until__lt=until - timedelta(minutes=1)))
        .update(
            reserved_until=until,
            active_at=Coalesce("active_at", Value(now, output_field=DateTimeField())),
        )
    )


def _release(trials: QuerySet[Trial]) -> int:
    """Return slots to the pool: no holder, a fresh token (a stale page can't answer)."""
    released = 0
    for pk in list(trials.values_list("pk", flat=True)):
        released += Trial.objects.filter(pk=pk, response__isnull=True).update(
            panelist=None,
            token=opaque_token(),
            position=None,
            reserved_until=None,
            served_at=None,
            active_at=None,
        )
    return released


def reservations_release_expired(*, study=None, now: datetime | None = None) -> int:
    """Release every expired, unanswered reservation (of one study, or all); returns how many.
    Scheduling already treats an expired slot as free; releasing also clears its holder, so
    counts of who holds what (dashboard, invite caps) stay true."""
    now = now or timezone.now()
    trials = expired_reservations(now)
    if study is not None:
        trials = trials.filter(pair__study=study)
    return _release(trials)


def invite_room_make(*, invite: Invite, panelist: Panelist, now: datetime) -> bool:
    """Whether `panelist` (of `invite`) may reserve one more slot under the invite's cap;
    when the cap is reached, the oldest idle reservations of other listeners of the invite
    are released to make room. False: the cap is reached by active listeners."""
    held = invite_open_reservations(invite.pk, now).exclude(panelist=panelist).count()
    over = held - invite_reservation_cap(invite) + 1
    if over <= 0:
        return True
    idle = invite_idle_reservations(invite.pk, now).exclude(panelist=panelist)
    released = _release(idle.filter(pk__in=list(idle.values_list("pk", flat=True)[:over])))
    return released >= over

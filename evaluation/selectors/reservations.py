"""Reads for reservations: how long they last, which are open, and an invite's cap.

A reservation starts short (``first_reservation_span``, minutes) and grows to
``reservation_span`` only when its holder shows real activity (the trial's audio fetched,
``services.reservations.trial_activity_record``). One invite's listeners hold at most
``invite_reservation_cap`` reservations at once; past it, the oldest reservation that never
saw activity (older than the idle grace) is released for the newcomer, and such an idle
reservation is claimable by anyone who needs the slot (``claimable``)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from evaluation.models import Invite, Trial


def idle_grace() -> timedelta:
    """How long a new reservation is kept without any activity (EARSHOT["IDLE_GRACE_S"]):
    past it, another listener who needs the slot may take it (a page that is really open
    fetches its audio within a second or two)."""
    return timedelta(seconds=settings.EARSHOT["IDLE_GRACE_S"])


def claimable(now: datetime) -> Q:
    """Slots another listener may claim at `now`: never reserved, expired, or reserved
    longer than the idle grace ago without any activity (the holder never fetched audio)."""
    return (
        Q(panelist__isnull=True)
        | Q(reserved_until__lt=now)
        | Q(active_at__isnull=True, served_at__lt=now - idle_grace())
    )


def first_reservation_span() -> timedelta:
    """How long a new, not yet active reservation lasts (EARSHOT["FIRST_RESERVATION_S"])."""
    return timedelta(seconds=settings.EARSHOT["FIRST_RESERVATION_S"])


def invite_reservation_cap(invite: Invite) -> int:
    """Most trials the invite's listeners may hold at once (the invite's own cap, else the
    setting EARSHOT["INVITE_OPEN_RESERVATIONS"])."""
    if invite.max_open_reservations is not None:
        return invite.max_open_reservations
    return settings.EARSHOT["INVITE_OPEN_RESERVATIONS"]


def open_reservations(now: datetime) -> QuerySet[Trial]:
    """Regular slots reserved and unexpired at `now`, not yet answered."""
    return Trial.objects.filter(
        is_catch=False, panelist__isnull=False, response__isnull=True, reserved_until__gt=now
    )


def invite_open_reservations(invite_id: int, now: datetime) -> QuerySet[Trial]:
    """The open reservations held by listeners who joined through one invite."""
    return open_reservations(now).filter(panelist__invite_id=invite_id)


def invite_idle_reservations(invite_id: int, now: datetime) -> QuerySet[Trial]:
    """The invite's open reservations with no activity yet, older than IDLE_GRACE_S, oldest
    first: what may be released to make room under the cap."""
    return (
        invite_open_reservations(invite_id, now)
        .filter(active_at__isnull=True, served_at__lt=now - idle_grace())
        .order_by("served_at", "pk")
    )


def expired_reservations(now: datetime) -> QuerySet[Trial]:
    """Regular slots still naming a panelist whose reservation ran out unanswered."""
    return Trial.objects.filter(
        is_catch=False, panelist__isnull=False, response__isnull=True, reserved_until__lte=now
    )

"""Reads for the listener pages: what a panelist has reserved and whether more can come.

Nothing here writes: the trial page's GET must never change state (reservations are made on
POST through ``services.scheduling.trial_reserve``)."""

from django.utils import timezone

from evaluation.models import Panelist, Trial
from evaluation.selectors.headphones import headphone_check_pending
from evaluation.selectors.scheduling import answered_count, free_slots


def panelist_open_trials(*, panelist: Panelist):
    """The panelist's reserved, unanswered trials, first to answer first: the current one and,
    while it is being answered, at most one reserved ahead (``trial_reserve_ahead``)."""
    return (
        Trial.objects.filter(panelist=panelist, response__isnull=True)
        .select_related("pair__first", "pair__second", "pair__study")
        .order_by("position", "pk")
    )


def panelist_open_trial(*, panelist: Panelist) -> Trial | None:
    """The trial reserved for the panelist and not yet answered (the one to show), if any."""
    return panelist_open_trials(panelist=panelist).first()


def panelist_has_more_trials(*, panelist: Panelist) -> bool:
    """Whether the panelist may still be given a trial: the study is open, their planned
    number is not reached, and a slot for a prompt they have not heard is free now (not
    held by another listener's unexpired reservation)."""
    if panelist.finished_at is not None or not panelist.study.is_open:
        return False
    if headphone_check_pending(panelist=panelist):
        return False
    if answered_count(panelist) >= panelist.planned_trials:
        return False
    return free_slots(panelist, timezone.now()).exists()

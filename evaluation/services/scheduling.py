"""Writes for scheduling: reserve the panelist's next trial (renew the open one, make a catch
trial, or claim a free slot) and record when it was served. The rules and every read they
rest on are in ``selectors.scheduling``."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone

from evaluation.models import Panelist, Response, Trial
from evaluation.models.study import opaque_token
from evaluation.selectors.designs import pair_kinds, single_kind_counts
from evaluation.selectors.headphones import headphone_check_pending
from evaluation.selectors.listening import panelist_open_trial, panelist_open_trials
from evaluation.selectors.reservations import claimable, first_reservation_span
from evaluation.selectors.scheduling import (
    answered_count,
    catch_pair_next,
    catch_positions,
    free_slots,
    order_key,
)
from evaluation.services.reservations import invite_room_make

MAX_CLAIM_ATTEMPTS = 8


def _open_trial_renew(panelist: Panelist, now: datetime) -> Trial | None:
    """The panelist's reserved, unanswered trial; None if none. A bare request (a POST of
    the page's button) keeps at most a short reservation: only real activity
    (services.reservations.trial_activity_record) extends it to the full span. Written only
    when the reservation is shorter than that (an active or just reserved trial is not)."""
    trial = panelist_open_trial(panelist=panelist)
    if trial is not None:
        short = now + first_reservation_span()
        if trial.reserved_until is None or trial.reserved_until < short:
            Trial.objects.filter(pk=trial.pk, panelist=panelist).filter(
                Q(reserved_until__isnull=True) | Q(reserved_until__lt=short)
            ).update(reserved_until=short)
            trial.reserved_until = short
    return trial


def _catch_trial_create(panelist: Panelist, now: datetime, position: int) -> Trial | None:
    """A new catch trial for this panelist at `position`, or None if the study has none."""
    chosen = catch_pair_next(panelist)
    if chosen is None:
        return None
    pair_id, prompt_id = chosen
    seed = panelist.study.seed
    for _ in range(MAX_CLAIM_ATTEMPTS):
        last_round = Trial.objects.filter(pair_id=pair_id).aggregate(Max("round"))["round__max"]
        try:
            with transaction.atomic():
                return Trial.objects.create(
                    pair_id=pair_id,
                    prompt_id=prompt_id,
                    round=0 if last_round is None else last_round + 1,
                    swapped=bool(order_key(seed, panelist.pk, -position)[0] % 2),
                    panelist=panelist,
                    position=position,
                    reserved_until=now + first_reservation_span(),
                    served_at=now,
                    is_catch=True,
                )
        except IntegrityError:
            continue  # another panelist took that round of the pair at the same moment
    return None


def _kind_balance(panelist: Panelist, pair_ids: list[int]) -> dict[int, int]:
    """Single-track design: per candidate pair, how many trials of its track's kind (human
    or AI) the panelist has had, so that the next slot evens out their mix; {} otherwise."""
    if panelist.study.design != "single":
        return {}
    counts = single_kind_counts(panelist)
    return {pk: counts.get(kind, 0) for pk, kind in pair_kinds(pair_ids).items()}


# Rounds a claim moves on to when every slot of the lowest one was taken meanwhile.
CLAIM_ROUNDS_TRIED = 3


def _slot_claim(panelist: Panelist, now: datetime, position: int | None = None) -> Trial | None:
    """Claim the first free slot of the lowest round in the panelist's order for `position`
    (default: the next unanswered one), or None.

    Optimistic: the candidates are read without locks and tried in the panelist's order, each
    with one conditional UPDATE (still free, still claimable), so concurrent claimers never
    lock each other's candidates and a slot taken meanwhile just moves this claim to the next
    one (locking every candidate of the round made racing listeners skip them all and see a
    spurious "Continue" page). A round whose slots were all taken meanwhile gives way to the
    next round, a few times at most.

    The claimed trial is served from `now` (``served_at``, as ``trial_mark_served`` would
    stamp it): every caller shows or prefetches it at once. One query reads the candidates of
    the lowest round (the round is a subquery), one UPDATE claims, one read returns the trial."""
    position = position or answered_count(panelist) + 1
    taken: list[int] = []
    for _ in range(CLAIM_ROUNDS_TRIED):
        free = free_slots(panelist, now).exclude(pk__in=taken)
        lowest = free.order_by("round").values("round")[:1]
        rows = list(free.filter(round=Subquery(lowest)).values_list("pk", "pair_id"))
        if not rows:
            return None
        seed = panelist.study.seed
        balance = _kind_balance(panelist, [pair_id for _, pair_id in rows])
        rows.sort(key=lambda row: (balance.get(row[1], 0), order_key(seed, panelist.pk, row[1])))
        for pk, _ in rows:
            # One table in the UPDATE (no join, so no pk__in subquery): PostgreSQL re-checks
            # the whole condition on the row a concurrent claimer has just written.
            claimed = (
                Trial.objects.filter(pk=pk)
                .filter(~Exists(Response.objects.filter(trial_id=OuterRef("pk"))))
                .filter(claimable(now))
                .update(
                    panelist=panelist,
                    token=opaque_token(),
                    position=position,
                    reserved_until=now + first_reservation_span(),
                    served_at=now,
                    active_at=None,
                )
            )
            if claimed:
                return Trial.objects.select_related("pair__first", "pair__second").get(pk=pk)
            taken.append(pk)
    return None


def _room_for_one_more(panelist: Panelist, now: datetime) -> bool:
    """The invite's cap on open reservations (services.reservations.invite_room_make)."""
    if panelist.invite_id is None:
        return True
    return invite_room_make(invite=panelist.invite, panelist=panelist, now=now)


def trial_next(*, panelist: Panelist, now: datetime | None = None) -> Trial | None:
    """The trial to show now: the open one (resume, reservation renewed), else a new catch
    trial at a catch position, else a newly claimed slot, else None.

    None as well while the panelist has not passed the study's headphone check: nothing is
    reserved for someone who may never be allowed to listen."""
    if headphone_check_pending(panelist=panelist):
        return None
    now = now or timezone.now()
    trial = _open_trial_renew(panelist, now)
    if trial is not None:
        return trial
    return _trial_new(panelist, now, answered_count(panelist) + 1)


def _trial_new(panelist: Panelist, now: datetime, position: int) -> Trial | None:
    """A newly reserved trial at `position` of the panelist's sequence: a catch trial at a
    catch position, else a claimed slot (room under the invite's cap permitting); None past
    the plan, when closed or when none is free."""
    if position > panelist.planned_trials or not panelist.study.is_open:
        return None
    planned, catch = panelist.planned_trials, panelist.planned_catch_trials
    if position in catch_positions(panelist.study.seed, panelist.pk, planned, catch):
        trial = _catch_trial_create(panelist, now, position)
        if trial is not None:
            return trial
    if not _room_for_one_more(panelist, now):
        return None
    for _ in range(MAX_CLAIM_ATTEMPTS):
        try:
            trial = _slot_claim(panelist, now, position)
        except IntegrityError:
            # Lost a race for a prompt constraint; the next attempt sees fresh state.
            continue
        if trial is not None or not free_slots(panelist, now).exists():
            return trial
    return None


def trial_reserve_ahead(*, panelist: Panelist, current: Trial, now: datetime | None = None):
    """Reserve the trial after `current` while `current` is being answered, so the page can
    prefetch its audio; idempotent (the one already reserved ahead is returned as it is).

    The trial ahead takes the next position of the same seeded sequence (a catch trial where
    a catch position falls), so the order is the one it would have been. It starts with the
    short first reservation like any other, grown to the full span when its audio is fetched
    (services.reservations.trial_activity_record), and counts under the invite's cap. Its
    clock starts now, when its audio is first offered to the page (``served_at``: the answer
    checks count from there and the prefetched downloads fall inside its window). Returns
    None when `current` is not the panelist's open trial, or nothing comes after it."""
    now = now or timezone.now()
    with transaction.atomic():
        # One reservation at a time per panelist, as in trial_reserve.
        panelist_lock(panelist)
        if headphone_check_pending(panelist=panelist):
            return None
        # The current trial and the one already reserved ahead, if any, in one read.
        open_trials = list(panelist_open_trials(panelist=panelist)[:2])
        if not open_trials or open_trials[0] != current:
            return None
        if len(open_trials) > 1:
            return open_trials[1]
        # A new trial is served from now (its claim stamps served_at).
        ahead = _trial_new(panelist, now, answered_count(panelist) + 2)
    return ahead


def trial_mark_served(*, trial: Trial, now: datetime | None = None) -> None:
    """Remember when the trial page was first served (listening can't be shorter than that)."""
    Trial.objects.filter(pk=trial.pk, served_at__isnull=True).update(
        served_at=now or timezone.now()
    )


def trial_reserve(*, panelist: Panelist, now: datetime | None = None) -> Trial | None:
    """Reserve the panelist's next trial (or renew the open one) and start its clock.

    Called on POST only (joining, answering, "Continue"); the trial page's GET just shows
    what is reserved. Returns the trial, or None when the panelist has nothing left."""
    now = now or timezone.now()
    with transaction.atomic():
        # One reservation at a time per panelist: two concurrent requests (a duplicate answer
        # POST) wait here, and the second finds the first one's trial open instead of
        # claiming another ("Question 6 of 4").
        panelist_lock(panelist)
        trial = trial_next(panelist=panelist, now=now)
        if trial is not None and trial.served_at is None:
            # A new claim is stamped as it is made; only an open trial reserved without a
            # stamp (by an older version) gets one here.
            trial_mark_served(trial=trial, now=now)
    return trial


def panelist_lock(panelist: Panelist) -> None:
    """Lock the panelist's row (only it: no join, no ordering) until the transaction ends."""
    locked = Panelist.objects.select_for_update(of=("self",)).filter(pk=panelist.pk).order_by()
    list(locked.values_list("pk", flat=True))

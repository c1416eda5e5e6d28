"""Which trial a panelist hears next.

Rules (DESIGN.md "Flow", step 3):
- balanced coverage: slots of round k are handed out before any slot of round k+1, so every
  pair reaches k ratings before any pair gets k+1 (least-rated pairs first);
- counterbalanced positions: fixed per slot when the slots are created (services.studies);
- order randomised per panelist from the study seed (a keyed hash, reproducible);
- a prompt at most once per panelist among regular trials (also a database constraint);
- catch trials (quality control) are made per panelist at positions drawn from the study
  seed: `planned_catch_trials` of positions 2..planned, each a catch pair (reference vs its
  low-pass anchor, or one excerpt twice) the panelist has not had yet, A/B side drawn too;
- reservations expire and return to the pool with a fresh token;
- no trial at all before the panelist has passed the study's headphone check;
- concurrency: candidate rows are locked with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL,
  and the claim itself is a conditional UPDATE, so two panelists never hold the same slot.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from evaluation.models import Pair, Panelist, Trial
from evaluation.models.study import opaque_token
from evaluation.selectors.headphones import headphone_check_pending

MAX_CLAIM_ATTEMPTS = 8


def reservation_span() -> timedelta:
    return timedelta(seconds=settings.EARSHOT["RESERVATION_S"])


def order_key(seed: int, panelist_id: int, pair_id: int) -> bytes:
    """The per-panelist random order of pairs, derived from the study seed."""
    return hashlib.sha256(f"{seed}:{panelist_id}:{pair_id}".encode()).digest()


def open_trial(panelist: Panelist, now: datetime) -> Trial | None:
    """The panelist's reserved, unanswered trial, renewed; None when there is none."""
    trial = (
        Trial.objects.filter(panelist=panelist, response__isnull=True)
        .select_related("pair__first", "pair__second")
        .first()
    )
    if trial is not None:
        Trial.objects.filter(pk=trial.pk, panelist=panelist).update(
            reserved_until=now + reservation_span()
        )
    return trial


def answered_count(panelist: Panelist) -> int:
    return Trial.objects.filter(panelist=panelist, response__isnull=False).count()


def catch_positions(seed: int, panelist_id: int, planned: int, catch: int) -> set[int]:
    """The 1-based positions of a panelist's catch trials; never the first trial, while the
    panelist is still getting used to the player."""
    ranked = sorted(
        range(2, planned + 1),
        key=lambda position: hashlib.sha256(
            f"{seed}:{panelist_id}:catch:{position}".encode()
        ).digest(),
    )
    return set(ranked[:catch])


def _catch_trial(panelist: Panelist, now: datetime, position: int) -> Trial | None:
    """A new catch trial for this panelist at `position`, or None if the study has none."""
    pairs = list(
        Pair.objects.filter(study_id=panelist.study_id, is_catch=True).values_list(
            "pk", "prompt_id"
        )
    )
    if not pairs:
        return None
    seed = panelist.study.seed
    had = set(
        Trial.objects.filter(panelist=panelist, is_catch=True).values_list("pair_id", flat=True)
    )
    fresh = [row for row in pairs if row[0] not in had] or pairs
    pair_id, prompt_id = min(fresh, key=lambda row: order_key(seed, panelist.pk, row[0]))
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
                    reserved_until=now + reservation_span(),
                    is_catch=True,
                )
        except IntegrityError:
            continue  # another panelist took that round of the pair at the same moment
    return None


def free_slots(panelist: Panelist, now: datetime):
    """Unanswered slots of the panelist's study they could claim now: unreserved or expired,
    for a prompt they have not been given yet."""
    seen_prompts = Trial.objects.filter(panelist=panelist, is_catch=False).values("prompt_id")
    return (
        Trial.objects.filter(
            pair__study_id=panelist.study_id, response__isnull=True, is_catch=False
        )
        .filter(Q(panelist__isnull=True) | Q(reserved_until__lt=now))
        .exclude(prompt_id__in=seen_prompts)
    )


def _claim(panelist: Panelist, now: datetime) -> Trial | None:
    with transaction.atomic():
        free = free_slots(panelist, now)
        lowest = free.order_by("round").values_list("round", flat=True).first()
        if lowest is None:
            return None
        candidates = free.filter(round=lowest)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        rows = list(candidates.values_list("pk", "pair_id", "reserved_until"))
        if not rows:
            return None
        seed = panelist.study.seed
        pk, _, previous_until = min(rows, key=lambda row: order_key(seed, panelist.pk, row[1]))
        position = answered_count(panelist) + 1
        claimed = (
            Trial.objects.filter(pk=pk, response__isnull=True)
            .filter(Q(panelist__isnull=True) | Q(reserved_until__lt=now))
            .update(
                panelist=panelist,
                token=opaque_token(),
                position=position,
                reserved_until=now + reservation_span(),
                served_at=None,
            )
        )
        if not claimed:
            return None
        return Trial.objects.select_related("pair__first", "pair__second").get(pk=pk)


def trial_next(*, panelist: Panelist, now: datetime | None = None) -> Trial | None:
    """The trial to show now: the open one (resume), else a newly claimed slot, else None.

    None as well while the panelist has not passed the study's headphone check: nothing is
    reserved for someone who may never be allowed to listen."""
    if headphone_check_pending(panelist=panelist):
        return None
    now = now or timezone.now()
    trial = open_trial(panelist, now)
    if trial is not None:
        return trial
    position = answered_count(panelist) + 1
    if position > panelist.planned_trials or not panelist.study.is_open:
        return None
    planned, catch = panelist.planned_trials, panelist.planned_catch_trials
    if position in catch_positions(panelist.study.seed, panelist.pk, planned, catch):
        trial = _catch_trial(panelist, now, position)
        if trial is not None:
            return trial
    for _ in range(MAX_CLAIM_ATTEMPTS):
        try:
            trial = _claim(panelist, now)
        except IntegrityError:
            # Lost a race for a prompt constraint; the next attempt sees fresh state.
            continue
        if trial is not None or not free_slots(panelist, now).exists():
            return trial
    return None


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
    trial = trial_next(panelist=panelist, now=now)
    if trial is not None:
        trial_mark_served(trial=trial, now=now)
    return trial

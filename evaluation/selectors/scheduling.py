"""Reads for scheduling: the order a panelist meets pairs in, where their catch trials fall,
and which slots they could claim now. Nothing here writes; the claims, renewals and catch
trials themselves are made by ``services.scheduling``.

Rules (the whole scheduling policy, reads and writes):
- balanced coverage: slots of round k are handed out before any slot of round k+1, so every
  pair reaches k ratings before any pair gets k+1 (least-rated pairs first);
- counterbalanced positions: fixed per slot when the slots are created (services.studies);
- order randomised per panelist from the study seed (a keyed hash, reproducible);
- a prompt at most once per panelist among regular trials (also a database constraint);
- catch trials (quality control) are made per panelist at positions drawn from the study
  seed: `planned_catch_trials` of positions 2..planned, each a catch pair (reference vs its
  low-pass anchor, or one excerpt twice) the panelist has not had yet, A/B side drawn too;
- reservations expire and return to the pool with a fresh token; a new one is short and grows
  only on real activity, and one invite's listeners hold a capped number at once
  (selectors.reservations);
- strata: with quotas, a panelist only claims slots of their own stratum (K per pair each);
- no trial at all before the panelist has passed the study's headphone check;
- concurrency: candidate rows are locked with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL,
  and the claim itself is a conditional UPDATE, so two panelists never hold the same slot.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from evaluation.models import Pair, Panelist, Trial
from evaluation.selectors.reservations import claimable


def reservation_span() -> timedelta:
    """How long a reserved trial stays with its panelist (settings EARSHOT["RESERVATION_S"])."""
    return timedelta(seconds=settings.EARSHOT["RESERVATION_S"])


def order_key(seed: int, panelist_id: int, pair_id: int) -> bytes:
    """The per-panelist random order of pairs, derived from the study seed: a 32-byte
    SHA-256 digest; pairs are met in increasing key order."""
    return hashlib.sha256(f"{seed}:{panelist_id}:{pair_id}".encode()).digest()


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


def answered_count(panelist: Panelist) -> int:
    """How many trials the panelist has answered (regular and catch)."""
    return Trial.objects.filter(panelist=panelist, response__isnull=False).count()


def free_slots(panelist: Panelist, now: datetime) -> QuerySet[Trial]:
    """Unanswered slots of the panelist's study and stratum they could claim now (unreserved,
    expired, or idle past the grace: ``selectors.reservations.claimable``), for a prompt
    they have not been given yet."""
    seen_prompts = Trial.objects.filter(panelist=panelist, is_catch=False).values("prompt_id")
    return (
        Trial.objects.filter(
            pair__study_id=panelist.study_id,
            response__isnull=True,
            is_catch=False,
            stratum=panelist.stratum,
        )
        .filter(claimable(now))
        .exclude(prompt_id__in=seen_prompts)
    )


def catch_pair_next(panelist: Panelist) -> tuple[int, int] | None:
    """The catch pair the panelist meets next, as (pair id, prompt id): one they have not had
    yet (any once all were had), first in their seeded order; None if the study has none."""
    pairs = list(
        Pair.objects.filter(study_id=panelist.study_id, is_catch=True).values_list(
            "pk", "prompt_id"
        )
    )
    if not pairs:
        return None
    had = set(
        Trial.objects.filter(panelist=panelist, is_catch=True).values_list("pair_id", flat=True)
    )
    fresh = [row for row in pairs if row[0] not in had] or pairs
    seed = panelist.study.seed
    return min(fresh, key=lambda row: order_key(seed, panelist.pk, row[0]))

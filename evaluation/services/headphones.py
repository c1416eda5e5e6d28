"""The headphone check (Woods et al. 2017): making a panelist's items and scoring them.

The correct answers (which tone is 6 dB quieter) are drawn here and kept in the database;
the page gets opaque audio tokens only, and answers are scored on the server."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import HeadphoneItem, Panelist
from evaluation.selectors.headphones import (
    headphone_attempts_left,
    headphone_check_pending,
    headphone_open_items,
)
from evaluation.services import ServiceError
from evaluation.stimuli.headphones import ORDERS


@dataclass(frozen=True)
class HeadphoneOutcome:
    """The result of one scored attempt. `passed` is None while attempts are left."""

    correct: int
    items: int
    passed: bool | None
    attempts_made: int
    attempts_left: int


def headphone_orders(*, seed: int, panelist_id: int, attempt: int, items: int) -> list[tuple]:
    """The role order of each item of one attempt, from the study seed (reproducible).

    The six orders of (reference, quiet, antiphase) are shuffled by a keyed hash and dealt
    in turn, so with six items each position is the quiet one exactly twice: always
    answering "first" scores 2 of 6, as does any guess without headphones in expectation."""

    def key(order):
        return hashlib.sha256(
            f"{seed}:{panelist_id}:headphones:{attempt}:{order}".encode()
        ).digest()

    shuffled = sorted(ORDERS, key=key)
    return [shuffled[index % len(shuffled)] for index in range(items)]


@transaction.atomic
def headphone_attempt_start(*, panelist: Panelist) -> list[HeadphoneItem]:
    """Make the items of the panelist's next attempt; idempotent: an attempt in progress is
    returned as it is. Returns [] when there is nothing to start (check not pending, or no
    attempt left)."""
    panelist = (
        # of=("self",): lock the panelist's row only. Without it PostgreSQL locks the joined
        # study row too (FOR UPDATE covers every joined table), serialising every headphone
        # check and join of the study behind one lock.
        Panelist.objects.select_for_update(of=("self",)).select_related("study").get(pk=panelist.pk)
    )
    if not headphone_check_pending(panelist=panelist) or panelist.headphone_passed is False:
        return []
    existing = headphone_open_items(panelist=panelist)
    if existing:
        return existing
    if headphone_attempts_left(panelist=panelist) == 0:
        return []
    study = panelist.study
    attempt = panelist.headphone_attempts_made + 1
    orders = headphone_orders(
        seed=study.seed, panelist_id=panelist.pk, attempt=attempt, items=study.headphone_items
    )
    return HeadphoneItem.objects.bulk_create(
        HeadphoneItem(
            panelist=panelist,
            attempt=attempt,
            index=index,
            quiet_position=order.index("quiet") + 1,
            antiphase_position=order.index("antiphase") + 1,
        )
        for index, order in enumerate(orders, start=1)
    )


@transaction.atomic
def headphone_attempt_score(
    *,
    panelist: Panelist,
    answers: dict[int, int],
    attempt: int | None = None,
    now: datetime | None = None,
) -> HeadphoneOutcome:
    """Score the attempt in progress. `answers` maps each item's 1-based index to the tone
    the panelist picked as quietest (1, 2 or 3); every item must be answered. `attempt`, when
    given (the page sends the number it showed), must be the attempt in progress, so a
    resubmitted form can never score the next attempt's items with the last one's answers.

    Passing needs `study.headphone_pass_min` correct items; a panelist who misses it on the
    last attempt is marked failed and gets no trials."""
    now = now or timezone.now()
    caller_copy = panelist
    panelist = (
        Panelist.objects.select_for_update(of=("self",)).select_related("study").get(pk=panelist.pk)
    )
    study = panelist.study
    items = headphone_open_items(panelist=panelist)
    if not items or (attempt is not None and attempt != items[0].attempt):
        raise ServiceError(
            _("there is no headphone check in progress to answer; open the invite link again"),
            code="no_headphone_check",
            status=409,
        )
    missing = [item.index for item in items if item.index not in answers]
    if missing:
        listing = ", ".join(str(index) for index in missing)
        raise ServiceError(
            _("answer every sound: which tone was quietest is missing for sound %(listing)s")
            % {"listing": listing},
            code="headphone_incomplete",
        )
    unknown = sorted(set(answers) - {item.index for item in items})
    invalid = [index for index, value in answers.items() if value not in (1, 2, 3)]
    if unknown or invalid:
        raise ServiceError(
            _("each answer must be tone 1, 2 or 3 of one of the sounds on the page"),
            code="headphone_invalid",
        )
    for item in items:
        item.answer, item.answered_at = answers[item.index], now
    HeadphoneItem.objects.bulk_update(items, ["answer", "answered_at"])
    correct = sum(1 for item in items if item.correct)
    panelist.headphone_attempts_made += 1
    panelist.headphone_correct = correct
    if correct >= study.headphone_pass_min:
        panelist.headphone_passed = True
    elif panelist.headphone_attempts_made >= study.headphone_attempts:
        panelist.headphone_passed = False
    fields = ["headphone_attempts_made", "headphone_correct", "headphone_passed"]
    panelist.save(update_fields=fields)
    for field in fields:  # the caller's instance goes on to scheduling: keep it current
        setattr(caller_copy, field, getattr(panelist, field))
    return HeadphoneOutcome(
        correct=correct,
        items=len(items),
        passed=panelist.headphone_passed,
        attempts_made=panelist.headphone_attempts_made,
        attempts_left=headphone_attempts_left(panelist=panelist),
    )

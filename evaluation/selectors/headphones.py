"""Reads for the headphone check: whether a panelist still has to pass it, and the items of
the attempt in progress. Nothing here writes (the check's page is shown on GET)."""

from evaluation.models import HeadphoneItem, Panelist
from evaluation.stimuli.headphones import ORDERS


def headphone_check_pending(*, panelist: Panelist) -> bool:
    """True while the panelist may not be given trials because of the headphone check: the
    study asks for it, they are a person (simulated panelists skip it), and they have not
    passed (still trying, or failed every attempt)."""
    return (
        panelist.study.headphone_check
        and not panelist.simulated
        and panelist.headphone_passed is not True
    )


def headphone_open_items(*, panelist: Panelist) -> list[HeadphoneItem]:
    """The items of the attempt in progress (made, not yet scored), in playing order."""
    return list(
        HeadphoneItem.objects.filter(
            panelist=panelist, attempt=panelist.headphone_attempts_made + 1
        ).order_by("index")
    )


def headphone_attempts_left(*, panelist: Panelist) -> int:
    return max(0, panelist.study.headphone_attempts - panelist.headphone_attempts_made)


def headphone_item_order(*, item: HeadphoneItem) -> tuple[str, ...]:
    """The tone order an item plays, one of ``stimuli.headphones.ORDERS`` (e.g. ``("reference",
    "quiet", "antiphase")``), from the 1-based quiet and antiphase positions it stores."""
    return next(
        order
        for order in ORDERS
        if order.index("quiet") + 1 == item.quiet_position
        and order.index("antiphase") + 1 == item.antiphase_position
    )

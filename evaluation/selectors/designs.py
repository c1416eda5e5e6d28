"""Reads and decisions for the study designs (issue 12): which stimuli a pool trial shows, in
which screen order, and which kind (human or AI) a single-track listener should meet next.
Nothing here writes; ``services.studies.slots_ensure`` and ``services.scheduling`` do.

Pool plan (documented in docs/architecture.md, "Study designs"): a pool draws its candidates
from **one prompt** (the same brief, like an A/B pair), so a prompt needs at least
``pool_size`` prepared tracks. The prompt's M stimuli are put in one seeded order in which
human and AI tracks are interleaved in proportion; slot k (k = 0..K-1) shows the N =
``pool_size`` consecutive stimuli starting at ``k * N`` (cyclically), so every stimulus is shown
equally often over M slots and each pool's AI share stays within one of the prompt's share;
its screen order is a minimum-cost matching of candidates to positions (cost: how often the
candidate and its kind were shown there before), so both visit every position equally."""

import hashlib

import numpy as np
from django.db.models import Count
from scipy.optimize import linear_sum_assignment

from evaluation.models import Pair, Panelist, Trial


def _seeded(seed: int, label: str, pk: int) -> bytes:
    return hashlib.sha256(f"{seed}:{label}:{pk}".encode()).digest()


def interleaved_order(stimuli: list[tuple[int, str]], seed: int) -> list[int]:
    """Stimulus ids, ``stimuli`` = [(id, kind)], in a seeded order with the kinds (human,
    ai) interleaved in proportion: the j-th of n stimuli of a kind sits at (j + 0.5) / n."""
    by_kind: dict[str, list[int]] = {}
    for pk, kind in stimuli:
        by_kind.setdefault(kind, []).append(pk)
    placed = []
    for kind, pks in sorted(by_kind.items()):
        pks.sort(key=lambda pk: _seeded(seed, "pool", pk))
        placed += [((j + 0.5) / len(pks), kind, pk) for j, pk in enumerate(pks)]
    return [pk for _, _, pk in sorted(placed)]


def pool_plan(
    stimuli: list[tuple[int, str]], *, pool_size: int, rounds: int, seed: int
) -> list[list[int]]:
    """For each of ``rounds`` slots, the stimulus ids shown, in screen order (position 1
    first). ValueError when the prompt has fewer than ``pool_size`` stimuli.

    Subsets: cyclic windows over ``interleaved_order``. Screen order: each slot's candidates
    are assigned to positions by a minimum-cost matching (scipy's linear_sum_assignment)
    whose cost is how often the candidate, plus how often its kind (human or AI), was shown
    at that position in the earlier slots, so candidates and kinds visit every position
    equally often (ties broken by a rotation with the slot)."""
    order = interleaved_order(stimuli, seed)
    kinds = dict(stimuli)
    m, n = len(order), pool_size
    if m < n:
        raise ValueError(f"a pool of {n} needs {n} prepared tracks of the prompt; it has {m}")
    shown_at: dict[tuple[int, int], int] = {}
    kind_at: dict[tuple[str, int], int] = {}
    plan = []
    for k in range(rounds):
        window = [order[(k * n + i) % m] for i in range(n)]
        cost = np.array(
            [
                [
                    shown_at.get((pk, p), 0)
                    + kind_at.get((kinds[pk], p), 0)
                    + 1e-3 * ((i - p - k) % n)
                    for p in range(n)
                ]
                for i, pk in enumerate(window)
            ]
        )
        rows, positions = linear_sum_assignment(cost)
        screen = [0] * n
        for row, position in zip(rows, positions, strict=True):
            pk = window[row]
            screen[position] = pk
            shown_at[(pk, position)] = shown_at.get((pk, position), 0) + 1
            kind_at[(kinds[pk], position)] = kind_at.get((kinds[pk], position), 0) + 1
        plan.append(screen)
    return plan


def pool_stimuli_by_pair(study) -> dict[int, list[tuple[int, str]]]:
    """Per pool pair of ``study``: its prompt's regular stimuli as [(id, system kind)]."""
    from evaluation.models import Stimulus

    pairs = dict(
        Pair.objects.filter(study=study, kind=Pair.Kind.POOL).values_list("prompt_id", "pk")
    )
    rows = Stimulus.objects.filter(
        track__prompt_id__in=list(pairs), kind=Stimulus.Kind.REGULAR
    ).values_list("pk", "track__system__kind", "track__prompt_id")
    grouped: dict[int, list[tuple[int, str]]] = {pk: [] for pk in pairs.values()}
    for pk, kind, prompt_id in rows:
        grouped[pairs[prompt_id]].append((pk, kind))
    return grouped


def single_kind_counts(panelist: Panelist) -> dict[str, int]:
    """How many single-track trials of each system kind (human, ai) the panelist has had."""
    rows = (
        Trial.objects.filter(panelist=panelist, is_catch=False)
        .values("pair__first__track__system__kind")
        .annotate(n=Count("pk"))
    )
    return {row["pair__first__track__system__kind"]: row["n"] for row in rows}


def pair_kinds(pair_ids: list[int]) -> dict[int, str]:
    """System kind (human, ai) of the track of each single-track pair."""
    return dict(
        Pair.objects.filter(pk__in=pair_ids).values_list("pk", "first__track__system__kind")
    )


def trial_questions(*, study, kind: str) -> dict:
    """What the trial page of ``kind`` (ab, single, pool) asks in ``study``: flags, the
    sides that get per-track questions (``a``, ``b`` for A/B; ``a`` for a single track), and
    the aspects as [{name, label, mode}] in catalogue order. Nothing here names a system."""
    from evaluation.models.study import ASPECT_LABELS

    sides = ["a", "b"] if kind == "ab" else ["a"]
    aspects = (
        [
            {"name": name, "label": ASPECT_LABELS[name], "mode": study.aspects[name]}
            for name in study.aspect_names()
        ]
        if kind != "pool"
        else []
    )
    return {
        "kind": kind,
        "sides": sides,
        "familiar": study.ask_familiar,
        "hit": study.ask_hit and kind != "pool",
        "rating": (kind == "ab" and study.ask_rating) or (kind == "single" and study.ask_liked),
        "liked": kind == "ab" and study.ask_liked,
        "ai": study.ask_ai and kind != "pool",
        "weaker": study.ask_weaker and kind != "pool",
        "aspects": aspects,
        "preference_aspects": [a for a in aspects if a["mode"] == "preference"],
        "rating_aspects": [a for a in aspects if a["mode"] == "rating"],
        "top3": kind == "pool" and study.pool_rank_top3,
    }

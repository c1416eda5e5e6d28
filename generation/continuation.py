"""Continuation: given the first N bars of all four voices, write M more bars.

The human reference is Bach's own next M bars: the chorale cut after N + M bars. The generated
side keeps the first N bars of all four voices note for note, then

1. the soprano model (:mod:`generation.soprano`) continues the melody, teacher-forced on the
   given bars, and
2. the neural harmonizer (:mod:`generation.neural`) writes alto, tenor and bass under the whole
   soprano, with the lower voices of the given bars forced to Bach's.

Both sides share the length, key, meter and the fermata mask (the phrase plan, which also sets
the renderer's timing), so the two tracks last exactly as long and only the notes after bar N
differ. A pickup counts as the first bar, as in :attr:`Chorale.bars`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache

import numpy as np

from generation.backends import Melody, Voices, get_harmonizer
from generation.dataset import SPLITS, Chorale, load_dataset
from generation.pairs import REFERENCE_SYSTEM, PromptPair, prompt_seed, render_track
from generation.soprano import CHECKPOINT_PATH as SOPRANO_CHECKPOINT
from generation.soprano import SopranoContinuer

SYSTEM = "builtin-continuation"
VERSION = "1"


def prefix_steps(chorale: Chorale, bars: int) -> int:
    """16th-note steps in the first ``bars`` bars (a pickup is the first bar)."""
    return bars * chorale.bar_steps - chorale.bar_offset


def excerpt_steps(chorale: Chorale, *, bars: int, continue_bars: int) -> int:
    return prefix_steps(chorale, bars) + continue_bars * chorale.bar_steps


def excerpt(chorale: Chorale, steps: int) -> Chorale:
    """The first ``steps`` steps of ``chorale`` (a note sounding across the cut is cut)."""
    return dataclasses.replace(
        chorale,
        pitches=chorale.pitches[:, :steps].copy(),
        onsets=chorale.onsets[:, :steps].copy(),
        fermatas=chorale.fermatas[:steps].copy(),
    )


@cache
def soprano_continuer() -> SopranoContinuer:
    return SopranoContinuer.load()


def eligible_chorales(*, split: str, bars: int, continue_bars: int) -> list[Chorale]:
    """Chorales of ``split`` long enough for ``bars`` + ``continue_bars`` bars, in id order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    if bars < 1 or continue_bars < 1:
        raise ValueError(f"bars and continue_bars must be >= 1, got {bars} and {continue_bars}")
    return [
        chorale
        for chorale in load_dataset().in_split(split)
        if chorale.steps >= excerpt_steps(chorale, bars=bars, continue_bars=continue_bars)
    ]


def select_continuations(
    *, n: int, seed: int, split: str, bars: int, continue_bars: int
) -> list[Chorale]:
    """Up to ``n`` eligible chorales drawn with ``numpy.random.default_rng(seed)``."""
    chorales = eligible_chorales(split=split, bars=bars, continue_bars=continue_bars)
    if not chorales:
        raise ValueError(
            f"no {split} chorale has {bars} + {continue_bars} bars; ask for fewer bars"
        )
    order = np.random.default_rng(seed).permutation(len(chorales))[:n]
    return [chorales[index] for index in order.tolist()]


@dataclass(frozen=True, eq=False)
class Continuation:
    """Bach's first ``bars`` + ``continue_bars`` bars (``reference``) and the model's
    continuation of the same first ``bars`` (``generated``); both are :class:`Chorale` of
    ``reference.steps`` steps, identical on steps ``< prefix_steps``."""

    reference: Chorale
    generated: Chorale
    prefix_steps: int
    soprano_seed: int
    harmony_seed: int


def continue_chorale(chorale: Chorale, *, bars: int, continue_bars: int, seed: int) -> Continuation:
    """Continue the first ``bars`` bars of ``chorale`` for ``continue_bars`` bars.

    ``seed`` is the study seed; per-chorale seeds come from :func:`prompt_seed`, so the same
    (chorale, bars, seed) always gives the same notes. ValueError if the chorale is too short.
    """
    steps = excerpt_steps(chorale, bars=bars, continue_bars=continue_bars)
    if bars < 1 or continue_bars < 1 or steps > chorale.steps:
        raise ValueError(
            f"{chorale.chorale_id} has {chorale.bars} bars; cannot continue {bars} bars "
            f"for {continue_bars} more"
        )
    reference = excerpt(chorale, steps)
    given = prefix_steps(chorale, bars)
    soprano_seed, harmony_seed = (
        int(s)
        for s in np.random.SeedSequence(prompt_seed(seed, chorale.chorale_id)).generate_state(2)
    )
    pitches, onsets = soprano_continuer().continue_line(
        reference.pitches[0],
        reference.onsets[0],
        reference.fermatas,
        prefix_steps=given,
        key_tonic=chorale.key_tonic,
        key_mode=chorale.key_mode,
        meter=chorale.meter,
        bar_offset=chorale.bar_offset,
        seed=soprano_seed,
    )
    melody = dataclasses.replace(Melody.from_chorale(reference), pitches=pitches, onsets=onsets)
    network = get_harmonizer("builtin").network
    voices = network.harmonize(
        melody,
        seed=harmony_seed,
        forced=Voices(pitches=reference.pitches, onsets=reference.onsets),
        forced_steps=given,
    )
    voices.validate_against(melody)
    generated = dataclasses.replace(reference, pitches=voices.pitches, onsets=voices.onsets)
    return Continuation(
        reference=reference,
        generated=generated,
        prefix_steps=given,
        soprano_seed=soprano_seed,
        harmony_seed=harmony_seed,
    )


def describe() -> dict:
    """Provenance of continuation tracks: both checkpoints and their hashes."""
    harmonizer = get_harmonizer("builtin")
    continuer = soprano_continuer()
    return {
        "system": SYSTEM,
        "system_version": VERSION,
        "checkpoint": harmonizer.checkpoint,
        "checkpoint_sha256": harmonizer.checkpoint_sha256,
        "soprano_checkpoint": SOPRANO_CHECKPOINT.name,
        "soprano_checkpoint_sha256": continuer.checkpoint_sha256,
        "temperature": harmonizer.network.temperature,
        "soprano_temperature": continuer.temperature,
    }


def prompt_text(chorale: Chorale, *, bars: int, continue_bars: int) -> str:
    """E.g. ``First 4 bars of BWV 269 (G major, 3/4), continued for 4 bars``."""
    return (
        f"First {bars} bars of {chorale.bwv} ({chorale.key_name}, {chorale.meter}), "
        f"continued for {continue_bars} bars"
    )


def build_continuation_pair(
    chorale: Chorale, *, bars: int, continue_bars: int, seed: int
) -> PromptPair:
    """Bach's continuation and the model's, rendered alike (see :func:`continue_chorale`)."""
    continuation = continue_chorale(chorale, bars=bars, continue_bars=continue_bars, seed=seed)
    shared = {"bars": bars, "continue_bars": continue_bars}
    return PromptPair(
        prompt_id=chorale.chorale_id,
        prompt_text=prompt_text(chorale, bars=bars, continue_bars=continue_bars),
        reference=render_track(
            continuation.reference,
            provenance={"system": REFERENCE_SYSTEM, "seed": None, **shared},
        ),
        generated=render_track(
            continuation.generated,
            provenance={
                **describe(),
                **shared,
                "seed": continuation.soprano_seed,
                "harmony_seed": continuation.harmony_seed,
                "study_seed": seed,
            },
        ),
    )

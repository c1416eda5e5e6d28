"""The one interface every harmonizer backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from generation.dataset import REST, Chorale

# MIDI pitch ranges (inclusive) a generated alto, tenor and bass must stay within: Bach's own
# extremes in the corpus, so a backend trained on it is never forced off its data.
VOICE_RANGES: dict[str, tuple[int, int]] = {
    "soprano": (57, 81),
    "alto": (53, 74),
    "tenor": (48, 69),
    "bass": (36, 64),
}


@dataclass(frozen=True, eq=False)
class Melody:
    """The prompt a harmonizer answers: a soprano line on the 16th-note grid plus its context.

    ``pitches``: int16 ndarray [steps], MIDI pitch or ``REST``; ``onsets``: bool ndarray
    [steps]; ``fermatas``: bool ndarray [steps]; ``key_tonic``: pitch class 0-11;
    ``key_mode``: "major" | "minor"; ``meter``: "4/4" | "3/4"; ``bar_offset``: position of
    step 0 in its bar, in steps.
    """

    pitches: np.ndarray
    onsets: np.ndarray
    fermatas: np.ndarray
    key_tonic: int
    key_mode: str
    meter: str
    bar_offset: int

    @classmethod
    def from_chorale(cls, chorale: Chorale) -> Melody:
        return cls(
            pitches=chorale.pitches[0].copy(),
            onsets=chorale.onsets[0].copy(),
            fermatas=chorale.fermatas.copy(),
            key_tonic=chorale.key_tonic,
            key_mode=chorale.key_mode,
            meter=chorale.meter,
            bar_offset=chorale.bar_offset,
        )

    @property
    def steps(self) -> int:
        return int(self.pitches.shape[0])

    def beat_mask(self) -> np.ndarray:
        """bool ndarray [steps]: True on steps that start a quarter-note beat."""
        return (self.bar_offset + np.arange(self.steps)) % 4 == 0


@dataclass(frozen=True, eq=False)
class Voices:
    """A four-part setting: ``pitches`` int16 [4, steps] (S, A, T, B; ``REST`` = 0) and
    ``onsets`` bool [4, steps]. Row 0 is the prompt's soprano, unchanged."""

    pitches: np.ndarray
    onsets: np.ndarray

    def validate_against(self, melody: Melody) -> None:
        """Raise ValueError unless this is a well-formed setting of ``melody``."""
        steps = melody.steps
        if self.pitches.shape != (4, steps) or self.onsets.shape != (4, steps):
            raise ValueError(f"voices must be [4, {steps}], got {self.pitches.shape}")
        if not (
            np.array_equal(self.pitches[0], melody.pitches)
            and np.array_equal(self.onsets[0], melody.onsets)
        ):
            raise ValueError("the soprano was changed")
        if not self.onsets[:, 0].all():
            raise ValueError("every voice must start with an onset")
        for index, name in enumerate(("alto", "tenor", "bass"), start=1):
            low, high = VOICE_RANGES[name]
            sounding = self.pitches[index][self.pitches[index] != REST]
            if len(sounding) and (sounding.min() < low or sounding.max() > high):
                raise ValueError(f"{name} leaves its range {low}-{high}")


class Harmonizer(ABC):
    """A system that writes alto, tenor and bass under a given soprano.

    Implementations must be deterministic given ``seed``: the same melody and seed give the
    same notes on every machine.
    """

    name: ClassVar[str]
    version: ClassVar[str]

    @abstractmethod
    def harmonize(self, melody: Melody, *, seed: int) -> Voices:
        """Return a four-part setting of ``melody``; row 0 is ``melody`` unchanged."""

    def describe(self) -> dict:
        """Provenance fields for tracks made by this system."""
        return {"system": self.name, "system_version": self.version}

"""The public API the Django side calls: matched (Bach, generated) pairs, rendered alike.

>>> pairs = build_pairs(n=8, seed=0, system="markov", split="test")
>>> pairs[0].prompt_id, pairs[0].reference.samples.shape == pairs[0].generated.samples.shape
('bach/bwv...', True)

Each pair shares the soprano melody, key, meter, fermatas, length and the renderer, so only
the lower three voices differ.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generation.backends import Melody, available_systems, get_harmonizer
from generation.dataset import SPLITS, Chorale, load_dataset
from generation.midi import chorale_midi_bytes
from generation.render import DEFAULT_SETTINGS, RENDERER_VERSION, render_chorale, write_wav
from generation.version import GENERATOR_VERSION

REFERENCE_SYSTEM = "bach"


@dataclass(frozen=True, eq=False)
class Rendered:
    """One track: ``samples`` float32 ndarray [2, n] at ``sample_rate`` Hz, its four-track MIDI
    file (S, A, T, B) and where it came from."""

    samples: np.ndarray
    sample_rate: int
    midi_bytes: bytes
    provenance: dict

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    def write_wav(self, path: Path | str) -> Path:
        """Write the audio as 24-bit PCM WAV; returns the path."""
        return write_wav(path, self.samples, self.sample_rate)

    def write_midi(self, path: Path | str) -> Path:
        path = Path(path)
        path.write_bytes(self.midi_bytes)
        return path


@dataclass(frozen=True, eq=False)
class PromptPair:
    """Bach's harmonization (``reference``) and a system's (``generated``) of one melody."""

    prompt_id: str
    prompt_text: str
    reference: Rendered
    generated: Rendered


def prompt_text(chorale: Chorale) -> str:
    """A human description of the prompt, e.g. ``Soprano melody of BWV 269 (G major, 3/4,
    21 bars)``."""
    context = f"{chorale.key_name}, {chorale.meter}, {chorale.bars} bars"
    return f"Soprano melody of {chorale.bwv} ({context})"


def prompt_seed(seed: int, chorale_id: str) -> int:
    """The sampling seed for one prompt: fixed by the study seed and the chorale, independent
    of which other prompts were drawn. A 32-bit non-negative int."""
    entropy = [int(seed) & 0xFFFFFFFF, zlib.crc32(chorale_id.encode("utf-8"))]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def select_chorales(*, n: int, seed: int, split: str = "test") -> list[Chorale]:
    """``n`` distinct chorales of ``split`` drawn with ``numpy.random.default_rng(seed)``.

    The same (n, seed, split) always gives the same chorales in the same order. ValueError if
    the split holds fewer than ``n``.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    chorales = load_dataset().in_split(split)
    if not 0 < n <= len(chorales):
        raise ValueError(f"n must be between 1 and {len(chorales)} for split {split!r}, got {n}")
    order = np.random.default_rng(seed).permutation(len(chorales))[:n]
    return [chorales[index] for index in order.tolist()]


def harmonize_chorale(chorale: Chorale, *, system: str, seed: int) -> Chorale:
    """The chorale with alto, tenor and bass rewritten by ``system`` (soprano kept)."""
    melody = Melody.from_chorale(chorale)
    voices = get_harmonizer(system).harmonize(melody, seed=seed)
    voices.validate_against(melody)
    return dataclasses.replace(chorale, pitches=voices.pitches, onsets=voices.onsets)


def render_track(chorale: Chorale, *, provenance: dict) -> Rendered:
    """Render audio and MIDI of a four-part setting with the shared renderer."""
    return Rendered(
        samples=render_chorale(chorale, DEFAULT_SETTINGS),
        sample_rate=DEFAULT_SETTINGS.sample_rate,
        midi_bytes=chorale_midi_bytes(chorale, DEFAULT_SETTINGS),
        provenance={
            **provenance,
            "source": chorale.chorale_id,
            "generator_version": GENERATOR_VERSION,
            "renderer_version": RENDERER_VERSION,
        },
    )


def build_pair(chorale: Chorale, *, seed: int, system: str = "markov") -> PromptPair:
    """One pair for one chorale; ``seed`` is the study seed (see :func:`prompt_seed`)."""
    harmonizer = get_harmonizer(system)
    sampling_seed = prompt_seed(seed, chorale.chorale_id)
    generated = harmonize_chorale(chorale, system=system, seed=sampling_seed)
    reference = render_track(chorale, provenance={"system": REFERENCE_SYSTEM, "seed": None})
    return PromptPair(
        prompt_id=chorale.chorale_id,
        prompt_text=prompt_text(chorale),
        reference=reference,
        generated=render_track(
            generated,
            provenance={**harmonizer.describe(), "seed": sampling_seed, "study_seed": seed},
        ),
    )


def build_pairs(
    *, n: int, seed: int, system: str = "markov", split: str = "test"
) -> list[PromptPair]:
    """``n`` pairs (Bach vs ``system``) for chorales drawn from ``split`` by ``seed``.

    Deterministic: the same arguments give bit-identical audio and MIDI. ValueError for an
    unknown system or split, or ``n`` larger than the split.
    """
    if system not in available_systems():
        raise ValueError(
            f"unknown or unavailable system {system!r}; available: {available_systems()}"
        )
    return [
        build_pair(chorale, seed=seed, system=system)
        for chorale in select_chorales(n=n, seed=seed, split=split)
    ]


__all__ = [
    "PromptPair",
    "Rendered",
    "available_systems",
    "build_pair",
    "build_pairs",
    "harmonize_chorale",
    "prompt_text",
    "select_chorales",
    "write_wav",
]

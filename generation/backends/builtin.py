"""The ``builtin`` backend: the shipped neural harmonizer (see :mod:`generation.neural`)."""

from __future__ import annotations

from pathlib import Path

from generation.backends.base import Harmonizer, Melody, Voices
from generation.neural import CHECKPOINT_PATH, NeuralHarmonizer
from generation.search import Penalties


def checkpoint_ships(path: Path = CHECKPOINT_PATH) -> bool:
    return Path(path).is_file()


class BuiltinHarmonizer(Harmonizer):
    """Seeded neural harmonizer searched by sequential Monte Carlo (``particles``);
    ``temperature`` < 1 sharpens the network's distribution."""

    name = "builtin"
    version = "2"

    def __init__(
        self,
        path: Path | str = CHECKPOINT_PATH,
        *,
        temperature: float = 1.0,
        particles: int = 16,
        penalties: Penalties | None = None,
    ):
        self.network = NeuralHarmonizer.load(
            path, temperature=temperature, particles=particles, penalties=penalties
        )
        self.checkpoint = Path(path).name

    @property
    def checkpoint_sha256(self) -> str:
        return self.network.checkpoint_sha256

    def harmonize(self, melody: Melody, *, seed: int) -> Voices:
        return self.network.harmonize(melody, seed=seed)

    def describe(self) -> dict:
        return {
            **super().describe(),
            "checkpoint": self.checkpoint,
            "checkpoint_sha256": self.checkpoint_sha256,
            "temperature": self.network.temperature,
            "search": "sequential Monte Carlo",
            "particles": self.network.particles,
            "penalties": self.network.penalties.as_dict(),
        }

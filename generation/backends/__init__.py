"""Registry of harmonizer backends, all behind :class:`~generation.backends.base.Harmonizer`.

``markov`` is the baseline and the low anchor of every study. A neural ``builtin`` backend is
registered as available only when its trained checkpoint ships with the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from generation.backends.base import VOICE_RANGES, Harmonizer, Melody, Voices


@dataclass(frozen=True)
class SystemEntry:
    factory: Callable[[], Harmonizer]
    is_available: Callable[[], bool]


_REGISTRY: dict[str, SystemEntry] = {}


def register_system(
    name: str,
    factory: Callable[[], Harmonizer],
    *,
    is_available: Callable[[], bool] = lambda: True,
) -> None:
    """Add a backend under ``name``; ``factory`` is called once, on first use."""
    _REGISTRY[name] = SystemEntry(factory=factory, is_available=is_available)
    get_harmonizer.cache_clear()


def available_systems() -> list[str]:
    """Names of the backends that can generate right now, sorted (e.g. ``["markov"]``)."""
    return sorted(name for name, entry in _REGISTRY.items() if entry.is_available())


@cache
def get_harmonizer(name: str) -> Harmonizer:
    """The (cached) backend instance for ``name``; ValueError for an unknown or absent one."""
    if name not in available_systems():
        raise ValueError(
            f"unknown or unavailable system {name!r}; available: {available_systems()}"
        )
    return _REGISTRY[name].factory()


def _markov() -> Harmonizer:
    from generation.backends.markov import MarkovHarmonizer

    return MarkovHarmonizer.fit()


def _builtin() -> Harmonizer:
    from generation.backends.builtin import BuiltinHarmonizer

    return BuiltinHarmonizer()


def _builtin_ships() -> bool:
    from generation.backends.builtin import checkpoint_ships

    return checkpoint_ships()


register_system("markov", _markov)
register_system("builtin", _builtin, is_available=_builtin_ships)

__all__ = [
    "VOICE_RANGES",
    "Harmonizer",
    "Melody",
    "Voices",
    "available_systems",
    "get_harmonizer",
    "register_system",
]

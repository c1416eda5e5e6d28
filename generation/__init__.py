"""Earshot's built-in inference module: Bach chorale data, harmonizers and one shared renderer.

Pure Python + numpy/torch/music21. It never imports Django or ``evaluation``. The public API
for the Django side lives in :mod:`generation.pairs`.
"""

from generation.version import GENERATOR_VERSION

__all__ = ["GENERATOR_VERSION"]

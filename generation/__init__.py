"""Earshot's built-in inference module: Bach chorale data, harmonizers and one shared renderer.

Pure Python + numpy/torch/music21. It never imports Django or ``evaluation``.
"""

GENERATOR_VERSION = "0.1.0"

"""The command line's option defaults, in a module that imports nothing.

``python -m evaluation.stats`` builds its argument parser from these before numpy, pandas or
scipy are imported, so that it can start reading the CSV while the statistics modules load
(:mod:`evaluation.stats.cli`). The modules that use them re-export them under the same names.
"""

DEFAULT_HIT_THRESHOLD = 0.05
"""The rate an AI system's playlist / release share is tested against (one-sided)."""

TIES_MODELS = ("half", "davidson")
"""Ranking tie models: a tie is half a win each way, or Davidson's model."""

MUSHRA_MIN_CATCH_PASS_RATE = 0.85
"""ITU-R BS.1534-3 post-screening tolerates failing the hidden reference on up to 15% of items."""

DEFAULT_MIN_PANELISTS = 8
"""Panelists a comparison needs before it gets a verdict (the study setting's default)."""

"""Fixed catalogues shared by the models and the statistics: plain tuples, no imports.

It lives beside the layers (like ``evaluation.listening_log``), not in ``evaluation.stats``:
importing any module of that package runs its ``__init__``, which loads pandas, and the
models (imported by every Django process, migrations and Celery workers included) must not
pay for that. ``evaluation.models`` and ``evaluation.stats`` both import it.
"""

ASPECTS: tuple[str, ...] = (
    "melody",
    "lyrics",
    "vocals",
    "arrangement",
    "structure",
    "emotion",
    "production",
    "originality",
    "prompt_adherence",
)
"""The aspect catalogue, in its fixed order (export columns and "what is weaker?" follow it).
Names are stable identifiers; vocals include diction, production includes the mix."""

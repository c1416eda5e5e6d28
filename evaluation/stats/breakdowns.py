"""Results broken down by panel and by stratum: the same figures as the whole study, per
group, with the same rules.

For every dimension present in the responses (``panel``; ``stratum`` when some rows carry a
quota stratum; ``expertise``; ``instrument_family`` when some rows carry one) and each of its
values, the group's analysed rows go through the study's own figure functions: the pair table
with the verdict rule of :mod:`evaluation.stats.verdicts` (panelist-level t-test, Holm across
the group's pairs) and the listener-cluster intervals of :mod:`evaluation.stats.clusters`;
the "liked" figures; the AI identification. A group rated by fewer than ``min_panelists``
panelists is marked ``too_little_data`` (and each of its pairs gets that verdict), so a
small stratum never reads as a finding.

Pure pandas/numpy, no Django (``python -m evaluation.stats`` computes it from the CSV)."""

from typing import Any

import pandas as pd

from .responses import aspect_columns
from .verdicts import DEFAULT_MIN_PANELISTS

FIGURE_COLUMNS = (
    "panelist_id",
    "system_a",
    "system_b",
    "choice",
    "submitted_at",
    "liked_a",
    "liked_b",
    "guess_ai",
    "ai_side",
    "expertise",
)
"""The columns the pair, liked and AI-identification figures read (with the aspect_<name>
columns, for "liked, but preferred the other on an aspect")."""

DIMENSIONS = ("panel", "stratum", "expertise", "instrument_family")
"""The columns results are broken down by, in this order, when present and not all empty."""


def breakdown_dimensions(analysed: pd.DataFrame) -> list[str]:
    """The dimensions of :data:`DIMENSIONS` with at least one non-empty value."""
    return [
        name
        for name in DIMENSIONS
        if name in analysed and (analysed[name].astype(str).str.strip() != "").any()
    ]


def breakdowns(
    analysed: pd.DataFrame,
    *,
    confidence: float = 0.95,
    min_panelists: int = DEFAULT_MIN_PANELISTS,
) -> list[dict[str, Any]]:
    """One entry per (dimension, group): ``dimension``, ``group`` (``""`` reads "not
    given"), ``n_panelists``, ``n_responses``, ``too_little_data`` (fewer panelists than
    ``min_panelists``), and the group's ``pairs``, ``liked`` and ``ai_identification``
    exactly as :func:`evaluation.stats.summarize` computes them for the whole study.

    ``analysed``: normalised pairwise responses (``trial_kind`` ab or empty) after the
    study's exclusions (catch trials out), as ``summarize`` passes them."""
    from . import summary as _summary  # summary imports this module: import at call time

    result = []
    dimensions = breakdown_dimensions(analysed)
    if dimensions:
        # Only the columns the three figures read: splitting all ~85 export columns into
        # groups costs more than the figures themselves.
        read = [*FIGURE_COLUMNS, *aspect_columns(analysed), *dimensions]
        analysed = analysed[[name for name in dict.fromkeys(read) if name in analysed]]
    for dimension in dimensions:
        for group, rows in analysed.groupby(analysed[dimension].astype(str), sort=True):
            rows = rows.reset_index(drop=True)
            n_panelists = int(rows["panelist_id"].nunique())
            result.append(
                {
                    "dimension": dimension,
                    "group": str(group),
                    "n_panelists": n_panelists,
                    "n_responses": int(len(rows)),
                    "too_little_data": n_panelists < min_panelists,
                    "pairs": _summary.pair_summary(
                        rows, confidence=confidence, min_panelists=min_panelists
                    ),
                    "liked": _summary.liked_summary(rows, confidence=confidence),
                    "ai_identification": _summary.ai_identification_summary(
                        rows, confidence=confidence, min_panelists=min_panelists
                    ),
                }
            )
    return result

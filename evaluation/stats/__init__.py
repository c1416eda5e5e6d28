"""Earshot statistics: pure numpy/scipy/pandas, no Django.

Everything the results page shows can be recomputed from the exported ``responses.csv``::

    python -m evaluation.stats responses.csv --json

or from Python::

    from evaluation.stats import read_responses, summarize
    summary = summarize(read_responses("responses.csv"))

See docs/statistics.md for the methods and every key of the summary.
"""

from .intervals import binomial_p_value, clopper_pearson_interval, wilson_interval, wilson_intervals
from .responses import (
    REQUIRED_COLUMNS,
    RESPONSE_COLUMNS,
    ResponsesError,
    normalize_responses,
    read_responses,
    unescape_cell,
)
from .summary import json_ready, summarize

__all__ = [
    "REQUIRED_COLUMNS",
    "RESPONSE_COLUMNS",
    "ResponsesError",
    "binomial_p_value",
    "clopper_pearson_interval",
    "json_ready",
    "normalize_responses",
    "read_responses",
    "summarize",
    "unescape_cell",
    "wilson_interval",
    "wilson_intervals",
]

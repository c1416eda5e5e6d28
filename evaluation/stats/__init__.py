"""Earshot statistics: pure numpy/scipy/pandas, no Django.

Everything the results page shows can be recomputed from the exported ``responses.csv``::

    python -m evaluation.stats responses.csv --json

or from Python::

    from evaluation.stats import read_responses, summarize
    summary = summarize(read_responses("responses.csv"))

See docs/statistics.md for the methods and every key of the summary.

The names below are imported on first use (PEP 562), so that ``python -m evaluation.stats``
can start reading the CSV before scipy and the statistics modules are loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .intervals import (
        binomial_p_value,
        clopper_pearson_interval,
        wilson_interval,
        wilson_intervals,
    )
    from .responses import (
        REQUIRED_COLUMNS,
        RESPONSE_COLUMNS,
        ResponsesError,
        normalize_responses,
        read_responses,
        unescape_cell,
    )
    from .summary import json_ready, summarize

_EXPORTS: dict[str, str] = {
    "binomial_p_value": ".intervals",
    "clopper_pearson_interval": ".intervals",
    "wilson_interval": ".intervals",
    "wilson_intervals": ".intervals",
    "REQUIRED_COLUMNS": ".responses",
    "RESPONSE_COLUMNS": ".responses",
    "ResponsesError": ".responses",
    "normalize_responses": ".responses",
    "read_responses": ".responses",
    "unescape_cell": ".responses",
    "json_ready": ".summary",
    "summarize": ".summary",
}
"""Each public name and the module it comes from."""

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})

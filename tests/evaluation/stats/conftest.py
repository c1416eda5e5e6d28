"""Shared builders for the statistics tests: small response frames written row by row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from evaluation.stats.responses import RESPONSE_COLUMNS


def response_row(**values) -> dict:
    """One export row with every contract column; unspecified cells are empty."""
    row = dict.fromkeys(RESPONSE_COLUMNS, "")
    row.update(
        study="demo",
        panel="pros",
        expertise="professional",
        is_catch="0",
        simulated="0",
        position_swapped="0",
    )
    row.update({key: str(value) for key, value in values.items()})
    return row


def write_csv(path: Path, rows: list[dict], columns=RESPONSE_COLUMNS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(name="response_row")
def response_row_fixture():
    """The :func:`response_row` builder."""
    return response_row


@pytest.fixture
def responses_csv(tmp_path):
    """Write rows to ``responses.csv`` in a temporary folder and return its path."""

    def write(rows: list[dict], columns=RESPONSE_COLUMNS) -> Path:
        return write_csv(tmp_path / "responses.csv", rows, columns)

    return write

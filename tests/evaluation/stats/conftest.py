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


EXPERTISE_CYCLE = ("professional", "hobbyist", "none")


def study_rows(
    *,
    n_panelists: int = 10,
    votes_each: int = 12,
    systems=("human", "model-x", "model-y"),
    seed: int = 0,
    prefer: str | None = None,
    expertise=EXPERTISE_CYCLE,
) -> list[dict]:
    """Export rows of a whole study with every optional column filled: pairwise votes with
    liked/AI answers and aspects, catch trials, times, and single-track judgments. ``prefer``
    names a system every panelist chooses whenever it is shown (else choices are random)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for panelist in range(n_panelists):
        for index in range(votes_each):
            a, b = (str(name) for name in rng.choice(systems, 2, replace=False))
            choice = str(rng.choice(["a", "b", "tie"]))
            if prefer in (a, b):
                choice = "a" if a == prefer else "b"
            ai_side = "a" if b == "human" else ("b" if a == "human" else "both")
            rows.append(
                response_row(
                    response_id=len(rows) + 1,
                    panelist_id=f"p{panelist:02d}",
                    panel="pros" if panelist % 2 else "amateurs",
                    expertise=expertise[panelist % len(expertise)],
                    prompt_id=index % 3,
                    system_a=a,
                    system_b=b,
                    track_a=f"{a}-{index % 3}",
                    track_b=f"{b}-{index % 3}",
                    choice=choice,
                    liked_a=int(rng.random() < 0.6),
                    liked_b=int(rng.random() < 0.5),
                    guess_ai=str(rng.choice(["a", "b", "unsure"])),
                    ai_side=ai_side,
                    is_catch=int(index == 0),
                    catch_passed=int(rng.random() < 0.9) if index == 0 else "",
                    listen_a_s=20,
                    listen_b_s=20,
                    submitted_at=f"2026-11-0{1 + panelist % 4}T10:{index:02d}:00Z",
                    trial_id=f"t{panelist}-{index}",
                    aspect_melody=str(rng.choice(["a", "b", "tie"])),
                    system=a,
                    is_ai=int(a != "human"),
                    guess=str(rng.choice(["human", "ai", "familiar"])),
                )
            )
    return rows


ALL_COLUMNS = (*RESPONSE_COLUMNS, "aspect_melody", "system", "is_ai", "guess")
"""The export's columns plus an aspect and the single-track judgment columns."""


@pytest.fixture(name="study_rows")
def study_rows_fixture():
    """The :func:`study_rows` builder."""
    return study_rows


@pytest.fixture
def study_csv_full(responses_csv):
    """Write :func:`study_rows` (keyword arguments passed on) with :data:`ALL_COLUMNS`."""

    def write(**options) -> Path:
        return responses_csv(study_rows(**options), columns=ALL_COLUMNS)

    return write


def design_rows(
    *,
    n_panelists: int = 12,
    trials_each: int = 6,
    seed: int = 0,
    pool_size: int = 5,
    ai_pick_boost: float = 0.0,
    ai_systems=("model-x", "model-y"),
    human_systems=("human",),
) -> list[dict]:
    """Export rows of a study with every design (issue 12 columns): ab trials with aspects,
    ratings, weaker, playlist/release and familiarity; single-track trials with a guess and a
    confidence; pool trials (``pool_size`` candidates, a favourite and a top 3).
    ``ai_pick_boost``: added to an AI candidate's weight when the favourite is drawn (0 = no
    preference)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    systems = (*human_systems, *ai_systems)
    kind = {name: ("ai" if name in ai_systems else "human") for name in systems}
    familiar_levels = ("no", "no", "no", "sounds_familiar", "knows_it")
    rows = []
    for panelist in range(n_panelists):
        common = dict(panelist_id=f"p{panelist:02d}", expertise=EXPERTISE_CYCLE[panelist % 3])
        for index in range(trials_each):
            familiar = str(rng.choice(familiar_levels))
            a, b = (str(name) for name in rng.choice(systems, 2, replace=False))
            liked_a, liked_b = int(rng.random() < 0.6), int(rng.random() < 0.5)
            rows.append(
                response_row(
                    **common,
                    response_id=len(rows) + 1,
                    trial_id=f"ab-{panelist}-{index}",
                    trial_kind="ab",
                    system_a=a,
                    system_b=b,
                    system_a_kind=kind[a],
                    system_b_kind=kind[b],
                    ai_side="a"
                    if kind[a] == "ai" and kind[b] == "human"
                    else ("b" if kind[b] == "ai" and kind[a] == "human" else "both"),  # fmt: skip
                    choice=str(rng.choice(["a", "b", "tie"])),
                    guess_ai=str(rng.choice(["a", "b"])),
                    liked_a=liked_a,
                    liked_b=liked_b,
                    familiar=familiar,
                    playlist_a=int(rng.random() < 0.3),
                    playlist_b=int(rng.random() < 0.3),
                    release_a=int(rng.random() < 0.2),
                    release_b=int(rng.random() < 0.2),
                    rating_a=int(rng.integers(1, 6)),
                    rating_b=int(rng.integers(1, 6)),
                    weaker_a="lyrics;vocals" if liked_a and rng.random() < 0.4 else "",
                    weaker_b="lyrics" if liked_b and rng.random() < 0.3 else "",
                    aspect_melody=str(rng.choice(["a", "b", "tie"])),
                    aspect_structure=str(rng.choice(["a", "b", "tie"])),
                    score_emotion_a=int(rng.integers(1, 6)),
                    score_emotion_b=int(rng.integers(1, 6)),
                )
            )
            track = str(rng.choice(systems))
            rows.append(
                response_row(
                    **common,
                    response_id=len(rows) + 1,
                    trial_id=f"single-{panelist}-{index}",
                    trial_kind="single",
                    system_a=track,
                    system_a_kind=kind[track],
                    guess_kind=str(rng.choice(["human", "ai"])),
                    guess_confidence=int(rng.integers(50, 101)),
                    familiar=familiar,
                    rating_a=int(rng.integers(1, 6)),
                    playlist_a=int(rng.random() < 0.3),
                    release_a=int(rng.random() < 0.2),
                    score_emotion_a=int(rng.integers(1, 6)),
                )
            )
            candidates = [str(name) for name in rng.choice(systems, pool_size, replace=True)]
            weights = np.array([1.0 + ai_pick_boost * (kind[c] == "ai") for c in candidates])
            order = rng.choice(pool_size, 3, replace=False, p=weights / weights.sum())
            ranks = {int(position): rank + 1 for rank, position in enumerate(order)}
            response_id = len(rows) + 1
            for position, candidate in enumerate(candidates):
                rows.append(
                    response_row(
                        **common,
                        response_id=response_id,
                        trial_id=f"pool-{panelist}-{index}",
                        trial_kind="pool",
                        system_a=candidate,
                        system_a_kind=kind[candidate],
                        pool_size=pool_size,
                        pool_position=position + 1,
                        pick_rank=ranks.get(position, ""),
                        familiar=familiar,
                        playlist_a=int(rng.random() < 0.3),
                        release_a=int(rng.random() < 0.2),
                    )
                )
    return rows


@pytest.fixture(name="design_rows")
def design_rows_fixture():
    """The :func:`design_rows` builder."""
    return design_rows

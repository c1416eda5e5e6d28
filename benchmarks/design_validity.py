"""Validity of the study-design sections: how often a null study gets any false verdict.

    .venv/bin/python benchmarks/design_validity.py [--studies 1000] [--seed 0] [--json]

For each section of issue 12 (aspects, pool trials, single-track identification, familiarity,
hit potential) this simulates studies in which nothing differs on average but listeners do
(each has their own taste or bias: the clustering that makes vote-level tests too eager), runs
the section exactly as ``python -m evaluation.stats`` does, and counts the studies in which
*any* test of the section gave a verdict (Holm across the section's tests is the rule, so this
is the study-wide false-positive rate per section; it should stay at or below 5%). The table
goes into docs/statistics.md ("Study designs").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.stats.aspects import aspects_summary  # noqa: E402
from evaluation.stats.familiarity import not_familiar_mask  # noqa: E402
from evaluation.stats.hit_potential import hit_potential_summary  # noqa: E402
from evaluation.stats.identification import identification_summary  # noqa: E402
from evaluation.stats.pool import pool_summary  # noqa: E402
from evaluation.stats.summary import pair_summary  # noqa: E402

MIN_PANELISTS = 8


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark a frame built with the normalised types as normalised (no second typing pass)."""
    frame.attrs["earshot_normalized"] = True
    return frame


def _ids(codes: np.ndarray) -> np.ndarray:
    return np.char.add("p", codes.astype(str)).astype(object)


def null_aspects(rng: np.random.Generator, n_panelists=24, trials=8) -> pd.DataFrame:
    """3 systems, A/B trials with one aspect asked as preference (taste sd 1.0 on the logit)
    and one as a 1-5 rating (taste sd 0.7, answer noise sd 1): equal on average."""
    systems = np.array(["S1", "S2", "S3"], dtype=object)
    taste = rng.normal(0.0, 1.0, size=(n_panelists, 3))
    rating_taste = rng.normal(0.0, 0.7, size=(n_panelists, 3))
    panelist = np.repeat(np.arange(n_panelists), trials)
    first = rng.integers(0, 3, panelist.size)
    second = (first + rng.integers(1, 3, panelist.size)) % 3
    logit = taste[panelist, first] - taste[panelist, second]
    chose_a = rng.random(panelist.size) < 1.0 / (1.0 + np.exp(-logit))

    def score(system):
        noise = rng.normal(0, 1, panelist.size)
        return np.clip(np.rint(3 + rating_taste[panelist, system] + noise), 1, 5)

    return _typed(
        pd.DataFrame(
            {
                "panelist_id": _ids(panelist),
                "system_a": systems[first],
                "system_b": systems[second],
                "choice": "",
                "trial_kind": "ab",
                "aspect_melody": np.where(chose_a, "a", "b").astype(object),
                "score_melody_a": score(first),
                "score_melody_b": score(second),
            }
        )
    )


def null_pools(rng: np.random.Generator, n_panelists=20, trials=6, size=5) -> pd.DataFrame:
    """Pools of 5 drawn from 2 human and 3 AI systems; each listener likes AI more or less
    (±0.8) but on average picks AI exactly as often as it is shown."""
    systems = np.array(["human-1", "human-2", "ai-1", "ai-2", "ai-3"], dtype=object)
    n_trials = n_panelists * trials
    shown = rng.integers(0, 5, size=(n_trials, size))
    ai = shown >= 2
    share = ai.mean(axis=1)
    spread = np.repeat(rng.choice([-0.8, 0.8], n_panelists), trials)
    pick_ai = rng.random(n_trials) < share + spread * share * (1 - share)
    mixed = (share > 0) & (share < 1)
    eligible = np.where(mixed[:, None], ai == pick_ai[:, None], True)
    favourite = np.where(eligible, rng.random((n_trials, size)), -1.0).argmax(axis=1)
    rank = np.full((n_trials, size), np.nan)
    rank[np.arange(n_trials), favourite] = 1.0
    trial = np.repeat(np.arange(n_trials), size)
    return _typed(
        pd.DataFrame(
            {
                "panelist_id": _ids(trial // trials),
                "response_id": trial.astype(str).astype(object),
                "trial_kind": "pool",
                "system_a": systems[shown.ravel()],
                "system_a_kind": np.where(ai.ravel(), "ai", "human").astype(object),
                "pick_rank": rank.ravel(),
            }
        )
    )


def null_single(rng: np.random.Generator, n_panelists=20, answers=8) -> pd.DataFrame:
    """Single tracks (1 human, 2 AI systems) judged by listeners who cannot tell, each
    saying "AI" with their own bias U(0.2, 0.8)."""
    bias = rng.uniform(0.2, 0.8, n_panelists)
    panelist = np.repeat(np.arange(n_panelists), answers)
    system = rng.integers(0, 3, panelist.size)
    said_ai = rng.random(panelist.size) < bias[panelist]
    return pd.DataFrame(
        {
            "panelist_id": _ids(panelist),
            "system": np.array(["human", "ai-1", "ai-2"], dtype=object)[system],
            "is_ai": (system > 0).astype(float),
            "guess": np.where(said_ai, "ai", "human").astype(object),
        }
    )


def null_familiar(rng: np.random.Generator, n_panelists=24, votes=8) -> pd.DataFrame:
    """The pairwise votes of :func:`null_aspects`' design (taste sd 1.0), a third of the
    answers "I know it" (left out by the familiarity section's recomputation)."""
    systems = np.array(["S1", "S2", "S3"], dtype=object)
    taste = rng.normal(0.0, 1.0, size=(n_panelists, 3))
    panelist = np.repeat(np.arange(n_panelists), votes)
    first = rng.integers(0, 3, panelist.size)
    second = (first + rng.integers(1, 3, panelist.size)) % 3
    logit = taste[panelist, first] - taste[panelist, second]
    chose_a = rng.random(panelist.size) < 1.0 / (1.0 + np.exp(-logit))
    return pd.DataFrame(
        {
            "panelist_id": _ids(panelist),
            "system_a": systems[first],
            "system_b": systems[second],
            "choice": np.where(chose_a, "a", "b").astype(object),
            "familiar": rng.choice(["no", "no", "knows_it"], panelist.size).astype(object),
        }
    )


def null_hits(rng: np.random.Generator, n_panelists=20, answers=6, threshold=0.05):
    """Two AI systems whose playlist / release rate is exactly the threshold on average over
    listeners (each listener's own rate is 0 or twice the threshold)."""
    rate = rng.choice([0.0, 2 * threshold], size=(n_panelists, 2))
    panelist = np.repeat(np.arange(n_panelists), 2 * answers)
    system = np.tile(np.repeat([0, 1], answers), n_panelists)
    return _typed(
        pd.DataFrame(
            {
                "panelist_id": _ids(panelist),
                "trial_kind": "single",
                "system_a": np.array(["ai-1", "ai-2"], dtype=object)[system],
                "system_a_kind": "ai",
                "playlist_a": (rng.random(panelist.size) < rate[panelist, system]).astype(float),
                "release_a": (rng.random(panelist.size) < rate[panelist, system]).astype(float),
            }
        )
    )


def aspects_verdicts(study: pd.DataFrame) -> list[str]:
    section = aspects_summary(study, min_panelists=MIN_PANELISTS)
    return [
        pair["verdict"]
        for group in ("preference", "ratings")
        for aspect in section[group]
        for pair in aspect["pairs"]
    ]


def pool_verdicts(study: pd.DataFrame) -> list[str]:
    section = pool_summary(study, min_panelists=MIN_PANELISTS, n_bootstrap=0)
    return [section["ai_share"]["verdict"], *(row["verdict"] for row in section["systems"])]


def identification_verdicts(study: pd.DataFrame) -> list[str]:
    result = identification_summary(study, min_panelists=MIN_PANELISTS)
    return [result["verdict"], *(entry["verdict"] for entry in result["by_system"])]


def familiarity_verdicts(study: pd.DataFrame) -> list[str]:
    kept = study[not_familiar_mask(study)].reset_index(drop=True)
    return [pair["verdict"] for pair in pair_summary(kept, min_panelists=MIN_PANELISTS)]


def hit_verdicts(study: pd.DataFrame) -> list[str]:
    section = hit_potential_summary(study, min_panelists=MIN_PANELISTS)
    return [
        entry[question]["verdict"]
        for entry in section["systems"]
        for question in ("playlist", "release")
    ]


NOT_FALSE = {
    "too_little_data",
    "no_clear_preference",
    "not_distinguishable_from_chance",
    "not_distinguishable_from_expected",
    "not_shown_to_exceed",
    None,
}
"""Verdicts that claim nothing; any other verdict in a null study is a false positive."""

SCENARIOS: dict[str, tuple[str, Callable, Callable]] = {
    "aspects": (
        "3 systems, 24 listeners × 8 A/B trials, preference taste sd 1.0, rating taste sd 0.7",
        null_aspects,
        aspects_verdicts,
    ),
    "pool": (
        "pools of 5 (2 human, 3 AI systems), 20 listeners × 6 pools, AI liking ±0.8",
        null_pools,
        pool_verdicts,
    ),
    "identification": (
        "20 listeners × 8 single tracks who cannot tell, own bias U(0.2, 0.8)",
        null_single,
        identification_verdicts,
    ),
    "familiarity": (
        "pair verdicts without familiar answers: 3 systems, 24 × 8, taste sd 1.0",
        null_familiar,
        familiarity_verdicts,
    ),
    "hit_potential": (
        "2 AI systems at exactly 5% on average (each listener 0% or 10%), 20 × 6",
        null_hits,
        hit_verdicts,
    ),
}


def run(studies: int, seed: int) -> dict[str, dict[str, object]]:
    """Per section: the share of null studies with any false verdict, tests per study."""
    results = {}
    for index, (name, (scenario, simulate, verdicts)) in enumerate(SCENARIOS.items()):
        rng = np.random.default_rng([seed, index])
        started = time.perf_counter()
        false, tests = 0, 0
        for _ in range(studies):
            found = verdicts(simulate(rng))
            tests = len(found)
            false += any(verdict not in NOT_FALSE for verdict in found)
        results[name] = {
            "scenario": scenario,
            "studies": studies,
            "tests_per_study": tests,
            "any_false_verdict": false / studies,
            "seconds": time.perf_counter() - started,
        }
    return results


def markdown(results: dict[str, dict[str, object]]) -> str:
    lines = [
        "| section | null scenario | tests | studies | any false verdict |",
        "|---|---|---|---|---|",
    ]
    for name, result in results.items():
        lines.append(
            f"| {name} | {result['scenario']} | {result['tests_per_study']} | "
            f"{result['studies']} | {100 * result['any_false_verdict']:.1f}% |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.studies, args.seed)
    sys.stdout.write(json.dumps(results, indent=2) + "\n" if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Validity benchmark: do Earshot's verdicts, intervals and monitor keep their promises when
listeners disagree with each other and give many answers each?

    .venv/bin/python benchmarks/validity.py [--studies 1000] [--seed 0] [--quick] [--json]

Simulates whole studies with listener clustering and runs them through the very functions the
report uses (``pair_summary``, ``liked_summary``, ``ai_identification_summary``,
``identification_summary`` and the monitor), then prints:

1. **false verdicts** in null studies (no system better than another, AI tracks not
   recognisable): the share of studies with *any* "clear preference" (study-wide, all pairs)
   and with an AI identification "better/worse than chance";
2. **coverage** of every interval a sentence reports, against the true panelist-averaged value
   of the simulated population (plus the vote-level Wilson interval, shown for reference: no
   sentence uses it, and with clustering it is expected to under-cover);
3. **the monitor**: study-wide false "decided" with a look after every panelist, and its power
   next to the fixed-size verdict's.

The model: panelist ``p`` has a taste ``u[p, s] ~ N(0, sd²)`` per system; a vote between
``a`` and ``b`` goes to ``a`` with probability ``expit(β_a + u[p, a] - β_b - u[p, b])``
(``β = 0`` under the null); a track of system ``s`` is liked with probability
``expit(γ + u[p, s])``; panelist ``p`` picks the AI track of a human-vs-AI pair with
probability ``expit(δ + v[p])``, ``v[p] ~ N(0, sd²)``, or answers "can't tell" with
probability 0.1; in single-track judgments they call a track AI with probability
``expit(h + w[p])`` (AI track) or ``expit(f + w[p])`` (human track), ``w[p] ~ N(0, sd²)``.
True values are the population averages, computed by Gauss-Hermite quadrature.

``--quick`` runs 60 studies per scenario (a smoke test; tests/benchmarks use it); the table in
docs/statistics.md comes from the full run (1000 studies per scenario).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.stats.comparisons import build_comparisons  # noqa: E402
from evaluation.stats.identification import identification_summary  # noqa: E402
from evaluation.stats.sequential import confidence_sequence, monitor  # noqa: E402
from evaluation.stats.summary import (  # noqa: E402
    ai_identification_summary,
    liked_summary,
    pair_summary,
)

UNSURE = 0.1
"""Chance that a panelist answers "can't tell" to "which track is AI?"."""

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(80)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def mean_expit(location: float, sd: float) -> float:
    """``E[expit(location + sd Z)]``, ``Z ~ N(0, 1)`` (Gauss-Hermite, 80 nodes)."""
    return float(np.sum(_WEIGHTS * special.expit(location + sd * _NODES)))


@dataclass(frozen=True)
class Scenario:
    """One simulated study design."""

    name: str
    systems: int
    panelists: int
    votes_each: int
    taste_sd: float
    strengths: tuple[float, ...] = ()
    liked: float = 0.4
    ai_skill: float = 0.0
    hit: float = 0.3
    false_alarm: float = -0.3

    def beta(self) -> np.ndarray:
        return np.asarray(self.strengths or (0.0,) * self.systems, dtype=float)


def simulate(scenario: Scenario, rng: np.random.Generator) -> pd.DataFrame:
    """One study's export rows (pairwise votes with liked/AI answers, and single-track
    judgments in the ``system, is_ai, guess`` columns) for ``scenario``."""
    g, m, n = scenario.panelists, scenario.systems, scenario.votes_each
    beta = scenario.beta()
    sd = scenario.taste_sd
    taste = rng.normal(0.0, sd, size=(g, m))
    skill = rng.normal(0.0, sd, size=g)
    bias = rng.normal(0.0, sd, size=g)
    panelist = np.repeat(np.arange(g), n)
    a = rng.integers(0, m, size=g * n)
    b = (a + rng.integers(1, m, size=g * n)) % m
    logit = beta[a] + taste[panelist, a] - beta[b] - taste[panelist, b]
    choice = np.where(rng.random(g * n) < special.expit(logit), "a", "b")
    liked_a = rng.random(g * n) < special.expit(scenario.liked + taste[panelist, a])
    liked_b = rng.random(g * n) < special.expit(scenario.liked + taste[panelist, b])
    # Every pair is treated as human vs AI with the AI track on a random side.
    ai_side = np.where(rng.random(g * n) < 0.5, "a", "b")
    correct = rng.random(g * n) < special.expit(scenario.ai_skill + skill[panelist])
    guess = np.where(correct, ai_side, np.where(ai_side == "a", "b", "a"))
    guess = np.where(rng.random(g * n) < UNSURE, "unsure", guess)
    is_ai = rng.random(g * n) < 0.5
    says_ai = rng.random(g * n) < special.expit(
        np.where(is_ai, scenario.hit, scenario.false_alarm) + bias[panelist]
    )
    names = np.array([f"s{index}" for index in range(m)], dtype=object)
    return pd.DataFrame(
        {
            "panelist_id": np.char.add("p", panelist.astype(str)).astype(object),
            "system_a": names[a],
            "system_b": names[b],
            "choice": choice.astype(object),
            "liked_a": liked_a.astype(float),
            "liked_b": liked_b.astype(float),
            "ai_side": ai_side.astype(object),
            "guess_ai": guess.astype(object),
            "system": np.where(is_ai, "ai", "human").astype(object),
            "is_ai": is_ai.astype(float),
            "guess": np.where(says_ai, "ai", "human").astype(object),
            "expertise": "",
        }
    )


def truths(scenario: Scenario) -> dict[str, float]:
    """Population values every interval should cover."""
    sd = scenario.taste_sd
    pc = mean_expit(scenario.ai_skill, sd)
    credit = (1 - UNSURE) * pc + UNSURE / 2
    hit_rate = mean_expit(scenario.hit, sd)
    false_rate = mean_expit(scenario.false_alarm, sd)
    return {
        "liked": mean_expit(scenario.liked, sd),
        "ai_accuracy_decided": pc,
        "ai_d_prime": math.sqrt(2) * float(stats.norm.ppf(credit)),
        "identification_accuracy": 0.5 * hit_rate + 0.5 * (1 - false_rate),
        "identification_d_prime": float(stats.norm.ppf(hit_rate) - stats.norm.ppf(false_rate)),
    }


def pair_truth(scenario: Scenario, first: int, second: int) -> float:
    beta = scenario.beta()
    return mean_expit(beta[first] - beta[second], math.sqrt(2) * scenario.taste_sd)


def covers(low, high, truth) -> bool:
    low = -math.inf if low is None else low
    high = math.inf if high is None else high
    return low <= truth <= high


def run_study(scenario: Scenario, rng: np.random.Generator) -> dict[str, object]:
    """One simulated study through the report's functions: verdicts and coverage hits."""
    frame = simulate(scenario, rng)
    comparisons = build_comparisons(frame)
    pairs = pair_summary(frame, comparisons=comparisons)
    liked = liked_summary(frame)
    ai = ai_identification_summary(frame)
    identification = identification_summary(frame)
    truth = truths(scenario)
    index = {name: code for code, name in enumerate(comparisons.systems)}
    hits: dict[str, list[bool]] = {
        "pair (listener cluster)": [],
        "pair (Wilson, votes)": [],
        "liked / N of 10 (listener cluster)": [],
        "liked (Wilson, votes)": [],
    }
    for pair in pairs:
        value = pair_truth(scenario, index[pair["system_a"]], index[pair["system_b"]])
        hits["pair (listener cluster)"].append(
            covers(pair["cluster_ci_low"], pair["cluster_ci_high"], value)
        )
        hits["pair (Wilson, votes)"].append(covers(pair["ci_low"], pair["ci_high"], value))
    for row in liked:
        hits["liked / N of 10 (listener cluster)"].append(
            covers(row["cluster_ci_low"], row["cluster_ci_high"], truth["liked"])
        )
        hits["liked (Wilson, votes)"].append(covers(row["ci_low"], row["ci_high"], truth["liked"]))
    hits["AI accuracy (listener cluster)"] = [
        covers(
            ai["decided_cluster_ci_low"],
            ai["decided_cluster_ci_high"],
            truth["ai_accuracy_decided"],
        )
    ]
    hits["AI d′ (listener cluster)"] = [
        covers(ai["d_prime_low"], ai["d_prime_high"], truth["ai_d_prime"])
    ]
    hits["AI accuracy (Wilson, votes)"] = [
        covers(ai["decided_ci_low"], ai["decided_ci_high"], truth["ai_accuracy_decided"])
    ]
    hits["single-track accuracy (listener cluster)"] = [
        covers(
            identification["cluster_ci_low"],
            identification["cluster_ci_high"],
            truth["identification_accuracy"],
        )
    ]
    hits["single-track d′ (jackknife)"] = [
        covers(
            identification["d_prime_cluster_low"],
            identification["d_prime_cluster_high"],
            truth["identification_d_prime"],
        )
    ]
    return {
        "any_clear": any(pair["verdict"] in ("prefers_a", "prefers_b") for pair in pairs),
        "clear": [pair["verdict"] in ("prefers_a", "prefers_b") for pair in pairs],
        "ai_not_chance": ai["verdict"] in ("better_than_chance", "worse_than_chance"),
        "hits": hits,
    }


def monitor_paths(
    scenario: Scenario, studies: int, rng: np.random.Generator, alpha: float = 0.05
) -> dict[str, float]:
    """Panelists arrive one by one (``votes_each`` votes each, on random pairs) up to
    ``scenario.panelists``; the monitor looks after every panelist. Returns the share of studies
    where any pair was ever "decided" wrongly (null pairs) or rightly (non-null pairs), and
    the median number of panelists at the first correct decision."""
    m = scenario.systems
    beta = scenario.beta()
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    wrong = right = 0
    first_right: list[int] = []
    for _ in range(studies):
        g, n = scenario.panelists, scenario.votes_each
        taste = rng.normal(0.0, scenario.taste_sd, size=(g, m))
        panelist = np.repeat(np.arange(g), n)
        a = rng.integers(0, m, size=g * n)
        b = (a + rng.integers(1, m, size=g * n)) % m
        first, second = np.minimum(a, b), np.maximum(a, b)
        logit = beta[first] + taste[panelist, first] - beta[second] - taste[panelist, second]
        won = (rng.random(g * n) < special.expit(logit)).astype(float)
        shares = []
        for i, j in pairs:
            mine = (first == i) & (second == j)
            totals = np.bincount(panelist[mine], weights=won[mine], minlength=g)
            counts = np.bincount(panelist[mine], minlength=g)
            shares.append(totals[counts > 0] / counts[counts > 0])
        states = monitor(shares, alpha)
        any_wrong = False
        for (i, j), state, values in zip(pairs, states, shares, strict=True):
            ahead = state["decided_first"]
            if ahead is None:
                continue
            if beta[i] == beta[j] or (ahead != (beta[i] > beta[j])):
                any_wrong = True
            else:
                right += 1
                first_right.append(_first_decision(values, alpha / len(pairs)))
        wrong += any_wrong
    non_null = sum(1 for i, j in pairs if beta[i] != beta[j])
    return {
        "false_decided_any_pair": wrong / studies,
        "power_per_true_pair": right / max(studies * non_null, 1),
        "median_panelists_at_decision": float(np.median(first_right)) if first_right else None,
    }


def _first_decision(shares: np.ndarray, level: float) -> int:
    """Panelists seen when the sequence first excluded 1/2."""
    low, high = confidence_sequence(shares, level)
    decided = np.flatnonzero((low > 0.5) | (high < 0.5))
    return int(decided[0]) + 1


NULL_2 = Scenario("null, 2 systems, 30 × 20, taste sd 1.0", 2, 30, 20, 1.0)
NULL_5 = Scenario("null, 5 systems (10 pairs), 40 × 10, taste sd 0.5", 5, 40, 10, 0.5)
COVERAGE = Scenario(
    "3 systems, 30 × 10, taste sd 0.6", 3, 30, 10, 0.6, strengths=(0.0, 0.3, 0.6), ai_skill=0.5
)
ALTERNATIVE = Scenario(
    "2 systems, 30 × 10, taste sd 0.6, panelist-averaged win rate 62%",
    2,
    30,
    10,
    0.6,
    strengths=(0.0, 0.55),
)
MONITOR_NULL = Scenario("null, 5 systems, looks after each of 200 panelists × 10", 5, 200, 10, 0.6)
MONITOR_ALT = Scenario(
    "2 systems, win rate 62%, looks after each of 300 panelists × 10",
    2,
    300,
    10,
    0.6,
    strengths=(0.0, 0.55),
)


def run(studies: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    results: dict[str, object] = {"studies": studies, "seed": seed}
    null_rows = []
    for scenario in (NULL_2, NULL_5):
        outcomes = [run_study(scenario, rng) for _ in range(studies)]
        null_rows.append(
            {
                "scenario": scenario.name,
                "false_clear_preference_any_pair": float(
                    np.mean([o["any_clear"] for o in outcomes])
                ),
                "false_ai_vs_chance": float(np.mean([o["ai_not_chance"] for o in outcomes])),
            }
        )
    results["null"] = null_rows
    outcomes = [run_study(COVERAGE, rng) for _ in range(studies)]
    coverage = {}
    for name in outcomes[0]["hits"]:
        values = [hit for outcome in outcomes for hit in outcome["hits"][name]]
        coverage[name] = float(np.mean(values))
    results["coverage"] = {"scenario": COVERAGE.name, "intervals": coverage}
    power = [run_study(ALTERNATIVE, rng) for _ in range(studies)]
    true_rate = pair_truth(ALTERNATIVE, 1, 0)
    results["power"] = {
        "scenario": ALTERNATIVE.name,
        "true_rate": true_rate,
        "verdict_power": float(np.mean([o["any_clear"] for o in power])),
    }
    monitor_studies = max(studies // 5, 20)
    results["monitor"] = {
        "null": {
            "scenario": MONITOR_NULL.name,
            **monitor_paths(MONITOR_NULL, monitor_studies, rng),
        },
        "alternative": {
            "scenario": MONITOR_ALT.name,
            **monitor_paths(MONITOR_ALT, monitor_studies, rng),
        },
        "studies": monitor_studies,
    }
    results["seconds"] = time.perf_counter() - started
    return results


def markdown(results: dict[str, object]) -> str:
    """The results as the Markdown tables of docs/statistics.md."""
    lines = [
        f"{results['studies']} simulated studies per scenario (seed {results['seed']}); "
        f"monitor: {results['monitor']['studies']} studies per scenario.",
        "",
        "| null scenario | false “clear preference” (any pair) | false AI “better/worse than chance” |",
        "|---|---|---|",
    ]
    for row in results["null"]:
        lines.append(
            f"| {row['scenario']} | {100 * row['false_clear_preference_any_pair']:.1f}% | "
            f"{100 * row['false_ai_vs_chance']:.1f}% |"
        )
    lines += ["", f"| interval ({results['coverage']['scenario']}) | coverage |", "|---|---|"]
    for name, value in results["coverage"]["intervals"].items():
        lines.append(f"| {name} | {100 * value:.1f}% |")
    power = results["power"]
    monitor_null, monitor_alt = results["monitor"]["null"], results["monitor"]["alternative"]
    lines += [
        "",
        "| check | result |",
        "|---|---|",
        f"| verdict power, {power['scenario']} | {100 * power['verdict_power']:.1f}% |",
        f"| monitor false “decided” (any pair, any look), {monitor_null['scenario']} | "
        f"{100 * monitor_null['false_decided_any_pair']:.1f}% |",
        f"| monitor power, {monitor_alt['scenario']} | "
        f"{100 * monitor_alt['power_per_true_pair']:.1f}% "
        f"(median {monitor_alt['median_panelists_at_decision']} panelists at the decision) |",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="60 studies per scenario")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    studies = 60 if args.quick else args.studies
    results = run(studies, args.seed)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(markdown(results), end="")
        print(f"({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

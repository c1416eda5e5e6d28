"""Benchmark: Earshot's panelist bootstrap against the public arena's row-bootstrap recipe.

    .venv/bin/python benchmarks/stats.py [--responses 1000000] [--systems 20]
        [--panelists 5000] [--rounds 1000] [--arena-rounds 3] [--seed 0] [--json]

Generates responses from systems with known strengths and listeners who disagree with each
other (each panelist has their own taste on top of the shared strengths), then times, in one
run and from the same in-memory DataFrame:

(a) the arena recipe: resample vote rows with replacement -> pivot to a win matrix ->
    scikit-learn logistic regression, for ``--arena-rounds`` rounds, extrapolated to
    ``--rounds``;
(b) Earshot's fit alone: encode the votes once, fit Bradley-Terry, and run a ``--rounds``-round
    panelist bootstrap (one matrix product + a batched Newton fit); median of three runs;
(c) Earshot's whole command line, as a researcher runs it: the responses written to a CSV,
    then ``python -m evaluation.stats responses.csv --bootstrap ROUNDS --json`` in a fresh
    process (start-up, reading, every figure, verdicts, monitor, planner, JSON output);
    median of three runs. The speed-up is (a) over (c). Each is also given in CPU seconds
    (user + system; the arena's per round, the CLI's from ``getrusage`` of the child), which
    the other jobs on a shared machine change less than wall time, with the load average.

The arena function reimplements ``compute_mle_elo`` / ``get_bootstrap_result`` of the
LMSYS Chatbot Arena notebook (ties as half a win each way; ``C=inf`` is the current spelling
of ``penalty=None``). Results are written to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.stats.bootstrap import panelist_bootstrap, percentile_interval  # noqa: E402
from evaluation.stats.comparisons import build_comparisons  # noqa: E402
from evaluation.stats.ranking import system_ranking  # noqa: E402

TIE_NU = 0.3
"""Davidson tie parameter of the simulation: about 13% ties between equal systems."""


def simulate_responses(
    *,
    n_responses: int,
    n_systems: int,
    n_panelists: int,
    taste_sd: float = 0.6,
    seed: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Votes of ``n_panelists`` listeners (equal shares) on random pairs of ``n_systems``.

    True log-strengths are evenly spread over [-1, 1]; each panelist adds their own taste
    ``N(0, taste_sd^2)`` per system, so their votes are correlated. Ties follow Davidson's
    model with ``nu = TIE_NU``. Returns the frame (``panelist_id, system_a, system_b,
    choice``) and the true strengths ``[n_systems]`` (mean zero).
    """
    rng = np.random.default_rng(seed)
    strengths = np.linspace(-1.0, 1.0, n_systems)
    taste = rng.normal(0.0, taste_sd, size=(n_panelists, n_systems))
    panelist = np.repeat(np.arange(n_panelists), math.ceil(n_responses / n_panelists))
    panelist = rng.permutation(panelist[:n_responses])
    system_a = rng.integers(0, n_systems, n_responses)
    system_b = (system_a + rng.integers(1, n_systems, n_responses)) % n_systems
    half = (
        strengths[system_a]
        + taste[panelist, system_a]
        - strengths[system_b]
        - taste[panelist, system_b]
    ) / 2.0
    up, down = np.exp(half), np.exp(-half)
    total = up + down + TIE_NU
    draw = rng.random(n_responses) * total
    choice = np.where(draw < up, "a", np.where(draw < up + down, "b", "tie"))
    names = np.array([f"system-{index:02d}" for index in range(n_systems)], dtype=object)
    frame = pd.DataFrame(
        {
            "panelist_id": pd.Series(panelist).map(lambda code: f"panelist-{code:05d}"),
            "system_a": names[system_a],
            "system_b": names[system_b],
            "choice": choice.astype(object),
        }
    )
    return frame, strengths - strengths.mean()


# --- (a) the arena recipe ------------------------------------------------------------------


def arena_battles(responses: pd.DataFrame) -> pd.DataFrame:
    """The same votes in the arena's format: ``model_a, model_b, winner``."""
    winner = responses["choice"].map({"a": "model_a", "b": "model_b", "tie": "tie"})
    return pd.DataFrame(
        {"model_a": responses["system_a"], "model_b": responses["system_b"], "winner": winner}
    )


def compute_mle_elo(battles: pd.DataFrame, scale=400, base=10, init_rating=1000) -> pd.Series:
    """Bradley-Terry Elo by logistic regression on the win matrix (the arena recipe)."""
    from sklearn.linear_model import LogisticRegression

    a_win = pd.pivot_table(
        battles[battles["winner"] == "model_a"],
        index="model_a",
        columns="model_b",
        aggfunc="size",
        fill_value=0,
    )
    tie = pd.pivot_table(
        battles[battles["winner"] == "tie"],
        index="model_a",
        columns="model_b",
        aggfunc="size",
        fill_value=0,
    )
    tie = tie + tie.T
    b_win = pd.pivot_table(
        battles[battles["winner"] == "model_b"],
        index="model_a",
        columns="model_b",
        aggfunc="size",
        fill_value=0,
    )
    win = a_win * 2 + b_win.T * 2 + tie
    models = pd.Series(np.arange(len(win.index)), index=win.index)
    p = len(models)
    design = np.zeros([p * (p - 1) * 2, p])
    outcome = np.zeros(p * (p - 1) * 2)
    row = 0
    sample_weights = []
    for model_a in win.index:
        for model_b in win.columns:
            if model_a == model_b:
                continue
            if math.isnan(win.loc[model_a, model_b]) or math.isnan(win.loc[model_b, model_a]):
                continue
            design[row, models[model_a]] = +math.log(base)
            design[row, models[model_b]] = -math.log(base)
            outcome[row] = 1.0
            sample_weights.append(win.loc[model_a, model_b])
            design[row + 1, models[model_a]] = math.log(base)
            design[row + 1, models[model_b]] = -math.log(base)
            outcome[row + 1] = 0.0
            sample_weights.append(win.loc[model_b, model_a])
            row += 2
    design, outcome = design[:row], outcome[:row]
    regression = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-6)
    regression.fit(design, outcome, sample_weight=sample_weights)
    return pd.Series(scale * regression.coef_[0] + init_rating, index=models.index)


def arena_bootstrap(battles: pd.DataFrame, rounds: int, seed: int) -> pd.DataFrame:
    """``rounds`` row-bootstrap replicates of :func:`compute_mle_elo` (one row per round)."""
    return pd.DataFrame(
        [
            compute_mle_elo(battles.sample(frac=1.0, replace=True, random_state=seed + index))
            for index in range(rounds)
        ]
    )


# --- (b) Earshot ---------------------------------------------------------------------------


def earshot_ranking(responses: pd.DataFrame, rounds: int, seed: int):
    comparisons = build_comparisons(responses)
    return system_ranking(comparisons, ties="half", n_bootstrap=rounds, seed=seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--systems", type=int, default=20)
    parser.add_argument("--panelists", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--arena-rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    responses, truth = simulate_responses(
        n_responses=args.responses,
        n_systems=args.systems,
        n_panelists=args.panelists,
        seed=args.seed,
    )
    generate_s = time.perf_counter() - started

    print(f"generated {args.responses:,} responses in {generate_s:.1f} s", file=sys.stderr)
    battles = arena_battles(responses)
    compute_mle_elo(battles)  # warm-up: imports scikit-learn outside the timed region
    load_before = os.getloadavg()[0]
    started, started_cpu = time.perf_counter(), time.process_time()
    arena = arena_bootstrap(battles, args.arena_rounds, args.seed)
    arena_round_s = (time.perf_counter() - started) / args.arena_rounds
    arena_round_cpu_s = (time.process_time() - started_cpu) / args.arena_rounds
    arena_total_s = arena_round_s * args.rounds
    print(f"arena: {arena_round_s:.2f} s per round", file=sys.stderr)

    earshot_ranking(responses.head(1000), 10, args.seed)  # warm-up (BLAS threads, imports)
    # The machine is shared: time (b) three times and keep the median.
    earshot_runs = []
    for _ in range(3):
        started = time.perf_counter()
        systems, ranking_meta, _ = earshot_ranking(responses, args.rounds, args.seed)
        earshot_runs.append(time.perf_counter() - started)
    earshot_s = float(np.median(earshot_runs))
    print(f"earshot: {', '.join(f'{run:.2f}' for run in earshot_runs)} s", file=sys.stderr)

    # (c) The whole command line in a fresh process, on the same responses as a CSV.
    cli_runs, cli_cpu_runs = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "responses.csv"
        responses.to_csv(path, index=False)
        command = [
            sys.executable,
            "-m",
            "evaluation.stats",
            str(path),
            "--bootstrap",
            str(args.rounds),
            "--seed",
            str(args.seed),
            "--json",
            "--no-progress",
        ]
        root = Path(__file__).resolve().parents[1]
        environment = {**os.environ, "PYTHONPATH": str(root)}
        for _ in range(3):
            started = time.perf_counter()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            finished = subprocess.run(
                command, cwd=root, env=environment, capture_output=True, check=True
            )
            cli_runs.append(time.perf_counter() - started)
            done = resource.getrusage(resource.RUSAGE_CHILDREN)
            cli_cpu_runs.append(
                done.ru_utime - children.ru_utime + done.ru_stime - children.ru_stime
            )
        cli_summary = json.loads(finished.stdout)
    cli_s = float(np.median(cli_runs))
    cli_cpu_s = float(np.median(cli_cpu_runs))
    load_after = os.getloadavg()[0]
    print(f"cli: {', '.join(f'{run:.2f}' for run in cli_runs)} s", file=sys.stderr)

    # How much narrower the row bootstrap is on the same data (same code, votes as units).
    comparisons = build_comparisons(responses)
    by_vote = panelist_bootstrap(comparisons, n_rounds=200, seed=args.seed, by="vote")
    by_panelist = panelist_bootstrap(comparisons, n_rounds=200, seed=args.seed)
    widths = {}
    for name, result in (("vote", by_vote), ("panelist", by_panelist)):
        low, high = percentile_interval(result.scores)
        widths[name] = float(np.mean(high - low))

    point = {entry["system"]: entry["score"] for entry in systems}
    earshot_elo = pd.Series({name: 400 / math.log(10) * score for name, score in point.items()})
    arena_elo = compute_mle_elo(battles)
    agreement = float(np.max(np.abs((arena_elo - arena_elo.mean()) - earshot_elo[arena_elo.index])))
    scores = np.array([point[f"system-{index:02d}"] for index in range(args.systems)])
    results = {
        "responses": args.responses,
        "systems": args.systems,
        "panelists": args.panelists,
        "rounds": args.rounds,
        "arena_rounds_timed": args.arena_rounds,
        "generate_s": generate_s,
        "arena_round_s": arena_round_s,
        "arena_round_cpu_s": arena_round_cpu_s,
        "arena_extrapolated_s": arena_total_s,
        "earshot_s": earshot_s,
        "earshot_runs_s": earshot_runs,
        "speedup_fit": arena_total_s / earshot_s,
        "cli_s": cli_s,
        "cli_runs_s": cli_runs,
        "cli_cpu_s": cli_cpu_s,
        "cli_cpu_runs_s": cli_cpu_runs,
        "speedup_cpu": arena_round_cpu_s * args.rounds / cli_cpu_s,
        "load_average_1min": [load_before, load_after],
        "speedup": arena_total_s / cli_s,
        "cli_pairs_with_a_verdict": sum(
            pair["verdict"] != "too_little_data" for pair in cli_summary["pairs"]
        ),
        "max_elo_difference_arena_vs_earshot": agreement,
        "arena_replicates": int(len(arena)),
        "mean_ci_width_row_bootstrap": widths["vote"],
        "mean_ci_width_panelist_bootstrap": widths["panelist"],
        "max_abs_error_vs_truth": float(np.max(np.abs(scores - (truth - 0) / 1.0))),
        "bootstrap_not_converged": ranking_meta["bootstrap_not_converged"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "numpy": np.__version__,
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{args.responses:,} responses, {args.systems} systems, {args.panelists:,} panelists "
            f"(generated in {generate_s:.1f} s)\n"
            f"(a) arena row bootstrap: {arena_round_s:.3f} s/round x {args.rounds} "
            f"= {arena_total_s:.0f} s (extrapolated from {args.arena_rounds} rounds)\n"
            f"(b) Earshot fit + {args.rounds}-round panelist bootstrap: {earshot_s:.2f} s "
            f"(median of 3 runs; {arena_total_s / earshot_s:.0f}x the arena recipe)\n"
            f"(c) whole CLI (python -m evaluation.stats responses.csv --bootstrap "
            f"{args.rounds} --json, fresh process): {cli_s:.2f} s (median of 3 runs)\n"
            f"speed-up, arena recipe over the whole CLI: {arena_total_s / cli_s:.0f}x\n"
            f"CPU (user + system): arena {arena_round_cpu_s:.3f} s/round, whole CLI "
            f"{cli_cpu_s:.2f} s ({arena_round_cpu_s * args.rounds / cli_cpu_s:.0f}x); "
            f"load average {load_before:.1f} -> {load_after:.1f}\n"
            f"point estimates, arena vs Earshot: max |Elo difference| {agreement:.2e}\n"
            f"mean 95% interval width (log-strength): row bootstrap {widths['vote']:.4f}, "
            f"panelist bootstrap {widths['panelist']:.4f} "
            f"({widths['panelist'] / widths['vote']:.1f}x wider)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

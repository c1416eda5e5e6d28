"""Benchmark the built-in generator on this machine's CPU.

    .venv/bin/python benchmarks/generation.py [--json] [--pairs 8]

Measures, in one process: loading the shipped dataset, fitting the Markov baseline, loading
the neural checkpoint, building ``--pairs`` pairs end to end with each system (cold: caches
cleared first), then harmonizing and rendering every test chorale with the neural model and
the Markov baseline; reports real-time factors (seconds of music per second of compute) for
harmonize + render of one side, the seconds that takes per 30 s of music, and the render
alone. The neural model's target is a real-time factor of at least 20.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# This file is itself named generation.py: put the repository root first so that
# `import generation` finds the package, not this script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generation.backends import Melody, available_systems, get_harmonizer  # noqa: E402
from generation.dataset import load_dataset  # noqa: E402
from generation.pairs import build_pairs  # noqa: E402
from generation.render import DEFAULT_SETTINGS, render_voices  # noqa: E402


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def run(pairs: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    systems = [name for name in ("builtin", "markov") if name in available_systems()]
    results: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch_threads": threads,
    }
    for system in systems:
        load_dataset.cache_clear()
        get_harmonizer.cache_clear()
        _, build_s = timed(build_pairs, n=pairs, seed=0, system=system, split="test")
        results[f"{system}_build_pairs_{pairs}_cold_s"] = round(build_s, 2)

    load_dataset.cache_clear()
    dataset, load_s = timed(load_dataset)
    results["dataset_load_s"] = round(load_s, 3)
    get_harmonizer.cache_clear()
    harmonizers = {}
    for system in systems:
        harmonizers[system], seconds = timed(get_harmonizer, system)
        results[f"{system}_load_s"] = round(seconds, 3)

    chorales = dataset.in_split("test")
    render_s = music_s = 0.0
    harmonize_s = dict.fromkeys(systems, 0.0)
    for chorale in chorales:
        melody = Melody.from_chorale(chorale)
        for system in systems:
            voices, seconds = timed(harmonizers[system].harmonize, melody, seed=0)
            harmonize_s[system] += seconds
        # Both sides render the same number of samples, so one render per chorale times it.
        samples, seconds = timed(render_voices, voices.pitches, voices.onsets, chorale.fermatas)
        render_s += seconds
        music_s += samples.shape[1] / DEFAULT_SETTINGS.sample_rate
    results["test_chorales"] = len(chorales)
    results["test_music_s"] = round(music_s, 1)
    results["render_s"] = round(render_s, 2)
    for system in systems:
        factor = music_s / (harmonize_s[system] + render_s)
        results[f"{system}_harmonize_s"] = round(harmonize_s[system], 2)
        results[f"{system}_real_time_factor"] = round(factor, 1)
        results[f"{system}_s_per_30s_of_music"] = round(30 / factor, 3)
    results["render_s_per_60s_of_music"] = round(60 * render_s / music_s, 3)
    results["render_real_time_factor"] = round(music_s / render_s, 1)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    results = run(args.pairs, args.threads)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, value in results.items():
            print(f"{name:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

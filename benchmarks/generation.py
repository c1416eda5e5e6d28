"""Benchmark the built-in generator on this machine's CPU.

    .venv/bin/python benchmarks/generation.py [--json] [--pairs 8]

Measures, in one process: loading the shipped dataset, fitting the Markov baseline, building
``--pairs`` pairs end to end (cold: caches cleared first), harmonizing every test chorale, and
rendering; reports real-time factors (seconds of music per second of compute) for
harmonize + render of one side, and the render alone.
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

from generation.backends import Melody, get_harmonizer  # noqa: E402
from generation.dataset import load_dataset  # noqa: E402
from generation.pairs import build_pairs  # noqa: E402
from generation.render import DEFAULT_SETTINGS, render_voices  # noqa: E402


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def run(pairs: int) -> dict:
    load_dataset.cache_clear()
    get_harmonizer.cache_clear()
    _, build_s = timed(build_pairs, n=pairs, seed=0, system="markov", split="test")

    load_dataset.cache_clear()
    dataset, load_s = timed(load_dataset)
    get_harmonizer.cache_clear()
    markov, fit_s = timed(get_harmonizer, "markov")

    harmonize_s = render_s = music_s = 0.0
    for chorale in dataset.in_split("test"):
        voices, seconds = timed(markov.harmonize, Melody.from_chorale(chorale), seed=0)
        harmonize_s += seconds
        samples, seconds = timed(render_voices, voices.pitches, voices.onsets, chorale.fermatas)
        render_s += seconds
        music_s += samples.shape[1] / DEFAULT_SETTINGS.sample_rate
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "dataset_load_s": round(load_s, 3),
        "markov_fit_s": round(fit_s, 3),
        f"build_pairs_{pairs}_cold_s": round(build_s, 2),
        "test_chorales": len(dataset.split["test"]),
        "test_music_s": round(music_s, 1),
        "markov_harmonize_s": round(harmonize_s, 2),
        "render_s": round(render_s, 2),
        "render_s_per_60s_of_music": round(60 * render_s / music_s, 3),
        "markov_real_time_factor": round(music_s / (harmonize_s + render_s), 1),
        "render_real_time_factor": round(music_s / render_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pairs", type=int, default=8)
    args = parser.parse_args()
    results = run(args.pairs)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, value in results.items():
            print(f"{name:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

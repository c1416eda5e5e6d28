"""Benchmark stimulus preparation on this machine's CPU.

    .venv/bin/python benchmarks/stimuli.py [--prompts 4] [--seconds 60] [--codec flac] [--json]

Synthesises `--prompts` prompts of two music-like tracks each (a 44.1 kHz mono-ish WAV and a
48 kHz FLAC at different loudness), writes them to a temporary folder, then measures in one
process:
- baseline: pyloudnorm integrated loudness of every whole decoded track (measurement alone);
- pipeline: the whole preparation of every prompt from the files on disk: decode, stereo,
  resample to 48 kHz, section finder, 20 s excerpt with fades, loudness to -23 LUFS, joint
  true-peak limiting, encoding to the codec, decoding again to measure, size padding;
- audit: measuring the encoded stimuli as `audit_blindness` does (decode, loudness, true
  peak, tags via ffmpeg).
Reports seconds per minute of input audio and the real-time factor (input seconds per
second of compute); the target is >= 50x real time for the pipeline.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.stimuli.audio import decode  # noqa: E402
from evaluation.stimuli.audit import measure_file  # noqa: E402
from evaluation.stimuli.pipeline import MatchSettings, prepare_prompt  # noqa: E402


def music_like(seconds: float, rate: int, seed: int, level: float) -> np.ndarray:
    """Notes of random pitch every 0.25-0.5 s with harmonics, decays and a little noise:
    float32 [n, 2] (soundfile's layout)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    position = 0
    while position < n:
        length = int(rng.uniform(0.25, 0.5) * rate)
        t = np.arange(min(length, n - position)) / rate
        frequency = 110 * 2 ** (rng.integers(0, 36) / 12)
        note = sum(np.sin(2 * np.pi * k * frequency * t) / k for k in range(1, 6))
        out[position : position + len(t)] += note * np.exp(-3 * t)
        position += length
    out += 0.01 * rng.standard_normal(n)
    out *= level / np.max(np.abs(out))
    stereo = np.stack([out, np.roll(out, 200)], axis=1)
    return stereo.astype(np.float32)


def write_inputs(folder: Path, prompts: int, seconds: float) -> list[list[Path]]:
    groups = []
    for index in range(prompts):
        wav = folder / f"p{index}_a.wav"
        flac = folder / f"p{index}_b.flac"
        soundfile.write(wav, music_like(seconds, 44100, 2 * index, 0.9), 44100)
        soundfile.write(flac, music_like(seconds + 3, 48000, 2 * index + 1, 0.2), 48000)
        groups.append([wav, flac])
    return groups


def run(prompts: int, seconds: float, codec: str) -> dict:
    settings = MatchSettings(codec=codec, bitrate_kbps=160)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        groups = write_inputs(folder, prompts, seconds)
        decoded = [[decode(path) for path in group] for group in groups]
        input_minutes = sum(d.duration_s for group in decoded for d in group) / 60

        started = time.perf_counter()
        for group in decoded:
            for track in group:
                pyloudnorm.Meter(track.sample_rate).integrated_loudness(track.samples.T)
        baseline_s = time.perf_counter() - started

        started = time.perf_counter()
        outputs = []
        for group in groups:
            encoded, _ = prepare_prompt([decode(path) for path in group], settings)
            outputs.extend(encoded)
        pipeline_s = time.perf_counter() - started

        paths = []
        for index, stimulus in enumerate(outputs):
            path = folder / f"s{index}.{codec}"
            path.write_bytes(stimulus.content)
            paths.append(path)
        started = time.perf_counter()
        for path in paths:
            measure_file(path)
        audit_s = time.perf_counter() - started
        stimulus_minutes = sum(s.duration_s for s in outputs) / 60

    def per_minute(seconds_taken: float, minutes: float) -> float:
        return seconds_taken / minutes

    return {
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
        "codec": codec,
        "prompts": prompts,
        "tracks": 2 * prompts,
        "input_minutes": round(input_minutes, 2),
        "baseline_pyloudnorm_s_per_input_minute": round(per_minute(baseline_s, input_minutes), 3),
        "pipeline_s_per_input_minute": round(per_minute(pipeline_s, input_minutes), 3),
        "pipeline_x_real_time": round(60 * input_minutes / pipeline_s, 1),
        "pipeline_vs_baseline": round(pipeline_s / baseline_s, 2),
        "audit_s_per_stimulus_minute": round(per_minute(audit_s, stimulus_minutes), 3),
        "peak_reductions_db": sorted({round(s.peak_reduction_db, 2) for s in outputs}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--codec", choices=["flac", "opus", "mp3"], default="flac")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.prompts, args.seconds, args.codec)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"stimulus preparation, {result['tracks']} tracks, {result['input_minutes']} min of input, codec {args.codec}"
    )
    print(
        f"  baseline (pyloudnorm alone): {result['baseline_pyloudnorm_s_per_input_minute']:.3f} s per input minute"
    )
    print(
        f"  whole pipeline:              {result['pipeline_s_per_input_minute']:.3f} s per input minute"
        f" = {result['pipeline_x_real_time']}x real time (target >= 50x);"
        f" {result['pipeline_vs_baseline']}x the baseline's time"
    )
    print(f"  audit measurement:           {result['audit_s_per_stimulus_minute']:.3f} s per stimulus minute")  # fmt: skip


if __name__ == "__main__":
    main()

"""``python -m generation``: harmonize or continue test chorales (MIDI + WAV for both sides), or
print the split."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from generation.backends import available_systems
from generation.dataset import SPLITS, Chorale, load_dataset
from generation.pairs import PromptPair, build_pair, select_chorales


def pairs_write(
    chorales: list[Chorale], build: Callable[[Chorale], PromptPair], *, out: Path, desc: str
) -> float:
    """Write ``<slug>.mid/.wav`` and ``<slug>.ref.mid/.ref.wav`` per chorale and
    ``manifest.json``; returns the seconds of audio written."""
    out.mkdir(parents=True, exist_ok=True)
    audio_s = 0.0
    manifest = []
    for chorale in tqdm(chorales, desc=desc, unit="chorale"):
        pair = build(chorale)
        slug = chorale.slug
        pair.generated.write_midi(out / f"{slug}.mid")
        pair.generated.write_wav(out / f"{slug}.wav")
        pair.reference.write_midi(out / f"{slug}.ref.mid")
        pair.reference.write_wav(out / f"{slug}.ref.wav")
        audio_s += pair.generated.duration_s + pair.reference.duration_s
        manifest.append(
            {
                "prompt_id": pair.prompt_id,
                "prompt_text": pair.prompt_text,
                "generated": f"{slug}.wav",
                "reference": f"{slug}.ref.wav",
                "provenance": pair.generated.provenance,
            }
        )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return audio_s


def harmonize_command(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out: Path = args.out
    available = len(load_dataset().split[args.split])
    n = min(args.n, available)
    chorales = select_chorales(n=n, seed=args.seed, split=args.split)
    audio_s = pairs_write(
        chorales,
        lambda chorale: build_pair(chorale, seed=args.seed, system=args.system),
        out=out,
        desc=f"harmonizing ({args.system})",
    )
    elapsed = time.perf_counter() - started
    note = f" (the {args.split} split holds {available})" if n < args.n else ""
    print(
        f"{n} chorales{note} harmonized by {args.system} (seed {args.seed}) -> {out}: "
        f"{4 * n} files, {audio_s:.0f} s of audio in {elapsed:.1f} s"
    )
    return 0


def continue_command(args: argparse.Namespace) -> int:
    from generation.continuation import build_continuation_pair, select_continuations

    started = time.perf_counter()
    out: Path = args.out
    chorales = select_continuations(
        n=args.n,
        seed=args.seed,
        split=args.split,
        bars=args.bars,
        continue_bars=args.continue_bars,
    )
    audio_s = pairs_write(
        chorales,
        lambda chorale: build_continuation_pair(
            chorale, bars=args.bars, continue_bars=args.continue_bars, seed=args.seed
        ),
        out=out,
        desc="continuing",
    )
    elapsed = time.perf_counter() - started
    n = len(chorales)
    note = f" (only {n} {args.split} chorales are long enough)" if n < args.n else ""
    print(
        f"{n} chorales{note} continued after {args.bars} bars for {args.continue_bars} bars "
        f"(seed {args.seed}) -> {out}: {4 * n} files, {audio_s:.0f} s of audio in "
        f"{elapsed:.1f} s"
    )
    return 0


def split_command(args: argparse.Namespace) -> int:
    """Print the chorale ids (music21 corpus names) of every split, and the rule behind it."""
    from generation.dataset import FAMILY_THRESHOLD, SPLIT_RULE, SPLIT_SEED, tune_families

    dataset = load_dataset()
    if args.json:
        payload = {
            "seed": SPLIT_SEED,
            "rule": SPLIT_RULE,
            "family_threshold": FAMILY_THRESHOLD,
            "excluded": dataset.excluded,
            **{name: dataset.split[name] for name in SPLITS},
        }
        print(json.dumps(payload, indent=2))
        return 0
    families = tune_families(list(dataset.chorales.values()))
    print(f"{len(dataset.chorales)} chorales in {len(families)} tune families; {SPLIT_RULE}")
    for name in SPLITS:
        print(f"{name} ({len(dataset.split[name])}): {' '.join(dataset.split[name])}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    harmonize = commands.add_parser(
        "harmonize",
        help="write <id>.mid/.wav (generated) and <id>.ref.mid/.ref.wav (Bach) per chorale",
    )
    harmonize.add_argument("--split", choices=SPLITS, default="test")
    harmonize.add_argument(
        "--n", type=int, default=20, help="number of chorales (capped at the split size)"
    )
    harmonize.add_argument("--seed", type=int, default=0)
    harmonize.add_argument("--out", type=Path, required=True)
    systems = available_systems()
    harmonize.add_argument(
        "--system",
        choices=systems,
        default="builtin" if "builtin" in systems else "markov",
        help="builtin: the neural model (default when its checkpoint ships); markov: baseline",
    )
    continuation = commands.add_parser(
        "continue",
        help="keep the first --bars bars of all four voices and write --continue-bars more: "
        "<id>.mid/.wav (generated) and <id>.ref.mid/.ref.wav (Bach's real continuation)",
    )
    continuation.add_argument("--split", choices=SPLITS, default="test")
    continuation.add_argument("--n", type=int, default=20, help="number of chorales (at most)")
    continuation.add_argument("--bars", type=int, default=4, help="given bars (pickup = bar 1)")
    continuation.add_argument("--continue-bars", type=int, default=4, help="bars to write")
    continuation.add_argument("--seed", type=int, default=0)
    continuation.add_argument("--out", type=Path, required=True)
    split = commands.add_parser(
        "split", help="print the music21 corpus ids of the train, validation and test chorales"
    )
    split.add_argument("--json", action="store_true", help="as JSON (with the excluded ids)")
    args = parser.parse_args(argv)
    if args.command == "split":
        return split_command(args)
    if args.command == "continue":
        return continue_command(args)
    return harmonize_command(args)


if __name__ == "__main__":
    sys.exit(main())

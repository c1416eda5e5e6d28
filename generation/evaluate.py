"""``python -m generation.evaluate``: Bach vs the neural model vs the Markov baseline.

    python -m generation.evaluate --split test --seed 0 --json

On every chorale of the split, each system harmonizes Bach's soprano (seed from
:func:`generation.pairs.prompt_seed`, as the pairs use) and is scored with the same measures
as Bach's own setting, computed with music21 (:mod:`generation.theory`): parallel fifths and
octaves, voice crossings, out-of-range steps and spacing errors (per 100 beats), and the total
variation distance of its lower-voice scale-degree and melodic-interval histograms to Bach's on
the same melodies. The numpy count of parallels (:mod:`generation.metrics`, the definition the
sampler's check uses) is reported beside music21's as ``..._numpy_per_100_beats``. Each model also scores Bach's
own lower voices: negative log-likelihood in bits per lower-voice note and per voice-step of
the 16th-note grid (one shared denominator, so the two models compare directly).

What a listener hears (:mod:`generation.listening`): the cross-validated accuracy of a
logistic-regression discriminator telling each system from Bach on audible features (chord
types, dissonance, passing notes, cadences, ranges, rhythm; tune families held out together)
with its 95 % interval, the percentage of correct final chords, hidden fifths and octaves in
the outer voices, and passing notes per beat per lower voice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from tqdm import tqdm

from generation import metrics, theory
from generation.backends import Melody, available_systems, get_harmonizer
from generation.dataset import SPLITS, STEPS_PER_QUARTER, Chorale, load_dataset
from generation.pairs import prompt_seed

REFERENCE = "bach"
RULES = ("parallel_fifths_octaves", "voice_crossings", "out_of_range", "spacing_errors")


def rule_counts(pitches: np.ndarray, onsets: np.ndarray) -> dict[str, int]:
    """The rule counts of one setting in numpy (:mod:`generation.metrics`); the figures of
    record are music21's, :func:`generation.theory.rule_counts`."""
    return {
        "parallel_fifths_octaves": metrics.parallel_perfects(pitches, onsets),
        "voice_crossings": metrics.voice_crossings(pitches),
        "out_of_range": metrics.out_of_range(pitches),
        "spacing_errors": metrics.spacing_errors(pitches),
    }


def model_bits(system: str, chorales: list[Chorale]) -> float:
    """Total bits the model ``system`` gives Bach's lower voices of ``chorales``."""
    harmonizer = get_harmonizer(system)
    if system == "markov":
        return float(sum(harmonizer.setting_bits(c) for c in chorales))
    if system == "builtin":
        from generation.neural import encode_chorale, sequence_bits

        bits, _ = sequence_bits(harmonizer.network.model, [encode_chorale(c) for c in chorales])
        return bits
    raise ValueError(f"no likelihood for system {system!r}")


def evaluate(
    *,
    split: str,
    seed: int,
    systems: list[str],
    limit: int | None = None,
    bars: int = 4,
    continue_bars: int = 4,
) -> dict:
    """The comparison table as a dict: ``{"split", "chorales", "beats", "systems": {name:
    {measure: value}}}``; rule measures are per 100 beats, distances in [0, 1]. When the
    soprano model ships, also ``"soprano"`` (its NLL against the bigram baseline) and
    ``"continuation"`` (see :func:`continuation_measures`)."""
    chorales = load_dataset().in_split(split)[:limit]
    beats = sum(c.steps for c in chorales) / STEPS_PER_QUARTER
    notes = int(sum(c.onsets[1:].sum() for c in chorales))
    voice_steps = 3 * sum(c.steps for c in chorales)
    settings: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {
        REFERENCE: [(c.pitches, c.onsets) for c in chorales]
    }
    seconds: dict[str, float] = {}
    for system in systems:
        harmonizer = get_harmonizer(system)
        started = time.perf_counter()
        settings[system] = []
        for chorale in tqdm(chorales, desc=f"harmonizing ({system})", unit="chorale"):
            melody = Melody.from_chorale(chorale)
            voices = harmonizer.harmonize(melody, seed=prompt_seed(seed, chorale.chorale_id))
            voices.validate_against(melody)
            settings[system].append((voices.pitches, voices.onsets))
        seconds[system] = time.perf_counter() - started

    table = music21_table(
        {
            name: [(p, o, c) for (p, o), c in zip(setting, chorales, strict=True)]
            for name, setting in settings.items()
        },
        beats=beats,
        first_voice=1,
    )
    for name, setting in settings.items():
        row = table[name]
        numpy_parallels = sum(metrics.parallel_perfects(p, o) for p, o in setting)
        row["parallel_fifths_octaves_numpy_per_100_beats"] = round(100 * numpy_parallels / beats, 2)
        if name != REFERENCE:
            bits = model_bits(name, chorales)
            row["nll_bits_per_note"] = round(bits / notes, 3)
            row["nll_bits_per_voice_step"] = round(bits / voice_steps, 4)
            row["harmonize_s"] = round(seconds[name], 2)
            row["describe"] = get_harmonizer(name).describe()
    listening = listening_measures(settings, chorales)
    for name, measures in listening.items():
        table[name].update(measures)
    result = {
        "split": split,
        "seed": seed,
        "chorales": len(chorales),
        "beats": beats,
        "lower_voice_notes": notes,
        "systems": table,
    }
    from generation.soprano import CHECKPOINT_PATH as SOPRANO_CHECKPOINT

    if SOPRANO_CHECKPOINT.is_file() and "builtin" in available_systems():
        result["soprano"] = soprano_likelihoods(chorales)
        result["continuation"] = continuation_measures(
            chorales, seed=seed, bars=bars, continue_bars=continue_bars
        )
    return result


def listening_measures(
    settings: dict[str, list[tuple[np.ndarray, np.ndarray]]], chorales: list[Chorale]
) -> dict[str, dict]:
    """Per system: what a listener hears (:mod:`generation.listening`). Final chords correct
    (percent of pieces), hidden fifths/octaves in the outer voices per 100 beats, passing notes
    per beat per lower voice, and for every system but Bach the cross-validated accuracy of a
    discriminator telling it from Bach (tune families held out together) with its Wilson 95 %
    interval, and the same with shuffled labels (should be near 50 %)."""
    from generation.dataset import tune_families
    from generation.listening import FEATURES, Setting, audible_features, discriminator_accuracy

    family_of = {
        chorale_id: index
        for index, family in enumerate(tune_families(chorales))
        for chorale_id in family
    }
    groups = np.array([family_of[c.chorale_id] for c in chorales] * 2)
    beats = sum(c.steps for c in chorales) / STEPS_PER_QUARTER
    features: dict[str, np.ndarray] = {}
    for name, setting in settings.items():
        features[name] = np.stack(
            [
                audible_features(
                    Setting(
                        pitches=p,
                        onsets=o,
                        fermatas=c.fermatas,
                        key_tonic=c.key_tonic,
                        bar_offset=c.bar_offset,
                    )
                )
                for (p, o), c in zip(setting, chorales, strict=True)
            ]
        )
    column = {name: FEATURES.index(name) for name in FEATURES}
    weights = np.array([c.steps for c in chorales], dtype=float)
    result: dict[str, dict] = {}
    for name, rows in features.items():
        final = rows[:, column["final_chord_correct"]]
        hidden = float((rows[:, column["hidden_outer"]] * weights).sum() / STEPS_PER_QUARTER)
        row = {
            "final_chord_correct_percent": round(100 * float(final.mean()), 1),
            "hidden_fifths_octaves_outer_per_100_beats": round(100 * hidden / beats, 2),
        }
        for voice in ("alto", "tenor", "bass"):
            per_piece = rows[:, column[f"passing_{voice}"]] * weights / STEPS_PER_QUARTER
            row[f"passing_notes_per_beat_{voice}"] = round(float(per_piece.sum()) / beats, 3)
        # One tune family cannot be cross-validated (e.g. --limit 1): no accuracy then.
        if name != REFERENCE and len(np.unique(groups)) >= 2:
            accuracy = discriminator_accuracy(features[REFERENCE], rows, groups)
            row["discriminator_accuracy"] = accuracy["accuracy"]
            row["discriminator_95ci"] = [accuracy["low"], accuracy["high"]]
            row["discriminator_accuracy_shuffled_labels"] = discriminator_accuracy(
                features[REFERENCE], rows, groups, shuffle_labels_seed=0
            )["accuracy"]
        result[name] = row
    return result


def continuation_measures(
    chorales: list[Chorale], *, seed: int, bars: int, continue_bars: int
) -> dict:
    """Music21 measures of the written bars only (after the given ``bars``), for Bach's real
    continuation and the model's, on the chorales long enough: ``{"chorales", "beats",
    "systems": {"bach" | "builtin-continuation": {measure: value}}}``. Histograms cover all
    four voices here (the soprano is generated too); distances are to Bach's continuations."""
    from generation.continuation import SYSTEM, continue_chorale, excerpt_steps

    long_enough = [
        c for c in chorales if c.steps >= excerpt_steps(c, bars=bars, continue_bars=continue_bars)
    ]
    written: dict[str, list] = {REFERENCE: [], SYSTEM: []}
    for chorale in tqdm(long_enough, desc="continuing", unit="chorale"):
        continuation = continue_chorale(chorale, bars=bars, continue_bars=continue_bars, seed=seed)
        given = continuation.prefix_steps
        for name, setting in (
            (REFERENCE, continuation.reference),
            (SYSTEM, continuation.generated),
        ):
            onsets = setting.onsets[:, given:].copy()
            onsets[:, 0] = True  # a note held over the bar line starts the written part
            written[name].append((setting.pitches[:, given:], onsets, chorale))
    beats = sum(p.shape[1] for p, _, _ in written[REFERENCE]) / STEPS_PER_QUARTER
    table = music21_table(written, beats=beats, first_voice=0)
    for name, row in table.items():
        row["notes_per_beat"] = round(sum(int(o.sum()) for _, o, _ in written[name]) / beats, 3)
    return {
        "bars": bars,
        "continue_bars": continue_bars,
        "chorales": len(long_enough),
        "beats": beats,
        "systems": table,
    }


def music21_table(
    settings: dict[str, list[tuple[np.ndarray, np.ndarray, Chorale]]],
    *,
    beats: float,
    first_voice: int,
) -> dict[str, dict]:
    """Per system, from (pitches [4, T], onsets [4, T], chorale) settings: music21's rule
    counts per 100 of ``beats`` and the total variation distances of its scale-degree and
    melodic-interval histograms (voices ``first_voice``..bass) to those of ``REFERENCE``."""
    table: dict[str, dict] = {}
    histograms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, items in settings.items():
        totals = dict.fromkeys(RULES, 0)
        degrees, intervals = np.zeros(12), np.zeros(metrics.INTERVAL_BINS)
        for pitches, onsets, chorale in tqdm(
            items, desc=f"music21 measures ({name})", unit="chorale"
        ):
            context = {"key_tonic": chorale.key_tonic, "key_mode": chorale.key_mode}
            for rule, count in theory.rule_counts(pitches, onsets, **context).items():
                totals[rule] += count
            degree, interval = theory.histograms(
                pitches, onsets, first_voice=first_voice, **context
            )
            degrees, intervals = degrees + degree, intervals + interval
        table[name] = {
            f"{rule}_per_100_beats": round(100 * totals[rule] / beats, 2) for rule in RULES
        }
        histograms[name] = (degrees, intervals)
    bach_degrees, bach_intervals = histograms[REFERENCE]
    for name, row in table.items():
        degrees, intervals = histograms[name]
        row["scale_degree_distance"] = round(metrics.histogram_distance(degrees, bach_degrees), 4)
        row["interval_distance"] = round(metrics.histogram_distance(intervals, bach_intervals), 4)
    return table


def soprano_likelihoods(chorales: list[Chorale]) -> dict[str, float]:
    """Bits per 16th-note step the continuation's soprano model and the bigram baseline (fitted
    on the train split) give Bach's sopranos of ``chorales``."""
    from generation.soprano import SopranoBigram, SopranoContinuer, encode_soprano, soprano_bits

    encoded = [encode_soprano(c) for c in chorales]
    neural_bits, steps = soprano_bits(SopranoContinuer.load().model, encoded)
    bigram_bits, _ = SopranoBigram.fit(load_dataset().in_split("train")).bits(encoded)
    return {
        "steps": steps,
        "neural_bits_per_step": round(float(neural_bits) / steps, 4),
        "bigram_bits_per_step": round(bigram_bits / steps, 4),
    }


def print_table(systems: dict[str, dict]) -> None:
    names = list(systems)
    measures = [k for k in systems[names[-1]] if k != "describe"]
    print(f"{'measure':44}" + "".join(f"{name:>22}" for name in names))
    for measure in measures:
        cells = "".join(f"{str(systems[n].get(measure, '-')):>22}" for n in names)
        print(f"{measure:44}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--systems",
        nargs="+",
        default=[s for s in ("builtin", "markov") if s in available_systems()],
        choices=available_systems(),
    )
    parser.add_argument("--limit", type=int, default=None, help="first N chorales only")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument("--bars", type=int, default=4, help="continuation: given bars")
    parser.add_argument(
        "--continue-bars", type=int, default=4, help="continuation: bars the model writes"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    result = evaluate(
        split=args.split,
        seed=args.seed,
        systems=args.systems,
        limit=args.limit,
        bars=args.bars,
        continue_bars=args.continue_bars,
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['chorales']} {args.split} chorales, {result['beats']:.0f} beats, seed {args.seed}"
    )
    print_table(result["systems"])
    if "continuation" in result:
        continuation = result["continuation"]
        print(
            f"continuation: {continuation['chorales']} chorales long enough, the "
            f"{continuation['continue_bars']} bars after bar {continuation['bars']} "
            f"({continuation['beats']:.0f} beats)"
        )
        print_table(continuation["systems"])
    if "soprano" in result:
        soprano = result["soprano"]
        print(
            f"soprano NLL (continuation), bits per step: neural "
            f"{soprano['neural_bits_per_step']}, bigram baseline "
            f"{soprano['bigram_bits_per_step']} ({soprano['steps']} steps)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

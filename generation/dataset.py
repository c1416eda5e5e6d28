"""Four-part Bach chorales from the music21 corpus on a 16th-note grid.

The corpus is parsed once by ``python -m generation.dataset build`` into a compact file,
``generation/data/chorales.json.gz``, that ships in the repository and loads in well under a
second. Each chorale is stored as run-length notes per voice (soprano, alto, tenor, bass); the
loader expands them to arrays:

- ``pitches``: int16 ndarray [4, steps], MIDI pitch per 16th-note step, ``REST`` (0) for a rest;
- ``onsets``: bool ndarray [4, steps], True where a note (or rest) starts, False where it holds;
- ``fermatas``: bool ndarray [steps], True on the steps of a soprano note marked with a fermata.

The train / validation / test split is by chorale, deterministic from ``SPLIT_SEED``, stored in
the data file and re-derivable with :func:`split_chorale_ids`. Chorales whose soprano melody is
identical up to transposition (the corpus holds a few duplicate harmonizations) always fall in
the same split, so no test melody is ever seen in training.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

VOICES = ("soprano", "alto", "tenor", "bass")
VOICE_LETTERS = ("S", "A", "T", "B")
REST = 0
STEPS_PER_QUARTER = 4
METERS = {"4/4": 16, "3/4": 12}  # meter -> 16th-note steps per bar
SPLIT_SEED = 20240611
SPLIT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
# Two melodies closer than this (normalised edit distance of interval sequences, on beats or
# note by note) belong to one tune family. Variants of one hymn tune measure 0.00-0.30 apart;
# the closest melodies of different tunes are further (see docs/generation.md).
FAMILY_THRESHOLD = 0.30
SPLIT_RULE = (
    "tune families: single linkage of melodies within 0.30 (normalised Levenshtein distance "
    "of beat-sampled or note-by-note soprano interval sequences); identical settings dropped"
)
SPLITS = tuple(SPLIT_FRACTIONS)
DATA_FORMAT = 1
DATA_PATH = Path(__file__).resolve().parent / "data" / "chorales.json.gz"

PITCH_CLASS_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")


@dataclass(frozen=True, eq=False)
class Chorale:
    """One four-part chorale quantized to 16th notes (one step = a 16th note).

    ``bar_offset`` is the position (in steps) of step 0 inside its bar, so a one-beat pickup in
    4/4 gives ``bar_offset == 12``. A step ``t`` falls on a beat when
    ``(bar_offset + t) % 4 == 0`` and on a downbeat when ``(bar_offset + t) % bar_steps == 0``.
    """

    chorale_id: str
    key_tonic: int
    key_mode: str
    meter: str
    bar_offset: int
    pitches: np.ndarray
    onsets: np.ndarray
    fermatas: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.pitches.shape[1])

    @property
    def bar_steps(self) -> int:
        return METERS[self.meter]

    @property
    def bars(self) -> int:
        """Length in whole bars, rounded up (a pickup and a short last bar make one bar)."""
        return -(-self.steps // self.bar_steps)

    @property
    def key_name(self) -> str:
        return f"{PITCH_CLASS_NAMES[self.key_tonic]} {self.key_mode}"

    @property
    def slug(self) -> str:
        """A filename-safe id: ``bach/bwv1.6`` -> ``bwv1_6``."""
        return self.chorale_id.rsplit("/", 1)[-1].replace(".", "_")

    @property
    def bwv(self) -> str:
        """The catalogue label: ``bach/bwv269`` -> ``BWV 269``."""
        return "BWV " + self.chorale_id.rsplit("/", 1)[-1].removeprefix("bwv")

    @property
    def soprano(self) -> tuple[np.ndarray, np.ndarray]:
        """The soprano line as (pitches int16 [steps], onsets bool [steps])."""
        return self.pitches[0], self.onsets[0]

    def beat_mask(self) -> np.ndarray:
        """bool ndarray [steps]: True on steps that start a quarter-note beat."""
        return (self.bar_offset + np.arange(self.steps)) % STEPS_PER_QUARTER == 0


@dataclass(frozen=True)
class ChoraleDataset:
    """All kept chorales plus the stored split (chorale ids per split, sorted)."""

    chorales: dict[str, Chorale]
    split: dict[str, list[str]]
    excluded: dict[str, str]

    def in_split(self, split: str) -> list[Chorale]:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return [self.chorales[chorale_id] for chorale_id in self.split[split]]


def decode_runs(runs: list[int], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Expand flat ``[pitch, length, pitch, length, ...]`` runs to (pitches [steps], onsets)."""
    pairs = np.asarray(runs, dtype=np.int64).reshape(-1, 2)
    lengths = pairs[:, 1]
    if int(lengths.sum()) != steps or (lengths <= 0).any():
        raise ValueError("runs do not cover the chorale exactly")
    pitches = np.repeat(pairs[:, 0], lengths).astype(np.int16)
    onsets = np.zeros(steps, dtype=bool)
    onsets[np.concatenate(([0], np.cumsum(lengths)[:-1]))] = True
    return pitches, onsets


def encode_runs(pitches: np.ndarray, onsets: np.ndarray) -> list[int]:
    """Inverse of :func:`decode_runs`: one run per onset (held steps extend the run)."""
    starts = np.flatnonzero(onsets)
    if len(starts) == 0 or starts[0] != 0:
        raise ValueError("a voice must start with an onset at step 0")
    lengths = np.diff(np.append(starts, len(pitches)))
    runs: list[int] = []
    for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        runs += [int(pitches[start]), int(length)]
    return runs


def chorale_from_record(record: dict) -> Chorale:
    steps = int(record["steps"])
    voices = [decode_runs(record["voices"][letter], steps) for letter in VOICE_LETTERS]
    fermatas = np.zeros(steps, dtype=bool)
    for start, length in np.asarray(record["fermatas"], dtype=np.int64).reshape(-1, 2):
        fermatas[start : start + length] = True
    return Chorale(
        chorale_id=record["id"],
        key_tonic=int(record["key_tonic"]),
        key_mode=record["key_mode"],
        meter=record["meter"],
        bar_offset=int(record["bar_offset"]),
        pitches=np.stack([pitches for pitches, _ in voices]),
        onsets=np.stack([onsets for _, onsets in voices]),
        fermatas=fermatas,
    )


def chorale_to_record(chorale: Chorale) -> dict:
    starts = np.flatnonzero(np.diff(np.concatenate(([0], chorale.fermatas.astype(int)))) == 1)
    ends = np.flatnonzero(np.diff(np.concatenate((chorale.fermatas.astype(int), [0]))) == -1) + 1
    fermata_runs = [
        int(v) for start, end in zip(starts, ends, strict=True) for v in (start, end - start)
    ]
    return {
        "id": chorale.chorale_id,
        "key_tonic": chorale.key_tonic,
        "key_mode": chorale.key_mode,
        "meter": chorale.meter,
        "bar_offset": chorale.bar_offset,
        "steps": chorale.steps,
        "voices": {
            letter: encode_runs(chorale.pitches[index], chorale.onsets[index])
            for index, letter in enumerate(VOICE_LETTERS)
        },
        "fermatas": fermata_runs,
    }


def melody_signature(chorale: Chorale) -> str:
    """The soprano melody up to transposition, used to keep duplicate tunes in one split."""
    pitches, onsets = chorale.soprano
    starts = np.flatnonzero(onsets)
    notes = pitches[starts].astype(int)
    lengths = np.diff(np.append(starts, len(pitches)))
    sounding = notes[notes != REST]
    base = int(sounding[0]) if len(sounding) else 0
    relative = np.where(notes == REST, -999, notes - base)
    return ",".join(f"{p}:{n}" for p, n in zip(relative.tolist(), lengths.tolist(), strict=True))


def melody_intervals_on_beats(chorale: Chorale) -> list[int]:
    """The soprano sampled on every quarter-note beat, as semitone steps between beats.

    Rests are skipped. Transposition-invariant (intervals, not pitches) and rhythm-tolerant:
    a held note and a repeated one, or a passing eighth between two beats, give the same list.
    """
    pitches, _ = chorale.soprano
    sampled = pitches[chorale.beat_mask()].astype(int)
    sampled = sampled[sampled != REST]
    return np.diff(sampled).tolist()


def melody_intervals_by_note(chorale: Chorale) -> list[int]:
    """The soprano as semitone steps between successive different notes (rhythm ignored)."""
    pitches, onsets = chorale.soprano
    notes = pitches[onsets].astype(int)
    notes = notes[notes != REST]
    steps = np.diff(notes)
    return steps[steps != 0].tolist()


def melody_distances(
    queries: list[Chorale], references: list[Chorale], *, by: str = "beat"
) -> np.ndarray:
    """float ndarray [len(queries), len(references)]: normalised edit distance of melodies.

    The Levenshtein distance between the interval sequences (:func:`melody_intervals_on_beats`
    for ``by="beat"``, :func:`melody_intervals_by_note` for ``by="note"``) divided by the longer
    sequence's length: 0 for the same tune in any key, 1 for nothing in common.
    """
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist

    intervals = {"beat": melody_intervals_on_beats, "note": melody_intervals_by_note}[by]
    return cdist(
        [intervals(c) for c in queries],
        [intervals(c) for c in references],
        scorer=Levenshtein.normalized_distance,
        workers=1,
    ).astype(np.float64)


def tune_families(
    chorales: list[Chorale], *, threshold: float = FAMILY_THRESHOLD
) -> list[list[str]]:
    """Group chorales that set the same hymn tune: sorted lists of chorale ids, sorted.

    Two chorales are linked when their melodies are within ``threshold`` by either distance of
    :func:`melody_distances` (on beats, or note by note); a family is a connected group of
    links (single linkage), so no two chorales of different families are that close.
    """
    from scipy.sparse.csgraph import connected_components

    ordered = sorted(chorales, key=lambda c: c.chorale_id)
    close = (melody_distances(ordered, ordered, by="beat") <= threshold) | (
        melody_distances(ordered, ordered, by="note") <= threshold
    )
    _, labels = connected_components(close, directed=False)
    families: dict[int, list[str]] = {}
    for chorale, label in zip(ordered, labels.tolist(), strict=True):
        families.setdefault(label, []).append(chorale.chorale_id)
    return sorted(families.values())


def chorale_signature(chorale: Chorale) -> bytes:
    """All four voices, rhythm and fermatas up to transposition: equal for identical settings."""
    sounding = chorale.pitches[chorale.pitches != REST]
    base = int(sounding[0]) if len(sounding) else 0
    relative = np.where(chorale.pitches == REST, -999, chorale.pitches.astype(np.int64) - base)
    return (
        chorale.meter.encode()
        + relative.tobytes()
        + chorale.onsets.tobytes()
        + chorale.fermatas.tobytes()
    )


def duplicate_chorales(chorales: list[Chorale]) -> dict[str, str]:
    """Chorale id -> the id it duplicates, for settings identical up to transposition.

    The corpus holds the same harmonization under two catalogue numbers (BWV 197.7-a and
    BWV 398); the first id in sorted order is kept, the others map to it.
    """
    first: dict[bytes, str] = {}
    duplicates: dict[str, str] = {}
    for chorale in sorted(chorales, key=lambda c: c.chorale_id):
        signature = chorale_signature(chorale)
        if signature in first:
            duplicates[chorale.chorale_id] = first[signature]
        else:
            first[signature] = chorale.chorale_id
    return duplicates


def split_chorale_ids(chorales: list[Chorale], *, seed: int = SPLIT_SEED) -> dict[str, list[str]]:
    """Assign chorales to train / validation / test by tune family, deterministically.

    Families (:func:`tune_families`) are shuffled with ``numpy.random.default_rng(seed)`` and
    dealt out whole: the first 80 % of chorales to train, the next 10 % to validation, the rest
    to test. So no test or validation melody is within ``FAMILY_THRESHOLD`` of a training
    melody. Returns sorted id lists per split. Pass chorales without duplicates
    (:func:`duplicate_chorales`).
    """
    ordered = tune_families(chorales)
    order = np.random.default_rng(seed).permutation(len(ordered))
    total = sum(len(group) for group in ordered)
    train_cut = round(SPLIT_FRACTIONS["train"] * total)
    validation_cut = train_cut + round(SPLIT_FRACTIONS["validation"] * total)
    split: dict[str, list[str]] = {name: [] for name in SPLITS}
    assigned = 0
    for index in order.tolist():
        group = ordered[index]
        name = (
            "train"
            if assigned < train_cut
            else "validation"
            if assigned < validation_cut
            else "test"
        )
        split[name] += group
        assigned += len(group)
    return {name: sorted(ids) for name, ids in split.items()}


def dataset_resplit(path: Path | str = DATA_PATH) -> dict[str, int]:
    """Drop duplicate settings and re-derive the split of an existing data file, in place.

    The quick path when only the split rules change (the corpus is not parsed again).
    Returns counts: ``kept``, ``excluded``, ``duplicates`` and chorales per split.
    """
    path = Path(path)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        payload = json.load(handle)
    chorales = [chorale_from_record(record) for record in payload["chorales"]]
    duplicates = duplicate_chorales(chorales)
    kept = [c for c in chorales if c.chorale_id not in duplicates]
    excluded = dict(payload["excluded"])
    excluded.update({cid: f"duplicate of {original}" for cid, original in duplicates.items()})
    payload["excluded"] = dict(sorted(excluded.items()))
    payload["chorales"] = [r for r in payload["chorales"] if r["id"] not in duplicates]
    payload["split"] = split_chorale_ids(kept)
    payload["split_rule"] = SPLIT_RULE
    _payload_write(payload, path)
    counts = {"kept": len(kept), "excluded": len(excluded), "duplicates": len(duplicates)}
    counts.update({name: len(ids) for name, ids in payload["split"].items()})
    return counts


def _payload_write(payload: dict, path: Path) -> None:
    text = json.dumps(payload, separators=(",", ":"), sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip bytes identical across rebuilds of the same corpus.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(text.encode("utf-8"))
    load_dataset.cache_clear()


@lru_cache(maxsize=4)
def load_dataset(path: Path | str = DATA_PATH) -> ChoraleDataset:
    """Load the shipped chorale dataset (cached; about 0.1 s the first time).

    Raises FileNotFoundError with the rebuild command if the data file is missing.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing; rebuild it with `python -m generation.dataset build`"
        )
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        payload = json.load(handle)
    if payload["format"] != DATA_FORMAT:
        raise ValueError(f"{path}: data format {payload['format']}, expected {DATA_FORMAT}")
    chorales = {record["id"]: chorale_from_record(record) for record in payload["chorales"]}
    return ChoraleDataset(chorales=chorales, split=payload["split"], excluded=payload["excluded"])


# --- building from the music21 corpus (slow: about two minutes) ---------------------------------


class SkipChorale(Exception):
    """Raised while parsing a corpus file that is not a clean four-part 3/4 or 4/4 chorale."""


def corpus_chorale_paths() -> dict[str, Path]:
    """Corpus id (``bach/bwv269``) -> path, for every Bach score file in the music21 corpus."""
    from music21 import corpus

    paths: dict[str, Path] = {}
    preference = {".mxl": 0, ".xml": 1, ".krn": 2}
    for path in sorted(Path(p) for p in corpus.getComposer("bach")):
        if path.suffix not in preference or path.parent.name != "bach":
            continue
        chorale_id = f"bach/{path.stem}"
        if (
            chorale_id not in paths
            or preference[path.suffix] < preference[paths[chorale_id].suffix]
        ):
            paths[chorale_id] = path
    return paths


def _quantize(offset_quarters: float) -> tuple[int, bool]:
    exact = float(offset_quarters) * STEPS_PER_QUARTER
    step = int(round(exact))
    return step, abs(exact - step) < 1e-6


def _key_of(score, bass_pitches: np.ndarray) -> tuple[int, str]:
    """Tonic pitch class and mode: the final bass note names the tonic (chorales end on it)."""
    from music21 import key

    sounding = bass_pitches[bass_pitches != REST]
    final_pc = int(sounding[-1]) % 12
    signatures = list(score.parts[0].recurse().getElementsByClass(key.KeySignature))
    if signatures:
        signature = signatures[0]
        for mode in ("major", "minor"):
            if signature.asKey(mode).tonic.pitchClass == final_pc:
                return final_pc, mode
    analysed = score.analyze("key")
    if analysed.tonic.pitchClass == final_pc:
        return final_pc, analysed.mode
    # Modal chorales (e.g. Dorian written with one flat fewer): judge the mode by the third.
    counts = Counter(int(p) % 12 for p in sounding)
    major = counts[(final_pc + 4) % 12] >= counts[(final_pc + 3) % 12]
    return final_pc, "major" if major else "minor"


def parse_corpus_chorale(chorale_id: str, path: Path) -> Chorale:
    """Parse one corpus file into a :class:`Chorale`, or raise :class:`SkipChorale` with why."""
    from music21 import chord, converter, expressions, meter, note

    score = converter.parse(str(path))
    parts = list(score.parts)
    if len(parts) != 4:
        raise SkipChorale(f"{len(parts)} parts")
    meters = {ts.ratioString for ts in score.recurse().getElementsByClass(meter.TimeSignature)}
    if len(meters) != 1 or not meters <= set(METERS):
        raise SkipChorale(f"meter {sorted(meters)}")
    meter_name = meters.pop()
    bar_steps = METERS[meter_name]

    steps = int(round(max(part.highestTime for part in parts) * STEPS_PER_QUARTER))
    pitches = np.full((4, steps), REST, dtype=np.int16)
    onsets = np.zeros((4, steps), dtype=bool)
    fermatas = np.zeros(steps, dtype=bool)
    for voice, part in enumerate(parts):
        covered = np.zeros(steps, dtype=bool)
        previous_pitch = None
        for element in part.flatten().notesAndRests:
            if isinstance(element, chord.Chord):
                raise SkipChorale("chord inside a voice")
            if element.duration.isGrace or element.quarterLength == 0:
                continue
            start, on_grid = _quantize(element.offset)
            end, end_on_grid = _quantize(element.offset + element.quarterLength)
            if not (on_grid and end_on_grid):
                raise SkipChorale("note off the 16th-note grid")
            if end <= start:
                continue
            midi = REST if isinstance(element, note.Rest) else int(element.pitch.midi)
            tied_on = (
                isinstance(element, note.Note)
                and element.tie is not None
                and element.tie.type in ("stop", "continue")
                and previous_pitch == midi
            )
            pitches[voice, start:end] = midi
            onsets[voice, start] = not tied_on or start == 0
            covered[start:end] = True
            if voice == 0 and any(isinstance(e, expressions.Fermata) for e in element.expressions):
                fermatas[start:end] = True
            previous_pitch = midi
        if not covered.all():
            raise SkipChorale(f"{VOICES[voice]} has gaps")
        if (pitches[voice] == REST).all():
            raise SkipChorale(f"{VOICES[voice]} is silent")
    # A rest that follows a rest is one rest: keep run-length data canonical.
    for voice in range(4):
        repeated_rest = (pitches[voice, 1:] == REST) & (pitches[voice, :-1] == REST)
        onsets[voice, 1:][repeated_rest] = False

    measures = list(parts[0].getElementsByClass("Measure"))
    first_bar = (
        int(round(measures[0].duration.quarterLength * STEPS_PER_QUARTER)) if measures else 0
    )
    bar_offset = (bar_steps - first_bar) % bar_steps if 0 < first_bar < bar_steps else 0
    key_tonic, key_mode = _key_of(score, pitches[3])
    return Chorale(
        chorale_id=chorale_id,
        key_tonic=key_tonic,
        key_mode=key_mode,
        meter=meter_name,
        bar_offset=bar_offset,
        pitches=pitches,
        onsets=onsets,
        fermatas=fermatas,
    )


def build_dataset(path: Path | str = DATA_PATH, *, progress: bool = True) -> dict[str, int]:
    """Parse every Bach score in the music21 corpus and write the compact data file.

    Returns counts: ``kept``, ``excluded`` and chorales per split.
    """
    import music21
    from tqdm import tqdm

    paths = corpus_chorale_paths()
    kept: list[Chorale] = []
    excluded: dict[str, str] = {}
    for chorale_id, source in tqdm(paths.items(), desc="parsing chorales", disable=not progress):
        try:
            kept.append(parse_corpus_chorale(chorale_id, source))
        except SkipChorale as reason:
            excluded[chorale_id] = str(reason)
    duplicates = duplicate_chorales(kept)
    excluded.update({cid: f"duplicate of {original}" for cid, original in duplicates.items()})
    kept = [c for c in kept if c.chorale_id not in duplicates]
    split = split_chorale_ids(kept)
    payload = {
        "format": DATA_FORMAT,
        "source": "music21 corpus, composer 'bach'",
        "music21_version": music21.__version__,
        "grid": "16th note",
        "split_seed": SPLIT_SEED,
        "split_rule": SPLIT_RULE,
        "split": split,
        "excluded": dict(sorted(excluded.items())),
        "chorales": [chorale_to_record(c) for c in sorted(kept, key=lambda c: c.chorale_id)],
    }
    _payload_write(payload, Path(path))
    counts = {"kept": len(kept), "excluded": len(excluded)}
    counts.update({name: len(ids) for name, ids in split.items()})
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation.dataset", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="parse the music21 corpus into the shipped data file")
    build.add_argument("--out", type=Path, default=DATA_PATH)
    commands.add_parser("info", help="summarise the shipped data file")
    resplit = commands.add_parser(
        "resplit", help="drop duplicate settings and re-derive the split without re-parsing"
    )
    resplit.add_argument("--path", type=Path, default=DATA_PATH)
    args = parser.parse_args(argv)
    if args.command == "resplit":
        counts = dataset_resplit(args.path)
        print(" ".join(f"{name}={value}" for name, value in counts.items()) + f" -> {args.path}")
        return 0
    if args.command == "build":
        counts = build_dataset(args.out)
        print(" ".join(f"{name}={value}" for name, value in counts.items()) + f" -> {args.out}")
        return 0
    dataset = load_dataset()
    reasons = Counter(dataset.excluded.values())
    print(f"{len(dataset.chorales)} chorales kept, {len(dataset.excluded)} excluded")
    for name in SPLITS:
        print(f"  {name}: {len(dataset.split[name])}")
    for reason, count in reasons.most_common():
        print(f"  excluded ({count}): {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

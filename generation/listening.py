"""What a listener can hear: audible symbolic features and a discriminator, Bach vs a system.

A setting is pitches int [4, T] and onsets bool [4, T] on the 16th-note grid (rows soprano,
alto, tenor, bass; ``REST`` = 0). Slices are the steps where some voice attacks, as in
:mod:`generation.metrics`. Every feature is a rate (per beat, per slice or per note) so pieces
of any length compare.

:func:`discriminator_accuracy` trains a logistic regression (scikit-learn, standardised
features) to tell Bach's settings from a system's on the same melodies, cross-validated with
whole tune families held out together (``GroupKFold``), so the classifier can never win by
recognising a melody. 50 % means it cannot tell them apart; the 95 % interval is Wilson's on
the pooled out-of-fold predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generation.dataset import REST, STEPS_PER_QUARTER

FEATURES = (
    "major_triads",
    "minor_triads",
    "diminished_triads",
    "seventh_chords",
    "other_chords",
    "incomplete_chords",
    "root_position",
    "semitone_clashes",
    "tritones",
    "passing_alto",
    "passing_tenor",
    "passing_bass",
    "neighbours",
    "suspensions",
    "notes_alto",
    "notes_tenor",
    "notes_bass",
    "sixteenths",
    "repeated_notes",
    "leaps",
    "mean_interval",
    "mean_alto",
    "mean_tenor",
    "mean_bass",
    "span_alto",
    "span_tenor",
    "span_bass",
    "upper_spacing",
    "crossings",
    "parallels",
    "hidden_outer",
    "fermata_root_position",
    "final_chord_correct",
)

SEVENTHS = {(0, 4, 7, 10), (0, 3, 7, 10), (0, 3, 6, 10), (0, 3, 6, 9), (0, 4, 7, 11)}


def chord_kind(pitch_classes: set[int]) -> str:
    """``major`` / ``minor`` / ``diminished`` (a triad, maybe without its fifth, any
    inversion), ``seventh`` (dominant, minor, half-diminished, diminished, major sevenths, any
    inversion), ``incomplete`` (one or two pitch classes) or ``other``."""
    if len(pitch_classes) <= 2 and not _any_root(pitch_classes, ((0, 4), (0, 3), (0, 3, 6))):
        return "incomplete"
    for kind, shapes in (
        ("major", ((0, 4, 7), (0, 4))),
        ("minor", ((0, 3, 7), (0, 3))),
        ("diminished", ((0, 3, 6),)),
    ):
        if _any_root(pitch_classes, shapes, exact=True):
            return kind
    if _any_root(pitch_classes, tuple(SEVENTHS), exact=True, allow_missing_fifth=True):
        return "seventh"
    return "other"


def _any_root(
    pitch_classes: set[int],
    shapes: tuple,
    *,
    exact: bool = False,
    allow_missing_fifth: bool = False,
) -> bool:
    for root in range(12):
        relative = {(pc - root) % 12 for pc in pitch_classes}
        for shape in shapes:
            target = set(shape)
            if relative == target or (not exact and relative <= target):
                return True
            if allow_missing_fifth and 7 in target and relative == target - {7}:
                return True
    return False


def final_chord_correct(pitches: np.ndarray, key_tonic: int) -> bool:
    """The last chord where the bass sounds has the tonic in the bass and is the tonic triad
    with a major third (the Picardy third in minor), complete or without its fifth."""
    sounding = np.flatnonzero(pitches[3] != REST)
    if not len(sounding):
        return False
    chord = pitches[:, sounding[-1]].astype(int)
    degrees = {(p - key_tonic) % 12 for p in chord[chord != REST].tolist()}
    return (int(chord[3]) - key_tonic) % 12 == 0 and degrees <= {0, 4, 7} and 4 in degrees


def _notes(row: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pitches, onset steps) of the sounding notes of one voice."""
    steps = np.flatnonzero(starts & (row != REST))
    return row[steps].astype(int), steps


def passing_notes(row: np.ndarray, starts: np.ndarray, bar_offset: int) -> int:
    """Notes off the beat approached and left by step (1-2 semitones) in one direction."""
    notes, steps = _notes(row, starts)
    if len(notes) < 3:
        return 0
    before, after = np.diff(notes)[:-1], np.diff(notes)[1:]
    stepwise = (np.abs(before) <= 2) & (np.abs(after) <= 2) & (before != 0) & (after != 0)
    off_beat = (bar_offset + steps[1:-1]) % STEPS_PER_QUARTER != 0
    return int((stepwise & (np.sign(before) == np.sign(after)) & off_beat).sum())


def neighbour_notes(row: np.ndarray, starts: np.ndarray, bar_offset: int) -> int:
    """Notes off the beat a step away from two equal neighbours (an upper or lower neighbour)."""
    notes, steps = _notes(row, starts)
    if len(notes) < 3:
        return 0
    before, after = np.diff(notes)[:-1], np.diff(notes)[1:]
    off_beat = (bar_offset + steps[1:-1]) % STEPS_PER_QUARTER != 0
    return int(((np.abs(before) <= 2) & (before != 0) & (after == -before) & off_beat).sum())


def hidden_outer_perfects(pitches: np.ndarray, onsets: np.ndarray) -> int:
    """Soprano and bass move the same way, the soprano by leap, into a fifth or octave that
    was not one before (hidden or direct fifths/octaves), on consecutive slices."""
    columns = np.flatnonzero(onsets.any(axis=0))
    soprano, bass = pitches[0, columns].astype(int), pitches[3, columns].astype(int)
    valid = (
        (soprano[:-1] != REST) & (soprano[1:] != REST) & (bass[:-1] != REST) & (bass[1:] != REST)
    )
    soprano_move, bass_move = np.diff(soprano), np.diff(bass)
    similar = (np.sign(soprano_move) == np.sign(bass_move)) & (bass_move != 0)
    into = np.isin((soprano[1:] - bass[1:]) % 12, (0, 7))
    was = np.isin((soprano[:-1] - bass[:-1]) % 12, (0, 7))
    return int((valid & similar & into & ~was & (np.abs(soprano_move) > 2)).sum())


@dataclass(frozen=True)
class Setting:
    """One four-part setting with the context the features need."""

    pitches: np.ndarray
    onsets: np.ndarray
    fermatas: np.ndarray
    key_tonic: int
    bar_offset: int

    @property
    def beats(self) -> float:
        return self.pitches.shape[1] / STEPS_PER_QUARTER


def audible_features(setting: Setting) -> np.ndarray:
    """float [len(FEATURES)]: the rates named in ``FEATURES`` for one setting.

    Chord rates are fractions of the slices where all four voices sound; note, passing,
    neighbour, suspension, repeat, parallel and hidden rates are per beat; means and spans in
    semitones (MIDI); intervals over lower-voice notes.
    """
    from generation import metrics

    pitches, onsets = setting.pitches.astype(int), setting.onsets
    beats = setting.beats
    columns = np.flatnonzero(onsets.any(axis=0))
    full = [c for c in columns if (pitches[:, c] != REST).all()]
    kinds = {"major": 0, "minor": 0, "diminished": 0, "seventh": 0, "other": 0, "incomplete": 0}
    root_position = clashes = tritones = 0
    for column in full:
        chord = pitches[:, column]
        pcs = {int(p) % 12 for p in chord}
        kind = chord_kind(pcs)
        kinds[kind] += 1
        if kind in ("major", "minor") and _any_root(
            {(p - int(chord[3])) % 12 for p in pcs}, ((0, 4, 7), (0, 3, 7))
        ):
            root_position += 1
        classes = {(a - b) % 12 for i, a in enumerate(chord) for b in chord[i + 1 :]}
        clashes += bool(classes & {1, 11})
        tritones += 6 in classes
    slices = max(len(full), 1)
    passing = [passing_notes(pitches[v], onsets[v], setting.bar_offset) / beats for v in (1, 2, 3)]
    neighbours = sum(neighbour_notes(pitches[v], onsets[v], setting.bar_offset) for v in (1, 2, 3))
    on_beat = (setting.bar_offset + np.arange(pitches.shape[1])) % STEPS_PER_QUARTER == 0
    # A suspension: a lower voice holds into a beat where it clashes by a second with a voice.
    suspensions = 0
    for v in (1, 2, 3):
        held = on_beat & ~onsets[v] & (pitches[v] != REST)
        for t in np.flatnonzero(held):
            others = pitches[[u for u in range(4) if u != v], t]
            suspensions += bool(np.isin((others - pitches[v, t]) % 12, (1, 2, 10, 11)).any())
    lower_notes = [_notes(pitches[v], onsets[v])[0] for v in (1, 2, 3)]
    intervals = np.concatenate([np.abs(np.diff(n)) for n in lower_notes])
    starts = np.flatnonzero(onsets[1:].any(axis=0))
    durations = np.diff(np.append(starts, pitches.shape[1]))
    sixteenths = float((durations == 1).mean()) if len(durations) else 0.0
    repeated = sum(int((np.diff(n) == 0).sum()) for n in lower_notes)
    fermata_steps = np.flatnonzero(setting.fermatas & onsets[0])
    fermata_root = np.mean(
        [
            chord_kind({int(p) % 12 for p in pitches[:, t]}) in ("major", "minor")
            and _any_root(
                {(int(p) - int(pitches[3, t])) % 12 for p in pitches[:, t]},
                ((0, 4, 7), (0, 3, 7)),
            )
            for t in fermata_steps
            if (pitches[:, t] != REST).all()
        ]
        or [0.0]
    )
    steps = pitches.shape[1]
    values = {
        "major_triads": kinds["major"] / slices,
        "minor_triads": kinds["minor"] / slices,
        "diminished_triads": kinds["diminished"] / slices,
        "seventh_chords": kinds["seventh"] / slices,
        "other_chords": kinds["other"] / slices,
        "incomplete_chords": kinds["incomplete"] / slices,
        "root_position": root_position / slices,
        "semitone_clashes": clashes / slices,
        "tritones": tritones / slices,
        "passing_alto": passing[0],
        "passing_tenor": passing[1],
        "passing_bass": passing[2],
        "neighbours": neighbours / beats,
        "suspensions": suspensions / beats,
        "notes_alto": len(lower_notes[0]) / beats,
        "notes_tenor": len(lower_notes[1]) / beats,
        "notes_bass": len(lower_notes[2]) / beats,
        "sixteenths": sixteenths,
        "repeated_notes": repeated / beats,
        "leaps": float((intervals > 4).mean()) if len(intervals) else 0.0,
        "mean_interval": float(intervals.mean()) if len(intervals) else 0.0,
        "mean_alto": float(lower_notes[0].mean()),
        "mean_tenor": float(lower_notes[1].mean()),
        "mean_bass": float(lower_notes[2].mean()),
        "span_alto": float(np.ptp(lower_notes[0])),
        "span_tenor": float(np.ptp(lower_notes[1])),
        "span_bass": float(np.ptp(lower_notes[2])),
        "upper_spacing": metrics.spacing_errors(pitches) / steps,
        "crossings": metrics.voice_crossings(pitches) / steps,
        "parallels": metrics.parallel_perfects(pitches, onsets) / beats,
        "hidden_outer": hidden_outer_perfects(pitches, onsets) / beats,
        "fermata_root_position": float(fermata_root),
        "final_chord_correct": float(final_chord_correct(pitches, setting.key_tonic)),
    }
    return np.array([values[name] for name in FEATURES], dtype=np.float64)


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a proportion."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (float(centre - half), float(centre + half))


def discriminator_accuracy(
    bach: np.ndarray,
    system: np.ndarray,
    groups: np.ndarray,
    *,
    folds: int = 6,
    shuffle_labels_seed: int | None = None,
) -> dict:
    """Cross-validated accuracy of telling ``bach`` feature rows [N, F] from ``system`` rows
    [M, F]; ``groups`` int [N + M] (tune family per row, Bach's rows first) keeps a family's
    rows in one fold. With ``shuffle_labels_seed`` the labels are permuted first (a check that
    the procedure finds nothing where there is nothing: about 50 %).

    Returns ``{"accuracy", "low", "high", "n"}`` (the interval is Wilson's 95 %).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = np.vstack([bach, system])
    labels = np.concatenate([np.ones(len(bach), dtype=int), np.zeros(len(system), dtype=int)])
    if shuffle_labels_seed is not None:
        labels = np.random.default_rng(shuffle_labels_seed).permutation(labels)
    folds = min(folds, len(np.unique(groups)))
    if folds < 2:
        raise ValueError("cross-validation needs melodies of at least two tune families")
    correct = 0
    for train, test in GroupKFold(n_splits=folds).split(features, labels, groups):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
        model.fit(features[train], labels[train])
        correct += int((model.predict(features[test]) == labels[test]).sum())
    low, high = wilson_interval(correct, len(labels))
    return {
        "accuracy": round(correct / len(labels), 4),
        "low": round(low, 4),
        "high": round(high, 4),
        "n": len(labels),
    }

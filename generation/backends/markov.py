"""The ``markov`` baseline: a chain over four-part voicings, sampled given the whole soprano.

The soprano line is cut into *segments*: a new segment starts at every soprano onset and on
every quarter-note beat, and alto, tenor and bass hold one pitch each through a segment.
Everything is counted in key-relative pitch (the tonic moved to C, at most 6 semitones), from
the train split only:

- ``vertical``: how often Bach put (alto, tenor, bass) under a soprano pitch, per mode, with
  separate counts at fermatas (cadences);
- ``motion``: per-voice melodic interval distribution between consecutive segments;
- ``chords``: a bigram over chord classes (bass pitch class + set of pitch classes), smoothed
  towards the unigram;
- ``hold``: how often a repeated pitch is tied rather than re-struck, by metrical position.

A setting is drawn from the chain whose potentials are the product of these experts by
forward filtering, backward sampling, so the draw respects the whole melody (including the
cadence at the final fermata, where the bass is made to land on the tonic). Candidate voicings
are Bach's own for that soprano pitch, filtered to ``VOICE_RANGES``. It is deliberately
simple: it is the low anchor of every study.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from generation.backends.base import VOICE_RANGES, Harmonizer, Melody, Voices
from generation.dataset import REST, Chorale, load_dataset

MIN_CANDIDATES = 12
MAX_CANDIDATES = 160
INTERVAL_SPAN = 24  # semitones; larger leaps share the last bin
# Likelihood scoring (see MarkovHarmonizer.setting_bits): a voicing of Bach's that is not among
# a segment's candidates joins them with this share of the prior mass, and a lower-voice note
# the chain cannot write (one that starts inside a segment) is charged a uniform guess over the
# 41 tokens a voice step can take in the neural model (HOLD, REST, MIDI 36..74).
UNSEEN_VOICING_MASS = 1e-3
UNWRITABLE_NOTE_BITS = float(np.log2(41))
FERMATA_WEIGHT = 4.0
CHORD_BACKOFF = 2.0
MOTION_WEIGHT = 1.0
CHORD_WEIGHT = 1.0
LOWER_VOICES = ("alto", "tenor", "bass")
# Metrical position classes for the tie-or-restrike decision.
DOWNBEAT, BEAT, OFFBEAT, AFTER_FERMATA = range(4)


def tonic_offset(key_tonic: int) -> int:
    """Semitones to move a key to C by the shortest way: 0..6 up or 1..5 down (B -> -1)."""
    return key_tonic if key_tonic <= 6 else key_tonic - 12


def segment_starts(onsets: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """int ndarray [segments]: steps where a soprano note starts or a beat falls."""
    starts = onsets | beats
    starts[0] = True
    return np.flatnonzero(starts)


def chord_class(voicing: tuple[int, ...]) -> tuple[int, int]:
    """(bass pitch class, 12-bit mask of sounding pitch classes) of a key-relative voicing."""
    mask = 0
    for pitch in voicing:
        mask |= 1 << (pitch % 12)
    return voicing[-1] % 12, mask


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of every maximal run of True in a bool [n] array, in order."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    return list(zip(starts, stops, strict=True))


def metric_position(step: int, *, bar_offset: int, bar_steps: int, fermatas: np.ndarray) -> int:
    if step > 0 and fermatas[step - 1] and not fermatas[step]:
        return AFTER_FERMATA
    position = (bar_offset + step) % bar_steps
    if position == 0:
        return DOWNBEAT
    return BEAT if position % 4 == 0 else OFFBEAT


@dataclass
class MarkovTables:
    """Counts from the train split (see the module docstring)."""

    vertical: dict[tuple[str, int], Counter] = field(default_factory=lambda: defaultdict(Counter))
    fermata_vertical: dict[tuple[str, int], Counter] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    motion: np.ndarray = field(default_factory=lambda: np.ones((3, 2 * INTERVAL_SPAN + 1)))
    chord_bigram: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    chord_unigram: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    hold: np.ndarray = field(default_factory=lambda: np.ones((4, 2)))  # [position, held?]
    chorales: int = 0

    def add(self, chorale: Chorale) -> None:
        offset = tonic_offset(chorale.key_tonic)
        mode = chorale.key_mode
        starts = segment_starts(chorale.onsets[0], chorale.beat_mask())
        previous: tuple[int, ...] | None = None
        for step in starts.tolist():
            pitches = chorale.pitches[:, step].astype(int)
            if (pitches == REST).any():
                previous = None
                continue
            voicing = tuple(int(p) - offset for p in pitches)
            soprano, lower = voicing[0], voicing[1:]
            self.vertical[(mode, soprano)][lower] += 1
            if chorale.fermatas[step]:
                self.fermata_vertical[(mode, soprano)][lower] += 1
            cls = chord_class(voicing)
            self.chord_unigram[mode][cls] += 1
            if previous is not None:
                self.chord_bigram[mode][(chord_class(previous), cls)] += 1
                position = metric_position(
                    step,
                    bar_offset=chorale.bar_offset,
                    bar_steps=chorale.bar_steps,
                    fermatas=chorale.fermatas,
                )
                for index in range(3):
                    interval = np.clip(
                        lower[index] - previous[index + 1], -INTERVAL_SPAN, INTERVAL_SPAN
                    )
                    self.motion[index, interval + INTERVAL_SPAN] += 1
                    if lower[index] == previous[index + 1]:
                        held = not chorale.onsets[index + 1, step]
                        self.hold[position, int(held)] += 1
            previous = voicing
        self.chorales += 1


class MarkovHarmonizer(Harmonizer):
    """Seeded baseline harmonizer (see the module docstring). ``temperature`` > 1 flattens."""

    name = "markov"
    version = "1"

    def __init__(
        self,
        tables: MarkovTables,
        *,
        temperature: float = 1.0,
        motion_weight: float = MOTION_WEIGHT,
        chord_weight: float = CHORD_WEIGHT,
    ):
        self.tables = tables
        self.temperature = temperature
        self.motion_weight = motion_weight
        self.chord_weight = chord_weight
        self._motion_logp = np.log(tables.motion / tables.motion.sum(axis=1, keepdims=True))
        self._hold_probability = tables.hold[:, 1] / tables.hold.sum(axis=1)
        self._chord_index: dict[str, dict[tuple[int, int], int]] = {}
        self._chord_logp: dict[str, np.ndarray] = {}
        for mode in ("major", "minor"):
            self._build_chord_table(mode)
        self._candidate_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def fit(cls, chorales: list[Chorale] | None = None, **options) -> MarkovHarmonizer:
        """Count the tables from ``chorales`` (default: the train split); about 0.3 s."""
        tables = MarkovTables()
        for chorale in load_dataset().in_split("train") if chorales is None else chorales:
            tables.add(chorale)
        return cls(tables, **options)

    def describe(self) -> dict:
        return {
            **super().describe(),
            "trained_on": f"train split ({self.tables.chorales} chorales)",
        }

    # --- tables -------------------------------------------------------------------------------

    def _build_chord_table(self, mode: str) -> None:
        unigram = self.tables.chord_unigram[mode]
        classes = sorted(unigram)
        index = {cls: i for i, cls in enumerate(classes)}
        size = len(classes) + 1  # the last row/column stands for any unseen class
        counts = np.zeros((size, size))
        for (previous, current), count in self.tables.chord_bigram[mode].items():
            counts[index[previous], index[current]] += count
        prior = np.array([unigram[cls] for cls in classes] + [0.0]) + 0.5
        prior /= prior.sum()
        smoothed = (counts + CHORD_BACKOFF * prior[None, :]) / (
            counts.sum(axis=1, keepdims=True) + CHORD_BACKOFF
        )
        self._chord_index[mode] = index
        self._chord_logp[mode] = np.log(smoothed)

    def _candidates(
        self, mode: str, soprano: int, *, fermata: bool, offset: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower voicings (key-relative int [C, 3]) and their log weights [C] for a soprano."""
        key = (mode, soprano, fermata, offset)
        if key in self._candidate_cache:
            return self._candidate_cache[key]
        other = "minor" if mode == "major" else "major"
        vertical, fermatas = self.tables.vertical, self.tables.fermata_vertical
        tiers: list[list[tuple[Counter, int, float]]] = [
            [(vertical.get((mode, soprano), Counter()), 0, 1.0)]
            + ([(fermatas.get((mode, soprano), Counter()), 0, FERMATA_WEIGHT)] if fermata else []),
            [(vertical.get((other, soprano), Counter()), 0, 0.25)],
            [
                (vertical.get((m, soprano + shift), Counter()), -shift, 0.05)
                for m in (mode, other)
                for shift in (12, -12)
            ],
        ]
        # Last resort for rare chromatic notes: Bach's voicings of the nearest soprano pitches,
        # transposed so the soprano matches.
        nearest = sorted({s for (_, s) in vertical}, key=lambda s: (abs(s - soprano), s))[:4]
        tiers.append(
            [
                (vertical.get((m, s), Counter()), soprano - s, 0.01)
                for s in nearest
                for m in (mode, other)
            ]
        )
        weights: Counter = Counter()
        for tier in tiers:
            for counter, shift, weight in tier:
                for lower, count in counter.items():
                    voicing = tuple(pitch + shift for pitch in lower)
                    if self._in_range(voicing, offset):
                        weights[voicing] += weight * count
            if len(weights) >= MIN_CANDIDATES:
                break
        if not weights:
            raise ValueError(f"no voicing in range for soprano {soprano + offset}")
        ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:MAX_CANDIDATES]
        voicings = np.array([voicing for voicing, _ in ranked], dtype=np.int64)
        log_weights = np.log(np.array([weight for _, weight in ranked]))
        log_weights -= logsumexp(log_weights)
        self._candidate_cache[key] = (voicings, log_weights)
        return voicings, log_weights

    @staticmethod
    def _in_range(voicing: tuple[int, ...], offset: int) -> bool:
        return all(
            VOICE_RANGES[name][0] <= pitch + offset <= VOICE_RANGES[name][1]
            for name, pitch in zip(LOWER_VOICES, voicing, strict=True)
        )

    def _transition(
        self, mode: str, soprano: tuple[int, int], previous: np.ndarray, current: np.ndarray
    ) -> np.ndarray:
        """Log potential [C_prev, C_cur] of moving between candidate voicings."""
        intervals = current[None, :, :] - previous[:, None, :]
        intervals = np.clip(intervals, -INTERVAL_SPAN, INTERVAL_SPAN) + INTERVAL_SPAN
        potential = sum(self._motion_logp[v][intervals[:, :, v]] for v in range(3))
        index = self._chord_index[mode]
        unseen = len(index)
        previous_class = [
            index.get(chord_class((soprano[0], *v)), unseen) for v in previous.tolist()
        ]
        current_class = [index.get(chord_class((soprano[1], *v)), unseen) for v in current.tolist()]
        chords = self._chord_logp[mode][np.ix_(previous_class, current_class)]
        return self.motion_weight * potential + self.chord_weight * chords

    # --- likelihood ---------------------------------------------------------------------------

    def setting_bits(self, chorale: Chorale) -> float:
        """Bits (-log2 probability) the chain gives Bach's alto, tenor and bass of ``chorale``.

        Sums, per phrase, the chain's log-probability of Bach's voicing sequence at segment
        starts (forward algorithm, temperature 1), the tie-or-restrike choices, and a charge of
        ``UNWRITABLE_NOTE_BITS`` per lower-voice onset inside a segment or rest under a
        sounding soprano, which the chain gives probability zero (so the charge is generous).
        """
        offset = tonic_offset(chorale.key_tonic)
        mode = chorale.key_mode
        starts = segment_starts(chorale.onsets[0], chorale.beat_mask())
        is_start = np.zeros(chorale.steps, dtype=bool)
        is_start[starts] = True
        inside_onsets = int(chorale.onsets[1:, ~is_start].sum())
        bits = UNWRITABLE_NOTE_BITS * inside_onsets
        voicings = chorale.pitches[:, starts].astype(int).T  # [segments, 4]
        sounding = voicings[:, 0] != REST
        complete = sounding & (voicings[:, 1:] != REST).all(axis=1)
        bits += UNWRITABLE_NOTE_BITS * int((sounding & ~complete).sum())
        for k, stop in true_runs(complete):
            bits += self._phrase_bits(
                mode, voicings[k:stop] - offset, chorale, starts[k:stop], offset=offset
            )
        return bits

    def _phrase_bits(
        self,
        mode: str,
        voicings: np.ndarray,
        chorale: Chorale,
        starts: np.ndarray,
        *,
        offset: int,
    ) -> float:
        nodes, candidates, chosen = [], [], []
        for k, voicing in enumerate(voicings.tolist()):
            options, log_weights = self._candidates(
                mode, voicing[0], fermata=bool(chorale.fermatas[starts[k]]), offset=offset
            )
            lower = np.array(voicing[1:])
            match = np.flatnonzero((options == lower).all(axis=1))
            if len(match) == 0:
                options = np.vstack([options, lower[None]])
                log_weights = np.append(
                    log_weights + np.log1p(-UNSEEN_VOICING_MASS), np.log(UNSEEN_VOICING_MASS)
                )
                match = [len(options) - 1]
            candidates.append(options)
            nodes.append(log_weights)
            chosen.append(int(match[0]))
        log_joint = nodes[0][chosen[0]]
        alpha = nodes[0]
        for k in range(1, len(candidates)):
            pair = (int(voicings[k - 1][0]), int(voicings[k][0]))
            transition = self._transition(mode, pair, candidates[k - 1], candidates[k])
            log_joint += transition[chosen[k - 1], chosen[k]] + nodes[k][chosen[k]]
            alpha = nodes[k] + logsumexp(alpha[:, None] + transition, axis=0)
        bits = (logsumexp(alpha) - log_joint) / np.log(2)
        for k in range(1, len(voicings)):
            position = metric_position(
                int(starts[k]),
                bar_offset=chorale.bar_offset,
                bar_steps=chorale.bar_steps,
                fermatas=chorale.fermatas,
            )
            held_probability = self._hold_probability[position]
            for voice in range(3):
                if voicings[k][voice + 1] == voicings[k - 1][voice + 1]:
                    held = not chorale.onsets[voice + 1, starts[k]]
                    bits -= np.log2(held_probability if held else 1 - held_probability)
        return float(bits)

    # --- sampling -----------------------------------------------------------------------------

    def harmonize(self, melody: Melody, *, seed: int) -> Voices:
        """Write alto, tenor and bass under ``melody``; same ``seed`` gives the same notes."""
        rng = np.random.default_rng(seed)
        offset = tonic_offset(melody.key_tonic)
        mode = melody.key_mode
        starts = segment_starts(melody.onsets, melody.beat_mask())
        ends = np.append(starts[1:], melody.steps)
        sopranos = melody.pitches[starts].astype(int)

        chosen = np.full((len(starts), 3), REST, dtype=np.int64)
        # Rests in the soprano cut the melody into phrases that are sampled independently.
        sounding = sopranos != REST
        for k, stop in true_runs(sounding):
            chosen[k:stop] = (
                self._sample_phrase(
                    mode,
                    sopranos[k:stop] - offset,
                    melody.fermatas[starts[k:stop]],
                    offset=offset,
                    final=stop == len(starts) or not sounding[stop:].any(),
                    rng=rng,
                )
                + offset
            )

        pitches = np.empty((4, melody.steps), dtype=np.int16)
        onsets = np.zeros((4, melody.steps), dtype=bool)
        pitches[0], onsets[0] = melody.pitches, melody.onsets
        bar_steps = {"4/4": 16, "3/4": 12}[melody.meter]
        for k, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            position = metric_position(
                start, bar_offset=melody.bar_offset, bar_steps=bar_steps, fermatas=melody.fermatas
            )
            for voice in range(3):
                pitch = int(chosen[k, voice])
                pitches[voice + 1, start:end] = pitch
                if k == 0:
                    onsets[voice + 1, start] = True
                elif pitch != chosen[k - 1, voice]:
                    onsets[voice + 1, start] = True
                elif pitch != REST:
                    held = rng.random() < self._hold_probability[position]
                    onsets[voice + 1, start] = not held
        return Voices(pitches=pitches, onsets=onsets)

    def _sample_phrase(
        self,
        mode: str,
        sopranos: np.ndarray,
        fermatas: np.ndarray,
        *,
        offset: int,
        final: bool,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Forward filtering, backward sampling over one phrase; returns int [segments, 3]."""
        temperature = self.temperature
        candidates, nodes = [], []
        for k, soprano in enumerate(sopranos.tolist()):
            voicings, log_weights = self._candidates(
                mode, soprano, fermata=bool(fermatas[k]), offset=offset
            )
            if final and k == len(sopranos) - 1:
                on_tonic = voicings[:, 2] % 12 == 0
                if on_tonic.any():
                    voicings, log_weights = voicings[on_tonic], log_weights[on_tonic]
            candidates.append(voicings)
            nodes.append(log_weights / temperature)

        alphas = [nodes[0]]
        transitions = [None]
        for k in range(1, len(candidates)):
            pair = (int(sopranos[k - 1]), int(sopranos[k]))
            transition = (
                self._transition(mode, pair, candidates[k - 1], candidates[k]) / temperature
            )
            transitions.append(transition)
            alphas.append(nodes[k] + logsumexp(alphas[-1][:, None] + transition, axis=0))

        chosen = np.empty((len(candidates), 3), dtype=np.int64)
        index = _draw(alphas[-1], rng)
        chosen[-1] = candidates[-1][index]
        for k in range(len(candidates) - 2, -1, -1):
            index = _draw(alphas[k] + transitions[k + 1][:, index], rng)
            chosen[k] = candidates[k][index]
        return chosen


def _draw(log_weights: np.ndarray, rng: np.random.Generator) -> int:
    """One index drawn in proportion to exp(log_weights), by inverse CDF (stable across numpy)."""
    weights = np.exp(log_weights - log_weights.max())
    cumulative = np.cumsum(weights)
    return int(
        min(
            np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"),
            len(weights) - 1,
        )
    )

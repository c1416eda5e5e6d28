"""Music-theory measures of a four-part setting computed with music21 (the figures of record).

A setting (int16 pitches [4, steps], bool onsets [4, steps], 16th-note grid) is turned into a
``music21.stream.Score`` of four parts, one note (or rest) per onset, pitches spelled in the
chorale's key. Everything below is then read off music21 objects:

- the vertical slices are the score's verticalities (``Score.asTimespans()``), i.e. the offsets
  where some voice starts a note;
- parallel fifths and octaves: ``music21.voiceLeading.VoiceLeadingQuartet`` on consecutive
  verticalities for every pair of voices, counted when ``parallelFifth()``,
  ``parallelOctave()`` or ``parallelUnison()`` holds;
- voice crossings, spacing errors and out-of-range notes: ``music21.pitch.Pitch`` comparisons
  and ``music21.interval.Interval`` sizes, weighted by how many 16th-note steps the
  verticality lasts (so they count steps, like :mod:`generation.metrics`);
- the scale-degree and melodic-interval histograms of the lower voices: ``Pitch.pitchClass``
  against the ``music21.key.Key`` tonic, and ``Interval(previous, note).semitones``.

:mod:`generation.metrics` computes the same measures in numpy (the sampler's voice-leading
check uses its definition). The two agree on every measure except parallels, where music21's
definition differs from the numpy one in two documented ways (see
:func:`parallel_definition_difference`): music21 also counts *antiparallel* fifths and octaves
(contrary motion, e.g. a fifth to a twelfth), and never treats a unison moving to an octave (or
back) as parallel, which the numpy pitch-class test does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from music21 import interval, key, note, pitch, stream, voiceLeading

from generation.backends.base import VOICE_RANGES
from generation.dataset import PITCH_CLASS_NAMES, REST, STEPS_PER_QUARTER, VOICES
from generation.metrics import INTERVAL_BINS


@dataclass(frozen=True)
class ParallelEvent:
    """One parallel perfect interval: between the verticalities at ``offset`` (quarters) and the
    next one, voices ``upper`` and ``lower`` (0 = soprano .. 3 = bass)."""

    offset: float
    upper: int
    lower: int


def key_spelling(key_tonic: int, key_mode: str) -> dict[int, str]:
    """Pitch class -> note name: the key's scale (plus the raised 6th and 7th in minor), other
    pitch classes with sharps in sharp keys and flats in flat keys."""
    music21_key = key.Key(PITCH_CLASS_NAMES[key_tonic], key_mode)
    names = {p.pitchClass: p.name for p in music21_key.pitches}
    if key_mode == "minor":
        for degree in (6, 7):  # the raised 6th and 7th of melodic and harmonic minor
            raised = music21_key.pitchFromDegree(degree).transpose("A1")
            names.setdefault(raised.pitchClass, raised.name)
    for pitch_class in range(12):
        if pitch_class not in names:
            spelled = pitch.Pitch(pitch_class)
            if music21_key.sharps < 0 and spelled.accidental is not None:
                spelled = spelled.getEnharmonic()
            names[pitch_class] = spelled.name
    return names


def setting_score(
    pitches: np.ndarray, onsets: np.ndarray, *, key_tonic: int, key_mode: str
) -> stream.Score:
    """A music21 Score of four Parts (ids S, A, T, B), one Note or Rest per onset."""
    spelling = key_spelling(key_tonic, key_mode)
    score = stream.Score()
    steps = pitches.shape[1]
    for voice, letter in enumerate("SATB"):
        part = stream.Part(id=letter)
        starts = np.flatnonzero(onsets[voice])
        ends = np.append(starts[1:], steps)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            midi = int(pitches[voice, start])
            quarters = (end - start) / STEPS_PER_QUARTER
            if midi == REST:
                element = note.Rest(quarterLength=quarters)
            else:
                spelled = pitch.Pitch(spelling[midi % 12], octave=midi // 12 - 1)
                # B#, C-, E# and F- sit across the octave boundary from their MIDI octave.
                spelled.octave += (midi - round(spelled.ps)) // 12
                element = note.Note(spelled, quarterLength=quarters)
            part.insert(start / STEPS_PER_QUARTER, element)
        score.insert(0, part)
    return score


def _verticalities(score: stream.Score, steps: int) -> list[tuple[float, int, list]]:
    """(offset in quarters, length in steps, [Note | None per voice]) per verticality (an
    offset where some voice starts a note or a rest)."""
    parts = list(score.parts)
    # Rests are timespans too, so a slice where every voice rests still separates its
    # neighbours (no parallel is counted across a general pause).
    tree = score.asTimespans(classList=(note.Note, note.Rest))
    slices = []
    for verticality in tree.iterateVerticalities():
        sounding: list = [None] * 4
        for span in verticality.startAndOverlapTimespans:
            if isinstance(span.element, note.Note):
                sounding[parts.index(span.part)] = span.element
        slices.append([float(verticality.offset), sounding])
    rows = []
    for index, (offset, sounding) in enumerate(slices):
        end = slices[index + 1][0] if index + 1 < len(slices) else steps / STEPS_PER_QUARTER
        rows.append((offset, round((end - offset) * STEPS_PER_QUARTER), sounding))
    return rows


def parallel_events(score: stream.Score, steps: int) -> list[ParallelEvent]:
    """Parallel (and antiparallel) fifths, octaves and unisons between consecutive
    verticalities of ``score``, as judged by ``VoiceLeadingQuartet``."""
    rows = _verticalities(score, steps)
    events = []
    for (offset, _, before), (_, _, after) in zip(rows, rows[1:], strict=False):
        for upper in range(4):
            for lower in range(upper + 1, 4):
                notes = (before[upper], after[upper], before[lower], after[lower])
                if any(n is None for n in notes):
                    continue
                # Neither voice moving (the same note held or re-struck) is never parallel.
                if notes[0].pitch == notes[1].pitch and notes[2].pitch == notes[3].pitch:
                    continue
                quartet = voiceLeading.VoiceLeadingQuartet(*notes)
                if quartet.parallelFifth() or quartet.parallelOctave() or quartet.parallelUnison():
                    events.append(ParallelEvent(offset=offset, upper=upper, lower=lower))
    return events


def rule_counts(
    pitches: np.ndarray, onsets: np.ndarray, *, key_tonic: int, key_mode: str
) -> dict[str, int]:
    """The four rule counts of one setting, computed on its music21 score: parallel
    fifths/octaves (events), voice crossings, out-of-range and spacing errors (16th steps)."""
    score = setting_score(pitches, onsets, key_tonic=key_tonic, key_mode=key_mode)
    steps = pitches.shape[1]
    limits = [
        (pitch.Pitch(midi=VOICE_RANGES[name][0]), pitch.Pitch(midi=VOICE_RANGES[name][1]))
        for name in VOICES
    ]
    crossings = out_of_range = spacing = 0
    for _, length, sounding in _verticalities(score, steps):
        for voice in range(3):
            upper, lower = sounding[voice], sounding[voice + 1]
            if upper is None or lower is None:
                continue
            if lower.pitch > upper.pitch:
                crossings += length
            if voice < 2 and interval.Interval(lower.pitch, upper.pitch).semitones > 12:
                spacing += length
        for voice, sounding_note in enumerate(sounding):
            low, high = limits[voice]
            # Pitch equality compares spellings (G#3 != A-3), so compare pitch space values.
            if sounding_note is not None and not low.ps <= sounding_note.pitch.ps <= high.ps:
                out_of_range += length
    return {
        "parallel_fifths_octaves": len(parallel_events(score, steps)),
        "voice_crossings": crossings,
        "out_of_range": out_of_range,
        "spacing_errors": spacing,
    }


def histograms(
    pitches: np.ndarray,
    onsets: np.ndarray,
    *,
    key_tonic: int,
    key_mode: str,
    first_voice: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """float [12] notes by scale degree (pitch class above the music21 key's tonic) and float
    [25] melodic intervals in semitones, -12..+12 (clipped), of voices ``first_voice``..bass
    (default: the lower voices; 0 adds the soprano)."""
    score = setting_score(pitches, onsets, key_tonic=key_tonic, key_mode=key_mode)
    tonic = key.Key(PITCH_CLASS_NAMES[key_tonic], key_mode).tonic.pitchClass
    degrees = np.zeros(12)
    intervals = np.zeros(INTERVAL_BINS)
    for part in list(score.parts)[first_voice:]:
        notes = list(part.recurse().notes)
        for current in notes:
            degrees[(current.pitch.pitchClass - tonic) % 12] += 1
        for previous, current in zip(notes, notes[1:], strict=False):
            semitones = interval.Interval(previous, current).semitones
            intervals[int(np.clip(semitones, -12, 12)) + 12] += 1
    return degrees, intervals


def parallel_definition_difference(
    pitches: np.ndarray, onsets: np.ndarray, *, offset: float, upper: int, lower: int
) -> str | None:
    """Why music21 and :func:`generation.metrics.parallel_perfects` disagree on one slice pair.

    ``offset`` (quarters) names the first of two consecutive slices. Returns ``"antiparallel"``
    (a perfect interval kept in contrary motion: music21 counts it, numpy does not),
    ``"unison_octave"`` (a unison moving to an octave or back in similar motion: numpy counts
    it, music21 does not), or None when the definitions agree for this pair.
    """
    columns = np.flatnonzero(onsets.any(axis=0))
    index = int(np.searchsorted(columns, round(offset * STEPS_PER_QUARTER)))
    first, second = columns[index], columns[index + 1]
    a0, a1 = int(pitches[upper, first]), int(pitches[upper, second])
    b0, b1 = int(pitches[lower, first]), int(pitches[lower, second])
    if REST in (a0, a1, b0, b1):
        return None
    class_before, class_after = (a0 - b0) % 12, (a1 - b1) % 12
    if class_before != class_after or class_before not in (0, 7):
        return None
    move_upper, move_lower = np.sign(a1 - a0), np.sign(b1 - b0)
    if move_upper != 0 and move_upper == -move_lower:
        return "antiparallel"
    unison_before, unison_after = a0 == b0, a1 == b1
    if move_upper != 0 and move_upper == move_lower and unison_before != unison_after:
        return "unison_octave"
    return None

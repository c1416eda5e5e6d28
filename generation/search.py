"""Search over chord steps: sequential Monte Carlo under soft voice-leading penalties.

The network proposes; these rules weigh. At every 16th-note step each of ``particles`` partial
settings writes its alto, then tenor, then bass, each token drawn from the network's
distribution times ``exp(-penalty)`` (the locally optimal proposal), and the particle's
log-weight grows by the log of that product's total mass, i.e. by how much of the network's
belief the rules left standing. When the weights grow uneven (effective sample size below half
the particles) the particles are resampled (systematic resampling), so settings that walked
into a corner (no good bass left for a cadence, a forced parallel) die out and the ones the
network *and* the rules like multiply. At the end one particle is drawn by weight. The result
is a sample from ``p_network(setting) * exp(-sum of penalties)``, not the greedy filter's
distorted one; with ``particles=1`` it reduces to sampling under soft rules.

Penalties are in nats (a penalty of 1 makes a choice e ≈ 2.7 times less likely). Each soft rule
tilts the network's distribution along one audible feature (a factor ``exp(-weight * count)``),
and the weights were set on the validation split so that the samples' rates come close to
Bach's own, not to a textbook (docs/generation.md lists them with the rates): parallels are all
but forbidden (Bach: 0.2-0.5 per 100 beats), crossings and wide spacing cost nothing (any cost
made the samples cross less than half as often as Bach), a new note a semitone from another
voice costs something, more on the beat than off it (the network wrote about twice Bach's
clashes), so do non-chords, hidden fifths and octaves between the outer voices, a phrase end
(fermata) that is not a plain triad in root position, notes on odd 16ths, neighbour notes, a
voice widening its range, a seventh chord on the beat, an open fifth, every tenor and bass
note; passing notes and suspensions earn a bonus. Two rules are hard: every voice stays in
``VOICE_RANGES``, and under the melody's last note the chord is the tonic triad over the tonic
in the bass, with a major third (in minor, the Picardy third Bach writes in nearly all minor
chorales).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from generation.backends.base import VOICE_RANGES
from generation.dataset import REST

HOLD = 0
LOWER = ("alto", "tenor", "bass")
NEGATIVE_INFINITY = -np.inf


@dataclass(frozen=True)
class Penalties:
    """Nats subtracted from a token's log-probability per rule it breaks (see module doc)."""

    parallel: float = 6.0
    crossing: float = 0.0
    spacing: float = 0.0
    clash: float = 1.0
    hidden_outer: float = 1.5
    fermata_chord: float = 1.5
    # Bonuses (nats added): an off-beat note a step from the one before, and the step after
    # it in the same direction that makes it a passing note. Bach's lower voices pass about
    # twice as often as the network's samples under the other rules.
    step_off_beat: float = 0.5
    passing: tuple[float, float, float] = (0.4, 1.0, 0.9)  # alto, tenor, bass
    # On the beat, a vertical that is no triad or seventh chord (the network writes 1.7 times
    # Bach's rate of them), and a note re-struck at the same pitch (1.3 times Bach's rate).
    beat_chord: float = 1.5
    repeat: float = 0.3
    # An alto or tenor leap wider than a major third (the network leaps more than Bach).
    inner_leap: float = 0.2
    # A note struck on an odd 16th (Bach's lower voices move in 16ths rarely: 4 % of onsets).
    sixteenth: float = 0.5
    # On the beat, a chord that is not a root-position triad (Bach: 55 % of his chords are).
    beat_root_position: float = 1.0
    # Off the beat, where a voice strikes a new note: a semitone (7th, 9th) between the new
    # note and another voice, and a vertical that is no triad or seventh chord. Bach's passing
    # notes make some, the network's samples twice as many.
    offbeat_clash: float = 0.4
    offbeat_chord: float = 0.4
    # Every note struck, per voice (alto, tenor, bass): a tilt of the notes per beat towards
    # Bach's rate (the network's samples move more than Bach's voices do).
    note: tuple[float, float, float] = (0.0, 0.1, 0.2)
    # Returning to the note before an off-beat step (making it a neighbour note): the
    # network's samples write about 1.6 times Bach's neighbour notes.
    neighbour: float = 0.5
    # Per semitone a note widens its voice's range so far (alto, tenor, bass): a tilt of each
    # voice's span towards Bach's (the samples roam wider, the bass most).
    widen: tuple[float, float, float] = (0.05, 0.1, 0.15)
    # On the beat, a seventh chord (the samples write 1.2 times Bach's rate of them), and
    # wherever a slice is struck, a chord of one or two pitch classes that is no triad
    # fragment (``chord_kind``'s "incomplete": an open fifth, a bare second; the samples
    # wrote 1.7 times Bach's rate).
    beat_seventh: float = 0.5
    incomplete: float = 0.5
    # Bonus (nats added): holding a note into the beat a second (or 7th/9th) from a voice
    # above, a suspension (the samples suspend about three quarters as often as Bach).
    suspension: float = 0.5

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class StepContext:
    """What the rules need to know about one step of the melody.

    ``first``: step 0 (a voice cannot hold); ``on_beat``: the step starts a quarter-note beat;
    ``on_sixteenth``: the step falls between two eighth notes;
    ``soprano_rests``: the soprano is silent;
    ``fermata_onset``: the soprano attacks a note under a fermata (a phrase end);
    ``final``: the step lies under the melody's last note (the final chord); ``tonic``: pitch
    class of the key's tonic.
    """

    first: bool
    on_beat: bool
    on_sixteenth: bool
    soprano_rests: bool
    fermata_onset: bool
    final: bool
    tonic: int


def log_potentials(
    voice: int,
    token_pitch: np.ndarray,
    *,
    sounding: np.ndarray,
    held: np.ndarray,
    last_slice: np.ndarray,
    before_held: np.ndarray,
    stepped_off_beat: np.ndarray,
    step: StepContext,
    penalties: Penalties,
    lowest: np.ndarray | None = None,
    highest: np.ndarray | None = None,
) -> np.ndarray:
    """float [P, TOKENS]: minus the penalty of each token of lower voice ``voice`` (0 alto,
    1 tenor, 2 bass) for each of P particles, ``-inf`` where a hard rule forbids it.

    ``token_pitch``: int [TOKENS] MIDI pitch per token (``REST`` for the rest token, -1 for
    HOLD); ``sounding``: int [P, 4] pitches already decided at this step (soprano and the
    voices above ``voice``); ``held``: int [P, 4] pitches of the previous step;
    ``last_slice``: int [P, 4] pitches at the last step where any voice attacked;
    ``before_held``: int [P, 4] each voice's note before the one it holds now;
    ``stepped_off_beat``: bool [P, 4] whether the note held now was attacked off the beat a
    step (1-2 semitones) from ``before_held``; ``lowest``, ``highest``: int [P, 4] the lowest
    and highest pitch each voice has sounded so far (``REST`` before its first note), which
    the ``widen`` rule needs (omitted: no widening cost).
    """
    index = voice + 1
    particles = sounding.shape[0]
    pitch = np.where(token_pitch[None, :] == -1, held[:, index : index + 1], token_pitch[None, :])
    attacks = np.broadcast_to(token_pitch[None, :] != -1, pitch.shape)
    rests = pitch == REST
    low, high = VOICE_RANGES[LOWER[voice]]
    allowed = (pitch >= low) & (pitch <= high)
    if step.soprano_rests:
        allowed |= rests
    if step.first:
        allowed[:, HOLD] = False
    else:
        allowed[:, HOLD] = (held[:, index] == REST) | (
            (held[:, index] >= low) & (held[:, index] <= high)
        )
    penalty = np.zeros(pitch.shape)

    moves = pitch != last_slice[:, index : index + 1]
    penalty += penalties.note[voice] * (attacks & ~rests)
    if lowest is not None and highest is not None and penalties.widen[voice]:
        low_so_far, high_so_far = lowest[:, index][:, None], highest[:, index][:, None]
        widening = np.maximum(low_so_far - pitch, 0) + np.maximum(pitch - high_so_far, 0)
        started = (low_so_far != REST) & ~rests
        penalty += penalties.widen[voice] * np.where(started, widening, 0)
    for upper in range(index):
        other, before_other = sounding[:, upper], last_slice[:, upper]
        before = last_slice[:, index]
        interval_before = (before_other - before) % 12
        applies = (
            (other != REST)
            & (before_other != REST)
            & (before != REST)
            & ((interval_before == 0) | (interval_before == 7))
            & (other != before_other)
        )
        # Either direction: similar motion (a parallel) and contrary motion (an antiparallel,
        # a fifth to a twelfth), both of which music21 counts.
        same = (other[:, None] - pitch) % 12 == interval_before[:, None]
        penalty += penalties.parallel * (applies[:, None] & same & moves & ~rests)
        interval = (other[:, None] - pitch) % 12
        clash = (interval == 1) | (interval == 11)
        # Only on the beat: off the beat a second against another voice is what passing and
        # neighbour notes do, and Bach writes plenty of them.
        if step.on_beat:
            penalty += penalties.clash * ((other != REST)[:, None] & clash & attacks & ~rests)
        elif penalties.offbeat_clash:
            # A new note here, or a new note above that this one (held) now meets.
            struck = attacks | (other != held[:, upper])[:, None]
            penalty += penalties.offbeat_clash * (
                (other != REST)[:, None] & clash & struck & ~rests
            )

    if step.on_beat and penalties.suspension:
        other = sounding[:, :index]
        second = (other - held[:, index : index + 1]) % 12
        against = ((other != REST) & np.isin(second, (1, 2, 10, 11))).any(axis=1)
        suspended = against & (held[:, index] != REST)
        penalty[:, HOLD] -= penalties.suspension * suspended

    current = held[:, index][:, None]
    move = pitch - current
    step_move = attacks & ~rests & (current != REST) & (np.abs(move) >= 1) & (np.abs(move) <= 2)
    if not step.on_beat:
        penalty -= penalties.step_off_beat * step_move
    approach = (held[:, index] - before_held[:, index])[:, None]
    completes = (
        stepped_off_beat[:, index][:, None] & step_move & (np.sign(move) == np.sign(approach))
    )
    penalty -= penalties.passing[voice] * completes
    returns = stepped_off_beat[:, index][:, None] & step_move & (move == -approach)
    penalty += penalties.neighbour * returns
    penalty += penalties.repeat * (attacks & ~rests & (move == 0))
    if step.on_sixteenth:
        penalty += penalties.sixteenth * (attacks & ~rests & (move != 0))
    if voice < 2:
        leaps = attacks & ~rests & (current != REST) & (np.abs(move) > 4)
        penalty += penalties.inner_leap * leaps

    above = sounding[:, index - 1]
    both = ~rests & (above != REST)[:, None]
    penalty += penalties.crossing * (both & (pitch > above[:, None]))
    if index <= 2:
        penalty += penalties.spacing * (both & (above[:, None] - pitch > 12))

    if voice == 2:
        penalty += penalties.hidden_outer * _hidden_outer(pitch, sounding, last_slice)
        struck = attacks | (sounding[:, :3] != held[:, :3]).any(axis=1)[:, None]
        if step.on_beat:
            penalty += penalties.beat_chord * ~_chord_on_beat(pitch, sounding)
            penalty += penalties.beat_root_position * ~_root_position_triad(pitch, sounding)
            if penalties.beat_seventh:
                penalty += penalties.beat_seventh * _chord_is(SEVENTH_TABLE, pitch, sounding)
        elif penalties.offbeat_chord:
            penalty += penalties.offbeat_chord * (struck & ~_chord_on_beat(pitch, sounding))
        if penalties.incomplete:
            incomplete = _chord_is(INCOMPLETE_TABLE, pitch, sounding)
            penalty += penalties.incomplete * ((struck | step.on_beat) & incomplete)
        if step.fermata_onset:
            penalty += penalties.fermata_chord * ~_root_position_triad(pitch, sounding)

    if step.final:
        degree = (pitch - step.tonic) % 12
        if voice == 2:
            allowed &= ~rests & (degree == 0)
        else:
            allowed &= ~rests & ((degree == 0) | (degree == 4) | (degree == 7))
        if voice == 1:
            # The third must sound: if neither soprano nor alto has it, the tenor takes it.
            upper_degrees = (sounding[:, :2] - step.tonic) % 12
            has_third = ((upper_degrees == 4) & (sounding[:, :2] != REST)).any(axis=1)
            allowed &= has_third[:, None] | (degree == 4)
    potentials = np.where(allowed, -penalty, NEGATIVE_INFINITY)
    if particles and not np.isfinite(potentials).any(axis=1).all():
        raise ValueError(f"no {LOWER[voice]} note satisfies the hard rules (range, final chord)")
    return potentials


def _hidden_outer(pitch: np.ndarray, sounding: np.ndarray, last_slice: np.ndarray) -> np.ndarray:
    """bool [P, TOKENS]: bass and soprano move the same way into a fifth or octave that was
    not one before, with a soprano leap (the textbook's hidden, or direct, fifths/octaves)."""
    soprano, soprano_before, bass_before = sounding[:, 0], last_slice[:, 0], last_slice[:, 3]
    valid = (soprano != REST) & (soprano_before != REST) & (bass_before != REST)
    soprano_move = soprano - soprano_before
    bass_move = pitch - bass_before[:, None]
    similar = (np.sign(bass_move) == np.sign(soprano_move)[:, None]) & (bass_move != 0)
    into = (soprano[:, None] - pitch) % 12
    into_perfect = (into == 0) | (into == 7)
    was = (soprano_before - bass_before) % 12
    was_perfect = (was == 0) | (was == 7)
    leap = np.abs(soprano_move) > 2
    return (valid & leap & ~was_perfect)[:, None] & similar & into_perfect & (pitch != REST)


def _kind_table() -> np.ndarray:
    """str [4096]: for each set of pitch classes (bit i = pitch class i), its
    :func:`generation.listening.chord_kind` (``major`` ... ``incomplete``, ``other``)."""
    from generation.listening import chord_kind

    return np.array(
        [chord_kind({pc for pc in range(12) if mask >> pc & 1}) for mask in range(4096)]
    )


KIND_TABLE = _kind_table()
CHORD_TABLE = KIND_TABLE != "other"  # a triad or seventh chord, or a consonant fragment of one
SEVENTH_TABLE = KIND_TABLE == "seventh"
INCOMPLETE_TABLE = KIND_TABLE == "incomplete"


def _vertical(pitch: np.ndarray, sounding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int [P, TOKENS] pitch-class masks of soprano, alto, tenor and this bass, bool
    [P, TOKENS] whether all four sound)."""
    above = sounding[:, :3]
    mask = np.zeros(len(above), dtype=np.int64)
    for voice in range(3):
        mask |= np.where(above[:, voice] != REST, 1 << (above[:, voice] % 12), 0)
    full = np.where(pitch != REST, mask[:, None] | (1 << (pitch % 12)), 0)
    return full, (pitch != REST) & (above != REST).all(axis=1)[:, None]


def _chord_on_beat(pitch: np.ndarray, sounding: np.ndarray) -> np.ndarray:
    """bool [P, TOKENS]: soprano, alto, tenor and this bass make a chord (see CHORD_TABLE);
    True where any of them rests (nothing to judge)."""
    full, complete = _vertical(pitch, sounding)
    return CHORD_TABLE[full] | ~complete


def _chord_is(table: np.ndarray, pitch: np.ndarray, sounding: np.ndarray) -> np.ndarray:
    """bool [P, TOKENS]: all four voices sound and their pitch classes are a chord of the
    kind ``table`` (bool [4096], e.g. ``SEVENTH_TABLE``) marks."""
    full, complete = _vertical(pitch, sounding)
    return table[full] & complete


def _root_position_triad(pitch: np.ndarray, sounding: np.ndarray) -> np.ndarray:
    """bool [P, TOKENS]: with this bass, soprano, alto and tenor form a major or minor triad
    over it (root, one third, optionally the fifth)."""
    above = sounding[:, :3]
    degrees = (above[:, :, None] - pitch[:, None, :]) % 12  # [P, 3, TOKENS]
    sounding_above = (above != REST)[:, :, None]
    in_triad = (degrees == 0) | (degrees == 3) | (degrees == 4) | (degrees == 7)
    in_triad |= ~sounding_above
    minor = ((degrees == 3) & sounding_above).any(axis=1)
    major = ((degrees == 4) & sounding_above).any(axis=1)
    return in_triad.all(axis=1) & (minor ^ major) & (pitch != REST)


def draw_rows(log_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int [P]: one column per row of ``log_weights`` [P, N], drawn in proportion to
    ``exp(log_weights)`` (inverse CDF, one uniform per row)."""
    weights = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    cumulative = np.cumsum(weights, axis=1)
    targets = rng.random(len(weights)) * cumulative[:, -1]
    chosen = (cumulative <= targets[:, None]).sum(axis=1)
    return np.minimum(chosen, log_weights.shape[1] - 1)


def systematic_resample(log_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int [P]: ancestor indices, each particle kept about P * weight times (low variance)."""
    weights = np.exp(log_weights - log_weights.max())
    cumulative = np.cumsum(weights / weights.sum())
    positions = (rng.random() + np.arange(len(weights))) / len(weights)
    return np.minimum(np.searchsorted(cumulative, positions), len(weights) - 1)


def effective_sample_size(log_weights: np.ndarray) -> float:
    weights = np.exp(log_weights - log_weights.max())
    return float(weights.sum() ** 2 / (weights**2).sum())


def log_sum_exp(values: np.ndarray) -> np.ndarray:
    """Row-wise log of the sum of exponentials; ``-inf`` for an all ``-inf`` row."""
    peak = values.max(axis=1, keepdims=True)
    safe = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for an all -inf row
        return (safe + np.log(np.exp(values - safe).sum(axis=1, keepdims=True)))[:, 0]

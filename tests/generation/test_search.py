from dataclasses import replace

import numpy as np
import pytest

from generation.neural import HOLD, TOKEN_PITCH
from generation.search import (
    Penalties,
    StepContext,
    draw_rows,
    effective_sample_size,
    log_potentials,
    log_sum_exp,
    systematic_resample,
)

# The default rules without the off-beat ones, the step bonus and the per-note, leap, seventh,
# open-fifth and suspension rules (each tested on its own).
ISOLATED = Penalties(
    step_off_beat=0.0,
    offbeat_clash=0.0,
    offbeat_chord=0.0,
    neighbour=0.0,
    note=(0.0, 0.0, 0.0),
    inner_leap=0.0,
    beat_seventh=0.0,
    incomplete=0.0,
    suspension=0.0,
)


def potentials(
    voice,
    *,
    sounding,
    held,
    last_slice=None,
    on_beat=False,
    final=False,
    fermata=False,
    before_held=(0, 0, 0, 0),
    stepped=(False,) * 4,
    penalties=None,
    lowest=None,
    highest=None,
):
    """Pitch (or "hold") -> log-potential for one particle."""
    step = StepContext(
        first=False,
        on_beat=on_beat,
        on_sixteenth=False,
        soprano_rests=False,
        fermata_onset=fermata,
        final=final,
        tonic=0,
    )
    values = log_potentials(
        voice,
        TOKEN_PITCH,
        sounding=np.array([sounding]),
        held=np.array([held]),
        last_slice=np.array([last_slice if last_slice is not None else held]),
        before_held=np.array([before_held]),
        stepped_off_beat=np.array([stepped]),
        step=step,
        # The off-beat rules and the step bonus are tested on their own below.
        penalties=penalties or ISOLATED,
        lowest=None if lowest is None else np.array([lowest]),
        highest=None if highest is None else np.array([highest]),
    )[0]
    return {
        ("hold" if token == HOLD else int(TOKEN_PITCH[token])): float(value)
        for token, value in enumerate(values)
    }


def test_a_parallel_fifth_costs_six_nats_and_a_clean_move_nothing():
    # Soprano C5 -> D5 over an alto F4 (a fifth): G4 would be a parallel fifth.
    alto = potentials(0, sounding=[74, 0, 0, 0], held=[72, 65, 55, 48])
    assert alto[67] == -6.0
    assert alto[64] == 0.0
    assert alto["hold"] == 0.0


def test_an_antiparallel_fifth_costs_the_same():
    # Tenor C4 -> D4 over a bass F3: G3 is parallel, G2 a fifth to a twelfth in contrary motion.
    bass = potentials(2, sounding=[72, 65, 62, 0], held=[72, 65, 60, 53])
    assert bass[55] == bass[43] == -6.0
    assert bass[45] == 0.0


def test_crossing_and_wide_spacing_cost_what_they_are_weighted_and_nothing_by_default():
    rules = replace(ISOLATED, crossing=0.2, spacing=0.2)
    alto = potentials(0, sounding=[67, 0, 0, 0], held=[67, 60, 55, 48], penalties=rules)
    assert alto[69] == -0.2  # above the soprano
    assert alto[54] == -0.2  # more than an octave below it
    assert alto[62] == 0.0
    assert alto[60] == -0.3  # the held C4 struck again
    # Calibrated to Bach, who crosses and spaces wide more often than the samples do.
    default = potentials(0, sounding=[67, 0, 0, 0], held=[67, 60, 55, 48])
    assert default[69] == default[54] == 0.0


def test_range_is_a_hard_rule():
    alto = potentials(0, sounding=[67, 0, 0, 0], held=[67, 60, 55, 48])
    assert alto[52] == -np.inf and alto[53] > -np.inf and alto[74] > -np.inf


def test_a_semitone_clash_costs_more_on_the_beat_than_off_it():
    rules = Penalties(step_off_beat=0.0)
    off = potentials(0, sounding=[72, 0, 0, 0], held=[72, 67, 60, 48], penalties=rules)
    on = potentials(0, sounding=[72, 0, 0, 0], held=[72, 67, 60, 48], on_beat=True)
    assert off[71] == -0.4
    # On the beat: the clash (1.0); no chord rule for the alto (the bass judges the chord).
    assert on[71] == -1.0


def test_completing_a_passing_note_earns_a_bonus_per_voice():
    # The tenor went C4 -> D4 off the beat; E4 next makes D4 a passing note.
    tenor = potentials(
        1,
        sounding=[72, 67, 0, 0],
        held=[72, 67, 62, 48],
        before_held=[72, 67, 60, 48],
        stepped=[False, False, True, False],
    )
    assert tenor[64] == 1.0
    assert tenor[60] == 0.0  # back to C4: a neighbour note, no bonus


def test_off_the_beat_a_step_earns_a_bonus_and_an_inner_leap_costs():
    rules = Penalties(inner_leap=0.4)
    alto = potentials(0, sounding=[72, 0, 0, 0], held=[72, 60, 55, 48], penalties=rules)
    assert alto[62] == 0.5
    assert alto[64] == 0.0
    assert alto[67] == -0.4


def test_re_striking_the_same_pitch_costs_a_little():
    bass = potentials(2, sounding=[72, 67, 64, 0], held=[72, 67, 64, 48])
    assert bass[48] == -0.3
    assert bass["hold"] == 0.0


def test_on_the_beat_the_bass_is_steered_to_root_position_chords():
    bass = potentials(2, sounding=[72, 67, 64, 0], held=[74, 67, 65, 43], on_beat=True)
    assert bass[48] == 0.0  # C major, root position
    assert bass[40] == -1.0  # C major over E: a chord, but not root position
    assert bass[50] == -2.5  # D under C-G-E: no chord at all


def test_the_final_chord_is_the_tonic_triad_over_the_tonic_with_a_major_third():
    bass = potentials(2, sounding=[72, 67, 64, 0], held=[72, 67, 64, 43], final=True)
    assert {p for p, v in bass.items() if v > -np.inf} == {36, 48, 60}
    alto = potentials(0, sounding=[76, 0, 0, 0], held=[76, 67, 60, 48], final=True)
    assert {p for p, v in alto.items() if v > -np.inf} == {"hold", 55, 60, 64, 67, 72}
    # Neither soprano nor alto has the third (E): the tenor must take it, in C minor too.
    tenor = potentials(1, sounding=[72, 67, 0, 0], held=[72, 67, 63, 48], final=True)
    assert {p for p, v in tenor.items() if v > -np.inf} == {52, 64}


def test_weights_draws_and_resampling_follow_the_weights():
    rng = np.random.default_rng(0)
    log_weights = np.log(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]) + 1e-300)
    assert draw_rows(log_weights, rng).tolist() == [1, 0]
    assert systematic_resample(np.log(np.array([0.5, 0.5, 1e-12, 1e-12])), rng).tolist() == [
        0,
        0,
        1,
        1,
    ]
    assert effective_sample_size(np.zeros(8)) == pytest.approx(8.0)
    assert effective_sample_size(np.array([0.0, -np.inf, -np.inf])) == 1.0
    sums = log_sum_exp(np.array([[0.0, 0.0], [-np.inf, -np.inf]]))
    assert sums[0] == pytest.approx(np.log(2)) and sums[1] == -np.inf


def test_off_the_beat_new_clashes_and_non_chords_cost_when_weighted():
    rules = replace(ISOLATED, offbeat_clash=0.7, offbeat_chord=0.5)
    # The alto strikes B4 under a held C5: a new semitone clash off the beat.
    alto = potentials(0, sounding=[72, 0, 0, 0], held=[72, 67, 60, 48], penalties=rules)
    assert alto[71] == -0.7
    assert alto["hold"] == 0.0 and alto[69] == 0.0
    # The soprano moved to C5 over a held alto B4: the held note now clashes too.
    held_alto = potentials(0, sounding=[72, 0, 0, 0], held=[74, 71, 60, 48], penalties=rules)
    assert held_alto["hold"] == -0.7
    # The bass judges the vertical: C-G-E over C is a chord, over D it is not.
    bass = potentials(2, sounding=[72, 67, 64, 0], held=[72, 67, 64, 48], penalties=rules)
    assert bass[48] == -0.3  # re-struck, no chord cost
    assert bass[50] == -0.5
    assert bass["hold"] == 0.0  # nothing struck: no new vertical to judge


def test_notes_cost_per_voice_and_a_neighbour_note_costs_its_return():
    rules = replace(ISOLATED, repeat=0.0, note=(0.1, 0.2, 0.3))
    assert potentials(0, sounding=[72, 0, 0, 0], held=[72, 64, 55, 48], penalties=rules)[
        62
    ] == pytest.approx(-0.1)
    tenor = potentials(1, sounding=[72, 67, 0, 0], held=[72, 67, 55, 48], penalties=rules)
    assert tenor[57] == pytest.approx(-0.2) and tenor["hold"] == 0.0
    # The tenor went C4 -> D4 off the beat; back to C4 makes D4 a neighbour note.
    rules = replace(ISOLATED, neighbour=0.8)
    tenor = potentials(
        1,
        sounding=[72, 67, 0, 0],
        held=[72, 67, 62, 48],
        before_held=[72, 67, 60, 48],
        stepped=[False, False, True, False],
        penalties=rules,
    )
    assert tenor[60] == pytest.approx(-0.8)
    assert tenor[64] == pytest.approx(1.0)  # on to E4: a passing note, its bonus


def test_widening_a_voices_range_costs_per_semitone():
    rules = replace(ISOLATED, repeat=0.0, widen=(0.0, 0.0, 0.1))
    # The bass has sounded C3..G3 so far; A2 widens it by 3 semitones, A3 by 2, E3 not at all.
    bass = potentials(
        2,
        sounding=[72, 67, 64, 0],
        held=[72, 67, 64, 52],
        lowest=[60, 60, 55, 48],
        highest=[76, 69, 64, 55],
        penalties=rules,
    )
    assert bass[45] == pytest.approx(-0.3)
    assert bass[57] == pytest.approx(-0.2)
    assert bass[52] == 0.0 and bass["hold"] == 0.0
    # Before a voice's first note nothing is widened; without the ranges the rule is off.
    first = potentials(
        2,
        sounding=[72, 67, 64, 0],
        held=[72, 67, 64, 0],
        lowest=[72, 67, 64, 0],
        highest=[72, 67, 64, 0],
        penalties=rules,
    )
    assert first[40] == 0.0
    assert (
        potentials(2, sounding=[72, 67, 64, 0], held=[72, 67, 64, 52], penalties=rules)[40] == 0.0
    )


def test_a_seventh_on_the_beat_and_an_incomplete_chord_cost_when_weighted():
    rules = Penalties(
        step_off_beat=0.0,
        repeat=0.0,
        beat_chord=0.0,
        beat_root_position=0.0,
        offbeat_chord=0.0,
        note=(0.0, 0.0, 0.0),
        widen=(0.0, 0.0, 0.0),
        beat_seventh=0.3,
        incomplete=1.2,
    )
    # Over C5 G4 E4 on the beat: a bass A2 makes A-C-E-G (a minor seventh chord), C3 a triad,
    # D3 no chord at all (not a seventh: free here, beat_chord being off).
    bass = potentials(
        2, sounding=[72, 67, 64, 0], held=[72, 67, 64, 48], on_beat=True, penalties=rules
    )
    assert bass[45] == pytest.approx(-0.3)
    assert bass[48] == 0.0 and bass[50] == 0.0
    off = potentials(2, sounding=[72, 67, 64, 0], held=[72, 67, 64, 48], penalties=rules)
    assert off[45] == 0.0  # off the beat a seventh chord is free
    # Over C5 C4 G3: a bass C3 leaves an open fifth (incomplete), E3 completes the triad.
    fifth = potentials(
        2, sounding=[72, 60, 55, 0], held=[72, 60, 55, 52], on_beat=True, penalties=rules
    )
    assert fifth[48] == pytest.approx(-1.2)
    assert fifth[52] == 0.0
    assert fifth[45] == pytest.approx(-0.3)  # A-C-G-C: a minor seventh without its fifth
    # Off the beat it costs only where something is struck: holding the C3 strikes nothing.
    held = potentials(2, sounding=[72, 60, 55, 0], held=[72, 60, 55, 48], penalties=rules)
    assert held["hold"] == 0.0
    assert held[48] == pytest.approx(-1.2)  # re-struck


def test_holding_into_a_second_on_the_beat_earns_the_suspension_bonus():
    rules = replace(ISOLATED, suspension=0.6)
    # The tenor holds D4 into the beat under an alto C4: a 9-8 style suspension.
    tenor = potentials(
        1, sounding=[72, 60, 0, 0], held=[72, 60, 62, 48], on_beat=True, penalties=rules
    )
    assert tenor["hold"] == pytest.approx(0.6)
    # Off the beat, or against a consonance (alto E4), holding earns nothing.
    assert (
        potentials(1, sounding=[72, 60, 0, 0], held=[72, 60, 62, 48], penalties=rules)["hold"]
        == 0.0
    )
    consonant = potentials(
        1, sounding=[72, 64, 0, 0], held=[72, 64, 60, 48], on_beat=True, penalties=rules
    )
    assert consonant["hold"] == 0.0

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
        # The off-beat step bonus and the leap cost are tested on their own below.
        penalties=penalties or Penalties(step_off_beat=0.0, inner_leap=0.0),
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


def test_crossing_and_wide_spacing_are_allowed_at_a_small_cost():
    alto = potentials(0, sounding=[67, 0, 0, 0], held=[67, 60, 55, 48])
    assert alto[69] == -0.2  # above the soprano
    assert alto[54] == -0.2  # more than an octave below it
    assert alto[62] == 0.0
    assert alto[60] == -0.3  # the held C4 struck again


def test_range_is_a_hard_rule():
    alto = potentials(0, sounding=[67, 0, 0, 0], held=[67, 60, 55, 48])
    assert alto[52] == -np.inf and alto[53] > -np.inf and alto[74] > -np.inf


def test_a_semitone_clash_costs_only_on_the_beat():
    off = potentials(0, sounding=[72, 0, 0, 0], held=[72, 67, 60, 48])
    on = potentials(0, sounding=[72, 0, 0, 0], held=[72, 67, 60, 48], on_beat=True)
    assert off[71] == 0.0
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
    alto = potentials(0, sounding=[72, 0, 0, 0], held=[72, 60, 55, 48], penalties=Penalties())
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
    assert bass[40] == -0.4  # C major over E: a chord, but not root position
    assert bass[50] == -1.9  # D under C-G-E: no chord at all


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

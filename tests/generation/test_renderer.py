import dataclasses

import numpy as np
import pytest
import soundfile

from generation.backends import Melody
from generation.render import (
    DEFAULT_SETTINGS,
    RenderSettings,
    render_chorale,
    render_voices,
    rendered_length,
    room_impulse_response,
    step_boundaries,
    write_wav,
)

SAMPLE_RATE = DEFAULT_SETTINGS.sample_rate


def chord_score(steps: int, chord=(72, 67, 64, 48)):
    """Every voice holds one note for ``steps`` 16ths; no fermata."""
    pitches = np.array([[p] * steps for p in chord], dtype=np.int16)
    onsets = np.zeros((4, steps), dtype=bool)
    onsets[:, 0] = True
    return pitches, onsets, np.zeros(steps, dtype=bool)


def test_rendering_the_same_voices_twice_is_bit_identical(bwv269):
    first = render_chorale(bwv269)
    again = render_chorale(bwv269)
    assert first.tobytes() == again.tobytes()


def test_it_returns_float32_stereo_of_the_announced_length(bwv269):
    samples = render_chorale(bwv269)
    assert samples.dtype == np.float32
    assert samples.shape == (2, rendered_length(bwv269.fermatas))
    assert samples.shape[1] == 2_805_221


def test_two_settings_of_one_melody_have_the_same_length(bwv269, markov):
    generated = markov.harmonize(Melody.from_chorale(bwv269), seed=0)
    bach = render_chorale(bwv269)
    other = render_voices(generated.pitches, generated.onsets, bwv269.fermatas)
    assert other.shape == bach.shape
    assert other.tobytes() != bach.tobytes()


def test_a_16th_lasts_a_quarter_of_a_beat_and_fermatas_stretch_it():
    boundaries = step_boundaries(np.array([False, False, True, True]))
    # 76 quarters a minute: a 16th is 60 / 76 / 4 s = 9473.7 samples, 16578.9 under a fermata.
    assert boundaries.tolist() == [0, 9474, 18947, 35526, 52105]


def test_the_output_never_passes_minus_one_dbfs():
    loud = dataclasses.replace(DEFAULT_SETTINGS, master_gain=10.0)
    samples = render_voices(*chord_score(32), settings=loud)
    assert float(np.abs(samples).max()) == pytest.approx(0.891, abs=1e-6)


def test_the_default_level_leaves_headroom(bwv269):
    peak = float(np.abs(render_chorale(bwv269)).max())
    assert 0.2 < peak < 0.891


def test_rests_render_as_silence():
    pitches = np.zeros((4, 16), dtype=np.int16)
    onsets = np.zeros((4, 16), dtype=bool)
    onsets[:, 0] = True
    samples = render_voices(pitches, onsets, np.zeros(16, dtype=bool))
    assert not samples.any()


def test_a_bass_note_sounds_at_its_pitch():
    pitches = np.zeros((4, 32), dtype=np.int16)
    pitches[3] = 57  # A3 = 220 Hz
    onsets = np.zeros((4, 32), dtype=bool)
    onsets[:, 0] = True
    dry = dataclasses.replace(DEFAULT_SETTINGS, reverb_wet=0.0)
    mono = render_voices(pitches, onsets, np.zeros(32, dtype=bool), settings=dry).sum(axis=0)
    window = mono[SAMPLE_RATE // 4 : SAMPLE_RATE // 4 + SAMPLE_RATE]  # one steady second
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    assert int(np.argmax(spectrum)) == 220  # 1 Hz bins


def test_the_room_is_the_same_every_time_and_stereo():
    first = room_impulse_response()
    assert first.shape == (2, round(1.4 * SAMPLE_RATE))
    assert first.tobytes() == room_impulse_response().tobytes()
    assert not np.array_equal(first[0], first[1])
    assert np.sum(first.astype(np.float64) ** 2, axis=1) == pytest.approx([1.0, 1.0], rel=1e-4)


def test_settings_are_recorded_for_provenance():
    described = RenderSettings().describe()
    assert described["renderer_version"] == "1"
    assert described["sample_rate"] == 48_000
    assert described["quarter_bpm"] == 76.0


def test_a_score_that_is_not_four_voices_is_refused():
    with pytest.raises(ValueError, match=r"\[4, steps\]"):
        render_voices(np.zeros((3, 8)), np.zeros((3, 8), dtype=bool), np.zeros(8, dtype=bool))


def test_it_writes_a_wav_that_reads_back(tmp_path):
    samples = render_voices(*chord_score(8))
    path = write_wav(tmp_path / "chord.wav", samples, SAMPLE_RATE)
    audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE
    assert audio.shape == (samples.shape[1], 2)
    assert np.abs(audio.T - samples).max() < 1e-6

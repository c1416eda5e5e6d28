"""Stimulus matching: BS.1770 loudness, equal length, joint peak limiting, one format."""

import numpy as np
import pytest

from evaluation.stimuli.audio import AudioError, Decoded, integrated_loudness, true_peak_dbtp
from evaluation.stimuli.pipeline import MatchSettings, match_tracks


def sine(level_dbfs: float, seconds: float, rate: int = 48000, channels: int = 2, freq=1000.0):
    t = np.arange(int(seconds * rate)) / rate
    amplitude = 10 ** (level_dbfs / 20)
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[None, :], channels, axis=0)


def test_a_stereo_1khz_sine_at_minus_23_dbfs_measures_minus_23_lufs():
    # EBU Tech 3341 case 1: stereo 1 kHz sine, -23 dBFS per channel -> -23.0 LUFS (±0.1).
    assert integrated_loudness(sine(-23.0, 20.0), 48000) == pytest.approx(-23.0, abs=0.1)


def test_tracks_of_different_loudness_rate_and_length_come_out_matched():
    loud = Decoded(sine(-6.0, 12.0, rate=44100, channels=1, freq=440), 44100, "wav")
    quiet = Decoded(sine(-30.0, 9.0, rate=48000, freq=660), 48000, "flac")
    prepared = match_tracks([loud, quiet], MatchSettings(excerpt_s=20.0))
    assert [p.samples.shape for p in prepared] == [(2, 9 * 48000), (2, 9 * 48000)]
    for audio in prepared:
        assert audio.loudness_lufs == pytest.approx(-23.0, abs=0.1)
        assert audio.true_peak_dbtp <= -1.0 + 1e-6
        assert audio.sample_rate == 48000


def test_a_loud_peak_lowers_both_tracks_of_the_pair_together():
    # A spiky track needs so much gain to reach -10 LUFS that its peak would pass -1 dBTP.
    spiky = sine(-40.0, 10.0)
    spiky[:, ::4800] = 0.9
    smooth = sine(-20.0, 10.0, freq=500)
    prepared = match_tracks(
        [Decoded(spiky, 48000, "wav"), Decoded(smooth, 48000, "wav")],
        MatchSettings(target_lufs=-10.0),
    )
    assert max(p.true_peak_dbtp for p in prepared) == pytest.approx(-1.0, abs=0.05)
    assert prepared[0].loudness_lufs == pytest.approx(prepared[1].loudness_lufs, abs=0.1)
    assert prepared[0].loudness_lufs < -10.0


def test_a_silent_track_is_refused_with_its_reason():
    with pytest.raises(AudioError, match="is silent"):
        match_tracks(
            [
                Decoded(np.zeros((2, 48000 * 5), np.float32), 48000, "wav"),
                Decoded(sine(-20, 5), 48000, "wav"),
            ],
            MatchSettings(),
        )


def test_a_heavily_clipped_track_is_refused():
    clipped = np.clip(sine(6.0, 5.0), -1.0, 1.0)
    with pytest.raises(AudioError, match="heavily clipped"):
        match_tracks([Decoded(clipped, 48000, "wav")], MatchSettings())


def test_true_peak_sees_intersample_peaks():
    # A sine at fs/4 sampled at 45° phase: sample peak 0.707, true peak 1.0 (0 dBTP).
    n = np.arange(48000)
    samples = np.sin(np.pi / 2 * n + np.pi / 4)[None, :].astype(np.float32)
    assert true_peak_dbtp(samples) == pytest.approx(0.0, abs=0.2)

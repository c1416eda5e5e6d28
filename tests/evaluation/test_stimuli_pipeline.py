"""Stimulus matching: BS.1770 loudness, equal length from one start, joint peak limiting,
one codec, the low-quality anchor, and catch copies that differ in bytes but not audibly."""

import hashlib

import numpy as np
import pytest

from evaluation.stimuli.audio import (
    AudioError,
    Decoded,
    decode_bytes,
    encode,
    integrated_loudness,
    mp3_with_private_bits,
    ogg_with_serial,
)
from evaluation.stimuli.pipeline import (
    MatchSettings,
    TrackAudioError,
    find_excerpt_start,
    match_tracks,
    prepare_prompt,
    prepare_prompt_with_catch,
)

RATE = 48000


def sine(level_dbfs: float, seconds: float, rate: int = RATE, channels: int = 2, freq=1000.0):
    t = np.arange(int(seconds * rate)) / rate
    amplitude = 10 ** (level_dbfs / 20)
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[None, :], channels, axis=0)


def spiky(seconds: float = 4.0):
    """Quiet sine with sparse full-scale clicks: reaching a loud target would push its true
    peak far past the ceiling."""
    samples = sine(-40.0, seconds)
    samples[:, ::4800] = 0.9
    return samples


def test_a_1khz_sine_at_minus_30_dbfs_comes_out_at_minus_23_lufs():
    # EBU Tech 3341 style: a known level in, the target out (±0.1 LU).
    (audio,) = match_tracks([Decoded(sine(-30.0, 6.0), RATE, "wav")], MatchSettings(excerpt_s=5))
    assert audio.loudness_lufs == pytest.approx(-23.0, abs=0.1)
    assert audio.gain_db == pytest.approx(7.0, abs=0.1)
    assert audio.peak_reduction_db == 0.0


def test_tracks_of_different_loudness_rate_channels_and_length_come_out_matched():
    loud = Decoded(sine(-6.0, 12.0, rate=44100, channels=1, freq=440), 44100, "wav")
    quiet = Decoded(sine(-30.0, 9.0, rate=RATE, freq=660), RATE, "flac")
    prepared = match_tracks([loud, quiet], MatchSettings(excerpt_s=8.0))
    assert [p.samples.shape for p in prepared] == [(2, 8 * RATE), (2, 8 * RATE)]
    assert prepared[0].excerpt_start_s == prepared[1].excerpt_start_s == 0.0
    for audio in prepared:
        assert audio.loudness_lufs == pytest.approx(-23.0, abs=0.1)
        assert audio.true_peak_dbtp <= -1.0 + 1e-6
        assert audio.sample_rate == RATE


def test_excerpts_fade_in_and_out():
    (audio,) = match_tracks([Decoded(sine(-20.0, 3.0), RATE, "wav")], MatchSettings(excerpt_s=2))
    assert np.max(np.abs(audio.samples[:, :10])) < 1e-3
    assert np.max(np.abs(audio.samples[:, -10:])) < 1e-3


def test_a_loud_peak_lowers_both_tracks_of_the_pair_together():
    smooth = sine(-20.0, 4.0, freq=500)
    prepared = match_tracks(
        [Decoded(spiky(), RATE, "wav"), Decoded(smooth, RATE, "wav")],
        MatchSettings(target_lufs=-10.0, excerpt_s=3.0),
    )
    assert max(p.true_peak_dbtp for p in prepared) == pytest.approx(-1.0, abs=0.05)
    assert prepared[0].loudness_lufs == pytest.approx(prepared[1].loudness_lufs, abs=0.1)
    reduction = prepared[0].peak_reduction_db
    assert reduction > 5.0 and prepared[1].peak_reduction_db == reduction
    assert prepared[1].loudness_lufs == pytest.approx(-10.0 - reduction, abs=0.1)


def test_the_section_finder_skips_a_quiet_intro_and_uses_one_start_for_all_tracks():
    # Both tracks are near-silent for 3 s, then play; one has a gap from 6 s to 7 s.
    first = np.concatenate([sine(-60, 3.0), sine(-20, 7.0)], axis=1)
    second = np.concatenate([sine(-60, 3.0), sine(-20, 3.0), sine(-70, 1), sine(-20, 3)], axis=1)
    assert find_excerpt_start([first, second], RATE, 3.0) == 3.0
    prepared = match_tracks(
        [Decoded(first, RATE, "wav"), Decoded(second, RATE, "wav")], MatchSettings(excerpt_s=3.0)
    )
    assert [p.excerpt_start_s for p in prepared] == [3.0, 3.0]


def test_a_fixed_start_overrides_the_section_finder():
    prepared = match_tracks(
        [Decoded(sine(-20, 6.0), RATE, "wav")], MatchSettings(excerpt_s=2, excerpt_start_s=1.5)
    )
    assert prepared[0].excerpt_start_s == 1.5


def test_a_track_shorter_than_the_excerpt_is_refused_by_index():
    tracks = [Decoded(sine(-20, 5.0), RATE, "wav"), Decoded(sine(-20, 2.5), RATE, "wav")]
    with pytest.raises(TrackAudioError, match="is too short: 2.50 s, but the study's excerpt "
                       "needs 3 s") as error:  # fmt: skip
        match_tracks(tracks, MatchSettings(excerpt_s=3.0))
    assert error.value.index == 1


def test_a_silent_track_is_refused_with_its_reason():
    tracks = [
        Decoded(sine(-20, 5), RATE, "wav"),
        Decoded(np.zeros((2, RATE * 5), np.float32), RATE, "wav"),
    ]
    with pytest.raises(TrackAudioError, match="is silent") as error:
        match_tracks(tracks, MatchSettings(excerpt_s=3))
    assert error.value.index == 1


def test_a_heavily_clipped_track_is_refused():
    clipped = np.clip(sine(6.0, 5.0), -1.0, 1.0)
    with pytest.raises(AudioError, match=r"is heavily clipped \(\d+\.\d% of samples"):
        match_tracks([Decoded(clipped, RATE, "wav")], MatchSettings(excerpt_s=3))


@pytest.mark.parametrize("codec", ["flac", "opus", "mp3"])
def test_prepared_stimuli_obey_the_ceiling_after_decoding_and_have_equal_sizes(codec):
    tracks = [Decoded(spiky(), RATE, "wav"), Decoded(sine(-12, 4.0, freq=700), RATE, "wav")]
    settings = MatchSettings(excerpt_s=3.0, target_lufs=-14.0, codec=codec, bitrate_kbps=128)
    encoded, anchor = prepare_prompt(tracks, settings)
    assert anchor is None
    assert len({len(e.content) for e in encoded}) == 1
    assert len({round(e.duration_s, 3) for e in encoded}) == 1
    for stimulus in encoded:
        samples, rate = decode_bytes(stimulus.content, codec)
        assert stimulus.true_peak_dbtp <= -1.0
        assert stimulus.loudness_lufs == pytest.approx(integrated_loudness(samples, rate), abs=1e-6)
        assert stimulus.peak_reduction_db == encoded[0].peak_reduction_db > 0
        assert stimulus.bitrate_kbps == (0 if codec == "flac" else 128)
    assert encoded[0].loudness_lufs == pytest.approx(encoded[1].loudness_lufs, abs=0.5)


def test_the_anchor_matches_its_reference_in_loudness_length_and_size():
    reference = sine(-20, 4.0, freq=440) + sine(-26, 4.0, freq=6000)
    tracks = [Decoded(sine(-18, 4.0, freq=600), RATE, "wav"), Decoded(reference, RATE, "wav")]
    encoded, anchor = prepare_prompt(tracks, MatchSettings(excerpt_s=3.0), anchor_of=1)
    assert anchor.loudness_lufs == pytest.approx(encoded[1].loudness_lufs, abs=0.1)
    assert anchor.duration_s == encoded[1].duration_s
    assert len(anchor.content) == len(encoded[1].content)
    assert anchor.excerpt_start_s == encoded[1].excerpt_start_s


# Stated audibility threshold for the two copies of an identical-pair catch: their decoded
# difference peaks below −120 dBFS (under the noise floor of any 16-bit or better playback
# chain, and 97 dB below the −23 LUFS programme), and their loudness differs by < 0.001 LU.
INAUDIBLE_DBFS = -120.0


def _decoded(encoded):
    samples, _ = decode_bytes(encoded.content, encoded.codec)
    return samples.astype(np.float64)


@pytest.mark.parametrize("codec", ["flac", "opus", "mp3"])
def test_catch_copies_differ_in_bytes_from_every_file_but_not_audibly(codec):
    tracks = [
        Decoded(sine(-18, 4.0, freq=600), RATE, "wav"),
        Decoded(sine(-20, 4.0, freq=440) + sine(-26, 4.0, freq=6000), RATE, "wav"),
    ]
    settings = MatchSettings(excerpt_s=3.0, codec=codec, bitrate_kbps=128)
    regular, catch = prepare_prompt_with_catch(tracks, settings, anchor_of=1, twin_of=1, seed=1234)
    files = [*regular, catch.anchor, catch.full, catch.twin_1, catch.twin_2]
    assert len({hashlib.sha256(f.content).hexdigest() for f in files}) == 6
    assert len({len(f.content) for f in files}) == 1  # sizes still say nothing
    for copy in (catch.full, catch.twin_1, catch.twin_2):
        difference = _decoded(copy) - _decoded(regular[1])
        peak = float(np.max(np.abs(difference)))
        if codec == "flac":
            # One 24-bit step of TPDF dither, plus rounding.
            assert 0 < peak < 10 ** (INAUDIBLE_DBFS / 20)
        else:
            assert peak == 0.0  # the same packets under other container bytes
    twins = _decoded(catch.twin_1) - _decoded(catch.twin_2)
    assert float(np.max(np.abs(twins))) < 10 ** (INAUDIBLE_DBFS / 20)
    assert catch.twin_1.loudness_lufs == pytest.approx(catch.twin_2.loudness_lufs, abs=0.001)
    assert catch.full.loudness_lufs == pytest.approx(regular[1].loudness_lufs, abs=0.001)
    assert catch.anchor.loudness_lufs == pytest.approx(catch.full.loudness_lufs, abs=0.1)


def test_an_ogg_stream_keeps_its_bytes_under_its_own_serial_and_mp3_marks_are_validated():
    content = encode(sine(-20, 1.0, freq=440), 48000, "opus", 96)
    assert ogg_with_serial(content, 0) == content  # the CRC is recomputed exactly
    with pytest.raises(AudioError) as refused:
        mp3_with_private_bits(b"fLaC" + bytes(100), 1)
    assert str(refused.value) == "is not a CRC-free MPEG-1 Layer III stream (byte 0)"

"""Decoding (and refusing bad files), loudness and true peak, tag-free encoding, size padding."""

import subprocess

import numpy as np
import pytest
import soundfile

from evaluation.stimuli.audio import (
    AudioError,
    container_codec,
    decode,
    decode_bytes,
    encode,
    ffmpeg_exe,
    flac_pad_to,
    integrated_loudness,
    low_pass,
    metadata_tags,
    true_peak_dbtp,
)

RATE = 48000


def sine(level_dbfs: float, seconds: float, rate: int = RATE, freq: float = 1000.0):
    """Stereo sine, float32 [2, n], each channel at `level_dbfs` peak."""
    t = np.arange(int(seconds * rate)) / rate
    wave = (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([wave, wave])


def tagged_mp3(path, seconds: float = 3.0):
    """An MP3 carrying the tags a generator's download would: title, artist, comment."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-ac", "2", "-ar", "44100",
         "-metadata", "title=Made by Suno v5", "-metadata", "artist=Suno",
         "-metadata", "comment=system=suno", "-c:a", "libmp3lame", "-b:a", "192k", str(path)],
        check=True,
    )  # fmt: skip
    return path


# EBU Tech 3341 (loudness meter conformance), cases 1 and 2: stereo 1 kHz sine.
@pytest.mark.parametrize("level", [-23.0, -33.0])
def test_a_stereo_1khz_sine_measures_its_level_in_lufs(level):
    assert integrated_loudness(sine(level, 20.0), RATE) == pytest.approx(level, abs=0.1)


def test_true_peak_sees_intersample_peaks():
    # A sine at fs/4 sampled at 45° phase: sample peak 0.707, true peak 1.0 (0 dBTP).
    n = np.arange(48000)
    samples = np.sin(np.pi / 2 * n + np.pi / 4)[None, :].astype(np.float32)
    assert float(np.max(np.abs(samples))) == pytest.approx(0.7071, abs=1e-4)
    assert true_peak_dbtp(samples) == pytest.approx(0.0, abs=0.2)


def test_a_corrupt_file_is_refused_with_its_format(tmp_path):
    path = tmp_path / "noise.flac"
    path.write_bytes(b"fLaC" + bytes(range(256)) * 40)
    with pytest.raises(AudioError, match="not readable as FLAC audio: corrupt, truncated"):
        decode(path)


@pytest.mark.parametrize("extension", ["wav", "flac"])
def test_a_truncated_file_is_refused(tmp_path, extension):
    full = tmp_path / f"full.{extension}"
    soundfile.write(full, sine(-20, 4.0).T, RATE)
    cut = tmp_path / f"cut.{extension}"
    content = full.read_bytes()
    cut.write_bytes(content[: len(content) // 2])
    with pytest.raises(AudioError, match="truncated"):
        decode(cut)


def test_a_truncated_mp3_is_refused(tmp_path):
    whole = tagged_mp3(tmp_path / "whole.mp3", seconds=6.0)
    cut = tmp_path / "cut.mp3"
    content = whole.read_bytes()
    cut.write_bytes(content[: len(content) // 2])
    with pytest.raises(AudioError, match=r"is truncated: (2\.9|3\.0)\d s decoded of the 6\.0\d s"):
        decode(cut)


def test_metadata_tags_reads_the_tags_of_an_mp3(tmp_path):
    tags = metadata_tags(tagged_mp3(tmp_path / "tagged.mp3"))
    assert tags == {"title": "Made by Suno v5", "artist": "Suno", "comment": "system=suno"}


@pytest.mark.parametrize("codec", ["flac", "opus", "mp3"])
def test_encoding_writes_no_tags_and_keeps_rate_and_channels(tmp_path, codec):
    content = encode(sine(-20, 2.0), RATE, codec, bitrate_kbps=128)
    path = tmp_path / f"stimulus.{codec}"
    path.write_bytes(content)
    assert metadata_tags(path) == {}
    assert container_codec(content) == codec
    samples, rate = decode_bytes(content, codec)
    assert (rate, samples.shape[0]) == (RATE, 2)
    assert b"Lavf" not in content and b"Lavc" not in content


@pytest.mark.parametrize("codec", ["opus", "mp3"])
def test_lossy_codecs_are_constant_bitrate_so_size_follows_duration_only(codec):
    quiet_tone = encode(sine(-40, 3.0, freq=300), RATE, codec, bitrate_kbps=128)
    rng = np.random.default_rng(1)
    loud_noise = (0.3 * rng.standard_normal((2, 3 * RATE))).astype(np.float32)
    assert len(encode(loud_noise, RATE, codec, bitrate_kbps=128)) == len(quiet_tone)


def test_flac_padding_reaches_the_exact_size_and_leaves_the_audio_alone():
    original = encode(sine(-20, 1.0), RATE, "flac")
    padded = flac_pad_to(original, len(original) + 1000)
    assert len(padded) == len(original) + 1000
    np.testing.assert_array_equal(
        decode_bytes(padded, "flac")[0], decode_bytes(original, "flac")[0]
    )
    with pytest.raises(ValueError, match="cannot pad"):
        flac_pad_to(original, len(original) + 2)


def test_the_anchor_low_pass_removes_content_above_3_5_khz():
    mixture = sine(-20, 1.0, freq=500) + sine(-20, 1.0, freq=8000)
    filtered = low_pass(mixture, RATE)
    spectrum = np.abs(np.fft.rfft(filtered[0]))
    freqs = np.fft.rfftfreq(filtered.shape[1], 1 / RATE)
    at = {f: spectrum[np.argmin(np.abs(freqs - f))] for f in (500, 8000)}
    assert 20 * np.log10(at[8000] / at[500]) < -60

"""The headphone check's audio, measured from the WAV a listener receives: the quiet tone is
6 dB down, the antiphase tone really is in antiphase, and nothing but the order differs."""

import io

import numpy as np
import pytest
import soundfile

from evaluation.stimuli.headphones import (
    FLAC_PADDING,
    ORDERS,
    QUIET_DB,
    REFERENCE_DBFS,
    SAMPLE_RATE,
    TONE_HZ,
    _flac_blocks,
    item_audio,
    item_flac,
    item_flac_size,
    item_tone,
    item_wav,
    tone_spans,
)


def decoded(order) -> np.ndarray:
    samples, rate = soundfile.read(io.BytesIO(item_wav(order)), dtype="float64")
    assert rate == SAMPLE_RATE
    return samples


def tones_of(order) -> dict[str, np.ndarray]:
    samples = decoded(order)
    return {
        role: samples[start:end] for role, (start, end) in zip(order, tone_spans(), strict=True)
    }


def rms_db(signal: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(signal**2)))


@pytest.mark.parametrize("order", ORDERS)
def test_the_quiet_tone_is_6_db_below_the_others_in_each_ear(order):
    tones = tones_of(order)
    for channel in (0, 1):
        reference = rms_db(tones["reference"][:, channel])
        assert rms_db(tones["quiet"][:, channel]) - reference == pytest.approx(QUIET_DB, abs=0.02)
        assert rms_db(tones["antiphase"][:, channel]) == pytest.approx(reference, abs=0.02)


@pytest.mark.parametrize("order", ORDERS)
def test_the_antiphase_tone_has_opposite_channels_and_the_others_equal_ones(order):
    tones = tones_of(order)
    antiphase = tones["antiphase"]
    assert np.array_equal(antiphase[:, 1], -antiphase[:, 0])
    assert np.corrcoef(antiphase[:, 0], antiphase[:, 1])[0, 1] == pytest.approx(-1.0)
    for role in ("reference", "quiet"):
        assert np.array_equal(tones[role][:, 0], tones[role][:, 1])


def test_over_a_loudspeaker_mix_the_antiphase_tone_is_the_quietest():
    """Summing the channels (the crudest model of two speakers heard at once) cancels the
    antiphase tone: a listener without headphones picks it and fails the item."""
    mono = {role: tone.sum(axis=1) for role, tone in tones_of(ORDERS[0]).items()}
    levels = {role: float(np.sqrt(np.mean(signal**2))) for role, signal in mono.items()}
    assert levels["antiphase"] == 0.0
    assert 0 < levels["quiet"] < levels["reference"]


def test_each_tone_is_a_200_hz_sine_at_the_reference_level_with_silence_between():
    samples = decoded(ORDERS[0])
    (start, end), *_ = tone_spans()
    tone = samples[start:end, 0]
    spectrum = np.abs(np.fft.rfft(tone))
    assert np.fft.rfftfreq(tone.size, 1 / SAMPLE_RATE)[spectrum.argmax()] == TONE_HZ
    assert 20 * np.log10(np.abs(tone).max()) == pytest.approx(REFERENCE_DBFS, abs=0.01)
    assert np.abs(samples[:start]).max() == 0.0
    assert np.abs(samples[end : tone_spans()[1][0]]).max() == 0.0
    assert np.abs(tone[:10]).max() < 0.01  # the ramp: no click at the onset


def test_every_order_gives_a_file_of_the_same_size_and_length():
    sizes = {len(item_wav(order)) for order in ORDERS}
    lengths = {item_audio(order).shape for order in ORDERS}
    assert len(sizes) == 1 and len(lengths) == 1
    # 2 × 5512 lead samples (0.25 s, rounded) + 3 tones of 1 s + 2 gaps of 0.5 s, at 22050 Hz
    assert lengths == {(99224, 2)}


def test_the_flac_the_page_gets_is_lossless_small_and_alike_for_every_order():
    files = {order: item_flac(order) for order in ORDERS}
    # One size for all six orders, about a sixteenth of the WAV.
    assert {len(data) for data in files.values()} == {item_flac_size()}
    assert item_flac_size() * 10 < len(item_wav(ORDERS[0]))
    # STREAMINFO and the comment block are byte-identical: no frame sizes, no MD5. (Only the
    # padding block's length, inside the file, balances the frames: reading it means parsing
    # the file, no less than decoding the sound.)
    heads = {
        tuple(block for block in _flac_blocks(data)[0] if block[0] != FLAC_PADDING)
        for data in files.values()
    }
    assert len(heads) == 1 and len(next(iter(heads))) == 2
    for order, data in files.items():
        flac, _ = soundfile.read(io.BytesIO(data), dtype="int16")
        wav, _ = soundfile.read(io.BytesIO(item_wav(order)), dtype="int16")
        assert np.array_equal(flac, wav)
    with pytest.raises(ValueError, match="order must be a permutation"):
        item_flac(("quiet", "quiet", "reference"))


def test_an_unknown_role_or_order_is_refused():
    with pytest.raises(ValueError, match="role must be one of reference, quiet, antiphase"):
        item_tone("loud")
    with pytest.raises(ValueError, match="order must be a permutation"):
        item_audio(("quiet", "quiet", "antiphase"))

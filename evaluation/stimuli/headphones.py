"""Audio of the antiphase headphone check (Woods, Siegel, Traer & McDermott 2017, "Headphone
screening to facilitate web-based auditory experiments", Atten. Percept. Psychophys. 79).

Each item is three 200 Hz pure tones in a row. One is the reference, one is 6 dB quieter, and
one has the right channel in antiphase with the left. Over loudspeakers the two channels of
the antiphase tone partly cancel in the air, so it sounds quietest; over headphones each ear
gets the full level, and the really quieter tone is the one picked out.

Pure numpy and soundfile; no Django.
"""

import functools
import io
from itertools import permutations

import numpy as np
import soundfile

TONE_HZ = 200.0
TONE_S = 1.0
RAMP_S = 0.1  # raised-cosine on/off ramps, so no click gives a tone away
GAP_S = 0.5
LEAD_S = 0.25  # silence first: some devices swallow the first milliseconds of a sound
REFERENCE_DBFS = -12.0  # peak level of the reference and antiphase tones
QUIET_DB = -6.0
SAMPLE_RATE = 22050  # ample for 200 Hz
# What the page downloads per item: FLAC (~25 KB instead of ~397 KB of WAV), every order
# padded to the same byte size (see item_flac).
ITEM_CONTENT_TYPE = "audio/flac"
ITEM_SIZE_STEP = 1024  # the common size is a whole number of these

ROLES = ("reference", "quiet", "antiphase")
# The six orders of the three roles; a panelist's items walk through them in a seeded order.
ORDERS: tuple[tuple[str, str, str], ...] = tuple(permutations(ROLES))


def item_tone(role: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One tone of an item: float32 [n, 2] (left, right) at `sample_rate` Hz, n = TONE_S · rate.

    reference: both channels in phase at REFERENCE_DBFS; quiet: the same, QUIET_DB lower;
    antiphase: right channel = −left, at REFERENCE_DBFS."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    n = int(round(TONE_S * sample_rate))
    t = np.arange(n) / sample_rate
    level_db = REFERENCE_DBFS + (QUIET_DB if role == "quiet" else 0.0)
    wave = 10 ** (level_db / 20) * np.sin(2 * np.pi * TONE_HZ * t)
    ramp = int(round(RAMP_S * sample_rate))
    envelope = np.ones(n)
    rise = 0.5 * (1 - np.cos(np.pi * np.arange(ramp) / ramp))
    envelope[:ramp], envelope[n - ramp :] = rise, rise[::-1]
    wave *= envelope
    right = -wave if role == "antiphase" else wave
    return np.stack([wave, right], axis=1).astype(np.float32)


def item_audio(order: tuple[str, ...], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The three tones of `order` (a permutation of ROLES) with silence before and between:
    float32 [n, 2]; n is the same for every order."""
    if sorted(order) != sorted(ROLES):
        raise ValueError(f"order must be a permutation of {ROLES}, not {order!r}")
    gap = np.zeros((int(round(GAP_S * sample_rate)), 2), dtype=np.float32)
    lead = np.zeros((int(round(LEAD_S * sample_rate)), 2), dtype=np.float32)
    parts = [lead]
    for index, role in enumerate(order):
        if index:
            parts.append(gap)
        parts.append(item_tone(role, sample_rate))
    parts.append(lead)
    return np.concatenate(parts)


@functools.lru_cache(maxsize=len(ORDERS))
def item_wav(order: tuple[str, ...], sample_rate: int = SAMPLE_RATE) -> bytes:
    """The item as 16-bit PCM WAV bytes: every order has exactly the same size. The page
    gets the smaller `item_flac`; this is the reference it must decode to."""
    # Rounded here, symmetrically: the antiphase channel stays the exact negative of the
    # other one after quantisation (libsndfile's own float conversion is not symmetric).
    pcm = np.round(item_audio(order, sample_rate).astype(np.float64) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def tone_spans(sample_rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """[start, end) sample indices of the three tones within an item (for measuring)."""
    lead = int(round(LEAD_S * sample_rate))
    tone = int(round(TONE_S * sample_rate))
    gap = int(round(GAP_S * sample_rate))
    return [(lead + k * (tone + gap), lead + k * (tone + gap) + tone) for k in range(3)]


FLAC_MAGIC = b"fLaC"
FLAC_STREAMINFO = 0
FLAC_PADDING = 1


def _flac_bytes(pcm: np.ndarray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def _flac_blocks(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The metadata blocks [(type, body)] of a FLAC file and the audio frames after them."""
    if data[:4] != FLAC_MAGIC:
        raise ValueError("not a FLAC stream")
    blocks, at = [], 4
    while True:
        header = data[at]
        length = int.from_bytes(data[at + 1 : at + 4], "big")
        blocks.append((header & 0x7F, data[at + 4 : at + 4 + length]))
        at += 4 + length
        if header & 0x80:
            return blocks, data[at:]


def _flac_join(blocks: list[tuple[int, bytes]], frames: bytes) -> bytes:
    out = bytearray(FLAC_MAGIC)
    for index, (kind, body) in enumerate(blocks):
        last = 0x80 if index == len(blocks) - 1 else 0
        out += bytes([last | kind]) + len(body).to_bytes(3, "big") + body
    return bytes(out + frames)


def _flac_anonymous(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Blocks and frames with everything in STREAMINFO that depends on the content cleared:
    the minimum and maximum frame sizes (bytes 4-9) and the MD5 of the audio (bytes 18-33),
    both "unknown" when zero in the FLAC format. Only the sound itself tells the orders apart."""
    blocks, frames = _flac_blocks(data)
    kind, info = blocks[0]
    if kind != FLAC_STREAMINFO or len(info) != 34:
        raise ValueError("a FLAC stream starts with a 34-byte STREAMINFO block")
    info = info[:4] + bytes(6) + info[10:18] + bytes(16)
    return [(kind, info), *blocks[1:]], frames


@functools.lru_cache(maxsize=8)
def _item_flacs(sample_rate: int) -> dict[tuple[str, ...], tuple[list, bytes]]:
    flacs = {}
    for order in ORDERS:
        pcm = np.round(item_audio(order, sample_rate).astype(np.float64) * 32767).astype(np.int16)
        flacs[order] = _flac_anonymous(_flac_bytes(pcm, sample_rate))
    return flacs


def item_flac_size(sample_rate: int = SAMPLE_RATE) -> int:
    """The one byte size of every item's FLAC at `sample_rate`: the largest order's file with
    room for a padding block, rounded up to ITEM_SIZE_STEP."""
    largest = max(len(_flac_join(*parts)) for parts in _item_flacs(sample_rate).values())
    return -(-(largest + 4) // ITEM_SIZE_STEP) * ITEM_SIZE_STEP


@functools.lru_cache(maxsize=len(ORDERS))
def item_flac(order: tuple[str, ...], sample_rate: int = SAMPLE_RATE) -> bytes:
    """The item as 16-bit FLAC, lossless (decodes to exactly `item_wav`'s samples), about 16
    times smaller than the WAV. A compressed file's size would differ with the order, so every
    order is padded with a FLAC PADDING block to the same `item_flac_size`, and STREAMINFO's
    content-dependent fields are cleared (`_flac_anonymous`): the bytes on the wire have the
    same length and header for all six orders."""
    if tuple(order) not in ORDERS:
        raise ValueError(f"order must be a permutation of {ROLES}, not {order!r}")
    blocks, frames = _item_flacs(sample_rate)[tuple(order)]
    blocks = [block for block in blocks if block[0] != FLAC_PADDING]
    unpadded = len(_flac_join(blocks, frames))
    padding = item_flac_size(sample_rate) - unpadded - 4
    return _flac_join([*blocks, (FLAC_PADDING, bytes(padding))], frames)


def item_audio_file(order: tuple[str, ...]) -> bytes:
    """What the check page downloads for an item (ITEM_CONTENT_TYPE)."""
    return item_flac(order)

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
SAMPLE_RATE = 22050  # ample for 200 Hz; keeps each item at ~0.4 MB

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
    """The item as 16-bit PCM WAV bytes. Uncompressed on purpose: every order then has
    exactly the same size, so the length of a response cannot hint at the answer (a FLAC
    file's size would differ with the order)."""
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

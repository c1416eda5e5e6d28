"""Turning the tracks of one prompt into matched, encoded stimuli (pure: arrays in, bytes out).

Order of operations, per prompt (docs/stimuli.md):
1. every decoded track is checked (silence, heavy clipping, long enough for the excerpt);
2. stereo (mono duplicated) at the study's sample rate (soxr, very high quality);
3. one excerpt start for the whole prompt: the study's fixed start, or the section finder
   (`find_excerpt_start`), then the same length from every track with raised-cosine fades;
4. gain to the loudness target (ITU-R BS.1770 via pyloudnorm);
5. if any track's true peak (4x oversampled) would pass the ceiling, every track of the prompt
   is lowered by the same amount, so they stay matched (recorded as `peak_reduction_db`);
6. encoding to the study's codec with no tags; lossy codecs can overshoot, so the encoded
   files are decoded again and the prompt lowered further until the decoded peaks obey;
7. FLAC files of a prompt are padded to one byte size, so Content-Length says nothing;
8. catch stimuli (`prepare_prompt_with_catch`) are copies that differ from every other file in
   bytes but not audibly: FLAC copies carry their own sub-LSB dither, Opus copies another
   Ogg serial number, MP3 copies another pattern of frame-header private bits.
Measurements (`loudness_lufs`, `true_peak_dbtp`, duration) are taken from the decoded
result, i.e. from what panelists hear.
"""

from dataclasses import dataclass, replace

import numpy as np
import pyloudnorm
from scipy.signal import lfilter

from evaluation.stimuli.audio import (
    SILENCE_LUFS,
    AudioError,
    Decoded,
    apply_gain,
    clipped_fraction,
    decode_bytes,
    encode,
    excerpt,
    flac_pad_to,
    integrated_loudness,
    low_pass,
    mp3_with_private_bits,
    ogg_with_serial,
    resample,
    to_stereo,
    tpdf_dither,
    true_peak_dbtp,
)

MAX_CLIPPED_FRACTION = 0.01
# Section finder: candidate starts every HOP_S; among starts whose quieter track is within
# FINDER_TOLERANCE_DB of the best, the earliest wins (prefers the opening over a late peak).
FINDER_HOP_S = 0.5
FINDER_TOLERANCE_DB = 0.5
# Lossy encoders overshoot; each retry lowers the prompt by the overshoot plus this margin.
PEAK_RETRY_MARGIN_DB = 0.1
MAX_PEAK_RETRIES = 4
# 24-bit FLAC rounding moves a peak set exactly at the ceiling by far less than this.
QUANTIZATION_DB = 0.005
# A decoded stimulus further than this from its level is corrected and encoded again.
LOUDNESS_DRIFT_LU = 0.1


class TrackAudioError(AudioError):
    """An AudioError about one track of a prompt; `index` is its position in the input."""

    def __init__(self, index: int, reason: str):
        super().__init__(reason)
        self.index = index


@dataclass(frozen=True)
class MatchSettings:
    sample_rate: int = 48000
    excerpt_s: float = 20.0
    target_lufs: float = -23.0
    max_true_peak_dbtp: float = -1.0
    excerpt_start_s: float | None = None  # None: the section finder chooses per prompt
    fade_s: float = 0.05
    codec: str = "flac"
    bitrate_kbps: int = 192


@dataclass(frozen=True)
class PreparedAudio:
    samples: np.ndarray  # float32 [2, n], gain applied
    sample_rate: int
    excerpt_start_s: float
    loudness_lufs: float  # measured after gain
    true_peak_dbtp: float  # measured after gain
    gain_db: float  # total gain applied, peak reduction included
    peak_reduction_db: float = 0.0  # how far below the target the whole prompt was lowered

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate


@dataclass(frozen=True)
class EncodedStimulus:
    """One encoded stimulus and what was measured on its decoded audio."""

    content: bytes
    codec: str
    bitrate_kbps: int  # nominal; 0 for FLAC
    sample_rate: int
    channels: int
    duration_s: float
    excerpt_start_s: float
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float
    peak_reduction_db: float


def check_usable(decoded: Decoded, index: int = 0) -> None:
    """Raise TrackAudioError for silent or heavily clipped input."""
    if float(np.max(np.abs(decoded.samples))) == 0.0:
        raise TrackAudioError(index, "is silent (every sample is zero)")
    share = clipped_fraction(decoded.samples)
    if share > MAX_CLIPPED_FRACTION:
        raise TrackAudioError(
            index,
            f"is heavily clipped ({100 * share:.1f}% of samples at full scale; at most "
            f"{100 * MAX_CLIPPED_FRACTION:.0f}% is accepted): use an unclipped master",
        )


def check_long_enough(tracks: list[Decoded], settings: MatchSettings) -> None:
    """Every track must hold the whole excerpt: shorter tracks are refused, never padded."""
    start = settings.excerpt_start_s or 0.0
    needed = start + settings.excerpt_s
    for index, decoded in enumerate(tracks):
        if decoded.duration_s < needed:
            where = f" from {start:g} s" if start else ""
            raise TrackAudioError(
                index,
                f"is too short: {decoded.duration_s:.2f} s, but the study's excerpt needs "
                f"{settings.excerpt_s:g} s{where}; shorten the study's excerpt or replace it",
            )


def k_weighted_power(samples: np.ndarray, rate: int) -> np.ndarray:
    """BS.1770 K-weighted power summed over channels, per sample: float64 `[n]`."""
    meter = pyloudnorm.Meter(rate)
    weighted = samples.astype(np.float32)  # float32: a level estimate, twice as fast
    for stage in meter._filters.values():  # the high shelf and high pass of BS.1770
        weighted = lfilter(stage.b.astype(np.float32), stage.a.astype(np.float32), weighted, axis=1)
    return np.sum(weighted.astype(np.float64) ** 2, axis=0)


def find_excerpt_start(tracks: list[np.ndarray], rate: int, length_s: float) -> float:
    """The one start (seconds) used for every track of a prompt.

    For each candidate start (every FINDER_HOP_S), the K-weighted loudness of the window is
    measured in every track; a start scores the level of its quietest track, so the window is
    one where all tracks play, not a fade-in or a gap in one of them. The earliest start within
    FINDER_TOLERANCE_DB of the best score wins. `tracks`: float32 `[channels, n]` at `rate`.
    """
    length = int(round(length_s * rate))
    hop = int(round(FINDER_HOP_S * rate))
    shortest = min(track.shape[1] for track in tracks)
    if shortest <= length:
        return 0.0
    starts = np.arange(0, shortest - length + 1, hop)
    scores = np.full(len(starts), np.inf)
    for track in tracks:
        cumulative = np.concatenate([[0.0], np.cumsum(k_weighted_power(track, rate))])
        energy = (cumulative[starts + length] - cumulative[starts]) / length
        scores = np.minimum(scores, 10 * np.log10(np.maximum(energy, 1e-12)))
    best = float(np.max(scores))
    chosen = int(np.flatnonzero(scores >= best - FINDER_TOLERANCE_DB)[0])
    return float(starts[chosen] / rate)


def match_tracks(tracks: list[Decoded], settings: MatchSettings) -> list[PreparedAudio]:
    """Prepare all tracks of one prompt together so that they are matched to each other.

    Raises TrackAudioError naming the index of the track that cannot be used.
    """
    if not tracks:
        return []
    for index, decoded in enumerate(tracks):
        check_usable(decoded, index)
    check_long_enough(tracks, settings)
    rate = settings.sample_rate
    full = [resample(to_stereo(t.samples), t.sample_rate, rate) for t in tracks]
    start_s = settings.excerpt_start_s
    if start_s is None:
        start_s = find_excerpt_start(full, rate, settings.excerpt_s)
    cuts = [excerpt(audio, rate, start_s, settings.excerpt_s, settings.fade_s) for audio in full]
    loudness = [integrated_loudness(cut, rate) for cut in cuts]
    for index, measured in enumerate(loudness):
        if measured <= SILENCE_LUFS:
            raise TrackAudioError(
                index,
                f"is silent in the excerpt ({start_s:g} s to {start_s + settings.excerpt_s:g} s)",
            )
    gains = [settings.target_lufs - measured for measured in loudness]
    peaks = [true_peak_dbtp(cut) + gain for cut, gain in zip(cuts, gains, strict=True)]
    # Aim a hair below the ceiling so that 24-bit rounding cannot lift a peak above it.
    reduction = max(0.0, max(peaks) - (settings.max_true_peak_dbtp - QUANTIZATION_DB))
    # Gain is linear, so the levels after it follow from those before it; the encoded
    # stimuli are measured again anyway (encode_group).
    return [
        PreparedAudio(
            samples=apply_gain(cut, gain - reduction),
            sample_rate=rate,
            excerpt_start_s=start_s,
            loudness_lufs=settings.target_lufs - reduction,
            true_peak_dbtp=peak - reduction,
            gain_db=gain - reduction,
            peak_reduction_db=reduction,
        )
        for cut, gain, peak in zip(cuts, gains, peaks, strict=True)
    ]


def make_anchor(reference: PreparedAudio, settings: MatchSettings) -> PreparedAudio:
    """The MUSHRA low-quality anchor: the reference excerpt low-passed at 3.5 kHz, brought to
    the reference's loudness (lowered further only if its own true peak would pass the
    ceiling)."""
    rate = reference.sample_rate
    filtered = low_pass(reference.samples, rate)
    gain = reference.loudness_lufs - integrated_loudness(filtered, rate)
    overshoot = max(0.0, true_peak_dbtp(filtered) + gain - settings.max_true_peak_dbtp)
    leveled = apply_gain(filtered, gain - overshoot)
    return PreparedAudio(
        samples=leveled,
        sample_rate=rate,
        excerpt_start_s=reference.excerpt_start_s,
        loudness_lufs=integrated_loudness(leveled, rate),
        true_peak_dbtp=true_peak_dbtp(leveled),
        gain_db=reference.gain_db + gain - overshoot,
        peak_reduction_db=reference.peak_reduction_db + overshoot,
    )


def _encode_measured(audio: PreparedAudio, settings: MatchSettings) -> EncodedStimulus:
    content = encode(audio.samples, audio.sample_rate, settings.codec, settings.bitrate_kbps)
    decoded, rate = decode_bytes(content, settings.codec)
    return EncodedStimulus(
        content=content,
        codec=settings.codec,
        bitrate_kbps=0 if settings.codec == "flac" else settings.bitrate_kbps,
        sample_rate=rate,
        channels=int(decoded.shape[0]),
        duration_s=decoded.shape[1] / rate,
        excerpt_start_s=audio.excerpt_start_s,
        loudness_lufs=integrated_loudness(decoded, rate),
        true_peak_dbtp=true_peak_dbtp(decoded),
        gain_db=audio.gain_db,
        peak_reduction_db=audio.peak_reduction_db,
    )


def _regained(audio: PreparedAudio, gain_db: float, reduction_db: float) -> PreparedAudio:
    return replace(
        audio,
        samples=apply_gain(audio.samples, gain_db),
        gain_db=audio.gain_db + gain_db,
        peak_reduction_db=audio.peak_reduction_db + reduction_db,
    )


def encode_group(group: list[PreparedAudio], settings: MatchSettings) -> list[EncodedStimulus]:
    """Encode the stimuli of one prompt and check them decoded: a lossy codec can move the
    loudness (each track is corrected towards its level) and overshoot the peak ceiling (the
    whole group is lowered together), so encoding repeats until both hold or MAX_PEAK_RETRIES
    is spent. FLAC files are then padded to one size."""
    encoded = [_encode_measured(audio, settings) for audio in group]
    for _ in range(MAX_PEAK_RETRIES):
        overshoot = max(e.true_peak_dbtp for e in encoded) - settings.max_true_peak_dbtp
        lower = overshoot + PEAK_RETRY_MARGIN_DB if overshoot > QUANTIZATION_DB else 0.0
        drift = [
            settings.target_lufs - audio.peak_reduction_db - e.loudness_lufs
            for audio, e in zip(group, encoded, strict=True)
        ]
        if not lower and max(abs(d) for d in drift) <= LOUDNESS_DRIFT_LU:
            break
        group = [_regained(audio, d - lower, lower) for audio, d in zip(group, drift, strict=True)]
        encoded = [_encode_measured(audio, settings) for audio in group]
    if settings.codec == "flac":
        size = max(len(e.content) for e in encoded) + 4
        encoded = [replace(e, content=flac_pad_to(e.content, size)) for e in encoded]
    return encoded


def prepare_prompt(
    tracks: list[Decoded], settings: MatchSettings, anchor_of: int | None = None
) -> tuple[list[EncodedStimulus], EncodedStimulus | None]:
    """The whole pipeline for one prompt: one encoded stimulus per track (same order), and,
    when `anchor_of` names a track (the human reference), its low-quality anchor."""
    prepared = match_tracks(tracks, settings)
    group = list(prepared)
    if anchor_of is not None:
        group.append(make_anchor(prepared[anchor_of], settings))
    encoded = encode_group(group, settings)
    if anchor_of is not None:
        return encoded[:-1], encoded[-1]
    return encoded, None


@dataclass(frozen=True)
class CatchStimuli:
    """The catch stimuli of one prompt: the low-passed anchor and the unfiltered copy it is
    heard against (both of one track), and two copies of one track for the identical pair.
    Every one differs in bytes from every regular stimulus and from each other."""

    anchor: EncodedStimulus
    full: EncodedStimulus
    twin_1: EncodedStimulus
    twin_2: EncodedStimulus


def _marked_copy(encoded: EncodedStimulus, mark: int) -> EncodedStimulus:
    """A lossy stimulus under other bytes with the very same packets (decoded identical)."""
    if encoded.codec == "opus":
        # Serial numbers of the regular files are 0 (bitexact); catch copies use 1, 2, 3.
        return replace(encoded, content=ogg_with_serial(encoded.content, mark))
    if encoded.codec == "mp3":
        return replace(encoded, content=mp3_with_private_bits(encoded.content, mark))
    raise AudioError(f"no marked copy for codec {encoded.codec!r}")


def prepare_prompt_with_catch(
    tracks: list[Decoded],
    settings: MatchSettings,
    *,
    anchor_of: int,
    twin_of: int,
    seed: int,
) -> tuple[list[EncodedStimulus], CatchStimuli]:
    """`prepare_prompt` plus the prompt's catch stimuli: the anchor of track `anchor_of` and
    an unfiltered copy of it, and two copies of track `twin_of`.

    FLAC copies are the track's prepared excerpt plus a TPDF dither of one 24-bit step,
    seeded from `seed` (a different seed per copy), encoded with the prompt so they share its
    gain and padded size; lossy copies are the regular file re-marked (`_marked_copy`),
    because a lossy encoder either drops so small a dither or turns it into different coding
    decisions. Raises AudioError if two files of the prompt still came out byte-identical."""
    prepared = match_tracks(tracks, settings)
    group = [*prepared, make_anchor(prepared[anchor_of], settings)]
    lossless = settings.codec == "flac"
    if lossless:
        group += [
            replace(prepared[index], samples=tpdf_dither(prepared[index].samples, seed + copy))
            for copy, index in enumerate((anchor_of, twin_of, twin_of), start=1)
        ]
    encoded = encode_group(group, settings)
    regular, anchor = encoded[: len(tracks)], encoded[len(tracks)]
    if lossless:
        full, twin_1, twin_2 = encoded[len(tracks) + 1 :]
    else:
        full = _marked_copy(regular[anchor_of], 1)
        twin_1 = _marked_copy(regular[twin_of], 2)
        twin_2 = _marked_copy(regular[twin_of], 3)
    catch = CatchStimuli(anchor=anchor, full=full, twin_1=twin_1, twin_2=twin_2)
    contents = [e.content for e in (*regular, anchor, full, twin_1, twin_2)]
    if len(set(contents)) != len(contents):
        raise AudioError("two of its stimuli came out byte-identical (duplicate tracks?)")
    return regular, catch

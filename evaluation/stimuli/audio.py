"""Decoding, channel policy, resampling, excerpting, loudness and encoding of audio.

Arrays are float32 `[channels, n]` with samples in [-1, 1]; sample rates in Hz; levels in
LUFS (integrated loudness, ITU-R BS.1770 via pyloudnorm) and dBTP (true peak, 4x oversampled).
"""

import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile
import soxr
from scipy.signal import resample_poly

ACCEPTED_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".m4a"}
# Formats libsndfile decodes itself; the rest go through the ffmpeg binary of imageio-ffmpeg.
_SOUNDFILE_EXTENSIONS = {".wav", ".flac", ".ogg", ".mp3"}
SILENCE_LUFS = -70.0


class AudioError(ValueError):
    """A file that cannot be used as a stimulus; the message says why in plain words."""


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # float32 [channels, n]
    sample_rate: int
    format: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _decode_with_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    probe = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "wav", "-acodec", "pcm_f32le", "-"],
        capture_output=True,
        timeout=300,
        env={**os.environ, "AV_LOG_FORCE_NOCOLOR": "1"},
    )
    if probe.returncode != 0 or not probe.stdout:
        reason = probe.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(f"not decodable audio ({reason[-1] if reason else 'ffmpeg failed'})")
    data, rate = soundfile.read(io.BytesIO(probe.stdout), dtype="float32", always_2d=True)
    return data, rate


def decode(path: str | Path) -> Decoded:
    """Read an audio file into float32 `[channels, n]`; raises AudioError with the reason."""
    path = Path(path)
    extension = path.suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        accepted = ", ".join(sorted(ACCEPTED_EXTENSIONS))
        raise AudioError(f"unsupported file type {extension or '(none)'}; accepted: {accepted}")
    if not path.is_file():
        raise AudioError("file not found")
    try:
        if extension in _SOUNDFILE_EXTENSIONS:
            data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        else:
            data, rate = _decode_with_ffmpeg(path)
    except AudioError:
        raise
    except Exception as exc:  # libsndfile raises several types for a corrupt file
        raise AudioError(f"not readable as {extension[1:].upper()} audio ({exc})") from exc
    if data.shape[0] == 0:
        raise AudioError("contains no audio samples")
    if not np.all(np.isfinite(data)):
        raise AudioError("contains invalid (NaN or infinite) samples")
    return Decoded(np.ascontiguousarray(data.T), int(rate), extension[1:])


def to_stereo(samples: np.ndarray) -> np.ndarray:
    """Mono is duplicated to two channels; more than two channels are down-mixed to L/R."""
    if samples.shape[0] == 2:
        return samples
    if samples.shape[0] == 1:
        return np.repeat(samples, 2, axis=0)
    return np.stack([samples[0::2].mean(axis=0), samples[1::2].mean(axis=0)]).astype(np.float32)


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """High-quality resampling (soxr VHQ) of `[channels, n]` from `rate` to `target_rate` Hz."""
    if rate == target_rate:
        return samples
    out = soxr.resample(samples.T, rate, target_rate, quality="VHQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def excerpt(samples: np.ndarray, rate: int, start_s: float, length_s: float, fade_s: float = 0.05):
    """Cut `length_s` seconds from `start_s` with raised-cosine fades of `fade_s` at both ends."""
    start = int(round(start_s * rate))
    length = int(round(length_s * rate))
    cut = samples[:, start : start + length].astype(np.float32, copy=True)
    if cut.shape[1] < length:
        raise AudioError(f"shorter than the excerpt ({cut.shape[1] / rate:.2f} s < {length_s} s)")
    fade = min(int(round(fade_s * rate)), length // 2)
    if fade > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))).astype(np.float32)
        cut[:, :fade] *= ramp
        cut[:, -fade:] *= ramp[::-1]
    return cut


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """ITU-R BS.1770-4 integrated loudness in LUFS; -inf-like silence is clipped to -70."""
    meter = pyloudnorm.Meter(rate)
    loudness = float(meter.integrated_loudness(samples.T.astype(np.float64)))
    return max(loudness, SILENCE_LUFS) if np.isfinite(loudness) else SILENCE_LUFS


def true_peak_dbtp(samples: np.ndarray) -> float:
    """True peak in dBTP: the maximum of the 4x-oversampled signal (BS.1770 Annex 2)."""
    oversampled = resample_poly(samples.astype(np.float64), 4, 1, axis=1)
    peak = float(np.max(np.abs(oversampled)))
    return 20.0 * np.log10(peak) if peak > 0 else -np.inf


def clipped_fraction(samples: np.ndarray, threshold: float = 0.999) -> float:
    """Share of samples at or beyond full scale (a sign of heavy clipping)."""
    return float(np.mean(np.abs(samples) >= threshold))


def apply_gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    return (samples * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def encode_flac(samples: np.ndarray, rate: int) -> bytes:
    """24-bit FLAC with no tags (libsndfile writes none unless asked)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples.T, rate, format="FLAC", subtype="PCM_24")
    return buffer.getvalue()

"""Decoding, channel policy, resampling, excerpting, loudness and encoding of audio.

Arrays are float32 `[channels, n]` with samples in [-1, 1]; sample rates in Hz; levels in
LUFS (integrated loudness, ITU-R BS.1770 via pyloudnorm) and dBTP (true peak, 4x oversampled).
"""

import hashlib
import io
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile
import soxr
from scipy.signal import butter, firwin, oaconvolve, sosfiltfilt

ACCEPTED_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".m4a"}
# Formats libsndfile decodes itself; the rest go through the ffmpeg binary of imageio-ffmpeg.
_SOUNDFILE_EXTENSIONS = {".wav", ".flac", ".ogg", ".mp3"}
SILENCE_LUFS = -70.0
# A decoded file shorter than its header promises by more than this share is truncated.
TRUNCATION_TOLERANCE = 0.01
CODEC_EXTENSIONS = {"flac": "flac", "opus": "opus", "mp3": "mp3"}
CODEC_CONTENT_TYPES = {"flac": "audio/flac", "opus": "audio/ogg", "mp3": "audio/mpeg"}


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


def _decode_with_soundfile(path: Path) -> tuple[np.ndarray, int]:
    """Read with libsndfile, refusing files that end before their header says they do."""
    with soundfile.SoundFile(str(path)) as handle:
        declared = handle.frames
        rate = handle.samplerate
        # libsndfile reads a short WAV without complaint but notes the size mismatch.
        if "should be" in handle.extra_info and handle.format in ("WAV", "WAVEX", "RF64"):
            raise AudioError(
                "is truncated: the file ends before the audio its header declares "
                f"({declared / rate:.2f} s)"
            )
        data = handle.read(dtype="float32", always_2d=True)
    if declared > 0 and data.shape[0] < declared * (1 - TRUNCATION_TOLERANCE):
        raise AudioError(
            f"is truncated: {data.shape[0] / rate:.2f} s decoded of the "
            f"{declared / rate:.2f} s its header declares"
        )
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
            data, rate = _decode_with_soundfile(path)
        else:
            data, rate = _decode_with_ffmpeg(path)
    except AudioError:
        raise
    except Exception as exc:  # libsndfile raises several types for a corrupt file
        kind = extension[1:].upper()
        raise AudioError(
            f"not readable as {kind} audio: corrupt, truncated or not a {kind} file ({exc})"
        ) from exc
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


# BS.1770-4 Annex 2: 4x oversampling through a 48-tap (12 taps per phase) low-pass FIR.
_TRUE_PEAK_FILTER = (firwin(48, 0.25, window=("kaiser", 5.0)) * 4).astype(np.float32)


def true_peak_dbtp(samples: np.ndarray) -> float:
    """True peak in dBTP of float32 `[channels, n]`: the largest magnitude of the signal
    oversampled 4x (each of the 4 polyphase branches filtered separately; BS.1770 Annex 2)."""
    samples = samples.astype(np.float32, copy=False)
    peak = max(
        float(np.max(np.abs(oaconvolve(samples, _TRUE_PEAK_FILTER[phase::4][None, :], axes=1))))
        for phase in range(4)
    )
    return 20.0 * np.log10(peak) if peak > 0 else -np.inf


def clipped_fraction(samples: np.ndarray, threshold: float = 0.999) -> float:
    """Share of samples at or beyond full scale (a sign of heavy clipping)."""
    return float(np.mean(np.abs(samples) >= threshold))


def apply_gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    return (samples * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def audio_fingerprint(samples: np.ndarray, rate: int) -> str:
    """SHA-256 (64 hex digits) of decoded audio: float32 `[channels, n]` samples with their
    rate and channel count. The same audio stored as WAV or FLAC, or with other tags, has the
    same fingerprint; a different excerpt, level or rate does not."""
    header = f"{int(rate)}:{samples.shape[0]}:".encode()
    body = np.ascontiguousarray(samples, dtype="<f4").tobytes()
    return hashlib.sha256(header + body).hexdigest()


def encode_flac(samples: np.ndarray, rate: int) -> bytes:
    """24-bit FLAC with no tags (libsndfile writes none unless asked)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples.T, rate, format="FLAC", subtype="PCM_24")
    return buffer.getvalue()


def decode_bytes(content: bytes, codec: str) -> tuple[np.ndarray, int]:
    """Decode an encoded stimulus held in memory into float32 `[channels, n]` and its rate."""
    if codec == "flac":
        data, rate = soundfile.read(io.BytesIO(content), dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T), int(rate)
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-f", "wav", "-acodec", "pcm_f32le", "-"],
        input=content,
        capture_output=True,
        timeout=300,
    )
    if result.returncode != 0 or not result.stdout:
        raise AudioError(f"the encoded {codec} stimulus is not decodable")
    data, rate = soundfile.read(io.BytesIO(result.stdout), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), int(rate)


def encode(samples: np.ndarray, rate: int, codec: str, bitrate_kbps: int = 192) -> bytes:
    """Encode float32 `[channels, n]` at `rate` Hz to FLAC (24-bit), Opus or MP3 (both CBR at
    `bitrate_kbps`), with no tags: no title, artist, encoder name or cover in the result."""
    if codec == "flac":
        return encode_flac(samples, rate)
    wav = io.BytesIO()
    soundfile.write(wav, samples.T, rate, format="WAV", subtype="FLOAT")
    codec_args = {
        # Hard CBR: every packet the same size, so file size follows duration only.
        "opus": ["-c:a", "libopus", "-vbr", "off", "-application", "audio", "-f", "ogg"],
        "mp3": ["-c:a", "libmp3lame", "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3"],
    }
    if codec not in codec_args:
        raise AudioError(f"unknown codec {codec!r}; choose one of flac, opus, mp3")
    command = [
        ffmpeg_exe(), "-v", "error", "-f", "wav", "-i", "pipe:0",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", "-flags:a", "+bitexact", "-metadata:s:a:0", "encoder=",
        *codec_args[codec], "-b:a", f"{bitrate_kbps}k", "pipe:1",
    ]  # fmt: skip
    result = subprocess.run(command, input=wav.getvalue(), capture_output=True, timeout=300)
    if result.returncode != 0 or not result.stdout:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(f"{codec} encoding failed ({reason[-1] if reason else 'ffmpeg failed'})")
    return result.stdout


def flac_pad_to(content: bytes, size: int) -> bytes:
    """Append a FLAC PADDING metadata block so the file is exactly `size` bytes.

    Tracks of one prompt compress differently; equal sizes keep Content-Length from telling
    systems apart. Needs `size >= len(content) + 4` (the block header is 4 bytes).
    """
    extra = size - len(content) - 4
    if not content.startswith(b"fLaC") or extra < 0 or extra >= 1 << 24:
        raise ValueError(f"cannot pad a {len(content)}-byte FLAC file to {size} bytes")
    offset = 4
    while True:
        header = content[offset]
        length = int.from_bytes(content[offset + 1 : offset + 4], "big")
        if header & 0x80:  # the last metadata block: the padding goes after it
            break
        offset += 4 + length
    end = offset + 4 + length
    last_cleared = bytes([header & 0x7F])
    padding = bytes([0x80 | 1]) + extra.to_bytes(3, "big") + bytes(extra)
    return content[:offset] + last_cleared + content[offset + 1 : end] + padding + content[end:]


def container_codec(content: bytes) -> str:
    """The codec a stimulus file really holds, from its first bytes: flac, opus, mp3 or ''."""
    if content.startswith(b"fLaC"):
        return "flac"
    if content.startswith(b"OggS") and b"OpusHead" in content[:128]:
        return "opus"
    if content.startswith(b"ID3") or (
        len(content) > 1 and content[0] == 0xFF and content[1] & 0xE0 == 0xE0
    ):
        return "mp3"
    return ""


def metadata_tags(path: str | Path) -> dict[str, str]:
    """Every tag ffmpeg finds in a file (container and audio stream), as its ffmetadata
    output lists them; an empty dict means the file carries no metadata."""
    tags: dict[str, str] = {}
    for mapping in ("0", "0:s:a:0"):
        result = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map_metadata", mapping,
             "-fflags", "+bitexact", "-f", "ffmetadata", "-"],
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        for line in result.stdout.decode(errors="replace").splitlines():
            if line.startswith((";", "[", "#")) or "=" not in line:
                continue
            key, value = re.split(r"(?<!\\)=", line, maxsplit=1)
            # ffmetadata escapes = ; # \ and newlines with a backslash.
            tags[re.sub(r"\\(.)", r"\1", key).strip().lower()] = re.sub(r"\\(.)", r"\1", value)
    return tags


def low_pass(samples: np.ndarray, rate: int, cutoff_hz: float = 3500.0) -> np.ndarray:
    """Zero-phase 8th-order Butterworth low-pass of `[channels, n]` (the MUSHRA 3.5 kHz
    anchor); float32 out."""
    sos = butter(8, cutoff_hz, btype="low", fs=rate, output="sos")
    return sosfiltfilt(sos, samples.astype(np.float64), axis=1).astype(np.float32)


def _ogg_crc_table() -> list[int]:
    table = []
    for byte in range(256):
        register = byte << 24
        for _ in range(8):
            register = (register << 1) ^ 0x04C11DB7 if register & 0x80000000 else register << 1
        table.append(register & 0xFFFFFFFF)
    return table


_OGG_CRC_TABLE = _ogg_crc_table()


def ogg_page_crc(page: bytes) -> int:
    """The CRC-32 of an Ogg page (polynomial 0x04C11DB7, no reflection, initial 0), computed
    with the page's own CRC field read as zero (RFC 3533)."""
    crc = 0
    for index, byte in enumerate(page):
        if 22 <= index < 26:
            byte = 0
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC_TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def ogg_with_serial(content: bytes, serial: int) -> bytes:
    """The same Ogg stream under another bitstream serial number (every page's header and CRC
    rewritten): different bytes, the very same packets, so the decoded audio is identical."""
    out = bytearray(content)
    offset = 0
    while offset < len(out):
        if out[offset : offset + 4] != b"OggS" or offset + 27 > len(out):
            raise AudioError(f"is not a well-formed Ogg stream (no page at byte {offset})")
        segments = out[offset + 26]
        length = 27 + segments + sum(out[offset + 27 : offset + 27 + segments])
        if offset + length > len(out):
            raise AudioError(f"is a truncated Ogg stream (page at byte {offset})")
        out[offset + 14 : offset + 18] = serial.to_bytes(4, "little")
        crc = ogg_page_crc(bytes(out[offset : offset + length]))
        out[offset + 22 : offset + 26] = crc.to_bytes(4, "little")
        offset += length
    return bytes(out)


# MPEG-1 Layer III: kbit/s by bitrate index, Hz by sample-rate index (ISO/IEC 11172-3).
_MP3_BITRATES_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_RATES = (44100, 48000, 32000)


def mp3_with_private_bits(content: bytes, mark: int) -> bytes:
    """The same MP3 frames with the header's private bit (ignored by every decoder) set on
    frame k when bit k mod 32 of `mark` is set: different bytes, identical decoded audio.

    Needs MPEG-1 Layer III frames without CRC (what `encode` writes) and `mark` in 1..2³²−1."""
    if not 0 < mark < 1 << 32:
        raise ValueError(f"mark must be in 1..2**32-1, not {mark}")
    out = bytearray(content)
    offset = index = 0
    while offset < len(out):
        header = out[offset : offset + 4]
        # 0xFB: frame sync, MPEG-1, Layer III, no CRC (a CRC would cover the private bit).
        if len(header) < 4 or header[0] != 0xFF or header[1] != 0xFB:
            raise AudioError(f"is not a CRC-free MPEG-1 Layer III stream (byte {offset})")
        bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
        if bitrate_index in (0, 15) or rate_index == 3:
            raise AudioError(f"has an MP3 frame with a reserved bitrate or rate (byte {offset})")
        padding = (header[2] >> 1) & 1
        length = 144 * _MP3_BITRATES_KBPS[bitrate_index] * 1000 // _MP3_RATES[rate_index]
        if (mark >> (index % 32)) & 1:
            out[offset + 2] |= 0x01
        offset += length + padding
        index += 1
    return bytes(out)


def tpdf_dither(samples: np.ndarray, seed: int, lsb: float = 2.0**-23) -> np.ndarray:
    """`samples` plus triangular (TPDF) noise of ±1 `lsb` (default: one 24-bit step, about
    −141 dBFS RMS), seeded: float32 `[channels, n]` out."""
    rng = np.random.default_rng(seed)
    noise = (rng.random(samples.shape) - rng.random(samples.shape)) * lsb
    return (samples.astype(np.float64) + noise).astype(np.float32)

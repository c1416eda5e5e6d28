"""The ``http`` backend: a lab's own model server, asked over HTTP for finished audio.

The server receives ``POST <url>`` with a JSON body

    {"prompt": {"prompt_id": "bach/bwv269", "text": "Soprano melody of BWV 269 (...)",
                "key": "G major", "meter": "3/4", "bar_offset": 8, "steps": 252,
                "grid": "16th note", "soprano": [pitch, length, ...], "fermatas": [start, length,
                ...], "duration_s": 49.7},
     "seed": 123456}

(``soprano`` as run-length MIDI pitches on the 16th-note grid, 0 = rest; ``duration_s`` the
length the shared renderer gives the human reference) and must answer 200 with a WAV, FLAC or
OGG body. Timeouts, connection errors and 5xx answers are retried with a growing pause; a 4xx
answer, a body over ``max_bytes`` or a body that is not audio fails at once with a message
that says what came back. Importing audio that already exists stays in ``import_tracks``.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import numpy as np
import soundfile

from generation.dataset import Chorale, encode_runs
from generation.render import DEFAULT_SETTINGS, rendered_length

USER_AGENT = "earshot-generation/1"


class HttpBackendError(Exception):
    """The model server could not be reached or did not answer with usable audio."""


@dataclass(frozen=True, eq=False)
class HttpAudio:
    """What the server sent: ``content`` bytes as received (``format`` "WAV" | "FLAC" |
    "OGG"), decoded ``samples`` float32 [channels, n] at ``sample_rate`` Hz, and provenance."""

    content: bytes
    format: str
    samples: np.ndarray
    sample_rate: int
    provenance: dict

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate


def prompt_payload(chorale: Chorale, *, text: str) -> dict:
    """The JSON prompt for one chorale melody (see the module docstring)."""
    starts = np.flatnonzero(np.diff(np.concatenate(([0], chorale.fermatas.astype(int)))) == 1)
    ends = np.flatnonzero(np.diff(np.concatenate((chorale.fermatas.astype(int), [0]))) == -1) + 1
    return {
        "prompt_id": chorale.chorale_id,
        "text": text,
        "key": chorale.key_name,
        "meter": chorale.meter,
        "bar_offset": chorale.bar_offset,
        "steps": chorale.steps,
        "grid": "16th note",
        "soprano": encode_runs(chorale.pitches[0], chorale.onsets[0]),
        "fermatas": [int(v) for s, e in zip(starts, ends, strict=True) for v in (s, e - s)],
        "duration_s": round(rendered_length(chorale.fermatas) / DEFAULT_SETTINGS.sample_rate, 3),
    }


class HttpBackend:
    """POSTs prompts to ``url``; see the module docstring for the protocol and failures."""

    name = "http"
    version = "1"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 1.0,
        max_bytes: int = 100 * 1024 * 1024,
    ):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the HTTP backend URL must start with http:// or https://: {url!r}")
        self.url = url
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_bytes = max_bytes

    def describe(self) -> dict:
        return {"system": self.name, "system_version": self.version, "url": self.url}

    def generate(self, prompt: dict, *, seed: int) -> HttpAudio:
        """Ask the server for one track; raises :class:`HttpBackendError` on any failure."""
        body = json.dumps({"prompt": prompt, "seed": seed}).encode("utf-8")
        attempts = self.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                content, content_type = self._post(body)
            except _Retryable as exc:
                problem = str(exc)
                continue
            return self._decode(content, content_type, prompt=prompt, seed=seed)
        raise HttpBackendError(f"{self.url}: {problem} (gave up after {attempts} attempt(s))")

    def _post(self, body: bytes) -> tuple[bytes, str]:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and int(declared) > self.max_bytes:
                    raise HttpBackendError(self._too_large(int(declared)))
                content = response.read(self.max_bytes + 1)
                if len(content) > self.max_bytes:
                    raise HttpBackendError(self._too_large(len(content)))
                return content, response.headers.get("Content-Type", "unknown")
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip()
            if exc.code >= 500:
                raise _Retryable(f"server error {exc.code}: {detail}") from exc
            raise HttpBackendError(
                f"{self.url} refused the prompt with HTTP {exc.code}: {detail}"
            ) from exc
        except TimeoutError as exc:
            raise _Retryable(f"no answer within {self.timeout_s} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retryable(f"no answer within {self.timeout_s} s") from exc
            raise _Retryable(f"cannot connect: {exc.reason}") from exc
        except ConnectionError as exc:
            raise _Retryable(f"connection failed: {exc}") from exc

    def _too_large(self, size: int) -> str:
        return (
            f"{self.url} sent {size} bytes, over the {self.max_bytes}-byte limit; "
            f"raise max_bytes or send shorter audio"
        )

    def _decode(self, content: bytes, content_type: str, *, prompt: dict, seed: int) -> HttpAudio:
        try:
            with soundfile.SoundFile(io.BytesIO(content)) as handle:
                audio_format = handle.format
                sample_rate = handle.samplerate
                samples = handle.read(dtype="float32", always_2d=True).T
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
            raise HttpBackendError(
                f"{self.url} answered {len(content)} bytes of {content_type!r} that are not "
                f"audio (they start with {content[:40]!r}); the server must answer with a "
                f"WAV, FLAC or OGG body"
            ) from exc
        if samples.shape[1] == 0:
            raise HttpBackendError(f"{self.url} answered an audio file with no samples")
        if not np.isfinite(samples).all():
            raise HttpBackendError(f"{self.url} answered audio with NaN or infinite samples")
        return HttpAudio(
            content=content,
            format=audio_format,
            samples=samples,
            sample_rate=int(sample_rate),
            provenance={**self.describe(), "seed": seed, "prompt_id": prompt.get("prompt_id")},
        )


class _Retryable(Exception):
    """A failure worth another attempt (timeout, connection error, 5xx)."""

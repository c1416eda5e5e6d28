"""Serving stimulus audio without revealing anything: no file name, identical headers for A
and B (only Content-Length and Content-Range carry numbers, and those match too: the files of
a pair have the same size), and HTTP Range support for players that seek.

Caching: `max_age_s` 0 gives ``no-store``; the listener's per-trial URLs pass a positive age
(``private, max-age=…, immutable``): they are unguessable, per-panelist and never change
content, so the browser may keep the audio and a reload of the trial page does not download
it again. Both sides of a trial get the same value."""

import re
from collections.abc import Callable

from django.http import HttpResponse

from evaluation.models import Stimulus
from evaluation.selectors.media import media_read_range, media_size
from evaluation.stimuli.audio import CODEC_CONTENT_TYPES

RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, end) inclusive for a single satisfiable range; None for no (or an ignorable,
    e.g. multi-range) header, which gets the whole file; False when unsatisfiable (416)."""
    match = RANGE_PATTERN.match(header.strip()) if header else None
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), int(last) if last else size - 1
    else:
        start, end = max(size - int(last), 0), size - 1
    end = min(end, size - 1)
    if start > end or start >= size:
        return False
    return start, end


def stimulus_response(stimulus: Stimulus, request, *, max_age_s: int = 0) -> HttpResponse:
    """A 200 with the whole file, a 206 for one satisfiable byte range, else a 416; reads
    only the requested bytes from storage (local disk or, a ranged GET, an S3 bucket): the
    listener never gets a storage URL."""
    content_type = CODEC_CONTENT_TYPES.get(stimulus.codec, "application/octet-stream")
    return ranged_response(
        media_size(stimulus.file),
        lambda start, length: media_read_range(stimulus.file, start, length),
        content_type,
        request,
        max_age_s=max_age_s,
    )


def audio_bytes_response(
    body: bytes, content_type: str, request, *, max_age_s: int = 0
) -> HttpResponse:
    """Audio made in memory (the headphone check's items), served like a stimulus."""
    return ranged_response(
        len(body),
        lambda start, length: body[start : start + length],
        content_type,
        request,
        max_age_s=max_age_s,
    )


def ranged_response(
    size: int,
    read: Callable[[int, int], bytes],
    content_type: str,
    request,
    *,
    max_age_s: int = 0,
) -> HttpResponse:
    """A 200 with all `size` bytes, a 206 for one satisfiable byte range, else a 416, with
    the blind headers; `read(start, length)` gives the bytes (not called for HEAD)."""
    wanted = byte_range(request.headers.get("Range", ""), size)
    if wanted is False:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        return _blind_headers(response, 0)
    start, end = wanted or (0, size - 1)
    body = read(start, end - start + 1) if request.method != "HEAD" else b""
    response = HttpResponse(body, status=206 if wanted else 200, content_type=content_type)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return _blind_headers(response, max_age_s)


def served_range(response: HttpResponse) -> tuple[int, int] | None:
    """The bytes (first, last inclusive) a stimulus response carries; None when it carries
    none (HEAD, 416)."""
    length = int(response.get("Content-Length", "0") or 0)
    if response.status_code == 200 and len(response.content) == length and length:
        return 0, length - 1
    if response.status_code == 206 and len(response.content) == length:
        first = int(response["Content-Range"].split(" ", 1)[1].split("-", 1)[0])
        return first, first + length - 1
    return None


def _blind_headers(response: HttpResponse, max_age_s: int) -> HttpResponse:
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = (
        f"private, max-age={max_age_s}, immutable" if max_age_s > 0 else "no-store, private"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response

"""Serving stimulus audio without revealing anything: no file name, identical headers for A
and B (only Content-Length and Content-Range carry numbers, and those match too: the files of
a pair have the same size), no caching, and HTTP Range support for players that seek."""

import re

from django.http import HttpResponse

from evaluation.models import Stimulus
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


def stimulus_response(stimulus: Stimulus, request) -> HttpResponse:
    """A 200 with the whole file, a 206 for one satisfiable byte range, else a 416; reads
    only the requested bytes from storage."""
    content_type = CODEC_CONTENT_TYPES.get(stimulus.codec, "application/octet-stream")
    with stimulus.file.open("rb") as handle:
        size = stimulus.file.size
        wanted = byte_range(request.headers.get("Range", ""), size)
        if wanted is False:
            response = HttpResponse(status=416, content_type=content_type)
            response["Content-Range"] = f"bytes */{size}"
            return _blind_headers(response)
        start, end = wanted or (0, size - 1)
        handle.seek(start)
        body = handle.read(end - start + 1) if request.method != "HEAD" else b""
    response = HttpResponse(body, status=206 if wanted else 200, content_type=content_type)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return _blind_headers(response)


def audio_bytes_response(body: bytes, content_type: str, request) -> HttpResponse:
    """Audio made in memory (the headphone check's items), served like a stimulus: a 200, a
    206 for one satisfiable byte range, else a 416, with the same blind headers."""
    size = len(body)
    wanted = byte_range(request.headers.get("Range", ""), size)
    if wanted is False:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        return _blind_headers(response)
    start, end = wanted or (0, size - 1)
    part = body[start : end + 1] if request.method != "HEAD" else b""
    response = HttpResponse(part, status=206 if wanted else 200, content_type=content_type)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return _blind_headers(response)


def _blind_headers(response: HttpResponse) -> HttpResponse:
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response

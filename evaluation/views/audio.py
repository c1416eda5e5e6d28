"""Serving stimulus audio without revealing anything: no file name, identical headers for A
and B, no caching, and HTTP Range support for players that seek."""

import re

from django.http import HttpResponse

RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")


def audio_response(content: bytes, request, content_type: str = "audio/flac") -> HttpResponse:
    """A 200 with the whole file, or a 206 for a single satisfiable byte range (else 416)."""
    size = len(content)
    header = request.headers.get("Range", "").strip()
    match = RANGE_PATTERN.match(header) if header else None
    status, body, content_range = 200, content, None
    if header and match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start, end = int(first), int(last) if last else size - 1
        else:
            start, end = max(size - int(last), 0), size - 1
        end = min(end, size - 1)
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return _blind_headers(response)
        status, body, content_range = 206, content[start : end + 1], f"bytes {start}-{end}/{size}"
    response = HttpResponse(body, status=status, content_type=content_type)
    if content_range:
        response["Content-Range"] = content_range
    response["Accept-Ranges"] = "bytes"
    return _blind_headers(response)


def _blind_headers(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response

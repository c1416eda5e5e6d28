"""Reading stored media (tracks, stimuli) through Django's storage API, so the same code works
on local disk and on an S3-compatible bucket (docs/deploy.md).

Nothing outside this module asks a stored file for a filesystem path: a tool that needs one
(ffmpeg, soundfile) gets a temporary local copy; the audio view reads only the bytes of the
requested range."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db.models.fields.files import FieldFile

# Bytes copied at a time from storage to a temporary file.
COPY_CHUNK_BYTES = 1 << 20


def _local_path(file: FieldFile) -> Path | None:
    """The file's path when its storage is a local filesystem, else None."""
    try:
        return Path(file.storage.path(file.name))
    except NotImplementedError:  # remote storage (S3) has no path
        return None


@contextmanager
def media_local_path(file: FieldFile) -> Iterator[Path]:
    """A local filesystem path holding the stored file's bytes, for tools that need one.

    On local disk, the stored file itself (read only: never write to it); on remote storage, a
    temporary copy with the same extension (decoders guess the format from it), streamed in
    COPY_CHUNK_BYTES chunks and deleted when the block ends. FileNotFoundError when the
    storage has no such file."""
    local = _local_path(file)
    if local is not None:
        if not local.is_file():
            raise FileNotFoundError(f"{file.name} is missing from storage")
        yield local
        return
    suffix = Path(file.name).suffix
    handle, name = tempfile.mkstemp(prefix="earshot-media-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as copy, file.storage.open(file.name, "rb") as source:
            shutil.copyfileobj(source, copy, COPY_CHUNK_BYTES)
        yield Path(name)
    finally:
        os.unlink(name)


def media_size(file: FieldFile) -> int:
    """The stored file's size in bytes (a stat on disk, a HEAD request on S3)."""
    return file.storage.size(file.name)


def media_read_range(file: FieldFile, start: int, length: int) -> bytes:
    """`length` bytes of the stored file from byte `start` (0-based): only those bytes are
    read, from disk by seeking or from S3 by a ranged GET (never the whole object)."""
    if length <= 0:
        return b""
    storage = file.storage
    bucket = getattr(storage, "bucket", None)
    if bucket is not None and hasattr(storage, "_normalize_name"):
        from storages.utils import clean_name

        key = storage._normalize_name(clean_name(file.name))
        body = bucket.Object(key).get(Range=f"bytes={start}-{start + length - 1}")["Body"]
        try:
            return body.read()
        finally:
            body.close()
    with storage.open(file.name, "rb") as handle:
        handle.seek(start)
        return handle.read(length)

"""Keeping media files in step with database transactions."""

from contextlib import contextmanager

from django.core.files.storage import default_storage


@contextmanager
def files_removed_on_error():
    """Yield a list; names appended to it are deleted from storage if the block raises.

    A rolled-back transaction must not leave orphan audio behind ("nothing half stored").
    """
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise

"""Health probes for /healthz: can this process reach the database, the broker and media
storage right now? Each probe reports ok and its duration; a failure names only the kind
of error, never its text (a broker or database error can carry a URL with a password)."""

import logging
import secrets
import time
from collections.abc import Callable

from celery import current_app
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger(__name__)

# Seconds a broker connection attempt may take before the probe reports it as failing.
BROKER_TIMEOUT_S = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    with current_app.connection_for_write(connect_timeout=BROKER_TIMEOUT_S) as broker:
        broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)


def _storage() -> None:
    """Write, read back and delete a small probe file (what every import and job does)."""
    name = default_storage.save(f".healthz/probe-{secrets.token_hex(8)}", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("probe file read back different bytes")
    finally:
        default_storage.delete(name)


PROBES: dict[str, Callable[[], None]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
}


def health_check() -> dict:
    """``{"ok": bool, "checks": {name: {"ok": bool, "ms": float[, "error": str]}}}`` for
    database, broker and storage; ``ok`` only when every check passed."""
    checks = {}
    for name, probe in PROBES.items():
        started = time.perf_counter()
        try:
            probe()
        except Exception as exc:  # any failure is the answer, not a crash
            checks[name] = {"ok": False, "error": type(exc).__name__}
            logger.warning("health check %s failed: %s", name, type(exc).__name__)
        else:
            checks[name] = {"ok": True}
        checks[name]["ms"] = round(1000 * (time.perf_counter() - started), 1)
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks}

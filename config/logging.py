"""Structured logs: one JSON object per line, with the listener's secrets scrubbed.

Invite, trial and headphone-item tokens and resume codes travel in listener URLs
(``/p/<invite>/t/<trial>/a``, ``/p/<invite>/r/<code>``); whoever holds one can answer as that
listener, so no log line may carry one. The filter
rewrites every record's message (Django's ``django.request`` "Bad Request: /p/…" lines,
``django.server`` and gunicorn access lines) before any handler writes it.

Pure logging: no Django import, so gunicorn's own config (config/gunicorn.py) uses it too.
"""

import json
import logging
import re
from datetime import UTC, datetime

# /p/<invite>, then /t/<trial>, /h/<item> or /r/<resume code>: each segment after them is a secret.
_LISTENER_PATH = re.compile(r"/p/[^/\s\"'?#]+(?:/([thr])/[^/\s\"'?#]+)?")
REDACTED = "<redacted>"


def scrub(text: str) -> str:
    """`text` with every listener token in a /p/… path replaced by ``<redacted>``."""

    def replace(match: re.Match) -> str:
        kind = match.group(1)
        return f"/p/{REDACTED}" + (f"/{kind}/{REDACTED}" if kind else "")

    return _LISTENER_PATH.sub(replace, text)


class TokenScrubFilter(logging.Filter):
    """Formats the record's message once, scrubbed, so no handler sees the raw path; also
    drops Django's ``request`` object from the record (its repr names the path too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = scrub(record.getMessage())
        record.msg, record.args = message, ()
        if hasattr(record, "request"):
            record.request = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"[, "status"][, "exception"]}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def logging_config(*, level: str, json_lines: bool, extra_loggers: tuple[str, ...] = ()) -> dict:
    """A ``logging.config.dictConfig`` dictionary: one console handler (stderr) with the
    scrub filter, JSON lines or plain text; root at `level`, Django's request and server
    loggers (and `extra_loggers`, e.g. gunicorn's) through the same handler."""
    loggers = {
        name: {"handlers": ["console"], "level": level, "propagate": False}
        for name in ("django.request", "django.security", *extra_loggers)
    }
    # runserver's one line per request (manage.py serve), as Django logs it by default.
    loggers["django.server"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub_tokens": {"()": "config.logging.TokenScrubFilter"}},
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["scrub_tokens"],
                "formatter": "json" if json_lines else "plain",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": loggers,
    }

"""gunicorn settings for Earshot: ``gunicorn -c config/gunicorn.py config.wsgi``
(docs/deploy.md). Every value can be overridden from the environment.

gthread workers: each process serves GUNICORN_THREADS requests at once, and a listener's
page load (page, two audio files, answer POST) is a handful of short requests, so threads
use memory far better than more processes. Keep-alive is longer than the 2 s default so a
listener who pauses between requests keeps the connection (a reverse proxy in front usually
keeps its own; set this above the proxy's upstream keep-alive)."""

import os
import sys
from pathlib import Path

# `gunicorn -c config/gunicorn.py` loads this file by path: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.logging import logging_config  # noqa: E402

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", str(min(4, 2 * (os.cpu_count() or 1) + 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Seconds a worker may take for one request before it is killed and replaced; an export of a
# large study is the slowest request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Recycle workers now and then (with jitter, so they do not all restart at once).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Behind a reverse proxy on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
worker_tmp_dir = os.environ.get(
    "GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None
)

# Access and error logs on stderr, JSON lines with listener tokens scrubbed, as Django's.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
logconfig_dict = logging_config(
    level=os.environ.get("LOG_LEVEL", "WARNING"),
    json_lines=os.environ.get("LOG_FORMAT", "json") == "json",
    extra_loggers=("gunicorn.error",),
)
# Access lines are INFO; they follow GUNICORN_ACCESS_LOG, not LOG_LEVEL.
logconfig_dict["loggers"]["gunicorn.access"] = {
    "handlers": ["console"],
    "level": "INFO",
    "propagate": False,
}

"""Settings for the test suite: the ordinary settings, with a key for test runs only.

A fresh clone runs `pytest` with no set-up step, and DEBUG is off there as in production, so
DJANGO_SECRET_KEY must come from somewhere: an exported one wins, else this fixed value,
which signs nothing outside a test database. Worker processes started by tests inherit it
through the environment."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "earshot-test-suite-only-key-never-used-to-serve-anyone")

from config.settings import *  # noqa: E402, F403

# pytest-xdist runs the suite in several processes on one broker. Each process has its own
# queue, and so do the Celery workers its tests start (they inherit PYTEST_XDIST_WORKER and
# these settings through the environment): a worker takes only its own process's jobs.
CELERY_TASK_DEFAULT_QUEUE = f"earshot-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"

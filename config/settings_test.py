"""Settings for the test suite: the ordinary settings, with a key for test runs only.

A fresh clone runs `pytest` with no set-up step, and DEBUG is off there as in production, so
DJANGO_SECRET_KEY must come from somewhere: an exported one wins, else this fixed value,
which signs nothing outside a test database. Worker processes started by tests inherit it
through the environment."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "earshot-test-suite-only-key-never-used-to-serve-anyone")

from config.settings import *  # noqa: E402, F403

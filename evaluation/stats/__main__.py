"""``python -m evaluation.stats responses.csv [--json]``: see :mod:`evaluation.stats.cli`."""

import sys

from .cli import main

sys.exit(main())

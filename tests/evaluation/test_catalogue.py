"""The shared catalogues: one definition, importable without pandas."""

import subprocess
import sys
from pathlib import Path

from evaluation.catalogue import ASPECTS

ROOT = Path(__file__).resolve().parents[2]


def test_the_models_and_the_statistics_use_the_one_catalogue():
    from evaluation.models import ASPECTS as MODEL_ASPECTS
    from evaluation.stats.aspects import ASPECTS as STATS_ASPECTS

    assert MODEL_ASPECTS is ASPECTS and STATS_ASPECTS is ASPECTS
    assert len(set(ASPECTS)) == len(ASPECTS) == 9


def test_importing_the_catalogue_loads_no_pandas_nor_django():
    code = (
        "import sys, evaluation.catalogue; "
        "print(sorted(m for m in ('pandas', 'numpy', 'django') if m in sys.modules))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == "[]"

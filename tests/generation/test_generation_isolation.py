import subprocess
import sys
from pathlib import Path

import generation

PACKAGE = Path(generation.__file__).parent


def test_importing_every_module_loads_neither_django_nor_evaluation():
    code = (
        "import sys, generation.cli, generation.pairs, generation.metrics, generation.dataset;"
        "import generation.backends.markov;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'evaluation'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_source_file_mentions_django_or_evaluation_imports():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "import django" not in text and "from django" not in text, path
        assert "from evaluation" not in text and "import evaluation" not in text, path

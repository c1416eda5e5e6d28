# Earshot: `make demo` and `make test` are the whole quick start.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Every printed link (admin, results, invites) uses HOST and PORT unless the URL is set.
EARSHOT_PUBLIC_URL ?= http://$(HOST):$(PORT)
VAR_DIR := $(or $(EARSHOT_VAR_DIR),var)
# A local run's key: DJANGO_SECRET_KEY if exported, else the file config.local_setup made;
# plain log lines for people (production logs JSON lines, docs/deploy.md).
LOCAL := DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(VAR_DIR)/secret_key)}" EARSHOT_PUBLIC_URL="$(EARSHOT_PUBLIC_URL)" LOG_FORMAT="$${LOG_FORMAT:-plain}"
# axe-core for the browser tests' accessibility checks (test-only, from the npm registry,
# pinned; under var/, which git ignores). docs/i18n.md, tests/browser/test_listener_i18n.py.
AXE_VERSION := 4.14.1
AXE := $(VAR_DIR)/npm/node_modules/axe-core/axe.min.js
# pytest-xdist processes for `make test` (2 fits the 2-core reference machine; docs/benchmarks.md).
TEST_WORKERS ?= 2
# `make test` runs every test but the CI-only parts: the Chromium walks (tests/browser, which
# play audio in real time) and the tests that kill a real Celery worker mid-job. `.ci/run` runs
# those in its second pass, on PostgreSQL, Redis, real workers and Chromium; `make test-all`
# runs the whole suite here (Debian's chromium installed).
TEST_SELECT ?= not browser and not faults
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

.PHONY: demo test test-all install install-test lint serve bench train clean messages

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first: the pinned CPU build lies on local disk; a looser request would pull CUDA.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

$(AXE):
	npm install --no-audit --no-fund --no-save --loglevel=error --prefix $(VAR_DIR)/npm axe-core@$(AXE_VERSION)

install-test: $(VENV)/.installed-test $(AXE)

demo: install
	$(PY) -m config.local_setup
	$(LOCAL) $(PY) manage.py migrate --noinput
	$(LOCAL) $(PY) manage.py demo
	$(LOCAL) $(PY) manage.py serve --host $(HOST) --port $(PORT)

serve: install
	$(PY) -m config.local_setup
	$(LOCAL) $(PY) manage.py serve --host $(HOST) --port $(PORT)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m config.local_setup
	$(LOCAL) $(PY) manage.py makemigrations --check --dry-run
	$(PYTEST) -m "$(TEST_SELECT)"

# The whole suite on this machine, browser walks and worker faults included.
test-all: install-test
	$(MAKE) test TEST_SELECT="not slow"

# Speed checks: each benchmark times its own baseline in the same run (docs/benchmarks.md).
bench: install-test
	$(PY) benchmarks/stats.py
	$(PY) benchmarks/stimuli.py
	$(PY) benchmarks/generation.py

# Retrain the shipped neural harmonizer (about 20 min on a 2-core CPU; docs/generation.md).
# The shipped recipe (docs/generation.md, Training): 700 steps, then 2000 more from those weights.
train: install
	$(PY) -m generation.train --steps 700 --batch 16 --crop 128 --width 96 --hidden 160 --lr 3e-3 --warmup 50 --dropout 0.2 --eval-every 100 --threads 1 --out var/train/clean
	$(PY) -m generation.train --steps 2000 --batch 16 --crop 128 --width 96 --hidden 160 --lr 1.5e-3 --warmup 50 --dropout 0.2 --eval-every 200 --threads 1 --init var/train/clean/builtin.pt --out var/train/warm --ship

# Translators: refresh the catalogues from the code, then compile them (needs GNU gettext;
# the compiled .mo files are committed, so demo and test never need it). docs/i18n.md.
messages: install
	$(PY) -m config.local_setup
	$(LOCAL) $(PY) manage.py makemessages -l en -l zh_Hans -d django --no-obsolete --add-location file -i ".venv/*" -i "var/*" -i "tests/*" -i "benchmarks/*" -i "generation/*"
	$(LOCAL) $(PY) manage.py makemessages -l en -l zh_Hans -d djangojs --no-obsolete --add-location file -i ".venv/*" -i "var/*" -i "tests/*"
	# English is the source language: its msgstr is its msgid.
	for po in locale/en/LC_MESSAGES/*.po; do msgen -o "$$po" "$$po"; done
	$(LOCAL) $(PY) manage.py compilemessages -i .venv -i var

clean:
	rm -rf var/ .pytest_cache

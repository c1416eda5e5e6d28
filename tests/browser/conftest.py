"""Fixtures for the browser tests: Debian's Chromium through Playwright, a small A/B study of
synthetic tones and a factory of single-track and pool studies (three systems), built through
the real services."""

import csv
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.test.utils import override_settings

from evaluation.models import Panel
from evaluation.services.panelists import invite_create
from evaluation.services.stimuli import stimuli_prepare
from evaluation.services.studies import study_design_set, study_get_or_create_draft, study_open
from evaluation.services.tracks import manifest_read, tracks_store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

HUMAN_SYSTEM = "human reference"
AI_SYSTEM = "Chordsmith v2"
SYSTEM_NAMES = (HUMAN_SYSTEM, AI_SYSTEM)
PROMPTS = {"p1": 220.0, "p2": 261.63, "p3": 329.63}  # root of each prompt's chord, Hz
TRACK_S = 4.0
SAMPLE_RATE = 44100
MIN_LISTEN_S = 1.5
EXCERPT_S = 3.0


def chord(root_hz: float, ratios: tuple[float, ...], seconds: float = TRACK_S) -> np.ndarray:
    """A soft sine chord with a slow tremolo: float32 [n, 2] at SAMPLE_RATE."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = sum(np.sin(2 * np.pi * root_hz * ratio * t) for ratio in ratios) / len(ratios)
    tone *= 0.5 * (1 + 0.2 * np.sin(2 * np.pi * 3 * t))
    return np.stack([tone, tone], axis=1).astype(np.float32) * 0.5


@pytest.fixture(autouse=True)
def live_requests_drained(request):
    """Teardown waits (10 s at most) until the live server has answered every request in
    flight before the database is flushed: a page closed right after an action (e.g. the
    trial page's reserve-ahead POST) leaves its request running in the server thread, and a
    flush under it deadlocks on PostgreSQL and leaves the next test a dirty database."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # so it is torn down after this fixture
    lock, in_flight = threading.Lock(), [0]

    def started(**_):
        with lock:
            in_flight[0] += 1

    def finished(**_):
        with lock:
            in_flight[0] -= 1

    request_started.connect(started, weak=False, dispatch_uid="browser-tests-started")
    request_finished.connect(finished, weak=False, dispatch_uid="browser-tests-finished")
    try:
        yield
        deadline = time.monotonic() + 10
        while in_flight[0] > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        request_started.disconnect(dispatch_uid="browser-tests-started")
        request_finished.disconnect(dispatch_uid="browser-tests-finished")


@pytest.fixture(scope="session", autouse=True)
def media_url_for_live_server():
    """Django's live server wraps every request in a media handler built from MEDIA_URL, and
    urlparse(None) makes it fail with a TypeError. Settings keep MEDIA_URL = None so nothing
    can link to media; the live server only needs a prefix that no page uses."""
    with override_settings(MEDIA_URL="/media-never-linked/"):
        yield


@pytest.fixture(scope="session")
def tone_manifest(tmp_path_factory) -> Path:
    """3 prompts × 2 systems of 4 s chords, and the manifest that lists them."""
    return chord_manifest(tmp_path_factory.mktemp("tones"), PROMPTS, SYSTEMS[:2])


@pytest.fixture
def listening_study(transactional_db, settings, tmp_path, tone_manifest, stimulus_cache):
    """An open study of 3 pairs (human reference vs one AI system) and a multi-use invite;
    stimuli from the real pipeline, encoded once per test run (tests/conftest.py)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    inputs = manifest_read(tone_manifest)
    with transaction.atomic():
        study = study_get_or_create_draft(
            slug="browser-check",
            title="Browser check",
            min_listen_s=MIN_LISTEN_S,
            excerpt_s=EXCERPT_S,
            sample_rate=SAMPLE_RATE,
            ratings_per_pair=2,
            seed=7,
        )
        tracks_store(study=study, inputs=inputs, written=[])
    with stimulus_cache.active():
        summary = stimuli_prepare(study=study)
        assert summary["failures"] == []
        study = study_open(study=study)
    panel = Panel.objects.create(name="browser testers")
    invite = invite_create(study=study, panel=panel, label="browser test")
    return study, invite


THIRD_SYSTEM = "Harmonix 3"
SYSTEMS = (
    (HUMAN_SYSTEM, "human", (1.0, 1.25, 1.5), "major"),
    (AI_SYSTEM, "ai", (1.0, 1.2, 1.5, 1.8), "minor"),
    (THIRD_SYSTEM, "ai", (1.0, 1.335, 1.5), "sus"),
)


def chord_manifest(folder: Path, prompts: dict[str, float], systems) -> Path:
    """A chord per prompt (root in Hz) and system (name, kind, frequency ratios, file stem),
    written to `folder` as WAV files, and the manifest that lists them."""
    rows = []
    for prompt_id, root_hz in prompts.items():
        for system, kind, ratios, stem in systems:
            name = f"{prompt_id}_{stem}.wav"
            sf.write(folder / name, chord(root_hz, ratios), SAMPLE_RATE)
            rows.append({"prompt_id": prompt_id, "system": system, "kind": kind, "file": name})
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["prompt_id", "system", "kind", "file"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


@pytest.fixture
def design_listening(transactional_db, settings, tmp_path, stimulus_cache):
    """A factory: an open study of `design` over 2 prompts × 3 systems of 4 s chords (no
    headphone check), and a multi-use invite."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    inputs = manifest_read(chord_manifest(tmp_path, {"p1": 220.0, "p2": 261.63}, SYSTEMS))

    def build(design: str, **questions):
        with transaction.atomic():
            study = study_get_or_create_draft(
                slug=f"browser-{design}",
                title=f"Browser {design}",
                min_listen_s=MIN_LISTEN_S,
                excerpt_s=EXCERPT_S,
                sample_rate=SAMPLE_RATE,
                ratings_per_pair=2,
                trials_per_panelist=2,
                seed=7,
                headphone_check=False,
            )
            tracks_store(study=study, inputs=inputs, written=[])
            study = study_design_set(study=study, design=design, **questions)
        with stimulus_cache.active():
            assert stimuli_prepare(study=study)["failures"] == []
            study = study_open(study=study)
        invite = invite_create(study=study, panel=Panel.objects.create(name=f"b-{design}"))
        return study, invite

    return build


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, shared by the module's tests."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian's chromium package)"
        if os.environ.get("EARSHOT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django refuses ORM
    # calls there unless told that they are safe, which they are (each call still blocks).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def pytest_collection_modifyitems(items):
    """Every test in this folder drives Chromium: mark it, so `-m browser` selects them all."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)

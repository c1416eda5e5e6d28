"""Shared fixtures: synthetic audio, a prepared and opened study, and the three kinds of user
every permission test needs (an admin, a researcher, and an outsider who must be refused)."""

import copy
import csv
import hashlib
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile

SAMPLE_RATE = 44100


def tone(
    seconds: float = 4.0,
    frequency: float = 440.0,
    amplitude: float = 0.2,
    rate: int = SAMPLE_RATE,
    channels: int = 2,
) -> np.ndarray:
    """A sine with a little second harmonic: float32 [n, channels] (soundfile's layout)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = amplitude * (np.sin(2 * np.pi * frequency * t) + 0.3 * np.sin(4 * np.pi * frequency * t))
    return np.repeat(wave[:, None], channels, axis=1).astype(np.float32)


def write_manifest(folder: Path, rows: list[dict], columns=("prompt_id", "system", "kind", "file")):
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


class StimulusCache:
    """The stimulus pipeline's two expensive steps, remembered for one test run by the content
    hash of their inputs, so that fixtures build their studies in milliseconds instead of
    seconds (a dozen ffmpeg processes each).

    - `prepare_prompt` and `prepare_prompt_with_catch` (matching + encoding one prompt, with its
      catch copies for the latter): keyed by the decoded tracks' samples, rates and formats,
      the MatchSettings and the options (anchor, twin and dither seed);
    - `measure_file` (the blindness audit's measurement of one stored file): keyed by the
      file's bytes.

    Both are deterministic functions of those inputs (test_prepare_stimuli.py checks that two
    real runs give identical files), so a hit returns exactly what the real pipeline returned
    for identical inputs earlier in the run; the first set-up with new inputs runs it for real.
    Fixtures switch the cache on only around their own set-up (`active()`), so test bodies, and
    the stimuli tests that call the pipeline themselves, always run the real pipeline.
    """

    def __init__(self):
        self.results: dict[tuple[str, str], object] = {}
        self.hits = 0
        self.misses = 0

    def _remembered(self, key: tuple[str, str], compute: Callable[[], object]):
        if key in self.results:
            self.hits += 1
        else:
            self.misses += 1
            self.results[key] = compute()
        # A copy: a test that changes what it got cannot change what the next test gets.
        return copy.deepcopy(self.results[key])

    @contextmanager
    def active(self) -> Iterator[None]:
        from evaluation.selectors import blindness
        from evaluation.services import stimuli

        prepare_prompt, measure_file = stimuli.prepare_prompt, blindness.measure_file
        prepare_with_catch = stimuli.prepare_prompt_with_catch

        def key_of(name, tracks, settings, options) -> tuple[str, str]:
            digest = hashlib.sha256(repr((settings, options)).encode())
            for track in tracks:
                samples = np.ascontiguousarray(track.samples)
                digest.update(repr((samples.dtype.str, samples.shape, track.sample_rate)).encode())
                digest.update(repr(track.format).encode())
                digest.update(samples.tobytes())
            return name, digest.hexdigest()

        def prepare_prompt_remembered(tracks, settings, anchor_of=None):
            return self._remembered(
                key_of("prepare_prompt", tracks, settings, anchor_of),
                lambda: prepare_prompt(tracks, settings, anchor_of=anchor_of),
            )

        def prepare_with_catch_remembered(tracks, settings, **options):
            return self._remembered(
                key_of("prepare_prompt_with_catch", tracks, settings, sorted(options.items())),
                lambda: prepare_with_catch(tracks, settings, **options),
            )

        def measure_file_remembered(path):
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            return self._remembered(("measure_file", digest), lambda: measure_file(path))

        # raising=True (the default): if either function moves, the fixtures fail loudly
        # instead of silently running uncached.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(stimuli, "prepare_prompt", prepare_prompt_remembered)
            patch.setattr(stimuli, "prepare_prompt_with_catch", prepare_with_catch_remembered)
            patch.setattr(blindness, "measure_file", measure_file_remembered)
            yield


@pytest.fixture(scope="session")
def stimulus_cache() -> StimulusCache:
    """One StimulusCache for the whole test run (per xdist worker)."""
    return StimulusCache()


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Django's default hasher (PBKDF2, a million rounds) takes about a second per user on this
    machine, and nearly every test makes users; the tests prove permissions, not the hasher.
    MD5 is Django's own advice for test settings; production settings are untouched."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def rate_limit_counters_cleared():
    """Rate-limit counters (listener POSTs, API throttles) live in the cache, which outlives a
    test: start every test with none, as a new minute would."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def default_language_between_tests():
    """A request in Chinese leaves Chinese active in the thread afterwards (LocaleMiddleware
    activates a language per request and never deactivates it): every test starts and ends
    with the default, so messages a test reads outside a request are English."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def audio_template(tmp_path_factory) -> Path:
    """The WAVs of `audio_folder`, synthesised once per test run."""
    folder = tmp_path_factory.mktemp("audio-template")
    for index in range(3):
        soundfile.write(
            folder / f"p{index}_human.wav", tone(frequency=220 * (index + 1)), SAMPLE_RATE
        )
        soundfile.write(
            folder / f"p{index}_ai.wav",
            tone(frequency=230 * (index + 1), amplitude=0.4, seconds=5.0),
            SAMPLE_RATE,
        )
    return folder


@pytest.fixture
def audio_folder(tmp_path, audio_template) -> Path:
    """Three prompts × two systems of short WAVs (the human one quieter, the AI one louder),
    a fresh copy per test: tests may add, change or delete files in it."""
    return Path(shutil.copytree(audio_template, tmp_path / "audio"))


@pytest.fixture
def manifest(audio_folder) -> Path:
    rows = []
    for index in range(3):
        rows.append(
            {
                "prompt_id": f"p{index}",
                "system": "human reference",
                "kind": "human",
                "file": f"p{index}_human.wav",
            }
        )
        rows.append(
            {
                "prompt_id": f"p{index}",
                "system": "model-x",
                "kind": "ai",
                "file": f"p{index}_ai.wav",
            }
        )
    return write_manifest(audio_folder, rows)


@pytest.fixture
def prepared_study(db, media_root, manifest, stimulus_cache):
    """An opened study: 3 prompts, human reference vs model-x, K=4 slots per pair; no
    headphone check. Its stimuli come from the real pipeline, encoded once per test run
    (StimulusCache)."""
    from evaluation.models import Study
    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.studies import study_open
    from evaluation.services.tracks import tracks_import

    tracks_import(study_slug="pilot", manifest=manifest)
    Study.objects.filter(slug="pilot").update(
        min_listen_s=2.0, excerpt_s=3.0, ratings_per_pair=4, trials_per_panelist=3, seed=7,
        headphone_check=False,  # tests of the check turn it on (test_headphones*.py)
    )  # fmt: skip
    study = Study.objects.get(slug="pilot")
    with stimulus_cache.active():
        stimuli_prepare(study=study)
        return study_open(study=study)


@pytest.fixture
def panel(db):
    from evaluation.models import Panel

    return Panel.objects.create(name="session players")


@pytest.fixture
def invite(prepared_study, panel):
    from evaluation.services.panelists import invite_create

    return invite_create(study=prepared_study, panel=panel)


@pytest.fixture
def make_panelist(invite):
    from evaluation.services.panelists import panelist_join

    def make(expertise: str = "professional"):
        return panelist_join(invite=invite, expertise=expertise, plays_instrument=True)

    return make


@pytest.fixture
def admin_user(db, django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-admin-1")


@pytest.fixture
def researcher(db, django_user_model):
    from evaluation.services.roles import researcher_group_ensure

    user = django_user_model.objects.create_user("rita", password="pw-rita-1", is_staff=True)
    user.groups.add(researcher_group_ensure())
    return user


@pytest.fixture
def outsider(db, django_user_model):
    return django_user_model.objects.create_user("otto", password="pw-otto-1")


@pytest.fixture
def view_only_staff(db, django_user_model):
    """A staff user who may look at everything in the admin and change nothing (every
    `view_` permission of the app, no researcher role)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("vera", password="pw-vera-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="evaluation", codename__startswith="view_"
        )
    )
    return user


@pytest.fixture
def catch_study(db, media_root, manifest, stimulus_cache):
    """An opened study like `prepared_study` (slug 'qc', K=2) with a catch rate: each prompt
    also has an anchor pair and an identical pair, and each panelist gets 3 + 1 trials.
    Stimuli encoded once per test run, like `prepared_study`'s."""
    from evaluation.models import Study
    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.studies import study_open
    from evaluation.services.tracks import tracks_import

    tracks_import(study_slug="qc", manifest=manifest)
    Study.objects.filter(slug="qc").update(
        min_listen_s=1.0, excerpt_s=3.0, ratings_per_pair=2, trials_per_panelist=3, seed=5,
        catch_rate=0.34, headphone_check=False,
    )  # fmt: skip
    study = Study.objects.get(slug="qc")
    with stimulus_cache.active():
        stimuli_prepare(study=study)
        return study_open(study=study)


@pytest.fixture
def answer_all():
    """Walk a panelist through every trial, answering each with `choose(trial)`; returns
    the trials in the order they were served."""
    from datetime import timedelta

    from django.utils import timezone

    from evaluation.services.responses import Answer, response_record
    from evaluation.services.scheduling import trial_mark_served, trial_next

    def walk(panelist, choose):
        served = []
        now = timezone.now()
        while (trial := trial_next(panelist=panelist, now=now)) is not None:
            trial_mark_served(trial=trial, now=now)
            now += timedelta(seconds=10)
            answer = Answer(
                choice=choose(trial),
                listen_a_s=3.0,
                listen_b_s=3.0,
                guess_ai="unsure",
                liked_a=True,
                liked_b=False,
            )
            response_record(panelist=panelist, trial_token=trial.token, answer=answer, now=now)
            served.append(trial)
        return served

    return walk


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow: whole checks whose fixed sample the default run "
        "checks (make test leaves them out; .ci/run runs them)",
    )
    parser.addoption(
        "--services-pass",
        action="store_true",
        help="run only the tests that touch a database, a Celery worker or a browser "
        "(.ci/run's second pass, on PostgreSQL, Redis and real workers)",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Leave out the slow tests unless `--slow` is given, and the tests that touch no service
    under `--services-pass`; put every test in a pytest-xdist group (`make test` runs
    `pytest -n 2 --dist loadgroup`; without xdist the groups do nothing):

    - a test that names its group keeps it;
    - every other test is grouped with its module, so a module's expensive module-scoped
      fixtures (a generator's settings, an evaluation table, a Celery worker) are built once,
      in one process, instead of once in each.

    Real Celery worker tests may run in both processes at once: each process has its own queue
    (config/settings_test.py), so a worker takes only its own process's jobs. Browser tests
    may too: each process that runs one starts its own Chromium."""
    if not config.getoption("--slow"):
        slow = [item for item in items if item.get_closest_marker("slow")]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if not item.get_closest_marker("slow")]
    if config.getoption("--services-pass"):
        pure = [item for item in items if not uses_a_service(item)]
        if pure:
            config.hook.pytest_deselected(items=pure)
            items[:] = [item for item in items if uses_a_service(item)]
    root = Path(config.rootpath)
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            name = Path(item.fspath).relative_to(root).as_posix()
            item.add_marker(pytest.mark.xdist_group(name))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist sends the collection to the controller
def pytest_collection_finish(session):
    """Under `--dist loadgroup`, hand out the longest groups first (`make test` passes
    --no-loadscope-reorder, so xdist takes the groups in the order of this list): groups with a
    browser or a real worker spend tens of seconds in real time (sounds played out, jobs run by
    another process), so they should start at once, beside the short groups, not last and
    alone; the rest by size. This runs after every reordering hook (pytest-django's too), and
    keeps each group's tests in their order. Serial runs keep the usual order."""
    if not session.config.getoption("loadgroup", default=False):
        return
    items = session.items
    groups: dict[str, list] = {}
    for item in items:
        marker = item.get_closest_marker("xdist_group")
        groups.setdefault(marker.args[0] if marker.args else "", []).append(item)
    browser_tests = Path(__file__).parent / "browser"

    def long_first(group: list) -> tuple[int, int]:
        waits = any(
            item.get_closest_marker("worker") or browser_tests in Path(item.fspath).parents
            for item in group
        )
        return (0 if waits else 1, -len(group))

    # sorted() is stable: each group keeps its tests' order.
    items[:] = [item for group in sorted(groups.values(), key=long_first) for item in group]


DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def uses_a_service(item) -> bool:
    """Whether a test touches what .ci/run's second pass swaps in (a database, a broker with a
    real worker, a browser over a live server, an S3 server): a django_db, worker, browser or
    s3 marker, or a database fixture among the fixtures it uses, directly or through other
    fixtures."""
    if any(item.get_closest_marker(name) for name in ("django_db", "worker", "browser", "s3")):
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


DESIGN_RATE = 8000
DESIGN_SYSTEMS = (
    ("human reference", "human", 220),
    ("human b", "human", 247),
    ("model-x", "ai", 262),
    ("model-y", "ai", 294),
)


@pytest.fixture
def design_study(db, media_root, tmp_path, panel):
    """A factory: an opened study of `design` (3 prompts × 4 systems, 2 human and 2 AI,
    4 s tracks at 8 kHz, min_listen_s 1, K=4) with the given design settings, and its invite."""

    from evaluation.models import Study
    from evaluation.services.panelists import invite_create
    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.studies import study_design_set, study_open
    from evaluation.services.tracks import tracks_import

    def build(design: str, slug: str | None = None, **settings):
        slug = slug or f"d-{design}"
        folder = tmp_path / slug
        folder.mkdir()
        rows = []
        for prompt in range(3):
            for name, kind, frequency in DESIGN_SYSTEMS:
                file = f"p{prompt}_{name.replace(' ', '_')}.wav"
                soundfile.write(
                    folder / file,
                    tone(4.0, frequency * (prompt + 1), rate=DESIGN_RATE),
                    DESIGN_RATE,
                )
                rows.append({"prompt_id": f"p{prompt}", "system": name, "kind": kind, "file": file})
        tracks_import(study_slug=slug, manifest=write_manifest(folder, rows))
        Study.objects.filter(slug=slug).update(
            min_listen_s=1.0, excerpt_s=3.0, excerpt_start_s=0.0, ratings_per_pair=4,
            trials_per_panelist=3, seed=11, headphone_check=False, sample_rate=DESIGN_RATE,
        )  # fmt: skip
        study = Study.objects.get(slug=slug)
        study = study_design_set(study=study, design=design, **settings)
        stimuli_prepare(study=study)
        study = study_open(study=Study.objects.get(pk=study.pk))
        return study, invite_create(study=study, panel=panel)

    return build

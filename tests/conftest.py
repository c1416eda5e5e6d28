"""Shared fixtures: synthetic audio, a prepared and opened study, and the three kinds of user
every permission test needs (an admin, a researcher, and an outsider who must be refused)."""

import csv
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


def write_manifest(folder: Path, rows: list[dict], columns=("prompt_id", "system", "file")):
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


@pytest.fixture(autouse=True)
def rate_limit_counters_cleared():
    """Rate-limit counters (listener POSTs, API throttles) live in the cache, which outlives a
    test: start every test with none, as a new minute would."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def audio_folder(tmp_path) -> Path:
    """Three prompts × two systems of short WAVs (the human one quieter, the AI one louder)."""
    folder = tmp_path / "audio"
    folder.mkdir()
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
def manifest(audio_folder) -> Path:
    rows = []
    for index in range(3):
        rows.append(
            {"prompt_id": f"p{index}", "system": "human reference", "file": f"p{index}_human.wav"}
        )
        rows.append({"prompt_id": f"p{index}", "system": "model-x", "file": f"p{index}_ai.wav"})
    return write_manifest(audio_folder, rows)


@pytest.fixture
def prepared_study(db, media_root, manifest):
    """An opened study: 3 prompts, human reference vs model-x, K=4 slots per pair; no
    headphone check."""
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

    user = django_user_model.objects.create_user("rita", password="pw-rita-1")
    user.groups.add(researcher_group_ensure())
    return user


@pytest.fixture
def outsider(db, django_user_model):
    return django_user_model.objects.create_user("otto", password="pw-otto-1")


@pytest.fixture
def catch_study(db, media_root, manifest):
    """An opened study like `prepared_study` (slug 'qc', K=2) with a catch rate: each prompt
    also has an anchor pair and an identical pair, and each panelist gets 3 + 1 trials."""
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

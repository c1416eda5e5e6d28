"""Generating a study's tracks in-process (the worker path is in test_tasks.py)."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import soundfile

from evaluation.models import Study, Track
from evaluation.services import ServiceError
from evaluation.services.generation import (
    REFERENCE_SYSTEM,
    generation_parameters_clean,
    generator_default,
    tracks_generate,
)
from generation.neural import CHECKPOINT_PATH, file_sha256
from generation.pairs import prompt_seed, select_chorales
from tests.conftest import tone

pytestmark = pytest.mark.django_db

NEURAL = "Built-in neural harmonizer"


@pytest.fixture
def study(media_root):
    return Study.objects.create(slug="chorales", title="Chorales", seed=3, trials_per_panelist=2)


def test_the_neural_generator_is_the_default_once_its_checkpoint_ships():
    assert CHECKPOINT_PATH.is_file()
    assert generator_default() == "builtin"


def test_it_stores_bach_and_the_generator_for_each_prompt_with_provenance(study):
    outcome = tracks_generate(study=study, system="builtin", prompts=2)
    assert outcome == {"prompts": 2, "created": 4, "skipped": 0, "failures": []}
    chorales = select_chorales(n=2, seed=3, split="test")
    tracks = Track.objects.filter(prompt__study=study).select_related("system", "prompt")
    assert sorted((t.prompt.external_id, t.system.name) for t in tracks) == sorted(
        (c.chorale_id, name) for c in chorales for name in (REFERENCE_SYSTEM, NEURAL)
    )
    generated = tracks.get(prompt__external_id=chorales[0].chorale_id, system__name=NEURAL)
    provenance = generated.provenance
    assert provenance["system"] == "builtin"
    assert provenance["checkpoint_sha256"] == file_sha256(CHECKPOINT_PATH)
    assert provenance["seed"] == prompt_seed(3, chorales[0].chorale_id)
    assert provenance["study_seed"] == 3
    assert provenance["prompt_id"] == chorales[0].chorale_id
    assert provenance["prompt"].startswith(f"Soprano melody of {chorales[0].bwv} (")
    reference = tracks.get(
        prompt__external_id=chorales[0].chorale_id, system__name=REFERENCE_SYSTEM
    )
    assert (reference.provenance["system"], reference.provenance["seed"]) == ("bach", None)
    assert reference.duration_s == generated.duration_s
    assert study.systems.count() == 2


def test_running_again_fills_gaps_and_never_duplicates(study):
    tracks_generate(study=study, system="markov", prompts=2)
    gone = Track.objects.filter(prompt__study=study, system__name="Markov baseline").first()
    gone_id = (gone.prompt.external_id, gone.sha256)
    gone.delete()
    outcome = tracks_generate(study=study, system="markov", prompts=2)
    assert outcome == {"prompts": 2, "created": 1, "skipped": 1, "failures": []}
    assert Track.objects.filter(prompt__study=study).count() == 4
    refilled = Track.objects.get(prompt__external_id=gone_id[0], system__name="Markov baseline")
    assert refilled.sha256 == gone_id[1]  # same seed, same notes, same audio
    again = tracks_generate(study=study, system="markov", prompts=2)
    assert again == {"prompts": 2, "created": 0, "skipped": 2, "failures": []}


def test_a_failing_prompt_is_reported_and_the_others_are_stored(study, monkeypatch):
    import generation.pairs

    first = select_chorales(n=2, seed=3, split="test")[0].chorale_id
    original = generation.pairs.harmonize_chorale

    def harmonize(chorale, **options):
        if chorale.chorale_id == first:
            raise ValueError("no voicing in range")
        return original(chorale, **options)

    monkeypatch.setattr(generation.pairs, "harmonize_chorale", harmonize)
    outcome = tracks_generate(study=study, system="markov", prompts=2)
    assert outcome["failures"] == [f"{first}: ValueError: no voicing in range"]
    assert outcome["created"] == 2
    # Nothing half stored: the failed prompt has neither track.
    assert not Track.objects.filter(prompt__external_id=first).exists()


def test_a_study_that_is_not_a_draft_is_refused(study):
    Study.objects.filter(pk=study.pk).update(status=Study.Status.OPEN)
    study.refresh_from_db()
    with pytest.raises(ServiceError, match="'chorales' is open; tracks can be generated for a"):
        tracks_generate(study=study, system="markov", prompts=1)


def test_parameters_default_to_the_neural_model_and_the_studys_trials(study):
    assert generation_parameters_clean(study=study) == {
        "system": "builtin",
        "prompts": 2,
        "split": "test",
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"system": "gpt"}, "unknown or unavailable generator 'gpt'; choose one of"),
        ({"prompts": 0}, "prompts must be a whole number from 1 to 36"),
        ({"prompts": 37}, "prompts must be a whole number from 1 to 36"),
        ({"split": "train2"}, "unknown split 'train2'"),
    ],
)
def test_bad_parameters_are_refused_with_what_to_fix(study, options, message):
    with pytest.raises(ServiceError, match=message):
        generation_parameters_clean(study=study, **options)


class LabModel(BaseHTTPRequestHandler):
    """A lab's model server: a short WAV per prompt, HTML for one chorale id."""

    broken_prompt = ""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["prompt"]["prompt_id"] == LabModel.broken_prompt:
            content, content_type = b"<html>model crashed</html>", "text/html"
        else:
            buffer = io.BytesIO()
            # A different tune per prompt: the same audio twice in a study is refused.
            frequency = 200 + sum(map(ord, body["prompt"]["prompt_id"])) % 500
            soundfile.write(buffer, tone(seconds=1.0, frequency=frequency), 44100, format="WAV")
            content, content_type = buffer.getvalue(), "audio/wav"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args):
        pass


@pytest.fixture
def lab_model(settings):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), LabModel)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    settings.EARSHOT = {
        **settings.EARSHOT,
        "GENERATION_HTTP_URL": f"http://127.0.0.1:{httpd.server_address[1]}/generate",
        "GENERATION_HTTP_SYSTEM": "lab model v2",
        "GENERATION_HTTP_TIMEOUT_S": 5,
    }
    yield
    httpd.shutdown()
    httpd.server_close()


def test_a_labs_http_model_answers_the_same_prompts(study, lab_model):
    chorales = select_chorales(n=2, seed=3, split="test")
    LabModel.broken_prompt = chorales[1].chorale_id
    outcome = tracks_generate(study=study, system="http", prompts=2)
    assert outcome["created"] == 2
    assert outcome["failures"] == [
        f"{chorales[1].chorale_id}: HttpBackendError: {settings_url()} answered 26 bytes of "
        "'text/html' that are not audio (they start with b'<html>model crashed</html>'); the "
        "server must answer with a WAV, FLAC or OGG body"
    ]
    track = Track.objects.get(system__name="lab model v2")
    assert (track.format, track.sample_rate, track.duration_s) == ("wav", 44100, 1.0)
    assert (track.system.kind, track.system.source) == ("ai", "http")
    assert track.provenance["seed"] == prompt_seed(3, chorales[0].chorale_id)
    assert track.provenance["prompt_id"] == chorales[0].chorale_id
    LabModel.broken_prompt = ""
    again = tracks_generate(study=study, system="http", prompts=2)
    assert (again["created"], again["skipped"], again["failures"]) == (2, 1, [])


def settings_url() -> str:
    from django.conf import settings

    return settings.EARSHOT["GENERATION_HTTP_URL"]


def test_the_generate_job_states_bach_human_and_the_generator_ai(study):
    from evaluation.models import System

    tracks_generate(study=study, system="markov", prompts=1)
    assert dict(System.objects.values_list("name", "kind")) == {
        REFERENCE_SYSTEM: "human",
        "Markov baseline": "ai",
    }
    assert dict(System.objects.values_list("name", "source")) == {
        REFERENCE_SYSTEM: "corpus",
        "Markov baseline": "builtin",
    }


def test_a_stored_system_of_the_other_kind_is_refused_not_overwritten(study):
    from evaluation.models import System

    System.objects.create(name="Markov baseline", kind="human")
    with pytest.raises(
        ServiceError, match="'Markov baseline' is stored as human, but this says ai"
    ):
        tracks_generate(study=study, system="markov", prompts=1)
    assert Track.objects.count() == 0


def test_a_chorale_whose_bach_audio_repeats_another_is_refused_with_both_named(study, monkeypatch):
    """BWV 197.7-a and 398 are the same chorale: the second rendering of the same audio is
    refused, and the prompt is named among the failures."""
    import generation.pairs

    first, second = select_chorales(n=2, seed=3, split="test")
    original = generation.pairs.render_track

    def render(chorale, **options):
        if options["provenance"].get("system") == "bach":
            chorale = first  # both prompts get the first chorale's Bach setting
        return original(chorale, **options)

    monkeypatch.setattr(generation.pairs, "render_track", render)
    outcome = tracks_generate(study=study, system="markov", prompts=2)
    assert outcome["created"] == 2
    assert outcome["failures"] == [
        f"{second.chorale_id}: study 'chorales': prompt {second.chorale_id}: "
        f"{second.chorale_id}/{REFERENCE_SYSTEM} is the same file as stored track "
        f"{first.chorale_id}/{REFERENCE_SYSTEM} (SHA-256 "
        f"{Track.objects.get(system__name=REFERENCE_SYSTEM).sha256[:12]}…); each track must be "
        f"different audio"
    ]
    assert not Track.objects.filter(prompt__external_id=second.chorale_id).exists()

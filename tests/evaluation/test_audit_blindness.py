"""`audit_blindness` and the audit that `study_open` runs: matched studies pass, any leak
(loudness, tags, format, file size that follows the system) fails and keeps the study shut."""

import subprocess

import pytest
from django.core.management import CommandError, call_command

from evaluation.models import Pair, Stimulus, Study
from evaluation.services import ServiceError
from evaluation.services.stimuli import stimuli_prepare
from evaluation.services.studies import study_open
from evaluation.services.tracks import tracks_import
from evaluation.stimuli.audio import ffmpeg_exe, flac_pad_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft_study(media_root, manifest):
    """3 prompts, human reference vs model-x, prepared but not opened."""
    tracks_import(study_slug="pilot", manifest=manifest)
    Study.objects.filter(slug="pilot").update(excerpt_s=3.0)
    study = Study.objects.get(slug="pilot")
    assert stimuli_prepare(study=study)["failures"] == []
    return study


def model_x_stimuli():
    return Stimulus.objects.filter(track__system__name="model-x").order_by("track__prompt")


def test_a_prepared_study_passes_and_prints_its_table(draft_study, capsys):
    call_command("audit_blindness", "pilot")
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if " regular " in line]
    assert [(row[1], row[3], row[4], row[7], row[8], row[9], row[11]) for row in rows] == [
        (f"p{index}", "-23.00", "-23.00", "3.000", "3.000", "flac", "ok") for index in range(3)
    ]
    assert "human reference vs model-x, size: accuracy 0.50 over 3 pair(s)" in out
    assert "Blindness audit of 'pilot' passed: 3 pair(s)." in out


def test_a_louder_tagged_stimulus_fails_the_audit_and_the_study_stays_a_draft(draft_study):
    stimulus = model_x_stimuli().first()
    path = stimulus.file.path
    louder = path + ".tmp.flac"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", path, "-af", "volume=2dB",
         "-metadata", "title=model-x take 1", "-c:a", "flac", louder],
        check=True,
    )  # fmt: skip
    subprocess.run(["mv", louder, path], check=True)
    pair = Pair.objects.get(second=stimulus)
    with pytest.raises(CommandError) as error:
        call_command("audit_blindness", "pilot")
    message = str(error.value)
    assert f"pair {pair.pk} (prompt p0): B loudness -21.00 LUFS is not within ±0.5 LU" in message
    assert "B carries metadata tags: title" in message
    assert "loudness differs by 2.00 LU (> 0.5)" in message
    assert message.count("  - pair ") == 1
    with pytest.raises(ServiceError, match="failed the blindness audit and stays draft") as refusal:
        study_open(study=draft_study)
    assert refusal.value.code == "blindness_audit_failed"
    assert Study.objects.get(slug="pilot").status == "draft"
    with pytest.raises(CommandError, match=f"pair {pair.pk} \\(prompt p0\\)"):
        call_command("open_study", "pilot")


def test_file_sizes_that_follow_the_system_fail_the_classifier(draft_study):
    for stimulus in model_x_stimuli():
        content = open(stimulus.file.path, "rb").read()
        with open(stimulus.file.path, "wb") as handle:
            handle.write(flac_pad_to(content, len(content) + 64))
    with pytest.raises(CommandError) as error:
        call_command("audit_blindness", "pilot")
    assert (
        "human reference vs model-x: file size predicts the system in 100% of 3 pairs "
        "(allowed: 97%)" in str(error.value)
    )
    assert "  - pair " not in str(error.value)


def test_a_missing_stimulus_file_fails_its_pair(draft_study):
    stimulus = model_x_stimuli().last()
    stimulus.file.storage.delete(stimulus.file.name)
    with pytest.raises(CommandError, match="\\(prompt p2\\): B file is missing from storage"):
        call_command("audit_blindness", "pilot")


def test_a_study_opens_once_its_audit_passes(draft_study):
    assert study_open(study=draft_study).status == "open"

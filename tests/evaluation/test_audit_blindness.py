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


@pytest.fixture
def catch_draft(media_root, manifest):
    """Like `draft_study` with catch stimuli and catch pairs."""
    tracks_import(study_slug="qc", manifest=manifest)
    Study.objects.filter(slug="qc").update(excerpt_s=3.0, catch_rate=0.2)
    study = Study.objects.get(slug="qc")
    assert stimuli_prepare(study=study)["failures"] == []
    return study


def test_a_study_with_catch_copies_serves_no_two_identical_files(catch_draft, capsys):
    call_command("audit_blindness", "qc")
    out = capsys.readouterr().out
    # 3 prompts × (2 regular + 4 catch stimuli), every one a different file.
    assert "byte-identical files among those served: 0: ok (18 file(s) checked, SHA-256)" in out
    assert study_open(study=catch_draft).status == Study.Status.OPEN


def test_an_injected_hash_collision_blocks_opening_with_the_files_named(catch_draft):
    twin_1 = Stimulus.objects.filter(kind="twin_1").select_related("track").first()
    regular = Stimulus.objects.get(track=twin_1.track, kind="regular")
    # The old way of making an identical-pair catch: a copy of the regular file.
    with open(twin_1.file.path, "wb") as handle:
        handle.write(open(regular.file.path, "rb").read())
    with pytest.raises(ServiceError) as refused:
        study_open(study=catch_draft)
    message = str(refused.value)
    sha = __import__("hashlib").sha256(open(regular.file.path, "rb").read()).hexdigest()
    assert (
        f"  - stimulus {regular.pk} ({regular.track}, regular) and stimulus {twin_1.pk} "
        f"({twin_1.track}, twin_1) are byte-identical (SHA-256 {sha[:16]}…): comparing "
        "downloads would tell them apart from the rest; prepare the study's stimuli again "
        "(catch copies must differ)"
    ) in message.splitlines()
    catch_draft.refresh_from_db()
    assert catch_draft.status == Study.Status.DRAFT


def test_a_catch_pair_that_plays_one_file_on_both_sides_blocks_opening(catch_draft):
    twin_pair = Pair.objects.filter(first__kind="twin_1").select_related("prompt").first()
    regular = Stimulus.objects.get(track=twin_pair.first.track, kind="regular")
    Pair.objects.filter(pk=twin_pair.pk).update(first=regular, second=regular)
    with pytest.raises(ServiceError) as refused:
        study_open(study=catch_draft)
    assert (
        f"pair {twin_pair.pk} (prompt {twin_pair.prompt.external_id}): A and B are one file "
        "(byte-identical downloads reveal the catch); prepare the study's stimuli again to get "
        "distinct catch copies"
    ) in str(refused.value)

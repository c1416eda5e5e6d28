"""import_tracks: validate every row first, store all or nothing, keep checksums."""

import hashlib

import numpy as np
import pytest
import soundfile
from django.core.management import CommandError, call_command

from evaluation.models import Prompt, Study, Track
from tests.conftest import SAMPLE_RATE, tone, write_manifest

pytestmark = pytest.mark.django_db


def test_it_creates_the_study_as_a_draft_and_stores_every_track(media_root, manifest, capsys):
    call_command("import_tracks", "pilot", str(manifest))
    study = Study.objects.get(slug="pilot")
    assert study.status == "draft"
    assert Track.objects.filter(prompt__study=study).count() == 6
    assert sorted(study.systems.values_list("name", flat=True)) == ["human reference", "model-x"]
    assert "Imported 6 track(s) for 3 prompt(s)" in capsys.readouterr().out


def test_it_keeps_a_sha256_and_provenance_of_each_file(media_root, manifest, audio_folder):
    call_command("import_tracks", "pilot", str(manifest))
    track = Track.objects.get(prompt__external_id="p1", system__name="model-x")
    expected = hashlib.sha256((audio_folder / "p1_ai.wav").read_bytes()).hexdigest()
    assert track.sha256 == expected
    assert track.provenance == {"source": "manifest", "manifest": "manifest.csv", "row": 5}
    assert track.duration_s == pytest.approx(5.0)
    assert track.sample_rate == SAMPLE_RATE


def test_it_stores_the_kind_each_system_is_stated_to_be(media_root, manifest):
    call_command("import_tracks", "pilot", str(manifest))
    study = Study.objects.get(slug="pilot")
    assert {s.name: (s.kind, s.source) for s in study.systems.all()} == {
        "human reference": ("human", "imported"),
        "model-x": ("ai", "imported"),
    }


def test_it_accepts_flac_ogg_mp3_and_m4a(media_root, tmp_path):
    import subprocess

    from evaluation.stimuli.audio import ffmpeg_exe

    soundfile.write(tmp_path / "a.flac", tone(), SAMPLE_RATE)
    soundfile.write(tmp_path / "b.ogg", tone(), SAMPLE_RATE, format="OGG", subtype="VORBIS")
    for target in ("c.mp3", "d.m4a"):
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-i",
                str(tmp_path / "a.flac"),
                str(tmp_path / target),
            ],
            check=True,
        )
    rows = [
        {"prompt_id": "x", "system": "s-flac", "kind": "ai", "file": "a.flac"},
        {"prompt_id": "x", "system": "s-ogg", "kind": "ai", "file": "b.ogg"},
        {"prompt_id": "x", "system": "s-mp3", "kind": "ai", "file": "c.mp3"},
        {"prompt_id": "x", "system": "s-m4a", "kind": "human", "file": "d.m4a"},
    ]
    call_command("import_tracks", "formats", str(write_manifest(tmp_path, rows)))
    formats = sorted(Track.objects.values_list("format", flat=True))
    assert formats == ["flac", "m4a", "mp3", "ogg"]
    for track in Track.objects.all():
        assert track.duration_s == pytest.approx(4.0, abs=0.1)


def test_it_lists_every_bad_row_and_stores_nothing(media_root, tmp_path):
    soundfile.write(tmp_path / "good.wav", tone(), SAMPLE_RATE)
    (tmp_path / "noise.wav").write_bytes(b"this is not audio at all")
    rows = [
        {"prompt_id": "p1", "system": "a", "kind": "ai", "file": "good.wav"},
        {"prompt_id": "p1", "system": "b", "kind": "human", "file": "missing.wav"},
        {"prompt_id": "p1", "system": "a", "file": "good.wav"},
        {"prompt_id": "p2", "system": "a", "file": "noise.wav"},
    ]
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "broken", str(write_manifest(tmp_path, rows)))
    message = str(error.value)
    assert "3 problem(s), nothing was imported" in message
    assert "row 3: file not found: missing.wav" in message
    assert "row 4: duplicate (prompt_id=p1, system=a), already on row 2" in message
    assert "row 5: noise.wav not readable as WAV audio" in message
    assert not Study.objects.filter(slug="broken").exists()
    assert (Track.objects.count(), Prompt.objects.count()) == (0, 0)
    assert [path for path in media_root.rglob("*") if path.is_file()] == []  # no file left


def test_it_rejects_unknown_and_missing_columns(media_root, tmp_path):
    manifest = write_manifest(
        tmp_path,
        [{"prompt_id": "p", "system": "s", "path": "x.wav"}],
        ("prompt_id", "system", "path"),
    )
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "cols", str(manifest))
    assert "header: missing column(s) file" in str(error.value)
    assert "header: unknown column(s) path" in str(error.value)
    assert not Study.objects.filter(slug="cols").exists()


def test_a_failure_while_storing_leaves_no_files_behind(media_root, manifest, monkeypatch):
    from evaluation.services import tracks as tracks_service

    real_save = Track.save
    calls = {"n": 0}

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk full")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Track, "save", failing_save)
    with pytest.raises(RuntimeError):
        tracks_service.tracks_import(study_slug="pilot", manifest=manifest)
    assert Track.objects.count() == 0
    assert not Study.objects.filter(slug="pilot").exists()
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


def test_it_refuses_to_replace_a_track_already_imported(media_root, manifest):
    call_command("import_tracks", "pilot", str(manifest))
    Study.objects.filter(slug="pilot").update(excerpt_s=3.0)
    with pytest.raises(CommandError, match="already has a track for prompt p0"):
        call_command("import_tracks", "pilot", str(manifest))
    assert Track.objects.count() == 6


def test_audio_with_nan_samples_is_refused(media_root, tmp_path):
    broken = tone()
    broken[100] = np.nan
    soundfile.write(tmp_path / "nan.wav", broken, SAMPLE_RATE, subtype="FLOAT")
    rows = [{"prompt_id": "p", "system": "s", "kind": "ai", "file": "nan.wav"}]
    with pytest.raises(CommandError, match="row 2: nan.wav contains invalid"):
        call_command("import_tracks", "nan", str(write_manifest(tmp_path, rows)))


def test_silent_clipped_truncated_and_corrupt_files_are_each_named_and_nothing_is_stored(
    media_root, tmp_path
):
    soundfile.write(tmp_path / "good.wav", tone(), SAMPLE_RATE)
    soundfile.write(tmp_path / "silent.wav", np.zeros((SAMPLE_RATE * 4, 2)), SAMPLE_RATE)
    soundfile.write(tmp_path / "clipped.wav", np.clip(tone(amplitude=4.0), -1, 1), SAMPLE_RATE)
    soundfile.write(tmp_path / "whole.flac", tone(), SAMPLE_RATE)
    whole = (tmp_path / "whole.flac").read_bytes()
    (tmp_path / "truncated.flac").write_bytes(whole[: len(whole) // 2])
    soundfile.write(tmp_path / "whole.wav", tone(), SAMPLE_RATE)
    wav = (tmp_path / "whole.wav").read_bytes()
    (tmp_path / "truncated.wav").write_bytes(wav[: len(wav) // 3])
    (tmp_path / "corrupt.mp3").write_bytes(b"ID3" + bytes(2000))
    names = ["good.wav", "silent.wav", "clipped.wav", "truncated.flac", "truncated.wav"]
    rows = [
        {"prompt_id": f"p{i}", "system": "s", "kind": "ai", "file": name}
        for i, name in enumerate(names)
    ]
    rows.append({"prompt_id": "p9", "system": "s", "file": "corrupt.mp3"})
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "bad", str(write_manifest(tmp_path, rows)))
    message = str(error.value)
    assert "5 problem(s), nothing was imported" in message
    assert "row 3: silent.wav is silent (every sample is zero)" in message
    assert "row 4: clipped.wav is heavily clipped (" in message
    assert "row 5: truncated.flac not readable as FLAC audio: corrupt, truncated" in message
    assert "row 6: truncated.wav is truncated: the file ends before the audio" in message
    assert "row 7: corrupt.mp3 not readable as MP3 audio" in message
    assert (Study.objects.count(), Track.objects.count()) == (0, 0)
    assert not (media_root / "tracks").exists()


def test_tracks_shorter_than_an_existing_studys_excerpt_are_refused(media_root, manifest):
    Study.objects.create(slug="long", title="Long excerpts", excerpt_s=4.5)
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "long", str(manifest))
    message = str(error.value)
    assert "3 problem(s), nothing was imported" in message
    assert (
        "row 2: p0_human.wav is too short: 4.00 s, but the study's excerpt needs 4.5 s" in message
    )
    assert Track.objects.count() == 0


def test_a_new_system_without_a_kind_is_an_error_naming_the_row(media_root, tmp_path):
    soundfile.write(tmp_path / "a.wav", tone(frequency=300), SAMPLE_RATE)
    soundfile.write(tmp_path / "b.wav", tone(frequency=400), SAMPLE_RATE)
    rows = [
        {"prompt_id": "p", "system": "HumanLike", "kind": "", "file": "a.wav"},
        {"prompt_id": "p", "system": "Reference-free v2", "kind": "robot", "file": "b.wav"},
    ]
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "kinds", str(write_manifest(tmp_path, rows)))
    message = str(error.value)
    assert "2 problem(s), nothing was imported" in message
    assert (
        "row 2: system 'HumanLike' is new, so the kind column must say whether its tracks "
        "are human-made or AI (human or ai)" in message
    )
    assert "row 3: kind must be human or ai, not 'robot'" in message
    assert (Study.objects.count(), Track.objects.count()) == (0, 0)


def test_names_that_sound_human_are_not_guessed_human(media_root, tmp_path):
    soundfile.write(tmp_path / "a.wav", tone(frequency=300), SAMPLE_RATE)
    soundfile.write(tmp_path / "b.wav", tone(frequency=400), SAMPLE_RATE)
    rows = [
        {"prompt_id": "p", "system": "HumanLike", "kind": "ai", "file": "a.wav"},
        {"prompt_id": "p", "system": "Reference-free v2", "kind": "ai", "file": "b.wav"},
    ]
    call_command("import_tracks", "names", str(write_manifest(tmp_path, rows)))
    assert dict(Study.objects.get(slug="names").systems.values_list("name", "kind")) == {
        "HumanLike": "ai",
        "Reference-free v2": "ai",
    }


def test_a_kind_that_contradicts_the_stored_system_or_another_row_is_refused(
    media_root, manifest, tmp_path
):
    call_command("import_tracks", "pilot", str(manifest))
    for index, frequency in enumerate((300, 400, 500)):
        soundfile.write(tmp_path / f"{index}.wav", tone(frequency=frequency), SAMPLE_RATE)
    rows = [
        {"prompt_id": "q", "system": "model-x", "kind": "human", "file": "0.wav"},
        {"prompt_id": "q", "system": "new-model", "kind": "ai", "file": "1.wav"},
        {"prompt_id": "r", "system": "new-model", "kind": "human", "file": "2.wav"},
    ]
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "other", str(write_manifest(tmp_path, rows)))
    message = str(error.value)
    assert (
        "row 2: system 'model-x' is stored as ai, not human; a system's kind never changes "
        "(use another name for another system)" in message
    )
    assert "row 4: system 'new-model' is human here but ai on row 3" in message
    assert not Study.objects.filter(slug="other").exists()


def test_a_known_system_needs_no_kind_column(media_root, manifest, tmp_path):
    call_command("import_tracks", "pilot", str(manifest))
    soundfile.write(tmp_path / "x.wav", tone(frequency=333), SAMPLE_RATE)
    rows = [{"prompt_id": "q", "system": "model-x", "file": "x.wav"}]
    manifest = write_manifest(tmp_path, rows, ("prompt_id", "system", "file"))
    call_command("import_tracks", "again", str(manifest))
    assert Track.objects.get(prompt__study__slug="again").system.kind == "ai"


def test_the_same_audio_twice_in_a_manifest_is_refused_with_both_rows_named(media_root, tmp_path):
    import subprocess

    from evaluation.stimuli.audio import ffmpeg_exe

    soundfile.write(tmp_path / "bach.wav", tone(frequency=300), SAMPLE_RATE)
    (tmp_path / "bach-copy.wav").write_bytes((tmp_path / "bach.wav").read_bytes())
    soundfile.write(tmp_path / "model.wav", tone(frequency=400), SAMPLE_RATE)
    soundfile.write(tmp_path / "other.wav", tone(frequency=500), SAMPLE_RATE)
    # The model's WAV converted losslessly to FLAC: another file, the same decoded audio.
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "model.wav"), str(tmp_path / "m.flac")],
        check=True,
    )
    rows = [
        {"prompt_id": "bwv197.7-a", "system": "Bach", "kind": "human", "file": "bach.wav"},
        {"prompt_id": "bwv197.7-a", "system": "model", "kind": "ai", "file": "model.wav"},
        {"prompt_id": "bwv398", "system": "Bach", "file": "bach-copy.wav"},
        {"prompt_id": "bwv398", "system": "model", "file": "other.wav"},
        {"prompt_id": "bwv400", "system": "model", "file": "m.flac"},
    ]
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "dupes", str(write_manifest(tmp_path, rows)))
    message = str(error.value)
    digest = hashlib.sha256((tmp_path / "bach.wav").read_bytes()).hexdigest()
    assert "2 problem(s), nothing was imported" in message
    assert (
        f"row 4: bwv398/Bach is the same file as row 2: bwv197.7-a/Bach (SHA-256 "
        f"{digest[:12]}…); each track must be different audio" in message
    )
    assert (
        "row 6: bwv400/model decodes to the same audio as row 3: bwv197.7-a/model; each "
        "track must be different audio" in message
    )
    assert (Study.objects.count(), Track.objects.count()) == (0, 0)


def test_audio_already_stored_in_the_study_is_refused(media_root, manifest, audio_folder):
    call_command("import_tracks", "pilot", str(manifest))
    Study.objects.filter(slug="pilot").update(excerpt_s=3.0)
    rows = [{"prompt_id": "p9", "system": "model-x", "file": "p0_ai.wav"}]
    again = write_manifest(audio_folder, rows, ("prompt_id", "system", "file"))
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "pilot", str(again))
    digest = hashlib.sha256((audio_folder / "p0_ai.wav").read_bytes()).hexdigest()
    assert str(error.value) == (
        f"study 'pilot': row 2: p9/model-x is the same file as stored track p0/model-x "
        f"(SHA-256 {digest[:12]}…); each track must be different audio"
    )
    assert Track.objects.count() == 6


def test_a_slug_that_cannot_appear_in_a_url_is_refused_before_reading_anything(
    media_root, manifest
):
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "my study!", str(manifest))
    assert str(error.value) == (
        "study slug 'my study!' is not valid: use only letters, digits, hyphens and "
        "underscores (e.g. 'pilot-2026'). Nothing was imported."
    )
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "s" * 65, str(manifest))
    assert "study slug is 65 characters long; the limit is 64" in str(error.value)
    assert Study.objects.count() == 0 and Track.objects.count() == 0


def test_over_long_fields_are_named_by_row_and_column_and_nothing_is_stored(media_root, tmp_path):
    soundfile.write(tmp_path / "good.wav", tone(), SAMPLE_RATE)
    rows = [
        {"prompt_id": "p1", "system": "a", "kind": "ai", "file": "good.wav"},
        {"prompt_id": "p" * 101, "system": "a", "kind": "ai", "file": "good.wav"},
        {"prompt_id": "p3", "system": "s" * 120, "kind": "ai", "file": "good.wav"},
    ]
    with pytest.raises(CommandError) as error:
        call_command("import_tracks", "lengths", str(write_manifest(tmp_path, rows)))
    message = str(error.value)
    assert "2 problem(s), nothing was imported" in message
    assert "row 3: prompt_id is 101 characters long; the limit is 100" in message
    assert "row 4: system is 120 characters long; the limit is 100" in message
    assert not Study.objects.filter(slug="lengths").exists()
    assert Track.objects.count() == 0 and Prompt.objects.count() == 0


def test_files_are_hashed_and_copied_in_chunks_never_read_whole(
    media_root, manifest, audio_folder, monkeypatch
):
    from pathlib import Path

    from evaluation.services import tracks

    source = (audio_folder / "p1_ai.wav").read_bytes()

    def refuse(self):
        raise AssertionError(f"{self} read whole into memory")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    monkeypatch.setattr(tracks, "CHUNK_BYTES", 4096)
    reads = []
    real_open = Path.open

    def counting_open(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        if "b" in mode and self.suffix == ".wav":
            real_read = handle.read
            handle.read = lambda size=-1: reads.append(size) or real_read(size)
        return handle

    monkeypatch.setattr(Path, "open", counting_open)
    call_command("import_tracks", "chunks", str(manifest))
    monkeypatch.undo()
    track = Track.objects.get(prompt__external_id="p1", system__name="model-x")
    assert track.sha256 == hashlib.sha256(source).hexdigest()
    assert track.file.read() == source
    assert reads and -1 not in reads and max(reads) <= 64 * 1024


def test_generated_tracks_with_an_over_long_system_name_are_refused_before_storing(media_root):
    from evaluation.services import ServiceError
    from evaluation.services.tracks import TrackInput, tracks_store

    study = Study.objects.create(slug="generated", title="Generated")
    item = TrackInput(
        prompt_id="bwv1",
        system="x" * 101,  # e.g. a long EARSHOT_GENERATION_HTTP_SYSTEM
        content=b"fLaC",
        original_name="bwv1.flac",
        format="flac",
        duration_s=4.0,
        sample_rate=44100,
        channels=2,
    )
    with pytest.raises(ServiceError) as error:
        tracks_store(study=study, inputs=[item], written=[])
    assert error.value.code == "field_too_long"
    assert str(error.value) == (
        f"nothing was stored: prompt 'bwv1' of {'x' * 100!r}: system is 101 characters long; "
        f"the limit is 100"
    )
    assert Track.objects.count() == 0 and Prompt.objects.count() == 0

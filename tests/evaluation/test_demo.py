"""`manage.py demo`: builds an open study from the built-in generator without a worker."""

import re

import pytest
from django.core.management import call_command

from evaluation.models import Study, Track

pytestmark = pytest.mark.django_db


def test_demo_builds_an_open_study_and_prints_login_results_and_invite(media_root, capsys):
    call_command("demo", "--prompts", "2", "--admin-password", "pw-demo-1")
    out = capsys.readouterr().out
    study = Study.objects.get(slug="demo")
    assert study.status == Study.Status.OPEN
    assert study.pairs.count() == 2
    assert Track.objects.filter(prompt__study=study).count() == 4
    assert {(track.system.name, track.system.kind) for track in Track.objects.all()} == {
        ("Bach (human reference)", "human"),
        ("Built-in neural harmonizer", "ai"),
    }
    assert "user 'admin'  password 'pw-demo-1'" in out
    assert "http://127.0.0.1:8000/studies/demo/results/" in out
    assert re.search(r"panelist link:  http://127\.0\.0\.1:8000/p/[\w-]{20,}/", out)


def test_running_demo_again_reuses_the_study(media_root, capsys):
    # One prompt is enough to see reuse (the test above checks a study of two).
    call_command("demo", "--prompts", "1", "--admin-password", "pw-demo-1")
    first = capsys.readouterr().out
    call_command("demo", "--prompts", "1", "--admin-password", "pw-demo-2")
    second = capsys.readouterr().out
    assert Study.objects.count() == 1
    assert Track.objects.count() == 2
    invite = re.search(r"panelist link:  (\S+)", first).group(1)
    assert invite in second


@pytest.mark.parametrize(
    "design, slug, pairs, tracks",
    [("single", "demo-single", 2, 2), ("pool", "demo-pool", 1, 3)],
)
def test_demo_builds_a_study_of_each_design(media_root, capsys, design, slug, pairs, tracks):
    from evaluation.models import Trial

    call_command("demo", "--prompts", "1", "--design", design, "--admin-password", "pw-demo-1")
    out = capsys.readouterr().out
    study = Study.objects.get(slug=slug)
    assert study.status == Study.Status.OPEN and study.design == design
    assert f"design:         {design}" in out
    assert study.pairs.count() == pairs and set(study.pairs.values_list("kind", flat=True)) == {
        design
    }
    assert Track.objects.filter(prompt__study=study).count() == tracks
    kinds = {track.system.kind for track in Track.objects.filter(prompt__study=study)}
    assert kinds == {"human", "ai"}
    if design == "pool":
        trial = Trial.objects.filter(pair__study=study).first()
        assert trial.candidates.count() == 3
    else:
        assert study.aspect_names() == ["melody", "structure", "emotion"]
    assert re.search(r"panelist link:  http://127\.0\.0\.1:8000/p/[\w-]{20,}/", out)

"""Migrations: responses stored before snapshots existed get one from their rows, and
systems keep the human/AI side their old flag said."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("evaluation", "0004_headphone_check")]


def _old_rows(apps) -> dict:
    """One answered trial (swapped, so the pair's second stimulus played as A) in the
    schema of migration 0004."""
    System, Study = apps.get_model("evaluation", "System"), apps.get_model("evaluation", "Study")
    Prompt, Track = apps.get_model("evaluation", "Prompt"), apps.get_model("evaluation", "Track")
    Stimulus, Pair = apps.get_model("evaluation", "Stimulus"), apps.get_model("evaluation", "Pair")
    Panel, Panelist = (
        apps.get_model("evaluation", "Panel"),
        apps.get_model("evaluation", "Panelist"),
    )
    Trial, Response = (
        apps.get_model("evaluation", "Trial"),
        apps.get_model("evaluation", "Response"),
    )
    now = timezone.now()
    human = System.objects.create(name="Bach", kind="human", is_human=True)
    model = System.objects.create(name="HumanLike", kind="imported", is_human=False)
    study = Study.objects.create(slug="old", title="Old", seed=11, status="open", opened_at=now)
    prompt = Prompt.objects.create(study=study, external_id="bwv1")
    stimuli = []
    for system, digest in ((human, "a"), (model, "b")):
        track = Track.objects.create(
            prompt=prompt, system=system, sha256=digest * 64, duration_s=5.0,
            sample_rate=48000, channels=2, file=f"tracks/{digest}.wav",
        )  # fmt: skip
        stimuli.append(
            Stimulus.objects.create(
                track=track,
                sample_rate=48000,
                channels=2,
                duration_s=3.0,
                excerpt_start_s=0.0,
                loudness_lufs=-23.0,
                true_peak_dbtp=-3.0,
                gain_db=0.0,
                size_bytes=10,
                sha256=digest.upper() * 64,
                file=f"stimuli/{digest}.flac",
            )  # fmt: skip
        )
    pair = Pair.objects.create(study=study, prompt=prompt, first=stimuli[0], second=stimuli[1])
    panelist = Panelist.objects.create(
        study=study, panel=Panel.objects.create(name="p"), expertise="student", consent_at=now
    )
    trial = Trial.objects.create(pair=pair, prompt=prompt, round=0, swapped=True, panelist=panelist)
    Response.objects.create(
        trial=trial, panelist=panelist, choice="a", listen_a_s=3.0, listen_b_s=3.0,
        started_at=now, submitted_at=now,
    )  # fmt: skip
    return {"stimuli": [s.pk for s in stimuli]}


@pytest.mark.django_db(transaction=True)
def test_responses_from_before_snapshots_get_one_from_their_rows():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    created = _old_rows(executor.loader.project_state(BEFORE).apps)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from evaluation.exports import response_row
    from evaluation.models import Response, Study, System

    response = Response.objects.get()
    human_stimulus, model_stimulus = created["stimuli"]
    assert (response.system_a, response.system_b) == ("HumanLike", "Bach")
    assert (response.system_a_kind, response.system_b_kind, response.ai_side) == (
        "ai",
        "human",
        "a",
    )
    assert (response.stimulus_a_id, response.stimulus_b_id) == (model_stimulus, human_stimulus)
    assert (response.stimulus_a_sha256, response.track_a_sha256) == ("B" * 64, "b" * 64)
    assert (response.prompt_external_id, response.position_swapped) == ("bwv1", True)
    assert (response.is_catch, response.catch_passed) == (False, None)
    study = Study.objects.get(slug="old")
    assert (response.study_version, response.study_seed) == (1, 11)
    assert response.study_config_hash == study.config_hash()
    assert response_row(response, study)["preferred_system"] == "HumanLike"
    assert dict(System.objects.values_list("name", "kind")) == {"Bach": "human", "HumanLike": "ai"}
    assert dict(System.objects.values_list("name", "source")) == {
        "Bach": "imported",
        "HumanLike": "imported",
    }


PANELS_BEFORE = [("evaluation", "0011_hardening_job_heartbeat")]
PANELS_AFTER = [("evaluation", "0013_panels_strata_reservations")]


@pytest.mark.django_db(transaction=True)
def test_old_expertise_values_become_the_four_strata_and_back():
    executor = MigrationExecutor(connection)
    executor.migrate(PANELS_BEFORE)
    apps = executor.loader.project_state(PANELS_BEFORE).apps
    Study, Panel = apps.get_model("evaluation", "Study"), apps.get_model("evaluation", "Panel")
    Panelist = apps.get_model("evaluation", "Panelist")
    now = timezone.now()
    panel = Panel.objects.create(name="old panel")
    studies = [Study.objects.create(slug=f"s{n}", title="s") for n in range(2)]
    for value in ("none", "hobbyist", "student", "professional"):
        Panelist.objects.create(study=studies[0], panel=panel, expertise=value, consent_at=now)
    executor.loader.build_graph()
    executor.migrate(PANELS_AFTER)
    apps = executor.loader.project_state(PANELS_AFTER).apps
    Panelist, Study = (
        apps.get_model("evaluation", "Panelist"),
        apps.get_model("evaluation", "Study"),
    )
    assert sorted(Panelist.objects.values_list("expertise", flat=True)) == [
        "amateur",
        "non_musician",
        "professional",
        "semi_professional",
    ]
    salts = set(Study.objects.values_list("external_id_salt", flat=True))
    assert len(salts) == 2  # each study its own salt
    executor.loader.build_graph()
    executor.migrate(PANELS_BEFORE)
    apps = executor.loader.project_state(PANELS_BEFORE).apps
    Panelist = apps.get_model("evaluation", "Panelist")
    assert sorted(Panelist.objects.values_list("expertise", flat=True)) == [
        "hobbyist",
        "none",
        "professional",
        "student",
    ]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

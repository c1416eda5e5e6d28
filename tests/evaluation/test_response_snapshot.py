"""An answer means forever what it meant when it was given: the response's snapshot.

Each test answers first, then changes the rows the answer was derived from, the way a
database shell could (admin and services refuse these edits, see test_frozen_study.py),
and checks that exports of the earlier answers do not change by a byte."""

import csv
import io

import pytest
from django.db.models import F

from evaluation.exports import responses_csv
from evaluation.models import Pair, Prompt, Response, Stimulus, Study, System, Track, Trial

pytestmark = pytest.mark.django_db


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_snapshot_records_what_each_answer_meant(prepared_study, make_panelist, answer_all):
    panelist = make_panelist()
    trials = answer_all(panelist, lambda trial: "a")
    for trial in trials:
        response = Response.objects.get(trial=trial)
        stimulus_a, stimulus_b = trial.stimulus_at("a"), trial.stimulus_at("b")
        assert (response.system_a, response.system_b) == (
            stimulus_a.track.system.name,
            stimulus_b.track.system.name,
        )
        assert (response.system_a_kind, response.system_b_kind) == (
            stimulus_a.track.system.kind,
            stimulus_b.track.system.kind,
        )
        assert (response.stimulus_a_id, response.stimulus_b_id) == (stimulus_a.pk, stimulus_b.pk)
        assert (response.stimulus_a_sha256, response.stimulus_b_sha256) == (
            stimulus_a.sha256,
            stimulus_b.sha256,
        )
        assert (response.track_a_sha256, response.track_b_sha256) == (
            stimulus_a.track.sha256,
            stimulus_b.track.sha256,
        )
        assert response.prompt_external_id == trial.prompt.external_id
        assert response.position_swapped == trial.swapped
        assert (response.is_catch, response.catch_passed) == (False, None)
        assert (response.study_version, response.study_seed) == (1, 7)
        assert response.study_config_hash == prepared_study.config_hash()
    kinds = {
        (r.system_a, r.system_a_kind, r.system_b, r.system_b_kind) for r in Response.objects.all()
    }
    assert kinds <= {
        ("human reference", "human", "model-x", "ai"),
        ("model-x", "ai", "human reference", "human"),
    }
    assert {r.ai_side for r in Response.objects.all()} <= {"a", "b"}
    for response in Response.objects.all():
        assert response.ai_side == ("a" if response.system_a == "model-x" else "b")


def test_changing_every_upstream_row_leaves_earlier_export_rows_byte_identical(
    prepared_study, make_panelist, answer_all
):
    answer_all(make_panelist(), lambda trial: "a")
    answer_all(make_panelist(), lambda trial: "b")
    before = responses_csv(prepared_study)
    hash_before = prepared_study.config_hash()
    first_before = rows_of(before)[0]

    # Track systems: the AI model is renamed and now claims to be human.
    System.objects.filter(name="model-x").update(name="HumanLike", kind="human")
    System.objects.filter(name="human reference").update(kind="ai")
    # Tracks: the source checksums change.
    Track.objects.update(sha256="0" * 64)
    # Pair links: first and second stimulus change places.
    for pair in Pair.objects.all():
        Pair.objects.filter(pk=pair.pk).update(first=pair.second_id, second=pair.first_id)
    # Trials: every position flips.
    Trial.objects.update(swapped=~F("swapped"))
    # Stimuli: new files.
    Stimulus.objects.update(sha256="f" * 64)
    # Prompts: renamed.
    for prompt in Prompt.objects.all():
        Prompt.objects.filter(pk=prompt.pk).update(external_id=f"renamed-{prompt.pk}")
    # Protocol: minimum listening, seed and the AI question all change.
    Study.objects.filter(pk=prepared_study.pk).update(min_listen_s=0.0, seed=999, ask_ai=False)
    prepared_study.refresh_from_db()

    after = responses_csv(prepared_study)
    assert after.encode() == before.encode()
    assert len(rows_of(after)) == 6
    assert prepared_study.config_hash() != hash_before
    assert {row["study_config_hash"] for row in rows_of(after)} == {hash_before}
    assert {row["seed"] for row in rows_of(after)} == {"7"}
    assert first_before["system_a"] in ("human reference", "model-x")
    assert {row["prompt_id"] for row in rows_of(after)} == {"p0", "p1", "p2"}


def test_a_later_answer_carries_the_protocol_hash_of_its_own_time(
    prepared_study, make_panelist, answer_all
):
    early = make_panelist()
    answer_all(early, lambda trial: "a")
    hash_before = prepared_study.config_hash()
    Study.objects.filter(pk=prepared_study.pk).update(min_listen_s=1.0)
    prepared_study.refresh_from_db()
    late = make_panelist()
    answer_all(late, lambda trial: "b")
    hashes = {}
    for row in rows_of(responses_csv(prepared_study)):
        hashes.setdefault(row["panelist_id"], []).append(row["study_config_hash"])
    assert hashes == {
        early.pseudonym: [hash_before] * 3,
        late.pseudonym: [prepared_study.config_hash()] * 3,
    }
    assert hash_before != prepared_study.config_hash()


def test_ai_side_and_preferred_system_come_from_the_snapshot(
    prepared_study, make_panelist, answer_all
):
    answer_all(make_panelist(), lambda trial: "a")
    System.objects.update(kind="human")
    for row in rows_of(responses_csv(prepared_study)):
        assert row["ai_side"] == ("a" if row["system_a"] == "model-x" else "b")
        assert row["preferred_system"] == row["system_a"]
        assert (row["system_a_kind"], row["system_b_kind"]) == (
            ("ai", "human") if row["system_a"] == "model-x" else ("human", "ai")
        )


def test_the_export_appends_the_snapshot_columns(prepared_study, make_panelist, answer_all):
    answer_all(make_panelist(), lambda trial: "tie")
    header, *_ = responses_csv(prepared_study).splitlines()
    # After the listening evidence (columns 29-33); issue 12's columns follow from 41.
    assert header.split(",")[33:40] == [
        "system_a_kind",
        "system_b_kind",
        "stimulus_a_id",
        "stimulus_b_id",
        "stimulus_a_sha256",
        "stimulus_b_sha256",
        "study_version",
    ]
    response = Response.objects.first()
    row = rows_of(responses_csv(prepared_study))[0]
    assert row["stimulus_a_id"] == str(response.stimulus_a_id)
    assert row["stimulus_a_sha256"] == response.stimulus_a_sha256
    assert len(row["stimulus_b_sha256"]) == 64
    assert row["study_version"] == "1"

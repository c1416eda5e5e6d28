"""simulate_panel drives the real services and marks its panelists as simulated."""

import pytest
from django.core.management import CommandError, call_command

from evaluation.models import Panelist, Response

pytestmark = pytest.mark.django_db


def test_it_fills_the_study_through_scheduling(prepared_study, capsys):
    call_command("simulate_panel", "pilot", "--panelists", "4", "--seed", "2")
    assert Panelist.objects.filter(simulated=True, panel__name="simulated").count() == 4
    assert Response.objects.count() == 12
    counts = [
        pair.trials.filter(response__isnull=False).count() for pair in prepared_study.pairs.all()
    ]
    assert counts == [4, 4, 4]
    assert "4 simulated panelist(s) gave 12 response(s)" in capsys.readouterr().out


def test_a_draft_study_cannot_be_simulated(db):
    from evaluation.models import Study

    Study.objects.create(slug="draft", title="Draft")
    with pytest.raises(CommandError, match="open it first"):
        call_command("simulate_panel", "draft", "--panelists", "1")


def test_an_unknown_study_is_named_in_the_error(db):
    with pytest.raises(CommandError, match="no study with slug 'nope'"):
        call_command("simulate_panel", "nope")


@pytest.mark.parametrize(
    "design, questions",
    [
        (
            "ab",
            {
                "aspects": {"structure": "preference", "emotion": "rating"},
                "ask_rating": True,
                "ask_weaker": True,
                "ask_familiar": True,
                "ask_hit": True,
            },
        ),  # fmt: skip
        (
            "single",
            {
                "aspects": {"melody": "rating", "lyrics": "rating"},
                "ask_weaker": True,
                "ask_familiar": True,
                "ask_hit": True,
            },
        ),  # fmt: skip
        ("pool", {"pool_size": 3, "pool_rank_top3": True, "ask_familiar": True}),
    ],
)
def test_it_drives_every_design_through_the_real_services(design_study, design, questions):
    import csv
    import io

    from evaluation.exports import responses_csv
    from evaluation.models import ResponseCandidate

    study, _ = design_study(design, **questions)
    call_command("simulate_panel", study.slug, "--panelists", "6", "--seed", "3")
    responses = Response.objects.filter(trial__pair__study=study)
    # 6 panelists × 3 trials; a pool study has only 3 pools × K=4 slots.
    answers = 12 if design == "pool" else 18
    assert responses.count() == answers
    assert set(responses.values_list("trial_kind", flat=True)) == {design}
    rows = list(csv.DictReader(io.StringIO(responses_csv(study))))
    assert {row["familiar"] for row in rows} <= {"no", "sounds_familiar", "knows_it"}
    assert all(row["familiar"] for row in rows)
    if design == "pool":
        assert ResponseCandidate.objects.count() == answers * 3 and len(rows) == answers * 3
        assert [row["pick_rank"] for row in rows].count("1") == answers
        assert sorted(row["pick_rank"] for row in rows if row["pick_rank"]) == sorted(
            ["1", "2", "3"] * answers
        )
    else:
        assert len(rows) == answers
        assert all(1 <= int(row["score_melody_a" if design == "single" else "score_emotion_a"]) <= 5
                   for row in rows)  # fmt: skip
    if design == "single":
        assert {row["guess_kind"] for row in rows} == {"human", "ai"}
        assert all(50 <= int(row["guess_confidence"]) <= 100 for row in rows)
    if design == "ab":
        assert {row["aspect_structure"] for row in rows} <= {"a", "b", "tie"}
        assert any(row["weaker_a"] or row["weaker_b"] for row in rows)

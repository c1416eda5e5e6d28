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

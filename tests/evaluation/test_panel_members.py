"""A panel's roster from CSV (services.panel_members, manage.py import_panelists): every cell
checked, errors name row and column, nothing stored on any error, --dry-run stores nothing."""

import pytest
from django.core.management import CommandError, call_command

from evaluation.models import Panel, PanelMember
from evaluation.services.panel_members import RosterError, panel_members_import, roster_parse

pytestmark = pytest.mark.django_db

GOOD = (
    "external_id,expertise,email,instrument_family,genres,languages\n"
    'm1,professional,m1@example.org,strings,"jazz, classical","en,de"\n'
    "m2,Amateur,,voice,pop,en\n"
    "m3,hobbyist,m3@example.org,,,\n"  # an old value, read as amateur
)


def write(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_roster_is_imported_with_tidy_values(tmp_path, capsys):
    call_command("import_panelists", "pros", str(write(tmp_path, GOOD)))
    assert "Imported 3 new and 0 updated" in capsys.readouterr().out
    members = {m.external_id: m for m in PanelMember.objects.all()}
    assert members["m1"].genres == "jazz, classical" and members["m1"].languages == "en, de"
    assert members["m2"].expertise == "amateur" and members["m3"].expertise == "amateur"
    assert members["m1"].panel.name == "pros"


def test_a_second_import_updates_members_by_their_id(tmp_path):
    panel_members_import(panel_name="pros", text=GOOD)
    changed = GOOD.replace("m2,Amateur", "m2,semi_professional")
    outcome = panel_members_import(panel_name="pros", text=changed)
    assert (len(outcome.created), len(outcome.updated)) == (0, 3)
    assert PanelMember.objects.get(external_id="m2").expertise == "semi_professional"


def test_dry_run_stores_nothing_not_even_the_panel(tmp_path, capsys):
    call_command("import_panelists", "pros", str(write(tmp_path, GOOD)), "--dry-run")
    assert "Would import 3 new" in capsys.readouterr().out
    assert not Panel.objects.exists() and not PanelMember.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("external_id,email\nm1,a@b.org\n", "row 1: missing column(s) expertise"),
        ("external_id,expertise,age\nm1,amateur,30\n", "row 1: unknown column(s) age"),
        ("external_id,expertise\nm1,guru\n", "row 2, column expertise: 'guru' is not one of"),
        ("external_id,expertise\n,amateur\n", "row 2, column external_id: empty"),
        ("external_id,expertise,email\nm1,amateur,not-mail\n", "row 2, column email: 'not-mail'"),
        (
            "external_id,expertise,instrument_family\nm1,amateur,kazoo\n",
            "row 2, column instrument_family: 'kazoo'",
        ),
        ("external_id,expertise\nm1,amateur\nm1,professional\n", "'m1' is also on row 2"),
        ("external_id,expertise\nm1,amateur,extra\n", "row 2: more cells than columns"),
        ("external_id,expertise\n" + "m" * 101 + ",amateur\n", "row 2, column external_id: 101"),
        ("external_id,expertise\n", "no rows"),
    ],
)
def test_each_bad_cell_is_named_and_nothing_is_stored(text, message):
    with pytest.raises(RosterError) as refused:
        panel_members_import(panel_name="pros", text=text)
    assert message in str(refused.value)
    assert not Panel.objects.exists() and not PanelMember.objects.exists()


def test_one_bad_row_among_good_ones_stores_none_of_them(tmp_path):
    text = GOOD + "m4,virtuoso,,,,\n"
    with pytest.raises(CommandError, match="row 5, column expertise: 'virtuoso'"):
        call_command("import_panelists", "pros", str(write(tmp_path, text)))
    assert not PanelMember.objects.exists() and not Panel.objects.exists()


def test_every_problem_is_listed_at_once():
    text = "external_id,expertise,email\nm1,guru,x\n,amateur,\n"
    with pytest.raises(RosterError) as refused:
        roster_parse(text)
    assert len(refused.value.problems) == 3

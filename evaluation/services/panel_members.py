"""A panel's roster from a CSV file: validated row by row, stored all or nothing.

Columns (header row required; order free; names case-insensitive):

| column | required | what |
|---|---|---|
| ``external_id`` | yes | the researcher's id for the person, unique within the panel |
| ``expertise`` | yes | professional, semi_professional, amateur or non_musician (the old none, hobbyist, student are read as non_musician, amateur, semi_professional) |
| ``email`` | no | where personal invites go |
| ``instrument_family`` | no | voice, keyboards, strings, winds, percussion, electronic, other |
| ``genres`` | no | comma-separated |
| ``languages`` | no | comma-separated (e.g. ``en, de``) |

Errors name the row (1-based, the header is row 1, as spreadsheets show it) and the column.
A member already on the roster (same ``external_id``) is updated."""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from evaluation.models import LEGACY_EXPERTISE, Expertise, InstrumentFamily, Panel, PanelMember
from evaluation.services import ServiceError

COLUMNS = ("external_id", "expertise", "email", "instrument_family", "genres", "languages")
REQUIRED = ("external_id", "expertise")
MAX_LENGTHS = {
    "external_id": 100,
    "email": 254,
    "genres": 200,
    "languages": 100,
}
MAX_ROWS = 100_000


class RosterError(ServiceError):
    """A roster file that cannot be imported; ``problems`` lists every bad cell."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:50]
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            "nothing was imported; fix these and run again:\n" + "\n".join(shown) + more,
            code="invalid_roster",
        )


@dataclass
class RosterImport:
    """What an import did (or, with ``dry_run``, would do)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    dry_run: bool = False


def _list_cell(value: str) -> str:
    """A comma-separated cell tidied: items stripped, empty ones dropped."""
    return ", ".join(item.strip() for item in value.split(",") if item.strip())


def roster_parse(text: str) -> list[dict[str, str]]:
    """The rows of a roster CSV as member fields; raises RosterError naming every bad cell."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    problems = []
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing:
        problems.append(f"row 1: missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(
            f"row 1: unknown column(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})"
        )
    if problems:
        raise RosterError(problems)
    reader.fieldnames = header
    rows, seen = [], {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise RosterError([f"row {number}: more than {MAX_ROWS} rows"])
        if None in raw:
            problems.append(f"row {number}: more cells than columns")
            continue
        row = {name: (raw.get(name) or "").strip() for name in COLUMNS}
        if not any(row.values()):
            continue  # a blank line
        for name in REQUIRED:
            if not row[name]:
                problems.append(f"row {number}, column {name}: empty")
        for name, limit in MAX_LENGTHS.items():
            if len(row[name]) > limit:
                problems.append(
                    f"row {number}, column {name}: {len(row[name])} characters, at most {limit}"
                )
        expertise = LEGACY_EXPERTISE.get(row["expertise"].lower(), row["expertise"].lower())
        if row["expertise"] and expertise not in Expertise.values:
            problems.append(
                f"row {number}, column expertise: {row['expertise']!r} is not one of "
                f"{', '.join(Expertise.values)}"
            )
        row["expertise"] = expertise
        family = row["instrument_family"].lower()
        if family not in InstrumentFamily.values:
            problems.append(
                f"row {number}, column instrument_family: {row['instrument_family']!r} is not "
                f"one of {', '.join(v for v in InstrumentFamily.values if v)} (or empty)"
            )
        row["instrument_family"] = family
        if row["email"]:
            try:
                validate_email(row["email"])
            except ValidationError:
                problems.append(f"row {number}, column email: {row['email']!r} is not an e-mail")
        row["genres"], row["languages"] = _list_cell(row["genres"]), _list_cell(row["languages"])
        if row["external_id"]:
            if row["external_id"] in seen:
                problems.append(
                    f"row {number}, column external_id: {row['external_id']!r} is also on "
                    f"row {seen[row['external_id']]}"
                )
            seen.setdefault(row["external_id"], number)
        rows.append(row)
    if problems:
        raise RosterError(problems)
    if not rows:
        raise RosterError(["the file has a header but no rows"])
    return rows


@transaction.atomic
def panel_members_import(*, panel_name: str, text: str, dry_run: bool = False) -> RosterImport:
    """Add or update the roster members of the panel named `panel_name` (made when it does
    not exist) from a CSV's text. Every row is checked before anything is stored; any
    problem raises RosterError and stores nothing (not even the panel). With `dry_run`
    nothing is stored either, and the result says what would happen."""
    rows = roster_parse(text)
    if not panel_name.strip() or len(panel_name) > 100:
        raise ServiceError("the panel name must be 1 to 100 characters", code="invalid_roster")
    panel = Panel.objects.filter(name=panel_name).first()
    if panel is None and not dry_run:
        panel = Panel.objects.create(name=panel_name)
    existing = (
        {
            member.external_id: member
            for member in PanelMember.objects.select_for_update().filter(
                panel=panel, external_id__in=[row["external_id"] for row in rows]
            )
        }
        if panel is not None
        else {}
    )
    outcome = RosterImport(dry_run=dry_run)
    fields = [name for name in COLUMNS if name != "external_id"]
    for row in rows:
        member = existing.get(row["external_id"])
        if member is None:
            outcome.created.append(row["external_id"])
            if not dry_run:
                PanelMember.objects.create(panel=panel, **row)
        else:
            outcome.updated.append(row["external_id"])
            if not dry_run:
                for name in fields:
                    setattr(member, name, row[name])
                member.save(update_fields=fields)
    return outcome

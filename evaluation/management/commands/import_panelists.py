from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evaluation.services import ServiceError
from evaluation.services.panel_members import COLUMNS, panel_members_import


class Command(BaseCommand):
    help = (
        "Import a panel's roster from a CSV (columns: " + ", ".join(COLUMNS) + "; external_id"
        " and expertise required). Every row is checked first; any error stores nothing and"
        " names its row and column. Creates the panel when it does not exist (not with"
        " --dry-run). Members already on the roster (same external_id) are updated."
    )

    def add_arguments(self, parser):
        parser.add_argument("panel", help="panel name")
        parser.add_argument("csv", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report; store nothing"
        )

    def handle(self, *args, panel, csv, dry_run, **options):
        try:
            text = csv.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {csv}: {exc}") from exc
        try:
            outcome = panel_members_import(panel_name=panel, text=text, dry_run=dry_run)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(outcome.created)} new and {len(outcome.updated)} updated "
                f"member(s) of panel '{panel}'."
            )
        )

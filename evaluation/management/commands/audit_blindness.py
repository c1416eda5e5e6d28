from django.core.management.base import BaseCommand, CommandError

from evaluation.management.commands._progress import progress_bar
from evaluation.management.commands._study import study_from_slug
from evaluation.selectors.blindness import study_audit
from evaluation.stimuli.audit import format_table


class Command(BaseCommand):
    help = (
        "Check that every pair's stimuli are matched (loudness, true peak, duration, format, "
        "no tags) and that file size or duration cannot predict the system. Prints a table; "
        "exits non-zero listing the failing pairs. `open_study` runs the same audit."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")

    def handle(self, *args, study, **options):
        study = study_from_slug(study)
        with progress_bar("measuring stimuli", self.stderr) as progress:
            report = study_audit(study=study, progress=progress)
        self.stdout.write(format_table(report))
        if not report.passed:
            listing = "\n".join(f"  - {line}" for line in report.failure_lines())
            raise CommandError(f"blindness audit of '{study.slug}' FAILED:\n{listing}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Blindness audit of '{study.slug}' passed: {len(report.pairs)} pair(s)."
            )
        )

from pathlib import Path

from django.core.management.base import BaseCommand

from evaluation.exports import summary_csv
from evaluation.management.commands._study import study_from_slug
from evaluation.selectors.results import study_results
from evaluation.services.studies import study_export


class Command(BaseCommand):
    help = "Write responses.csv (one row per response) and summary.csv for a study into a folder."

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")
        parser.add_argument("--out", type=Path, required=True, help="output folder")
        parser.add_argument(
            "--include-simulated",
            action="store_true",
            help="count simulated panelists in summary.csv (left out by default; responses.csv "
            "always has every row, flagged in its simulated column)",
        )

    def handle(self, *args, study, out, include_simulated=False, **options):
        study = study_from_slug(study)
        out.mkdir(parents=True, exist_ok=True)
        responses = study_export(study=study, via="export_results")
        (out / "responses.csv").write_text(responses, encoding="utf-8")
        summary = study_results(study, include_simulated=include_simulated)
        (out / "summary.csv").write_text(summary_csv(summary), encoding="utf-8")
        rows = responses.count("\n") - 1
        self.stdout.write(f"Wrote {rows} response(s) to {out / 'responses.csv'} and summary.csv.")

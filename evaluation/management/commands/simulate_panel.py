from django.core.management.base import BaseCommand, CommandError

from evaluation.management.commands._progress import progress_bar
from evaluation.management.commands._study import study_from_slug
from evaluation.services.simulation import panel_simulate


class Command(BaseCommand):
    help = (
        "Drive N simulated panelists through the real scheduling and response services, "
        "under the panel 'simulated' (their rows are marked simulated=1 in exports)."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")
        parser.add_argument("--panelists", type=int, default=20)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, study, panelists, seed, **options):
        study = study_from_slug(study)
        if not study.is_open:
            raise CommandError(
                f"study '{study.slug}' is {study.status}; open it first: "
                f"python manage.py open_study {study.slug}"
            )
        if panelists < 1:
            raise CommandError("--panelists must be at least 1")
        with progress_bar("simulated panelists", self.stderr) as progress:
            outcome = panel_simulate(study=study, panelists=panelists, seed=seed, progress=progress)
        self.stdout.write(
            f"{outcome['panelists']} simulated panelist(s) gave {outcome['responses']} "
            f"response(s) in '{study.slug}'"
            + (
                f"; {outcome['turned_away']} turned away (stratum quota met or not needed)."
                if outcome["turned_away"]
                else "."
            )
        )

from django.core.management.base import BaseCommand

from evaluation.management.commands._progress import progress_bar
from evaluation.management.commands._study import study_from_slug
from evaluation.services.stimuli import stimuli_prepare


class Command(BaseCommand):
    help = "Prepare matched stimuli (excerpt, loudness, codec) for a study's tracks and pair them."

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")

    def handle(self, *args, study, **options):
        study = study_from_slug(study)
        with progress_bar("preparing prompts", self.stderr) as progress:
            outcome = stimuli_prepare(study=study, progress=progress)
        for failure in outcome["failures"]:
            self.stderr.write(self.style.ERROR(failure))
        self.stdout.write(
            f"Prepared {outcome['prompts'] - len(outcome['failures'])} of {outcome['prompts']} "
            f"prompt(s); {outcome['pairs']} new pair(s); "
            f"{study.pairs.count()} pair(s) in '{study.slug}'."
        )
        if outcome["failures"]:
            raise SystemExit(1)
        self.stdout.write(f"Next: python manage.py audit_blindness {study.slug}")

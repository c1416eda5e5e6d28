from django.core.management.base import BaseCommand, CommandError

from evaluation.management.commands._study import study_from_slug
from evaluation.services import ServiceError
from evaluation.services.studies import study_close, study_open


class Command(BaseCommand):
    help = "Open a prepared study for listening (or close it with --close)."

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")
        parser.add_argument("--close", action="store_true")

    def handle(self, *args, study, close, **options):
        study = study_from_slug(study)
        try:
            study = study_close(study=study) if close else study_open(study=study)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Study '{study.slug}' is {study.status}.")

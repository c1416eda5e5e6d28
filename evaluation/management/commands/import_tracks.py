from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evaluation.management.commands._progress import progress_bar
from evaluation.services import ServiceError
from evaluation.services.tracks import tracks_import


class Command(BaseCommand):
    help = (
        "Import tracks from a manifest CSV (columns prompt_id, system, file[, prompt_text]; "
        "file paths relative to the manifest). Validates every row first; stores all or nothing. "
        "Creates the study as a draft when it does not exist."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")
        parser.add_argument("manifest", type=Path)

    def handle(self, *args, study, manifest, **options):
        try:
            with progress_bar("validating", self.stderr) as progress:
                tracks = tracks_import(study_slug=study, manifest=manifest, progress=progress)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        systems = sorted({track.system.name for track in tracks})
        prompts = {track.prompt_id for track in tracks}
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(tracks)} track(s) for {len(prompts)} prompt(s) into '{study}' "
                f"from systems: {', '.join(systems)}."
            )
        )
        self.stdout.write(f"Next: python manage.py prepare_stimuli {study}")

from django.core.management.base import BaseCommand

from evaluation.management.commands._study import study_from_slug
from evaluation.services.reservations import reservations_release_expired


class Command(BaseCommand):
    help = (
        "Release expired trial reservations (holder cleared, fresh token) of one study or of "
        "all. Scheduling already treats an expired slot as free; releasing keeps the counts of "
        "who holds what (dashboard, invite caps) true. Safe to run from cron at any interval."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", nargs="?", help="study slug (default: every study)")

    def handle(self, *args, study=None, **options):
        found = study_from_slug(study) if study else None
        released = reservations_release_expired(study=found)
        self.stdout.write(f"Released {released} expired reservation(s).")

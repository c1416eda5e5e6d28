from django.conf import settings
from django.core.management.base import BaseCommand

from evaluation.management.commands._study import study_from_slug
from evaluation.models import Panel
from evaluation.services.panelists import invite_create


class Command(BaseCommand):
    help = "Create an invite link that enrols panelists of a panel into a study."

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")
        parser.add_argument("--panel", default="default", help="panel name (created if new)")
        parser.add_argument("--max-uses", type=int, default=None, help="1 for a personal link")
        parser.add_argument("--label", default="")

    def handle(self, *args, study, panel, max_uses, label, **options):
        study = study_from_slug(study)
        panel, _ = Panel.objects.get_or_create(name=panel)
        invite = invite_create(study=study, panel=panel, max_uses=max_uses, label=label)
        self.stdout.write(settings.EARSHOT["PUBLIC_URL"] + invite.path())

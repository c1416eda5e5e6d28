from django.core.management.base import BaseCommand, CommandError

from evaluation.management.commands._study import study_from_slug
from evaluation.models import Panel
from evaluation.services import ServiceError
from evaluation.services.invitations import invitations_send


class Command(BaseCommand):
    help = (
        "E-mail every roster member of a panel (see import_panelists) a personal, single-use "
        "link to a study, through Django's e-mail backend (console by default). A member "
        "invited before gets the same link again."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", help="study slug")
        parser.add_argument("panel", help="panel name")
        parser.add_argument("--member", action="append", default=[], help="only this id")
        parser.add_argument("--dry-run", action="store_true", help="list who would get one")

    def handle(self, *args, study, panel, member, dry_run, **options):
        study = study_from_slug(study)
        found = Panel.objects.filter(name=panel).first()
        if found is None:
            raise CommandError(f"no panel named {panel!r}")
        members = found.members.all()
        if member:
            members = members.filter(external_id__in=member)
            unknown = sorted(set(member) - set(members.values_list("external_id", flat=True)))
            if unknown:
                raise CommandError(f"not on the roster of {panel!r}: {', '.join(unknown)}")
        try:
            run = invitations_send(study=study, members=list(members), dry_run=dry_run)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would send" if dry_run else "Sent"
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(run.sent)} invitation(s)."))
        for line in run.skipped:
            self.stdout.write(f"skipped: {line}")

from contextlib import ExitStack

from django.conf import settings
from django.core.management.base import BaseCommand

from evaluation.management.commands._progress import progress_bar
from evaluation.services.demo import demo_build


class Command(BaseCommand):
    help = (
        "Build the demo study synchronously (Bach vs the built-in generator), open it, and print "
        "the admin login, results URL and a panelist invite link. Needs no server or worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--prompts", type=int, default=8)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--admin-password", default=None, help="default: a new random password each run"
        )
        parser.add_argument(
            "--design",
            choices=["ab", "single", "pool"],
            default="ab",
            help="ab (study 'demo'), single ('demo-single': one track, human or AI?) or pool "
            "('demo-pool': pick 1 of 3)",
        )

    def handle(self, *args, prompts, seed, admin_password, design, **options):
        self.stdout.write(f"Building the {design} demo study ({prompts} prompts)...")
        with ExitStack() as bars:
            current = {"stage": None, "update": None}

            def progress(stage: str, done: int, total: int) -> None:
                if stage != current["stage"]:
                    # One bar per stage, the previous one closed first so lines never interleave.
                    bars.close()
                    current["stage"] = stage
                    current["update"] = bars.enter_context(progress_bar(stage, self.stderr))
                current["update"](done, total)

            result = demo_build(
                prompts=prompts,
                seed=seed,
                admin_password=admin_password,
                progress=progress,
                design=design,
            )
        base = settings.EARSHOT["PUBLIC_URL"]
        study = result.study
        self.stdout.write(self.style.SUCCESS(f"Demo study '{study.slug}' is {study.status}."))
        self.stdout.write(f"  design:         {study.design}")
        self.stdout.write(f"  pairs:          {study.pairs.count()}")
        self.stdout.write(
            f"  admin login:    {base}/admin/  user '{result.admin_username}'"
            f"  password '{result.admin_password}'"
        )
        self.stdout.write(f"  results:        {base}/studies/{study.slug}/results/")
        self.stdout.write(f"  panelist link:  {base}{result.invite.path()}")

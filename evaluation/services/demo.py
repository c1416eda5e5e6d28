"""The demo study: Bach's own harmonizations against the built-in generator, ready to listen."""

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Min

from evaluation.models import AuditEntry, Invite, Panel, Study, Track
from evaluation.services import ServiceError
from evaluation.services.audit_log import audit_record
from evaluation.services.generation import (
    GENERATOR_SYSTEMS,
    generator_default,
    generator_systems,
    tracks_generate,
)
from evaluation.services.panelists import invite_create
from evaluation.services.stimuli import stimuli_prepare
from evaluation.services.studies import study_design_set, study_open

DEMO_SLUG = "demo"

# The demo study of each design: its slug and its design settings (Study.DESIGN_FIELDS).
DEMO_DESIGNS = {
    "ab": ("demo", {}),
    "single": (
        "demo-single",
        {
            "design": "single",
            "aspects": {"melody": "rating", "structure": "rating", "emotion": "rating"},
            "ask_weaker": True,
            "ask_familiar": True,
            "ask_hit": True,
        },
    ),
    # Bach, the neural harmonizer and the Markov baseline: three tracks per chorale.
    "pool": (
        "demo-pool",
        {"design": "pool", "pool_size": 3, "pool_rank_top3": True, "ask_familiar": True},
    ),  # fmt: skip
}

DEMO_CONSENT = {
    "single": (
        "You will hear short music excerpts, one at a time, and answer a few questions about "
        "each. Your answers are stored under a pseudonymous id and used for research only."
    ),
    "pool": (
        "You will hear a few versions of the same melody at a time and pick the one you like "
        "best. Your answers are stored under a pseudonymous id and used for research only."
    ),
}

DEMO_TITLES = {
    "ab": "Demo: Bach chorales vs the built-in generator",
    "single": "Demo (single track): Bach or the machine?",
    "pool": "Demo (pool): pick your favourite harmonization",
}


@dataclass
class DemoResult:
    study: Study
    invite: Invite
    admin_username: str
    admin_password: str | None


def demo_admin_ensure(username: str = "admin", password: str | None = None) -> str:
    """Create or reset the demo superuser; returns the password to print."""
    password = password or secrets.token_urlsafe(9)
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return password


def demo_build(
    *,
    prompts: int = 8,
    seed: int = 0,
    generator: str | None = None,
    admin_password: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    design: str = "ab",
) -> DemoResult:
    """Build (or reuse) the demo study of ``design`` (ab, single or pool) synchronously:
    generate, prepare, open, invite.

    ``generator`` defaults to the neural ``builtin`` system when its checkpoint ships. A pool
    demo sets every usable built-in generator against Bach (a pool of 3 needs both the
    neural and the Markov generator)."""
    if design not in DEMO_DESIGNS:
        raise ServiceError(
            f"unknown design {design!r}: choose ab, single or pool", code="invalid_design"
        )
    slug, design_settings = DEMO_DESIGNS[design]
    generator = generator or generator_default()
    generators = [generator]
    if design == "pool":
        usable = [key for key in GENERATOR_SYSTEMS if key in generator_systems()]
        generators = [generator, *[key for key in usable if key != generator]]
        if len(generators) + 1 < design_settings["pool_size"]:
            raise ServiceError(
                "the pool demo needs both built-in generators (neural and Markov) next to "
                f"Bach; usable here: {', '.join(usable) or 'none'}",
                code="invalid_design",
            )
    study = Study.objects.filter(slug=slug).first()
    if study is None or not study.pairs.exists():
        study = study or Study.objects.create(
            slug=slug,
            title=DEMO_TITLES[design],
            **({"consent_text": DEMO_CONSENT[design]} if design in DEMO_CONSENT else {}),
            description=(
                (
                    "Each pair shares the soprano melody of a Bach chorale: one harmonization "
                    "is Bach's own, the other was written by Earshot's built-in generator "
                    f"({GENERATOR_SYSTEMS[generator]}). Both are rendered by the same "
                    "synthesizer."
                )
                if design == "ab"
                else (
                    "Harmonizations of the soprano melodies of Bach chorales: Bach's own and "
                    "those of Earshot's built-in generators ("
                    + ", ".join(GENERATOR_SYSTEMS[key] for key in generators)
                    + "), all rendered by the same synthesizer."
                )
            ),
            # What listeners read: nothing that says which side the generator wrote.
            listener_texts={
                "en": {
                    "title": "Four-part chorales",
                    "description": "Each pair sets the same hymn melody for four voices.",
                },
                "zh-hans": {
                    "title": "四声部众赞歌",
                    "description": "每组两段都是同一首赞美诗旋律的四声部配和声。",
                },
            },
            seed=seed,
            trials_per_panelist=prompts,
            ratings_per_pair=10,
        )
        if not study.audit_entries.exists():
            audit_record(study=study, action=AuditEntry.Action.CREATE, actor_name="demo")
        if design_settings:
            study = study_design_set(study=study, **design_settings)
        for each in generators:
            outcome = tracks_generate(
                study=study,
                system=each,
                prompts=prompts,
                progress=(
                    (lambda done, total: progress("tracks", done, total)) if progress else None
                ),
            )
            if outcome["failures"]:
                raise ServiceError("demo generation failed: " + "; ".join(outcome["failures"]))
        # Excerpts never run past a track (too-short tracks are refused), so the demo's
        # excerpt fits its shortest chorale.
        shortest_s = Track.objects.filter(prompt__study=study).aggregate(Min("duration_s"))
        study.excerpt_s = min(20.0, math.floor(shortest_s["duration_s__min"]))
        study.save(update_fields=["excerpt_s"])
        stimuli_prepare(
            study=study,
            progress=(lambda done, total: progress("stimuli", done, total)) if progress else None,
        )
    study = study_open(study=study)
    panel, _ = Panel.objects.get_or_create(
        name="demo listeners", defaults={"description": "People who open the demo invite link."}
    )
    invite = Invite.objects.filter(
        study=study, panel=panel, max_uses__isnull=True
    ).first() or invite_create(study=study, panel=panel, label="demo invite (multi-use)")
    password = demo_admin_ensure(password=admin_password)
    return DemoResult(study=study, invite=invite, admin_username="admin", admin_password=password)

"""The demo study: Bach's own harmonizations against the built-in generator, ready to listen."""

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from evaluation.models import Invite, Panel, Study, System
from evaluation.services.panelists import invite_create
from evaluation.services.stimuli import stimuli_prepare
from evaluation.services.storage import files_removed_on_error
from evaluation.services.studies import study_open
from evaluation.services.tracks import TrackInput, tracks_store
from evaluation.stimuli.audio import encode_flac

DEMO_SLUG = "demo"
REFERENCE_SYSTEM = "Bach (human reference)"
GENERATOR_SYSTEMS = {"markov": "Markov baseline"}


@dataclass
class DemoResult:
    study: Study
    invite: Invite
    admin_username: str
    admin_password: str | None


def _track_input(prompt_id: str, prompt_text: str, system: str, rendered) -> TrackInput:
    content = encode_flac(rendered.samples, rendered.sample_rate)
    return TrackInput(
        prompt_id=prompt_id,
        system=system,
        prompt_text=prompt_text,
        content=content,
        original_name=f"{prompt_id}.flac",
        format="flac",
        duration_s=rendered.samples.shape[1] / rendered.sample_rate,
        sample_rate=rendered.sample_rate,
        channels=int(rendered.samples.shape[0]),
        provenance=dict(rendered.provenance),
    )


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
    generator: str = "markov",
    admin_password: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoResult:
    """Build (or reuse) the demo study synchronously: generate, import, prepare, open, invite."""
    from generation.pairs import build_pairs

    study = Study.objects.filter(slug=DEMO_SLUG).first()
    if study is None or not study.pairs.exists():
        pairs = build_pairs(n=prompts, seed=seed, system=generator)
        with files_removed_on_error() as written, transaction.atomic():
            study = Study.objects.filter(slug=DEMO_SLUG).first() or Study.objects.create(
                slug=DEMO_SLUG,
                title="Demo: Bach chorales vs the built-in generator",
                description=(
                    "Each pair shares the soprano melody of a Bach chorale: one harmonization "
                    "is Bach's own, the other was written by Earshot's built-in generator. Both "
                    "are rendered by the same synthesizer."
                ),
                seed=seed,
                # Excerpts never run past a track (too-short tracks are refused), so the
                # demo's excerpt fits its shortest chorale.
                excerpt_s=min(
                    20.0,
                    math.floor(
                        min(min(p.reference.duration_s, p.generated.duration_s) for p in pairs)
                    ),
                ),
                trials_per_panelist=prompts,
                ratings_per_pair=10,
            )
            System.objects.get_or_create(
                name=REFERENCE_SYSTEM, defaults={"kind": System.Kind.HUMAN, "is_human": True}
            )
            System.objects.get_or_create(
                name=GENERATOR_SYSTEMS[generator],
                defaults={"kind": System.Kind.BUILTIN, "is_human": False},
            )
            inputs = []
            for pair in pairs:
                inputs.append(
                    _track_input(pair.prompt_id, pair.prompt_text, REFERENCE_SYSTEM, pair.reference)
                )
                inputs.append(
                    _track_input(
                        pair.prompt_id,
                        pair.prompt_text,
                        GENERATOR_SYSTEMS[generator],
                        pair.generated,
                    )
                )
            existing = set(study.prompts.values_list("external_id", flat=True))
            fresh = [item for item in inputs if item.prompt_id not in existing]
            tracks_store(study=study, inputs=fresh, written=written)
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

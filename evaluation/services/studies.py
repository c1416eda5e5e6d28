"""Creating, opening and closing studies."""

from django.db import transaction
from django.utils import timezone

from evaluation.models import Pair, Study, System, Trial
from evaluation.selectors.blindness import study_audit
from evaluation.services import ServiceError


def study_get_or_create_draft(*, slug: str, title: str | None = None, **protocol) -> Study:
    """The study with this slug, or a new draft with it (title defaults to the slug)."""
    study, _ = Study.objects.get_or_create(
        slug=slug, defaults={"title": title or slug.replace("-", " ").capitalize(), **protocol}
    )
    return study


def system_get_or_create(*, name: str, kind: str = System.Kind.IMPORTED, is_human=None) -> System:
    """A system by name; names that read as human references ("human", "reference") are human."""
    if is_human is None:
        lowered = name.lower()
        is_human = kind == System.Kind.HUMAN or "human" in lowered or "reference" in lowered
    system, _ = System.objects.get_or_create(
        name=name,
        defaults={"kind": System.Kind.HUMAN if is_human else kind, "is_human": is_human},
    )
    return system


def slots_ensure(*, study: Study) -> int:
    """Create the K rating slots (trials) of every pair; returns how many were added.

    Within a pair, A/B positions alternate by round, so each pair is heard equally often
    each way round (counterbalancing), and a pair-dependent offset balances across pairs.
    """
    existing = set(Trial.objects.filter(pair__study=study).values_list("pair_id", "round"))
    new_slots = [
        Trial(
            pair=pair,
            prompt_id=pair.prompt_id,
            round=k,
            swapped=bool((k + pair.pk) % 2),
        )
        # Catch pairs have no slots: scheduling makes their trials per panelist.
        for pair in Pair.objects.filter(study=study, is_catch=False)
        for k in range(study.ratings_per_pair)
        if (pair.pk, k) not in existing
    ]
    Trial.objects.bulk_create(new_slots)
    return len(new_slots)


def study_open(*, study: Study) -> Study:
    """Open a study for listening: it needs prepared pairs that pass the blindness audit
    (measured before the transaction, so the database is not held while files are read);
    rating slots are created here."""
    if study.status == Study.Status.OPEN:
        return study
    if not Pair.objects.filter(study=study).exists():
        raise ServiceError(
            f"Study '{study.slug}' has no prepared pairs: import tracks, then run "
            f"`python manage.py prepare_stimuli {study.slug}`.",
            code="not_prepared",
        )
    report = study_audit(study=study)
    if not report.passed:
        listing = "\n".join(f"  - {line}" for line in report.failure_lines())
        raise ServiceError(
            f"Study '{study.slug}' failed the blindness audit and stays {study.status}:\n"
            f"{listing}\nDetails: `python manage.py audit_blindness {study.slug}`.",
            code="blindness_audit_failed",
        )
    return _study_mark_open(study=study)


@transaction.atomic
def _study_mark_open(*, study: Study) -> Study:
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status == Study.Status.OPEN:
        return study
    slots_ensure(study=study)
    study.status = Study.Status.OPEN
    study.opened_at = study.opened_at or timezone.now()
    study.closed_at = None
    study.save(update_fields=["status", "opened_at", "closed_at"])
    return study


def study_close(*, study: Study) -> Study:
    study.status = Study.Status.CLOSED
    study.closed_at = timezone.now()
    study.save(update_fields=["status", "closed_at"])
    return study

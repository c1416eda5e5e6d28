from django.core.management.base import CommandError

from evaluation.models import Study


def study_from_slug(slug: str) -> Study:
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        known = ", ".join(Study.objects.values_list("slug", flat=True)[:20]) or "none yet"
        raise CommandError(f"no study with slug '{slug}' (known: {known})")
    return study

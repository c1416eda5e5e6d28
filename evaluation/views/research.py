"""Researcher pages (login required): the study results page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from evaluation.models import Study
from evaluation.selectors.results import study_progress, study_results
from evaluation.services.roles import is_researcher


@login_required
def results(request, slug: str):
    if not is_researcher(request.user):
        raise PermissionDenied("Researcher access required.")
    study = get_object_or_404(Study, slug=slug)
    context = {
        "study": study,
        "summary": study_results(study),
        "progress": study_progress(study),
        "invites": study.invites.select_related("panel"),
    }
    return render(request, "research/results.html", context)

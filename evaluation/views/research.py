"""Researcher pages (login required): the study results page and stimulus listening."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from evaluation.models import Stimulus, Study
from evaluation.selectors.results import study_progress, study_results
from evaluation.services.roles import is_researcher
from evaluation.views.audio import stimulus_response


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


@login_required
def stimulus_audio(request, pk: int):
    """Any stimulus, for researchers checking what panelists will hear (admin player)."""
    if not is_researcher(request.user):
        raise PermissionDenied("Researcher access required.")
    return stimulus_response(get_object_or_404(Stimulus, pk=pk), request)

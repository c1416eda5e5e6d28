"""Researcher pages (login required, researcher role): the study report, on screen and as a
self-contained HTML file to download, and stimulus listening."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from evaluation.models import Stimulus, Study
from evaluation.selectors.audit_log import study_audit_summary
from evaluation.selectors.dashboard import study_dashboard
from evaluation.selectors.results import study_report, wants_simulated
from evaluation.services.roles import is_researcher
from evaluation.views.audio import stimulus_response


def _researcher_study(request, slug: str) -> Study:
    if not is_researcher(request.user):
        raise PermissionDenied("Researcher access required.")
    return get_object_or_404(Study, slug=slug)


@login_required
def results(request, slug: str):
    study = _researcher_study(request, slug)
    context = {
        "study": study,
        **study_report(study, include_simulated=wants_simulated(request.GET)),
        "audit_summary": study_audit_summary(study),
        "invites": study.invites.select_related("panel"),
    }
    return render(request, "research/results.html", context)


@login_required
def dashboard(request, slug: str):
    """The live dashboard (researchers only): funnel, coverage heat map, rater flags, ETA.
    The page reloads itself every 30 s (static/earshot/dashboard.js)."""
    study = _researcher_study(request, slug)
    return render(request, "research/dashboard.html", {"study": study, **study_dashboard(study)})


@login_required
def report_download(request, slug: str):
    """The same report as one HTML file: styles and SVG figures inline, no external links."""
    study = _researcher_study(request, slug)
    report = study_report(study, include_simulated=wants_simulated(request.GET))
    context = {"study": study, **report, "audit_summary": study_audit_summary(study)}
    response = render(request, "research/report_file.html", context)
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-report.html"'
    return response


@login_required
def stimulus_audio(request, pk: int):
    """Any stimulus, for researchers checking what panelists will hear (admin player)."""
    if not is_researcher(request.user):
        raise PermissionDenied("Researcher access required.")
    return stimulus_response(get_object_or_404(Stimulus, pk=pk), request)

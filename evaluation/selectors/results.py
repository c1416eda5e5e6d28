"""Reads for researchers: a study's results, computed exactly as from its exported CSV."""

import tempfile
from pathlib import Path

from django.db.models import Count, Q

from evaluation.exports import responses_csv
from evaluation.models import Job, Panelist, Study, Trial
from evaluation.stats import json_ready, read_responses, summarize
from evaluation.stats.contract import Summary
from evaluation.stats.report import report


def study_results(study: Study, *, include_simulated: bool = False) -> Summary:
    """The stats summary of the study, computed from the very CSV that export writes, so the
    results page, the export and `python -m evaluation.stats` always agree (the study's
    ``stats_min_panelists`` is the CLI's ``--min-panelists``; ``include_simulated`` its
    ``--include-simulated``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "responses.csv"
        path.write_text(responses_csv(study), encoding="utf-8")
        summary = summarize(
            read_responses(path),
            include_simulated=include_simulated,
            min_panelists=study.stats_min_panelists,
        )
    return json_ready(summary)


def study_settings(study: Study) -> dict:
    """The study settings the methods paragraph describes (plain values, no model objects)."""
    pairs = study.pairs.aggregate(total=Count("id"), catch=Count("id", filter=Q(is_catch=True)))
    return {
        "title": study.title,
        "systems": sorted(study.systems.values_list("name", flat=True)),
        "n_prompts": study.pairs.values("prompt").distinct().count(),
        "n_pairs": pairs["total"],
        "n_catch_pairs": pairs["catch"],
        **study.protocol(),
        "design": study.design,  # also for an A/B study, whose protocol omits the default
        "opened_at": study.opened_at.date().isoformat() if study.opened_at else None,
        "closed_at": study.closed_at.date().isoformat() if study.closed_at else None,
    }


def study_report(
    study: Study, *, with_figures: bool = True, include_simulated: bool = False
) -> dict:
    """Everything the researcher's report shows: ``summary`` (as :func:`study_results`, a
    :class:`~evaluation.stats.contract.Summary`), ``report`` (headlines, methods, SVG figures
    unless ``with_figures`` is False), ``settings``, ``progress`` and ``include_simulated``."""
    summary = study_results(study, include_simulated=include_simulated)
    settings = study_settings(study)
    return {
        "summary": summary,
        "report": report(summary, settings, with_figures=with_figures),
        "settings": settings,
        "progress": study_progress(study),
        "include_simulated": include_simulated,
    }


def wants_simulated(query: dict) -> bool:
    """Whether a request asks for simulated panelists' rows (``?include_simulated=1``)."""
    return str(query.get("include_simulated", "")).lower() in ("1", "true", "yes")


def study_progress(study: Study) -> dict:
    """Collection progress: slots answered of planned, panelists, and the latest jobs."""
    slots = Trial.objects.filter(pair__study=study).aggregate(
        total=Count("id"), answered=Count("id", filter=Q(response__isnull=False))
    )
    panelists = Panelist.objects.filter(study=study).aggregate(
        total=Count("id"), finished=Count("id", filter=Q(finished_at__isnull=False))
    )
    jobs = [
        {
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "done": job.done,
            "total": job.total,
            "message": job.message,
            "failures": job.failures,
        }
        for job in Job.objects.filter(study=study).order_by("-created_at")[:5]
    ]
    return {
        "status": study.status,
        "pairs": study.pairs.count(),
        "slots_total": slots["total"],
        "slots_answered": slots["answered"],
        "panelists": panelists["total"],
        "panelists_finished": panelists["finished"],
        "jobs": jobs,
    }

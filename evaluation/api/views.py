"""Researcher API: thin views over selectors and services."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ReadOnlyModelViewSet

from evaluation.api.serializers import (
    GenerateTracksSerializer,
    JobSerializer,
    ListenerTextsSerializer,
    StudyDesignSerializer,
    StudySerializer,
)
from evaluation.models import Job, Study
from evaluation.selectors.blindness import study_audit
from evaluation.selectors.results import study_progress, study_report, wants_simulated
from evaluation.services import ServiceError
from evaluation.services.generation import tracks_generate_queue
from evaluation.services.jobs import job_cancel
from evaluation.services.stimuli import stimuli_prepare_queue
from evaluation.services.studies import (
    study_close,
    study_design_set,
    study_export,
    study_listener_texts_set,
    study_new_version,
    study_open,
)


def _error(exc: ServiceError) -> Response:
    return Response({"error": exc.code, "detail": exc.message}, status=exc.status)


class StudyViewSet(ReadOnlyModelViewSet):
    serializer_class = StudySerializer
    lookup_field = "slug"
    queryset = Study.objects.prefetch_related("systems")

    @extend_schema(
        responses={
            200: OpenApiResponse(
                description="statistics summary (docs/statistics.md, schema "
                "docs/summary.schema.json) plus the report's headlines, methods paragraph and "
                "monitor note; ?include_simulated=1 adds simulated panelists' rows"
            )
        }
    )
    @action(detail=True, methods=["get"])
    def results(self, request, slug=None):
        study = self.get_object()
        full = study_report(
            study, with_figures=False, include_simulated=wants_simulated(request.query_params)
        )
        text = {key: value for key, value in full["report"].items() if key != "figures"}
        return Response({"study": study.slug, **full["summary"], "report": text})

    @extend_schema(responses={200: OpenApiResponse(description="collection progress")})
    @action(detail=True, methods=["get"])
    def progress(self, request, slug=None):
        return Response(study_progress(self.get_object()))

    @extend_schema(
        responses={200: OpenApiResponse(description="blindness audit: every pair measured")}
    )
    @action(detail=True, methods=["get"])
    def audit(self, request, slug=None):
        return Response(study_audit(study=self.get_object()).to_dict())

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def prepare(self, request, slug=None):
        try:
            job = stimuli_prepare_queue(study=self.get_object(), user=request.user)
        except ServiceError as exc:
            return _error(exc)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=GenerateTracksSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def generate(self, request, slug=None):
        """Queue a job that generates Bach and built-in-generator tracks for this study."""
        study = self.get_object()
        body = GenerateTracksSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = tracks_generate_queue(study=study, user=request.user, **body.validated_data)
        except ServiceError as exc:
            return _error(exc)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=StudyDesignSerializer, responses={200: StudySerializer})
    @action(detail=True, methods=["patch"])
    def design(self, request, slug=None):
        """Set the design and its questions of a draft study (409 once it has opened)."""
        body = StudyDesignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            study = study_design_set(
                study=self.get_object(), user=request.user, **body.validated_data
            )
        except ServiceError as exc:
            return _error(exc)
        return Response(StudySerializer(study).data)

    @extend_schema(request=None, responses={200: StudySerializer})
    @action(detail=True, methods=["post"])
    def open(self, request, slug=None):
        try:
            study = study_open(study=self.get_object(), user=request.user)
        except ServiceError as exc:
            return _error(exc)
        return Response(StudySerializer(study).data)

    @extend_schema(request=None, responses={200: StudySerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, slug=None):
        study = study_close(study=self.get_object(), user=request.user)
        return Response(StudySerializer(study).data)

    @extend_schema(request=ListenerTextsSerializer, responses={200: StudySerializer})
    @action(detail=True, methods=["put"], url_path="listener-texts")
    def listener_texts(self, request, slug=None):
        """Set what listeners read per language (public title, description, consent) and the
        study's default language; allowed while open (not part of the protocol)."""
        body = ListenerTextsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            study = study_listener_texts_set(study=self.get_object(), **body.validated_data)
        except ServiceError as exc:
            return _error(exc)
        return Response(StudySerializer(study).data)

    @extend_schema(request=None, responses={201: StudySerializer})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, slug=None):
        """Copy the study as a new draft (``<slug>-v<n>``) whose protocol can change."""
        draft = study_new_version(study=self.get_object(), user=request.user)
        return Response(StudySerializer(draft).data, status=status.HTTP_201_CREATED)


class ResponsesCsvView(APIView):
    """GET /api/studies/<slug>/responses.csv: one row per response (docs/data-dictionary.md)."""

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="responses.csv")})
    def get(self, request, slug: str):
        study = get_object_or_404(Study, slug=slug)
        text = study_export(study=study, user=request.user, via="api")
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-responses.csv"'
        return response


class JobViewSet(ReadOnlyModelViewSet):
    serializer_class = JobSerializer
    # Job ids are integers: /api/jobs/abc/… matches no route (404), never reaching the query.
    lookup_value_regex = r"\d+"
    queryset = Job.objects.select_related("study")

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = get_object_or_404(Job, pk=pk)
        return Response(JobSerializer(job_cancel(job=job)).data)

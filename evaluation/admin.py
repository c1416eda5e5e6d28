"""Django admin: where admins manage panels, invites, studies and users, and researchers
queue jobs, listen to stimuli and download exports."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from evaluation.exports import responses_csv
from evaluation.models import (
    HeadphoneItem,
    Invite,
    Job,
    Pair,
    Panel,
    Panelist,
    Prompt,
    Response,
    Stimulus,
    Study,
    System,
    Track,
    Trial,
)
from evaluation.selectors.jobs import job_display_status
from evaluation.selectors.studies import studies_with_counts
from evaluation.services import ServiceError
from evaluation.services.generation import generation_parameters_clean
from evaluation.services.jobs import job_cancel, job_queue
from evaluation.services.studies import study_close, study_open


def rounded(field: str, unit: str, *, description: str, digits: int = 1, signed: bool = False):
    """An admin column or read-only field showing the float model field `field` rounded, with
    its unit: "-23.0 LUFS", not the stored -23.000000066819357."""
    sign = "+" if signed else ""

    @admin.display(description=description, ordering=field)
    def show(self, instance) -> str:
        value = getattr(instance, field)
        return "-" if value is None else f"{value:{sign}.{digits}f} {unit}"

    return show


class InviteInline(admin.TabularInline):
    model = Invite
    extra = 0
    fields = ["panel", "label", "max_uses", "uses", "expires_at", "link"]
    readonly_fields = ["uses", "link"]

    @admin.display(description="link")
    def link(self, invite):
        return format_html('<a href="{0}">{0}</a>', invite.path()) if invite.pk else "-"


class JobInline(admin.TabularInline):
    model = Job
    extra = 0
    can_delete = False
    fields = ["kind", "status", "done", "total", "message", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "status", "n_pairs", "n_panelists", "n_responses", "links"]
    list_filter = ["status", "systems"]
    search_fields = ["slug", "title", "description"]
    filter_horizontal = ["systems"]
    # Status changes only through the open/close actions: opening runs the checks a study
    # must pass (stimuli prepared, blindness audit), which a plain edit would skip.
    readonly_fields = ["status", "links", "created_at", "opened_at", "closed_at", "created_by"]
    inlines = [InviteInline, JobInline]
    actions = [
        "generate_tracks",
        "prepare_stimuli",
        "open_studies",
        "close_studies",
        "export_responses",
    ]
    prepopulated_fields = {"slug": ["title"]}

    def get_queryset(self, request):
        return studies_with_counts(super().get_queryset(request))

    @admin.display(description="pairs", ordering="pair_count")
    def n_pairs(self, study):
        return study.pair_count

    @admin.display(description="panelists", ordering="panelist_count")
    def n_panelists(self, study):
        return study.panelist_count

    @admin.display(description="responses", ordering="response_count")
    def n_responses(self, study):
        return study.response_count

    @admin.display(description="results")
    def links(self, study):
        if study.pk is None:
            return "available once the study is saved"
        return format_html(
            '<a href="{}">results</a> · <a href="{}">report (HTML)</a> · '
            '<a href="{}">responses.csv</a>',
            reverse("research:results", args=[study.slug]),
            reverse("research:report-download", args=[study.slug]),
            reverse("api:study-responses-csv", args=[study.slug]),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Generate tracks: Bach vs the built-in generator (background job)")
    def generate_tracks(self, request, queryset):
        queued = 0
        for study in queryset:
            try:
                parameters = generation_parameters_clean(study=study)
            except ServiceError as exc:
                self.message_user(request, f"{study.slug}: {exc}", level=messages.ERROR)
                continue
            job_queue(study=study, kind=Job.Kind.GENERATE_TRACKS, parameters=parameters)
            queued += 1
        self.message_user(request, f"Queued track generation for {queued} study(ies).")

    @admin.action(description="Prepare stimuli (background job)")
    def prepare_stimuli(self, request, queryset):
        for study in queryset:
            job_queue(study=study, kind=Job.Kind.PREPARE_STIMULI)
        self.message_user(
            request, f"Queued stimulus preparation for {queryset.count()} study(ies)."
        )

    @admin.action(description="Open for listening")
    def open_studies(self, request, queryset):
        for study in queryset:
            try:
                study_open(study=study)
            except ServiceError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
            else:
                self.message_user(request, f"Study '{study.slug}' is open for listening.")

    @admin.action(description="Close")
    def close_studies(self, request, queryset):
        for study in queryset:
            study_close(study=study)
        self.message_user(request, f"Closed {queryset.count()} study(ies).")

    @admin.action(description="Export responses.csv")
    def export_responses(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one study to export.", messages.ERROR)
            return None
        study = queryset.get()
        response = HttpResponse(responses_csv(study), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-responses.csv"'
        return response


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_human", "created_at"]
    list_filter = ["kind", "is_human"]
    search_fields = ["name", "description"]


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ["system", "original_name", "duration_s", "sample_rate", "channels", "sha256"]
    readonly_fields = fields
    can_delete = False


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["external_id", "study", "text"]
    list_filter = ["study"]
    search_fields = ["external_id", "text"]
    inlines = [TrackInline]


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["prompt", "system", "format", "duration", "sample_rate", "channels"]
    list_filter = ["system", "prompt__study", "format"]
    search_fields = ["prompt__external_id", "system__name", "sha256", "original_name"]
    readonly_fields = ["sha256", "provenance", "created_at"]
    duration = rounded("duration_s", "s", description="duration", digits=2)


@admin.register(Stimulus)
class StimulusAdmin(admin.ModelAdmin):
    list_display = [
        "track",
        "kind",
        "loudness",
        "true_peak",
        "gain",
        "peak_reduction",
        "excerpt_start",
        "duration",
        "codec",
        "size_bytes",
        "player",
    ]
    list_filter = ["kind", "codec", "track__prompt__study", "track__system"]
    search_fields = ["track__prompt__external_id", "track__system__name"]
    # Every field read-only, the measured floats rounded with their units.
    fields = [
        "track",
        "kind",
        "file_name",
        "codec",
        "sample_rate",
        "channels",
        "duration",
        "excerpt_start",
        "loudness",
        "true_peak",
        "gain",
        "peak_reduction",
        "bitrate_kbps",
        "size_bytes",
        "sha256",
        "created_at",
        "player",
    ]
    readonly_fields = fields
    loudness = rounded("loudness_lufs", "LUFS", description="loudness")
    true_peak = rounded("true_peak_dbtp", "dBTP", description="true peak")
    gain = rounded("gain_db", "dB", description="gain", signed=True)
    peak_reduction = rounded("peak_reduction_db", "dB", description="peak reduction")
    excerpt_start = rounded("excerpt_start_s", "s", description="excerpt start", digits=2)
    duration = rounded("duration_s", "s", description="duration", digits=2)

    @admin.display(description="file")
    def file_name(self, stimulus):
        # Media has no URL (stimuli are served by a view that checks access), so the plain
        # file field, which links to its URL, cannot be shown.
        return stimulus.file.name

    @admin.display(description="listen")
    def player(self, stimulus):
        # Researchers only (login + role checked by the view); panelists never see this URL.
        url = reverse("research:stimulus-audio", args=[stimulus.pk])
        return format_html('<audio controls preload="none" src="{}"></audio>', url)


@admin.register(Pair)
class PairAdmin(admin.ModelAdmin):
    list_display = ["__str__", "study", "is_catch", "catch_kind", "n_ratings"]
    list_filter = ["study", "is_catch"]
    search_fields = ["prompt__external_id"]

    def get_queryset(self, request):
        rated = Count("trials", filter=Q(trials__response__isnull=False))
        related = ("study", "prompt", "first__track__system", "second__track__system")
        return super().get_queryset(request).select_related(*related).annotate(rating_count=rated)

    @admin.display(description="ratings", ordering="rating_count")
    def n_ratings(self, pair):
        return pair.rating_count


@admin.register(Panel)
class PanelAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "n_panelists"]
    search_fields = ["name", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(panelist_count=Count("panelists"))

    @admin.display(description="panelists", ordering="panelist_count")
    def n_panelists(self, panel):
        return panel.panelist_count


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "study", "panel", "uses", "max_uses", "expires_at", "link"]
    list_filter = ["study", "panel"]
    search_fields = ["label", "study__slug", "panel__name"]
    readonly_fields = ["token", "uses", "created_by", "created_at"]

    @admin.display(description="link")
    def link(self, invite):
        return format_html('<a href="{0}">{0}</a>', invite.path())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ResponseInline(admin.TabularInline):
    model = Response
    extra = 0
    can_delete = False
    fields = ["trial", "choice", "liked_a", "liked_b", "guess_ai", "submitted_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class HeadphoneItemInline(admin.TabularInline):
    """The panelist's headphone-check items with what they answered (researchers only)."""

    model = HeadphoneItem
    extra = 0
    can_delete = False
    fields = ["attempt", "index", "quiet_position", "antiphase_position", "answer", "correct"]
    readonly_fields = fields

    @admin.display(boolean=True)
    def correct(self, item):
        return item.correct

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Panelist)
class PanelistAdmin(admin.ModelAdmin):
    list_display = [
        "pseudonym",
        "study",
        "panel",
        "expertise",
        "simulated",
        "headphone_check",
        "finished_at",
    ]
    list_filter = ["study", "panel", "expertise", "simulated", "headphone_passed"]
    search_fields = ["pseudonym", "instrument", "genres"]
    readonly_fields = [
        "pseudonym",
        "consent_at",
        "created_at",
        "finished_at",
        "headphone_check",
        "headphone_passed",
        "headphone_correct",
        "headphone_attempts_made",
    ]
    inlines = [HeadphoneItemInline, ResponseInline]

    @admin.display(description="headphone check")
    def headphone_check(self, panelist):
        """The outcome in words, e.g. "passed: 6 of 6 correct, 1 attempt"."""
        if panelist.headphone_attempts_made == 0:
            return "not run"
        outcome = {True: "passed", False: "failed"}.get(panelist.headphone_passed, "in progress")
        attempts = panelist.headphone_attempts_made
        return (
            f"{outcome}: {panelist.headphone_correct} of {panelist.study.headphone_items} "
            f"correct, {attempts} attempt{'s' if attempts != 1 else ''}"
        )


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ["pk", "pair", "round", "swapped", "panelist", "position", "reserved_until"]
    list_filter = ["pair__study", "swapped"]
    search_fields = ["panelist__pseudonym", "prompt__external_id"]
    readonly_fields = ["token"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["pk", "panelist", "trial", "choice", "liked_a", "liked_b", "guess_ai"]
    list_filter = ["trial__pair__study", "choice", "guess_ai", "panelist__simulated"]
    search_fields = ["panelist__pseudonym"]

    def has_change_permission(self, request, obj=None):
        return False  # responses are never edited


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "study", "kind", "state", "progress", "message", "created_at"]
    list_filter = ["status", "kind", "study"]
    readonly_fields = [field.name for field in Job._meta.fields]
    actions = ["cancel_jobs"]

    @admin.display(description="status", ordering="status")
    def state(self, job):
        """ "stale" for a running job whose worker stopped sending heartbeats."""
        return job_display_status(job)

    @admin.display(description="progress")
    def progress(self, job):
        return f"{job.done}/{job.total} ({job.percent}%)"

    @admin.action(description="Cancel")
    def cancel_jobs(self, request, queryset):
        for job in queryset:
            job_cancel(job=job)

"""Django admin: where admins manage panels, invites, studies and users, and researchers
queue jobs, listen to stimuli and download exports."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from evaluation.models import (
    AuditEntry,
    HeadphoneItem,
    Invite,
    Job,
    Pair,
    Panel,
    Panelist,
    PanelMember,
    Prompt,
    Response,
    ResponseCandidate,
    Stimulus,
    Study,
    System,
    Track,
    Trial,
    TrialCandidate,
)
from evaluation.models.evidence import ListeningEvidence, StimulusFetch
from evaluation.selectors.jobs import job_display_status
from evaluation.selectors.studies import studies_with_counts
from evaluation.services import ServiceError
from evaluation.services.generation import tracks_generate_queue
from evaluation.services.invitations import invitations_send
from evaluation.services.jobs import job_cancel
from evaluation.services.panelists import panelist_data_delete
from evaluation.services.roles import is_researcher
from evaluation.services.stimuli import stimuli_prepare_queue
from evaluation.services.studies import (
    study_close,
    study_delete,
    study_export,
    study_new_version,
    study_open,
    study_save,
)


class FrozenStudyDataAdmin(admin.ModelAdmin):
    """Prompts, tracks, stimuli and pairs of a study that has opened are read-only here (the
    page says why): an answer must keep the meaning it had when it was given."""

    # Media has no public URL (blinding), so the read-only file widget, which links to
    # one, cannot render: the stored name is shown instead.
    exclude = ["file"]

    def frozen_study(self, obj):
        raise NotImplementedError

    @admin.display(description="file")
    def stored_file(self, obj):
        return obj.file.name if getattr(obj, "file", None) else "-"

    def _is_frozen(self, obj) -> bool:
        return obj is not None and obj.pk is not None and self.frozen_study(obj).is_frozen

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._is_frozen(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._is_frozen(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if self._is_frozen(obj):
            study = self.frozen_study(obj)
            self.message_user(request, f"Read-only: {study.frozen_reason()}.", messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)


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
    readonly_fields = [
        "status",
        "version",
        "previous_version",
        "links",
        "created_at",
        "opened_at",
        "closed_at",
        "created_by",
    ]
    inlines = [InviteInline, JobInline]
    actions = [
        "generate_tracks",
        "prepare_stimuli",
        "open_studies",
        "close_studies",
        "export_responses",
        "new_version",
    ]
    prepopulated_fields = {"slug": ["title"]}

    def get_queryset(self, request):
        return studies_with_counts(super().get_queryset(request))

    # Who may run the actions: researchers (the "researchers" group or a superuser) with
    # the matching model permission; a staff user who can only view gets none of them.
    def has_run_permission(self, request):
        return is_researcher(request.user) and request.user.has_perm("evaluation.run_study")

    def has_export_permission(self, request):
        return is_researcher(request.user) and request.user.has_perm("evaluation.export_study")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_frozen:
            readonly += [*Study.FROZEN_FIELDS, "systems"]
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        return (
            {}
            if obj is not None and obj.is_frozen
            else super().get_prepopulated_fields(request, obj)
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        study = self.get_object(request, object_id)
        if study is not None and study.is_frozen:
            self.message_user(
                request, f"Protocol read-only: {study.frozen_reason()}.", messages.WARNING
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        # A study with answers is never deleted (services.studies.study_delete refuses).
        if obj is not None and Response.objects.filter(trial__pair__study=obj).exists():
            return False
        return super().has_delete_permission(request, obj)

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
            '<a href="{}">results</a> · <a href="{}">dashboard</a> · '
            '<a href="{}">report (HTML)</a> · '
            '<a href="{}">responses.csv</a> · <a href="{}">audit log</a>',
            reverse("research:results", args=[study.slug]),
            reverse("research:dashboard", args=[study.slug]),
            reverse("research:report-download", args=[study.slug]),
            reverse("api:study-responses-csv", args=[study.slug]),
            reverse("admin:evaluation_auditentry_changelist") + f"?study__id__exact={study.pk}",
        )

    def save_model(self, request, obj, form, change):
        study_save(study=obj, user=request.user, changed=form.changed_data if change else ())

    def delete_model(self, request, obj):
        study_delete(study=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for study in queryset:
            study_delete(study=study, user=request.user)

    @admin.action(
        description="Generate tracks: Bach vs the built-in generator (background job)",
        permissions=["run"],
    )
    def generate_tracks(self, request, queryset):
        self._queue_each(request, queryset, tracks_generate_queue, "track generation")

    @admin.action(description="Prepare stimuli (background job)", permissions=["run"])
    def prepare_stimuli(self, request, queryset):
        self._queue_each(request, queryset, stimuli_prepare_queue, "stimulus preparation")

    def _queue_each(self, request, queryset, queue, what: str) -> None:
        """Queue one job per selected study; a refused study is named, the rest still go."""
        queued = 0
        for study in queryset:
            try:
                queue(study=study, user=request.user)
            except ServiceError as exc:
                self.message_user(request, f"{study.slug}: {exc}", level=messages.ERROR)
                continue
            queued += 1
        self.message_user(request, f"Queued {what} for {queued} study(ies).")

    @admin.action(description="Open for listening", permissions=["run"])
    def open_studies(self, request, queryset):
        for study in queryset:
            try:
                study_open(study=study, user=request.user)
            except ServiceError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
            else:
                self.message_user(request, f"Study '{study.slug}' is open for listening.")

    @admin.action(description="Close", permissions=["run"])
    def close_studies(self, request, queryset):
        for study in queryset:
            study_close(study=study, user=request.user)
        self.message_user(request, f"Closed {queryset.count()} study(ies).")

    @admin.action(description="Export responses.csv", permissions=["export"])
    def export_responses(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one study to export.", messages.ERROR)
            return None
        study = queryset.get()
        text = study_export(study=study, user=request.user, via="admin")
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-responses.csv"'
        return response

    @admin.action(
        description="New version of this study (a draft copy whose protocol can change)",
        permissions=["run"],
    )
    def new_version(self, request, queryset):
        for study in queryset:
            draft = study_new_version(study=study, user=request.user)
            self.message_user(
                request,
                f"Made '{draft.slug}', version {draft.version} of '{study.slug}', as a draft "
                f"with the same tracks: change its protocol, prepare stimuli, open it.",
            )


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "source", "created_at"]
    list_filter = ["kind", "source"]
    search_fields = ["name", "description"]

    def get_readonly_fields(self, request, obj=None):
        # Answers name a system and its kind; once it is in an opened study, both stay.
        if obj is not None and obj.studies.filter(opened_at__isnull=False).exists():
            return ["name", "kind", "source"]
        return []


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ["system", "original_name", "duration_s", "sample_rate", "channels", "sha256"]
    readonly_fields = fields
    can_delete = False


@admin.register(Prompt)
class PromptAdmin(FrozenStudyDataAdmin):
    list_display = ["external_id", "study", "text"]
    list_filter = ["study"]
    search_fields = ["external_id", "text"]
    inlines = [TrackInline]

    def frozen_study(self, prompt):
        return prompt.study


@admin.register(Track)
class TrackAdmin(FrozenStudyDataAdmin):
    list_display = ["prompt", "system", "format", "duration", "sample_rate", "channels"]
    list_filter = ["system", "prompt__study", "format"]
    search_fields = ["prompt__external_id", "system__name", "sha256", "original_name"]
    readonly_fields = ["stored_file", "sha256", "decoded_sha256", "provenance", "created_at"]
    duration = rounded("duration_s", "s", description="duration", digits=2)

    def get_exclude(self, request, obj=None):
        # A new track needs its file; a stored one is shown by name only.
        return [] if obj is None else ["file"]

    def frozen_study(self, track):
        return track.prompt.study


@admin.register(Stimulus)
class StimulusAdmin(FrozenStudyDataAdmin):
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
        "stored_file",
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

    def frozen_study(self, stimulus):
        return stimulus.track.prompt.study

    def has_add_permission(self, request):
        return False  # stimuli are made by preparation only

    @admin.display(description="listen")
    def player(self, stimulus):
        # Researchers only (login + role checked by the view); panelists never see this URL.
        url = reverse("research:stimulus-audio", args=[stimulus.pk])
        return format_html('<audio controls preload="none" src="{}"></audio>', url)


@admin.register(Pair)
class PairAdmin(FrozenStudyDataAdmin):
    list_display = ["__str__", "study", "is_catch", "catch_kind", "n_ratings"]
    list_filter = ["study", "is_catch"]
    search_fields = ["prompt__external_id"]

    def get_queryset(self, request):
        rated = Count("trials", filter=Q(trials__response__isnull=False))
        related = ("study", "prompt", "first__track__system", "second__track__system")
        return super().get_queryset(request).select_related(*related).annotate(rating_count=rated)

    def frozen_study(self, pair):
        return pair.study

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


class InvitationActionForm(helpers.ActionForm):
    """The admin action bar with the study to invite the selected roster members to."""

    study = forms.ModelChoiceField(
        queryset=Study.objects.exclude(status=Study.Status.CLOSED), required=False
    )


@admin.register(PanelMember)
class PanelMemberAdmin(admin.ModelAdmin):
    list_display = ["external_id", "panel", "expertise", "instrument_family", "languages", "email"]
    list_filter = ["panel", "expertise", "instrument_family"]
    search_fields = ["external_id", "email", "genres", "languages"]
    action_form = InvitationActionForm
    actions = ["send_invitations"]

    @admin.action(
        description="E-mail a personal invite to the study chosen below", permissions=["change"]
    )
    def send_invitations(self, request, queryset):
        study = Study.objects.filter(pk=request.POST.get("study") or None).first()
        if study is None:
            self.message_user(request, "Choose a study to invite them to.", messages.ERROR)
            return
        try:
            run = invitations_send(study=study, members=list(queryset), created_by=request.user)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Sent {len(run.sent)} invitation(s) to {study}.")
        if run.skipped:
            self.message_user(request, "Skipped: " + "; ".join(run.skipped), messages.WARNING)


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
    actions = ["delete_data_on_privacy_request"]

    def has_delete_permission(self, request, obj=None):
        return False  # only through the privacy-request action, which keeps an audit entry

    def has_add_permission(self, request):
        return False  # panelists join through invite links

    def has_privacy_delete_permission(self, request):
        return request.user.has_perm("evaluation.delete_panelist_data")

    @admin.action(
        description="Delete the selected panelists' data (privacy request; audited)",
        permissions=["privacy_delete"],
    )
    def delete_data_on_privacy_request(self, request, queryset):
        for panelist in queryset.select_related("study"):
            outcome = panelist_data_delete(
                panelist=panelist, user=request.user, reason="privacy request (admin)"
            )
            self.message_user(
                request,
                f"Deleted {outcome['pseudonym']}: {outcome['responses']} response(s), "
                f"{outcome['headphone_items']} headphone item(s); the audit log of "
                f"'{outcome['study']}' keeps the entry.",
            )

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened (trials, answers, audit entries, listening evidence): nobody
    adds, edits or deletes them by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TrialCandidateInline(admin.TabularInline):
    """A pool trial's candidates (screen position → stimulus), read-only."""

    model = TrialCandidate
    extra = 0
    fields = ["position", "stimulus"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ResponseCandidateInline(TrialCandidateInline):
    """A pool answer's candidates as snapshot when it was recorded, with their ranks."""

    model = ResponseCandidate
    fields = ["position", "system", "system_kind", "pick_rank", "listen_s", "heard_s"]
    readonly_fields = fields


@admin.register(Trial)
class TrialAdmin(ReadOnlyAdmin):
    """Read-only: trials are made by opening a study and by scheduling; an edit of an
    answered trial (e.g. `swapped`) would change what its answer means."""

    inlines = [TrialCandidateInline]
    list_display = ["pk", "pair", "round", "swapped", "panelist", "position", "reserved_until"]
    list_filter = ["pair__study", "swapped"]
    search_fields = ["panelist__pseudonym", "prompt__external_id"]


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    """Read-only: answers are recorded by the listener page only (validated, with their
    snapshot) and deleted only by the audited privacy request."""

    inlines = [ResponseCandidateInline]
    list_display = [
        "pk",
        "panelist",
        "trial",
        "trial_kind",
        "choice",
        "liked_a",
        "liked_b",
        "guess_ai",
        "guess_kind",
    ]
    list_filter = ["trial__pair__study", "trial_kind", "choice", "guess_ai", "panelist__simulated"]
    search_fields = ["panelist__pseudonym"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "study", "kind", "state", "progress", "message", "created_at"]
    list_filter = ["status", "kind", "study"]
    readonly_fields = [field.name for field in Job._meta.fields]
    actions = ["cancel_jobs"]

    def has_add_permission(self, request):
        return False  # jobs are queued by the study actions, which check their input

    def has_cancel_permission(self, request):
        return is_researcher(request.user) and request.user.has_perm("evaluation.change_job")

    @admin.display(description="status", ordering="status")
    def state(self, job):
        """ "stale" for a running job whose worker stopped sending heartbeats."""
        return job_display_status(job)

    @admin.display(description="progress")
    def progress(self, job):
        return f"{job.done}/{job.total} ({job.percent}%)"

    @admin.action(description="Cancel", permissions=["cancel"])
    def cancel_jobs(self, request, queryset):
        for job in queryset:
            job_cancel(job=job)
        self.message_user(request, f"Asked {queryset.count()} job(s) to cancel.")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log, read-only: entries are appended by the services, never changed."""

    list_display = ["at", "study_slug", "action", "actor_name", "detail"]
    list_filter = ["action", "study_slug"]
    search_fields = ["study_slug", "actor_name"]
    readonly_fields = ["at", "study", "study_slug", "action", "actor", "actor_name", "detail"]


@admin.register(ListeningEvidence)
class ListeningEvidenceAdmin(ReadOnlyAdmin):
    list_display = ["response", "heard_a_s", "heard_b_s", "heard_overlap_s", "switches",
                    "audio_fetched"]  # fmt: skip
    list_filter = ["response__trial__pair__study"]
    search_fields = ["response__panelist__pseudonym"]


@admin.register(StimulusFetch)
class StimulusFetchAdmin(ReadOnlyAdmin):
    list_display = ["trial", "panelist", "side", "first_byte", "last_byte", "first_at", "last_at"]
    list_filter = ["trial__pair__study", "side"]
    search_fields = ["panelist__pseudonym"]
